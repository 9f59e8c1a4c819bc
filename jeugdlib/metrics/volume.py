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


def _actief(tw: pd.DataFrame, perioden: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    cols = ["regio", "gemeentecode", "client_id", "ingangsdatum", "einddatum_eff", *extra]
    return _common.expand_periods(tw[cols], "ingangsdatum", "einddatum_eff", perioden)


def _gestart(tw: pd.DataFrame, perioden: pd.DataFrame, per: str) -> pd.DataFrame:
    t = tw[["regio", "gemeentecode", "client_id", "ingangsdatum"]].copy()
    lab = _common.period_label(t["ingangsdatum"], per)
    t["periode"] = lab.to_numpy()
    return t[lab.isin(perioden["periode"]).fillna(False).to_numpy(dtype=bool)]


def per_of(perioden: pd.DataFrame) -> str:
    """'jaar', 'kwartaal' or 'maand' from a periods table's labels."""
    lab = str(perioden["periode"].iloc[0]) if len(perioden) else "2000"
    return "kwartaal" if "-Q" in lab else ("maand" if "-" in lab else "jaar")


# --------------------------------------------------------------------------- metrics

def clienten(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``clienten`` (metrics.md section 1): distinct clients with at least one
    toewijzing overlapping the period. ``n_clienten`` = the value itself."""
    a = _actief(toewijzingen, perioden)
    n = _common.nunique_levels(a, ["periode"], "client_id", "waarde")
    out = complete(n, levels_present(toewijzingen), perioden, {"waarde": 0})
    out["n_clienten"] = out["waarde"]
    return finish(out)


def toewijzingen(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``toewijzingen`` (metrics.md section 1): number of toewijzingen overlapping the
    period. ``n_clienten`` = distinct clients behind them (a count of client
    records is suppressed like a client count)."""
    a = _actief(toewijzingen, perioden)
    a["_n"] = 1
    s = _common.sum_levels(a, ["periode"], ["_n"]).rename(columns={"_n": "waarde"})
    c = _common.nunique_levels(a, ["periode"], "client_id", "n_clienten")
    out = s.merge(c, on=["regio", "gemeente", "periode"], how="left")
    out = complete(out, levels_present(toewijzingen), perioden, {"waarde": 0, "n_clienten": 0})
    return finish(out)


def toewijzingen_gestart(toewijzingen: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``toewijzingen_gestart`` (metrics.md section 1): toewijzingen whose
    ingangsdatum lies in the period. ``n_clienten`` = distinct clients among them."""
    a = _gestart(toewijzingen, perioden, per_of(perioden))
    a["_n"] = 1
    s = _common.sum_levels(a, ["periode"], ["_n"]).rename(columns={"_n": "waarde"})
    c = _common.nunique_levels(a, ["periode"], "client_id", "n_clienten")
    out = s.merge(c, on=["regio", "gemeente", "periode"], how="left")
    out = complete(out, levels_present(toewijzingen), perioden, {"waarde": 0, "n_clienten": 0})
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
    a = _actief(toewijzingen, perioden, ("geboortedatum",))
    a = a.merge(perioden[["periode", "eind"]], on="periode", how="left")
    age = leeftijd(a["geboortedatum"], a["eind"]).to_numpy()
    a = a[(age >= 0) & (age <= 17)]
    a["jaar"] = a["eind"].dt.year.astype("int64")
    bev = bevolking[["gemeentecode", "jaar", "jeugdigen"]].dropna().copy()
    bev["jaar"] = bev["jaar"].astype("int64")
    bev["jeugdigen"] = bev["jeugdigen"].astype("int64")
    bev = bev.groupby(["gemeentecode", "jaar"], as_index=False)["jeugdigen"].sum()
    a = a.merge(bev[["gemeentecode", "jaar"]], on=["gemeentecode", "jaar"], how="inner")
    num = _common.nunique_levels(a, ["periode"], "client_id", "teller")
    # denominator: bevolking per period (its year), for the gemeenten of the data
    gem = toewijzingen[["regio", "gemeentecode"]].drop_duplicates()
    p = perioden[["periode", "eind"]].copy()
    p["jaar"] = p["eind"].dt.year.astype("int64")
    d = gem.merge(bev, on="gemeentecode").merge(p[["periode", "jaar"]], on="jaar")
    den = _common.sum_levels(d, ["periode"], ["jeugdigen"])
    out = den.merge(num, on=["regio", "gemeente", "periode"], how="left").fillna({"teller": 0})
    out = out[out["jeugdigen"] > 0]
    out["waarde"] = out["teller"] / out["jeugdigen"]
    out["n_clienten"] = out["teller"]
    return finish(out)


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
