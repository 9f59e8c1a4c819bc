"""Zorgduur (metrics.md section 5): zorgpaden, episodes, duur_gem, zorgduur_2jaar."""

from types import SimpleNamespace

import pandas as pd
import pytest

from jeugdlib import schema
from jeugdlib.config import Params
from jeugdlib.metrics import zorgduur as zd


def toew(rows, peil="2024-01-01"):
    base = dict(gemeentecode="0889", regio="Noord-Limburg", productgroep="G", einddatum=None)
    df = pd.DataFrame([{**base, **r} for r in rows])
    for c in ("ingangsdatum", "einddatum"):
        df[c] = pd.to_datetime(df[c]).astype(schema.D)
    df["einddatum_eff"] = df["einddatum"].fillna(pd.Timestamp(peil) - pd.Timedelta(days=1))
    for c in ("toewijzing_nr", "client_id", "gemeentecode", "regio", "productgroep"):
        df[c] = df[c].astype(schema.S)
    return df.set_index("toewijzing_nr", drop=False)


def test_zorgpaden_and_episodes():
    t = toew([
        dict(toewijzing_nr="T1", client_id="c1", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        # 30 jun .. : T2 starts 1 may = 31 days after 31 mar -> same zorgpad
        dict(toewijzing_nr="T2", client_id="c1", ingangsdatum="2022-05-01", einddatum="2022-06-30"),
        # T3 starts 1 aug = 32 days after 30 jun -> new zorgpad, new episode
        dict(toewijzing_nr="T3", client_id="c1", ingangsdatum="2022-08-01", einddatum="2022-08-31"),
        # other productgroep: own zorgpad, but the same episode as T1/T2 (starts the day after T1)
        dict(toewijzing_nr="T4", client_id="c1", productgroep="H", ingangsdatum="2022-04-01",
             einddatum="2022-04-30"),
        # other client, same dates as T1: separate
        dict(toewijzing_nr="U1", client_id="c2", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
    ])
    p = Params(peildatum="2024-01-01")
    zp = zd.zorgpaden(t, p)
    assert zp.name == "zorgpad" and zp.index.equals(t.index)
    assert zp["T1"] == zp["T2"]
    assert len({zp["T1"], zp["T3"], zp["T4"], zp["U1"]}) == 4
    ep = zd.episodes(t, p)
    assert ep["T1"] == ep["T2"] == ep["T4"] != ep["T3"]
    assert ep["U1"] != ep["T1"]
    ov = zd.zorgpad_overzicht(t, p).set_index("zorgpad")
    assert ov.loc[zp["T1"], "toewijzingen"] == 2
    assert ov.loc[zp["T1"], "begin"] == pd.Timestamp("2022-01-01")
    assert ov.loc[zp["T1"], "eind"] == pd.Timestamp("2022-06-30")


def test_duur_gem():
    t = toew([
        # 1..30 jan = 30 days; 1 jan..31 dec 2023 = 365 days
        dict(toewijzing_nr="A", client_id="a", ingangsdatum="2023-01-01", einddatum="2023-01-30"),
        dict(toewijzing_nr="B", client_id="b", ingangsdatum="2023-01-01", einddatum="2023-12-31"),
        # open: not ended, not in duur_gem
        dict(toewijzing_nr="C", client_id="c", ingangsdatum="2023-01-01"),
    ])
    k = zd.kpis(SimpleNamespace(toewijzingen=t), Params(peildatum="2024-01-01", start="2023-01-01"))
    r = k[(k["kpi"] == "duur_gem") & (k["regio"] == "Nederland")]
    # (30 + 365) / 2 / 30.4375 months
    assert r["waarde"].tolist() == [pytest.approx(395 / 2 / 30.4375)]
    assert r["eenheid"].tolist() == ["maanden"] and r["n_clienten"].tolist() == [2]


def _twee_jaar_case(peil):
    return toew([
        # a: episode from 1 jan 2022 (second toewijzing joins: 15 jan 2023 <= 31 dec 2022 + 31)
        dict(toewijzing_nr="A1", client_id="a", ingangsdatum="2022-01-01", einddatum="2022-12-31"),
        dict(toewijzing_nr="A2", client_id="a", ingangsdatum="2023-01-15"),
        # b: episode from 31 dec 2021
        dict(toewijzing_nr="B1", client_id="b", ingangsdatum="2021-12-31"),
        # c: from 1 jun 2023
        dict(toewijzing_nr="C1", client_id="c", ingangsdatum="2023-06-01"),
        # d: ended 30 jun 2023 -> not active at year end
        dict(toewijzing_nr="D1", client_id="d", ingangsdatum="2020-01-01", einddatum="2023-06-30"),
        # e: active in two gemeenten of Noord-Limburg, from 1 mar 2023
        dict(toewijzing_nr="E1", client_id="e", ingangsdatum="2023-03-01"),
        dict(toewijzing_nr="E2", client_id="e", gemeentecode="0893", ingangsdatum="2023-03-01"),
    ], peil=peil)


def test_zorgduur_2jaar_boundary_and_distinct_clients():
    t = _twee_jaar_case("2024-01-01")
    k = zd.kpis(SimpleNamespace(toewijzingen=t), Params(peildatum="2024-01-01", start="2023-01-01"))
    k = k[k["kpi"] == "zorgduur_2jaar"]
    w = dict(zip(k["regio"] + "|" + k["gemeente"] + "|" + k["periode"], k["waarde"]))
    n = dict(zip(k["regio"] + "|" + k["gemeente"] + "|" + k["periode"], k["n_clienten"]))
    # Day 31 dec 2023. a: 1 jan 2022 -> 31 dec 2023 = 365 + 364 = 729 days (< 730, not long);
    # b: 31 dec 2021 -> 31 dec 2023 = 730 days (long); c, e short; d not active.
    # Regio: clients a, b, c, e = 4 (e once), long 1 -> 0.25.
    assert n["Noord-Limburg||2023"] == 4 and w["Noord-Limburg||2023"] == pytest.approx(0.25)
    assert w["Noord-Limburg|0889|2023"] == pytest.approx(0.25)
    assert n["Noord-Limburg|0893|2023"] == 1 and w["Noord-Limburg|0893|2023"] == 0.0


def test_zorgduur_2jaar_running_period_uses_day_before_peildatum():
    # Peildatum 15 jan 2024: the 2024 period is still running, so the day is 14 jan 2024:
    # a: 1 jan 2022 -> 14 jan 2024 = 743 days (long), b long, c and e short -> 2 / 4.
    t = _twee_jaar_case("2024-01-15")
    k = zd.kpis(SimpleNamespace(toewijzingen=t), Params(peildatum="2024-01-15", start="2023-01-01"))
    r = k[(k["kpi"] == "zorgduur_2jaar") & (k["regio"] == "Nederland")].set_index("periode")["waarde"]
    assert r["2023"] == pytest.approx(0.25)
    assert r["2024"] == pytest.approx(0.5)


def test_keten_ids_as_chain_ids():
    import numpy as np

    from jeugdlib.metrics import _common

    rng = np.random.default_rng(1)
    for uren in (False, True):  # whole days (packed sort) and times of day (lexsort)
        n = 300
        c, g = rng.integers(0, 20, n), rng.integers(0, 3, n)
        s = (np.datetime64("2022-01-01") + rng.integers(0, 400, n).astype("timedelta64[D]")).astype("datetime64[ns]")
        e = s + rng.integers(0, 90, n).astype("timedelta64[D]")
        if uren:
            e = e + rng.integers(0, 24, n).astype("timedelta64[h]")
        df = pd.DataFrame({"c": c, "g": g, "s": s, "e": e}, index=rng.permutation(n))
        ref = _common.chain_ids(df, ["c", "g"], "s", "e", 31).to_numpy()
        assert zd._keten_ids([c, g], s, e, 31).tolist() == ref.tolist()
        si, ei = s.view(np.int64), e.view(np.int64)
        assert zd._lexvolgorde([c, g], si, ei).tolist() == np.lexsort((ei, si, g, c)).tolist()
    s[0] = np.datetime64("NaT")
    assert zd._keten_ids([c, g], s, e, 31) is None  # a missing date: chain_ids decides


def test_zorgpad_ids_rijen_as_zorgpaden_of_the_rows():
    import numpy as np

    t = toew([
        dict(toewijzing_nr="T1", client_id="c1", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="T2", client_id="c2", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        dict(toewijzing_nr="T3", client_id="c1", ingangsdatum="2022-04-15", einddatum="2022-05-31"),
        dict(toewijzing_nr="T4", client_id="c1", productgroep=None, ingangsdatum="2022-01-01"),
        dict(toewijzing_nr="T5", client_id="c1", productgroep="", ingangsdatum="2022-02-01"),
    ])
    p = Params(peildatum="2024-01-01")
    pos = np.array([4, 0, 2, 3])
    ref = zd.zorgpaden(t.iloc[pos], p).to_numpy()
    assert zd._zorgpad_ids_rijen(t, pos, p).tolist() == ref.tolist()
    assert ref[0] == ref[3] and ref[1] == ref[2]  # missing and "" productgroep are one group


def test_groep_cummax_as_pandas():
    import numpy as np

    from jeugdlib.metrics import zorgduur as zd

    dag = 86_400 * 10**9
    groep = np.array([1, 1, 1, 2, 2, 3])
    v = np.array([5, 3, 9, 1, 2, 7]) * dag
    ref = pd.Series(v).groupby(groep).cummax().to_numpy()
    assert np.array_equal(zd._groep_cummax(groep, v), ref)
    v2 = v + np.array([0, 1, 0, 0, 0, 0])  # not whole days: pandas
    assert np.array_equal(zd._groep_cummax(groep, v2), pd.Series(v2).groupby(groep).cummax().to_numpy())


def test_episode_begin_minimum_per_episode():
    from jeugdlib.config import Params
    from jeugdlib.metrics import zorgduur as zd

    t = pd.DataFrame({"client_id": ["a", "a", "b", "a"],
                      "ingangsdatum": pd.to_datetime(["2023-03-01", "2023-01-01", "2023-02-01", "2024-06-01"]),
                      "einddatum": pd.to_datetime(["2023-04-30", "2023-03-10", "2023-02-28", "2024-07-01"])})
    got = zd.episode_begin(t, Params(peildatum="2024-08-01"))
    assert [str(x)[:10] for x in got] == ["2023-01-01", "2023-01-01", "2023-02-01", "2024-06-01"]
