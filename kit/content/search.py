"""Full-text search over installed lessons: a whoosh index derived from kit.db.

The database is the truth. `update_index(data.index_dir, db)` brings the index in line with it
(the installer calls it after every change of packs, `kit serve` at start), and `search(...)`
or a long-lived `SearchService` answers a learner's query in one language.

What the index holds:
- one document per lesson and language: the pack, lesson and language ids, the title, and the
  lesson's text (title, HTML stripped to plain text, then its quiz's questions, not their answers),
  stored for display and snippets;
- one vocabulary document per pack and language: its words, folded and unstemmed, repeated
  by how many lessons use them (log scale) so that "did you mean" prefers common words, and
  how each is spelled in the lessons;
- one marker document per pack holding the pack's version and install time, written in the
  same commit as the pack's lessons. So what the index says it holds is always what it holds,
  and checking whether anything changed is one term lookup, not a pass over the lessons.

Fields per language, not one shared field: each language bucket of `analyzers` (fr, ar, en,
any) has its own `text_` (title, lesson and quiz, with character offsets for snippets) and
`title_` fields analysed with that language's analyzer, plus `words_` and `forms_` for
spelling. A whoosh field has one analyzer, so this is how each language gets its own stemmer
and stop words while sharing one index, one writer, one commit and one open searcher; a
language's term statistics (and so its ranking) are not skewed by the others; and a query in
one language cannot match a word of another.

Queries are never parsed with whoosh's query language: the learner's words go through the
same analyzer as the lessons and become terms, so quotes, colons, `*` or brackets are just
punctuation, `AND` or `NOT` just words, and nothing a learner types can raise. Every word must occur in the lesson (title, text or quiz);
words that also occur in the title add to the score. Matching all words in one field, with
the title as an optional extra, keeps whoosh's pure-Python matchers few: a query whose words
are in every one of 5,000 lessons is the slow case, and it is what a small library looks like.

The index is named with a version (`INDEX_NAME`); an index with another name, another set of
fields, or that cannot be read is rebuilt from the database in a fresh directory that then
replaces the old one.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import threading
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlite_utils
from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.highlight import Formatter, PinpointFragmenter, get_text
from whoosh.query import And, AndMaybe, Or, Query, Term
from whoosh.searching import Searcher
from whoosh.writing import LockError, SegmentWriter

from ..core.db import transaction
from ..core.errors import ConfigError
from .analyzers import ANY, LANGUAGES, STOP_WORDS, WORD, analyzer, bucket, words
from ..core.textfold import fold

# Bump when the schema or what the analyzers produce changes: older indexes are then rebuilt.
INDEX_NAME = "lessons_v2"   # v2: quizzes give their questions only, never their answers

TITLE_BOOST = 3.0
MAX_QUERY_CHARS = 200       # a search box, not a document: longer input is cut
MAX_QUERY_WORDS = 12
MAX_LIMIT = 100
SNIPPET_CHARS = 160
WRITER_LIMIT_MB = 32        # posting buffer before spilling to disk: room to spare on a 1 GB Pi
WRITER_LOCK_TIMEOUT = 300   # seconds to wait for another process's update to finish
CACHED_QUERIES = 256        # a classroom searches the same words: answer them from memory

_BUCKETS = LANGUAGES + (ANY,)


def _schema() -> Schema:
    fields: dict[str, Any] = {
        "kind": ID(),                   # lesson | vocabulary | pack
        "pack_id": ID(stored=True),
        "lesson_id": STORED(),
        "lang": ID(stored=True),
        "stamp": STORED(),              # pack marker: version and install time
        "title": STORED(),
        "text": STORED(),               # what text_<bucket> was made from, for snippets
    }
    for b in _BUCKETS:
        # Character offsets in the postings let snippets be cut without re-analysing the text.
        fields[f"text_{b}"] = TEXT(analyzer=analyzer(b), phrase=False, chars=True)
        fields[f"title_{b}"] = TEXT(analyzer=analyzer(b), phrase=False)
        fields[f"words_{b}"] = KEYWORD()
        fields[f"forms_{b}"] = KEYWORD()
    return Schema(**fields)


SCHEMA = _schema()


# ------------------------------------------------------------------------------------ records

@dataclass(frozen=True)
class Hit:
    pack_id: str
    lesson_id: str
    lang: str
    title: str              # plain text: escape it when rendering
    snippet_html: str       # safe HTML: escaped text with the matched words in <mark>


@dataclass
class SearchResults:
    hits: list[Hit] = field(default_factory=list)
    suggestion: "str | None" = None     # "did you mean", only when nothing matched
    total: int = 0                      # all matches, of which `hits` are the best


@dataclass
class IndexReport:
    indexed: list[str] = field(default_factory=list)    # packs (re)indexed
    removed: list[str] = field(default_factory=list)    # packs whose documents were deleted
    lessons: int = 0                                    # lesson documents written
    rebuilt: bool = False   # the index was missing, outdated or unreadable and was made anew

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.removed or self.rebuilt)


# ------------------------------------------------------------------------------------ updating

def update_index(index_dir: Path, db: sqlite_utils.Database) -> IndexReport:
    """Make the index hold exactly the installed packs; cheap when it already does."""
    index_dir = Path(index_dir)
    ix, rebuilt = _open_or_rebuild(index_dir)
    report = IndexReport(rebuilt=rebuilt)
    with ix.searcher() as searcher:
        if not any(_plan(_indexed_stamps(searcher), _pack_stamps(db))):
            return report
    writer = _writer(ix, index_dir)
    try:
        # Read the database only now, holding the index's lock, in one snapshot: if another
        # process updated the index while we waited, we start from its work and newer rows.
        with transaction(db, immediate=False):
            wanted = _pack_stamps(db)
            with writer.searcher() as searcher:
                report.indexed, report.removed = _plan(_indexed_stamps(searcher), wanted)
            for pack_id in report.indexed + report.removed:
                writer.delete_by_term("pack_id", pack_id)
            for pack_id in report.indexed:
                report.lessons += _index_pack(writer, db, pack_id, wanted[pack_id])
    except BaseException:
        writer.cancel()
        raise
    if not (report.indexed or report.removed):
        writer.cancel()
        return report
    writer.commit(optimize=_mostly_deleted(writer))
    return report


def _mostly_deleted(writer: SegmentWriter) -> bool:
    """Whether to merge every segment in this commit. Whoosh's own merge policy never reclaims
    a big segment's deleted lessons, so each upgrade of a big pack would add its full size on
    disk; rewriting everything costs time, so it is done once the dead outnumber the living."""
    deleted = sum(segment.deleted_count() for segment in writer.segments)
    return deleted * 2 > sum(segment.doc_count_all() for segment in writer.segments)


def index_size_bytes(index_dir: Path) -> int:
    """Bytes the index takes on disk (for the benchmarks)."""
    return sum(p.stat().st_size for p in Path(index_dir).rglob("*") if p.is_file())


def _pack_stamps(db: sqlite_utils.Database) -> dict[str, str]:
    # The install time catches a pack removed and installed again with the same version.
    rows = db.execute("SELECT id, version, installed_at FROM packs").fetchall()
    return {pack_id: f"{version} {installed_at}" for pack_id, version, installed_at in rows}


def _indexed_stamps(searcher: Searcher) -> dict[str, str]:
    return {d["pack_id"]: d["stamp"] for d in searcher.documents(kind="pack")}


def _plan(held: dict[str, str], wanted: dict[str, str]) -> tuple[list[str], list[str]]:
    """(packs to (re)index, packs to delete)."""
    stale = sorted(p for p, stamp in wanted.items() if held.get(p) != stamp)
    gone = sorted(set(held) - set(wanted))
    return stale, gone


def _writer(ix: whoosh_index.Index, index_dir: Path) -> SegmentWriter:
    try:
        return ix.writer(procs=1, limitmb=WRITER_LIMIT_MB, timeout=WRITER_LOCK_TIMEOUT)
    except LockError:
        raise ConfigError(f"the search index in {index_dir} is locked by another kit process; "
                          "try again when it has finished") from None


def _open_or_rebuild(index_dir: Path) -> tuple[whoosh_index.Index, bool]:
    """The index, opened and checked; made anew if missing, outdated or unreadable."""
    try:
        # exists_in reads the table of contents: it raises on garbage, not only on absence.
        if whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME):
            ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
            if ix.schema.names() == SCHEMA.names():
                with ix.searcher() as searcher:
                    _indexed_stamps(searcher)
                return ix, False
    # A derived cache that cannot be read, for whatever reason (truncated files, garbage, a
    # schema pickled by code that moved), is rebuilt from the truth, not diagnosed.
    except Exception:
        pass
    try:
        return _rebuild(index_dir), True
    except OSError as e:
        raise ConfigError(f"cannot write the search index in {index_dir} ({e.strerror or e}); "
                          "check that the data dir is writable") from e


def _rebuild(index_dir: Path) -> whoosh_index.Index:
    """An empty index in a fresh directory, swapped in for the old one.

    A new directory (not files deleted in place) lets an open SearchService notice the change
    by the directory's identity: generation numbers restart at zero in a new index."""
    fresh = index_dir.with_name(f".{index_dir.name}.new-{os.getpid()}")
    old = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    whoosh_index.create_in(str(fresh), SCHEMA, indexname=INDEX_NAME)
    shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(index_dir, old)
    except FileNotFoundError:   # no index yet, or another process is swapping it too
        pass
    try:
        os.replace(fresh, index_dir)
    except OSError:
        # Another process rebuilt it in the meantime: use theirs.
        shutil.rmtree(fresh, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)


# ---------------------------------------------------------------------------- pack documents

@dataclass
class _Lesson:
    lesson_id: str
    lang: str
    title: str
    text: str       # title (unless the lesson starts with it), lesson text, quiz text


class _Vocabulary:
    """The words of one pack in one language: in how many lessons, and how they are spelled."""

    def __init__(self) -> None:
        self.lessons: Counter[str] = Counter()
        self.spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def add(self, b: str, text: str) -> None:
        for folded, spelled in set(words(b, text)):
            self.lessons[folded] += 1
            self.spellings[folded][spelled] += 1

    def fields(self, b: str) -> dict[str, str]:
        # whoosh's corrector ranks by a word's frequency: repeat each word log2(lessons) times.
        weighted = (w for w, n in self.lessons.items() for _ in range(n.bit_length()))
        spelled = ((w, c.most_common(1)[0][0]) for w, c in self.spellings.items())
        # Only spellings that differ from the folded form: most English words need no entry.
        return {f"words_{b}": " ".join(weighted),
                f"forms_{b}": " ".join(f"{w}|{s}" for w, s in spelled if s != w)}


def _index_pack(writer: SegmentWriter, db: sqlite_utils.Database, pack_id: str, stamp: str) -> int:
    """Add a pack's lessons, vocabularies and marker; returns the number of lessons."""
    vocabularies: defaultdict[str, _Vocabulary] = defaultdict(_Vocabulary)
    count = 0
    for lesson in _lessons(db, pack_id):
        b = bucket(lesson.lang)
        writer.add_document(kind="lesson", pack_id=pack_id, lesson_id=lesson.lesson_id,
                            lang=lesson.lang, title=lesson.title, text=lesson.text,
                            **{f"text_{b}": lesson.text, f"title_{b}": lesson.title})
        vocabularies[lesson.lang].add(b, lesson.text)
        count += 1
    for lang, vocabulary in vocabularies.items():
        writer.add_document(kind="vocabulary", pack_id=pack_id, lang=lang,
                            **vocabulary.fields(bucket(lang)))
    writer.add_document(kind="pack", pack_id=pack_id, stamp=stamp)
    return count


def _lessons(db: sqlite_utils.Database, pack_id: str) -> Iterator[_Lesson]:
    quizzes = {(lesson_id, lang): quiz_text(quiz) for lesson_id, lang, quiz in db.execute(
        "SELECT lesson_id, lang, quiz FROM quizzes WHERE pack_id = ?", [pack_id])}
    rows = db.execute("SELECT lesson_id, lang, title, html FROM lessons WHERE pack_id = ? "
                      "ORDER BY position, lesson_id, lang", [pack_id])
    for lesson_id, lang, title, lesson_html in rows:
        title, body = _clean(title), plain_text(lesson_html)
        # Lessons usually open with their title as a heading: don't show it twice in snippets.
        parts = [body] if body.startswith(title) else [title, body]
        parts.append(quizzes.get((lesson_id, lang), ""))
        yield _Lesson(lesson_id, lang, title, " · ".join(p for p in parts if p))


class _TextExtractor(HTMLParser):
    """Text of sanitized lesson HTML: block elements become spaces, images their alt text."""

    _BREAKS = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3",
               "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption", "dt", "dd", "hr",
               "section", "article", "aside", "details", "summary"}
    _SKIPPED = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")
        elif tag == "img":
            self.parts.append(" " + (dict(attrs).get("alt") or "") + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(lesson_html: str) -> str:
    """The words of an HTML fragment, on one line, as stored for snippets."""
    parser = _TextExtractor()
    parser.feed(lesson_html or "")
    parser.close()
    return _clean("".join(parser.parts))


def quiz_text(quiz_json: str) -> str:
    """The question texts of a stored quiz. Never its answers: a search must not give away what
    a quiz asks (a short answer's accepted forms, the right option among the wrong ones)."""
    try:
        quiz = json.loads(quiz_json)
    except (TypeError, ValueError):
        return ""
    questions = quiz.get("questions") if isinstance(quiz, dict) else None
    texts = [plain_text(q["text"]) for q in (questions if isinstance(questions, list) else [])
             if isinstance(q, dict) and isinstance(q.get("text"), str)]  # Markdown or HTML: words only
    return " · ".join(t for t in texts if t)


_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    # NFC so that a decomposed `é` is one character: snippets are cut at character offsets.
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


# ----------------------------------------------------------------------------------- searching

class SearchService:
    """One open index shared by a server's threads, reopened only when the index changed.

    Searches are serialized by a lock: a whoosh searcher reads shared file handles and is not
    safe for concurrent use, and a search is CPU-bound Python, so threads would gain nothing
    from running side by side."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._snapshot: "_Snapshot | None" = None
        self._identity: "tuple[int, int] | None" = None

    def search(self, query: str, lang: str, limit: int = 20) -> SearchResults:
        limit = max(1, min(int(limit), MAX_LIMIT))
        with self._lock:
            snapshot = self._current()
            if snapshot is None:
                return SearchResults()
            found = snapshot.search(query[:MAX_QUERY_CHARS], lang, limit)
        return replace(found, hits=list(found.hits))  # answers are cached: give out a copy

    def close(self) -> None:
        with self._lock:
            self._close()

    def _current(self) -> "_Snapshot | None":
        """The index as it is now; None when there is no index yet."""
        try:
            stat = os.stat(self.index_dir)
        except FileNotFoundError:
            self._close()
            return None
        identity = (stat.st_dev, stat.st_ino)
        if self._snapshot is not None and identity == self._identity \
                and self._snapshot.searcher.up_to_date():
            return self._snapshot
        # Not Searcher.refresh(): in whoosh-reloaded 2.7.5 it reuses segment readers whose
        # deletions changed and keeps segments merged away, so deleted lessons come back.
        self._close()
        try:
            if not whoosh_index.exists_in(str(self.index_dir), indexname=INDEX_NAME):
                return None
            ix = whoosh_index.open_dir(str(self.index_dir), indexname=INDEX_NAME)
            self._snapshot = _Snapshot(ix.searcher())
        except Exception as e:  # whatever broke, the remedy is the same: rebuild from kit.db
            raise ConfigError(f"the search index in {self.index_dir} is unreadable ({type(e).__name__}); "
                              "restart `kit serve` or install a pack to rebuild it") from e
        self._identity = identity
        return self._snapshot

    def _close(self) -> None:
        if self._snapshot is not None:
            self._snapshot.searcher.close()
        self._snapshot, self._identity = None, None


# A server calls search() per request; keeping a few services open spares it opening the index
# each time. Bounded, so that tests making many data dirs do not pile up open files.
_SERVICES: OrderedDict[Path, SearchService] = OrderedDict()
_SERVICES_LOCK = threading.Lock()
_MAX_SERVICES = 4


def search(index_dir: Path, query: str, lang: str, limit: int = 20) -> SearchResults:
    """The lessons in `lang` that contain every word of `query`, best first."""
    key = Path(index_dir).resolve()
    with _SERVICES_LOCK:
        service = _SERVICES.get(key) or SearchService(key)
        _SERVICES[key] = service
        _SERVICES.move_to_end(key)
        while len(_SERVICES) > _MAX_SERVICES:
            _SERVICES.popitem(last=False)[1].close()
    return service.search(query, lang, limit)


class _Snapshot:
    """A searcher on one generation of the index, with what is worth keeping between searches
    on it: answers, each language's documents, and which lessons hold each term (as bitmaps,
    a bit per document, so that counting all matches is a few integer operations)."""

    MAX_BITMAPS = 4096

    def __init__(self, searcher: Searcher):
        self.searcher = searcher
        self._answers: OrderedDict[tuple[str, str, int], SearchResults] = OrderedDict()
        self._lang_docs: dict[str, set[int]] = {}
        self._bitmaps: dict[tuple[str, str], int] = {}

    def search(self, query: str, lang: str, limit: int) -> SearchResults:
        key = (query, lang, limit)
        if key not in self._answers:
            self._answers[key] = self._search(query, lang, limit)
            if len(self._answers) > CACHED_QUERIES:
                self._answers.popitem(last=False)
        self._answers.move_to_end(key)
        return self._answers[key]

    def _search(self, query: str, lang: str, limit: int) -> SearchResults:
        b = bucket(lang)
        word_forms = query_words(query, b)
        in_lang = self._lang_filter(lang)
        # An empty filter would mean "no filter" to whoosh: a language without lessons finds nothing.
        if not word_forms or not in_lang:
            return SearchResults()
        required = _required(word_forms, b)
        # The title clause only adds to the score; AndMaybe also lets whoosh stop scoring
        # lessons that can no longer reach the top `limit`.
        titles = Or([Term(f"title_{b}", f, boost=TITLE_BOOST) for forms in word_forms for f in forms])
        results = self.searcher.search(AndMaybe(required, titles), limit=limit, filter=in_lang, terms=True)
        if results.is_empty():
            return SearchResults(suggestion=_suggestion(self.searcher, query, b, in_lang))
        results.fragmenter = PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=40, autotrim=True)
        results.formatter = MarkFormatter()
        hits = [Hit(pack_id=hit["pack_id"], lesson_id=hit["lesson_id"], lang=hit["lang"],
                    title=hit["title"], snippet_html=_snippet(hit, b)) for hit in results]
        return SearchResults(hits=hits, total=self._total(word_forms, b, lang))

    def _lang_filter(self, lang: str) -> set[int]:
        """The documents of a language, as the set whoosh filters with. Never changed once
        made (whoosh wants a `set`, not a `frozenset`)."""
        if lang not in self._lang_docs:
            self._lang_docs[lang] = set(self.searcher.docs_for_query(Term("lang", lang)))
        return self._lang_docs[lang]

    def _total(self, word_forms: list[list[str]], b: str, lang: str) -> int:
        """How many lessons in `lang` hold every word. Counted here, not by whoosh: its count
        ignores the filter once it has skipped blocks, and re-runs the whole query."""
        matches = self._bitmap("lang", lang)
        for forms in word_forms:
            word = 0
            for form in forms:
                word |= self._bitmap(f"text_{b}", form)
            matches &= word
        return bin(matches).count("1")

    def _bitmap(self, fieldname: str, text: str) -> int:
        key = (fieldname, text)
        if key not in self._bitmaps:
            if len(self._bitmaps) >= self.MAX_BITMAPS:
                self._bitmaps.clear()
            if fieldname == "lang":
                docs: Iterable[int] = self._lang_filter(text)
            elif self.searcher.reader().doc_frequency(fieldname, text):
                docs = self.searcher.postings(fieldname, text).all_ids()
            else:
                docs = ()
            bits = bytearray(self.searcher.doc_count_all() // 8 + 1)
            for doc in docs:
                bits[doc >> 3] |= 1 << (doc & 7)
            self._bitmaps[key] = int.from_bytes(bits, "little")
        return self._bitmaps[key]


def query_words(query: str, b: str) -> list[list[str]]:
    """The forms of each word of a query, through the same analyzer as the lessons."""
    by_position: dict[int, list[str]] = {}
    tokens = SCHEMA[f"text_{b}"].analyzer(query[:MAX_QUERY_CHARS], positions=True, mode="query")
    for token in tokens:
        by_position.setdefault(token.pos, []).append(token.text)
    return list(by_position.values())[:MAX_QUERY_WORDS]


def _required(word_forms: list[list[str]], b: str) -> Query:
    """Every word, in any of its forms, in the lesson's text (which includes its title)."""
    return And([Or([Term(f"text_{b}", f) for f in forms]) for forms in word_forms])


class MarkFormatter(Formatter):
    """Matched words in <mark>, everything else HTML-escaped."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text)

    def format_token(self, text: str, token, replace: bool = False) -> str:
        return "<mark>" + html.escape(get_text(text, token, replace)) + "</mark>"

    def format_fragment(self, fragment, replace: bool = False) -> str:
        # Say where the fragment was cut out of a longer text.
        before = "… " if fragment.startchar > 0 else ""
        after = " …" if fragment.endchar < len(fragment.text) else ""
        return before + super().format_fragment(fragment, replace) + after

    def format(self, fragments, replace: bool = False) -> str:
        return " ".join(self.format_fragment(f, replace) for f in fragments).replace("… …", "…")


def _snippet(hit, b: str) -> str:
    """The passages where the words matched; the text's beginning if only the title did."""
    text = hit.get("text") or ""
    snippet = hit.highlights(f"text_{b}", text=text, top=2)
    if snippet:
        return snippet
    cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0] if len(text) > SNIPPET_CHARS else text
    return html.escape(cut) + (" …" if len(cut) < len(text) else "")


# ------------------------------------------------------------------------------ did you mean

def _suggestion(searcher: Searcher, query: str, b: str, in_lang: set[int]) -> "str | None":
    """The query with each unknown word replaced by the closest word of the index in the
    language, as the lessons spell it; None if no word changed or the correction finds nothing."""
    reader = searcher.reader()
    corrector = reader.corrector(f"words_{b}")
    changed, out = False, []
    for match in list(WORD.finditer(query[:MAX_QUERY_CHARS]))[:MAX_QUERY_WORDS]:
        word, folded = match.group(), fold(match.group())
        fix = None
        if len(folded) >= 3 and folded not in STOP_WORDS[b] \
                and not reader.doc_frequency(f"words_{b}", folded):
            fix = _closest(corrector, folded)
        out.append(word if fix is None else _spelling(reader, b, fix))
        changed = changed or fix is not None
    if not changed:
        return None
    suggestion = " ".join(out)
    word_forms = query_words(suggestion, b)
    found = word_forms and not searcher.search(_required(word_forms, b), limit=1, filter=in_lang).is_empty()
    return suggestion if found else None


def _closest(corrector, folded: str) -> "str | None":
    # One edit first, then two: whoosh ranks the words it finds within a distance by
    # frequency only, so asking for 2 at once could prefer a common word two edits away.
    for maxdist in (1, 2):
        if maxdist == 2 and len(folded) < 5:
            break
        found = corrector.suggest(folded, limit=1, maxdist=maxdist, prefix=1)
        if found:
            return found[0]
    return None


def _spelling(reader, b: str, folded: str) -> str:
    """The most common spelling in the lessons of a folded word (`securite` → `sécurité`)."""
    name, prefix = f"forms_{b}", folded + "|"
    spellings = [_text(t) for t in reader.expand_prefix(name, prefix)]
    if not spellings:
        return folded
    best = max(spellings, key=lambda t: reader.doc_frequency(name, t))
    return best[len(prefix):]


def _text(term: "str | bytes") -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
