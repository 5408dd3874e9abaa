"""The README's "A district from nothing", run line by line as a coordinator would: its `kit`
commands, in order, on real data dirs, a real hub served over loopback and a folder for the
stick. Only what a shell would differ in is replaced: where the dirs are, the hub's address,
the one-time code it printed, and the publisher key file."""

from __future__ import annotations

import re
import shlex

from click.testing import CliRunner

from kit.cli import main
from kit.core import roster
from kit.core.config import DataDir
from kit.core.instance import open_instance
from kit.core.keys import SigningKey
from netlink import served
from test_docs import README, code_blocks

SECTION = README.split("### A district from nothing", 1)[1]
BLOCK = code_blocks(SECTION)[0]


def district_lines() -> list[str]:
    """The block's `kit` commands in order (comments dropped, `a && b` as two)."""
    lines = []
    for line in BLOCK.splitlines():
        for part in re.split(r"\s*&&\s*", line.split("  #", 1)[0].strip()):
            if part.startswith("kit "):
                lines.append(part)
    return lines


def test_the_readmes_district_walkthrough_runs_as_written(tmp_path):
    lines = district_lines()
    assert len(lines) >= 20 and any("--new-code" in x for x in lines) and any("sync usb" in x for x in lines)
    publisher = SigningKey.generate("Ministry")
    (tmp_path / "ministry.pub").write_text(publisher.public.line() + "\n", encoding="utf-8")
    stick = tmp_path / "media-stick"
    stick.mkdir()
    runner = CliRunner()
    code, url, hub_server = None, None, None
    try:
        for line in lines:
            words = shlex.split(line)[1:]
            if words[:2] == ["serve", "--hub"]:
                hub_server = served(DataDir(tmp_path / "hub"))
                url = hub_server.__enter__()
                continue
            words = [w.replace("/media/stick", str(stick)).replace("http://hub:8080/", url or "")
                     .replace("K7QM-2XPD-RT", code or "") for w in words]
            words = [str(tmp_path / w) if w == "ministry.pub" or (i and words[i - 1] == "--data") else w
                     for i, w in enumerate(words)]
            out = runner.invoke(main, words)
            assert out.exit_code == 0, f"`{line}` failed: {out.output}"
            if "--new-code" in words:
                code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{2,}(?:-[A-Z0-9]+)*", out.output).group(0)
    finally:
        if hub_server:
            hub_server.__exit__(None, None, None)
    hub, tamda, aday = (open_instance(DataDir(tmp_path / n)) for n in ("hub", "tamda", "aday"))
    try:
        names = {db: {r[0] for r in inst.db.execute("SELECT json_extract(data, '$.name') FROM records")}
                 for db, inst in (("hub", hub), ("tamda", tamda), ("aday", aday))}
        assert {"CP Tamda", "Amina", "CP Aday"} <= names["hub"]          # the hub holds the district
        assert names["aday"] == {"CP Aday", "Amina"}                       # each school its own: Amina moved
        assert names["tamda"] == {"CP Tamda", "Amina"}                     # and her story up to the move
        amina = tamda.db.execute("SELECT id, json_extract(data, '$.school') FROM records "
                                 "WHERE json_extract(data, '$.name') = 'Amina'").fetchone()
        assert amina[1] == aday.device_id and roster.get_learner(aday.db, amina[0]) is not None
    finally:
        for inst in (hub, tamda, aday):
            inst.close()
