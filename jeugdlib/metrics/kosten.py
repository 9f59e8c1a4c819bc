"""Cost: declared amounts per period (metrics.md section 1).

Input is ``Cleaned.declaraties``: netted items (metrics.md 0.2), each belonging
to the period of its ``periode_begin``. Items without a known toewijzing count
here (the money was declared). Amounts are summed in integer eurocent and
returned in euro. Output columns as in :mod:`jeugdlib.metrics.volume`:
``regio, gemeente, periode, dimensie, waarde, n_clienten``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema
from . import _common
from .volume import as_kpi, complete, finish, levels_present, per_of

#: Dimensions of ``kosten`` (metrics.md section 1), besides the total.
KOSTEN_DIMENSIES = ("segment", "financieringsvorm", "productgroep", "productcode")

_KEYS = ["regio", "gemeente", "periode"]


def in_perioden(declaraties: pd.DataFrame, perioden: pd.DataFrame, cols: list[str] | None = None) -> pd.DataFrame:
    """Declaration items with their ``periode`` (by periode_begin), only those in
    the periods of ``perioden`` (metrics.md 0.2, last line)."""
    cols = cols or ["regio", "gemeentecode", "client_id", "agb", "bedrag_cent"]
    d = declaraties[cols].copy()
    lab = _common.period_label(declaraties["periode_begin"], per_of(perioden))
    d["periode"] = lab.to_numpy()
    return d[lab.isin(perioden["periode"]).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def dim_value(s: pd.Series, name: str) -> pd.Series:
    """``name=value`` dimension labels; empty or missing values -> ``name=onbekend``."""
    v = s.astype(schema.S).fillna("").str.strip()
    v = v.where(v != "", "onbekend")
    return (name + "=" + v).astype(schema.S)


def _euro(cent) -> pd.Series:
    return pd.Series(cent).astype("float64") / 100.0


# --------------------------------------------------------------------------- metrics

def kosten(declaraties: pd.DataFrame, perioden: pd.DataFrame, dimensie: str | None = None) -> pd.DataFrame:
    """``kosten`` (metrics.md section 1): sum of net declared amounts (euro) of the
    items whose periode_begin lies in the period.

    ``dimensie``: None for the total, or one of ``segment``, ``financieringsvorm``,
    ``productgroep``, ``productcode`` (rows ``name=value``; missing -> ``onbekend``).
    Money totals have no client basis for suppression (``n_clienten`` empty). The
    total is completed with 0 for every level and period.
    """
    cols = ["regio", "gemeentecode", "bedrag_cent"] + ([dimensie] if dimensie else [])
    d = in_perioden(declaraties, perioden, cols)
    by = ["periode"]
    if dimensie:
        d["dimensie"] = dim_value(d[dimensie], dimensie)
        by.append("dimensie")
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    s = _common.sum_levels(d, by, ["bedrag_cent"])
    s["waarde"] = _euro(s["bedrag_cent"])
    if not dimensie:
        s = complete(s, levels_present(declaraties), perioden, {"waarde": 0.0})
    return finish(s)


def _clienten_met_kosten(d: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Distinct clients with a positive net declared amount per level x ``by``
    (column ``n``); the amount is summed per client within the gemeente."""
    c = d[["regio", "gemeentecode", "client_id", "bedrag_cent", *by]].copy()
    c["client_id"] = pd.factorize(c["client_id"])[0]
    # positive per client at each level: sum per (level, by, client) first
    s = _common.sum_levels(c, [*by, "client_id"], ["bedrag_cent"])
    s = s[s["bedrag_cent"] > 0]
    return s.groupby(["regio", "gemeente", *by], sort=False, dropna=False).size().rename("n").reset_index()


def kosten_per_client(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``kosten_per_client`` (metrics.md section 1): ``kosten`` / distinct clients with
    a positive net declared amount in the period (per level: the client's net
    amount within that gemeente, regio or Nederland). ``n_clienten`` = that
    denominator."""
    d = in_perioden(declaraties, perioden)
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    tot = _common.sum_levels(d, ["periode"], ["bedrag_cent"])
    n = _clienten_met_kosten(d, ["periode"])
    m = tot.merge(n, on=_KEYS, how="inner")
    m = m[m["n"] > 0]
    m["waarde"] = _euro(m["bedrag_cent"]) / m["n"]
    m["n_clienten"] = m["n"]
    return finish(m)


def aanbieders(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders`` (metrics.md section 1): distinct AGB codes whose net declared
    amount in the period (within the level) is positive. Not client-based."""
    d = in_perioden(declaraties, perioden)
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    s = _common.sum_levels(d, ["periode", "agb"], ["bedrag_cent"])
    s = s[s["bedrag_cent"] > 0]
    out = s.groupby(_KEYS, sort=False).size().rename("waarde").reset_index()
    out = complete(out, levels_present(declaraties), perioden, {"waarde": 0})
    return finish(out)


def kosten_groei(declaraties: pd.DataFrame, jaren: pd.DataFrame) -> pd.DataFrame:
    """``kosten_groei`` (metrics.md section 1): kosten(year) / kosten(year - 1) - 1,
    only when both years are complete (not voorlopig) and in ``jaren`` (a yearly
    periods table). Empty when kosten(year - 1) is not positive."""
    k = kosten(declaraties, jaren)
    compleet = set(jaren.loc[~jaren["voorlopig"], "periode"])
    k = k[k["periode"].isin(compleet)].copy()
    k["jaar"] = k["periode"].astype("int64")
    prev = k[["regio", "gemeente", "jaar", "waarde"]].copy()
    prev["jaar"] += 1
    m = k.merge(prev, on=["regio", "gemeente", "jaar"], suffixes=("", "_vorig"))
    m = m[m["waarde_vorig"] > 0]
    m["waarde"] = m["waarde"] / m["waarde_vorig"] - 1
    return finish(m.drop(columns=["n_clienten", "dimensie"]))


def _ytd(declaraties: pd.DataFrame, jaar: int, m: int) -> pd.DataFrame:
    """Kosten (euro) of the first ``m`` months of ``jaar`` per level (column ``waarde``)."""
    d = declaraties[["regio", "gemeentecode", "bedrag_cent", "periode_begin"]]
    lo = pd.Timestamp(jaar, 1, 1)
    hi = lo + pd.DateOffset(months=m)
    d = d[((d["periode_begin"] >= lo) & (d["periode_begin"] < hi)).to_numpy(dtype=bool)].copy()
    d["periode"] = str(jaar)
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    s = _common.sum_levels(d, ["periode"], ["bedrag_cent"])
    s["waarde"] = _euro(s["bedrag_cent"])
    lv = levels_present(declaraties)
    lv["periode"] = str(jaar)
    return lv.merge(s[_KEYS + ["waarde"]], on=_KEYS, how="left").fillna({"waarde": 0.0})


def hele_maanden(peildatum) -> int:
    """Whole months from 1 January of the peildatum's year to the peildatum
    (exclusive): 2024-08-01 -> 7, 2024-08-15 -> 7, 2024-01-01 -> 0."""
    return pd.Timestamp(peildatum).month - 1


def kosten_prognose_lineair(declaraties: pd.DataFrame, peildatum) -> pd.DataFrame:
    """``kosten_prognose_lineair`` (metrics.md section 1): for the year holding the
    peildatum, kosten year-to-date x 12 / m, with m the whole months from 1 January
    to the peildatum. Year-to-date = the items with periode_begin in those m
    months (so a peildatum in mid-month does not add a part month to m whole
    months). Empty when m = 0 (peildatum in January)."""
    peil = pd.Timestamp(peildatum)
    m = hele_maanden(peil)
    if m == 0:
        return finish(pd.DataFrame(columns=_KEYS + ["waarde"]))
    y = _ytd(declaraties, peil.year, m)
    y["waarde"] = y["waarde"] * 12 / m
    return finish(y)


def kosten_prognose_seizoen(declaraties: pd.DataFrame, peildatum) -> pd.DataFrame:
    """``kosten_prognose_seizoen`` (metrics.md section 1): kosten year-to-date /
    (share of the previous year's kosten that fell in its first m months), m as
    in :func:`kosten_prognose_lineair`. Empty where the previous year has no
    positive kosten in its first m months or in total."""
    peil = pd.Timestamp(peildatum)
    m = hele_maanden(peil)
    if m == 0:
        return finish(pd.DataFrame(columns=_KEYS + ["waarde"]))
    y = _ytd(declaraties, peil.year, m)
    p_m = _ytd(declaraties, peil.year - 1, m)
    p_all = _ytd(declaraties, peil.year - 1, 12)
    prev = p_m.merge(p_all, on=["regio", "gemeente"], suffixes=("_m", "_jaar"))
    prev = prev[(prev["waarde_m"] > 0) & (prev["waarde_jaar"] > 0)]
    prev["aandeel"] = prev["waarde_m"] / prev["waarde_jaar"]
    out = y.merge(prev[["regio", "gemeente", "aandeel"]], on=["regio", "gemeente"])
    out["waarde"] = out["waarde"] / out["aandeel"]
    return finish(out)


# --------------------------------------------------------------------------- KPI rows

def kpis(cleaned, params) -> pd.DataFrame:
    """KPI rows of metrics.md section 1 (cost): aanbieders, kosten (total and per
    segment, financieringsvorm, productgroep, productcode), kosten_per_client,
    kosten_groei, kosten_prognose_lineair, kosten_prognose_seizoen (euro)."""
    dec = cleaned.declaraties
    per = _common.periods(params.start, params.peildatum, params.per)
    jaren = _common.periods(params.start, params.peildatum, "jaar")
    parts = [as_kpi(aanbieders(dec, per), "aanbieders", "aantal"),
             as_kpi(kosten(dec, per), "kosten", "euro")]
    parts += [as_kpi(kosten(dec, per, dim), "kosten", "euro") for dim in KOSTEN_DIMENSIES]
    parts += [
        as_kpi(kosten_per_client(dec, per), "kosten_per_client", "euro"),
        as_kpi(kosten_groei(dec, jaren), "kosten_groei", "fractie"),
        as_kpi(kosten_prognose_lineair(dec, params.peildatum), "kosten_prognose_lineair", "euro"),
        as_kpi(kosten_prognose_seizoen(dec, params.peildatum), "kosten_prognose_seizoen", "euro"),
    ]
    return pd.concat(parts, ignore_index=True)
