"""The report notebooks: contract, a full quarterly run on the fixture dataset,
key numbers equal to the library's, privacy of the rendered HTML, and a
Samenvatting that follows the data.

The papermill runs use the fixture dataset ``tests/fixtures/mini`` (the
notebooks' defaults). nbval runs separately: ``pytest --nbval-lax
notebooks/reports --nbval-sanitize-with tests/nbval_sanitize.cfg``.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import re
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest

from jeugdlib import config, dataset, privacy, reports
from jeugdlib.rapport import PARAMETERS
from jeugdlib.rapport.laden import KERN_MIME

NB_DIR = config.NOTEBOOKS_DIR
#: The notebooks' default dataset; JEUGDLIB_TEST_FIXTURE points the tests at another one.
FIXTURE = Path(os.environ.get("JEUGDLIB_TEST_FIXTURE", config.FIXTURE_DIR / "mini"))
NOTEBOOKS = sorted(reports.RAPPORTEN)


def _fixture() -> Path:
    if not FIXTURE.exists():
        pytest.skip(f"{FIXTURE} ontbreekt (de kleine testdataset van het demo-issue)")
    return FIXTURE


# --------------------------------------------------------------------------- contract

@pytest.mark.parametrize("naam", NOTEBOOKS)
def test_notebook_contract(naam):
    path = NB_DIR / f"{naam}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    # papermill sees the documented parameter names, in order
    params = pm.inspect_notebook(str(path))
    assert list(params) == PARAMETERS[naam]
    # the parameters cell holds literals only
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        ast.literal_eval(node.value)
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        assert not c.get("outputs") and c.get("execution_count") is None, "stored without outputs"
        tree = ast.parse(c.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)), \
                f"{naam}: no function or class definitions in notebook cells"
            # no metric logic: no pandas/numpy work in cells, only calls into jeugdlib.rapport
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert all(m in ("jeugdlib",) for m in mods), mods
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "verberg" in first.metadata.get("tags", [])


# --------------------------------------------------------------------------- the quarterly run

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One quarterly run of all seven reports on the fixture, for the first region."""
    data = _fixture()
    ds = dataset.open_dataset(data)
    from jeugdlib.rapport.laden import regios_in

    regio = regios_in(Path(ds.path), ds.gemeenten)[0]
    out = tmp_path_factory.mktemp("rapporten")
    args = argparse.Namespace(data=str(data), regio=regio, kwartaal=None, out=str(out), rapport=None,
                              workers=2, quiet=True)
    rc = reports.main(args)
    run_dir = next(out.iterdir())
    return {"rc": rc, "dir": run_dir, "regio": regio, "ds": ds,
            "run": json.loads((run_dir / "run.json").read_text())}


def _kern(nb_path: Path) -> dict:
    nb = nbformat.read(str(nb_path), as_version=4)
    for c in nb.cells:
        for o in c.get("outputs", []):
            if KERN_MIME in o.get("data", {}):
                return o["data"][KERN_MIME]
    raise AssertionError(f"geen kerncijfers in {nb_path}")


@pytest.mark.slow
def test_run_writes_everything(run):
    d = run["dir"]
    assert run["rc"] == 0, [n for n in run["run"]["notebooks"] if n["status"] != "ok"]
    for f in ("index.html", "kpis.csv", "kpis_nl.csv", "kpis.xlsx", "run.json"):
        assert (d / f).stat().st_size > 0, f
    from jeugdlib import fmt

    sub = d / fmt.slug(run["regio"])
    for naam in NOTEBOOKS:
        html = (sub / f"{naam}.html").read_text(encoding="utf-8")
        assert "Samenvatting" in html and "Toelichting" in html, naam
        assert "Traceback" not in html and "application/vnd.jupyter.error" not in html, naam
        assert "rapport.open_rapport" not in html, "no code in the HTML"
        assert "<script src=" not in html
    assert {n["rapport"] for n in run["run"]["notebooks"]} == set(NOTEBOOKS)
    idx = (d / "index.html").read_text(encoding="utf-8")
    assert all(f"{fmt.slug(run['regio'])}/{n}.html" in idx for n in NOTEBOOKS)


@pytest.mark.slow
def test_one_region_run_stores_its_region_and_gives_its_kpi_table(run):
    """A run for one region stores the cleaned records of its gemeenten only, the KPI rows
    per jaar of every region (the Regiovergelijking compares them) and, made while the
    notebooks ran, per kwartaal; its kpis.csv holds the region and Nederland."""
    import datetime as dt

    from jeugdlib import clean, kpi
    from jeugdlib.config import Params
    from jeugdlib.rapport.laden import regio_gemeenten

    d = run["dir"] / "_data"
    eigen = set(regio_gemeenten(run["ds"].gemeenten, run["regio"])["gemeentecode"])
    assert json.loads((d / "run_data.json").read_text())["gemeenten"] is not None
    for t in ("toewijzingen", "declaraties", "start_stop"):
        codes = set(pd.read_parquet(d / f"{t}.parquet", columns=["gemeentecode"])["gemeentecode"])
        assert codes and codes <= eigen, t
    alle = clean.clean(kpi.verwerkt_pad(_fixture(), quiet=True),
                       Params(peildatum=dt.date.fromisoformat(run["run"]["peildatum"])))
    # the cleaning counts are stored whole (a report on all regions shows them)
    assert len(pd.read_parquet(d / "telling.parquet")) == len(alle.con.execute("SELECT * FROM telling").df())
    jaar = pd.read_parquet(d / "kpi_rijen_jaar.parquet")
    assert len(set(jaar["regio"]) - {"Nederland"}) == 2
    assert (d / "kpi_rijen_kwartaal.parquet").exists()
    tabel = pd.read_csv(run["dir"] / "kpis.csv", dtype=str, keep_default_na=False)
    assert set(tabel["regio"]) == {run["regio"], "Nederland"}
    assert {"jaar", "kwartaal"} <= {("kwartaal" if "-Q" in p else "jaar") for p in tabel["periode"]}
    assert run["run"]["kpis"]["rijen"] == len(tabel)


@pytest.mark.slow
def test_report_on_a_region_the_run_did_not_store_cleans_itself(run):
    """Opened by hand on a one-region run's tables for another region, a report cleans
    that region itself (it is not in the stored tables) instead of showing it empty."""
    from jeugdlib.rapport import laden

    d = run["dir"] / "_data"
    ander = next(r for r in laden.regios_in(Path(run["ds"].path), run["ds"].gemeenten) if r != run["regio"])
    peil = run["run"]["peildatum"]
    uit_run = laden.open_rapport("kostenontwikkeling", d, ander, peil)
    zelf = laden.open_rapport("kostenontwikkeling", run["ds"].path, ander, peil)
    assert uit_run.opslag is None
    assert len(uit_run.cleaned.declaraties) == len(zelf.cleaned.declaraties) > 0
    eigen = laden.open_rapport("kostenontwikkeling", d, run["regio"], peil)
    assert eigen.opslag is not None


@pytest.mark.slow
def test_key_numbers_equal_library(run):
    """The numbers the Kostenontwikkeling report shows are the KPI table's."""
    from jeugdlib import fmt

    kern = _kern(run["dir"] / fmt.slug(run["regio"]) / "kostenontwikkeling.ipynb")["kern"]
    kpis = pd.read_csv(run["dir"] / "kpis.csv", dtype={"gemeente": str, "periode": str, "dimensie": str},
                       keep_default_na=False, na_values={"waarde": [""]})
    reg = kpis[(kpis["regio"] == run["regio"]) & (kpis["gemeente"] == "") & (kpis["dimensie"] == "")]
    checked = 0
    for key, value in kern.items():
        m = re.fullmatch(r"(kosten|clienten|toewijzingen|kosten_groei)_(\d{4})", key)
        if not m or value is None:
            continue
        lib = reg[(reg["kpi"] == m.group(1)) & (reg["periode"] == m.group(2))]["waarde"]
        assert len(lib) == 1
        assert value == pytest.approx(float(lib.iloc[0]), rel=1e-9), key
        checked += 1
    assert checked >= 2, kern


_ID = re.compile(r"\b[0-9a-f]{64}\b")
_NEGEN = re.compile(r"(?<![\d.,])\d{9}(?![\d.,])")
_DATA_URI = re.compile(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+")


def privacy_problemen(html: str) -> list[str]:
    """What in a rendered report would break data-contract 2.1/3.1."""
    problemen = []
    text = _DATA_URI.sub("", html)
    for m in _NEGEN.findall(text):
        if privacy.elfproef_one(m):
            problemen.append(f"BSN-achtig getal {m}")
    problemen += [f"client-id {m[:8]}..." for m in _ID.findall(text)]
    problemen += [f"aantal cliënten {m}" for m in re.findall(r"(?<![\d.,])([1-9]) cliënt(?:en)?\b", text)]
    problemen += [f"tegel cliënten {m}" for m in re.findall(
        r'jl-label">Cliënten</div><div class="jl-waarde">([1-9])<', text)]
    for t in re.findall(r'<table class="jl-tabel">.*?</table>', text, flags=re.S):
        df = pd.read_html(io.StringIO(t), thousands=".", decimal=",")[0]
        for col in df.columns:
            c = str(col).lower()
            if "cliënt" in c and not any(w in c for w in ("per", "kosten", "aandeel", "%")):
                small = [v for v in df[col].astype(str) if re.fullmatch(r"[1-9]", v.strip())]
                problemen += [f"tabel {col}: {v}" for v in small]
    return problemen


_TELLING_KOP = re.compile(r"aantal|cliënten|clienten|maanden|zorgpaden|toewijzingen", re.I)
_AANDEEL_KOP = re.compile(r"aandeel|%|procent", re.I)
_KLASSE = re.compile(r"aansluitend|afwijking", re.I)
_ONDERDRUKT = {"&lt;10", "<10"}


def _tabellen(text: str):
    """(headers, rows of cell texts) of every report table, without parsing numbers."""
    def cellen(tr, tag):
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", tr, flags=re.S)]

    for t in re.findall(r'<table class="jl-tabel">.*?</table>', text, flags=re.S):
        trs = re.findall(r"<tr[^>]*>(.*?)</tr>", t, flags=re.S)
        if not trs:
            continue
        kop = cellen(trs[0], "th")
        yield kop, [cellen(tr, "td") for tr in trs[1:]]


def herleidbaar(html: str) -> list[str]:
    """Suppressed numbers that something else in a table gives back (reports.md): a share
    printed beside a suppressed count, or a class (aansluitend, afwijking ...) beside it."""
    problemen = []
    for kop, rijen in _tabellen(html):
        telling = [i for i, k in enumerate(kop) if _TELLING_KOP.search(k) and not re.search(r"per |kosten", k, re.I)]
        aandeel = [i for i, k in enumerate(kop) if _AANDEEL_KOP.search(k)]
        for rij in rijen:
            if len(rij) != len(kop):
                continue
            weg = [i for i in telling if rij[i] in _ONDERDRUKT]
            if not weg:
                continue
            for i in aandeel:
                if re.search(r"\d", rij[i]) and rij[i] not in _ONDERDRUKT:
                    problemen.append(f"aandeel {kop[i]} = {rij[i]} naast onderdrukt {kop[weg[0]]}")
            for cel in rij:
                if _KLASSE.search(cel):
                    problemen.append(f"klasse {cel!r} naast onderdrukt {kop[weg[0]]}")
    return problemen


def test_herleidbaar_catches_share_and_class_beside_suppressed_count():
    lek = ('<table class="jl-tabel"><thead><tr><th>rang</th><th>zorgpad</th><th>aantal</th><th>aandeel</th></tr>'
           '</thead><tbody><tr><td>1</td><td>Midden-Meerwerk</td><td>&lt;10</td><td>2,1%</td></tr></tbody></table>'
           '<table class="jl-tabel"><thead><tr><th>maand</th><th>cliënten</th><th>capaciteit</th><th>klasse</th>'
           '</tr></thead><tbody><tr><td>mei 2020</td><td>&lt;10</td><td>9</td><td>aansluitend</td></tr></tbody>'
           '</table>')
    assert len(herleidbaar(lek)) == 2
    ok = lek.replace("2,1%", "&lt;10").replace("aansluitend", "niet getoond")
    assert herleidbaar(ok) == []


@pytest.mark.slow
def test_no_suppressed_number_recoverable_in_rendered_reports(run):
    """Every rendered report: no share or class beside a suppressed count (issue 15)."""
    for html in sorted(run["dir"].rglob("*.html")):
        assert herleidbaar(html.read_text(encoding="utf-8")) == [], html.name


def test_privacy_check_catches_leaks():
    # 111222333: 1*9+1*8+1*7+2*6+2*5+2*4+3*3+3*2-3*1 = 9+8+7+12+10+8+9+6-3 = 66 = 6*11 -> valid BSN
    assert privacy.elfproef_one("111222333")
    bad = ('<p>BSN 111222333</p><p>id ' + "ab" * 32 + '</p><p>3 cliënten</p>'
           '<div class="jl-label">Cliënten</div><div class="jl-waarde">7</div>'
           '<table class="jl-tabel"><thead><tr><th>gemeente</th><th>cliënten</th></tr></thead>'
           '<tbody><tr><td>X</td><td>4</td></tr></tbody></table>')
    assert len(privacy_problemen(bad)) == 5
    ok = ('<p>€ 111.222.333</p><p>12 cliënten</p><img src="data:image/png;base64,AA111222333BB">'
          '<table class="jl-tabel"><thead><tr><th>kosten per cliënt</th><th>cliënten</th></tr></thead>'
          '<tbody><tr><td>4</td><td>&lt;10</td></tr></tbody></table>')
    assert privacy_problemen(ok) == []


@pytest.mark.slow
def test_privacy_of_rendered_html(run):
    for html in sorted(run["dir"].rglob("*.html")):
        assert privacy_problemen(html.read_text(encoding="utf-8")) == [], html.name


@pytest.mark.slow
def test_samenvatting_follows_the_data(run, tmp_path):
    """Remove a third of the declarations: the Samenvatting's cost sentence changes with them."""
    ds = run["ds"]
    dec = ds.declaraties
    kept = dec.iloc[[i for i in range(len(dec)) if i % 3]]  # test data set-up, not a report path
    ds2 = dataset.Dataset(**{n: getattr(ds, n) for n in dataset.Dataset.table_names() if n != "declaraties"},
                          declaraties=kept)
    dataset.save(ds2, tmp_path / "minder")
    peil = run["run"]["peildatum"]
    outs = {}
    for naam, data in (("orig", ds.path), ("minder", tmp_path / "minder")):
        out = tmp_path / f"{naam}.ipynb"
        pm.execute_notebook(str(NB_DIR / "kostenontwikkeling.ipynb"), str(out), kernel_name="python3",
                            cwd=str(NB_DIR), progress_bar=False,
                            parameters={"data": str(data), "regio": run["regio"], "peildatum": peil})
        outs[naam] = _kern(out)
    a, b = outs["orig"], outs["minder"]
    assert a["samenvatting"] and b["samenvatting"]
    assert a["samenvatting"] != b["samenvatting"]
    jaar = [k for k in a["kern"] if re.fullmatch(r"kosten_\d{4}", k)][0]
    assert b["kern"][jaar] < a["kern"][jaar]
    # the changed amount is what the sentence says
    from jeugdlib import fmt

    assert any(fmt.bedrag_kort(b["kern"][jaar]) in z for z in b["samenvatting"])


@pytest.mark.slow
def test_stored_productgroep_kpis_equal_a_report_of_the_region_alone(run, tmp_path):
    """A run over several regions stores the Trajecten report's KPIs per productgroep
    (computed once for all of them); the report reads them: the same suppressed rows as a
    report on the region's data alone. A one-region run leaves them to the report."""
    import datetime as dt

    from jeugdlib import kpi
    from jeugdlib.metrics import trajecten as T
    from jeugdlib.rapport import laden, trajecten

    peil = run["run"]["peildatum"]
    assert not (run["dir"] / "_data" / "kpi_groep_jaar.parquet").exists()
    reports.run_tabellen(kpi.verwerkt_pad(_fixture(), quiet=True), dt.date.fromisoformat(peil), tmp_path / "_data")
    assert (tmp_path / "_data" / "kpi_groep_maand.parquet").exists()
    uit_run = laden.open_rapport("trajecten", tmp_path / "_data", run["regio"], peil)
    zelf = laden.open_rapport("trajecten", run["ds"].path, run["regio"], peil)
    assert uit_run.opslag is not None and zelf.opslag is None
    groepen = T.traject_groepen(zelf.cleaned)
    assert groepen
    n = 0
    for g in groepen:
        for per in trajecten.GROEP_PERIODEN:
            a = trajecten._kpis_groep(uit_run, g, per)
            b = trajecten._kpis_groep(zelf, g, per)
            # computed alone, "Nederland" is the region itself: the report reads only the region's rows
            b = b[b["regio"] == run["regio"]]
            sleutel = ["kpi", "regio", "gemeente", "periode", "dimensie"]
            a, b = (x.sort_values(sleutel).reset_index(drop=True) for x in (a, b))
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
            n += len(a)
    assert n > 0
