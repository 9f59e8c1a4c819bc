"""Sturing (metrics.md section 11) on hand-worked cases.

Payout rules: B = 100, d = 0,05, s = 0,9, k = 0,10, at and around each threshold.

Decomposition (peildatum 2024-01-01, start 2022-01-01: the change 2022 -> 2023).
Products (hours; "OLD" and "NEW" in productgroep Verblijf, the others Ambulant):

regio          client  2022                    2023
Noord-Limburg  c1      A1 10 h EUR 1000        A1 10 h EUR 1100          (price only)
(Venlo 0983)   c2      B1 10 h EUR  500        B1 1200 min EUR 1000      (volume only; minutes -> 20 h)
               c3      OLD 5 h EUR  300        NEW 4 h EUR  400          (vanishes / appears)
Zuid-Limburg   c10     A1 10 h EUR 1000        A1 10 h EUR 1000
(Maastricht)   c11     B1 10 h EUR  500        A1 10 h EUR 1000, B1 10 h EUR 500   (mix only)

Scenarios (peildatum 2024-07-01: m = 6 whole months):
Noord-Limburg has budgetplafonds for 2024: 11111111 EUR 1000 (ytd EUR 600 -> P 1200),
22222222 EUR 800 (ytd EUR 300 -> P 600). Zuid-Limburg has none: 33333333's plafond is
the proposal from 2023 (EUR 1000 x 1,0474), ytd EUR 600 -> P 1200.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from _ds_factory import DEC_DEFAULT, PRODUCTEN, dec, frame, make_ds
from jeugdlib import config, dataset, engine
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import _common, sturing

B, D, S, K = 100.0, 0.05, 0.9, 0.10


# --------------------------------------------------------------------------- payout rules

def _sql(scenario, p, b):
    con = engine.connect()
    expr = sturing.uitbetaling_sql(scenario, "p", "b", d=D, s=S, k=K)
    return con.execute(f"SELECT {expr} FROM (SELECT {p!r}::DOUBLE AS p, {b!r}::DOUBLE AS b)").fetchall()[0][0]


@pytest.mark.parametrize("scenario,p,verwacht", [
    ("pq", 80.0, 80.0), ("pq", 100.0, 100.0), ("pq", 120.0, 120.0),
    ("hard", 80.0, 80.0), ("hard", 100.0, 100.0), ("hard", 100.5, 100.0), ("hard", 120.0, 100.0),
    # donuthole: P <= B paid; B < P <= B(1+d) = 105 capped at B; above: P - dB = P - 5
    ("donuthole", 99.0, 99.0), ("donuthole", 100.0, 100.0), ("donuthole", 101.0, 100.0),
    ("donuthole", 104.0, 100.0), ("donuthole", 105.0, 100.0), ("donuthole", 106.0, 106.0 - 5.0),
    ("donuthole", 110.0, 105.0),
    # staffel: min(P, sB = 90) + 0,9 max(0, P - 90)
    ("staffel", 80.0, 80.0), ("staffel", 90.0, 90.0), ("staffel", 91.0, 90.0 + 0.9 * 1.0),
    ("staffel", 100.0, 90.0 + 0.9 * 10.0), ("staffel", 120.0, 90.0 + 0.9 * 30.0),
])
def test_uitbetaling_regels(scenario, p, verwacht):
    assert sturing.uitbetaling(scenario, p, B, d=D, s=S, k=K) == pytest.approx(verwacht, abs=1e-9)
    assert _sql(scenario, p, B) == pytest.approx(verwacht, abs=1e-9)


def test_donuthole_continu_aan_bandgrens():
    # just above B(1+d) the payout is P - dB, which equals B at the band's end: no jump
    assert sturing.uitbetaling_donuthole(105.0 + 1e-9, B, D) == pytest.approx(100.0, abs=1e-6)
    assert sturing.uitbetaling_donuthole(105.0 - 1e-9, B, D) == 100.0


def test_stoplicht_grenzen():
    assert sturing.stoplicht(0.5) == "groen"
    assert sturing.stoplicht(0.90) == "groen"
    assert sturing.stoplicht(0.9001) == "oranje"
    assert sturing.stoplicht(1.00) == "oranje"
    assert sturing.stoplicht(1.0001) == "rood"
    assert sturing.stoplicht(None) == "geen plafond"
    assert sturing.stoplicht(float("nan")) == "geen plafond"


def test_lmdi_gewicht():
    assert sturing.lmdi_gewicht(5.0, 5.0) == 5.0
    assert sturing.lmdi_gewicht(200.0, 100.0) == pytest.approx(100.0 / math.log(2.0))


# --------------------------------------------------------------------------- decomposition

def _prod(code, groep, vorm="inspanning"):
    return {"productcode": code, "productcategorie": "45", "omschrijving": code, "segment": "4 - Ambulant",
            "productgroep": groep, "financieringsvorm": vorm, "zwaarte": None, "variant": None,
            "norm_uren": None, "norm_maanden": None, "tarief_cent": 10000, "trajectprijs_cent": None,
            "geldig_vanaf": "2020-01-01", "geldig_tot": None}


PRODUCTEN_S = PRODUCTEN + [_prod("A1", "Ambulant"), _prod("B1", "Ambulant"), _prod("OLD", "Verblijf"),
                           _prod("NEW", "Verblijf"), _prod("PLEK1", "Verblijf", "plek")]


def _regel(client, gem, code, jaar, volume, euro, eenheid="04", agb="11111111", maand=3, nr=None):
    begin = f"{jaar}-{maand:02d}-01"
    eind = (pd.Timestamp(begin) + pd.offsets.MonthEnd(0)).date().isoformat()
    return dec(client_id=client, gemeentecode=gem, productcode=code, periode_begin=begin, periode_eind=eind,
               volume_signed=volume, eenheid=eenheid, bedrag_cent_signed=int(round(euro * 100)),
               toewijzing_nr=nr or f"T-{client}-{code}", agb=agb)


@pytest.fixture(scope="module")
def verklaard():
    regels = [
        _regel("c1", "0983", "A1", 2022, 10, 1000), _regel("c1", "0983", "A1", 2023, 10, 1100),
        _regel("c2", "0983", "B1", 2022, 10, 500), _regel("c2", "0983", "B1", 2023, 1200, 1000, eenheid="01"),
        _regel("c3", "0983", "OLD", 2022, 5, 300), _regel("c3", "0983", "NEW", 2023, 4, 400),
        _regel("c10", "0935", "A1", 2022, 10, 1000), _regel("c10", "0935", "A1", 2023, 10, 1000),
        _regel("c11", "0935", "B1", 2022, 10, 500), _regel("c11", "0935", "A1", 2023, 10, 1000),
        _regel("c11", "0935", "B1", 2023, 10, 500),
    ]
    return clean(make_ds([], regels, producten=PRODUCTEN_S), Params("2024-01-01", start="2022-01-01"))


def frame_dec(rows):
    return frame(rows, "declaraties", DEC_DEFAULT)


def _effecten(df, regio, gemeente="", periode="2023"):
    sel = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["periode"] == periode)]
    return {d.removeprefix("factor="): float(w) for d, w in zip(sel["dimensie"], sel["waarde"])}


def test_verklaring_prijs_volume_nieuw_vervallen(verklaard):
    e = _effecten(sturing.kosten_verklaring(verklaard), "Noord-Limburg")
    assert set(e) == set(sturing.FACTOREN)
    # A1: price 100 -> 110 per hour, L(1100, 1000) ln(1,1) = 100; nothing else moves for A1
    # B1: 10 h -> 20 h (1200 minutes) at EUR 50 an hour: L(1000, 500) ln(2) = 500 (intensiteit)
    # N = 3 both years, n_A = n_B = 1 both years: no clienten or mix effect
    assert e["prijs"] == pytest.approx(100.0, abs=1e-9)
    assert e["intensiteit"] == pytest.approx(500.0, abs=1e-9)
    assert e["clienten"] == pytest.approx(0.0, abs=1e-9)
    assert e["mix"] == pytest.approx(0.0, abs=1e-9)
    # OLD vanishes (-300), NEW appears (+400)
    assert e["nieuw_vervallen"] == pytest.approx(400.0 - 300.0, abs=1e-9)
    # exact sum: (1100 + 1000 + 400) - (1000 + 500 + 300) = 700
    assert sum(e.values()) == pytest.approx(2500.0 - 1800.0, abs=1e-9)
    # per gemeente (all in Venlo) the same
    assert _effecten(sturing.kosten_verklaring(verklaard), "Noord-Limburg", "0983") == pytest.approx(e)


def test_verklaring_mix(verklaard):
    e = _effecten(sturing.kosten_verklaring(verklaard), "Zuid-Limburg")
    # N = 2 both years; A1: n 1 -> 2 (share 1/2 -> 1), 10 h each at EUR 100: C 1000 -> 2000
    # mix = L(2000, 1000) ln(2) = 1000; B1 unchanged (C 500 both years: L = 500, ln 1 = 0)
    assert e["mix"] == pytest.approx(1000.0, abs=1e-9)
    assert e["clienten"] == pytest.approx(0.0, abs=1e-9)
    assert e["intensiteit"] == pytest.approx(0.0, abs=1e-9)
    assert e["prijs"] == pytest.approx(0.0, abs=1e-9)
    assert e["nieuw_vervallen"] == pytest.approx(0.0, abs=1e-9)
    assert sum(e.values()) == pytest.approx(2500.0 - 1500.0, abs=1e-9)


def test_verklaring_nederland(verklaard):
    e = _effecten(sturing.kosten_verklaring(verklaard), "Nederland")
    # N = 5 both years. A1: n 2 -> 3, q 20 -> 30 h, C 2000 -> 3100; B1: n 2 -> 2, q 20 -> 30 h, C 1000 -> 1500
    l_a = (3100.0 - 2000.0) / math.log(3100.0 / 2000.0)
    l_b = (1500.0 - 1000.0) / math.log(1500.0 / 1000.0)
    assert e["clienten"] == pytest.approx(0.0, abs=1e-9)
    assert e["mix"] == pytest.approx(l_a * math.log((3 / 5) / (2 / 5)), abs=1e-9)
    # A1 intensiteit: 30/3 = 20/2 = 10 h per client; B1: 15 h vs 10 h per client
    assert e["intensiteit"] == pytest.approx(l_b * math.log(15.0 / 10.0), abs=1e-9)
    assert e["intensiteit"] == pytest.approx(500.0, abs=1e-9)
    # A1 price per hour 3100/30 vs 100; B1 50 vs 50
    assert e["prijs"] == pytest.approx(l_a * math.log((3100.0 / 30.0) / 100.0), abs=1e-9)
    assert e["mix"] + e["prijs"] == pytest.approx(1100.0, abs=1e-9)
    assert e["nieuw_vervallen"] == pytest.approx(100.0, abs=1e-9)
    assert sum(e.values()) == pytest.approx((3100.0 + 1500.0 + 400.0) - (2000.0 + 1000.0 + 300.0), abs=1e-9)


def test_verklaring_per_productgroep(verklaard):
    w = sturing.verklaring(verklaard, per_productgroep=True)
    w = w[(w["regio"] == "Noord-Limburg") & (w["gemeente"] == "")].set_index("productgroep")
    # Ambulant: N = {c1, c2} both years; price 100 on A1, intensiteit 500 on B1
    assert w.loc["Ambulant", "prijs"] == pytest.approx(100.0, abs=1e-9)
    assert w.loc["Ambulant", "intensiteit"] == pytest.approx(500.0, abs=1e-9)
    assert w.loc["Ambulant", "nieuw_vervallen"] == pytest.approx(0.0, abs=1e-9)
    # Verblijf: OLD -> NEW only
    assert w.loc["Verblijf", "nieuw_vervallen"] == pytest.approx(100.0, abs=1e-9)
    assert w.loc["Verblijf", ["clienten", "mix", "intensiteit", "prijs"]].abs().max() == pytest.approx(0.0, abs=1e-9)
    assert w.loc["Verblijf", "verschil"] == pytest.approx(400.0 - 300.0)


def test_verklaring_n_clienten(verklaard):
    k = sturing.kosten_verklaring(verklaard)
    assert set(k.loc[k["regio"] == "Noord-Limburg", "n_clienten"]) == {3.0}
    assert set(k.loc[k["regio"] == "Nederland", "n_clienten"]) == {5.0}
    assert set(k["periode"]) == {"2023"}  # 2022 has no complete year before it in the window


def test_verklaring_sommeert_centen_exact():
    # three clients with EUR 0,10, 0,20 and 0,30 on A1 in 2023 (and 2022): summed as
    # doubles 0,1 + 0,2 + 0,3 is 0,6000000000000001 in that order and 0,6 in another, so a
    # total like EUR x,50 could round either way between runs; summed as cents it is 60 / 100
    regels = [_regel(f"c{i}", "0983", "A1", jaar, 1, euro)
              for jaar in (2022, 2023) for i, euro in ((1, 0.10), (2, 0.20), (3, 0.30))]
    regels.append(_regel("c4", "0983", "OLD", 2022, 1, 0.70))
    c = clean(make_ds([], regels, producten=PRODUCTEN_S), Params("2024-01-01", start="2022-01-01"))
    w = sturing.verklaring(c).set_index(["regio", "gemeente"])
    rij = w.loc[("Noord-Limburg", "")]
    assert rij["kosten"] == 0.6
    assert rij["kosten_vorig"] == 1.3
    assert rij["nieuw_vervallen"] == -0.7
    assert rij["verschil"] == 0.6 - 1.3


# --------------------------------------------------------------------------- plafonds and scenarios

def _plafond_ds():
    regels = [
        # Noord-Limburg 2023 (basisjaar): 11111111 EUR 600 in Venlo + EUR 400 in Venray; a plek product
        # (not production) EUR 5000
        _regel("c1", "0983", "A1", 2023, 6, 600), _regel("c2", "0984", "A1", 2023, 4, 400),
        _regel("c1", "0983", "PLEK1", 2023, 1, 5000, eenheid="14"),
        # 2024 so far: 11111111 EUR 600, 22222222 EUR 300
        _regel("c1", "0983", "A1", 2024, 6, 600, maand=2),
        _regel("c2", "0984", "B1", 2024, 6, 300, agb="22222222", maand=5),
        # Zuid-Limburg: 33333333 EUR 1000 in 2023, EUR 600 so far in 2024 (not contracted: NGA)
        _regel("c10", "0935", "A1", 2023, 10, 1000, agb="33333333"),
        _regel("c10", "0935", "A1", 2024, 6, 600, agb="33333333", maand=4),
    ]
    bp = [{"agb": "11111111", "jaar": 2024, "plafond_cent": 100000, "productcode": None, "gemeentecode": None},
          {"agb": "22222222", "jaar": 2024, "plafond_cent": 80000, "productcode": None, "gemeentecode": "0984"}]
    return make_ds([], regels, producten=PRODUCTEN_S, budgetplafonds=bp)


@pytest.fixture(scope="module")
def plafonds():
    return clean(_plafond_ds(), Params("2024-07-01"))


def _val(df, regio, gemeente="", dimensie="", periode=None):
    sel = df[(df["regio"] == regio) & (df["gemeente"] == gemeente) & (df["dimensie"] == dimensie)]
    if periode is not None:
        sel = sel[sel["periode"] == periode]
    assert len(sel) == 1, sel
    return float(sel["waarde"].iloc[0])


def test_plafond_voorstel(plafonds):
    v = sturing.plafond_voorstel(plafonds)
    f = 1.0474 ** 2  # doeljaar 2025, basisjaar 2023
    assert set(v["periode"]) == {"2025"}
    assert _val(v, "Noord-Limburg", dimensie="agb=11111111") == pytest.approx(1000.0 * f)  # plek left out
    # gemeente split by share of the basisjaar production: 60% Venlo, 40% Venray
    assert _val(v, "Noord-Limburg", "0983", "agb=11111111") == pytest.approx(0.6 * 1000.0 * f)
    assert _val(v, "Noord-Limburg", "0984", "agb=11111111") == pytest.approx(0.4 * 1000.0 * f)
    assert _val(v, "Zuid-Limburg", dimensie="agb=33333333") == pytest.approx(1000.0 * f)
    assert _val(v, "Nederland") == pytest.approx(2000.0 * f)
    n = v[(v["regio"] == "Noord-Limburg") & (v["gemeente"] == "") & (v["dimensie"] == "agb=11111111")]
    assert float(n["n_clienten"].iloc[0]) == 2.0


def test_plafond_voorstel_parameters(plafonds):
    # as keyword arguments ...
    t = sturing.voorstel(plafonds, indexatie=0.10, doeljaar=2026, basisjaar=2023)
    x = t[t["agb"] == "33333333"].iloc[0]
    assert x["voorstel"] == pytest.approx(1000.0 * 1.1 ** 3)
    assert x["productie"] == pytest.approx(1000.0)
    # ... and read from the cleaned data's params when they carry them (CLI flags)
    @dataclasses.dataclass(frozen=True)
    class MetIndex(Params):
        indexatie: float = 0.0
    c = plafonds.met_params(MetIndex("2024-07-01", indexatie=0.0))
    assert _val(sturing.plafond_voorstel(c), "Zuid-Limburg", dimensie="agb=33333333") == pytest.approx(1000.0)
    g = sturing.voorstel(plafonds, "gemeentecode")
    g = g[g["agb"] == "11111111"].set_index("gemeentecode")
    assert g.loc["0983", "aandeel"] == pytest.approx(0.6)
    assert g.loc["0984", "voorstel"] == pytest.approx(400.0 * 1.0474 ** 2)


def test_projectie(plafonds):
    p = sturing.projectie(plafonds).set_index("agb")
    # m = 6 whole months: lineair = ytd x 12 / 6
    assert p.loc["11111111", "lineair"] == pytest.approx(1200.0)
    assert p.loc["11111111", "plafond"] == pytest.approx(1000.0)
    assert p.loc["11111111", "bron"] == "budgetplafonds"
    assert p.loc["11111111", "uitnutting"] == pytest.approx(1.2)
    assert p.loc["11111111", "stoplicht"] == "rood"
    assert p.loc["22222222", "uitnutting"] == pytest.approx(600.0 / 800.0)
    assert p.loc["22222222", "stoplicht"] == "groen"
    # Zuid-Limburg has no budgetplafonds: the proposal for 2024 from 2023
    assert p.loc["33333333", "plafond"] == pytest.approx(1000.0 * 1.0474)
    assert p.loc["33333333", "bron"] == "voorstel"
    assert p.loc["33333333", "nga"] == pytest.approx(1.0)  # 33333333 has no contract
    assert p.loc["11111111", "nga"] == pytest.approx(0.0)
    # seasonal: ytd / share of last year's amount in its first 6 months (11111111: EUR 1000 all in March)
    assert p.loc["11111111", "seizoen"] == pytest.approx(600.0 / 1.0)


def test_scenario_uitbetaling(plafonds):
    s = sturing.scenario_uitbetaling(plafonds)
    assert set(s["periode"]) == {"2024"}
    nl = {d: _val(s, "Noord-Limburg", dimensie=f"scenario={d}") for d in sturing.SCENARIOS}
    # 11111111: P 1200, B 1000; 22222222: P 600, B 800 (under: paid in full everywhere)
    assert nl["pq"] == pytest.approx(1200.0 + 600.0)
    assert nl["hard"] == pytest.approx(1000.0 + 600.0)
    assert nl["donuthole"] == pytest.approx((1200.0 - 0.05 * 1000.0) + 600.0)
    assert nl["staffel"] == pytest.approx((900.0 + 0.9 * 300.0) + 600.0)
    b = 1000.0 * 1.0474
    zl = {d: _val(s, "Zuid-Limburg", dimensie=f"scenario={d}") for d in sturing.SCENARIOS}
    assert zl["pq"] == pytest.approx(1200.0)
    assert zl["hard"] == pytest.approx(b)
    assert zl["donuthole"] == pytest.approx(1200.0 - 0.05 * b)  # 1200 > 1,05 B = 1099,77
    assert zl["staffel"] == pytest.approx(0.9 * b + 0.9 * (1200.0 - 0.9 * b))
    for d in sturing.SCENARIOS:
        assert _val(s, "Nederland", dimensie=f"scenario={d}") == pytest.approx(nl[d] + zl[d])
    a = sturing.aanbieders_boven_plafond(plafonds)
    assert _val(a, "Noord-Limburg") == 1
    assert _val(a, "Zuid-Limburg") == 1
    assert _val(a, "Nederland") == 2


def test_projectie_halve_maand_niet_doorgetrokken():
    """Peildatum 2024-07-15: m = 6 whole months; a line of 1 July counts in the amount so
    far, not in the projection (as kosten_prognose_lineair, section 1)."""
    ds = _plafond_ds()
    extra = frame_dec([_regel("c1", "0983", "A1", 2024, 1, 100, maand=7)])
    ds = dataclasses.replace(ds, declaraties=pd.concat([ds.declaraties, extra], ignore_index=True))
    p = sturing.projectie(clean(ds, Params("2024-07-15"))).set_index("agb")
    assert p.loc["11111111", "ytd"] == pytest.approx(700.0)
    assert p.loc["11111111", "lineair"] == pytest.approx(600.0 * 12 / 6)
    assert p.loc["11111111", "uitnutting_nu"] == pytest.approx(0.7)


def test_geen_projectie_in_januari():
    c = clean(_plafond_ds(), Params("2024-01-15"))
    assert len(sturing.scenario_uitbetaling(c)) == 0
    assert sturing.projectie(c)["lineair"].isna().all()


def test_geregistreerd():
    reg = _common.registry()
    for k in ("plafond_voorstel", "scenario_uitbetaling", "aanbieders_boven_plafond", "kosten_verklaring"):
        assert reg[k].groep == "Sturing"
        assert reg[k].module == "sturing"


# --------------------------------------------------------------------------- the mini fixture

@pytest.fixture(scope="module")
def mini():
    ds = dataset.open_dataset(config.FIXTURE_DIR / "mini")
    return clean(ds, Params("2024-07-01", start="2020-01-01"))


def test_mini_effecten_tellen_op(mini):
    """For every regio, gemeente and productgroep, the effects add up to the change of the
    net declared amount, computed here directly from the declarations."""
    d = mini.declaraties
    d = d.assign(jaar=d["periode_begin"].dt.year.astype(str), euro=d["bedrag_cent"].astype("float64") / 100.0,
                 productgroep=d["productgroep"].fillna("onbekend"))
    for per_groep in (False, True):
        w = sturing.verklaring(mini, per_productgroep=per_groep)
        assert len(w) > 0
        for _, x in w.iterrows():
            sel = d if x["regio"] == "Nederland" else d[d["regio"] == x["regio"]]
            if x["gemeente"]:
                sel = sel[sel["gemeentecode"] == x["gemeente"]]
            if per_groep:
                sel = sel[sel["productgroep"] == x["productgroep"]]
            kosten = sel.groupby("jaar")["euro"].sum()
            verschil = kosten.get(x["periode"], 0.0) - kosten.get(str(int(x["periode"]) - 1), 0.0)
            som = sum(float(x[f]) for f in sturing.FACTOREN)
            assert som == pytest.approx(verschil, abs=1e-6), (x["regio"], x["gemeente"], x["periode"])
    k = sturing.kosten_verklaring(mini)
    assert set(k["periode"]) == {"2021", "2022", "2023"}
    assert set(k["regio"]) >= {"Noord-Limburg", "Midden-Limburg Oost", "Nederland"}


def test_kpi_rijen_gelijk_aan_registry(plafonds):
    """The report's rows with default parameters are exactly the KPI table's rows."""
    from jeugdlib import kpi

    ids = ["plafond_voorstel", "scenario_uitbetaling", "aanbieders_boven_plafond", "kosten_verklaring"]
    a = kpi.kpi_rows(plafonds, ids).sort_values(["kpi", "regio", "gemeente", "periode", "dimensie"])
    b = sturing.kpi_rijen(plafonds).sort_values(["kpi", "regio", "gemeente", "periode", "dimensie"])
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
    # and other parameters change them
    c = sturing.kpi_rijen(plafonds, donut_band=0.5)
    d = c[(c["kpi"] == "scenario_uitbetaling") & (c["regio"] == "Noord-Limburg")
          & (c["dimensie"] == "scenario=donuthole")]
    assert float(d["waarde"].iloc[0]) == pytest.approx(1000.0 + 600.0)  # 1200 <= 1000 x 1,5: capped at B


def test_secundaire_onderdrukking():
    from jeugdlib.rapport.sturing import onderdrukken

    # one aanbieder under 10 clients: the next smallest is suppressed too
    assert onderdrukken(pd.Series([50, 3, 12, 20]), 10).tolist() == [False, True, True, False]
    # two under 10: nothing extra
    assert onderdrukken(pd.Series([50, 3, 4, 20]), 10).tolist() == [False, True, True, False]
    # none, or 0 clients (nothing to hide)
    assert onderdrukken(pd.Series([50, 0, 12]), 10).tolist() == [False, False, False]
    assert onderdrukken(pd.Series([5]), 10).tolist() == [True]
