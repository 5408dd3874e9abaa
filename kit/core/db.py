"""The one home of the database: open, migrate, transact.

Every table of the kit is created here, by numbered migrations that run on open and are
recorded in `schema_version`; each runs once, in its own transaction. Other modules use
`open_db` and `transaction`, and sqlite-utils' table API for rows.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from .errors import ConfigError

# Append only: never edit a migration that has shipped. Version = position + 1.
MIGRATIONS: list[str] = [
    # 1: content, keys, events, derived records, accounts
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE packs (
        id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        title TEXT NOT NULL,            -- JSON {lang: title}
        description TEXT NOT NULL,      -- JSON {lang: text}
        languages TEXT NOT NULL,        -- JSON [lang, ...]
        publisher TEXT NOT NULL,        -- key id that signed it
        settings TEXT NOT NULL,         -- JSON: quiz display, mastery defaults, license, authors
        manifest TEXT NOT NULL,         -- the verified manifest JSON
        installed_at TEXT NOT NULL
    );
    CREATE TABLE lessons (
        pack_id TEXT NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
        lesson_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        position INTEGER NOT NULL,
        title TEXT NOT NULL,
        minutes INTEGER,
        objectives TEXT NOT NULL,       -- JSON [text, ...]
        html TEXT NOT NULL,             -- sanitized at build time
        etag TEXT NOT NULL,
        has_quiz INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (pack_id, lesson_id, lang)
    );
    CREATE TABLE quizzes (
        pack_id TEXT NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
        lesson_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        quiz TEXT NOT NULL,             -- JSON, kit.content.quiz.Quiz.to_dict()
        PRIMARY KEY (pack_id, lesson_id, lang)
    );
    CREATE TABLE media (
        pack_id TEXT NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
        path TEXT NOT NULL,             -- as written in the course source
        sha256 TEXT NOT NULL,           -- file is media/<pack_id>/<sha256><ext>
        size INTEGER NOT NULL,
        mime TEXT NOT NULL,
        PRIMARY KEY (pack_id, path)
    );

    CREATE TABLE trusted_keys (
        key_id TEXT PRIMARY KEY,
        public_key TEXT NOT NULL,       -- base64 of the raw 32-byte Ed25519 key
        name TEXT NOT NULL,
        role TEXT NOT NULL,             -- publisher | school | hub
        added_at TEXT NOT NULL
    );

    -- The truth: append-only. (device_id, seq) orders one device's events; uid is global.
    CREATE TABLE events (
        uid TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc TEXT NOT NULL,
        kind TEXT NOT NULL,
        learner_id TEXT,
        body TEXT NOT NULL,             -- JSON
        UNIQUE (device_id, seq)
    );
    CREATE INDEX events_by_learner ON events (learner_id, kind);

    -- Derived from record.* events (last writer wins per field); never the only copy.
    CREATE TABLE records (
        kind TEXT NOT NULL,             -- class | learner
        id TEXT NOT NULL,
        data TEXT NOT NULL,             -- JSON {field: value}
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, id)
    );
    CREATE TABLE record_clocks (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        field TEXT NOT NULL,            -- a field name, or '' for the tombstone
        hlc TEXT NOT NULL,
        device_id TEXT NOT NULL,
        PRIMARY KEY (kind, id, field)
    );

    -- Local accounts of this server (admins, coaches); not synced.
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,             -- admin | coach
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # 2: wrong PINs and picture codes, for rate limiting sign-in (local to this server, not synced)
    """
    CREATE TABLE signin_failures (
        scope TEXT NOT NULL,            -- 'learner:<id>' or 'addr:<ip>'
        at REAL NOT NULL                -- unix time of the wrong try
    );
    CREATE INDEX signin_failures_by_scope ON signin_failures (scope, at);
    """,
    # 3: sync state: peers, what they hold and what we sent them, enrolment codes, transfers
    """
    CREATE TABLE sync_peers (
        device_id TEXT PRIMARY KEY,     -- = the peer's key id
        name TEXT NOT NULL,
        role TEXT NOT NULL,             -- school | hub | self | relayed (known through a hub)
        last_import_at TEXT,            -- when a bundle from it last brought something
        last_export_at TEXT,            -- when we last wrote or sent it a bundle
        last_contact_at TEXT            -- when we last talked to it over HTTP
    );
    CREATE TABLE sync_peer_vectors (    -- what a peer told us (signed) it holds
        peer TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (peer, device_id)
    );
    CREATE TABLE sync_exported (        -- what we wrote for a destination ('' = anyone)
        peer TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (peer, device_id)
    );
    CREATE TABLE sync_enrol_codes (
        key TEXT PRIMARY KEY,           -- hex sha256 of the one-time code (the HMAC key)
        role TEXT NOT NULL,             -- the role the enrolled server gets
        expires_at REAL NOT NULL,
        used_by TEXT                    -- key id that used it (single use)
    );
    CREATE TABLE sync_nonces (          -- request nonces seen, to refuse replays
        key_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (key_id, nonce)
    );
    CREATE TABLE sync_transfers (       -- resumable HTTP transfers, on both sides
        id TEXT PRIMARY KEY,            -- <direction>:<peer>:<name>
        peer TEXT NOT NULL,
        direction TEXT NOT NULL,        -- push | pull | serve | pack
        name TEXT NOT NULL,             -- the file being moved (bundle sha256 or pack file)
        path TEXT NOT NULL,             -- local file (complete source, or .part being received)
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',-- JSON, e.g. the vector a prepared bundle starts from
        updated_at REAL NOT NULL
    );
    """,
    # 4: a learner's events about one lesson, found without reading the rest of their year
    """
    CREATE INDEX events_by_lesson ON events (learner_id, kind, json_extract(body, '$.lesson'));
    """,
    # 5: which coach account follows which class. Local, like the accounts: a username means
    # nothing on another server, so it must not ride in the synced class record. Carried over:
    # what this server itself last wrote in a class record's old `coaches` field, for its own
    # accounts (a list written elsewhere named another server's accounts).
    """
    CREATE TABLE coach_classes (
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        class_id TEXT NOT NULL,
        PRIMARY KEY (username, class_id)
    );
    INSERT OR IGNORE INTO coach_classes (username, class_id)
    SELECT coach.value, json_extract(e.body, '$.id')
    FROM events AS e, json_each(json_extract(e.body, '$.fields.coaches')) AS coach
    WHERE e.learner_id IS NULL AND e.kind = 'record.set' AND json_extract(e.body, '$.kind') = 'class'
      AND e.device_id = (SELECT value FROM meta WHERE key = 'device_id')
      AND e.seq = (SELECT MAX(last.seq) FROM events AS last
                   WHERE last.learner_id IS NULL AND last.kind = 'record.set'
                     AND last.device_id = e.device_id
                     AND json_extract(last.body, '$.kind') = 'class'
                     AND json_extract(last.body, '$.id') = json_extract(e.body, '$.id')
                     AND json_type(last.body, '$.fields.coaches') = 'array')
      AND coach.value IN (SELECT username FROM users WHERE role = 'coach');
    """,
    # 6: a class's learners (the names page, self-registration), found without reading the
    # records of every learner on the server
    """
    CREATE INDEX records_learners_by_class ON records (json_extract(data, '$.class_id')) WHERE kind = 'learner';
    """,
    # 7: sessions ended by signing out (local, never synced): a copy of the cookie taken
    # before, on a hotspot that is plain HTTP, must not sign anyone in again
    """
    CREATE TABLE ended_sessions (
        sid TEXT PRIMARY KEY,           -- the random id a session got when its owner signed in
        until REAL NOT NULL             -- unix time after which the cookie is dead anyway
    );
    """,
    # 8: a district (kit.sync.scope): a school holds only its own learners, so what it holds of
    # another device is no longer a gapless prefix of that device's log
    """
    CREATE TABLE sync_covered (
        device_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL            -- every event of that device up to seq that concerns us is held
    );
    CREATE TABLE sync_scope (           -- at a hub: the learners it has sent each school
        peer TEXT NOT NULL,
        learner_id TEXT NOT NULL,
        until_hlc TEXT,                 -- NULL while the learner is the peer's; else when it left
        mark_device TEXT,               -- the bundle that carried the learner's history covered this
        mark_seq INTEGER,               --   event: the peer's newest word lacking it says it was lost
        lost INTEGER NOT NULL DEFAULT 0,  -- 1: send the history again
        PRIMARY KEY (peer, learner_id)
    );
    """,
    # 9: when each peer last said (signed) what it holds, on the peer's own clock: only a
    # newer word may rewind what we sent it, so a bundle left on a stick re-sends nothing
    """
    CREATE TABLE sync_peer_said (
        peer TEXT PRIMARY KEY,
        said_at REAL NOT NULL           -- unix time of its newest bundle's created_at or pull request
    );
    """,
    # 10: peers' sealing keys (X25519 public halves), learned only from what a peer signed or
    # from its enrolment: bundles for a peer are encrypted to its key (kit.sync.seal)
    """
    CREATE TABLE box_keys (
        key_id TEXT PRIMARY KEY,        -- the peer's device key id (trusted_keys)
        box_public TEXT NOT NULL,       -- base64 of the 32-byte X25519 public key
        learned_at TEXT NOT NULL
    );
    """,
    # 11: an answer's (or a read's) idempotency token found from the index, not by reading the
    # body of every earlier answer of the learner in that lesson (kit.core.eventlog.append
    # did, on every answer: the cost grew with each pass). It extends the index of 4, which
    # it replaces: the same lookups use its first three columns.
    """
    CREATE INDEX events_by_lesson_token ON events
        (learner_id, kind, json_extract(body, '$.lesson'), json_extract(body, '$.token'));
    DROP INDEX events_by_lesson;
    """,
]


def connect(path: "str | Path") -> sqlite_utils.Database:
    """Open a connection with the kit's pragmas (WAL, foreign keys, busy wait)."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA synchronous = NORMAL")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise ConfigError(f"{path}: SQLite cannot use WAL here; put the data dir on a local disk")
    return sqlite_utils.Database(conn)


def open_db(path: "str | Path", migrate: bool = True) -> sqlite_utils.Database:
    db = connect(path)
    if migrate:
        run_migrations(db)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return row[0] or 0


def pending_migrations(path: "str | Path") -> int:
    """How many migrations a database file still lacks (0 for none, or no file), read without
    changing it: a face can say so before a long one runs (an index over a hub's millions of
    events takes minutes)."""
    if not Path(path).exists():
        return 0
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
    except sqlite3.Error:      # no schema_version yet, or unreadable: opening it will say
        return 0
    finally:
        conn.close()
    return max(0, len(MIGRATIONS) - current)


def run_migrations(db: sqlite_utils.Database) -> int:
    """Bring the schema up to date; safe to run at every start and from many processes."""
    current = schema_version(db)
    for version, sql in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        with transaction(db, immediate=True):
            # Another process may have migrated while we waited for the write lock.
            if schema_version(db) >= version:
                continue
            for statement in split_sql(sql):
                db.execute(statement)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
    return len(MIGRATIONS)


def split_sql(script: str) -> list[str]:
    """Statements of a migration (executescript would commit our transaction)."""
    out, buf = [], []
    for line in script.splitlines():
        buf.append(line.split("--", 1)[0])
        if sqlite3.complete_statement("\n".join(buf)):
            stmt = "\n".join(buf).strip()
            if stmt.strip(";").strip():
                out.append(stmt)
            buf = []
    return out


@contextmanager
def transaction(db: sqlite_utils.Database, immediate: bool = True) -> Iterator[sqlite_utils.Database]:
    """All or nothing. IMMEDIATE takes the write lock up front so two writers never deadlock."""
    conn = db.conn
    if conn.in_transaction:  # nested: join the outer transaction
        yield db
        return
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def make_durable(db: sqlite_utils.Database) -> None:
    """Make every committed transaction survive a power cut before something leaves the
    machine. With WAL and synchronous=NORMAL (fast for a classroom's answers) the latest
    commits may roll back after a cut; one commit with synchronous=FULL syncs the WAL, and
    so every commit before it. Used before a bundle is written: events already on a USB stick
    must never be numbered again."""
    db.execute("PRAGMA synchronous = FULL")
    try:
        with transaction(db):
            set_meta(db, "durable_at", str(time.time()))
    finally:
        db.execute("PRAGMA synchronous = NORMAL")


def get_meta(db: sqlite_utils.Database, key: str, default: "str | None" = None) -> "str | None":
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
