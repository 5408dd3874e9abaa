"""Helpers for the web tests: an app on a real data dir, and a learner who signs in."""

from __future__ import annotations

import html
import re

import pytest

from kit.core import roster
from kit.server import create_app


@pytest.fixture
def app(data):
    app = create_app({"DATA": data, "TESTING": True})
    yield app
    app.extensions["kit"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "the page has no CSRF field"
    return m.group(1)


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert m, f"no hidden field {name}"
    return m.group(1)


def make_learner(db, name="Amina", pin="1234", login="pin", pictures=None, **class_opts):
    klass = roster.create_class(db, "CP1", login=login, **class_opts)
    learner = roster.add_learner(db, klass.id, name, pin=pin, pictures=pictures)
    return klass, learner


def sign_in(client, klass, learner, pin="1234", lang="fr", address="127.0.0.1"):
    """Open the learner's PIN page and type the PIN, as a phone at `address` would."""
    url = f"/signin/c/{klass.id}/{learner.id}"
    opts = {"headers": {"Accept-Language": lang}, "environ_base": {"REMOTE_ADDR": address}}
    page = client.get(url, **opts)
    return client.post(url, data={"csrf": csrf_of(page.text), "pin": pin, "key": "ok"}, **opts)


@pytest.fixture
def learner_client(client, inst):
    """A client signed in as Amina of class CP1."""
    klass, learner = make_learner(inst.db)
    assert sign_in(client, klass, learner).status_code == 303
    client.learner = learner
    client.klass = klass
    return client


def text(resp) -> str:
    """A page's text with HTML entities undone (so "n'est" matches "n&#39;est")."""
    return html.unescape(resp.get_data(as_text=True))
