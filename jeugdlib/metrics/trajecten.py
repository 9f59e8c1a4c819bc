"""Trajecten (outputgericht): zorgpaden with labels, doorlooptijd, volume, traject ratios.

metrics.md section 6. The analyses Noord-Limburg did by hand for its traject
products (licht/midden/zwaar, plus P*Q maatwerk and meerwerk in the same
productgroep), as vectorised functions over the ``Cleaned`` tables of
docs/architecture.md:

* :func:`zorgpaden` - one row per zorgpad of a productgroep with traject products:
  label (the time-sliced state sequence, e.g. ``Zwaar > Zwaar-Maatwerk > Maatwerk``),
  start, doorlooptijd in declared months, volume in hours, kosten.
* :func:`label_samenvatting`, :func:`top_labels`, :func:`doorlooptijd_verdeling`,
  :func:`volume_klassen`, :func:`normen` - what the Trajecten report plots.
* :func:`traject_ratios`, :func:`bubbel_data` - volume_ratio and kosten_ratio of
  regulier ended trajecten (JW307 reden 31, or the fallback without JW307).
* :func:`aandeel_pq_in_traject`, :func:`kosten_samenstelling` - cost shares.
* :func:`kpis` - the section 6 KPI rows for ``jeugdlib kpi``.

Every function takes ``exclude_agb``: the named aanbieders' toewijzingen and
declarations are left out before anything is computed (``params.exclude_agb``
is always applied too), to show how one large aanbieder shapes the picture.
No function loops in Python over clients, zorgpaden or toewijzingen.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import config, schema
from . import _common

#: Label bits (task brief): the set of labels active in a piece is a bitmask.
BITS = {"Licht": 1, "Midden": 2, "Zwaar": 4, "Maatwerk": 8, "Meerwerk": 16}
MAATWERK_BITS = BITS["Maatwerk"] | BITS["Meerwerk"]
#: Label of a zorgpad none of whose toewijzingen carries a label (e.g. a traject
#: product without zwaarte). metrics.md leaves this open.
GEEN_LABEL = "Zonder label"
#: RedenBeeindiging (JZ588) "Levering is volgens plan beeindigd".
REDEN_REGULIER = "31"
#: Volume classes in hours (metrics.md section 6): left-closed, last one open.
VOLUME_GRENZEN = (0, 10, 20, 30, 50, 75, 100, 200, 500)
VOLUME_KLASSEN = ("0-10", "10-20", "20-30", "30-50", "50-75", "75-100", "100-200", "200-500", "500+")
#: Doorlooptijd classes in months: 1 .. 24 and >24.
DOORLOOPTIJD_KLASSEN = tuple(str(i) for i in range(1, 25)) + (">24",)

_BIT_VALUES = np.array(list(BITS.values()), dtype=np.int64)
_FIELD_BITS = 12
_FIELD_MAX = 1 << _FIELD_BITS
_DAY = np.timedelta64(1, "D")


def mask_label(mask: int) -> str:
    """The label of one piece: the active labels in fixed order joined by ``-``.

    ``mask_label(4 | 8) == "Zwaar-Maatwerk"``; ``mask_label(0) == ""``.
    """
    return "-".join(name for name, bit in BITS.items() if mask & bit)


#: mask (0..31) -> piece label; a constant table of 32 strings.
MASK_LABELS = np.array([mask_label(m) for m in range(32)], dtype=object)


# --------------------------------------------------------------------------- helpers

def _excluded(params, exclude_agb: Iterable[str] | None) -> tuple[str, ...]:
    """Union of ``params.exclude_agb`` and the call's ``exclude_agb``."""
    ex = tuple(getattr(params, "exclude_agb", ()) or ()) if params is not None else ()
    if exclude_agb:
        if isinstance(exclude_agb, str):
            exclude_agb = (exclude_agb,)
        ex = ex + tuple(str(a) for a in exclude_agb)
    return tuple(dict.fromkeys(ex))


def _without_agb(df: pd.DataFrame, exclude: tuple[str, ...]) -> pd.DataFrame:
    if not exclude or len(df) == 0 or "agb" not in df.columns:
        return df
    return df[~df["agb"].isin(list(exclude)).fillna(False).to_numpy(dtype=bool)]


def _lower(s: pd.Series) -> pd.Series:
    return s.astype(schema.S).str.strip().str.lower().fillna("")


def _eq(s: pd.Series, value: str) -> np.ndarray:
    return (s == value).fillna(False).to_numpy(dtype=bool)


def _is_lower(df: pd.DataFrame, col: str, *values: str, rows: np.ndarray | None = None) -> np.ndarray:
    """``_eq(_lower(df[col]), v)`` for any of ``values``, on the column's integer codes
    (stripped and lower-cased once per distinct value, not per row); only for the
    positions ``rows`` when given."""
    codes, uniq = _common.column_codes(df, col)
    low = pd.Series(uniq, dtype=object).astype(schema.S).str.strip().str.lower().fillna("")
    hit = np.append(low.isin(list(values)).to_numpy(dtype=bool), False)
    return hit[codes if rows is None else codes[rows]]


def _in_values(df: pd.DataFrame, col: str, values) -> np.ndarray:
    """``df[col].isin(values)`` (missing -> False) on the column's integer codes."""
    codes, uniq = _common.column_codes(df, col)
    hit = np.append(pd.Index(uniq).isin(list(values)), False)
    return hit[codes]


def _agb_mask(df: pd.DataFrame, exclude: tuple[str, ...]) -> np.ndarray:
    """True for the rows whose aanbieder is not excluded (see :func:`_without_agb`)."""
    if not exclude or len(df) == 0 or "agb" not in df.columns:
        return np.ones(len(df), dtype=bool)
    return ~_in_values(df, "agb", exclude)


def _client_codes_rijen(df: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Client codes of the rows ``rows`` that group them as ``_common.client_codes(df)[rows]``
    does. Without a client_id column (Cleaned declaraties) that is ``client_nr`` at
    those rows (-1: missing), taken before converting (not the whole column)."""
    if "client_nr" in df.columns and "client_id" not in df.columns:
        return df["client_nr"].take(rows).to_numpy(dtype=np.int64, na_value=-1)
    return _common.client_codes(df)[rows]


def _productgroep_van(df: pd.DataFrame) -> pd.Series:
    """productgroep, or the productcode where it is empty (metrics.md 0.3)."""
    pg = df["productgroep"].astype(schema.S)
    empty = pg.isna() | (pg.str.strip() == "")
    return pg.where(~empty.fillna(True), df["productcode"].astype(schema.S))


def _in_window(dates: pd.Series, params) -> np.ndarray:
    d = pd.Series(dates).to_numpy(dtype="datetime64[ns]")
    lo = np.datetime64(params.start_ts.to_datetime64(), "ns")
    hi = np.datetime64(params.peil_ts.to_datetime64(), "ns")
    return (d >= lo) & (d < hi)


def _periode(dates: pd.Series, params) -> pd.Series:
    """Period label of each date inside [start, peildatum), else <NA>."""
    lab = _common.period_label(pd.Series(dates).reset_index(drop=True), params.per)
    return lab.where(_in_window(dates, params))


def _kpi_rows(df: pd.DataFrame, kpi: str, eenheid: str, waarde: str = "waarde",
              n: str = "n_clienten", dimensie: pd.Series | str = "") -> pd.DataFrame:
    """KPI rows (docs/architecture.md) from a frame with regio, gemeente, periode."""
    if isinstance(dimensie, str):
        dim = pd.Series([dimensie] * len(df), dtype=schema.S)
    else:
        dim = pd.Series(dimensie).astype(schema.S).reset_index(drop=True)
    out = pd.DataFrame({
        "kpi": pd.Series([kpi] * len(df), dtype=schema.S),
        "regio": df["regio"].astype(schema.S).reset_index(drop=True),
        "gemeente": df["gemeente"].astype(schema.S).reset_index(drop=True),
        "periode": df["periode"].astype(schema.S).reset_index(drop=True),
        "dimensie": dim,
        "waarde": pd.to_numeric(df[waarde]).astype(schema.F).reset_index(drop=True),
        "eenheid": pd.Series([eenheid] * len(df), dtype=schema.S),
        schema.KPI_N: pd.to_numeric(df[n]).astype(schema.F).reset_index(drop=True),
    })
    return out


def _empty_kpis() -> pd.DataFrame:
    cols = {c: t for c, t in schema.KPI_COLUMNS.items() if c not in ("voorlopig", "onderdrukt")}
    cols[schema.KPI_N] = schema.F
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})


# --------------------------------------------------------------------------- zorgpaden

def traject_groepen(toewijzingen: pd.DataFrame, producten: pd.DataFrame | None = None) -> list[str]:
    """Productgroepen that have traject products (metrics.md section 6).

    A productgroep counts when a toewijzing or (if given) a row of producten.csv
    in it has financieringsvorm ``traject``. Sorted.
    """
    groepen: set[str] = set()
    if len(toewijzingen):
        is_tr = _is_lower(toewijzingen, "financieringsvorm", "traject")
        pg_codes, pg_uniq = _common.column_codes(toewijzingen, "productgroep")
        used = np.unique(pg_codes[is_tr])
        groepen |= set(str(v) for v in pg_uniq[used[used >= 0]])
    if producten is not None and len(producten):
        is_tr = _eq(_lower(producten["financieringsvorm"]), "traject")
        groepen |= set(_productgroep_van(producten[is_tr]).dropna().astype(str).unique())
    return sorted(groepen)


def label_bits(toewijzingen: pd.DataFrame) -> np.ndarray:
    """Label bit of each toewijzing (metrics.md section 6, bits of the task brief).

    Traject products: zwaarte licht/midden/zwaar -> 1/2/4; other products: variant
    maatwerk/meerwerk -> 8/16; anything else 0 (no label).
    """
    return _label_bits(toewijzingen)


def _label_bits(t: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """:func:`label_bits` (of the positions ``rows`` only, when given)."""
    traject = _is_lower(t, "financieringsvorm", "traject", rows=rows)
    conds = [traject & _is_lower(t, "zwaarte", "licht", rows=rows),
             traject & _is_lower(t, "zwaarte", "midden", rows=rows),
             traject & _is_lower(t, "zwaarte", "zwaar", rows=rows),
             ~traject & _is_lower(t, "variant", "maatwerk", rows=rows),
             ~traject & _is_lower(t, "variant", "meerwerk", rows=rows)]
    return np.select(conds, list(_BIT_VALUES), default=0).astype(np.int64)


def zorgpad_ids(toewijzingen: pd.DataFrame, params) -> pd.Series:
    """Zorgpad number per toewijzing (metrics.md section 5), aligned to the index.

    Per client and productgroep, toewijzingen sorted by ingangsdatum are joined
    while the next starts at most ``params.aansluit_dagen`` after the latest
    einddatum_eff so far. This is :func:`jeugdlib.metrics.zorgduur.zorgpaden`
    (one definition of a zorgpad for the whole library); only if that module
    cannot be imported, ``_common.chain_ids`` is called directly with the same keys.
    """
    if len(toewijzingen) == 0:
        return pd.Series([], dtype=np.int64, index=toewijzingen.index)
    try:
        from .zorgduur import zorgpaden as _zorgpaden
    except ImportError:  # pragma: no cover - zorgduur is part of the package
        _zorgpaden = None
    if _zorgpaden is not None:
        return _zorgpaden(toewijzingen, params).astype(np.int64)
    t = toewijzingen
    frame = pd.DataFrame({
        "c": pd.factorize(t["client_id"], use_na_sentinel=False)[0],
        "g": pd.factorize(t["productgroep"], use_na_sentinel=False)[0],
        "s": t["ingangsdatum"].to_numpy(dtype="datetime64[ns]"),
        "e": t["einddatum_eff"].to_numpy(dtype="datetime64[ns]"),
    }, index=t.index)
    return _common.chain_ids(frame, ["c", "g"], "s", "e", int(params.aansluit_dagen))


def zorgpad_labels(zorgpad, ingangsdatum, einddatum_eff, bits) -> pd.DataFrame:
    """The time-sliced label of each zorgpad (metrics.md section 6), vectorised.

    Per toewijzing: its zorgpad number, ingangsdatum, einddatum_eff (inclusive)
    and label bit (:func:`label_bits`). Events are every start (+1 for its bit)
    and every end + 1 day (-1); sorted by (zorgpad, date) and summed per distinct
    point, a cumulative sum gives per bit the number of active toewijzingen in
    the piece that starts at that point (the deltas of a zorgpad sum to zero, so
    one global cumulative sum suffices; the five per-bit counts are packed into
    12-bit fields of one int64, so this is a single 1-D sum). The piece mask is the sum of the bits
    with a positive count; empty pieces are dropped, equal neighbours merged, the
    piece labels joined with ``" > "`` (Arrow ``binary_join``).

    Returns a frame indexed by zorgpad with ``label``, ``met_maatwerk`` (a piece
    holds Maatwerk or Meerwerk) and ``stukken`` (pieces after merging). Zorgpaden
    without any labelled toewijzing get :data:`GEEN_LABEL`.
    """
    zp_all = np.asarray(zorgpad, dtype=np.int64)
    b = np.asarray(bits, dtype=np.int64)
    s = pd.Series(ingangsdatum).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    e = pd.Series(einddatum_eff).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    all_ids = np.unique(zp_all)
    keep = (b > 0) & ~np.isnat(s) & ~np.isnat(e)
    zp, s, e, b = zp_all[keep], s[keep], e[keep], b[keep]
    n = len(zp)
    if n == 0:
        out = pd.DataFrame({"label": pd.Series([GEEN_LABEL] * len(all_ids), dtype=schema.S),
                            "met_maatwerk": np.zeros(len(all_ids), dtype=bool),
                            "stukken": np.zeros(len(all_ids), dtype=np.int64)}, index=all_ids)
        out.index.name = "zorgpad"
        return out
    if np.unique(zp, return_counts=True)[1].max() >= _FIELD_MAX:  # pragma: no cover - unrealistic
        raise ValueError("zorgpad met 4096 of meer toewijzingen: labels niet te berekenen")
    ev_zp = np.concatenate([zp, zp])
    day0 = s.min()
    ev_day = np.concatenate([s - day0, e - day0 + _DAY]).astype(np.int64)
    # Per event one packed integer: +-1 in the 12-bit field of its bit (field f holds
    # the count of bit 2**f). Sums and the cumulative sum of packed values are exact
    # integers, and every cumulative value has non-negative fields, so it decodes
    # uniquely, as long as a zorgpad has fewer than 4096 toewijzingen of one bit.
    field = np.log2(b).astype(np.int64)
    packed = np.left_shift(np.int64(1), _FIELD_BITS * field)
    ev_val = np.concatenate([packed, -packed])
    # One int64 sort key (zorgpad, day): faster than a two-key lexsort.
    span = int(ev_day.max()) + 1
    order = _sorteer(ev_zp * span + ev_day)[0]
    ev_zp, ev_day, ev_val = ev_zp[order], ev_day[order], ev_val[order]
    point = np.ones(2 * n, dtype=bool)
    point[1:] = (ev_zp[1:] != ev_zp[:-1]) | (ev_day[1:] != ev_day[:-1])
    first = np.flatnonzero(point)
    cum = np.cumsum(np.add.reduceat(ev_val, first))
    mask = np.zeros(len(cum), dtype=np.int64)
    for f, bit in enumerate(_BIT_VALUES):  # five fixed label bits, not a loop over records
        mask |= np.where((cum >> (_FIELD_BITS * f)) & (_FIELD_MAX - 1) > 0, bit, 0)
    p_zp = ev_zp[first]
    nonempty = mask > 0
    p_zp, mask = p_zp[nonempty], mask[nonempty]
    change = np.ones(len(p_zp), dtype=bool)
    change[1:] = (p_zp[1:] != p_zp[:-1]) | (mask[1:] != mask[:-1])
    p_zp, mask = p_zp[change], mask[change]
    new_zp = np.ones(len(p_zp), dtype=bool)
    new_zp[1:] = p_zp[1:] != p_zp[:-1]
    starts = np.flatnonzero(new_zp)
    offsets = np.append(starts, len(p_zp)).astype(np.int32)
    # Dictionary of the 32 piece labels, taken by mask: no per-row Python strings.
    values = pa.array(MASK_LABELS.tolist(), type=pa.string()).take(pa.array(mask))
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), values), " > ")
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    lab_ids = p_zp[starts]
    labelled = len(lab_ids) == len(all_ids)  # then lab_ids == all_ids (both sorted, unique)
    if not labelled:
        pos = np.searchsorted(lab_ids, all_ids)
        hit = (pos < len(lab_ids)) & (lab_ids[np.minimum(pos, len(lab_ids) - 1)] == all_ids)
        take = pa.array(np.where(hit, pos, 0)).cast(pa.int64())
        joined = pc.if_else(pa.array(hit), joined.take(take), pa.scalar(GEEN_LABEL))
        mw = np.where(hit, np.logical_or.reduceat((mask & MAATWERK_BITS) > 0, starts)[np.where(hit, pos, 0)], False)
        st = np.where(hit, np.diff(offsets)[np.where(hit, pos, 0)], 0)
    else:
        mw = np.logical_or.reduceat((mask & MAATWERK_BITS) > 0, starts)
        st = np.diff(offsets)
    out = pd.DataFrame({
        "label": pd.Series(pd.arrays.ArrowStringArray(joined)),
        "met_maatwerk": np.asarray(mw, dtype=bool),
        "stukken": np.asarray(st, dtype=np.int64),
    })
    out.index = pd.Index(all_ids, name="zorgpad")
    return out


def _traject_toewijzingen(toewijzingen: pd.DataFrame, groepen, exclude: tuple[str, ...]) -> pd.DataFrame:
    t = _without_agb(toewijzingen, exclude)
    if groepen is None:
        groepen = traject_groepen(t)
    t = t[t["productgroep"].isin(list(groepen)).fillna(False).to_numpy(dtype=bool)]
    return t.reset_index(drop=True)


def _traject_posities(toewijzingen: pd.DataFrame, groepen, exclude: tuple[str, ...],
                      alleen_traject: bool = False) -> np.ndarray:
    """Positions in ``toewijzingen`` of the rows of :func:`_traject_toewijzingen`
    (with ``alleen_traject``: of traject products only). Selected on the cached
    integer codes of the columns; no column is copied."""
    keep = _agb_mask(toewijzingen, exclude)
    if groepen is None:
        groepen = traject_groepen(toewijzingen[keep] if not keep.all() else toewijzingen)
    keep &= _in_values(toewijzingen, "productgroep", groepen)
    if alleen_traject:
        keep &= _is_lower(toewijzingen, "financieringsvorm", "traject")
    return np.flatnonzero(keep)


def _getallen(df: pd.DataFrame, col: str, pos: np.ndarray) -> np.ndarray:
    """``pd.to_numeric(df[col])`` as float64 (missing -> NaN) at positions ``pos``."""
    return pd.to_numeric(df[col].take(pos)).to_numpy(dtype=float, na_value=np.nan)


def _tekst(df: pd.DataFrame, col: str, pos: np.ndarray) -> pd.Series:
    """``df[col]`` as text at positions ``pos``, with a fresh RangeIndex."""
    return df[col].take(pos).astype(schema.S).reset_index(drop=True)


_GEEN_MAAND = np.iinfo(np.int64).min  # the int64 of NaT


def _maand_nummers(m: np.ndarray) -> np.ndarray:
    """``m.astype("datetime64[M]")`` as int64 (months since 1970-01; NaT ->
    ``_GEEN_MAAND``, the int64 of NaT), via the day number and a table of the month
    of every day in the range (twice as fast as the calendar conversion)."""
    dag = np.asarray(m, dtype="datetime64[ns]").astype("datetime64[D]").view(np.int64)
    nat = dag == _GEEN_MAAND
    heeft_nat = bool(nat.any())
    echt = dag[~nat] if heeft_nat else dag
    if len(echt) == 0:
        return dag.copy()
    d0, d1 = int(echt.min()), int(echt.max())
    if d1 - d0 > 10_000_000:  # pragma: no cover - dates centuries apart
        return np.asarray(m, dtype="datetime64[ns]").astype("datetime64[M]").view(np.int64)
    tabel = np.arange(d0, d1 + 1).astype("datetime64[D]").astype("datetime64[M]").view(np.int64)
    out = np.take(tabel, dag - d0, mode="clip")
    if heeft_nat:
        out[nat] = _GEEN_MAAND
    return out


def _gekoppelde_declaraties(toewijzingen: pd.DataFrame, pos: np.ndarray, declaraties: pd.DataFrame,
                            exclude) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Declaration items on the toewijzingen at positions ``pos`` of ``toewijzingen``:
    arrays ``row`` (index into ``pos``), ``maand`` (month number of ``maand``, else
    ``periode_begin``), ``bedrag`` (net cent, missing 0) and ``uren`` (net volume x
    hours per eenheid, config.EENHEID_UREN; NaN when the unit has no hours), in
    the order of the items.

    An item belongs to the first toewijzing with its toewijzing_nr
    (``verzilvering._declaratie_rijen``); items whose toewijzing is not selected, of an
    excluded aanbieder or without a month are left out (metrics.md 0.2: they
    count in cost KPIs only). Values are taken for the linked items only.
    """
    n = len(pos)
    if n == 0 or len(declaraties) == 0:
        return (np.array([], np.int64), np.array([], np.int64), np.array([], np.int64), np.array([], float))
    from .verzilvering import _declaratie_rijen

    d = declaraties
    rij = _declaratie_rijen(d, toewijzingen, pos)
    if exclude:
        rij = np.where(_agb_mask(d, exclude), rij, -1)
    idx = np.flatnonzero(rij >= 0)
    maand_src = d["maand"] if "maand" in d.columns else d["periode_begin"]
    maand = _maand_nummers(maand_src.to_numpy(dtype="datetime64[ns]")[idx])
    ok = maand != _GEEN_MAAND
    if not ok.all():
        idx, maand = idx[ok], maand[ok]
    bedrag = d["bedrag_cent"].to_numpy(dtype=np.int64, na_value=0)[idx]
    # hours per eenheid: look up each distinct unit once
    codes, units = _common.column_codes(d, "eenheid")
    per_unit = np.append(np.array([config.EENHEID_UREN.get(u, np.nan) for u in units], dtype=float), np.nan)
    uren = d["volume"].to_numpy(dtype=float, na_value=np.nan)[idx] * per_unit[codes[idx]]
    return rij[idx], maand, bedrag, uren


def _nan_naar_nul(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x)`` (NaN -> 0, +-inf -> the largest finite values), in fewer
    passes when ``x`` holds no infinity (the usual case)."""
    if np.isinf(x).any():
        return np.nan_to_num(x)
    return np.where(np.isnan(x), 0.0, x)


def _sorteer(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``order = np.argsort(key, kind="stable")`` and ``key[order]`` for an int64 key.

    When key and position fit in one int64 (non-negative keys below
    2**(63 - bits of the length)), they are packed as ``key << bits | position``
    and sorted with one ``np.sort`` of values (several times faster than an
    argsort); equal keys keep their order, as in a stable sort."""
    key = np.asarray(key, dtype=np.int64)
    n = len(key)
    shift = max(int(n - 1).bit_length(), 1)
    if n == 0 or int(key.min()) < 0 or int(key.max()) >= (1 << (63 - shift)):
        order = np.argsort(key, kind="stable")
        return order, key[order]
    packed = (key << shift) | np.arange(n, dtype=np.int64)
    packed.sort()
    return packed & ((1 << shift) - 1), packed >> shift


def _positieve_maanden(key: np.ndarray, maand: np.ndarray, bedrag: np.ndarray, n: int) -> np.ndarray:
    """Per key 0..n-1: the number of months whose summed net amount is positive.

    (key, month) pairs are combined into one int64 and sorted once
    (:func:`_sorteer`); when no pair occurs twice a pair's sum is its own
    amount, otherwise the amounts are summed per pair (exact integer sums). No
    hashing."""
    if len(key) == 0:
        return np.zeros(n, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    m0 = int(maand.min())
    span = int(maand.max()) - m0 + 1
    order, c = _sorteer(key * span + (maand - m0))
    b = np.asarray(bedrag, dtype=np.int64)
    new = np.r_[True, c[1:] != c[:-1]]
    if new.all():  # every (key, month) pair once
        return np.bincount(key[b > 0], minlength=n).astype(np.int64)
    first = np.flatnonzero(new)
    sums = np.add.reduceat(b[order], first)
    return np.bincount(c[first][sums > 0] // span, minlength=n).astype(np.int64)


def _positieve_maanden_paden(row: np.ndarray, zp: np.ndarray, maand: np.ndarray, bedrag: np.ndarray,
                             k: int, zp_row: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_positieve_maanden` per toewijzing (``row`` indexes ``zp``, the zorgpad
    0..k-1 of each toewijzing) and per zorgpad (key ``zp[row]``), from one sort.

    The items are sorted by (zorgpad, month, rank of the toewijzing within its
    zorgpad) packed in one int64: the (toewijzing, month) pairs are then runs,
    and so are the (zorgpad, month) pairs, whose sums add up the toewijzing
    sums (exact integers). ``zp_row``: ``zp[row]`` when the caller has it."""
    n_t = len(zp)
    if len(row) == 0:
        return np.zeros(n_t, dtype=np.int64), np.zeros(k, dtype=np.int64)
    zo, zs = _sorteer(zp)
    nieuw = np.r_[True, zs[1:] != zs[:-1]]
    rank = np.empty(n_t, dtype=np.int64)
    rank[zo] = np.arange(n_t) - np.flatnonzero(nieuw)[np.cumsum(nieuw) - 1]
    bits = max(int(rank.max()).bit_length(), 1)
    m0 = int(maand.min())
    span = int(maand.max()) - m0 + 1
    zm = (zp[row] if zp_row is None else zp_row) * span + (maand - m0)
    if int(zm.max()) >= (1 << (62 - bits)):  # pragma: no cover - beyond any real dataset
        return (_positieve_maanden(row, maand, bedrag, n_t), _positieve_maanden(zp[row], maand, bedrag, k))
    order, c = _sorteer((zm << bits) | rank[row])
    b = np.asarray(bedrag, dtype=np.int64)[order]
    nieuw_tw = np.r_[True, c[1:] != c[:-1]]
    if nieuw_tw.all():  # every (toewijzing, month) pair once: its sum is its amount (any order)
        s_tw, zc = b, c >> bits
        mnd_tw = np.bincount(row[np.asarray(bedrag) > 0], minlength=n_t).astype(np.int64)
    else:
        f_tw = np.flatnonzero(nieuw_tw)
        s_tw, row_tw, zc = np.add.reduceat(b, f_tw), row[order[f_tw]], c[f_tw] >> bits
        mnd_tw = np.bincount(row_tw[s_tw > 0], minlength=n_t).astype(np.int64)
    f_zp = np.flatnonzero(np.r_[True, zc[1:] != zc[:-1]])
    s_zp = np.add.reduceat(s_tw, f_zp)
    mnd_zp = np.bincount(zc[f_zp][s_zp > 0] // span, minlength=k).astype(np.int64)
    return mnd_tw, mnd_zp


class _Rijen(NamedTuple):
    """Per toewijzing selected by :func:`zorgpaden` (``pos``: positions in the
    toewijzingen, ascending): months with a positive net declared amount and the
    net declared amount (float sum in item order, as ``np.bincount``). Lets
    :func:`traject_ratios` reuse them within one :func:`kpis` or :func:`rapport` call.
    ``eerste``: per zorgpad the position of its first toewijzing."""

    pos: np.ndarray
    maanden: np.ndarray
    kosten: np.ndarray
    eerste: np.ndarray


def zorgpaden(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame, params, *,
              exclude_agb: Iterable[str] = (), groepen: Iterable[str] | None = None,
              met_client_id: bool = False) -> pd.DataFrame:
    """Zorgpaden of the productgroepen with traject products (metrics.md sections 5 and 6).

    One row per zorgpad: ``productgroep``, ``regio``, ``gemeentecode`` (of its first
    toewijzing), ``start`` (first ingangsdatum), ``eind`` (last einddatum_eff),
    ``toewijzingen``, ``label`` (:func:`zorgpad_labels`), ``met_maatwerk``,
    ``doorlooptijd`` (calendar months in which the zorgpad's summed net declared
    amount is positive), ``volume_uren`` (traject toewijzingen: norm_uren x months
    with a positive net amount on that toewijzing / norm_maanden; inspanning
    toewijzingen: net declared volume in hours; others 0; a missing norm counts 0),
    ``kosten_cent`` (net declared amount). Client-free unless ``met_client_id``
    (internal use: distinct client counts).

    ``groepen`` defaults to :func:`traject_groepen` of the (filtered) toewijzingen.
    ``exclude_agb`` and ``params.exclude_agb`` leave those aanbieders'
    toewijzingen and declarations out before the chaining.
    """
    return _zorgpaden(toewijzingen, declaraties, params, _excluded(params, exclude_agb), groepen, met_client_id)[0]


def _zorgpaden(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame, params, ex: tuple[str, ...], groepen,
               met_client_id: bool) -> tuple[pd.DataFrame, _Rijen]:
    """:func:`zorgpaden` (``ex``: the excluded aanbieders) and the per-toewijzing
    figures :func:`traject_ratios` reuses (:class:`_Rijen`). Works on positions
    in ``toewijzingen`` and integer codes; strings are taken only for the output."""
    t = toewijzingen
    pos = _traject_posities(t, groepen, ex)
    n_t = len(pos)
    zp = _zorgpad_nummers(t, pos, params)
    # Renumber 0..k-1 in (client, productgroep, start) order.
    zp_codes, zp_uniques = pd.factorize(zp, sort=True)
    zp = zp_codes.astype(np.int64)
    k = len(zp_uniques)
    start = t["ingangsdatum"].to_numpy(dtype="datetime64[ns]")[pos]
    eind = t["einddatum_eff"].to_numpy(dtype="datetime64[ns]")[pos]
    labels = zorgpad_labels(zp, start, eind, _label_bits(t, pos)) if n_t else None

    # Declarations: per toewijzing and per zorgpad.
    row, maand, bedrag, uren = _gekoppelde_declaraties(t, pos, declaraties, ex)
    zp_row = zp[row]
    mnd_tw, mnd_zp = _positieve_maanden_paden(row, zp, maand, bedrag, k, zp_row)
    uren_decl = np.bincount(row, weights=_nan_naar_nul(uren), minlength=n_t)
    norm_u = _getallen(t, "norm_uren", pos)
    norm_m = _getallen(t, "norm_maanden", pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        uren_traject = norm_u * mnd_tw / norm_m
    uren_tw = np.where(_is_lower(t, "financieringsvorm", "traject", rows=pos), uren_traject,
                       np.where(_is_lower(t, "financieringsvorm", "inspanning", rows=pos), uren_decl, 0.0))
    uren_tw = np.where(np.isfinite(uren_tw), uren_tw, 0.0)

    # Per zorgpad: attributes of the first toewijzing (earliest ingangsdatum, NaT last,
    # ties by position: the first row of ``np.lexsort((start, zp))``), span, sums;
    # grouped minima and maxima on zp (no sort).
    if n_t:
        groot = np.iinfo(np.int64).max
        s_i = start.view(np.int64)
        s_i = np.where(s_i == np.iinfo(np.int64).min, groot, s_i)  # NaT sorts last
        s_min = np.full(k, groot, dtype=np.int64)
        np.minimum.at(s_min, zp, s_i)
        kandidaat = np.flatnonzero(s_i == s_min[zp])
        first_sel = np.full(k, n_t, dtype=np.int64)
        np.minimum.at(first_sel, zp[kandidaat], kandidaat)
        first = pos[first_sel]
        eind_max = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)  # (NaT: only when all are)
        np.maximum.at(eind_max, zp, eind.view(np.int64))
        eind_max = eind_max.view("datetime64[ns]")
    else:
        first_sel = first = np.array([], np.int64)
        eind_max = eind

    out = pd.DataFrame({
        "zorgpad": np.arange(k, dtype=np.int64),
        "client_id": _tekst(t, "client_id", first),
        "productgroep": _tekst(t, "productgroep", first),
        "regio": _tekst(t, "regio", first),
        "gemeentecode": _tekst(t, "gemeentecode", first),
        "start": pd.Series(start[first_sel], dtype=schema.D),
        "eind": pd.Series(eind_max, dtype=schema.D),
        "toewijzingen": np.bincount(zp, minlength=k).astype(np.int64),
        "label": labels["label"].reset_index(drop=True) if n_t else pd.Series([], dtype=schema.S),
        "met_maatwerk": labels["met_maatwerk"].to_numpy() if n_t else np.array([], bool),
        "doorlooptijd": mnd_zp,
        "volume_uren": np.bincount(zp, weights=uren_tw, minlength=k) if n_t else np.array([], float),
        "kosten_cent": np.bincount(zp_row, weights=bedrag, minlength=k).round().astype(np.int64),
    })
    out["label"] = out["label"].astype(schema.S)
    if not met_client_id:
        out = out.drop(columns=["client_id"])
    return out, _Rijen(pos, mnd_tw, np.bincount(row, weights=bedrag, minlength=n_t), first)


def _zorgpad_nummers(toewijzingen: pd.DataFrame, pos: np.ndarray, params) -> np.ndarray:
    """``zorgpad_ids(toewijzingen.take(pos), params)`` as an int64 array, without
    copying the selected rows (see ``zorgduur._zorgpad_ids_rijen``)."""
    if len(pos) == 0:
        return np.array([], np.int64)
    from .zorgduur import _zorgpad_ids_rijen

    return _zorgpad_ids_rijen(toewijzingen, pos, params)


def zorgpad_van_toewijzing(toewijzingen: pd.DataFrame, params, *, exclude_agb: Iterable[str] = (),
                           groepen: Iterable[str] | None = None) -> pd.DataFrame:
    """toewijzing_nr -> zorgpad number as used by :func:`zorgpaden` (same filters)."""
    ex = _excluded(params, exclude_agb)
    t = _traject_toewijzingen(toewijzingen, groepen, ex)
    zp = zorgpad_ids(t, params).to_numpy(dtype=np.int64) if len(t) else np.array([], np.int64)
    return pd.DataFrame({"toewijzing_nr": t["toewijzing_nr"].astype(schema.S),
                         "zorgpad": pd.factorize(zp, sort=True)[0].astype(np.int64)})


# --------------------------------------------------------------------------- distributions

def _by_cols(by) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def label_samenvatting(zp: pd.DataFrame, by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """Per group: ``zorgpaden``, ``uniek`` (distinct labels), ``top5_dekking`` (share
    of zorgpaden whose label is one of the 5 most frequent; ties broken by label
    name) and ``aandeel_meer_maatwerk`` (share whose label holds Maatwerk or
    Meerwerk). metrics.md section 6 KPIs zorgpaden, zorgpaden_uniek,
    zorgpaden_top5, zorgpaden_meer_maatwerk.
    """
    by = _by_cols(by)
    if len(zp) == 0:
        return pd.DataFrame(columns=by + ["zorgpaden", "uniek", "top5_dekking", "aandeel_meer_maatwerk"])
    cnt = zp.groupby(by + ["label"], observed=True, dropna=False).size().rename("aantal").reset_index()
    cnt = cnt.sort_values(by + ["aantal", "label"], ascending=[True] * len(by) + [False, True], kind="mergesort")
    cnt["rang"] = cnt.groupby(by, observed=True, dropna=False).cumcount() + 1
    cnt["top5"] = cnt["aantal"].where(cnt["rang"] <= 5, 0)
    g = cnt.groupby(by, observed=True, dropna=False).agg(zorgpaden=("aantal", "sum"), uniek=("label", "size"),
                                                          top5=("top5", "sum"))
    mw = zp.groupby(by, observed=True, dropna=False)["met_maatwerk"].sum()
    g["top5_dekking"] = g["top5"] / g["zorgpaden"]
    g["aandeel_meer_maatwerk"] = mw.reindex(g.index).to_numpy() / g["zorgpaden"].to_numpy()
    return g.drop(columns=["top5"]).reset_index()


def top_labels(zp: pd.DataFrame, n: int = 10, by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """The ``n`` most frequent labels per group with ``aantal``, ``aandeel`` and ``rang``
    (ties broken by label name). metrics.md section 6, "top-10 labels with counts".
    """
    by = _by_cols(by)
    if len(zp) == 0:
        return pd.DataFrame(columns=by + ["rang", "label", "aantal", "aandeel"])
    cnt = zp.groupby(by + ["label"], observed=True, dropna=False).size().rename("aantal").reset_index()
    cnt = cnt.sort_values(by + ["aantal", "label"], ascending=[True] * len(by) + [False, True], kind="mergesort")
    cnt["rang"] = cnt.groupby(by, observed=True, dropna=False).cumcount() + 1
    tot = cnt.groupby(by, observed=True, dropna=False)["aantal"].transform("sum")
    cnt["aandeel"] = cnt["aantal"] / tot
    out = cnt[cnt["rang"] <= n]
    return out[by + ["rang", "label", "aantal", "aandeel"]].reset_index(drop=True)


def normen(producten: pd.DataFrame) -> pd.DataFrame:
    """Norms of the traject products per productgroep and zwaarte: ``norm_uren``,
    ``norm_maanden`` (the latest validity of each product code, then the median
    over the codes of a productgroep and zwaarte). For the reference lines in the
    volume and doorlooptijd charts (reports.md item 2)."""
    cols = ["productgroep", "zwaarte", "norm_uren", "norm_maanden"]
    if producten is None or len(producten) == 0:
        return pd.DataFrame(columns=cols)
    p = producten[_eq(_lower(producten["financieringsvorm"]), "traject")].copy()
    if len(p) == 0:
        return pd.DataFrame(columns=cols)
    p["productgroep"] = _productgroep_van(p)
    p = p.sort_values(["productcode", "geldig_vanaf"], kind="mergesort").drop_duplicates("productcode", keep="last")
    p["zwaarte"] = _lower(p["zwaarte"])
    p["norm_uren"] = pd.to_numeric(p["norm_uren"]).astype(float)
    p["norm_maanden"] = pd.to_numeric(p["norm_maanden"]).astype(float)
    g = p.groupby(["productgroep", "zwaarte"], observed=True)[["norm_uren", "norm_maanden"]].median().reset_index()
    g["productgroep"] = g["productgroep"].astype(schema.S)
    g["zwaarte"] = g["zwaarte"].astype(schema.S)
    return g[cols]


def doorlooptijd_verdeling(zp: pd.DataFrame, producten: pd.DataFrame | None = None,
                           by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """Zorgpaden per doorlooptijd class 1, 2, ..., 24, >24 (declared months), per
    group, with ``norm_maanden`` of the productgroep (median over its traject
    products) when ``producten`` is given. Zorgpaden without any declared month are
    not in the distribution (column ``zonder_declaratie`` holds their number).
    metrics.md section 6, reports.md item 2.
    """
    by = _by_cols(by)
    cols = by + ["klasse", "aantal", "zonder_declaratie", "norm_maanden"]
    if len(zp) == 0:
        return pd.DataFrame(columns=cols)
    d = zp[by].copy()
    m = zp["doorlooptijd"].to_numpy()
    d["klasse"] = pd.Categorical(np.where(m > 24, ">24", m.astype(str)), categories=DOORLOOPTIJD_KLASSEN)
    d["nul"] = m == 0
    zonder = d.groupby(by, observed=True, dropna=False)["nul"].sum().rename("zonder_declaratie")
    cnt = d[~d["nul"]].groupby(by + ["klasse"], observed=False, dropna=False).size().rename("aantal")
    out = cnt.reset_index()
    out = out.merge(zonder.reset_index(), on=by, how="right")
    out["aantal"] = out["aantal"].fillna(0).astype(np.int64)
    out["klasse"] = pd.Categorical(out["klasse"], categories=DOORLOOPTIJD_KLASSEN)
    out = out[out["klasse"].notna()]
    out["norm_maanden"] = np.nan
    if producten is not None and "productgroep" in by:
        nm = normen(producten).groupby("productgroep")["norm_maanden"].median()
        out["norm_maanden"] = out["productgroep"].astype(str).map(nm.to_dict()).astype(float)
    return out[cols].sort_values(by + ["klasse"], kind="mergesort").reset_index(drop=True)


def volume_klassen(zp: pd.DataFrame, by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """Zorgpaden per volume class in hours [0,10), [10,20), [20,30), [30,50),
    [50,75), [75,100), [100,200), [200,500), 500+ (metrics.md section 6), per group.
    Plot against :func:`normen` (norm hours of licht, midden, zwaar).
    """
    by = _by_cols(by)
    if len(zp) == 0:
        return pd.DataFrame(columns=by + ["klasse", "aantal"])
    d = zp[by].copy()
    v = zp["volume_uren"].to_numpy(dtype=float)
    code = np.searchsorted(np.array(VOLUME_GRENZEN[1:], float), np.maximum(v, 0.0), side="right")
    d["klasse"] = pd.Categorical.from_codes(code, categories=list(VOLUME_KLASSEN))
    out = d.groupby(by + ["klasse"], observed=False, dropna=False).size().rename("aantal").reset_index()
    return out.sort_values(by + ["klasse"], kind="mergesort").reset_index(drop=True)


def zorgpaden_tabel(zp: pd.DataFrame) -> pd.DataFrame:
    """The client-free zorgpaden table for reports: label, productgroep, regio,
    gemeentecode, start, doorlooptijd (declared months), volume_uren."""
    return zp[["label", "productgroep", "regio", "gemeentecode", "start", "doorlooptijd",
               "volume_uren"]].reset_index(drop=True)


# --------------------------------------------------------------------------- traject ratios

class TrajectRatios(NamedTuple):
    """Result of :func:`traject_ratios`: the table and whether the fallback was used."""

    tabel: pd.DataFrame
    #: True when the dataset has no JW307 at all, so every traject toewijzing that
    #: ended before the peildatum counts as regulier ended (the report says so).
    fallback: bool


def _is_jw307(start_stop: pd.DataFrame) -> np.ndarray:
    """True for the start_stop rows that are a JW307 (``bericht`` upper-cased, as
    ``str.upper``; Arrow compute, no hashing)."""
    bericht = _arrow_tekst(start_stop["bericht"])
    return np.asarray(pc.equal(pc.utf8_upper(bericht), "JW307").fill_null(False).to_numpy(zero_copy_only=False),
                      dtype=bool)


def _arrow_tekst(s: pd.Series, rows: np.ndarray | None = None) -> pa.Array:
    """A text column (its ``rows`` if given) as one Arrow ``large_string`` array."""
    a = pa.array(s.astype(schema.S).array)
    if rows is not None:
        a = a.take(pa.array(rows))
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.large_string())


def _regulier_gestopt(start_stop: pd.DataFrame, nrs: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """For each toewijzing number in ``nrs``: whether its latest JW307 (by einddatum,
    a missing one first, then by position in ``start_stop``) has RedenBeeindiging 31
    (:data:`REDEN_REGULIER`), and that JW307's einddatum (NaT where not).
    (:func:`_regulier_gestopt_codes` on the codes of the numbers' texts.)"""
    codes, uniq = pd.factorize(pd.Series(nrs).astype(schema.S))
    return _regulier_gestopt_codes(start_stop, np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=object))


def _regulier_gestopt_codes(start_stop: pd.DataFrame, codes: np.ndarray, uniq: np.ndarray,
                            jw307: np.ndarray | None = None, zoeker=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_regulier_gestopt` for the numbers given as ``codes`` (into ``uniq``, their
    distinct texts; -1 = missing). ``jw307``: :func:`_is_jw307` of ``start_stop``
    when the caller has it; ``zoeker``: ``verzilvering._Zoeker`` of ``uniq`` if cached.

    One lookup (``verzilvering._Zoeker``) gives every JW307 row the code of
    its number (a missing number matches a missing one: code ``len(uniq)``); the
    rest is on those integers: the JW307 rows of the numbers asked are ordered by
    (code, einddatum) with one stable sort and the last row of each is taken."""
    from .verzilvering import _Zoeker

    n, u = len(codes), len(uniq)
    rows = np.flatnonzero(_is_jw307(start_stop) if jw307 is None else jw307)
    sn = pa.array(start_stop["toewijzing_nr"].astype(schema.S).array).take(pa.array(rows, type=pa.int64()))
    if isinstance(sn, pa.ChunkedArray):  # (the JW307 rows only are combined)
        sn = sn.combine_chunks()
    g = (zoeker or _Zoeker(uniq)).zoek(sn)
    if sn.null_count:
        g[np.asarray(sn.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = u
    code = np.where(codes < 0, u, codes)
    gevraagd = np.zeros(u + 2, dtype=bool)  # position u + 1 stands for "not found" (g == -1)
    gevraagd[code] = True
    keep = gevraagd[np.where(g < 0, u + 1, g)]
    rows, g = rows[keep], g[keep]
    e = start_stop["einddatum"].to_numpy(dtype="datetime64[ns]")[rows]
    # NaT is the smallest int64, so it sorts first (as na_position="first")
    order = np.lexsort((e.view(np.int64), g))
    gs = g[order]
    last = order[np.flatnonzero(np.r_[gs[1:] != gs[:-1], True])] if len(order) else order
    reden = pd.Series(pd.arrays.ArrowStringArray(_arrow_tekst(start_stop["reden_beeindiging"], rows[last])))
    last = last[_eq(reden.str.strip(), REDEN_REGULIER)]
    gekozen = np.full(u + 1, -1, dtype=np.int64)  # code -> its JW307 row (-1: none)
    gekozen[g[last]] = rows[last]
    ss_row = gekozen[code]
    has = ss_row >= 0
    stop_eind = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    stop_eind[has] = start_stop["einddatum"].to_numpy(dtype="datetime64[ns]")[ss_row[has]]
    return has, stop_eind


def traject_ratios(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame, start_stop: pd.DataFrame | None,
                   params, *, exclude_agb: Iterable[str] = (), groepen: Iterable[str] | None = None,
                   met_client_id: bool = False) -> TrajectRatios:
    """volume_ratio and kosten_ratio per traject toewijzing that ended regulier
    (metrics.md section 6).

    Regulier ended: the toewijzing's latest JW307 has RedenBeeindiging 31 and its
    einddatum (the toewijzing's, else the JW307's) is before the peildatum. When
    the dataset has no JW307 at all: every traject toewijzing with an einddatum
    before the peildatum (``fallback`` = True).

    * ``volume_ratio`` = months with a positive net declared amount on the
      toewijzing / norm_maanden
    * ``kosten_ratio`` = net declared amount / trajectprijs

    Columns: ``toewijzing_nr``, ``productgroep``, ``productcode``, ``zwaarte``,
    ``regio``, ``gemeentecode``, ``agb``, ``einddatum``, ``maanden``, ``kosten_cent``,
    ``norm_maanden``, ``trajectprijs_cent``, ``volume_ratio``, ``kosten_ratio``
    (NaN when the norm or price is missing or 0) (+ ``client_id`` if asked).
    """
    return _traject_ratios(toewijzingen, declaraties, start_stop, params, _excluded(params, exclude_agb), groepen,
                           met_client_id)[0]


def _traject_ratios(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame, start_stop: pd.DataFrame | None,
                    params, ex: tuple[str, ...], groepen, met_client_id: bool,
                    rijen: _Rijen | None = None,
                    kolommen: list[str] | None = None) -> tuple[TrajectRatios, np.ndarray]:
    """:func:`traject_ratios` (``ex``: the excluded aanbieders) and the positions of
    its rows in ``toewijzingen``. ``rijen``: the per-toewijzing figures of
    :func:`_zorgpaden` with the same toewijzingen, declarations, ``ex`` and
    ``groepen``; the months and amounts are then taken from it instead of linking
    the declarations again (the same numbers). ``kolommen``: only these of the
    toewijzingen' columns in the table (:func:`kpis` needs few)."""
    t = toewijzingen
    pos = _traject_posities(t, groepen, ex, alleen_traject=True)
    jw307 = _is_jw307(start_stop) if start_stop is not None and len(start_stop) else None
    fallback = jw307 is None or not jw307.any()
    peil = np.datetime64(params.peil_ts.to_datetime64(), "ns")
    eind = t["einddatum"].to_numpy(dtype="datetime64[ns]")[pos]
    if fallback:
        ok = ~np.isnat(eind) & (eind < peil)
    else:
        # only rows without an einddatum or ending before the peildatum can count
        kand = np.flatnonzero(np.isnat(eind) | (eind < peil))
        has = np.zeros(len(pos), dtype=bool)
        stop_eind = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[ns]")
        if isinstance(t["toewijzing_nr"].dtype, pd.StringDtype):  # on the column's cached codes
            from .verzilvering import _zoeker

            zoeker, nr_c = _zoeker(t, "toewijzing_nr")
            nr_u = _common.column_codes(t, "toewijzing_nr")[1]
            has[kand], stop_eind[kand] = _regulier_gestopt_codes(start_stop, nr_c[pos[kand]], nr_u, jw307, zoeker)
        else:
            has[kand], stop_eind[kand] = _regulier_gestopt(start_stop, t["toewijzing_nr"].take(pos[kand]))
        eind = np.where(np.isnat(eind), stop_eind, eind)
        ok = has & ~np.isnat(eind) & (eind < peil)
    pos = pos[ok]
    eind = eind[ok]
    j = np.searchsorted(rijen.pos, pos) if rijen is not None else None
    if j is not None and len(rijen.pos) and np.array_equal(rijen.pos[np.minimum(j, len(rijen.pos) - 1)], pos):
        maanden, kosten_f = rijen.maanden[j], rijen.kosten[j]
    else:
        row, maand, bedrag, _ = _gekoppelde_declaraties(t, pos, declaraties, ex)
        maanden = _positieve_maanden(row, maand, bedrag, len(pos))
        kosten_f = np.bincount(row, weights=bedrag, minlength=len(pos))
    kosten = kosten_f.round().astype(np.int64)
    norm_m = _getallen(t, "norm_maanden", pos)
    prijs = _getallen(t, "trajectprijs_cent", pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = np.where(norm_m > 0, maanden / norm_m, np.nan)
        kr = np.where(prijs > 0, kosten / prijs, np.nan)
    cols = ["toewijzing_nr", "productgroep", "productcode", "zwaarte", "regio", "gemeentecode", "agb"]
    if met_client_id:
        cols = ["client_id"] + cols
    if kolommen is not None:
        cols = [c for c in cols if c in kolommen]
    out = t[cols].take(pos).reset_index(drop=True)
    out["einddatum"] = pd.Series(eind, dtype=schema.D)
    out["maanden"] = maanden
    out["kosten_cent"] = kosten
    out["norm_maanden"] = norm_m
    out["trajectprijs_cent"] = prijs
    out["volume_ratio"] = vr
    out["kosten_ratio"] = kr
    return TrajectRatios(out, fallback), pos


def bubbel_data(ratios: pd.DataFrame, by: Iterable[str] = ("productgroep",), stap: float = 0.1,
                max_ratio: float = 2.0) -> pd.DataFrame:
    """The bubble chart of (volume_ratio, kosten_ratio) in classes of ``stap``
    (10 percentage points): class = lower bound floor(ratio / stap) x stap; ratios
    at or above ``max_ratio`` go to the class ``max_ratio``. Rows with a missing
    ratio are left out. Columns: group, ``volume_klasse``, ``kosten_klasse``,
    ``aantal``. metrics.md section 6, reports.md item 2.
    """
    by = _by_cols(by)
    cols = by + ["volume_klasse", "kosten_klasse", "aantal"]
    r = ratios[ratios["volume_ratio"].notna() & ratios["kosten_ratio"].notna()]
    if len(r) == 0:
        return pd.DataFrame(columns=cols)
    top = int(round(max_ratio / stap))

    def klasse(x):
        k = np.floor(np.maximum(x.to_numpy(dtype=float), 0.0) / stap + 1e-9)
        return np.round(np.minimum(k, top) * stap, 10)

    d = r[by].copy()
    d["volume_klasse"] = klasse(r["volume_ratio"])
    d["kosten_klasse"] = klasse(r["kosten_ratio"])
    out = d.groupby(by + ["volume_klasse", "kosten_klasse"], observed=True, dropna=False).size()
    return out.rename("aantal").reset_index()[cols]


# --------------------------------------------------------------------------- cost shares

def kostencategorie(df: pd.DataFrame) -> pd.Series:
    """Cost category of a line: zwaarte (Licht/Midden/Zwaar) for traject products,
    variant (Maatwerk/Meerwerk) otherwise, else ``Overig`` (as the label bits)."""
    bits = label_bits(df)
    names = np.array(["Overig"] + [""] * 16, dtype=object)
    for name, bit in BITS.items():
        names[bit] = name
    return pd.Series(names[bits], index=df.index, dtype=schema.S)


def kosten_samenstelling(declaraties: pd.DataFrame, params, *, exclude_agb: Iterable[str] = (),
                         groepen: Iterable[str] | None = None, per: str | None = None) -> pd.DataFrame:
    """Net declared cost per productgroep (with traject products), period and
    :func:`kostencategorie`, with ``aandeel`` of the productgroep's cost in the
    period. Declaration lines belong to the period of periode_begin, inside
    [start, peildatum) (metrics.md section 0). reports.md item 2.
    """
    ex = _excluded(params, exclude_agb)
    d = _without_agb(declaraties, ex)
    if groepen is None:
        groepen = traject_groepen(d)
    d = d[d["productgroep"].isin(list(groepen)).fillna(False).to_numpy(dtype=bool)]
    p = _periode(d["periode_begin"], params if per is None else _with_per(params, per))
    f = pd.DataFrame({"productgroep": d["productgroep"].astype(schema.S).to_numpy(),
                      "periode": p.to_numpy(), "categorie": kostencategorie(d).to_numpy(),
                      "kosten_cent": pd.to_numeric(d["bedrag_cent"]).fillna(0).to_numpy(dtype=np.int64)})
    f = f[f["periode"].notna()]
    g = f.groupby(["productgroep", "periode", "categorie"], observed=True)["kosten_cent"].sum().reset_index()
    tot = g.groupby(["productgroep", "periode"], observed=True)["kosten_cent"].transform("sum")
    g["aandeel"] = (g["kosten_cent"] / tot.replace(0, np.nan)).astype(float)
    return g


def _with_per(params, per):
    return dataclasses.replace(params, per=per)


def aandeel_pq_in_traject(declaraties: pd.DataFrame, params, *, exclude_agb: Iterable[str] = (),
                          groepen: Iterable[str] | None = None,
                          levels: tuple[str, ...] = ("gemeente", "regio", "nederland")) -> pd.DataFrame:
    """Share of the productgroep's net declared cost on maatwerk and meerwerk
    products (variant), per group level, period and productgroep (metrics.md
    section 6, KPI ``aandeel_pq_in_traject``). All declaration lines count, also
    those without a known toewijzing (metrics.md 0.2). Columns: regio, gemeente,
    periode, productgroep, ``waarde``, ``kosten_cent``, ``n_clienten`` (distinct
    clients with lines in the group).

    Computed on integer codes (:class:`_common.LevelGroups`): sums per gemeente
    are rolled up to regio and Nederland, distinct clients deduplicated level by
    level; the declaration items are never copied or stacked.
    """
    ex = _excluded(params, exclude_agb)
    d = declaraties
    cols = ["regio", "gemeente", "periode", "productgroep", "waarde", "kosten_cent", "n_clienten"]
    keep = _agb_mask(d, ex)
    if groepen is None:
        groepen = traject_groepen(d if keep.all() else d[keep])
    pg_c, pg_u = _common.column_codes(d, "productgroep")
    keep &= np.append(pd.Index(pg_u).isin(list(groepen)), False)[pg_c]  # _in_values on these codes
    if not keep.any():
        return pd.DataFrame(columns=cols)
    per = _common.periods(params.start, params.peildatum, params.per)
    # Only the rows that count (productgroep, aanbieder, period) enter the groups.
    rows = np.flatnonzero(keep)
    pidx = _periode_index(d["periode_begin"].to_numpy(dtype="datetime64[ns]")[rows], params, per)
    rows, pidx = rows[pidx >= 0], pidx[pidx >= 0]
    rc, ru = _common.column_codes(d, "regio")
    gc, gu = _common.column_codes(d, "gemeentecode")
    npg = max(len(pg_u), 1)
    lg = _common.LevelGroups(rc[rows], ru, gc[rows], gu, pidx * npg + pg_c[rows], len(per) * npg)
    bedrag = d["bedrag_cent"].to_numpy(dtype=np.int64, na_value=0)[rows]
    pq = _is_lower(d, "variant", "maatwerk", "meerwerk", rows=rows)
    f = lg.frame(levels, kosten_cent=lg.sum(bedrag), pq_cent=lg.sum(np.where(pq, bedrag, 0)),
                 n_clienten=lg.nunique(_client_codes_rijen(d, rows)))
    f["periode"] = per["periode"].to_numpy(dtype=object)[f["_key"].to_numpy() // npg]
    f["productgroep"] = pg_u[f["_key"].to_numpy() % npg]
    f["kosten_cent"] = f["kosten_cent"].round().astype(np.int64)
    f["pq_cent"] = f["pq_cent"].round().astype(np.int64)
    f["n_clienten"] = f["n_clienten"].astype(np.int64)
    f["regio"] = f["regio"].astype(schema.S)
    f["gemeente"] = f["gemeente"].astype(schema.S)
    f = f.sort_values(["regio", "gemeente", "periode", "productgroep"], kind="mergesort").reset_index(drop=True)
    f["waarde"] = (f["pq_cent"] / f["kosten_cent"].where(f["kosten_cent"] != 0)).astype(float)
    return f[cols]


# --------------------------------------------------------------------------- KPIs

def _periode_index(dates: pd.Series, params, per: pd.DataFrame) -> np.ndarray:
    """Index into ``per`` of each date's period inside [start, peildatum), else -1
    (the integer form of :func:`_periode`).

    ``_common.period_index`` with the window, evaluated once per stretch between
    the points where the answer can change (period begins, the day after period
    ends, start and peildatum); each date then takes its stretch's answer with one
    ``searchsorted`` (a missing date, before every point, gets -1)."""
    d = np.asarray(pd.Series(dates).to_numpy(dtype="datetime64[ns]"))
    punten = np.unique(np.concatenate([
        per["begin"].to_numpy(dtype="datetime64[ns]"),
        per["eind"].to_numpy(dtype="datetime64[ns]") + np.timedelta64(1, "ns"),
        np.array([params.start_ts.to_datetime64(), params.peil_ts.to_datetime64()], dtype="datetime64[ns]")]))
    antwoord = _common.period_index(punten, per)
    antwoord[~_in_window(punten, params)] = -1
    return np.append(np.int64(-1), antwoord)[np.searchsorted(punten, d, side="right")]


def _kolom_codes(df: pd.DataFrame, col: str, codes: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """``codes[col]`` when given (codes and labels of ``df[col]`` that the caller has, e.g.
    the toewijzingen' cached codes at the rows ``df`` was taken from: the same
    groups, numbered otherwise), else :func:`_common.column_codes`."""
    if codes is not None and col in codes:
        return codes[col]
    return _common.column_codes(df, col)


def _level_groups(df: pd.DataFrame, pidx: np.ndarray, npg_codes, mask, codes: dict | None = None) -> tuple:
    """:class:`_common.LevelGroups` of ``df`` (columns regio, gemeentecode) by period x productgroep."""
    pg_c, pg_u = npg_codes
    npg = max(len(pg_u), 1)
    rc, ru = _kolom_codes(df, "regio", codes)
    gc, gu = _kolom_codes(df, "gemeentecode", codes)
    P = int(pidx.max()) + 1 if len(pidx) else 1
    lg = _common.LevelGroups(rc, ru, gc, gu, pidx * npg + pg_c, P * npg, mask & (pg_c >= 0))
    return lg, npg


def _label_frame(f: pd.DataFrame, per: pd.DataFrame, pg_u, npg: int) -> pd.DataFrame:
    f["periode"] = per["periode"].to_numpy(dtype=object)[f["_key"].to_numpy() // npg]
    f["productgroep"] = np.asarray(pg_u, dtype=object)[f["_key"].to_numpy() % npg]
    return f


def zorgpad_kpis(zp: pd.DataFrame, params, levels: tuple[str, ...] = ("gemeente", "regio", "nederland")) -> pd.DataFrame:
    """KPI rows ``zorgpaden``, ``zorgpaden_uniek``, ``zorgpaden_top5``,
    ``zorgpaden_meer_maatwerk`` (metrics.md section 6) from :func:`zorgpaden`
    output with ``client_id``; a zorgpad belongs to the period of its start and
    to the gemeente of its first toewijzing; dimension ``productgroep=...``.

    The figures of :func:`label_samenvatting` per level, period and productgroep,
    computed on integer codes: counts per (group, label) are rolled up from
    gemeente to regio and Nederland, distinct clients and labels deduplicated
    level by level."""
    return _zorgpad_kpis(zp, params, levels)


def _zorgpad_kpis(zp: pd.DataFrame, params, levels: tuple[str, ...], codes: dict | None = None) -> pd.DataFrame:
    """:func:`zorgpad_kpis`; ``codes``: codes of columns of ``zp`` the caller has
    (:func:`_kolom_codes`), so that they are not computed from the strings again."""
    if len(zp) == 0:
        return _empty_kpis()
    per = _common.periods(params.start, params.peildatum, params.per)
    pidx = _periode_index(zp["start"], params, per)
    if not (pidx >= 0).any():
        return _empty_kpis()
    pg = _kolom_codes(zp, "productgroep", codes)
    lab_c, lab_u = _common.column_codes(zp, "label")
    lg, npg = _level_groups(zp, pidx, pg, pidx >= 0, codes)
    n = lg.sum()
    f = lg.frame(levels, zorgpaden=n, uniek=lg.nunique(lg.take(lab_c)),
                 mw=lg.sum(lg.take(zp["met_maatwerk"].to_numpy(dtype=np.float64))),
                 n_clienten=lg.nunique(lg.take(_common.client_codes(zp))))
    # top 5 labels per group: counts per (group, label), ranked by count, ties by label name
    nl = max(len(lab_u), 1)
    rank = np.empty(nl, dtype=np.int64)
    rank[sorted(range(len(lab_u)), key=lambda i: str(lab_u[i]))] = np.arange(len(lab_u))  # per distinct label
    lg2, _ = _level_groups(zp, pidx * nl + np.maximum(lab_c, 0), (pg[0], pg[1]), (pidx >= 0) & (lab_c >= 0), codes)
    # (the label is packed under the period: key = ((periode * nl) + label) * npg + productgroep)
    f2 = lg2.frame(levels, aantal=lg2.sum())
    k2 = f2["_key"].to_numpy()
    f2["_key"] = (k2 // npg // nl) * npg + k2 % npg
    lr = rank[(k2 // npg) % nl]
    gid = f2.groupby(["regio", "gemeente", "_key"], sort=False, dropna=False).ngroup().to_numpy()
    o = np.lexsort((lr, -f2["aantal"].to_numpy(), gid))
    gs = gid[o]
    start = np.r_[True, gs[1:] != gs[:-1]]
    pos = np.arange(len(gs)) - np.maximum.accumulate(np.where(start, np.arange(len(gs)), 0))
    top = np.bincount(gs, weights=np.where(pos < 5, f2["aantal"].to_numpy()[o], 0.0), minlength=int(gid.max()) + 1)
    first = o[start]
    t5 = pd.DataFrame({"regio": f2["regio"].to_numpy()[first], "gemeente": f2["gemeente"].to_numpy()[first],
                       "_key": f2["_key"].to_numpy()[first], "top5": top[gs[start]]})
    f = f.merge(t5, on=["regio", "gemeente", "_key"], how="left")
    f = _label_frame(f, per, pg[1], npg)
    f["top5_dekking"] = f["top5"] / f["zorgpaden"]
    f["aandeel_meer_maatwerk"] = f["mw"] / f["zorgpaden"]
    f = f.sort_values(["regio", "gemeente", "periode", "productgroep"], kind="mergesort").reset_index(drop=True)
    dim = "productgroep=" + f["productgroep"].astype(str)
    return pd.concat([
        _kpi_rows(f, "zorgpaden", "aantal", "zorgpaden", dimensie=dim),
        _kpi_rows(f, "zorgpaden_uniek", "aantal", "uniek", dimensie=dim),
        _kpi_rows(f, "zorgpaden_top5", "fractie", "top5_dekking", dimensie=dim),
        _kpi_rows(f, "zorgpaden_meer_maatwerk", "fractie", "aandeel_meer_maatwerk", dimensie=dim),
    ], ignore_index=True)


def ratio_kpis(ratios: pd.DataFrame, params,
               levels: tuple[str, ...] = ("gemeente", "regio", "nederland")) -> pd.DataFrame:
    """KPI rows ``traject_kosten_ratio`` and ``traject_volume_ratio``: the median
    ratio of regulier ended trajecten per productgroep (metrics.md section 6), by
    the period of the einddatum. Needs :func:`traject_ratios` with ``client_id``.
    Grouped on integer codes per level (medians per group, distinct clients)."""
    return _ratio_kpis(ratios, params, levels)


def _ratio_kpis(ratios: pd.DataFrame, params, levels: tuple[str, ...], codes: dict | None = None) -> pd.DataFrame:
    """:func:`ratio_kpis`; ``codes`` as in :func:`_zorgpad_kpis`."""
    if len(ratios) == 0:
        return _empty_kpis()
    per = _common.periods(params.start, params.peildatum, params.per)
    pidx = _periode_index(ratios["einddatum"], params, per)
    if not (pidx >= 0).any():
        return _empty_kpis()
    pg = _kolom_codes(ratios, "productgroep", codes)
    cl = _common.client_codes(ratios)
    parts = []
    for kpi, col in (("traject_kosten_ratio", "kosten_ratio"), ("traject_volume_ratio", "volume_ratio")):
        v = ratios[col].to_numpy(dtype=np.float64, na_value=np.nan)
        mask = (pidx >= 0) & ~np.isnan(v)
        if not mask.any():
            continue
        lg, npg = _level_groups(ratios, pidx, pg, mask, codes)
        vals = pd.Series(lg.take(v))
        med = {lvl: vals.groupby(lg.codes(lvl)).median().reindex(np.arange(lg.n[lvl])).to_numpy()
               for lvl in ("gemeente", "regio", "nederland")}
        g = _label_frame(lg.frame(levels, waarde=med, n_clienten=lg.nunique(lg.take(cl))), per, pg[1], npg)
        g = g.sort_values(["regio", "gemeente", "periode", "productgroep"], kind="mergesort").reset_index(drop=True)
        parts.append(_kpi_rows(g, kpi, "fractie", dimensie="productgroep=" + g["productgroep"].astype(str)))
    return pd.concat(parts, ignore_index=True) if parts else _empty_kpis()


def kpis(cleaned, params) -> pd.DataFrame:
    """All section 6 KPI rows for ``jeugdlib kpi`` (docs/architecture.md KPI rows):
    zorgpaden, zorgpaden_uniek, zorgpaden_top5, zorgpaden_meer_maatwerk,
    aandeel_pq_in_traject, traject_kosten_ratio, traject_volume_ratio, each with
    dimension ``productgroep=...`` for the productgroepen with traject products.
    """
    t = cleaned.toewijzingen
    d = cleaned.declaraties
    groepen = traject_groepen(_without_agb(t, _excluded(params, ())), getattr(cleaned, "producten", None))
    if not groepen:
        return _empty_kpis()
    ex = _excluded(params, ())
    zp, rijen = _zorgpaden(t, d, params, ex, groepen, True)
    aq = aandeel_pq_in_traject(d, params, groepen=groepen)
    rat, rat_pos = _traject_ratios(t, d, getattr(cleaned, "start_stop", None), params, ex, groepen, True,
                                   rijen=rijen, kolommen=["client_id", "productgroep", "regio", "gemeentecode"])
    rat = rat.tabel
    if "client_nr" in t.columns:  # distinct clients counted on client_nr (_common.client_codes), not the ids
        nr = t["client_nr"].to_numpy(dtype=np.int64, na_value=-1)
        zp = zp.assign(client_nr=nr[rijen.eerste])
        rat = rat.assign(client_nr=nr[rat_pos])
    # codes of the zorgpaden' and ratios' columns: the toewijzingen' cached codes at their rows
    t_codes = {c: _common.column_codes(t, c) for c in ("productgroep", "regio", "gemeentecode")}
    parts = [_zorgpad_kpis(zp, params, ("gemeente", "regio", "nederland"),
                           {c: (k[rijen.eerste], u) for c, (k, u) in t_codes.items()})]
    if len(aq):
        parts.append(_kpi_rows(aq, "aandeel_pq_in_traject", "fractie",
                               dimensie="productgroep=" + aq["productgroep"].astype(str)))
    parts.append(_ratio_kpis(rat, params, ("gemeente", "regio", "nederland"),
                             {c: (k[rat_pos], u) for c, (k, u) in t_codes.items()}))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty_kpis()
    return out.sort_values(["kpi", "regio", "gemeente", "periode", "dimensie"], kind="mergesort").reset_index(drop=True)


def rapport(cleaned, params, *, regio: str | None = None, exclude_agb: Iterable[str] = (),
            top: int = 10) -> dict:
    """Everything the Trajecten report (reports.md item 2) plots, for one regio
    (``None``: all regions), as a dict of frames:

    ``zorgpaden`` (client-free, :func:`zorgpaden_tabel`), ``samenvatting``
    (:func:`label_samenvatting`), ``top_labels`` (top ``top``), ``doorlooptijd``,
    ``volume``, ``normen``, ``ratios`` (:func:`traject_ratios`, client-free),
    ``ratios_fallback`` (bool: no JW307 in the data), ``bubbel``,
    ``kosten_samenstelling`` (per year) and ``aandeel_pq`` (regio level, or
    Nederland). Only zorgpaden that start, and ratios of trajecten that end, in
    [start, peildatum) are included. Zorgpaden and ratios belong to the regio of
    their (first) toewijzing; zorgpaden are chained over all regions.
    ``exclude_agb`` leaves those aanbieders out of all of it.
    """
    t, d = cleaned.toewijzingen, cleaned.declaraties
    producten = getattr(cleaned, "producten", None)
    ex = _excluded(params, exclude_agb)
    groepen = traject_groepen(_without_agb(t, ex), producten)
    zp, rijen = _zorgpaden(t, d, params, ex, groepen, False)
    rat = _traject_ratios(t, d, getattr(cleaned, "start_stop", None), params, ex, groepen, False, rijen=rijen)[0]
    zp = zp[_in_window(zp["start"], params)].reset_index(drop=True)
    ratios = rat.tabel
    ratios = ratios[_in_window(ratios["einddatum"], params)].reset_index(drop=True)
    dd = d
    if regio is not None:
        zp = zp[_eq(zp["regio"], regio)].reset_index(drop=True)
        ratios = ratios[_eq(ratios["regio"], regio)].reset_index(drop=True)
        dd = d[_eq(d["regio"].astype(schema.S), regio)]
    aq = aandeel_pq_in_traject(dd, params, exclude_agb=ex, groepen=groepen, levels=("regio",) if regio else ("nederland",))
    return {
        "groepen": groepen,
        "zorgpaden": zorgpaden_tabel(zp),
        "samenvatting": label_samenvatting(zp),
        "top_labels": top_labels(zp, n=top),
        "doorlooptijd": doorlooptijd_verdeling(zp, producten),
        "volume": volume_klassen(zp),
        "normen": normen(producten) if producten is not None else normen(None),
        "ratios": ratios,
        "ratios_fallback": rat.fallback,
        "bubbel": bubbel_data(ratios),
        "kosten_samenstelling": kosten_samenstelling(dd, params, exclude_agb=ex, groepen=groepen, per="jaar"),
        "aandeel_pq": aq,
    }
