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
import functools
import hashlib
import re
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from .. import config

NS_BASIS = config.NS_BASIS
_NS_RE = re.compile(r"^http://www\.istandaarden\.nl/ijw/(\d+_\d+)/(\w+)/schema$")


@dataclasses.dataclass(frozen=True)
class RecordSpec:
    """How one message type is read: the record element and its fields.

    ``fields``: raw column -> XPath relative to the record element, with prefix
    ``m`` for the message's namespace and ``b`` for the basisschema.
    ``client``: the Client-level fields this type carries.
    ``afzender``/``ontvanger``: which canonical column the header fields fill.
    """

    bericht: str
    table: str
    record: str
    fields: tuple[tuple[str, str], ...]
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
            ("toewijzing_nr", "m:ToewijzingNummer"),
            ("productcategorie", "m:Product/b:Categorie"),
            ("productcode", "m:Product/b:Code"),
            ("toewijzingsdatum", "m:Toewijzingsdatum"),
            ("toewijzingstijd", "m:Toewijzingstijd"),
            ("ingangsdatum", "m:Ingangsdatum"),
            ("einddatum", "m:Einddatum"),
            ("reden_wijziging", "m:RedenWijziging"),
            ("volume", "m:Omvang/b:Volume"),
            ("eenheid", "m:Omvang/b:Eenheid"),
            ("frequentie", "m:Omvang/b:Frequentie"),
            ("budget", "m:Budget"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="gemeentecode", ontvanger="agb",
    ),
    "JW305": RecordSpec(
        "JW305", "start_stop", "StartProduct",
        (
            ("toewijzing_nr", "m:ToewijzingNummer"),
            ("productcategorie", "m:Product/b:Categorie"),
            ("productcode", "m:Product/b:Code"),
            ("toewijzing_ingangsdatum", "m:ToewijzingIngangsdatum"),
            ("begindatum", "m:Begindatum"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="agb", ontvanger="gemeentecode",
    ),
    "JW307": RecordSpec(
        "JW307", "start_stop", "StopProduct",
        (
            ("toewijzing_nr", "m:ToewijzingNummer"),
            ("productcategorie", "m:Product/b:Categorie"),
            ("productcode", "m:Product/b:Code"),
            ("toewijzing_ingangsdatum", "m:ToewijzingIngangsdatum"),
            ("begindatum", "m:Begindatum"),
            ("reden_beeindiging", "m:RedenBeeindiging"),
            ("einddatum", "m:Einddatum"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="agb", ontvanger="gemeentecode",
    ),
    "JW315": RecordSpec(
        "JW315", "verzoeken", "AangevraagdProduct",
        (
            ("productcategorie", "m:Product/b:Categorie"),
            ("productcode", "m:Product/b:Code"),
            ("beschikking_ingangsdatum", "m:BeschikkingIngangsdatum"),
            ("toewijzing_ingangsdatum", "m:ToewijzingIngangsdatum"),
            ("toewijzing_einddatum", "m:ToewijzingEinddatum"),
            ("volume", "m:Omvang/b:Volume"),
            ("eenheid", "m:Omvang/b:Eenheid"),
            ("frequentie", "m:Omvang/b:Frequentie"),
            ("verwijzer_type", "m:Verwijzer/b:Type"),
        ),
        ("bsn", "geboortedatum", "geslacht"), afzender="agb", ontvanger="gemeentecode",
    ),
    "JW323": RecordSpec(
        "JW323", "declaraties", "Prestatie",
        (
            ("referentie_nr", "m:ProductReferentie/b:ReferentieNummer"),
            ("vorig_referentie_nr", "m:ProductReferentie/b:VorigReferentieNummer"),
            ("toewijzing_nr", "m:ToewijzingNummer"),
            ("productcategorie", "m:ProductCategorie"),
            ("productcode", "m:ProductCode"),
            ("periode_begin", "m:ProductPeriode/b:Begindatum"),
            ("periode_eind", "m:ProductPeriode/b:Einddatum"),
            ("volume", "m:GeleverdVolume"),
            ("eenheid", "m:Eenheid"),
            ("tarief", "m:ProductTarief"),
            ("bedrag", "m:IngediendBedrag/b:Bedrag"),
            ("debet_credit", "m:IngediendBedrag/b:DebetCredit"),
        ),
        ("bsn",), afzender="agb", ontvanger="gemeentecode",
    ),
}

#: Element name (in the message) for each raw column, for messages to the user.
FIELD_LABELS: dict[str, dict[str, str]] = {
    b: {col: path.replace("m:", "").replace("b:", "") for col, path in spec.fields} | {
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


#: Separator between field values of one record (XPath concat). U+241F SYMBOL FOR UNIT
#: SEPARATOR: XML allows no real control characters, and this one does not occur in
#: iJw data; a record whose values contain it reads as all-empty (element_ontbreekt).
SEP = "\u241f"


class Sink:
    """Collects raw rows of one message type over one or more files.

    A row is ``[joined field values, bsn, geboortedatum, geslacht, file, client,
    rec]``. Full batches (``batch_size`` rows) become a :class:`pyarrow.Table`
    (split vectorised) passed to ``on_batch`` (default: kept in :attr:`tables`).
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
        cols = list(zip(*self.rows))
        self.rows = []
        nf = len(self.spec.fields)
        joined = pa.array(cols[0], type=pa.string())
        ok = pc.equal(pc.count_substring(joined, SEP), nf - 1)
        joined = pc.if_else(ok, joined, pa.scalar(SEP * (nf - 1)))
        parts = pc.split_pattern(joined, SEP)
        arrays = [_nullify(pc.utf8_trim_whitespace(pc.list_element(parts, i))) for i in range(nf)]
        arrays += [_nullify(pc.utf8_trim_whitespace(pa.array(c, type=pa.string()))) for c in cols[1:4]]
        arrays += [pa.array(c, type=pa.int64()) for c in cols[4:]]
        self.on_batch(pa.Table.from_arrays(arrays, names=self.spec.columns))

    def table(self) -> pa.Table:
        """All rows collected so far as one table (flushes first)."""
        self.flush()
        if not self.tables:
            return empty_batch(self.spec)
        return pa.concat_tables(self.tables)


def _nullify(arr: pa.Array) -> pa.Array:
    """Empty strings (missing or empty elements) become null."""
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


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

    def read(self, n: int = -1) -> bytes:
        b = self.fh.read(n)
        self.h.update(b)
        return b


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


@functools.lru_cache(maxsize=64)
def _tags(ns: str, kind: str) -> tuple[str, ...]:
    """Qualified tag names the parser watches, per namespace and message type."""
    spec = SPECS[kind]
    return (_q(ns, "Bericht"), _q(ns, "Header"), _q(ns, "Client"), _q(ns, "Bsn"), _q(ns, "Geboortedatum"),
            _q(ns, "Geslacht"), _q(ns, "DeclaratieNummer"), _q(ns, spec.record), _q(NS_BASIS, "Datum"),
            _q(ns, "Afzender"), _q(ns, "Ontvanger"), _q(ns, "BerichtIdentificatie"),
            _q(NS_BASIS, "Identificatie"), _q(NS_BASIS, "Dagtekening"))


@functools.lru_cache(maxsize=None)
def _xpath(bericht: str) -> etree.XPath:
    """One compiled XPath per message type: all field values of a record, joined by SEP."""
    spec = SPECS[bericht]
    nsmap = {"m": config.ns_bericht(bericht), "b": NS_BASIS}
    parts = f", '{SEP}', ".join(f"string({path})" for _col, path in spec.fields)
    return etree.XPath(f"concat({parts})", namespaces=nsmap)


def _classify_syntax_error(exc: etree.XMLSyntaxError) -> tuple[str, str]:
    msg = (getattr(exc, "msg", None) or str(exc)).strip()
    line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
    where = f" (regel {line})" if line and "line" not in msg else ""
    low = msg.lower()
    if "utf-8" in low or "encoding" in low:
        return "codering_ongeldig", f"geen geldige UTF-8-tekst: {msg}{where}"
    if "document is empty" in low:
        return "bestand_leeg", "leeg bestand"
    return "xml_onleesbaar", f"XML onleesbaar (afgebroken of misvormd): {msg}{where}"


def read_message(source: str | Path, *, file_idx: int = 0, sinks: dict[str, Sink] | None = None,
                 batch_size: int = 50_000, info: MessageInfo | None = None) -> tuple[MessageInfo, dict[str, Sink]]:
    """Read one message file into ``sinks`` (one :class:`Sink` per message type).

    Returns the message's :class:`MessageInfo` and the sinks (created when not
    given). Raises :class:`MessageError` when the file is not a readable iJw 3.2
    message; rows that were already added for this file must then be discarded
    by the caller (they carry ``_file == file_idx``). ``info``, when given, is
    filled in place (the header is known before the first record is handed on,
    so a sink's ``on_batch`` can look it up).
    """
    sinks = {} if sinks is None else sinks
    info = MessageInfo() if info is None else info
    path = Path(source)
    with open(path, "rb") as raw:
        size = path.stat().st_size
        if size == 0 or (size < 4096 and not raw.read().strip()):
            raise MessageError("bestand_leeg", "leeg bestand")
        raw.seek(0)
        try:
            _sniff(raw, info)
            if info.status != "ok":
                return info, sinks
            raw.seek(0)
            fh = _HashingFile(raw)
            _parse(fh, info, sinks, file_idx, batch_size)
        except etree.XMLSyntaxError as exc:
            regel, melding = _classify_syntax_error(exc)
            raise MessageError(regel, melding, info.bericht) from None
        info.sha256 = fh.h.hexdigest()
    return info, sinks


_ROOT_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?Bericht[\s>/]")
_PROLOG_RE = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s|<\?[^<>]*\?>)*")


def _sniff_fast(head: bytes) -> str | None:
    """The root namespace from the first bytes (regex), or None when unsure."""
    m = _ROOT_RE.search(head)
    # only a BOM, whitespace and <?xml ...?> may come before the root: else look properly
    if m is None or not _PROLOG_RE.fullmatch(head[: m.start()]):
        return None
    end = head.find(b">", m.end() - 1)
    if end < 0:
        return None
    tag = head[m.start(): end]
    prefix = m.group(1)
    attr = rb"xmlns:" + re.escape(prefix) if prefix else rb"xmlns"
    ns = re.search(attr + rb"\s*=\s*[\"']([^\"']*)[\"']", tag)
    if ns is None:
        return None
    try:
        return ns.group(1).decode("ascii")
    except UnicodeDecodeError:
        return None


def _classify_namespace(namespace: str | None, localname: str, info: MessageInfo) -> None:
    m = _NS_RE.match(namespace or "")
    if localname != "Bericht" or m is None:
        raise MessageError("namespace_onbekend",
                           f"geen iJw-bericht (hoofdelement {{{namespace or ''}}}{localname})")
    version, kind = m.group(1), m.group(2).upper()
    info.namespace = namespace
    if version != "3_2":
        raise MessageError("namespace_onbekend",
                           f"{kind}-bericht van iJw {version.replace('_', '.')} (namespace {namespace}); "
                           f"alleen iJw 3.2 wordt gelezen")
    info.bericht = kind
    if kind not in SPECS or kind not in config.BERICHTEN:
        info.status = "overgeslagen"


def _sniff(fh, info: MessageInfo) -> None:
    """Find the root element and decide from its namespace what the message is.

    Fast path: a regex over the first 4 KB (the parse then checks the root it
    finds); otherwise an incremental parse up to the root's start tag.
    """
    head = fh.read(4096)
    ns = _sniff_fast(head)
    if ns is not None:
        _classify_namespace(ns, "Bericht", info)
        return
    fh.seek(0)
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True,
                                 load_dtd=False)
    root = None
    while root is None:
        chunk = fh.read(2048)
        if not chunk:
            parser.close()  # raises XMLSyntaxError on an empty or unfinished document
            break
        parser.feed(chunk)
        for _event, el in parser.read_events():
            root = el
            break
    if root is None:
        raise MessageError("namespace_onbekend", "geen iJw-bericht (geen hoofdelement)")
    qn = etree.QName(root)
    _classify_namespace(qn.namespace, qn.localname, info)


def _parse(fh, info: MessageInfo, sinks: dict[str, Sink], file_idx: int, batch_size: int) -> None:
    kind = info.bericht
    spec = SPECS[kind]
    sink = sinks.get(kind)
    if sink is None:
        sink = sinks[kind] = Sink(spec, batch_size)
    rows = sink.rows
    t_root, t_header, t_client, t_bsn, t_geb, t_gesl, t_decl, t_record, t_datum, t_afz, t_ont, t_bid, \
        t_ident, t_dagt = _tags(info.namespace, kind)
    watch = [t_root, t_header, t_client, t_bsn, t_decl, t_record]
    if kind != "JW323":
        watch += [t_geb, t_gesl]
    it = etree.iterparse(fh, events=("start", "end"), tag=watch, resolve_entities=False,
                         no_network=True, load_dtd=False, remove_blank_text=True,
                         remove_comments=True)
    xp = _xpath(kind)
    client_n = 0
    rec_n = 0
    bsn = geb = gesl = None
    n = 0
    limit = sink.batch_size
    first = next(it, None)
    if first is None or first[0] != "start" or first[1].tag != t_root or first[1].getparent() is not None:
        # the quick look at the first bytes was wrong: this is not the message it seemed
        raise MessageError("namespace_onbekend", "geen iJw-bericht (hoofdelement is niet " + t_root + ")")
    for event, el in it:
        tag = el.tag
        if event == "end":
            if tag == t_record:
                rec_n += 1
                rows.append([xp(el), bsn, geb, gesl, file_idx, client_n, rec_n])
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
                info.afzender = el.findtext(t_afz)
                info.ontvanger = el.findtext(t_ont)
                bid = el.find(t_bid)
                if bid is not None:
                    info.identificatie = bid.findtext(t_ident)
                    info.dagtekening = bid.findtext(t_dagt)
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
