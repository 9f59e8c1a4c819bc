"""Verdeelsleutel (metrics.md section 9): the worked example by hand, and the counts."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from jeugdlib import schema
from jeugdlib.config import Params
from jeugdlib.errors import JeugdlibError
from jeugdlib.metrics import _common
from jeugdlib.metrics import verdeelsleutel as vs


def test_worked_example_four_parts_of_25_percent():
    tel = pd.DataFrame({
        "gemeentecode": ["A", "B", "C", "D"],
        "jeugdigen": [4000, 3000, 2000, 1000],  # of 10000: .4 .3 .2 .1
        "toewijzingen": [50, 30, 10, 10],  # of 100:   .5 .3 .1 .1
        "declaratieregels": [600, 200, 100, 100],  # of 1000: .6 .2 .1 .1
    })
    v = vs.verdeel(tel, 1003, vs.ZUID_LIMBURG)
    # gemeente part: 1/4 each.
    # A = .25 x (.25 + .4 + .5 + .6) = .25 x 1.75 = .4375
    # B = .25 x (.25 + .3 + .3 + .2) = .25 x 1.05 = .2625
    # C = .25 x (.25 + .2 + .1 + .1) = .25 x 0.65 = .1625
    # D = .25 x (.25 + .1 + .1 + .1) = .25 x 0.55 = .1375   (sum 1)
    assert v["aandeel"].tolist() == pytest.approx([0.4375, 0.2625, 0.1625, 0.1375])
    assert v["aandeel_gemeente"].tolist() == pytest.approx([0.25] * 4)
    assert v["aandeel_jeugdigen"].tolist() == pytest.approx([0.4, 0.3, 0.2, 0.1])
    # x EUR 1003: 438.8125, 263.2875, 162.9875, 137.9125 -> floors 438 263 162 137 = 1000,
    # 3 euro left go to the largest fractions C (.9875), D (.9125), A (.8125); B (.2875) gets none.
    assert v["bedrag"].tolist() == [439, 263, 163, 138]
    assert v["bedrag"].sum() == 1003


def test_largest_remainder_float_noise_and_ties():
    # 100 computed as 99.99999999 must stay 100; the tie 50.5 / 50.5 goes to the first.
    assert vs.largest_remainder(np.array([99.99999999, 50.5, 50.5]), 201).tolist() == [100, 51, 50]


def test_weights_must_sum_to_one():
    tel = pd.DataFrame({"gemeentecode": ["A", "B"], "jeugdigen": [1, 1]})
    with pytest.raises(JeugdlibError):
        vs.verdeel(tel, 100, {"gemeente": 0.5, "jeugdigen": 0.4})
    with pytest.raises(JeugdlibError):
        vs.verdeel(tel, 100, {"gemeente": 0.5, "toewijzingen": 0.5})  # no such count


def test_configurable_parts():
    # Two parts, 60/40: per gemeente (1/2 each) and jeugdigen (3/4, 1/4).
    # A = .6 x .5 + .4 x .75 = .6; B = .6 x .5 + .4 x .25 = .4; x EUR 10 -> 6 and 4
    tel = pd.DataFrame({"gemeentecode": ["A", "B"], "jeugdigen": [300, 100]})
    v = vs.verdeel(tel, 10, {"gemeente": 0.6, "jeugdigen": 0.4})
    assert v["aandeel"].tolist() == pytest.approx([0.6, 0.4]) and v["bedrag"].tolist() == [6, 4]


def _tables():
    gem = pd.DataFrame({"gemeentecode": ["0889", "0893"], "gemeentenaam": ["Beesel", "Bergen (L.)"],
                        "regio_code": ["JZ37", "JZ37"], "regio_naam": ["Noord-Limburg", "Noord-Limburg"]},
                       dtype=schema.S)
    t = pd.DataFrame([
        # T1 overlaps 2023 in its first version; withdrawn later (einde voor ingang): still counts once
        ("T1", "0889", "2023-02-01", "2023-05-31"),
        ("T2", "0889", "2022-01-01", "2022-12-31"),  # ends before 2023
        ("T3", "0893", "2022-06-01", None),  # open: overlaps 2023
        ("T4", "0893", "2024-01-01", None),  # starts after 2023
        ("T5", "0889", "2023-12-31", "2024-03-01"),  # last day of 2023
    ], columns=["toewijzing_nr", "gemeentecode", "ingangsdatum", "einddatum"])
    ingetrokken = pd.DataFrame([("T1", "0889", "2023-02-01", "2023-01-31")], columns=t.columns)
    for df in (t, ingetrokken):
        for c in ("ingangsdatum", "einddatum"):
            df[c] = pd.to_datetime(df[c]).astype(schema.D)
    d = pd.DataFrame({
        "gemeentecode": ["0889", "0889", "0889", "0889", "0893"],
        "periode_begin": pd.to_datetime(["2023-01-01", "2023-12-01", "2023-12-01", "2022-12-01", "2023-06-01"]),
    })
    bev = pd.DataFrame({"gemeentecode": ["0889", "0889", "0889", "0893"], "jaar": [2022, 2023, 2024, 2021],
                        "jeugdigen": [1000, 1100, 1200, 500]})
    return gem, t, ingetrokken, d, bev


def test_tellingen_year_before():
    gem, t, ing, d, bev = _tables()
    alle = pd.concat([t, ing], ignore_index=True)
    tel = vs.tellingen(gem, 2024, toewijzingen=alle, declaraties=d, bevolking=bev).set_index("gemeentecode")
    # toewijzingen overlapping 2023: 0889 T1, T5 = 2; 0893 T3 = 1
    assert tel["toewijzingen"].to_dict() == {"0889": 2, "0893": 1}
    # lines with periode_begin in 2023: 0889 three (debet and credit both count), 0893 one
    assert tel["declaratieregels"].to_dict() == {"0889": 3, "0893": 1}
    # jeugdigen of 2023 (0889: 1100); 0893 only has 2021 (500)
    assert tel["jeugdigen"].to_dict() == {"0889": 1100, "0893": 500}


def test_kpis_shares_per_gemeente():
    gem, t, ing, d, bev = _tables()
    c = SimpleNamespace(gemeenten=gem, toewijzingen=t, toewijzingen_ingetrokken=ing, declaraties=d,
                        dataset=None, bevolking=bev)
    k = vs.kpis(c, Params(peildatum="2024-08-01", start="2024-01-01"))
    w = dict(zip(k["gemeente"] + "|" + k["dimensie"], k["waarde"]))
    # 0889: gemeente 1/2, jeugdigen 1100/1600 = .6875, toewijzingen 2/3, regels 3/4
    # total .25 x (.5 + .6875 + .666667 + .75) = .25 x 2.604167 = .651042; 0893 the rest
    assert w["0889|deel=jeugdigen"] == pytest.approx(0.6875)
    assert w["0889|"] == pytest.approx(0.25 * (0.5 + 0.6875 + 2 / 3 + 0.75))
    assert w["0889|"] + w["0893|"] == pytest.approx(1.0)
    assert set(k["periode"]) == {"2024"} and set(k["regio"]) == {"Noord-Limburg"}
    assert k["n_clienten"].isna().all()


def test_span_delen_as_one_concatenated_frame():
    S = schema.S
    t = pd.DataFrame({"toewijzing_nr": pd.Series(["A", "B", None, "A", ""], dtype=S),
                      "gemeentecode": pd.Series(["01", "01", "02", "02", "01"], dtype=S),
                      "ingangsdatum": pd.to_datetime(["2023-03-01", "2023-01-01", "2023-02-01", None, "2023-05-01"]),
                      "einddatum": pd.to_datetime(["2023-04-01", None, "2023-02-28", "2023-06-01", "2023-05-31"])})
    x = pd.DataFrame({"toewijzing_nr": pd.Series(["A", "C", None], dtype=S),
                      "gemeentecode": pd.Series(["01", "03", "02"], dtype=S),
                      "ingangsdatum": pd.to_datetime(["2022-01-01", "2023-01-01", "2021-01-01"]),
                      "einddatum": pd.to_datetime(["2022-02-01", "2023-02-01", "2021-02-01"])})
    g, ing, eind, gu = vs._span_delen([t, x])
    got = sorted((gu[a], str(b)[:10], str(c)[:10]) for a, b, c in zip(g, ing, eind))
    # (A, 01): rows 0 and x0; (B, 01) open; (missing, 02): rows 2 and x2; (A, 02): no ingangsdatum; ("", 01); (C, 03)
    assert got == sorted([("01", "2022-01-01", "2023-04-01"), ("01", "2023-01-01", "2262-04-11"),
                          ("02", "2021-01-01", "2023-02-28"), ("02", "NaT", "2023-06-01"),
                          ("01", "2023-05-01", "2023-05-31"), ("03", "2023-01-01", "2023-02-01")])
    c, u = _common.column_codes(pd.DataFrame({"c": pd.Series(["b", None, "", "b"], dtype=S)}), "c")
    assert [None if k < 0 else u[k] for k in c] == ["b", None, "", "b"]
