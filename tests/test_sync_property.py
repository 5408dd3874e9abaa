"""The merge is a property, not a happy path: any order, any repetition, one result."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kit.core import records
from kit.core.keys import trust
from kit.sync.bundle import export_bundle, import_bundle
from syncworld import activity, enrol, server, truth


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Overlapping bundles from two schools editing the same learners, and a hub's relay."""
    root = tmp_path_factory.mktemp("schools")
    hub = server(root, "Hub", role="hub")
    a, b = server(root, "School A"), server(root, "School B")
    enrol(hub, a, b)
    out = root / "out"
    out.mkdir()
    made = []

    def export(inst, since, dest=None):
        made.append(export_bundle(inst, out / f"{len(made)}.kitsync", since_vector=since, destination=dest).path)

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
    records.set_fields(b.db, "learner", "L3", {"name": "Bilal K."})
    export(b, {b.device_id: 4})                       # B 5
    for path in made[2:4]:
        import_bundle(hub, path)
    records.set_fields(hub.db, "learner", "L2", {"name": "Omar K."})      # the coordinator edits A's
    records.set_fields(hub.db, "learner", "L1", {"name": "after the delete"})
    export(hub, {})                                   # the hub relays A 1..6, B 1..4 and its own edits
    return {"paths": made, "hub": hub.key().public, "a": a.key().public, "b": b.key().public}


def receive(paths: list[Path], keys: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        school = server(Path(tmp), "Receiver", role="hub")  # one that merges what everyone sends
        trust(school.db, keys["hub"], "hub")
        trust(school.db, keys["a"], "school")
        trust(school.db, keys["b"], "school")
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
