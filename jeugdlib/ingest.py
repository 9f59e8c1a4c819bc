"""Ingest: a dataset directory -> canonical tables, quarantine and counts (data-contract 1-2).

``jeugdlib ingest DATASET`` reads every iJw message under ``berichten/`` (JW301,
JW305, JW307, JW315, JW323, JW325 of releases 3.0, 3.1 and 3.2, read alike: the
elements read sit at the same paths; the release is kept per record in
``ijw_release``), loose or as members of ``*.zip`` archives (``bron`` =
``archief.zip!pad/bericht.xml#positie``), the flat exports under ``export/`` and
the reference tables under ``referentie/``, and writes the canonical tables of
:mod:`jeugdlib.schema` as Parquet to ``data/processed/<name>`` (a new version,
switched into place whole). Other message types, iJw 2.x and other
iStandaarden (iWmo) are skipped and counted per kind (``iWmo:WMO301``, or the
type with its release), not quarantined.

Records and rules
-----------------
A record is one ToegewezenProduct (JW301), StartProduct/StopProduct
(JW305/307), AangevraagdProduct (JW315), Prestatie (JW323), rejected Prestatie
or DeclaratieAntwoord granted nothing (JW325) or one row of an export or
reference file. A record that breaks a rule goes to ``quarantaine``
with the first rule it breaks; the rest of its file is kept. Rules:

=====================  ================================================================
``bestand_leeg``       empty file (the file is one record)
``codering_ongeldig``  not UTF-8 (the file is one record)
``xml_onleesbaar``     malformed or truncated XML (the file is one record)
``namespace_onbekend`` not an iStandaarden message at all (the file is one record)
``zip_onleesbaar``     a ``.zip`` that is no readable archive, or a member that cannot be
                       unpacked (CRC error, ...): the archive or member is one record
``csv_onleesbaar``,    a flat file that cannot be parsed at all (the file is one record)
``xlsx_onleesbaar``
``kolom_ontbreekt``    export without a required column (every row)
``kolommen_ongeldig``  CSV line with the wrong number of fields
``element_ontbreekt``  required XML element missing (``waarde_ontbreekt`` for flat files)
``bsn_elfproef``       BSN fails the elfproef (value stored as ``<ongeldig>``)
``datum_ongeldig``     a date (or time) that does not exist, e.g. 2027-06-31 (an end date in
                       year 9999 is not: it means "no end" and is kept empty)
``getal_ongeldig``     not a whole number / amount
``code_onbekend``      value not in its iJw code list (:mod:`jeugdlib.ijw.codes`)
``formaat_ongeldig``   gemeentecode not 4 digits, AGB not 8 digits, client_id not a pseudonym
``periode_ongeldig``   Prestatie with einddatum before begindatum
``xsd_ongeldig``       (only with ``--xsd``) message does not validate; its other records
``dubbel_bericht``     same BerichtIdentificatie + Afzender + type, or byte-identical file,
                       as an earlier file (in path order): all its records
``bestand_onleesbaar`` a file or folder that cannot be read: no permission, I/O error, a
                       path too long, a symbolic link that is broken or loops (one record)
``geen_bestand``       not a regular file, e.g. a FIFO or a socket (one record; never opened)
=====================  ================================================================

Skipped messages count as ``overgeslagen``. ``ingest_telling`` holds per input
kind and iJw release ``gelezen = behouden + quarantaine + overgeslagen``, checked
in code. Quarantined declarations keep their signed
amount in ``bedrag_cent``.

Privacy (data-contract 2.1): the BSN is checked (elfproef) and hashed with the
local key during ingest and never written; names, addresses and Commentaar are
never read. Numbers of nine digits in file names (``bron``, ``bestand``)
and in quarantine messages and values are masked (:func:`jeugdlib.privacy.mask_bsn`);
validator messages are reduced to the rule and the element; raw CSV lines are
never stored.

Publishing (data-contract 2.2): the tables are built in a new version folder
and switched into place in one step by :class:`jeugdlib.dataset.Publication`,
under a lock; the output records source, time, version and key fingerprint,
and writing into an output of another source or key stops with one line.

Speed and memory: large messages are read by the vectorised reader of
:mod:`jeugdlib.ijw.reader` in blocks; small ones of one type are read in batches
of up to ``SMALL_BATCH_FILES`` by the same reader (libxml2 checks them in one
pass), and what it does not read exactly by lxml, one by one. Records are
checked and converted in batches (:func:`convert`). The files are listed as they
are read (a dataset of millions of messages is never listed whole) and split into
chunks (about ``CHUNK_BYTES`` or ``CHUNK_FILES`` each) that run in this process
and a process pool (all cores by default). Every chunk spills its kept records to
Arrow IPC files beside the output, and keeps per file only counts and, for the
duplicate check, a small Parquet file of keys that DuckDB reads at the end. The
merge streams the spills in path order into Parquet with row groups of exactly
``ROW_GROUP`` rows, dropping or moving the records of failed, XSD-invalid and
duplicate messages on the way. So memory grows neither with the size of a
message nor with the number of files, and the bytes written do not depend on
batches, chunks or the number of processes. Every table is written aside and
renamed into place only when all of them are complete.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import dataclasses
import errno
import functools
import hashlib
import io
import itertools
import math
import multiprocessing as mp
import os
import shutil
import stat
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None

from . import config, dataset, exports, privacy, schema
from .errors import JeugdlibError
from .exports import Checker
from .ijw import reader, validate
from .ijw.reader import SPECS

S, I = schema.S, schema.I
BATCH_SIZE = 50_000
#: Below this many bytes of messages a dataset is read in one process by default (starting
#: the process pool costs about a second of CPU: the pool imports pandas, pyarrow, lxml).
PARALLEL_MIN_BYTES = 32 << 20
#: A chunk (one task of the process pool) holds about this many bytes or files at most.
CHUNK_BYTES = 128 << 20
CHUNK_FILES = 20_000
#: A dataset of at least this many message files is listed as it is read (see :class:`_Messages`).
STREAM_MIN_FILES = 40_000
#: Small messages of one type are read in batches of at most this many (see :func:`_ingest_chunk_once`).
SMALL_BATCH_FILES = 1024

_TABLE_OF_EXPORT = {"toewijzingen": "toewijzingen", "declaraties": "declaraties", "start_stop": "start_stop"}
_RECORD_NAME = {"JW301": "ToegewezenProduct", "JW305": "StartProduct", "JW307": "StopProduct",
                "JW315": "AangevraagdProduct", "JW323": "Prestatie", "JW325": "Prestatie"}


# --------------------------------------------------------------------------- result

@dataclasses.dataclass
class IngestResult:
    """What an ingest produced: where it went, its counts and quarantine.

    ``dataset`` (all canonical tables) is read back from ``out_dir`` on first
    use: the ingest itself streams the large tables to Parquet and never holds
    them whole.
    """

    out_dir: Path
    telling: pd.DataFrame
    quarantaine: pd.DataFrame
    seconds: float
    workers: int
    n_berichten: int
    n_exports: int
    #: CPU seconds and peak RSS (MB) of the pool processes (0 when everything ran in this process)
    worker_cpu: float = 0.0
    worker_rss_mb: float = 0.0
    _dataset: dataset.Dataset | None = dataclasses.field(default=None, repr=False)

    @property
    def dataset(self) -> dataset.Dataset:
        """The canonical tables as written (loaded from ``out_dir`` on first use)."""
        if self._dataset is None:
            self._dataset = dataset.load(self.out_dir)
        return self._dataset

    @property
    def behouden(self) -> int:
        """Records kept from messages and exports (reference tables not counted)."""
        t = self.telling
        data = ~t["invoer"].str.startswith("referentie:")
        return int(t.loc[data, "behouden"].sum())

    def meldingen(self, limit: int | None = None) -> list[str]:
        """One line per quarantined record: ``<file>: <position>: <message>``."""
        q = self.quarantaine if limit is None else self.quarantaine.head(limit)
        return (q["bestand"].astype(str) + ": " + q["positie"].astype(str) + ": "
                + q["melding"].astype(str)).tolist()

    def summary(self) -> str:
        """Short text summary: counts per input kind, quarantine per rule."""
        lines = [f"Ingest -> {self.out_dir}  ({self.n_berichten} berichten, {self.n_exports} exports, "
                 f"{self.seconds:.1f} s, {self.workers} proces{'sen' if self.workers != 1 else ''})"]
        t = self.telling.copy()
        tot = {"invoer": "totaal", **{c: int(t[c].sum()) for c in ("gelezen", "behouden", "quarantaine",
                                                                     "overgeslagen")}}
        t = pd.concat([t, pd.DataFrame([tot])], ignore_index=True)
        lines.append(t.astype(str).to_string(index=False))
        q = self.quarantaine
        if len(q):
            g = (q.assign(bedrag=q["bedrag_cent"].astype("float64") / 100)
                 .groupby(["invoer", "regel"], sort=True, observed=True)
                 .agg(aantal=("regel", "size"), bedrag_euro=("bedrag", lambda x: x.sum(min_count=1)))
                 .reset_index())
            g["bedrag_euro"] = g["bedrag_euro"].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}".replace(
                ",", "_").replace(".", ",").replace("_", "."))
            lines.append("Quarantaine per regel:")
            lines.append(g.to_string(index=False))
        else:
            lines.append("Quarantaine: geen records.")
        return "\n".join(lines)


# --------------------------------------------------------------------------- names and faults


class OutputError(Exception):
    """Writing our own files failed (e.g. a full disk) while reading an input file.

    Raised through the reader so that it is not taken for an unreadable input
    file; :func:`ingest` raises the original :class:`OSError` again."""

    def __init__(self, exc: OSError):
        super().__init__(str(exc))
        self.exc = exc


def shown_name(rel: str) -> str:
    """A file name as it may be written (``bestand``, ``bron``, stderr): valid UTF-8 (bytes of
    a name that is not are shown as U+FFFD) and numbers of nine digits masked."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        rel = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return privacy.mask_bsn(rel)


def unreadable_message(exc: OSError) -> str:
    """One line for an input file or folder that cannot be read."""
    why = exc.strerror or type(exc).__name__
    return f"onleesbaar ({why}); controleer de rechten, de schijf en de naam van het bestand"


# --------------------------------------------------------------------------- record conversion

def _xml_labels(bericht: str) -> dict[str, str]:
    return reader.FIELD_LABELS[bericht]


def _client(ck: Checker, key: bytes, xml: bool) -> pd.Series:
    if xml or "bsn" in ck.raw.columns or "client_id" not in ck.raw.columns:
        return ck.bsn(key)
    return ck.client_id()


def _ints(ck: Checker, col: str, xml: bool, *, signed: bool = False) -> pd.Series:
    return ck.integer(col, signed=signed and not xml, lenient=not xml)


def _money_col(ck: Checker, base: str, xml: bool) -> pd.Series:
    """XML: integer eurocent in ``base``. Export: ``<base>_cent`` (cent) or ``<base>`` (euro)."""
    if xml:
        return ck.integer(base)
    for name in (f"{base}_cent_signed", f"{base}_cent"):
        if name in ck.raw.columns:
            return ck.integer(name, signed=True, lenient=True)
    for name in (f"{base}_signed", base):
        if name in ck.raw.columns:
            return ck.euro(name)
    return pd.Series(pd.NA, index=ck.raw.index, dtype=exports.IA)


def _first_col(ck: Checker, *names: str) -> str:
    for n in names:
        if n in ck.raw.columns:
            return n
    return names[0]


def convert(table: str, kind: str, raw: pd.DataFrame, key: bytes, *, xml: bool) -> tuple[pd.DataFrame, Checker]:
    """Check and type one batch of raw records into canonical columns.

    ``raw`` holds text columns named as in :data:`jeugdlib.ijw.reader.SPECS`
    (XML, ``xml=True``, plus ``gemeentecode``/``agb`` from the header) or as the
    canonical columns (flat exports). Returns the canonical frame (all rows,
    unusable values empty) and the :class:`Checker` holding each row's first
    broken rule. Vectorised: a fixed sequence of column checks per batch.
    """
    labels = _xml_labels(kind) if xml else {}
    ck = Checker(raw, labels)
    pad = not xml
    miss = "element_ontbreekt" if xml else "waarde_ontbreekt"
    date = (lambda c: ck.date(c, dutch=not xml))
    out: dict[str, pd.Series] = {}
    if table == "declaraties":
        vol_col = "volume" if xml else _first_col(ck, "volume_signed", "volume")
        bedrag_col = "bedrag" if xml else _first_col(ck, "bedrag_cent_signed", "bedrag_cent", "bedrag_signed",
                                                       "bedrag")
        req = ["gemeentecode", "agb", "bsn" if xml else _first_col(ck, "bsn", "client_id"), "productcode",
               "periode_begin", "periode_eind", bedrag_col]
        if xml:
            req += ["referentie_nr", "toewijzing_nr", "productcategorie", "volume", "eenheid", "debet_credit"]
        ck.required(*req, rule=miss)
        client_id = _client(ck, key, xml)
        pb, pe = date("periode_begin"), date("periode_eind")
        vol = _ints(ck, vol_col, xml, signed=True)
        tarief = _money_col(ck, "tarief", xml)
        bedrag = _money_col(ck, "bedrag", xml)
        if xml:
            ck.integer("toewijzing_nr")
        ck.code("productcategorie", pad=pad)
        ck.code("eenheid", pad=pad)
        dc = ck.code("debet_credit", pad=pad) if ("debet_credit" in raw.columns) else None
        gem = ck.digits("gemeentecode", 4, "gemeentecode", pad=pad)
        agb = ck.digits("agb", 8, "AGB-code", pad=pad)
        ck.fail((pe < pb).fillna(False).to_numpy(dtype=bool), "periode_ongeldig",
                f"{ck.label('periode_eind')} ligt voor {ck.label('periode_begin')}")
        sign = pd.Series(np.where((dc == "C").fillna(False).to_numpy(dtype=bool), -1, 1) if dc is not None
                         else np.ones(len(raw), dtype=np.int64), index=raw.index, dtype=exports.IA)
        out = {
            "declaratie_nr": ck.col("declaratie_nr"),
            "referentie_nr": ck.col("referentie_nr"),
            "vorig_referentie_nr": ck.col("vorig_referentie_nr"),
            "toewijzing_nr": exports.norm_nummer(ck.col("toewijzing_nr")),
            "gemeentecode": gem, "agb": agb, "client_id": client_id,
            "productcategorie": exports.zero_pad(ck.col("productcategorie"), 2) if pad else ck.col("productcategorie"),
            "productcode": ck.col("productcode"),
            "periode_begin": pb, "periode_eind": pe,
            "volume_signed": vol * sign,
            "eenheid": exports.zero_pad(ck.col("eenheid"), 2) if pad else ck.col("eenheid"),
            "tarief_cent": tarief,
            "bedrag_cent_signed": bedrag * sign,
            "declaratiedatum": date("declaratiedatum"),
        }
    elif table == "toewijzingen":
        idc = "bsn" if xml else _first_col(ck, "bsn", "client_id")
        if xml:
            ck.required("gemeentecode", "agb", idc, "toewijzing_nr", "toewijzingsdatum", "toewijzingstijd",
                        "ingangsdatum", rule=miss)
            omvang = (ck.col("volume").notna() | ck.col("eenheid").notna() | ck.col("frequentie").notna())
            ck.required("volume", "eenheid", "frequentie", rule=miss, when=omvang.to_numpy(dtype=bool))
        else:
            ck.required("gemeentecode", "agb", idc, "toewijzing_nr", "ingangsdatum", rule=miss)
        client_id = _client(ck, key, xml)
        if xml:
            d, t = date("toewijzingsdatum"), None
            tt, tbad = exports.parse_time(ck.col("toewijzingstijd"))
            ck.bad("toewijzingstijd", tbad, "datum_ongeldig", "is geen geldige tijd")
            versie = d + tt
        elif "versie_ts" not in raw.columns and "toewijzingsdatum" in raw.columns:
            d = date("toewijzingsdatum")
            tt, tbad = exports.parse_time(ck.col("toewijzingstijd"))
            ck.bad("toewijzingstijd", tbad, "datum_ongeldig", "is geen geldige tijd")
            versie = d + tt.fillna(pd.Timedelta(0))
        else:
            versie = _datetime(ck, "versie_ts")
        ing, eind, geb = date("ingangsdatum"), ck.date("einddatum", dutch=not xml, open_end=True), date("geboortedatum")
        if xml:
            ck.integer("toewijzing_nr")
        vol = _ints(ck, "volume", xml)
        budget = _money_col(ck, "budget", xml)
        for c in ("productcategorie", "reden_wijziging", "eenheid", "frequentie", "geslacht"):
            out[c] = ck.code(c, pad=pad)
        gem = ck.digits("gemeentecode", 4, "gemeentecode", pad=pad)
        agb = ck.digits("agb", 8, "AGB-code", pad=pad)
        out.update({
            "toewijzing_nr": exports.norm_nummer(ck.col("toewijzing_nr")), "versie_ts": versie,
            "gemeentecode": gem, "agb": agb, "client_id": client_id, "geboortedatum": geb,
            "productcode": ck.col("productcode"), "ingangsdatum": ing, "einddatum": eind,
            "volume": vol, "budget_cent": budget,
        })
    elif table == "start_stop":
        idc = "bsn" if xml else _first_col(ck, "bsn", "client_id")
        req = ["agb", idc, "begindatum"] + (["gemeentecode"] if xml else ["toewijzing_nr"])
        if kind == "JW307":
            req += ["reden_beeindiging", "einddatum"]
        ck.required(*req, rule=miss)
        client_id = _client(ck, key, xml)
        if xml:
            date("toewijzing_ingangsdatum")
            date("geboortedatum")
        beg, eind = date("begindatum"), ck.date("einddatum", dutch=not xml, open_end=True)
        status = ck.vocab("status_aanlevering", ("1", "2", "3"))
        if xml:
            ck.integer("toewijzing_nr")
            ck.code("geslacht")
        cat = ck.code("productcategorie", pad=pad)
        reden = ck.code("reden_beeindiging", pad=pad)
        gem = ck.digits("gemeentecode", 4, "gemeentecode", pad=pad)
        agb = ck.digits("agb", 8, "AGB-code", pad=pad)
        if xml:
            bericht = pd.Series(kind, index=raw.index, dtype=S)
        else:
            b = ck.col("bericht").str.upper()
            bericht = b.fillna(pd.Series(np.where(eind.notna(), "JW307", "JW305"), index=raw.index, dtype=S))
            ck.fail((~bericht.isin(["JW305", "JW307"])).to_numpy(dtype=bool), "code_onbekend",
                    lambda m: "bericht '" + bericht[m].astype(object).astype(str) + "' is niet JW305 of JW307",
                    lambda m: bericht[m])
        out = {
            "bericht": bericht, "toewijzing_nr": exports.norm_nummer(ck.col("toewijzing_nr")),
            "gemeentecode": gem, "agb": agb, "client_id": client_id, "productcategorie": cat,
            "productcode": ck.col("productcode"), "begindatum": beg, "einddatum": eind,
            "reden_beeindiging": reden, "status_aanlevering": status,
        }
    elif table == "verzoeken":
        ck.required("gemeentecode", "agb", "bsn", "toewijzing_ingangsdatum", "verwijzer_type", rule=miss)
        client_id = _client(ck, key, xml)
        date("beschikking_ingangsdatum")
        ing = date("toewijzing_ingangsdatum")
        ck.date("toewijzing_einddatum", open_end=True)
        date("geboortedatum")
        ck.integer("volume")
        for c in ("productcategorie", "eenheid", "frequentie", "geslacht"):
            ck.code(c)
        vt = ck.code("verwijzer_type")
        gem = ck.digits("gemeentecode", 4, "gemeentecode")
        agb = ck.digits("agb", 8, "AGB-code")
        out = {
            "gemeentecode": gem, "agb": agb, "client_id": client_id,
            "productcategorie": ck.col("productcategorie"), "productcode": ck.col("productcode"),
            "verwijzer_type": vt, "ingangsdatum": ing,
        }
    elif table == "afwijzingen":
        # JW325: a Prestatie row needs its ReferentieNummer, a whole-declaration row (position
        # 0/0) has none; both need the amount and at least one RetourCode
        whole = (raw["_rec"] == 0).to_numpy(dtype=bool) if "_rec" in raw.columns else np.zeros(len(raw), bool)
        ck.required("gemeentecode", "agb", "declaratie_nr", "bedrag", "debet_credit", "retourcodes",
                    "antwoorddatum", rule=miss)
        ck.required("referentie_nr", "toewijzing_nr", rule=miss, when=~whole)
        bedrag = ck.integer("bedrag")
        dc = ck.code("debet_credit")
        ck.fail((~ck.col("retourcodes").fillna("").str.fullmatch(r"\d{4}(,\d{4})*")
                 & ck.col("retourcodes").notna()).to_numpy(dtype=bool), "code_onbekend",
                lambda m: "RetourCode '" + ck.col("retourcodes")[m].astype(object).astype(str)
                + "' is geen viercijferige code", lambda m: ck.col("retourcodes")[m])
        toew = ck.col("toewijzing_nr")
        ck.integer("toewijzing_nr")
        sign = pd.Series(np.where((dc == "C").fillna(False).to_numpy(dtype=bool), -1, 1), index=raw.index,
                         dtype=exports.IA)
        out = {
            "agb": ck.digits("agb", 8, "AGB-code"), "gemeentecode": ck.digits("gemeentecode", 4, "gemeentecode"),
            "declaratie_nr": ck.col("declaratie_nr"), "referentie_nr": ck.col("referentie_nr"),
            "toewijzing_nr": exports.norm_nummer(toew), "retourcodes": ck.col("retourcodes"),
            "bedrag_cent_signed": bedrag * sign, "antwoorddatum": date("antwoorddatum"),
        }
    else:  # pragma: no cover
        raise KeyError(table)
    if "ijw_release" in raw.columns:
        out["ijw_release"] = ck.col("ijw_release")
    df = pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in out.items()})
    return schema.conform(df, table), ck


def _datetime(ck: Checker, col: str) -> pd.Series:
    """Export timestamps: a date (YYYY-MM-DD or DD-MM-YYYY) with an optional HH:MM[:SS]."""
    s = ck.col(col)
    parts = s.str.extract(r"^(\S+)(?:[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$")
    d, dbad = exports.parse_date(parts[0].astype(S))
    tm = parts[1].astype(S)
    tm = tm.where(~tm.str.fullmatch(r"\d{1,2}:\d{2}").fillna(False), tm + ":00")
    tm = tm.str.zfill(8).where(tm.notna())
    t, tbad = exports.parse_time(tm.astype(S))
    bad = (s.notna() & parts[0].isna()).to_numpy(dtype=bool) | dbad | tbad
    ck.bad(col, bad, "datum_ongeldig", "is geen geldig tijdstip")
    return d + t.fillna(pd.Timedelta(0))


def _positie(bericht: str, client: np.ndarray, rec: np.ndarray) -> pa.Array:
    """Record positions, e.g. 'Client 2/Prestatie 5' or 'ToegewezenProduct 3' (Arrow kernels)."""
    name = _RECORD_NAME[bericht]
    cli = pc.cast(pa.array(client, pa.int64()), pa.string())
    rec_s = pc.cast(pa.array(rec, pa.int64()), pa.string())
    with_client = pc.binary_join_element_wise("Client ", cli, f"/{name} ", rec_s, "")
    if bericht == "JW323":
        return with_client
    if bericht == "JW325":  # client 0: the DeclaratieAntwoord itself (declaration rejected whole)
        return pc.if_else(pc.equal(pa.array(client, pa.int64()), 0), pa.scalar("DeclaratieAntwoord"), with_client)
    plain = pc.binary_join_element_wise(f"{name} ", rec_s, "")
    return pc.if_else(pc.equal(pa.array(client, pa.int64()), 1), plain, with_client)


def _take(values: list, idx: np.ndarray) -> pd.Series:
    """Per-file values (header fields, paths) broadcast to records by file index."""
    arr = pc.utf8_trim_whitespace(pa.array(values, pa.string())).take(pa.array(idx))
    return pd.Series(pd.arrays.ArrowExtensionArray(arr)).astype(S)


def _convert_xml_batch(bericht: str, batch: pa.Table, infos: list, rels: list[str], first_idx: int,
                       key: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reader batch of one message type -> (kept rows with helper columns, quarantine rows)."""
    spec = SPECS[bericht]
    raw = batch.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    local = raw["_file"].to_numpy(dtype=np.int64)
    raw[spec.afzender] = _take([i.afzender for i in infos], local)
    raw[spec.ontvanger] = _take([i.ontvanger for i in infos], local)
    if bericht == "JW323":
        raw["declaratie_nr"] = _take([i.declaratie_nr for i in infos], local)
        raw["declaratiedatum"] = _take([i.declaratiedatum for i in infos], local)
    elif bericht == "JW325":
        raw["declaratie_nr"] = _take([i.declaratie_nr for i in infos], local)
        raw["antwoorddatum"] = _take([i.dagtekening for i in infos], local)
    raw["ijw_release"] = _take([i.release for i in infos], local)
    df, ck = convert(spec.table, bericht, raw, key, xml=True)
    positie_pa = _positie(bericht, raw["_client"].to_numpy(), raw["_rec"].to_numpy())
    bestand_pa = pa.array(rels, pa.string()).take(pa.array(local))
    positie = pd.Series(pd.arrays.ArrowExtensionArray(positie_pa)).astype(S)
    bestand = pd.Series(pd.arrays.ArrowExtensionArray(bestand_pa)).astype(S)
    gfile = local + first_idx
    df["bron"] = pd.Series(pd.arrays.ArrowExtensionArray(
        pc.binary_join_element_wise(bestand_pa, positie_pa, "#"))).astype(S)
    df["_file"] = gfile
    df["_positie"] = positie
    df["_invoer"] = bericht
    ok = ck.ok
    q = ck.quarantine(bestand=bestand, positie=positie, invoer=bericht,
                      bedrag_cent=df["bedrag_cent_signed"] if bericht == "JW323" else None)
    q["_file"] = gfile[~ok]
    q["_release"] = raw["ijw_release"][~ok].reset_index(drop=True)
    return df[ok].reset_index(drop=True), q


# --------------------------------------------------------------------------- worker

#: Tables the messages fill; they are streamed (spilled per chunk, then written in row groups).
STREAMED = ("toewijzingen", "declaraties", "start_stop", "verzoeken", "afwijzingen")
_HELPERS = {"_file": pa.int64(), "_positie": pa.large_string(), "_invoer": pa.large_string()}


@functools.lru_cache(maxsize=None)
def _arrow_schema(table: str, helpers: bool = False) -> pa.Schema:
    """The Arrow schema a canonical table is written with (plus the helper columns)."""
    sch = pa.Table.from_pandas(schema.empty(table), preserve_index=False).schema.remove_metadata()
    if helpers:
        for name, typ in _HELPERS.items():
            sch = sch.append(pa.field(name, typ))
    return sch


class _Spill:
    """Kept records of one chunk, per message type, in uncompressed Arrow IPC files (flat memory).

    Each file holds its records in file order; :func:`_merge_by_file` merges the
    message types of one table (JW305 and JW307) back into path order.
    """

    def __init__(self, folder: Path, tag: str):
        self.folder, self.tag = Path(folder), tag
        self.writers: dict[str, pa.ipc.RecordBatchFileWriter] = {}
        self.paths: dict[str, str] = {}

    def add(self, bericht: str, df: pd.DataFrame) -> None:
        if not len(df):
            return
        table = SPECS[bericht].table
        sch = _arrow_schema(table, helpers=True)
        cols = schema.conform(df, table, extra=True)
        t = pa.Table.from_pandas(cols[sch.names], preserve_index=False).replace_schema_metadata(None).cast(sch)
        w = self.writers.get(bericht)
        if w is None:
            path = self.folder / f"{self.tag}_{bericht}.arrow"
            self.folder.mkdir(parents=True, exist_ok=True)
            w = self.writers[bericht] = pa.ipc.new_file(str(path), sch)
            self.paths[bericht] = str(path)
        w.write_table(t)

    def close(self) -> dict[str, str]:
        for w in self.writers.values():
            w.close()
        self.writers = {}
        return self.paths

    def discard(self) -> None:
        self.close()
        for path in self.paths.values():
            Path(path).unlink(missing_ok=True)
        self.paths = {}


def _ingest_chunk(root: str, rels: list[str], first_idx: int, key: bytes, xsd_dir: str | None,
                  spill_dir: str, batch_size: int = BATCH_SIZE, progress=None) -> dict:
    """Read a run of message files (one worker task). Returns what :func:`_ingest_chunk_once` returns.

    The vectorised reader hands a file it cannot read exactly to lxml; when it
    had already handed on records of that file the chunk is read again with
    that file on lxml (rare: only odd XML constructs).
    """
    cpu0 = time.process_time()
    slow: set[int] = set()
    while True:
        try:
            out = _ingest_chunk_once(root, rels, first_idx, key, xsd_dir, spill_dir, batch_size, progress, slow)
            break
        except reader.Unsupported as exc:
            slow.add(exc.file_idx)
    _release_memory()
    out.update(pid=os.getpid(), cpu=time.process_time() - cpu0,
               maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if resource else 0.0)
    return out


def _release_memory() -> None:
    """Hand memory freed by a chunk back to the system (Arrow's pool and glibc's heap keep it
    otherwise), so that a process reading chunk after chunk stays at the size of one chunk."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


class _ChunkFiles:
    """What a chunk keeps per message file, compactly (a dataset holds millions of files).

    * ``counts``: (input kind, iJw release) -> [gelezen, overgeslagen], for ``ingest_telling``;
    * the files that could not be read (``failed``), as quarantine rows built here;
    * the files read whole (status ok) with their duplicate keys, written to a small
      Parquet file beside the spills (``path``): the duplicate check over all chunks runs
      on those files at the end (:func:`_duplicates`), so no process holds a row per file;
    * ``xsd``: (file, bestand, message) of the messages that do not validate (``--xsd``).
    """

    _OK_COLUMNS = ("_file", "bestand", "invoer", "afzender", "identificatie", "sha256")

    def __init__(self):
        self.counts: dict[tuple[str, str], list[int]] = {}
        self.failed: list[tuple] = []
        self.ok: dict[str, list] = {c: [] for c in self._OK_COLUMNS}
        self.xsd: list[tuple[int, str, str]] = []

    def count(self, invoer: str, release: str | None, gelezen: int, overgeslagen: int) -> None:
        c = self.counts.setdefault((invoer, release or ""), [0, 0])
        c[0] += gelezen
        c[1] += overgeslagen

    def read(self, gfile: int, bestand: str, info: reader.MessageInfo) -> None:
        """A message read (kept or skipped)."""
        invoer = _invoer_of(info)
        if info.status == "overgeslagen":
            self.count(invoer, info.release, 1, 1)
            return
        self.count(invoer, info.release, info.n_records, 0)
        for c, v in zip(self._OK_COLUMNS, (gfile, bestand, invoer, info.afzender, info.identificatie, info.sha256)):
            self.ok[c].append(v)

    def fail(self, gfile: int, bestand: str, invoer: str, regel: str, melding: str, release: str | None) -> None:
        """A file that could not be read: one quarantined record."""
        self.count(invoer, release, 1, 0)
        self.failed.append((gfile, bestand, invoer, regel, melding, release))

    def failed_ids(self) -> set[int]:
        return {f[0] for f in self.failed}

    def quarantine(self) -> pd.DataFrame | None:
        if not self.failed:
            return None
        cols = list(zip(*self.failed))
        return schema.conform(pd.DataFrame({
            "bestand": pd.Series(cols[1], dtype=S), "positie": "bestand", "invoer": pd.Series(cols[2], dtype=S),
            "regel": pd.Series(cols[3], dtype=S), "melding": pd.Series(cols[4], dtype=S), "waarde": None,
            "bedrag_cent": None, "_file": np.asarray(cols[0], dtype=np.int64),
            "_release": pd.Series(cols[5], dtype=S)}), "quarantaine", extra=True)

    def write_ok(self, path: Path) -> str | None:
        """The files read whole, with 64-bit hashes of their duplicate keys, as Parquet (or None)."""
        if not self.ok["_file"]:
            return None
        key64 = [_hash64(f"{i}\x1f{a}\x1f{n}") if a is not None and n is not None else 0
                 for i, a, n in zip(self.ok["invoer"], self.ok["afzender"], self.ok["identificatie"])]
        sha64 = [int(h[:15], 16) if h else 0 for h in self.ok["sha256"]]
        t = pa.table({"_file": pa.array(self.ok["_file"], pa.int64()),
                      **{c: pa.array(self.ok[c], pa.string()) for c in self._OK_COLUMNS[1:]},
                      "key64": pa.array(key64, pa.int64()), "sha64": pa.array(sha64, pa.int64())})
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(t, str(path), compression="zstd")
        return str(path)


def _ingest_chunk_once(root: str, rels: list[str], first_idx: int, key: bytes, xsd_dir: str | None,
                       spill_dir: str, batch_size: int, progress, slow: set[int]) -> dict:
    """One pass over a chunk. Returns the spill files of its kept records (per message type),
    its quarantine (with helper columns ``_file`` and ``_release``), the per-file summary of
    :class:`_ChunkFiles` (``counts``, ``failed``, ``xsd``, ``files``: the Parquet file of the
    files read whole) and ``n`` (files).

    Small messages are read in batches of one type and root tag (:func:`reader.read_batch`,
    :data:`SMALL_BATCH_FILES` at most); the rest, and a batch the vectorised reader leaves
    to lxml, one file at a time. A message type's records reach its sink in path order:
    its pending batch is read before a message of that type (or of a type not known
    beforehand) is read on its own.
    """
    infos: list[reader.MessageInfo] = []
    done: list[str] = []
    spill = _Spill(Path(spill_dir), f"{first_idx:07d}")
    quar: list[pd.DataFrame] = []
    files = _ChunkFiles()
    batching = xsd_dir is None and SMALL_BATCH_FILES > 1
    pending: dict[str, tuple[reader.BatchKey, list[tuple[int, bytes, int, int]]]] = {}

    def make_on_batch(bericht):
        def on_batch(table: pa.Table) -> None:
            k, q = _convert_xml_batch(bericht, table, infos, done, first_idx, key)
            try:
                spill.add(bericht, k)
            except OSError as exc:  # writing our own files (a full disk): not the input's fault
                raise OutputError(exc) from exc
            quar.append(q)
        return on_batch

    sinks = {b: reader.Sink(spec, batch_size, make_on_batch(b)) for b, spec in SPECS.items()}

    def fail(i: int, exc: Exception) -> None:
        gfile, shown = first_idx + i, done[i]
        if isinstance(exc, reader.MessageError):
            known = exc.bericht if exc.bericht in SPECS else None
            files.fail(gfile, shown, known or ("zip" if exc.regel == "zip_onleesbaar" else "xml"), exc.regel,
                       exc.melding, infos[i].release)
        elif isinstance(exc, OSError):  # reading the input failed (rights, I/O error, name too long)
            files.fail(gfile, shown, "xml", "bestand_onleesbaar", unreadable_message(exc), None)
        else:  # odd XML the reader did not foresee: this file only
            files.fail(gfile, shown, "xml", "xml_onleesbaar",
                       f"bericht onleesbaar ({type(exc).__name__}, bv. een niet-gedeclareerd "
                       f"namespace-voorvoegsel); controleer het bestand", None)

    def read_one(i: int, source, fast: bool | None) -> None:
        """One message on its own (lxml for a small one, the block reader for a large one)."""
        gfile, shown = first_idx + i, done[i]
        try:
            got, _ = reader.read_message(source, file_idx=i, sinks=sinks, batch_size=batch_size,
                                         info=infos[i], fast=fast)
            melding = None
            if got.status != "overgeslagen" and xsd_dir and got.release == "3.2":
                # the XSDs given are those of 3.2
                src = source if isinstance(source, str) else io.BytesIO(source)
                melding = validate.validate_file(src, xsd_dir, got.bericht)
            files.read(gfile, shown, got)
            if melding is not None:
                files.xsd.append((gfile, shown, melding))
        except (reader.Unsupported, OutputError):
            raise
        except Exception as exc:  # noqa: BLE001 - see fail()
            fail(i, exc)

    def read_run(bkey: reader.BatchKey, run: list[tuple[int, bytes, int, int]]) -> None:
        """Well-formed messages of one batch key at once; halves, at last one by one, when the
        vectorised reader leaves them to lxml."""
        if not run:
            return
        try:
            reader.read_batch(bkey, [d for _i, d, _s, _e in run], [e for _i, _d, _s, e in run],
                              [i for i, _d, _s, _e in run], [infos[i] for i, _d, _s, _e in run], sinks[bkey.bericht])
        except OutputError:
            raise
        except Exception:  # noqa: BLE001 - reader.Unsupported, or a case it did not foresee: smaller
            for i, d, _s, _e in run:  # afresh: nothing was handed on
                infos[i] = reader.MessageInfo()
                reader.batch_key(d, infos[i])
            if len(run) == 1:
                read_one(run[0][0], run[0][1], False)
            else:
                read_run(bkey, run[: len(run) // 2])
                read_run(bkey, run[len(run) // 2:])
            return
        for i, d, _s, _e in run:
            info = infos[i]
            info.sha256 = hashlib.sha256(d).hexdigest()
            files.read(first_idx + i, done[i], info)

    def flush(bericht: str) -> None:
        """Read the pending batch of a message type."""
        bkey, items = pending.pop(bericht)
        parts = [d[s:] for _i, d, s, _e in items]
        good = [True] * len(items) if reader.wellformed(parts) else [reader.wellformed([p]) for p in parts]
        run: list[tuple[int, bytes, int, int]] = []
        for item, ok in zip(items, good):
            if ok:
                run.append(item)
                continue
            read_run(bkey, run)
            run = []
            read_one(item[0], item[1], False)  # not well-formed: lxml says why
        read_run(bkey, run)

    archives = _Archives(root, rels)
    try:
        for i, rel in enumerate(rels):
            infos.append(reader.MessageInfo())
            done.append(shown_name(rel))
            try:
                source = archives.source(rel, i)
            except (reader.Unsupported, OutputError):
                raise
            except Exception as exc:  # noqa: BLE001 - see fail()
                fail(i, exc)
                source = None
            if source is not None:
                got = None
                if batching and i not in slow and isinstance(source, bytes):
                    try:
                        got = reader.batch_key(source, infos[i])
                    except Exception:  # noqa: BLE001 - a case it did not foresee: read_message tells
                        infos[i] = reader.MessageInfo()
                if got is not None:
                    start, end, bkey = got
                    entry = pending.get(bkey.bericht)
                    if entry is not None and entry[0] != bkey:
                        flush(bkey.bericht)
                        entry = None
                    if entry is None:
                        entry = pending[bkey.bericht] = (bkey, [])
                    entry[1].append((i, source, start, end))
                    if len(entry[1]) >= SMALL_BATCH_FILES:
                        flush(bkey.bericht)
                else:
                    bericht = reader.bericht_of(source) if isinstance(source, bytes) else None
                    for b in ([bericht] if bericht is not None else list(pending)):
                        if b in pending:
                            flush(b)
                    read_one(i, source, False if i in slow else None)
            if progress is not None:
                progress(1)
        for b in list(pending):
            flush(b)
        try:
            for s in sinks.values():
                s.flush()
            ok_path = files.write_ok(Path(spill_dir) / f"{first_idx:07d}_files.parquet")
        except OSError as exc:
            raise OutputError(exc) from exc
    except BaseException:  # reader.Unsupported (read again) or a real error: nothing of this pass stays
        spill.discard()
        raise
    finally:
        archives.close()
    q = pd.concat(quar, ignore_index=True) if quar else None
    failed = files.failed_ids()
    if q is not None and failed:
        q = q[~q["_file"].isin(list(failed))].reset_index(drop=True)
    fq = files.quarantine()
    if fq is not None:
        q = fq if q is None else pd.concat([q, fq], ignore_index=True)
    # rows of files that failed half-way stay in the spill; the merge drops them (``failed``)
    return {"spill": spill.close(), "quarantaine": q, "counts": files.counts,
            "failed": np.asarray(sorted(failed), dtype=np.int64), "xsd": files.xsd, "files": ok_path,
            "n": len(rels)}


_STANDAARD = {"ijw": "iJw", "iwmo": "iWmo", "iwlz": "iWlz"}


def _invoer_of(info: reader.MessageInfo) -> str:
    """Input kind of a message: its type (``JW323``), ``iWmo:WMO301`` for another standard."""
    if info.standaard not in (None, "ijw"):
        return f"{_STANDAARD.get(info.standaard, info.standaard)}:{info.bericht}"
    return info.bericht


#: ``<archive>.zip!<member>``: a message inside a zip archive under ``berichten/``.
ZIP_SEP = "!"


#: Small message files are read ahead by this many threads, up to this many files ahead of
#: the parser: a dataset of millions of small files waits on the disk one file at a time
#: otherwise (the threads keep several reads outstanding while this one parses).
PREFETCH_THREADS = 4
PREFETCH_FILES = 64
#: Files per read-ahead task (one hand-over between threads per block, not per file).
PREFETCH_BLOCK = 16


def _read_small(path: str) -> bytes | None:
    """The bytes of a file of at most ``reader.WHOLE_MAX_BYTES`` (None when it is larger),
    read with few system calls (open, fstat, read, close: millions of small files)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        if size > reader.WHOLE_MAX_BYTES:
            return None
        data = os.read(fd, size + 1)
        if len(data) > size:  # it grew since: read on to the end, as a read() would
            parts = [data]
            while chunk := os.read(fd, 1 << 16):
                parts.append(chunk)
            data = b"".join(parts)
        return data
    finally:
        os.close(fd)


def _load(path: str):
    """The bytes of a small file, or its path (large file, or an error the parser meets again)."""
    try:
        data = _read_small(path)
    except OSError:
        return path
    return path if data is None else data


def _load_block(paths: list[str | None]) -> list:
    return [_load(p) if p is not None else None for p in paths]


class _Archives:
    """Sources of message files for one chunk: a path or the bytes of a small file (read
    ahead in threads), or the bytes of a zip member (each archive opened once per chunk).
    An unreadable archive or member raises :class:`reader.MessageError` with rule
    ``zip_onleesbaar``."""

    def __init__(self, root: str, rels: list[str] | None = None):
        self.root = root
        self.open: dict[str, zipfile.ZipFile | None] = {}
        self.rels = rels or []
        self.ahead: dict[int, cf.Future] = {}
        self.next = 0
        self.pool = (cf.ThreadPoolExecutor(PREFETCH_THREADS, thread_name_prefix="jeugdlib-lees")
                     if PREFETCH_THREADS > 0 and len(self.rels) > 1 else None)

    def _prefetch(self, upto: int) -> None:
        """Submit read-ahead blocks (of loose files; zip members are read here) up to ``upto``."""
        while self.next < min(upto, len(self.rels)):
            k = self.next
            block = self.rels[k: k + PREFETCH_BLOCK]
            self.next += len(block)
            paths = [os.path.join(self.root, r) if _split_zip(r)[0] is None else None for r in block]
            if any(p is not None for p in paths):
                self.ahead[k] = self.pool.submit(_load_block, paths)

    def source(self, rel: str, i: int | None = None):
        zrel, member = _split_zip(rel)
        if zrel is None:
            if self.pool is not None and i is not None:
                self._prefetch(i + PREFETCH_FILES)
                k = i - i % PREFETCH_BLOCK
                fut = self.ahead.get(k)
                for old in [b for b in self.ahead if b < k]:  # blocks left behind (zip members)
                    del self.ahead[old]
                if fut is not None:
                    got = fut.result()[i - k]
                    if got is not None:
                        return got
            return os.path.join(self.root, rel)
        zf = self.open.get(zrel)
        if zf is None:
            try:
                zf = self.open[zrel] = zipfile.ZipFile(os.path.join(self.root, zrel))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise reader.MessageError("zip_onleesbaar", f"zip-archief onleesbaar ({_zip_reason(exc)})") from None
        if member is None:  # pragma: no cover - a readable archive is listed member by member
            raise reader.MessageError("zip_onleesbaar", "zip-archief zonder berichten")
        try:
            return zf.read(member)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
                zlib.error, KeyError) as exc:
            raise reader.MessageError("zip_onleesbaar",
                                      f"bericht in zip-archief onleesbaar ({_zip_reason(exc)})") from None

    def close(self) -> None:
        if self.pool is not None:
            for fut in self.ahead.values():
                fut.cancel()
            self.pool.shutdown(wait=True)
            self.pool = None
            self.ahead = {}
        for zf in self.open.values():
            if zf is not None:
                zf.close()
        self.open = {}


def _zip_reason(exc: BaseException) -> str:
    """A short reason without quoting file names (they may hold a BSN)."""
    text = str(exc).lower()
    if "crc" in text:
        return "CRC-fout: beschadigd"
    if "encrypt" in text or "password" in text:
        return "versleuteld"
    if "compression" in text or isinstance(exc, NotImplementedError):
        return "onbekende compressiemethode"
    if isinstance(exc, zipfile.BadZipFile) or isinstance(exc, zlib.error) or isinstance(exc, EOFError):
        return "geen geldig of een afgebroken zip-bestand"
    return type(exc).__name__


def _split_zip(rel: str) -> tuple[str | None, str | None]:
    """(archive path, member) of ``a/b.zip!c/d.xml``; (archive, None) for a bare ``.zip``; (None, None) else."""
    low = rel.lower()
    k = low.find(".zip" + ZIP_SEP)
    if k >= 0:
        return rel[: k + 4], rel[k + 5:]
    if low.endswith(".zip"):
        return rel, None
    return None, None


def _chunked(rels: list[str], sizes: list[int], n_chunks: int) -> list[tuple[int, list[str]]]:
    """Contiguous runs of files with about equal bytes: [(first index, files)]."""
    if not rels:
        return []
    total = sum(sizes) or 1
    target = total / max(1, n_chunks)
    chunks, cur, acc, start = [], [], 0.0, 0
    for i, (r, s) in enumerate(zip(rels, sizes)):
        cur.append(r)
        acc += s
        if acc >= target and i < len(rels) - 1:
            chunks.append((start, cur))
            start, cur, acc = i + 1, [], 0.0
    if cur:
        chunks.append((start, cur))
    return chunks


class _Messages:
    """The message files of a dataset, listed as they are read (flat memory).

    The first :data:`STREAM_MIN_FILES` are listed at once. A dataset with fewer files
    is split into chunks of about equal bytes, several per process (balance); a larger
    one is streamed in chunks of :data:`CHUNK_FILES` files or :data:`CHUNK_BYTES` bytes,
    listed (in a thread) while earlier chunks are read, so that no process holds the
    list of millions of paths. ``count`` and ``bad`` (entries that cannot be read,
    sorted) are complete once the chunks have all been handed out.
    """

    def __init__(self, root: Path):
        self.bad: list[tuple[str, str, str]] = []
        self._it = _iter_messages(root, self.bad)
        self.head = list(itertools.islice(self._it, STREAM_MIN_FILES))
        self.streaming = len(self.head) >= STREAM_MIN_FILES
        self.count = 0 if self.streaming else len(self.head)
        if not self.streaming:
            self.bad.sort()

    @property
    def head_bytes(self) -> int:
        return sum(size for _r, size in self.head)

    def chunks(self, workers: int):
        """``(first index, paths)`` per chunk: a list, or a generator when streaming."""
        if not self.streaming:
            rels = [r for r, _s in self.head]
            sizes = [s for _r, s in self.head]
            n_chunks = min(len(rels), max(workers * 4 if workers > 1 else 1, math.ceil(sum(sizes) / CHUNK_BYTES),
                                          math.ceil(len(rels) / CHUNK_FILES)))
            return _chunked(rels, sizes, n_chunks)
        return self._stream()

    def _stream(self):
        first, cur, acc = 0, [], 0
        head, self.head = self.head, []
        for rel, size in itertools.chain(head, self._it):
            cur.append(rel)
            acc += size
            if len(cur) >= CHUNK_FILES or acc >= CHUNK_BYTES:
                yield first, cur
                first, cur, acc = first + len(cur), [], 0
        if cur:
            yield first, cur
        self.count = first + len(cur)
        self.bad.sort()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def _mp_context():
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["jeugdlib.ingest"])
        return ctx
    return mp.get_context("spawn")


def _read_messages(root: Path, chunks, key: bytes, xsd_dir: str | None, workers: int, bar,
                   spill_dir: Path) -> list[dict]:
    """Read the message files in chunks; returns one result per chunk, in path order.

    ``chunks``: ``(first index, paths)`` per chunk, a list or a generator (a streamed
    listing). With ``workers`` > 1 this process and ``workers - 1`` pool processes take
    chunks from one queue until it is empty: this process starts at once while the pool
    starts up, a slow (or starved) process holds up the end by one chunk at most, and a
    dataset of small files keeps every core busy. A thread puts the chunks, paths
    included, on the queue as they are listed (each process holds only its own chunk).
    """
    progress = bar.update if bar is not None else None
    if workers <= 1 or (isinstance(chunks, list) and len(chunks) <= 1):
        return [_ingest_chunk(str(root), c, first, key, xsd_dir, str(spill_dir), progress=progress)
                for first, c in chunks]
    ctx = _mp_context()
    tasks = ctx.SimpleQueue()
    stop = threading.Event()
    feed_error: list[BaseException] = []

    def feed() -> None:
        try:
            for k, (first, c) in enumerate(chunks):
                if stop.is_set():
                    break
                tasks.put((k, first, c))
        except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
            feed_error.append(exc)
        finally:
            for _ in range(workers):
                tasks.put(None)  # one stop sign per process (this one included)

    results: dict[int, dict] = {}
    feeder = threading.Thread(target=feed, name="jeugdlib-chunks", daemon=True)
    with cf.ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=_pool_init,
                                initargs=(tasks,)) as pool:
        futs = [pool.submit(_pool_loop, str(root), key, xsd_dir, str(spill_dir)) for _ in range(workers - 1)]
        feeder.start()
        try:
            while (task := tasks.get()) is not None:
                k, first, c = task
                results[k] = _ingest_chunk(str(root), c, first, key, xsd_dir, str(spill_dir), progress=progress)
        except BaseException:
            stop.set()
            raise
        finally:
            feeder.join()
        for fut in futs:
            for k, res in fut.result():
                results[k] = res
                if bar is not None:
                    bar.update(res["n"])
    if feed_error:
        raise feed_error[0]
    return [results[k] for k in sorted(results)]


_TASKS = None  # the chunk queue, in a pool process


def _pool_init(tasks) -> None:
    global _TASKS
    _TASKS = tasks


def _pool_loop(root: str, key: bytes, xsd_dir: str | None, spill_dir: str) -> list[tuple[int, dict]]:
    """A pool process: read chunks from the queue until the stop sign."""
    out = []
    while (task := _TASKS.get()) is not None:
        k, first, c = task
        out.append((k, _ingest_chunk(root, c, first, key, xsd_dir, spill_dir)))
    return out


# --------------------------------------------------------------------------- moves

def _to_quarantine(df: pd.DataFrame, table: str, bestand: pd.Series, mask: np.ndarray, regel: str,
                   melding: pd.Series, waarde: pd.Series | None) -> pd.DataFrame:
    """Quarantine rows for kept records ``df[mask]`` (e.g. of a duplicate message); ``bestand``,
    ``melding`` and ``waarde`` are indexed by ``_file``."""
    sub = df[mask]
    files = sub["_file"].to_numpy()
    q = pd.DataFrame({
        "bestand": pd.Series(bestand.reindex(files).to_numpy(), dtype=S),
        "positie": sub["_positie"].to_numpy(),
        "invoer": sub["_invoer"].to_numpy(),
        "regel": regel,
        "melding": melding.reindex(files).to_numpy(),
        "waarde": (waarde.reindex(files).to_numpy() if waarde is not None else None),
        "bedrag_cent": (sub["bedrag_cent_signed"].to_numpy() if table == "declaraties" else None),
        "_file": files,
        "_release": sub["ijw_release"].to_numpy(),
    })
    q = schema.conform(q, "quarantaine", extra=True)
    return q


def _hash64(text: str) -> int:
    """A deterministic signed 64-bit hash (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


#: Memory DuckDB may use for the duplicate check (it spills to disk beyond this).
DUPLICATES_MEMORY = "32MB"


def _duplicates(paths: list[str], workdir: Path) -> pd.DataFrame:
    """Duplicate messages (later in path order) among the files read whole, from the per-chunk
    Parquet files of :class:`_ChunkFiles`: ``melding``, ``waarde`` and ``bestand`` per ``_file``.

    A message is a duplicate when an earlier one has the same type, Afzender and
    BerichtIdentificatie (both present), or else the same bytes (sha256). DuckDB does
    the work on disk in bounded memory: first the 64-bit hashes of the keys that repeat
    (a dataset of millions of messages has few duplicates), then only those rows are
    grouped on the exact keys. Messages are built for the duplicates only.
    """
    empty = pd.DataFrame({"melding": pd.Series([], dtype=object), "waarde": pd.Series([], dtype=object),
                          "bestand": pd.Series([], dtype=object)}, index=pd.Index([], dtype="int64", name="_file"))
    if not paths:
        return empty
    import duckdb

    workdir.mkdir(parents=True, exist_ok=True)
    try:
        key, sha = _duplicate_rows(duckdb, paths, workdir / "duckdb")
    except (duckdb.IOException, duckdb.OutOfMemoryException) as exc:
        if "No space left" in str(exc):  # a full disk under our own files, as everywhere in ingest
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(workdir)) from None
        raise
    if not len(key) and not len(sha):
        return empty
    kmel = [f"zelfde {i}-bericht (BerichtIdentificatie {n}, Afzender {a}) als {e}"
            for i, a, n, e in zip(key["invoer"], key["afzender"], key["identificatie"], key["eerste_bestand"])]
    sha = sha[~sha["_file"].isin(key["_file"])]
    smel = ["byte voor byte gelijk aan " + str(e) for e in sha["eerste_bestand"]]
    out = pd.DataFrame({
        "melding": kmel + smel,
        "waarde": list(key["identificatie"]) + list(sha["identificatie"]),
        "bestand": list(key["bestand"]) + list(sha["bestand"]),
    }, index=pd.Index(list(key["_file"]) + list(sha["_file"]), dtype="int64", name="_file"), dtype=object)
    out = out.sort_index()
    return out.astype(object).where(out.notna(), None)


def _duplicate_rows(duckdb, paths: list[str], tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(same key, same bytes): the later files with their first file's ``bestand`` (see :func:`_duplicates`)."""
    con = duckdb.connect(config={"memory_limit": DUPLICATES_MEMORY, "threads": 1, "temp_directory": str(tmp),
                                 "preserve_insertion_order": False})
    try:
        con.read_parquet(paths).create_view("f")
        key = con.execute("""
            WITH keyed AS (SELECT * FROM f WHERE afzender IS NOT NULL AND identificatie IS NOT NULL),
            c AS (SELECT * FROM keyed WHERE key64 IN (SELECT key64 FROM keyed GROUP BY key64 HAVING count(*) > 1)),
            g AS (SELECT *, min(_file) OVER (PARTITION BY invoer, afzender, identificatie) AS eerste FROM c)
            SELECT g._file, g.invoer, g.afzender, g.identificatie, g.bestand, e.bestand AS eerste_bestand
            FROM g JOIN c AS e ON e._file = g.eerste WHERE g._file > g.eerste ORDER BY g._file""").fetchdf()
        sha = con.execute("""
            WITH c AS (SELECT * FROM f WHERE sha64 IN (SELECT sha64 FROM f GROUP BY sha64 HAVING count(*) > 1)),
            g AS (SELECT *, min(_file) OVER (PARTITION BY sha256) AS eerste FROM c)
            SELECT g._file, g.identificatie, g.bestand, e.bestand AS eerste_bestand
            FROM g JOIN c AS e ON e._file = g.eerste WHERE g._file > g.eerste ORDER BY g._file""").fetchdf()
    finally:
        con.close()
    return key, sha


# --------------------------------------------------------------------------- exports

def _read_exports(root: Path, rels: list[str], first_idx: int, key: bytes) -> tuple[dict, list, list]:
    """Flat exports -> (kept tables with helpers, quarantine frames, counting rows)."""
    kept: dict[str, list[pd.DataFrame]] = {}
    quar: list[pd.DataFrame] = []
    tel: list[dict] = []
    for j, rel in enumerate(rels):
        path = root / rel
        rel = shown_name(rel)  # as written to bestand/bron; path still names the real file
        stem = exports.normalise_column(Path(rel).stem)
        invoer = f"export:{stem}"
        gfile = first_idx + j
        table = _TABLE_OF_EXPORT.get(stem)
        if table is None:
            tel.append(dict(invoer=invoer, gelezen=1, behouden=0, quarantaine=0, overgeslagen=1))
            continue
        unforeseen = exports.FileError("xlsx_onleesbaar" if path.suffix.lower() == ".xlsx" else "csv_onleesbaar",
                                        "bestand onleesbaar ({}); controleer het bestand")
        try:
            flat = exports.read_flat(path)
        except exports.FileError as exc:
            _file_fault(quar, tel, rel, invoer, gfile, exc)
            continue
        except Exception as exc:  # noqa: BLE001 - a case the reader did not foresee: this file only
            unforeseen.melding = unforeseen.melding.format(type(exc).__name__)
            _file_fault(quar, tel, rel, invoer, gfile, unforeseen)
            continue
        raw = flat.data
        required = {
            "declaraties": [("gemeentecode",), ("agb",), ("bsn", "client_id"), ("productcode",),
                            ("periode_begin",), ("periode_eind",),
                            ("bedrag_cent_signed", "bedrag_cent", "bedrag_signed", "bedrag")],
            "toewijzingen": [("toewijzing_nr",), ("gemeentecode",), ("agb",), ("bsn", "client_id"),
                             ("ingangsdatum",)],
            "start_stop": [("toewijzing_nr",), ("agb",), ("bsn", "client_id"), ("begindatum",)],
        }[table]
        missing = [alts[0] for alts in required if not any(a in raw.columns for a in alts)]
        kind = "export"
        try:
            df, ck = convert(table, kind, raw, key, xml=False)
        except Exception as exc:  # noqa: BLE001 - as above
            unforeseen.melding = unforeseen.melding.format(type(exc).__name__)
            _file_fault(quar, tel, rel, invoer, gfile, unforeseen)
            continue
        if missing:
            # the missing-column rule comes first for every row
            first = Checker(raw)
            first.fail(np.ones(len(raw), dtype=bool), "kolom_ontbreekt",
                       f"kolom {', '.join(missing)} ontbreekt in de export")
            ck.regel, ck.melding, ck.waarde = first.regel, first.melding, first.waarde
        df["bron"] = (rel + "#" + flat.positie).to_numpy()
        df["_file"] = gfile
        df["_positie"] = flat.positie.to_numpy()
        df["_invoer"] = invoer
        ok = ck.ok
        q = ck.quarantine(bestand=rel, positie=flat.positie, invoer=invoer,
                          bedrag_cent=df["bedrag_cent_signed"] if table == "declaraties" else None)
        q = pd.concat([q, exports._bad_rows(flat, rel, invoer)], ignore_index=True)
        q["_file"] = gfile
        kept.setdefault(table, []).append(df[ok].reset_index(drop=True))
        quar.append(q)
        tel.append(dict(invoer=invoer, gelezen=len(raw) + len(flat.bad_rows), behouden=int(ok.sum()),
                        quarantaine=len(q), overgeslagen=0))
    return kept, quar, tel


def _file_fault(quar: list, tel: list, rel: str, invoer: str, gfile: int, exc: exports.FileError) -> None:
    """An export that cannot be read at all: one quarantined record."""
    q = exports._file_quarantine(rel, invoer, exc.regel, exc.melding)
    q["_file"] = gfile
    quar.append(q)
    tel.append(dict(invoer=invoer, gelezen=1, behouden=0, quarantaine=1, overgeslagen=0))


# --------------------------------------------------------------------------- main function

def _walk_files(root: Path, sub: str, suffixes: tuple[str, ...], bad: list[tuple[str, str, str]],
                expand=None):
    """The files under ``root/sub`` with these suffixes as ``(path relative to root, size)``, one
    at a time and in sorted path order; entries that cannot be read are appended to ``bad``.

    ``bad`` gets ``(path, regel, melding)`` for entries with such a suffix that are not
    readable regular files (a broken or looping symbolic link, a FIFO, socket or device:
    never opened) and for folders that cannot be listed. Like ``rglob``: symbolic links to
    files count, to folders are not followed; names starting with ``.`` or ``~$`` are
    skipped. ``expand(rel, size)``, when given, turns a file into the entries it stands
    for (the members of a zip archive, see :func:`_iter_messages`).

    A generator, so that a dataset of millions of small messages is never listed whole in
    memory: one ``os.scandir`` per folder, and a folder's entries are sorted by the text
    their paths start with (``name/`` for a folder, the full path for a file), which gives
    the order of sorting all paths at once (names containing ``/``-less ``!`` aside: see
    :func:`_iter_messages`).
    """
    base = os.path.join(root, sub)
    if not os.path.isdir(base):
        return
    yield from _walk_folder(base, sub, suffixes, bad, expand)


def _walk_folder(folder: str, rel: str, suffixes: tuple[str, ...], bad: list, expand):
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        bad.append((rel, "bestand_onleesbaar", "map " + unreadable_message(exc)))
        return
    items: list[tuple[str, str | None, int]] = []  # (sort key, folder to walk or None, size)
    for e in entries:
        name = f"{rel}/{e.name}"
        try:
            if e.is_dir(follow_symlinks=False):
                items.append((name + "/", e.path, 0))
                continue
        except OSError:
            pass
        if e.name.startswith((".", "~$")) or os.path.splitext(e.name)[1].lower() not in suffixes:
            continue
        try:
            st = os.stat(e.path)  # follows a symbolic link
        except FileNotFoundError:
            bad.append((name, "bestand_onleesbaar", "symbolische link naar een bestand dat niet bestaat"))
            continue
        except OSError as exc:  # a link loop, a name too long, no permission
            bad.append((name, "bestand_onleesbaar", unreadable_message(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            continue  # a link to a folder: not followed
        if not stat.S_ISREG(st.st_mode):
            bad.append((name, "geen_bestand", "geen gewoon bestand (bv. een FIFO of socket); niet gelezen"))
            continue
        for r, size in (expand(name, st.st_size) if expand is not None else ((name, st.st_size),)):
            items.append((r, None, size))
    entries.clear()
    items.sort(key=lambda t: (t[0], t[2]))
    for key, sub, size in items:
        if sub is not None:
            yield from _walk_folder(sub, key[:-1], suffixes, bad, expand)
        else:
            yield key, size


def _list_files(root: Path, sub: str, suffixes: tuple[str, ...]
                ) -> tuple[list[tuple[str, int]], list[tuple[str, str, str]]]:
    """The files under ``root/sub`` with these suffixes, and the entries that cannot be read.

    Returns ``[(path relative to root, size)]`` sorted, and ``[(path, regel, melding)]``
    sorted (see :func:`_walk_files`).
    """
    bad: list[tuple[str, str, str]] = []
    out = list(_walk_files(root, sub, suffixes, bad))
    bad.sort()
    return out, bad


def _zip_members(root: Path, rel: str, size: int) -> list[tuple[str, int]]:
    """A ``*.zip`` as its ``*.xml`` members (``archive.zip!member``, uncompressed size), sorted;
    an archive whose table of contents cannot be read as itself (read: quarantined)."""
    if not rel.lower().endswith(".zip"):
        return [(rel, size)]
    try:
        with zipfile.ZipFile(os.path.join(root, rel)) as zf:
            members = sorted((i.filename, i.file_size) for i in zf.infolist()
                             if not i.is_dir() and i.filename.lower().endswith(".xml")
                             and not os.path.basename(i.filename).startswith((".", "~$"))
                             and not i.filename.startswith("__MACOSX/"))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return [(rel, size)]
    return [(f"{rel}{ZIP_SEP}{name}", fsize) for name, fsize in members]


def _iter_messages(root: Path, bad: list[tuple[str, str, str]]):
    """Message files under ``berichten/``, one at a time in path order: ``*.xml``, and the
    ``*.xml`` members of every ``*.zip`` as ``archive.zip!member`` (uncompressed size).
    Files and folders that cannot be read are appended to ``bad`` (as :func:`_walk_files`).

    The order is that of sorting all paths at once, also for members: a folder's members
    and files are sorted together (only a folder whose own name holds ``.zip!`` beside
    that archive could interleave otherwise, and such a name is read as a member anyway).
    """
    return _walk_files(root, "berichten", (".xml", ".zip"), bad,
                       expand=functools.partial(_zip_members, root))


def _list_messages(root: Path) -> tuple[list[tuple[str, int]], list[tuple[str, str, str]]]:
    """All message files (as :func:`_iter_messages`, as a list) and the entries that cannot be read."""
    bad: list[tuple[str, str, str]] = []
    out = list(_iter_messages(root, bad))
    bad.sort()
    return out, bad


def _invoer_order(invoer: pd.Series) -> pd.Series:
    group = np.select([invoer.str.match(r"^JW\d+$").fillna(False), invoer.isin(["xml", "zip"]),
                       invoer.str.startswith("export:").fillna(False)], [0, 1, 2], 3)
    return pd.Series(group, index=invoer.index)


def ingest(dataset_dir, out_dir=None, *, xsd_dir=None, workers: int | None = None,
           quiet: bool = False) -> IngestResult:
    """Read a dataset directory and publish its canonical tables (data-contract 1-2).

    ``out_dir`` defaults to :func:`jeugdlib.dataset.processed_dir_for` (``data/processed/<name>``
    under the working directory). ``xsd_dir``: validate every message against the
    XSDs there. ``workers``: processes (default: all cores when the messages are
    large enough to gain from it). ``quiet``: no progress bar and no messages on
    stderr. Raises :class:`JeugdlibError` when the dataset is missing, a required
    reference table is missing, there are no messages and no exports at all, or
    ``out_dir`` holds the processing of another source or key; :class:`OSError`
    when writing fails (a full disk). In every failing case the previous version
    of ``out_dir`` stays as it was.
    """
    t0 = time.perf_counter()
    root = Path(dataset_dir)
    if not root.is_dir():
        raise JeugdlibError("dataset niet gevonden (verwacht een map met berichten/, export/, referentie/)",
                            path=root)
    ref = exports.read_reference(root)
    msgs = _Messages(root)
    exp_files, exp_bad = _list_files(root, "export", (".csv", ".xlsx"))
    exp_rels = [r for r, _size in exp_files]
    if not msgs.head and not exp_rels and not msgs.bad and not exp_bad:
        raise JeugdlibError("geen berichten (berichten/**/*.xml) en geen exports (export/*.csv) gevonden; "
                            "niets om in te lezen", path=root)
    if xsd_dir is not None:
        validate.check_xsd_dir(xsd_dir, config.BERICHTEN)
        xsd_dir = str(Path(xsd_dir).resolve())
    key = privacy.load_key(quiet=quiet)

    if msgs.streaming:  # a dataset this large gains from every core
        workers = _cpu_count() if workers is None else workers
    else:
        n = len(msgs.head)
        if workers is None:
            workers = _cpu_count() if (n > 1 and msgs.head_bytes >= PARALLEL_MIN_BYTES) else 1
        workers = min(int(workers), max(1, n))
    workers = max(1, int(workers))

    out = Path(out_dir) if out_dir is not None else dataset.processed_dir_for(root)
    with dataset.Publication(out, source=root, key=key) as pub:
        try:
            telling, quarantaine, chunks = _ingest_into(pub.dir, root, ref, msgs, exp_rels, exp_bad, key, xsd_dir,
                                                        workers, quiet)
        except OutputError as exc:
            raise exc.exc from None
        pub.commit()
    others = [c for c in chunks if c["pid"] != os.getpid()]
    result = IngestResult(out, telling, quarantaine, time.perf_counter() - t0, workers, msgs.count,
                          len(exp_rels), worker_cpu=sum(c["cpu"] for c in others),
                          worker_rss_mb=max((c["maxrss_mb"] for c in others), default=0.0))
    if not quiet:
        lines = result.meldingen()
        for line in lines[:20]:
            print(line, file=sys.stderr)
        if len(lines) > 20:
            print(f"... en nog {len(lines) - 20} records in quarantaine (zie {out / 'quarantaine.parquet'})",
                  file=sys.stderr)
    return result


def _bad_entries(bad: list[tuple[str, str, str]], invoer) -> pd.DataFrame:
    """Quarantine rows (one per entry) for files and folders that could not be read."""
    return schema.conform(pd.DataFrame({
        "bestand": [shown_name(r) for r, _g, _m in bad], "positie": "bestand",
        "invoer": [invoer(r) for r, _g, _m in bad], "regel": [g for _r, g, _m in bad],
        "melding": [m for _r, _g, m in bad], "waarde": None, "bedrag_cent": None}), "quarantaine")


def _ingest_into(out: Path, root: Path, ref, msgs: _Messages, exp_rels, exp_bad, key, xsd_dir, workers, quiet):
    """Read everything and write the tables into the (new, empty) version folder ``out``."""
    spill_dir = out / ".spill"
    staged: list[tuple[Path, Path]] = []
    bar = None
    if not quiet and sys.stderr.isatty() and msgs.head:
        from tqdm import tqdm
        bar = tqdm(total=None if msgs.streaming else len(msgs.head), unit="bericht", desc="ingest",
                   file=sys.stderr, leave=False)
    try:
        try:
            chunks = (_read_messages(root, msgs.chunks(workers), key, xsd_dir, workers, bar, spill_dir)
                      if msgs.head else [])
        finally:
            if bar is not None:
                bar.close()

        counts: dict[tuple[str, str], list[int]] = {}
        for c in chunks:
            for k, (g, o) in c.pop("counts").items():
                tot = counts.setdefault(k, [0, 0])
                tot[0] += g
                tot[1] += o
        quar = [c["quarantaine"] for c in chunks if c["quarantaine"] is not None]
        n_files = msgs.count
        if msgs.bad:  # message files that could not even be opened: after the others, as "xml"
            q = _bad_entries(msgs.bad, lambda r: "xml")
            q["_file"] = np.arange(n_files, n_files + len(msgs.bad))
            quar.append(q)
            n_files += len(msgs.bad)

        # whole-message rules: XSD first, then duplicates (their kept records move to quarantine)
        moves: list[tuple[str, pd.Series, pd.Series | None, pd.Series]] = []
        xsd = [x for c in chunks for x in c["xsd"]]
        if xsd:
            ids = pd.Index([f for f, _b, _m in xsd], dtype="int64")
            moves.append(("xsd_ongeldig", pd.Series([m for _f, _b, m in xsd], index=ids, dtype=object), None,
                          pd.Series([b for _f, b, _m in xsd], index=ids, dtype=object)))
        dups = _duplicates([c["files"] for c in chunks if c["files"]], spill_dir)
        if moves:
            dups = dups[~dups.index.isin(moves[0][1].index)]
        if len(dups):
            moves.append(("dubbel_bericht", dups["melding"], dups["waarde"], dups["bestand"]))

        # exports
        e_kept, e_quar, e_tel = _read_exports(root, exp_rels, n_files, key)
        if exp_bad:
            def invoer(r):
                return f"export:{exports.normalise_column(Path(r).stem) if Path(r).suffix else 'map'}"
            q = _bad_entries(exp_bad, invoer)
            q["_file"] = n_files + len(exp_rels) + np.arange(len(exp_bad))
            e_quar.append(q)
            e_tel += [dict(invoer=v, gelezen=1, behouden=0, quarantaine=1, overgeslagen=0) for v in q["invoer"]]

        # stream every message table to Parquet in path order: spills, then exports
        drop = np.concatenate([c["failed"] for c in chunks]) if chunks else np.array([], dtype=np.int64)
        kept_counts: dict[tuple[str, str], int] = {}
        moved: dict[str, list[pd.DataFrame]] = {regel: [] for regel, *_rest in moves}
        for t in STREAMED:
            target = out / f"{t}.parquet"
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            staged.append((tmp, target))
            with _RowGroupWriter(tmp, _arrow_schema(t)) as w:
                for c in chunks:
                    paths = [c["spill"][b] for b in sorted(c["spill"]) if SPECS[b].table == t]
                    for batch in _merge_by_file(paths):
                        batch = _take_moves(batch, t, drop, moves, moved)
                        _count(batch, kept_counts)
                        w.write(batch.drop_columns(list(_HELPERS)))
                for df in e_kept.get(t, []):
                    part = pa.Table.from_pandas(schema.conform(df, t, extra=True), preserve_index=False)
                    _count(part, kept_counts)
                    w.write(part.select(_arrow_schema(t).names).replace_schema_metadata(None))
        for regel, *_rest in moves:
            quar += moved[regel]
        quar += e_quar

        # quarantine: by file (path order), records in file order
        quar_df = (pd.concat([schema.conform(q, "quarantaine", extra=True) for q in quar], ignore_index=True)
                   if quar else _empty_with_helpers("quarantaine"))
        quar_df = quar_df.sort_values("_file", kind="stable").reset_index(drop=True)
        quar_df = pd.concat([quar_df, ref.quarantaine], ignore_index=True)
        telling = _telling(counts, kept_counts, quar_df, e_tel, ref.telling, extra_xml=len(msgs.bad))
        quarantaine = _masked(schema.conform(quar_df, "quarantaine"))
        small = {"quarantaine": quarantaine, "ingest_telling": telling, **ref.tables}
        for name in dataset.Dataset.table_names():
            if name not in STREAMED:
                dataset.write_table(schema.conform(small[name], name), out / f"{name}.parquet")
        for tmp, target in staged:
            os.replace(tmp, target)
        staged = []
    finally:
        for tmp, _target in staged:
            tmp.unlink(missing_ok=True)
        if spill_dir.exists():
            shutil.rmtree(spill_dir, ignore_errors=True)
    return telling, quarantaine, chunks


def _masked(q: pd.DataFrame) -> pd.DataFrame:
    """The quarantine with numbers of nine digits masked where a BSN could hide."""
    for c in ("bestand", "melding", "waarde"):
        q[c] = privacy.mask_bsn_series(q[c])
    return q


#: Rows per Parquet row group of the streamed tables. Row groups always hold exactly this
#: many rows (the last one fewer) and one chunk per column, so the bytes written do not
#: depend on how the records arrived (batches, chunks, processes).
ROW_GROUP = 1 << 17


class _RowGroupWriter:
    """Writes a table to Parquet in fixed row groups as its rows come in (flat memory)."""

    def __init__(self, path: Path, arrow_schema: pa.Schema):
        self.path, self.schema = Path(path), arrow_schema
        self.parts: list[pa.Table] = []
        self.n = 0
        self.writer = pq.ParquetWriter(str(self.path), arrow_schema, compression="zstd")
        self.written = 0

    def __enter__(self):
        return self

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.parts.append(table.cast(self.schema))
        self.n += table.num_rows
        while self.n >= ROW_GROUP:
            self._emit(ROW_GROUP)

    def _emit(self, rows: int) -> None:
        allp = pa.concat_tables(self.parts)
        group = allp.slice(0, rows).combine_chunks()
        rest = allp.slice(rows)
        self.parts = [rest] if rest.num_rows else []
        self.n -= rows
        self.writer.write_table(group, row_group_size=ROW_GROUP)
        self.written += rows

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                if self.n:
                    self._emit(self.n)
                elif self.written == 0:
                    self.writer.write_table(self.schema.empty_table(), row_group_size=ROW_GROUP)
        finally:
            self.writer.close()
        return False


def _read_spill(path: str):
    """The record batches of a spill file as tables, one at a time; the file is removed after."""
    with pa.OSFile(path) as fh:
        rd = pa.ipc.open_file(fh)
        for k in range(rd.num_record_batches):
            t = pa.Table.from_batches([rd.get_batch(k)])
            if t.num_rows:
                yield t
    Path(path).unlink()


def _merge_by_file(paths: list[str]):
    """Tables from spill files (each in ``_file`` order, files disjoint) merged into ``_file`` order."""
    its = [_read_spill(p) for p in paths]
    heads = [next(it, None) for it in its]
    while True:
        live = [i for i, h in enumerate(heads) if h is not None]
        if not live:
            return
        if len(live) == 1:
            i = live[0]
            yield heads[i]
            yield from its[i]
            return
        first = {i: heads[i].column("_file")[0].as_py() for i in live}
        i = min(live, key=first.get)
        other = min(first[j] for j in live if j != i)
        cut = int(np.searchsorted(heads[i].column("_file").to_numpy(), other))
        yield heads[i].slice(0, cut)
        rest = heads[i].slice(cut)
        heads[i] = rest if rest.num_rows else next(its[i], None)


def _count(batch: pa.Table, counts: dict[tuple[str, str], int]) -> None:
    """Add the kept records per input kind and release (``_invoer``, ``ijw_release``) to ``counts``."""
    if batch.num_rows == 0:
        return
    g = batch.select(["_invoer", "ijw_release"]).group_by(["_invoer", "ijw_release"]).aggregate(
        [("_invoer", "count")]).to_pydict()
    for inv, rel, n in zip(g["_invoer"], g["ijw_release"], g["_invoer_count"]):
        k = (inv, rel or "")
        counts[k] = counts.get(k, 0) + int(n)


def _take_moves(batch: pa.Table, table: str, drop: np.ndarray, moves: list[tuple], moved: dict[str, list]
                ) -> pa.Table:
    """Drop rows of failed files; rows of files with a whole-message rule go to ``moved``.

    ``moves``: (regel, melding, waarde or None, bestand), Series indexed by ``_file``."""
    fcol = batch.column("_file")
    if len(drop):
        batch = batch.filter(pc.invert(pc.is_in(fcol, pa.array(drop))))
        fcol = batch.column("_file")
    for regel, melding, waarde, bestand in moves:
        ids = pa.array(melding.index.to_numpy(dtype=np.int64))
        mask = pc.is_in(fcol, ids)
        if not pc.any(mask).as_py():
            continue
        sub = batch.filter(mask).to_pandas(types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get)
        moved[regel].append(_to_quarantine(sub, table, bestand, np.ones(len(sub), dtype=bool), regel, melding,
                                           waarde))
        batch = batch.filter(pc.invert(mask))
        fcol = batch.column("_file")
    return batch


def _empty_with_helpers(table: str) -> pd.DataFrame:
    df = schema.empty(table)
    df["_file"] = pd.Series([], dtype="int64")
    df["_positie"] = pd.Series([], dtype=S)
    df["_invoer"] = pd.Series([], dtype=S)
    return df


def _telling(read_counts: dict[tuple[str, str], list[int]], kept: dict[tuple[str, str], int], quar: pd.DataFrame,
             e_tel: list[dict], ref_tel: pd.DataFrame, extra_xml: int = 0) -> pd.DataFrame:
    """Counts per input kind and iJw release; asserts gelezen = behouden + quarantaine + overgeslagen.

    ``read_counts``: (input kind, release) -> [gelezen, overgeslagen] of the message files.
    ``kept``: records written per (input kind, release) (``_invoer``, ``ijw_release``).
    ``quar``: the quarantine, with the release of a message's file in ``_release``.
    ``extra_xml``: message files that could not be opened (one record each, kind ``xml``).
    """
    read = {k: list(v) for k, v in read_counts.items()}
    if extra_xml:
        read.setdefault(("xml", ""), [0, 0])[0] += extra_xml
    read = pd.DataFrame([(i, r, g, o) for (i, r), (g, o) in sorted(read.items())],
                        columns=["invoer", "ijw_release", "gelezen", "overgeslagen"]).set_index(
        ["invoer", "ijw_release"]) if read else None
    # quarantined records of messages: the release of their file
    qrel = (quar["_release"].astype(object).fillna("").to_numpy() if "_release" in quar.columns
            else np.full(len(quar), "", dtype=object))
    is_msg = ~quar["invoer"].astype(object).astype(str).str.startswith(("export:", "referentie:")).to_numpy(
        dtype=bool)
    qrel = np.where(is_msg, qrel, "")
    nq = pd.Series(1, index=pd.MultiIndex.from_arrays([quar["invoer"].astype(object).to_numpy(), qrel])) \
        .groupby(level=[0, 1]).sum() if len(quar) else pd.Series(dtype="int64")
    rows = []
    if read is not None:
        for (inv, rel), r in read.iterrows():
            rows.append(dict(invoer=inv, gelezen=int(r["gelezen"]), behouden=int(kept.get((inv, rel), 0)),
                             quarantaine=int(nq.get((inv, rel), 0)), overgeslagen=int(r["overgeslagen"]),
                             ijw_release=rel or None))
    e = pd.DataFrame(e_tel, columns=["invoer", "gelezen", "behouden", "quarantaine", "overgeslagen"])
    if len(e):
        e = e.groupby("invoer", as_index=False).sum()
        for r in e.itertuples(index=False):
            rows.append(dict(invoer=r.invoer, gelezen=int(r.gelezen), behouden=int(kept.get((r.invoer, ""), 0)),
                             quarantaine=int(nq.get((r.invoer, ""), 0)), overgeslagen=int(r.overgeslagen)))
    t = pd.DataFrame(rows, columns=list(schema.TABLES["ingest_telling"]))
    t = pd.concat([t, ref_tel.astype(object)], ignore_index=True)
    t = schema.conform(t, "ingest_telling")
    t = t.assign(_o=_invoer_order(t["invoer"]), _r=t["ijw_release"].fillna("")).sort_values(
        ["_o", "invoer", "_r"]).drop(columns=["_o", "_r"])
    t = t.reset_index(drop=True)
    lhs = t["gelezen"].to_numpy(dtype=np.int64)
    rhs = (t["behouden"].to_numpy(dtype=np.int64) + t["quarantaine"].to_numpy(dtype=np.int64)
           + t["overgeslagen"].to_numpy(dtype=np.int64))
    if not np.array_equal(lhs, rhs):
        bad = t[lhs != rhs]
        raise AssertionError(f"telling klopt niet (gelezen != behouden + quarantaine + overgeslagen):\n{bad}")
    return t


def main(args) -> int:
    """``jeugdlib ingest DATASET [--out DIR] [--xsd DIR] [--workers N] [--quiet]``."""
    res = ingest(args.dataset, args.out, xsd_dir=args.xsd, workers=args.workers, quiet=args.quiet)
    print(res.summary())
    if res.behouden == 0:
        print(f"jeugdlib ingest: fout: {args.dataset}: geen enkel bruikbaar record (alles in quarantaine of "
              f"overgeslagen); zie {res.out_dir / 'quarantaine.parquet'}", file=sys.stderr)
        return 2
    return 0
