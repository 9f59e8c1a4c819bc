"""Budget uitnutting and prognose (metrics.md section 8): hand-worked cases, on the DuckDB engine."""

import pandas as pd
import pytest

from _ds_factory import dec, make_ds
from jeugdlib import config, kpi
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import _common, budget

PEIL = "2024-08-01"
PARAMS = Params(peildatum=PEIL, start="2023-01-01")


def _dec(agb, client_id, gemeentecode, productcode, periode_begin, bedrag_cent):
    eind = (pd.Timestamp(periode_begin) + pd.offsets.MonthEnd(0)).date().isoformat()
    return dec(agb=agb, client_id=client_id, gemeentecode=gemeentecode, productcode=productcode,
               toewijzing_nr=None, periode_begin=periode_begin, periode_eind=eind, bedrag_cent_signed=bedrag_cent)


DECLARATIES = [
    _dec("11111111", "c1", "0889", "P1", "2023-03-01", 100_000),
    _dec("11111111", "c2", "0893", "P2", "2023-05-01", 50_000),
    _dec("11111111", "c1", "0889", "P1", "2024-02-01", 70_000),
    _dec("22222222", "c3", "0889", "P1", "2023-03-01", 999_999),
    _dec("33333333", "c4", "0889", "P1", "2023-03-01", 10_000),
    _dec("33333333", "c5", "0505", "P1", "2023-03-01", 10_000),
]
PLAFONDS = [
    dict(agb="11111111", jaar=2023, plafond_cent=200_000),
    dict(agb="11111111", jaar=2024, plafond_cent=100_000),
    dict(agb="11111111", jaar=2023, plafond_cent=40_000, productcode="P2"),
    dict(agb="11111111", jaar=2023, plafond_cent=100_000, gemeentecode="0889"),
    dict(agb="33333333", jaar=2023, plafond_cent=40_000),
    dict(agb="11111111", jaar=2025, plafond_cent=100_000),  # after the peildatum's year: left out
]


@pytest.fixture(scope="module")
def cleaned():
    ds = make_ds([], DECLARATIES, gemeenten=config.demo_gemeenten().to_dict("records"),
                 budgetplafonds=[{"productcode": None, "gemeentecode": None, **p} for p in PLAFONDS])
    return clean(ds, PARAMS)


def test_hele_maanden():
    assert _common.hele_maanden("2024-08-01") == 7  # january..july
    assert _common.hele_maanden("2024-08-15") == 7  # august not complete
    assert _common.hele_maanden("2024-01-10") == 0


def test_budget_uitnutting_and_prognose(cleaned):
    b = budget.plafonds(cleaned)
    assert len(b) == 5
    r = b.reset_index(drop=True)
    # 2023 whole aanbieder: (100000 + 50000) / 200000 = 0.75; both gemeenten in Noord-Limburg
    assert r.loc[0, "gedeclareerd_cent"] == 150_000 and r.loc[0, "uitnutting"] == pytest.approx(0.75)
    assert r.loc[0, "regio"] == "Noord-Limburg" and r.loc[0, "gemeente"] == ""
    assert pd.isna(r.loc[0, "prognose"]) and r.loc[0, "n_clienten"] == 2
    # 2024 (peildatum year, m = 7): 70000 / 100000 = 0.7; prognose 70000 x 12 / 7 = 120000 -> 1.2
    assert r.loc[1, "uitnutting"] == pytest.approx(0.7)
    assert r.loc[1, "prognose_cent"] == pytest.approx(120_000)
    assert r.loc[1, "prognose"] == pytest.approx(1.2) and bool(r.loc[1, "boven_plafond"])
    # product P2 only: 50000 / 40000 = 1.25
    assert r.loc[2, "uitnutting"] == pytest.approx(1.25) and bool(r.loc[2, "boven_plafond"])
    # gemeente 0889 only: 100000 / 100000 = 1.0 (not above)
    assert r.loc[3, "uitnutting"] == pytest.approx(1.0) and not bool(r.loc[3, "boven_plafond"])
    assert (r.loc[3, "regio"], r.loc[3, "gemeente"]) == ("Noord-Limburg", "0889")
    # declarations in two regions: reported under Nederland; 20000 / 40000
    assert r.loc[4, "regio"] == "Nederland" and r.loc[4, "uitnutting"] == pytest.approx(0.5)


def test_kpis_rows(cleaned):
    k = kpi.kpi_rows(cleaned, ["budget_uitnutting", "budget_prognose"])
    w = dict(zip(k["kpi"] + "|" + k["regio"] + "|" + k["gemeente"] + "|" + k["periode"] + "|" + k["dimensie"],
                 k["waarde"]))
    assert w["budget_uitnutting|Noord-Limburg||2023|agb=11111111"] == pytest.approx(0.75)
    assert w["budget_uitnutting|Noord-Limburg||2023|agb=11111111;productcode=P2"] == pytest.approx(1.25)
    assert w["budget_uitnutting|Noord-Limburg|0889|2023|agb=11111111"] == pytest.approx(1.0)
    assert w["budget_prognose|Noord-Limburg||2024|agb=11111111"] == pytest.approx(1.2)
    assert sum(key.startswith("budget_prognose") for key in w) == 1
    n = dict(zip(k["kpi"] + "|" + k["periode"] + "|" + k["dimensie"] + "|" + k["gemeente"], k["n_clienten"]))
    assert n["budget_uitnutting|2023|agb=11111111|"] == 2  # c1, c2
    # per kwartaal: a ceiling is yearly -> no rows
    q = cleaned.met_params(Params(peildatum=PEIL, start="2023-01-01", per="kwartaal"))
    assert len(kpi.kpi_rows(q, ["budget_uitnutting", "budget_prognose"])) == 0
    # ceilings of years before the window's start are left out
    later = cleaned.met_params(Params(peildatum=PEIL, start="2024-01-01"))
    assert set(kpi.kpi_rows(later, ["budget_uitnutting"])["periode"]) == {"2024"}
