"""The hub's HTTP face: JSON endpoints under /sync that take bundles in and hand bundles and
packs out in resumable chunks, for machines, not browsers (the app exempts them from CSRF).
The work is kit.sync.transfers' and kit.sync.enrol's; these views parse, answer and sign.

Every endpoint but /enrol requires a request signed by an enrolled device key (kit.sync.auth).
Every answer, errors and file chunks included, is signed with this server's device key for the
request it answers (kit.sync.auth.sign_answer), so a school can tell its hub from anyone at
the hub's address. Any kit server serves them; a hub is one with role `hub`.

    POST /sync/enrol                      one-time-code enrolment (no device signature yet)
    POST /sync/hello  {box}               -> {device_id, name, role, vector, at, box}: sealing keys, both ways
    GET  /sync/push/<sha256>              -> {received}: how much of that upload is here
    PUT  /sync/push/<sha256>?offset=&size=   body: the next chunk -> {received}
    POST /sync/push/<sha256>/done         verify the whole file, import it -> {events, new}
    POST /sync/pull   {vector}            what the caller holds; prepare what it lacks -> {name, size, events}
    GET  /sync/pull/<name>?offset=&length=   the prepared bundle's bytes
    GET  /sync/packs                      -> {packs: [{file, id, version, size, sha256}]}
    GET  /sync/packs/<file>?offset=&length=
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Callable

from flask import Blueprint, Response, jsonify, request

from ..core.errors import BundleError, SyncError, TrustError, UploadError
from ..core.instance import Instance
from ..sync import auth, enrol, peers, scope, seal, transfers
from .store import get_db, get_store

bp = Blueprint("sync", __name__, url_prefix="/sync")


def instance() -> Instance:
    return Instance(get_store().data, get_db())


def signed_path() -> str:
    query = request.query_string.decode("ascii", "replace")
    return request.path + (f"?{query}" if query else "")


def fail(message: str, status: int) -> "tuple[Response, int]":
    return jsonify(error=message), status


def signed(view: Callable) -> Callable:
    """Only for enrolled devices; the view gets (inst, peer key id, peer role, **url args)."""
    @functools.wraps(view)
    def wrapper(**kwargs):
        inst = instance()
        try:
            peer, role = transfers.admit(inst, request.method, signed_path(), request.get_data(cache=True),
                                         request.headers)
        except TrustError as e:
            return fail(str(e), 403)
        except SyncError as e:
            return fail(str(e), 401)
        return view(inst, peer, role, **kwargs)
    return wrapper


def int_arg(name: str, default: "int | None" = None) -> int:
    try:
        value = int(request.args.get(name, default if default is not None else ""))
    except ValueError:
        raise SyncError(f"missing or bad ?{name}=") from None
    if value < 0:
        raise SyncError(f"?{name}= must not be negative")
    return value


def file_range(path: Path) -> Response:
    data = transfers.read_chunk(path, int_arg("offset"), int_arg("length", transfers.MAX_CHUNK))
    return Response(data, mimetype="application/octet-stream")


@bp.errorhandler(SyncError)
def sync_error(e: SyncError) -> "tuple[Response, int]":
    return fail(str(e), 400)


@bp.after_request
def sign_answer(response: Response) -> Response:
    inst = instance()
    response.headers.update(auth.sign_answer(inst.key(), request.method, signed_path(), request.headers,
                                             response.status_code, response.get_data()))
    return response


@bp.post("/enrol")
def enrol_with_code():
    payload = request.get_json(silent=True) or {}
    text, text_mac = payload.get("enrolment"), payload.get("mac")
    if not isinstance(text, str) or not isinstance(text_mac, str):
        return fail("send {enrolment, mac}", 400)
    try:
        mine, mine_mac = enrol.enrol_by_code(instance(), text, text_mac)
    except TrustError as e:
        return fail(str(e), 403)
    return jsonify(enrolment=mine, mac=mine_mac)


@bp.post("/hello")
@signed
def hello(inst: Instance, peer: str, role: str):
    # The caller's sealing key, signed with its request: what it pulls next is sealed to it.
    seal.learn(inst.db, peer, (request.get_json(silent=True) or {}).get("box"))
    # `at`, on this server's clock, dates the vector as the word on what it holds (kit.sync.peers)
    return jsonify(device_id=inst.device_id, name=inst.key().name, role=peers.own_role(inst.db),
                   vector=scope.holds(inst.db), at=int(time.time()), box=seal.own_box(inst))


@bp.route("/push/<name>", methods=["GET", "PUT"])
@signed
def push_chunk(inst: Instance, peer: str, role: str, name: str):
    have = transfers.received(inst, peer, name)
    if request.method == "GET":
        return jsonify(received=have)
    offset, size = int_arg("offset"), int_arg("size")
    have = transfers.receive_chunk(inst, peer, name, offset, size, request.get_data())
    # Below the chunk's offset means a gap: the peer resumes from `received`.
    return jsonify(received=have), (409 if offset > have else 200)


@bp.post("/push/<name>/done")
@signed
def push_done(inst: Instance, peer: str, role: str, name: str):
    try:
        return jsonify(transfers.finish_upload(inst, peer, name))
    except UploadError as e:
        return fail(str(e), 409)
    except BundleError as e:
        return fail(str(e), 422)


@bp.post("/pull")
@signed
def pull_prepare(inst: Instance, peer: str, role: str):
    vector = (request.get_json(silent=True) or {}).get("vector")
    if not transfers.is_vector(vector):
        return fail("send {vector: {device_id: seq}}", 400)
    said_at = int(request.headers[auth.TIME])  # the signed time, checked by @signed: the peer's own clock
    return jsonify(transfers.answer_pull(inst, peer, vector, said_at))


@bp.get("/pull/<name>")
@signed
def pull_chunk(inst: Instance, peer: str, role: str, name: str):
    path = transfers.prepared_bundle(inst, peer, name)
    if path is None:
        return fail("no such prepared bundle (the hub prepared a newer one); ask again", 404)
    return file_range(path)


@bp.get("/packs")
@signed
def packs_list(inst: Instance, peer: str, role: str):
    return jsonify(packs=transfers.published_packs(inst))


@bp.get("/packs/<file>")
@signed
def packs_chunk(inst: Instance, peer: str, role: str, file: str):
    path = transfers.published_pack(inst, file)
    if path is None:
        return fail("no such pack here", 404)
    return file_range(path)
