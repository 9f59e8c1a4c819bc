"""Bad input and faults (issue 14): no BSN leaks, no traceback, whole-or-nothing publish,
safe key handling, no formula injection.

Each test names the promise of the README's "Guarantees" it holds. Messages are
taken from tests/fixtures/mini (always present), so nothing here needs ../shared
except the XSD case.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from jeugdlib import cli, config, dataset, ingest, kpi, privacy, schema
from jeugdlib.errors import JeugdlibError
from jeugdlib.veilig import neutraliseer, neutraliseer_frame

MINI = config.FIXTURE_DIR / "mini"
JW301 = (MINI / "berichten/JZ37/0907/JW301/2019/JW301_0907_98010023_101000000033.xml").read_text(encoding="utf-8")
JW323 = (MINI / "berichten/JZ37/0907/JW323/2019/JW323_98010023_0907_201907_501000000165.xml").read_text(
    encoding="utf-8")
BSN = "110994541"  # the client of JW301 above (passes the elfproef)
PLANTED = "999900006"  # a valid BSN the tests hide in file names and CSV lines
KEY_A = "a" * 40
KEY_B = "b" * 40
DECL_HEAD = "gemeentecode;agb;bsn;productcode;periode_begin;periode_eind;bedrag\n"
DECL_OK = f"0907;98010023;{PLANTED};54G01;01-04-2024;30-04-2024;\"12,50\"\n"


def make_ds(root: Path, files: dict[str, bytes | str] | None = None) -> Path:
    """A dataset: the mini reference tables, one JW301 and the given files."""
    (root / "referentie").mkdir(parents=True, exist_ok=True)
    for name in ("producten.csv", "aanbieders.csv", "gemeenten.csv"):
        shutil.copy(MINI / "referentie" / name, root / "referentie" / name)
    files = {"berichten/a/JW301.xml": JW301, **(files or {})}
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def one_line(err: str) -> None:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err


def hashes(out: Path) -> dict[str, str]:
    folder = dataset.version_dir(out)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


def all_text(out: Path) -> str:
    """Every table of the current version and its manifest, as text."""
    folder = dataset.version_dir(out)
    parts = [(folder / dataset.MANIFEST).read_text(encoding="utf-8")]
    for p in sorted(folder.glob("*.parquet")):
        parts.append(pd.read_parquet(p).astype(str).to_csv(index=False))
    return "\n".join(parts)


def counts_add_up(res) -> None:
    t = res.telling
    assert (t["gelezen"] == t["behouden"] + t["quarantaine"] + t["overgeslagen"]).all()
    q = res.quarantaine["invoer"].value_counts()
    for r in t.itertuples():
        assert q.get(r.invoer, 0) == r.quarantaine, r.invoer


@pytest.fixture
def key_a(monkeypatch):
    monkeypatch.setenv("JEUGDLIB_KEY", KEY_A)
    return KEY_A.encode()


# =========================================================================== no BSN anywhere


def test_csv_line_with_wrong_field_count_stores_no_line_and_the_right_number(tmp_path, key_a, capsys):
    # line 3: too many fields (holds a BSN); line 4, the last, without newline: too few
    csv = DECL_HEAD + DECL_OK + f"0907;98010023;{PLANTED};54G01;01-05-2024;31-05-2024;\"1,00\";extra\n0907;1"
    root = make_ds(tmp_path / "ds", {"export/declaraties.csv": csv})
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and "Traceback" not in err
    res = dataset.load(tmp_path / "o")
    q = res.quarantaine[res.quarantaine["regel"] == "kolommen_ongeldig"]
    assert q["positie"].tolist() == ["regel 3", "regel 4"]  # not one too high
    assert q["waarde"].tolist() == ["8 velden", "2 velden"]
    assert PLANTED not in all_text(tmp_path / "o") and PLANTED not in err
    assert len(res.declaraties) == 1  # the good line is kept, under its pseudonym


def test_mask_bsn():
    text = f"a_{PLANTED}.xml 00{PLANTED} 123456789012 12345678 {PLANTED}-{PLANTED}"
    want = f"a_{privacy.MASK}.xml {privacy.MASK} 123456789012 12345678 {privacy.MASK}-{privacy.MASK}"
    assert privacy.mask_bsn(text) == want
    assert privacy.mask_bsn_series(pd.Series([text, None], dtype=schema.S)).tolist()[0] == want


def test_bsn_in_a_broken_tag_is_masked_in_the_message(tmp_path, key_a, capsys):
    broken = JW301.replace("</jw301:BerichtCode>", f"</jw301:00{PLANTED}BerichtCode>")
    root = make_ds(tmp_path / "ds", {"berichten/a/JW301_kapot.xml": broken})
    rc, out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and PLANTED not in err and PLANTED not in out and PLANTED not in all_text(tmp_path / "o")


def test_nine_digits_in_file_names_are_masked(tmp_path, key_a, capsys):
    root = make_ds(tmp_path / "ds", {f"berichten/b/JW323_{PLANTED}.xml": JW323,
                                     f"berichten/b/kapot_{PLANTED}.xml": "<niet af",
                                     f"export/declaraties_{PLANTED}.csv": DECL_HEAD + DECL_OK})
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0
    ds = dataset.load(tmp_path / "o")
    assert ds.declaraties["bron"].str.contains(privacy.MASK, regex=False).all()
    assert (ds.quarantaine["bestand"] == f"berichten/b/kapot_{privacy.MASK}.xml").any()
    assert PLANTED not in all_text(tmp_path / "o") and PLANTED not in err
    assert BSN not in all_text(tmp_path / "o")


def test_xsd_messages_name_rule_and_element_not_the_value(tmp_path, key_a, capsys, ijw_xsd_dir):
    import re

    # an iJw 3.2 message (the XSDs given are those of 3.2; older releases are not validated)
    f = sorted((MINI / "berichten").glob("JZ37/*/JW301/2023/*.xml"))[0]
    jw301 = f.read_text(encoding="utf-8")
    bsn = re.search(r"<jw301:Bsn>(\d{9})</jw301:Bsn>", jw301).group(1)
    ident = re.search(r"<ijw:Identificatie>(\w+)</ijw:Identificatie>", jw301).group(1)
    padded = jw301.replace(f"<jw301:Bsn>{bsn}</jw301:Bsn>", f"<jw301:Bsn> {bsn} </jw301:Bsn>")
    short = jw301.replace(f"<jw301:Bsn>{bsn}</jw301:Bsn>", f"<jw301:Bsn>{bsn[1:]}</jw301:Bsn>").replace(
        ident, ident[:-1] + ("1" if ident[-1] != "1" else "2"))
    assert padded != jw301 and short != jw301
    root = make_ds(tmp_path / "ds", {"berichten/a/JW301.xml": padded, "berichten/a/JW301_kort.xml": short})
    rc, out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o", "--xsd", ijw_xsd_dir)
    q = dataset.load(tmp_path / "o").quarantaine
    xsd = q[q["regel"] == "xsd_ongeldig"]
    assert len(xsd) and xsd["melding"].str.contains("bij element Bsn").all()
    for secret in (bsn, bsn[1:]):
        assert secret not in all_text(tmp_path / "o") and secret not in err and secret not in out


# =========================================================================== formula injection


def test_neutraliseer_values():
    for bad in ("=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutraliseer(bad) == "'" + bad
    assert neutraliseer("Venlo") == "Venlo" and neutraliseer(-2.5) == -2.5 and neutraliseer(None) is None
    df = pd.DataFrame({"a": pd.Series(["=x", "y", None], dtype=schema.S), "b": [-1.0, 2.0, 3.0],
                       "c": ["@z", "ok", "-3"]})
    out = neutraliseer_frame(df)
    assert out["a"].tolist()[:2] == ["'=x", "y"] and pd.isna(out["a"].iloc[2])
    assert out["b"].tolist() == [-1.0, 2.0, 3.0] and out["c"].tolist() == ["'@z", "ok", "'-3"]
    assert df["a"].iloc[0] == "=x"  # the input is not changed


def test_kpi_csv_and_excel_hold_no_formula(tmp_path):
    evil_regio, evil_naam = '=HYPERLINK("http://x.example","klik")', "@SUM(1+1)"
    kpis = pd.DataFrame({"kpi": ["clienten", "clienten"], "regio": [evil_regio, evil_regio],
                         "gemeente": ["0983", ""], "periode": ["2023", "2023"], "dimensie": ["", "+x=1"],
                         "waarde": [12.0, -3.0], "eenheid": ["aantal", "aantal"], "voorlopig": [False, False],
                         "n_clienten": [12, 12]})
    t = privacy.suppress(kpis, 10)
    gem = pd.DataFrame({"gemeentecode": ["0983"], "gemeentenaam": [evil_naam], "regio_code": ["JZ37"],
                        "regio_naam": [evil_regio]})
    kpi.write_kpis(t, tmp_path / "k.csv")
    kpi.write_kpis(t, tmp_path / "k.xlsx", gemeenten=gem)
    back = pd.read_csv(tmp_path / "k.csv", dtype=str, keep_default_na=False)
    for col in back.columns:
        assert not back[col].str.match(r"^[=+\-@\t\r]").any() or col == "waarde", col
    assert back["regio"].iloc[0] == "'" + evil_regio and back["waarde"].tolist() == ["12.0", "-3.0"] or \
        back["waarde"].tolist() == ["12", "-3"]
    wb = openpyxl.load_workbook(tmp_path / "k.xlsx")
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), c.value
                    seen.append(c.value)
    assert "'" + evil_naam in seen and "'" + evil_regio in seen


# =========================================================================== bad input: no traceback, no lost run


@pytest.mark.parametrize("name,csv,regel", [
    ("last_line_short", DECL_HEAD + DECL_OK + "0907;98010023", "kolommen_ongeldig"),
    ("last_line_long", DECL_HEAD + DECL_OK + DECL_OK.strip() + ";x;y", "kolommen_ongeldig"),
    ("only_line_long", DECL_HEAD + DECL_OK.strip() + ";extra\n", "kolommen_ongeldig"),
    ("only_line_short", DECL_HEAD + "0907;98010023\n", "kolommen_ongeldig"),
    ("quote_in_header", 'gemeentecode;"agb;bsn\n' + DECL_OK, "csv_onleesbaar"),
    ("duplicate_column", DECL_HEAD.replace("agb", "bsn") + DECL_OK, "csv_onleesbaar"),
    ("quote_in_last_line", DECL_HEAD + DECL_OK + '"0907;98010023\n', "kolommen_ongeldig"),
])
def test_bad_csv_is_quarantined_not_fatal(tmp_path, key_a, capsys, name, csv, regel):
    root = make_ds(tmp_path / "ds", {"export/declaraties.csv": csv})
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and "Traceback" not in err
    res = ingest.ingest(root, tmp_path / "o2", quiet=True)
    assert regel in set(res.quarantaine["regel"]) and len(res.dataset.toewijzingen) == 1
    counts_add_up(res)


def test_undeclared_namespace_prefix_is_quarantined(tmp_path, key_a, capsys):
    # found by the property suite's random search: lxml refuses the root's tag name
    broken = JW301.replace('xmlns:jw301="', 'mlns:jw301="').replace("101000000033", "101000000035")
    root = make_ds(tmp_path / "ds", {"berichten/a/JW301_kapot.xml": broken})
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and "Traceback" not in err
    q = dataset.load(tmp_path / "o").quarantaine
    assert q.set_index("bestand")["regel"].to_dict() == {"berichten/a/JW301_kapot.xml": "xml_onleesbaar"}


def test_unforeseen_export_error_loses_only_that_file(tmp_path, key_a, monkeypatch):
    root = make_ds(tmp_path / "ds", {"export/declaraties.csv": DECL_HEAD + DECL_OK})
    real = ingest.convert

    def odd(table, kind, raw, key, *, xml):
        if not xml:
            raise IndexError("a case nobody foresaw")
        return real(table, kind, raw, key, xml=xml)

    monkeypatch.setattr(ingest, "convert", odd)
    res = ingest.ingest(root, tmp_path / "o", quiet=True)
    q = res.quarantaine
    assert q[q["invoer"] == "export:declaraties"]["regel"].tolist() == ["csv_onleesbaar"]
    assert len(res.dataset.toewijzingen) == 1
    counts_add_up(res)


def _fail_open_for(monkeypatch, name: str, err: int):
    """Make reading files called ``name`` fail with ``err`` (as root, chmod does not stop reading)."""
    from jeugdlib.ijw import reader

    real_open, real_read_bytes = open, Path.read_bytes

    def fake_open(file, *a, **kw):
        if os.path.basename(os.fsdecode(file)) == name:
            raise OSError(err, os.strerror(err), os.fsdecode(file))
        return real_open(file, *a, **kw)

    def fake_read_bytes(self):
        if self.name == name:
            raise OSError(err, os.strerror(err), str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(reader, "open", fake_open, raising=False)
    real_read_small = ingest._read_small

    def fake_read_small(path):  # the read-ahead of small files
        if os.path.basename(os.fsdecode(path)) == name:
            raise OSError(err, os.strerror(err), os.fsdecode(path))
        return real_read_small(path)

    monkeypatch.setattr(ingest, "_read_small", fake_read_small)
    monkeypatch.setattr(Path, "read_bytes", fake_read_bytes)


@pytest.mark.parametrize("err", [errno.EACCES, errno.EIO])
def test_unreadable_or_failing_file_is_one_quarantined_record(tmp_path, key_a, capsys, monkeypatch, err):
    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323, "export/declaraties.csv": DECL_HEAD + DECL_OK})
    _fail_open_for(monkeypatch, "JW323.xml", err)
    res = ingest.ingest(root, tmp_path / "o", quiet=True)
    q = res.quarantaine
    assert q[q["bestand"] == "berichten/b/JW323.xml"]["regel"].tolist() == ["bestand_onleesbaar"]
    assert len(res.dataset.toewijzingen) == 1
    counts_add_up(res)
    _fail_open_for(monkeypatch, "declaraties.csv", err)
    res = ingest.ingest(root, tmp_path / "o", quiet=True)
    assert "bestand_onleesbaar" in set(res.quarantaine[res.quarantaine["invoer"] == "export:declaraties"]["regel"])
    counts_add_up(res)
    rc, _out, err_text = run_cli(capsys, "ingest", root, "--out", tmp_path / "o", "--quiet")
    assert rc == 0 and "Traceback" not in err_text


def test_links_fifos_loops_are_counted_not_skipped(tmp_path, key_a, capsys):
    root = make_ds(tmp_path / "ds")
    b = root / "berichten" / "a"
    os.symlink("bestaat_niet.xml", b / "los.xml")
    os.symlink("lus.xml", b / "lus.xml")
    os.mkfifo(b / "pijp.xml")
    os.symlink(str(root / "berichten" / "a"), root / "berichten" / "map_link")  # a link to a folder: not followed
    res = ingest.ingest(root, tmp_path / "o", quiet=True)
    q = res.quarantaine.set_index("bestand")["regel"].to_dict()
    assert q == {"berichten/a/los.xml": "bestand_onleesbaar", "berichten/a/lus.xml": "bestand_onleesbaar",
                 "berichten/a/pijp.xml": "geen_bestand"}
    t = res.telling.set_index("invoer")
    assert t.loc["xml", "gelezen"] == 3 and t.loc["xml", "quarantaine"] == 3
    counts_add_up(res)
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and "Traceback" not in err and "pijp.xml" in err


def test_file_name_not_utf8_is_read(tmp_path, key_a, capsys):
    root = make_ds(tmp_path / "ds")
    raw = os.path.join(os.fsencode(root / "berichten" / "a"), b"JW323_\xff\xfe.xml")
    with open(raw, "wb") as fh:
        fh.write(JW323.encode("utf-8"))
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and "Traceback" not in err
    ds = dataset.load(tmp_path / "o")
    assert len(ds.declaraties) and ds.declaraties["bron"].str.startswith("berichten/a/JW323_\ufffd\ufffd.xml").all()


def test_path_longer_than_4096_bytes(tmp_path, key_a, capsys):
    root = make_ds(tmp_path / "ds")
    fd = os.open(root / "berichten", os.O_RDONLY)
    try:
        for _ in range(18):  # 18 x 251 bytes: deeper than PATH_MAX
            os.mkdir("d" * 250, dir_fd=fd)
            new = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        f = os.open("JW323.xml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(f, JW323.encode("utf-8"))
        os.close(f)
    finally:
        os.close(fd)
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 0 and "Traceback" not in err
    ds = dataset.load(tmp_path / "o")
    assert "bestand_onleesbaar" in set(ds.quarantaine["regel"]) and len(ds.toewijzingen) == 1
    shutil.rmtree(root)


def test_full_disk_during_ingest_keeps_previous_version(tmp_path, key_a, capsys, monkeypatch):
    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323})
    out = tmp_path / "o"
    assert run_cli(capsys, "ingest", root, "--out", out)[0] == 0
    before = hashes(out)

    def full(self, table):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))

    monkeypatch.setattr(ingest._RowGroupWriter, "write", full)
    (root / "berichten/b/JW323.xml").write_text(JW323.replace("2019-07", "2019-08"), encoding="utf-8")
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", out)
    assert rc == 2 and "ruimte" in err
    one_line(err)
    assert hashes(out) == before
    assert not list((out.parent / ".o.versies").glob(".bouw-*"))


def test_full_disk_in_the_spill_is_not_blamed_on_the_input(tmp_path, key_a, capsys, monkeypatch):
    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323})

    def full(self, bericht, df):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "spill")

    monkeypatch.setattr(ingest._Spill, "add", full)
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 2 and "ruimte" in err
    one_line(err)
    assert not (tmp_path / "o").exists()


def test_full_disk_in_the_duplicate_check_keeps_previous_version(tmp_path, key_a, capsys, monkeypatch):
    import duckdb

    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323})
    out = tmp_path / "o"
    assert run_cli(capsys, "ingest", root, "--out", out)[0] == 0
    before = hashes(out)

    def full(*a, **kw):
        raise duckdb.IOException('Could not write file "duckdb_temp_block-1.block": No space left on device')

    monkeypatch.setattr(ingest, "_duplicate_rows", full)
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", out)
    assert rc == 2 and "ruimte" in err
    one_line(err)
    assert hashes(out) == before


def test_full_disk_during_kpi(tmp_path, key_a, capsys, monkeypatch):
    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323})
    ingest.ingest(root, tmp_path / "o", quiet=True)

    def full(df, path, **kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(kpi, "write_kpis", full)
    rc, _out, err = run_cli(capsys, "kpi", tmp_path / "o", "--peildatum", "2020-01-01", "--out",
                            tmp_path / "k.csv", "--quiet")
    assert rc == 2 and "ruimte" in err and "k.csv" in err
    one_line(err)


def test_corrupt_parquet_kpi_and_reports(tmp_path, key_a, capsys):
    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323})
    ingest.ingest(root, tmp_path / "o", quiet=True)
    dataset.table_path(tmp_path / "o", "declaraties").write_bytes(b"PAR1 dit is geen parquet")
    rc, _out, err = run_cli(capsys, "kpi", tmp_path / "o", "--peildatum", "2020-01-01", "--quiet")
    assert rc == 2 and "declaraties.parquet" in err
    one_line(err)
    rc, _out, err = run_cli(capsys, "reports", "--data", tmp_path / "o", "--out", tmp_path / "r", "--quiet")
    assert rc == 2 and "declaraties.parquet" in err
    one_line(err)
    with pytest.raises(JeugdlibError, match="declaraties.parquet"):
        dataset.load(tmp_path / "o")


@pytest.mark.parametrize("peildatum", ["9999-12-31", "0001-01-01", "2024-02-30", "morgen"])
def test_peildatum_out_of_range_is_one_line(tmp_path, capsys, peildatum):
    rc, _out, err = run_cli(capsys, "kpi", tmp_path, "--peildatum", peildatum)
    assert rc == 2 and "peildatum" in err
    one_line(err)


def test_out_naming_a_file(tmp_path, key_a, capsys):
    root = make_ds(tmp_path / "ds")
    (tmp_path / "bestand").write_text("x")
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "bestand")
    assert rc == 2 and "--out" in err
    one_line(err)
    assert (tmp_path / "bestand").read_text() == "x"
    ingest.ingest(root, tmp_path / "o", quiet=True)
    rc, _out, err = run_cli(capsys, "reports", "--data", tmp_path / "o", "--out", tmp_path / "bestand", "--quiet")
    assert rc == 2
    one_line(err)


def test_unexpected_error_is_one_line(tmp_path, key_a, capsys, monkeypatch):
    root = make_ds(tmp_path / "ds")

    def boom(*a, **kw):
        raise RuntimeError("iets onverwachts\nmet een tweede regel")

    monkeypatch.setattr(ingest, "_ingest_into", boom)
    rc, _out, err = run_cli(capsys, "ingest", root, "--out", tmp_path / "o")
    assert rc == 70 and "RuntimeError" in err
    one_line(err)


# =========================================================================== keys


def test_lost_key_does_not_overwrite_with_other_ids(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("JEUGDLIB_KEY", raising=False)
    keyfile = tmp_path / "sleutel"
    monkeypatch.setenv("JEUGDLIB_KEY_FILE", str(keyfile))
    root = make_ds(tmp_path / "ds")
    out = tmp_path / "o"
    rc, _o, err = run_cli(capsys, "ingest", root, "--out", out, "--quiet")
    assert rc == 0 and "sleutel aangemaakt" in err  # also with --quiet: a new key means new ids
    before = hashes(out)
    keyfile.unlink()  # the key is lost
    rc, _o, err = run_cli(capsys, "ingest", root, "--out", out, "--quiet")
    assert rc == 2 and "andere pseudonimiseringssleutel" in err and "--out" in err
    assert err.count("\n") == 2 and "Traceback" not in err  # the new-key notice and the refusal
    assert hashes(out) == before


@pytest.mark.parametrize("content", [b"", b"\n", b"kort", b"x" * 31])
def test_empty_or_short_key_refused(tmp_path, capsys, monkeypatch, content):
    monkeypatch.delenv("JEUGDLIB_KEY", raising=False)
    (tmp_path / "sleutel").write_bytes(content)
    monkeypatch.setenv("JEUGDLIB_KEY_FILE", str(tmp_path / "sleutel"))
    with pytest.raises(JeugdlibError, match="32 bytes"):
        privacy.load_key()
    rc, _o, err = run_cli(capsys, "ingest", make_ds(tmp_path / "ds"), "--out", tmp_path / "o")
    assert rc == 2 and "sleutel" in err
    one_line(err)
    monkeypatch.setenv("JEUGDLIB_KEY", "")
    with pytest.raises(JeugdlibError, match="leeg"):
        privacy.load_key()


def test_non_ascii_key_and_key_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("JEUGDLIB_KEY", raising=False)
    (tmp_path / "sleutel").write_bytes("sleutel-met-één-ß-en-€-dertig-bytes-lang".encode("utf-8"))
    monkeypatch.setenv("JEUGDLIB_KEY_FILE", str(tmp_path / "sleutel"))
    assert len(privacy.load_key()) >= 32
    (tmp_path / "map").mkdir()
    monkeypatch.setenv("JEUGDLIB_KEY_FILE", str(tmp_path / "map"))
    rc, _o, err = run_cli(capsys, "ingest", make_ds(tmp_path / "ds"), "--out", tmp_path / "o")
    assert rc == 2 and "sleutelbestand" in err
    one_line(err)


def test_manifest_records_source_time_version_and_fingerprint(tmp_path, key_a):
    root = make_ds(tmp_path / "ds")
    ingest.ingest(root, tmp_path / "o", quiet=True)
    man = json.loads((dataset.version_dir(tmp_path / "o") / "manifest.json").read_text(encoding="utf-8"))
    assert man["bron"] == str(root.resolve()) and man["jeugdlib_versie"]
    assert man["ingest_tijd"].endswith("+00:00")
    assert man["sleutel_vingerafdruk"] == privacy.key_fingerprint(key_a)
    assert KEY_A not in json.dumps(man)
    assert dataset.load(tmp_path / "o").manifest == man


def test_other_source_into_same_output_refused(tmp_path, key_a, capsys):
    a, b = make_ds(tmp_path / "a" / "ds"), make_ds(tmp_path / "b" / "ds")
    assert run_cli(capsys, "ingest", a, "--out", tmp_path / "o")[0] == 0
    rc, _o, err = run_cli(capsys, "ingest", b, "--out", tmp_path / "o")
    assert rc == 2 and "andere bron" in err and "--out" in err
    one_line(err)


def test_combining_datasets_of_different_keys_refused(tmp_path, monkeypatch):
    root = make_ds(tmp_path / "ds")
    monkeypatch.setenv("JEUGDLIB_KEY", KEY_A)
    ingest.ingest(root, tmp_path / "a", quiet=True)
    ingest.ingest(root, tmp_path / "a2", quiet=True)
    monkeypatch.setenv("JEUGDLIB_KEY", KEY_B)
    ingest.ingest(root, tmp_path / "b", quiet=True)
    a, a2, b = (dataset.load(tmp_path / n) for n in ("a", "a2", "b"))
    dataset.same_key(a, a2)
    with pytest.raises(JeugdlibError, match="andere pseudonimiseringssleutel"):
        dataset.same_key(a, b)


def test_default_locations_follow_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JEUGDLIB_DATA", raising=False)
    monkeypatch.delenv("JEUGDLIB_KEY", raising=False)
    monkeypatch.delenv("JEUGDLIB_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    a, b = make_ds(tmp_path / "x" / "demo"), make_ds(tmp_path / "y" / "demo")
    (b / "berichten/b").mkdir(parents=True)
    (b / "berichten/b/JW323.xml").write_text(JW323, encoding="utf-8")
    assert cli.main(["ingest", str(a), "--quiet"]) == 0
    assert (tmp_path / "data" / ".jeugdlib_key").exists()
    assert dataset.is_processed(tmp_path / "data" / "processed" / "demo")
    pkg = Path(config.__file__).parent
    assert not (pkg / "data").exists() or not any((pkg / "data").iterdir())
    # a second raw dataset called demo gets its own processed copy
    da, db = dataset.open_dataset(a), dataset.open_dataset(b)
    assert len(da.declaraties) == 0 and len(db.declaraties) > 0
    assert dataset.processed_dir_for(b) != dataset.processed_dir_for(a)
    assert dataset.open_dataset(a).manifest["bron"] == str(a.resolve())
    capsys.readouterr()


# =========================================================================== whole-or-nothing publish


_KILL_SCRIPT = r"""
import os, signal, sys
from jeugdlib import dataset, ingest
where = sys.argv[3]
if where == "switch":
    real = os.replace
    def kill_at_switch(src, dst, *a, **kw):
        if os.path.basename(str(dst)) == os.path.basename(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *a, **kw)
    os.replace = kill_at_switch
else:
    real = dataset.write_table
    n = {"k": 0}
    def kill_between_tables(df, path):
        n["k"] += 1
        if n["k"] == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(df, path)
    dataset.write_table = kill_between_tables
ingest.ingest(sys.argv[1], sys.argv[2], quiet=True)
"""


@pytest.mark.parametrize("where", ["tables", "switch"])
def test_kill_during_publish_keeps_previous_version(tmp_path, key_a, where):
    root = make_ds(tmp_path / "ds", {"berichten/b/JW323.xml": JW323})
    out = tmp_path / "o"
    ingest.ingest(root, out, quiet=True)
    before = hashes(out)
    (root / "berichten/b/JW323_2.xml").write_text(JW323.replace("501000000162", "501000000999"), encoding="utf-8")
    p = subprocess.run([sys.executable, "-c", _KILL_SCRIPT, str(root), str(out), where], capture_output=True)
    assert p.returncode == -signal.SIGKILL, p.stderr.decode()
    assert hashes(out) == before  # readers still see the previous version, whole
    dataset.load(out)
    debris = [p for p in (tmp_path / ".o.versies").iterdir() if p.name.startswith(".bouw-")]
    debris += list(tmp_path.glob(".o.link-*"))
    assert debris or where == "switch"
    # the next run publishes and removes what the killed run left
    res = ingest.ingest(root, out, quiet=True)
    assert len(res.dataset.declaraties) > len(pd.read_parquet(dataset.table_path(out, "declaraties"))) - 1
    left = sorted(p.name for p in (tmp_path / ".o.versies").iterdir())
    assert len(left) == 2 and all(n.startswith("v-") for n in left), left  # the new one and the previous
    assert not list(tmp_path.glob(".o.link-*"))


def test_readers_see_one_version(tmp_path, key_a):
    root = make_ds(tmp_path / "ds")
    ingest.ingest(root, tmp_path / "o", quiet=True)
    ds = dataset.load(tmp_path / "o")
    assert ds.path == dataset.version_dir(tmp_path / "o") and ds.path.name.startswith("v-")
    assert dataset.table_path(tmp_path / "o", "toewijzingen") == ds.path / "toewijzingen.parquet"
    (root / "berichten/b").mkdir()
    (root / "berichten/b/JW323.xml").write_text(JW323, encoding="utf-8")
    ingest.ingest(root, tmp_path / "o", quiet=True)
    # the old version stays readable for a reader that opened it before the switch
    assert len(pd.read_parquet(ds.path / "declaraties.parquet")) == 0
    assert len(dataset.load(tmp_path / "o").declaraties) > 0


def test_lock_serialises_writers(tmp_path, key_a):
    out = tmp_path / "o"
    held = dataset.Publication(out)
    held.__enter__()
    try:
        with pytest.raises(JeugdlibError, match="andere run"):
            dataset.Publication(out, wait=False).__enter__()
        done = []

        def second():
            with dataset.Publication(out) as pub:
                done.append(time.monotonic())
                for t in schema.REQUIRED:
                    dataset.write_table(schema.empty(t), pub.dir / f"{t}.parquet")
                pub.commit()

        th = threading.Thread(target=second)
        th.start()
        time.sleep(0.5)
        assert not done  # waits for the lock
        for t in schema.REQUIRED:
            dataset.write_table(schema.empty(t), held.dir / f"{t}.parquet")
        released = time.monotonic()
        held.commit()
    finally:
        held.__exit__(None, None, None)
    th.join(10)
    assert done and done[0] >= released
    assert dataset.is_processed(out)


def test_two_concurrent_ingests_do_not_mix(tmp_path, key_a):
    files = {f"berichten/b/JW323_{k}.xml": JW323.replace("501000000162", f"5010000009{k:02d}") for k in range(20)}
    root = make_ds(tmp_path / "ds", files)
    ingest.ingest(root, tmp_path / "alleen", quiet=True)
    expected = hashes(tmp_path / "alleen")
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "jeugdlib.cli", "ingest", str(root), "--out", str(out), "--quiet"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        assert p.wait(120) == 0, p.stderr.read().decode()
    assert hashes(out) == expected
    left = [p.name for p in (tmp_path / ".o.versies").iterdir()]
    assert len(left) == 2 and all(n.startswith("v-") for n in left)


def test_older_flat_layout_is_read_and_replaced(tmp_path, key_a):
    root = make_ds(tmp_path / "ds")
    ingest.ingest(root, tmp_path / "nieuw", quiet=True)
    flat = tmp_path / "oud"
    shutil.copytree(dataset.version_dir(tmp_path / "nieuw"), flat)
    (flat / "manifest.json").unlink()
    (flat / ".ingest-123.tmp").mkdir()  # debris of a killed run of the older layout
    assert len(dataset.load(flat).toewijzingen) == 1
    ingest.ingest(root, flat, quiet=True)
    assert flat.is_symlink() and len(dataset.load(flat).toewijzingen) == 1
    assert not list(dataset.version_dir(flat).glob(".*tmp"))
