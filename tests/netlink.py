"""A hub served by a real waitress on loopback, and a bad link in front of it: a TCP proxy
that throttles (bytes per second), delays (latency each way) and cuts connections; and a TLS
front (an https:// address for a hub, with a self-signed certificate made on the spot)."""

from __future__ import annotations

import datetime
import heapq
import ipaddress
import random
import socket
import ssl
import struct
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import waitress
from flask import Flask

from kit.core.config import DataDir
from kit.server import hub, store as kit_store


@contextmanager
def waitress_on_loopback(app, threads: int = 4) -> Iterator[int]:
    """`app` under a real waitress on a free loopback port, in a thread; yields the port. Stopped
    by its own loop: `server.close()` from another thread can pull a socket from under its
    select() (EBADF in that thread)."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        server.asyncore.close_all(server._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        stopping.set()
        thread.join(5)


@contextmanager
def served(data: DataDir):
    """The sync endpoints of one data dir on a free loopback port; yields the base URL."""
    app = Flask("hub")
    store = kit_store.init_app(app, data)
    app.register_blueprint(hub.bp)
    try:
        with waitress_on_loopback(app) as port:
            yield f"http://127.0.0.1:{port}"
    finally:
        store.close()


class BadLink:
    """Forwards 127.0.0.1:<port> to `upstream`. Each direction is delayed by `latency` s and
    limited to `rate` bytes/s; with probability `cut_chance` a connection is reset after a
    random number of bytes (up to `cut_within`); `down` makes it refuse everything, and
    `fail_after` sets `down` once that many bytes went through."""

    def __init__(self, upstream: str, rate: float = 0, latency: float = 0, cut_chance: float = 0,
                 cut_within: int = 40_000, seed: int = 0):
        host, port = upstream.rsplit("//", 1)[1].split(":")
        self.upstream = (host, int(port))
        self.rate, self.latency, self.cut_chance, self.cut_within = rate, latency, cut_chance, cut_within
        self.random = random.Random(seed)
        self.down = False
        self.fail_after: "int | None" = None  # after this many bytes in all, go down
        self.cuts = 0
        self.bytes = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.closed = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def accept_loop(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                reset(client)
                continue
            budget = self.random.randrange(1, self.cut_within) if self.random.random() < self.cut_chance else None
            state = {"left": budget, "open": True}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(a, b, state, (client, server)), daemon=True).start()

    def pump(self, src: socket.socket, dst: socket.socket, state: dict, pair) -> None:
        """Read as it comes; deliver each piece `latency` later, paced to `rate`."""
        pending: list = []
        lock = threading.Condition()
        done = []

        def deliver():
            sent_until = time.monotonic()
            while True:
                with lock:
                    while not pending and not done:
                        lock.wait()
                    if not pending:
                        break
                    due, _, data = heapq.heappop(pending)
                time.sleep(max(0, due - time.monotonic()))
                for i in range(0, len(data), 1024):
                    piece = data[i:i + 1024]
                    if self.rate:
                        sent_until = max(sent_until, time.monotonic()) + len(piece) / self.rate
                        time.sleep(max(0, sent_until - time.monotonic()))
                    if not self.spend(state, len(piece), pair):
                        return
                    try:
                        dst.sendall(piece)
                    except OSError:
                        return
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        writer = threading.Thread(target=deliver, daemon=True)
        writer.start()
        counter = 0
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with lock:
                if data:
                    counter += 1
                    heapq.heappush(pending, (time.monotonic() + self.latency, counter, data))
                else:
                    done.append(True)
                lock.notify()
            if not data:
                break
        writer.join()

    def spend(self, state: dict, n: int, pair) -> bool:
        self.bytes += n
        if self.fail_after is not None and self.bytes >= self.fail_after:
            self.down, state["open"] = True, False
            for s in pair:
                reset(s)
            return False
        if state["left"] is None:
            return state["open"]
        state["left"] -= n
        if state["left"] <= 0 and state["open"]:
            state["open"] = False
            self.cuts += 1
            for s in pair:
                reset(s)
        return state["open"]


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a dropped link looks to the other end."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked on it (close alone would not)
    except OSError:
        pass
    sock.close()


def self_signed(folder: Path) -> "tuple[Path, Path]":
    """A certificate for 127.0.0.1 that is its own authority, and its key: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kit test hub")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextmanager
def tls_front(upstream: str, cert: Path, key: Path):
    """https://127.0.0.1:<port> in front of the plain `upstream` URL; yields the https URL."""
    host, port = upstream.rsplit("//", 1)[1].split(":")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Event()

    def copy(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve(raw: socket.socket) -> None:
        try:
            client = context.wrap_socket(raw, server_side=True)
            server = socket.create_connection((host, int(port)))
        except OSError:  # a client that does not trust the certificate hangs up in the handshake
            raw.close()
            return
        threading.Thread(target=copy, args=(server, client), daemon=True).start()
        copy(client, server)

    def accept_loop() -> None:
        while not closed.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(raw,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        closed.set()
        listener.close()
