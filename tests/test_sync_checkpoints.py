"""What was sent is kept once: one checkpoint per peer, by stick or over HTTP; only a peer's
newest word moves it back; a replay changes no byte; bundles have names people can read."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from kit.core.eventlog import version_vector
from kit.core import records
from kit.sync import bundle, peers
from kit.sync.bundle import export_for, import_bundle
from kit.sync.client import pull, push
from kit.sync.usb import visit
from netlink import served
from syncworld import activity, dump, enrol, server, truth


@pytest.fixture
def ticking(monkeypatch):
    """Every bundle is written a minute after the one before, on every server's clock (a
    manifest's created_at counts whole seconds, and a test writes many in one)."""
    minutes = itertools.count()
    start = datetime(2024, 5, 2, 10, tzinfo=timezone.utc)
    monkeypatch.setattr(bundle, "now_iso", lambda: (start + timedelta(minutes=next(minutes))).isoformat())


@pytest.fixture
def stick(tmp_path):
    (tmp_path / "stick").mkdir()
    return tmp_path / "stick"


def lina_is_as(hub, a) -> None:
    """LB (Lina), who learns at B, is A's learner, as the coordinator recorded at the hub: the
    hub sends A what B records about her (one school holds only its own learners)."""
    records.set_fields(hub.db, "learner", "LB", {"name": "Lina", "school": a.device_id})


def sent_to(report, school) -> int:
    """Events in the bundle a hub's visit wrote for `school`."""
    (written,) = [e for e in report.exported if e.destination == school.device_id]
    return written.events


def test_usb_then_http_then_usb_sends_each_event_once(world, stick):
    hub, a, b, _ = world
    lina_is_as(hub, a)
    activity(a, "LA", 5)
    activity(b, "LB", 7)
    visit(a, stick), visit(b, stick)
    first = visit(hub, stick)                    # USB: B's 7 events about Lina leave for A
    visit(a, stick)
    with served(hub.data) as url:
        activity(b, "LB", 4, lesson="m")
        assert push(b, url).pushed_new == 4
        assert pull(a, url).pulled_events == 4   # HTTP: B's next 4, nothing of the first 7
        activity(b, "LB", 3, lesson="n")
        b_visit = visit(b, stick)
        last = visit(hub, stick)                 # USB again: B's last 3, nothing pulled before
        visit(a, stick)
        assert pull(a, url).pulled_events == 0
    assert [e.events for e in b_visit.exported] == [3]   # the school's side too: nothing pushed goes again
    assert (sent_to(first, a), sent_to(last, a)) == (7 + 1, 3)  # (and the hub's record of her)
    assert sent_to(last, b) == 0                 # an answer only: nothing at the hub is B's
    assert truth(a)["events"] == truth(hub)["events"]
    assert all(e[1] == b.device_id for e in truth(b)["events"])


def test_old_bundles_left_on_the_stick_re_send_nothing_at_the_next_visit(world, stick):
    """The hub visited twice before the school sees its answer: the school's old bundle is
    imported again, and the hub's second answer holds only what is new."""
    hub, a, b, out = world
    lina_is_as(hub, a)
    activity(b, "LB", 10)
    import_bundle(hub, export_for(b, out, hub.device_id).path)
    activity(a, "LA", 3)
    visit(a, stick)
    assert sent_to(visit(hub, stick), a) == 10 + 1
    activity(b, "LB", 2, lesson="m")
    import_bundle(hub, export_for(b, out, hub.device_id).path)
    assert sent_to(visit(hub, stick), a) == 2


def test_a_stale_bundle_imported_after_a_newer_one_rewinds_nothing(world, ticking):
    hub, a, b, out = world
    lina_is_as(hub, a)
    activity(b, "LB", 10)
    import_bundle(hub, export_for(b, out, hub.device_id).path)
    activity(a, "LA", 2)
    older = export_for(a, out, hub.device_id).path      # A holds nothing of B yet, in both
    activity(a, "LA", 2, lesson="m")
    newer = export_for(a, out, hub.device_id).path
    import_bundle(hub, newer), import_bundle(hub, older)
    assert export_for(hub, out, a.device_id).events == 10 + 1
    import_bundle(hub, older)                           # left on the stick: said before that answer
    assert export_for(hub, out, a.device_id).events == 0


@pytest.mark.parametrize("side", ["hub", "school"])
def test_importing_the_same_bundle_again_changes_no_byte(world, side):
    hub, a, b, out = world
    activity(b, "LB", 4)
    import_bundle(hub, export_for(b, out, hub.device_id).path)
    activity(a, "LA", 3)
    from_a = export_for(a, out, hub.device_id).path
    import_bundle(hub, from_a)
    to_a = export_for(hub, out, a.device_id).path       # the hub sends A what A did not hold
    import_bundle(a, to_a)
    activity(a, "LA", 2, lesson="m")
    export_for(a, out, hub.device_id)                   # and A sends more than the hub knew of
    inst, again = (hub, from_a) if side == "hub" else (a, to_a)
    before = dump(inst)
    assert import_bundle(inst, again).new == 0
    assert dump(inst) == before
    assert any("sync_exported" in line for line in before) and any("sync_peer_said" in line for line in before)


def test_a_range_lost_on_the_way_to_a_school_travels_again_on_the_schools_newer_word(world, ticking):
    hub, a, b, out = world
    lina_is_as(hub, a)
    activity(b, "LB", 10)
    import_bundle(hub, export_for(b, out, hub.device_id).path)
    activity(a, "LA", 2)
    import_bundle(hub, export_for(a, out, hub.device_id).path)
    assert export_for(hub, out, a.device_id).events == 11   # this bundle never reaches A
    assert export_for(hub, out, a.device_id).events == 0    # sent is sent, until A says otherwise
    activity(a, "LA", 1, lesson="m")
    import_bundle(hub, export_for(a, out, hub.device_id).path)  # A's newest word: it holds none of B
    again = export_for(hub, out, a.device_id)
    assert again.events == 11
    import_bundle(a, again.path)
    assert version_vector(a.db)[b.device_id] == 10


def test_a_pull_counts_as_the_schools_word_and_what_it_was_served_as_sent(world):
    hub, a, b, out = world
    lina_is_as(hub, a)
    activity(b, "LB", 6)
    import_bundle(hub, export_for(b, out, hub.device_id).path)
    activity(a, "LA", 3)
    with served(hub.data) as url:
        assert pull(a, url).pulled_events == 6 + 1
    assert peers.peer_holds(hub.db, a.device_id) == {a.device_id: 3}   # what its request said
    assert peers.export_since(hub.db, a.device_id) == {a.device_id: 3, b.device_id: 6, hub.device_id: 1}
    assert export_for(hub, out, a.device_id).events == 0                 # the next visit: an answer only


# --- names ----------------------------------------------------------------------------------

NAME = re.compile(r"(?P<stem>.+)-(?P<day>\d{4}-\d\d-\d\d)-(?P<n>\d+)\.kitsync")


def test_bundle_names_say_from_whom_to_whom_and_when_and_never_repeat_in_a_folder(tmp_path):
    hub = server(tmp_path, "District Hub", role="hub")
    school = server(tmp_path, "École primaire de Tamda Ouzemmour, secteur 3")
    enrol(hub, school)
    out = tmp_path / "out"
    out.mkdir()
    names = []
    for n in range(2):
        activity(school, "L1", 1, lesson=f"v{n}")
        names.append(export_for(school, out, hub.device_id).path.name)
    found = [NAME.fullmatch(name) for name in names]
    assert [m["stem"] for m in found] == ["ecole-primaire-de-tamda-to-district-hub"] * 2
    assert [m["n"] for m in found] == ["1", "2"] and found[0]["day"] == found[1]["day"]
    assert date.fromisoformat(found[0]["day"]) in (date.today(), date.today() - timedelta(days=1))
    answer = export_for(hub, out, school.device_id).path.name
    assert answer.startswith(f"district-hub-to-ecole-primaire-de-tamda-{found[0]['day']}-")


def test_a_school_whose_name_has_no_latin_letter_is_named_by_its_device_id(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    school = server(tmp_path, "مدرسة الأمل 2")
    enrol(hub, school)
    activity(school, "L1", 1)
    out = tmp_path / "out"
    out.mkdir()
    assert export_for(school, out, hub.device_id).path.name.startswith(f"{school.device_id}-to-hub-")
    assert export_for(hub, out, school.device_id).path.name.startswith(f"hub-to-{school.device_id}-")


@pytest.mark.parametrize("name, label", [
    ("Ecole de Tamda", "ecole-de-tamda"),
    ("  ÉCOLE   d'Aït--Ourir  ", "ecole-d-ait-ourir"),
    ("Straße 5", "strasse-5"),
    ("Groupe scolaire Ibn Khaldoun de Casablanca", "groupe-scolaire-ibn"),
    ("Abcdefghijklmnopqrstuvwxyzabc", "abcdefghijklmnopqrstuvwx"),
    ("مدرسة", ""), ("12", ""), ("", ""),
])
def test_a_label_is_short_lower_case_ascii_words(name, label):
    assert peers.slug(name) == label


def test_the_visit_finds_bundles_by_what_they_say_not_by_their_names(world, stick, tmp_path):
    hub, a, _, _ = world
    activity(a, "LA", 2)
    visit(a, stick)
    for path in (stick / "kit").glob("*.kitsync"):
        path.rename(path.with_name(f"x{path.name}"))
    assert [r.new for r in visit(hub, stick).imported] == [2]
    for path in (stick / "kit").glob("hub-to-school-a-*"):
        path.rename(path.with_name("from-someone.kitsync"))
    assert [r.origin for r in visit(a, stick).imported] == [hub.device_id]
    activity(a, "LA", 1, lesson="m")
    (mine,) = visit(a, stick).exported
    mine.path.rename(mine.path.with_name("from-the-hub.kitsync"))
    again = visit(a, stick).imported                            # sealed for the hub: left for it
    assert all(r.path.name != "from-the-hub.kitsync" for r in again)
    lone = server(tmp_path, "Lone School")
    activity(lone, "L", 1)
    assert visit(lone, stick).exported == []                    # no hub: nobody to seal it to
