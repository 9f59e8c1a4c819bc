"""Budget ceilings: uitnutting and year-end prognose per aanbieder (metrics.md section 8).

``budgetplafonds.csv`` gives a ceiling per aanbieder and year, optionally narrowed
to one productcode and/or one gemeentecode (empty = all). For each ceiling:

* ``budget_uitnutting`` = net declared amount in that year (declaration lines by
  ``periode_begin``, within the ceiling's productcode/gemeentecode) / plafond;
* ``budget_prognose`` = the same with the linear year-end projection of section 1
  (``kosten_prognose_lineair``): year-to-date x 12 / m, m = whole months from
  1 January to the peildatum; only for the year holding the peildatum, and only
  when m >= 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config, schema
from . import _common
from .kosten import _groepeer, werkset
from .verzilvering import _codes, _finish


def hele_maanden(peildatum) -> int:
    """Whole months from 1 January of the peildatum's year to the peildatum (metrics.md section 1).

    2024-08-01 -> 7 (January..July); 2024-08-15 -> 7 (August is not complete).
    """
    return pd.Timestamp(peildatum).month - 1


def budget_uitnutting(declaraties: pd.DataFrame, budgetplafonds: pd.DataFrame, peildatum,
                      gemeenten: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per ceiling (row of ``budgetplafonds``): declared amount, uitnutting and prognose.

    ``declaraties``: ``Cleaned.declaraties`` (netted items, ``periode_begin`` before
    the peildatum). Ceilings for years after the peildatum's year are left out.
    Returns the ceiling's columns plus ``gedeclareerd_cent``, ``n_clienten``
    (distinct clients in those amounts), ``uitnutting``, ``prognose_cent`` and
    ``prognose`` (NaN except for the peildatum's year with m >= 1), ``boven_plafond``
    (uitnutting or prognose above 1: the report flags it), and ``regio``/
    ``gemeente`` where the row is reported: a ceiling for one gemeente under that
    gemeente's regio; a ceiling without gemeente under the single regio its
    declarations come from, or ``Nederland`` when they span several regions (or none).
    """
    peil = pd.Timestamp(peildatum)
    p = budgetplafonds.reset_index(drop=True).copy()
    p["_pid"] = np.arange(len(p))
    p["jaar"] = pd.to_numeric(p["jaar"]).astype("int64")
    p = p[p["jaar"] <= peil.year]
    for c in ("productcode", "gemeentecode"):
        if c not in p.columns:
            p[c] = pd.Series(pd.NA, index=p.index, dtype=schema.S)
        p[c] = p[c].astype(schema.S).str.strip().replace("", pd.NA)

    d = declaraties
    # Work on the integer codes of the kosten Werkset (shared with kosten and aandelen:
    # gemeente, month, client, net cent) and the cached column codes.
    ws = werkset(d)
    a_c, a_u = ws.codes("agb")  # missing: the last code (label None, never a ceiling's agb)
    keep_agb = pd.Index(a_u).isin(p["agb"].dropna().astype(object).unique())
    # year of each gemeente x month cell (ws.gm), as g * Y + year index; -1: no ceiling year
    jaren = np.sort(p["jaar"].unique())
    Y = max(len(jaren), 1)
    jaar_van_maand = np.full(ws.nm, -1, dtype=np.int64)
    if ws.m_lo is not None:
        jr = np.arange(ws.m_lo, ws.m_hi + 1) // 12 + 1970
        jaar_van_maand[:-1] = np.where(np.isin(jr, jaren), np.searchsorted(jaren, jr), -1)
    gj_cel = np.where(jaar_van_maand[None, :] >= 0,
                      np.arange(ws.G, dtype=np.int64)[:, None] * Y + jaar_van_maand[None, :], -1).ravel()
    gj = gj_cel[ws.gm]
    sel = np.flatnonzero(keep_agb[a_c] & (gj >= 0))
    pr_c, pr_u = ws.codes("productcode")  # missing: the last code (label None)
    pr_c = pr_c[sel]
    if "regio" in d.columns:
        rg_c, rg_u = _common.column_codes(d, "regio")
    else:
        rg_c, rg_u = _codes(pd.Series(pd.NA, index=d.index, dtype=schema.S))
    rg_c = rg_c[sel]
    cl_c = ws.client[sel]
    if (cl_c < 0).any():  # missing or empty client ids: as _common.client_codes counts them
        cl_c = _common.client_codes(d)[sel]  # client_nr when present: no 64-character strings hashed
    # Amounts per (agb, jaar, product, gemeente, regio) = group _k (numbered in order of
    # first appearance); clients per (_k, client).
    # (the items of a toewijzing lie together: runs of equal consecutive (group, client)
    # are summed first, the factorisations see one row per run)
    rows = [a_c[sel], pr_c, rg_c + 1, gj[sel], cl_c]
    start = _runs(rows)
    gk, (a, pr, rg, gjk) = _groepeer([x[start] for x in rows[:4]], [len(a_u), len(pr_u), len(rg_u) + 1, ws.G * Y])
    bedrag = np.add.reduceat(ws.bedrag_f[sel], start) if len(start) else np.zeros(0)
    cl_c = cl_c[start]
    gm_k, j_k = np.divmod(gjk, Y)
    som = pd.DataFrame({"_k": np.arange(len(a)), "agb": a_u[a], "jaar": jaren[j_k].astype(np.int64),
                        "d_productcode": np.asarray(pr_u, dtype=object)[pr],
                        "d_gemeentecode": ws.gem_labels[gm_k],
                        "regio": np.append(rg_u, None)[rg - 1]})
    som["bedrag_cent"] = np.bincount(gk, weights=bedrag, minlength=len(a))
    known = cl_c >= 0
    nc = int(cl_c.max()) + 1 if len(cl_c) else 1
    ck = pd.unique(gk[known] * nc + cl_c[known])
    ck_k, ck_cl = np.divmod(ck, nc)
    pk = p[["_pid", "agb", "jaar", "productcode", "gemeentecode"]].assign(agb=p["agb"].astype(object))
    j = pk.merge(som, on=["agb", "jaar"], how="inner")
    ok = ((j["productcode"].isna() | (j["productcode"].astype(object) == j["d_productcode"]))
          & (j["gemeentecode"].isna() | (j["gemeentecode"].astype(object) == j["d_gemeentecode"])))
    j = j[ok.fillna(False).to_numpy(dtype=bool)]
    g = j.groupby("_pid", sort=False)
    n_cl = _clienten_per_plafond(j["_pid"].to_numpy(dtype=np.int64), j["_k"].to_numpy(dtype=np.int64),
                                 ck_k, ck_cl, len(a), nc)
    agg = pd.DataFrame({
        "gedeclareerd_cent": g["bedrag_cent"].sum(),
        "_n_regio": g["regio"].nunique(),
        "_regio": g["regio"].first(),
    })
    agg["n_clienten"] = n_cl.reindex(agg.index).fillna(0)
    out = p.merge(agg, left_on="_pid", right_index=True, how="left")
    out["gedeclareerd_cent"] = out["gedeclareerd_cent"].fillna(0.0)
    out["n_clienten"] = out["n_clienten"].fillna(0).astype("float64")
    plafond = pd.to_numeric(out["plafond_cent"]).to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["uitnutting"] = np.where(plafond > 0, out["gedeclareerd_cent"].to_numpy() / plafond, np.nan)
    m = hele_maanden(peil)
    lopend = (out["jaar"] == peil.year).to_numpy() & (m >= 1)
    prognose_cent = np.where(lopend, out["gedeclareerd_cent"].to_numpy() * 12.0 / max(m, 1), np.nan)
    out["prognose_cent"] = prognose_cent
    with np.errstate(divide="ignore", invalid="ignore"):
        out["prognose"] = np.where(plafond > 0, prognose_cent / plafond, np.nan)
    out["boven_plafond"] = (out["uitnutting"] > 1) | (out["prognose"] > 1)

    # Where each ceiling is reported.
    regio = pd.Series(config.NEDERLAND, index=out.index, dtype=object)
    een = (out["_n_regio"] == 1).fillna(False).to_numpy(dtype=bool)
    regio[een] = out["_regio"][een].astype(object)
    gemeente = pd.Series("", index=out.index, dtype=object)
    heeft_gem = out["gemeentecode"].notna().to_numpy(dtype=bool)
    if heeft_gem.any():
        gem = gemeenten if gemeenten is not None else config.demo_gemeenten()
        kaart = dict(zip(gem["gemeentecode"].astype(str), gem["regio_naam"].astype(str)))
        codes = out["gemeentecode"][heeft_gem].astype(str)
        regio[heeft_gem] = codes.map(kaart).fillna(codes).to_numpy()
        gemeente[heeft_gem] = codes.to_numpy()
    out["regio"] = regio.astype(schema.S)
    out["gemeente"] = gemeente.astype(schema.S)
    return out.drop(columns=["_pid", "_n_regio", "_regio"]).reset_index(drop=True)


def _clienten_per_plafond(pid: np.ndarray, k: np.ndarray, cl_k: np.ndarray, cl: np.ndarray, n_k: int,
                         nc: int) -> pd.Series:
    """Distinct clients per ceiling: ``pid``/``k`` the (ceiling, group) pairs that match
    (each pair once), ``cl_k``/``cl`` the distinct (group, client) pairs (clients
    ``0..nc-1``), ``n_k`` groups. A Series of the count per ceiling with at least one
    client (index: the ceiling's ``_pid``), as a merge, ``drop_duplicates`` and
    ``groupby(...).size()`` would give; each (group, client) pair is repeated once per
    ceiling of its group, then the (ceiling, client) pairs deduplicated."""
    o = np.argsort(k, kind="stable")
    pid_s = pid[o]
    per_k = np.bincount(k, minlength=n_k)  # ceilings per group
    eerste = np.cumsum(per_k) - per_k  # first position of each group's ceilings in pid_s
    m = per_k[cl_k]
    rij = np.repeat(np.arange(len(cl_k)), m)
    offs = np.arange(len(rij)) - np.repeat(np.cumsum(m) - m, m)
    paren = pd.unique(pid_s[eerste[cl_k[rij]] + offs] * max(nc, 1) + cl[rij])
    n = np.bincount(paren // max(nc, 1), minlength=int(pid.max()) + 1 if len(pid) else 0)
    heeft = np.flatnonzero(n > 0)
    return pd.Series(n[heeft], index=heeft, dtype=np.int64)


def _runs(arrays: list) -> np.ndarray:
    """Start positions of the runs of equal consecutive rows of the equally long ``arrays``."""
    n = len(arrays[0])
    nieuw = np.zeros(n, dtype=bool)
    if n:
        nieuw[0] = True
        for a in arrays:
            nieuw[1:] |= a[1:] != a[:-1]
    return np.flatnonzero(nieuw)


def _dimensie(df: pd.DataFrame) -> pd.Series:
    """``agb=12345678``, narrowed ceilings ``agb=12345678;productcode=45A53``."""
    dim = "agb=" + df["agb"].astype(schema.S).fillna("onbekend")
    pc = df["productcode"].astype(schema.S)
    return dim.where(pc.isna(), dim + ";productcode=" + pc.fillna(""))


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``budget_uitnutting`` and ``budget_prognose`` (fractie; metrics.md section 8).

    One row per ceiling (``dimensie`` ``agb=...``, with ``;productcode=...`` when
    the ceiling is for one product) for each year of the analysis window; only
    with ``per = jaar`` (a ceiling is yearly) and only when budgetplafonds are
    given. ``n_clienten`` = distinct clients in the declared amount.
    """
    plafonds = getattr(cleaned, "budgetplafonds", None)
    if params.per != "jaar" or plafonds is None or len(plafonds) == 0:
        return _finish(pd.DataFrame())
    b = budget_uitnutting(cleaned.declaraties, plafonds, params.peildatum, getattr(cleaned, "gemeenten", None))
    b = b[b["jaar"] >= params.start_ts.year]
    if len(b) == 0:
        return _finish(pd.DataFrame())
    b = b.assign(periode=b["jaar"].astype(str), dimensie=_dimensie(b))
    rows = [b.assign(kpi="budget_uitnutting", waarde=b["uitnutting"], eenheid="fractie")]
    pr = b[b["prognose"].notna()]
    rows.append(pr.assign(kpi="budget_prognose", waarde=pr["prognose"], eenheid="fractie"))
    rows = pd.concat(rows, ignore_index=True)
    return _finish(rows[rows["waarde"].notna()])
