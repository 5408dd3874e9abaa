"""Fold text so that what a learner types matches what an author wrote.

Used by short-answer grading and by the search analyzers: case, Latin accents, Arabic
diacritics (harakat), tatweel, alef forms and ta marbuta are all folded away, and runs of
white space become one space. `fold("Élève ")` == `fold("eleve")`; `fold("مَدْرَسَة")` == `fold("مدرسه")`.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC_MAP = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",   # alef forms
    "ة": "ه",                                 # ta marbuta
    "ى": "ي",                                 # alef maqsura
    "ؤ": "و", "ئ": "ي",
    "ـ": None,                                # tatweel
    # Arabic-Indic digits to ASCII, so "٣" answers "3"
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
    "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9",
    "’": "'", "‘": "'", "ʼ": "'",
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae",
})
_SPACE = re.compile(r"\s+")
# Invisible controls (bidi marks, zero-width) that a phone keyboard may insert.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def fold(text: str) -> str:
    text = _INVISIBLE.sub("", text).translate(_ARABIC_MAP)
    decomposed = unicodedata.normalize("NFKD", text)
    # Combining marks (Mn) are Latin accents and Arabic harakat alike.
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return _SPACE.sub(" ", stripped.casefold()).strip()
