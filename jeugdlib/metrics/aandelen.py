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
from .kosten import _clienten_met_kosten, dim_value, in_perioden
from .volume import as_kpi, complete, finish, levels_present

_KEYS = ["regio", "gemeente", "periode"]

#: Threshold of ``aanbieders_klein``: positive kosten below EUR 20,000 in a year.
KLEIN_CENT = 20_000 * 100


def _aandeel(d: pd.DataFrame, in_groep: np.ndarray, by: list[str]) -> pd.DataFrame:
    """Share of ``bedrag_cent`` where ``in_groep`` per level x periode x ``by``."""
    d = d.copy()
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    d["_groep"] = np.where(in_groep, d["bedrag_cent"].to_numpy(), 0)
    s = _common.sum_levels(d, ["periode", *by], ["bedrag_cent", "_groep"])
    n = _clienten_met_kosten(d, ["periode", *by])
    s = s.merge(n, on=[*_KEYS, *by], how="left").fillna({"n": 0})
    s = s[s["bedrag_cent"] > 0]
    s["waarde"] = s["_groep"] / s["bedrag_cent"]
    s["n_clienten"] = s["n"]
    return s


def _aandeel_per_waarde(d: pd.DataFrame, col: str, name: str, values: list[str]) -> pd.DataFrame:
    """Share of kosten per value of ``col`` (one row per value in ``values``; the
    denominator is the period's total kosten)."""
    d = d.copy()
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    tot = _common.sum_levels(d, ["periode"], ["bedrag_cent"])
    n = _clienten_met_kosten(d, ["periode"])
    tot = tot.merge(n, on=_KEYS, how="left").fillna({"n": 0})
    tot = tot[tot["bedrag_cent"] > 0]
    d["_v"] = d[col].astype(schema.S)
    grp = _common.sum_levels(d, ["periode", "_v"], ["bedrag_cent"]).rename(columns={"bedrag_cent": "_g"})
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
    (NGA kosten in the segment / kosten of the segment).
    """
    cols = ["regio", "gemeentecode", "client_id", "bedrag_cent", "gecontracteerd", "segment"]
    d = in_perioden(declaraties, perioden, cols)
    nga = ~d["gecontracteerd"].fillna(False).astype(bool).to_numpy()
    if per_segment:
        d["dimensie"] = dim_value(d["segment"], "segment")
        return finish(_aandeel(d, nga, ["dimensie"]))
    return finish(_aandeel(d, nga, []))


def aandeel_variant(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aandeel_variant`` (metrics.md section 2): share of kosten per product variant:
    ``variant=maatwerk``, ``variant=meerwerk``, ``variant=overig`` (no variant, or an
    unknown product)."""
    d = in_perioden(declaraties, perioden, ["regio", "gemeentecode", "client_id", "bedrag_cent", "variant"])
    v = d["variant"].astype(schema.S).str.lower()
    d["variant"] = v.where(v.isin(["maatwerk", "meerwerk"]), "overig").fillna("overig")
    return finish(_aandeel_per_waarde(d, "variant", "variant", ["maatwerk", "meerwerk", "overig"]))


def aandeel_aanbiedertype(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aandeel_aanbiedertype`` (metrics.md section 2): share of kosten per aanbieder
    type, ``type=micro`` and ``type=regulier`` (an unknown AGB counts as regulier)."""
    d = in_perioden(declaraties, perioden, ["regio", "gemeentecode", "client_id", "bedrag_cent", "aanbieder_type"])
    t = d["aanbieder_type"].astype(schema.S)
    d["aanbieder_type"] = t.where(t == "micro", "regulier").fillna("regulier")
    return finish(_aandeel_per_waarde(d, "aanbieder_type", "type", ["micro", "regulier"]))


def aandeel_top10(declaraties: pd.DataFrame, perioden: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """``aandeel_top10`` (metrics.md section 2): kosten of the ``n`` (10) aanbieders
    with the highest kosten in the period (within the level) / ``kosten``. Ties at
    the tenth place are broken by AGB code."""
    d = in_perioden(declaraties, perioden)
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    a = _common.sum_levels(d, ["periode", "agb"], ["bedrag_cent"])
    a = a.sort_values([*_KEYS, "bedrag_cent", "agb"], ascending=[True, True, True, False, True],
                      kind="mergesort")
    top = a.groupby(_KEYS, sort=False).head(n).groupby(_KEYS, sort=False)["bedrag_cent"].sum().rename("_top")
    tot = a.groupby(_KEYS, sort=False)["bedrag_cent"].sum().rename("_tot")
    m = pd.concat([top, tot], axis=1).reset_index()
    cl = _clienten_met_kosten(d, ["periode"])
    m = m.merge(cl, on=_KEYS, how="left").fillna({"n": 0})
    m = m[m["_tot"] > 0]
    m["waarde"] = m["_top"] / m["_tot"]
    m["n_clienten"] = m["n"]
    return finish(m)


def aanbieders_klein(declaraties: pd.DataFrame, jaren: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders_klein`` (metrics.md section 2): aanbieders with positive kosten
    below EUR 20,000 in a year (``jaren``: a yearly periods table; only per year).
    Not client-based."""
    d = in_perioden(declaraties, jaren)
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    a = _common.sum_levels(d, ["periode", "agb"], ["bedrag_cent"])
    a = a[(a["bedrag_cent"] > 0) & (a["bedrag_cent"] < KLEIN_CENT)]
    out = a.groupby(_KEYS, sort=False).size().rename("waarde").reset_index()
    return finish(complete(out, levels_present(declaraties), jaren, {"waarde": 0}))


def aanbieders_een_client(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders_een_client`` (metrics.md section 2): aanbieders that served exactly
    one client in the period (one client with a positive net declared amount at
    that aanbieder, within the level). Not client-based."""
    d = in_perioden(declaraties, perioden)
    d["bedrag_cent"] = d["bedrag_cent"].astype("int64")
    n = _clienten_met_kosten(d, ["periode", "agb"])
    one = n[n["n"] == 1].groupby(_KEYS, sort=False).size().rename("waarde").reset_index()
    return finish(complete(one, levels_present(declaraties), perioden, {"waarde": 0}))


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
