"""Cleaning (metrics.md section 0): hand-worked cases, every rule counted."""

from __future__ import annotations

import pandas as pd
import pytest

from _ds_factory import AANBIEDERS, PRODUCTEN, dec, make_ds, tw
from jeugdlib import schema
from jeugdlib.clean import clean, leeftijd, net_declaraties
from jeugdlib.config import Params

P = Params("2024-08-01", start="2023-01-01")


def _telling(c, tabel, regel):
    t = c.telling
    row = t[(t["tabel"] == tabel) & (t["regel"] == regel)]
    assert len(row) == 1
    return int(row["voor"].iloc[0]), int(row["verwijderd"].iloc[0])


def test_latest_version_withdrawal_and_einde_voor_ingang():
    ds = make_ds([
        # T1: extended then shortened; the latest stamp (2023-03-01) wins -> einddatum 2023-06-30
        tw(toewijzing_nr="T1", versie_ts="2023-01-01 10:00", einddatum="2023-12-31"),
        tw(toewijzing_nr="T1", versie_ts="2023-03-01 09:00", einddatum="2023-06-30"),
        tw(toewijzing_nr="T1", versie_ts="2023-02-01 09:00", einddatum="2024-12-31"),
        # T2: a later version withdraws it (RedenWijziging 13) -> gone
        tw(toewijzing_nr="T2", versie_ts="2023-01-01", client_id="c2"),
        tw(toewijzing_nr="T2", versie_ts="2023-04-01", client_id="c2", reden_wijziging="13"),
        # T3: withdrawn first, then corrected by a later version -> exists
        tw(toewijzing_nr="T3", versie_ts="2023-01-01", client_id="c3", reden_wijziging="13"),
        tw(toewijzing_nr="T3", versie_ts="2023-05-01", client_id="c3", reden_wijziging="01"),
        # T4: einddatum before ingangsdatum -> gone
        tw(toewijzing_nr="T4", client_id="c4", ingangsdatum="2023-05-01", einddatum="2023-04-30"),
        # T5: starts on the peildatum -> gone
        tw(toewijzing_nr="T5", client_id="c5", ingangsdatum="2024-08-01"),
    ])
    c = clean(ds, P)
    got = c.toewijzingen.set_index("toewijzing_nr")
    assert sorted(got.index) == ["T1", "T3"]
    assert got.loc["T1", "einddatum"] == pd.Timestamp("2023-06-30")
    # 9 rows, 5 numbers -> 4 older versions; then 1 withdrawn of 5; 1 einde<ingang of 4; 1 on peildatum of 3
    assert _telling(c, "toewijzingen", "oudere_versie") == (9, 4)
    assert _telling(c, "toewijzingen", "reden_wijziging_13") == (5, 1)
    assert _telling(c, "toewijzingen", "einde_voor_ingang") == (4, 1)
    assert _telling(c, "toewijzingen", "ingang_na_peildatum") == (3, 1)
    assert list(c.toewijzingen_ingetrokken["toewijzing_nr"]) == ["T2"]


def test_telling_chains_and_schema():
    ds = make_ds([tw(toewijzing_nr="T1"), tw(toewijzing_nr="T1", versie_ts="2022-02-01")],
                 [dec(), dec(bedrag_cent_signed=-10000)])
    c = clean(ds, P)
    for tabel, g in c.telling.groupby("tabel"):
        g = g.sort_values("stap")
        after = (g["voor"] - g["verwijderd"]).tolist()
        # each rule starts from what the previous left, except netting (lines -> items)
        for prev, (_, row) in zip(after[:-1], g.iloc[1:].iterrows()):
            assert row["voor"] == prev
    assert list(c.telling.columns) == ["stap", "tabel", "regel", "voor", "verwijderd", "omschrijving"]


def test_open_einddatum_gets_day_before_peildatum():
    ds = make_ds([
        tw(toewijzing_nr="OPEN", einddatum=None),
        tw(toewijzing_nr="LATER", client_id="c2", einddatum="2025-12-31"),
        tw(toewijzing_nr="DONE", client_id="c3", einddatum="2023-03-31"),
    ])
    c = clean(ds, P).toewijzingen.set_index("toewijzing_nr")
    assert c.loc["OPEN", "einddatum_eff"] == pd.Timestamp("2024-07-31")
    assert c.loc["LATER", "einddatum_eff"] == pd.Timestamp("2024-07-31")
    assert c.loc["DONE", "einddatum_eff"] == pd.Timestamp("2023-03-31")
    assert pd.isna(c.loc["OPEN", "einddatum"])  # the canonical column is untouched


def test_leeftijd_completed_years():
    g = pd.Series(pd.to_datetime(["2002-09-01", "2002-09-01", "2010-02-28", None]))
    d = pd.Series(pd.to_datetime(["2024-08-31", "2024-09-01", "2024-02-27", "2024-01-01"]))
    # 2024-2002 = 22, birthday not yet on 08-31 -> 21; on 09-01 -> 22; 14 - 1 = 13; unknown -> NaN
    out = leeftijd(g, d)
    assert out.iloc[:3].tolist() == [21, 22, 13]
    assert pd.isna(out.iloc[3])


def test_age_boundary_toewijzingen_and_declaraties():
    p = Params("2025-01-01", start="2023-01-01")
    born = "2002-09-01"
    ds = make_ds(
        [
            # 2024-08-01: 21 years and 11 months -> kept
            tw(toewijzing_nr="K", client_id="old", geboortedatum=born, ingangsdatum="2024-08-01"),
            # 2024-09-01: 22 -> removed
            tw(toewijzing_nr="R", client_id="old", geboortedatum=born, ingangsdatum="2024-09-01"),
        ],
        [
            dec(toewijzing_nr="K", client_id="old", periode_begin="2024-08-01", periode_eind="2024-08-31"),
            dec(toewijzing_nr="K", client_id="old", periode_begin="2024-09-01", periode_eind="2024-09-30"),
            # client without any toewijzing: birth date unknown -> kept and signalled
            dec(toewijzing_nr="X", client_id="nobody", periode_begin="2024-09-01", periode_eind="2024-09-30"),
        ],
    )
    c = clean(ds, p)
    assert c.toewijzingen["toewijzing_nr"].tolist() == ["K"]
    assert _telling(c, "toewijzingen", "leeftijd") == (2, 1)
    kept = c.declaraties.sort_values("periode_begin")
    assert set(zip(kept["client_id"], kept["periode_begin"].dt.month)) == {("old", 8), ("nobody", 9)}
    assert _telling(c, "declaraties", "leeftijd") == (3, 1)
    geb = c.signalen["geboortedatum_onbekend"].set_index("tabel")
    assert geb.loc["declaraties", "aantal"] == 1 and geb.loc["declaraties", "clienten"] == 1


def test_netting_cancel_credit_without_debet_and_partial():
    lines = [
        # item A: debet 100.00 and credit 100.00 -> net 0 -> removed (netto_nul_creditering)
        dec(toewijzing_nr="T1", periode_begin="2023-01-01", periode_eind="2023-01-31",
            bedrag_cent_signed=10000, volume_signed=2),
        dec(toewijzing_nr="T1", periode_begin="2023-01-01", periode_eind="2023-01-31",
            bedrag_cent_signed=-10000, volume_signed=-2),
        # item B: debet 100.00, credit 40.00 -> net 60.00, volume 2 - 1 = 1
        dec(toewijzing_nr="T1", periode_begin="2023-02-01", periode_eind="2023-02-28",
            bedrag_cent_signed=10000, volume_signed=2),
        dec(toewijzing_nr="T1", periode_begin="2023-02-01", periode_eind="2023-02-28",
            bedrag_cent_signed=-4000, volume_signed=-1),
        # item C: a credit of 25.00 without debet -> kept, -25.00, flagged
        dec(toewijzing_nr="T1", periode_begin="2023-03-01", periode_eind="2023-03-31",
            bedrag_cent_signed=-2500, volume_signed=-1),
        # item D: a zero-amount line -> removed (netto_nul_bedrag)
        dec(toewijzing_nr="T1", periode_begin="2023-04-01", periode_eind="2023-04-30",
            bedrag_cent_signed=0, volume_signed=0),
        # item E: no ToewijzingNummer: keyed on client + agb; two clients -> two items
        dec(toewijzing_nr=None, client_id="c1", periode_begin="2023-05-01", periode_eind="2023-05-31",
            bedrag_cent_signed=5000),
        dec(toewijzing_nr=None, client_id="c2", periode_begin="2023-05-01", periode_eind="2023-05-31",
            bedrag_cent_signed=7000),
        # item F: after the peildatum -> removed before netting
        dec(toewijzing_nr="T1", periode_begin="2024-08-01", periode_eind="2024-08-31"),
    ]
    c = clean(make_ds([tw(toewijzing_nr="T1"), tw(toewijzing_nr="T9", client_id="c2")], lines), P)
    d = c.declaraties.set_index(c.declaraties["periode_begin"].dt.month)
    assert sorted(d.index.tolist()) == [2, 3, 5, 5]
    assert d.loc[2, "bedrag_cent"] == 6000 and d.loc[2, "volume"] == 1
    assert d.loc[3, "bedrag_cent"] == -2500 and bool(d.loc[3, "credit_zonder_debet"])
    assert not bool(d.loc[2, "credit_zonder_debet"])
    assert sorted(d.loc[5, "bedrag_cent"].tolist()) == [5000, 7000]
    assert _telling(c, "declaraties", "periode_na_peildatum") == (9, 1)
    # 8 lines -> 6 items (A and B merge two lines each)
    assert _telling(c, "declaraties", "saldering") == (8, 2)
    assert _telling(c, "declaraties", "netto_nul_creditering") == (6, 1)
    assert _telling(c, "declaraties", "netto_nul_bedrag") == (5, 1)
    cz = c.signalen["credit_zonder_debet"]
    assert cz["bedrag_cent"].tolist() == [-2500]
    assert "client_id" not in cz.columns


def test_net_declaraties_takes_fields_from_debet_line():
    d = pd.DataFrame([
        dec(bedrag_cent_signed=-3000, tarief_cent=999, agb="11111111"),
        dec(bedrag_cent_signed=10000, tarief_cent=5000, agb="11111111"),
    ])
    items, had_credit, _ = net_declaraties(schema.conform(d, "declaraties"))
    assert len(items) == 1 and items["tarief_cent"].iloc[0] == 5000  # from the debet line
    assert items["bedrag_cent"].iloc[0] == 7000 and bool(had_credit[0])


def test_declaration_without_known_toewijzing_is_kept_and_listed():
    c = clean(make_ds([tw(toewijzing_nr="T1")],
                      [dec(toewijzing_nr="T1"), dec(toewijzing_nr="GEEN", bedrag_cent_signed=1234),
                       dec(toewijzing_nr=None, bedrag_cent_signed=500)]), P)
    d = c.declaraties.set_index(c.declaraties["toewijzing_nr"].fillna("-"))
    assert bool(d.loc["T1", "toewijzing_bekend"])
    assert not bool(d.loc["GEEN", "toewijzing_bekend"]) and not bool(d.loc["-", "toewijzing_bekend"])
    assert sorted(c.signalen["zonder_toewijzing"]["bedrag_cent"].tolist()) == [500, 1234]


def test_withdrawn_toewijzing_makes_its_declarations_unknown():
    c = clean(make_ds([tw(toewijzing_nr="T1"), tw(toewijzing_nr="T1", versie_ts="2023-06-01", reden_wijziging="13")],
                      [dec(toewijzing_nr="T1")]), P)
    assert len(c.toewijzingen) == 0
    assert len(c.declaraties) == 1 and not bool(c.declaraties["toewijzing_bekend"].iloc[0])


def test_product_attributes_valid_on_date_and_unknown_code():
    producten = [
        {**PRODUCTEN[1], "tarief_cent": 10000, "geldig_vanaf": "2020-01-01", "geldig_tot": "2023-12-31"},
        {**PRODUCTEN[1], "tarief_cent": 10500, "geldig_vanaf": "2024-01-01", "geldig_tot": None},
        PRODUCTEN[2],  # 41L23: empty productgroep -> the code itself
    ]
    ds = make_ds(
        [tw(toewijzing_nr="A", productcode="45A48", ingangsdatum="2023-06-01"),
         tw(toewijzing_nr="B", productcode="45A48", ingangsdatum="2024-02-01"),
         tw(toewijzing_nr="C", productcode="99Z99", productcategorie="43"),
         tw(toewijzing_nr="D", productcode="41L23")],
        [dec(productcode="45A48", periode_begin="2024-03-01", periode_eind="2024-03-31", tarief_cent=10400)],
        producten=producten)
    c = clean(ds, P)
    t = c.toewijzingen.set_index("toewijzing_nr")
    assert t.loc["A", "tarief_cent"] == 10000 and t.loc["B", "tarief_cent"] == 10500
    assert t.loc["A", "variant"] == "maatwerk" and t.loc["A", "financieringsvorm"] == "inspanning"
    assert t.loc["C", "productgroep"] == "43" and not bool(t.loc["C", "product_bekend"])
    assert t.loc["D", "productgroep"] == "41L23" and bool(t.loc["D", "product_bekend"])
    d = c.declaraties.iloc[0]
    assert d["tarief_cent"] == 10400 and d["product_tarief_cent"] == 10500
    onb = c.signalen["onbekende_producten"]
    assert onb["productcode"].tolist() == ["99Z99"] and onb["aantal"].tolist() == [1]


def test_aanbieder_contracted_part_of_year():
    aanb = AANBIEDERS + [{"agb": "44444444", "naam": "Half", "type": "micro",
                          "gecontracteerd_vanaf": "2023-07-01", "gecontracteerd_tot": None}]
    lines = [dec(toewijzing_nr="A", agb="44444444", periode_begin="2023-06-01", periode_eind="2023-06-30"),
             dec(toewijzing_nr="A", agb="44444444", periode_begin="2023-07-01", periode_eind="2023-07-31"),
             dec(toewijzing_nr="B", agb="33333333", periode_begin="2023-07-01", periode_eind="2023-07-31"),  # never
             dec(toewijzing_nr="C", agb="55555555", periode_begin="2023-07-01", periode_eind="2023-07-31")]  # unknown
    c = clean(make_ds([tw(toewijzing_nr="T1")], lines, aanbieders=aanb), P)
    d = c.declaraties
    got = dict(zip(zip(d["agb"], d["periode_begin"].dt.month), d["gecontracteerd"].astype(bool)))
    assert got == {("44444444", 6): False, ("44444444", 7): True, ("33333333", 7): False,
                   ("55555555", 7): False}
    typ = dict(zip(d["agb"], d["aanbieder_type"]))
    assert typ["44444444"] == "micro" and typ["55555555"] == "regulier"
    assert c.signalen["onbekende_aanbieders"]["agb"].tolist() == ["55555555"]


def test_exclude_agb_and_unknown_gemeente():
    p = Params("2024-08-01", start="2023-01-01", exclude_agb=("22222222",))
    ds = make_ds([tw(toewijzing_nr="T1"), tw(toewijzing_nr="T2", agb="22222222"),
                  tw(toewijzing_nr="T3", gemeentecode="0001")],
                 [dec(), dec(agb="22222222", toewijzing_nr="T2")])
    c = clean(ds, p)
    assert sorted(c.toewijzingen["toewijzing_nr"]) == ["T1", "T3"]
    assert _telling(c, "toewijzingen", "exclude_agb") == (3, 1)
    assert _telling(c, "declaraties", "exclude_agb") == (2, 1)
    t3 = c.toewijzingen.set_index("toewijzing_nr").loc["T3"]
    assert t3["regio"] == "0001"  # grouped under its own code
    assert "0001" in set(c.gemeenten["gemeentecode"])
    assert c.signalen["onbekende_gemeenten"]["gemeentecode"].tolist() == ["0001"]


def test_columns_of_contract():
    c = clean(make_ds([tw(toewijzing_nr="T1")], [dec()]), P)
    need_tw = ["einddatum_eff", "regio", "gemeentenaam", "productgroep", "financieringsvorm", "segment",
               "zwaarte", "variant", "norm_uren", "norm_maanden", "tarief_cent", "trajectprijs_cent",
               "product_bekend", "aanbieder_type", "aanbieder_bekend", *schema.TABLES["toewijzingen"]]
    assert not set(need_tw) - set(c.toewijzingen.columns)
    need_dec = ["toewijzing_nr", "client_id", "agb", "gemeentecode", "productcode", "productcategorie",
                "periode_begin", "periode_eind", "eenheid", "tarief_cent", "volume", "bedrag_cent",
                "credit_zonder_debet", "toewijzing_bekend", "regio", "gemeentenaam", "productgroep",
                "financieringsvorm", "segment", "zwaarte", "variant", "aanbieder_type", "aanbieder_bekend",
                "gecontracteerd", "maand"]
    assert not set(need_dec) - set(c.declaraties.columns)
    assert c.declaraties["maand"].iloc[0] == pd.Timestamp("2023-01-01")
    assert set(c.signalen) == {"onbekende_producten", "onbekende_aanbieders", "onbekende_gemeenten",
                               "zonder_toewijzing", "credit_zonder_debet", "geboortedatum_onbekend"}
    assert "regio" in c.start_stop.columns and "regio" in c.verzoeken.columns


def test_empty_dataset():
    c = clean(make_ds([], []), P)
    assert len(c.toewijzingen) == 0 and len(c.declaraties) == 0
    assert (c.telling["verwijderd"] == 0).all()


def test_client_nr_same_code_in_both_tables():
    ds = make_ds([tw(toewijzing_nr="T1", client_id="a"), tw(toewijzing_nr="T2", client_id="b")],
                 [dec(toewijzing_nr="T2", client_id="b"), dec(toewijzing_nr="X", client_id="c"),
                  dec(toewijzing_nr="T1", client_id="a", periode_begin="2023-02-01", periode_eind="2023-02-28")])
    c = clean(ds, P)
    codes_tw = dict(zip(c.toewijzingen["client_id"], c.toewijzingen["client_nr"]))
    codes_dec = dict(zip(c.declaraties["client_id"], c.declaraties["client_nr"]))
    assert codes_tw["a"] == codes_dec["a"] and codes_tw["b"] == codes_dec["b"]
    assert len({codes_dec["a"], codes_dec["b"], codes_dec["c"]}) == 3


def test_empty_toewijzingnummer_is_no_number():
    # "" and missing both mean "no ToewijzingNummer": keyed on client + agb, so these two lines net
    lines = [dec(toewijzing_nr="", bedrag_cent_signed=10000), dec(toewijzing_nr=None, bedrag_cent_signed=-2500)]
    c = clean(make_ds([tw(toewijzing_nr="T1")], lines), P)
    assert len(c.declaraties) == 1
    assert c.declaraties["bedrag_cent"].iloc[0] == 7500 and pd.isna(c.declaraties["toewijzing_nr"].iloc[0])


# --------------------------------------------------------------------------- helpers (speed-ups)

def test_shared_codes_one_numbering_over_columns():
    from jeugdlib.clean import _shared_codes

    a = pd.Series(["x", "y", "", None, "x"], dtype=schema.S)
    b = pd.Series(["z", "y", None, ""], dtype=schema.S)
    (ca, cb), n = _shared_codes(a, b)
    # numbered in order of first appearance over a then b; "" and NA -> -1 ("" keeps its slot)
    assert ca.tolist() == [0, 1, -1, -1, 0] and cb.tolist() == [3, 1, -1, -1] and n == 4


def test_shared_codes_of_dictionary_columns_same_as_strings():
    """Dictionary-encoded columns (jeugdlib kpi reads client_id so) get the codes
    the plain strings get: chunks with different dictionaries, unused and null
    dictionary entries, NA, "" (-1, keeping its slot) and values in both columns."""
    import pyarrow as pa

    from jeugdlib.clean import _arrow_dictionary, _shared_codes, decoded

    def dict_col(chunks):
        arrs = [pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(d, pa.string()))
                for idx, d in chunks]
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(arrs)))

    a = dict_col([([0, 1, None, 1, 3], ["x", "", "ongebruikt", "y"]),
                  ([1, 0, 2, 0], ["y", "z", None, "q"])])
    b = pd.Series(pd.array(["z", None, "w", "x", ""], dtype=schema.S))
    assert _arrow_dictionary(a) is not None and _arrow_dictionary(b) is None
    plain = decoded(a)
    assert list(plain.astype(object).where(plain.notna(), None)) == ["x", "", None, "", "y", "z", "y", None, "y"]
    (ca, cb), n = _shared_codes(a, b)
    (pa_, pb), m = _shared_codes(plain, b)
    assert list(ca) == list(pa_) == [0, -1, -1, -1, 2, 3, 2, -1, 2]
    assert list(cb) == list(pb) == [3, -1, 4, 0, -1] and n == m == 5  # x, "", y, z, w
    # as Parquet gives them: no nulls among the dictionary values (unified, not decoded)
    a2 = dict_col([([0, 1, None, 1, 3], ["x", "", "ongebruikt", "y"]), ([1, 0, 0], ["y", "z"])])
    (ca2, cb2), n2 = _shared_codes(a2, b)
    (pa2, pb2), m2 = _shared_codes(decoded(a2), b)
    assert list(ca2) == list(pa2) == [0, -1, -1, -1, 2, 3, 2, 2] and list(cb2) == list(pb2) and n2 == m2 == 5
    from jeugdlib.clean import Codes

    c_dict, c_plain = Codes(a2), Codes(decoded(a2))
    assert list(c_dict.codes) == list(c_plain.codes) and list(c_dict.uniques) == list(c_plain.uniques) == \
        ["x", "", "y", "z"]


def test_day_codes_and_month_start():
    import numpy as np
    from jeugdlib.clean import _day_codes, _month_start

    v = pd.to_datetime(pd.Series(["2023-01-31 10:00", None, "2023-01-30", "2023-02-01"]), format="ISO8601").to_numpy()
    assert _day_codes(v).tolist() == [2, 0, 1, 3]
    got = _month_start(v)
    assert [("NaT" if pd.isna(x) else str(x)[:10]) for x in pd.Series(got)] == [  # pandas 3 prints NaT as nan
        "2023-01-01", "NaT", "2023-01-01", "2023-02-01"]
    assert np.array_equal(got, v.astype("datetime64[M]").astype("datetime64[ns]"), equal_nan=True)


def test_last_of_max_takes_last_on_tie():
    import numpy as np
    from jeugdlib.clean import _last_of_max

    group = np.array([0, 1, 0, 0, 1, 2])
    value = np.array([5, 1, 7, 7, np.iinfo(np.int64).min, np.iinfo(np.int64).min])
    assert _last_of_max(group, value).tolist() == [1, 3, 5]


def test_net_items_sums_and_debet_line_first():
    import numpy as np
    from jeugdlib.clean import net_items

    d = np.array(["2023-01-01", "2023-01-01", "2023-02-01", "2023-01-01"], dtype="datetime64[ns]")
    # line 0 (credit) and 1 (debet) are one item: it takes line 1; line 2 and 3 are items of their own
    r = net_items(np.array([0, 0, 0, -1]), np.array([5, 5, 5, 6]), np.array([1, 1, 1, 1]), np.array([0, 0, 0, 0]),
                  d, d, np.array([-300, 1000, 200, 50]), np.array([-1, 2, 1, 1]))
    assert r["first"].tolist() == [1, 2, 3]
    assert r["bedrag"].tolist() == [700, 200, 50] and r["volume"].tolist() == [1, 1, 1]
    assert r["n_debet"].tolist() == [1, 1, 1] and r["n_credit"].tolist() == [1, 0, 0]


def test_code_date_pairs_dense_and_fallback_agree():
    import numpy as np
    from jeugdlib.clean import _code_date_pairs

    c = np.array([0, 1, 0, -1, 1, 0])
    whole = np.array(["2023-01-01", "2023-01-01", "2023-01-01", "NaT", "2023-03-01", "2023-03-01"],
                     dtype="datetime64[ns]")
    for dates in (whole, whole + np.timedelta64(1, "h")):  # dense path; not whole days: factorize
        key, pc_, pd_, _ = _code_date_pairs(c, dates)
        assert key[0] == key[2] and len(set(key.tolist())) == 5
        assert (pc_[key] == c).all()
        same = ~np.isnat(dates)
        assert (pd_[key][same] == dates[same]).all() and np.isnat(pd_[key][~same]).all()


def test_net_items_keep_leaves_lines_out():
    import numpy as np
    from jeugdlib.clean import net_items

    d = np.array(["2023-01-01", "2023-01-01", "2024-09-01"], dtype="datetime64[ns]")
    one = np.array([0, 0, 0])
    r = net_items(one, one, one, one, d, d, np.array([100, 100, 100]), np.array([1, 1, 1]),
                  keep=np.array([True, True, False]))
    assert r["first"].tolist() == [0] and r["bedrag"].tolist() == [200] and r["n_debet"].tolist() == [2]


def test_arrow_codes_as_factorize_with_empty_as_missing():
    import numpy as np
    import pyarrow as pa
    from jeugdlib.clean import Codes, _arrow_codes

    data = pa.chunked_array([pa.array(["b", "", None], pa.large_string()), pa.array(["a", "b", ""], pa.large_string())])
    codes, uniques = _arrow_codes(data)
    assert codes.tolist() == [0, -1, -1, 2, 0, -1] and list(uniques) == ["b", "", "a"]
    s = pd.Series(["b", "", None, "a", "b", ""], dtype=schema.S)
    want, _ = pd.factorize(s.astype(object).replace("", None), use_na_sentinel=True)
    assert np.array_equal(np.unique(codes[codes >= 0], return_inverse=True)[1], want[want >= 0])
    c = Codes(s)  # Arrow strings: the same codes
    assert c.codes.tolist() == codes.tolist() and list(c.uniques) == ["b", "", "a"]
    assert _arrow_codes(pa.array(["x", "y"], pa.large_string()))[0].tolist() == [0, 1]


def test_ouder_dan_matches_leeftijd():
    import numpy as np
    from jeugdlib.clean import _ouder_dan, leeftijd

    rng = np.random.default_rng(1)
    geb = (np.datetime64("1995-01-01") + rng.integers(0, 6000, 40)).astype("datetime64[ns]")
    geb[[3, 7]] = np.datetime64("NaT")
    geb[5] = np.datetime64("2002-02-28")
    code = rng.integers(-1, 40, 500)
    datum = (np.datetime64("2020-01-01") + rng.integers(0, 1700, 500)).astype("datetime64[ns]")
    datum[::37] = np.datetime64("NaT")
    code[:4] = 5
    datum[:4] = np.array(["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"], dtype="datetime64[ns]")
    g = np.append(geb, np.datetime64("NaT", "ns"))[np.where(code < 0, len(geb), code)]
    for max_leeftijd in (21, 17.5, 22, -2):
        want = np.nan_to_num(leeftijd(g, datum).to_numpy(), nan=-1) > max_leeftijd
        old, unknown = _ouder_dan(geb, code, datum, max_leeftijd)
        assert old.tolist() == want.tolist()
        assert unknown.tolist() == np.isnat(g).tolist()
    assert _ouder_dan(geb, code, datum, 21)[0][:4].tolist() == [False, True, True, True]  # 22 on 2024-02-28


def test_rows_filter_and_take_agree():
    import numpy as np
    from jeugdlib.clean import _rows

    df = pd.DataFrame({"s": pd.Series(["a", None, "c", "d"], dtype=schema.S),
                       "d": pd.to_datetime(pd.Series(["2023-01-01", None, "2023-03-01", "2023-04-01"])),
                       "i": pd.Series([1, 2, None, 4], dtype=schema.I)})
    for pos in ([], [2], [0, 2, 3], [3, 1]):
        pd.testing.assert_frame_equal(_rows(df, np.array(pos, dtype=np.int64)),
                                      df.take(pos).reset_index(drop=True))


def test_whole_days_and_day_range():
    import numpy as np
    from jeugdlib.clean import _day_range, _days_whole

    def _whole_days(v):
        return _days_whole(v)[2]

    v = np.array(["2023-01-02", "NaT", "1969-12-31", "2023-03-01"], dtype="datetime64[ns]")
    assert _whole_days(v) and _day_range(v, np.isnat(v)) == (-1, 19417)
    assert _whole_days(np.array([], dtype="datetime64[ns]"))
    w = v.copy()
    w[3] = np.datetime64("2023-03-01T06:00", "ns")
    assert not _whole_days(w) and _day_range(w, np.isnat(w)) == (-1, 19417)
    big = np.full(3 << 20, np.datetime64("2023-01-01", "ns"))
    big[-1] = np.datetime64("2023-01-01T00:00:01", "ns")  # in the last block
    assert not _whole_days(big)


def test_lookup_codes_of_dictionary_columns():
    """Positions in the unified dictionary (any numbering), NA and "" -> -1; plain
    strings and dictionaries holding nulls: :class:`Codes` itself."""
    import pyarrow as pa

    from jeugdlib.clean import Codes, _lookup_codes

    chunks = [pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 2], pa.int32()), pa.array(["b", "", "a"])),
              pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int32()), pa.array(["c", "a"]))]
    s = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks)))
    c = _lookup_codes(s)
    assert list(c.uniques) == ["b", "", "a", "c"]  # unified: chunk 0's, then the new ones
    assert c.codes.tolist() == [0, -1, -1, 2, 2, 3]
    plain = pd.Series(["b", "", None, "a"], dtype=schema.S)
    assert _lookup_codes(plain).codes.tolist() == Codes(plain).codes.tolist() == [0, -1, -1, 2]


def test_days_whole_and_code_date_pairs_whole_flag():
    import numpy as np
    from jeugdlib.clean import _code_date_pairs, _days_whole

    v = np.array(["2023-01-03", "NaT", "2023-01-01", "2023-01-03"], dtype="datetime64[ns]")
    days, first, whole = _days_whole(v)
    assert days.tolist() == [3, 0, 1, 3] and first == 19358 and whole  # 2023-01-01 is day 19358
    w = v.copy()
    w[0] += np.timedelta64(6, "h")
    assert _days_whole(w)[0].tolist() == [3, 0, 1, 3] and not _days_whole(w)[2]
    big = np.full((1 << 16) + 3, np.datetime64("2023-01-01", "ns"))
    big[-1] += np.timedelta64(1, "s")  # in the second block
    assert not _days_whole(big)[2]
    key, pair_c, pair_d, whole = _code_date_pairs(np.array([1, 0, 0, 1]), v)
    assert whole and key[0] == key[3] and len(set(key.tolist())) == 3 and (pair_c[key] == [1, 0, 0, 1]).all()
    assert (pair_d[key][[0, 2, 3]] == v[[0, 2, 3]]).all() and np.isnat(pair_d[key][1])


def test_rows_few_rows_by_take_and_dictionary_columns_plain():
    import numpy as np
    import pyarrow as pa
    from jeugdlib.clean import _rows

    n = 100
    d = pa.DictionaryArray.from_arrays(pa.array(np.arange(n) % 3, pa.int32()), pa.array(["x", "y", "z"]))
    df = pd.DataFrame({"k": pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([d]))),
                       "d": pd.Series(np.arange(n).astype("datetime64[D]").astype("datetime64[ns]")),
                       "i": pd.Series(np.arange(n), dtype=schema.I)})
    plain = df.assign(k=df["k"].astype(object).astype(schema.S))
    for pos in ([5, 40, 99], list(range(0, n, 2)), [7, 3]):  # few (take), many (filter), not increasing
        got = _rows(df, np.array(pos))
        assert got["k"].dtype == schema.S
        pd.testing.assert_frame_equal(got, plain.take(pos).reset_index(drop=True))


def test_aanbieder_gecontracteerd_per_pair_as_per_record():
    """Whole-day dates are checked once per (agb, day) pair; dates with a time per
    record: the same answers as the rule says (both ends inclusive)."""
    import numpy as np
    from jeugdlib.clean import aanbieder_attrs

    a = pd.DataFrame({"agb": ["1", "1", "2"], "naam": ["a", "a2", "b"], "type": ["micro", "x", "regulier"],
                      "gecontracteerd_vanaf": ["2023-01-01", "2023-07-01", None],
                      "gecontracteerd_tot": ["2023-03-31", None, None]})
    agb = pd.Series(["1", "1", "1", "2", "3", "1"], dtype=schema.S)
    days = np.array(["2023-03-31", "2023-05-01", "2023-07-01", "2023-05-01", "2023-05-01", "NaT"],
                    dtype="datetime64[ns]")
    want = [True, False, True, False, False, False]
    assert aanbieder_attrs(agb, days, a)["gecontracteerd"].tolist() == want
    late = days + np.timedelta64(1, "h")  # 2023-03-31 01:00 is after the last contracted day
    assert aanbieder_attrs(agb, late, a)["gecontracteerd"].tolist() == [False, False, True, False, False, False]
