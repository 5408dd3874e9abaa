"""The hub's side of network sync: JSON endpoints that take bundles in and hand bundles and
packs out, in resumable chunks. Any kit server can serve them; a hub is one with role `hub`.

Mount: `app.register_blueprint(create_sync_blueprint(), url_prefix="/sync")` on an app whose
`extensions["kit"]` is the server's Store (data dir + a connection per thread). Every endpoint
but /enrol requires a request signed by an enrolled device key (kit.sync.auth), so the views
opt out of CSRF (`csrf_exempt`): they are for machines, not browsers. Every answer, errors
and file chunks included, is signed with this server's device key for the request it answers
(kit.sync.auth.sign_answer), so a school can tell its hub from anyone at the hub's address.

    POST /sync/enrol                      one-time-code enrolment (no device signature yet)
    POST /sync/hello                      -> {device_id, name, role, vector}
    GET  /sync/push/<sha256>              -> {received}: how much of that upload is here
    PUT  /sync/push/<sha256>?offset=&size=   body: the next chunk -> {received}
    POST /sync/push/<sha256>/done         verify the whole file, import it -> {events, new}
    POST /sync/pull   {vector}            prepare what the caller lacks -> {name, size, events}
    GET  /sync/pull/<name>?offset=&length=   the prepared bundle's bytes
    GET  /sync/packs                      -> {packs: [{file, id, version, size, sha256}]}
    GET  /sync/packs/<file>?offset=&length=

Checkpoints: an upload's received bytes live in <data>/tmp/sync-in/<peer>-<sha>.part (its
size is the offset to resume from); a prepared download stays in <data>/tmp/sync-out/ until
the same peer asks for something else, so a cut transfer continues where it stopped.
Published packs are the `<id>-<version>.kitpack` files in <data>/publish/.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from ..core.config import fsync_dir, sha256_file
from ..core.errors import BundleError, SyncError, TrustError
from ..core.eventlog import version_vector
from ..core.instance import Instance
from . import auth, enrol, peers
from .bundle import DEVICE_ID, export_bundle, import_bundle
from .usb import PACK_FILE

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_UPLOAD = 2 << 30
MAX_CHUNK = 1 << 20
KEEP_RECEIPTS_S = 30 * 86400


def instance() -> Instance:
    store = current_app.extensions["kit"]
    return Instance(store.data, store.db())


def signed_path() -> str:
    query = request.query_string.decode("ascii", "replace")
    return request.path + (f"?{query}" if query else "")


def fail(message: str, status: int):
    return jsonify(error=message), status


def signed(view):
    """Only for enrolled devices; the view gets (inst, peer key id, peer role, **url args)."""
    @functools.wraps(view)
    def wrapper(**kwargs):
        inst = instance()
        try:
            peer, role = auth.check(inst.db, request.method, signed_path(), request.get_data(cache=True),
                                    request.headers)
        except TrustError as e:
            return fail(str(e), 403)
        except SyncError as e:
            return fail(str(e), 401)
        peers.note_contact(inst.db, peer)
        return view(inst, peer, role, **kwargs)
    wrapper.csrf_exempt = True  # the kit's CSRF check skips views marked so
    return wrapper


def int_arg(name: str, default: "int | None" = None) -> int:
    try:
        value = int(request.args.get(name, default if default is not None else ""))
    except ValueError:
        raise SyncError(f"missing or bad ?{name}=") from None
    if value < 0:
        raise SyncError(f"?{name}= must not be negative")
    return value


def read_range(path: Path, offset: int, length: int) -> Response:
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(min(length, MAX_CHUNK))
    return Response(data, mimetype="application/octet-stream")


def create_sync_blueprint() -> Blueprint:
    bp = Blueprint("sync", __name__)

    @bp.errorhandler(SyncError)
    def sync_error(e):
        return fail(str(e), 400)

    @bp.after_request
    def sign_answer(response: Response) -> Response:
        inst = instance()
        response.headers.update(auth.sign_answer(inst.key(), request.method, signed_path(), request.headers,
                                                 response.status_code, response.get_data()))
        return response

    @bp.post("/enrol")
    def enrol_with_code():
        inst = instance()
        payload = request.get_json(silent=True) or {}
        text, text_mac = payload.get("enrolment"), payload.get("mac")
        if not isinstance(text, str) or not isinstance(text_mac, str):
            return fail("send {enrolment, mac}", 400)
        try:
            _, key = enrol.redeem(inst.db, text, text_mac)
        except TrustError as e:
            return fail(str(e), 403)
        mine = enrol.own_enrolment(inst).text()
        return jsonify(enrolment=mine, mac=enrol.mac(key, mine))
    enrol_with_code.csrf_exempt = True

    @bp.post("/hello")
    @signed
    def hello(inst, peer, role):
        return jsonify(device_id=inst.device_id, name=inst.key().name, role=peers.own_role(inst.db),
                       vector=version_vector(inst.db))

    @bp.route("/push/<name>", methods=["GET", "PUT"])
    @signed
    def push_chunk(inst, peer, role, name):
        if not SHA256.fullmatch(name):
            return fail("uploads are named by their sha256", 400)
        part = upload_path(inst, peer, name)
        received = part.stat().st_size if part.exists() else 0
        if request.method == "GET":
            return jsonify(received=received)
        offset, size, chunk = int_arg("offset"), int_arg("size"), request.get_data()
        if size > MAX_UPLOAD or offset + len(chunk) > size or len(chunk) > MAX_CHUNK:
            return fail("the upload is larger than announced or allowed", 400)
        if offset > received:
            return jsonify(received=received), 409  # a gap: the caller resumes from `received`
        if offset + len(chunk) > received:
            write_at(part, offset, chunk)
            received = offset + len(chunk)
        return jsonify(received=received)

    @bp.post("/push/<name>/done")
    @signed
    def push_done(inst, peer, role, name):
        if not SHA256.fullmatch(name):
            return fail("uploads are named by their sha256", 400)
        receipt = f"received:{peer}:{name}"
        row = inst.db.execute("SELECT meta FROM sync_transfers WHERE id = ?", [receipt]).fetchone()
        if row:  # done already: the answer was lost on the way back
            return jsonify(json.loads(row[0]))
        part = upload_path(inst, peer, name)
        if not part.exists() or sha256_file(part) != name:
            part.unlink(missing_ok=True)
            return fail("the upload is incomplete or damaged in transit; send it again", 409)
        bundle = part.with_suffix(".kitsync")
        os.replace(part, bundle)
        try:
            report = import_bundle(inst, bundle)
        except BundleError as e:
            return fail(str(e), 422)
        finally:
            bundle.unlink(missing_ok=True)
        result = {"events": report.events, "new": report.new}
        inst.db.execute("DELETE FROM sync_transfers WHERE direction = 'received' AND updated_at < ?",
                        [time.time() - KEEP_RECEIPTS_S])
        inst.db.execute("INSERT INTO sync_transfers (id, peer, direction, name, path, size, sha256, meta, "
                        "updated_at) VALUES (?, ?, 'received', ?, '', 0, ?, ?, ?)",
                        [receipt, peer, name, name, json.dumps(result), time.time()])
        return jsonify(result)

    @bp.post("/pull")
    @signed
    def pull_prepare(inst, peer, role):
        vector = (request.get_json(silent=True) or {}).get("vector")
        if not isinstance(vector, dict) or not all(
                isinstance(d, str) and DEVICE_ID.fullmatch(d) and type(s) is int and s >= 0 for d, s in vector.items()):
            return fail("send {vector: {device_id: seq}}", 400)
        return jsonify(prepare_download(inst, peer, vector))

    @bp.get("/pull/<name>")
    @signed
    def pull_chunk(inst, peer, role, name):
        row = inst.db.execute("SELECT path FROM sync_transfers WHERE id = ? AND name = ?",
                              [f"serve:{peer}", name]).fetchone()
        if not row or not Path(row[0]).exists():
            return fail("no such prepared bundle (the hub prepared a newer one); ask again", 404)
        return read_range(Path(row[0]), int_arg("offset"), int_arg("length", MAX_CHUNK))

    @bp.get("/packs")
    @signed
    def packs_list(inst, peer, role):
        return jsonify(packs=published_packs(inst))

    @bp.get("/packs/<file>")
    @signed
    def packs_chunk(inst, peer, role, file):
        path = publish_dir(inst) / file
        if not PACK_FILE.fullmatch(file) or not path.is_file():
            return fail("no such pack here", 404)
        return read_range(path, int_arg("offset"), int_arg("length", MAX_CHUNK))

    return bp


def upload_path(inst: Instance, peer: str, name: str) -> Path:
    folder = inst.data.tmp_dir / "sync-in"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{peer}-{name}.part"


def write_at(path: Path, offset: int, data: bytes) -> None:
    """Write a chunk where it belongs and make it durable before saying it is received."""
    with open(path, "r+b" if path.exists() else "wb") as f:
        f.seek(offset)
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def prepare_download(inst: Instance, peer: str, since: "dict[str, int]") -> dict:
    """One prepared bundle per peer, kept while the peer asks from the same vector (a resumed
    pull gets the very same bytes)."""
    tid = f"serve:{peer}"
    row = inst.db.execute("SELECT name, path, size, meta FROM sync_transfers WHERE id = ?", [tid]).fetchone()
    if row and Path(row[1]).exists() and json.loads(row[3]).get("since") == since:
        return {"name": row[0], "size": row[2], "events": json.loads(row[3])["events"]}
    if row:
        Path(row[1]).unlink(missing_ok=True)
        inst.db.execute("DELETE FROM sync_transfers WHERE id = ?", [tid])
    folder = inst.data.tmp_dir / "sync-out"
    folder.mkdir(parents=True, exist_ok=True)
    report = export_bundle(inst, folder / f"{peer}-{time.time_ns()}.kitsync", since, destination=peer)
    if report.path is None:
        return {"name": None, "size": 0, "events": 0}
    name = sha256_file(report.path)
    inst.db.execute("INSERT INTO sync_transfers (id, peer, direction, name, path, size, sha256, meta, updated_at) "
                    "VALUES (?, ?, 'serve', ?, ?, ?, ?, ?, ?)",
                    [tid, peer, name, str(report.path), report.bytes, name,
                     json.dumps({"since": since, "events": report.events}), time.time()])
    fsync_dir(folder)
    return {"name": name, "size": report.bytes, "events": report.events}


def publish_dir(inst: Instance) -> Path:
    return inst.data.root / "publish"


_pack_hashes: "dict[tuple, str]" = {}


def published_packs(inst: Instance) -> list[dict]:
    out = []
    folder = publish_dir(inst)
    for path in sorted(folder.glob("*.kitpack")) if folder.is_dir() else []:
        m = PACK_FILE.fullmatch(path.name)
        if not m:
            continue
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in _pack_hashes:
            _pack_hashes[key] = sha256_file(path)
        out.append({"file": path.name, "id": m["id"], "version": m["version"], "size": st.st_size,
                    "sha256": _pack_hashes[key]})
    return out
