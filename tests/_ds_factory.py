"""Build tiny canonical datasets by hand for metric tests (hand-worked cases).

Only the fields a test cares about need to be given; the rest get harmless
defaults. Dates are ISO strings.
"""

from __future__ import annotations

import pandas as pd

from jeugdlib import schema
from jeugdlib.dataset import Dataset

GEMEENTEN = [
    {"gemeentecode": "0983", "gemeentenaam": "Venlo", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
    {"gemeentecode": "0984", "gemeentenaam": "Venray", "regio_code": "JZ37", "regio_naam": "Noord-Limburg"},
    {"gemeentecode": "0935", "gemeentenaam": "Maastricht", "regio_code": "JZ41", "regio_naam": "Zuid-Limburg"},
]

PRODUCTEN = [
    {"productcode": "45A53", "productcategorie": "45", "omschrijving": "GGZ Zwaar", "segment": "4 - Ambulant",
     "productgroep": "GGZ", "financieringsvorm": "traject", "zwaarte": "zwaar", "variant": None,
     "norm_uren": 45.0, "norm_maanden": 12.0, "tarief_cent": None, "trajectprijs_cent": 500000,
     "geldig_vanaf": "2020-01-01", "geldig_tot": None},
    {"productcode": "45A48", "productcategorie": "45", "omschrijving": "GGZ maatwerk", "segment": "4 - Ambulant",
     "productgroep": "GGZ", "financieringsvorm": "inspanning", "zwaarte": None, "variant": "maatwerk",
     "norm_uren": None, "norm_maanden": None, "tarief_cent": 10000, "trajectprijs_cent": None,
     "geldig_vanaf": "2020-01-01", "geldig_tot": None},
    {"productcode": "41L23", "productcategorie": "41", "omschrijving": "Dagbesteding", "segment": "3 - Dag",
     "productgroep": None, "financieringsvorm": "inspanning", "zwaarte": None, "variant": "meerwerk",
     "norm_uren": None, "norm_maanden": None, "tarief_cent": 5000, "trajectprijs_cent": None,
     "geldig_vanaf": "2020-01-01", "geldig_tot": None},
]

AANBIEDERS = [
    {"agb": "11111111", "naam": "Groot", "type": "regulier",
     "gecontracteerd_vanaf": "2020-01-01", "gecontracteerd_tot": None},
    {"agb": "22222222", "naam": "Klein", "type": "micro",
     "gecontracteerd_vanaf": "2020-01-01", "gecontracteerd_tot": None},
    {"agb": "33333333", "naam": "NGA", "type": "regulier",
     "gecontracteerd_vanaf": None, "gecontracteerd_tot": None},
]

TW_DEFAULT = {
    "versie_ts": "2022-01-01", "gemeentecode": "0983", "agb": "11111111", "client_id": "c1",
    "geboortedatum": "2012-06-15", "geslacht": "1", "productcategorie": "45", "productcode": "45A53",
    "ingangsdatum": "2023-01-01", "einddatum": None, "reden_wijziging": None, "volume": 10,
    "eenheid": "04", "frequentie": "6", "budget_cent": None, "bron": "test",
}

DEC_DEFAULT = {
    "declaratie_nr": "d", "referentie_nr": None, "vorig_referentie_nr": None, "toewijzing_nr": "T1",
    "gemeentecode": "0983", "agb": "11111111", "client_id": "c1", "productcategorie": "45",
    "productcode": "45A53", "periode_begin": "2023-01-01", "periode_eind": "2023-01-31",
    "volume_signed": 1, "eenheid": "04", "tarief_cent": 10000, "bedrag_cent_signed": 10000, "bron": "test",
}


def frame(rows: list[dict], table: str, defaults: dict | None = None) -> pd.DataFrame:
    rows = [{**(defaults or {}), **r} for r in rows]
    if not rows:
        return schema.empty(table)
    df = pd.DataFrame(rows)
    for c, t in schema.TABLES[table].items():
        if t == schema.D and c in df.columns:
            df[c] = pd.to_datetime(df[c], format="ISO8601")
    return schema.conform(df, table)


def tw(**kw) -> dict:
    """One toewijzing row (defaults from TW_DEFAULT)."""
    return {**TW_DEFAULT, **kw}


def dec(**kw) -> dict:
    """One declaration line (defaults from DEC_DEFAULT)."""
    return {**DEC_DEFAULT, **kw}


def make_ds(toewijzingen=(), declaraties=(), *, producten=None, aanbieders=None, gemeenten=None,
            bevolking=(), start_stop=(), plekken=(), budgetplafonds=(), afwijzingen=()) -> Dataset:
    ds = Dataset(
        toewijzingen=frame(list(toewijzingen), "toewijzingen", TW_DEFAULT),
        declaraties=frame(list(declaraties), "declaraties", DEC_DEFAULT),
        start_stop=frame(list(start_stop), "start_stop"),
        verzoeken=schema.empty("verzoeken"),
        quarantaine=schema.empty("quarantaine"),
        ingest_telling=schema.empty("ingest_telling"),
        producten=frame(PRODUCTEN if producten is None else producten, "producten"),
        aanbieders=frame(AANBIEDERS if aanbieders is None else aanbieders, "aanbieders"),
        gemeenten=frame(GEMEENTEN if gemeenten is None else gemeenten, "gemeenten"),
        plekken=frame(list(plekken), "plekken"),
        budgetplafonds=frame(list(budgetplafonds), "budgetplafonds"),
        bevolking=frame(list(bevolking), "bevolking"),
    )
    ds.afwijzingen = frame(list(afwijzingen), "afwijzingen")  # JW325 (read by the engine when present)
    return ds
