"""Tables as CSV files a teacher opens in Excel or LibreOffice.

Three things make such a file open right and safely:
- UTF-8 with a byte-order mark: without it Excel reads UTF-8 as the machine's code page and
  Arabic or accented names come out garbled;
- the separator Excel expects in the teacher's language: French- and Arabic-speaking
  countries' settings use ';' (their decimal mark is a comma), English ones ','; Excel splits
  columns only on the separator of its regional settings;
- no formulas: a name typed as `=HYPERLINK(...)` or `@SUM(...)` would run as a formula when
  the file is opened (CSV injection), so any cell that starts like one gets a leading quote,
  which the spreadsheet shows as text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterable, Sequence

BOM = "\ufeff"
# What a spreadsheet takes as the start of a formula (OWASP's list: tab and CR too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def delimiter_for(lang: str) -> str:
    return "," if lang == "en" else ";"


def csv_bytes(rows: Iterable[Sequence[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(str(cell)) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")


def iso_date(ms: int) -> str:
    """A day a spreadsheet reads as a date in any language (in the server's time zone)."""
    return datetime.fromtimestamp(ms / 1000).date().isoformat()
