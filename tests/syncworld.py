"""Real servers for the sync tests: data dirs with keys, enrolled with each other, and ways to
compare what they hold. Imported by tests/test_sync_*.py."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from kit.core import records
from kit.core.config import DataDir
from kit.core.db import transaction
from kit.core.eventlog import append
from kit.core.events import LessonRead
from kit.core.instance import Instance, init_instance
from kit.core.keys import SigningKey, trust
from kit.sync import peers, seal, strictzip
from kit.sync.bundle import MANIFEST, MAX_BUNDLE, SIGNATURE
from kit.sync.enrol import accept, own_enrolment


def server(root: Path, name: str, role: str = "school") -> Instance:
    inst, _ = init_instance(DataDir(root / name.lower().replace(" ", "-")), name)
    if role == "hub":
        peers.set_role(inst.db, "hub")
    return inst


def enrol(hub: Instance, *schools: Instance) -> None:
    """What `kit sync enrol` does on both sides: each trusts the other's key and learns its
    sealing key (the enrolment file's `box:` line)."""
    for school in schools:
        accept(hub.db, own_enrolment(school), "school")
        accept(school.db, own_enrolment(hub), "hub")


def enrol_as_before(hub: Instance, *schools: Instance) -> None:
    """What an older kit's enrolment left: trusted keys, no sealing keys (an upgraded pair)."""
    for school in schools:
        trust(hub.db, school.key().public, "school")
        trust(school.db, hub.key().public, "hub")


def activity(inst: Instance, learner: str, n: int, lesson: str = "l") -> None:
    for i in range(n):
        append(inst.db, LessonRead("numeracy", f"{lesson}{i}", "fr"), learner_id=learner)


def move_school(hub: Instance, src: Instance, dst: Instance) -> int:
    """The coordinator moves every learner the hub knows of `src` (in a class of src's, or only
    named in src's events) to `dst`: one record.set each, at the hub. Returns how many."""
    owned = records.owners(hub.db)
    named = {lid for (lid,) in hub.db.execute(
        "SELECT DISTINCT learner_id FROM events WHERE device_id = ? AND learner_id IS NOT NULL", [src.device_id])}
    moving = sorted({rid for (kind, rid), who in owned.items() if kind == "learner" and who == src.device_id}
                    | {lid for lid in named if ("learner", lid) not in owned})
    for lid in moving:
        fields = {"school": dst.device_id}
        if records.get(hub.db, "learner", lid) is None:
            fields["name"] = lid[:80]
        records.set_fields(hub.db, "learner", lid, fields)
    return len(moving)


def dump(inst: Instance) -> list[str]:
    """Every row of every table: 'no change' means this is equal."""
    return list(inst.db.conn.iterdump())


def truth(inst: Instance) -> dict:
    """What must agree between servers: the events and what derives from them."""
    q = inst.db.execute
    return {
        "events": q("SELECT uid, device_id, seq, hlc, kind, learner_id, body FROM events ORDER BY uid").fetchall(),
        "records": q("SELECT kind, id, data, deleted FROM records ORDER BY kind, id").fetchall(),
        "clocks": q("SELECT * FROM record_clocks ORDER BY kind, id, field").fetchall(),
    }


def db_files(inst: Instance) -> dict:
    """The bytes of the database and its WAL, to prove a refusal wrote nothing."""
    inst.db.execute("SELECT 1").fetchall()
    files = {}
    for suffix in ("", "-wal"):
        path = Path(str(inst.data.db_path) + suffix)
        files[suffix] = path.read_bytes() if path.exists() else None
    return files


def forge(path: Path, key: SigningKey, manifest: dict, chunks: "dict[str, bytes]",
          to: "Instance | None" = None, shows: "tuple[int, int] | None" = None) -> Path:
    """A bundle in the canonical layout with any manifest and events, signed by `key`:
    what a dishonest or broken server could produce; sealed to `to` (as any sender can seal
    to a public key), or left in clear. The envelope shows the manifest's counts, or `shows`
    (events, learners)."""
    entries = []

    def write_zip(f) -> int:
        z = strictzip.ZipWriter(f)
        for name, data in chunks.items():
            entries.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                            "packed_sha256": z.add(name, data), "events": data.count(b"\n")})
        manifest_bytes = json.dumps({**manifest, "members": entries}, indent=1, sort_keys=True).encode()
        z.add(MANIFEST, manifest_bytes, deflate=False)
        z.add(SIGNATURE, key.sign(manifest_bytes), deflate=False)
        z.close()
        return manifest.get("counts", {}).get("learners", 0)

    with open(path, "wb") as f:
        if to is None:
            write_zip(f)
        else:
            counts = manifest.get("counts", {})
            events, learners = shows or (counts.get("events", 0), counts.get("learners", 0))
            sealing = seal.Recipient(to.device_id, to.key().name, to.box_key().public_raw)
            seal.write(to, f, sealing, events, lambda plain: write_zip(plain) and learners)
    return path


def unseal(path: Path, recipient: Instance) -> bytes:
    """The signed zip inside a sealed bundle, opened with its recipient's key (or the file's
    bytes, if it is not sealed)."""
    with seal.opened(recipient, path, MAX_BUNDLE) as inner:
        return inner.path.read_bytes()


def read_manifest(path: Path, recipient: "Instance | None" = None) -> "tuple[dict, dict[str, bytes]]":
    """The manifest and event members of a bundle; a sealed one is opened with `recipient`'s key."""
    data = unseal(path, recipient) if recipient is not None else path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = json.loads(z.read(MANIFEST))
        chunks = {m["name"]: z.read(m["name"]) for m in manifest["members"]}
    return manifest, chunks


def bulk_events(inst: Instance, n: int, learners: int = 50) -> None:
    """Many plain events quickly (for the tests that need a large bundle)."""
    dev = inst.device_id
    start = inst.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE device_id = ?", [dev]).fetchone()[0]
    rows = [(f"{dev}:{s}", dev, s, f"{1700000000000 + s:013d}-00000", "lesson.read", f"learner-{s % learners}",
             json.dumps({"lang": "fr", "lesson": f"l{s % 40}", "pack": "numeracy"}, separators=(",", ":")))
            for s in range(start + 1, start + n + 1)]
    with transaction(inst.db):
        inst.db.conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.fixture
def world(tmp_path):
    """A hub and two enrolled schools (and a folder for bundles): (hub, a, b, out)."""
    hub = server(tmp_path, "Hub", role="hub")
    a, b = server(tmp_path, "School A"), server(tmp_path, "School B")
    enrol(hub, a, b)
    out = tmp_path / "out"
    out.mkdir()
    yield hub, a, b, out
    for inst in (hub, a, b):
        inst.close()
