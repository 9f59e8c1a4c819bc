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


def _actief(tw: pd.DataFrame, perioden: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    w = cached(tw, "toewijzingen", _werk)
    cols = ["regio", "gemeentecode", "client_nr", "ingangsdatum", "einddatum_eff", *extra]
    return _common.expand_periods(w[cols], "ingangsdatum", "einddatum_eff", perioden)


def _eerste_paren(tw: pd.DataFrame) -> np.ndarray:
    """Positions of the first row of each distinct (regio, gemeentecode) pair of the
    toewijzingen, in order of appearance: the rows ``drop_duplicates`` keeps, found
    on the shared column codes (missing is a value of its own, as there)."""
    return _eenheden(tw)["eerste"]


def _levels(tw: pd.DataFrame) -> pd.DataFrame:
    """The (regio, gemeente) pairs of every level present in the toewijzingen: each
    gemeente (in order of appearance), each regio (gemeente "") and Nederland;
    computed once per frame from :func:`_eerste_paren`."""
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
        begins = perioden["begin"].to_numpy(dtype="datetime64[ns]")
        ends = perioden["eind"].to_numpy(dtype="datetime64[ns]")
        b = tw["ingangsdatum"].to_numpy(dtype="datetime64[ns]")
        e = tw["einddatum_eff"].to_numpy(dtype="datetime64[ns]")
        if len(tw) == 0 or len(perioden) == 0:
            memo[k] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        else:
            first = np.searchsorted(ends, b, side="left")
            last = np.searchsorted(begins, e, side="right") - 1
            n = np.where(np.isnat(b) | np.isnat(e), 0, np.maximum(last - first + 1, 0))
            rows = np.repeat(np.arange(len(tw)), n)
            # period index: first + the position within the row's run (one repeat)
            memo[k] = (rows, np.arange(len(rows)) - np.repeat(np.cumsum(n) - n - first, n))
    return memo[k]


def _eenheden(tw: pd.DataFrame) -> dict:
    """The level units of the toewijzingen, memoised: ``unit`` per row, its (regio,
    gemeentecode) pair numbered in order of first appearance (the gemeente rows of
    :func:`_levels`); per unit ``ri``, the index of its regio among the regio rows of
    :func:`_levels`; ``ok_u`` (regio and gemeente known: a gemeente group) per unit and
    ``ok_r`` (regio known) per regio row; ``client`` per row (``client_nr``, -1 as one
    client of its own, as in ``nunique_levels``); ``eerste``: :func:`_eerste_paren`."""
    memo = _memo(tw)
    if "eenheden" not in memo:
        rc, ru_all = _common.column_codes(tw, "regio")
        gc, gu = _common.column_codes(tw, "gemeentecode")
        # the pair of each row packed into one integer (missing is a value of its own)
        key = (rc + 1) * (len(gu) + 1) + (gc + 1)
        eerste = np.sort(np.unique(key, return_index=True)[1])
        lut = np.full((len(ru_all) + 1) * (len(gu) + 1), -1, dtype=np.int64)
        lut[key[eerste]] = np.arange(len(eerste))
        rc, gc = rc[eerste], gc[eerste]
        ri, ru = pd.factorize(rc)  # regio rows in order of first appearance (missing: -1, its own row)
        cl = tw["client_nr"].to_numpy(dtype=np.int64) if "client_nr" in tw.columns \
            else pd.factorize(tw["client_id"])[0].astype(np.int64)
        cl = np.where(cl < 0, int(cl.max()) + 1 if len(cl) else 0, cl)
        memo["eenheden"] = {"unit": lut[key], "U": len(eerste), "eerste": eerste, "ri": np.asarray(ri, dtype=np.int64),
                            "R": len(ru), "ok_u": (rc >= 0) & (gc >= 0), "ok_r": np.asarray(ru) >= 0,
                            "client": cl, "n_client": int(cl.max()) + 1 if len(cl) else 1}
    return memo["eenheden"]


def in_meer_eenheden(client: np.ndarray, unit: np.ndarray, n_client: int) -> np.ndarray:
    """Per client code (0..``n_client``-1): whether its rows (``client``, ``unit`` per
    row) lie in more than one unit."""
    een = np.zeros(n_client, dtype=np.int64)
    een[client] = unit  # one of the client's units
    veel = np.zeros(n_client, dtype=bool)
    veel[client[unit != een[client]]] = True
    return veel


def _tellingen(tw: pd.DataFrame, P: int, rows: np.ndarray, pidx: np.ndarray) -> dict:
    """Per level (gemeente unit, regio row, Nederland; see :func:`_eenheden`) x period:
    ``aantal`` (rows) and ``clienten`` (distinct clients) of the (row, period index)
    pairs ``rows``, ``pidx``: arrays (U, P), (R, P), (P,), float64.

    Distinct clients from the distinct (client, period, unit) triples (one hash pass);
    a client whose triples all lie in one unit counts the same in its regio and in
    Nederland, so only the other clients are deduplicated again per level."""
    e = _eenheden(tw)
    U, R, ri = e["U"], e["R"], e["ri"]
    u = e["unit"][rows]
    cel = u * P + pidx
    a_g = np.bincount(cel, minlength=U * P).astype(np.float64)
    a_r = np.bincount(np.repeat(ri * P, P) + np.tile(np.arange(P), U), weights=a_g, minlength=R * P)
    aantal = (a_g.reshape(U, P), a_r.reshape(R, P), a_g.reshape(U, P).sum(axis=0))
    trip = pd.unique((e["client"][rows] * P + pidx) * max(U, 1) + u)
    cp, u = np.divmod(trip, max(U, 1))
    p = cp % P
    c_g = np.bincount(u * P + p, minlength=U * P)
    cl = cp // P
    veel = in_meer_eenheden(cl, u, e["n_client"])[cl]
    c_r = np.bincount(ri[u[~veel]] * P + p[~veel], minlength=R * P)
    c_n = np.bincount(p[~veel], minlength=P)
    if veel.any():
        cpr = pd.unique(cp[veel] * R + ri[u[veel]])
        c_r = c_r + np.bincount((cpr % R) * P + (cpr // R) % P, minlength=R * P)
        c_n = c_n + np.bincount(pd.unique(cp[veel]) % P, minlength=P)
    f = np.float64
    clienten = (c_g.astype(f).reshape(U, P), c_r.astype(f).reshape(R, P), c_n.astype(f))
    return {"aantal": aantal, "clienten": clienten}


def _rooster(tw: pd.DataFrame, perioden: pd.DataFrame, **values) -> pd.DataFrame:
    """Every level of :func:`_levels` x period with one column per ``values[name]``
    (level arrays of :func:`_tellingen`); groups without a known regio or gemeente
    get 0 (a level without clients in a period shows 0, not a gap)."""
    e = _eenheden(tw)
    lv = _levels(tw)
    P = len(perioden)
    idx = np.repeat(np.arange(len(lv)), P)
    out = pd.DataFrame({"regio": lv["regio"].array.take(idx), "gemeente": lv["gemeente"].array.take(idx),
                        "periode": pd.array(np.tile(perioden["periode"].to_numpy(dtype=object), len(lv)),
                                            dtype=schema.S)})
    for name, (g, r, n) in values.items():
        out[name] = np.concatenate([np.where(e["ok_u"][:, None], g, 0).ravel(),
                                    np.where(e["ok_r"][:, None], r, 0).ravel(), n])
    return out


def _tel_actief(tw: pd.DataFrame, perioden: pd.DataFrame) -> dict:
    """:func:`_tellingen` of the (toewijzing, period) overlaps, once per periods table."""
    from .kosten import pkey

    memo = _memo(tw)
    k = ("tel_actief", pkey(perioden))
    if k not in memo:
        memo[k] = _tellingen(tw, len(perioden), *_actief_posities(tw, perioden))
    return memo[k]


def _gestart_index(w: pd.DataFrame, perioden: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ing = w["ingangsdatum"].to_numpy(dtype="datetime64[ns]")
    begins = perioden["begin"].to_numpy(dtype="datetime64[ns]")
    ends = perioden["eind"].to_numpy(dtype="datetime64[ns]")
    i = np.searchsorted(begins, ing, side="right") - 1
    ok = (i >= 0) & (ing <= ends[np.clip(i, 0, None)]) & ~np.isnat(ing)
    return i, ok


# --------------------------------------------------------------------------- metrics


def clienten(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``clienten`` (metrics.md section 1): distinct clients with at least one
    toewijzing overlapping the period. ``n_clienten`` = the value itself."""
    from .kosten import pkey

    memo = _memo(toewijzingen)
    k = ("clienten", pkey(perioden))
    if k not in memo:
        t = _tel_actief(toewijzingen, perioden)
        out = _rooster(toewijzingen, perioden, waarde=t["clienten"])
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
        memo[k] = finish(_rooster(toewijzingen, perioden, waarde=t["aantal"], n_clienten=t["clienten"]))
    return memo[k].copy()


def toewijzingen_gestart(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``toewijzingen_gestart`` (metrics.md section 1): toewijzingen whose
    ingangsdatum lies in the period. ``n_clienten`` = distinct clients among them."""
    i, ok = _gestart_index(toewijzingen, perioden)
    t = _tellingen(toewijzingen, len(perioden), np.flatnonzero(ok), i[ok])
    return finish(_rooster(toewijzingen, perioden, waarde=t["aantal"], n_clienten=t["clienten"]))


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

    On integer codes (:func:`_actief_posities`, :func:`_tellingen`); when a regio or
    gemeentecode is missing, the frame-based computation (whose groups keep missing
    keys) instead.
    """
    rc_all, _ = _common.column_codes(tw, "regio")
    gc_all, gu = _common.column_codes(tw, "gemeentecode")
    if (rc_all < 0).any() or (gc_all < 0).any():
        return _jeugdigen_teller_frames(tw, perioden, bev)
    rows, pidx = _actief_posities(tw, perioden)
    eind = perioden["eind"].to_numpy(dtype="datetime64[ns]")
    age = leeftijd(tw["geboortedatum"].to_numpy(dtype="datetime64[ns]")[rows], eind[pidx]).to_numpy()
    # has[unit, period]: a bevolking figure for the unit's gemeente in the period's year
    e = _eenheden(tw)
    gem = np.asarray(gu, dtype=object)[gc_all[_eerste_paren(tw)]]
    pj = perioden["eind"].dt.year.to_numpy(dtype=np.int64)
    known = set(zip(bev["gemeentecode"].astype(object), bev["jaar"].astype("int64")))
    has = np.array([[(g, int(j)) in known for j in pj] for g in gem], dtype=bool).reshape(len(gem), len(pj))
    sel = np.flatnonzero((age >= 0) & (age <= 17) & has[e["unit"][rows], pidx])
    f = _rooster(tw, perioden, teller=_tellingen(tw, len(perioden), rows[sel], pidx[sel])["clienten"])
    return f[f["teller"] > 0].reset_index(drop=True)


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
