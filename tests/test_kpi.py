"""The KPI table (data-contract 3.1), suppression at 9/10 clients, output and ``jeugdlib kpi``.

Case: Venlo (0983) has 9 clients, Venray (0984) 10, both in Noord-Limburg; each
client has one toewijzing (2023-01-01 .. 2023-12-31, aanbieder 11111111) and one
declaration of EUR 100 in March 2023. Peildatum 2024-08-01, start 2023-01-01.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from _ds_factory import dec, make_ds, tw
from jeugdlib import cli, dataset, fmt, kpi, schema
from jeugdlib.clean import clean
from jeugdlib.config import Params
from jeugdlib.metrics import _common

P = Params("2024-08-01", start="2023-01-01")
MINE = ("volume", "kosten", "aandelen")


def _ds():
    rows, lines = [], []
    for gem, n in (("0983", 9), ("0984", 10)):
        for i in range(n):
            nr, cl = f"{gem}-{i}", f"{gem}-c{i}"
            rows.append(tw(toewijzing_nr=nr, client_id=cl, gemeentecode=gem, ingangsdatum="2023-01-01",
                           einddatum="2023-12-31"))
            lines.append(dec(toewijzing_nr=nr, client_id=cl, gemeentecode=gem, periode_begin="2023-03-01",
                             periode_eind="2023-03-31", bedrag_cent_signed=10000))
    return make_ds(rows, lines)


@pytest.fixture(scope="module")
def cleaned():
    return clean(_ds(), P)


@pytest.fixture
def mine():
    """The ids of the KPIs of the volume, kosten and aandelen modules."""
    from jeugdlib.metrics._common import registry

    return [k for k, d in registry().items() if d.module in MINE]


def _row(t, k, gemeente, periode="2023", regio="Noord-Limburg", dimensie=""):
    r = t[(t["kpi"] == k) & (t["regio"] == regio) & (t["gemeente"] == gemeente) & (t["periode"] == periode)
          & (t["dimensie"] == dimensie)]
    assert len(r) == 1, (k, gemeente, periode)
    return r.iloc[0]


def test_suppression_at_9_and_10_clients(cleaned, mine):
    t = kpi.kpi_table(cleaned, kpis=mine)
    assert list(t.columns) == list(schema.KPI_COLUMNS)
    # a client count of 9 is suppressed, 10 is shown; the regio has 19
    r9, r10 = _row(t, "clienten", "0983"), _row(t, "clienten", "0984")
    assert bool(r9["onderdrukt"]) and pd.isna(r9["waarde"])
    assert not bool(r10["onderdrukt"]) and r10["waarde"] == 10
    assert _row(t, "clienten", "")["waarde"] == 19
    # per-client figure and share over 9 clients: suppressed; over 10: shown (900 / 9 would be 100)
    assert bool(_row(t, "kosten_per_client", "0983")["onderdrukt"])
    assert _row(t, "kosten_per_client", "0984")["waarde"] == pytest.approx(100.0)
    assert bool(_row(t, "aandeel_nga", "0983")["onderdrukt"])
    assert _row(t, "aandeel_nga", "0984")["waarde"] == 0.0
    # toewijzingen over 9 clients: suppressed like a client count
    assert bool(_row(t, "toewijzingen", "0983")["onderdrukt"])
    # money totals are not client counts: shown
    k9 = _row(t, "kosten", "0983")
    assert not bool(k9["onderdrukt"]) and k9["waarde"] == pytest.approx(900.0)
    # 0 clients (2024) is not a small number
    z = _row(t, "clienten", "0983", periode="2024")
    assert z["waarde"] == 0 and not bool(z["onderdrukt"])


def test_no_suppression_and_voorlopig(cleaned, mine):
    t = kpi.kpi_table(cleaned, kpis=mine, suppression=False)
    assert not t["onderdrukt"].any()
    assert _row(t, "clienten", "0983")["waarde"] == 9
    assert not bool(_row(t, "clienten", "0983")["voorlopig"])
    assert bool(_row(t, "clienten", "0983", periode="2024")["voorlopig"])


def test_voorlopig_labels():
    v = kpi.voorlopig(pd.Series(["2024", "2024-Q2", "2024-Q3", "2024-06", "2024-07", "2024-08"]), "2024-08-01")
    # a period is voorlopig when its last day is on or after the peildatum
    assert v.tolist() == [True, False, True, False, False, True]
    assert kpi.voorlopig(pd.Series(["2024-06"]), "2024-06-30").tolist() == [True]


def test_registry_declares_every_kpi_once():
    """Each KPI id is the name of its function, with a unit, a group, a label and a definition."""
    from jeugdlib.metrics._common import registry

    reg = registry()
    assert len(reg) >= 5
    for k, d in reg.items():
        assert d.functie.__name__ == k == d.id
        assert d.eenheid in ("aantal", "euro", "fractie", "maanden")
        assert d.groep and d.label and d.definitie, k


def test_a_failing_kpi_fails_the_table(cleaned, monkeypatch):
    from jeugdlib.metrics import _common

    def kapot(c):
        """Raises."""
        raise RuntimeError("kapot")
    monkeypatch.setitem(_common.REGISTRY, "kapot", _common.KpiDef("kapot", kapot, "aantal", "Volume", "Kapot"))
    with pytest.raises(RuntimeError, match="kapot"):
        kpi.kpi_table(cleaned, kpis=["clienten", "kapot"])


def test_write_csv_and_xlsx(cleaned, mine, tmp_path):
    t = kpi.kpi_table(cleaned, kpis=mine)
    kpi.write_kpis(t, tmp_path / "k.csv")
    back = pd.read_csv(tmp_path / "k.csv", dtype=str, keep_default_na=False)
    assert list(back.columns) == list(schema.KPI_COLUMNS)
    r = back[(back["kpi"] == "clienten") & (back["gemeente"] == "0983") & (back["periode"] == "2023")].iloc[0]
    assert (r["waarde"], r["onderdrukt"], r["voorlopig"]) == ("", "true", "false")
    r = back[(back["kpi"] == "kosten") & (back["gemeente"] == "0983") & (back["periode"] == "2023")
             & (back["dimensie"] == "")].iloc[0]
    assert r["waarde"] == "900.0"

    kpi.write_kpis(t, tmp_path / "k.xlsx", gemeenten=cleaned.gemeenten, params=P)
    wb = openpyxl.load_workbook(tmp_path / "k.xlsx")
    assert wb.sheetnames[:4] == ["Toelichting", "Volume", "Kosten", "Aanbieders en aandelen"]
    ws = wb["Volume"]
    head = [c.value for c in ws[1]]
    assert head == ["KPI", "KPI-id", "Indeling", "Categorie", "Regio", "Gemeentecode", "Gemeente", "Eenheid",
                    "2023", "2024 (voorlopig)"]
    rows = {(r[1], r[2], r[3], r[5]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    r = rows[("clienten", None, None, "0983")]
    assert r[0] == _common.REGISTRY["clienten"].label and r[6] == "Venlo" and r[8] == kpi.ONDERDRUKT_TEKEN
    assert rows[("clienten", None, None, "0984")][8] == 10
    toel = [c.value for c in wb["Toelichting"]["A"]]
    regios = sorted(set(t["regio"]) - {"Nederland"})
    assert f"Regio's in deze tabel: {fmt.lijst(regios)}, met Nederland (alle regio's in de gegevens samen) " \
           "als referentie." in toel
    with pytest.raises(Exception, match="csv of .xlsx"):
        kpi.write_kpis(t, tmp_path / "k.txt")


def test_xlsx_sheets_per_period_kind_and_dimension_columns(cleaned, mine, tmp_path):
    """A run with years and quarters gets a sheet per group and period kind; the
    dimension productgroep=GGZ is two columns (Indeling, Categorie)."""
    import dataclasses

    jaar = kpi.kpi_table(cleaned, kpis=mine)
    kw = kpi.kpi_table(cleaned.met_params(dataclasses.replace(cleaned.params, per="kwartaal")), kpis=mine)
    t = pd.concat([jaar, kw], ignore_index=True)
    kpi.write_kpis(t, tmp_path / "k.xlsx", gemeenten=cleaned.gemeenten, params=P)
    wb = openpyxl.load_workbook(tmp_path / "k.xlsx")
    assert "Volume (jaar)" in wb.sheetnames and "Volume (kw)" in wb.sheetnames
    assert "Aanbieders en aandelen (kw)" in wb.sheetnames
    assert all(len(n) <= 31 for n in wb.sheetnames)
    kop = [c.value for c in wb["Volume (kw)"][1]]
    assert kop[8:] and all("-Q" in k for k in kop[8:])
    dims = {(r[2], r[3]) for n in wb.sheetnames[1:] for r in wb[n].iter_rows(min_row=2, values_only=True)}
    assert all(s is None or "=" not in str(s) for s, _ in dims) and all(w is None or "=" not in str(w) for _, w in dims)
    assert any(s is not None for s, _ in dims)
    # every KPI sits on the sheet of its registry group: none on an "Overig" sheet
    assert not any(n.startswith("Overig") for n in wb.sheetnames)


def test_kpis_nl_csv_opens_as_columns_in_dutch_excel(cleaned, mine, tmp_path):
    """kpis_nl.csv: UTF-8 BOM, semicolons, decimal comma, Dutch label, ja/nee."""
    t = kpi.kpi_table(cleaned, kpis=mine)
    kpi.write_kpis(t, tmp_path / "k_nl.csv", nl=True)
    raw = (tmp_path / "k_nl.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(tmp_path / "k_nl.csv", sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(back.columns) == ["kpi", "omschrijving", "regio", "gemeente", "periode", "indeling", "categorie",
                                  "waarde", "eenheid", "voorlopig", "onderdrukt"]
    r = back[(back["kpi"] == "kosten") & (back["gemeente"] == "0983") & (back["periode"] == "2023")
             & (back["indeling"] == "")].iloc[0]
    assert r["waarde"] == "900" and r["omschrijving"] == _common.REGISTRY["kosten"].label
    r = back[(back["kpi"] == "clienten") & (back["gemeente"] == "0983") & (back["periode"] == "2023")].iloc[0]
    assert (r["waarde"], r["onderdrukt"], r["voorlopig"]) == ("", "ja", "nee")
    w = back.loc[back["waarde"] != "", "waarde"]
    assert not w.str.contains(r"[.eE]").any()
    een = t.iloc[[0]].assign(waarde=0.125)
    assert kpi.csv_nl_tekst(een).splitlines()[1].split(";")[7] == "0,125"
    assert kpi.csv_nl_tekst(een.assign(waarde=1e-05)).splitlines()[1].split(";")[7] == "0,00001"
    assert (w.str.replace(",", ".").astype(float).to_numpy()
            == t.loc[t["waarde"].notna(), "waarde"].to_numpy()).all()
    with pytest.raises(Exception, match="csv of .xlsx"):
        kpi.write_kpis(t, tmp_path / "k.txt")


def test_cli_kpi_on_processed_dataset(tmp_path, mine, capsys):
    dataset.save(_ds(), tmp_path / "ds")
    out = tmp_path / "kpis.csv"
    rc = cli.main(["kpi", str(tmp_path / "ds"), "--peildatum", "2024-08-01", "--start", "2023-01-01",
                   "--per", "kwartaal", "--out", str(out)])
    assert rc == 0
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "2023-Q1" in set(t["periode"]) and "2023" in set(t["periode"])  # quarters, plus per-year KPIs
    assert "KPI-rijen" in capsys.readouterr().err
    rc = cli.main(["kpi", str(tmp_path / "ds"), "--peildatum", "2024-08-01", "--no-suppression", "--quiet"])
    assert rc == 0
    csv = capsys.readouterr().out
    assert csv.startswith("kpi,regio,gemeente,periode,dimensie,waarde,eenheid,voorlopig,onderdrukt\n")
    assert ",true\n" not in csv  # nothing suppressed


def test_cli_bad_input_one_line(tmp_path, capsys):
    rc = cli.main(["kpi", str(tmp_path / "nope"), "--peildatum", "2024-13-01"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "peildatum" in err
    rc = cli.main(["kpi", str(tmp_path / "nope"), "--peildatum", "2024-08-01"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "niet gevonden" in err


def test_full_registry_runs(cleaned):
    """Every metric module present in the tree, together, on the small case."""
    t = kpi.kpi_table(cleaned)
    assert {"clienten", "kosten", "aandeel_nga"} <= set(t["kpi"])
    assert t["kpi"].notna().all() and t["voorlopig"].notna().all()
