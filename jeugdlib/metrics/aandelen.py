"""Shares of cost and aanbieder counts (metrics.md section 2).

Each share is cost in the group / ``kosten`` in the period (net declared
amounts, by periode_begin, see :mod:`jeugdlib.metrics.kosten`). ``n_clienten``
of a share = the distinct clients with a positive net declared amount in its
denominator (a share over fewer than 10 clients is suppressed, data-contract
3.1). Output columns as in :mod:`jeugdlib.metrics.volume`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema
from . import _common
from .kosten import _plain, agb_totalen, dim_value, werkset
from .volume import as_kpi, complete, finish

_KEYS = ["regio", "gemeente", "periode"]

#: Threshold of ``aanbieders_klein``: positive kosten below EUR 20,000 in a year.
KLEIN_CENT = 20_000 * 100


def _noemer(ws, perioden: pd.DataFrame) -> pd.DataFrame:
    """kosten (cent, ``bedrag_cent``) and clients with positive kosten (``n``) per
    level x periode, only where kosten > 0: the denominator of every share."""
    tot = _plain(ws.totaal(perioden)).merge(_plain(ws.clienten_met_kosten(perioden)), on=_KEYS, how="left")
    tot = tot.fillna({"n": 0})
    return tot[tot["bedrag_cent"] > 0]


def _aandeel_per_waarde(ws, perioden: pd.DataFrame, col: str, name: str, values: list[str],
                        mapping: dict | None = None) -> pd.DataFrame:
    """Share of kosten per value of ``col`` (one row per value in ``values``; the
    denominator is the period's total kosten). ``mapping`` maps the column's own
    values onto ``values`` (others -> the last value)."""
    d = ws.in_perioden(perioden)
    grp = _plain(_common.sum_levels(d, ["periode", col], ["bedrag_cent"]))
    v = grp[col].astype(object)
    v = v.map(mapping) if mapping else v
    grp["_v"] = v.where(v.isin(values), values[-1]).fillna(values[-1]).astype(schema.S)
    grp = grp.groupby([*_KEYS, "_v"], sort=False, as_index=False)["bedrag_cent"].sum() \
        .rename(columns={"bedrag_cent": "_g"})
    tot = _noemer(ws, perioden)
    grid = tot.merge(pd.DataFrame({"_v": pd.Series(values, dtype=schema.S)}), how="cross")
    m = grid.merge(grp, on=[*_KEYS, "_v"], how="left").fillna({"_g": 0})
    m["waarde"] = m["_g"] / m["bedrag_cent"]
    m["n_clienten"] = m["n"]
    m["dimensie"] = (name + "=" + m["_v"]).astype(schema.S)
    return m


def aandeel_nga(declaraties: pd.DataFrame, perioden: pd.DataFrame, per_segment: bool = False) -> pd.DataFrame:
    """``aandeel_nga`` (metrics.md section 2): kosten of lines of aanbieders not
    contracted on periode_begin (niet-gecontracteerd aanbod; an AGB missing from
    aanbieders.csv is NGA) / ``kosten`` in the period.

    ``per_segment``: one row per ``segment=...``, the share *within* the segment
    (NGA kosten in the segment / kosten of the segment; ``n_clienten``: clients
    with positive kosten in the segment).
    """
    ws = werkset(declaraties)
    d = ws.in_perioden(perioden)
    by = ["periode", "segment"] if per_segment else ["periode"]
    nga = d[["regio", "gemeentecode", *by]].copy()
    nga["_nga"] = np.where(d["gecontracteerd"].to_numpy(), 0, d["bedrag_cent"].to_numpy())
    nga["bedrag_cent"] = d["bedrag_cent"].to_numpy()
    s = _plain(_common.sum_levels(nga, by, ["bedrag_cent", "_nga"]))
    if per_segment:
        n = _plain(ws.clienten_met_kosten(perioden, ("segment",)))
        s = s.merge(n, on=[*_KEYS, "segment"], how="left").fillna({"n": 0})
        s["dimensie"] = dim_value(s["segment"], "segment").to_numpy()
    else:
        s = s.merge(_plain(ws.clienten_met_kosten(perioden)), on=_KEYS, how="left").fillna({"n": 0})
    s = s[s["bedrag_cent"] > 0]
    s["waarde"] = s["_nga"] / s["bedrag_cent"]
    s["n_clienten"] = s["n"]
    return finish(s)


def aandeel_variant(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aandeel_variant`` (metrics.md section 2): share of kosten per product variant:
    ``variant=maatwerk``, ``variant=meerwerk``, ``variant=overig`` (no variant, or an
    unknown product)."""
    return finish(_aandeel_per_waarde(werkset(declaraties), perioden, "variant", "variant",
                                      ["maatwerk", "meerwerk", "overig"]))


def aandeel_aanbiedertype(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aandeel_aanbiedertype`` (metrics.md section 2): share of kosten per aanbieder
    type, ``type=micro`` and ``type=regulier`` (an unknown AGB counts as regulier)."""
    return finish(_aandeel_per_waarde(werkset(declaraties), perioden, "aanbieder_type", "type",
                                      ["micro", "regulier"]))


def aandeel_top10(declaraties: pd.DataFrame, perioden: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """``aandeel_top10`` (metrics.md section 2): kosten of the ``n`` (10) aanbieders
    with the highest kosten in the period (within the level) / ``kosten``. Ties at
    the tenth place are broken by AGB code."""
    ws = werkset(declaraties)
    a = _plain(agb_totalen(ws, perioden))
    a = a.sort_values([*_KEYS, "bedrag_cent", "agb"], ascending=[True, True, True, False, True],
                      kind="mergesort")
    top = a.groupby(_KEYS, sort=False).head(n).groupby(_KEYS, sort=False)["bedrag_cent"].sum().rename("_top")
    m = _noemer(ws, perioden).merge(top.reset_index(), on=_KEYS, how="left").fillna({"_top": 0})
    m["waarde"] = m["_top"] / m["bedrag_cent"]
    m["n_clienten"] = m["n"]
    return finish(m)


def aanbieders_klein(declaraties: pd.DataFrame, jaren: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders_klein`` (metrics.md section 2): aanbieders with positive kosten
    below EUR 20,000 in a year (``jaren``: a yearly periods table; only per year).
    Not client-based."""
    ws = werkset(declaraties)
    a = agb_totalen(ws, jaren)
    a = a[(a["bedrag_cent"] > 0) & (a["bedrag_cent"] < KLEIN_CENT)]
    out = a.groupby(_KEYS, sort=False, observed=True).size().rename("waarde").reset_index()
    return finish(complete(_plain(out), ws.levels(), jaren, {"waarde": 0}))


def aanbieders_een_client(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders_een_client`` (metrics.md section 2): aanbieders that served exactly
    one client in the period (one client with a positive net declared amount at
    that aanbieder, within the level). Not client-based."""
    ws = werkset(declaraties)
    n = ws.clienten_met_kosten(perioden, ("agb",))
    one = n[n["n"] == 1].groupby(_KEYS, sort=False, observed=True).size().rename("waarde").reset_index()
    return finish(complete(_plain(one), ws.levels(), perioden, {"waarde": 0}))


# --------------------------------------------------------------------------- KPI rows

def kpis(cleaned, params) -> pd.DataFrame:
    """KPI rows of metrics.md section 2: aandeel_nga (total and per segment),
    aandeel_variant, aandeel_aanbiedertype, aandeel_top10, aanbieders_klein (per
    year), aanbieders_een_client."""
    dec = cleaned.declaraties
    per = _common.periods(params.start, params.peildatum, params.per)
    jaren = _common.periods(params.start, params.peildatum, "jaar")
    return pd.concat([
        as_kpi(aandeel_nga(dec, per), "aandeel_nga", "fractie"),
        as_kpi(aandeel_nga(dec, per, per_segment=True), "aandeel_nga", "fractie"),
        as_kpi(aandeel_variant(dec, per), "aandeel_variant", "fractie"),
        as_kpi(aandeel_aanbiedertype(dec, per), "aandeel_aanbiedertype", "fractie"),
        as_kpi(aandeel_top10(dec, per), "aandeel_top10", "fractie"),
        as_kpi(aanbieders_klein(dec, jaren), "aanbieders_klein", "aantal"),
        as_kpi(aanbieders_een_client(dec, per), "aanbieders_een_client", "aantal"),
    ], ignore_index=True)
