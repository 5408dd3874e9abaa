"""The session cookie reader made once per secret (kit.server.sessions.SignedCookies) reads and
writes the same cookie as Flask's own: an upgraded server signs no phone out. A cookie checked
once is kept, yet expires to the second, and a forged or re-keyed one is refused."""

import time
from datetime import timedelta

import pytest
from flask import request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from kit.server.sessions import SignedCookies


def test_a_cookie_signed_by_flasks_own_sessions_is_read_and_ours_read_by_flask(app):
    ours, flasks = SignedCookies().get_signing_serializer(app), SecureCookieSessionInterface().get_signing_serializer(app)
    session = {"learner": "l-1", "sid": "s-1", "n": "nonce"}
    assert ours.loads(flasks.dumps(session)) == session
    assert flasks.loads(ours.dumps(session)) == session


def test_the_serializer_is_made_once_and_again_for_a_new_secret(app):
    cookies = SignedCookies()
    first = cookies.get_signing_serializer(app)
    assert cookies.get_signing_serializer(app) is first
    signed = first.dumps({"learner": "l-1"})
    app.secret_key = b"another secret"
    again = cookies.get_signing_serializer(app)
    assert again is not first
    assert again.loads(again.dumps({"a": 1})) == {"a": 1}
    assert not _reads(again, signed)


def _reads(serializer, cookie: str) -> bool:
    try:
        serializer.loads(cookie)
        return True
    except BadSignature:
        return False


def test_the_app_uses_it(app, learner_client):
    assert isinstance(app.session_interface, SignedCookies)
    assert learner_client.get("/").status_code == 200


# --- a cookie checked once is kept, and still expires to the second -----------------------------

def _open(app, cookies: SignedCookies, cookie: str) -> dict:
    with app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        return dict(cookies.open_session(app, request))


@pytest.fixture
def clock(monkeypatch):
    """time.time() as the test sets it, for itsdangerous' signing and our reading alike."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_a_kept_cookie_is_refused_one_second_past_its_lifetime_and_before_it_was_signed(app, clock):
    app.permanent_session_lifetime = timedelta(seconds=100)
    cookies = SignedCookies()
    cookie = cookies.get_signing_serializer(app).dumps({"learner": "l-1"})
    signed = clock[0]
    assert _open(app, cookies, cookie) == {"learner": "l-1"}        # checked, and kept
    clock[0] = signed + 100
    assert _open(app, cookies, cookie) == {"learner": "l-1"}        # at its lifetime: still good
    clock[0] = signed + 101
    assert _open(app, cookies, cookie) == {}                        # a second past: refused
    clock[0] = signed - 1
    assert _open(app, cookies, cookie) == {}                        # signed "in the future": refused


def test_a_cookie_changed_by_one_letter_is_refused_after_the_genuine_one_was_kept(app):
    cookies = SignedCookies()
    cookie = cookies.get_signing_serializer(app).dumps({"learner": "l-1"})
    assert _open(app, cookies, cookie) == {"learner": "l-1"}
    payload, _, rest = cookie.partition(".")
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + rest
    assert _open(app, cookies, forged) == {}
    assert _open(app, cookies, forged) == {}                        # refused again: never kept


def test_a_kept_cookie_is_refused_once_the_secret_changes(app):
    cookies = SignedCookies()
    cookie = cookies.get_signing_serializer(app).dumps({"learner": "l-1"})
    assert _open(app, cookies, cookie) == {"learner": "l-1"}
    app.secret_key = b"another secret"
    assert _open(app, cookies, cookie) == {}


def test_changing_a_session_does_not_change_what_the_next_request_reads(app):
    cookies = SignedCookies()
    cookie = cookies.get_signing_serializer(app).dumps({"learner": "l-1"})
    with app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        first = cookies.open_session(app, request)
        first["learner"] = "someone else"
        first.pop("n", None)
    assert _open(app, cookies, cookie) == {"learner": "l-1"}
