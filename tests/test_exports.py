"""Flat exports and reference tables: separators, BOM, decimal comma, Dutch dates,
XLSX, line positions, euro -> eurocent, and the export front door of ingest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdlib import exports, ingest, privacy
from jeugdlib.errors import JeugdlibError


def S(*v):
    return pd.Series(list(v), dtype="string[pyarrow]")


def test_parse_euro_cent():
    vals, bad = exports.parse_euro_cent(S("1.234,56", "1234.56", "€ 12,5", "-3", "0,01", "1.250.000", "12.5",
                                          "12.345", "1,005", "x", None))
    # 1.234,56 -> 1234.56 euro -> 123456 cent; "€ 12,5" -> 12.50 -> 1250; -3 -> -300; 0,01 -> 1;
    # 1.250.000 (thousands dots) -> 125000000 cent; 12.5 -> 1250;
    # "12.345" (three decimals, or a thousands dot?) and "1,005" (fraction of a cent) are refused
    assert vals.tolist()[:7] == [123456, 123456, 1250, -300, 1, 125000000, 1250]
    assert bad.tolist() == [False] * 7 + [True, True, True, False]


def test_parse_date_iso_and_dutch():
    vals, bad = exports.parse_date(S("2024-02-29", "29-02-2024", "2021-02-29", "31/12/2023", "2024-01-05 00:00:00",
                                     None, "morgen"))
    assert vals.tolist()[:5] == [pd.Timestamp("2024-02-29"), pd.Timestamp("2024-02-29"), pd.NaT,
                                 pd.Timestamp("2023-12-31"), pd.Timestamp("2024-01-05")]
    assert bad.tolist() == [False, False, True, False, False, False, True]
    _, bad = exports.parse_date(S("29-02-2024"), dutch=False)  # XML: ISO only
    assert bad.tolist() == [True]


def test_parse_int_and_pad():
    vals, bad = exports.parse_int(S("4", "4.0", "4,00", "-3", "4.5"), signed=True, lenient=True)
    assert vals.tolist()[:4] == [4, 4, 4, -3] and bad.tolist() == [False] * 4 + [True]
    assert exports.zero_pad(S("363", "363.0", "0363", "AB1"), 4).tolist() == ["0363", "0363", "0363", "AB1"]
    assert exports.norm_nummer(S("000123", "0", "X01")).tolist() == ["123", "0", "X01"]


def test_read_flat_semicolon_bom_and_bad_lines(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("\ufeffAGB;Naam;Type\n12345678;A;micro\n\n1234567;\"B;x\";regulier\n1;2\n22222222;C;regulier\n"
                  .encode("utf-8"))
    f = exports.read_flat(p)
    assert list(f.data.columns) == ["agb", "naam", "type"]  # BOM gone, lower case
    assert f.data["naam"].tolist() == ["A", "B;x", "C"]
    assert f.positie.tolist() == ["regel 2", "regel 4", "regel 6"]  # the empty line 3 is skipped
    # the raw line is never kept (it may hold a BSN), only its shape
    assert f.bad_rows[["positie", "waarde"]].values.tolist() == [["regel 5", "2 velden"]]


def test_read_flat_comma_and_xlsx(tmp_path):
    df = pd.DataFrame({"gemeentecode": ["0384", "0363"], "bedrag": ["12,50", "3"]})
    df.to_csv(tmp_path / "a.csv", index=False)
    f = exports.read_flat(tmp_path / "a.csv")
    assert f.data["bedrag"].tolist() == ["12,50", "3"]
    x = pd.DataFrame({"Gemeentecode": [384, 363], "Bedrag": [12.5, 3], "Datum": pd.to_datetime(["2024-01-31", "2024-02-01"])})
    x.to_excel(tmp_path / "a.xlsx", index=False)
    f = exports.read_flat(tmp_path / "a.xlsx")
    assert exports.zero_pad(f.data["gemeentecode"], 4).tolist() == ["0384", "0363"]
    assert exports.parse_euro_cent(f.data["bedrag"])[0].tolist() == [1250, 300]
    assert exports.parse_date(f.data["datum"])[0].tolist() == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")]
    assert f.positie.tolist() == ["rij 2", "rij 3"]


def test_read_flat_unreadable(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"\xef\xbb\xbf\n")
    with pytest.raises(exports.FileError, match="leeg"):
        exports.read_flat(tmp_path / "e.csv")
    (tmp_path / "l.csv").write_bytes("a;b\nx;\u00e9\n".encode("cp1252"))
    with pytest.raises(exports.FileError) as ei:
        exports.read_flat(tmp_path / "l.csv")
    assert ei.value.regel == "codering_ongeldig" and "regel 2" in ei.value.melding


def _ref(tmp_path, **files):
    (tmp_path / "referentie").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (tmp_path / "referentie" / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def test_reference_tables_normalised(tmp_path):
    root = _ref(tmp_path,
                producten="productcode;productcategorie;omschrijving;financieringsvorm;zwaarte;tarief;trajectprijs;"
                          "norm_uren;geldig_vanaf;geldig_tot\n"
                          "45A53;45;GGZ;Traject;zwaar;;\"1.500,00\";12,5;01-01-2024;31-12-2024\n"
                          "41L23;41;Dag;inspanning;;\"95,10\";;;2024-01-01;\n"
                          "99X;45;Fout;abonnement;;;;;2024-01-01;\n",
                aanbieders="agb,naam,type,gecontracteerd_vanaf,gecontracteerd_tot\n1234567,Klein,micro,,\n",
                budgetplafonds="agb;jaar;plafond\n01234567;2024;\"250.000,00\"\n01234567;2025;250.000\n")
    ref = exports.read_reference(root)
    p = ref.tables["producten"]
    assert p["productcode"].tolist() == ["45A53", "41L23"]
    assert p["financieringsvorm"].tolist() == ["traject", "inspanning"]
    # "1.500,00" euro -> 150000 cent; "95,10" -> 9510 cent; 12,5 hours -> 12.5
    assert p["trajectprijs_cent"].tolist()[0] == 150000 and p["tarief_cent"].tolist()[1] == 9510
    assert p["norm_uren"].tolist()[0] == 12.5
    assert p["geldig_tot"].tolist()[0] == pd.Timestamp("2024-12-31") and pd.isna(p["geldig_tot"].iloc[1])
    q = ref.quarantaine
    assert q[["invoer", "positie", "regel"]].values.tolist() == [["referentie:producten", "regel 4", "code_onbekend"],
                                                               ["referentie:budgetplafonds", "regel 3", "getal_ongeldig"]]
    assert ref.tables["aanbieders"]["agb"].tolist() == ["01234567"]  # Excel lost the leading zero
    # "250.000,00" euro = 25,000,000 cent; a bare "250.000" is ambiguous and quarantined
    assert ref.tables["budgetplafonds"]["plafond_cent"].tolist() == [25_000_000]
    assert len(ref.tables["gemeenten"]) > 30  # default: the demo regions
    t = ref.telling.set_index("invoer")
    assert t.loc["referentie:producten", ["gelezen", "behouden", "quarantaine"]].tolist() == [3, 2, 1]


def test_reference_missing_required_column(tmp_path):
    root = _ref(tmp_path, producten="productcode;omschrijving\n45A53;GGZ\n", aanbieders="agb\n12345678\n")
    with pytest.raises(JeugdlibError, match="financieringsvorm"):
        exports.read_reference(root)


def test_export_front_door(tmp_path):
    root = _ref(tmp_path, producten="productcode;financieringsvorm\n45A03;inspanning\n",
                aanbieders="agb\n65656055\n")
    (root / "export").mkdir()
    (root / "export" / "declaraties.csv").write_bytes(
        ("\ufeffdeclaratie_nr;toewijzing_nr;gemeentecode;agb;bsn;productcategorie;productcode;periode_begin;"
         "periode_eind;volume;eenheid;tarief;bedrag;debet_credit\n"
         "D1;0300201;384;65656055;999900006;45;45A03;01-04-2026;30-04-2026;4;4;\"12,50\";\"50,00\";D\n"
         "D1;300201;384;65656055;999900006;45;45A03;01-04-2026;30-04-2026;2;4;\"12,50\";\"25,00\";C\n"
         "D1;300201;384;65656055;123456789;45;45A03;01-04-2026;30-04-2026;2;4;\"12,50\";\"25,00\";D\n").encode())
    toew = pd.DataFrame({"toewijzing_nr": ["300201"], "versie_ts": ["01-04-2026 09:30"], "gemeentecode": ["384"],
                         "agb": ["65656055"], "bsn": ["999900006"], "productcategorie": ["45"],
                         "productcode": ["45A03"], "ingangsdatum": ["01-04-2026"], "einddatum": [None],
                         "volume": [4], "eenheid": ["04"], "frequentie": ["2"], "budget": [None]})
    toew.to_excel(root / "export" / "toewijzingen.xlsx", index=False)
    res = ingest.ingest(root, tmp_path / "out", quiet=True)
    d = res.dataset.declaraties
    cid = privacy.pseudonymise(pd.Series(["999900006"]), privacy.load_key()).iloc[0]
    # C negates: 50,00 D -> +5000, 25,00 C -> -2500; volume 2 C -> -2
    assert d["bedrag_cent_signed"].tolist() == [5000, -2500]
    assert d["volume_signed"].tolist() == [4, -2]
    assert d["tarief_cent"].tolist() == [1250, 1250]
    assert d["toewijzing_nr"].tolist() == ["300201", "300201"]
    assert (d["gemeentecode"] == "0384").all() and (d["eenheid"] == "04").all() and (d["client_id"] == cid).all()
    assert d["bron"].tolist() == ["export/declaraties.csv#regel 2", "export/declaraties.csv#regel 3"]
    q = res.quarantaine
    assert q[["bestand", "positie", "regel", "bedrag_cent"]].values.tolist() == [
        ["export/declaraties.csv", "regel 4", "bsn_elfproef", 2500]]
    t = res.dataset.toewijzingen
    assert t["versie_ts"].tolist() == [pd.Timestamp("2026-04-01 09:30")]
    assert (t["gemeentecode"].iloc[0], t["volume"].iloc[0], t["bron"].iloc[0]) == (
        "0384", 4, "export/toewijzingen.xlsx#rij 2")
    tel = res.telling.set_index("invoer")
    assert tel.loc["export:declaraties", ["gelezen", "behouden", "quarantaine"]].tolist() == [3, 2, 1]


def test_export_client_id_must_be_a_pseudonym(tmp_path):
    root = _ref(tmp_path, producten="productcode;financieringsvorm\n45A03;inspanning\n", aanbieders="agb\n65656055\n")
    (root / "export").mkdir()
    ok = "a" * 64
    (root / "export" / "start_stop.csv").write_text(
        "toewijzing_nr,agb,client_id,begindatum,einddatum,reden_beeindiging\n"
        f"1,65656055,{ok},2024-01-01,,\n1,65656055,999900006,2024-01-01,2024-02-01,31\n", encoding="utf-8")
    res = ingest.ingest(root, tmp_path / "out", quiet=True)
    s = res.dataset.start_stop
    assert s["client_id"].tolist() == [ok] and s["bericht"].tolist() == ["JW305"]
    q = res.quarantaine
    assert q["regel"].tolist() == ["formaat_ongeldig"] and q["waarde"].tolist() == ["<ongeldig>"]
