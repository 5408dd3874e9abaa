"""Languages of the web pages: which one a request gets, and the catalogs that translate it.

The catalogs are the .po files in translations/, read with babel when the app starts (no
compile step, no .mo files). A learner's choice (the fr / ar / en switcher) is kept in a
cookie and wins over the browser's Accept-Language. English is the source language: the
English catalog may leave a message untranslated, French and Arabic may not (a test checks).
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from flask import Flask, g, request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGS = ("fr", "ar", "en")
RTL = frozenset({"ar"})
# Each language named in itself, for the switcher.
NATIVE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}
LANG_COOKIE = "lang"
CATALOGS = Path(__file__).parent / "translations"


def load_catalogs(folder: Path = CATALOGS) -> "dict[str, Translations]":
    """{lang: gettext translations} built in memory from each <lang>.po."""
    out = {}
    for lang in LANGS:
        with open(folder / f"{lang}.po", "rb") as f:
            catalog = read_po(f, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)        # fuzzy entries are left out, as gettext would
        buf.seek(0)
        out[lang] = Translations(buf)
    return out


def choose_lang(cookie: "str | None", accept: "list[tuple[str, float]]", default: str) -> str:
    """The learner's saved choice, else the first of the browser's languages we have
    ('ar-MA' counts as 'ar'), else the server's default."""
    if cookie in LANGS:
        return cookie
    for value, _quality in sorted(accept, key=lambda vq: -vq[1]):
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in LANGS:
            return primary
    return default


@lru_cache(maxsize=512)
def lang_of_request(cookie: "str | None", accept_language: str, default: str) -> str:
    """choose_lang for a request's raw lang cookie and Accept-Language header. A classroom's
    phones send a handful of distinct headers; each is parsed once, not on every request."""
    return choose_lang(cookie, list(parse_accept_header(accept_language, LanguageAccept)), default)


def gettext(message: str, **variables) -> str:
    text = g.translations.gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    variables.setdefault("num", n)
    return g.translations.ngettext(singular, plural, n) % variables


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; it is translated where shown."""
    return message


def number(value: float) -> str:
    return _formatted(format_decimal, value, g.lang)


def percent(value: float) -> str:
    return _formatted(format_percent, value, g.lang)


@lru_cache(maxsize=4096, typed=True)   # typed: 1 and 1.0 are kept apart
def _formatted(babel_format: Callable[..., str], value: float, lang: str) -> str:
    """Babel takes tens of µs per number; a quiz page shows a few small numbers (question n of
    m, a score) that repeat from page to page, so each is formatted once per language."""
    return babel_format(value, locale=lang)


def date_from_ms(ms: int) -> str:
    return babel_format_date(datetime.fromtimestamp(ms / 1000, timezone.utc).date(), format="medium", locale=g.lang)


@pass_context
def page_gettext(context: Context, message: str, **variables) -> str:
    """`{{ _("…", name=value) }}` in a template, as jinja's newstyle gettext does it: the
    translation is markup, the values are escaped into it. A page calls it a dozen times:
    this skips jinja's second call through the context, and the formatting (Markup's %, which
    wraps every value) of a message that has no % in it: the same text, for less work."""
    text = g.translations.gettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


def language_switcher() -> Markup:
    """The fr / ar / en links of every page, each back to this page in that language. Drawn in
    a template it was a tenth of a page's rendering; the same few pages ask for it all day."""
    return _switcher(g.lang, g.translations.gettext("Language"), request.full_path.rstrip("?"))


@lru_cache(maxsize=1024)
def _switcher(current: str, label: str, here: str) -> Markup:
    back = quote(here, safe="/")   # leaves nothing HTML would read
    links = "".join(f'<a href="/lang/{code}?next={back}" lang="{code}"'
                    + (' aria-current="true"' if code == current else "") + f">{NATIVE_NAMES[code]}</a>"
                    for code in LANGS)
    return Markup(f'<nav class="langs" aria-label="{label}">\n{links}</nav>')   # a translation is markup


def init_app(app: Flask, default_lang: str) -> None:
    catalogs = load_catalogs()

    @app.before_request
    def pick_language() -> None:
        cookie = request.cookies.get(LANG_COOKIE)   # only a language we have is a cache key
        g.lang = lang_of_request(cookie if cookie in LANGS else None, request.headers.get("Accept-Language", ""),
                                 default_lang)
        g.translations = catalogs[g.lang]
        g.rtl = g.lang in RTL

    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        lambda s: g.translations.gettext(s), lambda s, p, n: g.translations.ngettext(s, p, n), newstyle=True)
    app.jinja_env.globals.update(_=page_gettext, gettext=page_gettext)
    app.jinja_env.filters.update(number=number, percent=percent, date_from_ms=date_from_ms)
    app.jinja_env.globals["language_switcher"] = language_switcher
