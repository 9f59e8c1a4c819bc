"""Cleaning rules for real berichtenverkeer (metrics.md 0.1, 0.2, 0.2b), hand-worked.

Each case states its arithmetic. Gemeenten 0983 Venlo and 0984 Venray (Noord-Limburg).
Peildatum 2024-08-01.
"""

from __future__ import annotations

import pandas as pd

from _ds_factory import dec, make_ds, tw
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import volume

P = Params("2024-08-01", start="2023-01-01")


def _telling(c, tabel, regel):
    t = c.telling
    row = t[(t["tabel"] == tabel) & (t["regel"] == regel)]
    return int(row["voor"].iloc[0]), int(row["verwijderd"].iloc[0])


def _kosten(c, gemeente=""):
    d = c.declaraties
    if gemeente:
        d = d[d["gemeentecode"] == gemeente]
    return int(d["bedrag_cent"].sum())


def test_two_gemeenten_share_a_toewijzingnummer():
    """Venlo and Venray both use number 300201 (OP275: unique per gemeente only).
    Venlo's has two versions (the later one wins); Venray's one. -> 2 toewijzingen,
    1 older version; each gemeente's declaration links to its own toewijzing."""
    ds = make_ds([
        tw(toewijzing_nr="300201", gemeentecode="0983", client_id="a", versie_ts="2023-01-01"),
        tw(toewijzing_nr="300201", gemeentecode="0983", client_id="a", versie_ts="2023-02-01", einddatum="2023-12-31"),
        tw(toewijzing_nr="300201", gemeentecode="0984", client_id="b", versie_ts="2023-03-01"),
    ], [
        dec(toewijzing_nr="300201", gemeentecode="0983", client_id="a", bedrag_cent_signed=10000),
        dec(toewijzing_nr="300201", gemeentecode="0984", client_id="b", bedrag_cent_signed=25000),
    ])
    c = clean(ds, P)
    assert _telling(c, "toewijzingen", "oudere_versie") == (3, 1)  # 3 rows, 2 toewijzingen
    assert sorted(c.toewijzingen["gemeentecode"]) == ["0983", "0984"]
    venlo = c.toewijzingen[c.toewijzingen["gemeentecode"] == "0983"].iloc[0]
    assert venlo["einddatum"] == pd.Timestamp("2023-12-31")
    # netting keeps the gemeenten apart: 100 EUR in Venlo, 250 EUR in Venray
    assert _kosten(c, "0983") == 10000 and _kosten(c, "0984") == 25000
    assert c.declaraties["toewijzing_bekend"].all()
    k = volume.toewijzingen(c)
    assert float(k[(k["regio"] == "Noord-Limburg") & (k["gemeente"] == "") & (k["periode"] == "2023")]
                 ["waarde"].iloc[0]) == 2


def test_two_clients_on_one_toewijzing_stay_apart_and_are_listed():
    """The standard's example JW323 declares toewijzing 10073 for two BSNs. Client a's
    debet 100 and client b's credit 100 must NOT net to zero: 2 items; b's line is not
    the toewijzing's own client, so it counts as an unknown toewijzing."""
    ds = make_ds([tw(toewijzing_nr="10073", client_id="a")], [
        dec(toewijzing_nr="10073", client_id="a", bedrag_cent_signed=10000),
        dec(toewijzing_nr="10073", client_id="b", bedrag_cent_signed=-10000),
    ])
    c = clean(ds, P)
    assert len(c.declaraties) == 2
    assert _kosten(c) == 0  # +100 - 100, as two items
    bekend = dict(zip(c.declaraties["client_id"], c.declaraties["toewijzing_bekend"]))
    assert bekend == {"a": True, "b": False}
    m = c.signalen["toewijzing_meerdere_clienten"]
    assert m[["toewijzing_nr", "clienten"]].values.tolist() == [["10073", 2]]


def test_rejected_line_and_rejected_declaration_are_left_out():
    """Declaration D1 has lines R1 (100) and R2 (200); the JW325 rejects R1.
    Declaration D2 (400) is rejected whole. A rejection dated on the peildatum does
    not count yet: D3 (800) stays. Cost = 200 + 800 = 1000 EUR; 2 lines removed."""
    lines = [
        dec(declaratie_nr="D1", referentie_nr="R1", bedrag_cent_signed=10000, periode_begin="2023-01-01"),
        dec(declaratie_nr="D1", referentie_nr="R2", bedrag_cent_signed=20000, periode_begin="2023-02-01",
            periode_eind="2023-02-28"),
        dec(declaratie_nr="D2", referentie_nr="R3", bedrag_cent_signed=40000, periode_begin="2023-03-01",
            periode_eind="2023-03-31"),
        dec(declaratie_nr="D3", referentie_nr="R4", bedrag_cent_signed=80000, periode_begin="2023-04-01",
            periode_eind="2023-04-30"),
    ]
    afw = [
        {"agb": "11111111", "gemeentecode": "0983", "declaratie_nr": "D1", "referentie_nr": "R1",
         "retourcodes": "8001", "bedrag_cent_signed": 10000, "antwoorddatum": "2023-02-10"},
        {"agb": "11111111", "gemeentecode": "0983", "declaratie_nr": "D2", "referentie_nr": None,
         "retourcodes": "0001", "bedrag_cent_signed": 40000, "antwoorddatum": "2023-04-10"},
        {"agb": "11111111", "gemeentecode": "0983", "declaratie_nr": "D3", "referentie_nr": "R4",
         "retourcodes": "8001", "bedrag_cent_signed": 80000, "antwoorddatum": "2024-08-01"},
    ]
    c = clean(make_ds([tw(toewijzing_nr="T1")], lines, afwijzingen=afw), P)
    assert _telling(c, "declaraties", "afgewezen") == (4, 2)
    assert _kosten(c) == 20000 + 80000
    assert c.heeft_afwijzingen
    # per RetourCode, answers before the peildatum only: R1 (8001) and D2 (0001); D3's answer is too late
    per_code = dict(zip(c.signalen["afwijzingen"]["retourcode"], c.signalen["afwijzingen"]["regels"]))
    assert per_code == {"8001": 1, "0001": 1}


def test_declaration_dated_on_or_after_peildatum_does_not_count():
    """Two lines for July 2024: one declared 2024-07-31 (counts), one declared on the
    peildatum 2024-08-01 (not yet received as of the peildatum). A line without a
    declaratiedatum is kept."""
    ds = make_ds([tw(toewijzing_nr="T1")], [
        dec(periode_begin="2024-07-01", periode_eind="2024-07-15", bedrag_cent_signed=10000,
            declaratiedatum="2024-07-31"),
        dec(periode_begin="2024-07-16", periode_eind="2024-07-31", bedrag_cent_signed=30000,
            declaratiedatum="2024-08-01"),
        dec(periode_begin="2024-06-01", periode_eind="2024-06-30", bedrag_cent_signed=5000),
    ])
    c = clean(ds, P)
    assert _telling(c, "declaraties", "ingediend_na_peildatum") == (3, 1)
    assert _kosten(c) == 10000 + 5000


def test_status_3_cancels_the_record_it_deletes():
    """JW305 start 2023-01-01 (status 1), then a deletion (status 3) of it, then the
    corrected start 2023-01-15 (status 1). The first two are left out: 3 read, 2 removed."""
    ss = [
        {"bericht": "JW305", "toewijzing_nr": "T1", "gemeentecode": "0983", "agb": "11111111",
         "begindatum": "2023-01-01", "status_aanlevering": "1"},
        {"bericht": "JW305", "toewijzing_nr": "T1", "gemeentecode": "0983", "agb": "11111111",
         "begindatum": "2023-01-01", "status_aanlevering": "3"},
        {"bericht": "JW305", "toewijzing_nr": "T1", "gemeentecode": "0983", "agb": "11111111",
         "begindatum": "2023-01-15", "status_aanlevering": "1"},
    ]
    c = clean(make_ds([tw(toewijzing_nr="T1")], [], start_stop=ss), P)
    assert _telling(c, "start_stop", "start_stop_verwijderd") == (3, 2)
    assert c.start_stop["begindatum"].tolist() == [pd.Timestamp("2023-01-15")]


def test_status_3_only_cancels_what_was_read_before_it_and_matches_empty_keys():
    """T1: start (1), deletion (3), the same start sent again (1, read after the
    deletion: kept). Without a ToewijzingNummer: start (1) and its deletion (3) match on
    the empty number. A JW307 with the same key is another message: kept."""
    base = {"bericht": "JW305", "toewijzing_nr": "T1", "gemeentecode": "0983", "agb": "11111111",
            "begindatum": "2023-01-01"}
    ss = [{**base, "status_aanlevering": "1"}, {**base, "status_aanlevering": "3"},
          {**base, "status_aanlevering": "1"},
          {**base, "toewijzing_nr": None, "status_aanlevering": "1"},
          {**base, "toewijzing_nr": None, "status_aanlevering": "3"},
          {**base, "bericht": "JW307", "status_aanlevering": "1"}]
    c = clean(make_ds([tw(toewijzing_nr="T1")], [], start_stop=ss), P)
    assert _telling(c, "start_stop", "start_stop_verwijderd") == (6, 4)
    assert sorted(c.start_stop["bericht"]) == ["JW305", "JW307"]
    assert c.start_stop["toewijzing_nr"].tolist() == ["T1", "T1"]


def test_year_9999_means_no_end(tmp_path):
    """einddatum 9999-12-31 (stored as a date in Parquet) is an open toewijzing: active
    until the day before the peildatum."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from jeugdlib import dataset

    out = tmp_path / "ds"
    dataset.save(make_ds([tw(toewijzing_nr="T1")]), out)
    f = dataset.table_path(out, "toewijzingen")
    t = pq.read_table(f)
    i = t.schema.get_field_index("einddatum")
    t = t.set_column(i, pa.field("einddatum", pa.date32()), pa.array([dt.date(9999, 12, 31)], pa.date32()))
    pq.write_table(t, f)
    c = clean(out, P)
    row = c.toewijzingen.iloc[0]
    assert pd.isna(row["einddatum"])
    assert row["einddatum_eff"] == pd.Timestamp("2024-07-31")


def test_stored_run_tables_give_a_regions_own_counts(tmp_path):
    """The quarterly run stores the cleaned tables once; a region's view of them has the
    same cleaning counts and rows as cleaning that region alone. Venlo: 2 versions of T1
    (1 older) and a zero line; Venray: one toewijzing and one line."""
    from jeugdlib import clean as clean_mod

    ds = make_ds([tw(toewijzing_nr="T1", gemeentecode="0983", versie_ts="2023-01-01"),
                  tw(toewijzing_nr="T1", gemeentecode="0983", versie_ts="2023-02-01"),
                  tw(toewijzing_nr="T9", gemeentecode="0984", client_id="c9")],
                 [dec(toewijzing_nr="T1", gemeentecode="0983", bedrag_cent_signed=10000),
                  dec(toewijzing_nr="T1", gemeentecode="0983", bedrag_cent_signed=0, periode_begin="2023-02-01",
                      periode_eind="2023-02-28"),
                  dec(toewijzing_nr="T9", gemeentecode="0984", client_id="c9", bedrag_cent_signed=5000)])
    heel = clean(ds, P)
    clean_mod.bewaar(heel, tmp_path)
    venlo = clean_mod.opgeslagen(tmp_path, ds, P, ["0983"])
    alleen = clean(ds, P, gemeenten=["0983"])
    pd.testing.assert_frame_equal(venlo.telling, alleen.telling)
    assert _telling(venlo, "toewijzingen", "oudere_versie") == (2, 1)
    assert _telling(venlo, "declaraties", "netto_nul_bedrag") == (2, 1)
    assert _telling(heel, "toewijzingen", "oudere_versie") == (3, 1)
    assert list(venlo.declaraties["bedrag_cent"]) == list(alleen.declaraties["bedrag_cent"]) == [10000]
