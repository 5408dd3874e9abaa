"""Per-language text analysis for the search index: what a word of a lesson becomes as a term.

`kit.content.search` builds one whoosh field per language with `analyzer(lang)`; the same
analyzer turns a learner's query into terms, so both sides always agree. A word becomes:

1. a token: a run of letters, digits and combining marks (so `كَلِمَة` and the decomposed `é`
   stay one word), split at apostrophes and hyphens (`l'élève` → `l`, `élève`);
2. nothing, if its folded form is a stop word of the language;
3. one or more *forms* (terms at the same position), all folded with `textfold.fold`
   (case, accents, harakat, tatweel, alef forms, ta marbuta, alef maqsura):
   - `fold(stem(word))`: the Snowball stemmer sees the word as written, accents included,
     where it is best (`sécurisée` → `securis`, `الكلمة` → `كلم`);
   - `stem(fold(word))`: the stem of the accent-less spelling, so a learner who types
     `securite` or `الكلمه` gets the same term as the author's `sécurité` or `الكلمة`
     (French `-ee`/`-ees` endings are also stemmed as `-ée`/`-ées`: `securisee`);
   - Arabic only: `light_stem(fold(word))`, Larkey's light10 affix stripper. Snowball's Arabic
     stemmer strips `ات` from `الكلمات` but not from `كلمات` (→ `كلما`), and reads the `ب` of
     `بيانات` as a preposition; light10 gives `كلم` and `بيان`, so plurals in `ات` meet their
     singulars. Broken plurals (`مدرسة` / `مدارس`) need a root stemmer and do not match.

A query word matches a document word when any of their forms meet. Languages without an
analyzer of their own (anything but fr, ar, en) are folded but neither stopped nor stemmed.

Changing what any function here returns changes the terms in the index: bump
`search.INDEX_NAME` so that existing indexes are rebuilt.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator

import snowballstemmer
from whoosh.analysis import Analyzer, Filter, LowercaseFilter, RegexTokenizer
from whoosh.analysis.filters import STOP_WORDS as WHOOSH_ENGLISH_STOPS
from whoosh.lang import stopwords_for_language

from ..core.textfold import fold

# Languages with their own analyzer; any other language uses ANY.
LANGUAGES = ("fr", "ar", "en")
ANY = "any"

# Combining marks of Latin (decomposed accents) and Arabic (harakat, Quranic marks), and the
# zero-width (non-)joiners, belong inside a word; `[^\W_]` is a letter or digit of any script.
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u200c\u200d"
WORD = re.compile(rf"(?:[^\W_]|[{_MARKS}])+")

_SNOWBALL = {"fr": "french", "ar": "arabic", "en": "english"}
_FR_PARTICIPLE = re.compile(r"ee(s?)$")

_FRENCH_EXTRA_STOPS = """a les cet cette ces ils elles leurs si plus tout tous toute toutes comme dont
    aussi donc car ni sans sous chez entre vers quand peut faut fait très bien où"""
_ENGLISH_EXTRA_STOPS = """i me my our ours he she his her its they them their what which who whom how
    why where do does did was were been being has had but about into than then there these those
    so no nor too very just only also"""
# A short list: particles, pronouns and prepositions that carry no topic.
_ARABIC_STOPS = """في من إلى الى على عن مع هذا هذه ذلك تلك هؤلاء الذي التي الذين أن إن أو ثم قد لا ما
    لم لن هو هي هم هن أنا نحن أنت أنتم كل كان كانت يكون بين حتى إذا عند غير بعد قبل أي كما لكن
    ولا وفي ومن وهو وهي يا عليه عليها فيه فيها منه منها له لها به بها هناك هنا ليس أيضا حيث إلا
    أم بل كيف لماذا متى أين هل"""


def _folded(stops: "set[str] | frozenset[str]") -> frozenset[str]:
    return frozenset(fold(w) for w in stops)


STOP_WORDS: dict[str, frozenset[str]] = {
    "fr": _folded(set(stopwords_for_language("fr")) | set(_FRENCH_EXTRA_STOPS.split())),
    "ar": _folded(set(_ARABIC_STOPS.split())),
    "en": _folded(set(WHOOSH_ENGLISH_STOPS) | set(_ENGLISH_EXTRA_STOPS.split())),
    ANY: frozenset(),
}


def bucket(lang: str) -> str:
    """The analyzer a language uses: `fr-CA` → `fr`, an unknown language → `any`."""
    primary = lang.split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else ANY


# -------------------------------------------------------------------------------------- stemming

_AR_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
# light10's suffixes, folded (ة → ه, ية → يه), in the order it strips them.
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def light_stem(word: str) -> str:
    """Larkey's light10 Arabic stemmer, on folded text: strip و, the article, then suffixes."""
    if len(word) >= 4 and word.startswith("و"):
        word = word[1:]
    for article in _AR_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            word = word[len(article):]
            break
    for suffix in _AR_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


@lru_cache(maxsize=None)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


# Pure-Python Snowball costs tens of microseconds a word; a language's vocabulary is small, so
# the cache makes indexing 5,000 lessons and re-analysing a query cheap.
@lru_cache(maxsize=100_000)
def forms(lang: str, word: str) -> tuple[str, ...]:
    """The terms a lowercased `word` becomes in `lang` (a bucket); none for a stop word."""
    folded = fold(word)
    if not folded or folded in STOP_WORDS[lang]:
        return ()
    if lang not in _SNOWBALL:
        return (folded,)
    stem = _stemmer(_SNOWBALL[lang]).stemWord
    out = [fold(stem(word)), stem(folded)]
    if lang == "fr":
        # Typed without accents, a feminine participle (`securisee`) escapes Snowball's `ée`.
        out.append(fold(stem(_FR_PARTICIPLE.sub(r"ée\1", folded))))
    if lang == "ar":
        out.append(light_stem(folded))
    return tuple(dict.fromkeys(f for f in out if f))


# ------------------------------------------------------------------------------- whoosh analyzer

class StemFoldFilter(Filter):
    """Drops stop words and replaces each word by its `forms` (same position, same characters).

    Only `lang` is kept on the object: whoosh pickles the schema, analyzers included."""

    is_morph = True

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, tokens):
        lang = self.lang
        for t in tokens:
            # The same token object is yielded once per form: whoosh reads each at once.
            for form in forms(lang, t.text):
                t.text = form
                yield t


def analyzer(lang: str) -> Analyzer:
    """The whoosh analyzer of a language bucket (see `bucket`)."""
    return RegexTokenizer(WORD) | LowercaseFilter() | StemFoldFilter(lang)


# ---------------------------------------------------------------------------- words and surfaces

_ARABIC_HARAKAT = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")


def surface(word: str) -> str:
    """How a word is shown in a "did you mean": lowercased, accents and hamza kept, harakat off."""
    return _ARABIC_HARAKAT.sub("", unicodedata.normalize("NFC", word.lower()))


@lru_cache(maxsize=50_000)
def _spellings(word: str) -> tuple[str, str]:
    return fold(word), surface(word)


def words(lang: str, text: str) -> Iterator[tuple[str, str]]:
    """(folded, surface) of each non-stop word of `text`: the vocabulary for spelling fixes."""
    stops = STOP_WORDS[lang]
    for match in WORD.finditer(text):
        folded, spelled = _spellings(match.group())
        if folded and folded not in stops:
            yield folded, spelled
