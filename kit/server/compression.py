"""Gzip for text responses, when the client says it accepts it.

Pages on a crowded hotspot are mostly text and shrink four to five times; media are already
compressed and go out as they are (and files streamed from disk are never buffered here).
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from flask import Flask, Response, request
from werkzeug.http import parse_accept_header

COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
MIN_SIZE = 200        # below this, gzip's own header costs more than it saves


def should_compress(resp: Response) -> bool:
    return (resp.mimetype.startswith(COMPRESSIBLE) and not resp.direct_passthrough
            and "Content-Encoding" not in resp.headers and resp.status_code not in (204, 206, 304))


@lru_cache(maxsize=256)
def gzip_accepted(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip: parsed once per header (a class's phones
    send two or three different ones), not on every response."""
    return parse_accept_header(header)["gzip"] > 0


def compress(resp: Response) -> Response:
    if not should_compress(resp):
        return resp
    resp.vary.add("Accept-Encoding")
    body = resp.get_data()
    if len(body) < MIN_SIZE or not gzip_accepted(request.headers.get("Accept-Encoding", "")):
        return resp
    # Pages set weak ETags only: a weak validator stays right for the gzipped bytes.
    resp.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    resp.headers["Content-Encoding"] = "gzip"
    return resp


def init_app(app: Flask) -> None:
    app.after_request(compress)
