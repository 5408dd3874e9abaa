"""Holes once found in the web side, each kept as a rule that would fail again if the hole
came back: redirects, wrong-code limits, self-registration, sessions, coaches."""

from __future__ import annotations

import http.client
import threading
import urllib.parse

import pytest

from kit.core import accounts, records, roster, signin
from kit.core.config import DataDir
from kit.core.db import MIGRATIONS, connect, run_migrations, schema_version, set_meta, split_sql, transaction
from kit.core.errors import RosterError
from kit.core.eventlog import events_after
from kit.core.events import Event
from kit.core.instance import init_instance
from kit.server.site import local_path

from coach_support import PASSWORD, staff_sign_in
from netlink import waitress_on_loopback
from server_support import csrf_of, sign_in

# --- redirects stay on this server (M1) ---------------------------------------------------------

# What browsers turn into another site: they drop tabs and newlines, read "\" as "/", and
# some treat other blanks loosely. Each must leave as "/".
ELSEWHERE = ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
             "/\\evil.example", "/ /evil.example", "/\x0b/evil.example", "/\u3000/evil.example",
             "/\u200b/evil.example", "\t//evil.example", "http://evil.example/", "https:evil.example",
             "javascript:alert(1)", "evil.example", ""]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_a_redirect_target_that_could_leave_the_server_becomes_home(target):
    assert local_path(target) == "/"


@pytest.mark.parametrize("target", ["/signin", "/c/mini/phone?lang=ar", "/staff/class/abc",
                                    "/.//evil.example", "/%2F%2Fevil.example", "/c/درس"])
def test_a_path_on_this_server_is_kept_as_it_is(target):
    # "/.//x" and "/%2F%2Fx" are paths of this server for every browser, never a host.
    assert local_path(target) == target


@pytest.mark.parametrize("target", ["/\t/evil.example", "/%09/evil.example", "/\r\n/evil.example"])
def test_the_language_switcher_never_sends_a_phone_elsewhere(client, target):
    resp = client.get(f"/lang/en?next={target}" if "%" in target else "/lang/en",
                      query_string=None if "%" in target else {"next": target})
    assert resp.status_code == 303
    assert resp.headers["Location"] in ("/", "http://localhost/")


def test_staff_sign_in_never_sends_a_teacher_elsewhere(client, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    resp = staff_sign_in(client, "head", next="/\t/evil.example/phish")
    assert resp.status_code == 303 and resp.headers["Location"] in ("/", "http://localhost/")
    # Already signed in, the page redirects at once: the same rule holds.
    again = client.get("/staff/signin", query_string={"next": "/\t/evil.example/x"})
    assert again.status_code == 303 and again.headers["Location"] in ("/", "http://localhost/")


# --- pages where a code is typed are never cached (low) -----------------------------------------

def test_pages_where_a_code_is_typed_are_never_kept(client, inst):
    klass = roster.create_class(inst.db, "CP1", self_register=True)
    learner = roster.add_learner(inst.db, klass.id, "Amina", pin="1234")
    url = f"/signin/c/{klass.id}/{learner.id}"
    page = client.get(url)
    # Two taps on the keypad: the page now holds "12" in a hidden field.
    typed = client.post(url, data={"csrf": csrf_of(page.text), "key": "2", "so_far": "1"})
    assert 'value="12"' in typed.text
    for resp in (page, typed, client.get(f"/signin/c/{klass.id}/join"), client.get("/staff/signin")):
        assert resp.headers["Cache-Control"] == "no-store"


# --- a new code ends every session made with the old one (M6) -----------------------------------

def test_a_pin_reset_signs_out_every_phone_that_used_the_old_pin(app, client, inst):
    klass = roster.create_class(inst.db, "CP1")
    amina = roster.add_learner(inst.db, klass.id, "Amina", pin="1234")
    assert sign_in(client, klass, amina, "1234").status_code == 303      # a classmate who saw the PIN
    copied = client.get_cookie("kit").value
    assert "Amina" in client.get("/").text

    roster.set_secret(inst.db, amina.id, pin="9876")                    # the teacher's reset
    assert client.get("/").status_code == 303
    replayed = app.test_client()
    replayed.set_cookie("kit", copied)
    assert replayed.get("/").status_code == 303

    owner = app.test_client()
    assert sign_in(owner, klass, amina, "9876").status_code == 303
    assert owner.get("/").status_code == 200


def test_a_removed_learners_copied_cookie_opens_nothing(app, client, inst):
    klass = roster.create_class(inst.db, "CP1")
    amina = roster.add_learner(inst.db, klass.id, "Amina", pin="1234")
    sign_in(client, klass, amina, "1234")
    roster.remove_learner(inst.db, amina.id)
    assert client.get("/").status_code == 303


def test_a_new_password_signs_out_every_browser_of_the_account(app, inst):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    browser = app.test_client()
    assert staff_sign_in(browser, "head").status_code == 303
    assert browser.get("/staff/").status_code == 200
    accounts.set_password(inst.db, "head", "a brand new one")
    assert browser.get("/staff/").status_code == 303                     # back to the sign-in page
    assert staff_sign_in(browser, "head", "a brand new one").status_code == 303
    assert browser.get("/staff/").status_code == 200


# --- wrong codes: counted before checked, a delay and never a lockout (M2) ------------------------

@pytest.fixture
def served(app):
    """The app under waitress on a loopback port, as `kit serve` runs it (8 threads)."""
    with waitress_on_loopback(app, threads=8) as port:
        yield port


def test_forty_wrong_pins_posted_at_once_get_no_more_checks_than_the_limit(served, inst):
    klass = roster.create_class(inst.db, "CP1")
    bilal = roster.add_learner(inst.db, klass.id, "Bilal", pin="4321")
    url = f"/signin/c/{klass.id}/{bilal.id}"
    first = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    first.request("GET", url)
    page = first.getresponse()
    cookie, body = page.getheader("Set-Cookie").split(";")[0], page.read().decode()
    form = {"csrf": csrf_of(body), "key": "ok"}
    start, statuses = threading.Barrier(40), []

    def guess(pin: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", served, timeout=60)
        conn.connect()
        start.wait()
        conn.request("POST", url, body=urllib.parse.urlencode({**form, "pin": pin}),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        statuses.append(conn.getresponse().status)

    threads = [threading.Thread(target=guess, args=(f"{9000 + i:04d}",)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 200 is "checked, wrong"; 429 is "wait": only as many checks as one phone gets in turn.
    assert sorted(statuses) == [200] * signin.LEARNERS.per_place + [429] * (40 - signin.LEARNERS.per_place)


def test_a_guesser_cannot_lock_the_learner_out(app, inst):
    klass = roster.create_class(inst.db, "CP1")
    bilal = roster.add_learner(inst.db, klass.id, "Bilal", pin="4321")
    own_phone = app.test_client()
    assert sign_in(own_phone, klass, bilal, "4321", address="10.0.0.2").status_code == 303
    own_phone.post("/signout", data={"csrf": csrf_of(own_phone.get("/").text)})

    guesser = app.test_client()
    for address in ("10.0.0.66", "10.0.0.67", "10.0.0.68"):   # moving between addresses
        for pin in range(signin.LEARNERS.per_place):
            sign_in(guesser, klass, bilal, f"{pin:04d}", address=address)
    assert sign_in(guesser, klass, bilal, "4321", address="10.0.0.68").status_code == 429
    # Bilal's own phone signs in at once, even from a new address (the hotspot gave it one).
    assert sign_in(own_phone, klass, bilal, "4321", address="10.0.0.99").status_code == 303


def test_a_guesser_changing_addresses_gets_few_tries_a_day_and_the_learner_only_waits(inst, try_code):
    klass = roster.create_class(inst.db, "CP1")
    bilal = roster.add_learner(inst.db, klass.id, "Bilal", pin="4321")
    now, checked, address = 1_000_000.0, [], 0
    for day in (1, 2):                            # a fresh address for every try, for two days
        checked.append(0)
        while now < 1_000_000.0 + day * 24 * 3600:
            address += 1
            result = try_code(inst.db, bilal.id, f"{5000 + address:04d}", f"a{address}", now=now)
            assert result.retry_after <= signin.MAX_DELAY_S
            now += result.retry_after
            checked[-1] += not result.retry_after
    # 63 the first day (10 free, 7 while the wait doubles from 15 s to 16 min, then one each 30
    # minutes), then 48 a day: half of a PIN's 10,000 values take 100 days.
    assert checked == [63, 48]
    # Meanwhile the learner on a new phone, just after a guess, waits at most the longest
    # delay, then is let in; on a phone they used before, not at all.
    assert try_code(inst.db, bilal.id, "0000", "a0", now=now).retry_after == 0
    fresh = try_code(inst.db, bilal.id, "4321", "new-phone", now=now)
    assert fresh.who is None and fresh.retry_after == signin.MAX_DELAY_S
    assert try_code(inst.db, bilal.id, "4321", "new-phone", now=now + fresh.retry_after).who == bilal
    assert try_code(inst.db, bilal.id, "4321", "x", browser="own-phone", now=now).who == bilal


def test_a_new_pin_starts_the_count_afresh(inst, try_code):
    klass = roster.create_class(inst.db, "CP1")
    bilal = roster.add_learner(inst.db, klass.id, "Bilal", pin="4321")
    now = 1_000_000.0
    for address in range(signin.LEARNERS.free_per_day):
        try_code(inst.db, bilal.id, "0000", f"a{address}", now=now)
    assert try_code(inst.db, bilal.id, "4321", "b", now=now).retry_after == signin.DELAY_S
    roster.set_secret(inst.db, bilal.id, pin="2468")
    assert try_code(inst.db, bilal.id, "2468", "b", now=now).who == bilal


def test_a_guesser_cannot_lock_an_admin_out(app, inst, try_password):
    accounts.add_account(inst.db, "head", "admin", PASSWORD)
    laptop = app.test_client()
    assert staff_sign_in(laptop, "head", address="10.9.9.9").status_code == 303
    laptop.post("/staff/signout", data={"csrf": csrf_of(laptop.get("/staff/").text)})
    for address in range(3):                      # 30 wrong passwords from three addresses
        for _ in range(signin.STAFF.per_place):
            staff_sign_in(app.test_client(), "head", "wrong wrong", address=f"10.0.1.{address}")
    assert staff_sign_in(app.test_client(), "head", PASSWORD, address="10.0.1.0").status_code == 429
    # The admin's laptop signs in at once; a device never used before waits a little, no more.
    assert staff_sign_in(laptop, "head", address="10.9.9.9").status_code == 303
    new_device = try_password(inst.db, "head", PASSWORD, "10.7.7.7")
    assert 0 < new_device.retry_after <= signin.MAX_DELAY_S


def test_the_browser_cookie_cannot_be_forged_or_lent(app, inst):
    klass = roster.create_class(inst.db, "CP1")
    bilal = roster.add_learner(inst.db, klass.id, "Bilal", pin="4321")
    sara = roster.add_learner(inst.db, klass.id, "Sara", pin="1111")
    phone = app.test_client()
    assert sign_in(phone, klass, sara, "1111").status_code == 303
    # Sara's phone knows Sara only: guessing Bilal's PIN there is limited as anywhere else.
    for pin in range(signin.LEARNERS.per_place):
        sign_in(phone, klass, bilal, f"{pin:04d}")
    assert sign_in(phone, klass, bilal, "4321").status_code == 429
    forged = app.test_client()
    forged.set_cookie("kit_known", phone.get_cookie("kit_known", path="/signin").value + "x", path="/signin")
    for pin in range(signin.LEARNERS.per_place):
        sign_in(forged, klass, sara, f"{pin:04d}", address="10.0.0.50")
    assert sign_in(forged, klass, sara, "1111", address="10.0.0.50").status_code == 429


# --- a coach is someone on this server only (H4) -----------------------------------------------

def test_a_coach_of_the_same_name_at_another_school_sees_none_of_its_classes(tmp_path, app, inst):
    school_a, _ = init_instance(DataDir(tmp_path / "a"), "School A")
    a1 = roster.create_class(school_a.db, "A1")
    roster.add_learner(school_a.db, a1.id, "Nour", pin="1234")
    accounts.add_account(school_a.db, "prof", "coach", "A-secret-1")
    accounts.assign_coach(school_a.db, "prof", a1.id)
    # What an older kit wrote: the coach list inside the class record, which syncs.
    records.set_fields(school_a.db, "class", a1.id, {"coaches": ["prof"]})
    with transaction(inst.db):                      # sync brings A's roster here, to school B
        records.merge(inst.db, events_after(school_a.db, {}))
    school_a.close()
    assert [l.name for l in roster.class_learners(inst.db, a1.id)] == ["Nour"]

    accounts.add_account(inst.db, "prof", "coach", PASSWORD)     # B's own, different prof
    prof = app.test_client()
    assert staff_sign_in(prof, "prof").status_code == 303
    assert "A1" not in prof.get("/staff/").text
    for page in ("", "/essays", "/progress.csv"):
        assert prof.get(f"/staff/class/{a1.id}{page}").status_code == 403


def test_the_upgrade_keeps_what_this_server_assigned_and_drops_what_came_from_elsewhere(tmp_path):
    path = tmp_path / "kit.db"
    db = connect(path)
    for version, sql in enumerate(MIGRATIONS[:4], start=1):      # a server before coach_classes
        schema_version(db)
        for statement in split_sql(sql):
            db.execute(statement)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
    set_meta(db, "device_id", "here")
    for name in ("prof", "karim"):
        db["users"].insert({"username": name, "role": "coach", "password_hash": "x", "created_at": "now"})
    ours, theirs = roster.create_class(db, "Ours"), roster.create_class(db, "Theirs")
    records.set_fields(db, "class", ours.id, {"coaches": ["prof", "karim", "gone"]})
    records.set_fields(db, "class", ours.id, {"coaches": ["prof"]})      # the latest list counts
    with transaction(db):                          # another school's list, arrived by sync
        records.merge(db, [Event("there:1", "there", 1, "9999999999999-00000", "record.set", None,
                                  {"kind": "class", "id": theirs.id, "fields": {"coaches": ["prof"]}})])
    run_migrations(db)
    assert db.execute("SELECT username, class_id FROM coach_classes").fetchall() == [("prof", ours.id)]
    db.conn.close()


# --- self-registration: limited, and one name is one name (M5) ----------------------------------

def join(browser, klass, name: str, pin: str = "1234", address: str = "10.0.0.66", lang: str = "en"):
    opts = {"environ_base": {"REMOTE_ADDR": address}, "headers": {"Accept-Language": lang}}
    page = browser.get(f"/signin/c/{klass.id}/join", **opts)
    return browser.post(f"/signin/c/{klass.id}/join", **opts,
                        data={"csrf": csrf_of(page.text), "name": name, "pin": pin, "pin2": pin})


def test_one_phone_cannot_fill_a_class_with_names(app, inst):
    demo = roster.ensure_demo_class(inst.db)
    made = [join(app.test_client(), demo, f"x{n}").status_code for n in range(roster.JOINS_PER_ADDRESS + 3)]
    assert made == [303] * roster.JOINS_PER_ADDRESS + [429] * 3
    refused = join(app.test_client(), demo, "Sara", lang="fr")
    assert refused.status_code == 429 and "Trop de nouveaux noms" in refused.text
    assert len(roster.class_learners(inst.db, demo.id)) == roster.JOINS_PER_ADDRESS
    # The phone beside it, another child, is not held up.
    assert join(app.test_client(), demo, "Sara", address="10.0.0.67").status_code == 303


def test_phones_changing_addresses_cannot_fill_a_class_either(inst):
    demo = roster.ensure_demo_class(inst.db)
    now, made = 1_000_000.0, 0
    for n in range(roster.JOINS_PER_CLASS_HOUR + 5):
        try:
            roster.self_register(inst.db, demo.id, f"x{n}", pin="1234", address=f"a{n}", now=now)
            made += 1
        except roster.TooManyRegistrations as refused:
            assert refused.retry_after == 3600
    assert made == roster.JOINS_PER_CLASS_HOUR     # a classroom joining at once still fits


def test_a_refused_registration_does_not_count(inst):
    klass = roster.create_class(inst.db, "CP1", self_register=True)
    roster.add_learner(inst.db, klass.id, "Amina", pin="1234")
    for _ in range(roster.JOINS_PER_ADDRESS + 1):
        with pytest.raises(RosterError, match="already"):
            roster.self_register(inst.db, klass.id, "AMINA", pin="1234", address="a")
    assert roster.self_register(inst.db, klass.id, "Sara", pin="1234", address="a").name == "Sara"


@pytest.mark.parametrize("twin", ["Amina\u200b", "Am\u200dina", "\u2066Amina\u2069", "Аmina", "АМІNА", "Αmina",
                                  "Ａｍｉｎａ", "amína", " AMINA\t", "Am\u00adina"])
def test_a_name_that_reads_the_same_as_one_in_the_class_is_refused(client, inst, twin):
    klass = roster.create_class(inst.db, "CP1", self_register=True)
    roster.add_learner(inst.db, klass.id, "Amina", pin="1234")
    resp = join(client, klass, twin)
    assert resp.status_code == 400 and "already in the class" in resp.text
    assert [l.name for l in roster.class_learners(inst.db, klass.id)] == ["Amina"]


def test_invisible_and_direction_characters_never_reach_the_roster(client, inst):
    klass = roster.create_class(inst.db, "CP1", self_register=True)
    assert join(client, klass, "\u202eanimA\u200b").status_code == 303
    assert [l.name for l in roster.class_learners(inst.db, klass.id)] == ["animA"]
    assert join(client, klass, "\u200b\u202e", address="10.0.0.7").status_code == 400    # nothing visible
    assert len(roster.class_learners(inst.db, klass.id)) == 1


def test_an_admin_closes_a_class_to_new_names_and_removes_it(admin, inst, client):
    demo = roster.ensure_demo_class(inst.db)
    roster.self_register(inst.db, demo.id, "Visitor", pin="1234", address="a")
    manage = f"/staff/class/{demo.id}/manage"
    page = admin.get(manage, headers={"Accept-Language": "en"})
    assert "Close to new names" in page.text
    assert admin.post(f"/staff/class/{demo.id}/self-register",
                      data={"csrf": csrf_of(page.text), "allowed": "off"}).status_code == 303
    assert not roster.get_class(inst.db, demo.id).self_register
    assert client.get(f"/signin/c/{demo.id}/join").status_code == 403
    assert "Let learners add their own name" in admin.get(manage, headers={"Accept-Language": "en"}).text

    asked = admin.get(f"/staff/class/{demo.id}/remove")
    assert asked.status_code == 200 and roster.get_class(inst.db, demo.id)      # asking removes nothing
    assert admin.post(f"/staff/class/{demo.id}/remove", data={"csrf": csrf_of(asked.text)}).status_code == 303
    assert roster.list_classes(inst.db) == [] and client.get(f"/signin/c/{demo.id}").status_code == 404
    assert roster.ensure_demo_class(inst.db) is None        # the next `kit serve` does not bring it back


def test_a_coach_cannot_close_or_remove_a_class(coach, inst):
    klass = roster.create_class(inst.db, "CP1", self_register=True)
    accounts.assign_coach(inst.db, "teacher", klass.id)
    page = coach.get(f"/staff/class/{klass.id}")
    assert coach.post(f"/staff/class/{klass.id}/self-register",
                      data={"csrf": csrf_of(page.text), "allowed": "off"}).status_code == 403
    assert coach.post(f"/staff/class/{klass.id}/remove", data={"csrf": csrf_of(page.text)}).status_code == 403
    assert roster.get_class(inst.db, klass.id).self_register
