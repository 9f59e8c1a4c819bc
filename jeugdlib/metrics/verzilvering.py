"""Verzilvering (P*Q): how much of what was allocated was declared (metrics.md section 3).

For toewijzingen of ``inspanning`` products whose ``einddatum`` lies in a period
whose last day is before the peildatum:

* maximum volume = ``volume`` x the number of frequency units in
  [ingangsdatum, einddatum] (:func:`maximum_volume`);
* delivered volume = the net declared volume on the toewijzing, converted to the
  toewijzing's eenheid (minutes, hours and dagdelen convert; any other mix of
  units makes the toewijzing unusable: status ``eenheid_mix``, reported, left out);
* budget-only toewijzingen (eenheid 83 or a ``Budget``): delivered = net declared
  amount, maximum = budget.

Both sides are valued at the product's tarief, so units never mix:
``verzilvering = sum(delivered x tarief) / sum(maximum x tarief)``.

Two levels: :func:`verzilvering_per_toewijzing` (one row per toewijzing, for
distributions and the "what if everything were declared" view of the reports)
and :func:`kpis` (the aggregated KPI rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import config, schema
from . import _common

#: WMO757 Frequentie codes.
FREQ_DAG, FREQ_WEEK, FREQ_MAAND, FREQ_TOTAAL = "1", "2", "4", "6"
#: WJ756 Eenheid code for euro (budget-only toewijzingen).
EENHEID_EURO = "83"

#: Status values of :func:`verzilvering_per_toewijzing`; only ``ok`` enters the KPIs.
STATUS_OK = "ok"
STATUS_EENHEID_MIX = "eenheid_mix"  # declared in a unit that does not convert
STATUS_FREQUENTIE = "frequentie_onbekend"  # no volume or frequency not 1/2/4/6
STATUS_TARIEF = "geen_tarief"  # the product has no tarief to value the volume at


def _codes(s, fill: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (NA -> -1, or ``fill``) and the uniques (object array) of a column."""
    s = pd.Series(s, copy=False)
    if fill is not None:
        s = s.astype(schema.S).fillna(fill)
    codes, uniq = pd.factorize(s)
    return codes.astype(np.int64, copy=False), np.asarray(uniq, dtype=object)


def _code(s: pd.Series, width: int = 0) -> pd.Series:
    """Normalise a code column: stripped text; ``width`` left-pads digits (eenheid '4' -> '04'),
    else leading zeros go (frequentie '01' -> '1'). Works on the distinct values only."""
    s = pd.Series(s, copy=False)
    codes, uniq = _codes(s)
    u = pd.Series(uniq, dtype="string").str.strip()
    u = u.str.zfill(width) if width else u.str.lstrip("0")
    vals = np.append(u.to_numpy(dtype=object, na_value=None), None)
    return pd.Series(vals[codes], index=s.index, dtype=schema.S)


def _num(s: pd.Series) -> np.ndarray:
    """A numeric column as float64 numpy (NA -> NaN)."""
    return pd.to_numeric(pd.Series(s, copy=False), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _einde(toew: pd.DataFrame) -> pd.Series:
    """The toewijzing's end for volume purposes: einddatum, else einddatum_eff (open -> day before peildatum)."""
    eind = toew["einddatum"]
    if "einddatum_eff" in toew.columns:
        eind = eind.fillna(toew["einddatum_eff"])
    return eind


def frequentie_eenheden(toewijzingen: pd.DataFrame) -> pd.Series:
    """Number of frequency units in [ingangsdatum, einddatum] (metrics.md section 3).

    ``1`` per dag: days, both ends included; ``2`` per week: ceil(days / 7);
    ``4`` per maand: calendar months that overlap the interval; ``6`` totaal: 1.
    Any other (or empty) frequentie gives NaN. An open einddatum uses
    ``einddatum_eff`` (the day before the peildatum) when that column is present.
    """
    ing = toewijzingen["ingangsdatum"].to_numpy(dtype="datetime64[ns]")
    eind = _einde(toewijzingen).to_numpy(dtype="datetime64[ns]")
    # on numpy: days as floor((eind - ing) / 1 day) + 1 (as .dt.days), months as the
    # difference of calendar months (year * 12 + month) + 1; a missing date gives NaN
    nat = np.isnat(ing) | np.isnat(eind)
    verschil = np.where(nat, 0, eind.view(np.int64) - ing.view(np.int64))
    dagen = np.where(nat, np.nan, np.floor_divide(verschil, 86_400 * 10**9) + 1.0)
    weken = np.ceil(dagen / 7.0)
    mnd = np.where(nat, 0, eind.astype("datetime64[M]").view(np.int64) - ing.astype("datetime64[M]").view(np.int64))
    maanden = np.where(nat, np.nan, mnd + 1.0)
    f = _code(toewijzingen["frequentie"]).fillna("").to_numpy(dtype=object)
    out = np.select(
        [f == FREQ_DAG, f == FREQ_WEEK, f == FREQ_MAAND, f == FREQ_TOTAAL],
        [dagen, weken, maanden, np.ones_like(dagen)],
        default=np.nan,
    )
    return pd.Series(out, index=toewijzingen.index, name="eenheden", dtype="float64")


def maximum_volume(toewijzingen: pd.DataFrame) -> pd.Series:
    """Maximum volume of each toewijzing = ``volume`` x :func:`frequentie_eenheden` (metrics.md 3).

    In the toewijzing's own eenheid; NaN when volume or frequentie is missing or unknown.
    """
    vol = _num(toewijzingen["volume"])
    return pd.Series(vol * frequentie_eenheden(toewijzingen).to_numpy(), index=toewijzingen.index,
                     name="maximum_volume", dtype="float64")


def is_budget(toewijzingen: pd.DataFrame) -> pd.Series:
    """True for budget-only toewijzingen: eenheid 83 (euro) or a ``Budget`` given (metrics.md 3)."""
    eenheid = _code(toewijzingen["eenheid"], 2)
    out = (eenheid == EENHEID_EURO).fillna(False) | toewijzingen["budget_cent"].notna()
    return pd.Series(out.to_numpy(dtype=bool), index=toewijzingen.index, name="budget")


def eenheid_factor(van: pd.Series, naar: pd.Series) -> pd.Series:
    """Factor converting a volume in eenheid ``van`` to eenheid ``naar`` (data-contract 1.1).

    1 when the units are equal; minutes (01), hours (04) and dagdelen (16) convert
    via hours (``config.EENHEID_UREN``); any other mix gives NaN.
    """
    v = _code(van, 2)
    n = _code(naar, 2)
    uren_v = v.map(config.EENHEID_UREN).astype("float64").to_numpy()
    uren_n = n.map(config.EENHEID_UREN).astype("float64").to_numpy()
    same = (v == n).fillna(False).to_numpy(dtype=bool)
    out = np.where(same, 1.0, uren_v / uren_n)
    return pd.Series(out, index=pd.Series(van).index, dtype="float64")


def _arrow_tekst(values) -> pa.Array:
    """Text values (a Series or an object array) as one Arrow ``large_string`` array."""
    a = pa.array(pd.Series(values, copy=False).astype(schema.S).array)
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.large_string())


_NR_CACHE: dict = _common.register_cache({})


def _nummer_codes(d: pd.DataFrame) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (int32, read-only) of ``d["toewijzing_nr"]`` (missing -> -1; "" a value of its own)
    and the distinct numbers as one Arrow ``large_string`` array (no Python string
    per number). Cached while the frame and its column live (a pure function of
    the column), so the declarations' numbers are hashed once for verzilvering and
    trajecten together."""
    import weakref

    arr = d["toewijzing_nr"].array
    hit = _NR_CACHE.get(id(d))
    if hit is not None and hit[0]() is d and hit[1]() is arr:
        return hit[2], hit[3]
    for k in [k for k, v in _NR_CACHE.items() if v[0]() is None or v[1]() is None]:
        del _NR_CACHE[k]
    codes, uniq = pd.factorize(d["toewijzing_nr"])
    uniq = _arrow_tekst(pd.Series(uniq, copy=False))
    small = np.asarray(codes, dtype=np.int32 if len(uniq) < 2**31 else np.int64)
    small.flags.writeable = False  # shared by every caller
    try:
        _NR_CACHE[id(d)] = (weakref.ref(d), weakref.ref(arr), small, uniq)
    except TypeError:  # an array type without weak references: no caching
        pass
    return small, uniq


def _toewijzing_positie(toew: pd.DataFrame, d: pd.DataFrame) -> np.ndarray:
    """Position in ``toew`` of each declaration's toewijzing_nr (-1: none of these; a
    number that occurs twice in ``toew`` maps to its last row). One Arrow hash lookup
    (``index_in`` on the numbers of ``toew`` in reverse order, so the first hit is
    the last row) per distinct number of the declarations (cached, see
    :func:`_nummer_codes`), not a factorisation of both columns."""
    codes, uniq = _nummer_codes(d)
    n = len(toew)
    if n == 0 or len(uniq) == 0:
        return np.full(len(d), -1, dtype=np.int64)
    nr = _arrow_tekst(toew["toewijzing_nr"])
    hit = pc.index_in(uniq, value_set=nr[::-1]).fill_null(-1)
    hit = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=np.int64)
    upos = np.append(np.where(hit >= 0, n - 1 - hit, -1), -1)
    return upos[codes]


def verzilvering_per_toewijzing(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame) -> pd.DataFrame:
    """Per toewijzing: maximum, delivered and declared, valued in eurocent (metrics.md section 3).

    ``toewijzingen``: rows of ``Cleaned.toewijzingen`` (any selection; an open
    einddatum counts up to ``einddatum_eff``). ``declaraties``: netted items of
    ``Cleaned.declaraties``; only items whose ``toewijzing_nr`` is one of these
    toewijzingen are used (a declaration without a known toewijzing never enters
    verzilvering).

    Returns the input rows (same index, all columns) plus:

    * ``budget`` (bool): budget-only toewijzing (eenheid 83 or Budget given);
    * ``maximum_volume``: volume x frequency units, in the toewijzing's eenheid;
    * ``geleverd_volume``: net declared volume converted to the toewijzing's eenheid;
    * ``toegewezen_cent``: maximum x tarief; for budget-only the budget (or, with
      eenheid 83 and no Budget, the maximum volume in euro x 100);
    * ``geleverd_cent``: delivered x tarief; for budget-only the net declared amount;
    * ``gedeclareerd_cent``: net declared amount on the toewijzing;
    * ``verzilvering``: geleverd_cent / toegewezen_cent;
    * ``status``: ``ok``, ``eenheid_mix``, ``frequentie_onbekend`` or ``geen_tarief``;
      only ``ok`` rows enter the KPIs.
    """
    out = toewijzingen.copy()
    for col, values in _per_toewijzing(toewijzingen, declaraties).items():
        out[col] = values
    return out


def _waarden(s: pd.Series, rows: np.ndarray) -> pd.Series:
    """``s`` at positions ``rows`` (a Series with a fresh RangeIndex)."""
    return s.take(rows).reset_index(drop=True)


def _per_toewijzing(toew: pd.DataFrame, d: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns :func:`verzilvering_per_toewijzing` adds, as arrays aligned to
    ``toew`` (which needs only toewijzing_nr, ingangsdatum, einddatum,
    einddatum_eff, volume, eenheid, frequentie, budget_cent and tarief_cent)."""
    n = len(toew)
    # Position of each declaration's toewijzing in ``toew`` (-1: not one of these),
    # via one hash lookup of the distinct numbers (toewijzing_nr is unique in Cleaned).
    d_pos = _toewijzing_positie(toew, d)
    sel = np.flatnonzero(d_pos >= 0)  # the items' values are taken for these only
    if "toewijzing_bekend" in d.columns:
        sel = sel[_waarden(d["toewijzing_bekend"], sel).fillna(False).to_numpy(dtype=bool)]
    d_pos = d_pos[sel]

    # Unit conversion factor per declared item, on the distinct units only: the
    # declarations' units are the cached codes of the whole column, normalised per
    # distinct value; one vocabulary of the toewijzingen' and declarations' units.
    d_codes, d_units = _common.column_codes(d, "eenheid")
    d_norm = np.append(_code(pd.Series(d_units, dtype=object), 2).fillna("").to_numpy(dtype=object), "")
    t_eenheid = _code(toew["eenheid"], 2).fillna("").to_numpy(dtype=object)
    uid, vocab = _codes(pd.Series(np.concatenate([t_eenheid, d_norm]), dtype=object))
    t_uid, d_uid = uid[:n], uid[n:][d_codes[sel]]
    uren = pd.Series(vocab).map(config.EENHEID_UREN).to_numpy(dtype="float64", na_value=np.nan)
    tu = t_uid[d_pos]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d_uid == tu, 1.0, uren[d_uid] / uren[tu])
    vol = _num(_waarden(d["volume"], sel))
    bedrag = _num(_waarden(d["bedrag_cent"], sel))
    vol = np.nan_to_num(vol, nan=0.0)
    conv = vol * factor
    # A unit that does not convert only matters when something was declared in it.
    mix_item = np.isnan(factor) & (vol != 0)
    geleverd = np.bincount(d_pos, weights=np.nan_to_num(conv, nan=0.0), minlength=n)
    gedeclareerd = np.bincount(d_pos, weights=np.nan_to_num(bedrag, nan=0.0), minlength=n)
    mix = np.bincount(d_pos, weights=mix_item.astype("float64"), minlength=n) > 0

    budget = is_budget(toew).to_numpy()
    maxvol = maximum_volume(toew).to_numpy()
    tarief = _num(toew["tarief_cent"]) if "tarief_cent" in toew.columns else np.full(len(toew), np.nan)
    budget_cent = _num(toew["budget_cent"])
    # Budget-only: maximum = Budget; with eenheid 83 and no Budget, the volume is in euro.
    budget_max = np.where(np.isnan(budget_cent), maxvol * 100.0, budget_cent)

    toegewezen = np.where(budget, budget_max, maxvol * tarief)
    geleverd_cent = np.where(budget, gedeclareerd, geleverd * tarief)

    status = np.full(len(toew), STATUS_OK, dtype=object)
    status[~budget & np.isnan(tarief)] = STATUS_TARIEF
    status[~budget & mix] = STATUS_EENHEID_MIX
    status[np.isnan(np.where(budget, budget_max, maxvol))] = STATUS_FREQUENTIE

    with np.errstate(divide="ignore", invalid="ignore"):
        verzilvering = np.where(toegewezen > 0, geleverd_cent / toegewezen, np.nan)
    return {
        "budget": budget,
        "maximum_volume": maxvol,
        "geleverd_volume": np.where(budget, np.nan, geleverd),
        "toegewezen_cent": toegewezen,
        "geleverd_cent": geleverd_cent,
        "gedeclareerd_cent": gedeclareerd,
        "verzilvering": verzilvering,
        "status": pd.array(status, dtype=schema.S),
    }


def _kpi_rows(df: pd.DataFrame, dims: dict[str, str | None], sums: list[str]) -> pd.DataFrame:
    """Sum ``sums`` and count distinct clients per level (gemeente, regio, Nederland),
    period and dimension (metrics._common conventions).

    ``df`` has regio, gemeentecode, periode, client_id and the columns named in
    ``dims`` (dimension label -> column, None for the total; a value ``v`` gives
    ``dimensie`` "label=v", empty values "label=onbekend"). Everything runs on
    integer codes (see :func:`_kpi_rows_codes`). Returns regio, gemeente,
    periode, dimensie, ``sums``, ``n_clienten``.
    """
    rc, ru = _codes(df["regio"], "onbekend")
    gc, gu = _codes(df["gemeentecode"], "onbekend")
    per_c, per_u = _codes(df["periode"])
    cc = _common.client_codes(df)  # client_nr when present: no 64-character strings hashed
    dim_codes = {naam: None if col is None else _codes(df[col].astype(schema.S).fillna("").str.strip())
                 for naam, col in dims.items()}
    return _kpi_rows_codes(rc, ru, gc, gu, per_c, per_u, cc, dim_codes, {c: _num(df[c]) for c in sums})


def _kpi_rows_codes(rc, ru, gc, gu, per_c, per_u, cc, dims: dict, vals: dict[str, np.ndarray]) -> pd.DataFrame:
    """:func:`_kpi_rows` on codes: per row the codes of regio (``rc``, labels ``ru``),
    gemeente (``gc``, ``gu``), periode (``per_c``, ``per_u``) and client (``cc``, -1 =
    unknown); ``dims``: dimension label -> None (the total) or (codes, values) of the
    stripped text (empty -> "label=onbekend"); ``vals``: column -> values to sum.
    Codes only need to tell the groups apart: the rows come out in the order of
    first appearance of their group, whatever the numbering."""
    sums = list(vals)
    parts = []
    for naam, dim in dims.items():
        if dim is None:
            dc, labels = np.zeros(len(rc), dtype=np.int64), np.array([""], dtype=object)
        else:
            dc, du = dim
            labels = np.array([f"{naam}={x if x else 'onbekend'}" for x in du], dtype=object)
        base = pd.DataFrame({"r": rc, "g": gc, "p": per_c, "d": dc, "c": cc, **vals})
        parts.append(_rows_from_codes(base, ru, gu, per_u, labels, sums))
    return pd.concat(parts, ignore_index=True)


def _rij_codes(df: pd.DataFrame, col: str, rows: np.ndarray, fill: str = "",
               strip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes (>= 0) and values of ``df[col]`` at positions ``rows``, as text with
    missing -> ``fill`` (and stripped if ``strip``): the groups and values of
    ``_codes(df[col].iloc[rows].astype(S).fillna(fill)[.str.strip()])``, numbered
    differently. From the whole column's cached codes
    (:func:`_common.column_codes`): nothing is hashed per row."""
    codes, uniq = _common.column_codes(df, col)
    lab = pd.Series(np.append(uniq, None), dtype=object).astype(schema.S).fillna(fill)
    if strip:
        lab = lab.str.strip()
    m_codes, m_uniq = _codes(lab)  # equal texts (e.g. missing and fill) become one code
    return m_codes[codes[rows]], m_uniq


def _rows_from_codes(base: pd.DataFrame, ru, gu, pu, labels, sums: list[str],
                     distinct_sums: tuple[str, ...] = ()) -> pd.DataFrame:
    """Level aggregation on integer codes.

    ``base``: int columns r (regio), g (gemeente), p (periode), d (dimension), c
    (client, -1 = unknown) and value columns. ``sums`` are summed over all rows;
    ``distinct_sums`` are summed over one row per client and group (for a
    per-client flag: the number of distinct clients with it). ``n_clienten``:
    distinct clients per group, so a client in two gemeenten of one regio counts
    once for the regio. ``ru``, ``gu``, ``pu``, ``labels`` turn the codes back into
    names. Each level is one group key (a single int64), so grouping and
    deduplication are 1-D hash operations.
    """
    r = base["r"].to_numpy(dtype=np.int64)
    g = base["g"].to_numpy(dtype=np.int64)
    p = base["p"].to_numpy(dtype=np.int64)
    d = base["d"].to_numpy(dtype=np.int64)
    c = base["c"].to_numpy(dtype=np.int64)
    nr, ng, npp, nd = len(ru) + 1, len(gu) + 1, len(pu) + 1, len(labels) + 1
    nc = int(c.max()) + 2 if len(c) else 1
    if float(nr) * ng * npp * nd * nc >= 2.0**62:  # pragma: no cover - beyond any real dataset
        raise ValueError("too many groups for integer keys")
    levels = (
        ("gemeente", ((r * ng + g) * npp + p) * nd + d),
        ("regio", (r * npp + p) * nd + d),
        ("nederland", p * nd + d),
    )
    ds = list(distinct_sums)
    known = c >= 0
    parts = []
    for lvl, key in levels:
        if sums:
            agg = base[sums].groupby(key, sort=False).sum()
        else:
            agg = pd.DataFrame(index=pd.Index(pd.unique(key)))
        ck = key[known] * nc + c[known]
        first = ~pd.Series(ck).duplicated().to_numpy()
        kk = key[known][first]
        cnt = pd.Series(1.0, index=kk).groupby(level=0, sort=False).sum()
        agg["n_clienten"] = cnt.reindex(agg.index).fillna(0).to_numpy(dtype="float64")
        for col in ds:
            v = base[col].to_numpy(dtype="float64")[known][first]
            agg[col] = pd.Series(v, index=kk).groupby(level=0, sort=False).sum().reindex(agg.index).fillna(0).to_numpy()
        k = agg.index.to_numpy(dtype=np.int64)
        kd = k % nd
        rest = k // nd
        kp = rest % npp
        rest = rest // npp
        out = pd.DataFrame({
            "regio": ru[rest // ng] if lvl == "gemeente" else (ru[rest] if lvl == "regio" else config.NEDERLAND),
            "gemeente": gu[rest % ng] if lvl == "gemeente" else "",
            "periode": np.asarray(pu, dtype=object)[kp],
            "dimensie": np.asarray(labels, dtype=object)[kd],
        })
        for col in list(sums) + ds + ["n_clienten"]:
            out[col] = agg[col].to_numpy()
        parts.append(out)
    res = pd.concat(parts, ignore_index=True)
    for col in ("regio", "gemeente", "periode", "dimensie"):
        res[col] = res[col].astype(schema.S)
    return res


def _finish(rows: pd.DataFrame) -> pd.DataFrame:
    """KPI rows in the column order and dtypes of docs/architecture.md (KPI rows)."""
    cols = ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", schema.KPI_N]
    if len(rows) == 0:
        out = schema.empty("kpi")[["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid"]]
        out[schema.KPI_N] = pd.Series([], dtype="float64")
        return out
    out = rows[cols].sort_values(["kpi", "regio", "gemeente", "periode", "dimensie"], kind="mergesort")
    out = out.reset_index(drop=True)
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        out[c] = out[c].astype(schema.S)
    out["waarde"] = out["waarde"].astype("float64").astype(schema.F)
    out[schema.KPI_N] = out[schema.KPI_N].astype("float64")
    return out


def eindigend_in_periode(toewijzingen: pd.DataFrame, params: config.Params, *,
                         alleen_volledig: bool = False) -> pd.DataFrame:
    """Toewijzingen with a real einddatum before the peildatum, with the ``periode`` of that einddatum.

    Open toewijzingen (no einddatum) have not ended and are left out; so are
    einddata outside the analysis window. With ``alleen_volledig`` only periods
    whose last day is before the peildatum are kept (metrics.md section 3).
    """
    pos, idx, per = _eindigend_posities(toewijzingen, params, alleen_volledig=alleen_volledig)
    t = toewijzingen.iloc[pos].copy()
    t["periode"] = pd.array(per["periode"].to_numpy(dtype=object)[idx], dtype=schema.S)
    return t


def _eindigend_posities(toewijzingen: pd.DataFrame, params: config.Params, *, alleen_volledig: bool = False,
                        rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The rows of :func:`eindigend_in_periode` (among ``rows`` if given) as positions
    in ``toewijzingen``, the index of their period in the periods table, and that table."""
    per = _common.periods(params.start, params.peildatum, params.per)
    if alleen_volledig:
        per = per[~per["voorlopig"]]
    eind = toewijzingen["einddatum"].to_numpy(dtype="datetime64[ns]")
    if rows is not None:
        eind = eind[rows]
    idx = periode_index(eind, per)
    peil = np.datetime64(params.peil_ts.to_datetime64(), "ns")
    start = np.datetime64(params.start_ts.to_datetime64(), "ns")
    idx[(eind >= peil) | (eind < start)] = -1  # NaT compares False: stays out via periode_index
    keep = np.flatnonzero(idx >= 0)
    return (keep if rows is None else np.asarray(rows)[keep]), idx[keep], per


def periode_index(dates: pd.Series, per: pd.DataFrame) -> np.ndarray:
    """Position in ``per`` of the period holding each date; -1 for none (see
    :func:`jeugdlib.metrics._common.period_index`)."""
    return _common.period_index(dates, per)


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``verzilvering``, ``toegewezen_bedrag``, ``gedeclareerd_bedrag`` (metrics.md section 3).

    Over toewijzingen of ``inspanning`` products (budget-only ones included) whose
    einddatum lies in a period whose last day is before the peildatum, with status
    ``ok`` (see :func:`verzilvering_per_toewijzing`). ``verzilvering`` has the
    dimensions total, ``type=micro/regulier`` and ``productcode=...``; the two
    amounts (euro) the total only. ``n_clienten`` = distinct clients in the group.
    """
    toew = cleaned.toewijzingen
    fv_c, fv_u = _common.column_codes(toew, "financieringsvorm")
    inspanning = np.flatnonzero(np.append(pd.Series(fv_u, dtype=object).eq("inspanning").to_numpy(dtype=bool),
                                          False)[fv_c])
    pos, pidx, per = _eindigend_posities(toew, params, alleen_volledig=True, rows=inspanning)
    if len(pos) == 0:
        return _finish(pd.DataFrame())
    cols = ["toewijzing_nr", "ingangsdatum", "einddatum", "einddatum_eff", "volume", "eenheid", "frequentie",
            "budget_cent", "tarief_cent"]
    w = _per_toewijzing(toew[[c for c in cols if c in toew.columns]].take(pos), cleaned.declaraties)
    ok = (w["status"] == STATUS_OK).to_numpy(dtype=bool)
    if not ok.any():
        return _finish(pd.DataFrame())
    # Grouped on the whole frame's cached codes at the ok rows (no strings copied).
    ok_pos = pos[ok]
    if "aanbieder_type" in toew.columns:
        typ = _rij_codes(toew, "aanbieder_type", ok_pos, strip=True)
    else:
        typ = (np.zeros(len(ok_pos), dtype=np.int64), np.array(["regulier"], dtype=object))
    dims = {"": None, "type": typ, "productcode": _rij_codes(toew, "productcode", ok_pos, strip=True)}
    sums = ["geleverd_cent", "toegewezen_cent", "gedeclareerd_cent"]
    rc, ru = _rij_codes(toew, "regio", ok_pos, "onbekend")
    gc, gu = _rij_codes(toew, "gemeentecode", ok_pos, "onbekend")
    agg = _kpi_rows_codes(rc, ru, gc, gu, pidx[ok], per["periode"].to_numpy(dtype=object),
                          _common.client_codes(toew)[ok_pos], dims,
                          {c: np.asarray(w[c], dtype="float64")[ok] for c in sums})
    agg = agg[agg["toegewezen_cent"] > 0]
    rows = [agg.assign(kpi="verzilvering", waarde=agg["geleverd_cent"] / agg["toegewezen_cent"],
                       eenheid="fractie")]
    tot = agg[agg["dimensie"] == ""]
    rows.append(tot.assign(kpi="toegewezen_bedrag", waarde=tot["toegewezen_cent"] / 100.0, eenheid="euro"))
    rows.append(tot.assign(kpi="gedeclareerd_bedrag", waarde=tot["gedeclareerd_cent"] / 100.0, eenheid="euro"))
    return _finish(pd.concat(rows, ignore_index=True))
