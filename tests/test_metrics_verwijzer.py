"""Verwijzer (metrics.md section 8): shares of requested products per referrer type, through clean()."""

import dataclasses

import pandas as pd
import pytest

from _ds_factory import GEMEENTEN, frame, make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import verwijzer as vw

GEM = GEMEENTEN + [
    {"gemeentecode": "0889", "gemeentenaam": "Beesel", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
    {"gemeentecode": "0893", "gemeentenaam": "Bergen (L.)", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
]


def verzoek(**kw):
    base = dict(gemeentecode="0889", agb="11111111", productcode="P1", productcategorie="45", bron="x")
    return {**base, **kw}


def _case(params, met_verzoeken=True):
    v = [
        verzoek(client_id="c1", verwijzer_type="02", ingangsdatum="2023-03-01"),
        verzoek(client_id="c2", verwijzer_type="02", ingangsdatum="2023-04-01"),
        verzoek(client_id="c3", verwijzer_type="01", gemeentecode="0893", ingangsdatum="2023-05-01"),
        verzoek(client_id="c4", verwijzer_type="", ingangsdatum="2023-06-01"),
        # no date in the verzoek: the client's toewijzing of P1 at this aanbieder starts 1 jul 2023
        verzoek(client_id="c5", verwijzer_type="06", ingangsdatum=None),
        # on/after the peildatum: left out
        verzoek(client_id="c6", verwijzer_type="02", ingangsdatum="2024-02-01"),
    ]
    t = [tw(toewijzing_nr="T1", client_id="c5", gemeentecode="0889", productcode="P1", agb="11111111",
            ingangsdatum="2023-07-01"),
         tw(toewijzing_nr="T2", client_id="c5", gemeentecode="0889", productcode="P1", agb="11111111",
            ingangsdatum="2023-09-01")]
    ds = make_ds(t, [], gemeenten=GEM)
    ds = dataclasses.replace(ds, verzoeken=frame(v if met_verzoeken else [], "verzoeken"))
    return clean(ds, params)


def test_verzoek_datum_fallback():
    d = vw.verzoek_datum(_case(Params(peildatum="2024-01-01", start="2023-01-01")))["datum"]
    assert d.iloc[4] == pd.Timestamp("2023-07-01")  # earliest matching toewijzing
    assert d.iloc[0] == pd.Timestamp("2023-03-01")


def test_kpis_shares():
    k = vw.verwijzer(_case(Params(peildatum="2024-01-01", start="2023-01-01")))
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
    k = vw.verwijzer(_case(Params(peildatum="2024-01-01"), met_verzoeken=False))
    assert len(k) == 0 and "n_clienten" in k.columns
