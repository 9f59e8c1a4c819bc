"""Trajecten (metrics.md section 6): zorgpad labels, doorlooptijd, volume, ratios, KPIs.

Every expected value below is worked out by hand in the comment beside it. Cases are
small datasets (tests/_ds_factory.py) cleaned with ``clean.clean``; the products of
each case are made from the kinds below (one product per productgroep and kind).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import _ds_factory as f
from jeugdlib import clean, kpi
from jeugdlib.config import Params
from jeugdlib.metrics import trajecten as tr

P = Params(peildatum="2024-08-01")  # start 2021-01-01, aansluit_dagen 31

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

TRAJECT_KPIS = ["zorgpaden", "zorgpaden_uniek", "zorgpaden_top5", "zorgpaden_meer_maatwerk",
                "aandeel_pq_in_traject", "traject_kosten_ratio", "traject_volume_ratio"]


def _code(pg: str, kind: str) -> str:
    return f"{pg[:3]}-{kind}"


def toew(rows) -> list[dict]:
    """Toewijzingen: (nr, client, kind, ingang, eind[, productgroep[, agb[, gemeentecode]]])."""
    out = []
    for r in rows:
        nr, client, kind, ingang, eind = r[:5]
        pg = r[5] if len(r) > 5 else "GGZ"
        out.append(f.tw(toewijzing_nr=nr, client_id=client, agb=r[6] if len(r) > 6 else "11111111",
                        gemeentecode=r[7] if len(r) > 7 else "0983", productcode=_code(pg, kind),
                        productcategorie="45", ingangsdatum=str(pd.Timestamp(ingang).date()),
                        einddatum=None if eind is None else str(pd.Timestamp(eind).date()),
                        _kind=kind, _pg=pg))
    return out


def producten(tws) -> list[dict]:
    """One product per (productgroep, kind) used by the toewijzingen."""
    seen = {}
    for t in tws:
        fv, zw, va, nu, nm, tp = KIND[t["_kind"]]
        seen[t["productcode"]] = dict(productcode=t["productcode"], productcategorie="45",
                                      omschrijving=t["productcode"], segment="4", productgroep=t["_pg"],
                                      financieringsvorm=fv, zwaarte=zw, variant=va, norm_uren=nu,
                                      norm_maanden=nm, tarief_cent=None, trajectprijs_cent=tp,
                                      geldig_vanaf="2020-01-01", geldig_tot=None)
    return list(seen.values())


def decl(rows, tws) -> list[dict]:
    """Declaration lines: (toewijzing_nr, maand 'YYYY-MM', bedrag_cent[, volume, eenheid]); client, agb,
    gemeente and product are the toewijzing's (an unknown number: client "x")."""
    info = {t["toewijzing_nr"]: t for t in tws}
    out = []
    for r in rows:
        nr, maand, bedrag = r[:3]
        begin = pd.Timestamp(f"{maand}-01")
        t = info.get(nr, {"client_id": "x", "agb": "11111111", "productcode": "X", "gemeentecode": "0983"})
        out.append(f.dec(toewijzing_nr=nr, client_id=t["client_id"], agb=t["agb"], productcode=t["productcode"],
                         gemeentecode=t["gemeentecode"], periode_begin=str(begin.date()),
                         periode_eind=str((begin + pd.offsets.MonthEnd(0)).date()), bedrag_cent_signed=bedrag,
                         volume_signed=r[3] if len(r) > 3 else 1, eenheid=r[4] if len(r) > 4 else "82"))
    return out


def ds(tws, decs=(), start_stop=(), extra_producten=()):
    prod = producten(tws) + list(extra_producten)
    rows = [{k: v for k, v in t.items() if not k.startswith("_")} for t in tws]
    return f.make_ds(rows, decs, producten=prod, start_stop=start_stop)


def cleaned(rows, decl_rows=(), start_stop=(), params=P):
    tws = toew(rows)
    return clean.clean(ds(tws, decl(decl_rows, tws), start_stop), params)


def labels(rows, exclude_agb=(), params=P) -> list[str]:
    zp = tr.zorgpaden_lijst(cleaned(rows, params=params), exclude_agb=exclude_agb)
    return zp.sort_values(["start", "label"])["label"].tolist()


def zorgpad_labels(zp, s, e, bits) -> pd.DataFrame:
    """tr.labels_sql over hand-made rows (keten, ingangsdatum, einddatum_eff, bit), indexed by zorgpad."""
    con = duckdb.connect()
    con.register("rij", pd.DataFrame({"keten": np.asarray(zp), "ingangsdatum": pd.to_datetime(s).date,
                                      "einddatum_eff": pd.to_datetime(e).date, "bit": np.asarray(bits)}))
    out = con.sql(tr.labels_sql("SELECT * FROM rij")).df()
    return out.set_index("keten").sort_index()


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
    c = cleaned(rows)
    zp = tr.zorgpaden_lijst(c, met_client_id=True)
    got = sorted(zip(zp["client_id"], zp["productgroep"], zp["label"]))
    assert got == [("a", "AP1", "Maatwerk"), ("a", "GGZ", "Zwaar"), ("b", "AP1", "Zwaar"), ("b", "GGZ", "Maatwerk")]
    assert "client_id" not in tr.zorgpaden_lijst(c).columns  # client-free by default


def test_group_without_traject_products_is_left_out():
    rows = [("1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ"),
            ("2", "a", "maatwerk", "2023-01-01", "2023-06-30", "Wonen")]
    zp = tr.zorgpaden_lijst(cleaned(rows))
    assert zp["productgroep"].tolist() == ["GGZ"]


def test_exclude_agb_changes_the_label():
    rows = [("1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ", "11111111"),
            ("2", "a", "maatwerk", "2023-04-01", "2023-09-30", "GGZ", "22222222")]
    assert labels(rows) == ["Zwaar > Zwaar-Maatwerk > Maatwerk"]
    assert labels(rows, exclude_agb=["22222222"]) == ["Zwaar"]
    p2 = Params(peildatum="2024-08-01", exclude_agb=("22222222",))
    assert labels(rows, params=p2) == ["Zwaar"]


def test_zorgpad_labels_directly_unsorted_input():
    # Input order must not matter: rows of two zorgpaden interleaved and reversed.
    zp = np.array([7, 3, 7, 3])
    s = ["2023-04-01", "2023-01-01", "2023-01-01", "2023-01-01"]
    e = ["2023-09-30", "2023-12-31", "2023-06-30", "2023-12-31"]
    bits = np.array([8, 4, 4, 2])
    out = zorgpad_labels(zp, s, e, bits)
    assert out.loc[7, "label"] == "Zwaar > Zwaar-Maatwerk > Maatwerk"
    assert out.loc[3, "label"] == "Midden-Zwaar"
    assert bool(out.loc[7, "met_maatwerk"]) and not bool(out.loc[3, "met_maatwerk"])
    assert out.loc[7, "stukken"] == 3 and out.loc[3, "stukken"] == 1


def test_zorgpad_labels_mixed_labelled_and_unlabelled():
    zp = np.array([5, 1, 2, 5])
    out = zorgpad_labels(zp, ["2023-01-01"] * 4, ["2023-03-31"] * 4, np.array([8, 4, 0, 16]))
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
    got = zorgpad_labels(zp, start, end, bits)["label"].to_dict()
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


def test_label_bits_of_rows():
    c = cleaned([("1", "a", "licht", "2023-01-01", "2023-06-30"), ("2", "a", "maatwerk", "2023-01-01", "2023-06-30"),
                 ("3", "a", "zwaar", "2023-01-01", "2023-06-30"), ("4", "a", "pq", "2023-01-01", "2023-06-30")])
    got = c.con.execute(f"SELECT {tr.label_bit_sql('t')} FROM toewijzingen t ORDER BY toewijzing_nr").fetchall()
    assert [r[0] for r in got] == [1, 8, 4, 0]


# --------------------------------------------------------------------------- doorlooptijd, volume

def test_doorlooptijd_volume_and_kosten():
    rows = [("T1", "a", "zwaar", "2023-01-01", "2023-06-30"),       # norm 45 h / 12 months
            ("T2", "a", "maatwerk", "2023-04-01", "2023-09-30")]
    c = cleaned(rows, [("T1", "2023-01", 10000), ("T1", "2023-02", 10000),
                       ("T1", "2023-03", -3000),                    # credit without debet
                       ("T1", "2023-04", 10000),
                       ("T2", "2023-04", 5000, 90, "01"),           # 90 minutes = 1.5 h
                       ("T2", "2023-05", 8000, 2, "04"),            # 2 hours
                       ("T2", "2023-06", 12000, 3, "16"),           # 3 dagdelen = 12 h
                       ("T2", "2023-07", 1000, 5, "82"),            # stuks: no hour value
                       ("ZZ", "2023-08", 99999)])                   # unknown toewijzing: left out
    zp = tr.zorgpaden_lijst(c)
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
    rows = [("T1", "a", "zwaar", "2023-01-01", "2023-06-30"), ("T2", "a", "maatwerk", "2023-01-01", "2023-06-30")]
    c = cleaned(rows, [("T1", "2023-01", 1000), ("T1", "2023-02", 2000), ("T2", "2023-02", -5000, -1, "04")])
    row = tr.zorgpaden_lijst(c).iloc[0]
    assert row["doorlooptijd"] == 1  # only January
    # T1 has 2 positive months of its own: 45 x 2 / 12 = 7.5 h; T2: -1 h net -> 6.5 h
    assert row["volume_uren"] == pytest.approx(6.5)


def test_positieve_maanden_per_toewijzing_and_zorgpad():
    # toewijzingen A, B of client a in one zorgpad; C of client b in another (months Jan, Feb 2023)
    rows = [("A", "a", "zwaar", "2023-01-01", "2023-06-30"), ("B", "a", "maatwerk", "2023-01-01", "2023-06-30"),
            ("C", "b", "zwaar", "2023-01-01", "2023-06-30")]
    c = cleaned(rows, [("A", "2023-01", 10), ("A", "2023-02", 5), ("B", "2023-01", -20), ("B", "2023-02", 3),
                       ("C", "2023-01", 4), ("C", "2023-01", -4), ("A", "2023-01", 30)])
    tw = dict(c.con.execute(f"SELECT toewijzing_nr, maanden FROM ({tr.traject_toewijzingen_sql(c)})").fetchall())
    # A: Jan = 10 + 30 > 0, Feb = 5 > 0 -> 2; B: Jan = -20, Feb = 3 -> 1; C: Jan = 4 - 4 = 0 -> 0
    assert tw == {"A": 2, "B": 1, "C": 0}
    zp = tr.zorgpaden_lijst(c, met_client_id=True).set_index("client_id")
    # zorgpad of a: Jan = 10 + 30 - 20 = 20 > 0, Feb = 5 + 3 > 0 -> 2; zorgpad of b: 0
    assert zp.loc["a", "doorlooptijd"] == 2 and zp.loc["b", "doorlooptijd"] == 0
    # every (toewijzing, month) once: a month counts for a toewijzing when its own amount is positive
    c1 = cleaned(rows[:2], [("A", "2023-01", 5), ("B", "2023-01", -5)])
    tw1 = dict(c1.con.execute(f"SELECT toewijzing_nr, maanden FROM ({tr.traject_toewijzingen_sql(c1)})").fetchall())
    assert tw1 == {"A": 1, "B": 0}


def test_declarations_link_on_gemeente_number_and_client():
    # Two gemeenten use toewijzing number "A" for different toewijzingen of client a (iJw OP275; here in two
    # productgroepen, so two zorgpaden). The old engine linked a declaration on the number alone (to the first
    # toewijzing with it), so 0984's 40000 landed on 0983's zorgpad; now the link is (gemeentecode, number, client).
    rows = [("A", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ", "11111111", "0983"),
            ("A", "a", "zwaar", "2023-01-01", "2023-06-30", "AP1", "11111111", "0984")]
    tws = toew(rows)
    decs = decl([("A", "2023-01", 10000)], tws[:1]) + decl([("A", "2023-02", 40000), ("A", "2023-03", 7000)], tws[1:])
    decs[-1]["client_id"] = "other"  # 0984's number, but another client: not linked to a toewijzing
    c = clean.clean(ds(tws, decs), P)
    zp = tr.zorgpaden_lijst(c).set_index("gemeentecode")
    # 0983: only its own January line; 0984: February (March is another client's)
    assert zp.loc["0983", "kosten_cent"] == 10000 and zp.loc["0983", "doorlooptijd"] == 1
    assert zp.loc["0984", "kosten_cent"] == 40000 and zp.loc["0984", "doorlooptijd"] == 1
    # the other client's line still counts in the cost share of AP1 (a line without a known toewijzing)
    pq = tr.aandeel_pq_in_traject(c)
    assert _nl_rij(pq, "2023", "productgroep=AP1")["n_clienten"] == 2  # a and other


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
    return rows


def test_label_samenvatting_and_top_labels():
    zp = tr.zorgpaden_lijst(cleaned(_eleven_paths()))
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

RATIO_ROWS = [("R1", "a", "midden", "2022-01-01", "2023-03-31", "AP1"),   # 15 months, JW307 31
              ("R2", "b", "licht", "2023-01-01", "2023-03-31", "AP1"),    # 3 months, JW307 31 (early)
              ("R3", "c", "zwaar", "2023-01-01", "2023-12-31", "AP1"),    # JW307 32: not regulier
              ("R4", "d", "zwaar", "2023-02-01", "2023-05-31", "AP1"),    # no JW307
              ("R5", "e", "zwaar", "2023-02-01", None, "AP1"),            # open
              ("R6", "f", "maatwerk", "2023-01-01", "2023-03-31", "AP1")]  # not a traject
RATIO_DECL = ([("R1", m, 10000) for m in pd.period_range("2022-01", "2023-03", freq="M").strftime("%Y-%m")]
              + [("R2", m, 10000) for m in ("2023-01", "2023-02", "2023-03")]
              + [("R4", "2023-02", 40000), ("R6", "2023-01", 5000)])


def _stop(bericht, nr, eind, reden, gemeentecode="0983"):
    return dict(bericht=bericht, toewijzing_nr=nr, gemeentecode=gemeentecode, agb="11111111", einddatum=eind,
                reden_beeindiging=reden)


RATIO_SS = [_stop("JW305", "R1", None, None), _stop("JW307", "R1", "2023-03-31", "31"),
            _stop("JW307", "R2", "2023-03-31", "31"), _stop("JW307", "R3", "2023-12-31", "32"),
            _stop("JW307", "R6", "2023-03-31", "31")]


def test_traject_ratios_with_jw307():
    res = tr.traject_ratios(cleaned(RATIO_ROWS, RATIO_DECL, RATIO_SS))
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
    only_305 = [s for s in RATIO_SS if s["bericht"] == "JW305"]
    res = tr.traject_ratios(cleaned(RATIO_ROWS, RATIO_DECL, only_305))
    assert res.fallback is True
    r = res.tabel.set_index("toewijzing_nr")
    # every traject toewijzing with einddatum before the peildatum: R1..R4 (R5 open, R6 not a traject)
    assert sorted(r.index) == ["R1", "R2", "R3", "R4"]
    assert r.loc["R3", "volume_ratio"] == 0.0 and r.loc["R3", "kosten_ratio"] == 0.0
    # R4: 1 month / 12; 40000 / 100000
    assert r.loc["R4", "volume_ratio"] == pytest.approx(1 / 12)
    assert r.loc["R4", "kosten_ratio"] == pytest.approx(0.4)
    assert tr.traject_ratios(cleaned(RATIO_ROWS, RATIO_DECL)).fallback is True  # no start_stop at all


def test_regulier_gestopt_latest_jw307_decides():
    # open traject toewijzingen A, B, C, X: the einddatum comes from the JW307.
    rows = [(nr, nr.lower(), "zwaar", "2023-01-01", None, "AP1") for nr in ("A", "B", "C", "X")]
    ss = [_stop("JW307", "A", "2023-01-31", "32"), _stop("jw307", "A", "2023-03-31", " 31 "),
          _stop("JW305", "B", "2023-12-31", "31"), _stop("JW307", "B", "2023-05-31", "31"),
          # C: a missing einddatum sorts first, so the 30 jun one with reden 32 is the latest
          _stop("JW307", "C", None, "31"), _stop("JW307", "C", "2023-06-30", "32")]
    r = tr.traject_ratios(cleaned(rows, (), ss)).tabel.set_index("toewijzing_nr")
    # A: the latest (31 mar) has reden 31; B: only its JW307 counts (31); C: reden 32; X: no JW307
    assert sorted(r.index) == ["A", "B"]
    assert str(r.loc["A", "einddatum"])[:10] == "2023-03-31" and str(r.loc["B", "einddatum"])[:10] == "2023-05-31"


def test_regulier_gestopt_ties_and_numbers():
    rows = [(nr, f"c{nr}", "zwaar", "2023-01-01", None, "AP1") for nr in ("7", "12", "5")]
    ss = [_stop("JW307", "12", "2023-01-31", "32"), _stop("jw307", "7", "2023-02-28", "31"),
          _stop("JW305", "12", "2023-12-31", "31"), _stop("JW307", "12", "2023-01-31", " 31"),
          _stop("JW307", "5", "2023-01-31", "31", gemeentecode="0984")]  # number 5 of another gemeente
    r = tr.traject_ratios(cleaned(rows, (), ss)).tabel
    # "12": two JW307 on 31 jan, the later row (reden " 31") wins; "7": lower-case jw307 counts;
    # "5": the JW307 is of gemeente 0984's toewijzing 5, not of 0983's
    assert sorted(r["toewijzing_nr"]) == ["12", "7"]


def test_bubbel_data_classes_of_10_points():
    rat = tr.traject_ratios(cleaned(RATIO_ROWS, RATIO_DECL, RATIO_SS)).tabel
    b = tr.bubbel_data(rat)
    got = sorted(zip(b["volume_klasse"], b["kosten_klasse"], b["aantal"]))
    # R1 (1.25, 1.5) -> (1.2, 1.5); R2 (0.25, 0.3) -> (0.2, 0.3): 0.3 lands in 0.3, not 0.2
    assert got == [(0.2, 0.3, 1), (1.2, 1.5, 1)]
    capped = tr.bubbel_data(rat, max_ratio=1.0)
    assert sorted(zip(capped["volume_klasse"], capped["kosten_klasse"])) == [(0.2, 0.3), (1.0, 1.0)]


# --------------------------------------------------------------------------- cost shares and KPIs

def _nl_rij(rows, periode, dim):
    sel = rows[(rows["regio"] == "Nederland") & (rows["periode"] == periode) & (rows["dimensie"] == dim)]
    assert len(sel) == 1, (periode, dim)
    return sel.iloc[0]


def _nl(rows, k, periode, dim):
    sel = rows[(rows["kpi"] == k) & (rows["regio"] == "Nederland") & (rows["periode"] == periode)
               & (rows["dimensie"] == dim)]
    assert len(sel) == 1, (k, periode, dim)
    return sel["waarde"].iloc[0], sel["n_clienten"].iloc[0]


def test_aandeel_pq_in_traject_and_exclude():
    rows = [("T1", "a", "zwaar", "2023-01-01", "2023-06-30", "GGZ", "11111111"),
            ("T2", "a", "maatwerk", "2023-01-01", "2023-06-30", "GGZ", "22222222")]
    decs = [("T1", "2023-01", 30000), ("T2", "2023-02", 10000), ("T2", "2020-02", 777)]  # 2020: before start
    c = cleaned(rows, decs)
    a = tr.aandeel_pq_in_traject(c)
    nl = a[(a["regio"] == "Nederland")]
    assert nl["periode"].tolist() == ["2023"]
    assert nl["waarde"].iloc[0] == pytest.approx(0.25)  # 10000 / (30000 + 10000)
    a2 = tr.rapport(c, exclude_agb=["22222222"])["aandeel_pq"]
    assert a2[a2["regio"] == "Nederland"]["waarde"].iloc[0] == 0.0  # 0 / 30000
    a3 = tr.aandeel_pq_in_traject(cleaned(rows, decs, params=Params(peildatum="2024-08-01",
                                                                      exclude_agb=("22222222",))))
    assert a3[a3["regio"] == "Nederland"]["waarde"].iloc[0] == 0.0
    ks = tr.kosten_samenstelling(c)
    assert dict(zip(ks["categorie"], ks["aandeel"])) == {"Zwaar": 0.75, "Maatwerk": 0.25}


def test_kpis_hand_worked():
    c = cleaned(_eleven_paths() + RATIO_ROWS, [("T10b", "2023-04", 10000), ("T10a", "2023-04", 30000)] + RATIO_DECL,
                RATIO_SS)
    k = kpi.kpi_rows(c, TRAJECT_KPIS)
    assert list(k.columns) == ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid",
                               "n_clienten"]
    assert list(dict.fromkeys(k["kpi"])) == TRAJECT_KPIS

    def val(k_, periode, dim):
        return _nl(k, k_, periode, dim)

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
    c = cleaned([("1", "a", "maatwerk", "2023-01-01", "2023-06-30", "Wonen")])
    k = kpi.kpi_rows(c, TRAJECT_KPIS)
    assert len(k) == 0 and "n_clienten" in k.columns


def test_kpis_through_clean():
    """End to end on the factory's default products: 45A53 GGZ Zwaar (traject), 45A48 GGZ maatwerk."""
    ds_ = f.make_ds(
        [f.tw(toewijzing_nr="T1", client_id="c1", productcode="45A53", ingangsdatum="2023-01-01",
              einddatum="2023-06-30"),
         f.tw(toewijzing_nr="T2", client_id="c1", productcode="45A48", ingangsdatum="2023-04-01",
              einddatum="2023-09-30")],
        [f.dec(toewijzing_nr="T1", productcode="45A53", periode_begin="2023-02-01", periode_eind="2023-02-28",
               bedrag_cent_signed=40000),
         f.dec(toewijzing_nr="T2", productcode="45A48", periode_begin="2023-05-01", periode_eind="2023-05-31",
               bedrag_cent_signed=10000, volume_signed=2, eenheid="04")])
    c = clean.clean(ds_, P)
    zp = tr.zorgpaden_lijst(c)
    assert zp["label"].tolist() == ["Zwaar > Zwaar-Maatwerk > Maatwerk"]
    # Feb and May declared; 45 h x 1 / 12 + 2 h = 5.75 h
    assert zp["doorlooptijd"].tolist() == [2] and zp["volume_uren"].iloc[0] == pytest.approx(5.75)
    k = kpi.kpi_rows(c, ["aandeel_pq_in_traject"])
    sel = k[(k["kpi"] == "aandeel_pq_in_traject") & (k["regio"] == "Nederland")]
    assert sel["waarde"].iloc[0] == pytest.approx(0.2)  # 10000 / 50000


def test_rapport_bundle_per_regio_and_without_aanbieder():
    rows = RATIO_ROWS + [("Z1", "z", "zwaar", "2023-01-01", "2023-03-31", "AP1", "11111111", "0935"),  # Zuid-Limburg
                         ("OLD", "o", "zwaar", "2020-03-01", "2020-06-30", "AP1")]  # starts before the window
    c = cleaned(rows, RATIO_DECL, RATIO_SS)
    r = tr.rapport(c, regio="Noord-Limburg")
    assert r["groepen"] == ["AP1"] and r["ratios_fallback"] is False
    # 6 zorgpaden of AP1 in Noord-Limburg (R1..R6, one client each); Z1 is in Zuid-Limburg, OLD before 2021
    assert len(r["zorgpaden"]) == 6 and "client_id" not in r["zorgpaden"].columns
    assert r["samenvatting"]["zorgpaden"].tolist() == [6]
    assert sorted(r["ratios"]["toewijzing_nr"]) == ["R1", "R2"] and "client_id" not in r["ratios"].columns
    assert r["bubbel"]["aantal"].sum() == 2
    # without the aanbieder of every toewijzing nothing is left
    empty = tr.rapport(c, regio="Noord-Limburg", exclude_agb=["11111111"])
    assert len(empty["zorgpaden"]) == 0 and len(empty["ratios"]) == 0
