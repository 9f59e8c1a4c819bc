"""Volume: clients and toewijzingen per period (metrics.md section 1).

Every function takes cleaned tables (see :mod:`jeugdlib.clean`) and the periods
table of :func:`jeugdlib.metrics._common.periods`, and returns one row per
(regio, gemeente, periode[, dimensie]) for every gemeente, every regio and
``Nederland``, with columns ``regio, gemeente, periode, dimensie, waarde,
n_clienten`` (``n_clienten``: the distinct clients behind the value, for
small-number suppression, data-contract 3.1).

A toewijzing *overlaps* a period when ``ingangsdatum <= last day`` and
``einddatum_eff >= first day`` (``einddatum_eff``: the einddatum, or the day
before the peildatum when open).
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .. import schema
from ..clean import leeftijd
from . import _common

OUT_COLUMNS = ["regio", "gemeente", "periode", "dimensie", "waarde", "n_clienten"]


# --------------------------------------------------------------------------- plumbing shared by my modules

def levels_present(df: pd.DataFrame, regio_col: str = "regio", gemeente_col: str = "gemeentecode") -> pd.DataFrame:
    """The (regio, gemeente) pairs of every level present in ``df``: each gemeente,
    each regio (gemeente "") and Nederland."""
    g = df[[regio_col, gemeente_col]].drop_duplicates()
    r = g[[regio_col]].drop_duplicates()
    n = pd.DataFrame(index=[0])
    return _common._stack3(g.copy(), r.copy(), n, regio_col, gemeente_col)[["regio", "gemeente"]]


def complete(df: pd.DataFrame, levels: pd.DataFrame, perioden: pd.DataFrame, fill: dict) -> pd.DataFrame:
    """Add missing (level x periode) rows to a count, with the values in ``fill``
    (so a gemeente without clients in a period shows 0, not a gap)."""
    grid = levels.merge(perioden[["periode"]], how="cross")
    grid["periode"] = grid["periode"].astype(schema.S)
    keys = ["regio", "gemeente", "periode"]
    out = grid.merge(df, on=keys, how="left")
    return out.fillna(fill)


def finish(df: pd.DataFrame, dimensie: str | pd.Series = "") -> pd.DataFrame:
    """Shape a metric result into the standard columns (OUT_COLUMNS), sorted."""
    out = df.copy()
    if "dimensie" not in out.columns:
        out["dimensie"] = dimensie
    if "n_clienten" not in out.columns:
        out["n_clienten"] = np.nan
    out = out[OUT_COLUMNS].astype({"regio": schema.S, "gemeente": schema.S, "periode": schema.S,
                                   "dimensie": schema.S, "waarde": "float64", "n_clienten": "float64"})
    return out.sort_values(["regio", "gemeente", "periode", "dimensie"], kind="mergesort").reset_index(drop=True)


def as_kpi(df: pd.DataFrame, kpi: str, eenheid: str) -> pd.DataFrame:
    """Metric result -> KPI rows (docs/architecture.md, "KPI rows")."""
    out = df[OUT_COLUMNS].copy()
    out.insert(0, "kpi", kpi)
    out["eenheid"] = eenheid
    out["kpi"] = out["kpi"].astype(schema.S)
    out["eenheid"] = out["eenheid"].astype(schema.S)
    return out[["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", "n_clienten"]]


_CACHE: dict = _common.register_cache({})


def cached(df: pd.DataFrame, name: str, build):
    """``build(df)``, computed once per (frame, name) while the frame lives.

    For compact working copies of the cleaned tables that several metrics
    share; a pure function of the frame, so caching never changes a result.
    """
    key = (id(df), name)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is df and hit[2] == len(df):
        return hit[1]
    for k in [k for k, v in _CACHE.items() if v[0]() is None or (k[1] == name and k != key)]:
        del _CACHE[k]  # dead frames and older frames of the same kind
    value = build(df)
    _CACHE[key] = (weakref.ref(df), value, len(df))
    return value


def _werk(tw: pd.DataFrame) -> pd.DataFrame:
    """Compact toewijzingen: categorical regio/gemeentecode, int client_nr, dates."""
    out = pd.DataFrame({
        "regio": tw["regio"].astype("category"),
        "gemeentecode": tw["gemeentecode"].astype("category"),
        "client_nr": tw["client_nr"].to_numpy(dtype=np.int64) if "client_nr" in tw.columns
        else pd.factorize(tw["client_id"])[0].astype(np.int64),
        "ingangsdatum": tw["ingangsdatum"].to_numpy(dtype="datetime64[ns]"),
        "einddatum_eff": tw["einddatum_eff"].to_numpy(dtype="datetime64[ns]"),
        "geboortedatum": tw["geboortedatum"].to_numpy(dtype="datetime64[ns]"),
    })
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical key columns back to strings (small aggregated frames only)."""
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).astype(schema.S)
    return out


def _actief(tw: pd.DataFrame, perioden: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    w = cached(tw, "toewijzingen", _werk)
    cols = ["regio", "gemeentecode", "client_nr", "ingangsdatum", "einddatum_eff", *extra]
    return _common.expand_periods(w[cols], "ingangsdatum", "einddatum_eff", perioden)


def _eerste_paren(tw: pd.DataFrame) -> np.ndarray:
    """Positions of the first row of each distinct (regio, gemeentecode) pair of the
    toewijzingen, in order of appearance: the rows ``drop_duplicates`` keeps, found
    on the integer codes of :func:`_werk` (missing is a value of its own, as there)."""
    memo = _memo(tw)
    if "eerste_paren" not in memo:
        w = cached(tw, "toewijzingen", _werk)
        rc = w["regio"].cat.codes.to_numpy(dtype=np.int64) + 1
        gc = w["gemeentecode"].cat.codes.to_numpy(dtype=np.int64) + 1
        key = rc * (len(w["gemeentecode"].cat.categories) + 1) + gc
        memo["eerste_paren"] = np.sort(np.unique(key, return_index=True)[1])
    return memo["eerste_paren"]


def _levels(tw: pd.DataFrame) -> pd.DataFrame:
    """:func:`levels_present` of the toewijzingen (same rows, same order), computed
    once per frame from :func:`_eerste_paren`."""
    memo = _memo(tw)
    if "levels" not in memo:
        g = tw[["regio", "gemeentecode"]].iloc[_eerste_paren(tw)]
        r = g[["regio"]].drop_duplicates()
        memo["levels"] = _common._stack3(g.copy(), r.copy(), pd.DataFrame(index=[0]), "regio",
                                         "gemeentecode")[["regio", "gemeente"]]
    return memo["levels"]


def _memo(tw: pd.DataFrame) -> dict:
    """Results shared by the metrics of one toewijzingen frame (pure functions of it)."""
    return cached(tw, "volume_memo", lambda df: {})


def _actief_posities(tw: pd.DataFrame, perioden: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(row, period index) for every (toewijzing, period it overlaps): the rows of
    :func:`_actief` as integer positions, no frame (see ``_common.expand_periods``)."""
    from .kosten import pkey

    memo = _memo(tw)
    k = ("actief", pkey(perioden))
    if k not in memo:
        w = cached(tw, "toewijzingen", _werk)
        begins = perioden["begin"].to_numpy(dtype="datetime64[ns]")
        ends = perioden["eind"].to_numpy(dtype="datetime64[ns]")
        b = w["ingangsdatum"].to_numpy(dtype="datetime64[ns]")
        e = w["einddatum_eff"].to_numpy(dtype="datetime64[ns]")
        if len(w) == 0 or len(perioden) == 0:
            memo[k] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        else:
            first = np.searchsorted(ends, b, side="left")
            last = np.searchsorted(begins, e, side="right") - 1
            n = np.where(np.isnat(b) | np.isnat(e), 0, np.maximum(last - first + 1, 0))
            rows = np.repeat(np.arange(len(w)), n)
            offs = np.arange(len(rows)) - np.repeat(np.cumsum(n) - n, n)
            memo[k] = (rows, np.repeat(first, n) + offs)
    return memo[k]


def _tel(tw: pd.DataFrame, perioden: pd.DataFrame, rows: np.ndarray, pidx: np.ndarray) -> pd.DataFrame:
    """Per level and period: ``aantal`` (rows) and ``clienten`` (distinct client_nr;
    like ``nunique_levels`` a client_nr of -1 counts as one client), on integer codes
    (:class:`_common.LevelGroups`). Columns regio, gemeente, periode, aantal, clienten."""
    w = cached(tw, "toewijzingen", _werk)
    rc = w["regio"].cat.codes.to_numpy(dtype=np.int64)
    gc = w["gemeentecode"].cat.codes.to_numpy(dtype=np.int64)
    ru = np.asarray(w["regio"].cat.categories.astype(object), dtype=object)
    gu = np.asarray(w["gemeentecode"].cat.categories.astype(object), dtype=object)
    lg = _common.LevelGroups(rc[rows], ru, gc[rows], gu, pidx, len(perioden))
    cl = w["client_nr"].to_numpy(dtype=np.int64)[rows]
    cl = np.where(cl < 0, int(cl.max()) + 1 if len(cl) else 0, cl)
    f = lg.frame(aantal=lg.sum(), clienten=lg.nunique(cl))
    out = pd.DataFrame({"regio": f["regio"].astype(schema.S), "gemeente": f["gemeente"].astype(schema.S),
                        "periode": pd.array(perioden["periode"].to_numpy(dtype=object)[f["_key"].to_numpy()],
                                            dtype=schema.S),
                        "aantal": f["aantal"].to_numpy(), "clienten": f["clienten"].to_numpy()})
    return out


def _tel_actief(tw: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """:func:`_tel` of the (toewijzing, period) overlaps, once per periods table."""
    from .kosten import pkey

    memo = _memo(tw)
    k = ("tel_actief", pkey(perioden))
    if k not in memo:
        memo[k] = _tel(tw, perioden, *_actief_posities(tw, perioden))
    return memo[k]


def _gestart(tw: pd.DataFrame, perioden: pd.DataFrame, per: str) -> pd.DataFrame:
    w = cached(tw, "toewijzingen", _werk)
    i, ok = _gestart_index(w, perioden)
    t = w.loc[ok, ["regio", "gemeentecode", "client_nr"]].reset_index(drop=True)
    t["periode"] = perioden["periode"].to_numpy(dtype=object)[i[ok]]
    return t


def _gestart_index(w: pd.DataFrame, perioden: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ing = w["ingangsdatum"].to_numpy()
    begins = perioden["begin"].to_numpy(dtype="datetime64[ns]")
    ends = perioden["eind"].to_numpy(dtype="datetime64[ns]")
    i = np.searchsorted(begins, ing, side="right") - 1
    ok = (i >= 0) & (ing <= ends[np.clip(i, 0, None)]) & ~np.isnat(ing)
    return i, ok


def per_of(perioden: pd.DataFrame) -> str:
    """'jaar', 'kwartaal' or 'maand' from a periods table's labels."""
    lab = str(perioden["periode"].iloc[0]) if len(perioden) else "2000"
    return "kwartaal" if "-Q" in lab else ("maand" if "-" in lab else "jaar")


# --------------------------------------------------------------------------- metrics

def clienten(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``clienten`` (metrics.md section 1): distinct clients with at least one
    toewijzing overlapping the period. ``n_clienten`` = the value itself."""
    from .kosten import pkey

    memo = _memo(toewijzingen)
    k = ("clienten", pkey(perioden))
    if k not in memo:
        t = _tel_actief(toewijzingen, perioden)
        n = t[["regio", "gemeente", "periode"]].assign(waarde=t["clienten"].to_numpy())
        out = complete(n, _levels(toewijzingen), perioden, {"waarde": 0})
        out["n_clienten"] = out["waarde"]
        memo[k] = finish(out)
    return memo[k].copy()


def toewijzingen(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``toewijzingen`` (metrics.md section 1): number of toewijzingen overlapping the
    period. ``n_clienten`` = distinct clients behind them (a count of client
    records is suppressed like a client count)."""
    from .kosten import pkey

    memo = _memo(toewijzingen)
    k = ("toewijzingen", pkey(perioden))
    if k not in memo:
        t = _tel_actief(toewijzingen, perioden)
        out = t[["regio", "gemeente", "periode"]].assign(waarde=t["aantal"].to_numpy(),
                                                         n_clienten=t["clienten"].to_numpy())
        out = complete(out, _levels(toewijzingen), perioden, {"waarde": 0, "n_clienten": 0})
        memo[k] = finish(out)
    return memo[k].copy()


def toewijzingen_gestart(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``toewijzingen_gestart`` (metrics.md section 1): toewijzingen whose
    ingangsdatum lies in the period. ``n_clienten`` = distinct clients among them."""
    i, ok = _gestart_index(cached(toewijzingen, "toewijzingen", _werk), perioden)
    t = _tel(toewijzingen, perioden, np.flatnonzero(ok), i[ok])
    out = t[["regio", "gemeente", "periode"]].assign(waarde=t["aantal"].to_numpy(), n_clienten=t["clienten"].to_numpy())
    out = complete(out, _levels(toewijzingen), perioden, {"waarde": 0, "n_clienten": 0})
    return finish(out)


def toewijzingen_per_client(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``toewijzingen_per_client`` (metrics.md section 1): ``toewijzingen`` /
    ``clienten`` in the period (empty when there are no clients). ``n_clienten``
    = ``clienten``."""
    t = toewijzingen_fn(toewijzingen, perioden)
    c = clienten(toewijzingen, perioden)
    m = t.merge(c[["regio", "gemeente", "periode", "waarde"]], on=["regio", "gemeente", "periode"],
                suffixes=("", "_c"))
    m = m[m["waarde_c"] > 0]
    m["waarde"] = m["waarde"] / m["waarde_c"]
    m["n_clienten"] = m["waarde_c"]
    return finish(m)


toewijzingen_fn = toewijzingen  # the count, under a name that does not clash with arguments


def jeugdigen_met_jeugdhulp(toewijzingen: pd.DataFrame, bevolking: pd.DataFrame,
                            perioden: pd.DataFrame) -> pd.DataFrame:
    """``jeugdigen_met_jeugdhulp`` (metrics.md section 1): clients aged 0-17 on the
    period's last day with a toewijzing overlapping the period / ``jeugdigen``
    (bevolking.csv) of the period's year.

    Only where bevolking is given: a regio or Nederland figure covers the
    gemeenten that have a bevolking figure for that year (numerator and
    denominator alike). Clients without a birth date are not counted.
    ``n_clienten`` = the numerator.
    """
    if len(bevolking) == 0 or len(toewijzingen) == 0:
        return finish(pd.DataFrame(columns=["regio", "gemeente", "periode", "waarde"]))
    bev = bevolking[["gemeentecode", "jaar", "jeugdigen"]].dropna().copy()
    bev["jaar"] = bev["jaar"].astype("int64")
    bev["jeugdigen"] = bev["jeugdigen"].astype("int64")
    bev = bev.groupby(["gemeentecode", "jaar"], as_index=False)["jeugdigen"].sum()
    num = _jeugdigen_teller(toewijzingen, perioden, bev)
    # denominator: bevolking per period (its year), for the gemeenten of the data
    gem = toewijzingen[["regio", "gemeentecode"]].iloc[_eerste_paren(toewijzingen)]
    p = perioden[["periode", "eind"]].copy()
    p["jaar"] = p["eind"].dt.year.astype("int64")
    d = gem.merge(bev, on="gemeentecode").merge(p[["periode", "jaar"]], on="jaar")
    den = _common.sum_levels(d, ["periode"], ["jeugdigen"])
    out = den.merge(num, on=["regio", "gemeente", "periode"], how="left").fillna({"teller": 0})
    out = out[out["jeugdigen"] > 0]
    out["waarde"] = out["teller"] / out["jeugdigen"]
    out["n_clienten"] = out["teller"]
    return finish(out)


def _jeugdigen_teller(tw: pd.DataFrame, perioden: pd.DataFrame, bev: pd.DataFrame) -> pd.DataFrame:
    """Numerator of :func:`jeugdigen_met_jeugdhulp`: per level and period the distinct
    clients aged 0-17 on the period's last day with a toewijzing overlapping the
    period, in a gemeente with a bevolking figure (``bev``: gemeentecode, jaar) for
    the period's year. Columns regio, gemeente, periode, teller.

    On integer codes (:func:`_actief_posities`, :class:`_common.LevelGroups`); when a
    regio or gemeentecode is missing, the frame-based computation (whose groups
    keep missing keys) instead.
    """
    w = cached(tw, "toewijzingen", _werk)
    rc_all = w["regio"].cat.codes.to_numpy(dtype=np.int64)
    gc_all = w["gemeentecode"].cat.codes.to_numpy(dtype=np.int64)
    if (rc_all < 0).any() or (gc_all < 0).any():
        return _jeugdigen_teller_frames(tw, perioden, bev)
    rows, pidx = _actief_posities(tw, perioden)
    eind = perioden["eind"].to_numpy(dtype="datetime64[ns]")
    age = leeftijd(w["geboortedatum"].to_numpy(dtype="datetime64[ns]")[rows], eind[pidx]).to_numpy()
    # has[gemeente code, period]: a bevolking figure for the gemeente in the period's year
    gu = np.asarray(w["gemeentecode"].cat.categories.astype(object), dtype=object)
    pj = perioden["eind"].dt.year.to_numpy(dtype=np.int64)
    known = set(zip(bev["gemeentecode"].astype(object), bev["jaar"].astype("int64")))
    has = np.array([[(g, int(j)) in known for j in pj] for g in gu], dtype=bool).reshape(len(gu), len(pj))
    rc, gc = rc_all[rows], gc_all[rows]
    sel = (age >= 0) & (age <= 17) & has[gc, pidx]
    ru = np.asarray(w["regio"].cat.categories.astype(object), dtype=object)
    lg = _common.LevelGroups(rc, ru, gc, gu, pidx, len(perioden), mask=sel)
    cl = lg.take(w["client_nr"].to_numpy(dtype=np.int64)[rows])
    cl = np.where(cl < 0, int(cl.max()) + 1 if len(cl) else 0, cl)  # -1 is one client, as in nunique_levels
    f = lg.frame(teller=lg.nunique(cl))
    return pd.DataFrame({"regio": f["regio"].astype(schema.S), "gemeente": f["gemeente"].astype(schema.S),
                         "periode": pd.array(perioden["periode"].to_numpy(dtype=object)[f["_key"].to_numpy()],
                                             dtype=schema.S),
                         "teller": f["teller"].to_numpy()})


def _jeugdigen_teller_frames(tw: pd.DataFrame, perioden: pd.DataFrame, bev: pd.DataFrame) -> pd.DataFrame:
    """:func:`_jeugdigen_teller` on frames (stack of active rows, merges, nunique_levels)."""
    a = _actief(tw, perioden, ("geboortedatum",))
    a = a.merge(perioden[["periode", "eind"]], on="periode", how="left")
    age = leeftijd(a["geboortedatum"], a["eind"]).to_numpy()
    a = a[(age >= 0) & (age <= 17)].copy()
    a["jaar"] = a["eind"].dt.year.astype("int64")
    a["gemeentecode"] = a["gemeentecode"].astype(object).astype(schema.S)
    a["regio"] = a["regio"].astype(object).astype(schema.S)
    a = a.merge(bev[["gemeentecode", "jaar"]], on=["gemeentecode", "jaar"], how="inner")
    return _common.nunique_levels(a, ["periode"], "client_nr", "teller")


# --------------------------------------------------------------------------- KPI rows

def kpis(cleaned, params) -> pd.DataFrame:
    """KPI rows of metrics.md section 1 (volume): clienten, toewijzingen,
    toewijzingen_gestart, toewijzingen_per_client, jeugdigen_met_jeugdhulp."""
    tw = cleaned.toewijzingen
    per = _common.periods(params.start, params.peildatum, params.per)
    parts = [
        as_kpi(clienten(tw, per), "clienten", "aantal"),
        as_kpi(toewijzingen_fn(tw, per), "toewijzingen", "aantal"),
        as_kpi(toewijzingen_gestart(tw, per), "toewijzingen_gestart", "aantal"),
        as_kpi(toewijzingen_per_client(tw, per), "toewijzingen_per_client", "aantal"),
        as_kpi(jeugdigen_met_jeugdhulp(tw, cleaned.bevolking, per), "jeugdigen_met_jeugdhulp", "fractie"),
    ]
    return pd.concat(parts, ignore_index=True)
