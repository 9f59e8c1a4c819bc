"""Significance of year-on-year changes (metrics/toetsen.py), checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from jeugdlib.metrics import toetsen


def _phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_poisson_equal_exposure_by_hand():
    r = toetsen.verandering_aantal(120, 100)
    # ratio 120 / 100 = 1.2 -> +20%; score test with equal exposure: z = (120 - 100) / sqrt(220) = 1.3484
    z = 20 / math.sqrt(220)
    assert r.schatting == pytest.approx(0.2)
    assert r.p_waarde == pytest.approx(2 * (1 - _phi(z)), rel=1e-6)  # 0.1775
    assert r.ondergrens < 0 < r.bovengrens and r.ondergrens < r.schatting < r.bovengrens
    assert not r.significant
    assert r.toets == toetsen.POISSON_TOETS


def test_poisson_exposure_and_significance():
    # 300 per 1000 jeugdigen vs 200 per 1000: ratio 1.5; z = (300 - 200) / sqrt(500) = 4.47 -> p < 0.001
    r = toetsen.verandering_aantal(300, 200, blootstelling_nu=1000, blootstelling_vorig=1000)
    assert r.schatting == pytest.approx(0.5)
    assert r.p_waarde == pytest.approx(2 * (1 - _phi(100 / math.sqrt(500))), rel=1e-4)
    assert r.significant
    # doubling the exposure of this year halves its rate: 300/2000 vs 200/1000 -> ratio 0.75
    r2 = toetsen.verandering_aantal(300, 200, blootstelling_nu=2000, blootstelling_vorig=1000)
    assert r2.schatting == pytest.approx(-0.25)


def test_poisson_edges():
    r = toetsen.verandering_aantal(0, 5)
    assert r.schatting == -1.0 and r.ondergrens == pytest.approx(-1.0) and r.bovengrens < 0
    nan = toetsen.verandering_aantal(5, 0)
    assert math.isnan(nan.schatting) and math.isnan(nan.p_waarde)
    with pytest.raises(ValueError):
        toetsen.verandering_aantal(-1, 5)
    with pytest.raises(ValueError):
        toetsen.verandering_aantal(2.5, 5)


def test_proportions_by_hand():
    r = toetsen.verandering_aandeel(30, 100, 20, 100)
    assert r.schatting == pytest.approx(0.10)
    # Agresti-Caffo: add one success and one failure per group: 31/102 and 21/102
    p1, p0 = 31 / 102, 21 / 102
    se = math.sqrt(p1 * (1 - p1) / 102 + p0 * (1 - p0) / 102)  # 0.06064
    z = (p1 - p0) / se  # 1.617
    assert r.p_waarde == pytest.approx(2 * (1 - _phi(z)), rel=1e-6)  # 0.106
    assert r.ondergrens < 0.10 < r.bovengrens
    assert r.toets == toetsen.PROPORTIE_TOETS


def test_proportions_edges_and_errors():
    r = toetsen.verandering_aandeel(0, 100, 0, 100)
    assert r.schatting == 0 and r.p_waarde == pytest.approx(1.0)
    assert r.ondergrens < 0 < r.bovengrens
    with pytest.raises(ValueError):
        toetsen.verandering_aandeel(11, 10, 1, 10)
    with pytest.raises(ValueError):
        toetsen.verandering_aandeel(1, 0, 1, 10)


def test_tekst():
    r = toetsen.Toetsuitslag(0.2, -0.08, 0.564, 0.17753, "x")
    assert r.tekst() == "+20,0% (95%-BI -8,0% tot +56,4%; p = 0,178)"
    assert "p < 0,001" in toetsen.Toetsuitslag(0.5, 0.3, 0.7, 1e-6, "x").tekst()


def test_jaar_op_jaar_aantallen():
    k = pd.DataFrame({
        "kpi": ["clienten"] * 5 + ["kosten"],
        "regio": ["R", "R", "R", "R", "Nederland", "R"],
        "gemeente": ["", "", "0001", "0001", "", ""],
        "periode": ["2022", "2023", "2022", "2023", "2023", "2023"],
        "dimensie": [""] * 6,
        "waarde": [100.0, 120.0, float("nan"), 12.0, 50.0, 1e6],
    })
    out = toetsen.jaar_op_jaar_aantallen(k, "clienten")
    # only R 2023 vs 2022 has both values (the gemeente's 2022 value is suppressed; Nederland has no 2022)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["regio"], row["periode"], row["nu"], row["vorig"]) == ("R", "2023", 120.0, 100.0)
    assert row["schatting"] == pytest.approx(0.2)
    assert toetsen.vorige_periode(pd.Series(["2024-Q2", "2024-05", "2024"])).tolist() == \
        ["2023-Q2", "2023-05", "2023"]


def test_verschil_verzilvering_hand_worked():
    """Group a: 50 of 100 and 100 of 100 delivered -> ratios 0,5 and 1,0, verzilvering 0,75;
    group b: 20 and 40 of 100 -> 0,2 and 0,4, verzilvering 0,30. Difference 0,45.
    Variances of the mean (ddof 1): a ((0,25² + 0,25²) / 1) / 2 = 0,0625, b (0,1² + 0,1²) / 2 = 0,01;
    se = sqrt(0,0725) = 0,26926, t = 1,6713, Welch df = 0,0725² / (0,0625² + 0,01²) = 1,3120."""
    from scipy import stats

    from jeugdlib.metrics.toetsen import VERZILVERING_TOETS, verschil_verzilvering

    t = verschil_verzilvering([50, 100], [100, 100], [20, 40], [100, 100])
    assert t.schatting == pytest.approx(0.45)
    assert t.toets == VERZILVERING_TOETS
    p = 2 * stats.t.sf(0.45 / 0.0725 ** 0.5, 0.0725 ** 2 / (0.0625 ** 2 + 0.01 ** 2))
    assert t.p_waarde == pytest.approx(p, rel=1e-6)
    assert t.p_waarde == pytest.approx(stats.ttest_ind([0.5, 1.0], [0.2, 0.4], equal_var=False).pvalue, rel=1e-9)
    assert not t.significant and t.ondergrens < 0 < t.bovengrens
    # weighted: the group's verzilvering is sum(geleverd) / sum(toegewezen), not the mean ratio
    w = verschil_verzilvering([10, 300], [100, 300], [20, 40], [100, 100])
    assert w.schatting == pytest.approx(310 / 400 - 0.3)
    with pytest.raises(ValueError):
        verschil_verzilvering([1], [2], [1, 2], [2, 3])
