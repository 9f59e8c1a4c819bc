"""Property-based tests (hypothesis): mutate valid iJw messages and CSV exports and check the
invariants of ingest for every mutant:

- no exception escapes (the command line would show a traceback);
- per input kind gelezen = behouden + quarantaine + overgeslagen, the quarantine holds as
  many rows per kind as counted, and the kept counts are the rows in the tables;
- no BSN of the input (in a Bsn element or column, or in a file name) appears in any
  table, the manifest or on stderr, and the quarantine holds no nine-digit number at all.

The runs are derandomised (the same examples every time, so CI is repeatable);
``HYPOTHESIS_PROFILE=zoek`` searches further with random examples.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeugdlib import config, dataset, ingest

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("zoek", max_examples=500, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MINI = config.FIXTURE_DIR / "mini"
_FILES = {
    "JW301": "berichten/JZ37/0907/JW301/2019/JW301_0907_98010023_101000000033.xml",
    "JW323": "berichten/JZ37/0907/JW323/2019/JW323_98010023_0907_201907_501000000165.xml",
}
BASE = {k: (MINI / v).read_text(encoding="utf-8") for k, v in _FILES.items()}
_BSN_RE = re.compile(r"<(?:\w+:)?Bsn>\s*(\d+)\s*</(?:\w+:)?Bsn>")
BASE_BSNS = {b for text in BASE.values() for b in _BSN_RE.findall(text)}
PLANTED = "999900006"  # a valid BSN
ALT_BSNS = ["111222333", "999900018"]  # more valid BSNs, for the CSV rows
SECRETS = BASE_BSNS | {PLANTED, *ALT_BSNS}

# text that tends to break things: markup, entities, formula starts, dates and numbers that
# do not exist, control characters, non-ASCII, and BSN-shaped values
TOKENS = st.sampled_from([
    "<", ">", "&", "&amp;", "]]>", "<!-- c -->", "<![CDATA[x]]>", '"', "'", ";", ",", "\n", "\r\n", "\t",
    "\x00", "\x1f", "é", "\ufeff", "\ufffd", "=1+1", "+31", "-5", "@SUM(A1)", "2024-02-30", "31-12-2024",
    "9999-12-31", "0001-01-01", "99999999999999999999", "-0", "1.5", "1,5", "250.000", "", " ",
    f" {PLANTED} ", PLANTED[1:], PLANTED, "00" + PLANTED,
])
TEXT = st.one_of(TOKENS, st.text(max_size=12))


@st.composite
def xml_mutant(draw, text: str) -> str:
    """``text`` after 1-3 mutations: truncate, delete, insert, duplicate, or replace an element's text."""
    for _ in range(draw(st.integers(1, 3))):
        n = len(text)
        kind = draw(st.sampled_from(["truncate", "delete", "insert", "duplicate", "element", "element", "bsn"]))
        if kind == "truncate":
            text = text[: draw(st.integers(0, n))]
        elif kind == "delete":
            a = draw(st.integers(0, n))
            text = text[:a] + text[a + draw(st.integers(1, 40)):]
        elif kind == "insert":
            a = draw(st.integers(0, n))
            text = text[:a] + draw(TEXT).replace(PLANTED, "x") + text[a:]  # BSN-shaped outside Bsn: no BSN
        elif kind == "duplicate":
            a = draw(st.integers(0, n))
            b = min(n, a + draw(st.integers(1, 200)))
            text = text[:b] + text[a:b] + text[b:]
        else:
            leaves = list(re.finditer(r">([^<>]*)</", text))
            if not leaves:
                continue
            if kind == "bsn":  # a BSN element gets a BSN-shaped value (padded, short, another one)
                leaves = [m for m in leaves if text[:m.start()].endswith("Bsn")] or leaves
                new = draw(st.sampled_from([f" {PLANTED} ", PLANTED[1:], PLANTED, PLANTED + "0", "abc"]))
            else:
                new = draw(TEXT)
                if PLANTED in new:  # a BSN-shaped value outside a Bsn element is not a BSN
                    new = new.replace(PLANTED, "x")
            m = draw(st.sampled_from(leaves))
            text = text[: m.start(1)] + new + text[m.end(1):]
    return text


def _name(draw, stem: str) -> str:
    return draw(st.sampled_from([stem, f"{stem}_{PLANTED}", f"{PLANTED}", f"{stem} kopie"]))


@st.composite
def xml_dataset(draw) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"berichten/0/JW301_basis.xml": BASE["JW301"]}
    for k in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(BASE)))
        text = draw(xml_mutant(BASE[kind]))
        data = text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else text.encode("latin-1", "replace")
        files[f"berichten/{k}/{_name(draw, kind)}.xml"] = data
    return files


CSV_HEAD = ["gemeentecode", "agb", "bsn", "productcode", "periode_begin", "periode_eind", "bedrag"]


@st.composite
def csv_dataset(draw) -> dict[str, str | bytes]:
    sep = draw(st.sampled_from([";", ","]))
    rows = [["0907", "98010023", bsn, "54G01", "01-04-2024", "30-04-2024", '"12,50"' if sep == "," else "12,50"]
            for bsn in [PLANTED, *ALT_BSNS]]
    lines = [sep.join(CSV_HEAD)] + [sep.join(r) for r in rows]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        fields = lines[i].split(sep)
        kind = draw(st.sampled_from(["drop", "add", "replace", "quote", "blank", "cut", "swap_sep", "dup"]))
        if kind == "drop" and len(fields) > 1:
            del fields[draw(st.integers(0, len(fields) - 1))]
        elif kind == "add":
            fields.insert(draw(st.integers(0, len(fields))), draw(TEXT))
        elif kind == "replace":
            j = draw(st.integers(0, len(fields) - 1))
            new = draw(TEXT)
            fields[j] = new if CSV_HEAD[min(j, len(CSV_HEAD) - 1)] == "bsn" or PLANTED not in new else "x"
        elif kind == "quote":
            j = draw(st.integers(0, len(fields) - 1))
            fields[j] = '"' + fields[j]
        elif kind == "blank":
            lines.insert(i, "")
            continue
        elif kind == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
            continue
        elif kind == "swap_sep":
            sep2 = "," if sep == ";" else ";"
            lines[i] = lines[i].replace(sep, sep2)
            continue
        elif kind == "dup":
            lines.insert(i, lines[i])
            continue
        lines[i] = sep.join(fields)
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))
    bom = "\ufeff" if draw(st.booleans()) else ""
    data = (bom + text).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        a = draw(st.integers(0, len(data)))
        data = data[:a] + draw(st.binary(max_size=4)) + data[a:]
    return {"berichten/0/JW301_basis.xml": BASE["JW301"], f"export/{_name(draw, 'declaraties')}.csv": data}


PRODUCTEN = ("productcode;productcategorie;omschrijving;financieringsvorm;tarief;geldig_vanaf\n"
             "54G01;54;Product;inspanning;12,50;01-01-2019\n")
AANBIEDERS = "agb;naam;type;gecontracteerd_vanaf\n98010023;Zorg BV;regulier;2019-01-01\n"


def _make(root: Path, files: dict[str, str | bytes]) -> Path:
    (root / "referentie").mkdir(parents=True)
    (root / "referentie" / "producten.csv").write_text(PRODUCTEN, encoding="utf-8")
    (root / "referentie" / "aanbieders.csv").write_text(AANBIEDERS, encoding="utf-8")
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def check_invariants(files: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="jeugdlib-prop-") as tmp:
        root = _make(Path(tmp) / "ds", files)
        out = Path(tmp) / "out"
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            res = ingest.ingest(root, out, quiet=False, workers=1)  # any exception fails the property
        t = res.telling
        assert (t["gelezen"] == t["behouden"] + t["quarantaine"] + t["overgeslagen"]).all()
        q = res.quarantaine["invoer"].astype(str).value_counts()
        for r in t.itertuples():
            assert q.get(r.invoer, 0) == r.quarantaine, r.invoer
        folder = dataset.version_dir(out)
        data = ~t["invoer"].str.startswith("referentie:")
        n_rows = sum(pq.read_metadata(folder / f"{name}.parquet").num_rows for name in ingest.STREAMED)
        assert int(t.loc[data, "behouden"].sum()) == n_rows
        # no BSN anywhere: tables, manifest, stderr
        texts = [(folder / dataset.MANIFEST).read_text(encoding="utf-8"), err.getvalue()]
        for p in sorted(folder.glob("*.parquet")):
            texts.append(pd.read_parquet(p).astype(str).to_csv(index=False))
        blob = "\n".join(texts)
        for secret in SECRETS:
            assert secret not in blob, secret
        quar = res.quarantaine[["bestand", "melding", "waarde"]].astype(str).to_csv(index=False)
        assert not re.search(r"(?<!\d)\d{9}(?!\d)", quar), quar


@given(xml_dataset())
def test_mutated_messages_keep_the_invariants(files):
    check_invariants(files)


@given(csv_dataset())
def test_mutated_exports_keep_the_invariants(files):
    check_invariants(files)


def test_the_mutants_are_not_all_trivial():
    """The strategies reach the interesting cases: quarantined records and kept ones."""
    check_invariants({"berichten/0/JW301_basis.xml": BASE["JW301"],
                      f"berichten/1/JW323_{PLANTED}.xml": BASE["JW323"][:-30],
                      "export/declaraties.csv": ";".join(CSV_HEAD) + "\n0907;98010023;"
                      + PLANTED + ";54G01;01-04-2024;30-04-2024;12,50;te veel\n"})


def _tables(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}


@given(xml_dataset())
def test_mutated_messages_read_alike_in_batches_and_one_by_one(files):
    """Small messages read in batches (the vectorised reader over many messages at once) give
    the same tables, byte for byte, as reading every message on its own with lxml."""
    import pytest

    with tempfile.TemporaryDirectory(prefix="jeugdlib-prop-") as tmp:
        root = _make(Path(tmp) / "ds", files)
        got = {}
        for batch in (ingest.SMALL_BATCH_FILES, 1):
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(ingest, "SMALL_BATCH_FILES", batch)
                out = Path(tmp) / f"out{batch}"
                ingest.ingest(root, out, quiet=True, workers=1)
                got[batch] = _tables(dataset.version_dir(out))
        assert got[ingest.SMALL_BATCH_FILES] == got[1]
