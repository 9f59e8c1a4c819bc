"""Volume metrics (metrics.md section 1) on a hand-worked case.

Gemeenten: 0983 Venlo and 0984 Venray (Noord-Limburg), 0935 Maastricht
(Zuid-Limburg). Peildatum 2024-08-01, start 2023-01-01.

toewijzing  client  gemeente  ingang      einde        overlaps
A           c1      0983      2023-01-01  2023-03-31   2023
B           c1      0983      2023-11-01  open         2023, 2024 (open: until 2024-07-31)
C           c2      0984      2022-06-01  2023-01-01   2023 (its last day only)
D           c2      0983      2024-02-01  2024-03-01   2024
E           c3      0935      2022-01-01  2022-12-31   -
F           c4      0935      2024-07-31  open         2024
G           c1      0984      2023-05-01  2023-05-31   2023
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from _ds_factory import make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import _common, volume

P = Params("2024-08-01", start="2023-01-01")


@pytest.fixture(scope="module")
def cleaned():
    rows = [
        tw(toewijzing_nr="A", client_id="c1", gemeentecode="0983", ingangsdatum="2023-01-01", einddatum="2023-03-31"),
        tw(toewijzing_nr="B", client_id="c1", gemeentecode="0983", ingangsdatum="2023-11-01", einddatum=None),
        tw(toewijzing_nr="C", client_id="c2", gemeentecode="0984", ingangsdatum="2022-06-01", einddatum="2023-01-01",
           geboortedatum="2006-01-01"),
        tw(toewijzing_nr="D", client_id="c2", gemeentecode="0983", ingangsdatum="2024-02-01", einddatum="2024-03-01",
           geboortedatum="2006-01-01"),
        tw(toewijzing_nr="E", client_id="c3", gemeentecode="0935", ingangsdatum="2022-01-01", einddatum="2022-12-31"),
        tw(toewijzing_nr="F", client_id="c4", gemeentecode="0935", ingangsdatum="2024-07-31", einddatum=None),
        tw(toewijzing_nr="G", client_id="c1", gemeentecode="0984", ingangsdatum="2023-05-01", einddatum="2023-05-31"),
        # c5 is 18 on 2023-12-31: a client, but not a jeugdige 0-17 on the period's last day
        tw(toewijzing_nr="H", client_id="c5", gemeentecode="0984", ingangsdatum="2023-02-01", einddatum="2023-02-28",
           geboortedatum="2005-12-31"),
    ]
    bevolking = [{"gemeentecode": "0983", "jaar": 2023, "jeugdigen": 50},
                 {"gemeentecode": "0984", "jaar": 2023, "jeugdigen": 40}]
    return clean(make_ds(rows, [], bevolking=bevolking), P)


def _val(df, regio, gemeente, periode):
    r = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == periode)]
    assert len(r) <= 1
    return None if len(r) == 0 else float(r["waarde"].iloc[0])


def per(c, kind="jaar"):
    """The cleaned data with periods of ``kind``."""
    return c.met_params(dataclasses.replace(P, per=kind))


def test_clienten(cleaned):
    c = volume.clienten(cleaned)
    # 2023: Venlo {c1}; Venray {c2 (C on 2023-01-01), c1 (G), c5 (H)}; Noord {c1, c2, c5}: c1 counted once
    assert _val(c, "Noord-Limburg", "0983", "2023") == 1
    assert _val(c, "Noord-Limburg", "0984", "2023") == 3
    assert _val(c, "Noord-Limburg", "", "2023") == 3
    assert _val(c, "Zuid-Limburg", "0935", "2023") == 0  # E ended in 2022
    assert _val(c, "Nederland", "", "2023") == 3
    # 2024: Venlo {c1 via open B, c2 via D}; Maastricht {c4}; Nederland 3
    assert _val(c, "Noord-Limburg", "0983", "2024") == 2
    assert _val(c, "Noord-Limburg", "0984", "2024") == 0
    assert _val(c, "Zuid-Limburg", "0935", "2024") == 1
    assert _val(c, "Nederland", "", "2024") == 3
    assert (c["n_clienten"] == c["waarde"]).all()


def test_clienten_per_kwartaal(cleaned):
    c = volume.clienten(per(cleaned, "kwartaal"))
    # Q1 2023: A (c1), C (c2, 1 Jan), H (c5) -> 3; Q2: G (c1) -> 1; Q3: nobody -> 0; Q4: B (c1) -> 1
    assert [_val(c, "Nederland", "", f"2023-Q{q}") for q in (1, 2, 3, 4)] == [3, 1, 0, 1]
    # Q3 2024 (to 2024-07-31): B (c1) and F (c4) -> 2
    assert _val(c, "Nederland", "", "2024-Q3") == 2


def test_toewijzingen_and_gestart(cleaned):
    t = volume.toewijzingen(cleaned)
    # 2023: Venlo A, B; Venray C, G, H -> Noord 5; Nederland 5
    assert _val(t, "Noord-Limburg", "0983", "2023") == 2
    assert _val(t, "Noord-Limburg", "0984", "2023") == 3
    assert _val(t, "Nederland", "", "2023") == 5
    # 2024: B, D (Venlo), F (Maastricht)
    assert _val(t, "Nederland", "", "2024") == 3
    n = t[(t["regio"] == "Noord-Limburg") & (t["gemeente"] == "") & (t["periode"] == "2023")]["n_clienten"]
    assert float(n.iloc[0]) == 3  # c1, c2, c5
    g = volume.toewijzingen_gestart(cleaned)
    # started 2023: A, B (Venlo), G, H (Venray); C started in 2022; 2024: D, F
    assert _val(g, "Noord-Limburg", "0983", "2023") == 2
    assert _val(g, "Noord-Limburg", "0984", "2023") == 2
    assert _val(g, "Nederland", "", "2023") == 4
    assert _val(g, "Nederland", "", "2024") == 2
    assert _val(g, "Zuid-Limburg", "0935", "2023") == 0


def test_toewijzingen_per_client(cleaned):
    r = volume.toewijzingen_per_client(cleaned)
    # Noord 2023: 5 toewijzingen / 3 clients; Venlo 2024: 2 / 2; Maastricht 2023: no clients -> no row
    assert _val(r, "Noord-Limburg", "", "2023") == pytest.approx(5 / 3)
    assert _val(r, "Noord-Limburg", "0983", "2024") == 1.0
    assert _val(r, "Zuid-Limburg", "0935", "2023") is None


def test_jeugdigen_met_jeugdhulp(cleaned):
    j = volume.jeugdigen_met_jeugdhulp(cleaned)
    # on 2023-12-31: c1 (born 2012) is 11, c2 (born 2006-01-01) is 17, c5 (born 2005-12-31) is 18 -> out
    # Venlo: {c1} / 50; Venray: {c2, c1} / 40; Noord: {c1, c2} / (50 + 40)
    assert _val(j, "Noord-Limburg", "0983", "2023") == pytest.approx(1 / 50)
    assert _val(j, "Noord-Limburg", "0984", "2023") == pytest.approx(2 / 40)
    assert _val(j, "Noord-Limburg", "", "2023") == pytest.approx(2 / 90)
    # Maastricht has no bevolking: not in Nederland's numerator nor denominator
    assert _val(j, "Nederland", "", "2023") == pytest.approx(2 / 90)
    assert _val(j, "Nederland", "", "2024") is None  # no bevolking for 2024


def test_kpi_rows_of_the_module(cleaned):
    from jeugdlib import kpi
    from jeugdlib.metrics._common import registry

    ids = [k for k, d in registry().items() if d.module == "volume"]
    assert ids == ["clienten", "toewijzingen", "toewijzingen_gestart", "toewijzingen_per_client",
                   "jeugdigen_met_jeugdhulp"]
    k = kpi.kpi_rows(cleaned, ids)
    assert list(k.columns) == ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", "n_clienten"]
    assert not k.duplicated(["kpi", "regio", "gemeente", "periode", "dimensie"]).any()
