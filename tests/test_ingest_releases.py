"""Issue 13, ingest side: what real archives hold. One hand-worked case per rule:
ToewijzingNummers per gemeente, iJw 3.0/3.1 beside 3.2, iWmo and 2.x skipped,
zip archives (with a corrupt member and a corrupt archive), year-9999 end dates,
JW325 rejections, StatusAanlevering and DeclaratieDagtekening. The values are
read off the standard's example messages in ../shared/ijw/berichten."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from jeugdlib import ingest

from test_ingest import AANBIEDERS, PRODUCTEN, assert_counts_add_up, client_id, make_ds, run

pytestmark = pytest.mark.shared

COUNTS = ["gelezen", "behouden", "quarantaine", "overgeslagen"]


@pytest.fixture(scope="module")
def vb(ijw_berichten_dir) -> dict[str, str]:
    return {b: (ijw_berichten_dir / f"{b}.xml").read_text(encoding="utf-8")
            for b in ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325")}


def release(xml: str, rel: str) -> str:
    """The same message in another iJw release: namespace and BerichtSubversie."""
    sub = rel.split(".")[1]
    return (xml.replace("/ijw/3_2/", f"/ijw/{rel.replace('.', '_')}/")
            .replace("BerichtSubversie>2<", f"BerichtSubversie>{sub}<"))


def counts(res, invoer: str, rel: str | None) -> tuple[int, ...]:
    t = res.telling
    sel = (t["invoer"] == invoer) & (t["ijw_release"].isna() if rel is None else t["ijw_release"] == rel)
    assert sel.sum() == 1, (invoer, rel)
    return tuple(int(x) for x in t.loc[sel, COUNTS].iloc[0])


# --------------------------------------------------------------------------- ToewijzingNummer per gemeente

def test_two_gemeenten_sharing_a_number_are_two_toewijzingen(tmp_path, vb):
    # OP275: the number is unique within a gemeente only. Beesel (0889) sends the example
    # JW301 (numbers 300201, 300202) for another client; Venlo (0983) uses the same numbers.
    beesel = vb["JW301"].replace("<jw301:Afzender>0384<", "<jw301:Afzender>0889<") \
        .replace("<jw301:Bsn>999900006<", "<jw301:Bsn>999900018<")
    venlo = vb["JW301"].replace("<jw301:Afzender>0384<", "<jw301:Afzender>0983<")
    res = run(make_ds(tmp_path / "ds", {"berichten/0889/a.xml": beesel, "berichten/0983/a.xml": venlo}))
    t = res.dataset.toewijzingen
    assert len(res.quarantaine) == 0  # not a duplicate message: another Afzender
    assert sorted(zip(t["gemeentecode"], t["toewijzing_nr"])) == [
        ("0889", "300201"), ("0889", "300202"), ("0983", "300201"), ("0983", "300202")]
    # the same number, two toewijzingen of two clients
    by = t.set_index(["gemeentecode", "toewijzing_nr"])["client_id"]
    assert by[("0889", "300201")] == client_id("999900018")
    assert by[("0983", "300201")] == client_id("999900006")


# --------------------------------------------------------------------------- releases

def test_ijw30_message_beside_ijw32(tmp_path, vb):
    root = make_ds(tmp_path / "ds", {"berichten/2021/jw301.xml": release(vb["JW301"], "3.0"),
                                     "berichten/2022/jw323.xml": release(vb["JW323"], "3.1"),
                                     "berichten/2026/jw305.xml": vb["JW305"]})
    res = run(root)
    ds = res.dataset
    assert len(res.quarantaine) == 0
    t = ds.toewijzingen
    # read exactly like 3.2: every value of the example
    assert t["toewijzing_nr"].tolist() == ["300201", "300202"]
    assert t["versie_ts"].tolist() == [pd.Timestamp("2026-04-01 12:34:56")] * 2
    assert t["client_id"].tolist() == [client_id("999900006")] * 2
    assert t["ijw_release"].tolist() == ["3.0", "3.0"]
    d = ds.declaraties
    assert d["bedrag_cent_signed"].tolist() == [5000, 24000, 5000, 24000, 21000]
    assert d["ijw_release"].unique().tolist() == ["3.1"]
    assert ds.start_stop["ijw_release"].tolist() == ["3.2", "3.2"]
    # counted per release
    assert counts(res, "JW301", "3.0") == (2, 2, 0, 0)
    assert counts(res, "JW323", "3.1") == (5, 5, 0, 0)
    assert counts(res, "JW305", "3.2") == (2, 2, 0, 0)
    assert_counts_add_up(res)


def test_iwmo_and_ijw2_skipped_per_kind(tmp_path, vb):
    wmo = vb["JW305"].replace("/ijw/3_2/jw305/", "/iwmo/3_2/wmo305/").replace("jw305:", "wmo305:") \
        .replace("xmlns:jw305", "xmlns:wmo305")
    files = {"berichten/wmo/a.xml": wmo, "berichten/wmo/b.xml": wmo.replace("123456789012", "123456789013"),
             "berichten/oud/jw301.xml": release(vb["JW301"], "2.4"), "berichten/jw323.xml": vb["JW323"]}
    res = run(make_ds(tmp_path / "ds", files))
    assert len(res.quarantaine) == 0
    assert counts(res, "iWmo:WMO305", None) == (2, 0, 0, 2)
    assert counts(res, "JW301", "2.4") == (1, 0, 0, 1)
    assert counts(res, "JW323", "3.2") == (5, 5, 0, 0)
    assert_counts_add_up(res)


# --------------------------------------------------------------------------- zip archives

def _zip(members: dict[str, str], *, stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text.encode("utf-8"))
    return buf.getvalue()


def test_zip_read_member_by_member_with_corrupt_member(tmp_path, vb):
    bad_member = vb["JW305"]
    raw = _zip({"2024/01/JW301.xml": vb["JW301"], "2024/01/JW305.xml": bad_member,
                "2024/01/leesmij.txt": "geen bericht"}, stored=True)
    # damage the stored JW305 member's bytes: its CRC no longer matches
    k = raw.index(b"<jw305:Begindatum>2026-04-03")
    raw = raw[:k] + b"<jw305:Begindatum>2026-04-04" + raw[k + len(b"<jw305:Begindatum>2026-04-03"):]
    files = {"berichten/levering.zip": raw, "berichten/kapot.zip": b"PK\x03\x04 dit is geen zip",
             "berichten/los/JW323.xml": vb["JW323"]}
    res = run(make_ds(tmp_path / "ds", files))
    ds = res.dataset
    t = ds.toewijzingen
    assert t["bron"].tolist() == ["berichten/levering.zip!2024/01/JW301.xml#ToegewezenProduct 1",
                                  "berichten/levering.zip!2024/01/JW301.xml#ToegewezenProduct 2"]
    assert t["toewijzing_nr"].tolist() == ["300201", "300202"]
    assert len(ds.start_stop) == 0
    q = res.quarantaine.sort_values("bestand").reset_index(drop=True)
    assert q["bestand"].tolist() == ["berichten/kapot.zip", "berichten/levering.zip!2024/01/JW305.xml"]
    assert q["regel"].tolist() == ["zip_onleesbaar", "zip_onleesbaar"]
    assert q["positie"].tolist() == ["bestand", "bestand"]
    assert "CRC" in q["melding"].iloc[1]
    assert counts(res, "zip", None) == (2, 0, 2, 0)  # the archive and the member: one record each
    assert counts(res, "JW301", "3.2") == (2, 2, 0, 0)
    assert counts(res, "JW323", "3.2") == (5, 5, 0, 0)
    assert res.n_berichten == 4  # two members read, one archive that is not one, one loose file
    assert_counts_add_up(res)


def test_zip_members_validate_and_duplicate_like_files(tmp_path, vb, ijw_xsd_dir):
    # the same message loose and in an archive is a duplicate; members validate against the XSDs
    files = {"berichten/a.zip": _zip({"x/JW323.xml": vb["JW323"]}), "berichten/b/JW323.xml": vb["JW323"]}
    res = run(make_ds(tmp_path / "ds", files), xsd_dir=ijw_xsd_dir)
    q = res.quarantaine
    assert set(q["regel"]) == {"dubbel_bericht"} and set(q["bestand"]) == {"berichten/b/JW323.xml"}
    assert "berichten/a.zip!x/JW323.xml" in q["melding"].iloc[0]
    assert res.dataset.declaraties["bron"].str.startswith("berichten/a.zip!x/JW323.xml#").all()


# --------------------------------------------------------------------------- year 9999

def test_year_9999_is_no_end(tmp_path, vb):
    jw301 = vb["JW301"].replace("<jw301:Einddatum>2026-07-14</jw301:Einddatum>",
                                "<jw301:Einddatum>9999-12-31</jw301:Einddatum>")
    assert jw301 != vb["JW301"]
    producten = PRODUCTEN + "45A04,45,GGZ midden,4 - Ambulant,GGZ,inspanning,midden,,,,15.00,,2024-01-01,9999-12-31\n" \
        + "45A05,45,GGZ zwaar,4 - Ambulant,GGZ,inspanning,zwaar,,,,15.00,,2024-01-01,31-12-9999\n"
    aanbieders = AANBIEDERS + "12345678;Nog een;micro;2024-01-01;9999-12-31\n"
    root = make_ds(tmp_path / "ds", {"berichten/jw301.xml": jw301, "berichten/jw315.xml":
                                     vb["JW315"].replace("2027-06-31", "9999-12-31")})
    (root / "referentie" / "producten.csv").write_text(producten, encoding="utf-8")
    (root / "referentie" / "aanbieders.csv").write_text(aanbieders, encoding="utf-8")
    res = run(root)
    ds = res.dataset
    assert len(res.quarantaine) == 0  # also the JW315 whose ToewijzingEinddatum was the impossible 2027-06-31
    t = ds.toewijzingen
    assert t["einddatum"].isna().tolist() == [True, False]
    assert t["einddatum"].iloc[1] == pd.Timestamp("2026-07-19")
    p = ds.producten.set_index("productcode")
    assert p.index.tolist() == ["45A03", "45A04", "45A05"]  # kept, not dropped
    assert p["geldig_tot"].isna().all()
    assert p.loc["45A04", "geldig_vanaf"] == pd.Timestamp("2024-01-01")
    a = ds.aanbieders.set_index("agb")
    assert pd.isna(a.loc["12345678", "gecontracteerd_tot"])
    assert a.loc["12345678", "gecontracteerd_vanaf"] == pd.Timestamp("2024-01-01")
    # a year-9999 date where an end makes no sense is still not a date
    jw305 = vb["JW305"].replace("<jw305:Begindatum>2026-04-03<", "<jw305:Begindatum>9999-12-31<")
    res2 = run(make_ds(tmp_path / "ds2", {"berichten/jw305.xml": jw305}))
    assert res2.quarantaine["regel"].tolist() == ["datum_ongeldig"]


# --------------------------------------------------------------------------- JW325, DeclaratieDagtekening, status

def test_jw325_into_afwijzingen(tmp_path, vb):
    whole = vb["JW325"].replace("<ijw:TotaalBedrag>34000</ijw:TotaalBedrag>",
                                "<ijw:TotaalBedrag>0</ijw:TotaalBedrag>") \
        .replace("<ijw:Identificatie>654321987<", "<ijw:Identificatie>654321988<") \
        .replace("<jw325:DeclaratieNummer>DN001<", "<jw325:DeclaratieNummer>DN002<")
    res = run(make_ds(tmp_path / "ds", {"berichten/a/JW325.xml": vb["JW325"], "berichten/b/JW325.xml": whole}))
    a = res.dataset.afwijzingen
    assert len(res.quarantaine) == 0
    first = a[a["bron"].str.startswith("berichten/a/")]
    # read off the example: Afzender 0384 (gemeente), Ontvanger 65656055 (aanbieder), Dagtekening 2023-05-07
    assert first["agb"].unique().tolist() == ["65656055"]
    assert first["gemeentecode"].unique().tolist() == ["0384"]
    assert first["declaratie_nr"].unique().tolist() == ["DN001"]
    assert first["referentie_nr"].tolist() == ["RN001", "RN002", "RN003"]
    assert first["toewijzing_nr"].tolist() == ["10072", "10073", "10074"]
    assert first["retourcodes"].tolist() == ["0611", "9339,9340,9341", "9307"]
    assert first["bedrag_cent_signed"].tolist() == [-5000, -14000, -5000]  # DebetCredit C
    assert first["antwoorddatum"].unique().tolist() == [pd.Timestamp("2023-05-07")]
    assert first["bron"].tolist() == ["berichten/a/JW325.xml#Client 1/Prestatie 1",
                                      "berichten/a/JW325.xml#Client 1/Prestatie 2",
                                      "berichten/a/JW325.xml#Client 2/Prestatie 1"]
    assert first["ijw_release"].unique().tolist() == ["3.2"]
    # TotaalToegekendBedrag 0: the three Prestaties and one row for the whole declaration
    second = a[a["bron"].str.startswith("berichten/b/")]
    assert len(second) == 4
    w = second.iloc[3]
    assert (pd.isna(w.referentie_nr), pd.isna(w.toewijzing_nr), w.declaratie_nr, w.retourcodes,
            w.bedrag_cent_signed, w.bron) == (True, True, "DN002", "0200", -58000,
                                              "berichten/b/JW325.xml#DeclaratieAntwoord")
    assert counts(res, "JW325", "3.2") == (7, 7, 0, 0)


def test_jw325_bad_retourcode_quarantined(tmp_path, vb):
    xml = vb["JW325"].replace("<jw325:RetourCode>0611</jw325:RetourCode>", "<jw325:RetourCode>61</jw325:RetourCode>")
    res = run(make_ds(tmp_path / "ds", {"berichten/JW325.xml": xml}))
    q = res.quarantaine
    assert q[["positie", "regel"]].values.tolist() == [["Client 1/Prestatie 1", "code_onbekend"]]
    assert len(res.dataset.afwijzingen) == 2


def test_declaratiedagtekening_and_status_aanlevering(tmp_path, vb):
    # a JW305 correction: the earlier record deleted (status 3), then sent again (status 1)
    delete = vb["JW305"].replace("<jw305:StatusAanlevering>1<", "<jw305:StatusAanlevering>3<") \
        .replace("123456789012", "123456789013").replace("2026-04-15</ijw:Dagtekening>", "2026-04-20</ijw:Dagtekening>")
    again = vb["JW305"].replace("2026-04-03</jw305:Begindatum>", "2026-04-06</jw305:Begindatum>") \
        .replace("123456789012", "123456789014")
    res = run(make_ds(tmp_path / "ds", {"berichten/1.xml": vb["JW305"], "berichten/2.xml": delete,
                                        "berichten/3.xml": again, "berichten/jw307.xml": vb["JW307"],
                                        "berichten/jw323.xml": vb["JW323"]}))
    s = res.dataset.start_stop
    assert len(res.quarantaine) == 0
    assert s["bericht"].tolist() == ["JW305"] * 6 + ["JW307"] * 2
    assert s["status_aanlevering"].tolist() == ["1", "1", "3", "3", "1", "1", "1", "1"]
    assert s["begindatum"].dt.strftime("%Y-%m-%d").tolist()[:6] == [
        "2026-04-03", "2026-04-15", "2026-04-03", "2026-04-15", "2026-04-06", "2026-04-15"]
    # JW307 of the example: reden 31, einddatum 2026-07-17, gemeente = Ontvanger 0363
    j7 = s[s["bericht"] == "JW307"]
    assert j7["reden_beeindiging"].tolist() == ["31", "31"]
    assert j7["einddatum"].tolist() == [pd.Timestamp("2026-07-17")] * 2
    assert j7["gemeentecode"].unique().tolist() == ["0363"]
    # DeclaratieDagtekening of the example JW323: 2026-05-06 on every Prestatie
    d = res.dataset.declaraties
    assert d["declaratiedatum"].tolist() == [pd.Timestamp("2026-05-06")] * 5
    assert d["declaratie_nr"].unique().tolist() == ["DN001"]


def test_export_declaratiedatum(tmp_path):
    csv = ("declaratie_nr;referentie_nr;toewijzing_nr;gemeentecode;agb;bsn;productcategorie;productcode;"
           "periode_begin;periode_eind;volume;eenheid;tarief;bedrag;declaratiedatum\n"
           "D1;R1;10072;0384;65656055;999900006;45;45A03;01-04-2026;30-04-2026;4;04;12,50;50,00;06-05-2026\n"
           "D1;R2;10073;0384;65656055;999900006;45;45A03;01-04-2026;30-04-2026;4;04;12,50;50,00;\n")
    res = run(make_ds(tmp_path / "ds", {"export/declaraties.csv": csv}))
    d = res.dataset.declaraties
    assert d["declaratiedatum"].iloc[0] == pd.Timestamp("2026-05-06") and pd.isna(d["declaratiedatum"].iloc[1])
    assert d["ijw_release"].isna().all()


def test_list_messages_orders_members_in_path_order(tmp_path, vb):
    root = make_ds(tmp_path / "ds", {"berichten/b.zip": _zip({"z.xml": vb["JW301"], "a/y.xml": vb["JW305"],
                                                              "map/": ""}),
                                     "berichten/a.xml": vb["JW323"], "berichten/c.xml": vb["JW307"]})
    rels = [r for r, _s in ingest._list_messages(root)[0]]
    assert rels == ["berichten/a.xml", "berichten/b.zip!a/y.xml", "berichten/b.zip!z.xml", "berichten/c.xml"]


def test_read_ahead_gives_the_same_bytes(tmp_path, vb, monkeypatch):
    # small files read ahead in threads, zip members and a missing block boundary in between:
    # the same tables, byte for byte, as reading one file after the other
    files = {f"berichten/{k:03d}.xml": vb["JW323"].replace("765432198", f"7654{k:05d}") for k in range(40)}
    files["berichten/020.zip"] = _zip({"a.xml": vb["JW301"], "b.xml": vb["JW305"]})
    files["berichten/030_kapot.xml"] = vb["JW307"][:300]
    root = make_ds(tmp_path / "ds", files)
    monkeypatch.setattr(ingest, "PREFETCH_BLOCK", 3)
    a = run(root, tmp_path / "a")
    monkeypatch.setattr(ingest, "PREFETCH_THREADS", 0)
    b = run(root, tmp_path / "b")
    for name in ("declaraties", "toewijzingen", "start_stop", "quarantaine", "ingest_telling"):
        assert (tmp_path / "a" / f"{name}.parquet").read_bytes() == (tmp_path / "b" / f"{name}.parquet").read_bytes()
    assert len(a.dataset.declaraties) == 200 and len(a.dataset.toewijzingen) == 2
    assert a.quarantaine["regel"].tolist() == ["xml_onleesbaar"]
