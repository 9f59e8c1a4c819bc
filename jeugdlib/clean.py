"""Cleaning: metrics.md section 0 as one step, every rule counted.

``clean(ds, params) -> Cleaned`` turns the canonical tables of a :class:`Dataset`
into the analysis tables every metric works on (contract: docs/architecture.md,
"Cleaned data"). Rules, in this order:

Toewijzingen (metrics.md 0 and 0.1)
  1. ``oudere_versie``: only the latest version of a ToewijzingNummer is kept
     (highest Toewijzingsdatum + Toewijzingstijd; on a tie the last one read).
  2. ``reden_wijziging_13``: the latest version has RedenWijziging 13 (verwijderd).
  3. ``einde_voor_ingang``: einddatum < ingangsdatum.
  4. ``ingang_na_peildatum``: ingangsdatum on or after the peildatum (or empty).
  5. ``leeftijd``: age in completed years on the ingangsdatum > ``max_leeftijd``.
  6. ``exclude_agb``: aanbieder in ``params.exclude_agb``.

Declaraties (metrics.md 0 and 0.2)
  1. ``periode_na_peildatum``: periode_begin on or after the peildatum (or empty).
  2. ``saldering``: lines netted into items over debet and credit; key
     (toewijzing_nr, productcode, periode_begin, periode_eind), or without a
     ToewijzingNummer (client_id, agb, productcode, periode_begin, periode_eind).
  3. ``netto_nul_creditering``: items whose net amount is 0 because a credit
     cancels a debet.
  4. ``netto_nul_bedrag``: items whose net amount is 0 without any credit
     (zero-amount lines).
  5. ``leeftijd``: age on periode_begin > ``max_leeftijd``; the birth date comes
     from the client's toewijzingen (all versions); unknown: kept and signalled.
  6. ``exclude_agb``.

A credit without any debet stays as a negative item (``credit_zonder_debet``)
and is listed in ``signalen['credit_zonder_debet']``.

Everything is vectorised and works on integer codes (one factorisation per
string column, for Arrow strings one ``dictionary_encode`` to int32 codes, never
a conversion of millions of strings to Python objects; client_id and
toewijzing_nr are factorised once over both tables): netting is
one stable sort of a combined int64 key plus sums per item, the kept items are
taken from the input in one pass, and reference rows are chosen once per
distinct (code, date) pair in numpy (attributes then taken per record by row).

Both cleaned tables also carry ``client_nr``: a dense int64 code of
``client_id``, the same in both tables, for fast distinct counts.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from . import config, schema
from .dataset import Dataset
from .config import Params

PRODUCT_ATTRS = ["productgroep", "financieringsvorm", "segment", "zwaarte", "variant",
                 "norm_uren", "norm_maanden", "tarief_cent", "trajectprijs_cent", "product_bekend"]

TELLING_COLUMNS = {"stap": schema.I, "tabel": schema.S, "regel": schema.S, "voor": schema.I,
                   "verwijderd": schema.I, "omschrijving": schema.S}


@dataclasses.dataclass
class Cleaned:
    """The cleaned analysis tables (docs/architecture.md, "Cleaned data")."""

    toewijzingen: pd.DataFrame
    declaraties: pd.DataFrame
    start_stop: pd.DataFrame
    verzoeken: pd.DataFrame
    producten: pd.DataFrame
    aanbieders: pd.DataFrame
    gemeenten: pd.DataFrame
    plekken: pd.DataFrame
    budgetplafonds: pd.DataFrame
    bevolking: pd.DataFrame
    telling: pd.DataFrame
    signalen: dict
    params: Params
    #: Latest versions withdrawn with RedenWijziging 13 (same columns as
    #: ``toewijzingen``), for counts that include withdrawn toewijzingen
    #: (verdeelsleutel, metrics.md section 9). Not for any other metric.
    toewijzingen_ingetrokken: pd.DataFrame | None = None
    #: The dataset this was cleaned from (for the data-quality report); of its
    #: declaration lines only ``LICHTE_KOLOMMEN`` are kept (memory).
    dataset: Dataset | None = None


# --------------------------------------------------------------------------- helpers

def _arrow_codes(values) -> tuple[np.ndarray, pd.Index]:
    """Codes of Arrow strings (an Array or ChunkedArray) as :class:`Codes` makes
    them: numbered in order of first appearance (as ``pd.factorize``), NA and
    "" -> -1 ("" keeps its slot among the uniques); int32 (read-only) and the
    unique values. One ``dictionary_encode`` on the Arrow data, no pandas round
    trip and no int64 copy of the codes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(values, null_encoding="mask")
    if isinstance(enc, pa.ChunkedArray):  # the chunks share one dictionary
        enc = enc.chunk(0) if enc.num_chunks == 1 else enc.combine_chunks()
    idx, uniques = enc.indices, enc.dictionary
    empty = pc.index(uniques, "").as_py() if len(uniques) else -1
    if empty >= 0:
        idx = pc.if_else(pc.equal(idx, empty), pa.scalar(None, idx.type), idx)
    if idx.null_count:
        idx = pc.fill_null(idx, -1)
    return idx.to_numpy(zero_copy_only=False), pd.Index(pd.arrays.ArrowStringArray(uniques))


def _arrow_strings(s) -> "pa.ChunkedArray | None":
    """The Arrow data of a pandas Arrow string column (large_string chunks), else None."""
    import pyarrow as pa

    arr = pd.Series(s).array if not isinstance(s, pd.api.extensions.ExtensionArray) else s
    if not isinstance(arr, pd.arrays.ArrowStringArray):
        return None
    data = arr._pa_array
    if data.type != pa.large_string():
        data = pa.chunked_array([ch.cast(pa.large_string()) for ch in data.chunks], pa.large_string())
    return data


class Codes:
    """Dense codes of a column (int32 for Arrow strings, else int64; NA and "" ->
    -1) and its unique values."""

    def __init__(self, s: pd.Series):
        data = _arrow_dictionary(s)
        if data is not None and len(data):  # through the dictionaries: same codes, no hashing per row
            self.codes, uniques = _shared_codes_dictionary([data])
            self.uniques = pd.Index(pd.arrays.ArrowStringArray(uniques))
            return
        data = _arrow_strings(s)
        if data is not None and len(data):
            self.codes, self.uniques = _arrow_codes(data)
            return
        c, u = pd.factorize(pd.Series(s), use_na_sentinel=True)
        c = np.asarray(c, dtype=np.int64)
        u = pd.Index(u)
        if len(u) and not pd.api.types.is_numeric_dtype(u.dtype):
            empty = np.flatnonzero(np.asarray(u == "", dtype=bool))
            if len(empty):
                c = np.where(c == empty[0], -1, c)
        self.codes, self.uniques = c, u

    def take(self, positions) -> "Codes":
        out = Codes.__new__(Codes)
        out.codes, out.uniques = self.codes[positions], self.uniques
        return out

    def __len__(self):
        return len(self.codes)


def _lookup_codes(s: pd.Series) -> Codes:
    """:class:`Codes` for lookups and grouping only, where the numbering does not
    matter: of dictionary-encoded strings the positions in their unified
    dictionary (NA and "" -> -1; no renumbering in order of first appearance),
    else :class:`Codes` itself. The uniques may hold values no row has."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = _arrow_dictionary(s)
    if data is None or len(data) == 0 or any(ch.dictionary.null_count for ch in data.chunks):
        return Codes(s)
    data = data.unify_dictionaries()
    uniques = data.chunk(0).dictionary.cast(pa.large_string())
    if pc.count_distinct(uniques).as_py() != len(uniques):
        return Codes(s)
    codes = np.concatenate([pc.fill_null(ch.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
                            for ch in data.chunks])
    empty = pc.index(uniques, "").as_py()
    if empty >= 0:
        codes[codes == empty] = -1
    out = Codes.__new__(Codes)
    out.codes, out.uniques = codes, pd.Index(pd.arrays.ArrowStringArray(uniques))
    return out


def _rows(df: pd.DataFrame, pos: np.ndarray, columns=None) -> pd.DataFrame:
    """``df[columns].take(pos).reset_index(drop=True)`` (default all columns), each
    column once (the frame is made without consolidating same-dtype columns into
    a new block: no second copy); dictionary-encoded strings come out plain. Many
    increasing positions: as a boolean filter, which copies Arrow strings in runs
    instead of one by one (faster); else (few rows, or not increasing) a take per
    column (a filter would read every row)."""
    import pyarrow as pa

    columns = list(df.columns) if columns is None else list(columns)
    pos = np.asarray(pos, dtype=np.int64)
    increasing = len(pos) < 2 or bool((pos[1:] > pos[:-1]).all())
    if increasing and len(pos) * 8 >= len(df):
        mask = np.zeros(len(df), dtype=bool)
        mask[pos] = True
        pmask = pa.array(mask)

        def arrow(data):
            return data.filter(pmask)

        def other(arr):  # the array itself (Series[mask] aligns an index first: slower)
            return arr[mask]
    else:
        idx = pa.array(pos)

        def arrow(data):
            return data.take(idx)

        def other(arr):
            return arr.take(pos)
    out = {}
    for c in columns:  # one per column (pandas would turn a boolean mask into a take)
        arr = df[c].array
        if _arrow_dictionary(arr) is not None:  # dictionary-encoded strings: plain ones out
            out[c] = decoded(pd.Series(type(arr)(arrow(arr._pa_array)), name=c))
        elif isinstance(arr, pd.arrays.ArrowExtensionArray):
            out[c] = pd.Series(type(arr)(arrow(arr._pa_array)), name=c)
        else:
            out[c] = pd.Series(other(arr), name=c)
    return pd.DataFrame(out, columns=columns, copy=False)


_DAY_NS = 86_400 * 10**9
_NAT_DAY = np.iinfo(np.int64).min // _DAY_NS  # the day NaT floors to (also the earliest possible date's)


def _ns(dates) -> np.ndarray:
    """Dates as a numpy datetime64[ns] array (no copy when they are one)."""
    if isinstance(dates, np.ndarray) and dates.dtype == "datetime64[ns]":
        return dates
    return np.asarray(pd.Series(dates).to_numpy(dtype="datetime64[ns]"))


def _month_start(dates) -> np.ndarray:
    """First day of the month of each date (datetime64[ns], NaT stays NaT), as
    ``astype("datetime64[M]")`` but computed once per day of the range."""
    v = _ns(dates)
    nat = np.isnat(v)
    if nat.all():
        return v.astype("datetime64[M]").astype("datetime64[ns]")
    lo, hi = _day_range(v, nat)
    if hi - lo > 100_000:
        return v.astype("datetime64[M]").astype("datetime64[ns]")
    per_day = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[ns]")
    days = v.view(np.int64) // _DAY_NS
    days -= lo
    any_nat = bool(nat.any())
    if any_nat:
        days[nat] = 0
    out = per_day[days]
    if any_nat:
        out[nat] = np.datetime64("NaT", "ns")
    return out


def _day_range(v: np.ndarray, nat: np.ndarray) -> tuple[int, int]:
    """(first, last) day since 1970 (floor) of the dates ``v`` (datetime64[ns]) that
    are not NaT (``nat``: ``np.isnat(v)``, not all True); without a masked copy."""
    i = v.view(np.int64)
    lo = int(i.min(where=~nat, initial=np.iinfo(np.int64).max)) if nat.any() else int(i.min())
    return lo // _DAY_NS, int(i.max()) // _DAY_NS  # NaT is the lowest int64: never the max


def _day_codes(v) -> np.ndarray:
    """Small int64 codes of dates, equal for the same day (for keys): days since
    the earliest day plus 1, NaT -> 0 (no sentinel far in the past, so a date
    packs into few bits of a key)."""
    v = _ns(v)
    if len(v) == 0:
        return np.zeros(0, dtype=np.int64)
    days = v.view(np.int64) // _DAY_NS  # floor, as astype("datetime64[D]")
    lo = int(days.min())
    if lo > _NAT_DAY:  # no NaT (it floors to that day): no mask needed
        days -= lo - 1
        return days
    nat = np.isnat(v)
    if nat.all():
        return np.zeros(len(v), dtype=np.int64)
    days -= _day_range(v, nat)[0] - 1
    days[nat] = 0
    return days


def _arrow_dictionary(s) -> "pa.ChunkedArray | None":
    """The Arrow data of a pandas column of dictionary-encoded strings (as
    ``jeugdlib kpi`` reads ``client_id`` of the declaration lines: no 64-character
    string per line in memory), else None."""
    import pyarrow as pa

    arr = pd.Series(s).array if not isinstance(s, pd.api.extensions.ExtensionArray) else s
    data = getattr(arr, "_pa_array", None)
    if isinstance(data, pa.ChunkedArray) and pa.types.is_dictionary(data.type) \
            and (pa.types.is_string(data.type.value_type) or pa.types.is_large_string(data.type.value_type)):
        return data
    return None


def decoded(s: pd.Series) -> pd.Series:
    """A column of dictionary-encoded strings as a plain string column (else ``s``).
    Per chunk one take from its dictionary cast to large strings (no decode to
    small strings and cast of every row after it)."""
    import pyarrow as pa

    data = _arrow_dictionary(s)
    if data is None:
        return s
    plain = pa.chunked_array([ch.dictionary.cast(pa.large_string()).take(ch.indices) for ch in data.chunks],
                             pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(plain), index=pd.Series(s).index, name=getattr(s, "name", None))


def _shared_codes_dictionary(data: list) -> tuple[np.ndarray, "pa.Array"]:
    """The codes of ``_arrow_codes`` of the concatenation of ``data`` (Arrow string
    columns, plain or dictionary-encoded), without hashing every row's string of
    a dictionary-encoded column: one hash table over the dictionaries of its
    chunks and the rows of the plain columns gives every row a number; those
    are renumbered in order of first appearance (NA and "" -> -1, "" keeping
    its slot). Returns (int32 codes of the concatenation, the unique values in
    that numbering)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def indices(arr):
        idx = arr if not arr.null_count else pc.fill_null(arr, -1)
        return idx.to_numpy(zero_copy_only=False)

    parts = []  # per block of rows: (its values to hash, its rows' positions in them or None: one each)
    for d in data:
        if pa.types.is_dictionary(d.type):
            parts += [(ch.dictionary.cast(pa.large_string()), indices(ch.indices)) for ch in d.chunks if len(ch)]
        elif len(d):
            parts.append((d.cast(pa.large_string()).combine_chunks(), None))
    n = sum(len(v) if i is None else len(i) for v, i in parts)
    if n == 0:
        return np.zeros(0, dtype=np.int32), pa.array([], pa.large_string())
    enc = pc.dictionary_encode(pa.concat_arrays([v for v, _ in parts]), null_encoding="mask")
    to_global = indices(enc.indices).astype(np.int32, copy=False)
    allg = np.empty(n, dtype=np.int32)
    at = offset = 0
    for values, idx in parts:
        glob = to_global[offset:offset + len(values)]
        if idx is None:
            allg[at:at + len(glob)] = glob
            at += len(glob)
        else:  # the last slot: NA (index -1)
            np.take(np.append(glob, np.int32(-1)), idx, out=allg[at:at + len(idx)])
            at += len(idx)
        offset += len(values)
    # renumbered in order of first appearance (hashing int32: cheap); -1 is no value
    first, order = pd.factorize(allg)
    rank = np.cumsum(order >= 0, dtype=np.int64) - 1
    rank[order < 0] = -1
    empty = pc.index(enc.dictionary, "").as_py() if len(enc.dictionary) else -1
    if empty >= 0:
        rank[order == empty] = -1  # "" -> -1, keeping its slot among the uniques
    allg = rank.astype(np.int32)[first]
    order = order[order >= 0]
    return allg, enc.dictionary.take(pa.array(order.astype(np.int64)))


def _shared_codes(*cols) -> tuple[list[np.ndarray], int]:
    """:class:`Codes` of several string columns in one numbering: the codes of
    their concatenation (numbered in order of first appearance, NA and "" -> -1),
    split per column, so a value has the same code in every column. Returns (codes
    per column, number of codes). Arrow chunks are concatenated, not copied.
    Columns of dictionary-encoded strings are numbered through their dictionaries
    (:func:`_shared_codes_dictionary`), with the same result."""
    import pyarrow as pa

    arrays = [pd.Series(c).array for c in cols]
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    if any(_arrow_dictionary(a) is not None for a in arrays):
        data = [_arrow_dictionary(a) if _arrow_dictionary(a) is not None else _arrow_strings(a) for a in arrays]
        if all(d is not None for d in data):
            codes, uniques = _shared_codes_dictionary(data)
            return [codes[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])], len(uniques)
        arrays = [decoded(pd.Series(a)).array for a in arrays]
    data = [_arrow_strings(a) for a in arrays]
    if all(d is not None for d in data) and sum(len(d) for d in data):
        both = pa.chunked_array([ch for d in data for ch in d.chunks], pa.large_string())
        codes, uniques = _arrow_codes(both)  # one hash table over all columns
    else:
        c = Codes(pd.concat([pd.Series(a, dtype=schema.S) for a in arrays], ignore_index=True))
        codes, uniques = c.codes, c.uniques
    return [codes[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])], len(uniques)


def pack_keys(arrays: list) -> list[np.ndarray]:
    """Pack integer ``arrays`` into as few int64 words as possible (no hashing).

    Each component is shifted to start at 0 and multiplied in while the product
    of the ranges stays below 2**62. Equal rows get equal words, so sorting or
    grouping by the words is sorting or grouping by the components.
    """
    words, key, size = [], None, 1
    for a in arrays:
        a = np.asarray(a, dtype=np.int64)
        if len(a) == 0:
            return [np.zeros(0, np.int64)]
        lo = int(a.min())
        width = int(a.max()) - lo + 1
        a = a - lo
        if key is not None and size * width >= 2**62:
            words.append(key)
            key, size = None, 1
        key = a if key is None else key * width + a
        size *= width
    words.append(key)
    return words


def combine_keys(arrays: list) -> np.ndarray:
    """One dense int64 code per distinct combination of integer ``arrays``, numbered
    in order of first appearance."""
    words = pack_keys(arrays)
    key = words[0]
    for w in words[1:]:
        key = pd.factorize(key)[0].astype(np.int64) * (int(w.max()) + 1) + w
    return pd.factorize(key)[0].astype(np.int64)


def first_positions(key: np.ndarray) -> np.ndarray:
    """Position of the first row of each code of a dense key numbered in order of
    first appearance (:func:`combine_keys`): where the running maximum grows."""
    if len(key) == 0:
        return np.zeros(0, np.int64)
    cm = np.maximum.accumulate(key)
    return np.flatnonzero(np.r_[True, cm[1:] > cm[:-1]])


def _arrow_indices(codes: np.ndarray):
    """Integer codes as Arrow take indices (-1 -> null), to reuse for several
    :func:`take` calls with the same codes (one conversion instead of one each)."""
    import pyarrow as pa

    codes = np.asarray(codes)
    if codes.dtype not in (np.int32, np.int64):
        codes = codes.astype(np.int64)
    miss = codes < 0
    return pa.array(codes, mask=miss) if miss.any() else pa.array(codes)


def take(values, codes):
    """``values[codes]`` as a pandas array, -1 -> missing (vectorised). Arrow-backed
    values: one Arrow take with -1 as null (as pandas' take, without its checks;
    Arrow checks the bounds). ``codes``: integers or their :func:`_arrow_indices`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values if isinstance(values, pd.api.extensions.ExtensionArray) else pd.array(values)
    if isinstance(codes, pa.Array):
        if isinstance(arr, pd.arrays.ArrowExtensionArray) and len(arr):
            return type(arr)(arr._pa_array.take(codes))
        codes = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)
    codes = np.asarray(codes)
    if codes.dtype not in (np.int32, np.int64):
        codes = codes.astype(np.int64)
    if isinstance(arr, pd.arrays.ArrowExtensionArray) and len(arr):
        return type(arr)(arr._pa_array.take(_arrow_indices(codes)))
    return arr.take(codes, allow_fill=True)


def _civil(days: np.ndarray):
    """(year, month, day) of int days since 1970 (H. Hinnant's civil_from_days, vectorised)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def leeftijd(geboortedatum, datum) -> pd.Series:
    """Age in completed years on ``datum`` (metrics.md section 0, max_leeftijd).

    Float with NaN where either date is missing. Someone born 2002-09-01 is 21 on
    2024-08-31 and 22 on 2024-09-01.
    """
    g, d = _ns(geboortedatum), _ns(datum)
    missing = np.isnat(g) | np.isnat(d)
    gd = np.where(missing, 0, g.view(np.int64) // _DAY_NS)  # days since 1970 (floor, as datetime64[D])
    dd = np.where(missing, 0, d.view(np.int64) // _DAY_NS)
    if len(gd) == 0:
        return pd.Series(np.zeros(0))
    # civil dates once per day of the range, then looked up (dates repeat a lot)
    lo = int(min(gd.min(), dd.min()))
    hi = int(max(gd.max(), dd.max()))
    y, m, day = _civil(np.arange(lo, hi + 1, dtype=np.int64))
    ymd = y * 10000 + m * 100 + day  # yyyymmdd: the difference // 10000 is the age in completed years
    out = ((ymd[dd - lo] - ymd[gd - lo]) // 10000).astype("float64")
    out[missing] = np.nan
    return pd.Series(out)


def _ouder_dan(geb_per_code: np.ndarray, code: np.ndarray, datum, max_leeftijd) -> tuple[np.ndarray, np.ndarray]:
    """Per record: is ``leeftijd(geb_per_code[code], datum) > max_leeftijd`` (a
    missing age counts as -1, as in the cleaning rules), and is its birth date
    unknown (code -1 or NaT). The same ages as :func:`leeftijd` without a birth
    date per record: age > max <=> age >= k (k = floor(max) + 1) <=> yyyymmdd(datum)
    - yyyymmdd(geboortedatum) >= k * 10000; the right side once per code, the
    yyyymmdd of the dates once per day of their range, then two lookups per record."""
    import math

    g, d = _ns(geb_per_code), _ns(datum)
    code = np.asarray(code)
    g_nat = np.append(np.isnat(g), True)  # last slot: code -1 (no client)
    at = np.where(code < 0, len(g), code)
    unknown = g_nat[at]
    d_nat = np.isnat(d)
    missing_old = -1 > max_leeftijd  # a missing age counts as -1
    old = np.full(len(d), missing_old, dtype=bool)
    if len(d) == 0 or g_nat.all() or d_nat.all():
        return old, unknown
    g_lo, g_hi = _day_range(g, g_nat[:-1])
    d_lo, d_hi = _day_range(d, d_nat)
    lo, hi = min(g_lo, d_lo), max(g_hi, d_hi)
    y, m, day = _civil(np.arange(lo, hi + 1, dtype=np.int64))
    ymd = y * 10000 + m * 100 + day
    k = math.floor(max_leeftijd) + 1
    g_day = np.where(g_nat[:-1], lo, g.view(np.int64) // _DAY_NS) - lo
    from_ymd = np.append(np.where(g_nat[:-1], np.iinfo(np.int64).max, ymd[g_day] + k * 10000),
                         np.iinfo(np.int64).max)  # per code: older from this yyyymmdd on
    d_day = d.view(np.int64) // _DAY_NS
    d_day -= lo
    any_nat = bool(d_nat.any())
    if any_nat:
        d_day[d_nat] = 0
    older = ymd[d_day] >= from_ymd[at]
    if missing_old:
        older |= unknown | d_nat
    elif any_nat:
        older &= ~d_nat
    return older, unknown


def _lookup_by_code_date(codes: Codes, dates, table: pd.DataFrame, code_col: str,
                         valid_fn, order_col: str) -> np.ndarray:
    """The reference row for each (code, date), chosen once per distinct pair.

    ``valid_fn(rows, d)`` -> bool array: is table row ``rows[i]`` valid on date
    ``d[i]``. Among the rows of a code a valid one with the latest ``order_col``
    wins (empty = oldest; on a tie the first in ``table``), else (code known, no
    row valid on the date) the one with the latest ``order_col``. Returns per
    record the position of its row in ``table`` (int32 for tables below 2**31
    rows), -1 for a code not in the table.
    Vectorised: candidate (pair, row) combinations by ``np.repeat``, one lexsort.
    """
    key, win, _, _ = _lookup_pairs(codes, dates, table, code_col, valid_fn, order_col)
    return win[key]


def _lookup_pairs(codes: Codes, dates, table: pd.DataFrame, code_col: str, valid_fn, order_col: str):
    """:func:`_lookup_by_code_date` per distinct (code, day) pair: (pair number per
    record, the chosen row per pair, the pair's date, are all dates whole days,
    i.e. is every record's date its pair's)."""
    c, n = codes.codes, len(codes)
    if n == 0 or len(table) == 0 or len(codes.uniques) == 0:
        return np.zeros(n, dtype=np.int64), np.full(1, -1, dtype=np.int64), \
            np.full(1, np.datetime64("NaT", "ns")), False
    key, pair_c, pair_d, whole = _code_date_pairs(c, _ns(dates))
    # table rows by code (rows whose code no record has are left out)
    tc = np.asarray(codes.uniques.get_indexer(table[code_col]), dtype=np.int64)
    by_code = np.flatnonzero(tc >= 0)
    by_code = by_code[np.argsort(tc[by_code], kind="stable")]
    tcs = tc[by_code]
    lo = np.searchsorted(tcs, pair_c, side="left")
    cnt = np.where(pair_c >= 0, np.searchsorted(tcs, pair_c, side="right") - lo, 0)
    pair = np.repeat(np.arange(len(pair_c)), cnt)
    offs = np.arange(len(pair)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    rows = by_code[np.repeat(lo, cnt) + offs]
    win = np.full(len(pair_c), -1, dtype=np.int32 if len(table) < 2**31 else np.int64)
    one = cnt == 1  # a single candidate row wins
    win[one] = by_code[lo[one]]
    multi = (cnt > 1)[pair]
    pair, rows = pair[multi], rows[multi]
    if len(rows):
        valid = np.asarray(valid_fn(rows, pair_d[pair]), dtype=bool)
        order_v = table[order_col].to_numpy(dtype="datetime64[ns]").view(np.int64)[rows]  # NaT: lowest
        o = np.lexsort((rows, ~order_v, ~valid, pair))  # ~x: descending, NaT last
        ps = pair[o]
        head = np.r_[True, ps[1:] != ps[:-1]]
        win[ps[head]] = rows[o][head]
    return key, win, pair_d, whole


def _days_whole(v: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """(:func:`_day_codes` of the dates ``v`` (datetime64[ns]), their earliest day
    since 1970 (0 if all NaT), are all of them at midnight (NaT counts as one)),
    in one pass of blocks: the day and its remainder from one ``divmod``."""
    i = v.view(np.int64)
    days = np.empty(len(i), dtype=np.int64)
    rest = np.empty(min(len(i), 1 << 16), dtype=np.int64)
    nat = np.iinfo(np.int64).min
    whole = True
    for lo in range(0, len(i), 1 << 16):
        b = i[lo:lo + (1 << 16)]
        np.divmod(b, _DAY_NS, out=(days[lo:lo + len(b)], rest[:len(b)]))
        if whole and ((rest[:len(b)] != 0) & (b != nat)).any():
            whole = False
    if len(i) == 0:
        return days, 0, True
    first = int(days.min())
    if first > _NAT_DAY:  # no NaT (it floors to that day)
        days -= first - 1
        return days, first, whole
    isnat = np.isnat(v)
    if isnat.all():
        return np.zeros(len(v), dtype=np.int64), 0, True
    first = _day_range(v, isnat)[0]
    days -= first - 1
    days[isnat] = 0
    return days, first, whole


def _code_date_pairs(c: np.ndarray, dates: np.ndarray):
    """Distinct (code, day) pairs of records: (pair number per record, code and
    date per pair, are all dates whole days, so every record's date is its pair's). Dates of whole days with a small code x day
    range: numbered by a dense lookup array (no hashing); else by
    :func:`combine_keys` (in order of first appearance, the date of the pair's
    first record)."""
    n = len(c)
    day, lo, whole = _days_whole(_ns(dates))
    width = int(day.max()) + 1
    size = (int(c.max()) + 2) * width
    if not (whole and size <= min(4 * n + (1 << 20), 1 << 25)):
        key = combine_keys([c, day])
        first = first_positions(key)
        return key, c[first], dates[first], whole
    flat = day  # ours: the dense number of (code, day), built in place
    flat += (c + 1) * width
    present = np.zeros(size, dtype=bool)
    present[flat] = True
    ids = np.flatnonzero(present)
    num = np.zeros(size, dtype=np.int32 if len(ids) < 2**31 else np.int64)
    num[ids] = np.arange(len(ids))
    pair_day = ids % width  # day code: 0 = NaT, else days since the earliest + 1
    pair_d = ((lo + pair_day - 1) * _DAY_NS).view("datetime64[ns]")
    pair_d[pair_day == 0] = np.datetime64("NaT", "ns")
    return num[flat], ids // width - 1, pair_d, whole


def _at(values: np.ndarray, rows: np.ndarray, fill):
    """``values[rows]`` with ``fill`` where ``rows`` is -1 (numpy)."""
    return np.append(values, np.asarray([fill], dtype=values.dtype))[np.where(rows < 0, len(values), rows)]


def _if_else(cond: np.ndarray, a: pd.Series, b: pd.Series) -> pd.Series:
    """``a`` where ``cond`` else ``b`` for string columns, in Arrow (no Python objects)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arr(s):
        return pa.chunked_array([pa.array([], pa.large_string())]) if len(s) == 0 else \
            pc.cast(pa.chunked_array(s.astype(schema.S).array._pa_array), pa.large_string())
    res = pc.if_else(pa.array(np.asarray(cond, dtype=bool)), arr(a), arr(b))
    return pd.Series(pd.arrays.ArrowStringArray(res))


def product_attrs(productcode: pd.Series, productcategorie: pd.Series, datum,
                  producten: pd.DataFrame, codes: Codes | None = None,
                  kolommen: list[str] | None = None) -> pd.DataFrame:
    """Product attributes valid on ``datum`` (metrics.md section 0.3).

    From ``producten`` by productcode, the row valid on the date (geldig_vanaf <=
    datum <= geldig_tot, both ends inclusive, empty = open). ``productgroep``:
    the table's value, empty -> the productcode itself; a code not in the table
    (or no code) -> the record's productcategorie, with ``product_bekend`` false.
    A known code without a row valid on the date takes its nearest (latest
    starting) row. ``codes``: the productcode's :class:`Codes` when known.
    ``kolommen``: only these attributes (``productgroep`` and ``product_bekend``
    always); default all.
    """
    cols = ["productgroep", "financieringsvorm", "segment", "zwaarte", "variant",
            "norm_uren", "norm_maanden", "tarief_cent", "trajectprijs_cent"]
    if kolommen is not None:
        cols = [c for c in cols if c == "productgroep" or c in kolommen]

    prod = schema.conform(producten, "producten")
    for c in ("financieringsvorm", "zwaarte", "variant"):
        prod[c] = prod[c].str.strip().str.lower().replace("", pd.NA).astype(schema.S)
    vanaf = prod["geldig_vanaf"].to_numpy(dtype="datetime64[ns]")
    tot = prod["geldig_tot"].to_numpy(dtype="datetime64[ns]")

    def valid(rows, d):
        v, t = vanaf[rows], tot[rows]
        return (np.isnat(v) | (v <= d)) & (np.isnat(t) | (d <= t))

    codes = codes if codes is not None else Codes(productcode)
    row = _lookup_by_code_date(codes, datum, prod, "productcode", valid, "geldig_vanaf")
    known = row >= 0
    rows = _arrow_indices(row)  # one Arrow index array for all columns
    out = {col: take(prod[col].array, rows) for col in cols if col != "productgroep"}
    # productgroep: the table's; empty -> the code; unknown code -> the record's
    # productcategorie. Per table row (the table's or its code), then one take per record.
    grp = prod["productgroep"]
    per_row = np.where(grp.fillna("").eq("").to_numpy(dtype=bool), prod["productcode"].to_numpy(dtype=object),
                       grp.to_numpy(dtype=object))
    idx, values = row, per_row
    if not known.all():
        unknown = np.flatnonzero(~known)
        cat = pd.Series(productcategorie).reset_index(drop=True).astype(schema.S).iloc[unknown]
        cat_c, cat_u = pd.factorize(cat, use_na_sentinel=True)
        idx = row.copy()
        idx[unknown] = np.where(cat_c < 0, -1, len(per_row) + cat_c)
        values = np.concatenate([per_row, np.asarray(cat_u, dtype=object)])
    out["productgroep"] = take(pd.array(values, dtype=schema.S), idx)
    out["product_bekend"] = pd.array(known, dtype=schema.B)
    return pd.DataFrame({c: out[c] for c in [*cols, "product_bekend"]})


def aanbieder_attrs(agb: pd.Series, datum, aanbieders: pd.DataFrame,
                    codes: Codes | None = None) -> pd.DataFrame:
    """Aanbieder attributes: ``aanbieder_type``, ``aanbieder_bekend`` and, with a
    date, ``gecontracteerd`` (contracted on that date).

    Contracted: a row of ``aanbieders`` for the AGB with gecontracteerd_vanaf <=
    datum <= gecontracteerd_tot (an empty end is open; both empty = never
    contracted, niet-gecontracteerd aanbod). An AGB not in the table is NGA and
    ``regulier`` (data-contract 1.3). Several rows per AGB (contract periods)
    are allowed; the type is taken from the first.
    """
    a = schema.conform(aanbieders, "aanbieders")
    typ = a.drop_duplicates("agb").set_index("agb")["type"].str.strip().str.lower()
    typ = typ.where(typ.isin(["micro", "regulier"]), "regulier").fillna("regulier")
    codes = codes if codes is not None else Codes(agb)
    c, u = codes.codes, codes.uniques
    at = typ.index.get_indexer(u) if len(u) else np.zeros(0, dtype=np.int64)  # per distinct AGB
    u_known = np.append(at >= 0, False)
    u_type = np.where(at >= 0, _at(typ.to_numpy(dtype=object), at, None), "regulier")
    out = pd.DataFrame({
        "aanbieder_type": take(pd.array(np.append(u_type, "regulier"), dtype=schema.S),
                               np.where(c < 0, len(u), c)),
        "aanbieder_bekend": pd.array(u_known[c], dtype=schema.B),
    })
    if datum is not None:
        d = np.asarray(pd.Series(datum).to_numpy(dtype="datetime64[ns]"))
        vanaf = a["gecontracteerd_vanaf"].to_numpy(dtype="datetime64[ns]")
        tot = a["gecontracteerd_tot"].to_numpy(dtype="datetime64[ns]")

        def contracted(v, t, d):
            return (~np.isnat(v) | ~np.isnat(t)) & (np.isnat(v) | (v <= d)) & (np.isnat(t) | (d <= t))

        # a row valid on the date wins; the winner is re-checked per record (once
        # per (agb, day) pair when every record's date is its pair's)
        key, win, pair_d, whole = _lookup_pairs(codes, d, a, "agb",
                                                lambda rows, dd: contracted(vanaf[rows], tot[rows], dd),
                                                "gecontracteerd_vanaf")
        nat = np.datetime64("NaT", "ns")
        if whole:
            gec = contracted(_at(vanaf, win, nat), _at(tot, win, nat), pair_d)[key]
        else:
            row = win[key]
            gec = contracted(_at(vanaf, row, nat), _at(tot, row, nat), d)
        out["gecontracteerd"] = pd.array(gec, dtype=schema.B)
    return out


def regio_lookup(gemeentecode: pd.Series, gemeenten: pd.DataFrame, codes: Codes | None = None,
                 kolommen=("regio", "gemeentenaam")) -> pd.DataFrame:
    """``regio`` (regio_naam) and ``gemeentenaam`` per gemeentecode; an unknown code
    is grouped under its own code (data-contract 1.3); no code -> ``onbekend``.
    Looked up once per distinct code. ``kolommen``: only these of the two."""
    g = gemeenten.drop_duplicates("gemeentecode").set_index("gemeentecode")
    codes = codes if codes is not None else Codes(gemeentecode)
    c = np.where(codes.codes < 0, len(codes.uniques), codes.codes)
    us = pd.Series(codes.uniques, dtype=schema.S)
    out = {}
    for col, src in (("regio", "regio_naam"), ("gemeentenaam", "gemeentenaam")):
        if col in kolommen:
            per_code = np.append(us.map(g[src]).fillna(us).to_numpy(dtype=object), "onbekend")
            out[col] = take(pd.array(per_code, dtype=schema.S), c)
    return pd.DataFrame(out)


class _Telling:
    def __init__(self):
        self.rows = []

    def add(self, tabel, regel, voor, verwijderd, omschrijving):
        self.rows.append({"stap": len([r for r in self.rows if r["tabel"] == tabel]) + 1,
                          "tabel": tabel, "regel": regel, "voor": int(voor),
                          "verwijderd": int(verwijderd), "omschrijving": omschrijving})

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(TELLING_COLUMNS))
        return df.astype(TELLING_COLUMNS)


# --------------------------------------------------------------------------- toewijzingen

#: Input columns cleaning reads (the others, e.g. ``bron``, may be absent).
NODIG = {
    "toewijzingen": [c for c in schema.TABLES["toewijzingen"] if c != "bron"],
    "declaraties": ["toewijzing_nr", "gemeentecode", "agb", "client_id", "productcategorie", "productcode",
                    "periode_begin", "periode_eind", "volume_signed", "eenheid", "tarief_cent",
                    "bedrag_cent_signed"],
}


def _canon(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """The table with canonical dtypes: as it is when the columns cleaning reads
    (``NODIG``) are there with the canonical dtypes, else conformed."""
    # dictionary-encoded strings (jeugdlib kpi reads client_id so) count as strings
    dicts = {c for c in df.columns if schema.TABLES[table].get(c) == schema.S and _arrow_dictionary(df[c]) is not None}
    ok = all(c in df.columns and (c in dicts or df[c].dtype == pd.api.types.pandas_dtype(schema.TABLES[table][c]))
             for c in NODIG[table])
    if ok:
        return df
    if dicts:
        df = df.assign(**{c: decoded(df[c]) for c in dicts})
    return schema.conform(df, table)


def _clean_toewijzingen(tw: pd.DataFrame, params: Params, tel: _Telling, nr: np.ndarray | None = None):
    """metrics.md 0.1 (rules 1-6 of the module docstring). ``nr``: codes of
    ``tw["toewijzing_nr"]`` when known (:class:`Codes`; NA and "" -> -1, one group).
    Returns (kept toewijzingen, withdrawn latest versions, positions of the kept
    rows in ``tw``). The rules are evaluated on the latest versions' positions;
    the rows are taken from ``tw`` once per result."""
    import pyarrow.compute as pc

    peil = params.peil_ts
    n0 = len(tw)
    # 1. latest version (stable: on equal stamps the last read wins; NaT is oldest)
    stamp = tw["versie_ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    nr = Codes(tw["toewijzing_nr"]).codes if nr is None else np.asarray(nr, dtype=np.int64)
    sel = _last_of_max(nr + 1, stamp)  # code -1 (no number) is one group too
    n1 = len(sel)
    tel.add("toewijzingen", "oudere_versie", n0, n0 - n1,
            "oudere versies van een toewijzing (alleen de laatste versie telt)")
    # 2. RedenWijziging 13
    rw = tw["reden_wijziging"].array
    if isinstance(rw, pd.arrays.ArrowStringArray):
        eq13 = pc.equal(pc.utf8_trim_whitespace(rw._pa_array), "13")
        rw13_all = np.asarray(pc.fill_null(eq13, False).to_numpy(zero_copy_only=False), dtype=bool)
    else:
        rw13_all = tw["reden_wijziging"].str.strip().eq("13").fillna(False).to_numpy(dtype=bool)
    rw13 = rw13_all[sel]
    tel.add("toewijzingen", "reden_wijziging_13", n1, rw13.sum(),
            "laatste versie ingetrokken (RedenWijziging 13, verwijderd)")
    keep = ~rw13
    # 3. einddatum < ingangsdatum
    ing = tw["ingangsdatum"].to_numpy(dtype="datetime64[ns]")[sel]
    eind = tw["einddatum"].to_numpy(dtype="datetime64[ns]")[sel]
    bad = ~np.isnat(eind) & (eind < ing)
    tel.add("toewijzingen", "einde_voor_ingang", keep.sum(), (bad & keep).sum(), "einddatum vóór ingangsdatum")
    keep &= ~bad
    # 4. ingangsdatum before the peildatum
    late = ~(ing < np.datetime64(peil))
    tel.add("toewijzingen", "ingang_na_peildatum", keep.sum(), (late & keep).sum(),
            "ingangsdatum op of na de peildatum (of leeg)")
    keep &= ~late
    # 5. age on the ingangsdatum
    age = leeftijd(tw["geboortedatum"].to_numpy(dtype="datetime64[ns]")[sel], ing).to_numpy()
    old = np.nan_to_num(age, nan=-1) > params.max_leeftijd
    tel.add("toewijzingen", "leeftijd", keep.sum(), (old & keep).sum(),
            f"cliënt ouder dan {params.max_leeftijd} jaar op de ingangsdatum")
    keep &= ~old
    # 6. excluded aanbieders
    excl = tw["agb"].isin(list(params.exclude_agb)).fillna(False).to_numpy(dtype=bool)[sel]
    tel.add("toewijzingen", "exclude_agb", keep.sum(), (excl & keep).sum(), "aanbieder uitgesloten (exclude_agb)")
    keep &= ~excl
    kept = sel[keep]
    return _rows(tw, kept), _rows(tw, sel[rw13]), kept


def _last_of_max(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per group (dense non-negative int codes) the position of its row with the
    highest ``value``, on a tie the last one; increasing positions. Without a
    sort: the maximum per group, then the last position holding it."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    g = np.asarray(group, dtype=np.int64)
    top = np.full(int(g.max()) + 1, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(top, g, value)
    cand = np.flatnonzero(value == top[g])
    last = np.full(len(top), -1, dtype=np.int64)
    np.maximum.at(last, g[cand], cand)
    return np.sort(last[last >= 0])


def _enrich_toewijzingen(tw: pd.DataFrame, params: Params, ref: dict) -> pd.DataFrame:
    peil_1 = params.peil_ts - pd.Timedelta(days=1)
    tw = tw.copy(deep=False)
    eind = tw["einddatum"]
    tw["einddatum_eff"] = eind.where(eind.notna() & (eind < params.peil_ts), peil_1).astype(schema.D)
    reg = regio_lookup(tw["gemeentecode"], ref["gemeenten"])
    tw["regio"] = reg["regio"].array
    tw["gemeentenaam"] = reg["gemeentenaam"].array
    pa_ = product_attrs(tw["productcode"], tw["productcategorie"], tw["ingangsdatum"], ref["producten"])
    for c in PRODUCT_ATTRS:
        tw[c] = pa_[c].array
    aa = aanbieder_attrs(tw["agb"], None, ref["aanbieders"])
    tw["aanbieder_type"] = aa["aanbieder_type"].array
    tw["aanbieder_bekend"] = aa["aanbieder_bekend"].array
    return tw


# --------------------------------------------------------------------------- declaraties

DECL_COLUMNS = ["toewijzing_nr", "client_id", "agb", "gemeentecode", "productcode", "productcategorie",
                "periode_begin", "periode_eind", "eenheid", "tarief_cent", "volume", "bedrag_cent",
                "credit_zonder_debet"]


def net_items(tnr: np.ndarray, client: np.ndarray, agb: np.ndarray, prod: np.ndarray, begin: np.ndarray,
              eind: np.ndarray, amount: np.ndarray, vol: np.ndarray, keep: np.ndarray | None = None) -> dict:
    """Netting of metrics.md 0.2 on integer-coded lines (arrays aligned per line).

    Key (toewijzing_nr, productcode, periode_begin, periode_eind), or for lines
    without a ToewijzingNummer (code -1) (client, agb, productcode, periode_begin,
    periode_eind). Returns per item, in order of their first line: ``first`` (the
    line whose fields the item takes: its first debet line, else its first
    line), ``bedrag`` and ``volume`` (signed sums: debet minus credit),
    ``n_debet``, ``n_credit``. ``keep``: net only these lines (the others are
    sorted after them and left out; positions still count all lines).
    """
    n = len(tnr)
    if n == 0:
        z = np.zeros(0, np.int64)
        return {"first": z, "bedrag": z, "volume": z, "n_debet": z, "n_credit": z}
    tnr = np.asarray(tnr)
    has_nr = tnr >= 0
    # the item's subject: its toewijzing, or without a number its (client, agb) pair,
    # numbered after the toewijzing codes (few such lines: a small factorize)
    subject = tnr.astype(np.int64)  # our own copy: the key is built in it
    if not has_nr.all():
        no = ~has_nr
        pair = combine_keys([np.asarray(client)[no], np.asarray(agb)[no]])
        subject[no] = int(tnr.max()) + 1 + pair
    prod = np.asarray(prod)
    begin, eind = _day_codes(begin), _day_codes(eind)
    widths = [int(subject.max()) + 1, int(prod.max()) + 2, int(begin.max()) + 1, int(eind.max()) + 1]
    n_keep = n
    if keep is not None:
        keep = np.asarray(keep, dtype=bool)
        n_keep = int(keep.sum())
    amount = np.asarray(amount, dtype=np.int64)
    is_debet = amount > 0
    size = int(np.prod([float(w) for w in widths])) * 2  # the key with the debet bit below it
    if size * 2 < 2**62:
        # one int64 word: the key, then debet first; lines left out get +size (after
        # all others); a stable sort keeps the input order
        key = subject
        key *= widths[1]
        key += prod
        key += 1  # productcode -1 -> 0
        key *= widths[2]
        key += begin
        key *= widths[3]
        key += eind
        key *= 2
        key += ~is_debet
        if n_keep < n:
            np.add(key, size, out=key, where=~keep)
        order = np.argsort(key, kind="stable")
        ks = key[order]
        del key
        ks >>= 1
        change = np.r_[True, ks[1:] != ks[:-1]]
    else:
        parts = [subject, prod.astype(np.int64) + 1, begin, eind]  # all >= 0
        if keep is not None:  # most significant: lines left out sort last
            parts.insert(0, (~keep).astype(np.int64))
        words = pack_keys(parts)
        order = np.lexsort((np.arange(n), ~is_debet, *reversed(words)))
        change = np.zeros(n, dtype=bool)
        change[0] = True
        for w in words:
            ws = w[order]
            change[1:] |= ws[1:] != ws[:-1]
    starts = np.flatnonzero(change[:n_keep])  # first line of each item in sorted order
    # items in order of their first line: one sort of those lines (int32: faster)
    small = np.int32 if n < 2**31 else np.int64
    seg_first = order[starts].astype(small)
    first = np.sort(seg_first).astype(np.int64)
    # sums: the first line's value plus the other lines' (few: most items are one
    # line); their item found by binary search of their segment's first line
    rest = np.flatnonzero(~change[:n_keep])
    rest_item = np.searchsorted(first, seg_first[np.searchsorted(starts, rest, side="right") - 1])
    rest_line = order[rest]
    vol = np.asarray(vol, dtype=np.int64)

    def total(values):
        out = values[first].astype(np.int64, copy=False)
        np.add.at(out, rest_item, values[rest_line])
        return out
    return {"first": first, "bedrag": total(amount), "volume": total(vol),
            "n_debet": total(is_debet), "n_credit": total(amount < 0)}


def net_declaraties(dec: pd.DataFrame):
    """Net declaration lines into items (metrics.md 0.2; see :func:`net_items`).

    Returns (items, had_credit, first_line): all items including net 0, with
    ``bedrag_cent``, ``volume`` and ``credit_zonder_debet`` (no debet line, net
    not 0), the other fields from the item's first debet line.
    """
    dec = dec.reset_index(drop=True)
    r = net_items(Codes(dec["toewijzing_nr"]).codes, Codes(dec["client_id"]).codes, Codes(dec["agb"]).codes,
                  Codes(dec["productcode"]).codes, dec["periode_begin"].to_numpy(dtype="datetime64[ns]"),
                  dec["periode_eind"].to_numpy(dtype="datetime64[ns]"),
                  dec["bedrag_cent_signed"].fillna(0).to_numpy(dtype=np.int64),
                  dec["volume_signed"].fillna(0).to_numpy(dtype=np.int64))
    items = _items_frame(dec, r["first"], r["bedrag"], r["volume"], r["n_debet"])
    return items, r["n_credit"] > 0, r["first"]


def _int_values(s: pd.Series) -> np.ndarray:
    """Integer column as int64 numpy, missing -> 0."""
    import pyarrow.compute as pc

    arr = s.array
    if isinstance(arr, pd.arrays.ArrowExtensionArray):
        return np.asarray(pc.fill_null(arr._pa_array, 0).to_numpy(), dtype=np.int64)
    return s.fillna(0).to_numpy(dtype=np.int64)


def _items_frame(dec, pos, bedrag, volume, n_debet, kolommen=None, zonder_nr=True) -> pd.DataFrame:
    """The items' fields from their line ``pos`` of ``dec`` (an empty toewijzing_nr
    -> missing) and their netted amounts. ``zonder_nr``: False when no item can
    have an empty toewijzing_nr (none has code -1), which skips that check."""
    cols = [c for c in DECL_COLUMNS if c not in ("volume", "bedrag_cent", "credit_zonder_debet")
            and (kolommen is None or c in kolommen)]
    items = _rows(dec, pos, cols)
    tnr = items["toewijzing_nr"]
    empty = tnr.eq("").fillna(False).to_numpy(dtype=bool) if zonder_nr else np.zeros(len(tnr), dtype=bool)
    if empty.any():
        items["toewijzing_nr"] = _if_else(~empty, tnr, pd.Series(pd.array([None] * len(tnr), dtype=schema.S)))
    items["volume"] = pd.array(volume, dtype=schema.I)
    items["bedrag_cent"] = pd.array(bedrag, dtype=schema.I)
    items["credit_zonder_debet"] = pd.array((n_debet == 0) & (bedrag != 0), dtype=schema.B)
    order = [c for c in DECL_COLUMNS if c in items.columns]
    return items if list(items.columns) == order else items[order]


def _clean_declaraties(dec: pd.DataFrame, client: np.ndarray, tnr: np.ndarray, geb_per_code: np.ndarray,
                       params: Params, tel: _Telling, kolommen=None):
    """metrics.md 0.2 on the raw lines (``client``, ``tnr``: codes of their client_id
    and toewijzing_nr); returns (items, positions of their line in ``dec``,
    birth-date stats, agb and productcode :class:`Codes` of the items, in any
    numbering: :func:`_lookup_codes`)."""
    n0 = len(dec)
    pb = dec["periode_begin"].to_numpy(dtype="datetime64[ns]")
    keep = pb < np.datetime64(params.peil_ts)  # NaT compares False
    tel.add("declaraties", "periode_na_peildatum", n0, (~keep).sum(),
            "declaratieregel met periode_begin op of na de peildatum (of leeg)")
    n_keep = int(keep.sum())
    agb = _lookup_codes(dec["agb"])  # for grouping and lookups: any numbering
    prod = _lookup_codes(dec["productcode"])
    r = net_items(tnr, client, agb.codes, prod.codes, pb, dec["periode_eind"].to_numpy(dtype="datetime64[ns]"),
                  _int_values(dec["bedrag_cent_signed"]), _int_values(dec["volume_signed"]), keep=keep)
    first = r["first"]
    n_items = len(first)
    tel.add("declaraties", "saldering", n_keep, n_keep - n_items,
            "regels samengevoegd tot één post per product en periode (debet min credit)")
    zero = r["bedrag"] == 0
    z1 = zero & (r["n_credit"] > 0)
    tel.add("declaraties", "netto_nul_creditering", n_items, z1.sum(),
            "posten met netto bedrag 0 doordat een credit een debet opheft")
    tel.add("declaraties", "netto_nul_bedrag", n_items - z1.sum(), (zero & ~z1).sum(), "posten met bedrag 0")
    keep = ~zero
    item_client = client[first]
    old, geb_unknown = _ouder_dan(geb_per_code, item_client, pb[first], params.max_leeftijd)
    tel.add("declaraties", "leeftijd", keep.sum(), (old & keep).sum(),
            f"cliënt ouder dan {params.max_leeftijd} jaar op periode_begin")
    keep &= ~old
    excl_codes = np.flatnonzero(np.asarray(agb.uniques.isin(list(params.exclude_agb)), dtype=bool))
    excl = np.isin(agb.codes[first], excl_codes)
    tel.add("declaraties", "exclude_agb", keep.sum(), (excl & keep).sum(), "aanbieder uitgesloten (exclude_agb)")
    keep &= ~excl
    unknown = geb_unknown & keep
    geb_stats = (int(unknown.sum()), int(len(np.unique(item_client[unknown]))))
    pos = first[keep]
    items = _items_frame(dec, pos, r["bedrag"][keep], r["volume"][keep], r["n_debet"][keep], kolommen,
                         zonder_nr=bool((tnr[pos] < 0).any()))
    return items, pos, geb_stats, agb.take(pos), prod.take(pos)


# --------------------------------------------------------------------------- clean

#: Columns of the cleaned declaration items the data-quality signals read; always
#: made, also with ``clean(..., declaratie_kolommen=...)``.
SIGNAAL_KOLOMMEN = ("toewijzing_nr", "agb", "gemeentecode", "regio", "productcode", "productcategorie",
                    "periode_begin", "periode_eind", "volume", "bedrag_cent", "product_bekend",
                    "aanbieder_bekend", "toewijzing_bekend", "credit_zonder_debet", "client_nr", "maand",
                    "productgroep")


def clean(ds: Dataset, params: Params, *, declaratie_kolommen=None, ruw_vrijgeven: bool = False) -> Cleaned:
    """Apply metrics.md section 0 to a dataset; every rule counted in ``telling``.

    See the module docstring for the rules and docs/architecture.md for the
    columns of the result (plus ``client_nr`` in both tables).

    ``declaratie_kolommen``: make only these columns of ``Cleaned.declaraties``
    (plus :data:`SIGNAAL_KOLOMMEN`); default all of the contract. For callers
    that know what they read (``jeugdlib kpi``: memory and time at national
    scale, e.g. no 64-character client_id per item); every other value is the same.
    ``ruw_vrijgeven``: the caller needs no more of ``ds.declaraties`` than
    ``Cleaned.dataset`` keeps: ``ds.declaraties`` is replaced by those columns as
    soon as the items are made, so the wide raw lines are freed before the
    attribute lookups (lower peak memory).
    """
    want = None if declaratie_kolommen is None else set(declaratie_kolommen) | set(SIGNAAL_KOLOMMEN)
    tel = _Telling()
    gemeenten = schema.conform(ds.gemeenten, "gemeenten") if len(ds.gemeenten) else \
        schema.conform(config.demo_gemeenten(), "gemeenten")
    producten = schema.conform(ds.producten, "producten")
    aanbieders = schema.conform(ds.aanbieders, "aanbieders")
    ref = {"gemeenten": gemeenten, "producten": producten, "aanbieders": aanbieders}

    raw_tw = _canon(ds.toewijzingen, "toewijzingen")
    raw_dec = _canon(ds.declaraties, "declaraties")
    from concurrent.futures import ThreadPoolExecutor

    # one client code and one toewijzing code over both tables (one factorisation
    # each, in two threads: Arrow's hashing releases the GIL)
    with ThreadPoolExecutor(max_workers=2) as draden:
        cc_f = draden.submit(_shared_codes, raw_dec["client_id"], raw_tw["client_id"])
        (dec_tc, tw_tc), n_tnr = _shared_codes(raw_dec["toewijzing_nr"], raw_tw["toewijzing_nr"])
        (dec_cc, tw_cc), n_clients = cc_f.result()
    # birth date per client code, from all toewijzing versions (metrics.md section 0)
    geb_per_code = np.full(n_clients, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    g = raw_tw["geboortedatum"].to_numpy(dtype="datetime64[ns]")
    has = (tw_cc >= 0) & ~np.isnat(g)
    geb_per_code[tw_cc[has]] = g[has]  # on conflicts the last version read wins

    def toewijzingen_tak():
        """The toewijzingen, start/stop and verzoeken: independent of the declaration
        items, so they run in a thread beside them (numpy and Arrow release the GIL
        in their loops); rules counted in an own telling, added in the usual order."""
        tel_tw = _Telling()
        tw_in = raw_tw.copy(deep=False)  # as raw_tw.assign(client_nr=...), without copying the columns
        tw_in["client_nr"] = pd.array(tw_cc, dtype=schema.I)
        tw, ingetrokken, tw_pos = _clean_toewijzingen(tw_in, params, tel_tw, tw_tc)
        del tw_in
        tw = _enrich_toewijzingen(tw, params, ref)
        ingetrokken = _enrich_toewijzingen(ingetrokken, params, ref)
        start_stop = schema.conform(ds.start_stop, "start_stop")
        start_stop["regio"] = regio_lookup(start_stop["gemeentecode"], gemeenten, kolommen=("regio",))["regio"].array
        verzoeken = schema.conform(ds.verzoeken, "verzoeken")
        verzoeken["regio"] = regio_lookup(verzoeken["gemeentecode"], gemeenten, kolommen=("regio",))["regio"].array
        return tel_tw, tw, ingetrokken, tw_pos, start_stop, verzoeken

    namen = want is None or "gemeentenaam" in want
    prod_kol = None if want is None else \
        [c for c in PRODUCT_ATTRS if (c if c != "tarief_cent" else "product_tarief_cent") in want]
    with ThreadPoolExecutor(max_workers=2) as draden:
        tak = draden.submit(toewijzingen_tak)
        tel_dec = _Telling()
        dec, pos, geb_stats, agb_c, prod_c = _clean_declaraties(raw_dec, dec_cc, dec_tc, geb_per_code, params,
                                                                tel_dec, want)
        gem_c = _lookup_codes(raw_dec["gemeentecode"]).take(pos)  # the items' (no hashing of their strings)
        if ruw_vrijgeven:  # the wide raw lines are freed before the lookups (peak memory)
            ds.declaraties = _licht(ds, delen=True).declaraties
            del raw_dec
        # the items' reference attributes (independent lookups; a thread each, beside
        # the toewijzingen if those are still busy)
        pa_f = draden.submit(product_attrs, dec["productcode"], dec["productcategorie"], dec["periode_begin"],
                             producten, prod_c, kolommen=prod_kol)
        aa_f = draden.submit(aanbieder_attrs, dec["agb"], dec["periode_begin"], aanbieders, agb_c)
        reg = regio_lookup(dec["gemeentecode"], gemeenten, gem_c,
                           kolommen=("regio", "gemeentenaam") if namen else ("regio",))
        maand = _month_start(dec["periode_begin"].to_numpy(dtype="datetime64[ns]"))
        tel_tw, tw, ingetrokken, tw_pos, start_stop, verzoeken = tak.result()
        pa_, aa = pa_f.result(), aa_f.result()
    tel.rows.extend(tel_tw.rows + tel_dec.rows)  # toewijzingen rules first, as always

    # which toewijzing codes of the lines are kept toewijzingen (toewijzing_bekend)
    bekend_code = np.zeros(n_tnr + 1, dtype=bool)  # last slot: code -1, no number
    k = tw_tc[tw_pos]
    bekend_code[k[k >= 0]] = True
    del tw_tc, tw_cc
    dec["client_nr"] = pd.array(dec_cc[pos], dtype=schema.I)
    dec["toewijzing_bekend"] = pd.array(bekend_code[dec_tc[pos]], dtype=schema.B)
    del dec_tc, dec_cc
    dec["regio"] = reg["regio"].array
    if namen:
        dec["gemeentenaam"] = reg["gemeentenaam"].array
    del reg
    for c in PRODUCT_ATTRS:
        # the item keeps its declared tarief; the product's tarief is product_tarief_cent
        if c in pa_.columns:
            dec["product_tarief_cent" if c == "tarief_cent" else c] = pa_[c].array
    del pa_
    for c in ("aanbieder_type", "aanbieder_bekend", "gecontracteerd"):
        dec[c] = aa[c].array
    del aa
    dec["maand"] = maand

    signalen = _signalen(tw, dec, gemeenten, geb_stats, {"gemeentecode": gem_c, "productcode": prod_c})
    del gem_c, prod_c, agb_c
    # unknown gemeenten are grouped under their own code: add them to the table
    onb = signalen["onbekende_gemeenten"]["gemeentecode"].dropna().unique()
    if len(onb):
        extra = pd.DataFrame({"gemeentecode": onb, "gemeentenaam": onb, "regio_code": onb, "regio_naam": onb})
        gemeenten = pd.concat([gemeenten, extra.astype(schema.S)], ignore_index=True)

    return Cleaned(
        toewijzingen=tw, declaraties=dec, start_stop=start_stop, verzoeken=verzoeken,
        producten=producten, aanbieders=aanbieders, gemeenten=gemeenten,
        plekken=schema.conform(ds.plekken, "plekken"),
        budgetplafonds=schema.conform(ds.budgetplafonds, "budgetplafonds"),
        bevolking=schema.conform(ds.bevolking, "bevolking"),
        telling=tel.frame(), signalen=signalen, params=params,
        toewijzingen_ingetrokken=ingetrokken, dataset=_licht(ds, delen=ruw_vrijgeven),
    )


#: Columns of the raw declaration lines kept in ``Cleaned.dataset`` (memory: the
#: others are wide strings no metric needs after cleaning).
LICHTE_KOLOMMEN = ("gemeentecode", "agb", "productcode", "periode_begin", "periode_eind", "bedrag_cent_signed")


def _licht(ds: Dataset, delen: bool = False) -> Dataset:
    """The dataset with only ``LICHTE_KOLOMMEN`` of its declaration lines (all lines
    are kept, e.g. for counting lines received per gemeente and year). ``delen``:
    the caller lets go of ``ds.declaraties``, so its columns are used without a
    copy (the frame is made from them, not selected from it)."""
    d = ds.declaraties
    if delen:
        cols = [c for c in LICHTE_KOLOMMEN if c in d.columns]
        return dataclasses.replace(ds, declaraties=pd.DataFrame({c: decoded(d[c]) for c in cols}, columns=cols,
                                                                copy=False))
    light = d[[c for c in LICHTE_KOLOMMEN if c in d.columns]]
    dicts = [c for c in light.columns if _arrow_dictionary(light[c]) is not None]
    if dicts:  # as strings, as every reader of the dataset expects
        light = light.assign(**{c: decoded(light[c]) for c in dicts})
    return dataclasses.replace(ds, declaraties=light)


def _signalen(tw, dec, gemeenten, geb_unknown_dec, codes: dict | None = None) -> dict:
    """Data-quality lists (no client ids in them). ``codes``: :class:`Codes` (any
    numbering) of ``gemeentecode`` and ``productcode`` of ``dec`` when known (no
    string comparisons per item)."""
    item_cols = ["toewijzing_nr", "agb", "gemeentecode", "regio", "productcode", "periode_begin",
                 "periode_eind", "volume", "bedrag_cent"]

    def per_code(col, mask_tw, mask_dec, extra=()):
        parts = []
        for tabel, df, mask in (("toewijzingen", tw, mask_tw), ("declaraties", dec, mask_dec)):
            rows = np.flatnonzero(np.asarray(mask, dtype=bool))
            if len(rows) == 0:
                continue
            sub = _rows(df, rows, [col, *extra, *(["bedrag_cent"] if "bedrag_cent" in df else [])])
            g = sub.assign(_n=1, _b=sub["bedrag_cent"] if "bedrag_cent" in sub else 0)
            agg = g.groupby([col, *extra], dropna=False, sort=True).agg(
                aantal=("_n", "sum"), bedrag_cent=("_b", "sum")).reset_index()
            agg.insert(0, "tabel", tabel)
            parts.append(agg)
        cols = ["tabel", col, *extra, "aantal", "bedrag_cent"]
        if not parts:
            return pd.DataFrame({c: pd.Series([], dtype=schema.I if c in ("aantal", "bedrag_cent") else schema.S)
                                 for c in cols})
        out = pd.concat(parts, ignore_index=True)[cols]
        return out.astype({c: schema.I if c in ("aantal", "bedrag_cent") else schema.S for c in cols})

    codes = codes or {}

    def unknown_code(df, c=None):
        has_code = (df["productcode"].fillna("") != "") if c is None else c.codes >= 0  # NA and "" -> -1
        return (~df["product_bekend"].fillna(False).astype(bool)) & has_code

    known_gem = list(gemeenten["gemeentecode"].dropna())

    def unknown_gem(df, c=None):
        if c is None or "" in known_gem:  # code -1 is NA or ""
            return ~df["gemeentecode"].isin(known_gem)
        known = np.append(np.asarray(c.uniques.isin(known_gem), dtype=bool), False)
        return ~known[np.where(c.codes < 0, len(c.uniques), c.codes)]

    geb_tw = tw["geboortedatum"].isna()
    return {
        "onbekende_producten": per_code("productcode", unknown_code(tw), unknown_code(dec, codes.get("productcode")),
                                        ("productcategorie",)),
        "onbekende_aanbieders": per_code("agb", ~tw["aanbieder_bekend"].astype(bool),
                                         ~dec["aanbieder_bekend"].astype(bool)),
        "onbekende_gemeenten": per_code("gemeentecode", unknown_gem(tw), unknown_gem(dec, codes.get("gemeentecode"))),
        "zonder_toewijzing": _rows(dec, np.flatnonzero(~dec["toewijzing_bekend"].to_numpy(dtype=bool)), item_cols),
        "credit_zonder_debet": _rows(dec, np.flatnonzero(dec["credit_zonder_debet"].to_numpy(dtype=bool)), item_cols),
        "geboortedatum_onbekend": pd.DataFrame({
            "tabel": pd.Series(["toewijzingen", "declaraties"], dtype=schema.S),
            "aantal": pd.Series([int(geb_tw.sum()), geb_unknown_dec[0]], dtype=schema.I),
            "clienten": pd.Series([int(tw.loc[geb_tw.to_numpy(dtype=bool), "client_nr"].nunique()), geb_unknown_dec[1]],
                                  dtype=schema.I),
        }),
    }
