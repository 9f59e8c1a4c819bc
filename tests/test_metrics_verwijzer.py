"""Verwijzer (metrics.md section 8): shares of requested products per referrer type."""

from types import SimpleNamespace

import pandas as pd
import pytest

from jeugdlib import schema
from jeugdlib.config import Params
from jeugdlib.metrics import verwijzer as vw


def verzoeken(rows):
    base = dict(regio="Noord-Limburg", gemeentecode="0889", agb="11111111", productcode="P1",
                productcategorie="45", bron="x")
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["ingangsdatum"] = pd.to_datetime(df["ingangsdatum"]).astype(schema.D)
    for c in ("regio", "gemeentecode", "agb", "client_id", "productcode", "verwijzer_type"):
        df[c] = df[c].astype(schema.S)
    return df


def _case():
    v = verzoeken([
        dict(client_id="c1", verwijzer_type="02", ingangsdatum="2023-03-01"),
        dict(client_id="c2", verwijzer_type="02", ingangsdatum="2023-04-01"),
        dict(client_id="c3", verwijzer_type="01", gemeentecode="0893", ingangsdatum="2023-05-01"),
        dict(client_id="c4", verwijzer_type="", ingangsdatum="2023-06-01"),
        # no date in the verzoek: the client's toewijzing of P1 at this aanbieder starts 1 jul 2023
        dict(client_id="c5", verwijzer_type="06", ingangsdatum=None),
        # on/after the peildatum: left out
        dict(client_id="c6", verwijzer_type="02", ingangsdatum="2024-02-01"),
    ])
    t = pd.DataFrame({"client_id": ["c5", "c5"], "productcode": ["P1", "P1"], "agb": ["11111111"] * 2,
                      "ingangsdatum": pd.to_datetime(["2023-07-01", "2023-09-01"])}).astype(
        {"client_id": schema.S, "productcode": schema.S, "agb": schema.S})
    return v, t


def test_verzoek_datum_fallback():
    v, t = _case()
    d = vw.verzoek_datum(v, t)
    assert d.iloc[4] == pd.Timestamp("2023-07-01")  # earliest matching toewijzing
    assert d.iloc[0] == pd.Timestamp("2023-03-01")


def test_kpis_shares():
    v, t = _case()
    k = vw.kpis(SimpleNamespace(verzoeken=v, toewijzingen=t), Params(peildatum="2024-01-01", start="2023-01-01"))
    r = k[(k["regio"] == "Noord-Limburg") & (k["gemeente"] == "")]
    w = dict(zip(r["dimensie"], r["waarde"]))
    # 2023: five requested products (c1..c5): 02 twice -> 2/5; 01, onbekend, 06 once -> 1/5 each
    assert w == {"verwijzer=02": pytest.approx(0.4), "verwijzer=01": pytest.approx(0.2),
                 "verwijzer=onbekend": pytest.approx(0.2), "verwijzer=06": pytest.approx(0.2)}
    assert set(r["n_clienten"]) == {5} and set(r["periode"]) == {"2023"}
    g = k[k["gemeente"] == "0889"]
    # 0889: c1, c2, c4, c5 -> 02 is 2/4
    assert dict(zip(g["dimensie"], g["waarde"]))["verwijzer=02"] == pytest.approx(0.5)


def test_no_jw315_no_rows():
    v, t = _case()
    k = vw.kpis(SimpleNamespace(verzoeken=v.iloc[0:0], toewijzingen=t), Params(peildatum="2024-01-01"))
    assert len(k) == 0 and "n_clienten" in k.columns
