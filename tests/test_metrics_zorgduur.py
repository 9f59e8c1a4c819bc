"""Zorgduur (metrics.md section 5): zorgpaden, episodes, duur_gem, zorgduur_2jaar, through clean()."""

import numpy as np
import pandas as pd
import pytest

from _ds_factory import GEMEENTEN, make_ds, tw
from jeugdlib import engine, kpi, schema
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import zorgduur as zd

GEM = GEMEENTEN + [
    {"gemeentecode": "0889", "gemeentenaam": "Beesel", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
    {"gemeentecode": "0893", "gemeentenaam": "Bergen (L.)", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
]


def _product(code, productgroep):
    return {"productcode": code, "productcategorie": "45", "omschrijving": code, "segment": "4 - Ambulant",
            "productgroep": productgroep, "financieringsvorm": "inspanning", "zwaarte": None, "variant": None,
            "norm_uren": None, "norm_maanden": None, "tarief_cent": 10_000, "trajectprijs_cent": None,
            "geldig_vanaf": "2020-01-01", "geldig_tot": None}


#: PG in productgroep G, PH in H.
PROD = [_product("PG", "G"), _product("PH", "H")]


def cleaned(rows, params):
    t = [tw(**{"gemeentecode": "0889", "productcode": "PG", **r}) for r in rows]
    return clean(make_ds(t, [], producten=PROD, gemeenten=GEM), params)


def test_zorgpaden_and_episodes():
    c = cleaned([
        dict(toewijzing_nr="T1", client_id="c1", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
        # 30 jun .. : T2 starts 1 may = 31 days after 31 mar -> same zorgpad
        dict(toewijzing_nr="T2", client_id="c1", ingangsdatum="2022-05-01", einddatum="2022-06-30"),
        # T3 starts 1 aug = 32 days after 30 jun -> new zorgpad, new episode
        dict(toewijzing_nr="T3", client_id="c1", ingangsdatum="2022-08-01", einddatum="2022-08-31"),
        # other productgroep: own zorgpad, but the same episode as T1/T2 (starts the day after T1)
        dict(toewijzing_nr="T4", client_id="c1", productcode="PH", ingangsdatum="2022-04-01",
             einddatum="2022-04-30"),
        # other client, same dates as T1: separate
        dict(toewijzing_nr="U1", client_id="c2", ingangsdatum="2022-01-01", einddatum="2022-03-31"),
    ], Params(peildatum="2024-01-01"))
    z = zd.zorgpaden(c)
    assert "zorgpad" in z.columns and len(z) == 5 and z["toewijzing_nr"].is_unique
    zp = z.set_index("toewijzing_nr")["zorgpad"]
    assert zp["T1"] == zp["T2"]
    assert len({zp["T1"], zp["T3"], zp["T4"], zp["U1"]}) == 4
    ep = zd.episodes(c).set_index("toewijzing_nr")["episode"]
    assert ep["T1"] == ep["T2"] == ep["T4"] != ep["T3"]
    assert ep["U1"] != ep["T1"]
    ov = zd.zorgpad_overzicht(c).set_index("zorgpad")
    assert ov.loc[zp["T1"], "toewijzingen"] == 2
    assert ov.loc[zp["T1"], "begin"] == pd.Timestamp("2022-01-01")
    assert ov.loc[zp["T1"], "eind"] == pd.Timestamp("2022-06-30")
    assert len(ov) == 4 and ov.loc[zp["T4"], "productgroep"] == "H"


def test_duur_gem():
    c = cleaned([
        # 1..30 jan = 30 days; 1 jan..31 dec 2023 = 365 days
        dict(toewijzing_nr="A", client_id="a", ingangsdatum="2023-01-01", einddatum="2023-01-30"),
        dict(toewijzing_nr="B", client_id="b", ingangsdatum="2023-01-01", einddatum="2023-12-31"),
        # open: not ended, not in duur_gem
        dict(toewijzing_nr="C", client_id="c", ingangsdatum="2023-01-01"),
    ], Params(peildatum="2024-01-01", start="2023-01-01"))
    k = kpi.kpi_rows(c, ["duur_gem", "zorgduur_2jaar"])
    r = k[(k["kpi"] == "duur_gem") & (k["regio"] == "Nederland")]
    # (30 + 365) / 2 / 30.4375 months
    assert r["waarde"].tolist() == [pytest.approx(395 / 2 / 30.4375)]
    assert r["eenheid"].tolist() == ["maanden"] and r["n_clienten"].tolist() == [2]


def test_duur_gem_sums_whole_days():
    """1 and 5 days: (1 + 5) / 2 days in months. Summed as months of doubles the mean
    is 0.09856262833675564, one unit in the last place below 6 / 30.4375 / 2: the days
    are summed as integers (exact, in any order) and made months once."""
    c = cleaned([
        dict(toewijzing_nr="A", client_id="a", ingangsdatum="2023-03-01", einddatum="2023-03-01"),
        dict(toewijzing_nr="B", client_id="b", ingangsdatum="2023-03-01", einddatum="2023-03-05"),
    ], Params(peildatum="2024-01-01", start="2023-01-01"))
    k = kpi.kpi_rows(c, ["duur_gem"])
    r = k[(k["kpi"] == "duur_gem") & (k["regio"] == "Nederland")]
    assert r["waarde"].tolist() == [6 / 30.4375 / 2]


def _twee_jaar_case(peil):
    return cleaned([
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
    ], Params(peildatum=peil, start="2023-01-01"))


def test_zorgduur_2jaar_boundary_and_distinct_clients():
    k = zd.zorgduur_2jaar(_twee_jaar_case("2024-01-01"))
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
    k = zd.zorgduur_2jaar(_twee_jaar_case("2024-01-15"))
    r = k[k["regio"] == "Nederland"].set_index("periode")["waarde"]
    assert r["2023"] == pytest.approx(0.25)
    assert r["2024"] == pytest.approx(0.5)


def _ketens(df, partitie, gap=31, eind="e", volgorde=None):
    con = engine.connect()
    con.register("bron_df", df.reset_index(drop=True).assign(i=range(len(df))))
    k = zd.ketens_sql("SELECT * FROM bron_df", partitie, gap, begin="s", eind=eind, volgorde=volgorde)
    return engine.df(con, f"SELECT * FROM ({k}) ORDER BY i")


def _oracle(df, keys, gap):
    """Chains by hand: per group, rows sorted by (s, e), a new chain where s lies more
    than ``gap`` days after the latest end so far. Returns (group..., chain) per row."""
    out = [None] * len(df)
    for _, g in df.reset_index(drop=True).groupby(keys, sort=False):
        g = g.sort_values(["s", "e"], kind="mergesort")
        nr, latest = 0, None
        for i, r in g.iterrows():
            if latest is None or r["s"] > latest + pd.Timedelta(days=gap):
                nr += 1
            latest = r["e"] if latest is None else max(latest, r["e"])
            out[i] = (*(r[k] for k in keys), nr)
    return out


def test_ketens_sql_as_running_maximum():
    rng = np.random.default_rng(1)
    n = 300
    s = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    df = pd.DataFrame({"c": rng.integers(0, 20, n).astype(str), "g": rng.integers(0, 3, n).astype(str),
                       "s": s, "e": s + pd.to_timedelta(rng.integers(0, 90, n), unit="D")})
    for c in ("s", "e"):
        df[c] = df[c].astype(schema.D)
    got = _ketens(df, ["c", "g"])
    assert list(zip(got["c"], got["g"], got["keten"])) == _oracle(df, ["c", "g"], 31)
    # keten_begin / keten_eind: the chain's first start and latest end
    ref = got.groupby(["c", "g", "keten"])[["s", "e"]].agg({"s": "min", "e": "max"})
    chk = got.join(ref.add_suffix("_ref"), on=["c", "g", "keten"])
    assert (chk["keten_begin"] == chk["s_ref"]).all() and (chk["keten_eind"] == chk["e_ref"]).all()
    # with a row order: keten_rij is the first row (by start, end, order) of the chain, unique over the table
    got = _ketens(df, "c, g", volgorde="i")
    assert list(zip(got["c"], got["g"], got["keten"])) == _oracle(df, ["c", "g"], 31)
    eerste = got.sort_values(["s", "e", "i"]).groupby(["c", "g", "keten"])["i"].first()
    assert got["keten_rij"].tolist() == got.join(eerste.rename("ref"), on=["c", "g", "keten"])["ref"].tolist()
    assert got.groupby("keten_rij")[["c", "g", "keten"]].nunique().max().max() == 1


def test_ketens_sql_missing_and_empty_partition_one_group():
    df = pd.DataFrame({
        "client_id": ["c1", "c2", "c1", "c1", "c1"],
        "productgroep": ["G", "G", "G", None, ""],
        "s": pd.to_datetime(["2022-01-01", "2022-01-01", "2022-04-15", "2022-01-01", "2022-02-01"]),
        "e": pd.to_datetime(["2022-03-31", "2022-03-31", "2022-05-31", "2023-12-31", "2023-12-31"]),
    }).astype({"client_id": schema.S, "productgroep": schema.S, "s": schema.D, "e": schema.D})
    df["client_nr"] = df["client_id"].astype(object).rank(method="dense").astype("int64")  # as cleaning numbers them
    k = _ketens(df, list(zd.ZORGPAD))
    sleutel = list(zip(k["client_id"].fillna(""), k["productgroep"].fillna(""), k["keten"]))
    assert sleutel[3] == sleutel[4]  # missing and "" productgroep are one group (one chain)
    assert sleutel[0] == sleutel[2]  # 15 apr is 15 days after 31 mar
    assert sleutel[1] != sleutel[0]


def test_episode_begin_minimum_per_episode():
    t = pd.DataFrame({"client_id": ["a", "a", "b", "a"],
                      "s": pd.to_datetime(["2023-03-01", "2023-01-01", "2023-02-01", "2024-06-01"]),
                      "einddatum": pd.to_datetime(["2023-04-30", "2023-03-10", "2023-02-28", "2024-07-01"])})
    t = t.astype({"client_id": schema.S, "s": schema.D, "einddatum": schema.D})
    t["client_nr"] = t["client_id"].astype(object).rank(method="dense").astype("int64")  # as cleaning numbers them
    got = _ketens(t, list(zd.EPISODE), eind="einddatum")["keten_begin"]
    assert [str(x)[:10] for x in got] == ["2023-01-01", "2023-01-01", "2023-02-01", "2024-06-01"]
