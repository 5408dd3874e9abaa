"""An admin's forms: classes, learners, codes, coach accounts and assignments. Each change is a
record.* event (so it syncs) made through kit.core.roster or kit.core.accounts."""

import pytest
from click.testing import CliRunner

from kit.core import accounts, roster
from kit.cli import main
from kit.core.eventlog import learner_events

from coach_support import PASSWORD, grid, post_form, staff_sign_in
from server_support import make_learner, sign_in, text


def record_events(db, kind):
    return [(k, body) for k, body in db.execute(
        "SELECT kind, json_extract(body, '$.kind') FROM events WHERE kind LIKE 'record.%' ORDER BY seq")
        if body == kind]


def test_creating_a_class_makes_a_record_event(admin, inst):
    resp = post_form(admin, "/staff/classes/new", {"name": "CP1 <A>", "code": "4321", "login": "picture",
                                                   "self_register": "on"})
    assert resp.status_code == 303
    klass = roster.class_by_code(inst.db, "4321")
    assert (klass.name, klass.login, klass.self_register) == ("CP1 <A>", "picture", True)
    assert resp.location.endswith(f"/staff/class/{klass.id}/manage")
    assert record_events(inst.db, "class") == [("record.set", "class")]
    assert "<bdi>CP1 &lt;A&gt;</bdi>" in admin.get(resp.location).text


def test_a_class_without_a_code_gets_a_free_one(admin, inst):
    assert post_form(admin, "/staff/classes/new", {"name": "CE1", "login": "pin"}).status_code == 303
    (klass,) = roster.list_classes(inst.db)
    assert len(klass.code) == 4 and klass.code.isdigit() and not klass.self_register


@pytest.mark.parametrize("fields, words", [
    ({"name": "", "code": "", "login": "pin"}, "Écrivez un nom"),
    ({"name": "CE2", "code": "12a", "login": "pin"}, "Un code de classe a de 3 à 8 chiffres"),
    ({"name": "CE2", "code": "1234", "login": "pin"}, "Une autre classe a déjà ce code"),
    ({"name": "CE2", "code": "", "login": "voice"}, "Cela n'a pas marché"),
])
def test_a_wrong_class_form_says_what_to_fix_and_makes_nothing(admin, inst, fields, words):
    roster.create_class(inst.db, "Taken", code="1234")
    resp = post_form(admin, "/staff/classes/new", fields, lang="fr")
    assert resp.status_code == 400 and words in text(resp)
    assert [k.name for k in roster.list_classes(inst.db)] == ["Taken"]


def test_adding_a_learner_with_a_pin_lets_them_sign_in(app, admin, inst):
    klass = roster.create_class(inst.db, "CP1")
    manage = f"/staff/class/{klass.id}/manage"
    resp = post_form(admin, f"/staff/class/{klass.id}/learners", {"name": "  Amina   B. ", "pin": "٤٨٢١"},
                     page_url=manage)
    assert resp.status_code == 303
    (amina,) = roster.class_learners(inst.db, klass.id)
    assert amina.name == "Amina B."
    assert [e.kind for e in learner_events(inst.db, amina.id)] == ["record.set"]
    assert sign_in(app.test_client(), klass, amina, pin="4821").status_code == 303
    assert "Amina B." in admin.get(manage).text


def test_adding_a_learner_to_a_picture_class_takes_three_pictures(admin, inst, try_code):
    klass = roster.create_class(inst.db, "Petits", login="picture")
    page = admin.get(f"/staff/class/{klass.id}/manage").text
    assert 'name="p2"' in page and 'name="pin"' not in page
    resp = post_form(admin, f"/staff/class/{klass.id}/learners",
                     {"name": "Ali", "p0": "cat", "p1": "sun", "p2": "tree"}, page_url=f"/staff/class/{klass.id}/manage")
    assert resp.status_code == 303
    (ali,) = roster.class_learners(inst.db, klass.id)
    assert try_code(inst.db, ali.id, "cat.sun.tree", "x").who == ali


@pytest.mark.parametrize("fields, words", [({"name": "Omar", "pin": "12"}, "exactly 4 digits"),
                                           ({"name": "omar", "pin": "1234"}, "already in the class"),
                                           ({"name": " ", "pin": "1234"}, "Write a name")])
def test_a_wrong_learner_form_says_what_to_fix(admin, inst, fields, words):
    klass = roster.create_class(inst.db, "CP1")
    roster.add_learner(inst.db, klass.id, "Omar", pin="1111")
    resp = post_form(admin, f"/staff/class/{klass.id}/learners", fields, page_url=f"/staff/class/{klass.id}/manage")
    assert resp.status_code == 400 and words in resp.text
    assert len(roster.class_learners(inst.db, klass.id)) == 1


def test_resetting_a_pin_replaces_the_old_one(admin, inst, try_code):
    klass, omar = make_learner(inst.db, name="Omar", pin="1111")
    url = f"/staff/learner/{omar.id}/code"
    assert post_form(admin, url, {"pin": "12"}).status_code == 400
    assert post_form(admin, url, {"pin": "2222"}).status_code == 303
    assert try_code(inst.db, omar.id, "1111", "x").who is None
    assert try_code(inst.db, omar.id, "2222", "y").who == omar


def test_removing_a_learner_asks_first_then_leaves_a_tombstone(app, admin, inst):
    klass, amina = make_learner(inst.db)
    phone = app.test_client()
    sign_in(phone, klass, amina)
    url = f"/staff/learner/{amina.id}/remove"
    confirm = admin.get(url, headers={"Accept-Language": "en"})
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.text
    assert roster.get_learner(inst.db, amina.id)                  # asking removes nothing
    resp = post_form(admin, url, {})
    assert resp.status_code == 303
    assert roster.get_learner(inst.db, amina.id) is None
    assert learner_events(inst.db, amina.id)[-1].kind == "record.delete"
    assert "Amina" not in admin.get(f"/staff/class/{klass.id}/manage").text
    assert phone.get("/").status_code == 303                      # signed out at their next tap
    assert admin.get(url).status_code == 404


def test_a_removed_learner_leaves_the_grid(admin, installed):
    klass, amina = make_learner(installed.db)
    roster.add_learner(installed.db, klass.id, "Omar", pin="1234")
    post_form(admin, f"/staff/learner/{amina.id}/remove", {})
    assert list(grid(admin.get(f"/staff/class/{klass.id}").text)) == ["Omar"]


def test_creating_a_coach_account_lets_them_sign_in(app, admin, inst):
    resp = post_form(admin, "/staff/accounts", {"username": "fatima", "password": "long enough",
                                                "password2": "long enough"})
    assert resp.status_code == 303
    assert accounts.get_account(inst.db, "fatima").role == "coach"
    assert staff_sign_in(app.test_client(), "fatima", "long enough").status_code == 303
    assert "fatima" in admin.get("/staff/accounts").text


@pytest.mark.parametrize("fields, words", [
    ({"username": "x", "password": "long enough", "password2": "long enough"}, "2 to 40 letters"),
    ({"username": "head", "password": "long enough", "password2": "long enough"}, "taken"),
    ({"username": "fatima", "password": "short", "password2": "short"}, "at least 8 characters"),
    ({"username": "fatima", "password": "long enough", "password2": "long enuf"}, "not the same"),
])
def test_a_wrong_account_form_says_what_to_fix(admin, inst, fields, words):
    resp = post_form(admin, "/staff/accounts", fields)
    assert resp.status_code == 400 and words in resp.text
    assert [a.username for a in accounts.list_accounts(inst.db)] == ["head"]


def test_assigning_a_coach_lets_them_see_the_class_and_stays_on_this_server(coach, admin, inst):
    klass = roster.create_class(inst.db, "CP1")
    manage = f"/staff/class/{klass.id}/manage"
    events_before = inst.db["events"].count
    assert coach.get(f"/staff/class/{klass.id}").status_code == 403
    assert post_form(admin, f"/staff/class/{klass.id}/coaches", {"username": "teacher"}, page_url=manage).status_code == 303
    assert accounts.coaches_of(inst.db, klass.id) == ["teacher"]
    assert inst.db["events"].count == events_before      # nothing to sync: usernames are local
    assert coach.get(f"/staff/class/{klass.id}").status_code == 200
    assert post_form(admin, f"/staff/class/{klass.id}/coaches/remove", {"username": "teacher"},
                     page_url=manage).status_code == 303
    assert coach.get(f"/staff/class/{klass.id}").status_code == 403


def test_only_coach_accounts_can_be_assigned(admin, inst):
    klass = roster.create_class(inst.db, "CP1")
    resp = post_form(admin, f"/staff/class/{klass.id}/coaches", {"username": "head"},
                     page_url=f"/staff/class/{klass.id}/manage")
    assert resp.status_code == 400 and accounts.coaches_of(inst.db, klass.id) == []


def test_kit_users_assign_coach(data, inst):
    accounts.add_account(inst.db, "teacher", "coach", PASSWORD)
    roster.create_class(inst.db, "CP1", code="1234")

    def run(*args):
        return CliRunner().invoke(main, ["users", *args, "--data", str(data.root)])

    done = run("assign-coach", "1234", "teacher")
    assert done.exit_code == 0 and "now follows class 'CP1'" in done.output
    assert accounts.coaches_of(inst.db, roster.class_by_code(inst.db, "1234").id) == ["teacher"]
    assert "coaches: teacher" in run("list").output
    refused = run("assign-coach", "1234", "nobody")
    assert refused.exit_code == 1 and "no coach account 'nobody'" in refused.output
    assert run("assign-coach", "1234", "teacher", "--remove").exit_code == 0
    assert accounts.coaches_of(inst.db, roster.class_by_code(inst.db, "1234").id) == []
