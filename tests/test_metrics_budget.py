"""Budget uitnutting and prognose (metrics.md section 8): hand-worked cases."""

from types import SimpleNamespace

import pandas as pd
import pytest

from jeugdlib import config, schema
from jeugdlib.config import Params
from jeugdlib.metrics import budget

PEIL = "2024-08-01"


def decl(rows):
    df = pd.DataFrame(rows)
    df["periode_begin"] = pd.to_datetime(df["periode_begin"]).astype(schema.D)
    df["bedrag_cent"] = df["bedrag_cent"].astype(schema.I)
    gem = config.demo_gemeenten().set_index("gemeentecode")["regio_naam"]
    df["regio"] = df["gemeentecode"].map(gem)
    for c in ("agb", "client_id", "gemeentecode", "productcode", "regio"):
        df[c] = df[c].astype(schema.S)
    return df


def plafonds(rows):
    df = pd.DataFrame([{"productcode": None, "gemeentecode": None, **r} for r in rows])
    df["jaar"] = df["jaar"].astype(schema.I)
    df["plafond_cent"] = df["plafond_cent"].astype(schema.I)
    for c in ("agb", "productcode", "gemeentecode"):
        df[c] = df[c].astype(schema.S)
    return df


D = decl([
    dict(agb="11111111", client_id="c1", gemeentecode="0889", productcode="P1", periode_begin="2023-03-01",
         bedrag_cent=100_000),
    dict(agb="11111111", client_id="c2", gemeentecode="0893", productcode="P2", periode_begin="2023-05-01",
         bedrag_cent=50_000),
    dict(agb="11111111", client_id="c1", gemeentecode="0889", productcode="P1", periode_begin="2024-02-01",
         bedrag_cent=70_000),
    dict(agb="22222222", client_id="c3", gemeentecode="0889", productcode="P1", periode_begin="2023-03-01",
         bedrag_cent=999_999),
    dict(agb="33333333", client_id="c4", gemeentecode="0889", productcode="P1", periode_begin="2023-03-01",
         bedrag_cent=10_000),
    dict(agb="33333333", client_id="c5", gemeentecode="0505", productcode="P1", periode_begin="2023-03-01",
         bedrag_cent=10_000),
])
P = plafonds([
    dict(agb="11111111", jaar=2023, plafond_cent=200_000),
    dict(agb="11111111", jaar=2024, plafond_cent=100_000),
    dict(agb="11111111", jaar=2023, plafond_cent=40_000, productcode="P2"),
    dict(agb="11111111", jaar=2023, plafond_cent=100_000, gemeentecode="0889"),
    dict(agb="33333333", jaar=2023, plafond_cent=40_000),
    dict(agb="11111111", jaar=2025, plafond_cent=100_000),  # after the peildatum's year: left out
])


def test_hele_maanden():
    assert budget.hele_maanden("2024-08-01") == 7  # january..july
    assert budget.hele_maanden("2024-08-15") == 7  # august not complete
    assert budget.hele_maanden("2024-01-10") == 0


def test_budget_uitnutting_and_prognose():
    b = budget.budget_uitnutting(D, P, PEIL)
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


def test_kpis_rows():
    c = SimpleNamespace(declaraties=D, budgetplafonds=P, gemeenten=config.demo_gemeenten())
    k = budget.kpis(c, Params(peildatum=PEIL, start="2023-01-01"))
    w = dict(zip(k["kpi"] + "|" + k["regio"] + "|" + k["gemeente"] + "|" + k["periode"] + "|" + k["dimensie"],
                 k["waarde"]))
    assert w["budget_uitnutting|Noord-Limburg||2023|agb=11111111"] == pytest.approx(0.75)
    assert w["budget_uitnutting|Noord-Limburg||2023|agb=11111111;productcode=P2"] == pytest.approx(1.25)
    assert w["budget_uitnutting|Noord-Limburg|0889|2023|agb=11111111"] == pytest.approx(1.0)
    assert w["budget_prognose|Noord-Limburg||2024|agb=11111111"] == pytest.approx(1.2)
    assert sum(key.startswith("budget_prognose") for key in w) == 1
    # per kwartaal: a ceiling is yearly -> no rows
    assert len(budget.kpis(c, Params(peildatum=PEIL, start="2023-01-01", per="kwartaal"))) == 0


def test_clienten_per_plafond_counts_distinct_clients_over_the_groups_of_a_ceiling():
    import numpy as np

    # ceilings 0 and 2 (1 matches nothing); groups 0, 1, 2; ceiling 0 covers groups 0 and 1, ceiling 2 group 1
    pid, k = np.array([0, 0, 2]), np.array([0, 1, 1])
    # clients of group 0: 5, 7; group 1: 7, 8; group 2: 9 (no ceiling)
    cl_k, cl = np.array([0, 0, 1, 1, 2]), np.array([5, 7, 7, 8, 9])
    n = budget._clienten_per_plafond(pid, k, cl_k, cl, 3, 10)
    assert n.to_dict() == {0: 3, 2: 2}  # ceiling 0: 5, 7, 8 (7 once); ceiling 2: 7, 8


def test_runs_start_where_any_array_changes():
    import numpy as np

    a = np.array([1, 1, 1, 2, 2, 1])
    b = np.array([5, 5, 6, 6, 6, 6])
    assert budget._runs([a, b]).tolist() == [0, 2, 3, 5]
    assert budget._runs([a]).tolist() == [0, 3, 5]
    assert budget._runs([np.array([], dtype=np.int64)]).tolist() == []
