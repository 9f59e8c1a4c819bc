"""Canonical tables (data-contract section 2): column names and dtypes.

One place defines what every table holds, so ingest, cleaning, metrics and tests
agree. Strings and numbers are Arrow-backed (``string[pyarrow]``,
``int64[pyarrow]``, ``double[pyarrow]``); dates are ``datetime64[ns]`` (NaT =
empty), because vectorised date arithmetic is fastest and most complete on numpy
datetimes. Amounts stay integer eurocent until a report formats them.
"""

from __future__ import annotations

import pandas as pd

S = "string[pyarrow]"
I = "int64[pyarrow]"
F = "double[pyarrow]"
B = "bool[pyarrow]"
D = "datetime64[ns]"

TABLES: dict[str, dict[str, str]] = {
    # JW301, one row per ToegewezenProduct version (all versions are kept;
    # clean.py picks the latest).
    "toewijzingen": {
        "toewijzing_nr": S,
        "versie_ts": D,  # Toewijzingsdatum + Toewijzingstijd
        "gemeentecode": S,  # 4 digits, header Afzender
        "agb": S,  # 8 digits, header Ontvanger
        "client_id": S,  # HMAC-SHA256 of the BSN (jeugdlib.privacy)
        "geboortedatum": D,
        "geslacht": S,  # COD046
        "productcategorie": S,  # JZ020, 2 digits
        "productcode": S,  # may be empty (category-level toewijzing)
        "ingangsdatum": D,
        "einddatum": D,  # NaT = open
        "reden_wijziging": S,  # JZ002, may be empty
        "volume": I,  # Omvang/Volume
        "eenheid": S,  # WJ756
        "frequentie": S,  # WMO757
        "budget_cent": I,  # Budget, eurocent
        "bron": S,  # "<file relative to dataset>#<position>"; "<archief.zip>!<member>#<position>"
        "ijw_release": S,  # "3.0", "3.1" or "3.2" (namespace of the message); empty for exports
    },
    # JW323, one row per Prestatie.
    "declaraties": {
        "declaratie_nr": S,
        "referentie_nr": S,
        "vorig_referentie_nr": S,
        "toewijzing_nr": S,  # may be empty
        "gemeentecode": S,  # header Ontvanger
        "agb": S,  # header Afzender
        "client_id": S,
        "productcategorie": S,
        "productcode": S,
        "periode_begin": D,
        "periode_eind": D,
        "volume_signed": I,  # GeleverdVolume, negative on credit
        "eenheid": S,
        "tarief_cent": I,
        "bedrag_cent_signed": I,  # IngediendBedrag: debet positive, credit negative
        "bron": S,
        "declaratiedatum": D,  # DeclaratieDagtekening (metrics.md 0.2, receipt)
        "ijw_release": S,  # "3.0", "3.1", "3.2"; empty for exports
    },
    # JW325, one row per rejected prestatie (referentie_nr empty: the whole declaration).
    "afwijzingen": {
        "agb": S,
        "gemeentecode": S,
        "declaratie_nr": S,
        "referentie_nr": S,
        "toewijzing_nr": S,
        "retourcodes": S,  # RetourCode values joined with ","
        "bedrag_cent_signed": I,
        "antwoorddatum": D,  # header Dagtekening
        "bron": S,
        "ijw_release": S,
    },
    # JW305 (start) and JW307 (stop).
    "start_stop": {
        "bericht": S,  # JW305 or JW307
        "toewijzing_nr": S,
        "gemeentecode": S,
        "agb": S,
        "client_id": S,
        "productcategorie": S,
        "productcode": S,
        "begindatum": D,
        "einddatum": D,  # JW307 only
        "reden_beeindiging": S,  # JZ588, JW307 only
        "bron": S,
        "status_aanlevering": S,  # 1 new, 3 delete (metrics.md 0.2b)
        "ijw_release": S,
    },
    # JW315, one row per requested product.
    "verzoeken": {
        "gemeentecode": S,
        "agb": S,
        "client_id": S,
        "productcategorie": S,
        "productcode": S,
        "verwijzer_type": S,  # COD327
        "bron": S,
        # ToewijzingIngangsdatum of the requested product: the period a verzoek
        # belongs to (metrics/verwijzer.py). Added after the others; may be empty.
        "ingangsdatum": D,
        "ijw_release": S,
    },
    # Every input record that could not be used.
    "quarantaine": {
        "bestand": S,  # file relative to the dataset
        "positie": S,  # record position, e.g. "Client 3/Prestatie 2" or "regel 14"
        "invoer": S,  # input kind: JW301, JW323, ..., export:declaraties, referentie:producten
        "regel": S,  # rule broken, a short id, e.g. "bsn_elfproef", "xml_onleesbaar"
        "melding": S,  # one-line human message
        "waarde": S,  # raw value (never a BSN in clear: BSN-rules store "<ongeldig>")
        "bedrag_cent": I,  # amount involved, where known (declarations)
    },
    # Counts per input kind: read = kept + quarantined (+ skipped messages).
    "ingest_telling": {
        "invoer": S,
        "gelezen": I,
        "behouden": I,
        "quarantaine": I,
        "overgeslagen": I,
        # iJw release of the messages counted in this row ("3.0", "3.1", "3.2"; "2.4" for
        # skipped older ones); empty for exports, reference tables, other standards and files
        # that could not be read. One row per (invoer, ijw_release).
        "ijw_release": S,
    },
    # Reference tables, normalised (amounts in eurocent, dates as dates).
    "producten": {
        "productcode": S,
        "productcategorie": S,
        "omschrijving": S,
        "segment": S,
        "productgroep": S,
        "financieringsvorm": S,  # inspanning | traject | plek | taak
        "zwaarte": S,  # licht | midden | zwaar | <NA>
        "variant": S,  # maatwerk | meerwerk | <NA>
        "norm_uren": F,
        "norm_maanden": F,
        "tarief_cent": I,  # per eenheid (inspanning)
        "trajectprijs_cent": I,  # per whole traject
        "geldig_vanaf": D,
        "geldig_tot": D,
    },
    "aanbieders": {
        "agb": S,
        "naam": S,
        "type": S,  # micro | regulier
        "gecontracteerd_vanaf": D,
        "gecontracteerd_tot": D,
    },
    "gemeenten": {
        "gemeentecode": S,
        "gemeentenaam": S,
        "regio_code": S,
        "regio_naam": S,
    },
    "plekken": {
        "agb": S,
        "productcode": S,
        "jaar": I,
        "plekken": F,
        "prijs_per_plek_cent": I,
    },
    "budgetplafonds": {
        "agb": S,
        "jaar": I,
        "plafond_cent": I,
        "productcode": S,
        "gemeentecode": S,
    },
    "bevolking": {
        "gemeentecode": S,
        "jaar": I,
        "jeugdigen": I,
    },
}

#: Tables that must be present (with at least the header) in every processed dataset.
REQUIRED = ("toewijzingen", "declaraties", "start_stop", "verzoeken", "quarantaine",
            "ingest_telling", "producten", "aanbieders", "gemeenten")

#: The long KPI table (data-contract 3.1), in output order.
KPI_COLUMNS: dict[str, str] = {
    "kpi": S,
    "regio": S,
    "gemeente": S,  # "" for a regio or Nederland total
    "periode": S,  # "2023", "2023-Q2", "2023-05"
    "dimensie": S,  # "" or "name=value"
    "waarde": F,
    "eenheid": S,  # aantal | euro | fractie | maanden
    "voorlopig": B,
    "onderdrukt": B,
}
#: Internal column carried by KPI rows before suppression: the number of distinct
#: clients the value is computed over (or counts, for client counts). Dropped on output.
KPI_N = "n_clienten"


def empty(table: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of a canonical table."""
    cols = TABLES[table] if table in TABLES else KPI_COLUMNS
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})


def _is_arrow_string(dtype) -> bool:
    import pyarrow as pa

    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                 or pa.types.is_large_string(dtype.pyarrow_dtype))


def conform(df: pd.DataFrame, table: str, *, extra: bool = False) -> pd.DataFrame:
    """Return ``df`` with exactly the canonical columns (in order) and dtypes.

    Missing columns are added empty. With ``extra=True`` columns beyond the
    canonical ones are kept after them.
    """
    cols = TABLES[table]
    out = {}
    for c, t in cols.items():
        if c in df.columns:
            s = df[c]
            if t == D:
                if s.dtype != "datetime64[ns]":
                    s = pd.to_datetime(s, errors="raise")
                    if getattr(s.dt, "tz", None) is not None:
                        s = s.dt.tz_localize(None)
                    s = s.astype(D)
            elif s.dtype != pd.api.types.pandas_dtype(t):
                if t == S and _is_arrow_string(s.dtype):
                    # zero-copy: Parquet read with dtype_backend="pyarrow" gives
                    # (large_)string[pyarrow]; astype would go through Python objects
                    s = pd.Series(pd.arrays.ArrowStringArray(s.array._pa_array), index=s.index, name=s.name)
                else:
                    s = s.astype(t)
            out[c] = s.reset_index(drop=True)
        else:
            out[c] = pd.Series(pd.NaT if t == D else pd.NA, index=pd.RangeIndex(len(df)), dtype=t)  # no list per row
    res = pd.DataFrame(out)
    if extra:
        for c in df.columns:
            if c not in cols:
                res[c] = df[c].reset_index(drop=True)
    return res
