"""Sync under attack: what an impostor hub, a dishonest school or a hostile USB stick can do,
each found by a review and proven before it was fixed. Nothing here may ever pass again."""

from __future__ import annotations

import json
import tracemalloc
import zipfile

import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.errors import BundleError, TrustError
from kit.keys import SigningKey, trust, trusted_key
from kit.sync import enrol as enrolment
from kit.sync.bundle import import_bundle
from kit.sync.usb import addressed_to, visit
from syncworld import db_files, dump, server

def refused(inst, path, reason: str) -> None:
    """The bundle is refused with `reason`, and not one byte of the database changed."""
    before, files = dump(inst), db_files(inst)
    with pytest.raises(BundleError, match=reason):
        import_bundle(inst, path)
    assert dump(inst) == before and db_files(inst) == files


# --- M4: a zip bomb on the stick ----------------------------------------------------------------

def test_a_zip_bomb_manifest_on_the_stick_is_refused_without_inflating_it(tmp_path):
    inst = server(tmp_path, "School")
    stick = tmp_path / "stick"
    (stick / "kit").mkdir(parents=True)
    bomb = stick / "kit" / "aaaa-1-2.kitsync"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("manifest.json", "w", force_zip64=True) as m:
            for _ in range(160):
                m.write(bytes(1 << 20))  # 160 MiB of zeros, a few hundred KB on the stick
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        assert addressed_to(bomb) is False
        report = visit(inst, stick)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20
    assert [name for name, _ in report.refused] == [bomb.name] and "limit" in report.refused[0][1]
    inst.close()


# --- a key keeps the role it was trusted for ----------------------------------------------------

def test_trusting_a_key_for_a_second_role_is_refused_and_the_first_role_stays(tmp_path):
    inst = server(tmp_path, "School")
    publisher = SigningKey.generate("Ministry").public
    assert trust(inst.db, publisher, "publisher") and not trust(inst.db, publisher, "publisher")
    for role in ("school", "hub"):
        with pytest.raises(TrustError, match="already trusted here as a publisher"):
            trust(inst.db, publisher, role)
    assert trusted_key(inst.db, publisher.key_id, ("publisher",)) is not None
    with pytest.raises(TrustError, match="already trusted here as a publisher"):
        trust(inst.db, inst.key().public, "hub")  # its own key, trusted at init to sign its packs
    inst.close()


def test_enrolling_a_publishers_key_with_a_code_is_refused_and_spends_no_code(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    publisher = SigningKey.generate("Ministry").public
    trust(hub.db, publisher, "publisher")
    code = enrolment.new_code(hub.db)
    key = enrolment.code_key(code)
    text = enrolment.Enrolment("school", "Ministry", publisher).text()  # anyone can send any public key
    with pytest.raises(TrustError, match="already trusted here as a publisher"):
        enrolment.redeem(hub.db, text, enrolment.mac(key, text))
    assert trusted_key(hub.db, publisher.key_id, ("publisher",)) is not None
    school = server(tmp_path, "School")
    real = enrolment.own_enrolment(school).text()
    assert enrolment.redeem(hub.db, real, enrolment.mac(key, real))[0].device_id == school.device_id
    hub.close(), school.close()


def test_kit_keys_trust_says_when_a_key_already_has_another_role(tmp_path):
    inst = server(tmp_path, "School")
    inst.close()
    SigningKey.generate("Ministry").save(tmp_path / "ministry.key")
    run = CliRunner().invoke
    pub, data = str(tmp_path / "ministry.key.pub"), str(inst.data.root)
    assert "Trusted publisher" in run(main, ["keys", "trust", pub, "--data", data]).output
    out = run(main, ["keys", "trust", pub, "--role", "hub", "--data", data])
    assert out.exit_code == 1 and "already trusted here as a publisher" in out.output
    assert len(out.output.strip().splitlines()) == 1
