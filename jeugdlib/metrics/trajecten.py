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


def _is_lower(df: pd.DataFrame, col: str, *values: str) -> np.ndarray:
    """``_eq(_lower(df[col]), v)`` for any of ``values``, on the column's integer codes
    (stripped and lower-cased once per distinct value, not per row)."""
    codes, uniq = _common.column_codes(df, col)
    low = pd.Series(uniq, dtype=object).astype(schema.S).str.strip().str.lower().fillna("")
    hit = np.append(low.isin(list(values)).to_numpy(dtype=bool), False)
    return hit[codes]


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


def _productgroep_van(df: pd.DataFrame) -> pd.Series:
    """productgroep, or the productcode where it is empty (metrics.md 0.3)."""
    pg = df["productgroep"].astype(schema.S)
    empty = pg.isna() | (pg.str.strip() == "")
    return pg.where(~empty.fillna(True), df["productcode"].astype(schema.S))


def _months(dates) -> np.ndarray:
    """Month number (months since 1970-01) of each date, as int64."""
    return np.asarray(pd.Series(dates).to_numpy(dtype="datetime64[ns]"), dtype="datetime64[M]").astype(np.int64)


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
    t = toewijzingen
    traject = _is_lower(t, "financieringsvorm", "traject")
    conds = [traject & _is_lower(t, "zwaarte", "licht"), traject & _is_lower(t, "zwaarte", "midden"),
             traject & _is_lower(t, "zwaarte", "zwaar"), ~traject & _is_lower(t, "variant", "maatwerk"),
             ~traject & _is_lower(t, "variant", "meerwerk")]
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
    order = np.argsort(ev_zp * span + ev_day, kind="stable")
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


#: Columns of the toewijzingen the zorgpaden and ratios read.
_TW_COLS = ["toewijzing_nr", "client_id", "client_nr", "productgroep", "productcode", "financieringsvorm",
            "zwaarte", "variant", "norm_uren", "norm_maanden", "trajectprijs_cent", "regio", "gemeentecode",
            "agb", "ingangsdatum", "einddatum", "einddatum_eff"]


def _traject_selectie(toewijzingen: pd.DataFrame, groepen, exclude: tuple[str, ...],
                      alleen_traject: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """The toewijzingen of :func:`_traject_toewijzingen` (only the columns these
    analyses read) and their positions in ``toewijzingen``. Selected on integer
    codes, so the wide frame is copied once, for the selected rows only."""
    keep = _agb_mask(toewijzingen, exclude)
    if groepen is None:
        groepen = traject_groepen(toewijzingen[keep] if not keep.all() else toewijzingen)
    keep &= _in_values(toewijzingen, "productgroep", groepen)
    if alleen_traject:
        keep &= _is_lower(toewijzingen, "financieringsvorm", "traject")
    pos = np.flatnonzero(keep)
    cols = [c for c in _TW_COLS if c in toewijzingen.columns]
    return toewijzingen[cols].take(pos).reset_index(drop=True), pos


_POS_CACHE: dict = {}


def _declaratie_posities(declaraties: pd.DataFrame, toewijzingen: pd.DataFrame) -> np.ndarray:
    """Position in ``toewijzingen`` of each declaration item's toewijzing_nr (first
    occurrence; -1 when absent or empty). One hash lookup per distinct number,
    cached while both frames live (a pure function of the two frames)."""
    import weakref

    key = (id(declaraties), id(toewijzingen))
    hit = _POS_CACHE.get(key)
    if (hit is not None and hit[0]() is declaraties and hit[1]() is toewijzingen
            and hit[2] is declaraties["toewijzing_nr"].array and hit[3] is toewijzingen["toewijzing_nr"].array):
        return hit[4]
    _POS_CACHE.clear()
    codes, uniq = _common.column_codes(declaraties, "toewijzing_nr")
    upos = np.append(_positie(pd.Series(uniq, dtype=object), toewijzingen["toewijzing_nr"]), -1)
    pos = upos[codes]
    _POS_CACHE[key] = (weakref.ref(declaraties), weakref.ref(toewijzingen), declaraties["toewijzing_nr"].array,
                       toewijzingen["toewijzing_nr"].array, pos)
    return pos


def _gekoppelde_declaraties(t: pd.DataFrame, declaraties: pd.DataFrame, exclude,
                            bron: tuple[pd.DataFrame, np.ndarray] | None = None) -> pd.DataFrame:
    """Declaration items on the toewijzingen of ``t``: row (position in t), maand, bedrag, uren.

    Items whose toewijzing_nr is not in ``t`` are left out (metrics.md 0.2: they
    count in cost KPIs only). Hours: net volume x hours per eenheid (config.EENHEID_UREN).
    ``bron``: (the frame ``t`` was selected from, positions of t's rows in it),
    to link through the cached positions of :func:`_declaratie_posities`.
    """
    if len(t) == 0 or len(declaraties) == 0:
        return pd.DataFrame({"row": np.array([], np.int64), "maand": np.array([], np.int64),
                             "bedrag": np.array([], np.int64), "uren": np.array([], float)})
    d = declaraties
    if bron is not None:
        orig, t_pos = bron
        inv = np.full(len(orig) + 1, -1, dtype=np.int64)
        inv[t_pos] = np.arange(len(t_pos))
        pos = inv[_declaratie_posities(d, orig)]
    else:
        pos = _positie(d["toewijzing_nr"], t["toewijzing_nr"])
    if exclude:
        pos = np.where(_agb_mask(d, exclude), pos, -1)
    maand, bedrag, uren = _item_waarden(d)
    idx = np.flatnonzero((pos >= 0) & (maand != _GEEN_MAAND))
    return pd.DataFrame({"row": pos[idx].astype(np.int64), "maand": maand[idx], "bedrag": bedrag[idx],
                         "uren": uren[idx]})


_GEEN_MAAND = np.iinfo(np.int64).min


def _vergeet() -> None:
    """Drop the item-length arrays cached for one :func:`kpis` or :func:`rapport` call (memory)."""
    _WAARDEN_CACHE.clear()
    _POS_CACHE.clear()
_WAARDEN_CACHE: dict = {}


def _item_waarden(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per declaration item: month number (``_GEEN_MAAND`` without a date), net amount
    (cent, missing 0) and hours (net volume x hours per eenheid; NaN when the unit
    has no hours). Cached while the frame lives (a pure function of it)."""
    import weakref

    hit = _WAARDEN_CACHE.get(id(d))
    if hit is not None and hit[0]() is d and hit[1] == len(d):
        return hit[2]
    _WAARDEN_CACHE.clear()
    maand_src = d["maand"] if "maand" in d.columns else d["periode_begin"]
    m = maand_src.to_numpy(dtype="datetime64[ns]")
    maand = np.where(np.isnat(m), _GEEN_MAAND, m.astype("datetime64[M]").astype(np.int64))
    # hours per eenheid: look up each distinct unit once
    codes, units = _common.column_codes(d, "eenheid")
    per_unit = np.append(np.array([config.EENHEID_UREN.get(u, np.nan) for u in units], dtype=float), np.nan)
    uren = d["volume"].to_numpy(dtype=float, na_value=np.nan) * per_unit[codes]
    res = (maand, d["bedrag_cent"].to_numpy(dtype=np.int64, na_value=0), uren)
    _WAARDEN_CACHE[id(d)] = (weakref.ref(d), len(d), res)
    return res


def _positie(values: pd.Series, lookup: pd.Series) -> np.ndarray:
    """Position of each value in ``lookup`` (first occurrence), -1 when absent.

    Arrow hash lookup (``pyarrow.compute.index_in``): fast on millions of strings."""
    v = pa.array(values.astype(schema.S).array).cast(pa.large_string())
    lk = pa.array(lookup.astype(schema.S).array).cast(pa.large_string())
    pos = pc.index_in(v, value_set=lk)
    return np.asarray(pos.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _positieve_maanden(key: np.ndarray, maand: np.ndarray, bedrag: np.ndarray, n: int) -> np.ndarray:
    """Per key 0..n-1: the number of months whose summed net amount is positive.

    (key, month) pairs are combined into one int64 and summed per distinct pair
    (hash; exact integer sums), or after one sort when the amounts are too large
    for exact float sums."""
    if len(key) == 0:
        return np.zeros(n, dtype=np.int64)
    m0 = int(maand.min())
    span = int(maand.max()) - m0 + 1
    combined = key.astype(np.int64) * span + (maand - m0)
    b = np.asarray(bedrag, dtype=np.int64)
    if float(np.abs(b).max()) * len(b) < 2.0**53:
        codes, uniq = pd.factorize(combined)
        sums = np.bincount(codes, weights=b.astype(np.float64), minlength=len(uniq))
        return np.bincount(uniq[sums > 0] // span, minlength=n).astype(np.int64)
    order = np.argsort(combined, kind="stable")
    c = combined[order]
    first = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    sums = np.add.reduceat(bedrag[order].astype(np.int64), first)
    pos_keys = c[first][sums > 0] // span
    return np.bincount(pos_keys, minlength=n).astype(np.int64)


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
    ex = _excluded(params, exclude_agb)
    t, t_pos = _traject_selectie(toewijzingen, groepen, ex)
    n_t = len(t)
    zp = zorgpad_ids(t, params).to_numpy(dtype=np.int64) if n_t else np.array([], np.int64)
    # Renumber 0..k-1 in (client, productgroep, start) order.
    zp_codes, zp_uniques = pd.factorize(zp, sort=True)
    zp = zp_codes.astype(np.int64)
    k = len(zp_uniques)
    labels = zorgpad_labels(zp, t["ingangsdatum"], t["einddatum_eff"], label_bits(t)) if n_t else None

    # Declarations: per toewijzing and per zorgpad.
    dec = _gekoppelde_declaraties(t, declaraties, ex, bron=(toewijzingen, t_pos))
    row = dec["row"].to_numpy()
    maand = dec["maand"].to_numpy()
    bedrag = dec["bedrag"].to_numpy()
    mnd_tw = _positieve_maanden(row, maand, bedrag, n_t)
    mnd_zp = _positieve_maanden(zp[row], maand, bedrag, k)
    uren_decl = np.bincount(row, weights=np.nan_to_num(dec["uren"].to_numpy()), minlength=n_t)
    norm_u = pd.to_numeric(t["norm_uren"]).to_numpy(dtype=float, na_value=np.nan) if n_t else np.array([])
    norm_m = pd.to_numeric(t["norm_maanden"]).to_numpy(dtype=float, na_value=np.nan) if n_t else np.array([])
    with np.errstate(divide="ignore", invalid="ignore"):
        uren_traject = norm_u * mnd_tw / norm_m
    uren_tw = np.where(_is_lower(t, "financieringsvorm", "traject"), uren_traject,
                       np.where(_is_lower(t, "financieringsvorm", "inspanning"), uren_decl, 0.0))
    uren_tw = np.where(np.isfinite(uren_tw), uren_tw, 0.0)

    # Per zorgpad: attributes of the first toewijzing, span, sums (one sort, reduceat).
    start = t["ingangsdatum"].to_numpy(dtype="datetime64[ns]")
    eind = t["einddatum_eff"].to_numpy(dtype="datetime64[ns]")
    if n_t:
        order = np.lexsort((start, zp))
        firsts = np.flatnonzero(np.r_[True, zp[order][1:] != zp[order][:-1]])
        first = order[firsts]
        eind_max = np.maximum.reduceat(eind[order].view(np.int64), firsts).view("datetime64[ns]")
    else:
        first = np.array([], np.int64)
        eind_max = eind

    def take(col):
        return t[col].astype(schema.S).iloc[first].reset_index(drop=True)

    out = pd.DataFrame({
        "zorgpad": np.arange(k, dtype=np.int64),
        "client_id": take("client_id"),
        "productgroep": take("productgroep"),
        "regio": take("regio"),
        "gemeentecode": take("gemeentecode"),
        "start": pd.Series(start[first], dtype=schema.D),
        "eind": pd.Series(eind_max, dtype=schema.D),
        "toewijzingen": np.bincount(zp, minlength=k).astype(np.int64),
        "label": labels["label"].reset_index(drop=True) if n_t else pd.Series([], dtype=schema.S),
        "met_maatwerk": labels["met_maatwerk"].to_numpy() if n_t else np.array([], bool),
        "doorlooptijd": mnd_zp,
        "volume_uren": np.bincount(zp, weights=uren_tw, minlength=k) if n_t else np.array([], float),
        "kosten_cent": np.bincount(zp[row], weights=bedrag, minlength=k).round().astype(np.int64),
    })
    out["label"] = out["label"].astype(schema.S)
    if not met_client_id:
        out = out.drop(columns=["client_id"])
    return out


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


def heeft_jw307(start_stop: pd.DataFrame | None) -> bool:
    """Whether the dataset holds any JW307 (stop zorg) message."""
    if start_stop is None or len(start_stop) == 0:
        return False
    return bool(_eq(start_stop["bericht"].astype(schema.S).str.upper(), "JW307").any())


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
    ex = _excluded(params, exclude_agb)
    t, t_pos = _traject_selectie(toewijzingen, groepen, ex, alleen_traject=True)
    fallback = not heeft_jw307(start_stop)
    peil = np.datetime64(params.peil_ts.to_datetime64(), "ns")
    eind = t["einddatum"].to_numpy(dtype="datetime64[ns]")
    if fallback:
        ok = ~np.isnat(eind) & (eind < peil)
    else:
        ss = start_stop[_eq(start_stop["bericht"].astype(schema.S).str.upper(), "JW307")]
        ss = ss[["toewijzing_nr", "einddatum", "reden_beeindiging"]].copy()
        ss["_pos"] = np.arange(len(ss))
        ss = ss.sort_values(["toewijzing_nr", "einddatum", "_pos"], kind="mergesort", na_position="first")
        ss = ss.drop_duplicates("toewijzing_nr", keep="last")
        ss = ss[_eq(ss["reden_beeindiging"].astype(schema.S).str.strip(), REDEN_REGULIER)]
        pos = _positie(t["toewijzing_nr"], ss["toewijzing_nr"])
        has = pos >= 0
        stop_eind = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
        stop_eind[has] = ss["einddatum"].to_numpy(dtype="datetime64[ns]")[pos[has]]
        eind = np.where(np.isnat(eind), stop_eind, eind)
        ok = has & ~np.isnat(eind) & (eind < peil)
    t = t[ok].reset_index(drop=True)
    t_pos = t_pos[ok]
    eind = eind[ok]
    dec = _gekoppelde_declaraties(t, declaraties, ex, bron=(toewijzingen, t_pos))
    row, maand, bedrag = dec["row"].to_numpy(), dec["maand"].to_numpy(), dec["bedrag"].to_numpy()
    maanden = _positieve_maanden(row, maand, bedrag, len(t))
    kosten = np.bincount(row, weights=bedrag, minlength=len(t)).round().astype(np.int64)
    norm_m = pd.to_numeric(t["norm_maanden"]).to_numpy(dtype=float, na_value=np.nan)
    prijs = pd.to_numeric(t["trajectprijs_cent"]).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = np.where(norm_m > 0, maanden / norm_m, np.nan)
        kr = np.where(prijs > 0, kosten / prijs, np.nan)
    cols = ["toewijzing_nr", "productgroep", "productcode", "zwaarte", "regio", "gemeentecode", "agb"]
    if met_client_id:
        cols = ["client_id"] + cols
    out = t[cols].copy()
    out["einddatum"] = pd.Series(eind, dtype=schema.D)
    out["maanden"] = maanden
    out["kosten_cent"] = kosten
    out["norm_maanden"] = norm_m
    out["trajectprijs_cent"] = prijs
    out["volume_ratio"] = vr
    out["kosten_ratio"] = kr
    return TrajectRatios(out, fallback)


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
    keep &= _in_values(d, "productgroep", groepen)
    if not keep.any():
        return pd.DataFrame(columns=cols)
    per = _common.periods(params.start, params.peildatum, params.per)
    pidx = _common.period_index(d["periode_begin"], per)
    pidx[~_in_window(d["periode_begin"], params)] = -1
    keep &= pidx >= 0
    pg_c, pg_u = _common.column_codes(d, "productgroep")
    rc, ru = _common.column_codes(d, "regio")
    gc, gu = _common.column_codes(d, "gemeentecode")
    npg = max(len(pg_u), 1)
    lg = _common.LevelGroups(rc, ru, gc, gu, pidx * npg + pg_c, len(per) * npg, keep)
    bedrag = lg.take(d["bedrag_cent"].to_numpy(dtype=np.int64, na_value=0))
    pq = lg.take(_is_lower(d, "variant", "maatwerk", "meerwerk"))
    f = lg.frame(levels, kosten_cent=lg.sum(bedrag), pq_cent=lg.sum(np.where(pq, bedrag, 0)),
                 n_clienten=lg.nunique(lg.take(_common.client_codes(d))))
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
    (the integer form of :func:`_periode`)."""
    idx = _common.period_index(dates, per)
    idx[~_in_window(dates, params)] = -1
    return idx


def _level_groups(df: pd.DataFrame, pidx: np.ndarray, npg_codes, mask) -> tuple:
    """:class:`_common.LevelGroups` of ``df`` (columns regio, gemeentecode) by period x productgroep."""
    pg_c, pg_u = npg_codes
    npg = max(len(pg_u), 1)
    rc, ru = _common.column_codes(df, "regio")
    gc, gu = _common.column_codes(df, "gemeentecode")
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
    if len(zp) == 0:
        return _empty_kpis()
    per = _common.periods(params.start, params.peildatum, params.per)
    pidx = _periode_index(zp["start"], params, per)
    if not (pidx >= 0).any():
        return _empty_kpis()
    pg = _common.column_codes(zp, "productgroep")
    lab_c, lab_u = _common.column_codes(zp, "label")
    lg, npg = _level_groups(zp, pidx, pg, pidx >= 0)
    n = lg.sum()
    f = lg.frame(levels, zorgpaden=n, uniek=lg.nunique(lg.take(lab_c)),
                 mw=lg.sum(lg.take(zp["met_maatwerk"].to_numpy(dtype=np.float64))),
                 n_clienten=lg.nunique(lg.take(_common.client_codes(zp))))
    # top 5 labels per group: counts per (group, label), ranked by count, ties by label name
    nl = max(len(lab_u), 1)
    rank = np.empty(nl, dtype=np.int64)
    rank[sorted(range(len(lab_u)), key=lambda i: str(lab_u[i]))] = np.arange(len(lab_u))  # per distinct label
    lg2, _ = _level_groups(zp, pidx * nl + np.maximum(lab_c, 0), (pg[0], pg[1]), (pidx >= 0) & (lab_c >= 0))
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
    if len(ratios) == 0:
        return _empty_kpis()
    per = _common.periods(params.start, params.peildatum, params.per)
    pidx = _periode_index(ratios["einddatum"], params, per)
    if not (pidx >= 0).any():
        return _empty_kpis()
    pg = _common.column_codes(ratios, "productgroep")
    cl = _common.client_codes(ratios)
    parts = []
    for kpi, col in (("traject_kosten_ratio", "kosten_ratio"), ("traject_volume_ratio", "volume_ratio")):
        v = ratios[col].to_numpy(dtype=np.float64, na_value=np.nan)
        mask = (pidx >= 0) & ~np.isnan(v)
        if not mask.any():
            continue
        lg, npg = _level_groups(ratios, pidx, pg, mask)
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
    zp = zorgpaden(t, d, params, groepen=groepen, met_client_id=True)
    aq = aandeel_pq_in_traject(d, params, groepen=groepen)
    rat = traject_ratios(t, d, getattr(cleaned, "start_stop", None), params, groepen=groepen,
                         met_client_id=True).tabel
    parts = [zorgpad_kpis(zp, params)]
    if len(aq):
        parts.append(_kpi_rows(aq, "aandeel_pq_in_traject", "fractie",
                               dimensie="productgroep=" + aq["productgroep"].astype(str)))
    parts.append(ratio_kpis(rat, params))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty_kpis()
    _vergeet()
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
    zp = zorgpaden(t, d, params, exclude_agb=ex, groepen=groepen)
    rat = traject_ratios(t, d, getattr(cleaned, "start_stop", None), params, exclude_agb=ex, groepen=groepen)
    zp = zp[_in_window(zp["start"], params)].reset_index(drop=True)
    ratios = rat.tabel
    ratios = ratios[_in_window(ratios["einddatum"], params)].reset_index(drop=True)
    dd = d
    if regio is not None:
        zp = zp[_eq(zp["regio"], regio)].reset_index(drop=True)
        ratios = ratios[_eq(ratios["regio"], regio)].reset_index(drop=True)
        dd = d[_eq(d["regio"].astype(schema.S), regio)]
    aq = aandeel_pq_in_traject(dd, params, exclude_agb=ex, groepen=groepen, levels=("regio",) if regio else ("nederland",))
    _vergeet()
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
