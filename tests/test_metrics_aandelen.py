"""Shares of cost and aanbieder counts (metrics.md section 2), hand-worked.

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
from jeugdlib.metrics import _common, aandelen

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
    return clean(make_ds([tw(toewijzing_nr=t) for t in "ABC"], lines, aanbieders=AANB), P).declaraties


@pytest.fixture(scope="module")
def case2():
    lines = [_line(f"M{i}", f"m{i}", f"900000{i:02d}", "45A53", 3, 2000 * i, gem="0935") for i in range(1, 11)]
    lines += [_line("M11a", "m11", "90000011", "45A53", 3, 11000, gem="0935"),
              _line("M11b", "m12", "90000011", "45A53", 4, 11000, gem="0935")]
    return clean(make_ds([], lines), P).declaraties


def per():
    return _common.periods(P.start, P.peildatum, "jaar")


def _val(df, regio, gemeente, dimensie=""):
    r = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == "2023")
           & (df["dimensie"] == dimensie)]
    assert len(r) <= 1
    return None if len(r) == 0 else float(r["waarde"].iloc[0])


def test_aandeel_nga_part_year_contract(case1):
    a = aandelen.aandeel_nga(case1, per())
    # NGA: 100 (444 before its contract) + 200 (333 never) = 300 of 1000
    assert _val(a, "Noord-Limburg", "0983") == pytest.approx(0.3)
    assert float(a["n_clienten"].iloc[0]) == 3
    s = aandelen.aandeel_nga(case1, per(), per_segment=True)
    # segment 4: 100 NGA of 100 + 300 + 400 = 800; segment 3: 200 of 200
    assert _val(s, "Noord-Limburg", "0983", "segment=4 - Ambulant") == pytest.approx(100 / 800)
    assert _val(s, "Noord-Limburg", "0983", "segment=3 - Dag") == pytest.approx(1.0)


def test_aandeel_variant(case1):
    a = aandelen.aandeel_variant(case1, per())
    # maatwerk 45A48: 400; meerwerk 41L23: 200; overig 45A53: 400
    assert _val(a, "Nederland", "", "variant=maatwerk") == pytest.approx(0.4)
    assert _val(a, "Nederland", "", "variant=meerwerk") == pytest.approx(0.2)
    assert _val(a, "Nederland", "", "variant=overig") == pytest.approx(0.4)


def test_aandeel_aanbiedertype(case1, case2):
    a = aandelen.aandeel_aanbiedertype(case1, per())
    # micro 444: 400 of 1000
    assert _val(a, "Noord-Limburg", "", "type=micro") == pytest.approx(0.4)
    assert _val(a, "Noord-Limburg", "", "type=regulier") == pytest.approx(0.6)
    # unknown AGB codes count as regulier
    b = aandelen.aandeel_aanbiedertype(case2, per())
    assert _val(b, "Zuid-Limburg", "0935", "type=regulier") == 1.0
    assert _val(b, "Zuid-Limburg", "0935", "type=micro") == 0.0


def test_aandeel_top10(case1, case2):
    a = aandelen.aandeel_top10(case2, per())
    # total 2000 x (1 + ... + 11) = 132,000; all but the smallest (2,000) are in the top 10
    assert _val(a, "Zuid-Limburg", "0935") == pytest.approx(130000 / 132000)
    assert aandelen.aandeel_top10(case1, per())["waarde"].eq(1.0).all()  # 3 aanbieders: all of it


def test_aanbieders_klein_and_een_client(case2):
    k = aandelen.aanbieders_klein(case2, per())
    # below EUR 20,000: 2,000 .. 18,000 (i = 1..9); exactly 20,000 is not below
    assert _val(k, "Zuid-Limburg", "0935") == 9
    e = aandelen.aanbieders_een_client(case2, per())
    # 90000011 serves m11 and m12; the other ten one client each
    assert _val(e, "Zuid-Limburg", "0935") == 10
    assert e["n_clienten"].isna().all()


def test_kpis(case1):
    class C:  # the kpis only use declaraties
        declaraties = case1
    k = aandelen.kpis(C, P)
    assert set(k["kpi"]) == {"aandeel_nga", "aandeel_variant", "aandeel_aanbiedertype", "aandeel_top10",
                             "aanbieders_klein", "aanbieders_een_client"}
    assert not k.duplicated(["kpi", "regio", "gemeente", "periode", "dimensie"]).any()
    assert set(k.loc[k["kpi"] == "aanbieders_klein", "periode"]) == {"2023"}


def test_top_som_only_present_entries():
    import numpy as np

    s = np.array([[5.0, -3.0, 7.0, 0.0], [1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    c = np.array([[1, 1, 1, 0], [1, 0, 0, 1], [0, 0, 0, 0]])
    # row 0: present 5, -3, 7 -> top 2 = 12; row 1: present 1, 4 -> 5; row 2: none -> 0
    assert aandelen._top_som(s, c, 2).tolist() == [[12.0], [5.0], [0.0]]
    # fewer present than n: all of them (also the negative one)
    assert aandelen._top_som(s, c, 10)[:, 0].tolist() == [9.0, 5.0, 0.0]
    assert aandelen._top_som(s[None], c[None], 1).shape == (1, 3, 1)
