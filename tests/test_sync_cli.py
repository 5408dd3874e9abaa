"""`kit sync` from the command line: output, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.core import records
from kit.cli import main
from kit.core.config import DataDir
from kit.core.instance import open_instance
from conftest import MINI
from syncworld import activity, server, truth


@pytest.fixture
def dirs(tmp_path):
    """A hub and a school that enrolled each other with files, as the help says."""
    hub, school = server(tmp_path, "Hub", role="hub"), server(tmp_path, "Ecole Tamda")
    records.set_fields(school.db, "learner", "L1", {"name": "Amina"})
    activity(school, "L1", 3)
    hub.close(), school.close()
    run = CliRunner().invoke
    h, s = str(hub.data.root), str(school.data.root)
    for mine, theirs, role in ((h, s, "school"), (s, h, "hub")):
        out = run(main, ["sync", "enrol", "--export", str(tmp_path / f"{Path(mine).name}.enrol"), "--data", mine])
        assert out.exit_code == 0, out.output
    for mine, theirs, role in ((h, s, "school"), (s, h, "hub")):
        out = run(main, ["sync", "enrol", str(tmp_path / f"{Path(theirs).name}.enrol"), "--as", role, "--data", mine])
        assert out.exit_code == 0 and "Enrolled" in out.output, out.output
    return tmp_path, h, s


def kit(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_export_then_import_moves_everything_and_says_how_much(dirs):
    tmp, hub, school = dirs
    out = kit("sync", "export", tmp, "--data", school)
    assert out.exit_code == 0 and "1 learners, 4 events" in out.output
    bundle = next(tmp.glob("*.kitsync"))
    out = kit("sync", "import", bundle, "--data", hub)
    assert out.exit_code == 0 and "4 new of 4 events from Ecole Tamda" in out.output
    h, s = open_instance(DataDir(Path(hub))), open_instance(DataDir(Path(school)))
    assert truth(h)["events"] == truth(s)["events"]
    h.close(), s.close()


def test_second_export_holds_only_what_is_new_and_all_holds_everything(dirs):
    tmp, hub, school = dirs
    first, second, every = tmp / "1.kitsync", tmp / "2.kitsync", tmp / "3.kitsync"
    assert kit("sync", "export", first, "--data", school).exit_code == 0
    assert "Nothing new" in kit("sync", "export", second, "--data", school).output and not second.exists()
    out = kit("sync", "export", every, "--all", "--data", school)
    assert "4 events" in out.output


def test_export_to_a_peer_by_name_addresses_the_bundle(dirs):
    tmp, hub, school = dirs
    out = kit("sync", "export", tmp / "b.kitsync", "--to", "Hub", "--data", school)
    assert out.exit_code == 0, out.output
    assert "4 new" in kit("sync", "import", tmp / "b.kitsync", "--data", hub).output
    assert kit("sync", "export", tmp / "c.kitsync", "--to", "nobody", "--data", school).exit_code == 1


def test_import_refuses_a_bad_bundle_with_one_line_and_exit_1(dirs):
    tmp, hub, school = dirs
    kit("sync", "export", tmp / "good.kitsync", "--data", school)
    data = (tmp / "good.kitsync").read_bytes()
    (tmp / "cut.kitsync").write_bytes(data[: len(data) // 2])
    out = kit("sync", "import", tmp / "cut.kitsync", tmp / "good.kitsync", "--data", hub)
    assert out.exit_code == 1
    refusals = [line for line in out.output.splitlines() if line.startswith("refused:")]
    assert len(refusals) == 1 and "cut.kitsync" in refusals[0]
    assert "4 new of 4" in out.output  # the good one still went in
    assert "Traceback" not in out.output


def test_status_shows_device_events_learners_and_peers(dirs):
    tmp, hub, school = dirs
    kit("sync", "export", tmp / "b.kitsync", "--data", school)
    kit("sync", "import", tmp / "b.kitsync", "--data", hub)
    out = kit("sync", "status", "--json", "--data", hub)
    status = json.loads(out.output)
    assert status["role"] == "hub" and status["learners"] == 1
    assert list(status["events"].values()) == [4]
    (peer,) = status["peers"]
    assert peer["name"] == "Ecole Tamda" and peer["last_import_at"]
    text = kit("sync", "status", "--data", hub).output
    assert "Ecole Tamda" in text and "Learners: 1" in text


def test_enrol_refuses_a_role_the_file_does_not_claim(dirs):
    tmp, hub, school = dirs
    out = kit("sync", "enrol", tmp / "hub.enrol", "--as", "school", "--data", school)
    assert out.exit_code == 1 and "says it is a hub" in out.output


def test_usb_visit_carries_progress_out_and_hub_bundles_in(dirs, tmp_path):
    tmp, hub, school = dirs
    stick = tmp / "stick"
    stick.mkdir()
    out = kit("sync", "usb", stick, "--data", school)  # at the school
    assert out.exit_code == 0 and "4 events" in out.output, out.output
    out = kit("sync", "usb", stick, "--data", hub)     # at the hub: reads it, writes nothing back yet
    assert "imported" in out.output and "4 new" in out.output, out.output
    h = open_instance(DataDir(Path(hub)))
    records.set_fields(h.db, "learner", "L1", {"name": "Amina K."})  # the coordinator fixes a name
    h.close()
    out = kit("sync", "usb", stick, "--data", hub)
    assert "wrote" in out.output
    out = kit("sync", "usb", stick, "--data", school)
    assert "imported" in out.output
    s = open_instance(DataDir(Path(school)))
    assert records.get(s.db, "learner", "L1")["name"] == "Amina K."
    s.close()


def test_usb_installs_newer_trusted_packs_once(dirs):
    from kit.content.pack import build_pack
    from kit.core.keys import SigningKey, trust
    tmp, hub, school = dirs
    publisher = SigningKey.generate("Ministry")
    s = open_instance(DataDir(Path(school)))
    trust(s.db, publisher.public, "publisher")
    s.close()
    stick = tmp / "stick"
    built = build_pack(MINI, stick / "packs", publisher)
    assert built.name == "mini-1.0.0.kitpack"
    out = kit("sync", "usb", stick, "--data", school)
    assert out.exit_code == 0 and "pack mini-1.0.0.kitpack: installed mini 1.0.0" in out.output, out.output
    again = kit("sync", "usb", stick, "--data", school)
    assert "pack mini" not in again.output


def test_usb_reports_a_refused_pack_and_exits_1(dirs):
    tmp, hub, school = dirs
    stick = tmp / "stick"
    (stick / "kit" / "packs").mkdir(parents=True)
    (stick / "kit" / "packs" / "numeracy-1.2.0.kitpack").write_bytes(b"not really a pack")
    out = kit("sync", "usb", stick, "--data", school)
    assert out.exit_code == 1 and "pack numeracy-1.2.0.kitpack: refused" in out.output


def test_a_hub_visit_writes_one_bundle_per_school_and_each_school_takes_its_own(tmp_path):
    from kit.sync.usb import visit
    from syncworld import enrol
    hub = server(tmp_path, "Hub", role="hub")
    a, b = server(tmp_path, "School A"), server(tmp_path, "School B")
    enrol(hub, a, b)
    activity(a, "LA", 2)
    activity(b, "LB", 2)
    stick = tmp_path / "stick"
    stick.mkdir()
    visit(a, stick), visit(b, stick)
    report = visit(hub, stick)
    assert len(report.imported) == 2 and len(report.exported) == 2
    assert {r.destination for r in report.exported} == {a.device_id, b.device_id}
    for school in (a, b):
        got = visit(school, stick)
        assert [r.origin for r in got.imported] == [hub.device_id] and not got.refused
        mine = [e for e in truth(hub)["events"] if e[1] == school.device_id]
        assert truth(school)["events"] == mine and len(mine) == 2  # the other school's stay at the hub
    for inst in (hub, a, b):
        inst.close()


def test_a_usb_visit_with_no_peer_enrolled_says_to_enrol_and_exits_1_unless_it_did_something(tmp_path):
    from kit.content.pack import build_pack
    from kit.core.keys import SigningKey, trust
    school, hub = server(tmp_path, "Ecole Tamda"), server(tmp_path, "Hub", role="hub")
    activity(school, "L1", 3)
    publisher = SigningKey.generate("Ministry")
    trust(school.db, publisher.public, "publisher")
    s, h = str(school.data.root), str(hub.data.root)
    school.close(), hub.close()
    stick = tmp_path / "stick"
    stick.mkdir()
    out = kit("sync", "usb", stick, "--data", s)   # a school that never enrolled: the visit does nothing
    assert out.exit_code == 1, out.output
    assert out.output.splitlines() == ["error: no hub enrolled: nothing can be written for anyone; enrol with your "
                                       "hub first (`kit sync enrol --hub URL --code CODE`; or by file: `kit sync "
                                       "enrol --help`)"]
    assert list(stick.rglob("*.kitsync")) == []
    out = kit("sync", "usb", stick, "--data", h)   # a hub with no school: the same, in its words
    assert out.exit_code == 1 and out.output.startswith("error: no school enrolled: "), out.output
    build_pack(MINI, stick / "packs", publisher)  # a visit that installs a pack did something: exit 0, and why no bundle
    out = kit("sync", "usb", stick, "--data", s)
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "pack mini-1.0.0.kitpack: installed mini 1.0.0"
    assert out.output.splitlines()[1].startswith("warning: no hub enrolled: ") and "Nothing to do" not in out.output


def test_a_usb_visit_of_an_enrolled_school_with_nothing_new_has_nothing_to_do(dirs):
    tmp, hub, school = dirs
    stick = tmp / "stick"
    stick.mkdir()
    assert kit("sync", "usb", stick, "--data", school).exit_code == 0
    out = kit("sync", "usb", stick, "--data", school)
    assert (out.exit_code, out.output) == (0, f"Nothing to do on {stick}.\n")


def test_what_kit_keys_show_prints_can_be_trusted_as_it_is_and_names_the_key_by_its_first_line(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert kit("init", "--data", str(a), "--name", "Ecole A").exit_code == 0
    assert kit("init", "--data", str(b)).exit_code == 0
    shown = kit("keys", "show", "--data", str(a)).output
    assert len(shown.splitlines()) > 1  # the key, then its id and sealing key
    (tmp_path / "a.pub").write_text(shown, encoding="utf-8")
    out = kit("keys", "trust", str(tmp_path / "a.pub"), "--role", "school", "--data", str(b))
    assert out.exit_code == 0 and out.output.strip().endswith("Ecole A"), out.output
    inst = open_instance(DataDir(b))
    assert [k for (k,) in inst.db.execute("SELECT name FROM trusted_keys WHERE role = 'school'")] == ["Ecole A"]
    inst.close()
