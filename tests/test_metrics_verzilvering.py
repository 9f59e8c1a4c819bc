"""Verzilvering (metrics.md section 3): hand-worked cases."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from jeugdlib import schema
from jeugdlib.config import Params
from jeugdlib.metrics import verzilvering as vz

PEIL = "2024-01-01"


def toew(rows):
    """Cleaned.toewijzingen-like frame; defaults for the columns a test does not care about."""
    base = dict(client_id="c1", gemeentecode="0889", regio="Noord-Limburg", agb="11111111",
                productcode="P1", productgroep="G", financieringsvorm="inspanning",
                aanbieder_type="regulier", einddatum=None, volume=1, eenheid="04", frequentie="2",
                budget_cent=None, tarief_cent=10_000)
    df = pd.DataFrame([{**base, **r} for r in rows])
    for c in ("ingangsdatum", "einddatum"):
        df[c] = pd.to_datetime(df[c]).astype(schema.D)
    df["einddatum_eff"] = df["einddatum"].fillna(pd.Timestamp(PEIL) - pd.Timedelta(days=1))
    for c in ("volume", "budget_cent", "tarief_cent"):
        df[c] = df[c].astype(schema.I)
    for c in ("toewijzing_nr", "client_id", "gemeentecode", "regio", "agb", "productcode", "productgroep",
              "financieringsvorm", "aanbieder_type", "eenheid", "frequentie"):
        df[c] = df[c].astype(schema.S)
    return df


def decl(rows, known=None):
    base = dict(client_id="c1", agb="11111111", gemeentecode="0889", regio="Noord-Limburg",
                productcode="P1", periode_begin="2023-01-02", eenheid="04")
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["periode_begin"] = pd.to_datetime(df["periode_begin"]).astype(schema.D)
    df["volume"] = df["volume"].astype(schema.I)
    df["bedrag_cent"] = df["bedrag_cent"].astype(schema.I)
    for c in ("toewijzing_nr", "client_id", "agb", "gemeentecode", "regio", "productcode", "eenheid"):
        df[c] = df[c].astype(schema.S)
    df["toewijzing_bekend"] = df["toewijzing_nr"].isin(known or []).astype(schema.B)
    return df


def test_frequentie_per_dag_week_maand_totaal():
    t = toew([
        # per dag: 1..10 jan = 10 days inclusive; volume 2 -> 20
        dict(toewijzing_nr="D", frequentie="1", volume=2, ingangsdatum="2023-01-01", einddatum="2023-01-10"),
        # per week: 1..15 jan = 15 days -> ceil(15/7) = 3 weeks; volume 3 -> 9
        dict(toewijzing_nr="W", frequentie="2", volume=3, ingangsdatum="2023-01-01", einddatum="2023-01-15"),
        # per week: exactly 14 days -> 2 weeks; volume 3 -> 6
        dict(toewijzing_nr="W2", frequentie="2", volume=3, ingangsdatum="2023-01-01", einddatum="2023-01-14"),
        # per maand: 31 jan .. 1 mar overlaps jan, feb, mar = 3 months; volume 5 -> 15
        dict(toewijzing_nr="M", frequentie="4", volume=5, ingangsdatum="2023-01-31", einddatum="2023-03-01"),
        # totaal: 1 unit; volume 40 -> 40
        dict(toewijzing_nr="T", frequentie="6", volume=40, ingangsdatum="2023-01-01", einddatum="2023-12-31"),
        # unknown frequency -> NaN
        dict(toewijzing_nr="X", frequentie="9", volume=1, ingangsdatum="2023-01-01", einddatum="2023-01-31"),
        # open einddatum: up to einddatum_eff = 31 dec 2023; per maand 1 jul..31 dec = 6 months x 2 = 12
        dict(toewijzing_nr="O", frequentie="4", volume=2, ingangsdatum="2023-07-01", einddatum=None),
    ])
    got = vz.maximum_volume(t).tolist()
    assert got[:5] == [20.0, 9.0, 6.0, 15.0, 40.0]
    assert np.isnan(got[5])
    assert got[6] == 12.0


def test_eenheid_factor():
    f = vz.eenheid_factor(pd.Series(["01", "16", "04", "14", "04"]), pd.Series(["04", "04", "16", "04", "04"]))
    # 60 min = 1 h; 1 dagdeel = 4 h; 1 h = 1/4 dagdeel; etmaal does not convert; same unit = 1
    assert f.tolist()[:3] == [pytest.approx(1 / 60), 4.0, 0.25]
    assert np.isnan(f.iloc[3]) and f.iloc[4] == 1.0


def _case():
    t = toew([
        # A: 2 h per week, 2..29 jan 2023 = 28 days = 4 weeks -> max 8 h; tarief EUR 100/h
        #    -> toegewezen 8 x 10000 = 80000 cent
        dict(toewijzing_nr="A", volume=2, frequentie="2", ingangsdatum="2023-01-02", einddatum="2023-01-29"),
        # B: budget-only (eenheid 83, Budget EUR 1000) for client c2 at a micro aanbieder
        dict(toewijzing_nr="B", client_id="c2", agb="22222222", aanbieder_type="micro", productcode="P2",
             eenheid="83", frequentie="6", volume=1000, budget_cent=100_000, tarief_cent=None,
             ingangsdatum="2023-03-01", einddatum="2023-06-30"),
        # C: in etmalen, declared in hours -> unit mix, left out
        dict(toewijzing_nr="C", client_id="c3", eenheid="14", frequentie="2", volume=1,
             ingangsdatum="2023-01-02", einddatum="2023-02-26"),
        # D: still open at the peildatum -> not ended, not in the KPI
        dict(toewijzing_nr="D", client_id="c4", volume=1, frequentie="2", ingangsdatum="2023-06-01"),
        # E: traject product -> not P*Q
        dict(toewijzing_nr="E", client_id="c5", financieringsvorm="traject", ingangsdatum="2023-01-02",
             einddatum="2023-05-31"),
    ])
    d = decl([
        # A: 3 h + 120 minutes = 5 h -> geleverd 5 x 10000 = 50000 cent; declared 30000 + 20000
        dict(toewijzing_nr="A", volume=3, eenheid="04", bedrag_cent=30_000),
        dict(toewijzing_nr="A", volume=120, eenheid="01", bedrag_cent=20_000, periode_begin="2023-01-16"),
        # B: EUR 600 declared against the budget
        dict(toewijzing_nr="B", client_id="c2", agb="22222222", productcode="P2", volume=600, eenheid="83",
             bedrag_cent=60_000, periode_begin="2023-03-01"),
        # C: hours on an etmaal toewijzing
        dict(toewijzing_nr="C", client_id="c3", volume=4, eenheid="04", bedrag_cent=40_000),
        # A declaration whose toewijzing is unknown, from client c1 as well: never in verzilvering
        dict(toewijzing_nr="ONBEKEND", volume=10, eenheid="04", bedrag_cent=100_000),
        # D: 1 h
        dict(toewijzing_nr="D", client_id="c4", volume=1, eenheid="04", bedrag_cent=10_000,
             periode_begin="2023-06-05"),
    ], known=["A", "B", "C", "D", "E"])
    return t, d


def test_per_toewijzing_units_budget_and_mix():
    t, d = _case()
    v = vz.verzilvering_per_toewijzing(t, d).set_index("toewijzing_nr")
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
    t = toew([dict(toewijzing_nr="A", volume=10, frequentie="6", ingangsdatum="2023-01-02",
                   einddatum="2023-01-29")])
    # 1 dagdeel = 4 h, plus 30 minutes = 0.5 h -> 4.5 h of 10
    d = decl([dict(toewijzing_nr="A", volume=1, eenheid="16", bedrag_cent=40_000),
              dict(toewijzing_nr="A", volume=30, eenheid="01", bedrag_cent=5_000)], known=["A"])
    v = vz.verzilvering_per_toewijzing(t, d)
    assert v["geleverd_volume"].iloc[0] == pytest.approx(4.5)
    assert v["verzilvering"].iloc[0] == pytest.approx(0.45)


def test_kpis_total_type_product_and_amounts():
    t, d = _case()
    c = SimpleNamespace(toewijzingen=t, declaraties=d)
    k = vz.kpis(c, Params(peildatum=PEIL, start="2023-01-01"))
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
    t = toew([dict(toewijzing_nr="A", ingangsdatum="2024-01-01", einddatum="2024-03-31"),
              dict(toewijzing_nr="B", ingangsdatum="2023-01-02", einddatum="2023-01-29")])
    d = decl([dict(toewijzing_nr="A", volume=1, bedrag_cent=10_000, periode_begin="2024-01-01"),
              dict(toewijzing_nr="B", volume=1, bedrag_cent=10_000)], known=["A", "B"])
    k = vz.kpis(SimpleNamespace(toewijzingen=t, declaraties=d), Params(peildatum="2024-06-01", per="jaar"))
    assert set(k["periode"]) == {"2023"}
    # B: 1 h per week x 4 weeks = 4 h, 1 delivered -> 0.25
    tot = k[(k["kpi"] == "verzilvering") & (k["dimensie"] == "") & (k["regio"] == "Nederland")]
    assert tot["waarde"].tolist() == [pytest.approx(0.25)]


def test_through_clean_declaration_without_toewijzing():
    """The real pipeline: a line on an unknown ToewijzingNummer stays in the cleaned
    declarations (it counts in kosten) but never in verzilvering."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from _ds_factory import dec, make_ds, tw

    from jeugdlib.clean import clean

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
    k = vz.kpis(c, p)
    tot = k[(k["regio"] == "Nederland") & (k["dimensie"] == "")].set_index("kpi")["waarde"]
    # 3 / 8 h; only T1's EUR 300 is declared on the toewijzingen
    assert tot["verzilvering"] == pytest.approx(3 / 8)
    assert tot["gedeclareerd_bedrag"] == pytest.approx(300.0)
    assert tot["toegewezen_bedrag"] == pytest.approx(800.0)


def test_rij_codes_group_as_codes_of_the_rows():
    s = pd.DataFrame({"x": pd.Series([" a", "b", None, "a", "", "b ", "onbekend"], dtype=schema.S)})
    rows = np.array([6, 0, 2, 3, 4, 5])
    codes, labels = vz._rij_codes(s, "x", rows, "onbekend")
    assert [labels[c] for c in codes] == ["onbekend", " a", "onbekend", "a", "", "b "]
    codes, labels = vz._rij_codes(s, "x", rows, strip=True)
    got = [labels[c] for c in codes]
    assert got == ["onbekend", "a", "", "a", "", "b"]
    ref, _ = vz._codes(s["x"].iloc[rows].astype(schema.S).fillna("").str.strip())
    assert len(set(zip(codes, ref))) == len(set(ref)) == len(set(codes))  # the same groups


def test_toewijzing_positie_last_row_of_a_number():
    t = toew([dict(toewijzing_nr="A", ingangsdatum="2023-01-02"), dict(toewijzing_nr="B", ingangsdatum="2023-01-02"),
              dict(toewijzing_nr="A", ingangsdatum="2023-01-02")])
    d = decl([dict(toewijzing_nr="B", volume=1, bedrag_cent=1), dict(toewijzing_nr="A", volume=1, bedrag_cent=1),
              dict(toewijzing_nr="Z", volume=1, bedrag_cent=1)])
    assert vz._toewijzing_positie(t, d).tolist() == [1, 2, -1]
    codes, eerste, laatste = vz._nummer_koppeling(d, t)
    assert eerste[codes].tolist() == [1, 0, -1] and laatste[codes].tolist() == [1, 2, -1]
    assert vz._nummer_koppeling(d, t)[1] is eerste  # cached per pair of frames


def test_nummer_koppeling_missing_and_empty_numbers():
    t = toew([dict(toewijzing_nr="", ingangsdatum="2023-01-02"), dict(toewijzing_nr=None, ingangsdatum="2023-01-02"),
              dict(toewijzing_nr="7", ingangsdatum="2023-01-02")])
    d = decl([dict(toewijzing_nr=None, volume=1, bedrag_cent=1), dict(toewijzing_nr="", volume=1, bedrag_cent=1),
              dict(toewijzing_nr="07", volume=1, bedrag_cent=1), dict(toewijzing_nr="7", volume=1, bedrag_cent=1)])
    codes, eerste, laatste = vz._nummer_koppeling(d, t)
    # a missing number links to nothing; "" is a number of its own; "07" is not "7"
    assert eerste[codes].tolist() == [-1, 0, -1, 2]


def _index_in(waarden, uniek):
    return vz._Zoeker(uniek).zoek(waarden)


def test_zoeker_texts_and_numbers():
    uniek = np.array(["12", "5", "-3"], dtype=object)
    # canonical decimal numbers: looked up as int64
    assert _index_in(np.array(["5", "7", "-3", "12"], dtype=object), uniek).tolist() == [1, -1, 2, 0]
    # "05" or " 5" are other texts than "5": the text lookup is used
    assert _index_in(np.array(["05", " 5", "5"], dtype=object), uniek).tolist() == [-1, -1, 1]
    assert _index_in(np.array(["5"], dtype=object), np.array(["a", "5"], dtype=object)).tolist() == [1]
    # missing values (Arrow input) find nothing
    assert _index_in(pa.array(["12", None, "x"]), uniek).tolist() == [0, -1, -1]
    assert _index_in(np.array([], dtype=object), uniek).tolist() == []
    assert vz._als_getallen(pa.array(["1", "007"])) is None and vz._als_getallen(pa.array(["1", "x"])) is None
    assert vz._als_getallen(pa.array(["10", "-2"])).tolist() == [10, -2]


def test_rows_from_codes_as_groupby():
    base = pd.DataFrame({"r": [0, 0, 1, 0, 1, 0], "g": [1, 0, 2, 1, 2, 0], "p": [0, 0, 0, 0, 1, 0],
                         "d": [0, 0, 0, 0, 0, 0], "c": [5, 5, 6, -1, 6, 7],
                         "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "y": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})
    ru, gu = np.array(["R0", "R1"], dtype=object), np.array(["g0", "g1", "g2"], dtype=object)
    out = vz._rows_from_codes(base, ru, gu, np.array(["2023", "2024"], dtype=object), np.array([""], dtype=object),
                              ["x", "y"])
    got = [(a, b, c, x, round(y, 10), n) for a, b, c, x, y, n in
           out[["regio", "gemeente", "periode", "x", "y", "n_clienten"]].itertuples(index=False)]
    # groups in the order of their first row per level; client 5 in g1 and g0 counts once for R0
    assert got == [("R0", "g1", "2023", 5.0, 0.5, 1.0), ("R0", "g0", "2023", 8.0, 0.8, 2.0),
                   ("R1", "g2", "2023", 3.0, 0.3, 1.0), ("R1", "g2", "2024", 5.0, 0.5, 1.0),
                   ("R0", "", "2023", 13.0, 1.3, 2.0), ("R1", "", "2023", 3.0, 0.3, 1.0),
                   ("R1", "", "2024", 5.0, 0.5, 1.0),
                   ("Nederland", "", "2023", 16.0, 1.6, 3.0), ("Nederland", "", "2024", 5.0, 0.5, 1.0)]


def test_som_per_groep_as_pandas():
    codes = np.array([1, 0, 1, 2, 0])
    for v in (np.array([1.0, 2.0, 3.0, -4.0, 5.0]), np.array([0.1, 0.2, 0.3, np.nan, 1e16]),
              np.array([1, 2, 3, 4, 5])):
        ref = pd.Series(v).groupby(codes).sum().to_numpy()
        got = vz._som_per_groep(codes, v, 3)
        assert got.dtype == ref.dtype and np.array_equal(got, ref)


def test_eindigend_posities_as_eindigend_in_periode():
    t = toew([dict(toewijzing_nr="A", ingangsdatum="2022-01-02", einddatum="2022-05-01"),
              dict(toewijzing_nr="B", ingangsdatum="2022-01-02"),
              dict(toewijzing_nr="C", ingangsdatum="2022-01-02", einddatum="2023-12-31"),
              dict(toewijzing_nr="D", ingangsdatum="2022-01-02", einddatum="2023-02-01")])
    p = Params(peildatum="2023-06-01", start="2022-01-01")
    e = vz.eindigend_in_periode(t, p, alleen_volledig=True)
    pos, idx, per = vz._eindigend_posities(t, p, alleen_volledig=True)
    assert e["toewijzing_nr"].tolist() == ["A"] and pos.tolist() == [0]
    assert per["periode"].to_numpy()[idx].tolist() == e["periode"].tolist() == ["2022"]
    pos, idx, per = vz._eindigend_posities(t, p, rows=np.array([3, 0]))
    assert pos.tolist() == [3, 0] and per["periode"].to_numpy()[idx].tolist() == ["2023", "2022"]


def test_frequentie_eenheden_as_calendar_arithmetic():
    t = toew([dict(toewijzing_nr=str(i), frequentie=f, ingangsdatum=a, einddatum=b)
              for i, (f, a, b) in enumerate([("1", "2023-01-31", "2023-03-01"), ("2", "2023-01-31", "2023-03-01"),
                                             ("4", "2023-01-31", "2023-03-01"), ("4", "1969-12-15", "1970-01-01"),
                                             ("1", "2023-05-01", "2023-04-30"), ("4", "2023-05-01", None)])])
    t.loc[5, "einddatum_eff"] = pd.NaT
    got = vz.frequentie_eenheden(t).to_numpy()
    ing, eind = t["ingangsdatum"], t["einddatum"].fillna(t["einddatum_eff"])
    dagen = ((eind - ing).dt.days + 1).to_numpy(dtype="float64", na_value=np.nan)
    maanden = ((eind.dt.year * 12 + eind.dt.month) - (ing.dt.year * 12 + ing.dt.month) + 1).to_numpy(
        dtype="float64", na_value=np.nan)
    assert got[:5].tolist() == [dagen[0], np.ceil(dagen[1] / 7), maanden[2], maanden[3], dagen[4]]
    assert got[:5].tolist() == [30.0, 5.0, 3.0, 2.0, 0.0] and np.isnan(got[5])


def test_zoeker_table_and_hash_lookups():
    dicht = vz._Zoeker(np.array(["100", "101", "103"], dtype=object))
    verspreid = vz._Zoeker(np.array(["100", "900000000", "5"], dtype=object))
    assert dicht.tabel is not None and verspreid.index is not None
    assert dicht.zoek(np.array(["103", "102", "99", "100"], dtype=object)).tolist() == [2, -1, -1, 0]
    assert verspreid.zoek(pa.array(["5", None, "900000000", "0100"])).tolist() == [2, -1, 1, -1]
    tekst = vz._Zoeker(np.array(["A1", "b"], dtype=object))
    assert tekst.bi is None and tekst.zoek(np.array(["b", "A1", "c"], dtype=object)).tolist() == [1, 0, -1]
