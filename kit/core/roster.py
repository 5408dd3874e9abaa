"""Classes and learners: made, found, listed, renamed, moved, removed; their names cleaned and
compared.

Both are mutable records (kit.core.records), so they travel with sync and merge field by field.
A learner is in a class while their record names it and they belong to the class's school
(kit.core.district); only the hub moves a learner to another class, and so to another school.
A learner's PIN or picture code is kept as a hash in the learner record; how it is hashed and
how many tries anyone gets at it is kit.core.signin's. Self-registration, a learner adding
themself, is limited here (registration_rules): it makes learners.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

import sqlite_utils

from . import district, limits, records, signin
from .textfold import fold
from .db import get_meta, transaction
from .eventlog import device_id
from .errors import RosterError

LOGIN_MODES = ("pin", "picture")
# The picture code alphabet: things a young child can name. The web maps them to images.
PICTURES = ("cat", "dog", "fish", "sun", "moon", "star", "tree", "flower", "apple", "car", "ball", "house")
PICTURE_CODE_LENGTH = 3
MAX_NAME = 80
# Arabic-Indic and Persian digits, as a phone's keyboard may type them, read as 0-9.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

# Self-registration (registration_rules).
JOINS_PER_ADDRESS = 10
JOIN_WINDOW_S = 10 * 60
JOINS_PER_CLASS_HOUR = 60
JOINS_PER_CLASS_DAY = 200


@dataclass(frozen=True)
class Klass:
    """A class (`class` is a keyword): learners sign in through it."""
    id: str
    name: str
    code: str                  # short digits typed to find the class
    login: str                 # pin | picture
    self_register: bool

    @classmethod
    def from_record(cls, rec: dict) -> "Klass":
        # An old `coaches` field may still ride in the record: it is ignored. Which coach
        # follows a class is local to each server (kit.core.accounts).
        return cls(rec["id"], rec.get("name", ""), rec.get("code", ""),
                   rec.get("login", "pin"), bool(rec.get("self_register", False)))


@dataclass(frozen=True)
class Learner:
    id: str
    name: str
    class_id: str
    has_pin: bool
    has_pictures: bool
    # Changes whenever the learner's PIN or picture code does, or the school they belong to.
    # A session carries the stamp it was made with, so a teacher's reset signs out every phone
    # that used the old code, and a move to another school every phone at the old one.
    stamp: str = field(default="", compare=False, repr=False)

    @classmethod
    def from_record(cls, rec: dict) -> "Learner":
        stamp = signin.secret_stamp(rec) + (f"@{rec['school']}" if rec.get("school") else "")
        return cls(rec["id"], rec.get("name", ""), rec.get("class_id", ""),
                   bool(rec.get("pin_hash")), bool(rec.get("picture_hash")), stamp)


# --- classes --------------------------------------------------------------------------

def clean_name(name: str) -> str:
    """A display name as typed, in its canonical form (NFKC), without invisible characters
    (controls, and format characters such as zero-width spaces and bidi overrides, which
    make "Amina" and "Amina\u200b" two names or turn a name backwards), and with runs of
    white space (newlines too) made one space."""
    visible = "".join(c for c in unicodedata.normalize("NFKC", name or "")
                      if unicodedata.category(c) not in ("Cc", "Cf") or c.isspace())
    cleaned = " ".join(visible.split())
    if not cleaned:
        raise RosterError("a name is needed")
    if len(cleaned) > MAX_NAME:
        raise RosterError(f"a name has at most {MAX_NAME} characters")
    return cleaned


# Letters of other scripts that look like Latin ones (after case folding: "А" is folded to
# "а" first). A short list in the spirit of Unicode's confusables (UTS #39): enough that
# "Аmina" with a Cyrillic А, or "Αmina" with a Greek Α, is the same name as "Amina".
_LOOK_ALIKE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ӏ": "l", "ү": "y", "һ": "h",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "n", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ζ": "z",
    "ı": "i", "0": "o", "1": "l",
})


def name_key(name: str) -> str:
    """What two names that a teacher would read as the same one have in common: case,
    accents, invisible characters and look-alike letters of other scripts don't count."""
    return fold(clean_name(name)).translate(_LOOK_ALIKE)


def name_taken(db: sqlite_utils.Database, class_id: str, name: str) -> bool:
    """Whether the class has a learner whose name reads the same as `name`: a child taps a
    name, so two that look alike lock one of them out."""
    key = name_key(name)
    return any(name_key(l.name) == key for l in class_learners(db, class_id))


def class_name_taken(db: sqlite_utils.Database, name: str) -> bool:
    """Whether a class learners sign in to here already reads as `name`."""
    key = name_key(name)
    return any(name_key(k.name) == key for k in classes_here(db))


def class_code(code: str) -> str:
    """A class code as typed, in ASCII digits (a phone may type ٢٤٦٨)."""
    return (code or "").strip().translate(_DIGITS)


def create_class(db: sqlite_utils.Database, name: str, code: "str | None" = None,
                 login: str = "pin", self_register: bool = False) -> Klass:
    """Make a class. Without a code, a free 4-digit one is chosen."""
    name = clean_name(name)
    if login not in LOGIN_MODES:
        raise RosterError(f"login must be one of {', '.join(LOGIN_MODES)}")
    with transaction(db):
        if class_name_taken(db, name):
            raise RosterError(f"a class named {name!r} exists already; give this one another name")
        taken = {k.code for k in list_classes(db)}
        code = None if code is None else class_code(code)
        if code is None:
            code = _free_code(taken)
        elif not re.fullmatch(r"[0-9]{3,8}", code):
            raise RosterError("a class code is 3 to 8 digits, e.g. 1234")
        elif code in taken:
            raise RosterError(f"class code {code} is taken; choose another")
        cid = uuid.uuid4().hex
        records.set_fields(db, "class", cid, {"name": name, "code": code, "login": login,
                                              "self_register": self_register})
    return Klass(cid, name, code, login, self_register)


def _free_code(taken: "set[str]") -> str:
    for _ in range(1000):
        code = f"{secrets.randbelow(10000):04d}"
        if code not in taken:
            return code
    raise RosterError("no free 4-digit class code left; give one with --code")


def list_classes(db: sqlite_utils.Database) -> list[Klass]:
    return sorted((Klass.from_record(r) for r in records.all_of(db, "class")),
                  key=lambda k: (k.name.casefold(), k.id))


def classes_here(db: sqlite_utils.Database) -> list[Klass]:
    """The classes learners sign in to on this server: those it created. Other schools'
    classes arrive through the hub too; they are not offered here (a hub offers them all)."""
    if get_meta(db, "sync_role") == "hub":
        return list_classes(db)
    return [k for k in list_classes(db) if is_here(db, k.id)]


def is_here(db: sqlite_utils.Database, class_id: str) -> bool:
    """Whether learners of this class sign in on this server (see classes_here)."""
    return district.is_hub(db) or records.origin(db, "class", class_id) in (device_id(db), None)


def get_class(db: sqlite_utils.Database, class_id: str) -> "Klass | None":
    rec = records.get(db, "class", class_id)
    return Klass.from_record(rec) if rec else None


def class_by_code(db: sqlite_utils.Database, code: str) -> "Klass | None":
    """The class of this server with that code (codes are unique per server, not across a
    district: another school may use the same one)."""
    code = class_code(code)
    return next((k for k in classes_here(db) if code and k.code == code), None)


def find_class(db: sqlite_utils.Database, key: str) -> Klass:
    """A class by id, code or exact name (what an admin types at the command line). On a hub
    two schools may use the same code or name: the candidates are named with their schools."""
    matches = [k for k in list_classes(db) if key == k.id] or [k for k in list_classes(db) if key in (k.code, k.name)]
    if not matches:
        raise RosterError(f"no class {key!r}; see `kit users list`")
    if len(matches) > 1:
        schools = district.class_schools(db, [k.id for k in matches])
        candidates = "; ".join(f"{k.id} ({k.name!r} code {k.code}"
                               f"{', ' + schools[k.id].name if k.id in schools else ''})" for k in matches)
        raise RosterError(f"{len(matches)} classes match {key!r}; give the class id, one of: {candidates}")
    return matches[0]


def ensure_demo_class(db: sqlite_utils.Database) -> "Klass | None":
    """On a server that never had a class, make 'Demo' (code 0000, self-registration) so a
    visitor can try the kit at once. Returns it if made. Once removed, it stays removed."""
    with transaction(db):
        if db.execute("SELECT 1 FROM records WHERE kind = 'class' LIMIT 1").fetchone():
            return None
        return create_class(db, "Demo", code="0000", login="pin", self_register=True)


def set_self_register(db: sqlite_utils.Database, class_id: str, allowed: bool) -> Klass:
    """Open or close a class to self-registration (a teacher's list is complete, or the
    Demo class has served)."""
    klass = get_class(db, class_id)
    if klass is None:
        raise RosterError("that class does not exist (any more)")
    records.set_fields(db, "class", class_id, {"self_register": allowed})
    return Klass(klass.id, klass.name, klass.code, klass.login, allowed)


def remove_class(db: sqlite_utils.Database, class_id: str) -> int:
    """Take a class off the roster with its learners (tombstones, as remove_learner); their
    events stay. Returns how many learners went with it."""
    with transaction(db):
        if get_class(db, class_id) is None:
            raise RosterError("that class does not exist (any more)")
        learners = class_learners(db, class_id)
        for learner in learners:
            records.delete(db, "learner", learner.id)
        records.delete(db, "class", class_id)
    return len(learners)


# --- learners -------------------------------------------------------------------------

# Phones set to Arabic may type Arabic-Indic digits into a number field.


def check_pin(pin: str) -> str:
    """The PIN in ASCII digits; refuses anything but exactly 4 digits."""
    pin = (pin or "").strip().translate(_DIGITS)
    if not re.fullmatch(r"[0-9]{4}", pin):
        raise RosterError("a PIN is exactly 4 digits")
    return pin


def check_pictures(pictures: "list[str] | tuple[str, ...]") -> str:
    """The canonical text of a picture code, e.g. 'cat.sun.tree'."""
    if len(pictures) != PICTURE_CODE_LENGTH or any(p not in PICTURES for p in pictures):
        raise RosterError(f"a picture code is {PICTURE_CODE_LENGTH} of: {', '.join(PICTURES)}")
    return ".".join(pictures)


def add_learner(db: sqlite_utils.Database, class_id: str, name: str, pin: "str | None" = None,
                pictures: "list[str] | None" = None) -> Learner:
    """Add a learner to a class with a PIN and/or a picture code (the class's login mode
    decides which one sign-in asks for)."""
    name = clean_name(name)
    if get_class(db, class_id) is None:
        raise RosterError("that class does not exist (any more)")
    return _insert_learner(db, class_id, name, _secret_fields(pin, pictures))


def _secret_fields(pin: "str | None", pictures: "list[str] | None") -> dict:
    fields = {}
    if pin is not None:
        fields["pin_hash"] = signin.hash_code(check_pin(pin))
    if pictures is not None:
        fields["picture_hash"] = signin.hash_code(check_pictures(pictures))
    if not fields:
        raise RosterError("a learner needs a PIN or a picture code to sign in")
    return fields


def _insert_learner(db: sqlite_utils.Database, class_id: str, name: str, hashes: dict) -> Learner:
    fields = {"name": name, "class_id": class_id, **hashes}
    lid = uuid.uuid4().hex
    with transaction(db):
        if name_taken(db, class_id, name):
            raise RosterError(f"the class has a learner named {name!r} already; add a letter or the family name")
        records.set_fields(db, "learner", lid, fields)
    return Learner.from_record({**fields, "id": lid})


class TooManyRegistrations(RosterError):
    """Self-registration is paused here for a while."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many new names for now; try again in {retry_after} s")
        self.retry_after = retry_after


def registration_rules(class_id: str, address: str) -> list[limits.Rule]:
    """How many learners may add themselves: a classroom of phones joining at the start of the
    year fits; one phone making names by the thousand (a scripted phone made 1,578 in 20 s) does not."""
    return [limits.Rule(f"join-addr:{address}", JOINS_PER_ADDRESS, JOIN_WINDOW_S),
            limits.Rule(f"join-class:{class_id}", JOINS_PER_CLASS_HOUR, 3600),
            limits.Rule(f"join-class-day:{class_id}", JOINS_PER_CLASS_DAY, 24 * 3600)]


def self_register(db: sqlite_utils.Database, class_id: str, name: str, pin: "str | None" = None,
                  pictures: "list[str] | None" = None, address: str = "?",
                  now: "float | None" = None) -> Learner:
    """A learner at `address` adds themself to a class that allows it, within the limits of
    registration_rules (TooManyRegistrations past them). A name that reads the same as one
    in the class (name_key) is refused."""
    klass = get_class(db, class_id)
    if klass is None or not klass.self_register:
        raise RosterError("this class does not take new names; ask your teacher")
    name = clean_name(name)
    hashes = _secret_fields(pin or "", None) if klass.login == "pin" else _secret_fields(None, pictures or [])
    tried = limits.attempt(db, registration_rules(class_id, address), time.time() if now is None else now)
    if tried.retry_after:
        raise TooManyRegistrations(tried.retry_after)
    try:
        with transaction(db):   # the name check and the new record together: no twin by a race
            if name_taken(db, class_id, name):
                raise RosterError("this name is already in the class; add a letter or a surname")
            return _insert_learner(db, class_id, name, hashes)
    except RosterError:
        limits.take_back(db, tried)   # nobody was added: it does not count
        raise


def set_secret(db: sqlite_utils.Database, learner_id: str, pin: "str | None" = None,
               pictures: "list[str] | None" = None) -> None:
    """Give a learner a new PIN or picture code (a teacher resetting a forgotten one). It
    changes the learner's stamp: every session made with the old code ends."""
    fields = {}
    if pin is not None:
        fields["pin_hash"] = signin.hash_code(check_pin(pin))
    if pictures is not None:
        fields["picture_hash"] = signin.hash_code(check_pictures(pictures))
    if fields:
        with transaction(db):
            district.check_may_change_learner(db, learner_id)
            records.set_fields(db, "learner", learner_id, fields)
            signin.forget(db, signin.LEARNERS, learner_id)


def remove_learner(db: sqlite_utils.Database, learner_id: str) -> None:
    """Take a learner off the roster with a tombstone (kit.core.records): it syncs, and no edit
    made elsewhere brings the learner back. Their events stay; they are the history."""
    if get_learner(db, learner_id) is None:
        raise RosterError("that learner does not exist (any more)")
    district.check_may_change_learner(db, learner_id)
    records.delete(db, "learner", learner_id)


def rename_learner(db: sqlite_utils.Database, learner_id: str, name: str) -> Learner:
    """Give a learner another name (a typing mistake, a family name added). The name rules
    are add_learner's: a name that reads like another of the class is refused."""
    name = clean_name(name)
    with transaction(db):
        learner = get_learner(db, learner_id)
        if learner is None:
            raise RosterError("that learner does not exist (any more); see `kit users list`")
        district.check_may_change_learner(db, learner_id)
        if name == learner.name:
            raise RosterError(f"the learner is called {name!r} already; give another name")
        others = [l for l in class_learners(db, learner.class_id) if l.id != learner.id]
        if any(name_key(l.name) == name_key(name) for l in others):
            raise RosterError(f"the class has a learner named {name!r} already; add a letter or the family name")
        records.set_fields(db, "learner", learner_id, {"name": name})
    return get_learner(db, learner_id)


def move_learner(db: sqlite_utils.Database, learner_id: str, to_class: str) -> Learner:
    """Put a learner in another class, of any school: the coordinator's verb, on the hub only.
    One record.set names the class and the school it belongs to, so the learner's new school
    owns them (and may reset their code) and their old school sees where they went. Their
    history goes with them: events name the learner, not the class."""
    if not district.is_hub(db):
        raise RosterError("only the hub moves learners between classes and schools; "
                          "ask the coordinator to move them there")
    with transaction(db):
        learner = get_learner(db, learner_id)
        if learner is None:
            raise RosterError("that learner does not exist (any more); see `kit users list`")
        klass = get_class(db, to_class)
        if klass is None:
            raise RosterError(f"no class {to_class!r} here (unknown or removed); see `kit users list` "
                              "for the classes and their ids")
        if klass.id == learner.class_id:
            raise RosterError(f"{learner.name} is in class {klass.name!r} already; choose another class")
        if name_taken(db, klass.id, learner.name):
            raise RosterError(f"class {klass.name!r} has a learner named {learner.name!r} already; "
                              "rename one of them first (`kit users rename`)")
        school = district.class_school(db, klass.id)
        if school is None:   # a live class was set somewhere: never None; a bug otherwise
            raise RuntimeError(f"class {klass.id} has no origin")
        records.set_fields(db, "learner", learner_id, {"class_id": klass.id, "school": school})
        signin.forget(db, signin.LEARNERS, learner_id)
    return get_learner(db, learner_id)


def get_learner(db: sqlite_utils.Database, learner_id: str) -> "Learner | None":
    data = records.stored(db, "learner", learner_id)
    return _learner(learner_id, data) if data else None


@lru_cache(maxsize=1024)
def _learner(learner_id: str, data: str) -> Learner:
    # Every page a learner opens reads their record: decoded once per version of it (a new
    # PIN, name or class is new text, so a new key).
    return Learner.from_record({**json.loads(data), "id": learner_id})


def class_learners(db: sqlite_utils.Database, class_id: str) -> list[Learner]:
    """A class's learners, sorted by name as people read them. Found through the index of
    migration 6, not by reading every learner of the server.

    A learner whose record names another school than the class's is not in it: the hub moved
    them, and the move's class id lost to a later one (two servers edited while apart); their
    school says where they belong, so the old class does not list them, nor let them sign in."""
    recs = [{**json.loads(data), "id": rid} for rid, data in db.execute(
        "SELECT id, data FROM records WHERE kind = 'learner' AND deleted = 0 "
        "AND json_extract(data, '$.class_id') = ?", [class_id])]
    if any(r.get("school") for r in recs):
        owner = district.class_school(db, class_id)
        recs = [r for r in recs if r.get("school") in (None, owner)]
    return sorted((Learner.from_record(r) for r in recs), key=lambda l: (l.name.casefold(), l.id))


def signin_learners(db: sqlite_utils.Database, class_id: str) -> list[Learner]:
    """The names a learner taps to sign in to this class here: none for another school's class
    (a school may hold other schools' records; their learners sign in at their own school)."""
    return class_learners(db, class_id) if is_here(db, class_id) else []


def find_learner(db: sqlite_utils.Database, klass: Klass, name: str) -> Learner:
    matches = [l for l in class_learners(db, klass.id) if name in (l.id, l.name)]
    if not matches:
        for move in district.moved_from_class(db, klass.id):
            if name in (move.learner_id, move.name):
                raise RosterError(f"{move.name} was moved to {move.school.name} by the coordinator; only "
                                  f"{move.school.name} or the hub can change them now")
    if len(matches) != 1:
        raise RosterError(f"{'no' if not matches else len(matches)} learners named {name!r} "
                          f"in class {klass.name!r}; see `kit users list`")
    return matches[0]


def learner_by_key(db: sqlite_utils.Database, key: str) -> Learner:
    """A learner as typed at the command line: their id, or CLASS/NAME (the class by id, code
    or name, as find_class; the learner's name in it), e.g. 1234/Amina or "CP1 A/Amina B."."""
    found = get_learner(db, key)
    if found:
        return found
    splits = [(key[:i], key[i + 1:]) for i, c in enumerate(key) if c == "/"]
    if not splits:
        raise RosterError(f"no learner {key!r}; give their id or CLASS/NAME, e.g. 1234/Amina "
                          "(see `kit users list`)")
    problem = None
    for class_key, name in splits:   # a class's name or a learner's may hold a slash: try each
        try:
            return find_learner(db, find_class(db, class_key), name)
        except RosterError as e:
            problem = problem or e
    raise problem


def check_code(db: sqlite_utils.Database, learner_id: str, code: str) -> "Learner | None":
    """The learner if `code` is their PIN ('1234') or picture code ('cat.sun.tree'), as their
    class asks; else None. Alone it is no guard: sign in through kit.core.signin."""
    code = (code or "").strip().translate(_DIGITS)
    rec = records.get(db, "learner", learner_id)
    klass = get_class(db, rec.get("class_id", "")) if rec else None
    if not (rec and klass and is_here(db, klass.id)
            and (rec.get("school") is None or rec["school"] == district.class_school(db, klass.id))):
        return None   # not in a class of this server (moved away, or another school's): as class_learners
    if signin.code_matches(rec.get("picture_hash" if klass.login == "picture" else "pin_hash"), code):
        return Learner.from_record(rec)
    return None
