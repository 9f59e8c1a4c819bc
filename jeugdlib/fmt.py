"""Dutch formats for numbers, money, percentages, dates and periods (reports.md).

Every figure a report shows goes through these functions, so all reports write
"€ 1.234.567", "12,3%", "1 augustus 2024" and "2e kwartaal 2024" the same way,
independent of the machine's locale. Missing values print as ``–``; values that
were suppressed for privacy (data-contract 3.1) print as :data:`ONDERDRUKT`.

The scalar functions take one value; :func:`waarde` formats a KPI value by its
``eenheid`` (aantal | euro | fractie | maanden) and is what tables use.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd

MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december")
MAANDEN_KORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

#: Shown instead of a suppressed value (fewer than ``klein_aantal`` clients).
ONDERDRUKT = "<10"
#: Shown for a missing value.
LEEG = "–"


def _leeg(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def getal(x, decimalen: int = 0) -> str:
    """A number in Dutch notation: ``getal(1234567.8, 1) == "1.234.567,8"``.

    Thousands separated by a dot, decimals by a comma; ``-0`` prints as ``0``.
    """
    if _leeg(x):
        return LEEG
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    s = f"{x:,.{decimalen}f}"
    if re.fullmatch(r"-0(\.0*)?", s):
        s = s[1:]
    return s.replace(",", "_").replace(".", ",").replace("_", ".")


def bedrag(euro, decimalen: int = 0) -> str:
    """An amount in euro: ``bedrag(1234567) == "€ 1.234.567"``, ``bedrag(-5) == "-€ 5"``."""
    if _leeg(euro):
        return LEEG
    euro = float(euro)
    teken = "-" if round(euro, decimalen) < 0 else ""
    return f"{teken}€ {getal(abs(euro), decimalen)}"


def bedrag_kort(euro) -> str:
    """An amount rounded for headlines: "€ 26,1 mln", "€ 812.400", "€ 950".

    Millions with one decimal ("mln"), billions ("mld"); below a million whole
    euros rounded to hundreds from € 10.000 on.
    """
    if _leeg(euro):
        return LEEG
    euro = float(euro)
    a = abs(euro)
    teken = "-" if euro < 0 else ""
    if a >= 1e9:
        return f"{teken}€ {getal(a / 1e9, 1)} mld"
    if a >= 1e6:
        return f"{teken}€ {getal(a / 1e6, 1)} mln"
    if a >= 1e4:
        return f"{teken}€ {getal(round(a, -2), 0)}"
    return f"{teken}€ {getal(a, 0)}"


def procent(fractie, decimalen: int = 1, *, teken: bool = False) -> str:
    """A fraction as a percentage: ``procent(0.1234) == "12,3%"``.

    With ``teken=True`` a positive value gets a plus sign ("+10,8%"), for growth.
    """
    if _leeg(fractie):
        return LEEG
    v = float(fractie) * 100
    s = getal(v, decimalen)
    if teken and round(v, decimalen) > 0:
        s = "+" + s
    return f"{s}%"


def maanden(x, decimalen: int = 1) -> str:
    """A duration in months: ``maanden(7.04) == "7,0 maanden"``."""
    if _leeg(x):
        return LEEG
    return f"{getal(x, decimalen)} {'maand' if round(float(x), decimalen) == 1 else 'maanden'}"


def p_waarde(p) -> str:
    """A p-value as reports print it: "p = 0,41", "p = 0,032", "p < 0,001"."""
    if _leeg(p):
        return "p onbekend"
    p = float(p)
    if p < 0.001:
        return "p < 0,001"
    if p < 0.01:
        return f"p = {getal(p, 3)}"
    return f"p = {getal(p, 2)}"


def _datum(d) -> dt.date | None:
    if _leeg(d):
        return None
    if isinstance(d, str):
        return dt.date.fromisoformat(d[:10])
    if isinstance(d, pd.Timestamp):
        return d.date()
    if isinstance(d, dt.datetime):
        return d.date()
    return d


def datum(d) -> str:
    """A date written out: ``datum("2024-08-01") == "1 augustus 2024"``."""
    d = _datum(d)
    if d is None:
        return LEEG
    return f"{d.day} {MAANDEN[d.month - 1]} {d.year}"


def datum_kort(d) -> str:
    """A short date: "1 aug 2024"."""
    d = _datum(d)
    if d is None:
        return LEEG
    return f"{d.day} {MAANDEN_KORT[d.month - 1]} {d.year}"


def maand(d, *, kort: bool = False) -> str:
    """The month of a date: "augustus 2024" (``kort``: "aug 2024")."""
    d = _datum(d)
    if d is None:
        return LEEG
    namen = MAANDEN_KORT if kort else MAANDEN
    return f"{namen[d.month - 1]} {d.year}"


def periode(label: str) -> str:
    """A KPI period label in words: "2023" -> "2023", "2023-Q2" -> "2e kwartaal 2023",
    "2023-05" -> "mei 2023"."""
    if _leeg(label):
        return LEEG
    label = str(label)
    m = re.fullmatch(r"(\d{4})-Q([1-4])", label)
    if m:
        return f"{m.group(2)}e kwartaal {m.group(1)}"
    m = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if m:
        return f"{MAANDEN[int(m.group(2)) - 1]} {m.group(1)}"
    return label


def kwartaal(label: str) -> tuple[dt.date, dt.date]:
    """Parse "2024Q2" (or "2024-Q2", "2024q2") into (first day, day after the quarter).

    The second date is the peildatum of a quarterly run (exclusive cutoff).
    Raises ``ValueError`` for anything else.
    """
    m = re.fullmatch(r"\s*(\d{4})-?[Qq]([1-4])\s*", str(label))
    if not m:
        raise ValueError(f"kwartaal {label!r} is niet van de vorm 2024Q2")
    jaar, q = int(m.group(1)), int(m.group(2))
    begin = dt.date(jaar, 3 * q - 2, 1)
    na = dt.date(jaar + 1, 1, 1) if q == 4 else dt.date(jaar, 3 * q + 1, 1)
    return begin, na


def kwartaal_label(d) -> str:
    """The quarter holding a date, as "2024Q2"."""
    d = _datum(d)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def waarde(x, eenheid: str, *, onderdrukt: bool = False, decimalen: int | None = None) -> str:
    """Format a KPI value by its ``eenheid`` (data-contract 3.1).

    ``aantal`` -> "1.234" (one decimal when not whole, e.g. toewijzingen per cliënt),
    ``euro`` -> "€ 1.234", ``fractie`` -> "12,3%", ``maanden`` -> "7,0".
    A suppressed value prints as :data:`ONDERDRUKT`, a missing one as ``–``.
    """
    if onderdrukt:
        return ONDERDRUKT
    if _leeg(x):
        return LEEG
    if eenheid == "euro":
        return bedrag(x, 0 if decimalen is None else decimalen)
    if eenheid == "fractie":
        return procent(x, 1 if decimalen is None else decimalen)
    if eenheid == "maanden":
        return getal(x, 1 if decimalen is None else decimalen)
    if decimalen is None:
        decimalen = 0 if float(x) == round(float(x)) else 2
    return getal(x, decimalen)


def aantal(n, enkelvoud: str, meervoud: str) -> str:
    """A count with its noun in the right number: ``aantal(1, "aanbieder", "aanbieders")
    == "1 aanbieder"``, ``aantal(7, ...) == "7 aanbieders"`` (never "aanbieder(s)")."""
    return f"{getal(n)} {enkelvoud if n == 1 else meervoud}"


def lijst(items) -> str:
    """Join words the Dutch way: ["a", "b", "c"] -> "a, b en c"."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " en " + items[-1]


def slug(naam: str) -> str:
    """A file-name-safe form of a region name: "Zuid-Holland Zuid" -> "zuid-holland-zuid"."""
    s = re.sub(r"[^a-z0-9]+", "-", str(naam).lower()).strip("-")
    return s or "regio"
