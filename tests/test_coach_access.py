"""Who may reach the teachers' pages: staff sign-in and its limits, separate sessions, roles."""

import re
import time

import pytest

from kit.core import accounts, roster, signin
from kit.server.coach.blueprint import STAFF_HOURS

from coach_support import PASSWORD, answer, staff_client, staff_sign_in
from server_support import csrf_of, make_learner, sign_in, text


def test_a_visitor_is_sent_to_sign_in_and_comes_back_where_they_were_going(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    klass = roster.create_class(inst.db, "CP1")
    wanted = f"/staff/class/{klass.id}"
    resp = client.get(wanted)
    assert resp.status_code == 303 and "/staff/signin?next=" in resp.location
    signed = staff_sign_in(client, "head", next=wanted)
    assert signed.status_code == 303 and signed.location.endswith(wanted)
    assert client.get(wanted).status_code == 200


def test_a_sign_in_never_redirects_to_another_site(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    resp = staff_sign_in(client, "head", next="//evil.example/")
    assert resp.status_code == 303 and resp.location.endswith("/")
    assert "evil" not in resp.location


def test_a_wrong_password_says_so_and_signs_nobody_in(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    resp = staff_sign_in(client, "head", "wrong password", lang="fr")
    assert resp.status_code == 200 and "Cet identifiant ou ce mot de passe n'est pas le bon" in text(resp)
    assert 'value="head"' in resp.text                       # the username stays typed
    assert client.get("/staff/").status_code == 303


def test_signing_out_ends_the_staff_session(admin):
    page = admin.get("/staff/")
    assert page.status_code == 200
    resp = admin.post("/staff/signout", data={"csrf": csrf_of(page.text)})
    assert resp.status_code == 303 and resp.location.endswith("/staff/signin")
    assert admin.get("/staff/").status_code == 303


def test_too_many_wrong_passwords_make_that_browser_wait_but_not_the_admins_own(app, client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    own = app.test_client()
    assert staff_sign_in(own, "head", address="10.0.0.9").status_code == 303     # the admin's laptop
    for _ in range(signin.STAFF.per_place):
        assert staff_sign_in(client, "head", "nope nope").status_code == 200
    locked = staff_sign_in(client, "head", PASSWORD, lang="en")
    assert locked.status_code == 429 and "Too many wrong tries" in locked.text
    assert client.get("/staff/").status_code == 303
    # Another device is not held up by someone else's guesses: a limit, never a lockout.
    assert staff_sign_in(app.test_client(), "head", PASSWORD, address="10.0.0.8").status_code == 303
    own.post("/staff/signout", data={"csrf": csrf_of(own.get("/staff/").text)})
    assert staff_sign_in(own, "head", address="10.0.0.9").status_code == 303


def test_wrong_passwords_from_one_address_are_limited_across_usernames(app, client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    tries = 0
    for name in ["a1", "a2", "a3"]:
        for _ in range(signin.STAFF.per_place - 3):
            staff_sign_in(client, name, "guess guess", address="10.0.0.5")
            tries += 1
    assert tries > signin.STAFF.per_address
    assert staff_sign_in(client, "head", PASSWORD, address="10.0.0.5").status_code == 429
    assert staff_sign_in(app.test_client(), "head", PASSWORD, address="10.0.0.6").status_code == 303


def test_a_right_password_clears_that_places_count(inst, try_password):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    now = time.time()
    for _ in range(signin.STAFF.per_place - 1):
        try_password(inst.db, "head", "x", "a", now=now)
    assert try_password(inst.db, "head", PASSWORD, "a", now=now).who
    for _ in range(signin.STAFF.per_place - 1):
        try_password(inst.db, "head", "x", "a", now=now)
    assert try_password(inst.db, "head", PASSWORD, "a", now=now).who


def test_a_staff_session_ends_after_some_hours(admin):
    with admin.session_transaction() as session:
        session["staff_at"] = time.time() - STAFF_HOURS * 3600 - 1
    assert admin.get("/staff/").status_code == 303


def test_a_deleted_account_is_signed_out(admin, inst):
    inst.db.execute("DELETE FROM users WHERE username = 'head'")
    assert admin.get("/staff/").status_code == 303


def test_the_staff_cookie_ends_with_the_browser(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    resp = staff_sign_in(client, "head")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("kit="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie


# --- learners and staff on one browser never mix ---------------------------------------------

@pytest.mark.parametrize("lang, words", [("fr", "Ces pages sont réservées aux enseignants"),
                                         ("ar", "هذه الصفحات مخصصة للمعلمين"),
                                         ("en", "These pages are for teachers")])
def test_a_learner_gets_a_403_in_their_language_on_every_staff_page(client, inst, lang, words):
    klass, learner = make_learner(inst.db)
    assert sign_in(client, klass, learner).status_code == 303
    for url in ["/staff/", "/staff/signin", f"/staff/class/{klass.id}", f"/staff/learner/{learner.id}",
                f"/staff/class/{klass.id}/progress.csv", "/staff/accounts", f"/staff/class/{klass.id}/manage"]:
        resp = client.get(url, headers={"Accept-Language": lang})
        assert resp.status_code == 403 and words in resp.text, url
    assert client.get("/", headers={"Accept-Language": lang}).status_code == 200   # still a learner


def test_a_learner_cannot_sign_in_as_staff_on_top_of_their_session(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    klass, learner = make_learner(inst.db)
    page = client.get("/staff/signin")                       # before the learner signs in
    sign_in(client, klass, learner)
    resp = client.post("/staff/signin", data={"csrf": csrf_of(page.text), "username": "head",
                                              "password": PASSWORD})
    assert resp.status_code == 403
    with client.session_transaction() as session:
        assert "staff" not in session


def test_a_learner_signing_in_on_a_teachers_phone_ends_the_teachers_session(admin, inst):
    klass, learner = make_learner(inst.db)
    assert sign_in(admin, klass, learner).status_code == 303
    with admin.session_transaction() as session:
        assert "staff" not in session and session["learner"] == learner.id
    assert admin.get("/staff/").status_code == 403


def test_a_teacher_signing_in_ends_the_learners_session(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    klass, learner = make_learner(inst.db)
    sign_in(client, klass, learner)
    page = client.get("/")
    client.post("/signout", data={"csrf": csrf_of(page.text)})     # "Not you?"
    assert staff_sign_in(client, "head").status_code == 303
    with client.session_transaction() as session:
        assert "learner" not in session and session["staff"] == "head"
    assert client.get("/").status_code == 303                    # no learner on this browser now


def test_a_removed_learners_stale_session_does_not_block_a_teacher(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    klass, learner = make_learner(inst.db)
    sign_in(client, klass, learner)
    roster.remove_learner(inst.db, learner.id)
    assert staff_sign_in(client, "head").status_code == 303


def test_staff_pages_are_never_kept_in_the_browsers_cache(admin, inst):
    klass = roster.create_class(inst.db, "CP1")
    for url in ["/staff/", f"/staff/class/{klass.id}", f"/staff/class/{klass.id}/progress.csv"]:
        assert admin.get(url).headers["Cache-Control"] == "no-store", url


def test_the_teachers_link_is_in_the_footer_for_visitors_only(client, inst):
    klass, learner = make_learner(inst.db)
    assert 'href="/staff/"' in client.get("/signin").text
    sign_in(client, klass, learner)
    assert "/staff/" not in client.get("/").text                  # not on a learner's pages


# --- roles ------------------------------------------------------------------------------------

def test_a_coach_sees_only_the_classes_assigned_to_them(coach, inst):
    mine = roster.create_class(inst.db, "Mine")
    theirs = roster.create_class(inst.db, "Theirs")
    accounts.assign_coach(inst.db, "teacher", mine.id)
    learner = roster.add_learner(inst.db, theirs.id, "Omar", pin="1234")
    home = coach.get("/staff/")
    assert "Mine" in home.text and "Theirs" not in home.text
    assert coach.get(f"/staff/class/{mine.id}").status_code == 200
    for url in [f"/staff/class/{theirs.id}", f"/staff/class/{theirs.id}/progress.csv",
                f"/staff/class/{theirs.id}/essays", f"/staff/learner/{learner.id}"]:
        assert coach.get(url).status_code == 403, url



def test_two_coaches_each_see_their_own_class_and_never_the_others(app, installed):
    db = installed.db
    coaches, classes, learners = {}, {}, {}
    for name, klass, learner in [("amal", "Class of Amal", "Amina"), ("bruno", "Class of Bruno", "Bilal")]:
        coaches[name] = staff_client(app, db, name, "coach")
        classes[name] = roster.create_class(db, klass)
        accounts.assign_coach(db, name, classes[name].id)
        learners[name] = roster.add_learner(db, classes[name].id, learner, pin="1234")
        answer(db, learners[name], "passwords", "essay", None, f"essay by {learner}")

    def pages(owner: str) -> list[str]:
        klass, learner = classes[owner].id, learners[owner].id
        return [f"/staff/class/{klass}", f"/staff/class/{klass}/essays", f"/staff/class/{klass}/progress.csv",
                f"/staff/learner/{learner}"]

    for me, other in [("amal", "bruno"), ("bruno", "amal")]:
        browser = coaches[me]
        home = browser.get("/staff/", headers={"Accept-Language": "en"}).text
        assert classes[me].name in home and classes[other].name not in home
        for url in pages(me):                     # their own class: every page (the control)
            assert browser.get(url).status_code == 200, (me, url)
        assert f"essay by {learners[me].name}" in browser.get(pages(me)[1]).text
        for url in pages(other):
            resp = browser.get(url)
            assert resp.status_code in (403, 404), (me, url)
            assert f"essay by {learners[other].name}" not in resp.text


def test_a_coach_cannot_use_the_admin_pages(coach, inst):
    klass = roster.create_class(inst.db, "Mine")
    accounts.assign_coach(inst.db, "teacher", klass.id)
    learner = roster.add_learner(inst.db, klass.id, "Omar", pin="1234")
    for url in ["/staff/classes/new", "/staff/accounts", f"/staff/class/{klass.id}/manage",
                f"/staff/learner/{learner.id}/code", f"/staff/learner/{learner.id}/remove"]:
        assert coach.get(url).status_code == 403, url
    csrf = csrf_of(coach.get("/staff/").text)
    gone = coach.post(f"/staff/learner/{learner.id}/remove", data={"csrf": csrf})
    made = coach.post("/staff/accounts", data={"csrf": csrf, "username": "x2", "password": "p" * 10,
                                               "password2": "p" * 10})
    assert gone.status_code == made.status_code == 403
    assert roster.get_learner(inst.db, learner.id) and accounts.get_account(inst.db, "x2") is None
    assert "/staff/classes/new" not in coach.get("/staff/").text


def test_an_admin_sees_every_class(admin, inst):
    for name in ["A", "B"]:
        roster.create_class(inst.db, f"Class {name}")
    home = admin.get("/staff/")
    assert "Class A" in home.text and "Class B" in home.text


def test_an_unknown_class_or_learner_is_404(admin):
    assert admin.get("/staff/class/nope").status_code == 404
    assert admin.get("/staff/learner/nope").status_code == 404


# --- forms ------------------------------------------------------------------------------------

def test_a_staff_post_without_the_csrf_token_is_refused(admin, inst):
    resp = admin.post("/staff/classes/new", data={"name": "Forged", "login": "pin"},
                      headers={"Accept-Language": "en"})
    assert resp.status_code == 403 and "expired" in resp.text
    forged = admin.post("/staff/classes/new", data={"csrf": "0" * 32, "name": "Forged", "login": "pin"})
    assert forged.status_code == 403 and roster.list_classes(inst.db) == []


def test_every_post_form_on_the_staff_pages_carries_the_csrf_token(admin, inst):
    klass = roster.create_class(inst.db, "CP1", login="picture")
    learner = roster.add_learner(inst.db, klass.id, "Ali", pictures=["cat", "sun", "tree"])
    accounts.add_account(inst.db, "teacher", "coach", PASSWORD)
    accounts.assign_coach(inst.db, "teacher", klass.id)
    accounts.add_account(inst.db, "other", "coach", PASSWORD)
    urls = ["/staff/", "/staff/classes/new", "/staff/accounts", f"/staff/class/{klass.id}",
            f"/staff/class/{klass.id}/manage", f"/staff/learner/{learner.id}",
            f"/staff/learner/{learner.id}/code", f"/staff/learner/{learner.id}/remove"]
    seen = 0
    for url in urls:
        page = admin.get(url).text
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S)
        assert all('name="csrf"' in f for f in forms), url
        seen += len(forms)
    assert seen >= 12


# --- the staff limits at their exact boundaries --------------------------------------------------
# Written out, not read from kit.core.signin: changing one must show here (its docstring's numbers).

T0 = 1_000_000.0


@pytest.mark.parametrize("browser", [None, "laptop"], ids=["address", "browser"])
def test_a_place_gets_exactly_ten_wrong_passwords_per_15_minutes(inst, try_password, browser):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    for _ in range(10):
        assert try_password(inst.db, "head", "x", "10.0.0.1", browser=browser, now=T0).retry_after == 0
    assert try_password(inst.db, "head", PASSWORD, "10.0.0.1", browser=browser, now=T0).retry_after == 15 * 60
    assert try_password(inst.db, "head", PASSWORD, "10.0.0.1", browser=browser, now=T0 + 15 * 60).who.username == "head"


def test_an_address_gets_exactly_twenty_wrong_passwords_per_15_minutes_across_usernames(inst, try_password):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    for name in ("a1", "a2", "a3", "a4"):          # 5 each: neither the place's nor the day's limit
        for _ in range(5):
            assert try_password(inst.db, name, "guess guess", "10.0.0.5", now=T0).retry_after == 0
    assert try_password(inst.db, "head", PASSWORD, "10.0.0.5", now=T0).retry_after == 15 * 60
    assert try_password(inst.db, "head", PASSWORD, "10.0.0.5", now=T0 + 15 * 60).who.username == "head"


def test_an_account_gets_twenty_free_wrong_passwords_a_day_then_waits_of_15_s_doubling_up_to_30_minutes(
        inst, try_password):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    address = iter(range(1000))                     # a new address each try: only the day count bites
    for _ in range(20):
        assert try_password(inst.db, "head", "x", f"a{next(address)}", now=T0).retry_after == 0
    latest = T0
    for wait in (15, 30, 60, 120, 240, 480, 960, 1800, 1800):
        assert try_password(inst.db, "head", PASSWORD, f"a{next(address)}", now=latest).retry_after == wait
        assert try_password(inst.db, "head", PASSWORD, f"a{next(address)}", now=latest + wait - 1).retry_after == 1
        latest += wait
        assert try_password(inst.db, "head", "x", f"a{next(address)}", now=latest).retry_after == 0
    assert try_password(inst.db, "head", PASSWORD, "new-laptop", now=latest + 1800).who.username == "head"
