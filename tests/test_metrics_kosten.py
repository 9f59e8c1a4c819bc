"""Cost metrics (metrics.md section 1) on a hand-worked case, on the DuckDB engine.

Peildatum 2024-08-01, start 2022-01-01 (years 2022, 2023 complete; 2024 voorlopig).
Products: 45A53 (GGZ, traject, segment "4 - Ambulant"), 45A48 (GGZ, inspanning,
"4 - Ambulant"), 41L23 (productgroep = its code, inspanning, "3 - Dag").

line  toewijzing client agb  product gemeente periode   amount (EUR)
L1    T1         c1     111  45A53   0983     2022-03   +1000
L2    T2         c2     222  41L23   0983     2023-02   +500
L3    T1         c1     111  45A53   0983     2023-09   +700
L4    T1         c1     111  45A53   0983     2023-09   -200  (credit on L3: item net +500)
L5    T3         c3     444  41L23   0983     2023-10   -100  (credit without debet: kept)
L6    ONB        c4     333  45A48   0983     2023-11   +300  (toewijzing unknown: still cost)
L7    T1         c1     111  45A53   0983     2024-01   +600
L8    T2         c2     222  41L23   0983     2024-06   +300
L9    T1         c1     111  45A53   0983     2024-07   +300
L10   T9         c9     111  45A53   0935     2023-04   +2000
"""

from __future__ import annotations

import pytest

from _ds_factory import dec, frame, make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib import kpi
from jeugdlib.metrics import kosten

P = Params("2024-08-01", start="2022-01-01")

LINES = [
    dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
         periode_begin="2022-03-01", periode_eind="2022-03-31", bedrag_cent_signed=100000),
    dict(toewijzing_nr="T2", client_id="c2", agb="22222222", productcode="41L23", productcategorie="41",
         gemeentecode="0983", periode_begin="2023-02-01", periode_eind="2023-02-28", bedrag_cent_signed=50000),
    dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
         periode_begin="2023-09-01", periode_eind="2023-09-30", bedrag_cent_signed=70000),
    dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
         periode_begin="2023-09-01", periode_eind="2023-09-30", bedrag_cent_signed=-20000),
    dict(toewijzing_nr="T3", client_id="c3", agb="44444444", productcode="41L23", productcategorie="41",
         gemeentecode="0983", periode_begin="2023-10-01", periode_eind="2023-10-31", bedrag_cent_signed=-10000),
    dict(toewijzing_nr="ONB", client_id="c4", agb="33333333", productcode="45A48", gemeentecode="0983",
         periode_begin="2023-11-01", periode_eind="2023-11-30", bedrag_cent_signed=30000),
    dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
         periode_begin="2024-01-01", periode_eind="2024-01-31", bedrag_cent_signed=60000),
    dict(toewijzing_nr="T2", client_id="c2", agb="22222222", productcode="41L23", productcategorie="41",
         gemeentecode="0983", periode_begin="2024-06-01", periode_eind="2024-06-30", bedrag_cent_signed=30000),
    dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
         periode_begin="2024-07-01", periode_eind="2024-07-31", bedrag_cent_signed=30000),
    dict(toewijzing_nr="T9", client_id="c9", agb="11111111", productcode="45A53", gemeentecode="0935",
         periode_begin="2023-04-01", periode_eind="2023-04-30", bedrag_cent_signed=200000),
]
TOEWIJZINGEN = [tw(toewijzing_nr=t, client_id=c, ingangsdatum="2022-01-01")
                for t, c in (("T1", "c1"), ("T2", "c2"), ("T3", "c3"), ("T9", "c9"))]


def _cleaned(extra=(), params=P):
    return clean(make_ds(TOEWIJZINGEN, [dec(**d) for d in LINES + list(extra)]), params)


@pytest.fixture(scope="module")
def cleaned():
    return _cleaned()


def _val(df, regio, gemeente, periode, dimensie=""):
    r = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == periode)
           & (df["dimensie"] == dimensie)]
    assert len(r) <= 1
    return None if len(r) == 0 else float(r["waarde"].iloc[0])


def _n(df, regio, gemeente, periode, dimensie=""):
    r = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == periode)
           & (df["dimensie"] == dimensie)]
    assert len(r) <= 1
    return None if len(r) == 0 else float(r["n_clienten"].iloc[0])


def test_kosten_total_includes_unknown_toewijzing_and_credit(cleaned):
    k = kosten.kosten(cleaned)
    # Venlo 2023: 500 + (700 - 200) - 100 + 300 (toewijzing unknown) = 1200
    assert _val(k, "Noord-Limburg", "0983", "2023") == pytest.approx(1200.0)
    assert _val(k, "Noord-Limburg", "", "2023") == pytest.approx(1200.0)
    assert _val(k, "Zuid-Limburg", "0935", "2023") == pytest.approx(2000.0)
    assert _val(k, "Nederland", "", "2023") == pytest.approx(3200.0)
    assert _val(k, "Nederland", "", "2022") == pytest.approx(1000.0)
    assert _val(k, "Zuid-Limburg", "0935", "2022") == 0.0  # completed with 0
    # 2024 (to the peildatum): 600 + 300 + 300
    assert _val(k, "Nederland", "", "2024") == pytest.approx(1200.0)
    assert k["n_clienten"].isna().all()  # money: no client basis


def test_kosten_dimensions(cleaned):
    k = kosten.kosten(cleaned)
    # Venlo 2023: 4 - Ambulant = 500 (45A53) + 300 (45A48) = 800; 3 - Dag = 500 - 100 = 400
    assert _val(k, "Noord-Limburg", "0983", "2023", "segment=4 - Ambulant") == pytest.approx(800.0)
    assert _val(k, "Noord-Limburg", "0983", "2023", "segment=3 - Dag") == pytest.approx(400.0)
    # traject 500; inspanning 400 (41L23) + 300 (45A48) = 700
    assert _val(k, "Noord-Limburg", "0983", "2023", "financieringsvorm=traject") == pytest.approx(500.0)
    assert _val(k, "Noord-Limburg", "0983", "2023", "financieringsvorm=inspanning") == pytest.approx(700.0)
    # GGZ = 45A53 + 45A48 = 800; 41L23 has an empty productgroep -> its own code
    assert _val(k, "Noord-Limburg", "0983", "2023", "productgroep=GGZ") == pytest.approx(800.0)
    assert _val(k, "Noord-Limburg", "0983", "2023", "productgroep=41L23") == pytest.approx(400.0)
    assert _val(k, "Nederland", "", "2023", "productcode=45A53") == pytest.approx(2500.0)  # 500 + 2000
    assert _val(k, "Nederland", "", "2023", "productcode=45A48") == pytest.approx(300.0)
    # a dimension value only where it has items: no 45A48 in Maastricht
    assert _val(k, "Zuid-Limburg", "0935", "2023", "productcode=45A48") is None


def test_kosten_per_client(cleaned):
    k = kosten.kosten_per_client(cleaned)
    # Venlo 2023: positive clients c1 (500), c2 (500), c4 (300); c3 is -100 -> 1200 / 3 = 400
    assert _val(k, "Noord-Limburg", "0983", "2023") == pytest.approx(400.0)
    # Nederland 2023: plus c9 (2000) -> 3200 / 4 = 800
    assert _val(k, "Nederland", "", "2023") == pytest.approx(800.0)
    assert _n(k, "Nederland", "", "2023") == 4


def test_aanbieders(cleaned):
    a = kosten.aanbieders(cleaned)
    # Venlo 2023: 111 (500), 222 (500), 333 (300); 444 is net -100 -> 3
    assert _val(a, "Noord-Limburg", "0983", "2023") == 3
    assert _val(a, "Zuid-Limburg", "0935", "2023") == 1
    assert _val(a, "Nederland", "", "2023") == 3  # 111 is in both regions
    assert _val(a, "Nederland", "", "2024") == 2  # 111, 222


def test_kosten_groei(cleaned):
    g = kosten.kosten_groei(cleaned)
    # Venlo: 1200 / 1000 - 1 = 0.2; Nederland: 3200 / 1000 - 1 = 2.2
    assert _val(g, "Noord-Limburg", "0983", "2023") == pytest.approx(0.2)
    assert _val(g, "Nederland", "", "2023") == pytest.approx(2.2)
    assert _val(g, "Zuid-Limburg", "0935", "2023") is None  # 2022 was 0
    assert _val(g, "Nederland", "", "2024") is None  # 2024 is not complete


def test_kosten_groei_is_yearly_whatever_per(cleaned):
    p = Params("2024-08-01", start="2022-01-01", per="kwartaal")
    g = kosten.kosten_groei(cleaned.met_params(p))
    assert _val(g, "Nederland", "", "2023") == pytest.approx(2.2)
    assert set(g["periode"]) == {"2023"}


def test_kosten_prognose_lineair_and_seizoen(cleaned):
    lin = kosten.kosten_prognose_lineair(cleaned)
    # m = 7 (January-July); Venlo YTD 600 + 300 + 300 = 1200 -> 1200 x 12 / 7
    assert _val(lin, "Noord-Limburg", "0983", "2024") == pytest.approx(1200 * 12 / 7)
    assert _val(lin, "Zuid-Limburg", "0935", "2024") == 0.0
    sz = kosten.kosten_prognose_seizoen(cleaned)
    # Venlo 2023: first 7 months 500 of 1200 -> 1200 / (500 / 1200) = 2880
    assert _val(sz, "Noord-Limburg", "0983", "2024") == pytest.approx(2880.0)
    # Nederland 2023: first 7 months 500 + 2000 = 2500 of 3200 -> 1200 / (2500 / 3200) = 1536
    assert _val(sz, "Nederland", "", "2024") == pytest.approx(1536.0)


def test_prognose_mid_month_peildatum_and_january():
    p = Params("2024-08-15", start="2022-01-01")
    extra = [dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
                  periode_begin="2024-08-01", periode_eind="2024-08-31", bedrag_cent_signed=100000)]
    c = _cleaned(extra, p)
    lin = kosten.kosten_prognose_lineair(c)
    # still m = 7 whole months; the August line is not in the 7 months: 1200 x 12 / 7
    assert _val(lin, "Nederland", "", "2024") == pytest.approx(1200 * 12 / 7)
    januari = _cleaned(extra, Params("2024-01-01", start="2022-01-01"))
    assert len(kosten.kosten_prognose_lineair(januari)) == 0
    assert len(kosten.kosten_prognose_seizoen(januari)) == 0


def test_kpis(cleaned):
    ids = ["aanbieders", "kosten", "kosten_per_client", "kosten_groei", "kosten_prognose_lineair",
           "kosten_prognose_seizoen", "afgewezen_bedrag", "aandeel_afgewezen"]
    k = kpi.kpi_rows(cleaned, ids)
    # no JW325 in the data: no rejection KPIs
    assert set(k["kpi"]) == {"aanbieders", "kosten", "kosten_per_client", "kosten_groei",
                             "kosten_prognose_lineair", "kosten_prognose_seizoen"}
    dims = set(k.loc[k["kpi"] == "kosten", "dimensie"].str.split("=").str[0])
    assert dims == {"", "segment", "financieringsvorm", "productgroep", "productcode"}
    assert not k.duplicated(["kpi", "regio", "gemeente", "periode", "dimensie"]).any()
    assert set(k["eenheid"]) == {"aantal", "euro", "fractie"}


def test_a_second_dataset_gives_its_own_figures(cleaned):
    # a second, different dataset must not reuse anything of the first one
    other = _cleaned([dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53",
                           gemeentecode="0983", periode_begin="2023-12-01", periode_eind="2023-12-31",
                           bedrag_cent_signed=50000)])
    assert _val(kosten.kosten(cleaned), "Nederland", "", "2023") == pytest.approx(3200.0)
    assert _val(kosten.kosten(other), "Nederland", "", "2023") == pytest.approx(3700.0)  # + EUR 500 in December
    assert _val(kosten.kosten(cleaned), "Nederland", "", "2023") == pytest.approx(3200.0)


def test_clients_netted_over_the_gemeenten_of_their_regio():
    """c1 has +500 in Venlo and -600 in Venray (both Noord-Limburg) in 2023: counted in
    neither Venray (negative) nor the regio or Nederland (net -100), but in Venlo."""
    extra = [dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0984",
                  periode_begin="2023-06-01", periode_eind="2023-06-30", bedrag_cent_signed=-60000)]
    k = kosten.kosten_per_client(_cleaned(extra))
    assert _n(k, "Noord-Limburg", "0983", "2023") == 3  # c1, c2, c4 (c3 is -100)
    assert _n(k, "Noord-Limburg", "0984", "2023") is None  # no client with a positive amount: no row
    assert _n(k, "Noord-Limburg", "", "2023") == 2  # c2, c4
    assert _n(k, "Nederland", "", "2023") == 3  # c2, c4 and c9 (Maastricht)
    assert _val(k, "Noord-Limburg", "", "2023") == pytest.approx((1200 - 600) / 2)


# --------------------------------------------------------------------------- JW325 rejections

# Declarations of aanbieder 111 (peildatum 2024-08-01), amounts in EUR:
#   declaratie ref  gemeente client product month     EUR  JW325 answer
#   D1         r1   0983     c1     45A53   2023-03   400  prestatie r1 rejected (answer 2023-05-01)
#   D1         r2   0983     c1     45A53   2023-04   250  -
#   D2         r3   0983     c2     41L23   2023-05   300  whole declaration rejected (answer 2023-07-15)
#   D2         r4   0983     c2     41L23   2023-06   100  whole declaration rejected
#   D3         r5   0983     c1     45A53   2023-07   500  rejected in an answer of 2024-09-01: after the peildatum
#   D2         r6   0984     c3     45A53   2023-08   200  same DeclaratieNummer, other gemeente: not rejected
AFGEWEZEN_LINES = [
    ("D1", "r1", "0983", "c1", "T1", "45A53", "45", 3, 40000),
    ("D1", "r2", "0983", "c1", "T1", "45A53", "45", 4, 25000),
    ("D2", "r3", "0983", "c2", "T2", "41L23", "41", 5, 30000),
    ("D2", "r4", "0983", "c2", "T2", "41L23", "41", 6, 10000),
    ("D3", "r5", "0983", "c1", "T1", "45A53", "45", 7, 50000),
    ("D2", "r6", "0984", "c3", "T3", "45A53", "45", 8, 20000),
]
AFWIJZINGEN = [
    dict(agb="11111111", gemeentecode="0983", declaratie_nr="D1", referentie_nr="r1", retourcodes="8001",
         bedrag_cent_signed=40000, antwoorddatum="2023-05-01"),
    dict(agb="11111111", gemeentecode="0983", declaratie_nr="D2", referentie_nr="", retourcodes="0001",
         bedrag_cent_signed=40000, antwoorddatum="2023-07-15"),
    dict(agb="11111111", gemeentecode="0983", declaratie_nr="D3", referentie_nr="r5", retourcodes="8001",
         bedrag_cent_signed=50000, antwoorddatum="2024-09-01"),
]


@pytest.fixture(scope="module")
def afgewezen():
    lines = [dec(declaratie_nr=d, referentie_nr=r, gemeentecode=g, client_id=cl, toewijzing_nr=t, agb="11111111",
                 productcode=pc, productcategorie=cat, periode_begin=f"2023-{m:02d}-01",
                 periode_eind=f"2023-{m:02d}-28", bedrag_cent_signed=cent)
             for d, r, g, cl, t, pc, cat, m, cent in AFGEWEZEN_LINES]
    ds = make_ds(TOEWIJZINGEN, lines)
    setattr(ds, "afwijzingen", frame(AFWIJZINGEN, "afwijzingen"))
    return clean(ds, P)


def test_afgewezen_bedrag_a_rejected_line_and_a_rejected_declaration(afgewezen):
    a = kosten.afgewezen_bedrag(afgewezen)
    # Venlo 2023: r1 (400) + the whole of D2 in Venlo, r3 (300) + r4 (100) = 800; r5's answer is too late
    assert _val(a, "Noord-Limburg", "0983", "2023") == pytest.approx(800.0)
    assert _val(a, "Noord-Limburg", "0984", "2023") == 0.0  # D2 of Venray is another declaration
    assert _val(a, "Noord-Limburg", "", "2023") == pytest.approx(800.0)
    assert _val(a, "Noord-Limburg", "0983", "2022") == 0.0
    assert a["n_clienten"].isna().all()  # money: no client basis
    q = kosten.afgewezen_bedrag(afgewezen.met_params(Params("2024-08-01", start="2022-01-01", per="kwartaal")))
    assert _val(q, "Noord-Limburg", "0983", "2023-Q1") == pytest.approx(400.0)  # r1 (March)
    assert _val(q, "Noord-Limburg", "0983", "2023-Q2") == pytest.approx(400.0)  # r3 (May) + r4 (June)
    # cleaning left exactly these lines out of kosten: r2 (250) + r5 (500) in Venlo, r6 (200) in Venray
    k = kosten.kosten(afgewezen)
    assert _val(k, "Noord-Limburg", "0983", "2023") == pytest.approx(750.0)
    assert _val(k, "Noord-Limburg", "", "2023") == pytest.approx(950.0)


def test_afgewezen_bedrag_leaves_out_excluded_aanbieders_and_old_clients():
    # the rejected lines follow cleaning's rules 7 and 8 as the kept items do
    lines = [dec(declaratie_nr=d, referentie_nr=r, gemeentecode=g, client_id=cl, toewijzing_nr=t,
                 agb="22222222" if cl == "c2" else "11111111", productcode=pc, productcategorie=cat,
                 periode_begin=f"2023-{m:02d}-01", periode_eind=f"2023-{m:02d}-28", bedrag_cent_signed=cent)
             for d, r, g, cl, t, pc, cat, m, cent in AFGEWEZEN_LINES]
    afw = [dict(a, agb="22222222") if a["declaratie_nr"] == "D2" else a for a in AFWIJZINGEN]
    ds = make_ds(TOEWIJZINGEN, lines)
    setattr(ds, "afwijzingen", frame(afw, "afwijzingen"))
    # c2's aanbieder 22222222 excluded: only r1 (400) of c1 is left
    c = clean(ds, Params("2024-08-01", start="2022-01-01", exclude_agb=("22222222",)))
    assert _val(kosten.afgewezen_bedrag(c), "Noord-Limburg", "0983", "2023") == pytest.approx(400.0)
    # every client is older than 0 (born 2012): no item is kept and no rejected line counts
    c = clean(ds, Params("2024-08-01", start="2022-01-01", max_leeftijd=0))
    a = kosten.afgewezen_bedrag(c)
    assert _val(a, "Nederland", "", "2023") == 0.0 and _val(a, "Noord-Limburg", "0983", "2023") is None


def test_aandeel_afgewezen(afgewezen):
    a = kosten.aandeel_afgewezen(afgewezen)
    # Venlo: 800 / (750 + 800); the regio: 800 / (950 + 800); Venray: 0 / 200
    assert _val(a, "Noord-Limburg", "0983", "2023") == pytest.approx(800 / 1550)
    assert _val(a, "Noord-Limburg", "", "2023") == pytest.approx(800 / 1750)
    assert _val(a, "Noord-Limburg", "0984", "2023") == 0.0
    assert _val(a, "Noord-Limburg", "0983", "2022") is None  # nothing declared
    # clients with a positive amount in the denominator: c1 (250 + 500 + 400), c2 (400 rejected)
    assert _n(a, "Noord-Limburg", "0983", "2023") == 2
    assert _n(a, "Noord-Limburg", "", "2023") == 3
