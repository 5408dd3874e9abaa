"""The merge is a property, not a happy path: any order, any repetition, one result."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kit.core import records
from kit.core.config import DataDir
from kit.core.instance import open_instance
from kit.sync.bundle import export_bundle, import_bundle
from kit.sync.enrol import accept, own_enrolment
from syncworld import activity, enrol, server, truth


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Overlapping bundles from two schools editing the same learners, and a hub's relay, all
    sealed to one receiver (a hub above them: a school's share is not what is tested here)
    whose data dir, fresh, each example copies."""
    root = tmp_path_factory.mktemp("schools")
    hub = server(root, "Hub", role="hub")
    a, b = server(root, "School A"), server(root, "School B")
    enrol(hub, a, b)
    receiver = server(root, "Receiver", role="hub")  # one that merges what everyone sends it whole
    accept(receiver.db, own_enrolment(hub), "hub")
    for sender in (hub, a, b):
        accept(sender.db, own_enrolment(receiver), "hub")
        if sender is not hub:
            accept(receiver.db, own_enrolment(sender), "school")
    out = root / "out"
    out.mkdir()
    made = []

    def export(inst, since, to=receiver):
        path = export_bundle(inst, out / f"{len(list(out.iterdir()))}.kitsync", since_vector=since,
                             destination=to.device_id).path
        if to is receiver:
            made.append(path)
        return path

    records.set_fields(a.db, "learner", "L1", {"name": "Amina", "class_id": "C1"})
    records.set_fields(b.db, "learner", "L3", {"name": "Bilal"})
    activity(a, "L1", 3)
    export(a, {})                                     # A 1..4
    records.set_fields(a.db, "learner", "L2", {"name": "Omar"})
    records.set_fields(b.db, "learner", "L3", {"pin_hash": "hash-4321"})
    records.delete(a.db, "learner", "L1")
    export(a, {a.device_id: 4})                       # A 5..6
    export(a, {})                                     # A 1..6, overlapping both
    activity(b, "L2", 2)
    export(b, {})                                     # B 1..4
    for school in (a, b):                             # the hub gets A 1..6 and B 1..4
        import_bundle(hub, export(school, {}, to=hub))
    records.set_fields(b.db, "learner", "L3", {"name": "Bilal K."})
    export(b, {b.device_id: 4})                       # B 5
    records.set_fields(hub.db, "learner", "L2", {"name": "Omar K."})      # the coordinator edits A's
    records.set_fields(hub.db, "learner", "L1", {"name": "after the delete"})
    export(hub, {})                                   # the hub relays A 1..6, B 1..4 and its own edits
    receiver.close()
    return {"paths": made, "receiver": receiver.data.root}


def receive(paths: list[Path], bundles: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        copy = shutil.copytree(bundles["receiver"], Path(tmp) / "receiver")
        school = open_instance(DataDir(copy))
        for path in paths:
            import_bundle(school, path)
        result = truth(school)
        school.close()
    return result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_and_repetition_of_bundles_gives_the_same_state(bundles, data):
    paths = bundles["paths"]
    order = data.draw(st.permutations(range(len(paths))))
    repeats = data.draw(st.lists(st.tuples(st.integers(0, len(paths) - 1), st.integers(0, len(paths))), max_size=5))
    sequence = list(order)
    for which, where in repeats:
        sequence.insert(where, which)
    reference = receive(paths, bundles)
    assert receive([paths[i] for i in sequence], bundles) == reference
    assert len(reference["events"]) == 6 + 5 + 2


def test_the_delete_wins_and_field_edits_merge_whatever_the_order(bundles):
    state = receive(bundles["paths"], bundles)
    deleted = {(kind, rid): gone for kind, rid, _, gone in state["records"]}
    assert deleted[("learner", "L1")] == 1
    fields = {rid: json.loads(data) for kind, rid, data, _ in state["records"]}
    assert fields["L2"] == {"name": "Omar K."}
    assert fields["L3"] == {"name": "Bilal K.", "pin_hash": "hash-4321"}
