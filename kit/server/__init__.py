"""The web: installed content and learners' events turned into pages, and answers into events.

`create_app(config)` builds the Flask app for one data dir; `kit serve` runs it under waitress.
Blueprints by audience: `site` (what every page shares: stylesheet, media, language, errors),
`learn` (sign-in, courses, lessons, quizzes, search), `coach` (/staff: teachers' progress
reports and the admin's roster forms) and `hub` (/sync: signed JSON for other kit servers).
Views are thin: they call kit.core.roster, kit.core.progress, kit.content.library and
kit.sync, and render or answer.

Config keys (a dict): DATA (the data dir; required), DEFAULT_LANG ("fr"), SESSION_DAYS (60),
SECURE_COOKIES (False: a hotspot serves plain http; set True behind https), TESTING.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from ..core.config import DataDir
from ..content.search import update_index
from ..core.errors import ConfigError
from ..core.instance import open_instance
from . import compression, csrf, hub, i18n, sessions, site, store
from .caches import CONTENT_SIZE, PROGRESS_SIZE, Cache


def create_app(config: "Mapping[str, Any] | None" = None) -> Flask:
    config = dict(config or {})
    data = config.pop("DATA", None)
    data = data if isinstance(data, DataDir) else DataDir.resolve(data)
    inst = open_instance(data)          # refuses a folder that is not a data dir; migrates it
    try:
        update_index(data.index_dir, inst.db)  # the database is the truth; the index follows it
    finally:
        inst.close()

    default_lang = config.pop("DEFAULT_LANG", "fr")
    if default_lang not in i18n.LANGS:
        raise ConfigError(f"default language {default_lang!r} is not one of {', '.join(i18n.LANGS)}")
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=data.secret(),
        SESSION_COOKIE_NAME="kit",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config.pop("SECURE_COOKIES", False)),
        # A shared phone stays signed in for weeks; the cookie is not re-sent on every page.
        PERMANENT_SESSION_LIFETIME=timedelta(days=int(config.pop("SESSION_DAYS", 60))),
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=256 * 1024,
        KIT_BUILD=build_id(),  # page validators change when the server's pages change
    )
    app.config.update(config)
    app.session_interface = sessions.SignedCookies()
    store.init_app(app, data)
    app.extensions["progress"] = Cache(PROGRESS_SIZE)   # kit.server.caches says why each is right
    app.extensions["content"] = Cache(CONTENT_SIZE)
    app.jinja_options = {"trim_blocks": True, "lstrip_blocks": True,   # fewer bytes on the wire
                         # every template kept in a plain dict: the kit's templates are a fixed few,
                         # and jinja's LRU took a lock and a list scan at each page and each include
                         "cache_size": -1}

    i18n.init_app(app, default_lang)
    # The hub's endpoints are for machines, each request signed by a device key: no form tokens.
    csrf.init_app(app, exempt=[hub.bp])
    site.init_app(app)
    from .learn import bp as learn_bp
    app.register_blueprint(learn_bp)
    app.register_blueprint(hub.bp)
    from .coach import bp as coach_bp
    app.register_blueprint(coach_bp)
    compression.init_app(app)
    return app


def build_id() -> str:
    """A hash of the templates, stylesheet and translations: an upgrade of the kit changes
    every page's ETag, a restart does not (phones keep their cached lessons)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(p for folder in ("templates", "static", "translations")
                       for p in (root / folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]
