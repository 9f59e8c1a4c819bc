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


def test_jw325_is_skipped(ijw_berichten_dir):
    info, sinks = reader.read_message(ijw_berichten_dir / "JW325.xml")
    assert (info.bericht, info.status, info.n_records, sinks) == ("JW325", "overgeslagen", 0, {})


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
    p.write_text(text.replace("/ijw/3_2/", "/ijw/3_0/"), encoding="utf-8")
    with pytest.raises(reader.MessageError) as ei:
        reader.read_message(p)
    assert ei.value.regel == "namespace_onbekend" and "3.0" in ei.value.melding


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
    assert "ToewijzingEinddatum" in err and "2027-06-31" in err
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
