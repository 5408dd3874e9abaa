"""Events are the truth: what each kind of event says, and the one text form they are stored in.

An event is an envelope (`Event`: uid, device, seq, clock, learner) around a body, one small
dataclass per kind below. Bodies are stored and sent as canonical JSON of `to_body()`; the
log itself (SQL on `events`) is kit.core.eventlog, the clock kit.core.clock.

`uid` is always `<device_id>:<seq>`: only the device that made an event can name it, so no
one can claim another school's ids. Within one device `seq` counts 1, 2, 3... with no gaps,
which makes a version vector ({device_id: highest seq held}) enough to say what another
server lacks. A form's idempotency token (a retried submit, an answer queued on a phone)
travels in the body as "token".

Reading is tolerant (`from_body`): a body synced from another server is never deleted, so a
malformed one must read as something harmless (an answer worth 0) rather than raise and break
a learner's pages for good. Sync refuses what it can (kit.sync.bundle); this is the second wall.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Union

# Built once: json.dumps with options makes a new encoder at every call (sync encodes millions).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """The one text form of a JSON value: keys sorted, no spaces, UTF-8 kept as is. Equal
    values give equal texts, so what is hashed, signed or compared (event bodies, pack
    manifests) never depends on who wrote it."""
    return _CANONICAL.encode(value)


def _text(value: Any) -> str:
    """A text field of a body, or "" when a malformed body holds something else there."""
    return value if isinstance(value, str) else ""


def _token(body: dict) -> "str | None":
    token = body.get("token")
    return token if isinstance(token, str) else None


def _with_token(body: dict, token: "str | None") -> dict:
    return {**body, "token": token} if token is not None else body


# Each kind: KIND is its `kind` column, VERSION the shape of its body. Version-1 bodies carry
# no version field (they predate it, and their bytes are signed): a new shape gets VERSION 2,
# a field in the body saying so, and a from_body that reads both.

@dataclass(frozen=True)
class RecordSet:
    """A mutable record's fields changed (kit.core.records folds it; records.FIELDS says what
    each field may hold). `kind` is the record's kind, "class" or "learner".

        {"fields": {"class_id": "c1", "name": "Amina"}, "id": "6d1c...", "kind": "learner"}
    """
    KIND: ClassVar[str] = "record.set"
    VERSION: ClassVar[int] = 1
    kind: str
    id: str
    fields: dict

    def to_body(self) -> dict:
        return {"kind": self.kind, "id": self.id, "fields": self.fields}

    @classmethod
    def from_body(cls, body: dict) -> "RecordSet":
        fields = body.get("fields")
        return cls(_text(body.get("kind")), _text(body.get("id")), fields if isinstance(fields, dict) else {})


@dataclass(frozen=True)
class RecordDelete:
    """A record's tombstone: it wins over every edit, before or after it.

        {"id": "6d1c...", "kind": "learner"}
    """
    KIND: ClassVar[str] = "record.delete"
    VERSION: ClassVar[int] = 1
    kind: str
    id: str

    def to_body(self) -> dict:
        return {"kind": self.kind, "id": self.id}

    @classmethod
    def from_body(cls, body: dict) -> "RecordDelete":
        return cls(_text(body.get("kind")), _text(body.get("id")))


@dataclass(frozen=True)
class SignedIn:
    """A learner signed in, in this class.

        {"class_id": "c1"}
    """
    KIND: ClassVar[str] = "signin"
    VERSION: ClassVar[int] = 1
    class_id: str

    def to_body(self) -> dict:
        return {"class_id": self.class_id}

    @classmethod
    def from_body(cls, body: dict) -> "SignedIn":
        return cls(_text(body.get("class_id")))


@dataclass(frozen=True)
class LessonRead:
    """A lesson was read to its end, in this language.

        {"lang": "fr", "lesson": "01-fractions", "pack": "numeracy", "token": "5b0c..."}
    """
    KIND: ClassVar[str] = "lesson.read"
    VERSION: ClassVar[int] = 1
    pack: str
    lesson: str
    lang: str
    token: "str | None" = None

    def to_body(self) -> dict:
        return _with_token({"pack": self.pack, "lesson": self.lesson, "lang": self.lang}, self.token)

    @classmethod
    def from_body(cls, body: dict) -> "LessonRead":
        return cls(_text(body.get("pack")), _text(body.get("lesson")), _text(body.get("lang")), _token(body))


@dataclass(frozen=True)
class AnswerRecorded:
    """One question answered, graded by the server (kit.content.quiz.grade). `credit` is 0..1,
    None when not graded automatically (an essay); `response` is what grade takes: an index,
    a list of indices, a bool or a text.

        {"correct": false, "credit": 0.5, "lang": "fr", "lesson": "01-fractions",
         "pack": "numeracy", "question": "q2", "response": [0, 2], "token": "9e41..."}

    Read tolerantly: a credit that is not a number in 0..1 reads as 0 (or is clamped), a
    `correct` that is not true reads as false.
    """
    KIND: ClassVar[str] = "quiz.answer"
    VERSION: ClassVar[int] = 1
    pack: str
    lesson: str
    lang: str
    question: str
    credit: "float | None"
    correct: bool
    response: Any
    token: "str | None" = None

    def to_body(self) -> dict:
        return _with_token({"pack": self.pack, "lesson": self.lesson, "lang": self.lang, "question": self.question,
                            "credit": self.credit, "correct": self.correct, "response": self.response}, self.token)

    @classmethod
    def from_body(cls, body: dict) -> "AnswerRecorded":
        return cls(_text(body.get("pack")), _text(body.get("lesson")), _text(body.get("lang")),
                   _text(body.get("question")), _credit(body.get("credit")), body.get("correct") is True,
                   body.get("response"), _token(body))


def _credit(value: Any) -> "float | None":
    """A credit as written (so a body reads back to the same bytes), clamped into 0..1; 0 for
    anything that is not a number (a bool is not one)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return 0.0
    return value if 0 <= value <= 1 else float(min(max(value, 0), 1))


Payload = Union[RecordSet, RecordDelete, SignedIn, LessonRead, AnswerRecorded]
PAYLOADS: "dict[str, type[Payload]]" = {p.KIND: p for p in (RecordSet, RecordDelete, SignedIn, LessonRead,
                                                             AnswerRecorded)}
RECORD_KINDS = (RecordSet.KIND, RecordDelete.KIND)
ROW_COLUMNS = ("uid", "device_id", "seq", "hlc", "kind", "learner_id", "body")


@dataclass(frozen=True)
class Event:
    """One event of the log: the envelope, and its body as stored (decoded JSON). `payload()`
    gives the body typed by its kind; kinds this kit does not know (a newer kit's, synced
    here) keep their body and type as None."""
    uid: str
    device_id: str
    seq: int
    hlc: str
    kind: str
    learner_id: "str | None"
    body: dict

    def payload(self) -> "Payload | None":
        typed = PAYLOADS.get(self.kind)
        return typed.from_body(self.body if isinstance(self.body, dict) else {}) if typed else None

    def to_row(self) -> tuple:
        """The row as stored: ROW_COLUMNS order, the body as canonical JSON."""
        return (self.uid, self.device_id, self.seq, self.hlc, self.kind, self.learner_id, canonical_json(self.body))

    @classmethod
    def from_row(cls, row: "tuple | dict") -> "Event":
        if isinstance(row, dict):
            row = tuple(row[c] for c in ROW_COLUMNS)
        uid, dev, seq, hlc, kind, learner, body = row
        return cls(uid, dev, int(seq), hlc, kind, learner, json.loads(body) if isinstance(body, str) else dict(body))
