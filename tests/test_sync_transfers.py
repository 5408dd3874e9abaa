"""The hub's side of network sync, called directly (no web): uploads kept chunk by chunk and
imported once, downloads prepared once per vector, only pack file names become paths."""

from __future__ import annotations

import hashlib

import pytest

from kit.core import roster
from kit.core.errors import SyncError, UploadError
from kit.sync import transfers
from kit.sync.bundle import export_bundle, import_bundle
from syncworld import activity, truth


@pytest.fixture
def upload(world):
    """School A's bundle for the hub, as bytes, and its name (its sha256)."""
    hub, a, _, out = world
    activity(a, "L1", 5)
    data = export_bundle(a, out / "a.kitsync", {}, destination=hub.device_id).path.read_bytes()
    return hub, a, data, hashlib.sha256(data).hexdigest()


def test_a_chunk_after_a_gap_is_not_kept_and_the_answer_says_where_to_resume(upload):
    hub, a, data, name = upload
    assert transfers.receive_chunk(hub, a.device_id, name, 0, len(data), data[:10]) == 10
    assert transfers.receive_chunk(hub, a.device_id, name, 20, len(data), data[20:30]) == 10
    assert transfers.receive_chunk(hub, a.device_id, name, 0, len(data), data[:10]) == 10  # a retry changes nothing
    assert transfers.received(hub, a.device_id, name) == 10


def test_a_finished_upload_is_imported_once_and_asked_again_gives_the_same_answer(upload):
    hub, a, data, name = upload
    transfers.receive_chunk(hub, a.device_id, name, 0, len(data), data)
    first = transfers.finish_upload(hub, a.device_id, name)
    assert first == {"events": 5, "new": 5} and truth(hub)["events"] == truth(a)["events"]
    assert transfers.finish_upload(hub, a.device_id, name) == first


def test_a_damaged_upload_is_dropped_and_asked_for_again(upload):
    hub, a, data, name = upload
    transfers.receive_chunk(hub, a.device_id, name, 0, len(data), b"x" + data[1:])
    with pytest.raises(UploadError, match="send it again"):
        transfers.finish_upload(hub, a.device_id, name)
    assert transfers.received(hub, a.device_id, name) == 0


def test_only_a_sha256_names_an_upload(world):
    hub, a, _, _ = world
    with pytest.raises(SyncError, match="named by their sha256"):
        transfers.received(hub, a.device_id, "../../kit.db")


def test_a_download_is_prepared_once_per_vector(world):
    hub, a, b, _ = world
    activity(a, "L1", 3)
    assert transfers.prepare_download(hub, b.device_id, {})["name"] is None  # the hub holds nothing yet
    klass = roster.create_class(b.db, "CP", code="123")
    omar = roster.add_learner(b.db, klass.id, "Omar", pin="1234")
    import_bundle(hub, export_bundle(b, hub.data.root, destination=hub.device_id).path)
    for pin in ("1111", "2222"):
        roster.set_secret(hub.db, omar.id, pin=pin)  # the coordinator, twice
    first = transfers.prepare_download(hub, b.device_id, {b.device_id: 2})
    assert first["events"] == 2 and transfers.prepare_download(hub, b.device_id, {b.device_id: 2}) == first
    path = transfers.prepared_bundle(hub, b.device_id, first["name"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == first["name"]
    assert transfers.prepared_bundle(hub, a.device_id, first["name"]) is None  # another peer's


def test_only_pack_file_names_become_paths(world):
    hub = world[0]
    (hub.data.root / "publish").mkdir()
    (hub.data.root / "publish" / "numeracy-1.0.0.kitpack").write_bytes(b"pack")
    assert [p["file"] for p in transfers.published_packs(hub)] == ["numeracy-1.0.0.kitpack"]
    assert transfers.published_pack(hub, "numeracy-1.0.0.kitpack").read_bytes() == b"pack"
    assert transfers.published_pack(hub, "..%2Fkit.db") is None
    assert transfers.published_pack(hub, "missing-1.0.0.kitpack") is None
