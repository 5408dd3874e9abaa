"""A district: a hub and three schools. The hub holds everything; each school only its own
learners (and those moved to it, with their whole history), so nothing of another school's
children (names, PIN hashes, events) reaches it, by stick or by link."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest

from kit.core import district as districts, eventlog, records, roster
from kit.core.errors import BundleError, RosterError
from kit.sync import bundle, scope
from kit.sync.bundle import export_bundle, export_for, import_bundle
from syncworld import activity, db_files, dump, enrol, forge, read_manifest, server


def visit(hub, school, out) -> None:
    """A coordinator's round at one school: its news to the hub, the hub's answer back."""
    for src, dst in ((school, hub), (hub, school)):
        made = export_for(src, out, dst.device_id)
        if made.path:
            import_bundle(dst, made.path)


def everything_in(inst) -> str:
    """Every value of every table of a server's database, as one text to search."""
    tables = [t for (t,) in inst.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(repr(inst.db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


@pytest.fixture
def district(tmp_path):
    """A hub and schools A, B, C, each with one class of two learners who have read lessons."""
    hub = server(tmp_path, "Hub", role="hub")
    schools = [server(tmp_path, f"School {x}") for x in "ABC"]
    enrol(hub, *schools)
    out = tmp_path / "out"
    out.mkdir()
    people = {}
    for n, school in enumerate(schools):
        klass = roster.create_class(school.db, f"Classe {n}A", code=f"{n}00{n}")
        learners = [roster.add_learner(school.db, klass.id, f"Eleve{n}{i}", pin=f"{n}{i}{n}{i}") for i in range(2)]
        for learner in learners:
            activity(school, learner.id, 3)
        people[school.device_id] = (klass, learners)
    for _ in range(2):  # the second round brings what the first one left at the hub
        for school in schools:
            visit(hub, school, out)
    yield hub, schools, people, out
    for inst in (hub, *schools):
        inst.close()


def secrets_of(inst, learners) -> list[str]:
    return [records.get(inst.db, "learner", lr.id)["pin_hash"] for lr in learners]


def test_after_a_round_each_school_holds_none_of_the_other_schools_children(district):
    hub, schools, people, out = district
    for school in schools:
        text = everything_in(school)
        for other in schools:
            klass, learners = people[other.device_id]
            held = [klass.id, klass.name] + [x for lr in learners for x in (lr.id, lr.name)]
            held += secrets_of(other, learners)
            if other is school:
                assert all(value in text for value in held)
            else:
                assert not [value for value in held if value in text], f"{school.key().name} holds {other.key().name}'s"
        foreign = school.db.execute("SELECT COUNT(*) FROM events WHERE device_id NOT IN (?, ?)",
                                    [school.device_id, hub.device_id]).fetchone()[0]
        assert foreign == 0
    # The hub holds the whole district: 3 schools x (1 class + 2 learners + 6 reads).
    assert hub.db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 27


def test_the_hubs_edit_of_a_learner_reaches_her_school_only(district):
    hub, (a, b, c), people, out = district
    amina = people[a.device_id][1][0]
    roster.set_secret(hub.db, amina.id, pin="9999")  # the coordinator resets her PIN
    for school in (a, b, c):
        visit(hub, school, out)
    assert records.get(a.db, "learner", amina.id) == records.get(hub.db, "learner", amina.id)
    assert records.get(b.db, "learner", amina.id) is None and records.get(c.db, "learner", amina.id) is None


def move(hub, learner_id, klass, school) -> None:
    records.set_fields(hub.db, "learner", learner_id, {"class_id": klass.id, "school": school.device_id})


def test_a_learner_moved_from_a_to_b_takes_her_history_and_a_sees_nothing_after(district):
    hub, (a, b, c), people, out = district
    youssef = people[a.device_id][1][1]
    move(hub, youssef.id, people[b.device_id][0], b)
    for school in (b, a):
        visit(hub, school, out)
    history = b.db.execute("SELECT device_id, kind FROM events WHERE learner_id = ?", [youssef.id]).fetchall()
    assert sorted(history) == sorted(hub.db.execute(
        "SELECT device_id, kind FROM events WHERE learner_id = ?", [youssef.id]).fetchall())
    assert len(history) == 1 + 3 + 1  # made at A, three reads at A, moved at the hub
    # B owns him now: B may reset his PIN, A may not (A knows where he went).
    roster.set_secret(b.db, youssef.id, pin="4242")
    with pytest.raises(RosterError, match="belongs to another server"):
        roster.set_secret(a.db, youssef.id, pin="1111")
    assert records.get(a.db, "learner", youssef.id)["school"] == b.device_id
    assert districts.school_names(a.db).get(b.device_id) == "School B"  # A can say where he went
    activity(b, youssef.id, 2, lesson="at-b")  # he learns at B
    for school in (b, a, c):
        visit(hub, school, out)
    assert b.db.execute("SELECT COUNT(*) FROM events WHERE learner_id = ?", [youssef.id]).fetchone()[0] == 8
    at_a = a.db.execute("SELECT device_id, kind FROM events WHERE learner_id = ?", [youssef.id]).fetchall()
    assert sorted(at_a) == sorted(history)  # his story at A ends with the move
    assert records.get(c.db, "learner", youssef.id) is None


def test_a_learner_moved_twice_is_not_followed_by_the_first_school(district):
    hub, (a, b, c), people, out = district
    youssef = people[a.device_id][1][1]
    move(hub, youssef.id, people[b.device_id][0], b)
    visit(hub, b, out)
    move(hub, youssef.id, people[c.device_id][0], c)  # before A heard of the first move
    for school in (a, b, c):
        visit(hub, school, out)
    assert records.get(c.db, "learner", youssef.id)["school"] == c.device_id
    # A and B each learn that he left them, and where to; A does not learn of his move on to C.
    assert records.get(b.db, "learner", youssef.id)["school"] == c.device_id
    assert records.get(a.db, "learner", youssef.id)["school"] == b.device_id
    assert people[c.device_id][0].id not in everything_in(a)


def test_a_schools_share_does_not_grow_with_the_district(tmp_path):
    def share_size(n_schools: int) -> int:
        hub = server(tmp_path / str(n_schools), "Hub", role="hub")
        schools = [server(tmp_path / str(n_schools), f"School {i}") for i in range(n_schools)]
        enrol(hub, *schools)
        out = tmp_path / f"out{n_schools}"
        out.mkdir()
        for i, school in enumerate(schools):
            klass = roster.create_class(school.db, f"C{i}", code=f"10{i}")
            for j in range(3):
                activity(school, roster.add_learner(school.db, klass.id, f"L{j}", pin="1234").id, 5)
            import_bundle(hub, export_for(school, out, hub.device_id).path)
        me = schools[0]
        roster.set_secret(hub.db, roster.class_learners(me.db, roster.classes_here(me.db)[0].id)[0].id, pin="4321")
        return export_for(hub, out, me.device_id).events
    assert share_size(1) == share_size(4) == 1  # the coordinator's reset; nothing of the 3 other schools


def test_replaying_a_hubs_bundle_at_a_school_changes_no_byte(district):
    hub, (a, b, c), people, out = district
    move(hub, people[b.device_id][1][0].id, people[a.device_id][0], a)
    made = export_for(hub, out, a.device_id)
    import_bundle(a, made.path)
    before = dump(a)
    assert import_bundle(a, made.path).new == 0
    assert dump(a) == before


def test_a_moved_in_learners_history_lost_on_the_way_goes_again_on_the_schools_newer_word(district, monkeypatch):
    hub, (a, b, c), people, out = district
    later = itertools.count(1)  # each bundle a minute after the one before (created_at counts seconds)
    monkeypatch.setattr(bundle, "now_iso", lambda: (datetime.now(timezone.utc) + timedelta(minutes=next(later))).isoformat())
    omar = people[b.device_id][1][0]
    move(hub, omar.id, people[a.device_id][0], a)
    lost = export_for(hub, out, a.device_id)  # this stick never reaches A
    assert lost.events == 1 + 1 + 3          # the move, and his history: made at B, three reads
    assert export_for(hub, out, a.device_id).events == 0  # sent is sent...
    activity(a, people[a.device_id][1][0].id, 1, lesson="today")
    import_bundle(hub, export_for(a, out, hub.device_id).path)  # ...until A's newest word lacks it
    again = export_for(hub, out, a.device_id)
    assert again.events == 5
    import_bundle(a, again.path)
    assert a.db.execute("SELECT COUNT(*) FROM events WHERE learner_id = ?", [omar.id]).fetchone()[0] == 5


def test_a_school_that_held_the_whole_district_lets_go_of_the_others_once_the_hub_holds_them(district, tmp_path):
    hub, (a, b, c), people, out = district
    # As a hub did before schools held only their own: A received B's class and learners.
    records.merge(a.db, eventlog.events_after(b.db, {}))
    late = people[b.device_id][1][0]
    activity(b, late.id, 2, lesson="late")  # events of B the hub does not hold yet
    records.merge(a.db, eventlog.events_after(b.db, {}))
    assert roster.get_learner(a.db, late.id) is not None
    activity(a, people[a.device_id][1][0].id, 1, lesson="today")  # A's bundle tells what A holds
    visit(hub, a, out)
    # The hub holds all of B's but those two reads: B's other learner goes, the late one stays.
    assert roster.get_learner(a.db, people[b.device_id][1][1].id) is None
    assert roster.get_learner(a.db, late.id) is not None
    visit(hub, b, out)
    visit(hub, a, out)
    assert roster.get_learner(a.db, late.id) is None and roster.get_class(a.db, people[b.device_id][0].id) is None
    assert a.db.execute("SELECT COUNT(*) FROM events WHERE device_id = ?", [b.device_id]).fetchone()[0] == 0
    # What A let go of is not fetched again: its word to the hub still says it holds B's ranges.
    assert scope.holds(a.db)[b.device_id] == eventlog.max_seq(b.db, b.device_id)


def test_only_a_hub_may_send_a_scoped_bundle(district, tmp_path):
    hub, (a, b, c), people, out = district
    activity(a, people[a.device_id][1][0].id, 1, lesson="new")
    made = export_bundle(a, out / "a.kitsync", scope.holds(hub.db), destination=hub.device_id)
    manifest, chunks = read_manifest(made.path, hub)
    forged = forge(tmp_path / "scoped.kitsync", a.key(),
                   {**manifest, "version": 2, "scope": {"school": hub.device_id, "joined": []}}, chunks, to=hub)
    before, files = dump(hub), db_files(hub)
    with pytest.raises(BundleError, match="only a hub relays"):
        import_bundle(hub, forged)
    assert dump(hub) == before and db_files(hub) == files


def test_a_scoped_bundle_may_bring_events_outside_its_ranges_only_for_learners_who_joined(district, tmp_path):
    hub, (a, b, c), people, out = district
    omar = people[b.device_id][1][0]
    move(hub, omar.id, people[a.device_id][0], a)
    made = export_for(hub, out, a.device_id)
    manifest, chunks = read_manifest(made.path, a)
    assert manifest["scope"]["school"] == a.device_id and omar.id in manifest["scope"]["joined"]
    lines = [json.loads(x) for x in b"".join(chunks.values()).decode().splitlines()]
    assert {e["learner_id"] for e in lines if e["device_id"] == b.device_id} == {omar.id}
    # His events from B, outside every range: as a history that joins, or not at all.
    covers = {d: r for d, r in manifest["covers"].items() if d != b.device_id}
    hidden = {**manifest, "covers": covers, "scope": {"school": a.device_id, "joined": []}}
    before = dump(a)
    with pytest.raises(BundleError, match="outside the ranges"):
        import_bundle(a, forge(tmp_path / "hidden.kitsync", hub.key(), hidden, chunks, to=a))
    assert dump(a) == before
    joined = {**hidden, "scope": {"school": a.device_id, "joined": [omar.id]}}
    assert import_bundle(a, forge(tmp_path / "joined.kitsync", hub.key(), joined, chunks, to=a)).new == len(lines)


def test_a_scoped_bundle_with_an_event_twice_or_out_of_order_is_refused_whole(district, tmp_path):
    hub, (a, b, c), people, out = district
    omar = people[b.device_id][1][0]
    move(hub, omar.id, people[a.device_id][0], a)
    manifest, chunks = read_manifest(export_for(hub, out, a.device_id).path, a)
    (name, data), = chunks.items()
    lines = data.decode().splitlines(keepends=True)
    ranged = [i for i, x in enumerate(lines) if json.loads(x)["device_id"] == b.device_id]
    assert len(ranged) == 4
    covers = {d: r for d, r in manifest["covers"].items() if d != b.device_id}  # B's events as a history
    as_history = {**manifest, "covers": covers, "counts": {**manifest["counts"], "events": len(lines) + 1}}
    twice = "".join(lines + [lines[ranged[0]]]).encode()
    swapped = list(lines)
    swapped[ranged[0]], swapped[ranged[1]] = swapped[ranged[1]], swapped[ranged[0]]
    cases = [(as_history, {name: twice}, "appears twice"),
             (manifest, {name: "".join(swapped).encode()}, "out of order")]
    for n, (said, members, reason) in enumerate(cases):
        before = dump(a)
        with pytest.raises(BundleError, match=reason):
            import_bundle(a, forge(tmp_path / f"bad{n}.kitsync", hub.key(), said, members, to=a))
        assert dump(a) == before
