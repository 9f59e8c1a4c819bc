"""Trajecten (metrics.md section 6): zorgpad labels, doorlooptijd, volume, ratios, KPIs.

Every expected value below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from jeugdlib import schema
from jeugdlib.config import Params
from jeugdlib.metrics import trajecten as tr
from jeugdlib.metrics import verzilvering as vz

P = Params(peildatum="2024-08-01")  # start 2021-01-01, aansluit_dagen 31
PEIL_1 = pd.Timestamp("2024-07-31")

# product kinds: (financieringsvorm, zwaarte, variant, norm_uren, norm_maanden, trajectprijs_cent)
KIND = {
    "licht": ("traject", "licht", None, 10.0, 12.0, 100000),
    "midden": ("traject", "midden", None, 23.0, 12.0, 100000),
    "zwaar": ("traject", "zwaar", None, 45.0, 12.0, 100000),
    "maatwerk": ("inspanning", None, "maatwerk", None, None, None),
    "meerwerk": ("inspanning", None, "meerwerk", None, None, None),
    "traject_zonder_zwaarte": ("traject", None, None, 100.0, 12.0, 100000),
    "pq": ("inspanning", None, None, None, None, None),
}


def toew(rows) -> pd.DataFrame:
    """Cleaned-like toewijzingen: (nr, client, kind, ingang, eind[, productgroep[, agb]])."""
    recs = []
    for r in rows:
        nr, client, kind, ingang, eind = r[:5]
        pg = r[5] if len(r) > 5 else "GGZ"
        agb = r[6] if len(r) > 6 else "11111111"
        fv, zw, va, nu, nm, tp = KIND[kind]
        recs.append(dict(toewijzing_nr=nr, client_id=client, agb=agb, gemeentecode="0983", regio="Noord-Limburg",
                         productcode=f"{pg[:3]}-{kind}", productcategorie="45", productgroep=pg,
                         financieringsvorm=fv, zwaarte=zw, variant=va, norm_uren=nu, norm_maanden=nm,
                         trajectprijs_cent=tp, ingangsdatum=ingang, einddatum=eind))
    df = pd.DataFrame(recs)
    for c in ("toewijzing_nr", "client_id", "agb", "gemeentecode", "regio", "productcode", "productcategorie",
              "productgroep", "financieringsvorm", "zwaarte", "variant"):
        df[c] = df[c].astype(schema.S)
    for c in ("norm_uren", "norm_maanden"):
        df[c] = df[c].astype(schema.F)
    df["trajectprijs_cent"] = df["trajectprijs_cent"].astype(schema.I)
    df["ingangsdatum"] = pd.to_datetime(df["ingangsdatum"]).astype(schema.D)
    df["einddatum"] = pd.to_datetime(df["einddatum"]).astype(schema.D)
    df["einddatum_eff"] = df["einddatum"].fillna(PEIL_1).astype(schema.D)
    return df


def decl(rows, toewijzingen=None) -> pd.DataFrame:
    """Cleaned-like declaration items: (toewijzing_nr, maand 'YYYY-MM', bedrag_cent[, volume, eenheid]).

    agb, productgroep, variant, client and gemeente are copied from the toewijzing when given."""
    recs = []
    info = toewijzingen.set_index("toewijzing_nr") if toewijzingen is not None else None
    for r in rows:
        nr, maand, bedrag = r[:3]
        vol = r[3] if len(r) > 3 else 1
        eenheid = r[4] if len(r) > 4 else "82"
        rec = dict(toewijzing_nr=nr, periode_begin=f"{maand}-01", bedrag_cent=bedrag, volume=vol, eenheid=eenheid,
                   agb="11111111", client_id="x", gemeentecode="0983", regio="Noord-Limburg",
                   productgroep="GGZ", variant=None, financieringsvorm="traject", zwaarte=None,
                   productcode="X")
        if info is not None and nr in info.index:
            i = info.loc[nr]
            rec.update(agb=i["agb"], client_id=i["client_id"], productgroep=i["productgroep"],
                       variant=i["variant"], financieringsvorm=i["financieringsvorm"], zwaarte=i["zwaarte"],
                       productcode=i["productcode"])
        recs.append(rec)
    df = pd.DataFrame(recs)
    for c in ("toewijzing_nr", "eenheid", "agb", "client_id", "gemeentecode", "regio", "productgroep", "variant",
              "financieringsvorm", "zwaarte", "productcode"):
        df[c] = df[c].astype(schema.S)
    df["periode_begin"] = pd.to_datetime(df["periode_begin"]).astype(schema.D)
    df["maand"] = df["periode_begin"]
    df["bedrag_cent"] = df["bedrag_cent"].astype(schema.I)
    df["volume"] = df["volume"].astype(schema.I)
    return df


NO_DECL = decl([("none", "2023-01", 0)]).iloc[0:0]


def labels(rows, **kw) -> list[str]:
    zp = tr.zorgpaden(toew(rows), NO_DECL, P, **kw)
    return zp.sort_values(["start", "label"])["label"].tolist()


# --------------------------------------------------------------------------- labels

def test_mask_label_fixed_order():
    assert tr.mask_label(4 | 8) == "Zwaar-Maatwerk"
    assert tr.mask_label(2 | 4) == "Midden-Zwaar"
    assert tr.mask_label(16 | 1) == "Licht-Meerwerk"
    assert tr.mask_label(31) == "Licht-Midden-Zwaar-Maatwerk-Meerwerk"
    assert tr.mask_label(0) == ""


@pytest.mark.parametrize("rows, expected", [
    # one traject
    ([("1", "a", "zwaar", "2023-01-01", "2023-06-30")], ["Zwaar"]),
    # overlapping: Zwaar Jan-Jun, Maatwerk Apr-Sep -> pieces [Jan-Mar Z] [Apr-Jun Z+M] [Jul-Sep M]
    ([("1", "a", "zwaar", "2023-01-01", "2023-06-30"), ("2", "a", "maatwerk", "2023-04-01", "2023-09-30")],
     ["Zwaar > Zwaar-Maatwerk > Maatwerk"]),
    # concurrent: Midden and Zwaar over the same dates -> one piece with both bits (2|4)
    ([("1", "a", "midden", "2023-01-01", "2023-12-31"), ("2", "a", "zwaar", "2023-01-01", "2023-12-31")],
     ["Midden-Zwaar"]),
    # sequential, adjacent: Licht Jan-Mar, Midden from 1 Apr
    ([("1", "a", "licht", "2023-01-01", "2023-03-31"), ("2", "a", "midden", "2023-04-01", "2023-06-30")],
     ["Licht > Midden"]),
    # nested: Meerwerk Mar-Apr inside Zwaar Jan-Dec -> Z, Z+Meerwerk, Z
    ([("1", "a", "zwaar", "2023-01-01", "2023-12-31"), ("2", "a", "meerwerk", "2023-03-01", "2023-04-30")],
     ["Zwaar > Zwaar-Meerwerk > Zwaar"]),
    # same label twice with a 10-day gap: the empty gap piece is dropped, equal neighbours merge
    ([("1", "a", "zwaar", "2023-01-01", "2023-03-31"), ("2", "a", "zwaar", "2023-04-11", "2023-06-30")],
     ["Zwaar"]),
    # one shared day (30 Jun): Zwaar to 30 Jun, Maatwerk from 30 Jun -> a one-day Zwaar-Maatwerk piece
    ([("1", "a", "zwaar", "2023-01-01", "2023-06-30"), ("2", "a", "maatwerk", "2023-06-30", "2023-09-30")],
     ["Zwaar > Zwaar-Maatwerk > Maatwerk"]),
    # open einddatum (active to the day before the peildatum) overlapping a later Licht
    ([("1", "a", "zwaar", "2023-01-01", None), ("2", "a", "licht", "2024-01-01", "2024-03-31")],
     ["Zwaar > Licht-Zwaar > Zwaar"]),
    # P*Q without variant carries no label: only the Midden piece remains
    ([("1", "a", "midden", "2023-01-01", "2023-03-31"), ("2", "a", "pq", "2023-02-01", "2023-08-31")],
     ["Midden"]),
    # no labelled toewijzing at all
    ([("1", "a", "traject_zonder_zwaarte", "2023-01-01", "2023-03-31")], [tr.GEEN_LABEL]),
])
def test_label_shapes(rows, expected):
    assert labels(rows) == expected


def test_gap_of_31_days_is_one_zorgpad_32_days_two():
    # Licht ends 31 Jan; 31 Jan + 31 days = 3 Mar: a start on 3 Mar joins, on 4 Mar not.
    one = [("1", "a", "licht", "2023-01-01", "2023-01-31"), ("2", "a", "zwaar", "2023-03-03", "2023-05-31")]
    two = [("1", "a", "licht", "2023-01-01", "2023-01-31"), ("2", "a", "zwaar", "2023-03-04", "2023-05-31")]
    assert labels(one) == ["Licht > Zwaar"]  # the 30 empty days between are dropped
    assert labels(two) == ["Licht", "Zwaar"]


def test_gap_is_measured_from_latest_end_so_far():
    # A Jan-Dec, B Feb-Mar (inside A), C starts 20 Jan next year: 20 days after A's end (not B's): one path.
    rows = [("1", "a", "zwaar", "2023-01-01", "2023-12-31"), ("2", "a", "maatwerk", "2023-02-01", "2023-03-31"),
            ("3", "a", "licht", "2024-01-20", "2024-03-31")]
    assert labels(rows) == ["Zwaar > Zwaar-Maatwerk > Zwaar > Licht"]


def test_paths_are_per_client_and_productgroep():
    rows = [("1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ"),
            ("2", "a", "maatwerk", "2023-02-01", "2023-03-31", "AP1"),  # other productgroep
            ("3", "b", "maatwerk", "2023-02-01", "2023-03-31", "GGZ"),  # other client
            ("4", "b", "zwaar", "2023-01-01", "2023-06-30", "AP1")]     # makes AP1 a traject group
    zp = tr.zorgpaden(toew(rows), NO_DECL, P, met_client_id=True)
    got = sorted(zip(zp["client_id"], zp["productgroep"], zp["label"]))
    assert got == [("a", "AP1", "Maatwerk"), ("a", "GGZ", "Zwaar"), ("b", "AP1", "Zwaar"), ("b", "GGZ", "Maatwerk")]
    assert "client_id" not in tr.zorgpaden(toew(rows), NO_DECL, P).columns  # client-free by default


def test_group_without_traject_products_is_left_out():
    rows = [("1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ"),
            ("2", "a", "maatwerk", "2023-01-01", "2023-06-30", "Wonen")]
    zp = tr.zorgpaden(toew(rows), NO_DECL, P)
    assert zp["productgroep"].tolist() == ["GGZ"]


def test_exclude_agb_changes_the_label():
    rows = [("1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ", "11111111"),
            ("2", "a", "maatwerk", "2023-04-01", "2023-09-30", "GGZ", "22222222")]
    assert labels(rows) == ["Zwaar > Zwaar-Maatwerk > Maatwerk"]
    assert labels(rows, exclude_agb=["22222222"]) == ["Zwaar"]
    p2 = Params(peildatum="2024-08-01", exclude_agb=("22222222",))
    assert tr.zorgpaden(toew(rows), NO_DECL, p2)["label"].tolist() == ["Zwaar"]


def test_zorgpad_labels_directly_unsorted_input():
    # Input order must not matter: rows of two zorgpaden interleaved and reversed.
    zp = np.array([7, 3, 7, 3])
    s = pd.to_datetime(["2023-04-01", "2023-01-01", "2023-01-01", "2023-01-01"])
    e = pd.to_datetime(["2023-09-30", "2023-12-31", "2023-06-30", "2023-12-31"])
    bits = np.array([8, 4, 4, 2])
    out = tr.zorgpad_labels(zp, s, e, bits)
    assert out.loc[7, "label"] == "Zwaar > Zwaar-Maatwerk > Maatwerk"
    assert out.loc[3, "label"] == "Midden-Zwaar"
    assert bool(out.loc[7, "met_maatwerk"]) and not bool(out.loc[3, "met_maatwerk"])
    assert out.loc[7, "stukken"] == 3 and out.loc[3, "stukken"] == 1


def test_zorgpad_labels_mixed_labelled_and_unlabelled():
    zp = np.array([5, 1, 2, 5])
    s = pd.to_datetime(["2023-01-01"] * 4)
    e = pd.to_datetime(["2023-03-31"] * 4)
    out = tr.zorgpad_labels(zp, s, e, np.array([8, 4, 0, 16]))
    assert out["label"].to_dict() == {1: "Zwaar", 2: tr.GEEN_LABEL, 5: "Maatwerk-Meerwerk"}
    assert out["met_maatwerk"].to_dict() == {1: False, 2: False, 5: True}


def test_zorgpad_labels_match_a_day_by_day_reference():
    """Random zorgpaden against a slow reference that walks every day (test-only loop)."""
    rng = np.random.default_rng(11)
    n = 160
    zp = rng.integers(0, 20, n)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 90, n), unit="D")
    bits = rng.choice([0, 1, 2, 4, 8, 16], n)
    got = tr.zorgpad_labels(zp, start, end, bits)["label"].to_dict()
    for z in np.unique(zp):
        sel = zp == z
        days = pd.date_range(start[sel].min(), end[sel].max())
        seq = []
        for day in days:
            m = int(np.bitwise_or.reduce(np.where((start[sel] <= day) & (end[sel] >= day), bits[sel], 0)))
            if m and (not seq or seq[-1] != m):
                seq.append(m)
        want = " > ".join(tr.mask_label(m) for m in seq) or tr.GEEN_LABEL
        assert got[z] == want, z


# --------------------------------------------------------------------------- doorlooptijd, volume

def test_doorlooptijd_volume_and_kosten():
    t = toew([("T1", "a", "zwaar", "2023-01-01", "2023-06-30"),       # norm 45 h / 12 months
              ("T2", "a", "maatwerk", "2023-04-01", "2023-09-30")])
    d = decl([("T1", "2023-01", 10000), ("T1", "2023-02", 10000),
              ("T1", "2023-03", -3000),                                  # credit without debet
              ("T1", "2023-04", 10000),
              ("T2", "2023-04", 5000, 90, "01"),                         # 90 minutes = 1.5 h
              ("T2", "2023-05", 8000, 2, "04"),                          # 2 hours
              ("T2", "2023-06", 12000, 3, "16"),                         # 3 dagdelen = 12 h
              ("T2", "2023-07", 1000, 5, "82"),                          # stuks: no hour value
              ("ZZ", "2023-08", 99999)], t)                              # unknown toewijzing: left out
    zp = tr.zorgpaden(t, d, P)
    assert len(zp) == 1
    row = zp.iloc[0]
    # Months with positive summed amount: Jan, Feb, Apr (10000+5000), May, Jun, Jul = 6 (Mar is -3000).
    assert row["doorlooptijd"] == 6
    # T1: 45 h x 3 positive months (Jan, Feb, Apr) / 12 = 11.25 h; T2: 1.5 + 2 + 12 = 15.5 h -> 26.75 h
    assert row["volume_uren"] == pytest.approx(26.75)
    # 10000 + 10000 - 3000 + 10000 + 5000 + 8000 + 12000 + 1000 = 53000
    assert row["kosten_cent"] == 53000
    assert row["start"] == pd.Timestamp("2023-01-01") and row["eind"] == pd.Timestamp("2023-09-30")
    assert row["toewijzingen"] == 2


def test_month_where_zorgpad_total_is_negative_does_not_count():
    # Month 2023-02: traject +2000 and maatwerk -5000 (credit) -> zorgpad sum -3000: not a declared month.
    t = toew([("T1", "a", "zwaar", "2023-01-01", "2023-06-30"), ("T2", "a", "maatwerk", "2023-01-01", "2023-06-30")])
    d = decl([("T1", "2023-01", 1000), ("T1", "2023-02", 2000), ("T2", "2023-02", -5000, -1, "04")], t)
    row = tr.zorgpaden(t, d, P).iloc[0]
    assert row["doorlooptijd"] == 1  # only January
    # T1 has 2 positive months of its own: 45 x 2 / 12 = 7.5 h; T2: -1 h net -> 6.5 h
    assert row["volume_uren"] == pytest.approx(6.5)


def test_doorlooptijd_and_volume_classes_boundaries():
    zp = pd.DataFrame({"productgroep": ["G"] * 6, "doorlooptijd": [0, 1, 24, 25, 24, 3],
                       "volume_uren": [0.0, 9.99, 10.0, 499.9, 500.0, 75.0]})
    dv = tr.doorlooptijd_verdeling(zp)
    counts = dict(zip(dv["klasse"].astype(str), dv["aantal"]))
    # 1 -> "1", 24 twice -> "24", 25 -> ">24", 3 -> "3"; 0 is not in the distribution
    assert counts["1"] == 1 and counts["24"] == 2 and counts[">24"] == 1 and counts["3"] == 1
    assert sum(counts.values()) == 5 and dv["zonder_declaratie"].iloc[0] == 1
    assert list(dv["klasse"].astype(str)) == list(tr.DOORLOOPTIJD_KLASSEN)
    vk = tr.volume_klassen(zp)
    counts = dict(zip(vk["klasse"].astype(str), vk["aantal"]))
    # 0 and 9.99 -> 0-10; 10 -> 10-20; 499.9 -> 200-500; 500 -> 500+; 75 -> 75-100
    assert counts == {"0-10": 2, "10-20": 1, "20-30": 0, "30-50": 0, "50-75": 0, "75-100": 1,
                      "100-200": 0, "200-500": 1, "500+": 1}


def test_normen_per_productgroep_and_zwaarte():
    prod = pd.DataFrame({
        "productcode": ["A1", "A1", "A2", "B1", "M1"],
        "productgroep": ["GGZ", "GGZ", "GGZ", None, "GGZ"],
        "financieringsvorm": ["traject", "traject", "traject", "traject", "inspanning"],
        "zwaarte": ["licht", "licht", "zwaar", "midden", None],
        "norm_uren": [8.0, 10.0, 45.0, 30.0, None], "norm_maanden": [12.0, 12.0, 12.0, 6.0, None],
        "geldig_vanaf": pd.to_datetime(["2020-01-01", "2023-01-01", "2020-01-01", "2020-01-01", "2020-01-01"]),
    })
    n = tr.normen(prod).set_index(["productgroep", "zwaarte"])
    assert n.loc[("GGZ", "licht"), "norm_uren"] == 10.0  # the latest version of A1 (2023)
    assert n.loc[("GGZ", "zwaar"), "norm_uren"] == 45.0
    assert n.loc[("B1", "midden"), "norm_maanden"] == 6.0  # empty productgroep -> productcode
    assert len(n) == 3  # the inspanning product has no norm row


# --------------------------------------------------------------------------- summaries

def _eleven_paths():
    # 11 clients, one zorgpad each, all GGZ and starting in 2023:
    # 3 Zwaar, 2 Licht, 2 Midden, 1 Maatwerk, 1 Meerwerk, 1 Midden-Zwaar, 1 Zwaar > Zwaar-Maatwerk > Maatwerk
    rows = []
    simple = ["zwaar"] * 3 + ["licht"] * 2 + ["midden"] * 2 + ["maatwerk", "meerwerk"]
    for i, k in enumerate(simple):
        rows.append((f"T{i}", f"c{i}", k, "2023-02-01", "2023-05-31"))
    rows += [("T9a", "c9", "midden", "2023-02-01", "2023-05-31"), ("T9b", "c9", "zwaar", "2023-02-01", "2023-05-31"),
             ("T10a", "c10", "zwaar", "2023-02-01", "2023-05-31"),
             ("T10b", "c10", "maatwerk", "2023-04-01", "2023-08-31")]
    return toew(rows)


def test_label_samenvatting_and_top_labels():
    zp = tr.zorgpaden(_eleven_paths(), NO_DECL, P)
    s = tr.label_samenvatting(zp).iloc[0]
    assert s["zorgpaden"] == 11 and s["uniek"] == 7
    # top 5 by count, ties by name: Zwaar 3, Licht 2, Midden 2, Maatwerk 1, Meerwerk 1 -> 9 of 11
    assert s["top5_dekking"] == pytest.approx(9 / 11)
    # labels holding Maatwerk/Meerwerk: Maatwerk, Meerwerk, Zwaar > Zwaar-Maatwerk > Maatwerk -> 3 of 11
    assert s["aandeel_meer_maatwerk"] == pytest.approx(3 / 11)
    top = tr.top_labels(zp, n=4)
    assert top["label"].tolist() == ["Zwaar", "Licht", "Midden", "Maatwerk"]
    assert top["aantal"].tolist() == [3, 2, 2, 1] and top["rang"].tolist() == [1, 2, 3, 4]
    assert top["aandeel"].iloc[0] == pytest.approx(3 / 11)


# --------------------------------------------------------------------------- traject ratios

def _ratio_case():
    t = toew([("R1", "a", "midden", "2022-01-01", "2023-03-31", "AP1"),   # 15 months, JW307 31
              ("R2", "b", "licht", "2023-01-01", "2023-03-31", "AP1"),    # 3 months, JW307 31 (early)
              ("R3", "c", "zwaar", "2023-01-01", "2023-12-31", "AP1"),    # JW307 32: not regulier
              ("R4", "d", "zwaar", "2023-02-01", "2023-05-31", "AP1"),    # no JW307
              ("R5", "e", "zwaar", "2023-02-01", None, "AP1"),            # open
              ("R6", "f", "maatwerk", "2023-01-01", "2023-03-31", "AP1")])  # not a traject
    months = pd.period_range("2022-01", "2023-03", freq="M").strftime("%Y-%m")
    d = decl([("R1", m, 10000) for m in months] + [("R2", m, 10000) for m in ("2023-01", "2023-02", "2023-03")]
             + [("R4", "2023-02", 40000), ("R6", "2023-01", 5000)], t)
    ss = pd.DataFrame({"bericht": ["JW305", "JW307", "JW307", "JW307", "JW307"],
                       "toewijzing_nr": ["R1", "R1", "R2", "R3", "R6"],
                       "einddatum": pd.to_datetime([None, "2023-03-31", "2023-03-31", "2023-12-31", "2023-03-31"]),
                       "reden_beeindiging": [None, "31", "31", "32", "31"]}).astype(
        {"bericht": schema.S, "toewijzing_nr": schema.S, "reden_beeindiging": schema.S})
    return t, d, ss


def test_traject_ratios_with_jw307():
    t, d, ss = _ratio_case()
    res = tr.traject_ratios(t, d, ss, P)
    assert res.fallback is False
    r = res.tabel.set_index("toewijzing_nr")
    assert sorted(r.index) == ["R1", "R2"]
    # R1: 15 declared months / norm 12 = 1.25 (above 1); 15 x 10000 / 100000 = 1.5
    assert r.loc["R1", "volume_ratio"] == pytest.approx(1.25)
    assert r.loc["R1", "kosten_ratio"] == pytest.approx(1.5)
    # R2 ended early: 3 / 12 = 0.25; 30000 / 100000 = 0.3
    assert r.loc["R2", "volume_ratio"] == pytest.approx(0.25)
    assert r.loc["R2", "kosten_ratio"] == pytest.approx(0.3)


def test_traject_ratios_fallback_without_jw307():
    t, d, ss = _ratio_case()
    only_305 = ss[ss["bericht"] == "JW305"]
    res = tr.traject_ratios(t, d, only_305, P)
    assert res.fallback is True
    r = res.tabel.set_index("toewijzing_nr")
    # every traject toewijzing with einddatum before the peildatum: R1..R4 (R5 open, R6 not a traject)
    assert sorted(r.index) == ["R1", "R2", "R3", "R4"]
    assert r.loc["R3", "volume_ratio"] == 0.0 and r.loc["R3", "kosten_ratio"] == 0.0
    # R4: 1 month / 12; 40000 / 100000
    assert r.loc["R4", "volume_ratio"] == pytest.approx(1 / 12)
    assert r.loc["R4", "kosten_ratio"] == pytest.approx(0.4)
    assert tr.traject_ratios(t, d, None, P).fallback is True


def test_bubbel_data_classes_of_10_points():
    t, d, ss = _ratio_case()
    b = tr.bubbel_data(tr.traject_ratios(t, d, ss, P).tabel)
    got = sorted(zip(b["volume_klasse"], b["kosten_klasse"], b["aantal"]))
    # R1 (1.25, 1.5) -> (1.2, 1.5); R2 (0.25, 0.3) -> (0.2, 0.3): 0.3 lands in 0.3, not 0.2
    assert got == [(0.2, 0.3, 1), (1.2, 1.5, 1)]
    capped = tr.bubbel_data(tr.traject_ratios(t, d, ss, P).tabel, max_ratio=1.0)
    assert sorted(zip(capped["volume_klasse"], capped["kosten_klasse"])) == [(0.2, 0.3), (1.0, 1.0)]


# --------------------------------------------------------------------------- cost shares and KPIs

def test_aandeel_pq_in_traject_and_exclude():
    t = toew([("T1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ", "11111111"),
              ("T2", "a", "maatwerk", "2023-01-01", "2023-06-30", "GGZ", "22222222")])
    d = decl([("T1", "2023-01", 30000), ("T2", "2023-02", 10000), ("T2", "2020-02", 777)], t)  # 2020: before start
    a = tr.aandeel_pq_in_traject(d, P)
    nl = a[(a["regio"] == "Nederland")]
    assert nl["periode"].tolist() == ["2023"]
    assert nl["waarde"].iloc[0] == pytest.approx(0.25)  # 10000 / (30000 + 10000)
    a2 = tr.aandeel_pq_in_traject(d, P, exclude_agb=["22222222"])
    assert a2[a2["regio"] == "Nederland"]["waarde"].iloc[0] == 0.0  # 0 / 30000
    ks = tr.kosten_samenstelling(d, P)
    assert dict(zip(ks["categorie"], ks["aandeel"])) == {"Zwaar": 0.75, "Maatwerk": 0.25}


def test_kpis_hand_worked():
    t = _eleven_paths()
    t, d_r, ss = pd.concat([t, _ratio_case()[0]], ignore_index=True), *_ratio_case()[1:]
    d = pd.concat([decl([("T10b", "2023-04", 10000), ("T10a", "2023-04", 30000)], t), d_r], ignore_index=True)
    cleaned = SimpleNamespace(toewijzingen=t, declaraties=d, start_stop=ss, producten=None)
    k = tr.kpis(cleaned, P)
    assert list(k.columns) == ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid",
                               "n_clienten"]
    nl = k[(k["regio"] == "Nederland") & (k["gemeente"] == "")]

    def val(kpi, periode, dim):
        sel = nl[(nl["kpi"] == kpi) & (nl["periode"] == periode) & (nl["dimensie"] == dim)]
        assert len(sel) == 1, (kpi, periode, dim)
        return sel["waarde"].iloc[0], sel["n_clienten"].iloc[0]

    assert val("zorgpaden", "2023", "productgroep=GGZ") == (11, 11)
    assert val("zorgpaden_uniek", "2023", "productgroep=GGZ")[0] == 7
    assert val("zorgpaden_top5", "2023", "productgroep=GGZ")[0] == pytest.approx(9 / 11)
    assert val("zorgpaden_meer_maatwerk", "2023", "productgroep=GGZ")[0] == pytest.approx(3 / 11)
    # AP1 zorgpaden by start year: R1 2022; R2, R3, R4, R5, R6 (client f, Maatwerk) 2023
    assert val("zorgpaden", "2022", "productgroep=AP1") == (1, 1)
    assert val("zorgpaden", "2023", "productgroep=AP1") == (5, 5)
    # regulier ended R1, R2 both end in 2023: median(1.25, 0.25) = 0.75; median(1.5, 0.3) = 0.9
    assert val("traject_volume_ratio", "2023", "productgroep=AP1") == (pytest.approx(0.75), 2)
    assert val("traject_kosten_ratio", "2023", "productgroep=AP1") == (pytest.approx(0.9), 2)
    # GGZ cost 2023: T10b maatwerk 10000 of 40000 -> 0.25
    assert val("aandeel_pq_in_traject", "2023", "productgroep=GGZ")[0] == pytest.approx(0.25)
    # AP1 cost 2023: R1 Jan-Mar 30000, R2 30000, R4 40000, R6 maatwerk 5000 -> 5000 / 105000
    assert val("aandeel_pq_in_traject", "2023", "productgroep=AP1")[0] == pytest.approx(5000 / 105000)
    # gemeente and regio levels carry the same single-gemeente values
    g = k[(k["gemeente"] == "0983") & (k["kpi"] == "zorgpaden") & (k["periode"] == "2023")
          & (k["dimensie"] == "productgroep=GGZ")]
    assert g["regio"].tolist() == ["Noord-Limburg"] and g["waarde"].tolist() == [11]


def test_kpis_empty_without_traject_groups():
    t = toew([("1", "a", "maatwerk", "2023-01-01", "2023-06-30", "Wonen")])
    k = tr.kpis(SimpleNamespace(toewijzingen=t, declaraties=NO_DECL, start_stop=None, producten=None), P)
    assert len(k) == 0 and "n_clienten" in k.columns


def test_kpis_through_clean(tmp_path):
    """End to end on canonical tables: clean() output has every column the module needs."""
    import _ds_factory as f
    from jeugdlib import clean

    ds = f.make_ds(
        [f.tw(toewijzing_nr="T1", client_id="c1", productcode="45A53", ingangsdatum="2023-01-01",
              einddatum="2023-06-30"),
         f.tw(toewijzing_nr="T2", client_id="c1", productcode="45A48", ingangsdatum="2023-04-01",
              einddatum="2023-09-30")],
        [f.dec(toewijzing_nr="T1", productcode="45A53", periode_begin="2023-02-01", periode_eind="2023-02-28",
               bedrag_cent_signed=40000),
         f.dec(toewijzing_nr="T2", productcode="45A48", periode_begin="2023-05-01", periode_eind="2023-05-31",
               bedrag_cent_signed=10000, volume_signed=2, eenheid="04")])
    c = clean.clean(ds, P)
    zp = tr.zorgpaden(c.toewijzingen, c.declaraties, P)
    assert zp["label"].tolist() == ["Zwaar > Zwaar-Maatwerk > Maatwerk"]
    # Feb and May declared; 45 h x 1 / 12 + 2 h = 5.75 h
    assert zp["doorlooptijd"].tolist() == [2] and zp["volume_uren"].iloc[0] == pytest.approx(5.75)
    k = tr.kpis(c, P)
    sel = k[(k["kpi"] == "aandeel_pq_in_traject") & (k["regio"] == "Nederland")]
    assert sel["waarde"].iloc[0] == pytest.approx(0.2)  # 10000 / 50000


def test_rapport_bundle_per_regio_and_without_aanbieder():
    t, d, ss = _ratio_case()
    t2 = toew([("Z1", "z", "zwaar", "2023-01-01", "2023-03-31", "AP1")])
    old = toew([("OLD", "o", "zwaar", "2020-03-01", "2020-06-30", "AP1")])  # starts before the window
    t = pd.concat([t, old], ignore_index=True)
    t2["regio"] = pd.Series(["Zuid-Limburg"], dtype=schema.S)
    t2["gemeentecode"] = pd.Series(["0935"], dtype=schema.S)
    cleaned = SimpleNamespace(toewijzingen=pd.concat([t, t2], ignore_index=True), declaraties=d, start_stop=ss,
                              producten=None)
    r = tr.rapport(cleaned, P, regio="Noord-Limburg")
    assert r["groepen"] == ["AP1"] and r["ratios_fallback"] is False
    # 6 zorgpaden of AP1 in Noord-Limburg (R1..R6, one client each); Z1 is in Zuid-Limburg, OLD before 2021
    assert len(r["zorgpaden"]) == 6 and "client_id" not in r["zorgpaden"].columns
    assert r["samenvatting"]["zorgpaden"].tolist() == [6]
    assert sorted(r["ratios"]["toewijzing_nr"]) == ["R1", "R2"] and "client_id" not in r["ratios"].columns
    assert r["bubbel"]["aantal"].sum() == 2
    # without the aanbieder of every toewijzing nothing is left
    empty = tr.rapport(cleaned, P, regio="Noord-Limburg", exclude_agb=["11111111"])
    assert len(empty["zorgpaden"]) == 0 and len(empty["ratios"]) == 0


# --------------------------------------------------------------------------- helpers (performance pass)

def test_sorteer_is_a_stable_argsort():
    key = np.array([5, 1, 5, 0, 1, 5, 3])
    order, sorted_key = tr._sorteer(key)
    assert order.tolist() == [3, 1, 4, 6, 0, 2, 5]  # equal keys keep their order
    assert sorted_key.tolist() == [0, 1, 1, 3, 5, 5, 5]
    neg = np.array([2, -1, 2, -7])  # negative keys: the plain argsort path
    assert tr._sorteer(neg)[0].tolist() == [3, 1, 0, 2]
    rng = np.random.default_rng(0)
    big = rng.integers(0, 1000, 5000)
    assert np.array_equal(tr._sorteer(big)[0], np.argsort(big, kind="stable"))


def test_positieve_maanden_per_toewijzing_and_zorgpad():
    # toewijzingen 0, 1 in zorgpad 0; toewijzing 2 in zorgpad 1 (months 600, 601, ...)
    zp = np.array([0, 0, 1])
    row = np.array([0, 0, 1, 1, 2, 2, 0])
    maand = np.array([600, 601, 600, 601, 600, 600, 600])
    bedrag = np.array([10, 5, -20, 3, 4, -4, 30])
    tw, paden = tr._positieve_maanden_paden(row, zp, maand, bedrag, 2)
    # toewijzing 0: 600 = 10 + 30 > 0, 601 = 5 > 0 -> 2; toewijzing 1: 600 = -20, 601 = 3 -> 1;
    # toewijzing 2: 600 = 4 - 4 = 0 -> 0
    assert tw.tolist() == [2, 1, 0]
    # zorgpad 0: 600 = 10 + 30 - 20 = 20 > 0, 601 = 5 + 3 > 0 -> 2; zorgpad 1: 0
    assert paden.tolist() == [2, 0]
    assert tw.tolist() == tr._positieve_maanden(row, maand, bedrag, 3).tolist()
    assert paden.tolist() == tr._positieve_maanden(zp[row], maand, bedrag, 2).tolist()
    # every (toewijzing, month) once: a month counts when its own amount is positive
    tw1, _ = tr._positieve_maanden_paden(np.array([0, 1]), np.array([0, 0]), np.array([600, 600]),
                                         np.array([5, -5]), 1)
    assert tw1.tolist() == [1, 0]


def test_maand_nummers_as_calendar_months():
    d = pd.to_datetime(pd.Series(["1969-12-31 23:00", "1970-01-01", "2023-02-28 12:00", None, "2024-03-01"]),
                       format="ISO8601")
    got = tr._maand_nummers(d.to_numpy(dtype="datetime64[ns]"))
    assert got[:3].tolist() == [-1, 0, 53 * 12 + 1]
    assert got[3] == tr._GEEN_MAAND and got[4] == 54 * 12 + 2


def test_periode_index_matches_period_index_and_window():
    from jeugdlib.metrics import _common

    p = Params(peildatum="2024-08-17", start="2021-02-15", per="kwartaal")
    per = _common.periods(p.start, p.peildatum, p.per)
    d = pd.to_datetime(pd.Series(["2021-02-14", "2021-02-15", "2021-03-31 23:59", "2021-04-01", "2024-08-16",
                                  "2024-08-17", None, "2019-01-01"]), format="ISO8601").to_numpy(dtype="datetime64[ns]")
    got = tr._periode_index(d, p, per)
    ref = _common.period_index(d, per)
    ref[~tr._in_window(d, p)] = -1
    assert got.tolist() == ref.tolist()
    assert got[0] == -1 and got[1] == 0 and got[3] == 1 and got[5] == -1 and got[6] == -1


def test_regulier_gestopt_latest_jw307_decides():
    ss = pd.DataFrame({
        "bericht": pd.Series(["JW307", "jw307", "JW305", "JW307", "JW307", "JW307"], dtype=schema.S),
        "toewijzing_nr": pd.Series(["A", "A", "B", "B", "C", "C"], dtype=schema.S),
        # A: the latest (31 mar) has reden 31; B: only its JW307 counts (31);
        # C: a missing einddatum sorts first, so the 30 jun one with reden 32 is the latest
        "einddatum": pd.to_datetime(pd.Series(["2023-01-31", "2023-03-31", "2023-12-31", "2023-05-31", None,
                                               "2023-06-30"])).astype(schema.D),
        "reden_beeindiging": pd.Series(["32", " 31 ", "31", "31", "31", "32"], dtype=schema.S),
    })
    has, eind = tr._regulier_gestopt(ss, pd.Series(["C", "A", "X", "B", "A"], dtype=schema.S))
    assert has.tolist() == [False, True, False, True, True]
    assert str(eind[1])[:10] == "2023-03-31" and str(eind[3])[:10] == "2023-05-31" and np.isnat(eind[0])


def test_declaratie_rijen_first_toewijzing_with_the_number():
    t = toew([("A", "a", "zwaar", "2023-01-01", "2023-06-30"), ("B", "b", "zwaar", "2023-01-01", "2023-06-30"),
              ("A", "c", "licht", "2023-01-01", "2023-06-30")])
    d = decl([("B", "2023-01", 1), ("A", "2023-01", 1), ("Q", "2023-01", 1)])
    # A's first row (0) is selected as index 1 of pos; B (row 1) is not selected; Q is unknown
    assert vz._declaratie_rijen(d, t, np.array([2, 0])).tolist() == [-1, 1, -1]


def test_label_bits_of_rows():
    t = toew([("1", "a", "licht", "2023-01-01", "2023-06-30"), ("2", "a", "maatwerk", "2023-01-01", "2023-06-30"),
              ("3", "a", "zwaar", "2023-01-01", "2023-06-30"), ("4", "a", "pq", "2023-01-01", "2023-06-30")])
    assert tr.label_bits(t).tolist() == [1, 8, 4, 0]
    assert tr._label_bits(t, np.array([2, 1])).tolist() == [4, 8]


def test_regulier_gestopt_codes_as_on_the_texts():
    ss = pd.DataFrame({
        "bericht": pd.Series(["JW307", "jw307", "JW305", "JW307", "JW307"], dtype=schema.S),
        "toewijzing_nr": pd.Series(["12", "7", "12", None, "12"], dtype=schema.S),
        "einddatum": pd.to_datetime(pd.Series(["2023-01-31", "2023-02-28", "2023-12-31", "2023-03-31",
                                               "2023-01-31"])).astype(schema.D),
        "reden_beeindiging": pd.Series(["32", "31", "31", "31", " 31"], dtype=schema.S),
    })
    nrs = pd.Series(["7", "12", None, "5", "12"], dtype=schema.S)
    has, eind = tr._regulier_gestopt(ss, nrs)
    # "12": two JW307 on 31 jan, the later row (reden " 31") wins; a missing number matches a missing one
    assert has.tolist() == [True, True, True, False, True]
    codes, uniq = pd.factorize(nrs)
    has2, eind2 = tr._regulier_gestopt_codes(ss, np.asarray(codes, np.int64), np.asarray(uniq, dtype=object))
    assert has2.tolist() == has.tolist() and np.array_equal(eind2, eind, equal_nan=True)


def test_levelgroups_nunique_with_runs_of_equal_rows():
    from jeugdlib.metrics import _common

    # runs of equal (group, value) rows are dropped before counting: same distinct counts
    lg = _common.LevelGroups(np.array([0, 0, 0, 1, 1, 0]), ["R0", "R1"], np.array([0, 0, 1, 2, 2, 0]),
                             ["a", "b", "c"], np.array([0, 0, 0, 0, 1, 0]), 2)
    got = lg.nunique(np.array([5, 5, 5, 6, -1, 7]))
    assert dict(zip(lg.key["nederland"].tolist(), got["nederland"].tolist())) == {0: 3.0, 1: 0.0}
    regio = dict(zip(zip(lg.regio["regio"].tolist(), lg.key["regio"].tolist()), got["regio"].tolist()))
    assert regio == {("R0", 0): 2.0, ("R1", 0): 1.0, ("R1", 1): 0.0}  # R0: {5, 7}; R1: {6}; -1 not counted


def test_nan_naar_nul_and_client_codes_rijen():
    x = np.array([1.5, np.nan, -0.0, 2.0])
    assert np.array_equal(tr._nan_naar_nul(x), np.nan_to_num(x))
    y = np.array([np.inf, np.nan, -np.inf])
    assert np.array_equal(tr._nan_naar_nul(y), np.nan_to_num(y))
    d = pd.DataFrame({"client_nr": pd.array([3, None, 3, 8], dtype="int64[pyarrow]")})
    assert tr._client_codes_rijen(d, np.array([3, 1, 0])).tolist() == [8, -1, 3]
