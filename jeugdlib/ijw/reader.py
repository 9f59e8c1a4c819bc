"""Streaming reader for iJw messages (JW301, JW305, JW307, JW315, JW323, JW325).

iJw releases 3.0, 3.1 and 3.2 are read alike: the elements read sit at the same
paths, under the namespaces of their release (``.../ijw/3_0/...``); the release is
in :attr:`MessageInfo.release`. JW325 (Declaratie-antwoord) is read by lxml only
(its RetourCodes repeat within a record).

Two readers that give the same records:

* large files (:data:`FAST_MIN_BYTES` and up): the vectorised reader
  (:class:`_FastReader`), which reads the file in blocks of :data:`BLOCK_BYTES`,
  lets libxml2 check well-formedness without building a tree, and finds the
  values with Arrow string kernels and numpy over a whole block at once; it
  hands XML it does not read exactly (comments, CDATA, entities, attributes,
  namespaces declared below the root, ...) to lxml;
* small files, and the rest: one pass of lxml (a tree per small file,
  ``iterparse`` for a large one), restricted to the few tags that matter,
  clearing every record element as soon as it is read.

Either way memory stays flat however large the message. Values are collected
as raw strings and handed out as column-oriented :class:`pyarrow.Table`
batches; checking, typing and pseudonymising them is the job of
:mod:`jeugdlib.ingest`, vectorised per batch.

A *record* is one ToegewezenProduct (JW301), StartProduct (JW305), StopProduct
(JW307), AangevraagdProduct (JW315) or Prestatie (JW323). Every batch carries,
besides the fields of :data:`SPECS`, the client-level fields (``bsn``,
``geboortedatum``, ``geslacht``; missing = null) and the record position:
``_file`` (index the caller gave), ``_client`` (1-based Client number in the
message) and ``_rec`` (1-based record number within that Client).

Header fields (Afzender, Ontvanger, BerichtIdentificatie, DeclaratieNummer) are
per message, in :class:`MessageInfo`. Names, addresses, contact details and
``Commentaar`` are never read.

A file that is not a readable iStandaarden message raises :class:`MessageError`
with a short rule id (``bestand_leeg``, ``codering_ongeldig``, ``xml_onleesbaar``,
``namespace_onbekend``); a message of a type not in
:data:`jeugdlib.config.BERICHTEN`, of another iJw release (2.x) or of another
iStandaard (iWmo) is returned with ``status == "overgeslagen"`` and no records.

``read_message`` takes a path, the bytes of a message (e.g. a zip member) or an
open binary file with its ``size``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import itertools
import os
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from .. import config

NS_BASIS = config.NS_BASIS
_NS_RE = re.compile(r"^http://www\.istandaarden\.nl/(\w+)/(\d+_\d+)/(\w+)/schema$")


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
    #: fields (at the end of ``fields``) that may occur several times per record: all their
    #: values, joined with "," (e.g. the RetourCodes of a JW325 Prestatie). Read by lxml only.
    multi: tuple[str, ...] = ()

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
            ("status_aanlevering", "m:StatusAanlevering"),
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
            ("status_aanlevering", "m:StatusAanlevering"),
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
    # Declaratie-antwoord: one record per rejected Prestatie (the BSN is not read: the
    # rejection links to the declaration line by DeclaratieNummer + ReferentieNummer).
    "JW325": RecordSpec(
        "JW325", "afwijzingen", "Prestatie",
        (
            ("referentie_nr", "m:ProductReferentie/b:ReferentieNummer"),
            ("toewijzing_nr", "m:ToewijzingNummer"),
            ("bedrag", "m:IngediendBedrag/b:Bedrag"),
            ("debet_credit", "m:IngediendBedrag/b:DebetCredit"),
            ("retourcodes", "m:RetourCodes/m:RetourCode"),
        ),
        (), afzender="gemeentecode", ontvanger="agb", multi=("retourcodes",),
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
    #: basisschema namespace of the message's release
    basis: str | None = None
    #: iJw release, e.g. "3.2" ("2.4" for a skipped older message, None for another standard)
    release: str | None = None
    #: the iStandaard of the namespace: "ijw", "iwmo", ...
    standaard: str | None = None
    status: str = "ok"  # ok | overgeslagen
    afzender: str | None = None
    ontvanger: str | None = None
    identificatie: str | None = None
    dagtekening: str | None = None
    declaratie_nr: str | None = None
    #: JW323 DeclaratieDagtekening
    declaratiedatum: str | None = None
    #: JW325 DeclaratieAntwoord: totals (TotaalBedrag, DebetCredit) and its own RetourCodes
    totaal_ingediend: str | None = None
    totaal_ingediend_dc: str | None = None
    totaal_toegekend: str | None = None
    retourcodes: str | None = None
    n_records: int = 0
    sha256: str | None = None


#: Separator between field values of one record (XPath concat). U+241F SYMBOL FOR UNIT
#: SEPARATOR: XML allows no real control characters, and this one does not occur in
#: iJw data; a record whose values contain it reads as all-empty (element_ontbreekt).
SEP = "\u241f"


class Sink:
    """Collects raw records of one message type over one or more files.

    The lxml reader appends rows ``[joined field values, bsn, geboortedatum,
    geslacht, file, client, rec]`` to :attr:`rows`; the vectorised reader adds
    whole column tables with :meth:`add_table`. Once ``batch_size`` records are
    pending they become one :class:`pyarrow.Table` (split vectorised) passed to
    ``on_batch`` (default: kept in :attr:`tables`). Records keep their order.
    """

    def __init__(self, spec: RecordSpec, batch_size: int = 50_000,
                 on_batch: Callable[[pa.Table], None] | None = None):
        self.spec = spec
        self.batch_size = batch_size
        self.rows: list[list] = []
        self.tables: list[pa.Table] = []
        self.on_batch = on_batch or self.tables.append
        self._pending: list[pa.Table] = []
        self._pending_n = 0

    def _rows_table(self) -> pa.Table:
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
        return pa.Table.from_arrays(arrays, names=self.spec.columns)

    def add_table(self, table: pa.Table) -> None:
        """Add records as a table with :attr:`RecordSpec.columns` (vectorised reader)."""
        if self.rows:
            t = self._rows_table()
            self._pending.append(t)
            self._pending_n += t.num_rows
        if table.num_rows:
            self._pending.append(table)
            self._pending_n += table.num_rows
        if self._pending_n >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            t = self._rows_table()
            self._pending.append(t)
            self._pending_n += t.num_rows
        if not self._pending:
            return
        parts, self._pending, self._pending_n = self._pending, [], 0
        table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        self.on_batch(table)

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
def _tags(ns: str, basis: str, kind: str) -> tuple[str, ...]:
    """Qualified tag names the parser watches, per namespace and message type."""
    spec = SPECS[kind]
    return (_q(ns, "Bericht"), _q(ns, "Header"), _q(ns, "Client"), _q(ns, "Bsn"), _q(ns, "Geboortedatum"),
            _q(ns, "Geslacht"), _q(ns, "DeclaratieNummer"), _q(ns, spec.record), _q(basis, "Datum"),
            _q(ns, "Afzender"), _q(ns, "Ontvanger"), _q(ns, "BerichtIdentificatie"),
            _q(basis, "Identificatie"), _q(basis, "Dagtekening"), _q(ns, "DeclaratieDagtekening"),
            _q(ns, "DeclaratieAntwoord"))


@functools.lru_cache(maxsize=64)
def _xpath(bericht: str, ns: str, basis: str) -> tuple[etree.XPath, tuple[etree.XPath, ...]]:
    """Compiled XPaths per message type and namespace: all single field values of a record
    joined by SEP, and one per multi-valued field (its text nodes)."""
    spec = SPECS[bericht]
    nsmap = {"m": ns, "b": basis}
    single = [path for col, path in spec.fields if col not in spec.multi]
    parts = f", '{SEP}', ".join(f"string({path})" for path in single)
    one = etree.XPath(f"concat({parts})" if len(single) > 1 else f"string({single[0]})", namespaces=nsmap)
    multi = tuple(etree.XPath(f"{path}/text()", namespaces=nsmap)
                  for col, path in spec.fields if col in spec.multi)
    return one, multi


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


#: Files of at least this many bytes are read by the vectorised reader (:class:`_FastReader`);
#: smaller ones by lxml ``iterparse``, which has less overhead per file.
FAST_MIN_BYTES = 256 << 10
#: Bytes per block of the vectorised reader (memory stays a small multiple of this).
BLOCK_BYTES = 8 << 20
#: lxml reads a file up to this size whole (one tree); larger ones stream (iterparse).
WHOLE_MAX_BYTES = 1 << 20


class Unsupported(Exception):
    """The vectorised reader met a construct it leaves to lxml (comment, entity, attribute, ...).

    Raised by :func:`read_message` only after records of the file were already
    handed on; the caller discards them and reads the file again with ``fast=False``.
    """

    def __init__(self, file_idx: int, why: str):
        super().__init__(why)
        self.file_idx = file_idx


def read_message(source, *, file_idx: int = 0, sinks: dict[str, Sink] | None = None,
                 batch_size: int = 50_000, info: MessageInfo | None = None,
                 fast: bool | None = None, size: int | None = None) -> tuple[MessageInfo, dict[str, Sink]]:
    """Read one message file into ``sinks`` (one :class:`Sink` per message type).

    Returns the message's :class:`MessageInfo` and the sinks (created when not
    given). Raises :class:`MessageError` when the file is not a readable iJw 3.2
    message; rows that were already added for this file must then be discarded
    by the caller (they carry ``_file == file_idx``). ``info``, when given, is
    filled in place (the header is known before the first record is handed on,
    so a sink's ``on_batch`` can look it up).

    ``fast``: use the vectorised reader (default: for files of at least
    :data:`FAST_MIN_BYTES`). Both readers give the same records; the vectorised
    one hands a file it cannot read exactly to lxml, before it handed on any
    record when it can, else by raising :class:`Unsupported` (discard the
    file's rows and call again with ``fast=False``).
    """
    sinks = {} if sinks is None else sinks
    info = MessageInfo() if info is None else info
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = len(source)
        source = io.BytesIO(source)
    if isinstance(source, (str, Path)):
        with open(source, "rb") as raw:
            return _read_open(raw, os.fstat(raw.fileno()).st_size, file_idx, sinks, batch_size, info, fast)
    if size is None:
        raise TypeError("read_message: give size= with a file object")
    return _read_open(source, size, file_idx, sinks, batch_size, info, fast)


def _read_open(raw, size: int, file_idx: int, sinks: dict[str, Sink], batch_size: int, info: MessageInfo,
               fast: bool | None) -> tuple[MessageInfo, dict[str, Sink]]:
    """:func:`read_message` on an open binary file (seekable) of ``size`` bytes."""
    use_fast = (size >= FAST_MIN_BYTES) if fast is None else fast
    # a small file is read whole once: parse, sniff and hash from memory
    whole = raw.read() if (not use_fast and size <= WHOLE_MAX_BYTES) else None
    src = raw if whole is None else io.BytesIO(whole)
    if size == 0 or (size < 4096 and not (whole if whole is not None else raw.read()).strip()):
        raise MessageError("bestand_leeg", "leeg bestand")
    src.seek(0)
    try:
        head = _sniff(src, info)
        if info.status != "ok":
            return info, sinks
        prolog = (_fast_prolog(head, info.namespace) if (use_fast and head is not None
                                                        and not SPECS[info.bericht].multi) else None)
        sink = sinks.get(info.bericht)
        if sink is None:
            sink = sinks[info.bericht] = Sink(SPECS[info.bericht], batch_size)
        if prolog is not None:
            src.seek(0)
            fr = _FastReader(info, sink, file_idx, *prolog)
            try:
                info.sha256 = fr.run(src)
                return info, sinks
            except Unsupported:
                if fr.handed_on:
                    raise
                # nothing handed on yet: read it with lxml instead
                for k in ("afzender", "ontvanger", "identificatie", "dagtekening", "declaratie_nr",
                          "declaratiedatum"):
                    setattr(info, k, None)
                info.n_records = 0
        src.seek(0)
        if whole is not None:
            _parse(src, info, sinks, file_idx, batch_size, whole=whole)
            info.sha256 = hashlib.sha256(whole).hexdigest()
        else:
            fh = _HashingFile(src)
            _parse(fh, info, sinks, file_idx, batch_size)
            info.sha256 = fh.h.hexdigest()
    except etree.XMLSyntaxError as exc:
        regel, melding = _classify_syntax_error(exc)
        raise MessageError(regel, melding, info.bericht) from None
    return info, sinks


_ROOT_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?Bericht[\s>/]")
_PROLOG_RE = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s|<\?[^<>]*\?>)*")


def _sniff_fast(head: bytes) -> str | None:
    """The root namespace from the first bytes (regex), or None when unsure.

    Cached on the bytes up to the first ``>`` after ``Bericht`` (the prolog and root start
    tag, the same in every message of a kind): the regexes run once per distinct prolog.
    """
    k = head.find(b"Bericht")
    e = head.find(b">", k) if k >= 0 else -1
    if 0 <= e < 2048:
        return _sniff_prolog(head[: e + 1])
    return _sniff_prolog.__wrapped__(head)


@functools.lru_cache(maxsize=1024)
def _sniff_prolog(head: bytes) -> str | None:
    m = _ROOT_RE.search(head)
    # only a BOM, whitespace and <?xml ...?> may come before the root: else look properly
    if m is None or not _PROLOG_RE.fullmatch(head[: m.start()]):
        return None
    end = head.find(b">", m.end() - 1)
    if end < 0:
        return None
    tag = head[m.start(): end]
    prefix = m.group(1)
    for ns in _XMLNS_RE.finditer(tag):  # the first declaration of the root's prefix
        if ns.group(1) == prefix:
            try:
                return ns.group(2).decode("ascii")
            except UnicodeDecodeError:
                return None
    return None


_XMLNS_RE = re.compile(rb"xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*[\"']([^\"']*)[\"']")


def _classify_namespace(namespace: str | None, localname: str, info: MessageInfo) -> None:
    """Decide from the root's namespace what the message is.

    iJw releases 3.0-3.2 are read alike (the elements read sit at the same paths);
    an iJw message of another release (2.x) or a message of another iStandaard
    (iWmo, ...) is skipped (``status == "overgeslagen"``), not quarantined.
    """
    got = _namespace_kind(namespace or "", localname)
    if got is None:
        raise MessageError("namespace_onbekend",
                           f"geen iJw-bericht (hoofdelement {{{namespace or ''}}}{localname})")
    info.namespace = namespace
    info.standaard, info.bericht, info.release, info.basis, info.status = got


@functools.lru_cache(maxsize=256)
def _namespace_kind(namespace: str, localname: str) -> tuple | None:
    """(standaard, bericht, release, basis namespace, status) of a root, or None when it is
    no iStandaarden message (cached: a dataset holds a handful of namespaces)."""
    m = _NS_RE.match(namespace)
    if localname != "Bericht" or m is None:
        return None
    standaard, version, kind = m.group(1).lower(), m.group(2), m.group(3).upper()
    if standaard != "ijw":
        return standaard, kind, None, None, "overgeslagen"
    release = version.replace("_", ".")
    ok = release in config.RELEASES and kind in SPECS and kind in config.BERICHTEN
    return standaard, kind, release, config.ns_basis(release), "ok" if ok else "overgeslagen"


def _sniff(fh, info: MessageInfo) -> bytes | None:
    """Find the root element and decide from its namespace what the message is.

    Fast path: a regex over the first 4 KB (the parse then checks the root it
    finds; returns those bytes); otherwise an incremental parse up to the
    root's start tag (returns None).
    """
    head = fh.read(4096)
    ns = _sniff_fast(head)
    if ns is not None:
        _classify_namespace(ns, "Bericht", info)
        return head
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
    return None


_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True,
                       remove_comments=True)
#: One parser per process for small messages read whole (creating a parser per file costs more
#: than parsing a small message).
_TREE_PARSER = etree.XMLParser(**_PARSER_OPTIONS)


def _parse(fh, info: MessageInfo, sinks: dict[str, Sink], file_idx: int, batch_size: int,
           whole: bytes | None = None) -> None:
    """The lxml reader: ``iterparse`` over ``fh``, or, for a small message given ``whole``,
    one parse into a tree and ``iterwalk`` over it (the same events, in the same order)."""
    kind = info.bericht
    spec = SPECS[kind]
    sink = sinks.get(kind)
    if sink is None:
        sink = sinks[kind] = Sink(spec, batch_size)
    rows = sink.rows
    t_root, t_header, t_client, t_bsn, t_geb, t_gesl, t_decl, t_record, t_datum, t_afz, t_ont, t_bid, \
        t_ident, t_dagt, t_decl_dag, t_antw = _tags(info.namespace, info.basis, kind)
    watch = [t_root, t_header, t_client, t_decl, t_record]
    if "bsn" in spec.client:
        watch.append(t_bsn)
    if "geboortedatum" in spec.client:
        watch += [t_geb, t_gesl]
    if kind == "JW323":
        watch.append(t_decl_dag)
    if kind == "JW325":
        watch.append(t_antw)
    if whole is not None:
        it = etree.iterwalk(etree.fromstring(whole, _TREE_PARSER), events=("start", "end"), tag=watch)
    else:
        it = etree.iterparse(fh, events=("start", "end"), tag=watch, **_PARSER_OPTIONS)
    xp, xp_multi = _xpath(kind, info.namespace, info.basis)
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
                val = xp(el)
                for x in xp_multi:
                    val += SEP + ",".join(s.strip() for s in x(el))
                rows.append([val, bsn, geb, gesl, file_idx, client_n, rec_n])
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
            elif tag == t_decl_dag:
                info.declaratiedatum = el.text
            elif tag == t_antw:
                n += _antwoord(el, info, rows, file_idx, len(spec.fields))
        elif tag == t_client:
            client_n += 1
            rec_n = 0
            bsn = geb = gesl = None
    info.n_records = n


def _antwoord(el, info: MessageInfo, rows: list, file_idx: int, nf: int) -> int:
    """JW325 DeclaratieAntwoord: its totals and RetourCodes; a declaration that is granted
    nothing (TotaalToegekendBedrag 0, TotaalIngediendBedrag above 0) is rejected whole: one
    record with the declared total, empty ReferentieNummer and ToewijzingNummer, position 0/0."""
    ns, basis = info.namespace, info.basis

    def total(tag: str) -> tuple[str | None, str | None]:
        node = el.find(_q(ns, tag))
        if node is None:
            return None, None
        return node.findtext(_q(basis, "TotaalBedrag")), node.findtext(_q(basis, "DebetCredit"))

    info.totaal_ingediend, info.totaal_ingediend_dc = total("TotaalIngediendBedrag")
    info.totaal_toegekend, _dc = total("TotaalToegekendBedrag")
    codes = [(c.text or "").strip() for c in el.iterfind(f"{_q(ns, 'RetourCodes')}/{_q(ns, 'RetourCode')}")]
    info.retourcodes = ",".join(codes)

    def num(s):
        s = (s or "").strip()
        return int(s) if s.isdigit() else None

    ing, toe = num(info.totaal_ingediend), num(info.totaal_toegekend)
    if ing is not None and ing > 0 and toe == 0:
        vals = ["", "", info.totaal_ingediend or "", info.totaal_ingediend_dc or "", info.retourcodes]
        assert len(vals) == nf
        rows.append([SEP.join(vals), None, None, None, file_idx, 0, 0])
        return 1
    return 0


def read_records(source: str | Path) -> tuple[MessageInfo, pa.Table]:
    """Convenience: read one message and return its info and raw records as one table."""
    info, sinks = read_message(source)
    if info.bericht in sinks:
        return info, sinks[info.bericht].table()
    if info.bericht in SPECS:
        return info, empty_batch(SPECS[info.bericht])
    return info, pa.table({})


# --------------------------------------------------------------------------- vectorised reader
#
# lxml builds a tree node for every element and a Python object for every record,
# which caps it at some 30-60 thousand records per second. The vectorised reader
# below hands the bytes to libxml2 only as a well-formedness check (a SAX parser
# without callbacks: no tree), and finds the values with Arrow string kernels and
# numpy over the whole block at once: split at '<', then at the first '>', into
# (tag, following text) tokens; tags are dictionary-encoded, so the few distinct
# tags are classified in Python and everything per token is array arithmetic
# (depth by cumulative sum, parent by forward fill per depth level).
#
# It reads exactly what the lxml reader reads, for the XML it accepts: UTF-8,
# namespace declarations only on the root, no comments, CDATA, processing
# instructions, entity or character references, attributes, or record elements
# nested in one another. Anything else is read by lxml instead.

_ROOT_TAG_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?Bericht((?:\s+[A-Za-z_][\w.:-]*\s*=\s*"
                          rb"(?:\"[^\"<&]*\"|'[^'<&]*'))*)\s*>")
_ATTR_RE = re.compile(rb"([A-Za-z_][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ENCODING_RE = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)[\"']")
_NAME_RE = re.compile(r"^(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)$")


_SEP_BYTES = SEP.encode("utf-8")


class _NullTarget:
    """SAX target without callbacks: libxml2 checks well-formedness, builds nothing."""

    def close(self):
        return None


def _fast_prolog(head: bytes, namespace: str) -> tuple[int, dict[str, str]] | None:
    """(offset just past the root start tag, prefix -> namespace) or None when lxml should read."""
    m = _ROOT_TAG_RE.search(head)
    if m is None or not _PROLOG_RE.fullmatch(head[: m.start()]):
        return None
    enc = _ENCODING_RE.search(head[: m.start()])
    if enc is not None and enc.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    nsmap: dict[str, str] = {}
    for a in _ATTR_RE.finditer(m.group(2)):
        name, val = a.group(1), a.group(2) if a.group(2) is not None else a.group(3)
        if name == b"xmlns":
            nsmap[""] = val.decode("utf-8")
        elif name.startswith(b"xmlns:"):
            nsmap[name[6:].decode("utf-8")] = val.decode("utf-8")
    if nsmap.get((m.group(1) or b"").decode("ascii")) != namespace:
        return None
    return m.end(), nsmap


def _ffill_last(mask: np.ndarray, init: int) -> np.ndarray:
    """For every position: the index of the last True at or before it (``init`` before the first)."""
    idx = np.where(mask, np.arange(len(mask), dtype=np.int64), np.int64(init))
    return np.maximum.accumulate(idx)


class _FastReader:
    """Vectorised reader of one message (see the comment above). ``run`` returns the sha256."""

    def __init__(self, info: MessageInfo, sink: Sink, file_idx: int, root_end: int, nsmap: dict[str, str]):
        self.info, self.sink, self.file_idx = info, sink, file_idx
        self.root_end, self.nsmap = root_end, nsmap
        self.spec = spec = SPECS[info.bericht]
        ns = info.namespace
        self.names: dict[tuple[str | None, str], int] = {}
        q = self._id
        self.t_root = q(ns, "Bericht")
        self.t_rec, self.t_client, self.t_bsn = q(ns, spec.record), q(ns, "Client"), q(ns, "Bsn")
        basis = info.basis
        self.t_geb, self.t_gesl, self.t_datum = q(ns, "Geboortedatum"), q(ns, "Geslacht"), q(basis, "Datum")
        self.t_header, self.t_decl = q(ns, "Header"), q(ns, "DeclaratieNummer")
        self.t_decl_dag = q(ns, "DeclaratieDagtekening")
        self.t_afz, self.t_ont, self.t_bid = q(ns, "Afzender"), q(ns, "Ontvanger"), q(ns, "BerichtIdentificatie")
        self.t_ident, self.t_dagt = q(basis, "Identificatie"), q(basis, "Dagtekening")
        pre = {"m": ns, "b": basis}
        self.fields = [tuple(q(pre[step.split(":")[0]], step.split(":")[1]) for step in path.split("/"))
                       for _col, path in spec.fields]
        if any(len(f) > 2 for f in self.fields):  # pragma: no cover - SPECS paths have 1 or 2 steps
            raise ValueError("field paths of more than two steps")
        self.client_fields = spec.client if info.bericht != "JW323" else ("bsn",)
        mp = next((k for k, v in nsmap.items() if v == ns), None)
        rec = spec.record if not mp else f"{mp}:{spec.record}"
        cli = "Client" if not mp else f"{mp}:Client"
        self.cut_tags = [f"</{rec}".encode(), f"</{cli}".encode()]
        # state carried from block to block
        self.stack: list[int] = [self.t_root]  # names of the open elements
        self.client_n = 0
        self.rec_n = 0
        self.carry = {c: None for c in CLIENT_FIELDS}
        self.handed_on = False
        self._tag_cache: dict[str, tuple[int, int]] = {}
        #: several whole messages in one block (:func:`read_batch`): their MessageInfo and file index
        self.batch: tuple[list[MessageInfo], np.ndarray] | None = None

    def _id(self, ns: str | None, local: str) -> int:
        return self.names.setdefault((ns, local), len(self.names))

    def _unsupported(self, why: str):
        raise Unsupported(self.file_idx, why)

    def _classify(self, tag: str) -> tuple[int, int]:
        """(kind, name id) of a tag text: kind 1 start, -1 end, 0 empty element."""
        got = self._tag_cache.get(tag)
        if got is not None:
            return got
        kind, t = 1, tag
        if t.startswith("/"):
            kind, t = -1, t[1:]
        elif t.endswith("/"):
            kind, t = 0, t[:-1]
        t = t.rstrip(" \t\r\n")
        m = _NAME_RE.match(t)
        if m is None:
            self._unsupported(f"tag {tag[:40]!r}")
        prefix = m.group(1) or ""
        if prefix not in self.nsmap and prefix:
            self._unsupported(f"prefix {prefix!r}")
        got = (kind, self._id(self.nsmap.get(prefix), m.group(2)))
        self._tag_cache[tag] = got
        return got

    # ------------------------------------------------------------------ driver

    def run(self, fh) -> str:
        parser = etree.XMLParser(target=_NullTarget(), resolve_entities=False, no_network=True, load_dtd=False)
        h = hashlib.sha256()
        first = fh.read(max(BLOCK_BYTES, self.root_end))
        h.update(first)
        parser.feed(first)
        buf = first[self.root_end:]
        eof = False
        while True:
            if not eof:
                data = fh.read(BLOCK_BYTES)
                if data:
                    h.update(data)
                    parser.feed(data)
                    buf += data
                else:
                    eof = True
                    parser.close()  # raises on a truncated or otherwise broken document
            cut = len(buf) if eof else self._cut(buf)
            if cut == 0 and len(buf) > max(4 * BLOCK_BYTES, 1 << 20):  # no record/Client end in sight: lxml
                self._unsupported("no record or Client end tag in 4 blocks")
            if cut > 0:
                try:
                    self._block(buf, cut)
                except (pa.ArrowException, IndexError, ValueError) as exc:
                    self._unsupported(f"{type(exc).__name__}: {exc}")
                buf = buf[cut:]
            if eof:
                break
        if self.stack:  # pragma: no cover - libxml2 has checked the document is complete
            self._unsupported("open elements at the end")
        return h.hexdigest()

    def _cut(self, buf: bytes) -> int:
        """A point just after the last record or Client end tag in ``buf`` (0: none yet)."""
        best = 0
        for pat in self.cut_tags:
            k = buf.rfind(pat)
            while k >= 0:
                nxt = buf[k + len(pat): k + len(pat) + 1]
                if nxt in (b">", b" ", b"\t", b"\r", b"\n"):
                    j = buf.find(b">", k)
                    if j > 0:
                        best = max(best, j + 1)
                    break
                k = buf.rfind(pat, 0, k)
        return best

    # ------------------------------------------------------------------ one block

    def _block(self, buf: bytes, end: int) -> None:
        """Read the records in ``buf[:end]`` (no copy of the bytes)."""
        if buf.find(b"&", 0, end) >= 0 or buf.find(_SEP_BYTES, 0, end) >= 0:
            self._unsupported("entity reference or separator character")
        # one string over the block's bytes, without a copy (pa.array from a str is slow)
        text_all = pa.LargeStringArray.from_buffers(
            1, pa.py_buffer(np.array([0, end], dtype=np.int64)), pa.py_buffer(buf))
        text_all.validate(full=True)  # UTF-8 (libxml2 has checked it too)
        pieces = pc.list_flatten(pc.split_pattern(text_all, "<"))[1:]
        n = len(pieces)
        if n == 0:
            return
        tp = pc.split_pattern(pieces, ">", max_splits=1)
        if pc.min(pc.list_value_length(tp)).as_py() != 2:
            self._unsupported("tag without '>'")
        enc = pc.dictionary_encode(pc.list_element(tp, 0))
        text = pc.list_element(tp, 1)
        del tp, pieces, text_all
        if buf.find(b"\r", 0, end) >= 0:  # XML line ends: CR LF and lone CR read as LF
            text = pc.replace_substring(pc.replace_substring(text, "\r\n", "\n"), "\r", "\n")
        kn = np.array([self._classify(t) for t in enc.dictionary.to_pylist()], dtype=np.int32).reshape(-1, 2)
        codes = enc.indices.to_numpy(zero_copy_only=False)
        kind = kn[codes, 0]
        d0 = len(self.stack)
        depth_after = np.cumsum(kind, dtype=np.int32)
        depth_after += d0
        low = int(depth_after.min())
        if low < 0:  # pragma: no cover - libxml2 has checked nesting
            self._unsupported("more end tags than start tags")
        # from here on only the opening tags (start tags and empty elements), "compressed"
        op = np.flatnonzero(kind != -1)
        o_kind = kind[op]
        o_name = kn[codes[op], 1].astype(np.int16)
        o_start = o_kind == 1
        o_depth = depth_after[op] + (1 - o_kind)
        o_leaf = ~o_start | (kind[np.minimum(op + 1, n - 1)] == -1)
        # elements still open at the end: start tags the depth never drops below afterwards
        suffix_min = np.minimum.accumulate(depth_after[::-1])[::-1]
        open_end = o_start & (suffix_min[op] >= o_depth)
        if self.batch is not None:
            self._check_batch(kind, kn[codes, 1], depth_after, text)
        del kind, depth_after, suffix_min, codes
        new_stack = self.stack[: min(low, d0)] + [int(x) for x in o_name[open_end]]
        # bucket the opening tags by name (stable radix sort on int16)
        order = np.argsort(o_name, kind="stable")
        bounds = np.searchsorted(o_name[order], np.arange(len(self.names) + 1))

        def bucket(tag: int) -> np.ndarray:
            return order[bounds[tag]: bounds[tag + 1]]

        stack_names = np.array(self.stack + [-1], dtype=np.int64)
        level_starts: dict[int, np.ndarray] = {}
        none = -(1 << 40)

        def parent_of(ci: np.ndarray) -> np.ndarray:
            """Parent of opening tags (compressed index; -L: open stack level L; `none`: unknown)."""
            out = np.full(len(ci), none, dtype=np.int64)
            ok = ci >= 0
            lv = np.where(ok, o_depth[np.maximum(ci, 0)] - 1, -1)
            for L in np.unique(lv[ok]):
                L = int(L)
                S = level_starts.get(L)
                if S is None:
                    S = level_starts[L] = np.flatnonzero(o_start & (o_depth == L))
                sel = ok & (lv == L)
                k = np.searchsorted(S, ci[sel]) - 1
                out[sel] = np.where(k >= 0, S[np.maximum(k, 0)], -L if 1 <= L <= d0 else none)
            return out

        def name_of(idx: np.ndarray) -> np.ndarray:
            return np.where(idx >= 0, o_name[np.maximum(idx, 0)], stack_names[np.clip(-1 - idx, 0, d0)])

        recs = bucket(self.t_rec)
        clients = bucket(self.t_client)
        if self.t_rec in self.stack or self.t_rec in new_stack:
            self._unsupported("unfinished record at a block boundary")
        if len(recs):
            rdepth = o_depth[recs]
            if (rdepth != rdepth[0]).any():
                self._unsupported("records at different depths")
            if len(clients) and o_depth[clients].max() >= rdepth[0]:
                self._unsupported("Client at or below record depth")
        roots = np.flatnonzero(o_depth == 1) if self.batch is not None else None
        if roots is None:
            self._header(o_name, o_depth, o_start, op, text, bucket)
        else:
            self._header_batch(o_start, op, text, bucket, parent_of, roots)
        nrec = len(recs)
        carried = [self.carry[c] for c in CLIENT_FIELDS]
        ext = pa.concat_arrays([text, pa.array(["", *carried], pa.large_string())])
        empty = n  # index of "" in ext
        cols: list[pa.Array] = []
        for path in self.fields:
            take = np.full(nrec, empty, dtype=np.int64)
            cand = bucket(path[-1])
            if nrec and len(cand):
                r = np.searchsorted(recs, cand, side="right") - 1
                rs = np.where(r >= 0, recs[np.maximum(r, 0)], none)
                par = parent_of(cand)
                if len(path) == 1:
                    good = par == rs
                else:
                    good = (name_of(par) == path[0]) & (parent_of(par) == rs)
                cand, r = cand[good], r[good]
                if len(cand):
                    first = np.ones(len(cand), dtype=bool)
                    first[1:] = r[1:] != r[:-1]
                    cand, r = cand[first], r[first]
                    if not o_leaf[cand].all():
                        self._unsupported("field element with child elements")
                    take[r] = np.where(o_start[cand], op[cand], empty)
            cols.append(pc.take(ext, pa.array(take)))
        # client-level values in force at each record: reset at Client start, then set by its children
        resets = clients if roots is None else np.union1d(clients, roots)  # a new message starts afresh
        client_vals = self._client_values(o_name, o_start, op, resets, bucket, parent_of, name_of, empty)
        for j, c in enumerate(CLIENT_FIELDS):
            ev_pos, ev_val = client_vals[c]
            k = np.searchsorted(ev_pos, recs, side="right") - 1
            take = np.where(k >= 0, ev_val[np.maximum(k, 0)] if len(ev_val) else empty, empty + 1 + j)
            cols.append(pc.take(ext, pa.array(take)))
            if len(ev_pos):  # carry to the next block
                v = int(ev_val[-1])
                self.carry[c] = text[v].as_py() if v < n else None
        if roots is not None:
            self._positions_batch(recs, clients, roots, cols)
            return
        k = np.searchsorted(clients, recs) - 1  # last Client before each record
        client_no = self.client_n + k + 1
        idx = np.arange(nrec, dtype=np.int64)
        rec_no = np.where(k >= 0, idx - np.searchsorted(recs, clients[np.maximum(k, 0)]) if len(clients) else 0,
                          idx + self.rec_n) + 1
        if len(clients):
            self.rec_n = int(nrec - np.searchsorted(recs, clients[-1]))
        else:
            self.rec_n += nrec
        self.client_n += len(clients)
        self.stack = new_stack
        if not nrec:
            return
        out = [_nullify(pc.utf8_trim_whitespace(c.cast(pa.string()))) for c in cols]
        out += [pa.array(np.full(nrec, self.file_idx, dtype=np.int64)), pa.array(client_no.astype(np.int64)),
                pa.array(rec_no.astype(np.int64))]
        self.info.n_records += nrec
        self.handed_on = True
        self.sink.add_table(pa.Table.from_arrays(out, names=self.spec.columns))

    # ------------------------------------------------------------------ several small messages at once

    def _check_batch(self, kind: np.ndarray, name: np.ndarray, depth_after: np.ndarray, text: pa.Array) -> None:
        """A batch block holds exactly its messages: one root element each, all closed at the end,
        and nothing but white space after a root's end tag (as libxml2 requires of a document)."""
        n_files = len(self.batch[1])
        ends = np.flatnonzero((kind == -1) & (depth_after == 0))
        if (len(ends) != n_files or int(np.count_nonzero((kind != -1) & (depth_after - (kind == 1) == 0))) != n_files
                or not (name[ends] == self.t_root).all() or depth_after[-1] != 0):
            self._unsupported("batch: not one root element per message")
        tail = pc.utf8_trim(text.take(pa.array(ends)), " \t\r\n")
        if pc.max(pc.binary_length(tail)).as_py():
            self._unsupported("batch: text after the root element")

    def _header_batch(self, o_start, op, text, bucket, parent_of, roots) -> None:
        """Header fields, DeclaratieNummer and DeclaratieDagtekening of every message in a batch
        (vectorised; a message with several or empty Headers is left to lxml)."""
        infos, _ids = self.batch
        n_files = len(infos)
        headers = bucket(self.t_header)
        if len(headers) and (np.bincount(np.searchsorted(roots, headers, side="right") - 1,
                                         minlength=n_files) > 1).any():
            self._unsupported("batch: several Headers in one message")
        if len(headers) and not o_start[headers].all():
            self._unsupported("batch: empty Header")
        n = len(text)

        def first_child(parents: np.ndarray, tag: int) -> np.ndarray:
            """Per parent: its first child ``tag`` (compressed index), -1 for none."""
            out = np.full(len(parents), -1, dtype=np.int64)
            cand = bucket(tag)
            if not len(cand) or not len(parents):
                return out
            par = parent_of(cand)
            keep = np.isin(par, parents)
            cand, par = cand[keep], par[keep]
            upar, first = np.unique(par, return_index=True)
            out[np.searchsorted(parents, upar)] = cand[first]
            return out

        def texts(idx: np.ndarray) -> list:
            """findtext: the text of these elements ("" for an empty element), None for -1."""
            ti = np.where(idx >= 0, np.where(o_start[np.maximum(idx, 0)], op[np.maximum(idx, 0)], n), n)
            vals = pc.take(pa.concat_arrays([text, pa.array([""], text.type)]), pa.array(ti)).to_pylist()
            return [v if i >= 0 else None for v, i in zip(vals, idx)]

        hfile = np.searchsorted(roots, headers, side="right") - 1
        afz, ont = texts(first_child(headers, self.t_afz)), texts(first_child(headers, self.t_ont))
        bid = first_child(headers, self.t_bid)
        has_bid = bid >= 0
        bid_start = has_bid & o_start[np.maximum(bid, 0)]
        ident = np.full(len(headers), -1, dtype=np.int64)
        dagt = np.full(len(headers), -1, dtype=np.int64)
        ident[bid_start] = first_child(bid[bid_start], self.t_ident)
        dagt[bid_start] = first_child(bid[bid_start], self.t_dagt)
        ident_t, dagt_t = texts(ident), texts(dagt)
        for j, f in enumerate(hfile.tolist()):
            info = infos[f]
            info.afzender, info.ontvanger = afz[j], ont[j]
            if has_bid[j]:
                info.identificatie, info.dagtekening = ident_t[j], dagt_t[j]
        for tag, attr in ((self.t_decl, "declaratie_nr"), (self.t_decl_dag, "declaratiedatum")):
            el = bucket(tag)
            if not len(el):
                continue
            f = np.searchsorted(roots, el, side="right") - 1
            last = np.flatnonzero(np.append(f[1:] != f[:-1], True))  # the last one of each message counts
            vals = texts(el[last])
            for fi, v in zip(f[last].tolist(), vals):
                setattr(infos[fi], attr, v or None)

    def _positions_batch(self, recs: np.ndarray, clients: np.ndarray, roots: np.ndarray, cols: list) -> None:
        """Hand on the records of a batch: Client and record numbers counted per message."""
        infos, ids = self.batch
        nrec = len(recs)
        self.stack = []
        if not nrec:
            return
        fr = np.searchsorted(roots, recs, side="right") - 1  # message of each record
        idx = np.arange(nrec, dtype=np.int64)
        first_rec = np.searchsorted(recs, roots)  # first record of each message
        if len(clients):
            fc = np.searchsorted(roots, clients, side="right") - 1
            k = np.searchsorted(clients, recs) - 1  # last Client before each record, in its message
            kk = np.maximum(k, 0)
            same = (k >= 0) & (fc[kk] == fr)
            first_client = np.searchsorted(fc, np.arange(len(roots)))
            client_no = np.where(same, k - first_client[fr] + 1, 0)
            rec_start = np.where(same, np.searchsorted(recs, clients[kk]), first_rec[fr])
        else:
            client_no = np.zeros(nrec, dtype=np.int64)
            rec_start = first_rec[fr]
        rec_no = idx - rec_start + 1
        out = [_nullify(pc.utf8_trim_whitespace(c.cast(pa.string()))) for c in cols]
        out += [pa.array(ids[fr]), pa.array(client_no.astype(np.int64)), pa.array(rec_no.astype(np.int64))]
        for f, m in enumerate(np.bincount(fr, minlength=len(roots)).tolist()):
            infos[f].n_records = m
        self.handed_on = True
        self.sink.add_table(pa.Table.from_arrays(out, names=self.spec.columns))

    def _client_values(self, o_name, o_start, op, clients, bucket, parent_of, name_of, empty) -> dict:
        """Per client field: (compressed positions, index into the text) of every change.

        ``clients``: the positions where the values are reset (Client starts; in a batch
        also the start of every message)."""
        out = {}
        for c, tag in (("bsn", self.t_bsn), ("geboortedatum", self.t_geb), ("geslacht", self.t_gesl)):
            if c not in self.client_fields:
                out[c] = (clients, np.full(len(clients), empty, dtype=np.int64))
                continue
            cand = bucket(tag)
            cand = cand[name_of(parent_of(cand)) == self.t_client]
            if c == "geboortedatum":
                # findtext(Datum): the first Datum child; none -> unset
                val = np.full(len(cand), empty, dtype=np.int64)
                dat = bucket(self.t_datum)
                if len(cand) and len(dat):
                    par = parent_of(dat)
                    keep = np.isin(par, cand)
                    dat, par = dat[keep], par[keep]
                    if len(dat):
                        first = np.ones(len(dat), dtype=bool)
                        first[1:] = par[1:] != par[:-1]
                        dat, par = dat[first], par[first]
                        val[np.searchsorted(cand, par)] = np.where(o_start[dat], op[dat], empty)
            else:
                val = np.where(o_start[cand], op[cand], empty)  # .text of an empty element: None
            pos = np.concatenate([clients, cand])
            vals = np.concatenate([np.full(len(clients), empty, dtype=np.int64), val])
            order = np.argsort(pos, kind="stable")
            out[c] = (pos[order], vals[order])
        return out

    def _header(self, o_name, o_depth, o_start, op, text, bucket) -> None:
        """Header fields and DeclaratieNummer, as the lxml reader takes them (the last one counts)."""
        headers = bucket(self.t_header)
        if len(headers) > 4:
            self._unsupported("many Header elements")

        def subtree(p: int) -> tuple[int, int]:
            d = o_depth[p]
            win = o_depth[p + 1: p + 2001]
            below = np.flatnonzero(win <= d)
            if len(below) == 0:
                self._unsupported("Header too long or split over blocks")
            return p + 1, p + 1 + int(below[0])

        def first_child(p: int, tag: int) -> int | None:
            a, b = subtree(p)
            c = np.flatnonzero((o_depth[a:b] == o_depth[p] + 1) & (o_name[a:b] == tag))
            return a + int(c[0]) if len(c) else None

        def findtext(p: int, tag: int) -> str | None:
            c = first_child(p, tag)
            if c is None:
                return None
            return text[int(op[c])].as_py() if o_start[c] else ""

        for hd in headers:
            hd = int(hd)
            if not o_start[hd]:
                self.info.afzender = self.info.ontvanger = None
                continue
            self.info.afzender = findtext(hd, self.t_afz)
            self.info.ontvanger = findtext(hd, self.t_ont)
            bid = first_child(hd, self.t_bid)
            if bid is not None and o_start[bid]:
                self.info.identificatie = findtext(bid, self.t_ident)
                self.info.dagtekening = findtext(bid, self.t_dagt)
            elif bid is not None:
                self.info.identificatie = self.info.dagtekening = None
        decl = bucket(self.t_decl)
        if len(decl):
            d = int(decl[-1])
            self.info.declaratie_nr = (text[int(op[d])].as_py() or None) if o_start[d] else None
        ddag = bucket(self.t_decl_dag)
        if len(ddag):
            d = int(ddag[-1])
            self.info.declaratiedatum = (text[int(op[d])].as_py() or None) if o_start[d] else None


# --------------------------------------------------------------------------- many small messages at once
#
# A dataset of millions of small messages (a few KB each) spends most of its time per file
# in lxml (a tree, an event loop and an XPath per record in Python). The small messages of
# one type and root start tag are therefore read together: libxml2 checks them in one
# pass (each document as an element of a wrapper), and the vectorised reader above reads
# the concatenated messages as one block, with Client and record numbers, client fields
# and header counted per message. What it does not read exactly (several Headers in a
# message, attributes, ...) it leaves to the caller's per-file reading.

#: What may come before the root of a message read in a batch: a BOM, white space and an XML
#: declaration of version 1.0 in UTF-8 (the declaration is left out when checking a batch).
_BATCH_PROLOG_RE = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml\s+version\s*=\s*([\"'])1\.0\1"
                              rb"(?:\s+encoding\s*=\s*([\"'])(?i:utf-?8)\2)?"
                              rb"(?:\s+standalone\s*=\s*([\"'])(?:yes|no)\3)?\s*\?>)?\s*")


@dataclasses.dataclass(frozen=True)
class BatchKey:
    """Messages with the same key are read in one batch: type, namespace and root start tag."""

    bericht: str
    namespace: str
    root_tag: bytes
    prefix: str
    nsmap: tuple[tuple[str, str], ...]


@functools.lru_cache(maxsize=256)
def _batch_prolog(head: bytes, namespace: str) -> tuple[int, BatchKey | None]:
    """(offset of the root start tag, key) of a prolog and root start tag, key None when not batchable."""
    m = _ROOT_TAG_RE.search(head)
    if m is None or m.end() != len(head) or not _BATCH_PROLOG_RE.fullmatch(head[: m.start()]):
        return 0, None
    try:
        got = _fast_prolog(head, namespace)
    except UnicodeDecodeError:  # not UTF-8 in the root tag: read_message says what is wrong
        return 0, None
    if got is None:
        return 0, None
    kind = _namespace_kind(namespace, "Bericht")
    if kind is None or kind[4] != "ok" or SPECS[kind[1]].multi:
        return 0, None
    prefix = (m.group(1) or b"").decode("ascii")
    return m.start(), BatchKey(kind[1], namespace, m.group(0), prefix, tuple(sorted(got[1].items())))


def batch_key(data: bytes, info: MessageInfo) -> tuple[int, int, BatchKey] | None:
    """Whether a small message (its bytes) can be read in a batch (:func:`read_batch`):
    (start and end of its root start tag, batch key), its type filled in ``info`` as
    :func:`read_message` would. None: read it with :func:`read_message` (large, another
    standard or release, JW325, comments, CDATA, entities; what read_batch meets later,
    e.g. a processing instruction or attributes, makes it raise :class:`Unsupported`).
    """
    if len(data) >= FAST_MIN_BYTES:
        return None
    k = data.find(b"Bericht", 0, 4096)
    e = data.find(b">", k, 4096) if k >= 0 else -1
    if e < 0:
        return None
    head = data[: e + 1]
    ns = _sniff_fast(head)
    if ns is None:
        return None
    start, key = _batch_prolog(head, ns)
    # entity references and comments (or CDATA) are left to lxml here; rarer constructs (processing
    # instructions, the separator character, attributes) make read_batch raise Unsupported
    if key is None or data.find(b"&", e) >= 0 or data.find(b"<!", e) >= 0:
        return None
    _classify_namespace(ns, "Bericht", info)
    return start, e + 1, key


def wellformed(parts: list[bytes]) -> bool:
    """Whether every one of these documents (each from its root start tag on) is well-formed,
    checked by libxml2 in one pass (each as an element of a wrapper; no tree is built)."""
    parser = etree.XMLParser(target=_NullTarget(), resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=True)
    try:
        parser.feed(b"<w>")
        for p in parts:
            parser.feed(p)
        parser.feed(b"</w>")
        parser.close()
    except etree.XMLSyntaxError:
        return False
    return True


def read_batch(key: BatchKey, datas: list[bytes], root_ends: list[int], file_ids: list[int],
               infos: list[MessageInfo], sink: Sink) -> None:
    """Read small, well-formed messages of one :class:`BatchKey` at once into ``sink``.

    ``datas``: each message's bytes, ``root_ends`` the end of its root start tag (see
    :func:`batch_key`), ``file_ids`` the ``_file`` of its records, ``infos`` its
    :class:`MessageInfo` (header fields and record count are filled in; the type and
    the sha256 are the caller's). The records are the same as :func:`read_message`
    gives for each message. Raises :class:`Unsupported` (``file_idx`` -1) before
    anything is handed on when the batch holds what the vectorised reader leaves to lxml.
    """
    info = MessageInfo(bericht=key.bericht, namespace=key.namespace, basis=infos[0].basis)
    fr = _FastReader(info, sink, -1, 0, dict(key.nsmap))
    fr.stack = []
    fr.batch = (infos, np.asarray(file_ids, dtype=np.int64))
    tag = f"<{key.prefix}:Bericht>" if key.prefix else "<Bericht>"
    tag = tag.encode("ascii")
    buf = b"".join(itertools.chain.from_iterable((tag, memoryview(d)[e:]) for d, e in zip(datas, root_ends)))
    try:
        fr._block(buf, len(buf))
    except (pa.ArrowException, IndexError, ValueError) as exc:
        raise Unsupported(-1, f"{type(exc).__name__}: {exc}") from None


def bericht_of(data: bytes) -> str | None:
    """The message type of a message's bytes from its root's namespace (None when unsure)."""
    ns = _sniff_fast(data[:4096])
    kind = _namespace_kind(ns, "Bericht") if ns is not None else None
    return kind[1] if kind is not None else None
