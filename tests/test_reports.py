"""Tests for the Dutch formats (fmt), chart helpers (plots), report blocks and the
``jeugdlib reports`` runner (with small stand-in notebooks and datasets)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from jeugdlib import config, dataset, fmt, plots, reports, schema
from jeugdlib.errors import JeugdlibError
from jeugdlib.rapport import opmaak


# --------------------------------------------------------------------------- fmt

@pytest.mark.parametrize("x, dec, out", [
    (1234567, 0, "1.234.567"),
    (1234567.8, 1, "1.234.567,8"),
    (0.5, 2, "0,50"),
    (-1234.4, 0, "-1.234"),
    (-0.04, 1, "0,0"),                # no "-0,0"
    (999, 0, "999"),
    (None, 0, "–"),
    (float("nan"), 0, "–"),
])
def test_getal(x, dec, out):
    assert fmt.getal(x, dec) == out


def test_bedrag_procent_maanden():
    assert fmt.bedrag(1234567) == "€ 1.234.567"
    assert fmt.bedrag(-5) == "-€ 5"
    assert fmt.bedrag(12.5, 2) == "€ 12,50"
    assert fmt.bedrag_kort(26_123_456) == "€ 26,1 mln"
    assert fmt.bedrag_kort(812_449) == "€ 812.400"
    assert fmt.bedrag_kort(950) == "€ 950"
    assert fmt.bedrag_kort(1.5e9) == "€ 1,5 mld"
    assert fmt.procent(0.1234) == "12,3%"
    assert fmt.procent(0.108, teken=True) == "+10,8%"
    assert fmt.procent(-0.02, teken=True) == "-2,0%"
    assert fmt.procent(0.0, teken=True) == "0,0%"
    assert fmt.maanden(7.04) == "7,0 maanden"
    assert fmt.maanden(1) == "1,0 maand"


def test_datums_en_perioden():
    assert fmt.datum("2024-08-01") == "1 augustus 2024"
    assert fmt.datum(pd.Timestamp("2023-03-15")) == "15 maart 2023"
    assert fmt.datum(dt.date(2024, 12, 31)) == "31 december 2024"
    assert fmt.datum(pd.NaT) == "–"
    assert fmt.datum_kort("2024-08-01") == "1 aug 2024"
    assert fmt.maand("2024-05-20") == "mei 2024"
    assert fmt.maand("2024-10-01", kort=True) == "okt 2024"
    assert fmt.periode("2023") == "2023"
    assert fmt.periode("2023-Q2") == "2e kwartaal 2023"
    assert fmt.periode("2023-05") == "mei 2023"
    assert fmt.MAANDEN[7] == "augustus"


def test_kwartaal():
    assert fmt.kwartaal("2024Q2") == (dt.date(2024, 4, 1), dt.date(2024, 7, 1))
    assert fmt.kwartaal("2024-q4") == (dt.date(2024, 10, 1), dt.date(2025, 1, 1))
    assert fmt.kwartaal_label(dt.date(2024, 6, 30)) == "2024Q2"
    assert fmt.kwartaal_label("2024-07-01") == "2024Q3"
    with pytest.raises(ValueError):
        fmt.kwartaal("2024Q5")
    with pytest.raises(ValueError):
        fmt.kwartaal("Q2 2024")


def test_p_waarde_waarde_lijst_slug():
    assert fmt.p_waarde(0.4123) == "p = 0,41"
    assert fmt.p_waarde(0.0032) == "p = 0,003"
    assert fmt.p_waarde(0.00001) == "p < 0,001"
    assert fmt.waarde(3, "aantal", onderdrukt=True) == fmt.ONDERDRUKT
    assert fmt.waarde(1234, "aantal") == "1.234"
    assert fmt.waarde(1.734, "aantal") == "1,73"
    assert fmt.waarde(0.5, "fractie") == "50,0%"
    assert fmt.waarde(15100.4, "euro") == "€ 15.100"
    assert fmt.waarde(7.04, "maanden") == "7,0"
    assert fmt.lijst(["a", "b", "c"]) == "a, b en c"
    assert fmt.lijst(["a"]) == "a"
    assert fmt.slug("Zuid-Holland Zuid") == "zuid-holland-zuid"


# --------------------------------------------------------------------------- plots

def test_funnel_grenzen():
    # p0 = 0,3, n = 100: se = sqrt(0,3*0,7/100) = 0,045826; 1,96*se = 0,089818
    lo, hi = plots.funnel_grenzen(0.3, [100], 1.96)
    assert lo[0] == pytest.approx(0.3 - 0.089818, abs=1e-6)
    assert hi[0] == pytest.approx(0.3 + 0.089818, abs=1e-6)
    # n = 4: se = sqrt(0,21/4) = 0,229129; 3,09*se = 0,708; 0,3-0,708 < 0 -> clipped to 0
    lo, hi = plots.funnel_grenzen(0.3, [4], 3.09)
    assert lo[0] == 0.0 and hi[0] == pytest.approx(1.0)
    # larger groups have narrower limits
    lo, hi = plots.funnel_grenzen(0.5, [10, 1000], 1.96)
    assert (hi - lo)[0] > (hi - lo)[1]


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_yticklabels()] + [t.get_text() for t in ax.get_xticklabels()]
    return out


def test_staven_dutch_labels_and_reading_aid():
    df = pd.DataFrame({"jaar": ["2022", "2023"], "kosten": [2_500_000.0, 3_000_000.0]})
    fig = plots.staven(df, "jaar", "kosten", titel="Kosten per jaar, Testregio", xlabel="jaar",
                       ylabel="kosten (€)", leeswijzer="2023 is volledig.", eenheid="euro", waarden=True)
    png = plots.png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    texts = _texts(fig)
    assert "Kosten per jaar, Testregio" in texts
    assert "kosten (€)" in texts and "jaar" in texts
    assert "Leeswijzer: 2023 is volledig." in texts
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(re.fullmatch(r"€ \d+(,\d)? mln", t) for t in ticks), ticks
    # bar value labels in Dutch, rounded
    assert [t.get_text() for t in fig.axes[0].texts] == ["€ 2,5 mln", "€ 3,0 mln"]


def test_funnel_marks_outlier():
    # 20 groups at exactly 30%, one of n = 1000 at 60%: far outside the 99,8% limits
    n = np.full(21, 1000)
    p = np.full(21, 0.3)
    p[-1] = 0.6
    df = pd.DataFrame({"n": n, "p": p, "naam": [f"G{i}" for i in range(21)], "eigen": [False] * 20 + [True]})
    fig = plots.funnel(df, "n", "p", "naam", titel="Aandeel verlengd per gemeente", xlabel="toewijzingen",
                       ylabel="aandeel (%)", leeswijzer="Punten buiten de lijnen wijken af.", markeer="eigen")
    names = [t.get_text() for t in fig.axes[0].texts]
    assert names == ["G20"]


def test_toon_outputs_img(capsys):
    from unittest import mock

    df = pd.DataFrame({"x": ["a", "b"], "y": [1, 2]})
    fig = plots.staven(df, "x", "y", titel="T", xlabel="x", ylabel="y", leeswijzer="L")
    with mock.patch("IPython.display.display") as disp:
        plots.toon(fig)
    html = disp.call_args[0][0].data
    assert html.startswith('<img class="jl-grafiek" alt="T" src="data:image/png;base64,')


# --------------------------------------------------------------------------- report blocks

def test_tabel_formats_and_suppresses_client_counts():
    df = pd.DataFrame({"gemeente": ["Venlo", "Beesel", "Totaal"], "cliënten": [1234, 7, 1241],
                       "kosten": [1_500_000.4, 2_000.0, 1_502_000.4], "aandeel": [0.25, None, 1.0],
                       "kosten per cliënt": [1215.6, 285.7, 1210.3]})
    html = opmaak.tabel(df, {"cliënten": "aantal", "kosten": "euro", "aandeel": "fractie",
                             "kosten per cliënt": "euro"}, totaal=True).data
    assert "1.234" in html and "€ 1.500.000" in html and "25,0%" in html
    assert ">7<" not in html and fmt.ONDERDRUKT.replace("<", "&lt;") in html
    assert "€ 286" in html  # per-client figure is not a client count
    assert 'class="jl-totaal"' in html


def test_tabel_onderdrukt_column():
    df = pd.DataFrame({"kpi": ["a", "b"], "waarde": [0.5, None], "onderdrukt": [False, True]})
    html = opmaak.tabel(df, {"waarde": "fractie"}, onderdrukt={"waarde": "onderdrukt"}).data
    assert "50,0%" in html and "&lt;10" in html and "onderdrukt" not in html


# --------------------------------------------------------------------------- runner

def _nb(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell('data = ""\nregio = ""\npeildatum = "2024-07-01"')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Proef"), p, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, str(path))


def _mini_processed(path: Path, last: str = "2024-06-30") -> Path:
    tabs = {n: schema.empty(n) for n in dataset.Dataset.table_names()}
    tw = pd.DataFrame({"toewijzing_nr": ["1", "2"], "gemeentecode": ["0983", "0935"],
                       "versie_ts": pd.to_datetime(["2024-01-05", "2024-05-01"])})
    tabs["toewijzingen"] = schema.conform(tw, "toewijzingen")
    dec = pd.DataFrame({"gemeentecode": ["0983"], "periode_begin": pd.to_datetime([last[:8] + "01"]),
                        "periode_eind": pd.to_datetime([last])})
    tabs["declaraties"] = schema.conform(dec, "declaraties")
    tabs["gemeenten"] = config.demo_gemeenten()
    dataset.save(dataset.Dataset(**tabs), path)
    return path


def test_laatste_volledige_kwartaal(tmp_path):
    # data up to 30 June: Q2 is complete
    from jeugdlib.rapport.laden import regios_in

    assert reports.laatste_volledige_kwartaal(_mini_processed(tmp_path / "a", "2024-06-30")) == "2024Q2"
    # data up to 31 July: Q3 is not complete -> Q2
    assert reports.laatste_volledige_kwartaal(_mini_processed(tmp_path / "b", "2024-07-31")) == "2024Q2"
    # data up to 31 March: Q1
    p = _mini_processed(tmp_path / "c", "2024-03-31")
    assert reports.laatste_volledige_kwartaal(p) == "2024Q1"
    assert regios_in(p, config.demo_gemeenten()) == ["Noord-Limburg", "Zuid-Limburg"]


@pytest.mark.slow
def test_runner_parallel_failure_index_runjson(tmp_path, capsys):
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    # one notebook works everywhere; the other fails for Zuid-Limburg only
    _nb(nbdir / "kostenontwikkeling.ipynb",
        'import sys\nprint("ruis", file=sys.stderr)\nfrom IPython.display import HTML\n'
        'HTML(f"<p>Regio {regio}, peildatum {peildatum}</p>")')
    _nb(nbdir / "datakwaliteit.ipynb",
        'assert regio != "Zuid-Limburg", "kapot voor " + regio\nprint("goed")')
    data = _mini_processed(tmp_path / "proc")
    args = argparse.Namespace(data=str(data), regio="alle", kwartaal=None, out=str(tmp_path / "out"),
                              rapport=["kostenontwikkeling", "datakwaliteit"], workers=2, quiet=True,
                              notebooks=str(nbdir), kpis=False)
    rc = reports.main(args)
    assert rc == 1  # one failure -> non-zero at the end
    out = tmp_path / "out" / "2024Q2"
    # every other notebook still ran and was converted
    nl = out / "noord-limburg"
    assert (nl / "kostenontwikkeling.html").exists() and (nl / "datakwaliteit.html").exists()
    assert (out / "zuid-limburg" / "kostenontwikkeling.html").exists()
    # the failing one: no HTML, executed notebook kept with the error in it
    assert not (out / "zuid-limburg" / "datakwaliteit.html").exists()
    kept = nbformat.read(str(out / "zuid-limburg" / "datakwaliteit.ipynb"), as_version=4)
    assert any(o.get("ename") == "AssertionError" for c in kept.cells for o in c.get("outputs", []))
    # HTML: no code, no parameters, no stderr, Dutch, no external scripts
    html = (nl / "kostenontwikkeling.html").read_text()
    assert "Regio Noord-Limburg, peildatum 2024-07-01" in html
    assert 'peildatum = "2024-07-01"' not in html and "ruis" not in html
    assert "import sys" not in html and "<script src=" not in html and 'lang="nl"' in html
    # index marks the failure and links the kept notebook
    idx = (out / "index.html").read_text()
    assert "mislukt" in idx and "zuid-limburg/datakwaliteit.ipynb" in idx
    assert 'href="noord-limburg/kostenontwikkeling.html"' in idx
    assert "2e kwartaal 2024" in idx and "1 juli 2024" in idx
    run = json.loads((out / "run.json").read_text())
    assert run["kwartaal"] == "2024Q2" and run["peildatum"] == "2024-07-01"
    assert run["versies"]["papermill"] and run["versies"]["jeugdlib"]
    assert "commit" in run["git"]
    st = {(n["regio"], n["rapport"]): n for n in run["notebooks"]}
    assert st[("Zuid-Limburg", "datakwaliteit")]["status"] == "mislukt"
    assert "kapot voor Zuid-Limburg" in st[("Zuid-Limburg", "datakwaliteit")]["fout"]
    assert st[("Noord-Limburg", "datakwaliteit")]["status"] == "ok"
    assert all(n["seconden"] > 0 for n in run["notebooks"])
    err = capsys.readouterr().err
    assert "kapot voor Zuid-Limburg" in err and "IPKernelApp" not in err


def test_reused_kernel_is_clean_and_replaced_after_a_failure(tmp_path, monkeypatch):
    """A worker runs its notebooks in one kernel (no 2 s start per notebook), but no
    notebook sees another's names; after a failure the next notebook gets a new kernel,
    and after KERNEL_HERGEBRUIK notebooks too."""
    monkeypatch.setattr(reports, "KERNEL_HERGEBRUIK", 3)
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    pids = tmp_path / "pids.txt"
    schrijf_pid = f'import os\nopen({str(pids)!r}, "a").write(str(os.getpid()) + "\\n")\n'
    _nb(nbdir / "zet.ipynb", schrijf_pid + "geheim = 42")
    _nb(nbdir / "kijk.ipynb", schrijf_pid + 'assert "geheim" not in globals(), "naam van vorig notebook"')
    _nb(nbdir / "faal.ipynb", schrijf_pid + 'raise RuntimeError("stuk")')

    def taak(naam, i):
        return reports.Taak(naam, "R", nbdir / f"{naam}.ipynb", tmp_path / f"{i}.ipynb",
                            tmp_path / f"{i}.html", {"regio": "R"}, naam)

    try:
        volgorde = ["zet", "kijk", "faal", "zet", "kijk", "kijk", "kijk"]
        uit = [reports.draai_notebook(taak(n, i), hergebruik=True) for i, n in enumerate(volgorde)]
    finally:
        reports._stop_kernel()
    assert [u.ok for u in uit] == [True, True, False, True, True, True, True], [u.fout for u in uit]
    p = pids.read_text().split()
    # zet, kijk, faal share a kernel; after the failure a new one for three notebooks
    # (the limit), then another
    assert p[0] == p[1] == p[2] and p[3] == p[4] == p[5] and p[6] != p[5] and p[3] != p[2]


def test_runner_bad_input(tmp_path):
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    _nb(nbdir / "kostenontwikkeling.ipynb", "1")
    data = _mini_processed(tmp_path / "proc")
    base = dict(data=str(data), regio="alle", kwartaal=None, out=str(tmp_path / "out"),
                rapport=["kostenontwikkeling"], workers=1, quiet=True, notebooks=str(nbdir), kpis=False)
    with pytest.raises(JeugdlibError, match="regio 'Atlantis'"):
        reports.main(argparse.Namespace(**{**base, "regio": "Atlantis"}))
    with pytest.raises(JeugdlibError, match="2024Q2"):
        reports.main(argparse.Namespace(**{**base, "kwartaal": "2024-06"}))
    with pytest.raises(JeugdlibError, match="onbekend rapport"):
        reports.main(argparse.Namespace(**{**base, "rapport": ["jaarverslag"]}))
    with pytest.raises(JeugdlibError, match="niet gevonden"):
        reports.main(argparse.Namespace(**{**base, "data": str(tmp_path / "nergens")}))


# --------------------------------------------------------------------------- issue 15: Dutch strings

def test_dutch_strings_issue_15():
    """The strings the issue named: plural verbs, full month names, no "(s)", no ISO timestamp."""
    from types import SimpleNamespace

    from jeugdlib.rapport import reeksen, zinnen

    assert fmt.aantal(1, "aanbieder", "aanbieders") == "1 aanbieder"
    assert fmt.aantal(7, "aanbieder gaat", "aanbieders gaan") == "7 aanbieders gaan"
    assert zinnen.aandeel_stand("micro-aanbieders", "2024", 0.05).startswith("Micro-aanbieders hadden in 2024 5,0%")
    assert zinnen.aandeel_stand("niet-gecontracteerd aanbod (NGA)", "2024", 0.05).startswith(
        "Niet-gecontracteerd aanbod (NGA) had in 2024")
    r = SimpleNamespace(laatste_dag=dt.date(2024, 6, 30))
    assert reeksen.periode_naam(r, "2024", True) == "2024 t/m juni"
    assert reports._tijdstip("2026-12-07T00:53:20") == "7 december 2026, 00.53 uur"


def test_tick_labels_keep_the_decimals_they_need():
    """An axis at 0,25 steps reads 0,25 / 0,5 / 0,75, never 0,2 / 0,8."""
    f = plots._as("aantal")
    assert [f(v) for v in (0, 0.25, 0.5, 0.75, 1.0, 1250)] == ["0", "0,25", "0,5", "0,75", "1", "1.250"]


def test_plek_classes_differ_in_lightness():
    """The 1-5% and >5% classes of one side are told apart in grey print too."""
    from matplotlib.colors import to_rgb

    from jeugdlib.rapport import plek

    def licht(c):
        r, g, b = to_rgb(c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    k = plek.KLEUREN
    for kant in ("boven", "onder"):
        assert abs(licht(k[f"afwijking 1-5% {kant}"]) - licht(k[f"afwijking >5% {kant}"])) > 0.3


def test_tabel_hides_share_beside_suppressed_count():
    df = pd.DataFrame({"zorgpad": ["a", "b"], "aantal": [4, 40], "aandeel": [0.021, 0.21],
                       "_o": [True, False]})
    h = opmaak.tabel(df, {"aantal": "aantal", "aandeel": "fractie"}, onderdrukt={"aantal": "_o"}).data
    assert "2,1%" not in h and "21,0%" in h and h.count("&lt;10") == 2


def test_onvolledig_markeren_and_headroom():
    """One helper shades the onvolledige months; bars leave room for their labels."""
    d = pd.DataFrame({"maand": pd.date_range("2024-01-01", periods=6, freq="MS"), "n": [5, 6, 7, 8, 9, 10]})
    fig = plots.lijnen(d, "maand", "n", titel="t", xlabel="maand", ylabel="aantal", leeswijzer="l",
                       voorlopig_vanaf=pd.Timestamp("2024-05-01"), voorlopig_tekst="onvolledig")
    ax = fig.axes[0]
    assert any(t.get_text().strip() == "onvolledig" for t in ax.texts)
    fig = plots.staven(pd.DataFrame({"x": ["a", "b"], "y": [10.0, 100.0]}), "x", "y", titel="t", xlabel="x",
                       ylabel="y", leeswijzer="l", waarden=True)
    assert fig.axes[0].get_ylim()[1] >= 110


def test_prognose_aansluiting_sums_and_sources():
    """The reconciliation table of every year figure: totaal = gerealiseerd + bijgeschat, each
    row equal to where it comes from (KPI table, the forecast's year total)."""
    from jeugdlib import rapport
    from jeugdlib.rapport import prognose as rp
    from jeugdlib.rapport.reeksen import waarde_in

    fixture = config.FIXTURE_DIR / "mini"
    if not fixture.exists():
        pytest.skip("tests/fixtures/mini ontbreekt")
    r = rapport.open_rapport("prognose", fixture, "", "2024-07-01")
    a = rp.aansluiting(r)
    assert len(a) >= 3
    som = a.dropna(subset=["gerealiseerd", "bijgeschat"])
    assert np.allclose(som["gerealiseerd"] + som["bijgeschat"], som["totaal"])
    k = r.kpis("kosten")
    rij = a.set_index("cijfer")["totaal"]
    assert rij["Gedeclareerd 2024 tot nu"] == pytest.approx(waarde_in(k, "kosten", r.regio, "2024"))
    assert rij["Heel 2024, lineair"] == pytest.approx(waarde_in(k, "kosten_prognose_lineair", r.regio, "2024"))
    p, _, _ = rp.prognose(r)
    if p is not None and p.beste is not None:
        j = p.per_periode("jaar")
        gekozen = a[a["cijfer"].str.endswith("(gekozen)")]
        assert len(gekozen) == 1
        assert gekozen["totaal"].iloc[0] == pytest.approx(float(j.loc[j["periode"] == "2024", "waarde"].iloc[0]))


def test_gedeeld_png_draws_a_chart_once_per_content(tmp_path):
    """A chart every region's report shares is drawn once and then read back whole."""
    getekend = []

    def maak(titel="Kosten per regio en jaar"):
        getekend.append(titel)
        fig, ax = plots.figuur()
        ax.bar(["Noord-Limburg", "Zuid-Limburg"], [1.0, 2.0])
        return plots.afwerken(fig, ax, titel=titel, xlabel="regio", ylabel="kosten (€)", leeswijzer="")

    map_ = tmp_path / "grafieken"
    a = plots.gedeeld_png(map_, "k1", maak)
    b = plots.gedeeld_png(map_, "k1", maak)
    assert a == b and a[0].startswith(b"\x89PNG") and a[1] == "Kosten per regio en jaar"
    assert getekend == ["Kosten per regio en jaar"]  # the second time read, not drawn
    c = plots.gedeeld_png(map_, "k2", lambda: maak("Cliënten per regio en jaar"))
    assert c[1] == "Cliënten per regio en jaar" and len(getekend) == 2
    assert sorted(p.name for p in map_.iterdir()) == ["k1.png", "k1.titel", "k2.png", "k2.titel"]  # no temp files


def test_run_tabellen_closes_its_connection_when_storing_fails(tmp_path, monkeypatch):
    """A full disk while storing the run's tables: the error reaches the caller (who lets
    the notebooks clean for themselves) and the cleaned national tables are not held
    open in memory through the notebooks."""
    import duckdb

    from jeugdlib import clean, kpi

    gemaakt = []
    echt = clean.clean

    def clean_(*a, **k):
        gemaakt.append(echt(*a, **k))
        return gemaakt[-1]

    def vol(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(clean, "clean", clean_)
    monkeypatch.setattr(clean, "bewaar", vol)
    with pytest.raises(OSError, match="No space"):
        reports.run_tabellen(kpi.verwerkt_pad(config.FIXTURE_DIR / "mini", quiet=True), dt.date(2024, 7, 1),
                             tmp_path / "_data")
    assert len(gemaakt) == 1
    with pytest.raises(duckdb.ConnectionException):
        gemaakt[0].con.execute("SELECT 1")
