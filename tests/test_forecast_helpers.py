"""Hand-checked tests of the vectorised helpers of jeugdlib.forecast (performance pass):
each equals the plain pandas computation it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdlib import forecast as F
from jeugdlib.metrics import verzilvering as vz

from test_forecast import _cleaned


def test_som_per_rij_is_pandas_compensated_sum():
    v = np.array([[1.0, 1e-16, 1e-16],      # naive: 1 + 1e-16 rounds to 1, twice: 1.0; compensated:
                  [1.0, np.nan, 2.0],       # the lost 1e-16 is carried: 1 + 2e-16 rounds up to 1 + 2**-52
                  [np.nan, np.nan, np.nan],  # NaN skipped: 3; nothing: 0 (groupby-sum's min_count=0)
                  [0.1, 0.2, 0.3]])
    assert (1.0 + 1e-16) + 1e-16 == 1.0
    got = F._som_per_rij(v)
    assert got[0] == 1.0 + 2**-52 and got[1] == 3.0 and got[2] == 0.0
    ref = pd.Series(v.ravel()).groupby(np.repeat(np.arange(4), 3)).sum().to_numpy()
    assert got.tobytes() == ref.tobytes()  # to the last bit
    rng = np.random.default_rng(0)
    w = rng.standard_normal((50, 12)) * 10.0 ** rng.integers(-3, 12, (50, 12))
    ref = pd.Series(w.ravel()).groupby(np.repeat(np.arange(50), 12)).sum().to_numpy()
    if int(pd.__version__.split(".")[0]) < 3:
        assert F._som_per_rij(w).tobytes() == ref.tobytes()
    else:  # pandas 3 sums groups with another compensation: equal to rounding
        np.testing.assert_allclose(F._som_per_rij(w), ref, rtol=1e-12)


def test_periode_labels():
    start = F._maandnummers(pd.to_datetime(["2023-01-01", "2024-04-01", "1969-12-01"]))
    assert start.tolist() == [(2023 - 1970) * 12, (2024 - 1970) * 12 + 3, -1]
    assert F._periode_labels(start, "jaar").tolist() == ["2023", "2024", "1969"]
    assert F._periode_labels(start, "kwartaal").tolist() == ["2023-Q1", "2024-Q2", "1969-Q4"]
    assert F._periode_labels(start, "maand").tolist() == ["2023-01", "2024-04", "1969-12"]


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


def _reeks(maandtabel: pd.DataFrame, eind) -> pd.Series:
    """Oracle of ``F._reeksen`` for one group, on pandas: the monthly cost as a gapless
    series (months without lines = 0) from the first month with positive cost to the
    month holding the day before ``eind``; float64, indexed by month start (freq MS)."""
    s = maandtabel.set_index("maand")["kosten"].astype("float64").sort_index()
    pos = s[s > 0]
    if len(pos) == 0:
        return pd.Series([], dtype="float64", index=pd.DatetimeIndex([], freq="MS"), name="kosten")
    begin = pos.index[0]
    idx = F._months(begin, eind) if pd.Timestamp(eind) > pd.Timestamp(begin) else pd.DatetimeIndex([], freq="MS")
    return s.reindex(idx, fill_value=0.0).rename("kosten")


def test_reeksen_equal_reeks():
    tab = pd.DataFrame({"regio": ["A", "A", "A", "B", "B", "C"],
                        "maand": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01",
                                                 "2024-03-01", "2024-09-01", "2024-02-01"]),
                        "kosten": [0.0, 5.0, 7.0, 3.0, 4.0, -1.0]})
    got = dict(F._reeksen(tab.groupby("regio", sort=True), "2024-08-01"))
    # A starts at its first positive month (Feb), months up to July, gaps 0; B: Mar..Jul (Sep is
    # after the peildatum); C has no positive month: empty
    assert got["A"].tolist() == [5.0, 0.0, 0.0, 7.0, 0.0, 0.0]
    assert got["B"].index[0] == pd.Timestamp("2024-03-01") and got["B"].tolist() == [3.0, 0, 0, 0, 0]
    assert len(got["C"]) == 0
    for key, grp in tab.groupby("regio", sort=True):
        want = _reeks(grp, "2024-08-01")
        pd.testing.assert_series_equal(got[key], want, check_exact=True)
        assert got[key].index.freq == want.index.freq


def test_maandkosten_of_selected_rows():
    c = _cleaned()
    dec = c.declaraties
    rijen = (dec["agb"] == "A").to_numpy()
    got = F._maandkosten(dec, ("regio",), True, rijen)
    want = F.maandkosten(dec.loc[rijen].reset_index(drop=True), ("regio",), True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # hand: Noord in 2019-01 without B's EUR 300 = aanbieder A's 100_000 cent = EUR 1000
    n = got[(got["regio"] == "Noord") & (got["maand"] == "2019-01-01")]["kosten"]
    assert n.tolist() == [1000.0]


def test_per_toewijzing_rijen_equal_verzilvering_per_toewijzing():
    c = _cleaned()
    t = c.toewijzingen
    pos = np.array([1])  # the ended toewijzing E: 2 h maximum, 1 h delivered
    got = vz._per_toewijzing_rijen(t, c.declaraties, pos)
    want = vz.verzilvering_per_toewijzing(t.iloc[pos], c.declaraties)
    for col in ("geleverd_cent", "toegewezen_cent", "status"):
        np.testing.assert_array_equal(np.asarray(got[col]), want[col].to_numpy())
    assert got["verzilvering"].tolist() == [0.5]
    assert all(len(v) == 0 for v in vz._per_toewijzing_rijen(t, c.declaraties, np.array([], dtype=np.int64)).values())


def test_rij_codes_of_every_row_as_vocab():
    # onder_plafond's vocabulary of a declarations column: stripped text, missing ""
    df = pd.DataFrame({"agb": pd.array([" A", "A", None, "B", " A"], dtype="string[pyarrow]")})
    codes, vocab = vz._rij_codes(df, "agb", slice(None), strip=True)
    assert vocab.tolist() == ["A", "B", ""]
    # per row: the text's position in vocab (missing: the position of "")
    assert vocab[codes].tolist() == ["A", "A", "", "B", "A"]


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
    got = F.maandkosten(dec)
    # the line without a month (999) is left out; missing regio is "onbekend"; Nederland = the sum
    assert got["regio"].tolist() == ["A", "B", "onbekend", "Nederland", "Nederland"]
    assert got["maand"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-01", "2024-01", "2024-02"]
    assert got["kosten"].tolist() == [0.6, 3.0, 2.5, 3.1, 3.0]
    # only the rows of a selection: the same as maandkosten of those rows
    rijen = np.array([True, False, True, True, False])
    pd.testing.assert_frame_equal(F._maandkosten(dec, ("regio",), False, rijen),
                                  F.maandkosten(dec.loc[rijen], nederland=False), check_exact=True)
