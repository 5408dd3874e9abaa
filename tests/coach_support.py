"""Helpers for the teachers' pages tests: staff accounts signed in on their own browser, and
learner events made the way the learner's pages make them."""

from __future__ import annotations

import html
import re

import pytest

from kit.core import accounts, roster
from kit.core.eventlog import append
from kit.core.events import AnswerRecorded, LessonRead

from server_support import csrf_of

PASSWORD = "correct horse"


def staff_sign_in(browser, username: str, password: str = PASSWORD, lang: str = "en",
                  address: str = "127.0.0.1", next: "str | None" = None):
    """Type a username and password on the staff sign-in page, as a browser at `address` would."""
    opts = {"headers": {"Accept-Language": lang}, "environ_base": {"REMOTE_ADDR": address}}
    page = browser.get("/staff/signin", **opts)
    form = {"csrf": csrf_of(page.text), "username": username, "password": password}
    if next:
        form["next"] = next
    return browser.post("/staff/signin", data=form, **opts)


def staff_client(app, db, username: str, role: str):
    """A browser of its own, signed in as a new staff account."""
    accounts.add_account(db, username, role, PASSWORD)
    browser = app.test_client()
    assert staff_sign_in(browser, username).status_code == 303
    browser.username = username
    return browser


@pytest.fixture
def admin(app, inst):
    return staff_client(app, inst.db, "head", "admin")


@pytest.fixture
def coach(app, inst):
    return staff_client(app, inst.db, "teacher", "coach")


def post_form(browser, url: str, fields: dict, page_url: "str | None" = None, lang: str = "en"):
    """Fill in the form of the page at `page_url` (default: `url`) and post it to `url`."""
    page = browser.get(page_url or url, headers={"Accept-Language": lang})
    assert page.status_code == 200, page.status_code
    return browser.post(url, data={"csrf": csrf_of(page.text), **fields}, headers={"Accept-Language": lang})


# --- events as the learner's pages write them ---------------------------------------------------

def read(db, learner: roster.Learner, lesson: str, pack: str = "mini", lang: str = "fr") -> None:
    append(db, LessonRead(pack, lesson, lang), learner_id=learner.id)


def answer(db, learner: roster.Learner, lesson: str, question: str, credit: "float | None", response,
           pack: str = "mini", lang: str = "fr") -> None:
    append(db, AnswerRecorded(pack, lesson, lang, question, credit, bool(credit and credit >= 0.999), response),
           learner_id=learner.id)


def phone_pass(db, learner: roster.Learner, right: bool = True) -> None:
    """One pass through the mini course's 'phone' quiz (two questions)."""
    answer(db, learner, "phone", "lock", 1.0 if right else 0.0, right)
    answer(db, learner, "phone", "how", 1.0 if right else 0.0, 0 if right else 1)


# --- reading the grid ------------------------------------------------------------------------

def grid(page: str) -> "dict[str, list[str]]":
    """{learner name: [progress, cell of lesson 1, cell of lesson 2, ...]} as the grid shows them
    (the no-break spaces of French numbers, "50 %", made plain spaces)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"[\xa0\u202f]", " ", html.unescape(re.sub(r"<[^>]+>", "", c))).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows
