"""Cost metrics (metrics.md section 1) on a hand-worked case.

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

from _ds_factory import dec, make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import _common, kosten

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


def jaren():
    return _common.periods(P.start, P.peildatum, "jaar")


def test_kosten_total_includes_unknown_toewijzing_and_credit(cleaned):
    k = kosten.kosten(cleaned.declaraties, jaren())
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
    dec = cleaned.declaraties
    seg = kosten.kosten(dec, jaren(), "segment")
    # Venlo 2023: 4 - Ambulant = 500 (45A53) + 300 (45A48) = 800; 3 - Dag = 500 - 100 = 400
    assert _val(seg, "Noord-Limburg", "0983", "2023", "segment=4 - Ambulant") == pytest.approx(800.0)
    assert _val(seg, "Noord-Limburg", "0983", "2023", "segment=3 - Dag") == pytest.approx(400.0)
    fv = kosten.kosten(dec, jaren(), "financieringsvorm")
    # traject 500; inspanning 400 (41L23) + 300 (45A48) = 700
    assert _val(fv, "Noord-Limburg", "0983", "2023", "financieringsvorm=traject") == pytest.approx(500.0)
    assert _val(fv, "Noord-Limburg", "0983", "2023", "financieringsvorm=inspanning") == pytest.approx(700.0)
    pg = kosten.kosten(dec, jaren(), "productgroep")
    # GGZ = 45A53 + 45A48 = 800; 41L23 has an empty productgroep -> its own code
    assert _val(pg, "Noord-Limburg", "0983", "2023", "productgroep=GGZ") == pytest.approx(800.0)
    assert _val(pg, "Noord-Limburg", "0983", "2023", "productgroep=41L23") == pytest.approx(400.0)
    pc = kosten.kosten(dec, jaren(), "productcode")
    assert _val(pc, "Nederland", "", "2023", "productcode=45A53") == pytest.approx(2500.0)  # 500 + 2000
    assert _val(pc, "Nederland", "", "2023", "productcode=45A48") == pytest.approx(300.0)


def test_kosten_per_client(cleaned):
    k = kosten.kosten_per_client(cleaned.declaraties, jaren())
    # Venlo 2023: positive clients c1 (500), c2 (500), c4 (300); c3 is -100 -> 1200 / 3 = 400
    assert _val(k, "Noord-Limburg", "0983", "2023") == pytest.approx(400.0)
    # Nederland 2023: plus c9 (2000) -> 3200 / 4 = 800
    assert _val(k, "Nederland", "", "2023") == pytest.approx(800.0)
    r = k[(k["regio"] == "Nederland") & (k["periode"] == "2023")]
    assert float(r["n_clienten"].iloc[0]) == 4


def test_aanbieders(cleaned):
    a = kosten.aanbieders(cleaned.declaraties, jaren())
    # Venlo 2023: 111 (500), 222 (500), 333 (300); 444 is net -100 -> 3
    assert _val(a, "Noord-Limburg", "0983", "2023") == 3
    assert _val(a, "Zuid-Limburg", "0935", "2023") == 1
    assert _val(a, "Nederland", "", "2023") == 3  # 111 is in both regions
    assert _val(a, "Nederland", "", "2024") == 2  # 111, 222


def test_kosten_groei(cleaned):
    g = kosten.kosten_groei(cleaned.declaraties, jaren())
    # Venlo: 1200 / 1000 - 1 = 0.2; Nederland: 3200 / 1000 - 1 = 2.2
    assert _val(g, "Noord-Limburg", "0983", "2023") == pytest.approx(0.2)
    assert _val(g, "Nederland", "", "2023") == pytest.approx(2.2)
    assert _val(g, "Zuid-Limburg", "0935", "2023") is None  # 2022 was 0
    assert _val(g, "Nederland", "", "2024") is None  # 2024 is not complete


def test_kosten_prognose_lineair_and_seizoen(cleaned):
    lin = kosten.kosten_prognose_lineair(cleaned.declaraties, P.peildatum)
    # m = 7 (January-July); Venlo YTD 600 + 300 + 300 = 1200 -> 1200 x 12 / 7
    assert _val(lin, "Noord-Limburg", "0983", "2024") == pytest.approx(1200 * 12 / 7)
    assert _val(lin, "Zuid-Limburg", "0935", "2024") == 0.0
    sz = kosten.kosten_prognose_seizoen(cleaned.declaraties, P.peildatum)
    # Venlo 2023: first 7 months 500 of 1200 -> 1200 / (500 / 1200) = 2880
    assert _val(sz, "Noord-Limburg", "0983", "2024") == pytest.approx(2880.0)
    # Nederland 2023: first 7 months 500 + 2000 = 2500 of 3200 -> 1200 / (2500 / 3200) = 1536
    assert _val(sz, "Nederland", "", "2024") == pytest.approx(1536.0)


def test_prognose_mid_month_peildatum_and_january():
    p = Params("2024-08-15", start="2022-01-01")
    extra = [dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0983",
                  periode_begin="2024-08-01", periode_eind="2024-08-31", bedrag_cent_signed=100000)]
    c = _cleaned(extra, p)
    lin = kosten.kosten_prognose_lineair(c.declaraties, p.peildatum)
    # still m = 7 whole months; the August line is not in the 7 months: 1200 x 12 / 7
    assert _val(lin, "Nederland", "", "2024") == pytest.approx(1200 * 12 / 7)
    assert len(kosten.kosten_prognose_lineair(c.declaraties, "2024-01-01")) == 0


def test_kpis(cleaned):
    k = kosten.kpis(cleaned, P)
    assert set(k["kpi"]) == {"aanbieders", "kosten", "kosten_per_client", "kosten_groei",
                             "kosten_prognose_lineair", "kosten_prognose_seizoen"}
    dims = set(k.loc[k["kpi"] == "kosten", "dimensie"].str.split("=").str[0])
    assert dims == {"", "segment", "financieringsvorm", "productgroep", "productcode"}
    assert not k.duplicated(["kpi", "regio", "gemeente", "periode", "dimensie"]).any()
    assert set(k["eenheid"]) == {"aantal", "euro", "fractie"}


def test_werkset_cache_follows_the_frame(cleaned):
    # a second, different frame must not reuse the first one's working set
    other = _cleaned([dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53",
                           gemeentecode="0983", periode_begin="2023-12-01", periode_eind="2023-12-31",
                           bedrag_cent_signed=50000)]).declaraties
    a = kosten.kosten(cleaned.declaraties, jaren())
    b = kosten.kosten(other, jaren())
    assert _val(a, "Nederland", "", "2023") == pytest.approx(3200.0)
    assert _val(b, "Nederland", "", "2023") == pytest.approx(3700.0)  # + EUR 500 in December
    assert _val(kosten.kosten(cleaned.declaraties, jaren()), "Nederland", "", "2023") == pytest.approx(3200.0)


def test_groepeer_numbers_distinct_rows_in_order_of_first_appearance():
    import numpy as np

    client = np.array([3, -1, 3, 0, -1, 3])
    p = np.array([1, 0, 1, 0, 0, 0])
    codes, (c, q) = kosten._groepeer([client, p], [4, 2])
    assert codes.tolist() == [0, 1, 0, 2, 1, 3]  # (3,1) (-1,0) (0,0) (3,0)
    assert c.tolist() == [3, -1, 0, 3] and q.tolist() == [1, 0, 0, 0]
    # only the rows of sel; the same groups through combine_keys when the key would not fit
    codes, (c, q) = kosten._groepeer([client, p], [4, 2], np.array([2, 3, 5]))
    assert codes.tolist() == [0, 1, 2] and c.tolist() == [3, 0, 3] and q.tolist() == [1, 0, 0]
    codes, (c, q) = kosten._groepeer([client, p], [2**40, 2**40], np.array([2, 3, 5, 0]))
    assert codes.tolist() == [0, 1, 2, 0] and c.tolist() == [3, 0, 3] and q.tolist() == [1, 0, 0]


def test_kombi_tables_equal_the_items_summed_per_column(cleaned):
    """The combined month table (all small columns in one pass) gives per column the
    sums and item counts of the items themselves."""
    import numpy as np

    ws = kosten.Werkset(cleaned.declaraties)
    k = ws._kombi()
    assert k is not None and "segment" in k["kolommen"] and kosten.NGA in k["kolommen"]
    s, c = ws.som(jaren(), "segment")
    labels = list(ws.labels("segment"))
    g, j = list(ws.gem_labels).index("0983"), list(jaren()["periode"]).index("2023")
    # Venlo 2023 (hand-worked above): 4 - Ambulant 800 in 2 netted items (L3 + L4, L6); 3 - Dag 400 in 2 (L2, L5)
    assert s[g, j, labels.index("4 - Ambulant")] == 80000 and c[g, j, labels.index("4 - Ambulant")] == 2
    assert s[g, j, labels.index("3 - Dag")] == 40000 and c[g, j, labels.index("3 - Dag")] == 2
    assert c.dtype == np.int64
    # the codes made from the combinations are those of the column itself
    for col in k["kolommen"]:
        if col != kosten.NGA:
            want, _ = kosten._factorize(cleaned.declaraties[col], cleaned.declaraties)
            assert ws.codes(col)[0].tolist() == want.tolist()


def test_clienten_pos_nets_a_client_over_the_gemeenten_of_its_regio():
    """c1 has +500 in Venlo and -600 in Venray (both Noord-Limburg) in 2023: counted in
    neither Venray (negative) nor the regio or Nederland (net -100), but in Venlo."""
    extra = [dict(toewijzing_nr="T1", client_id="c1", agb="11111111", productcode="45A53", gemeentecode="0984",
                  periode_begin="2023-06-01", periode_eind="2023-06-30", bedrag_cent_signed=-60000)]
    c = _cleaned(extra)
    ws = kosten.werkset(c.declaraties)
    g, r, n = ws.clienten_pos(jaren())
    j = list(jaren()["periode"]).index("2023")
    gem = list(ws.gem_labels)
    assert g[gem.index("0983"), j, 0] == 3  # c1, c2, c4 (c3 is -100)
    assert g[gem.index("0984"), j, 0] == 0
    assert r[list(ws.regio_labels).index("Noord-Limburg"), j, 0] == 2  # c2, c4
    assert n[j, 0] == 3  # c2, c4 and c9 (Maastricht)
    k = kosten.kosten_per_client(c.declaraties, jaren())
    assert _val(k, "Noord-Limburg", "", "2023") == pytest.approx((1200 - 600) / 2)
