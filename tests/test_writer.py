"""iJw XML writer: every message kind validates against the official XSDs, values land
where the standard puts them, the many-message path equals the one-message path."""

from __future__ import annotations

import pandas as pd
import pytest
from lxml import etree

from jeugdlib import config
from jeugdlib.ijw import writer as w

NS = {"ijw": config.NS_BASIS, **{b.lower(): config.ns_bericht(b) for b in w.BERICHTCODE}}

CLIENT = dict(bsn="999900006", geboortedatum="2010-02-14", geslacht="1", achternaam="Wit & <Zn>")


@pytest.fixture(scope="module")
def schemas(ijw_xsd_dir):
    return {b: etree.XMLSchema(etree.parse(str(ijw_xsd_dir / f"{b}.xsd"))) for b in w.BERICHTCODE}


def _valid(schemas, bericht, data: bytes):
    doc = etree.fromstring(data)
    s = schemas[bericht]
    assert s.validate(doc), f"{bericht}: {s.error_log.last_error}"
    return doc


def _jw301():
    return w.jw301(
        gemeentecode="0983", agb="12345678", client=CLIENT, identificatie="T1", dagtekening="2024-01-02",
        producten=[
            dict(toewijzing_nr=1, productcategorie="45", productcode="45A53", toewijzingsdatum="2024-01-02",
                 toewijzingstijd="10:11:12", ingangsdatum="2024-01-05", einddatum="2024-06-30",
                 volume=3, eenheid="04", frequentie="2"),
            # category-level, budget-only, withdrawn
            dict(toewijzing_nr=2, productcategorie="45", productcode=None, toewijzingsdatum="2024-01-02",
                 toewijzingstijd="10:11:12", ingangsdatum="2024-01-05", einddatum="2024-01-05",
                 reden_wijziging="13", budget_cent=150000),
        ])


def _jw323():
    base = dict(productcategorie="45", productcode="45A53", eenheid="04", tarief_cent=9500)
    return w.jw323(
        agb="12345678", gemeentecode="0983", declaratie_nr="D2024011", declaratie_begin="2024-01-01",
        declaratie_eind="2024-01-31", identificatie="T5", dagtekening="2024-02-05",
        prestaties=[
            dict(base, bsn="999900006", referentie_nr="R1", toewijzing_nr=1, periode_begin="2024-01-01",
                 periode_eind="2024-01-31", volume=12, bedrag_cent=114000, debet_credit="D"),
            dict(base, bsn="999900018", referentie_nr="R2", vorig_referentie_nr="R0", toewijzing_nr=3,
                 periode_begin="2023-12-01", periode_eind="2023-12-31", volume=2, bedrag_cent=19000,
                 debet_credit="C"),
            dict(base, bsn="999900006", referentie_nr="R3", toewijzing_nr=1, periode_begin="2023-12-01",
                 periode_eind="2023-12-31", volume=1, bedrag_cent=9500, debet_credit="D"),
        ])


def test_jw301_validates_and_carries_values(schemas):
    doc = _valid(schemas, "JW301", _jw301())
    assert doc.findtext("jw301:Header/jw301:Afzender", namespaces=NS) == "0983"
    assert doc.findtext("jw301:Header/jw301:Ontvanger", namespaces=NS) == "12345678"
    assert doc.findtext("jw301:Client/jw301:Naam/ijw:Geslachtsnaam/ijw:Achternaam", namespaces=NS) == "Wit & <Zn>"
    prods = doc.findall(".//jw301:ToegewezenProduct", NS)
    assert [p.findtext("jw301:ToewijzingNummer", namespaces=NS) for p in prods] == ["1", "2"]
    assert prods[0].findtext("jw301:Omvang/ijw:Frequentie", namespaces=NS) == "2"
    assert prods[0].find("jw301:Budget", NS) is None
    assert prods[1].find("jw301:Product/ijw:Code", NS) is None
    assert prods[1].findtext("jw301:RedenWijziging", namespaces=NS) == "13"
    assert prods[1].findtext("jw301:Budget", namespaces=NS) == "150000"
    assert prods[1].find("jw301:Omvang", NS) is None


def test_jw305_jw307_jw315_validate(schemas):
    prod = dict(toewijzing_nr=1, productcategorie="45", productcode="45A53", ingangsdatum="2024-01-05",
                begindatum="2024-01-08")
    _valid(schemas, "JW305", w.jw305(agb="12345678", gemeentecode="0983", client=CLIENT, identificatie="T2",
                                     dagtekening="2024-01-10", producten=[prod]))
    doc = _valid(schemas, "JW307", w.jw307(
        agb="12345678", gemeentecode="0983", client=CLIENT, identificatie="T3", dagtekening="2024-07-10",
        producten=[dict(prod, reden_beeindiging="31", einddatum="2024-06-30")]))
    assert doc.findtext(".//jw307:RedenBeeindiging", namespaces=NS) == "31"
    assert doc.findtext(".//jw307:Einddatum", namespaces=NS) == "2024-06-30"
    doc = _valid(schemas, "JW315", w.jw315(
        agb="12345678", gemeentecode="0983", client=CLIENT, identificatie="T4", dagtekening="2023-12-10",
        producten=[dict(productcategorie="45", productcode="45A53", ingangsdatum="2024-01-05", volume=3,
                        eenheid="04", frequentie="2", verwijzer_type="02", verwijzer_agb="01234567")]))
    assert doc.findtext(".//jw315:Verwijzer/ijw:Type", namespaces=NS) == "02"


def test_jw323_groups_clients_and_nets_total(schemas):
    doc = _valid(schemas, "JW323", _jw323())
    clients = doc.findall(".//jw323:Client", NS)
    # two distinct BSNs -> two Client elements; 999900006 holds R1 and R3
    assert [c.findtext("jw323:Bsn", namespaces=NS) for c in clients] == ["999900006", "999900018"]
    assert [r.text for r in clients[0].findall(".//ijw:ReferentieNummer", NS)] == ["R1", "R3"]
    # total = 114000 + 9500 - 19000 = 104500, debet
    assert doc.findtext(".//jw323:TotaalIngediendBedrag/ijw:TotaalBedrag", namespaces=NS) == "104500"
    assert doc.findtext(".//jw323:TotaalIngediendBedrag/ijw:DebetCredit", namespaces=NS) == "D"
    credit = clients[1].find(".//jw323:Prestatie", NS)
    assert credit.findtext(".//ijw:VorigReferentieNummer", namespaces=NS) == "R0"
    assert credit.findtext("jw323:IngediendBedrag/ijw:DebetCredit", namespaces=NS) == "C"


def test_jw323_signed_amounts_and_credit_total(schemas):
    # one credit of 5000 only: TotaalBedrag 5000 with DebetCredit C
    data = w.jw323(agb="12345678", gemeentecode="0983", declaratie_nr="X1", declaratie_begin="2024-01-01",
                   declaratie_eind="2024-01-31", identificatie="T6", dagtekening="2024-02-01",
                   prestaties=[dict(bsn="999900006", referentie_nr="R9", toewijzing_nr=7, productcategorie="45",
                                    productcode="45A53", periode_begin="2024-01-01", periode_eind="2024-01-31",
                                    volume=1, eenheid="04", bedrag_cent_signed=-5000)])
    doc = _valid(schemas, "JW323", data)
    assert doc.findtext(".//ijw:TotaalBedrag", namespaces=NS) == "5000"
    assert doc.findtext(".//jw323:TotaalIngediendBedrag/ijw:DebetCredit", namespaces=NS) == "C"
    assert doc.findtext(".//jw323:IngediendBedrag/ijw:Bedrag", namespaces=NS) == "5000"
    assert doc.find(".//jw323:ProductTarief", NS) is None


def test_render_many_equals_single_and_keeps_order(schemas):
    rows = []
    for m, gem in enumerate(["0983", "0984", "0889"]):
        for k in range(3):
            rows.append(dict(bericht=f"m{2 - m}", gemeentecode=gem, agb="12345678", identificatie=f"I{m}",
                             dagtekening="2024-02-05", declaratie_nr=f"D{m}", declaratie_begin="2024-01-01",
                             declaratie_eind="2024-01-31", bsn=f"99990000{6 + (k % 2)}", referentie_nr=f"R{m}{k}",
                             toewijzing_nr=10 * m + k, productcategorie="45", productcode="45A53",
                             periode_begin="2024-01-01", periode_eind="2024-01-31", volume=k, eenheid="04",
                             tarief_cent=100, bedrag_cent_signed=100 * k))
    df = pd.DataFrame(rows)
    out = w.render("JW323", df)
    assert [k for k, _ in out] == ["m2", "m1", "m0"]
    for key, data in out:
        doc = _valid(schemas, "JW323", data)
        # prestaties k=0,1,2 -> 0+100+200 = 300 per message
        assert doc.findtext(".//ijw:TotaalBedrag", namespaces=NS) == "300"
    single = w.jw323(agb="12345678", gemeentecode="0983", declaratie_nr="D0", declaratie_begin="2024-01-01",
                     declaratie_eind="2024-01-31", identificatie="I0", dagtekening="2024-02-05",
                     prestaties=df[df.bericht == "m2"].drop(columns=["bericht", "gemeentecode", "agb",
                                                                      "identificatie", "dagtekening",
                                                                      "declaratie_nr", "declaratie_begin",
                                                                      "declaratie_eind"]))
    assert single == out[0][1]


def test_missing_required_value_is_named():
    with pytest.raises(ValueError, match="'begindatum' is empty"):
        w.jw305(agb="12345678", gemeentecode="0983", client=CLIENT, identificatie="T", dagtekening="2024-01-01",
                producten=[dict(toewijzing_nr=1, productcategorie="45", begindatum=None)])
    with pytest.raises(ValueError, match="'reden_beeindiging' is required"):
        w.jw307(agb="12345678", gemeentecode="0983", client=CLIENT, identificatie="T", dagtekening="2024-01-01",
                producten=[dict(toewijzing_nr=1, productcategorie="45", begindatum="2024-01-01")])
    with pytest.raises(ValueError, match="unknown message type"):
        w.render("JW999", pd.DataFrame({"bericht": [1]}))


def test_write_messages(tmp_path):
    n = w.write_messages(tmp_path, [("a/b/x.xml", b"<x/>"), ("y.xml", b"<yy/>")])
    assert n == 9
    assert (tmp_path / "a/b/x.xml").read_bytes() == b"<x/>"
