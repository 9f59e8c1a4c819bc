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
    ing = toewijzingen["ingangsdatum"]
    eind = _einde(toewijzingen)
    dagen = ((eind - ing).dt.days + 1).to_numpy(dtype="float64", na_value=np.nan)
    weken = np.ceil(dagen / 7.0)
    maanden = ((eind.dt.year * 12 + eind.dt.month) - (ing.dt.year * 12 + ing.dt.month) + 1).to_numpy(
        dtype="float64", na_value=np.nan)
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


def _toewijzing_positie(toew: pd.DataFrame, d: pd.DataFrame) -> np.ndarray:
    """Position in ``toew`` of each declaration's toewijzing_nr (-1: none of these; a
    number that occurs twice in ``toew`` maps to its last row). One hash lookup per
    distinct number of the declarations (their codes are cached per frame, see
    :func:`_common.column_codes`), not a factorisation of both columns."""
    codes, uniq = _common.column_codes(d, "toewijzing_nr")
    nr = pd.Index(toew["toewijzing_nr"].astype(object))
    keep = ~nr.duplicated(keep="last") & ~pd.isna(nr)
    lookup = pd.Index(nr[keep])
    rows = np.flatnonzero(keep)
    hit = lookup.get_indexer(pd.Index(uniq)) if len(lookup) else np.full(len(uniq), -1)
    upos = np.append(np.where(hit >= 0, rows[np.maximum(hit, 0)] if len(rows) else -1, -1), -1)
    return upos[codes].astype(np.int64)


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
    toew = toewijzingen
    out = toew.copy()
    n = len(toew)
    d = declaraties
    # Position of each declaration's toewijzing in ``toew`` (-1: not one of these),
    # via one factorisation of both number columns (toewijzing_nr is unique in Cleaned).
    d_pos = _toewijzing_positie(toew, d)
    if "toewijzing_bekend" in d.columns:
        d_pos = np.where(d["toewijzing_bekend"].fillna(False).to_numpy(dtype=bool), d_pos, -1)
    sel = d_pos >= 0
    d_pos = d_pos[sel]

    # Unit conversion factor per declared item, on the distinct units only.
    d_eenheid = _code(d["eenheid"].iloc[np.flatnonzero(sel)], 2).fillna("")
    t_eenheid = _code(toew["eenheid"], 2).fillna("")
    uid, vocab = _codes(pd.concat([t_eenheid, d_eenheid], ignore_index=True))
    t_uid, d_uid = uid[:n], uid[n:]
    uren = pd.Series(vocab).map(config.EENHEID_UREN).to_numpy(dtype="float64", na_value=np.nan)
    tu = t_uid[d_pos]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d_uid == tu, 1.0, uren[d_uid] / uren[tu])
    vol = _num(d["volume"])[sel]
    bedrag = _num(d["bedrag_cent"])[sel]
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

    out["budget"] = budget
    out["maximum_volume"] = maxvol
    out["geleverd_volume"] = np.where(budget, np.nan, geleverd)
    out["toegewezen_cent"] = toegewezen
    out["geleverd_cent"] = geleverd_cent
    out["gedeclareerd_cent"] = gedeclareerd
    with np.errstate(divide="ignore", invalid="ignore"):
        out["verzilvering"] = np.where(toegewezen > 0, geleverd_cent / toegewezen, np.nan)
    out["status"] = pd.array(status, dtype=schema.S)
    return out


def _kpi_rows(df: pd.DataFrame, dims: dict[str, str | None], sums: list[str]) -> pd.DataFrame:
    """Sum ``sums`` and count distinct clients per level (gemeente, regio, Nederland),
    period and dimension (metrics._common conventions).

    ``df`` has regio, gemeentecode, periode, client_id and the columns named in
    ``dims`` (dimension label -> column, None for the total; a value ``v`` gives
    ``dimensie`` "label=v", empty values "label=onbekend"). Everything runs on
    integer codes (see :func:`_rows_from_codes`). Returns regio, gemeente,
    periode, dimensie, ``sums``, ``n_clienten``.
    """
    rc, ru = _codes(df["regio"], "onbekend")
    gc, gu = _codes(df["gemeentecode"], "onbekend")
    pc, pu = _codes(df["periode"])
    cc = _common.client_codes(df)  # client_nr when present: no 64-character strings hashed
    vals = {c: _num(df[c]) for c in sums}
    parts = []
    for naam, col in dims.items():
        if col is None:
            dc, labels = np.zeros(len(df), dtype=np.int64), np.array([""], dtype=object)
        else:
            v = df[col].astype(schema.S).fillna("").str.strip()
            dc, du = _codes(v)
            labels = np.array([f"{naam}={x if x else 'onbekend'}" for x in du], dtype=object)
        base = pd.DataFrame({"r": rc, "g": gc, "p": pc, "d": dc, "c": cc, **vals})
        parts.append(_rows_from_codes(base, ru, gu, pu, labels, sums))
    return pd.concat(parts, ignore_index=True)


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
    per = _common.periods(params.start, params.peildatum, params.per)
    if alleen_volledig:
        per = per[~per["voorlopig"]]
    idx = periode_index(toewijzingen["einddatum"], per)
    eind = toewijzingen["einddatum"]
    idx[((eind >= params.peil_ts) | (eind < params.start_ts)).fillna(False).to_numpy(dtype=bool)] = -1
    keep = idx >= 0
    t = toewijzingen.loc[keep].copy()
    t["periode"] = pd.array(per["periode"].to_numpy(dtype=object)[idx[keep]], dtype=schema.S)
    return t


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
    cols = ["toewijzing_nr", "client_id", "client_nr", "regio", "gemeentecode", "aanbieder_type", "productcode",
            "ingangsdatum", "einddatum", "einddatum_eff", "volume", "eenheid", "frequentie", "budget_cent",
            "tarief_cent"]
    inspanning = (toew["financieringsvorm"] == "inspanning").fillna(False).to_numpy(dtype=bool)
    toew = toew.loc[inspanning, [c for c in cols if c in toew.columns]]
    t = eindigend_in_periode(toew, params, alleen_volledig=True)
    if len(t) == 0:
        return _finish(pd.DataFrame())
    v = verzilvering_per_toewijzing(t, cleaned.declaraties)
    v = v.loc[(v["status"] == STATUS_OK).to_numpy(dtype=bool)]
    if len(v) == 0:
        return _finish(pd.DataFrame())
    v = v.assign(aanbieder_type=v["aanbieder_type"] if "aanbieder_type" in v.columns else "regulier",
                 productcode=v["productcode"].astype(schema.S).fillna(""))
    sums = ["geleverd_cent", "toegewezen_cent", "gedeclareerd_cent"]
    agg = _kpi_rows(v, {"": None, "type": "aanbieder_type", "productcode": "productcode"}, sums)
    agg = agg[agg["toegewezen_cent"] > 0]
    rows = [agg.assign(kpi="verzilvering", waarde=agg["geleverd_cent"] / agg["toegewezen_cent"],
                       eenheid="fractie")]
    tot = agg[agg["dimensie"] == ""]
    rows.append(tot.assign(kpi="toegewezen_bedrag", waarde=tot["toegewezen_cent"] / 100.0, eenheid="euro"))
    rows.append(tot.assign(kpi="gedeclareerd_bedrag", waarde=tot["gedeclareerd_cent"] / 100.0, eenheid="euro"))
    return _finish(pd.concat(rows, ignore_index=True))
