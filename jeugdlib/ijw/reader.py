"""Streaming reader for iJw 3.2 messages (JW301, JW305, JW307, JW315, JW323).

One pass of lxml ``iterparse`` per file, restricted to the few tags that matter,
clearing every record element (and its finished siblings) as soon as it is read,
so memory stays flat however large the message. Values are collected as raw
strings, one row per record, and handed out as column-oriented
:class:`pyarrow.Table` batches; checking, typing and pseudonymising them is the
job of :mod:`jeugdlib.ingest`, vectorised per batch.

A *record* is one ToegewezenProduct (JW301), StartProduct (JW305), StopProduct
(JW307), AangevraagdProduct (JW315) or Prestatie (JW323). Every batch carries,
besides the fields of :data:`SPECS`, the client-level fields (``bsn``,
``geboortedatum``, ``geslacht``; missing = null) and the record position:
``_file`` (index the caller gave), ``_client`` (1-based Client number in the
message) and ``_rec`` (1-based record number within that Client).

Header fields (Afzender, Ontvanger, BerichtIdentificatie, DeclaratieNummer) are
per message, in :class:`MessageInfo`. Names, addresses, contact details and
``Commentaar`` are never read.

A file that is not a readable iJw 3.2 message raises :class:`MessageError` with
a short rule id (``bestand_leeg``, ``codering_ongeldig``, ``xml_onleesbaar``,
``namespace_onbekend``); a 3.2 message of a type not in
:data:`jeugdlib.config.BERICHTEN` (e.g. JW325) is returned with
``status == "overgeslagen"`` and no records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Callable

import pyarrow as pa
from lxml import etree

from .. import config

NS_BASIS = config.NS_BASIS
_NS_RE = re.compile(r"^http://www\.istandaarden\.nl/ijw/(\d+_\d+)/(\w+)/schema$")


@dataclasses.dataclass(frozen=True)
class RecordSpec:
    """How one message type is read: the record element and its fields.

    ``fields``: raw column -> (``"m"`` message namespace | ``"b"`` basisschema,
    local element name). Every local name is unique within the record element.
    ``client``: the Client-level fields this type carries.
    ``afzender``/``ontvanger``: which canonical column the header fields fill.
    """

    bericht: str
    table: str
    record: str
    fields: tuple[tuple[str, str, str], ...]
    client: tuple[str, ...]
    afzender: str
    ontvanger: str

    @property
    def columns(self) -> list[str]:
        """Raw column names of a batch, in order."""
        return [f[0] for f in self.fields] + list(CLIENT_FIELDS) + list(POSITION_FIELDS)


CLIENT_FIELDS = ("bsn", "geboortedatum", "geslacht")
POSITION_FIELDS = ("_file", "_client", "_rec")

SPECS: dict[str, RecordSpec] = {
    "JW301": RecordSpec(
        "JW301", "toewijzingen", "ToegewezenProduct",
        (
            ("toewijzing_nr", "m", "ToewijzingNummer"),
            ("productcategorie", "b", "Categorie"),
            ("productcode", "b", "Code"),
            ("toewijzingsdatum", "m", "Toewijzingsdatum"),
            ("toewijzingstijd", "m", "Toewijzingstijd"),
            ("ingangsdatum", "m", "Ingangsdatum"),
            ("einddatum", "m", "Einddatum"),
            ("reden_wijziging", "m", "RedenWijziging"),
            ("volume", "b", "Volume"),
            ("eenheid", "b", "Eenheid"),
            ("frequentie", "b", "Frequentie"),
            ("budget", "m", "Budget"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="gemeentecode", ontvanger="agb",
    ),
    "JW305": RecordSpec(
        "JW305", "start_stop", "StartProduct",
        (
            ("toewijzing_nr", "m", "ToewijzingNummer"),
            ("productcategorie", "b", "Categorie"),
            ("productcode", "b", "Code"),
            ("toewijzing_ingangsdatum", "m", "ToewijzingIngangsdatum"),
            ("begindatum", "m", "Begindatum"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="agb", ontvanger="gemeentecode",
    ),
    "JW307": RecordSpec(
        "JW307", "start_stop", "StopProduct",
        (
            ("toewijzing_nr", "m", "ToewijzingNummer"),
            ("productcategorie", "b", "Categorie"),
            ("productcode", "b", "Code"),
            ("toewijzing_ingangsdatum", "m", "ToewijzingIngangsdatum"),
            ("begindatum", "m", "Begindatum"),
            ("reden_beeindiging", "m", "RedenBeeindiging"),
            ("einddatum", "m", "Einddatum"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="agb", ontvanger="gemeentecode",
    ),
    "JW315": RecordSpec(
        "JW315", "verzoeken", "AangevraagdProduct",
        (
            ("productcategorie", "b", "Categorie"),
            ("productcode", "b", "Code"),
            ("beschikking_ingangsdatum", "m", "BeschikkingIngangsdatum"),
            ("toewijzing_ingangsdatum", "m", "ToewijzingIngangsdatum"),
            ("toewijzing_einddatum", "m", "ToewijzingEinddatum"),
            ("volume", "b", "Volume"),
            ("eenheid", "b", "Eenheid"),
            ("frequentie", "b", "Frequentie"),
            ("verwijzer_type", "b", "Type"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="agb", ontvanger="gemeentecode",
    ),
    "JW323": RecordSpec(
        "JW323", "declaraties", "Prestatie",
        (
            ("referentie_nr", "b", "ReferentieNummer"),
            ("vorig_referentie_nr", "b", "VorigReferentieNummer"),
            ("toewijzing_nr", "m", "ToewijzingNummer"),
            ("productcategorie", "m", "ProductCategorie"),
            ("productcode", "m", "ProductCode"),
            ("periode_begin", "b", "Begindatum"),
            ("periode_eind", "b", "Einddatum"),
            ("volume", "m", "GeleverdVolume"),
            ("eenheid", "m", "Eenheid"),
            ("tarief", "m", "ProductTarief"),
            ("bedrag", "b", "Bedrag"),
            ("debet_credit", "b", "DebetCredit"),
        ),
        ("bsn",), afzender="agb", ontvanger="gemeentecode",
    ),
}

#: Element name (in the message) for each raw column, for messages to the user.
FIELD_LABELS: dict[str, dict[str, str]] = {
    b: {col: local for col, _ns, local in spec.fields} | {
        "bsn": "Bsn", "geboortedatum": "Geboortedatum", "geslacht": "Geslacht",
        spec.afzender: "Header/Afzender", spec.ontvanger: "Header/Ontvanger",
    }
    for b, spec in SPECS.items()
}


class MessageError(Exception):
    """A file that cannot be read as an iJw 3.2 message (one quarantined record)."""

    def __init__(self, regel: str, melding: str, bericht: str | None = None):
        super().__init__(melding)
        self.regel = regel
        self.melding = melding
        self.bericht = bericht


@dataclasses.dataclass
class MessageInfo:
    """What one message is: type, header, record count, content hash."""

    bericht: str | None = None
    namespace: str | None = None
    status: str = "ok"  # ok | overgeslagen
    afzender: str | None = None
    ontvanger: str | None = None
    identificatie: str | None = None
    dagtekening: str | None = None
    declaratie_nr: str | None = None
    n_records: int = 0
    sha256: str | None = None


class Sink:
    """Collects raw rows of one message type over one or more files.

    Full batches (``batch_size`` rows) are turned into a :class:`pyarrow.Table`
    and passed to ``on_batch`` (default: kept in :attr:`tables`).
    """

    def __init__(self, spec: RecordSpec, batch_size: int = 50_000,
                 on_batch: Callable[[pa.Table], None] | None = None):
        self.spec = spec
        self.batch_size = batch_size
        self.rows: list[list] = []
        self.tables: list[pa.Table] = []
        self.on_batch = on_batch or self.tables.append

    def flush(self) -> None:
        if not self.rows:
            return
        names = self.spec.columns
        cols = list(zip(*self.rows))
        self.rows = []
        n_str = len(names) - len(POSITION_FIELDS)
        arrays = [pa.array(c, type=pa.string()) for c in cols[:n_str]]
        arrays += [pa.array(c, type=pa.int64()) for c in cols[n_str:]]
        self.on_batch(pa.Table.from_arrays(arrays, names=names))

    def table(self) -> pa.Table:
        """All rows collected so far as one table (flushes first)."""
        self.flush()
        if not self.tables:
            return empty_batch(self.spec)
        return pa.concat_tables(self.tables)


def empty_batch(spec: RecordSpec) -> pa.Table:
    names = spec.columns
    n_str = len(names) - len(POSITION_FIELDS)
    return pa.table({n: pa.array([], type=pa.string() if i < n_str else pa.int64())
                     for i, n in enumerate(names)})


class _HashingFile:
    """File wrapper that hashes the bytes as the parser reads them."""

    def __init__(self, fh):
        self.fh = fh
        self.h = hashlib.sha256()
        self.first = None

    def read(self, n: int = -1) -> bytes:
        b = self.fh.read(n)
        if self.first is None:
            self.first = b
        self.h.update(b)
        return b


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


_WATCH = ["{*}Bericht", "{*}Header", "{*}Client", "{*}Bsn", "{*}Geboortedatum", "{*}Geslacht",
          "{*}DeclaratieNummer"] + sorted({f"{{*}}{s.record}" for s in SPECS.values()})


def _classify_syntax_error(exc: etree.XMLSyntaxError) -> tuple[str, str]:
    msg = (getattr(exc, "msg", None) or str(exc)).strip()
    line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
    where = f" (regel {line})" if line else ""
    low = msg.lower()
    if "utf-8" in low or "encoding" in low or "invalid char" in low and "utf" in low:
        return "codering_ongeldig", f"geen geldige UTF-8-tekst: {msg}{where}"
    if "document is empty" in low:
        return "bestand_leeg", "leeg bestand"
    return "xml_onleesbaar", f"XML onleesbaar (afgebroken of misvormd): {msg}{where}"


def read_message(source: str | Path, *, file_idx: int = 0, sinks: dict[str, Sink] | None = None,
                 batch_size: int = 50_000) -> tuple[MessageInfo, dict[str, Sink]]:
    """Read one message file into ``sinks`` (one :class:`Sink` per message type).

    Returns the message's :class:`MessageInfo` and the sinks (created when not
    given). Raises :class:`MessageError` when the file is not a readable iJw 3.2
    message; rows that were already added for this file must then be discarded
    by the caller (they carry ``_file == file_idx``).
    """
    sinks = {} if sinks is None else sinks
    info = MessageInfo()
    path = Path(source)
    with open(path, "rb") as raw:
        fh = _HashingFile(raw)
        head = raw.peek(1) if hasattr(raw, "peek") else b""
        if path.stat().st_size == 0 or not head:
            raise MessageError("bestand_leeg", "leeg bestand")
        try:
            _parse(fh, info, sinks, file_idx, batch_size)
        except etree.XMLSyntaxError as exc:
            regel, melding = _classify_syntax_error(exc)
            raise MessageError(regel, melding, info.bericht) from None
        if info.status == "ok":
            info.sha256 = fh.h.hexdigest()
    return info, sinks


def _parse(fh, info: MessageInfo, sinks: dict[str, Sink], file_idx: int, batch_size: int) -> None:
    ctx = etree.iterparse(fh, events=("start", "end"), tag=_WATCH, resolve_entities=False,
                          no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)
    it = iter(ctx)
    try:
        event, root = next(it)
    except StopIteration:
        raise MessageError("namespace_onbekend", "geen iJw-bericht (geen element Bericht gevonden)") from None
    qn = etree.QName(root)
    m = _NS_RE.match(qn.namespace or "")
    if event != "start" or qn.localname != "Bericht" or m is None:
        raise MessageError("namespace_onbekend",
                           f"geen iJw-bericht (hoofdelement {{{qn.namespace or ''}}}{qn.localname})")
    version, kind = m.group(1), m.group(2).upper()
    info.namespace = qn.namespace
    if version != "3_2":
        raise MessageError("namespace_onbekend",
                           f"{kind}-bericht van iJw {version.replace('_', '.')} (namespace {qn.namespace}); "
                           f"alleen iJw 3.2 wordt gelezen")
    info.bericht = kind
    if kind not in SPECS or kind not in config.BERICHTEN:
        info.status = "overgeslagen"
        return
    spec = SPECS[kind]
    sink = sinks.get(kind)
    if sink is None:
        sink = sinks[kind] = Sink(spec, batch_size)
    rows = sink.rows
    ns = qn.namespace
    t_header, t_client = _q(ns, "Header"), _q(ns, "Client")
    t_bsn, t_geb, t_gesl = _q(ns, "Bsn"), _q(ns, "Geboortedatum"), _q(ns, "Geslacht")
    t_decl, t_record = _q(ns, "DeclaratieNummer"), _q(ns, spec.record)
    t_datum = _q(NS_BASIS, "Datum")
    idx = {_q(ns if k == "m" else NS_BASIS, local): i for i, (_c, k, local) in enumerate(spec.fields)}
    nf = len(spec.fields)
    width = nf + len(CLIENT_FIELDS) + len(POSITION_FIELDS)
    client_n = 0
    rec_n = 0
    bsn = geb = gesl = None
    n = 0
    idx_get = idx.get
    limit = sink.batch_size
    for event, el in it:
        tag = el.tag
        if event == "end":
            if tag == t_record:
                rec_n += 1
                vals = [None] * width
                for child in el.iterdescendants():
                    i = idx_get(child.tag)
                    if i is not None:
                        vals[i] = child.text
                vals[nf] = bsn
                vals[nf + 1] = geb
                vals[nf + 2] = gesl
                vals[nf + 3] = file_idx
                vals[nf + 4] = client_n
                vals[nf + 5] = rec_n
                rows.append(vals)
                n += 1
                el.clear()
                parent = el.getparent()
                while el.getprevious() is not None:
                    del parent[0]
                if len(rows) >= limit:
                    sink.flush()
                    rows = sink.rows
            elif tag == t_client:
                el.clear()
                parent = el.getparent()
                while el.getprevious() is not None:
                    del parent[0]
            elif tag == t_bsn:
                if el.getparent().tag == t_client:
                    bsn = el.text
            elif tag == t_geb:
                if el.getparent().tag == t_client:
                    geb = el.findtext(t_datum)
            elif tag == t_gesl:
                if el.getparent().tag == t_client:
                    gesl = el.text
            elif tag == t_header:
                info.afzender = el.findtext(_q(ns, "Afzender"))
                info.ontvanger = el.findtext(_q(ns, "Ontvanger"))
                bid = el.find(_q(ns, "BerichtIdentificatie"))
                if bid is not None:
                    info.identificatie = bid.findtext(_q(NS_BASIS, "Identificatie"))
                    info.dagtekening = bid.findtext(_q(NS_BASIS, "Dagtekening"))
                el.clear()
            elif tag == t_decl:
                info.declaratie_nr = el.text
        elif tag == t_client:
            client_n += 1
            rec_n = 0
            bsn = geb = gesl = None
    info.n_records = n


def read_records(source: str | Path) -> tuple[MessageInfo, pa.Table]:
    """Convenience: read one message and return its info and raw records as one table."""
    info, sinks = read_message(source)
    if info.bericht in sinks:
        return info, sinks[info.bericht].table()
    if info.bericht in SPECS:
        return info, empty_batch(SPECS[info.bericht])
    return info, pa.table({})
