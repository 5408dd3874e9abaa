"""Markdown → sanitized HTML, once, at pack build time.

A school server never runs a Markdown parser per request, and never trusts an author's
HTML: whatever the source says, the output has no scripts, no event handlers, no styles and
no `javascript:` links. `![label](media/x.mp3)` becomes a plain `<audio controls>` player.
In a right-to-left language the formulas are isolated here too (kit.content.bidi), so an
Arabic "10% من 400 = 40" keeps its written order; other languages' HTML is not touched.
"""

from __future__ import annotations

import html as htmlib
import re

import markdown
import nh3

from .bidi import is_rtl, isolate

EXTENSIONS = ["tables", "footnotes", "attr_list", "fenced_code", "sane_lists", "def_list", "abbr"]

ALLOWED_TAGS = {
    "a", "abbr", "audio", "b", "bdi", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "source", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "audio": {"src", "controls", "preload"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "abbr": {"title"},
}
AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".m4a", ".wav", ".opus")
_IMG = re.compile(r'<img alt="([^"]*)" src="([^"]+)"\s*/?>')


_markdown = markdown.Markdown(extensions=EXTENSIONS, output_format="html",
                              # no English tooltip inside an Arabic lesson
                              extension_configs={"footnotes": {"BACKLINK_TITLE": ""}})  # reused: setup is costly


def render_markdown(text: str, lang: str) -> str:
    """Render an author's Markdown, in language `lang`, to HTML that is safe to serve as is."""
    html = _markdown.reset().convert(text)
    html = _IMG.sub(_media_tag, html)
    return directed(sanitize(html), lang)


def directed(html: str, lang: "str | None") -> str:
    """Sanitized HTML with its formulas isolated when `lang` reads right to left."""
    return isolate(html) if is_rtl(lang) else html


_HEADING = re.compile(r"<(/?)h([1-6])\b")
_LEADING_HEADING = re.compile(r"\s*<h2\b[^>]*>(.*?)</h2>\s*", re.S)


def render_lesson(text: str, title: str, lang: str) -> str:
    """A lesson's body under the page's own <h1>, its title: the author's headings move one
    level down (a "# ..." section is an <h2>), and a first heading that only repeats the title
    is dropped, so a learner sees the title they tapped once, at the top."""
    html = _HEADING.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}", render_markdown(text, lang))
    first = _LEADING_HEADING.match(html)
    if first and _plain(first.group(1)) == _plain(title):
        html = html[first.end():]
    return html


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split()).casefold()


def render_inline(text: str, lang: str) -> str:
    """Render one line of Markdown (a question, an answer) without the wrapping <p>."""
    html = render_markdown(text, lang).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def render_text(text: str, fmt: str, lang: "str | None") -> str:
    """A quiz text a learner reads, written in `fmt` (markdown, html, plain or moodle), as safe
    HTML; `lang` None leaves formulas as they are (a pack's texts, isolated when it was built)."""
    if not text:
        return ""
    if fmt == "markdown":
        return render_inline(text, lang or "")
    if fmt == "html":
        return directed(sanitize(text), lang)
    return directed(htmlib.escape(text).replace("\n", "<br>"), lang)  # plain, moodle


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer",
                     strip_comments=True)


def _media_tag(match: "re.Match[str]") -> str:
    alt, src = match.group(1), match.group(2)
    if src.lower().endswith(AUDIO_EXTENSIONS):
        return f'<audio controls preload="none" src="{src}">{alt}</audio>'
    return f'<img alt="{alt}" src="{src}" loading="lazy">'


def local_links(html: str) -> list[str]:
    """The relative src/href targets of rendered HTML (media the pack must carry)."""
    found = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    return [u for u in found if not re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", u, re.I)]
