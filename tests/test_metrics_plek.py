"""Plekfinanciering (metrics.md section 7): clients per month, capacity, deviation class, bezetting.

Every expected value below is worked out by hand in the comment beside it. Cases are
small datasets (tests/_ds_factory.py) cleaned with ``clean.clean``.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import _ds_factory as f
from jeugdlib import clean, kpi
from jeugdlib.config import Params
from jeugdlib.metrics import plek

P = Params(peildatum="2024-08-01")  # window 2021-01-01 .. 2024-07-31
PLEK_KPIS = ["plek_bezetting", "plek_maanden_aansluitend", "plek_kosten_per_client"]


def _code(productcode: str, fv: str) -> str:
    return productcode if fv == "plek" else f"{productcode}-{fv}"


def cleaned(rows, plekken_rows=(), params=P):
    """Toewijzingen (client, ingang, eind[, productcode[, agb[, financieringsvorm[, gemeente]]]]); a product
    with another financieringsvorm than ``plek`` gets its own code."""
    tws, prod = [], {}
    for i, r in enumerate(rows):
        client, ingang, eind = r[:3]
        code, agb = (r[3] if len(r) > 3 else "PLK1"), (r[4] if len(r) > 4 else "AAAAAAAA")
        fv = r[5] if len(r) > 5 else "plek"
        pc = _code(code, fv)
        prod[pc] = dict(productcode=pc, productcategorie="43", omschrijving=pc, segment="5", productgroep="Wonen",
                        financieringsvorm=fv, zwaarte=None, variant=None, norm_uren=None, norm_maanden=None,
                        tarief_cent=None, trajectprijs_cent=None, geldig_vanaf="2020-01-01", geldig_tot=None)
        tws.append(f.tw(toewijzing_nr=f"T{i}", client_id=client, ingangsdatum=str(pd.Timestamp(ingang).date()),
                        einddatum=None if eind is None else str(pd.Timestamp(eind).date()), productcode=pc,
                        productcategorie="43", agb=agb, gemeentecode=r[6] if len(r) > 6 else "0983"))
    return clean.clean(f.make_ds(tws, [], producten=list(prod.values()), plekken=plekken_rows), params)


def monthly(counts: dict[str, int], productcode="PLK1", agb="AAAAAAAA", prefix="c") -> list[tuple]:
    """Client i is active in month m (whole month) when i < counts[m]; one toewijzing per (client, month)."""
    rows = []
    for m, c in counts.items():
        begin = pd.Timestamp(f"{m}-01")
        end = begin + pd.offsets.MonthEnd(0)
        rows += [(f"{prefix}{i}", begin, end, productcode, agb) for i in range(c)]
    return rows


def plekken(rows) -> list[dict]:
    """(agb, productcode, jaar, plekken, prijs_per_plek_cent)."""
    return [dict(zip(["agb", "productcode", "jaar", "plekken", "prijs_per_plek_cent"], r)) for r in rows]


# 2023: capacity 100 (plekken.csv) and monthly counts falling in each class on both sides:
COUNTS_2023 = dict(zip([f"2023-{m:02d}" for m in range(1, 13)],
                       [100, 101, 99, 103, 97, 105, 95, 106, 94, 100, 100, 100]))
# deviation:        0   +1%  -1%  +3%  -3%  +5%  -5%  +6%  -6%   0    0    0
EXPECT_KLASSE = ["aansluitend"] * 3 + ["afwijking 1-5%"] * 4 + ["afwijking >5%"] * 2 + ["aansluitend"] * 3
EXPECT_TEKEN = ["gelijk", "boven", "onder", "boven", "onder", "boven", "onder", "boven", "onder",
                "gelijk", "gelijk", "gelijk"]


def _nl(df):
    return df[df["regio"] == "Nederland"].reset_index(drop=True)


@pytest.fixture(scope="module")
def c2023():
    return cleaned(monthly(COUNTS_2023), plekken([("AAAAAAAA", "PLK1", 2023, 100.0, 1_000_000)]))


def test_klasse_van_bounds():
    waarden = [0.0, 0.01, -0.01, 0.0101, 0.05, -0.05, 0.0501, -0.2, None]
    con = duckdb.connect()
    con.register("a", pd.DataFrame({"i": range(len(waarden)), "afwijking": pd.array(waarden, dtype="Float64")}))
    got = con.sql(f"SELECT klasse, teken FROM ({plek.met_klasse_sql('SELECT * FROM a')}) ORDER BY i").fetchall()
    k, s = [g[0] for g in got], [g[1] for g in got]
    assert k[:8] == ["aansluitend", "aansluitend", "aansluitend", "afwijking 1-5%", "afwijking 1-5%",
                     "afwijking 1-5%", "afwijking >5%", "afwijking >5%"]
    assert s[:8] == ["gelijk", "boven", "onder", "boven", "boven", "onder", "boven", "onder"]
    assert k[8] is None and s[8] is None


def test_clients_per_month_active_on_one_day():
    c = cleaned([("a", "2023-01-31", "2023-02-01"),   # one day in Jan and one in Feb
                 ("a", "2023-02-10", "2023-02-20"),   # same client again in Feb: counts once
                 ("b", "2023-02-28", "2023-02-28"),
                 ("c", "2023-01-01", "2023-03-31", "PLK1", "AAAAAAAA", "inspanning")])  # not plek
    n = _nl(plek.clienten_per_maand(c))
    got = dict(zip(n["maand"].dt.strftime("%Y-%m"), n["clienten"]))
    assert got == {"2023-01": 1, "2023-02": 2}  # Jan: a; Feb: a, b


def test_deviation_classes_with_plekken_csv(c2023):
    m = _nl(plek.plek_maanden(c2023))
    assert m["clienten"].tolist() == list(COUNTS_2023.values())
    assert (m["capaciteit"] == 100.0).all() and (m["capaciteit_bron"] == "plekken").all()
    assert m["afwijking"].round(4).tolist() == [0, .01, -.01, .03, -.03, .05, -.05, .06, -.06, 0, 0, 0]
    assert m["klasse"].tolist() == EXPECT_KLASSE
    assert m["teken"].tolist() == EXPECT_TEKEN
    b = _nl(plek.bezetting_tabel(m, "jaar")).iloc[0]
    # sum of counts = 1200 -> mean 100 -> bezetting 100 / 100 = 1.0; 6 of 12 months aansluitend
    assert b["bezetting"] == pytest.approx(1.0) and b["maanden"] == 12
    assert b["maanden_aansluitend"] == pytest.approx(0.5)
    assert (b["aansluitend"], b["afwijking 1-5%"], b["afwijking >5%"]) == (6, 4, 2)
    kl = _nl(plek.klassen_telling(m)).set_index(["klasse", "teken"])["maanden"]
    assert kl[("afwijking >5%", "boven")] == 1 and kl[("afwijking 1-5%", "onder")] == 2
    assert kl[("aansluitend", "gelijk")] == 4


def test_capacity_is_yearly_mean_without_plekken_csv():
    # 2022-03 .. 2022-08: 200, 202, 190, 208, 215, 185 -> sum 1200, mean 200
    counts = {"2022-03": 200, "2022-04": 202, "2022-05": 190, "2022-06": 208, "2022-07": 215, "2022-08": 185}
    c = cleaned(monthly(counts))
    m = _nl(plek.plek_maanden(c))
    assert (m["capaciteit"] == 200.0).all() and (m["capaciteit_bron"] == "jaargemiddelde").all()
    # deviations 0, +1%, -5%, +4%, +7.5%, -7.5%
    assert m["klasse"].tolist() == ["aansluitend", "aansluitend", "afwijking 1-5%", "afwijking 1-5%",
                                    "afwijking >5%", "afwijking >5%"]
    assert m["teken"].tolist() == ["gelijk", "boven", "onder", "boven", "boven", "onder"]
    b = _nl(plek.bezetting_tabel(m, "jaar")).iloc[0]
    assert b["bezetting"] == pytest.approx(1.0)  # the mean of clients / mean is 1 by construction
    assert b["maanden_aansluitend"] == pytest.approx(2 / 6)


def test_plekken_for_one_year_fallback_for_another_and_empty_month_counts_zero():
    # 2022: Nov 10, Dec 0 (no one active but between the first and last active month), no plekken row
    # -> capacity = mean over Nov, Dec = 5. 2023: Jan 8, Feb 0, Mar 12, plekken 10 -> the whole of 2023 is
    # in the grid (a year with plekken); Apr-Dec 0.
    counts = {"2022-11": 10, "2023-01": 8, "2023-03": 12}
    c = cleaned(monthly(counts), plekken([("AAAAAAAA", "PLK1", 2023, 10.0, 500_000)]))
    m = _nl(plek.plek_maanden(c)).set_index("maand")
    assert m.loc["2022-11-01", "capaciteit"] == 5.0 and m.loc["2022-11-01", "capaciteit_bron"] == "jaargemiddelde"
    assert pd.Timestamp("2022-12-01") in m.index  # between first and last active month: 0 clients
    assert m.loc["2022-12-01", "clienten"] == 0
    y23 = m[m["jaar"] == 2023]
    assert len(y23) == 12 and (y23["capaciteit"] == 10.0).all()
    assert y23["clienten"].tolist() == [8, 0, 12] + [0] * 9
    # 2023 bezetting: (0.8 + 0 + 1.2 + 0 x 9) / 12 = 2 / 12
    b = _nl(plek.bezetting_tabel(m.reset_index(), "jaar")).set_index("periode")
    assert b.loc["2023", "bezetting"] == pytest.approx(2 / 12)
    # 2022 grid: Nov 10, Dec 0 -> mean 5 -> deviations +100% and -100%
    assert b.loc["2022", "maanden"] == 2 and b.loc["2022", "bezetting"] == pytest.approx((2.0 + 0.0) / 2)
    # the KPI gives the same
    k = kpi.kpi_rows(c, ["plek_bezetting"])
    assert _nl(k).set_index("periode").loc["2023", "waarde"] == pytest.approx(2 / 12)


def test_per_aanbieder_and_product_total_capacity_sums():
    rows = monthly({"2023-01": 100}, agb="AAAAAAAA", prefix="a") + monthly({"2023-01": 52}, agb="BBBBBBBB",
                                                                           prefix="b")
    pl = plekken([("AAAAAAAA", "PLK1", 2023, 100.0, 1_000_000), ("BBBBBBBB", "PLK1", 2023, 50.0, 2_000_000)])
    c = cleaned(rows, pl)
    tot = _nl(plek.plek_maanden(c))
    jan = tot[tot["maand"] == "2023-01-01"].iloc[0]
    # 152 clients against 100 + 50 plekken: +1.33% -> afwijking 1-5% boven
    assert jan["clienten"] == 152 and jan["capaciteit"] == 150.0
    assert jan["klasse"] == "afwijking 1-5%" and jan["teken"] == "boven"
    per = _nl(plek.plek_maanden(c, per_aanbieder=True))
    jan = per[per["maand"] == "2023-01-01"].set_index("agb")
    assert jan.loc["AAAAAAAA", "klasse"] == "aansluitend"          # 100 / 100
    assert jan.loc["BBBBBBBB", "klasse"] == "afwijking 1-5%"       # 52 / 50: +4%
    # exclude B: its toewijzingen and plekken are left out
    ex = _nl(plek.plek_maanden(c, exclude_agb=["BBBBBBBB"]))
    jan = ex[ex["maand"] == "2023-01-01"].iloc[0]
    assert (jan["clienten"], jan["capaciteit"], jan["klasse"]) == (100, 100.0, "aansluitend")
    # the same through params.exclude_agb (cleaning leaves the toewijzingen out, the module the plekken)
    c_ex = cleaned(rows, pl, params=Params(peildatum="2024-08-01", exclude_agb=("BBBBBBBB",)))
    jan = _nl(plek.plek_maanden(c_ex)).iloc[0]
    assert (jan["clienten"], jan["capaciteit"], jan["klasse"]) == (100, 100.0, "aansluitend")
    # kosten per client, product total 2023: (100 x 1.000.000 + 50 x 2.000.000) / 152 clients
    k = _nl(plek.kosten_per_client_tabel(c)).iloc[0]
    assert k["kosten_per_client_cent"] == pytest.approx(200_000_000 / 152)


def test_kpis_hand_worked(c2023):
    k = kpi.kpi_rows(c2023, PLEK_KPIS)
    nl = k[(k["regio"] == "Nederland") & (k["periode"] == "2023")].set_index("kpi")
    assert nl.loc["plek_bezetting", "waarde"] == pytest.approx(1.0)
    assert nl.loc["plek_maanden_aansluitend", "waarde"] == pytest.approx(0.5)
    # 100 plekken x EUR 10.000 / 106 distinct clients in 2023 (client i < max count 106)
    assert nl.loc["plek_kosten_per_client", "waarde"] == pytest.approx(1_000_000 / 106)
    assert nl.loc["plek_kosten_per_client", "eenheid"] == "euro"
    assert (nl["n_clienten"] == 106).all() and (nl["dimensie"] == "productcode=PLK1").all()
    # per kwartaal: Q1 counts 100, 101, 99 -> bezetting 1.0, all aansluitend; Q3 95, 106, 94 -> 295/300
    kq = kpi.kpi_rows(c2023.met_params(Params(peildatum="2024-08-01", per="kwartaal")), PLEK_KPIS)
    q = kq[(kq["regio"] == "Nederland") & (kq["kpi"] == "plek_bezetting")].set_index("periode")["waarde"]
    assert q["2023-Q1"] == pytest.approx(1.0) and q["2023-Q3"] == pytest.approx(295 / 300)
    assert "plek_kosten_per_client" not in set(kq["kpi"])  # a yearly figure: only with per=jaar
    # no plekken.csv: capacity is the yearly mean (100), no kosten per client
    k2 = kpi.kpi_rows(cleaned(monthly(COUNTS_2023)), PLEK_KPIS)
    assert set(k2["kpi"]) == {"plek_bezetting", "plek_maanden_aansluitend"}


def test_no_plek_products_gives_empty_kpis():
    c = cleaned([("a", "2023-01-01", "2023-03-31", "PLK1", "AAAAAAAA", "traject")])
    assert len(kpi.kpi_rows(c, PLEK_KPIS)) == 0


def test_rapport_bundle(c2023):
    r = plek.rapport(c2023, regio="Noord-Limburg")
    assert r["heeft_plekken"] is True
    assert r["maanden"]["klasse"].tolist() == EXPECT_KLASSE
    assert r["maanden_aanbieder"]["agb"].unique().tolist() == ["AAAAAAAA"]
    assert r["bezetting"]["bezetting"].tolist() == [pytest.approx(1.0)]
    assert r["klassen"]["maanden"].sum() == 12
    assert r["kosten_per_client"]["kosten_per_client_cent"].tolist() == [pytest.approx(100_000_000 / 106)]
    other = plek.rapport(c2023, regio="Zuid-Limburg")
    assert len(other["maanden"]) == 0


def test_report_never_classes_a_hidden_month_and_widens_to_the_plek_years():
    """Issue 15: a month with 9 clients on a capacity of 9 would be "aansluitend", which
    pins the hidden count down; the report shows it as NIET_GETOOND and counts no class
    for it. plekken.csv holds 2019 only, before the window (2021-): the report widens
    its window back to 2019 and shows just that year."""
    from types import SimpleNamespace

    from jeugdlib.rapport import plek as rp

    counts = {f"2019-{m:02d}": (9 if m == 3 else 12) for m in range(1, 13)}
    c = cleaned(monthly(counts), plekken([("AAAAAAAA", "PLK1", 2019, 12, 100_00)]))
    r = SimpleNamespace(cleaned=c, params=c.params, regio=c.toewijzingen["regio"].iloc[0], _cache={})
    assert rp.plek_jaren(r) == [2019]
    assert rp.plek_params(r).start == pd.Timestamp("2019-01-01").date()
    m = rp.maanden(r)
    assert sorted(m["jaar"].unique()) == [2019] and len(m) == 12
    maart = m[m["maand"] == pd.Timestamp("2019-03-01")].iloc[0]
    # 9 clients on 12 plekken is a deviation of -25%: the class would read "afwijking >5% onder"
    assert maart["klasse"] == "afwijking >5%" and not maart["getoond"]
    assert maart["klasse_teken"] == rp.NIET_GETOOND
    assert (m["klasse_teken"] == "aansluitend").sum() == 11  # 12 on 12: the other months


def test_report_suppresses_the_bezetting_of_a_year_with_a_hidden_month():
    """The yearly bezetting is the mean of clients / plekken over the months: with 11 shown
    months of 12 on 12 plekken it gives the hidden March back ((12 x b - 11) x 12). So the
    report suppresses it for 2019."""
    from types import SimpleNamespace

    from jeugdlib.rapport import plek as rp
    from jeugdlib.rapport.laden import _afwerken

    counts = {f"2019-{m:02d}": (9 if m == 3 else 12) for m in range(1, 13)}
    c = cleaned(monthly(counts), plekken([("AAAAAAAA", "PLK1", 2019, 12, 100_00)]))

    def kpis(*modules, params):
        return _afwerken(kpi.kpi_rows(c.met_params(params), PLEK_KPIS), params)

    r = SimpleNamespace(cleaned=c, params=c.params, regio=c.toewijzingen["regio"].iloc[0], _cache={}, kpis=kpis)
    b = rp._bezetting(r)
    rij = b[(b["kpi"] == "plek_bezetting") & (b["periode"] == "2019") & (b["dimensie"] == "productcode=PLK1")]
    assert len(rij) == 1 and bool(rij["onderdrukt"].iloc[0]) and pd.isna(rij["waarde"].iloc[0])
