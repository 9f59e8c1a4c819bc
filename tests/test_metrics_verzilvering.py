"""Verzilvering (metrics.md section 3): hand-worked cases, through clean()."""

import numpy as np
import pandas as pd
import pytest

from _ds_factory import GEMEENTEN, PRODUCTEN, dec, make_ds, tw
from jeugdlib import engine, kpi, schema
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import verzilvering as vz

PEIL = "2024-01-01"
P = Params(peildatum=PEIL, start="2023-01-01")

#: Beesel (0889) in Noord-Limburg, besides the factory's gemeenten.
GEM = GEMEENTEN + [{"gemeentecode": "0889", "gemeentenaam": "Beesel", "regio_code": "JZ37",
                    "regio_naam": "Noord-Limburg"}]


def _product(code, financieringsvorm, tarief_cent):
    return {"productcode": code, "productcategorie": "45", "omschrijving": code, "segment": "4 - Ambulant",
            "productgroep": "G", "financieringsvorm": financieringsvorm, "zwaarte": None, "variant": None,
            "norm_uren": None, "norm_maanden": None, "tarief_cent": tarief_cent, "trajectprijs_cent": None,
            "geldig_vanaf": "2020-01-01", "geldig_tot": None}


#: P1: inspanning at EUR 100 (per unit); P2: inspanning without tarief; PT: traject.
PROD = PRODUCTEN + [_product("P1", "inspanning", 10_000), _product("P2", "inspanning", None),
                    _product("PT", "traject", None)]


def toew(**kw):
    """A toewijzing in Beesel of product P1 (2 h per week by default)."""
    base = dict(gemeentecode="0889", client_id="c1", agb="11111111", productcode="P1", volume=1,
                eenheid="04", frequentie="2", budget_cent=None)
    return tw(**{**base, **kw})


def decl(**kw):
    base = dict(gemeentecode="0889", client_id="c1", agb="11111111", productcode="P1",
                periode_begin="2023-01-02", periode_eind="2023-01-31", eenheid="04")
    if "volume" in kw:
        kw["volume_signed"] = kw.pop("volume")
    if "bedrag_cent" in kw:
        kw["bedrag_cent_signed"] = kw.pop("bedrag_cent")
    return dec(**{**base, **kw})


def cleaned(toewijzingen, declaraties=(), params=P):
    return clean(make_ds(toewijzingen, declaraties, producten=PROD, gemeenten=GEM), params)


def per_toewijzing(c):
    return vz.verzilvering_per_toewijzing(c).set_index("toewijzing_nr")


def test_frequentie_per_dag_week_maand_totaal():
    c = cleaned([
        # per dag: 1..10 jan = 10 days inclusive; volume 2 -> 20
        toew(toewijzing_nr="D", frequentie="1", volume=2, ingangsdatum="2023-01-01", einddatum="2023-01-10"),
        # per week: 1..15 jan = 15 days -> ceil(15/7) = 3 weeks; volume 3 -> 9
        toew(toewijzing_nr="W", frequentie="2", volume=3, ingangsdatum="2023-01-01", einddatum="2023-01-15"),
        # per week: exactly 14 days -> 2 weeks; volume 3 -> 6
        toew(toewijzing_nr="W2", frequentie="2", volume=3, ingangsdatum="2023-01-01", einddatum="2023-01-14"),
        # per maand: 31 jan .. 1 mar overlaps jan, feb, mar = 3 months; volume 5 -> 15
        toew(toewijzing_nr="M", frequentie="4", volume=5, ingangsdatum="2023-01-31", einddatum="2023-03-01"),
        # totaal: 1 unit; volume 40 -> 40
        toew(toewijzing_nr="T", frequentie="6", volume=40, ingangsdatum="2023-01-01", einddatum="2023-12-31"),
        # unknown frequency -> NaN
        toew(toewijzing_nr="X", frequentie="9", volume=1, ingangsdatum="2023-01-01", einddatum="2023-01-31"),
        # open einddatum: up to einddatum_eff = 31 dec 2023; per maand 1 jul..31 dec = 6 months x 2 = 12
        toew(toewijzing_nr="O", frequentie="4", volume=2, ingangsdatum="2023-07-01", einddatum=None),
    ])
    v = per_toewijzing(c)
    got = v.loc[["D", "W", "W2", "M", "T", "X", "O"], "maximum_volume"].tolist()
    assert got[:5] == [20.0, 9.0, 6.0, 15.0, 40.0]
    assert np.isnan(got[5])
    assert got[6] == 12.0
    assert v.loc["X", "status"] == vz.STATUS_FREQUENTIE


def test_eenheid_factor():
    con = engine.connect()
    paren = [("01", "04"), ("16", "04"), ("04", "16"), ("14", "04"), ("04", "04"), ("4", "04")]
    sql = " UNION ALL ".join(
        f"SELECT {i} AS i, {vz.eenheid_factor_sql(vz.eenheid_sql(repr(a)), vz.eenheid_sql(repr(b)))} AS f"
        for i, (a, b) in enumerate(paren))
    f = engine.df(con, f"SELECT f FROM ({sql}) ORDER BY i")["f"]
    # 60 min = 1 h; 1 dagdeel = 4 h; 1 h = 1/4 dagdeel; etmaal does not convert; same unit = 1
    assert f.tolist()[:3] == [pytest.approx(1 / 60), 4.0, 0.25]
    assert np.isnan(f.iloc[3]) and f.iloc[4] == 1.0
    assert f.iloc[5] == 1.0  # '4' is eenheid 04


def _case():
    t = [
        # A: 2 h per week, 2..29 jan 2023 = 28 days = 4 weeks -> max 8 h; tarief EUR 100/h
        #    -> toegewezen 8 x 10000 = 80000 cent
        toew(toewijzing_nr="A", volume=2, frequentie="2", ingangsdatum="2023-01-02", einddatum="2023-01-29"),
        # B: budget-only (eenheid 83, Budget EUR 1000) for client c2 at a micro aanbieder
        toew(toewijzing_nr="B", client_id="c2", agb="22222222", productcode="P2", eenheid="83", frequentie="6",
             volume=1000, budget_cent=100_000, ingangsdatum="2023-03-01", einddatum="2023-06-30"),
        # C: in etmalen, declared in hours -> unit mix, left out
        toew(toewijzing_nr="C", client_id="c3", eenheid="14", frequentie="2", volume=1,
             ingangsdatum="2023-01-02", einddatum="2023-02-26"),
        # D: still open at the peildatum -> not ended, not in the KPI
        toew(toewijzing_nr="D", client_id="c4", volume=1, frequentie="2", ingangsdatum="2023-06-01"),
        # E: traject product -> not P*Q
        toew(toewijzing_nr="E", client_id="c5", productcode="PT", ingangsdatum="2023-01-02",
             einddatum="2023-05-31"),
    ]
    d = [
        # A: 3 h + 120 minutes = 5 h -> geleverd 5 x 10000 = 50000 cent; declared 30000 + 20000
        decl(toewijzing_nr="A", volume=3, eenheid="04", bedrag_cent=30_000),
        decl(toewijzing_nr="A", volume=120, eenheid="01", bedrag_cent=20_000, periode_begin="2023-01-16"),
        # B: EUR 600 declared against the budget
        decl(toewijzing_nr="B", client_id="c2", agb="22222222", productcode="P2", volume=600, eenheid="83",
             bedrag_cent=60_000, periode_begin="2023-03-01", periode_eind="2023-03-31"),
        # C: hours on an etmaal toewijzing
        decl(toewijzing_nr="C", client_id="c3", volume=4, eenheid="04", bedrag_cent=40_000),
        # A declaration whose toewijzing is unknown, from client c1 as well: never in verzilvering
        decl(toewijzing_nr="ONBEKEND", volume=10, eenheid="04", bedrag_cent=100_000),
        # D: 1 h
        decl(toewijzing_nr="D", client_id="c4", volume=1, eenheid="04", bedrag_cent=10_000,
             periode_begin="2023-06-05", periode_eind="2023-06-30"),
    ]
    return cleaned(t, d)


def test_per_toewijzing_units_budget_and_mix():
    v = per_toewijzing(_case())
    assert v.loc["A", "maximum_volume"] == 8.0
    assert v.loc["A", "geleverd_volume"] == 5.0
    assert v.loc["A", "toegewezen_cent"] == 80_000 and v.loc["A", "geleverd_cent"] == 50_000
    assert v.loc["A", "verzilvering"] == pytest.approx(50_000 / 80_000)
    assert bool(v.loc["B", "budget"]) and v.loc["B", "toegewezen_cent"] == 100_000
    assert v.loc["B", "geleverd_cent"] == 60_000 and v.loc["B", "status"] == "ok"
    assert v.loc["C", "status"] == "eenheid_mix"
    # the unknown toewijzing's 10 hours did not land on A (same client, same product)
    assert v.loc["A", "gedeclareerd_cent"] == 50_000


def test_dagdeel_converts_to_hours():
    c = cleaned([toew(toewijzing_nr="A", volume=10, frequentie="6", ingangsdatum="2023-01-02",
                      einddatum="2023-01-29")],
                # 1 dagdeel = 4 h, plus 30 minutes = 0.5 h -> 4.5 h of 10
                [decl(toewijzing_nr="A", volume=1, eenheid="16", bedrag_cent=40_000),
                 decl(toewijzing_nr="A", volume=30, eenheid="01", bedrag_cent=5_000, periode_begin="2023-01-09")])
    v = vz.verzilvering_per_toewijzing(c)
    assert v["geleverd_volume"].iloc[0] == pytest.approx(4.5)
    assert v["verzilvering"].iloc[0] == pytest.approx(0.45)


def test_kpis_total_type_product_and_amounts():
    k = kpi.kpi_rows(_case(), ["verzilvering", "toegewezen_bedrag", "gedeclareerd_bedrag"])
    assert list(k.columns) == ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid",
                               "n_clienten"]
    r = k[(k["regio"] == "Noord-Limburg") & (k["gemeente"] == "") & (k["periode"] == "2023")]
    w = dict(zip(r["kpi"] + "|" + r["dimensie"], r["waarde"]))
    # A + B only: (50000 + 60000) / (80000 + 100000) = 110000 / 180000
    assert w["verzilvering|"] == pytest.approx(110_000 / 180_000)
    assert w["verzilvering|type=regulier"] == pytest.approx(0.625)  # 50000 / 80000
    assert w["verzilvering|type=micro"] == pytest.approx(0.6)  # 60000 / 100000
    assert w["verzilvering|productcode=P2"] == pytest.approx(0.6)
    assert w["toegewezen_bedrag|"] == pytest.approx(1800.0)  # (80000 + 100000) cent
    assert w["gedeclareerd_bedrag|"] == pytest.approx(1100.0)  # (50000 + 60000) cent
    n = r.set_index(r["kpi"] + "|" + r["dimensie"])["n_clienten"]
    assert n["verzilvering|"] == 2 and n["verzilvering|type=micro"] == 1
    # gemeente and Nederland levels carry the same (one gemeente)
    nl = k[(k["regio"] == "Nederland") & (k["kpi"] == "verzilvering") & (k["dimensie"] == "")]
    assert nl["waarde"].iloc[0] == pytest.approx(110_000 / 180_000)
    assert set(k["gemeente"]) == {"", "0889"}


def test_kpis_only_complete_periods():
    # Peildatum 1 jun 2024: toewijzing A ended in 2024 (a voorlopig year) -> no verzilvering row;
    # the one ended in 2023 is there.
    p = Params(peildatum="2024-06-01", per="jaar")
    c = cleaned([toew(toewijzing_nr="A", ingangsdatum="2024-01-01", einddatum="2024-03-31"),
                 toew(toewijzing_nr="B", ingangsdatum="2023-01-02", einddatum="2023-01-29")],
                [decl(toewijzing_nr="A", volume=1, bedrag_cent=10_000, periode_begin="2024-01-01",
                      periode_eind="2024-01-31"),
                 decl(toewijzing_nr="B", volume=1, bedrag_cent=10_000)], params=p)
    k = vz.verzilvering(c)
    assert set(k["periode"]) == {"2023"}
    # B: 1 h per week x 4 weeks = 4 h, 1 delivered -> 0.25
    tot = k[(k["dimensie"] == "") & (k["regio"] == "Nederland")]
    assert tot["waarde"].tolist() == [pytest.approx(0.25)]


def test_through_clean_declaration_without_toewijzing():
    """The real pipeline: a line on an unknown ToewijzingNummer stays in the cleaned
    declarations (it counts in kosten) but never in verzilvering."""
    ds = make_ds(
        # 45A48 is inspanning at EUR 100 per hour. T1: 2 h per week, 2..29 jan 2023 = 4 weeks -> 8 h
        [tw(toewijzing_nr="T1", productcode="45A48", ingangsdatum="2023-01-02", einddatum="2023-01-29",
            volume=2, frequentie="2")],
        # 3 h on T1 (EUR 300); 3 h on the unknown toewijzing ZZ (EUR 300)
        [dec(toewijzing_nr="T1", productcode="45A48", volume_signed=3, bedrag_cent_signed=30_000,
             periode_begin="2023-01-02", periode_eind="2023-01-31"),
         dec(toewijzing_nr="ZZ", declaratie_nr="d2", productcode="45A48", volume_signed=3,
             bedrag_cent_signed=30_000, periode_begin="2023-01-02", periode_eind="2023-01-31")])
    p = Params(peildatum="2024-01-01", start="2023-01-01")
    c = clean(ds, p)
    assert c.declaraties["bedrag_cent"].sum() == 60_000  # both lines are money declared
    k = kpi.kpi_rows(c, ["verzilvering", "toegewezen_bedrag", "gedeclareerd_bedrag"])
    tot = k[(k["regio"] == "Nederland") & (k["dimensie"] == "")].set_index("kpi")["waarde"]
    # 3 / 8 h; only T1's EUR 300 is declared on the toewijzingen
    assert tot["verzilvering"] == pytest.approx(3 / 8)
    assert tot["gedeclareerd_bedrag"] == pytest.approx(300.0)
    assert tot["toegewezen_bedrag"] == pytest.approx(800.0)


def test_link_on_gemeente_number_and_client():
    """A declaration links on (gemeentecode, toewijzing_nr) and the client: the same
    number in another gemeente, a line of another client, or "07" for "7" is no
    declaration on the toewijzing (metrics.md 0.1, 0.2)."""
    c = cleaned([
        # "7" in Beesel: 1 h per week, 2..29 jan 2023 -> max 4 h
        toew(toewijzing_nr="7", ingangsdatum="2023-01-02", einddatum="2023-01-29"),
        # "7" in Venlo for client c9: its own toewijzing
        toew(toewijzing_nr="7", gemeentecode="0983", client_id="c9", ingangsdatum="2023-01-02",
             einddatum="2023-01-29"),
    ], [
        decl(toewijzing_nr="7", volume=1, bedrag_cent=10_000),  # Beesel c1: on the toewijzing
        decl(toewijzing_nr="07", volume=1, bedrag_cent=10_000, periode_begin="2023-01-09"),  # another number
        decl(toewijzing_nr="7", client_id="c2", volume=1, bedrag_cent=10_000),  # another client
        decl(toewijzing_nr="7", gemeentecode="0983", client_id="c9", volume=2, bedrag_cent=20_000),  # Venlo's
    ])
    v = vz.verzilvering_per_toewijzing(c).set_index(["gemeentecode", "toewijzing_nr"])
    assert v.loc[("0889", "7"), "geleverd_volume"] == 1.0 and v.loc[("0889", "7"), "gedeclareerd_cent"] == 10_000
    assert v.loc[("0983", "7"), "geleverd_volume"] == 2.0 and v.loc[("0983", "7"), "verzilvering"] == 0.5
    assert c.declaraties["toewijzing_bekend"].tolist() == [True, False, False, True]


def test_eindigend_sql_periods_and_window():
    p = Params(peildatum="2023-06-01", start="2022-01-01")
    c = cleaned([toew(toewijzing_nr="A", ingangsdatum="2022-01-02", einddatum="2022-05-01"),
                 toew(toewijzing_nr="B", ingangsdatum="2022-01-02"),
                 toew(toewijzing_nr="C", ingangsdatum="2022-01-02", einddatum="2023-12-31"),
                 toew(toewijzing_nr="D", ingangsdatum="2022-01-02", einddatum="2023-02-01")], params=p)

    def eindigend(**kw):
        e = engine.df(c.con, f"SELECT toewijzing_nr, periode FROM ({vz.eindigend_sql(c, **kw)}) ORDER BY rij")
        return list(zip(e["toewijzing_nr"], e["periode"]))

    # complete periods only: A (2022); D ends in 2023, still running at the peildatum
    assert eindigend() == [("A", "2022")]
    # every period: D in 2023 too; B is open, C ends after the peildatum
    assert eindigend(alleen_volledig=False) == [("A", "2022"), ("D", "2023")]


def test_frequentie_eenheden_as_calendar_arithmetic():
    t = pd.DataFrame([(f, a, b) for f, a, b in [
        ("1", "2023-01-31", "2023-03-01"), ("2", "2023-01-31", "2023-03-01"), ("4", "2023-01-31", "2023-03-01"),
        ("4", "1969-12-15", "1970-01-01"), ("1", "2023-05-01", "2023-04-30"), ("4", "2023-05-01", None),
        ("01", "2023-01-01", "2023-01-01"), ("", "2023-01-01", "2023-01-01")]],
        columns=["frequentie", "ingangsdatum", "einddatum"])
    for col in ("ingangsdatum", "einddatum"):
        t[col] = pd.to_datetime(t[col]).astype(schema.D)
    t["einddatum_eff"] = pd.Series(pd.NaT, index=t.index, dtype=schema.D)
    con = engine.connect()
    con.register("t_df", t)
    got = engine.df(con, f"SELECT {vz.eenheden_sql('t')} AS n FROM t_df t")["n"].to_numpy(dtype="float64",
                                                                                       na_value=np.nan)
    ing, eind = t["ingangsdatum"], t["einddatum"].fillna(t["einddatum_eff"])
    dagen = ((eind - ing).dt.days + 1).to_numpy(dtype="float64", na_value=np.nan)
    maanden = ((eind.dt.year * 12 + eind.dt.month) - (ing.dt.year * 12 + ing.dt.month) + 1).to_numpy(
        dtype="float64", na_value=np.nan)
    assert got[:5].tolist() == [dagen[0], np.ceil(dagen[1] / 7), maanden[2], maanden[3], dagen[4]]
    assert got[:5].tolist() == [30.0, 5.0, 3.0, 2.0, 0.0] and np.isnan(got[5])
    assert got[6] == 1.0 and np.isnan(got[7])  # '01' is per dag; no frequentie: unknown


def test_verzilvering_per_product():
    c = _case()
    v = vz.verzilvering_per_product(c)
    # A (P1): 50000 / 80000; B (P2): 60000 / 100000; C (unit mix), D (open) and E (traject) are out
    assert v["productcode"].tolist() == ["P1", "P2"] and set(v["regio"]) == {"Noord-Limburg"}
    assert v["verzilvering"].tolist() == [pytest.approx(0.625), pytest.approx(0.6)]
    assert v["toewijzingen"].tolist() == [1, 1]
    # a window that holds only B (ended 30 jun 2023)
    w = vz.verzilvering_per_product(c, van="2023-03-01", tot="2023-07-01")
    assert w["productcode"].tolist() == ["P2"] and w["toegewezen_cent"].tolist() == [100_000]


def test_verzilvering_toewijzingen_are_the_kpi_population():
    """The rows behind ``verzilvering`` of 2023: A (regulier, 50000 of 80000) and B (micro,
    60000 of 100000); C (unit mix), D (open) and E (traject) are not in it."""
    t = vz.verzilvering_toewijzingen(_case(), "2023", "Noord-Limburg")
    assert sorted(zip(t["aanbieder_type"], t["geleverd_cent"], t["toegewezen_cent"])) == [
        ("micro", 60_000.0, 100_000.0), ("regulier", 50_000.0, 80_000.0)]
    assert len(vz.verzilvering_toewijzingen(_case(), "2023", "Zuid-Limburg")) == 0
