"""Ingest of iJw messages and exports: the example messages to exact canonical values,
every kind of bad input to quarantine with a one-line message, counts that add up,
repeatable and atomic output, parallel = serial."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from jeugdlib import cli, dataset, ingest, privacy
from jeugdlib.errors import JeugdlibError

PRODUCTEN = ("productcode,productcategorie,omschrijving,segment,productgroep,financieringsvorm,zwaarte,"
             "variant,norm_uren,norm_maanden,tarief,trajectprijs,geldig_vanaf,geldig_tot\n"
             "45A03,45,GGZ licht,4 - Ambulant,GGZ,inspanning,licht,,,,\"12,50\",,01-01-2024,\n")
AANBIEDERS = "agb;naam;type;gecontracteerd_vanaf;gecontracteerd_tot\n65656055;Zorg BV;regulier;2024-01-01;\n"


def make_ds(root: Path, files: dict[str, bytes | str], *, producten=True, aanbieders=True) -> Path:
    """A dataset folder with the given files (relative path -> content) and reference tables."""
    (root / "referentie").mkdir(parents=True, exist_ok=True)
    if producten:
        (root / "referentie" / "producten.csv").write_text(PRODUCTEN, encoding="utf-8")
    if aanbieders:
        (root / "referentie" / "aanbieders.csv").write_text(AANBIEDERS, encoding="utf-8")
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def run(root: Path, out: Path | None = None, **kw) -> ingest.IngestResult:
    return ingest.ingest(root, out or root.parent / f"{root.name}_out", quiet=True, **kw)


def client_id(bsn: str) -> str:
    return privacy.pseudonymise(pd.Series([bsn]), privacy.load_key()).iloc[0]


@pytest.fixture(scope="module")
def voorbeelden(ijw_berichten_dir) -> dict[str, str]:
    return {b: (ijw_berichten_dir / f"{b}.xml").read_text(encoding="utf-8")
            for b in ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325")}


def telling(res) -> dict[str, tuple[int, int, int, int]]:
    """Counts per input kind (summed over iJw releases)."""
    t = res.telling.groupby("invoer")[["gelezen", "behouden", "quarantaine", "overgeslagen"]].sum()
    return {inv: tuple(int(x) for x in r) for inv, r in t.iterrows()}


def assert_counts_add_up(res):
    t = res.telling
    assert (t["gelezen"] == t["behouden"] + t["quarantaine"] + t["overgeslagen"]).all()
    # and the counts match the tables themselves
    q = res.quarantaine["invoer"].value_counts()
    per = t.groupby("invoer")["quarantaine"].sum()
    for inv, n in per.items():
        assert q.get(inv, 0) == n, inv


# --------------------------------------------------------------------------- the example messages

def test_examples_parse_to_exact_values(tmp_path, voorbeelden):
    root = make_ds(tmp_path / "ds", {f"berichten/{b}.xml": voorbeelden[b] for b in
                                     ("JW301", "JW305", "JW307", "JW323")})
    res = run(root)
    ds = res.dataset
    c6, c18 = client_id("999900006"), client_id("999900018")

    t = ds.toewijzingen
    assert len(t) == 2
    r = t.iloc[0]
    assert (r.toewijzing_nr, r.gemeentecode, r.agb, r.client_id) == ("300201", "0384", "42420001", c6)
    assert r.versie_ts == pd.Timestamp("2026-04-01 12:34:56")
    assert r.geboortedatum == pd.Timestamp("2010-02-14") and r.geslacht == "1"
    assert (r.productcategorie, r.productcode) == ("55", "55A11")
    assert r.ingangsdatum == pd.Timestamp("2026-04-01") and r.einddatum == pd.Timestamp("2026-07-14")
    assert pd.isna(r.reden_wijziging) and pd.isna(r.budget_cent)
    assert (r.volume, r.eenheid, r.frequentie) == (2, "04", "2")
    assert r.bron == "berichten/JW301.xml#ToegewezenProduct 1"
    r = t.iloc[1]
    assert (r.toewijzing_nr, r.productcode, r.volume, r.eenheid) == ("300202", "55A12", 2, "16")
    assert r.einddatum == pd.Timestamp("2026-07-19")

    s = ds.start_stop
    assert s["bericht"].tolist() == ["JW305", "JW305", "JW307", "JW307"]
    assert s["toewijzing_nr"].tolist() == ["300201", "300202"] * 2
    assert s["productcode"].tolist() == ["55A11", "55A12"] * 2
    assert (s["gemeentecode"] == "0363").all() and (s["agb"] == "65656055").all()
    assert (s["client_id"] == c6).all()
    assert s["begindatum"].tolist() == [pd.Timestamp(d) for d in
                                        ("2026-04-03", "2026-04-15", "2026-04-03", "2026-04-15")]
    assert s["einddatum"].isna().tolist() == [True, True, False, False]
    assert (s["einddatum"].iloc[2:] == pd.Timestamp("2026-07-17")).all()
    assert s["reden_beeindiging"].iloc[2:].tolist() == ["31", "31"]
    assert pd.isna(s["reden_beeindiging"].iloc[0])

    d = ds.declaraties
    assert len(d) == 5
    assert (d["declaratie_nr"] == "DN001").all()
    assert d["referentie_nr"].tolist() == ["RN001", "RN002", "RN003", "RN004", "RN004"]
    assert d["vorig_referentie_nr"].isna().all()
    assert d["toewijzing_nr"].tolist() == ["10072", "10073", "10074", "10073", "10073"]
    assert (d["gemeentecode"] == "0384").all() and (d["agb"] == "65656055").all()
    assert d["client_id"].tolist() == [c6, c6, c18, c18, c18]
    assert (d["productcategorie"] == "45").all()
    assert d["productcode"].tolist() == ["45A03", "45A04", "45A03", "45A04", "45A04"]
    assert d["periode_begin"].tolist() == [pd.Timestamp(x) for x in ["2026-04-01"] * 4 + ["2026-03-01"]]
    assert d["periode_eind"].tolist() == [pd.Timestamp(x) for x in ["2026-04-30"] * 4 + ["2026-03-31"]]
    assert d["volume_signed"].tolist() == [4, 16, 4, 16, 14]
    assert (d["eenheid"] == "04").all()
    assert d["tarief_cent"].tolist() == [1250, 1500, 1250, 1500, 1500]
    assert d["bedrag_cent_signed"].tolist() == [5000, 24000, 5000, 24000, 21000]  # all D: positive
    assert d["bron"].iloc[4] == "berichten/JW323.xml#Client 2/Prestatie 3"
    assert len(ds.quarantaine) == 0
    assert telling(res)["JW323"] == (5, 5, 0, 0)
    assert_counts_add_up(res)


def test_credit_is_negative_and_keeps_vorig_referentie(tmp_path, voorbeelden):
    xml = voorbeelden["JW323"].replace(
        "<ijw:ReferentieNummer>RN002</ijw:ReferentieNummer>",
        "<ijw:ReferentieNummer>RN002</ijw:ReferentieNummer>"
        "<ijw:VorigReferentieNummer>RN000</ijw:VorigReferentieNummer>")
    # the second Prestatie becomes a credit
    i = xml.index("<ijw:Bedrag>24000</ijw:Bedrag>")
    xml = xml[:i] + xml[i:].replace("<ijw:DebetCredit>D</ijw:DebetCredit>", "<ijw:DebetCredit>C</ijw:DebetCredit>", 1)
    d = run(make_ds(tmp_path / "ds", {"berichten/a.xml": xml})).dataset.declaraties
    assert d["vorig_referentie_nr"].iloc[1] == "RN000"
    # C: volume 16 -> -16, Bedrag 24000 -> -24000; the others stay positive
    assert d["volume_signed"].tolist() == [4, -16, 4, 16, 14]
    assert d["bedrag_cent_signed"].tolist() == [5000, -24000, 5000, 24000, 21000]


def test_example_jw315_invalid_date_is_quarantined(tmp_path, voorbeelden):
    res = run(make_ds(tmp_path / "ds", {"berichten/JW315.xml": voorbeelden["JW315"],
                                        "berichten/JW301.xml": voorbeelden["JW301"]}))
    q = res.quarantaine
    assert len(res.dataset.verzoeken) == 0
    assert q["regel"].tolist() == ["datum_ongeldig", "datum_ongeldig"]
    assert q["positie"].tolist() == ["AangevraagdProduct 1", "AangevraagdProduct 2"]
    assert q["waarde"].tolist() == ["2027-06-31", "2027-06-31"]
    assert "ToewijzingEinddatum" in q["melding"].iloc[0]
    assert res.meldingen()[0] == ("berichten/JW315.xml: AangevraagdProduct 1: ToewijzingEinddatum is geen "
                                  "bestaande datum: '2027-06-31'")
    assert telling(res)["JW315"] == (2, 0, 2, 0)
    assert len(res.dataset.toewijzingen) == 2  # the rest is ingested


def test_valid_jw315_gives_verwijzer(tmp_path, voorbeelden):
    xml = voorbeelden["JW315"].replace("2027-06-31", "2027-06-30")
    v = run(make_ds(tmp_path / "ds", {"berichten/JW315.xml": xml})).dataset.verzoeken
    assert v["verwijzer_type"].tolist() == ["01", "02"]
    assert v["productcode"].tolist() == ["55A11", "55A12"]
    assert (v["gemeentecode"] == "0384").all() and (v["agb"] == "42420001").all()
    assert (v["ingangsdatum"] == pd.Timestamp("2026-04-01")).all()


# --------------------------------------------------------------------------- bad input

def _second_prestatie(xml: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` only inside the second Prestatie (Client 1 / Prestatie 2)."""
    i = xml.index("<jw323:Prestatie>", xml.index("<jw323:Prestatie>") + 1)
    j = xml.index("</jw323:Prestatie>", i)
    return xml[:i] + xml[i:j].replace(old, new, 1) + xml[j:]


@pytest.mark.parametrize("name, mutate, regel, waarde", [
    ("bsn", lambda x: x.replace("999900018", "123456789"), "bsn_elfproef", "<ongeldig>"),
    ("element", lambda x: _second_prestatie(x, "<jw323:GeleverdVolume>16</jw323:GeleverdVolume>", ""),
     "element_ontbreekt", None),
    ("code", lambda x: _second_prestatie(x, "<jw323:Eenheid>04</jw323:Eenheid>", "<jw323:Eenheid>05</jw323:Eenheid>"),
     "code_onbekend", "05"),
    ("datum", lambda x: _second_prestatie(x, "<ijw:Einddatum>2026-04-30</ijw:Einddatum>",
                                          "<ijw:Einddatum>2026-04-31</ijw:Einddatum>"), "datum_ongeldig",
     "2026-04-31"),
])
def test_bad_record_goes_to_quarantine(tmp_path, voorbeelden, name, mutate, regel, waarde):
    res = run(make_ds(tmp_path / "ds", {"berichten/x/jw323.xml": mutate(voorbeelden["JW323"])}))
    q = res.quarantaine
    d = res.dataset.declaraties
    if name == "bsn":  # Client 2 has three Prestaties, all quarantined
        assert q["positie"].tolist() == ["Client 2/Prestatie 1", "Client 2/Prestatie 2", "Client 2/Prestatie 3"]
        assert "999900018" not in q.to_string() and "123456789" not in q.to_string()
        assert res.meldingen()[0] == "berichten/x/jw323.xml: Client 2/Prestatie 1: BSN faalt de elfproef"
        assert q["bedrag_cent"].tolist() == [5000, 24000, 21000]
        assert len(d) == 2
    else:
        assert q["positie"].tolist() == ["Client 1/Prestatie 2"]
        assert q["bedrag_cent"].tolist() == [24000]  # the amount stays visible for the quality report
        assert d["referentie_nr"].tolist() == ["RN001", "RN003", "RN004", "RN004"]
    assert (q["regel"] == regel).all()
    assert (q["bestand"] == "berichten/x/jw323.xml").all()
    assert q["waarde"].iloc[0] == waarde if waarde else pd.isna(q["waarde"].iloc[0])
    assert all("\n" not in m for m in res.meldingen())
    assert_counts_add_up(res)
    assert telling(res)["JW323"][0] == 5


@pytest.mark.parametrize("content, regel", [
    (b"", "bestand_leeg"),
    (b"<?xml version='1.0'?>\n<<jw323:Bericht/>", "xml_onleesbaar"),
    ("<?xml version='1.0' encoding='UTF-8'?><a>caf\u00e9</a>".encode("latin-1"), "codering_ongeldig"),
    ("<a>not an ijw message</a>", "namespace_onbekend"),
])
def test_unreadable_file_is_one_quarantined_record(tmp_path, voorbeelden, content, regel):
    res = run(make_ds(tmp_path / "ds", {"berichten/bad.xml": content, "berichten/ok.xml": voorbeelden["JW301"]}))
    q = res.quarantaine
    assert q[["bestand", "positie", "regel"]].values.tolist() == [["berichten/bad.xml", "bestand", regel]]
    assert telling(res)["xml"] == (1, 0, 1, 0)
    assert len(res.dataset.toewijzingen) == 2
    assert_counts_add_up(res)


def test_truncated_message(tmp_path, voorbeelden):
    xml = voorbeelden["JW323"]
    res = run(make_ds(tmp_path / "ds", {"berichten/cut.xml": xml[: len(xml) // 2],
                                        "berichten/ok.xml": voorbeelden["JW301"]}))
    q = res.quarantaine
    assert q["regel"].tolist() == ["xml_onleesbaar"]
    assert q["invoer"].tolist() == ["JW323"]  # the type was known before the cut
    assert len(res.dataset.declaraties) == 0  # nothing half-read is kept
    assert telling(res)["JW323"] == (1, 0, 1, 0)


def test_other_standard_and_old_release_skipped(tmp_path, voorbeelden):
    # iJw 3.0/3.1 are read (tests/test_ingest_releases.py); iJw 2.x and iWmo are skipped, not quarantined
    v24 = voorbeelden["JW323"].replace("/ijw/3_2/", "/ijw/2_4/")
    wmo = voorbeelden["JW301"].replace("/ijw/3_2/jw301/", "/iwmo/3_2/wmo301/").replace("jw301:", "wmo301:") \
        .replace("xmlns:jw301", "xmlns:wmo301")
    res = run(make_ds(tmp_path / "ds", {"berichten/v24.xml": v24, "berichten/wmo.xml": wmo,
                                        "berichten/JW301.xml": voorbeelden["JW301"]}))
    assert len(res.quarantaine) == 0
    t = res.telling.set_index(["invoer", "ijw_release"], drop=False)
    assert tuple(t.loc[("JW323", "2.4"), ["gelezen", "behouden", "quarantaine", "overgeslagen"]]) == (1, 0, 0, 1)
    wm = res.telling[res.telling["invoer"] == "iWmo:WMO301"]
    assert wm[["gelezen", "behouden", "quarantaine", "overgeslagen"]].values.tolist() == [[1, 0, 0, 1]]
    assert wm["ijw_release"].isna().all()
    assert tuple(t.loc[("JW301", "3.2"), ["gelezen", "behouden"]]) == (2, 2)
    assert_counts_add_up(res)


def test_same_message_twice(tmp_path, voorbeelden):
    xml = voorbeelden["JW323"]
    other_bytes = xml.replace("\t", "  ")  # same BerichtIdentificatie/Afzender, other bytes
    res = run(make_ds(tmp_path / "ds", {"berichten/a.xml": xml, "berichten/b.xml": xml,
                                        "berichten/c.xml": other_bytes}))
    q = res.quarantaine
    assert len(res.dataset.declaraties) == 5
    assert q["bestand"].value_counts().to_dict() == {"berichten/b.xml": 5, "berichten/c.xml": 5}
    assert (q["regel"] == "dubbel_bericht").all()
    assert "berichten/a.xml" in q["melding"].iloc[0]
    assert q["bedrag_cent"].sum() == 2 * 79000
    assert telling(res)["JW323"] == (15, 5, 10, 0)


def test_byte_identical_file_without_identification(tmp_path, voorbeelden):
    # without a BerichtIdentificatie only the bytes can tell: a byte-identical copy is a duplicate
    xml = voorbeelden["JW301"]
    i, j = xml.index("<jw301:BerichtIdentificatie>"), xml.index("</jw301:BerichtIdentificatie>")
    xml = xml[:i] + xml[j + len("</jw301:BerichtIdentificatie>"):]
    res = run(make_ds(tmp_path / "ds", {"berichten/2024/a.xml": xml, "berichten/2025/a.xml": xml}))
    assert res.quarantaine["regel"].tolist() == ["dubbel_bericht", "dubbel_bericht"]
    assert (res.quarantaine["bestand"] == "berichten/2025/a.xml").all()


def test_export_with_missing_column(tmp_path, voorbeelden):
    csv = "gemeentecode;agb;bsn;productcode;periode_begin;periode_eind\n0384;65656055;999900006;45A03;01-04-2026;30-04-2026\n"
    res = run(make_ds(tmp_path / "ds", {"export/declaraties.csv": csv, "berichten/JW301.xml": voorbeelden["JW301"]}))
    q = res.quarantaine
    assert q[["bestand", "positie", "regel"]].values.tolist() == [["export/declaraties.csv", "regel 2",
                                                                   "kolom_ontbreekt"]]
    assert "bedrag" in q["melding"].iloc[0]
    assert telling(res)["export:declaraties"] == (1, 0, 1, 0)
    assert len(res.dataset.toewijzingen) == 2


@pytest.mark.parametrize("content, regel", [(b"", "bestand_leeg"), ("a;b\n\u00e9;1\n".encode("latin-1"),
                                                                   "codering_ongeldig")])
def test_bad_export_file(tmp_path, voorbeelden, content, regel):
    res = run(make_ds(tmp_path / "ds", {"export/toewijzingen.csv": content,
                                        "berichten/JW301.xml": voorbeelden["JW301"]}))
    assert res.quarantaine["regel"].tolist() == [regel]
    assert telling(res)["export:toewijzingen"] == (1, 0, 1, 0)


# --------------------------------------------------------------------------- stopping errors

@pytest.mark.parametrize("missing", ["producten", "aanbieders"])
def test_missing_required_reference_stops(tmp_path, voorbeelden, capsys, missing):
    root = make_ds(tmp_path / "ds", {"berichten/JW301.xml": voorbeelden["JW301"]},
                   producten=missing != "producten", aanbieders=missing != "aanbieders")
    with pytest.raises(JeugdlibError, match=f"{missing}.csv"):
        run(root)
    rc = cli.main(["ingest", str(root), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert rc != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and f"{missing}.csv" in err


def test_no_messages_stops(tmp_path, capsys):
    root = make_ds(tmp_path / "ds", {})
    rc = cli.main(["ingest", str(root), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert rc != 0 and len(err.strip().splitlines()) == 1 and "geen berichten" in err


def test_only_unusable_messages_exit_nonzero(tmp_path, voorbeelden, capsys):
    v24 = voorbeelden["JW325"].replace("/ijw/3_2/", "/ijw/2_4/")
    root = make_ds(tmp_path / "ds", {"berichten/JW325.xml": v24})
    rc = cli.main(["ingest", str(root), "--out", str(tmp_path / "out"), "--quiet"])
    cap = capsys.readouterr()
    assert rc != 0 and "geen enkel bruikbaar record" in cap.err
    assert "JW325" in cap.out  # the summary still shows what was read


def test_cli_summary_and_one_line_messages(tmp_path, voorbeelden, capsys):
    root = make_ds(tmp_path / "ds", {"berichten/JW315.xml": voorbeelden["JW315"],
                                     "berichten/JW323.xml": voorbeelden["JW323"], "berichten/leeg.xml": b""})
    rc = cli.main(["ingest", str(root), "--out", str(tmp_path / "out")])
    cap = capsys.readouterr()
    assert rc == 0
    assert "gelezen" in cap.out and "datum_ongeldig" in cap.out and "bestand_leeg" in cap.out
    lines = [l for l in cap.err.splitlines() if l.startswith("berichten/")]
    assert lines == ["berichten/JW315.xml: AangevraagdProduct 1: ToewijzingEinddatum is geen bestaande datum: "
                     "'2027-06-31'",
                     "berichten/JW315.xml: AangevraagdProduct 2: ToewijzingEinddatum is geen bestaande datum: "
                     "'2027-06-31'",
                     "berichten/leeg.xml: bestand: leeg bestand"]
    assert "Traceback" not in cap.err


# --------------------------------------------------------------------------- privacy

def test_no_bsn_or_names_on_disk(tmp_path, voorbeelden):
    root = make_ds(tmp_path / "ds", {f"berichten/{b}.xml": voorbeelden[b] for b in
                                     ("JW301", "JW305", "JW307", "JW323")})
    out = tmp_path / "out"
    res = run(root, out)
    for name in dataset.Dataset.table_names():
        df = pd.read_parquet(out / f"{name}.parquet")
        text = df.astype(str).to_string()
        for secret in ("999900006", "999900018", "Galen", "Woustraat", "abc@def.com", "0201234567", "Commentaar"):
            assert secret not in text, (name, secret)
    assert res.dataset.toewijzingen["client_id"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_key_created_on_first_use(tmp_path, voorbeelden, monkeypatch, capsys):
    monkeypatch.delenv("JEUGDLIB_KEY", raising=False)
    keyfile = tmp_path / "keys" / ".jeugdlib_key"
    monkeypatch.setenv("JEUGDLIB_KEY_FILE", str(keyfile))
    root = make_ds(tmp_path / "ds", {"berichten/JW301.xml": voorbeelden["JW301"]})
    a = ingest.ingest(root, tmp_path / "o1").dataset.toewijzingen["client_id"]
    assert keyfile.exists() and "sleutel" in capsys.readouterr().err
    b = ingest.ingest(root, tmp_path / "o2", quiet=True).dataset.toewijzingen["client_id"]
    assert a.tolist() == b.tolist()  # same key, same ids


# --------------------------------------------------------------------------- XSD

def test_xsd_validation(tmp_path, voorbeelden, ijw_xsd_dir):
    bad_code = voorbeelden["JW301"].replace("<jw301:BerichtCode>436<", "<jw301:BerichtCode>437<")
    res = run(make_ds(tmp_path / "ds", {"berichten/a.xml": bad_code, "berichten/b.xml": voorbeelden["JW305"],
                                        "berichten/c.xml": voorbeelden["JW315"]}), xsd_dir=ijw_xsd_dir)
    q = res.quarantaine
    # JW301 breaks only the XSD (BerichtCode); JW315 breaks a record rule first
    assert q[["bestand", "regel"]].values.tolist() == [["berichten/a.xml", "xsd_ongeldig"]] * 2 + [
        ["berichten/c.xml", "datum_ongeldig"]] * 2
    assert "JW301.xsd" in q["melding"].iloc[0]
    assert len(res.dataset.start_stop) == 2
    assert_counts_add_up(res)
    with pytest.raises(JeugdlibError, match="XSD"):
        run(make_ds(tmp_path / "ds2", {"berichten/b.xml": voorbeelden["JW305"]}), xsd_dir=tmp_path)


# --------------------------------------------------------------------------- repeatable, atomic, parallel

def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


@pytest.fixture
def mixed_ds(tmp_path, voorbeelden):
    files = {}
    for k in range(6):
        for b in ("JW301", "JW305", "JW307", "JW315", "JW323"):
            xml = voorbeelden[b].replace("123456789012", f"1234567890{k:02d}").replace("765432198", f"7654321{k:02d}")
            files[f"berichten/{k % 3}/{b}_{k}.xml"] = xml
    files["berichten/1/kapot.xml"] = voorbeelden["JW323"][:900]
    files["berichten/2/dubbel.xml"] = files["berichten/0/JW323_0.xml"]
    files["export/declaraties.csv"] = ("gemeentecode;agb;bsn;productcode;periode_begin;periode_eind;bedrag\n"
                                       "384;65656055;999900006;45A03;01-04-2026;30-04-2026;\"1.250,50\"\n")
    return make_ds(tmp_path / "mixed", files)


def test_repeatable_identical_bytes(tmp_path, mixed_ds):
    r1 = run(mixed_ds, tmp_path / "o1", workers=1)
    r2 = run(mixed_ds, tmp_path / "o2", workers=1)
    h1, h2 = _hashes(tmp_path / "o1"), _hashes(tmp_path / "o2")
    assert len(h1) == len(dataset.Dataset.table_names()) and h1 == h2
    assert len(r1.dataset.declaraties) == 6 * 5 + 1 and r2.telling.equals(r1.telling)
    assert not list((tmp_path / "o1").glob(".*tmp"))


@pytest.mark.slow
def test_parallel_equals_serial(tmp_path, mixed_ds):
    r = run(mixed_ds, tmp_path / "p", workers=2)
    assert r.workers == 2
    run(mixed_ds, tmp_path / "s", workers=1)
    assert _hashes(tmp_path / "p") == _hashes(tmp_path / "s")


def test_interrupted_write_leaves_tables_whole(tmp_path, mixed_ds, monkeypatch):
    out = tmp_path / "o"
    run(mixed_ds, out, workers=1)
    before = _hashes(out)
    real = dataset.pq.write_table
    calls = {"n": 0}

    def crash(table, where, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # second table: write half a file aside, then die
            Path(where).write_bytes(b"PAR1 half")
            raise KeyboardInterrupt
        return real(table, where, **kw)

    monkeypatch.setattr(dataset.pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        run(mixed_ds, out, workers=1)
    monkeypatch.setattr(dataset.pq, "write_table", real)
    after = _hashes(out)
    assert after == before  # every table is the old one or the new one, never half
    for name in after:
        pd.read_parquet(out / name)
    for leftover in out.glob(".*.tmp"):
        os.remove(leftover)


def test_mixed_dataset_counts(tmp_path, mixed_ds):
    res = run(mixed_ds, tmp_path / "o", workers=1)
    tel = telling(res)
    # 6 clean copies of each example; JW315 example has the impossible date (2 records each);
    # JW323: 6 x 5 Prestaties + 5 duplicate + 1 truncated file
    assert tel["JW301"] == (12, 12, 0, 0)
    assert tel["JW315"] == (12, 0, 12, 0)
    assert tel["JW323"] == (36, 30, 6, 0)
    assert tel["export:declaraties"] == (1, 1, 0, 0)
    d = res.dataset.declaraties
    exp = d[d["bron"].str.startswith("export/")].iloc[0]
    assert (exp.gemeentecode, exp.bedrag_cent_signed, exp.periode_begin) == ("0384", 125050,
                                                                             pd.Timestamp("2026-04-01"))
    assert_counts_add_up(res)


def test_parquet_bytes_do_not_depend_on_chunking(tmp_path):
    """Parallel ingest concatenates per-chunk frames: the bytes written must not follow the chunks."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(3)
    vals = [f"{x:064x}" for x in rng.integers(0, 2**62, 60_000)] * 3  # repeats: dictionary encoding
    one = pd.DataFrame({"c": pd.Series(pd.arrays.ArrowStringArray(pa.array(vals, pa.large_string())))})
    parts = pa.chunked_array([pa.array(vals[:12_345], pa.large_string()), pa.array(vals[12_345:], pa.large_string())])
    two = pd.DataFrame({"c": pd.Series(pd.arrays.ArrowStringArray(parts))})
    dataset.write_table(one, tmp_path / "one.parquet")
    dataset.write_table(two, tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()


# --------------------------------------------------------------------------- streaming and the vectorised reader

def _big_jw323(voorbeelden, copies: int, ident: str = "1") -> str:
    """The example JW323 with its Clients repeated ``copies`` times (distinct ReferentieNummers)."""
    xml = voorbeelden["JW323"].replace("765432198", ident)
    a, b = xml.index("<jw323:Client>"), xml.rindex("</jw323:Client>") + len("</jw323:Client>")
    clients = "".join(xml[a:b].replace("<ijw:ReferentieNummer>RN", f"<ijw:ReferentieNummer>C{k}RN")
                      for k in range(copies))
    return xml[:a] + clients + xml[b:]


def test_streamed_tables_do_not_depend_on_batches_chunks_or_reader(tmp_path, voorbeelden, mixed_ds, monkeypatch):
    """Row groups of a fixed size, one chunk per column: the same bytes however the records came in."""
    files = {f"berichten/big_{k}.xml": _big_jw323(voorbeelden, 200, ident=f"9{k}") for k in range(2)}
    for k, b in enumerate(("JW305", "JW307", "JW305")):  # start_stop from two message types, in path order
        files[f"berichten/s{k}.xml"] = voorbeelden[b].replace("123456789012", f"55{k}")
    root = make_ds(tmp_path / "ds", files)
    monkeypatch.setattr(ingest, "ROW_GROUP", 350)  # 2 x 1000 Prestaties: several row groups
    runs = {}
    for name, block, fast_min, batch, chunk_files in [("vectorised, small blocks", 4096, 0, 300, 1),
                                                      ("lxml, one chunk", 1 << 20, float("inf"), 50_000, 10_000),
                                                      ("default", 8 << 20, 256 << 10, 50_000, 10_000)]:
        monkeypatch.setattr(ingest.reader, "BLOCK_BYTES", block)
        monkeypatch.setattr(ingest.reader, "FAST_MIN_BYTES", fast_min)
        monkeypatch.setattr(ingest, "BATCH_SIZE", batch)
        monkeypatch.setattr(ingest, "CHUNK_FILES", chunk_files)
        out = tmp_path / name
        res = run(root, out, workers=1)
        runs[name] = _hashes(out)
        assert_counts_add_up(res)
    assert runs["vectorised, small blocks"] == runs["lxml, one chunk"] == runs["default"]
    import pyarrow.parquet as pq
    assert pq.ParquetFile(tmp_path / "default" / "declaraties.parquet").metadata.num_row_groups == 6  # 2000 / 350
    d = res.dataset.declaraties
    assert len(d) == 2000 and d["bron"].iloc[-1] == "berichten/big_1.xml#Client 400/Prestatie 3"
    s = res.dataset.start_stop
    assert s["bericht"].tolist() == ["JW305"] * 2 + ["JW307"] * 2 + ["JW305"] * 2  # path order, not by type
    assert s["bron"].str.split("#").str[0].tolist() == ["berichten/s0.xml"] * 2 + ["berichten/s1.xml"] * 2 + [
        "berichten/s2.xml"] * 2


def test_surprise_late_in_a_big_file_rereads_it_with_lxml(tmp_path, voorbeelden, monkeypatch):
    """The vectorised reader meets a comment after it handed on records: the chunk is read again."""
    big = _big_jw323(voorbeelden, 200)
    i = big.rindex("<jw323:GeleverdVolume>")
    big = big[:i] + "<!-- opmerking -->" + big[i:]
    root = make_ds(tmp_path / "ds", {"berichten/a.xml": voorbeelden["JW301"], "berichten/b.xml": big})
    monkeypatch.setattr(ingest.reader, "FAST_MIN_BYTES", float("inf"))
    lxml = run(root, tmp_path / "lxml", workers=1)
    monkeypatch.setattr(ingest.reader, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(ingest.reader, "BLOCK_BYTES", 2048)
    calls = []
    real = ingest._ingest_chunk_once
    monkeypatch.setattr(ingest, "_ingest_chunk_once", lambda *a: calls.append(set(a[-1])) or real(*a))
    fast = run(root, tmp_path / "fast", workers=1)
    assert calls == [set(), {1}]  # second pass: file 1 (b.xml) on lxml
    assert _hashes(tmp_path / "fast") == _hashes(tmp_path / "lxml")
    assert len(fast.dataset.declaraties) == 1000 and fast.telling.equals(lxml.telling)
    assert not list((tmp_path / "fast").glob(".*tmp"))  # spill files gone


def test_duplicate_keys_checked_exactly(tmp_path, voorbeelden):
    # same BerichtIdentificatie, other Afzender: not a duplicate; other bytes, same key: duplicate
    a = voorbeelden["JW301"]
    b = a.replace("<jw301:Afzender>0384</jw301:Afzender>", "<jw301:Afzender>0385</jw301:Afzender>")
    c = a.replace("\t", " ")
    res = run(make_ds(tmp_path / "ds", {"berichten/a.xml": a, "berichten/b.xml": b, "berichten/c.xml": c}))
    q = res.quarantaine
    assert q["bestand"].tolist() == ["berichten/c.xml"] * 2 and (q["regel"] == "dubbel_bericht").all()
    assert q["melding"].iloc[0] == ("zelfde JW301-bericht (BerichtIdentificatie 123456789012, Afzender 0384) "
                                    "als berichten/a.xml")
