"""The school's side of network sync: push what the hub lacks, pull what this server lacks,
fetch newer packs; over a link that may be slow and drop at any moment.

Everything moves as a file in chunks with offsets, and both sides keep checkpoints: here a
`sync_transfers` row and the file itself (the bundle being pushed, or the `.part` being
pulled, whose size is the offset to resume from); on the hub, the `.part` it receives and the
bundle it prepared. A transfer cut at 30 % continues from the very byte the other side
holds, in this run (retries with exponential backoff) or the next one. Bundles and packs are
verified in full on arrival.

Nothing the hub sends is used before its signature is checked (kit.sync.auth): every answer,
each chunk of a file too, must be signed by the hub key this server enrolled, for the very
request it answers. Names and sizes the hub gives are checked against strict patterns and
caps before they name a file here. Anything wrong stops the exchange with a SyncError (or a
TrustError) of one line; `auto` reports it and tries again at the next round. Chunks adapt to
the link (see Link), and a hub that does not answer at all is reported within seconds.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.config import fsync_dir, sha256_file
from ..core.db import transaction
from ..core.errors import BundleError, KitError, SyncError, TrustError
from ..core.instance import Instance
from ..core.keys import PublicKey, trusted_key
from . import auth, enrol, peers, scope, seal
from .bundle import DEVICE_ID, export_bundle, import_bundle
from .strictzip import MAX_ZIP
from .usb import PACK_FILE

Progress = Callable[[int, int], None]  # called with (bytes moved so far, bytes in all)

CHUNK = 64 << 10          # the ceiling: a good link moves this much a request
MIN_CHUNK = 4 << 10       # the floor: a request this small is mostly headers anyway
GROW_AFTER = 4            # requests in a row without a cut, then the chunk size doubles
FIRST_CONTACT_S = 6.0     # a hub that has not answered in this long is reported (under 10 s in all)
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_MESSAGE = 300  # characters of a hub's error message shown to the user
JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """One answer as it came, with what its signature must cover to be the hub's."""
    status: int
    data: bytes
    signer: "tuple[str, bytes] | None"   # (key id, signature) the answer claims
    signed_text: bytes                    # what that signature must sign: this request, this answer


@dataclass
class Link:
    """Signed HTTP requests to one hub, retried with exponential backoff on network failures.

    Until the hub has answered once, all tries must fit in `first_contact` seconds: a hub that
    is down, or a wrong address, is reported at once instead of after minutes of backoff. Once
    it has answered, a failure is a cut link, and the tries go on (`attempts` in a row).
    Chunked transfers ask `chunk` bytes a request: halved after each cut (down to `min_chunk`),
    doubled after GROW_AFTER requests in a row went through (up to the `chunk` it started at),
    so a link that drops every 30 KB still moves data, and a good one moves it in few requests."""

    url: str
    inst: Instance
    timeout: float = 20.0
    attempts: int = 8
    backoff: float = 0.5          # first wait; doubles each try, up to max_backoff
    max_backoff: float = 30.0
    chunk: int = CHUNK            # bytes per request, now; starts at the ceiling
    min_chunk: int = MIN_CHUNK
    first_contact: float = FIRST_CONTACT_S
    sleep: Callable[[float], None] = time.sleep
    hub: "PublicKey | None" = None   # the enrolled hub key that signed the first answer; then every one

    def __post_init__(self):
        parts = urllib.parse.urlsplit(self.url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise SyncError(f"{self.url}: give the hub's address as http://HOST:PORT (or https://HOST)")
        self.connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.host, self.port, self.base = parts.hostname, port, parts.path.rstrip("/")
        self.key = self.inst.key()
        self.ceiling, self.floor = self.chunk, min(self.min_chunk, self.chunk)
        self.streak = 0               # sized requests in a row that went through
        self.answered = False         # whether the hub has answered at all (a hub is up)

    def exchange(self, method: str, path: str, body: bytes = b"", content_type: str = JSON) -> Answer:
        """One signed request, retried on network failures and 5xx; the answer is not trusted yet."""
        return self.send(method, lambda size: (path, body), content_type, sized=False)

    def exchange_sized(self, method: str, build: "Callable[[int], tuple[str, bytes]]",
                       content_type: str = JSON) -> Answer:
        """A chunk's request: `build(size)` gives its path and body for the chunk size of the
        moment, asked again before each try, so the try after a cut asks for less."""
        return self.send(method, build, content_type, sized=True)

    def send(self, method: str, build: "Callable[[int], tuple[str, bytes]]", content_type: str,
                sized: bool) -> Answer:
        deadline = None if self.answered else time.monotonic() + self.first_contact
        last: "Exception | None" = None
        for attempt in range(self.attempts):
            timeout = self.timeout
            if attempt:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                delay *= 0.5 + random.random() / 2  # jitter: schools do not retry in step
                if deadline is not None:
                    delay = min(delay, deadline - time.monotonic())
                self.sleep(max(0.0, delay))
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    break
            path, body = build(self.chunk)
            path = self.base + path
            conn = self.connection(self.host, self.port, timeout=timeout)
            try:
                headers = {**auth.sign(self.key, method, path, body), "Content-Type": content_type}
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except ssl.SSLCertVerificationError as e:
                last = e
                break  # the same certificate again would fail the same way
            except (OSError, http.client.HTTPException) as e:
                last = e
                if sized:
                    self.cut()
                continue
            finally:
                conn.close()
            self.answered = True
            if response.status >= 500:
                last = SyncError(f"the hub answered HTTP {response.status}")
                continue
            if sized:
                self.went_through()
            return Answer(response.status, data, auth.answer_signer(response.headers), auth.answer_text(
                method, path, headers[auth.TIME], headers[auth.NONCE], response.status, data))
        raise self.failure(last, deadline is not None)

    def cut(self) -> None:
        self.chunk, self.streak = max(self.floor, self.chunk // 2), 0

    def went_through(self) -> None:
        self.streak += 1
        if self.streak >= GROW_AFTER:
            self.chunk, self.streak = min(self.ceiling, self.chunk * 2), 0

    def failure(self, last: "Exception | None", first_contact: bool) -> SyncError:
        """One line on what went wrong and what to check; it promises no retry (none is made)."""
        if isinstance(last, SyncError):
            return SyncError(f"{last} to every try; check the hub's log")
        if isinstance(last, ssl.SSLCertVerificationError):
            return SyncError(f"the hub at {self.url} did not answer with a certificate this server trusts "
                             f"({last.verify_message}): check the address, and that the hub's certificate is "
                             "installed here")
        if not first_contact:
            return SyncError(f"the link to the hub at {self.url} failed {self.attempts} times in a row ({last}); "
                             "check the network; what arrived is kept and the next push or pull continues from there")
        if isinstance(last, ConnectionRefusedError):
            return SyncError(f"nothing answers at {self.url} (connection refused): check the address, and that "
                             "the hub is switched on and running `kit serve`")
        if last is None or isinstance(last, (TimeoutError, http.client.RemoteDisconnected)):
            return SyncError(f"the hub at {self.url} did not answer within {self.first_contact:.0f} s: check the "
                             "address, that this server is on the hub's network, and that the hub is not overloaded")
        return SyncError(f"cannot reach the hub at {self.url} ({last}): check the address and this server's network")

    def call(self, method: str, path: str, body: bytes = b"", content_type: str = JSON) -> "tuple[int, bytes]":
        """(status, body) of an answer signed by the enrolled hub, or SyncError/TrustError."""
        answer = self.exchange(method, path, body, content_type)
        self.check_signed(answer)
        return answer.status, answer.data

    def call_sized(self, method: str, build: "Callable[[int], tuple[str, bytes]]",
                   content_type: str = JSON) -> "tuple[int, bytes]":
        """(status, body) of a chunk's request (see exchange_sized), signed by the enrolled hub."""
        answer = self.exchange_sized(method, build, content_type)
        self.check_signed(answer)
        return answer.status, answer.data

    def check_signed(self, answer: Answer) -> None:
        if answer.signer is None:
            raise SyncError(f"{self.url} answered without a hub's signature: it is not a kit hub (or an older "
                            "kit), or something on the way changed the answer")
        key_id, signature = answer.signer
        key = self.hub or trusted_key(self.inst.db, key_id, roles=("hub",))
        if key is None:
            raise TrustError(f"{self.url} answers as {key_id[:32]!r}, which is not a hub enrolled here; "
                             "enrol it first (`kit sync enrol`)")
        if key.key_id != key_id:
            raise SyncError(f"{self.url} answered as {key_id[:32]!r} after answering as hub {key.key_id}")
        if not key.verify(signature, answer.signed_text):
            raise SyncError(f"the answer from {self.url} is not signed by hub {key_id}'s key (forged, or "
                            "changed on the way)")
        self.hub = key

    def json(self, method: str, path: str, payload: "dict | None" = None, ok: tuple = (200,)) -> dict:
        status, data = self.call(method, path, json.dumps(payload or {}).encode() if method != "GET" else b"")
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if status not in ok:
            message = answer.get("error") if isinstance(answer, dict) else None
            error = {403: TrustError, 422: BundleError}.get(status, SyncError)
            raise error(f"the hub refused: {one_line(message) if isinstance(message, str) else f'HTTP {status}'}")
        if not isinstance(answer, dict):
            raise SyncError(f"the hub's answer to {path} is not a JSON object; are both sides the same kit version?")
        return answer

    def chunk_at(self, path: str, offset: int) -> bytes:
        """The bytes of the file at `path` from `offset`, as many as the link carries now."""
        status, data = self.call_sized("GET", lambda size: (f"{path}?offset={offset}&length={size}", b""))
        if status == 404:
            raise Gone(path)
        if status != 200:
            raise SyncError(f"the hub refused {path}: HTTP {status}")
        return data


class Gone(SyncError):
    """The hub no longer has what a checkpoint points at; start that transfer over."""


def one_line(text: str) -> str:
    """Text from elsewhere, made one printable line of bounded length."""
    return " ".join("".join(c if c.isprintable() else " " for c in text[:MAX_MESSAGE]).split())


def checked(answer: dict, name: str, kind: type, ok: Callable[[object], bool] = lambda v: True):
    """answer[name] if it has the type (bool is not an int here) and passes `ok`, else SyncError."""
    value = answer.get(name)
    if type(value) is not kind or not ok(value):
        raise SyncError(f"the hub's answer has no valid {name!r}; are both sides the same kit version?")
    return value


def vector_of(answer: dict) -> "dict[str, int]":
    return checked(answer, "vector", dict, lambda v: all(
        isinstance(d, str) and DEVICE_ID.fullmatch(d) and type(s) is int and s >= 0 for d, s in v.items()))


@dataclass
class SyncReport:
    hub: str
    pushed_events: int = 0
    pushed_new: int = 0
    pulled_events: int = 0
    pulled_new: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    resumed: list[str] = field(default_factory=list)
    packs: list[tuple[str, str]] = field(default_factory=list)


def hello(link: Link) -> dict:
    """Who answers, and what it holds: a hub this server enrolled (the answer's signature says
    so), naming itself by its own key. Both sides' sealing keys travel here, signed, before any
    bundle moves (kit.sync.seal). What the hub holds, dated on its clock, is its newest word, so a
    hub's bundle written before this, still on its way by stick, moves nothing back."""
    answer = link.json("POST", "/sync/hello", {"box": seal.own_box(link.inst)})
    hub = checked(answer, "device_id", str)
    if link.hub is None or hub != link.hub.key_id:
        raise TrustError(f"{link.url} signs as one hub and names another; check the address")
    vector = vector_of(answer)
    seal.learn(link.inst.db, hub, answer.get("box"))
    with transaction(link.inst.db):
        peers.note_contact(link.inst.db, hub)
        if type(answer.get("at")) is int:  # the hub's newest word on what it holds (a hub before it: none)
            peers.note_holds(link.inst.db, hub, vector, answer["at"])
    return answer


# --- checkpoints ------------------------------------------------------------------------------

def checkpoint(inst: Instance, tid: str) -> "dict | None":
    row = inst.db.execute("SELECT name, path, size, sha256, meta FROM sync_transfers WHERE id = ?", [tid]).fetchone()
    return None if row is None else {"name": row[0], "path": Path(row[1]), "size": row[2], "sha256": row[3],
                                     "meta": json.loads(row[4])}


def save_checkpoint(inst: Instance, tid: str, peer: str, direction: str, name: str, path: Path, size: int,
                    sha256: str, meta: "dict | None" = None) -> None:
    inst.db.execute("INSERT OR REPLACE INTO sync_transfers (id, peer, direction, name, path, size, sha256, meta, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [tid, peer, direction, name, str(path), size, sha256, json.dumps(meta or {}), time.time()])


def drop_checkpoint(inst: Instance, tid: str, *files: Path) -> None:
    for f in files:
        f.unlink(missing_ok=True)
    inst.db.execute("DELETE FROM sync_transfers WHERE id = ?", [tid])


def work_dir(inst: Instance, name: str) -> Path:
    folder = inst.data.tmp_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- push -------------------------------------------------------------------------------------

def push(inst: Instance, url: str, progress: "Progress | None" = None, **link_options) -> SyncReport:
    """Send the hub every event it lacks: first finish an interrupted upload, then the rest.
    `progress(bytes sent, bytes in all)` follows each file."""
    link = Link(url, inst, **link_options)
    hub = hello(link)["device_id"]
    report = SyncReport(hub)
    tid = f"push:{hub}"
    pending = checkpoint(inst, tid)
    if pending and pending["path"].exists():
        report.resumed.append(pending["path"].name)
        upload(link, inst, tid, hub, pending, report, progress)
    elif pending:
        drop_checkpoint(inst, tid)
    since = vector_of(hello(link))
    path = work_dir(inst, "sync-push") / f"to-{hub}.kitsync"
    made = export_bundle(inst, path, since, destination=hub)
    if made.path:
        name = sha256_file(made.path)
        save_checkpoint(inst, tid, hub, "push", name, made.path, made.bytes, name,
                        {"covers": {d: to for d, (_, to) in made.covers.items()}})
        upload(link, inst, tid, hub, checkpoint(inst, tid), report, progress)
    return report


def upload(link: Link, inst: Instance, tid: str, hub: str, pending: dict, report: SyncReport,
           progress: "Progress | None" = None) -> None:
    """Send the file from the byte the hub holds, each chunk sized to what the link carries."""
    name, path, size = pending["name"], pending["path"], pending["size"]
    received = checked(link.json("GET", f"/sync/push/{name}"), "received", int, lambda n: 0 <= n <= size)
    with open(path, "rb") as f:
        while received < size:
            if progress:
                progress(received, size)
            answer = put_chunk(link, f, name, received, size)
            report.bytes_sent += max(0, answer - received)
            received = answer
    if progress:
        progress(size, size)
    try:
        result = link.json("POST", f"/sync/push/{name}/done")
    except BundleError:
        drop_checkpoint(inst, tid, path)  # refused whole: sending it again cannot help
        raise
    report.pushed_events += checked(result, "events", int)
    report.pushed_new += checked(result, "new", int)
    with transaction(inst.db):
        peers.note_export(inst.db, hub, pending["meta"].get("covers", {}))
        drop_checkpoint(inst, tid, path)


def put_chunk(link: Link, f, name: str, offset: int, size: int) -> int:
    """Send the file's bytes from `offset`; the hub answers how many it holds now."""
    def request(length: int) -> "tuple[str, bytes]":
        f.seek(offset)
        return f"/sync/push/{name}?offset={offset}&size={size}", f.read(length)
    status, data = link.call_sized("PUT", request, "application/octet-stream")
    try:
        received = json.loads(data)["received"]
    except (ValueError, KeyError, TypeError):
        raise SyncError(f"the hub refused a chunk: HTTP {status}") from None
    if status not in (200, 409) or type(received) is not int or not 0 <= received <= size:
        raise SyncError(f"the hub refused a chunk: HTTP {status}")
    return received


# --- pull -------------------------------------------------------------------------------------

def pull(inst: Instance, url: str, install_pack: "Callable | None" = None, progress: "Progress | None" = None,
         **link_options) -> SyncReport:
    """Bring in every event this server lacks, then newer versions of installed packs.
    `progress(bytes received, bytes in all)` follows each file."""
    link = Link(url, inst, **link_options)
    hub = hello(link)["device_id"]
    report = SyncReport(hub)
    tid = f"pull:{hub}"
    for _ in range(2):  # a second round only if the hub forgot a download we had started
        pending = checkpoint(inst, tid)
        if pending is None:
            offer = link.json("POST", "/sync/pull", {"vector": scope.holds(inst.db)})
            if offer.get("name") is None:
                break
            name = checked(offer, "name", str, lambda n: bool(SHA256.fullmatch(n)))  # a bundle's sha256
            size = checked(offer, "size", int, lambda n: 0 < n <= MAX_ZIP)
            part = work_dir(inst, "sync-pull") / f"from-{hub}.part"
            part.unlink(missing_ok=True)
            save_checkpoint(inst, tid, hub, "pull", name, part, size, name)
            pending = checkpoint(inst, tid)
        elif pending["path"].exists():
            report.resumed.append(pending["name"])
        try:
            download(link, f"/sync/pull/{pending['name']}", pending, report, progress)
        except Gone:
            drop_checkpoint(inst, tid, pending["path"])
            continue
        bundle = pending["path"].with_suffix(".kitsync")
        os.replace(pending["path"], bundle)
        try:
            result = import_bundle(inst, bundle)
        finally:
            drop_checkpoint(inst, tid, bundle)
        report.pulled_events, report.pulled_new = result.events, result.new
        break
    pull_packs(inst, link, report, install_pack)
    return report


def download(link: Link, path: str, pending: dict, report: SyncReport, progress: "Progress | None" = None) -> None:
    """Fetch into the .part file from the byte where it stops, durable chunk by chunk, then check it."""
    part, size = pending["path"], pending["size"]
    have = part.stat().st_size if part.exists() else 0
    with open(part, "ab") as f:
        while have < size:
            if progress:
                progress(have, size)
            data = link.chunk_at(path, have)
            if not data:
                raise SyncError(f"the hub sent nothing at offset {have} of {size}")
            f.write(data[: size - have])
            f.flush()
            os.fsync(f.fileno())
            have += len(data[: size - have])
            report.bytes_received += len(data)
    if progress:
        progress(size, size)
    if sha256_file(part) != pending["sha256"]:
        part.unlink()
        raise SyncError("a download arrived damaged and was dropped; pull again to fetch it anew")
    fsync_dir(part.parent)


def pull_packs(inst: Instance, link: Link, report: SyncReport, install_pack: "Callable | None") -> None:
    """Newer versions of the packs installed here, fetched resumably, installed only through
    kit.content.install (which verifies the publisher's signature and every member)."""
    from ..content.install import version_key
    if install_pack is None:
        from ..content.install import install_pack
    installed = {pid: version for pid, version in inst.db.execute("SELECT id, version FROM packs")}
    for pack in published(link):
        pid, version, name = pack["id"], pack["version"], pack["file"]
        if pid not in installed or version_key(version) <= version_key(installed[pid]):
            continue
        tid = f"pack:{name}"
        pending = checkpoint(inst, tid)
        if pending is None or pending["sha256"] != pack["sha256"]:
            part = work_dir(inst, "sync-packs") / f"{name}.part"
            part.unlink(missing_ok=True)
            save_checkpoint(inst, tid, report.hub, "pack", name, part, pack["size"], pack["sha256"])
            pending = checkpoint(inst, tid)
        try:
            download(link, f"/sync/packs/{name}", pending, report)
            final = pending["path"].with_name(name)
            os.replace(pending["path"], final)
            result = install_pack(inst.data, inst.db, final)
            report.packs.append((name, f"{result.action} {result.pack_id} {result.version}"))
            drop_checkpoint(inst, tid, final)
        except Gone:
            drop_checkpoint(inst, tid, pending["path"])
        except KitError as e:
            report.packs.append((name, f"refused: {e}"))
            drop_checkpoint(inst, tid, pending["path"], pending["path"].with_name(name))


def published(link: Link) -> list[dict]:
    """The hub's list of packs, each entry checked before its name may name a file here:
    exactly `<id>-<version>.kitpack` for its own id and version, a sane size, a sha256."""
    from ..content.pack import MAX_PACK_BYTES
    listed = link.json("GET", "/sync/packs").get("packs")
    if not isinstance(listed, list):
        raise SyncError("the hub's list of packs is malformed; are both sides the same kit version?")
    packs = []
    for pack in listed:
        file = pack.get("file") if isinstance(pack, dict) else None
        m = PACK_FILE.fullmatch(file) if isinstance(file, str) else None
        if not m or (m["id"], m["version"]) != (pack.get("id"), pack.get("version")):
            raise SyncError(f"the hub lists a pack file that is not named <id>-<version>.kitpack "
                            f"({one_line(repr(pack))[:80]}); refused")
        checked(pack, "size", int, lambda n: 0 < n <= MAX_PACK_BYTES)
        checked(pack, "sha256", str, lambda h: bool(SHA256.fullmatch(h)))
        packs.append(pack)
    return packs


# --- enrolment by code, and the loop ----------------------------------------------------------

def enrol_with_code(inst: Instance, url: str, code: str) -> enrol.Enrolment:
    """Send this server's enrolment MACed with the code; trust the hub's answer if its MAC
    proves the hub knows the same code."""
    link = Link(url, inst, attempts=3)
    mine = enrol.own_enrolment(inst).text()
    key = enrol.code_key(code)
    reply = link.exchange("POST", "/sync/enrol", json.dumps({"enrolment": mine, "mac": enrol.mac(key, mine)}).encode())
    try:
        answer = json.loads(reply.data)
    except ValueError:
        answer = None
    answer = answer if isinstance(answer, dict) else {}
    if reply.status != 200:
        message = answer.get("error")
        raise TrustError(f"the hub refused the enrolment: "
                         f"{one_line(message) if isinstance(message, str) else f'HTTP {reply.status}'}")
    text = answer.get("enrolment", "")
    if not isinstance(text, str) or not enrol.hmac.compare_digest(enrol.mac(key, text), str(answer.get("mac"))):
        raise TrustError("the hub's answer is not signed with the code; is this the right address?")
    hub = enrol.parse_enrolment(text, "the hub's answer")
    # The code proves who sent the key; the answer's signature proves the sender holds it.
    if reply.signer is None or reply.signer[0] != hub.device_id or not hub.key.verify(reply.signer[1], reply.signed_text):
        raise TrustError("the hub's answer is not signed by the key it sends; is this the right address?")
    enrol.accept(inst.db, hub, "hub")
    return hub


def sync_once(inst: Instance, url: str, **link_options) -> "tuple[SyncReport, SyncReport]":
    return push(inst, url, **link_options), pull(inst, url, **link_options)


def auto(inst: Instance, url: str, interval: float, rounds: "int | None" = None,
         on_round: "Callable[[object], None] | None" = None, sleep: Callable[[float], None] = time.sleep) -> int:
    """Push and pull every `interval` seconds, whenever the hub answers; `rounds` bounds the
    loop (None: forever). Each round's result, or the error that stopped it, goes to on_round.
    Returns how many rounds succeeded."""
    done = ok = 0
    while rounds is None or done < rounds:
        try:
            result: object = sync_once(inst, url, attempts=3)
            ok += 1
        except KitError as e:
            result = e
        except OSError as e:  # this server's own disk (a full card): say so, try again next round
            result = SyncError(f"cannot write here ({e.strerror or e}); free some space")
        done += 1
        if on_round:
            on_round(result)
        if rounds is None or done < rounds:
            sleep(interval)
    return ok
