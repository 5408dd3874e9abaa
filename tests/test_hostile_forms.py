"""Whatever a stranger on the hotspot posts, in any field of any learner form, the answer is a
page (2xx, 3xx or 4xx), never a 500: the naughty-strings corpus, and digits that Python's
str.isdigit() or int() read although they are not 0-9."""

import json
import uuid

import pytest

from kit.content import library
from server_support import csrf_of

from conftest import corpus

# Digits in other scripts, superscripts, full-width, a number too long for int(), signs, spaces.
ODD_NUMBERS = ["٣", "۳", "¹", "²³", "０", "𝟙", "-1", "+1", " 1", "1 ", "1.0", "1e3", "9" * 5000, "0" * 5000,
               "", " ", "\x00", "\u202e1", "𝟘"]


@pytest.fixture
def hostile() -> list[str]:
    strings = json.loads(corpus("naughty-strings", "blns.json").read_text(encoding="utf-8"))
    return ODD_NUMBERS + [s for s in strings if isinstance(s, str)]


@pytest.fixture
def learner(installed, learner_client):
    return learner_client


def quiz_fields(db, csrf: str, lang: str = "fr") -> "dict[str, dict[str, str]]":
    """For each question of the mini quiz, the fields a right-shaped post carries."""
    quiz = library.quiz(db, "mini", "passwords", lang)
    out = {}
    for q in quiz.questions:
        if q.type == "description":
            continue
        fields = {"csrf": csrf, "question": q.id, f"t-{q.id}": str(uuid.uuid4()), f"a-{q.id}": "0"}
        for i in range(len(q.pairs) or len(q.items)):
            fields[f"a-{q.id}-{i}"] = str(i)
        out[q.id] = fields
    return out


def assert_never_500(client, url: str, fields: dict, names, values) -> None:
    for name in names:
        for value in values:
            resp = client.post(url, data={**fields, name: value})
            assert resp.status_code < 500, (url, name, value[:40], resp.status_code)


def test_no_answer_field_of_any_question_type_gives_a_500(learner, installed, hostile):
    url = "/c/mini/passwords/quiz"
    csrf = csrf_of(learner.get(url).text)
    for qid, fields in quiz_fields(installed.db, csrf).items():
        names = [n for n in fields if n.startswith("a-")]
        assert_never_500(learner, url, fields, names, hostile)
        assert_never_500(learner, url, fields, ["question", f"t-{qid}"], ODD_NUMBERS)


def test_no_field_of_the_whole_quiz_form_gives_a_500(learner, installed, hostile):
    installed.db.execute("UPDATE packs SET settings = json_set(settings, '$.quiz_display', 'all') WHERE id = 'mini'")
    url = "/c/mini/passwords/quiz"
    csrf = csrf_of(learner.get(url).text)
    whole = {"csrf": csrf}
    for fields in quiz_fields(installed.db, csrf).values():
        whole.update({k: v for k, v in fields.items() if k != "question"})
    names = [n for n in whole if n.startswith("a-")]
    assert_never_500(learner, url, whole, names, ODD_NUMBERS + hostile[:: max(1, len(hostile) // 60)])


def test_a_csrf_field_of_any_letters_is_refused_with_a_403(client, inst, hostile):
    from server_support import make_learner
    klass, learner = make_learner(inst.db)
    url = f"/signin/c/{klass.id}/{learner.id}"
    assert csrf_of(client.get(url).text)                 # the session has its token
    for value in hostile:
        resp = client.post(url, data={"csrf": value, "key": "1"})
        assert resp.status_code == 403, (value[:40], resp.status_code)


def test_no_field_of_the_sign_in_forms_gives_a_500(client, inst, hostile):
    from server_support import make_learner
    klass, learner = make_learner(inst.db, self_register=True)
    pin_url = f"/signin/c/{klass.id}/{learner.id}"
    csrf = csrf_of(client.get(pin_url).text)
    sample = ODD_NUMBERS + hostile[:: max(1, len(hostile) // 60)]
    assert_never_500(client, pin_url, {"csrf": csrf, "so_far": "12", "key": "3"}, ["so_far", "key", "pin"], sample)
    join = f"/signin/c/{klass.id}/join"
    assert_never_500(client, join, {"csrf": csrf, "name": "Zineb", "pin": "1234", "pin2": "1234"},
                     ["name", "pin", "pin2"], sample)
    for value in sample:
        assert client.get("/signin/code", query_string={"code": value}).status_code < 500


def test_no_field_of_the_staff_forms_gives_a_500(admin, inst, hostile):
    """The admin's forms: a class, a learner, a code, a coach, an account; and staff sign-in."""
    from kit.core import roster
    klass = roster.create_class(inst.db, "CM1 A", login="pin")
    learner = roster.add_learner(inst.db, klass.id, "Omar", pin="1234")
    csrf = csrf_of(admin.get("/staff/classes/new").text)
    sample = ODD_NUMBERS + hostile[:: max(1, len(hostile) // 40)]
    forms = [
        ("/staff/classes/new", {"name": "CE1", "code": "4455", "login": "pin", "self_register": "on"}),
        (f"/staff/class/{klass.id}/learners", {"name": "Ali", "pin": "1234", "p0": "cat", "p1": "sun", "p2": "tree"}),
        (f"/staff/learner/{learner.id}/code", {"pin": "4321", "p0": "cat", "p1": "sun", "p2": "tree"}),
        (f"/staff/class/{klass.id}/coaches", {"username": "nobody"}),
        (f"/staff/class/{klass.id}/coaches/remove", {"username": "nobody"}),
        ("/staff/accounts", {"username": "prof2", "password": "a long enough password", "role": "coach"}),
    ]
    for url, fields in forms:
        assert_never_500(admin, url, {"csrf": csrf, **fields}, list(fields), sample)
    assert_never_500(admin, "/staff/signin", {"csrf": csrf, "username": "head", "password": "x" * 12},
                     ["username", "password", "next"], sample)
