"""Hand-checked tests of the smaller pieces of jeugdlib.forecast: period totals of a
Prognose, the monthly series and their SQL, the recent verzilvering of a hand-made
case, and the month arithmetic of vorig_jaar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdlib import config
from jeugdlib import forecast as F

from test_forecast import NOORD, _cleaned, _con


def _prognose(paden=None):
    """Realised 2024-01..05 (10 each, May 30: arrived so far), forecast 2024-05..2025-02
    (waarde 20, bounds 15 / 25) for method gemiddelde_12m and the same for ets."""
    real = pd.Series([10.0, 10.0, 10.0, 10.0, 30.0], index=pd.date_range("2024-01-01", periods=5, freq="MS"))
    maanden = pd.date_range("2024-05-01", periods=10, freq="MS")
    f = pd.concat([pd.DataFrame({"maand": maanden, "methode": m, "waarde": 20.0, "ondergrens": 15.0,
                                 "bovengrens": 25.0}) for m in ("gemiddelde_12m", "ets")], ignore_index=True)
    return F.Prognose(naam="x", realisatie=real, eerste_onvolledig=maanden[0], voorspelling=f,
                      backtest=pd.DataFrame(), mape=pd.Series(dtype=float), beste="gemiddelde_12m",
                      voorsprong=pd.Series(dtype=float), methoden=("gemiddelde_12m", "ets"), redenen=[],
                      paden=paden)


def test_per_periode_hand():
    p = _prognose()
    # 2024: Jan-Apr 4 x 10 + May max(30, 20) = 30 + Jun-Dec 7 x 20 = 210; 2025 is not whole: left out
    j = p.per_periode("jaar")
    assert j["periode"].tolist() == ["2024"] and j["waarde"].tolist() == [210.0]
    assert j["ondergrens"].tolist() == [40 + 30 + 7 * 15.0] and j["bovengrens"].tolist() == [40 + 30 + 7 * 25.0]
    # quarters with a forecast month: Q2 (Apr 10 + May 30 + Jun 20) .. 2025-Q1 (Jan, Feb, no Mar: not whole)
    k = p.per_periode("kwartaal")
    assert k["periode"].tolist() == ["2024-Q2", "2024-Q3", "2024-Q4"]
    assert k["waarde"].tolist() == [60.0, 60.0, 60.0]
    m = p.per_periode("maand")
    assert m["periode"].tolist()[0] == "2024-05" and len(m) == 10 and m["waarde"].iloc[0] == 30.0
    assert m["prognose"].all()
    # the same as sums over aangevuld (the months' definition)
    a = p.aangevuld().reset_index()
    assert a.loc[a["maand"].dt.year == 2024, "waarde"].sum() == 210.0
    with pytest.raises(ValueError):
        p.per_periode("week")


def test_per_periode_ets_interval_from_paths():
    # two paths over the 10 forecast months: all 1 and all 100; May's realised 30 is the floor
    paden = np.vstack([np.ones(10), np.full(10, 100.0)])
    p = _prognose(paden)
    j = p.per_periode("jaar", "ets")
    # path sums for 2024 = realised Jan-Apr 40 + May max(path, 30) + Jun-Dec 7 x path:
    # path 1: 40 + 30 + 7 = 77; path 100: 40 + 100 + 700 = 840; 80% interval: quantiles 0.1, 0.9
    assert j["ondergrens"].iloc[0] == pytest.approx(77 + 0.1 * (840 - 77))
    assert j["bovengrens"].iloc[0] == pytest.approx(77 + 0.9 * (840 - 77))
    assert j["waarde"].iloc[0] == 210.0


def test_reeks_hand():
    tab = pd.DataFrame({"regio": ["A", "A", "A", "B", "B", "C"],
                        "maand": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01",
                                                 "2024-03-01", "2024-09-01", "2024-02-01"]),
                        "kosten": [0.0, 5.0, 7.0, 3.0, 4.0, -1.0]})
    got = {k: F.reeks(g, "2024-08-01") for k, g in tab.groupby("regio", sort=True)}
    # A starts at its first positive month (Feb), months up to July, gaps 0; B: Mar..Jul (Sep is
    # after the peildatum); C has no positive month: empty
    assert got["A"].tolist() == [5.0, 0.0, 0.0, 7.0, 0.0, 0.0]
    assert got["A"].index[0] == pd.Timestamp("2024-02-01") and got["A"].index.freq == "MS"
    assert got["B"].index[0] == pd.Timestamp("2024-03-01") and got["B"].tolist() == [3.0, 0, 0, 0, 0]
    assert len(got["C"]) == 0 and got["C"].index.freq == "MS"


def test_maandkosten_of_selected_rows():
    c = _cleaned()
    got = F.maandkosten(c, waar="agb = 'A'")
    # hand: Noord-Limburg in 2019-01 without B's EUR 300 = aanbieder A's 100_000 cent = EUR 1000
    n = got[(got["regio"] == NOORD) & (got["maand"] == "2019-01-01")]["kosten"]
    assert n.tolist() == [1000.0]
    alle = F.maandkosten(c)
    assert alle[(alle["regio"] == NOORD) & (alle["maand"] == "2019-01-01")]["kosten"].tolist() == [1300.0]


def test_recente_verzilvering_of_the_ended_toewijzing():
    c = _cleaned()
    # the ended toewijzing E: 2 h maximum, 1 h delivered; the only one (fewer than 10): total level
    v = F.recente_verzilvering(c).set_index(["regio", "productcode"])
    assert v.loc[(NOORD, "45A48"), "verzilvering"] == pytest.approx(0.5)
    assert v.loc[(NOORD, "45A48"), "bron"] == "totaal"


def test_vorig_jaar_mid_month():
    # history on the 15th of each month: the same month last year is found by date, not by month start
    y = pd.Series(np.arange(1, 13) * 100.0, index=pd.date_range("2023-01-01", periods=12, freq="MS")
                  + pd.Timedelta(days=14))  # 2023-01-15 .. 2023-12-15
    f = F.voorspel_vorig_jaar(y, pd.DatetimeIndex(["2024-03-15", "2025-01-15"]), 0.05)
    # 2024-03-15: 2023-03-15 (300) x 1.05; 2025-01-15: two years back, 2023-01-15 (100) x 1.05^2
    assert f.tolist() == pytest.approx([315.0, 110.25])
    with pytest.raises(KeyError):  # 2023-03-01 is not in this history
        F.voorspel_vorig_jaar(y, pd.DatetimeIndex(["2024-03-01"]), 0.05)


def test_maandkosten_missing_month_and_regio():
    dec = pd.DataFrame({"regio": pd.array(["A", None, "A", "B", "A"], dtype="string[pyarrow]"),
                        "maand": pd.to_datetime(["2024-01-01", "2024-01-01", None, "2024-02-01", "2024-01-01"]),
                        "bedrag_cent": pd.array([100, 250, 999, 300, -40], dtype="int64[pyarrow]")})
    got = F.maandkosten(_con(declaraties=dec))
    # the line without a month (999) is left out; missing regio is "onbekend"; Nederland = the sum
    assert got["regio"].tolist() == ["A", "B", "onbekend", config.NEDERLAND, config.NEDERLAND]
    assert got["maand"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-01", "2024-01", "2024-02"]
    assert got["kosten"].tolist() == [0.6, 3.0, 2.5, 3.1, 3.0]
    # only the rows of a selection
    sel = F.maandkosten(_con(declaraties=dec), nederland=False, waar="bedrag_cent <> 250")
    assert sel["regio"].tolist() == ["A", "B"] and sel["kosten"].tolist() == [0.6, 3.0]
