"""A coordinator moves, renames and resets learners across a district: the hub moves a learner
to another school's class with one event; the new school owns them; the old one shows them as
moved, keeps their history and changes nothing of them.

The relays here hold whether the hub sends each school everything or only its own learners:
they only rely on the moved learner and their history reaching the new school, and on the
move itself reaching the old one."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.core import district, eventlog, records, roster
from kit.core.errors import RosterError
from kit.core.eventlog import learner_events, version_vector
from kit.server import create_app
from kit.sync.bundle import export_bundle, import_bundle
from kit.sync.peers import remember_peer
from coach_support import staff_client
from server_support import csrf_of, text
from syncworld import activity, dump, enrol, server, truth


def relay(src, dst, out) -> None:
    """What the other side lacks, from src to dst, in a bundle addressed to dst."""
    made = export_bundle(src, out / f"{src.device_id}-to-{dst.device_id}.kitsync", version_vector(dst.db),
                         destination=dst.device_id)
    if made.path:
        import_bundle(dst, made.path)


def kit(inst, *args):
    return CliRunner().invoke(main, [*args, "--data", str(inst.data.root)])


def one_line_error(result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


@contextmanager
def web(inst):
    app = create_app({"DATA": inst.data, "TESTING": True, "DEFAULT_LANG": "en"})
    try:
        yield app
    finally:
        app.extensions["kit"].close()


@pytest.fixture
def district_world(world):
    """School A's class CP1 (Amina, who read 3 lessons, and Karim), School B's class CE1
    (Omar), all at the hub."""
    hub, a, b, out = world
    cp1 = roster.create_class(a.db, "CP1", code="1111")
    amina = roster.add_learner(a.db, cp1.id, "Amina", pin="1234")
    karim = roster.add_learner(a.db, cp1.id, "Karim", pin="5678")
    activity(a, amina.id, 3)
    ce1 = roster.create_class(b.db, "CE1", code="2222")
    omar = roster.add_learner(b.db, ce1.id, "Omar", pin="4321")
    relay(a, hub, out)
    relay(b, hub, out)
    return {"cp1": cp1, "ce1": ce1, "amina": amina, "karim": karim, "omar": omar}


@pytest.fixture
def moved(world, district_world):
    """Amina moved by the hub to School B's CE1, and the move relayed to both schools."""
    hub, a, b, out = world
    roster.move_learner(hub.db, district_world["amina"].id, district_world["ce1"].id)
    relay(hub, b, out)
    relay(hub, a, out)
    return district_world


# --- the verb, on the hub ------------------------------------------------------------------------

def test_the_hub_moves_a_learner_with_one_event_naming_the_class_and_its_school(world, district_world):
    hub, a, b, out = world
    amina, ce1 = district_world["amina"], district_world["ce1"]
    before = len(learner_events(hub.db, amina.id))
    roster.move_learner(hub.db, amina.id, ce1.id)
    events = learner_events(hub.db, amina.id)
    assert len(events) == before + 1
    move = events[-1]
    assert move.device_id == hub.device_id and move.kind == "record.set"
    assert move.body == {"kind": "learner", "id": amina.id, "fields": {"class_id": ce1.id, "school": b.device_id}}
    assert [l.name for l in roster.class_learners(hub.db, ce1.id)] == ["Amina", "Omar"]
    assert [l.name for l in roster.class_learners(hub.db, district_world["cp1"].id)] == ["Karim"]
    assert district.learner_school(hub.db, amina.id) == b.device_id


def test_a_school_cannot_move_a_learner_and_its_database_stays_as_it_was(world, district_world):
    hub, a, b, out = world
    amina, cp1 = district_world["amina"], district_world["cp1"]
    other = roster.create_class(a.db, "CP2", code="1112")
    before = dump(a)
    one_line_error(kit(a, "users", "move", "CP1/Amina", "--to-class", "CP2"), "only the hub", "coordinator")
    assert dump(a) == before
    with pytest.raises(RosterError, match="only the hub"):
        roster.move_learner(a.db, amina.id, other.id)
    assert roster.get_learner(a.db, amina.id).class_id == cp1.id


def test_moving_to_the_class_it_is_in_to_an_unknown_or_a_removed_class_is_refused(world, district_world):
    hub, a, b, out = world
    gone = roster.create_class(hub.db, "Old", code="9999")
    roster.remove_class(hub.db, gone.id)
    before = dump(hub)
    one_line_error(kit(hub, "users", "move", "1111/Amina", "--to-class", "1111"), "already", "another class")
    one_line_error(kit(hub, "users", "move", "1111/Amina", "--to-class", "7777"), "no class '7777'",
                   "kit users list")
    one_line_error(kit(hub, "users", "move", "1111/Nobody", "--to-class", "2222"), "no learners named 'Nobody'")
    assert dump(hub) == before
    amina = district_world["amina"].id
    for target, reason in [(district_world["cp1"].id, "already"), ("no-such-class", "unknown or removed"),
                           (gone.id, "unknown or removed")]:
        with pytest.raises(RosterError, match=reason):
            roster.move_learner(hub.db, amina, target)
    assert dump(hub) == before


def test_a_move_into_a_class_with_a_learner_of_the_same_name_is_refused(world, district_world):
    hub, a, b, out = world
    roster.add_learner(hub.db, district_world["ce1"].id, "AMINA", pin="1111")   # reads as "Amina"
    one_line_error(kit(hub, "users", "move", district_world["amina"].id, "--to-class", "2222"),
                   "named 'Amina' already", "kit users rename")


def test_kit_users_move_on_the_hub_says_where_the_learner_went(world, district_world):
    hub, a, b, out = world
    done = kit(hub, "users", "move", "CP1/Amina", "--to-class", "CE1")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "Moved 'Amina' to class 'CE1' of School B"
    assert roster.get_learner(hub.db, district_world["amina"].id).class_id == district_world["ce1"].id


def test_a_class_code_used_by_two_schools_asks_for_the_id_and_names_the_schools(world, district_world):
    hub, a, b, out = world
    twin_a = roster.create_class(a.db, "Twins", code="3333")
    twin_b = roster.create_class(b.db, "Twins", code="3333")
    relay(a, hub, out)
    relay(b, hub, out)
    result = kit(hub, "users", "move", "CP1/Amina", "--to-class", "3333")
    one_line_error(result, "2 classes match '3333'", "give the class id", twin_a.id, twin_b.id,
                   "School A", "School B")
    assert kit(hub, "users", "move", "CP1/Amina", "--to-class", twin_b.id).exit_code == 0
    assert district.learner_school(hub.db, district_world["amina"].id) == b.device_id


def test_the_hub_names_each_classs_school_in_kit_users_list_and_its_pages(world, district_world):
    hub, a, b, out = world
    listing = kit(hub, "users", "list").output
    cp1, ce1 = district_world["cp1"], district_world["ce1"]
    assert f"class 'CP1' code 1111 login pin school 'School A' id {cp1.id}: 2 learner(s)" in listing
    assert f"class 'CE1' code 2222 login pin school 'School B' id {ce1.id}: 1 learner(s)" in listing
    with web(hub) as app:
        admin = staff_client(app, hub.db, "coordinator", "admin")
        classes = text(admin.get("/staff/"))
        assert "School A" in classes and "School B" in classes
        assert "School B" in text(admin.get(f"/staff/class/{ce1.id}"))


def test_a_school_holding_only_its_own_classes_lists_them_as_before(world, district_world):
    hub, a, b, out = world
    listing = kit(b, "users", "list").output
    assert "class 'CE1' code 2222 login pin: 1 learner(s)" in listing and "school" not in listing
    with web(b) as app:
        admin = staff_client(app, b.db, "head", "admin")
        assert "School B" not in text(admin.get("/staff/"))
        assert "School B" not in text(admin.get(f"/staff/class/{district_world['ce1'].id}"))


def test_the_hub_sets_a_code_and_renames_any_schools_learner(world, district_world, try_code):
    hub, a, b, out = world
    assert kit(hub, "users", "set-code", "2222", "Omar", "--pin", "9999").exit_code == 0
    assert kit(hub, "users", "rename", "CE1/Omar", "Omar Idrissi").exit_code == 0
    omar = roster.get_learner(hub.db, district_world["omar"].id)
    assert omar.name == "Omar Idrissi"
    relay(hub, b, out)
    assert roster.get_learner(b.db, omar.id).name == "Omar Idrissi"
    assert try_code(b.db, omar.id, "9999", "10.0.0.1").who is not None


def test_a_rename_keeps_the_names_of_a_class_apart(world, district_world):
    hub, a, b, out = world
    one_line_error(kit(a, "users", "rename", "1111/Karim", "amina"), "named 'amina' already")
    renamed = kit(a, "users", "rename", "1111/Karim", "Karim B.")
    assert renamed.exit_code == 0 and renamed.output.strip() == "Renamed 'Karim' to 'Karim B.'"
    one_line_error(kit(a, "users", "rename", "Karim", "Karim C."), "CLASS/NAME")


def test_a_school_renames_and_resets_only_its_own_learners(world, district_world):
    hub, a, b, out = world
    # As a hub relayed them before schools held only their own: A holds B's learners.
    records.merge(a.db, eventlog.events_after(b.db, {}))
    omar = district_world["omar"]
    assert roster.get_learner(a.db, omar.id) is not None
    before = dump(a)
    one_line_error(kit(a, "users", "rename", omar.id, "Omar X"), "belongs to another server")
    one_line_error(kit(a, "users", "set-code", district_world["ce1"].id, "Omar", "--pin", "0000"),
                   "belongs to another server")
    assert dump(a) == before


# --- after the move, at both schools -------------------------------------------------------------

def test_the_new_school_owns_the_moved_learner_and_their_history(world, moved, try_code):
    hub, a, b, out = world
    amina = moved["amina"]
    assert [l.name for l in roster.class_learners(b.db, moved["ce1"].id)] == ["Amina", "Omar"]
    assert [l.name for l in roster.signin_learners(b.db, moved["ce1"].id)] == ["Amina", "Omar"]
    assert len(learner_events(b.db, amina.id, kinds=("lesson.read",))) == 3
    assert try_code(b.db, amina.id, "1234", "10.0.0.1").who is not None
    assert kit(b, "users", "set-code", "2222", "Amina", "--pin", "2468").exit_code == 0
    assert try_code(b.db, amina.id, "2468", "10.0.0.2").who is not None
    relay(b, hub, out)   # the hub takes the new school's change: its bundle is not refused
    assert records.get(hub.db, "learner", amina.id)["pin_hash"] == records.get(b.db, "learner", amina.id)["pin_hash"]


def test_the_old_school_cannot_change_the_moved_learner_and_says_where_they_went(world, moved):
    hub, a, b, out = world
    amina = moved["amina"]
    where = district.school(a.db, b.device_id).name
    assert where in ("School B", b.device_id)   # B's name, if A heard it through the hub
    before = dump(a)
    one_line_error(kit(a, "users", "set-code", "1111", "Amina", "--pin", "0000"), f"moved to {where}")
    one_line_error(kit(a, "users", "rename", amina.id, "Amina Z"), f"moved to {where}")
    for change in (lambda: roster.set_secret(a.db, amina.id, pin="0000"),
                   lambda: roster.remove_learner(a.db, amina.id),
                   lambda: roster.rename_learner(a.db, amina.id, "Amina Z")):
        with pytest.raises(RosterError, match=f"moved to {where}"):
            change()
    assert dump(a) == before


def test_the_old_school_lists_the_learner_as_moved_and_not_in_the_class(world, moved):
    hub, a, b, out = world
    where = district.school(a.db, b.device_id).name
    listing = kit(a, "users", "list").output
    assert "class 'CP1' code 1111 login pin" in listing and ": 1 learner(s)" in listing
    assert f"  Amina (moved to {where}; read-only here)" in listing
    assert [m.name for m in district.moved_from_class(a.db, moved["cp1"].id)] == ["Amina"]


def test_the_old_school_names_the_new_one_once_it_knows_it(world, moved):
    hub, a, b, out = world
    assert district.school(a.db, "0123456789abcdef").name == "0123456789abcdef"   # never heard of
    remember_peer(a.db, b.device_id, "École B", "school")
    move = district.moved_away(a.db, moved["amina"].id)
    assert move.school.name == "École B" and move.from_class == moved["cp1"].id and move.at_ms > 0
    assert district.moved_away(b.db, moved["amina"].id) is None      # at the new school she is simply there
    assert district.moved_away(hub.db, moved["amina"].id) is None    # and the hub may change her


def test_the_moved_learner_can_no_longer_sign_in_at_the_old_school(world, moved, try_code):
    hub, a, b, out = world
    amina, cp1 = moved["amina"], moved["cp1"]
    assert [l.name for l in roster.signin_learners(a.db, cp1.id)] == ["Karim"]
    assert try_code(a.db, amina.id, "1234", "10.0.0.1").who is None
    with web(a) as app:
        names = text(app.test_client().get(f"/signin/c/{cp1.id}"))
        assert "Karim" in names and "Amina" not in names
        if roster.get_class(a.db, moved["ce1"].id):   # the hub sent A the new class too
            assert "Amina" not in text(app.test_client().get(f"/signin/c/{moved['ce1'].id}"))


def test_a_learner_whose_school_changed_but_not_their_class_id_leaves_the_old_class(world, district_world,
                                                                                    try_code):
    """The move's class id can lose to a later one (two servers edited while apart): the school
    the record names still decides, at the old school as at the hub."""
    hub, a, b, out = world
    karim, cp1 = district_world["karim"], district_world["cp1"]
    records.set_fields(hub.db, "learner", karim.id, {"school": b.device_id})
    relay(hub, a, out)
    assert roster.get_learner(a.db, karim.id).class_id == cp1.id
    assert [l.name for l in roster.class_learners(a.db, cp1.id)] == ["Amina"]
    assert try_code(a.db, karim.id, "5678", "10.0.0.1").who is None
    assert [m.name for m in district.moved_from_class(a.db, cp1.id)] == ["Karim"]
    assert [l.name for l in roster.class_learners(hub.db, cp1.id)] == ["Amina"]


def test_a_move_ends_the_learners_sessions_at_the_old_school(world, district_world):
    hub, a, b, out = world
    amina = district_world["amina"]
    stamp = roster.get_learner(a.db, amina.id).stamp
    roster.move_learner(hub.db, amina.id, district_world["ce1"].id)
    relay(hub, a, out)
    assert roster.get_learner(a.db, amina.id).stamp != stamp


def test_the_old_schools_staff_read_the_moved_learner_but_cannot_change_them(world, moved):
    hub, a, b, out = world
    amina, cp1 = moved["amina"], moved["cp1"]
    with web(a) as app:
        admin = staff_client(app, a.db, "head", "admin")
        page = admin.get(f"/staff/learner/{amina.id}")
        assert page.status_code == 200
        assert "Moved to" in text(page) and "read-only here" in text(page) and 'name="class_id"' not in text(page)
        assert "CP1" in text(page)   # under the class she left
        assert "Amina" in text(admin.get(f"/staff/class/{cp1.id}"))   # in "Moved to another school"
        manage = text(admin.get(f"/staff/class/{cp1.id}/manage"))
        assert "Moved to another school" in manage and f"/staff/learner/{amina.id}/code" not in manage
        before = dump(a)
        refused = admin.get(f"/staff/learner/{amina.id}/code")
        assert refused.status_code == 403 and "was moved to" in text(refused)
        form = admin.get(f"/staff/class/{cp1.id}/manage")
        posted = admin.post(f"/staff/learner/{amina.id}/remove", data={"csrf": csrf_of(form.text)})
        assert posted.status_code == 403
        assert dump(a) == before


# --- the hub's page -------------------------------------------------------------------------------

def test_the_hubs_admin_moves_a_learner_from_their_page(world, district_world):
    hub, a, b, out = world
    amina, ce1 = district_world["amina"], district_world["ce1"]
    with web(hub) as app:
        admin = staff_client(app, hub.db, "coordinator", "admin")
        page = admin.get(f"/staff/learner/{amina.id}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert '<optgroup label="School B">' in html and f'<option value="{ce1.id}">' in html
        assert "School A" in html   # her class's school, beside it
        moved = admin.post(f"/staff/learner/{amina.id}/move", data={"csrf": csrf_of(html), "class_id": ce1.id})
        assert moved.status_code == 303
        assert "was moved" in text(admin.get(moved.headers["Location"]))
    assert records.get(hub.db, "learner", amina.id)["school"] == b.device_id


def test_only_the_hubs_admin_may_move_and_only_with_the_forms_token(world, district_world):
    hub, a, b, out = world
    amina, ce1 = district_world["amina"], district_world["ce1"]
    before = truth(hub)
    with web(hub) as app:
        coach = staff_client(app, hub.db, "teacher", "coach")
        token = csrf_of(coach.get("/staff/").get_data(as_text=True))
        refused = coach.post(f"/staff/learner/{amina.id}/move", data={"csrf": token, "class_id": ce1.id})
        assert refused.status_code == 403
        admin = staff_client(app, hub.db, "coordinator", "admin")
        assert admin.post(f"/staff/learner/{amina.id}/move", data={"class_id": ce1.id}).status_code == 403
        token = csrf_of(admin.get("/staff/").get_data(as_text=True))
        same = admin.post(f"/staff/learner/{amina.id}/move", data={"csrf": token, "class_id": district_world["cp1"].id})
        assert same.status_code == 400 and "in this class already" in text(same)
    assert truth(hub) == before


def test_a_school_has_no_move_form_and_its_move_address_is_not_found(world, district_world):
    hub, a, b, out = world
    amina = district_world["amina"]
    with web(a) as app:
        admin = staff_client(app, a.db, "head", "admin")
        page = admin.get(f"/staff/learner/{amina.id}").get_data(as_text=True)
        assert 'name="class_id"' not in page
        posted = admin.post(f"/staff/learner/{amina.id}/move", data={"csrf": csrf_of(page), "class_id": "x"})
        assert posted.status_code == 404


def test_the_hubs_pages_escape_school_and_class_names(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    evil = server(tmp_path, "<b>Evil</b> school")
    try:
        enrol(hub, evil)
        klass = roster.create_class(evil.db, "<i>x</i>", code="4040")
        roster.add_learner(evil.db, klass.id, "<script>alert(1)</script>", pin="1111")
        relay(evil, hub, tmp_path)
        other = roster.create_class(hub.db, "Hub class", code="5050")
        learner = roster.class_learners(hub.db, klass.id)[0]
        with web(hub) as app:
            admin = staff_client(app, hub.db, "coordinator", "admin")
            for url in ("/staff/", f"/staff/class/{klass.id}", f"/staff/learner/{learner.id}"):
                html = admin.get(url).get_data(as_text=True)
                assert "<b>Evil" not in html and "<i>x" not in html and "<script>alert" not in html
                assert "&lt;b&gt;Evil" in html
            html = admin.get(f"/staff/learner/{learner.id}").get_data(as_text=True)
            assert f'<option value="{other.id}">' in html
    finally:
        hub.close()
        evil.close()
