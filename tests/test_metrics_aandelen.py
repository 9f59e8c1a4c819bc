"""Shares of cost and aanbieder counts (metrics.md section 2), hand-worked, on the DuckDB engine.

Case 1, Venlo (0983), 2023 (peildatum 2024-01-01):

aanbieder  type      contracted           client product (segment, variant)   month  EUR
444        micro     from 2023-07-01      c1     45A48 (4, maatwerk)           06     100  NGA (before contract)
444        micro     from 2023-07-01      c1     45A48 (4, maatwerk)           07     300  contracted
111        regulier  since 2020           c2     45A53 (4, -)                  03     400
333        regulier  never (NGA)          c3     41L23 (3, meerwerk)           05     200  NGA

Total 1000; NGA 300.

Case 2, Maastricht (0935), 2023: eleven aanbieders (not in aanbieders.csv) with
kosten i x EUR 2,000 for i = 1..11; the eleventh serves two clients.
"""

from __future__ import annotations

import pytest

from _ds_factory import AANBIEDERS, dec, make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib import kpi
from jeugdlib.metrics import aandelen

P = Params("2024-01-01", start="2023-01-01")
AANB = AANBIEDERS + [{"agb": "44444444", "naam": "Half jaar", "type": "micro",
                      "gecontracteerd_vanaf": "2023-07-01", "gecontracteerd_tot": None}]


def _line(nr, client, agb, code, month, euro, gem="0983", cat="45"):
    return dec(toewijzing_nr=nr, client_id=client, agb=agb, productcode=code, productcategorie=cat,
               gemeentecode=gem, periode_begin=f"2023-{month:02d}-01", periode_eind=f"2023-{month:02d}-28",
               bedrag_cent_signed=euro * 100)


@pytest.fixture(scope="module")
def case1():
    lines = [_line("A", "c1", "44444444", "45A48", 6, 100), _line("A", "c1", "44444444", "45A48", 7, 300),
             _line("B", "c2", "11111111", "45A53", 3, 400), _line("C", "c3", "33333333", "41L23", 5, 200, cat="41")]
    return clean(make_ds([tw(toewijzing_nr=t) for t in "ABC"], lines, aanbieders=AANB), P)


@pytest.fixture(scope="module")
def case2():
    lines = [_line(f"M{i}", f"m{i}", f"900000{i:02d}", "45A53", 3, 2000 * i, gem="0935") for i in range(1, 11)]
    lines += [_line("M11a", "m11", "90000011", "45A53", 3, 11000, gem="0935"),
              _line("M11b", "m12", "90000011", "45A53", 4, 11000, gem="0935")]
    return clean(make_ds([], lines), P)


def _val(df, regio, gemeente, dimensie=""):
    r = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == "2023")
           & (df["dimensie"] == dimensie)]
    assert len(r) <= 1
    return None if len(r) == 0 else float(r["waarde"].iloc[0])


def _n(df, regio, gemeente, dimensie=""):
    r = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == "2023")
           & (df["dimensie"] == dimensie)]
    assert len(r) == 1
    return float(r["n_clienten"].iloc[0])


def test_aandeel_nga_part_year_contract(case1):
    a = aandelen.aandeel_nga(case1)
    # NGA: 100 (444 before its contract) + 200 (333 never) = 300 of 1000
    assert _val(a, "Noord-Limburg", "0983") == pytest.approx(0.3)
    assert _n(a, "Noord-Limburg", "0983") == 3
    # segment 4: 100 NGA of 100 + 300 + 400 = 800; segment 3: 200 of 200
    assert _val(a, "Noord-Limburg", "0983", "segment=4 - Ambulant") == pytest.approx(100 / 800)
    assert _val(a, "Noord-Limburg", "0983", "segment=3 - Dag") == pytest.approx(1.0)
    assert _n(a, "Noord-Limburg", "0983", "segment=4 - Ambulant") == 2  # c1, c2
    assert _n(a, "Noord-Limburg", "0983", "segment=3 - Dag") == 1  # c3


def test_aandeel_variant(case1):
    a = aandelen.aandeel_variant(case1)
    # maatwerk 45A48: 400; meerwerk 41L23: 200; overig 45A53: 400
    assert _val(a, "Nederland", "", "variant=maatwerk") == pytest.approx(0.4)
    assert _val(a, "Nederland", "", "variant=meerwerk") == pytest.approx(0.2)
    assert _val(a, "Nederland", "", "variant=overig") == pytest.approx(0.4)


def test_aandeel_aanbiedertype(case1, case2):
    a = aandelen.aandeel_aanbiedertype(case1)
    # micro 444: 400 of 1000
    assert _val(a, "Noord-Limburg", "", "type=micro") == pytest.approx(0.4)
    assert _val(a, "Noord-Limburg", "", "type=regulier") == pytest.approx(0.6)
    # unknown AGB codes count as regulier
    b = aandelen.aandeel_aanbiedertype(case2)
    assert _val(b, "Zuid-Limburg", "0935", "type=regulier") == 1.0
    assert _val(b, "Zuid-Limburg", "0935", "type=micro") == 0.0


def test_aandeel_top10(case1, case2):
    a = aandelen.aandeel_top10(case2)
    # total 2000 x (1 + ... + 11) = 132,000; all but the smallest (2,000) are in the top 10
    assert _val(a, "Zuid-Limburg", "0935") == pytest.approx(130000 / 132000)
    assert aandelen.aandeel_top10(case1)["waarde"].eq(1.0).all()  # 3 aanbieders: all of it


def test_aandeel_top10_counts_only_aanbieders_present():
    """Top 2 (n=2) among present aanbieders 5, -3, 7 (EUR): 12 of 9; with fewer present
    than n all of them count, the negative one too (9 of 9)."""
    lines = [_line("A", "a1", "90000001", "45A53", 3, 5), _line("B", "a2", "90000002", "45A53", 3, -3),
             _line("C", "a3", "90000003", "45A53", 3, 7)]
    c = clean(make_ds([], lines), P)
    assert _val(aandelen.aandeel_top10(c, n=2), "Noord-Limburg", "0983") == pytest.approx(12 / 9)
    assert _val(aandelen.aandeel_top10(c, n=10), "Noord-Limburg", "0983") == pytest.approx(1.0)


def test_aanbieders_klein_and_een_client(case2):
    k = aandelen.aanbieders_klein(case2)
    # below EUR 20,000: 2,000 .. 18,000 (i = 1..9); exactly 20,000 is not below
    assert _val(k, "Zuid-Limburg", "0935") == 9
    e = aandelen.aanbieders_een_client(case2)
    # 90000011 serves m11 and m12; the other ten one client each
    assert _val(e, "Zuid-Limburg", "0935") == 10
    assert e["n_clienten"].isna().all()


def test_kpis(case1):
    ids = ["aandeel_nga", "aandeel_variant", "aandeel_aanbiedertype", "aandeel_top10", "aanbieders_klein",
           "aanbieders_een_client"]
    k = kpi.kpi_rows(case1, ids)
    assert set(k["kpi"]) == set(ids)
    assert not k.duplicated(["kpi", "regio", "gemeente", "periode", "dimensie"]).any()
    assert set(k.loc[k["kpi"] == "aanbieders_klein", "periode"]) == {"2023"}
    # aanbieders_klein stays yearly when the others are per quarter
    q = kpi.kpi_rows(case1.met_params(Params("2024-01-01", start="2023-01-01", per="kwartaal")), ids)
    assert set(q.loc[q["kpi"] == "aanbieders_klein", "periode"]) == {"2023"}
    # a share only where the period has kosten: none in the fourth quarter (lines in March to July)
    assert set(q.loc[q["kpi"] == "aandeel_nga", "periode"]) == {"2023-Q1", "2023-Q2", "2023-Q3"}


def test_aandeel_nga_per_product(case1):
    """45A48 (c1 at 444, contracted from 1 July): June 100 NGA of 100 + 300 = 400; 45A53 (111,
    contracted): 0 of 400; 41L23 (333, never contracted): 200 of 200."""
    a = aandelen.aandeel_nga_per_product(case1)
    assert _val(a, "Noord-Limburg", "0983", "productcode=45A48") == pytest.approx(100 / 400)
    assert _val(a, "Noord-Limburg", "0983", "productcode=45A53") == pytest.approx(0.0)
    assert _val(a, "Noord-Limburg", "0983", "productcode=41L23") == pytest.approx(1.0)
    assert _n(a, "Noord-Limburg", "0983", "productcode=45A48") == 1  # c1
    assert _val(a, "Nederland", "", "productcode=45A48") == pytest.approx(0.25)
