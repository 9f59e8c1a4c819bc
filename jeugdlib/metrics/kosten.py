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
from .volume import _plain, as_kpi, cached, complete, finish, levels_present, per_of

#: Dimensions of ``kosten`` (metrics.md section 1), besides the total.
KOSTEN_DIMENSIES = ("segment", "financieringsvorm", "productgroep", "productcode")

_KEYS = ["regio", "gemeente", "periode"]
_CAT_COLS = ("regio", "gemeentecode", "agb", "segment", "financieringsvorm", "productgroep", "productcode",
             "variant", "aanbieder_type")


class Werkset:
    """The declaration items in a compact form for fast grouping (plumbing).

    String columns become categoricals (one factorisation each), amounts int64,
    ``client_nr`` the client code from :mod:`jeugdlib.clean` (factorised here if
    absent). ``in_perioden`` adds the period and keeps only the items in the
    periods; results that several metrics share are memoised. The content is a
    pure function of the declaraties, so caching it does not change any result.
    """

    def __init__(self, declaraties: pd.DataFrame):
        d = {}
        for c in _CAT_COLS:
            if c in declaraties.columns:
                d[c] = declaraties[c].astype("category")
        d["bedrag_cent"] = declaraties["bedrag_cent"].fillna(0).to_numpy(dtype=np.int64)
        if "client_nr" in declaraties.columns:
            d["client_nr"] = declaraties["client_nr"].to_numpy(dtype=np.int64)
        else:
            d["client_nr"] = pd.factorize(declaraties["client_id"])[0].astype(np.int64)
        if "gecontracteerd" in declaraties.columns:
            d["gecontracteerd"] = declaraties["gecontracteerd"].fillna(False).to_numpy(dtype=bool)
        pb = declaraties["periode_begin"].to_numpy(dtype="datetime64[ns]")
        d["maand"] = pb.astype("datetime64[M]").astype("datetime64[ns]")
        self.d = pd.DataFrame(d)
        self._levels = None
        self._per = {}
        self.memo = {}

    def levels(self) -> pd.DataFrame:
        """Every (regio, gemeente) level present in the items."""
        if self._levels is None:
            self._levels = levels_present(self.d)
        return self._levels

    def in_perioden(self, perioden: pd.DataFrame) -> pd.DataFrame:
        """The items whose periode_begin lies in one of ``perioden`` (by their month;
        periods are whole months), with a categorical ``periode``."""
        key = tuple(perioden["periode"])
        if key not in self._per:
            begins = perioden["begin"].to_numpy(dtype="datetime64[ns]")
            ends = perioden["eind"].to_numpy(dtype="datetime64[ns]")
            m = self.d["maand"].to_numpy()
            i = np.searchsorted(begins, m, side="right") - 1
            ok = (i >= 0) & (m <= ends[np.clip(i, 0, None)]) & ~np.isnat(m)
            sub = self.d[ok].reset_index(drop=True)
            sub["periode"] = pd.Categorical.from_codes(i[ok], categories=pd.Index(list(key), dtype=object))
            self._per[key] = sub
        return self._per[key]

    def clienten_met_kosten(self, perioden: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
        """Distinct clients with a positive net amount per level x periode x ``by``
        (column ``n``); the amount is summed per client within each level."""
        k = ("per", tuple(perioden["periode"]), "cl", by)
        if k not in self.memo:
            d = self.in_perioden(perioden)
            self.memo[k] = _clienten_met_kosten(d, ["periode", *by])
        return self.memo[k]

    def totaal(self, perioden: pd.DataFrame) -> pd.DataFrame:
        """kosten (cent) per level x periode (column ``bedrag_cent``)."""
        k = ("per", tuple(perioden["periode"]), "tot")
        if k not in self.memo:
            self.memo[k] = _common.sum_levels(self.in_perioden(perioden), ["periode"], ["bedrag_cent"])
        return self.memo[k]


def werkset(declaraties: pd.DataFrame) -> Werkset:
    """The :class:`Werkset` of ``declaraties``, built once per frame (cached while
    the frame lives)."""
    if isinstance(declaraties, Werkset):
        return declaraties
    return cached(declaraties, "declaraties", Werkset)


def in_perioden(declaraties: pd.DataFrame, perioden: pd.DataFrame, cols=None) -> pd.DataFrame:
    """Declaration items with their ``periode`` (by periode_begin), only those in
    the periods of ``perioden`` (metrics.md 0.2, last line); compact columns of
    :class:`Werkset`."""
    return werkset(declaraties).in_perioden(perioden)


def dim_value(s: pd.Series, name: str) -> pd.Series:
    """``name=value`` dimension labels; empty or missing values -> ``name=onbekend``."""
    v = s.astype(schema.S).fillna("").str.strip()
    v = v.where(v != "", "onbekend")
    return (name + "=" + v).astype(schema.S)


def _euro(cent) -> pd.Series:
    return pd.Series(cent).astype("float64") / 100.0


def _clienten_met_kosten(d: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Distinct clients with a positive net declared amount per level x ``by``
    (column ``n``); the amount is summed per client within each level."""
    c = d[["regio", "gemeentecode", "client_nr", "bedrag_cent", *by]]
    s = _common.sum_levels(c, [*by, "client_nr"], ["bedrag_cent"])
    s = s[s["bedrag_cent"] > 0]
    return s.groupby(["regio", "gemeente", *by], sort=False, dropna=False, observed=True).size() \
        .rename("n").reset_index()


# --------------------------------------------------------------------------- metrics

def kosten(declaraties: pd.DataFrame, perioden: pd.DataFrame, dimensie: str | None = None) -> pd.DataFrame:
    """``kosten`` (metrics.md section 1): sum of net declared amounts (euro) of the
    items whose periode_begin lies in the period.

    ``dimensie``: None for the total, or one of ``segment``, ``financieringsvorm``,
    ``productgroep``, ``productcode`` (rows ``name=value``; missing -> ``onbekend``).
    Money totals have no client basis for suppression (``n_clienten`` empty). The
    total is completed with 0 for every level and period.
    """
    ws = werkset(declaraties)
    if not dimensie:
        s = ws.totaal(perioden).copy()
        s["waarde"] = _euro(s["bedrag_cent"])
        return finish(complete(_plain(s), ws.levels(), perioden, {"waarde": 0.0}))
    d = ws.in_perioden(perioden)
    s = _common.sum_levels(d, ["periode", dimensie], ["bedrag_cent"])
    s["waarde"] = _euro(s["bedrag_cent"])
    s["dimensie"] = dim_value(s[dimensie], dimensie).to_numpy()
    return finish(_plain(s))


# --------------------------------------------------------------------------- metrics

def kosten(declaraties: pd.DataFrame, perioden: pd.DataFrame, dimensie: str | None = None) -> pd.DataFrame:
    """``kosten`` (metrics.md section 1): sum of net declared amounts (euro) of the
    items whose periode_begin lies in the period.

    ``dimensie``: None for the total, or one of ``segment``, ``financieringsvorm``,
    ``productgroep``, ``productcode`` (rows ``name=value``; missing -> ``onbekend``).
    Money totals have no client basis for suppression (``n_clienten`` empty). The
    total is completed with 0 for every level and period.
    """
    ws = werkset(declaraties)
    if not dimensie:
        s = ws.totaal(perioden).copy()
        s["waarde"] = _euro(s["bedrag_cent"])
        return finish(complete(_plain(s), ws.levels(), perioden, {"waarde": 0.0}))
    d = ws.in_perioden(perioden)
    s = _common.sum_levels(d, ["periode", dimensie], ["bedrag_cent"])
    s["waarde"] = _euro(s["bedrag_cent"])
    s["dimensie"] = dim_value(s[dimensie], dimensie).to_numpy()
    return finish(_plain(s))


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical key columns back to strings (small aggregated frames only)."""
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).astype(schema.S)
    return out


def kosten_per_client(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``kosten_per_client`` (metrics.md section 1): ``kosten`` / distinct clients with
    a positive net declared amount in the period (per level: the client's net
    amount within that gemeente, regio or Nederland). ``n_clienten`` = that
    denominator."""
    ws = werkset(declaraties)
    m = _plain(ws.totaal(perioden)).merge(_plain(ws.clienten_met_kosten(perioden)), on=_KEYS, how="inner")
    m = m[m["n"] > 0]
    m["waarde"] = _euro(m["bedrag_cent"]) / m["n"]
    m["n_clienten"] = m["n"]
    return finish(m)


def aanbieders(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders`` (metrics.md section 1): distinct AGB codes whose net declared
    amount in the period (within the level) is positive. Not client-based."""
    ws = werkset(declaraties)
    s = agb_totalen(ws, perioden)
    s = s[s["bedrag_cent"] > 0]
    out = s.groupby(_KEYS, sort=False, observed=True).size().rename("waarde").reset_index()
    return finish(complete(_plain(out), ws.levels(), perioden, {"waarde": 0}))


def agb_totalen(ws: Werkset, perioden: pd.DataFrame) -> pd.DataFrame:
    """Net kosten (cent) per level x periode x agb (memoised in the Werkset)."""
    k = ("per", tuple(perioden["periode"]), "agb")
    if k not in ws.memo:
        ws.memo[k] = _common.sum_levels(ws.in_perioden(perioden), ["periode", "agb"], ["bedrag_cent"])
    return ws.memo[k]


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
    ws = werkset(declaraties)
    if ("maandtotaal",) not in ws.memo:
        g = ws.d.groupby(["regio", "gemeentecode", "maand"], sort=False, observed=True)["bedrag_cent"].sum()
        ws.memo[("maandtotaal",)] = g.reset_index()
    mt = ws.memo[("maandtotaal",)]
    lo = np.datetime64(pd.Timestamp(jaar, 1, 1))
    hi = np.datetime64(pd.Timestamp(jaar, 1, 1) + pd.DateOffset(months=m))
    mm = mt["maand"].to_numpy()
    d = mt[(mm >= lo) & (mm < hi)].copy()
    d["periode"] = str(jaar)
    s = _common.sum_levels(d, ["periode"], ["bedrag_cent"])
    s["waarde"] = _euro(s["bedrag_cent"])
    lv = ws.levels().copy()
    lv["periode"] = str(jaar)
    return lv.merge(_plain(s)[_KEYS + ["waarde"]], on=_KEYS, how="left").fillna({"waarde": 0.0})


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
