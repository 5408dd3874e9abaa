"""The session cookie reader made once per secret (kit.server.sessions.SignedCookies) reads and
writes the same cookie as Flask's own: an upgraded server signs no phone out."""

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
