"""Flat exports and reference tables: CSV/XLSX reading, Dutch number and date formats.

data-contract 1.2 and 1.3. Municipal systems export CSV with a comma or a
semicolon, UTF-8 with or without BOM, dates as ``YYYY-MM-DD`` or ``DD-MM-YYYY``
and euro amounts with a decimal point or a decimal comma; an ``.xlsx`` file
with the same columns is accepted too. Everything is read as text first and
parsed vectorised here, so that a bad cell becomes a quarantined row naming its
line, never a crash.

Also here: :class:`Checker`, the vectorised record checks shared by the XML and
the export path of :mod:`jeugdlib.ingest` (each row gets the first rule it
breaks), and :func:`read_reference`, which normalises the reference tables to
:mod:`jeugdlib.schema` (euro -> eurocent columns ``tarief_cent``,
``trajectprijs_cent``, ``prijs_per_plek_cent``, ``plafond_cent``).
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import config, privacy, schema
from .errors import JeugdlibError
from .ijw import codes

S = schema.S


class FileError(Exception):
    """A flat file that cannot be read at all (one quarantined record)."""

    def __init__(self, regel: str, melding: str):
        super().__init__(melding)
        self.regel = regel
        self.melding = melding


@dataclasses.dataclass
class FlatFile:
    """A CSV/XLSX file read as text: normalised column names, one position per row."""

    data: pd.DataFrame  # all columns string[pyarrow], empty cells NA
    positie: pd.Series  # "regel 14" (CSV line) or "rij 14" (spreadsheet row)
    bad_rows: pd.DataFrame  # rows with the wrong number of fields: positie, melding, waarde (never the line)


# --------------------------------------------------------------------------- reading

def normalise_column(name: str) -> str:
    """'Productcode ' -> 'productcode', 'Geldig vanaf' -> 'geldig_vanaf'."""
    n = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-/]+", "_", n)


def _sniff_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _nonempty_lines(data: bytes) -> np.ndarray:
    """1-based numbers of the lines that are not empty (pyarrow skips empty lines)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(buf)]))
    length = ends - starts
    only_cr = (length == 1) & (buf[np.minimum(starts, max(len(buf) - 1, 0))] == 13)
    return np.flatnonzero((length > 0) & ~only_cr) + 1


def _line_numbers(data: bytes, n_records: int, bad_lines: list[int]) -> np.ndarray | None:
    """1-based line numbers of the good data rows, or None when lines != records.

    pyarrow skips empty lines; rows with quoted line breaks make lines and
    records differ, then the caller falls back to row numbers.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(buf)]))
    length = ends - starts
    # a line holding only "\r" counts as empty
    only_cr = (length == 1) & (buf[np.minimum(starts, max(len(buf) - 1, 0))] == 13)
    nonempty = np.flatnonzero((length > 0) & ~only_cr) + 1
    if len(nonempty) == 0:
        return None
    data_lines = nonempty[1:]  # first non-empty line is the header
    if len(data_lines) != n_records + len(bad_lines):
        return None
    if bad_lines:
        data_lines = data_lines[~np.isin(data_lines, np.asarray(bad_lines))]
    return data_lines


def read_flat(path: Path) -> FlatFile:
    """Read a CSV or XLSX file as text. Raises :class:`FileError` when unreadable."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileError("bestand_onleesbaar", f"onleesbaar ({exc.strerror or type(exc).__name__}); controleer "
                        f"de rechten, de schijf en de naam van het bestand") from None
    if not data.replace(b"\xef\xbb\xbf", b"").strip():
        raise FileError("bestand_leeg", "leeg bestand")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileError("codering_ongeldig",
                        f"geen UTF-8-tekst (byte 0x{data[exc.start]:02x} op regel {line}); "
                        f"sla het bestand op als UTF-8") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delim = _sniff_delimiter(first)
    bad: list[tuple[int, str, int, int]] = []

    def on_bad(row):
        bad.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    try:
        header = [c for c in next(iter(pd.read_csv(io.StringIO(first), sep=delim, header=None, dtype=str,
                                                     keep_default_na=False).itertuples(index=False)))]
    except (ValueError, StopIteration, pd.errors.ParserError):
        raise FileError("csv_onleesbaar", "kopregel onleesbaar (bv. een aanhalingsteken zonder sluitteken); "
                        "herstel de eerste regel") from None
    names = [normalise_column(c) for c in header]
    dubbel = sorted({n for n in names if names.count(n) > 1})
    if dubbel:
        raise FileError("csv_onleesbaar", f"kolom '{dubbel[0]}' staat meer dan eens in de kopregel; "
                        f"geef elke kolom een eigen naam")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delim, invalid_row_handler=on_bad,
                                             newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=True, null_values=[""],
                                                 quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, ValueError) as exc:
        raise FileError("csv_onleesbaar", f"CSV onleesbaar: {exc}") from None
    df = table.to_pandas(types_mapper=pd.ArrowDtype)
    df = df.astype(S)
    for c in df.columns:
        df[c] = df[c].str.strip().replace("", pd.NA)
    # pyarrow numbers rows among the non-empty lines (header = 1): map them to line numbers
    nonempty = _nonempty_lines(data)
    bad_lines = [int(nonempty[b[0] - 1]) if b[0] is not None and 0 < b[0] <= len(nonempty) else None
                 for b in bad]
    lines = _line_numbers(data, len(df), [b for b in bad_lines if b is not None])
    if lines is not None:
        positie = pd.Series([f"regel {i}" for i in lines], dtype=S) if len(lines) else pd.Series([], dtype=S)
    else:
        positie = pd.Series(np.arange(2, len(df) + 2), dtype="int64").astype(str).radd("rij ").astype(S)
    # the line itself is never kept (it may hold a BSN): only its shape and the columns expected
    bad_df = pd.DataFrame({
        "positie": pd.Series([f"regel {b}" if b is not None else "regel ?" for b in bad_lines], dtype=S),
        "melding": pd.Series([f"{b[3]} velden in plaats van {b[2]} (kolommen: {', '.join(names)})"[:300]
                              for b in bad], dtype=S),
        "waarde": pd.Series([f"{b[3]} velden" for b in bad], dtype=S),
    })
    return FlatFile(df.reset_index(drop=True), positie.reset_index(drop=True), bad_df)


def _read_xlsx(path: Path) -> FlatFile:
    try:
        df = pd.read_excel(path, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileError("xlsx_onleesbaar", f"Excel-bestand onleesbaar: {type(exc).__name__}: {exc}") from None
    df.columns = [normalise_column(c) for c in df.columns]
    df = df.astype(S)
    for c in df.columns:
        df[c] = df[c].str.strip().replace("", pd.NA)
    keep = df.notna().any(axis=1).to_numpy()
    rows = np.arange(2, len(df) + 2)[keep]
    df = df[keep].reset_index(drop=True)
    if len(df) == 0 and len(df.columns) == 0:
        raise FileError("bestand_leeg", "leeg bestand")
    positie = pd.Series(rows, dtype="int64").astype(str).radd("rij ").astype(S)
    return FlatFile(df, positie, pd.DataFrame({c: pd.Series([], dtype=S) for c in ("positie", "melding", "waarde")}))


# --------------------------------------------------------------------------- parsing

IA = "int64[pyarrow]"


def _pa(s: pd.Series) -> pa.Array:
    """The Arrow string array behind a Series (converted when it is not Arrow-backed)."""
    arr = pa.array(pd.Series(s, copy=False).astype(S))
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _series(arr, index, dtype=None) -> pd.Series:
    out = pd.Series(pd.arrays.ArrowExtensionArray(arr), index=index)
    return out.astype(dtype) if dtype is not None else out


def _mask(arr) -> np.ndarray:
    """Arrow boolean array -> numpy bool (null = False)."""
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(bool)


def parse_date(s: pd.Series, *, dutch: bool = True, open_end: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Parse dates; returns (datetime64[ns] series, bad mask: given but not a real date).

    Accepts ``YYYY-MM-DD`` and, with ``dutch=True`` (flat files), also
    ``D-M-YYYY``/``DD/MM/YYYY`` and a ``00:00:00`` time as Excel writes it. A day
    that does not exist (2021-02-29) is bad, never rolled over: the parsed date
    must print back as the text it came from. Vectorised with Arrow kernels, on
    the distinct values only when they repeat (dates in messages do, a lot).

    ``open_end``: an end date in year 9999 (``9999-12-31``, the usual "no end date")
    means "no end": empty (NaT), not bad (metrics.md 0.1).
    """
    raw = pd.Series(s, copy=False)
    a = _pa(raw)
    given = _mask(pc.is_valid(a))
    if len(a) >= 256:
        enc = pc.dictionary_encode(a)
        if 4 * len(enc.dictionary) <= len(a):
            ts_u, bad_u = _parse_date_arrow(enc.dictionary, dutch, open_end)
            ts = ts_u.take(enc.indices)
            idx = pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False)
            bad = given & (bad_u[idx] if len(bad_u) else False)
            return _series(ts, raw.index).astype(schema.D), bad
    ts, bad = _parse_date_arrow(a, dutch, open_end)
    return _series(ts, raw.index).astype(schema.D), bad


#: Year 9999 in a normalised date ("9999-12-31"): no end (NaT), see :func:`parse_date`.
_OPEN_END_RE = r"^9999-\d{2}-\d{2}$"


def _parse_date_arrow(a: pa.Array, dutch: bool, open_end: bool = False) -> tuple[pa.Array, np.ndarray]:
    """:func:`parse_date` on an Arrow string array: (timestamp[ns] array, bad mask)."""
    given = _mask(pc.is_valid(a))
    if dutch:
        a = pc.replace_substring_regex(a, r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$",
                                       r"\1-\2-\3")
        a = pc.replace_substring_regex(a, r"^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$", r"\3-\2-\1")
        a = pc.replace_substring_regex(a, r"^(\d{4})-(\d)-", r"\1-0\2-")
        a = pc.replace_substring_regex(a, r"^(\d{4}-\d{2})-(\d)$", r"\1-0\2")
    if open_end:
        no_end = pc.fill_null(pc.match_substring_regex(a, _OPEN_END_RE), False)
        given = given & ~_mask(no_end)
        a = pc.if_else(no_end, pa.scalar(None, a.type), a)
    ok = pc.match_substring_regex(a, r"^\d{4}-\d{2}-\d{2}$")
    a = pc.if_else(ok, a, pa.scalar(None, a.type))
    ts = pc.strptime(a, format="%Y-%m-%d", unit="ns", error_is_null=True)
    real = pc.equal(pc.strftime(ts, format="%Y-%m-%d"), pc.cast(a, pa.string()))
    ts = pc.if_else(real, ts, pa.scalar(None, ts.type))
    return ts, given & ~_mask(pc.is_valid(ts))


def parse_time(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse ``HH:MM:SS[.fff]`` to a timedelta; returns (timedelta series, bad mask)."""
    raw = pd.Series(s, copy=False).astype(S)
    given = raw.notna().to_numpy()
    ok = raw.str.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?").fillna(False).to_numpy(dtype=bool)
    td = pd.to_timedelta(raw.where(ok).astype(object), errors="coerce")
    return td.set_axis(raw.index), given & ~ok


def parse_int(s: pd.Series, *, signed: bool = False, lenient: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Parse whole numbers; returns (int64[pyarrow] series, bad mask).

    ``lenient`` also accepts ``4.0``/``4,00`` (spreadsheets turn integers into
    floats). Vectorised with Arrow kernels.
    """
    raw = pd.Series(s, copy=False)
    a = _pa(raw)
    given = _mask(pc.is_valid(a))
    if lenient:
        a = pc.replace_substring_regex(a, r"^(-?\d+)[.,]0+$", r"\1")
    ok = pc.match_substring_regex(a, r"^-?\d{1,15}$" if signed else r"^\d{1,15}$")
    vals = pc.cast(pc.if_else(ok, a, pa.scalar(None, a.type)), pa.int64())
    return _series(vals, raw.index), given & ~_mask(ok)


def parse_euro_cent(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Euro amounts ('1.234,56', '1234.56', '€ 12,5', '-3') -> integer eurocent.

    Returns (Int64 series, bad mask). With a comma present the comma is the
    decimal mark and dots are thousands separators (so are several dots,
    '1.250.000'); otherwise a dot is the decimal mark. More than two decimals
    (fractions of a cent) is bad, and so is '250.000' (thousands or decimals?).
    """
    raw = pd.Series(s, copy=False).astype(S)
    given = raw.notna().to_numpy()
    t = raw.str.replace(r"[€\s]|EUR", "", regex=True)
    has_comma = t.str.contains(",", regex=False).fillna(False)
    many_dots = (t.str.count(r"\.") > 1).fillna(False)
    # "250.000" could be 250 or 250 thousand: refuse rather than guess
    ambiguous = (~has_comma & t.str.fullmatch(r"[-+]?\d{1,3}\.\d{3}").fillna(False)).to_numpy(dtype=bool)
    t = t.where(~(has_comma | many_dots), t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    parts = t.str.extract(r"^([-+]?)(\d{1,13})(?:\.(\d{0,2})0*)?$")
    whole = pd.to_numeric(parts[1].astype(object), errors="coerce")
    frac = pd.to_numeric(parts[2].fillna("").str.ljust(2, "0").astype(object), errors="coerce")
    cents = whole * 100 + frac.fillna(0)
    cents = cents.where(parts[0] != "-", -cents)
    out = cents.round().astype("Int64")
    out = out.where(whole.notna() & ~ambiguous)
    bad = given & out.isna().to_numpy()
    return out.set_axis(raw.index).astype(IA), bad


def parse_float(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Decimal numbers with a decimal point or comma -> float; (series, bad mask)."""
    raw = pd.Series(s, copy=False).astype(S)
    given = raw.notna().to_numpy()
    t = raw.str.replace(r"\s", "", regex=True)
    has_comma = t.str.contains(",", regex=False).fillna(False)
    t = t.where(~has_comma, t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    ok = t.str.fullmatch(r"[-+]?\d+(\.\d*)?|[-+]?\.\d+").fillna(False).to_numpy(dtype=bool)
    out = pd.to_numeric(t.where(ok).astype(object), errors="coerce").astype("float64")
    return out.set_axis(raw.index), given & ~ok


def zero_pad(s: pd.Series, width: int) -> pd.Series:
    """Left-pad all-digit values to ``width`` (Excel drops leading zeros: 363 -> 0363)."""
    raw = pd.Series(s, copy=False).astype(S)
    raw = raw.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    digits = raw.str.fullmatch(r"\d+").fillna(False)
    return raw.where(~digits, raw.str.zfill(width))


# --------------------------------------------------------------------------- checks

class Checker:
    """First rule broken per row, collected vectorised over a batch of records.

    Rules are applied in the order the methods are called; a row keeps the first
    rule it breaks. ``labels`` names each column as the user knows it (XML
    element or export column) for the one-line messages.
    """

    def __init__(self, raw: pd.DataFrame, labels: dict[str, str] | None = None):
        self.raw = raw
        self.n = len(raw)
        self.labels = labels or {}
        self.regel = np.full(self.n, None, dtype=object)
        self.melding = np.full(self.n, None, dtype=object)
        self.waarde = np.full(self.n, None, dtype=object)

    def label(self, col: str) -> str:
        return self.labels.get(col, col)

    @property
    def ok(self) -> np.ndarray:
        return pd.isna(self.regel)

    def fail(self, mask, regel: str, melding, waarde=None) -> None:
        """Give rows in ``mask`` (that broke no earlier rule) this rule.

        ``melding``/``waarde``: a string for all of them, or a function of the
        boolean row mask returning the values for just those rows (so messages
        are only built for the few rows that fail).
        """
        mask = np.asarray(mask, dtype=bool)
        new = mask & pd.isna(self.regel)
        if not new.any():
            return
        self.regel[new] = regel
        self.melding[new] = melding if isinstance(melding, str) else _objects(melding(new))
        if waarde is not None:
            self.waarde[new] = waarde if isinstance(waarde, str) else _objects(waarde(new))

    def col(self, c: str) -> pd.Series:
        if c in self.raw.columns:
            return self.raw[c]
        return pd.Series(pd.NA, index=self.raw.index, dtype=S)

    def required(self, *cols: str, rule: str = "element_ontbreekt", when=None) -> None:
        for c in cols:
            miss = self.col(c).isna().to_numpy(dtype=bool)
            if when is not None:  # not in place: pandas 3 hands out read-only arrays
                miss = miss & np.asarray(when, dtype=bool)
            self.fail(miss, rule, f"{self.label(c)} ontbreekt")

    def bad(self, c: str, mask, rule: str, what: str, values: pd.Series | None = None) -> None:
        """Rule ``rule`` for rows in ``mask``: "<label> <what>: '<value>'"."""
        v = self.col(c) if values is None else values
        label = self.label(c)
        self.fail(mask, rule, lambda m: (f"{label} {what}: '" + v[m].astype(object).fillna("").astype(str) + "'"),
                  lambda m: v[m])

    def date(self, c: str, *, dutch: bool = False, open_end: bool = False) -> pd.Series:
        out, bad = parse_date(self.col(c), dutch=dutch, open_end=open_end)
        self.bad(c, bad, "datum_ongeldig", "is geen bestaande datum")
        return out

    def integer(self, c: str, *, signed: bool = False, lenient: bool = False) -> pd.Series:
        out, bad = parse_int(self.col(c), signed=signed, lenient=lenient)
        self.bad(c, bad, "getal_ongeldig", "is geen geheel getal")
        return out

    def euro(self, c: str) -> pd.Series:
        out, bad = parse_euro_cent(self.col(c))
        self.bad(c, bad, "getal_ongeldig", "is geen bedrag in euro")
        return out

    def number(self, c: str) -> pd.Series:
        out, bad = parse_float(self.col(c))
        self.bad(c, bad, "getal_ongeldig", "is geen getal")
        return out

    def code(self, c: str, lijst: str | None = None, *, pad: bool = False) -> pd.Series:
        """Check against an iJw code list (codes.BY_FIELD); returns the (padded) values."""
        lijst = lijst or codes.BY_FIELD[c]
        s = self.col(c)
        if pad:
            s = zero_pad(s, codes.WIDTH.get(c, 1))
        bad = (s.notna() & ~s.isin(list(codes.LISTS[lijst]))).to_numpy(dtype=bool)
        label = self.label(c)
        self.fail(bad, "code_onbekend",
                  lambda m: f"{label} '" + s[m].astype(object).astype(str) + f"' staat niet in codelijst {lijst}",
                  lambda m: s[m])
        return s

    def vocab(self, c: str, allowed: tuple[str, ...]) -> pd.Series:
        """Check a reference-table field with a fixed vocabulary (case-insensitive)."""
        s = self.col(c).str.lower()
        bad = (s.notna() & ~s.isin(list(allowed))).to_numpy(dtype=bool)
        v = self.col(c)
        label = self.label(c)
        self.fail(bad, "code_onbekend",
                  lambda m: f"{label} '" + v[m].astype(object).astype(str) + "' is niet een van " + "/".join(allowed),
                  lambda m: v[m])
        return s

    def digits(self, c: str, width: int, what: str, *, pad: bool = False) -> pd.Series:
        """Check an all-digit code of fixed width (gemeentecode 4, AGB 8)."""
        s = self.col(c)
        if pad:
            s = zero_pad(s, width)
        bad = (s.notna() & ~s.str.fullmatch(rf"\d{{{width}}}").fillna(False)).to_numpy(dtype=bool)
        label = self.label(c)
        self.fail(bad, "formaat_ongeldig",
                  lambda m: f"{label} '" + s[m].astype(object).astype(str) + f"' is geen {what} van {width} cijfers",
                  lambda m: s[m])
        return s

    def bsn(self, key: bytes, c: str = "bsn") -> pd.Series:
        """Elfproef, then keyed hash. Returns client_id (NA where missing or invalid).

        The BSN itself is never stored: a failing BSN's ``waarde`` is ``<ongeldig>``.
        """
        s = self.col(c)
        given = s.notna().to_numpy()
        # a client has many records: check and hash each distinct BSN once (Arrow dictionary)
        enc = pc.dictionary_encode(_pa(s))
        uniq = _series(enc.dictionary, None, S)
        ok_u = privacy.elfproef(uniq).to_numpy(dtype=bool)
        hashed_u = pa.array(np.full(len(uniq), None, dtype=object), pa.large_string())
        if ok_u.any():
            h = np.full(len(uniq), None, dtype=object)
            h[ok_u] = privacy.pseudonymise(uniq[ok_u], key).to_numpy(dtype=object)
            hashed_u = pa.array(h, pa.large_string())
        codes_ = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
        has = codes_ >= 0
        valid = np.zeros(len(s), dtype=bool)
        valid[has] = ok_u[codes_[has]]
        self.fail(given & ~valid, "bsn_elfproef", "BSN faalt de elfproef", "<ongeldig>")
        return _series(hashed_u.take(enc.indices), s.index, S)

    def client_id(self, c: str = "client_id") -> pd.Series:
        """An already pseudonymised client_id (64 hex characters); anything else is refused."""
        s = self.col(c).str.lower()
        bad = (s.notna() & ~s.str.fullmatch(r"[0-9a-f]{64}").fillna(False)).to_numpy(dtype=bool)
        self.fail(bad, "formaat_ongeldig",
                  f"{self.label(c)} is geen pseudoniem (64 hex-tekens); geef het BSN in kolom bsn",
                  "<ongeldig>")
        return s

    def quarantine(self, *, bestand, positie, invoer: str, bedrag_cent=None) -> pd.DataFrame:
        """The rows that broke a rule, as quarantine-table rows."""
        bad = ~self.ok
        n = int(bad.sum())

        def pick(x):
            if isinstance(x, (str, type(None))):
                return pd.Series([x] * n, dtype=S)
            return pd.Series(x)[bad].reset_index(drop=True)

        out = pd.DataFrame({
            "bestand": pick(bestand).astype(S),
            "positie": pick(positie).astype(S),
            "invoer": pd.Series([invoer] * n, dtype=S),
            "regel": pd.Series(self.regel[bad], dtype=S),
            "melding": pd.Series(self.melding[bad], dtype=S),
            "waarde": pd.Series(self.waarde[bad], dtype=S),
            "bedrag_cent": (pick(bedrag_cent).astype(schema.I) if bedrag_cent is not None
                            else pd.Series([None] * n, dtype=schema.I)),
        })
        return out


def _objects(x) -> np.ndarray:
    """Values as an object array with None for missing (for the rule columns)."""
    ser = pd.Series(x).astype(object)
    return ser.where(ser.notna(), None).to_numpy()


def norm_nummer(s: pd.Series) -> pd.Series:
    """Identifying numbers: trimmed; all-digit values without leading zeros (iJw LDT_Nummer is an integer)."""
    raw = pd.Series(s, copy=False).astype(S).str.strip()
    digits = raw.str.fullmatch(r"\d+").fillna(False)
    stripped = raw.str.lstrip("0").replace("", "0")
    return raw.where(~digits, stripped)


# --------------------------------------------------------------------------- reference tables

#: Reference files (data-contract 1.3): name -> required columns.
REFERENTIE = {
    "producten": ("productcode", "financieringsvorm"),
    "aanbieders": ("agb",),
    "gemeenten": ("gemeentecode", "regio_naam"),
    "plekken": ("agb", "productcode", "jaar"),
    "budgetplafonds": ("agb", "jaar"),
    "bevolking": ("gemeentecode", "jaar", "jeugdigen"),
}
REQUIRED_REFERENTIE = ("producten", "aanbieders")


@dataclasses.dataclass
class ReferenceResult:
    tables: dict[str, pd.DataFrame]
    quarantaine: pd.DataFrame
    telling: pd.DataFrame  # invoer, gelezen, behouden, quarantaine, overgeslagen


def find_flat(folder: Path, name: str) -> Path | None:
    """``<folder>/<name>.csv`` or ``.xlsx`` (CSV first)."""
    for ext in (".csv", ".CSV", ".xlsx", ".XLSX"):
        p = Path(folder) / f"{name}{ext}"
        if p.exists():
            return p
    return None


def _money(ck: Checker, base: str) -> pd.Series:
    """A money column given in euro (``base``) or in eurocent (``base_cent``)."""
    if f"{base}_cent" in ck.raw.columns:
        return ck.integer(f"{base}_cent", signed=True, lenient=True)
    return ck.euro(base)


def _normalise_reference(name: str, ck: Checker) -> pd.DataFrame:
    """Type and check one reference table (columns of schema.TABLES[name])."""
    c = ck.col
    if name == "producten":
        out = {
            "productcode": c("productcode"),
            "productcategorie": ck.code("productcategorie", pad=True),
            "omschrijving": c("omschrijving"), "segment": c("segment"), "productgroep": c("productgroep"),
            "financieringsvorm": ck.vocab("financieringsvorm", codes.FINANCIERINGSVORM),
            "zwaarte": ck.vocab("zwaarte", codes.ZWAARTE),
            "variant": ck.vocab("variant", codes.VARIANT),
            "norm_uren": ck.number("norm_uren"), "norm_maanden": ck.number("norm_maanden"),
            "tarief_cent": _money(ck, "tarief"), "trajectprijs_cent": _money(ck, "trajectprijs"),
            "geldig_vanaf": ck.date("geldig_vanaf", dutch=True), "geldig_tot": ck.date("geldig_tot", dutch=True, open_end=True),
        }
    elif name == "aanbieders":
        out = {
            "agb": ck.digits("agb", 8, "AGB-code", pad=True), "naam": c("naam"),
            "type": ck.vocab("type", codes.AANBIEDER_TYPE),
            "gecontracteerd_vanaf": ck.date("gecontracteerd_vanaf", dutch=True),
            "gecontracteerd_tot": ck.date("gecontracteerd_tot", dutch=True, open_end=True),
        }
    elif name == "gemeenten":
        out = {
            "gemeentecode": ck.digits("gemeentecode", 4, "gemeentecode", pad=True),
            "gemeentenaam": c("gemeentenaam"), "regio_code": c("regio_code"), "regio_naam": c("regio_naam"),
        }
    elif name == "plekken":
        out = {
            "agb": ck.digits("agb", 8, "AGB-code", pad=True), "productcode": c("productcode"),
            "jaar": ck.integer("jaar", lenient=True), "plekken": ck.number("plekken"),
            "prijs_per_plek_cent": _money(ck, "prijs_per_plek"),
        }
    elif name == "budgetplafonds":
        out = {
            "agb": ck.digits("agb", 8, "AGB-code", pad=True), "jaar": ck.integer("jaar", lenient=True),
            "plafond_cent": _money(ck, "plafond"), "productcode": c("productcode"),
            "gemeentecode": ck.digits("gemeentecode", 4, "gemeentecode", pad=True),
        }
    elif name == "bevolking":
        out = {
            "gemeentecode": ck.digits("gemeentecode", 4, "gemeentecode", pad=True),
            "jaar": ck.integer("jaar", lenient=True), "jeugdigen": ck.integer("jeugdigen", lenient=True),
        }
    else:  # pragma: no cover
        raise KeyError(name)
    df = pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in out.items()})
    return schema.conform(df, name)


def read_reference(dataset_dir: Path) -> ReferenceResult:
    """Read ``referentie/*`` of a dataset, normalised to the canonical reference tables.

    Missing ``producten`` or ``aanbieders`` (or one of them unreadable or
    without its key columns) raises :class:`JeugdlibError`. Missing
    ``gemeenten`` gives :func:`jeugdlib.config.demo_gemeenten`; other optional
    tables are empty when absent. Rows that break a rule are quarantined with
    ``invoer = "referentie:<naam>"``.
    """
    folder = Path(dataset_dir) / "referentie"
    tables: dict[str, pd.DataFrame] = {}
    quar: list[pd.DataFrame] = []
    tel: list[dict] = []
    for name, required in REFERENTIE.items():
        path = find_flat(folder, name)
        invoer = f"referentie:{name}"
        rel = f"referentie/{path.name}" if path else f"referentie/{name}.csv"
        if path is None:
            if name in REQUIRED_REFERENTIE:
                raise JeugdlibError(f"verplichte referentietabel ontbreekt; lever {rel} aan (data-contract 1.3)",
                                    path=Path(dataset_dir) / rel)
            tables[name] = (schema.conform(config.demo_gemeenten(), "gemeenten") if name == "gemeenten"
                            else schema.empty(name))
            continue
        try:
            flat = read_flat(path)
        except FileError as exc:
            if name in REQUIRED_REFERENTIE:
                raise JeugdlibError(exc.melding, path=path) from None
            quar.append(_file_quarantine(rel, invoer, exc.regel, exc.melding))
            tel.append(dict(invoer=invoer, gelezen=1, behouden=0, quarantaine=1, overgeslagen=0))
            tables[name] = schema.empty(name)
            continue
        missing = [c for c in required if c not in flat.data.columns]
        if missing and name in REQUIRED_REFERENTIE:
            raise JeugdlibError(f"kolom {', '.join(missing)} ontbreekt (data-contract 1.3)", path=path)
        ck = Checker(flat.data)
        if missing:
            ck.fail(np.ones(ck.n, dtype=bool), "kolom_ontbreekt", f"kolom {', '.join(missing)} ontbreekt")
        ck.required(*[c for c in required if c not in missing], rule="waarde_ontbreekt")
        df = _normalise_reference(name, ck)
        ok = ck.ok
        tables[name] = df[ok].reset_index(drop=True)
        q = ck.quarantine(bestand=rel, positie=flat.positie, invoer=invoer)
        q = pd.concat([q, _bad_rows(flat, rel, invoer)], ignore_index=True)
        quar.append(q)
        gelezen = len(flat.data) + len(flat.bad_rows)
        tel.append(dict(invoer=invoer, gelezen=gelezen, behouden=int(ok.sum()), quarantaine=len(q),
                        overgeslagen=0))
    quarantaine = (pd.concat(quar, ignore_index=True) if quar else schema.empty("quarantaine"))
    telling = pd.DataFrame(tel, columns=list(schema.TABLES["ingest_telling"]))
    return ReferenceResult(tables, schema.conform(quarantaine, "quarantaine"),
                           schema.conform(telling, "ingest_telling"))


def _file_quarantine(bestand: str, invoer: str, regel: str, melding: str, bedrag=None) -> pd.DataFrame:
    return schema.conform(pd.DataFrame({
        "bestand": [bestand], "positie": ["bestand"], "invoer": [invoer], "regel": [regel],
        "melding": [melding], "waarde": [None], "bedrag_cent": [bedrag],
    }), "quarantaine")


def _bad_rows(flat: FlatFile, bestand: str, invoer: str) -> pd.DataFrame:
    b = flat.bad_rows
    return schema.conform(pd.DataFrame({
        "bestand": [bestand] * len(b), "positie": b["positie"], "invoer": [invoer] * len(b),
        "regel": ["kolommen_ongeldig"] * len(b), "melding": b["melding"], "waarde": b["waarde"],
    }), "quarantaine")
