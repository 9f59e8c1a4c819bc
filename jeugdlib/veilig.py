"""Safe text for spreadsheets: neutralise formula injection in CSV and Excel output.

data-contract 2.2 and OWASP "CSV Injection": a cell whose text starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken for a formula by
Excel, LibreOffice and Google Sheets (a ``gemeentenaam`` of ``=HYPERLINK(...)``
would become a live link). Such text gets a leading single quote, which the
spreadsheet shows as plain text. Numbers are left alone: only text is touched.

Every writer of CSV or Excel output calls :func:`neutraliseer_frame` (or
:func:`neutraliseer` for single values) just before writing.
"""

from __future__ import annotations

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
GEVAARLIJK = ("=", "+", "-", "@", "\t", "\r")
_PATROON = r"^[=+\-@\t\r]"


def neutraliseer(value):
    """``value`` with a ``'`` in front when it is text starting with a formula character."""
    if isinstance(value, str) and value.startswith(GEVAARLIJK):
        return "'" + value
    return value


def neutraliseer_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text columns (and column names) are neutralised; numbers untouched."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        if pd.api.types.is_object_dtype(s.dtype):
            out[c] = s.map(neutraliseer)
        else:
            risky = s.str.match(_PATROON).fillna(False).astype(bool)
            if risky.any():
                out[c] = s.where(~risky, "'" + s)
    out.columns = [neutraliseer(c) for c in out.columns]
    return out
