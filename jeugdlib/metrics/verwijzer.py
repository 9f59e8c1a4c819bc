"""Verwijzer: who refers the requested products (metrics.md section 8).

``verwijzer`` = share of JW315 requested products (one row of ``verzoeken`` each)
per ``verwijzer=`` type (COD327 code, e.g. ``verwijzer=02`` huisarts; empty type
``verwijzer=onbekend``), only when JW315 messages are present.

A verzoek belongs to the period of its requested start (``ingangsdatum``, the
ToewijzingIngangsdatum of JW315). Where that is empty, the ingangsdatum of the
client's earliest toewijzing of the same productcode (and aanbieder) is used;
a verzoek with neither, or dated on/after the peildatum, is left out.
"""

from __future__ import annotations

import pandas as pd

from .. import config, schema
from . import _common
from .verzilvering import _finish, _kpi_rows, periode_index


def verzoek_datum(verzoeken: pd.DataFrame, toewijzingen: pd.DataFrame | None = None) -> pd.Series:
    """The date each verzoek belongs to (see module docstring), aligned to the input index."""
    if "ingangsdatum" in verzoeken.columns:
        datum = pd.Series(verzoeken["ingangsdatum"].to_numpy(dtype="datetime64[ns]"), index=verzoeken.index)
    else:
        datum = pd.Series(pd.NaT, index=verzoeken.index, dtype="datetime64[ns]")
    leeg = datum.isna().to_numpy()
    if leeg.any() and toewijzingen is not None and len(toewijzingen):
        sleutel = ["client_id", "productcode", "agb"]
        eerste = (toewijzingen[sleutel + ["ingangsdatum"]]
                  .groupby(sleutel, sort=False, observed=True)["ingangsdatum"].min().rename("_d").reset_index())
        v = verzoeken.loc[leeg, sleutel].reset_index()
        m = v.merge(eerste, on=sleutel, how="left")
        datum.loc[m["index"].to_numpy()] = m["_d"].to_numpy()
    return datum.rename("datum")


def verwijzer_aandelen(verzoeken: pd.DataFrame, params: config.Params,
                       toewijzingen: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of requested products per verwijzer type, per level and period (metrics.md section 8).

    Returns columns regio, gemeente, periode, dimensie (``verwijzer=<COD327>``),
    ``aantal`` (requested products of that type), ``totaal`` (all requested
    products in the group), ``aandeel`` = aantal / totaal and ``n_clienten``
    (distinct clients among all requested products of the group).
    """
    datum = verzoek_datum(verzoeken, toewijzingen)
    per = _common.periods(params.start, params.peildatum, params.per)
    pidx = periode_index(datum, per)
    ok = (pidx >= 0) & (datum < params.peil_ts).to_numpy(dtype=bool)
    v = verzoeken.loc[ok]
    if len(v) == 0:
        return pd.DataFrame(columns=["regio", "gemeente", "periode", "dimensie", "aantal", "totaal",
                                     "aandeel", "n_clienten"])
    regio = v["regio"] if "regio" in v.columns else pd.Series(pd.NA, index=v.index, dtype=schema.S)
    d = pd.DataFrame({
        "regio": regio,
        "gemeentecode": v["gemeentecode"],
        "client_id": v["client_id"],
        "periode": per["periode"].to_numpy(dtype=object)[pidx[ok]],
        "type": v["verwijzer_type"].astype(schema.S).str.strip(),
        "_n": 1,
    }).reset_index(drop=True)
    d["periode"] = d["periode"].astype(schema.S)
    per_type = _kpi_rows(d, {"verwijzer": "type"}, ["_n"])
    totaal = _kpi_rows(d, {"": None}, ["_n"])
    out = per_type.merge(totaal[["regio", "gemeente", "periode", "_n", "n_clienten"]]
                         .rename(columns={"_n": "totaal", "n_clienten": "_n_tot"}),
                         on=["regio", "gemeente", "periode"], how="left")
    out = out.rename(columns={"_n": "aantal"})
    out["aandeel"] = out["aantal"] / out["totaal"]
    out["n_clienten"] = out["_n_tot"].astype("float64")
    return out.drop(columns=["_n_tot"])


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``verwijzer`` (fractie, per ``verwijzer=<COD327>``; metrics.md section 8).

    Empty when the dataset holds no JW315 verzoeken. ``n_clienten`` = distinct
    clients among all requested products of the group (the denominator).
    """
    verzoeken = getattr(cleaned, "verzoeken", None)
    if verzoeken is None or len(verzoeken) == 0:
        return _finish(pd.DataFrame())
    a = verwijzer_aandelen(verzoeken, params, cleaned.toewijzingen)
    if len(a) == 0:
        return _finish(pd.DataFrame())
    return _finish(a.assign(kpi="verwijzer", waarde=a["aandeel"], eenheid="fractie"))
