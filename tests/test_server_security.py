"""Findings of the security review of the web side, each kept as a rule that would fail again
if the hole came back: redirects, wrong-code limits, self-registration, sessions, coaches."""

from __future__ import annotations

import pytest

from kit import accounts, roster
from kit.server.site import local_path

from coach_support import PASSWORD, staff_sign_in
from server_support import app, client, csrf_of, sign_in  # noqa: F401  (fixtures)

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
