"""Streaming iJw reader: raw values as in the files, positions, batches, and the
file-level errors (empty, malformed, not UTF-8, other namespace, skipped types)."""

from __future__ import annotations

import pytest

from jeugdlib.ijw import codes, reader, validate


def _rows(path, **kw):
    info, table = reader.read_records(path, **kw) if kw else reader.read_records(path)
    return info, table.to_pylist()


def test_jw323_raw_values_and_positions(ijw_berichten_dir):
    info, rows = _rows(ijw_berichten_dir / "JW323.xml")
    assert (info.bericht, info.afzender, info.ontvanger, info.identificatie, info.declaratie_nr) == (
        "JW323", "65656055", "0384", "765432198", "DN001")
    assert info.n_records == 5 and len(info.sha256) == 64
    assert [(r["_client"], r["_rec"]) for r in rows] == [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
    assert [r["bsn"] for r in rows] == ["999900006"] * 2 + ["999900018"] * 3
    r = rows[4]
    assert {k: r[k] for k in ("referentie_nr", "vorig_referentie_nr", "toewijzing_nr", "productcategorie",
                              "productcode", "periode_begin", "periode_eind", "volume", "eenheid", "tarief",
                              "bedrag", "debet_credit")} == {
        "referentie_nr": "RN004", "vorig_referentie_nr": None, "toewijzing_nr": "10073",
        "productcategorie": "45", "productcode": "45A04", "periode_begin": "2026-03-01",
        "periode_eind": "2026-03-31", "volume": "14", "eenheid": "04", "tarief": "1500", "bedrag": "21000",
        "debet_credit": "D"}


def test_jw301_client_fields_not_taken_from_relaties(ijw_berichten_dir):
    # the example's Relaties carry their own Geboortedatum (1971, 1956) and Geslacht
    info, rows = _rows(ijw_berichten_dir / "JW301.xml")
    assert (info.afzender, info.ontvanger) == ("0384", "42420001")
    assert [r["geboortedatum"] for r in rows] == ["2010-02-14", "2010-02-14"]
    assert [(r["toewijzing_nr"], r["productcode"], r["toewijzingstijd"], r["eenheid"]) for r in rows] == [
        ("300201", "55A11", "12:34:56", "04"), ("300202", "55A12", "12:34:56", "16")]
    assert all("Wit" not in str(v) for r in rows for v in r.values())


def test_batches_are_handed_on_as_they_fill(ijw_berichten_dir):
    got = []
    sink = reader.Sink(reader.SPECS["JW323"], batch_size=2, on_batch=got.append)
    reader.read_message(ijw_berichten_dir / "JW323.xml", sinks={"JW323": sink}, file_idx=7)
    sink.flush()
    assert [t.num_rows for t in got] == [2, 2, 1]
    assert all(set(t.column("_file").to_pylist()) == {7} for t in got)


def test_jw325_is_read(ijw_berichten_dir):
    # the standard's example JW325: three rejected Prestaties under DeclaratieNummer DN001
    info, table = reader.read_records(ijw_berichten_dir / "JW325.xml")
    assert (info.bericht, info.status, info.n_records, info.release) == ("JW325", "ok", 3, "3.2")
    assert (info.afzender, info.ontvanger, info.declaratie_nr, info.dagtekening) == \
        ("0384", "65656055", "DN001", "2023-05-07")
    assert (info.totaal_ingediend, info.totaal_ingediend_dc, info.totaal_toegekend, info.retourcodes) == \
        ("58000", "C", "34000", "0200")
    d = table.to_pydict()
    assert d["referentie_nr"] == ["RN001", "RN002", "RN003"]
    assert d["toewijzing_nr"] == ["10072", "10073", "10074"]
    assert d["bedrag"] == ["5000", "14000", "5000"] and d["debet_credit"] == ["C", "C", "C"]
    assert d["retourcodes"] == ["0611", "9339,9340,9341", "9307"]
    assert d["bsn"] == [None, None, None]  # the BSN of a rejection is not read
    assert d["_client"] == [1, 1, 2] and d["_rec"] == [1, 2, 1]


def test_jw325_rejected_whole(ijw_berichten_dir):
    text = (ijw_berichten_dir / "JW325.xml").read_text(encoding="utf-8")
    text = text.replace("<ijw:TotaalBedrag>34000</ijw:TotaalBedrag>", "<ijw:TotaalBedrag>0</ijw:TotaalBedrag>")
    info, table = reader.read_records(text.encode("utf-8"))
    d = table.to_pydict()
    assert info.n_records == 4 and len(d["referentie_nr"]) == 4
    # the last record is the whole declaration: the declared total, no ReferentieNummer
    assert (d["referentie_nr"][3], d["toewijzing_nr"][3], d["bedrag"][3], d["debet_credit"][3],
            d["retourcodes"][3], d["_client"][3], d["_rec"][3]) == (None, None, "58000", "C", "0200", 0, 0)


@pytest.mark.parametrize("content, regel", [
    (b"", "bestand_leeg"),
    (b"  \n\t", "bestand_leeg"),
    (b"<?xml version='1.0'?>\n<a><b></a>", "xml_onleesbaar"),
    (b"<a xmlns='urn:x'/>", "namespace_onbekend"),
    ("<?xml version='1.0' encoding='UTF-8'?>\n<a>\u00e9</a>".encode("latin-1"), "codering_ongeldig"),
])
def test_unreadable_files(tmp_path, content, regel):
    p = tmp_path / "x.xml"
    p.write_bytes(content)
    with pytest.raises(reader.MessageError) as ei:
        reader.read_message(p)
    assert ei.value.regel == regel
    assert "\n" not in ei.value.melding


def test_truncated_and_old_namespace(tmp_path, ijw_berichten_dir):
    text = (ijw_berichten_dir / "JW323.xml").read_text(encoding="utf-8")
    p = tmp_path / "cut.xml"
    p.write_text(text[:4000], encoding="utf-8")
    with pytest.raises(reader.MessageError) as ei:
        reader.read_message(p)
    assert (ei.value.regel, ei.value.bericht) == ("xml_onleesbaar", "JW323")
    # iJw 3.0 and 3.1 read like 3.2 (same paths, own namespaces), the release kept
    full = reader.read_records(ijw_berichten_dir / "JW323.xml")[1]
    for ns, rel in (("3_0", "3.0"), ("3_1", "3.1")):
        p.write_text(text.replace("/ijw/3_2/", f"/ijw/{ns}/"), encoding="utf-8")
        info, table = reader.read_records(p)
        assert (info.release, info.status, info.declaratiedatum) == (rel, "ok", "2026-05-06")
        assert table.equals(full)
    # an older release (2.x) is skipped, not an error
    p.write_text(text.replace("/ijw/3_2/", "/ijw/2_4/"), encoding="utf-8")
    info, _sinks = reader.read_message(p)
    assert (info.bericht, info.release, info.status, info.n_records) == ("JW323", "2.4", "overgeslagen", 0)


def test_missing_optional_element_is_null(tmp_path, ijw_berichten_dir):
    text = (ijw_berichten_dir / "JW323.xml").read_text(encoding="utf-8")
    text = text.replace("<jw323:ProductTarief>1250</jw323:ProductTarief>", "", 1)
    p = tmp_path / "a.xml"
    p.write_text(text, encoding="utf-8")
    _info, rows = _rows(p)
    assert [r["tarief"] for r in rows] == [None, "1500", "1250", "1500", "1500"]


def test_xsd_validation(ijw_berichten_dir, ijw_xsd_dir):
    for b in ("JW301", "JW305", "JW307", "JW323"):
        assert validate.validate_file(ijw_berichten_dir / f"{b}.xml", ijw_xsd_dir, b) is None
    err = validate.validate_file(ijw_berichten_dir / "JW315.xml", ijw_xsd_dir, "JW315")
    # rule and element only: the validator's own text quotes the value, which may be a BSN
    assert "ToewijzingEinddatum" in err and "cvc-datatype-valid" in err and "2027-06-31" not in err
    assert validate.load_schema(str(ijw_xsd_dir.resolve()), "JW323") is \
        validate.load_schema(str(ijw_xsd_dir.resolve()), "JW323")  # compiled once


def test_code_lists_match_the_xsd(ijw_xsd_dir):
    """The hand-copied code lists agree with the enumerations in basisschema.xsd."""
    from lxml import etree
    doc = etree.parse(str(ijw_xsd_dir / "basisschema.xsd"))
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}

    def enum(name):
        return {e.get("value") for e in doc.xpath(f"//xs:simpleType[@name='{name}']//xs:enumeration", namespaces=ns)}

    assert enum("LDT_Eenheid") == set(codes.EENHEID)
    assert enum("LDT_ProductCategorie") == set(codes.PRODUCTCATEGORIE)
    assert enum("LDT_DebetCredit") == set(codes.DEBET_CREDIT)
    for lijst, name in [(codes.FREQUENTIE, "LDT_Frequentie"), (codes.REDEN_WIJZIGING, "LDT_RedenWijziging"),
                        (codes.REDEN_BEEINDIGING, "LDT_RedenBeeindiging"), (codes.GESLACHT, "LDT_Geslacht"),
                        (codes.VERWIJZER, "LDT_TypeVerwijzer")]:
        assert enum(name) == set(lijst), name


# --------------------------------------------------------------------------- vectorised reader = lxml reader

def _read_both(path, **kw):
    """(info, table) from the lxml reader and from the vectorised reader (forced, no fallback)."""
    si, ss = reader.read_message(path, fast=False, **kw)
    fi = reader.MessageInfo()
    with open(path, "rb") as fh:
        head = reader._sniff(fh, fi)
    prolog = reader._fast_prolog(head, fi.namespace)
    assert prolog is not None, "the vectorised reader should accept this file"
    sink = reader.Sink(reader.SPECS[fi.bericht], batch_size=10**9)
    with open(path, "rb") as fh:
        fi.sha256 = reader._FastReader(fi, sink, 0, *prolog).run(fh)
    return (si, ss[si.bericht].table()), (fi, sink.table())


def _jw323_many(n_clients: int) -> str:
    """A JW323 with many clients and Prestaties (varied: credit, missing tarief, empty code)."""
    from lxml import etree as _  # noqa: F401  (the reader's dependency; only text here)
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<jw323:Bericht xmlns:ijw="http://www.istandaarden.nl/ijw/3_2/'
            'basisschema/schema" xmlns:jw323="http://www.istandaarden.nl/ijw/3_2/jw323/schema">\n<jw323:Header>'
            '<jw323:Afzender>12345678</jw323:Afzender><jw323:Ontvanger>0983</jw323:Ontvanger>'
            '<jw323:BerichtIdentificatie><ijw:Identificatie>77</ijw:Identificatie><ijw:Dagtekening>2024-05-06'
            '</ijw:Dagtekening></jw323:BerichtIdentificatie></jw323:Header>\n<jw323:Declaratie><jw323:DeclaratieNummer>'
            'D77</jw323:DeclaratieNummer><jw323:Clienten>\n')
    parts = [head]
    k = 0
    for c in range(n_clients):
        parts.append(f"<jw323:Client>\n  <jw323:Bsn>{999900006 + 12 * (c % 3)}</jw323:Bsn><jw323:Prestaties>\n")
        for _r in range(1 + c % 4):
            k += 1
            tarief = "" if k % 7 == 0 else f"<jw323:ProductTarief> {9500 + k} </jw323:ProductTarief>"
            code = "<jw323:ProductCode/>" if k % 11 == 0 else f"<jw323:ProductCode>45A{k % 90:02d}</jw323:ProductCode>"
            parts.append(
                f"<jw323:Prestatie><jw323:ProductReferentie><ijw:ReferentieNummer>R{k}</ijw:ReferentieNummer>"
                f"</jw323:ProductReferentie><jw323:ToewijzingNummer>{1000 + k}</jw323:ToewijzingNummer>"
                f"<jw323:ProductCategorie>45</jw323:ProductCategorie>{code}<jw323:ProductPeriode>"
                f"<ijw:Begindatum>2024-04-01</ijw:Begindatum><ijw:Einddatum>2024-04-30</ijw:Einddatum>"
                f"</jw323:ProductPeriode><jw323:GeleverdVolume>{k % 40}</jw323:GeleverdVolume>"
                f"<jw323:Eenheid>04</jw323:Eenheid>{tarief}<jw323:IngediendBedrag><ijw:Bedrag>{k * 95}</ijw:Bedrag>"
                f"<ijw:DebetCredit>{'C' if k % 5 == 0 else 'D'}</ijw:DebetCredit></jw323:IngediendBedrag>"
                f"</jw323:Prestatie>\n")
        parts.append("</jw323:Prestaties></jw323:Client>\n")
    parts.append("</jw323:Clienten></jw323:Declaratie></jw323:Bericht>\n")
    return "".join(parts)


_JW323_NS = 'xmlns:jw323="http://www.istandaarden.nl/ijw/3_2/jw323/schema"'
_VARIANTS = {
    "as is": lambda x: x,
    "CR LF line ends": lambda x: x.replace("\n", "\r\n"),
    "default namespace": lambda x: x.replace(_JW323_NS, 'xmlns="http://www.istandaarden.nl/ijw/3_2/jw323/schema"')
                                    .replace("<jw323:", "<").replace("</jw323:", "</"),
    "other prefixes": lambda x: x.replace("jw323:", "m:").replace("xmlns:jw323=", "xmlns:m=")
                                 .replace("ijw:", "b:").replace("xmlns:ijw=", "xmlns:b="),
    "spaces in end tags": lambda x: x.replace("</jw323:Eenheid>", "</jw323:Eenheid  >")
                                     .replace("</jw323:Prestatie>", "</jw323:Prestatie\n>"),
    "empty elements": lambda x: x.replace("<jw323:ProductTarief>1250</jw323:ProductTarief>",
                                          "<jw323:ProductTarief></jw323:ProductTarief>", 1)
                                 .replace("<jw323:Eenheid>04</jw323:Eenheid>", "<jw323:Eenheid />", 1),
    "empty and missing Bsn": lambda x: x.replace("<jw323:Bsn>999900006</jw323:Bsn>", "<jw323:Bsn/>", 1)
                                        .replace("<jw323:Bsn>999900018</jw323:Bsn>", "", 1),
    "empty DeclaratieNummer": lambda x: x.replace(">DN001<", "><"),
    "second value of a field": lambda x: x.replace("<jw323:Eenheid>04</jw323:Eenheid>",
                                                   "<jw323:Eenheid>04</jw323:Eenheid><jw323:Eenheid>01</jw323:Eenheid>", 1),
    "non-ASCII text": lambda x: x.replace(">RN002<", ">RN\u00e9\u20ac2<"),
}


@pytest.mark.parametrize("bericht, variant", [("JW323", v) for v in _VARIANTS] + [
    (b, v) for b in ("JW301", "JW305", "JW307", "JW315") for v in ("as is", "CR LF line ends")])
def test_vectorised_reader_equals_lxml(tmp_path, ijw_berichten_dir, monkeypatch, bericht, variant):
    text = (ijw_berichten_dir / f"{bericht}.xml").read_text(encoding="utf-8")
    p = tmp_path / "m.xml"
    p.write_bytes(_VARIANTS[variant](text).encode("utf-8"))
    for block in (reader.BLOCK_BYTES, 512):  # one block, and a cut after (nearly) every record
        monkeypatch.setattr(reader, "BLOCK_BYTES", block)
        (si, st), (fi, ft) = _read_both(p)
        assert ft.to_pylist() == st.to_pylist(), (variant, block)
        assert fi == si


def test_vectorised_reader_many_blocks(tmp_path, monkeypatch):
    p = tmp_path / "big.xml"
    p.write_text(_jw323_many(300), encoding="utf-8")
    monkeypatch.setattr(reader, "BLOCK_BYTES", 3000)  # some 100 blocks, cut after records and clients
    (si, st), (fi, ft) = _read_both(p)
    assert st.num_rows == sum(1 + c % 4 for c in range(300)) == ft.num_rows
    assert ft.equals(st) and fi == si
    assert st.column("_client").to_pylist()[-1] == 300  # positions carried over the blocks
    assert st.column("_rec").to_pylist()[-4:] == [1, 2, 3, 4]


@pytest.mark.parametrize("what, old, new", [
    ("comment", "<jw323:Eenheid>04</jw323:Eenheid>", "<jw323:Eenheid>04<!-- x --></jw323:Eenheid>"),
    ("CDATA", "<jw323:Eenheid>04</jw323:Eenheid>", "<jw323:Eenheid><![CDATA[04]]></jw323:Eenheid>"),
    ("entity", "<jw323:ProductCode>45A04</jw323:ProductCode>", "<jw323:ProductCode>45&amp;04</jw323:ProductCode>"),
    ("attribute", "<jw323:Prestatie>", '<jw323:Prestatie id="a>b">'),
    ("namespace on a child", "<jw323:Prestatie>", '<jw323:Prestatie xmlns:x="urn:x">'),
    ("child in a field", "<jw323:Eenheid>04</jw323:Eenheid>", "<jw323:Eenheid>0<jw323:X/>4</jw323:Eenheid>"),
    ("record at another depth", "</jw323:Prestaties>",
     "</jw323:Prestaties><jw323:Prestatie><jw323:GeleverdVolume>3</jw323:GeleverdVolume></jw323:Prestatie>"),
    ("nested record", "<jw323:Eenheid>04</jw323:Eenheid>",
     "<jw323:Eenheid>04</jw323:Eenheid><jw323:Prestatie><jw323:Eenheid>01</jw323:Eenheid></jw323:Prestatie>"),
])
def test_odd_xml_goes_to_lxml(tmp_path, ijw_berichten_dir, monkeypatch, what, old, new):
    """Constructs the vectorised reader leaves alone: lxml reads them, with the same result."""
    text = (ijw_berichten_dir / "JW323.xml").read_text(encoding="utf-8")
    i = text.rindex("<jw323:Prestatie>")  # in the last record: after earlier records were handed on
    p = tmp_path / "odd.xml"
    p.write_text(text[:i] + text[i:].replace(old, new, 1), encoding="utf-8")
    slow = reader.read_records(p)
    # small blocks: the surprise comes after records were handed on -> Unsupported for the caller
    # (a record at another depth in a block of its own is read as lxml reads it)
    monkeypatch.setattr(reader, "BLOCK_BYTES", 600)
    if what == "record at another depth":
        info, sinks = reader.read_message(p, fast=True)
        assert sinks["JW323"].table().equals(slow[1]) and info == slow[0]
    else:
        with pytest.raises(reader.Unsupported):
            reader.read_message(p, fast=True)
    # one block: nothing handed on yet, read_message falls back to lxml itself
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 20)
    info, sinks = reader.read_message(p, fast=True)
    assert sinks["JW323"].table().equals(slow[1]) and info == slow[0]


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.999])
def test_vectorised_reader_truncated(tmp_path, monkeypatch, cut):
    data = _jw323_many(50).encode("utf-8")
    p = tmp_path / "cut.xml"
    p.write_bytes(data[: int(len(data) * cut)])
    monkeypatch.setattr(reader, "BLOCK_BYTES", 2000)
    with pytest.raises(reader.MessageError) as ei:
        reader.read_message(p, fast=True)
    assert ei.value.regel == "xml_onleesbaar" and "\n" not in ei.value.melding


def test_small_file_read_whole_equals_streaming(ijw_berichten_dir, monkeypatch):
    for b in ("JW301", "JW323"):
        whole = reader.read_records(ijw_berichten_dir / f"{b}.xml")
        monkeypatch.setattr(reader, "WHOLE_MAX_BYTES", 0)
        streamed = reader.read_records(ijw_berichten_dir / f"{b}.xml")
        monkeypatch.undo()
        assert whole[1].equals(streamed[1]) and whole[0] == streamed[0]
