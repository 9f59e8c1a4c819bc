"""Cleaning (metrics.md section 0): hand-worked cases, every rule counted."""

from __future__ import annotations

import pandas as pd
import pytest

from _ds_factory import AANBIEDERS, PRODUCTEN, dec, make_ds, tw
from jeugdlib import schema
from jeugdlib.clean import clean, leeftijd
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


def test_latest_version_ties_missing_stamps_and_gemeenten():
    # T1 in Venlo: a version without a stamp (oldest, though read last), two versions with
    # the same stamp (the one read last wins); T1 in Venray is another toewijzing
    ds = make_ds([
        tw(toewijzing_nr="T1", versie_ts="2023-02-01", einddatum="2023-10-31"),
        tw(toewijzing_nr="T1", versie_ts="2023-02-01", einddatum="2023-11-30"),
        tw(toewijzing_nr="T1", versie_ts="2023-01-01", einddatum="2023-12-31"),
        tw(toewijzing_nr="T1", versie_ts=None, einddatum="2024-01-31"),
        tw(toewijzing_nr="T1", gemeentecode="0984", versie_ts="2022-01-01", einddatum="2023-09-30"),
    ], [])
    c = clean(ds, P)
    t = c.toewijzingen.set_index("gemeentecode")
    assert len(t) == 2
    assert t.loc["0983", "einddatum"] == pd.Timestamp("2023-11-30")
    assert t.loc["0984", "einddatum"] == pd.Timestamp("2023-09-30")
    assert _telling(c, "toewijzingen", "oudere_versie") == (5, 3)


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
                               "zonder_toewijzing", "credit_zonder_debet", "geboortedatum_onbekend",
                               "toewijzing_meerdere_clienten", "afwijzingen"}
    assert "regio" in c.start_stop.columns and "regio" in c.verzoeken.columns


def test_empty_dataset():
    c = clean(make_ds([], []), P)
    assert len(c.toewijzingen) == 0 and len(c.declaraties) == 0
    assert (c.telling["verwijderd"] == 0).all()


def test_empty_toewijzingnummer_is_no_number():
    # "" and missing both mean "no ToewijzingNummer": keyed on client + agb, so these two lines net
    lines = [dec(toewijzing_nr="", bedrag_cent_signed=10000), dec(toewijzing_nr=None, bedrag_cent_signed=-2500)]
    c = clean(make_ds([tw(toewijzing_nr="T1")], lines), P)
    assert len(c.declaraties) == 1
    assert c.declaraties["bedrag_cent"].iloc[0] == 7500 and pd.isna(c.declaraties["toewijzing_nr"].iloc[0])


# --------------------------------------------------------------------------- helpers (speed-ups)


def test_client_nummers_follow_the_ids_and_empty_is_zero():
    """Cleaning numbers the clients in the order of their ids (KPIs count on the number);
    an empty id is 0, so a chain partition coalesce(client_nr, 0) joins it with a
    missing id as coalesce(client_id, '') did."""
    from jeugdlib import clean as clean_mod, engine

    con = engine.connect()
    ids = {"toewijzingen": ["c", "", None], "declaraties": ["a", "c"], "start_stop": ["b"], "verzoeken": []}
    for t, waarden in ids.items():
        rijen = ", ".join("(NULL::VARCHAR)" if v is None else f"('{v}')" for v in waarden) or "(NULL::VARCHAR)"
        con.execute(f"CREATE VIEW ruw_{t} AS SELECT * FROM (VALUES {rijen}) v(client_id)")
    clean_mod._client_nummers(con)
    got = dict(con.execute("SELECT client_id, client_nr FROM client_nummers").fetchall())
    assert got == {"": 0, "a": 1, "b": 2, "c": 3}


def test_cursor_sees_the_same_tables_and_a_parts_rows():
    """Cleaned.cursor(): another cursor of the same database, for a thread; on a part
    (Cleaned.deel) it sees the part's rows, not the whole."""
    ds = make_ds([tw(toewijzing_nr="T1"), tw(toewijzing_nr="T2", gemeentecode="0935", client_id="c2")],
                 [dec(), dec(toewijzing_nr="T2", gemeentecode="0935", client_id="c2")])
    c = clean(ds, P)
    deel = c.deel("gemeentecode = '0935'", "gemeentecode = '0935'")
    for bron, n in ((c, 2), (deel, 1)):
        cur = bron.cursor()
        assert cur.con is not bron.con and cur.memo is bron.memo
        for tabel in ("toewijzingen", "declaraties"):
            assert cur.con.execute(f"SELECT count(*) FROM {tabel}").fetchall()[0][0] == n
    assert deel.cursor().con.execute("SELECT DISTINCT gemeentecode FROM declaraties").fetchall() == [("0935",)]


def test_text_columns_are_enums_that_read_as_texts():
    """regio and the product texts are DuckDB ENUMs in the cleaned tables (clean.TEKST_TYPEN:
    faster grouping), with every value cleaning can give (an unknown gemeente's code, an
    unknown product's productcategorie), sorted as texts; frames and comparisons see texts."""
    from jeugdlib import engine
    from jeugdlib.clean import TEKST_TYPEN

    ds = make_ds([tw(toewijzing_nr="T1"), tw(toewijzing_nr="T2", gemeentecode="0001", client_id="c2")],
                 [dec(), dec(toewijzing_nr=None, client_id="c3", productcode="99X99", productcategorie="77")])
    c = clean(ds, P)
    typen = dict(c.con.execute("SELECT table_name || '.' || column_name, data_type FROM duckdb_columns() "
                               "WHERE table_name IN ('toewijzingen', 'declaraties')").fetchall())
    for kolom in TEKST_TYPEN:
        assert typen[f"declaraties.{kolom}"].startswith("ENUM"), kolom
        assert typen[f"toewijzingen.{kolom}"].startswith("ENUM"), kolom
    assert sorted(c.toewijzingen["regio"]) == ["0001", "Noord-Limburg"]  # the unknown code is its own regio
    assert c.toewijzingen["regio"].dtype == c.toewijzingen["gemeentecode"].dtype  # a text, not a category
    assert "77" in set(c.declaraties["productgroep"])  # unknown product: its productcategorie
    regios = [r[0] for r in c.con.execute("SELECT regio FROM toewijzingen ORDER BY regio").fetchall()]
    assert regios == sorted(regios)
    assert c.con.execute("SELECT count(*) FROM toewijzingen WHERE regio = 'Nergens'").fetchall()[0][0] == 0
    assert engine.df(c.con, "SELECT regio || '!' AS x FROM toewijzingen ORDER BY 1")["x"].tolist() == \
        ["0001!", "Noord-Limburg!"]
