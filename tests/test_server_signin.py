"""Signing in without a password: class, name, PIN or pictures; limits; sessions."""

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from kit.core import records, roster, signin
from kit.core.eventlog import learner_events

from server_support import csrf_of, hidden, make_learner, sign_in, text


def test_a_visitor_is_sent_to_choose_a_class(client, inst):
    roster.create_class(inst.db, "CE2")
    resp = client.get("/")
    assert resp.status_code == 303 and resp.location.endswith("/signin")
    page = client.get("/signin")
    assert "CE2" in page.text


def test_the_class_code_leads_to_the_class_and_a_wrong_one_says_so(client, inst):
    klass = roster.create_class(inst.db, "CE2", code="4242")
    resp = client.get("/signin/code?code=4242")
    assert resp.status_code == 303 and resp.location.endswith(f"/signin/c/{klass.id}")
    wrong = client.get("/signin/code?code=9999", headers={"Accept-Language": "en"})
    assert wrong.status_code == 404 and "No class has this code" in wrong.text


def test_typing_the_right_pin_signs_in_and_records_a_signin_event(client, inst):
    klass, learner = make_learner(inst.db)
    names = client.get(f"/signin/c/{klass.id}")
    assert f"/signin/c/{klass.id}/{learner.id}" in names.text
    resp = sign_in(client, klass, learner)
    assert resp.status_code == 303 and resp.location.endswith("/")
    assert client.get("/").status_code == 200
    events = learner_events(inst.db, learner.id, ("signin",))
    assert [e.body for e in events] == [{"class_id": klass.id}]


def test_the_keypad_works_one_tap_at_a_time_without_javascript(client, inst):
    klass, learner = make_learner(inst.db, pin="2580")
    url = f"/signin/c/{klass.id}/{learner.id}"
    page = client.get(url)
    csrf = csrf_of(page.text)
    so_far = ""
    for key in ["2", "5", "9", "back", "8"]:
        page = client.post(url, data={"csrf": csrf, "so_far": so_far, "key": key})
        assert page.status_code == 200
        so_far = hidden(page.text, "so_far")
    assert so_far == "258"
    resp = client.post(url, data={"csrf": csrf, "so_far": so_far, "key": "0"})
    assert resp.status_code == 303


def test_arabic_indic_digits_are_a_pin_too(client, inst):
    klass, learner = make_learner(inst.db, pin="1234")
    assert sign_in(client, klass, learner, pin="١٢٣٤").status_code == 303


def test_a_wrong_pin_says_so_in_the_learners_language(client, inst):
    klass, learner = make_learner(inst.db)
    resp = sign_in(client, klass, learner, pin="9999", lang="fr")
    assert resp.status_code == 200 and "Ce code PIN n'est pas le bon" in text(resp)
    assert client.get("/").status_code == 303          # still not signed in


def test_too_many_wrong_pins_make_that_phone_wait(client, inst):
    klass, learner = make_learner(inst.db)
    for _ in range(signin.LEARNERS.per_place):
        sign_in(client, klass, learner, pin="0000")
    locked = sign_in(client, klass, learner, pin="1234", lang="en")
    assert locked.status_code == 429 and "Too many wrong tries" in locked.text
    assert client.get("/").status_code == 303


def test_wrong_pins_from_one_address_are_limited_across_learners(client, inst):
    klass = roster.create_class(inst.db, "CP1")
    learners = [roster.add_learner(inst.db, klass.id, f"L{i}", pin="1234") for i in range(7)]
    tries = 0
    for learner in learners:
        for _ in range(3):
            if tries < signin.LEARNERS.per_address:
                sign_in(client, klass, learner, pin="0000")
                tries += 1
    assert sign_in(client, klass, learners[-1], pin="1234").status_code == 429
    assert sign_in(client, klass, learners[-1], pin="1234", address="10.0.0.9").status_code == 303


def test_picture_code_sign_in_by_tapping_three_pictures(client, inst):
    klass, learner = make_learner(inst.db, pin=None, login="picture", pictures=["moon", "cat", "moon"])
    url = f"/signin/c/{klass.id}/{learner.id}"
    page = client.get(url)
    assert 'value="moon"' in page.text and 'name="pin"' not in page.text
    csrf, so_far = csrf_of(page.text), ""
    for key in ["moon", "cat"]:
        so_far = hidden(client.post(url, data={"csrf": csrf, "so_far": so_far, "key": key}).text, "so_far")
    assert so_far == "moon.cat"
    assert client.post(url, data={"csrf": csrf, "so_far": so_far, "key": "moon"}).status_code == 303


def test_not_you_signs_out_in_one_tap_back_to_the_class_names(learner_client):
    home = learner_client.get("/")
    resp = learner_client.post("/signout", data={"csrf": csrf_of(home.text)})
    assert resp.status_code == 303 and resp.location.endswith(f"/signin/c/{learner_client.klass.id}")
    assert learner_client.get("/").status_code == 303


def test_a_copy_of_the_cookie_taken_before_signing_out_no_longer_signs_in(app, learner_client):
    copied = learner_client.get_cookie("kit").value          # someone on the hotspot read it
    home = learner_client.get("/")
    learner_client.post("/signout", data={"csrf": csrf_of(home.text)})
    thief = app.test_client()
    thief.set_cookie("kit", copied)
    assert thief.get("/").status_code == 303                 # sent to sign in, not the learner's home


def test_a_session_from_before_sessions_had_ids_signs_in_again(app, learner_client):
    with learner_client.session_transaction() as s:
        del s["sid"]
    assert learner_client.get("/").status_code == 303


def test_the_keypad_is_the_only_way_to_type_and_erase_sits_bottom_right(client, inst):
    klass, learner = make_learner(inst.db)
    page = client.get(f"/signin/c/{klass.id}/{learner.id}").text
    assert 'name="pin"' not in page                            # no second way to type the PIN
    keys = re.findall(r'<button name="key" value="([^"]+)"', page)
    assert keys == list("123456789") + ["0", "back"]             # ⌫ last: bottom right of the 3×4 grid


def test_after_the_limit_the_keypad_is_off_and_says_ask_your_teacher(client, inst):
    klass, learner = make_learner(inst.db)
    for _ in range(signin.LEARNERS.per_place):
        sign_in(client, klass, learner, pin="0000", lang="en")
    page = client.get(f"/signin/c/{klass.id}/{learner.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 429 and "ask your teacher" in page.text
    assert page.text.count(" disabled>") == 11                 # ten digits and erase
    tapped = client.post(f"/signin/c/{klass.id}/{learner.id}",
                         data={"csrf": csrf_of(page.text), "so_far": "123", "key": "4"})
    assert tapped.status_code == 429 and client.get("/").status_code == 303


def test_a_class_code_typed_in_arabic_indic_digits_finds_the_class(client, inst):
    klass = roster.create_class(inst.db, "CM2", code="2468")
    resp = client.get("/signin/code", query_string={"code": "٢٤٦٨"})
    assert resp.status_code == 303 and resp.location.endswith(f"/signin/c/{klass.id}")


def test_the_session_cookie_lasts_weeks_and_is_http_only_and_same_site(client, inst):
    klass, learner = make_learner(inst.db)
    resp = sign_in(client, klass, learner)
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("kit="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert expires - datetime.now(timezone.utc) > timedelta(weeks=2)


def test_a_learner_deleted_by_the_teacher_is_signed_out(learner_client, inst):
    records.delete(inst.db, "learner", learner_client.learner.id)
    assert learner_client.get("/").status_code == 303


def test_self_registration_adds_the_name_and_signs_in(client, inst):
    klass = roster.create_class(inst.db, "Demo", code="0000", self_register=True)
    form = client.get(f"/signin/c/{klass.id}/join")
    resp = client.post(f"/signin/c/{klass.id}/join",
                       data={"csrf": csrf_of(form.text), "name": "Sara", "pin": "4321", "pin2": "4321"})
    assert resp.status_code == 303
    assert [l.name for l in roster.class_learners(inst.db, klass.id)] == ["Sara"]
    assert client.get("/").status_code == 200


def test_self_registration_explains_each_mistake(client, inst):
    klass = roster.create_class(inst.db, "Demo", self_register=True)
    roster.add_learner(inst.db, klass.id, "Sara", pin="1111")
    form = client.get(f"/signin/c/{klass.id}/join", headers={"Accept-Language": "en"})
    resp = client.post(f"/signin/c/{klass.id}/join", headers={"Accept-Language": "en"},
                       data={"csrf": csrf_of(form.text), "name": "sara", "pin": "12", "pin2": "12"})
    assert resp.status_code == 400
    assert "already in the class" in resp.text and "4 digits" in resp.text
    assert len(roster.class_learners(inst.db, klass.id)) == 1


def test_self_registration_with_pictures(client, inst, try_code):
    klass = roster.create_class(inst.db, "Petits", login="picture", self_register=True)
    form = client.get(f"/signin/c/{klass.id}/join")
    resp = client.post(f"/signin/c/{klass.id}/join", data={
        "csrf": csrf_of(form.text), "name": "Ali", "p0": "sun", "p1": "sun", "p2": "car"})
    assert resp.status_code == 303
    ali = roster.class_learners(inst.db, klass.id)[0]
    assert try_code(inst.db, ali.id, "sun.sun.car", "x").who == ali


def test_a_class_without_self_registration_refuses_it(client, inst):
    klass = roster.create_class(inst.db, "Closed")
    assert client.get(f"/signin/c/{klass.id}/join").status_code == 403


def test_unknown_class_or_learner_is_404(client, inst):
    klass, learner = make_learner(inst.db)
    other = roster.create_class(inst.db, "Other")
    assert client.get("/signin/c/nope").status_code == 404
    assert client.get(f"/signin/c/{other.id}/{learner.id}").status_code == 404
