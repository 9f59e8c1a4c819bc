"""The long KPI table (data-contract 3.1) and the ``jeugdlib kpi`` command (section 4).

``kpi_table(cleaned)`` evaluates every KPI of the registry
(:data:`jeugdlib.metrics._common.REGISTRY`: one function per KPI id, in the order of
:data:`jeugdlib.metrics.MODULES`) on the cleaned data in DuckDB, adds ``voorlopig``
(the period's last day is on or after the peildatum) and applies small-number
suppression (:func:`jeugdlib.privacy.suppress`). ``write_kpis`` writes it as CSV (the
contract's, or with ``nl`` the Dutch-Excel ``kpis_nl.csv``: semicolon, decimal comma,
BOM) or as Excel with one readable sheet per KPI group (declared in the registry) and
period kind, with the Dutch KPI label and the dimension in two columns.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, fmt, privacy, schema
from .config import Params
from .errors import JeugdlibError
from .metrics._common import registry

ROW_COLUMNS = ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", schema.KPI_N]

KOPPEN = {"label": "KPI", "kpi": "KPI-id", "dim_soort": "Indeling", "dim_waarde": "Categorie",
          "regio": "Regio", "gemeente": "Gemeentecode", "gemeentenaam": "Gemeente", "eenheid": "Eenheid"}
#: Period kinds in sheet order, with the suffix of their sheet name when a run has several
#: (short, so "Aanbieders en aandelen (kw)" fits Excel's 31 characters).
PERIODE_SOORTEN = {"jaar": "jaar", "kwartaal": "kw", "maand": "mnd"}
_SOORT_NAAM = {"jaar": "per jaar", "kwartaal": "per kwartaal", "maand": "per maand"}
ONDERDRUKT_TEKEN = "x"

#: Order of the Excel sheets (KPI groups declared in the registry); other groups follow.
GROEP_VOLGORDE = ["Volume", "Kosten", "Aanbieders en aandelen", "Verzilvering", "Verlenging en recidief",
                  "Zorgduur", "Trajecten", "Plekfinanciering", "Verwijzers en budget", "Verdeelsleutel",
                  "Prognose", "Sturing"]


# --------------------------------------------------------------------------- the table

def voorlopig(periode: pd.Series, peildatum) -> pd.Series:
    """True where the period ('2023', '2023-Q2', '2023-05') ends on or after the
    peildatum (metrics.md section 0)."""
    peil = pd.Timestamp(peildatum)
    p = pd.Series(periode).astype(schema.S)
    ends = {}
    for lab in p.dropna().unique():  # a handful of distinct labels
        try:
            ends[lab] = pd.Period(str(lab)).end_time.normalize() >= peil
        except (ValueError, TypeError) as exc:
            raise ValueError(f"onbekend periodelabel {lab!r} in de KPI-tabel") from exc
    return p.map(ends).fillna(False).astype(bool)


def kpi_rows(cleaned, kpis=None, *, voortgang: bool = False) -> pd.DataFrame:
    """Unsuppressed KPI rows (:data:`ROW_COLUMNS`) of the registered KPIs ``kpis``
    (ids; default all), evaluated on ``cleaned``, in registry order.

    One after another on the cleaned data's connection, so intermediate tables several
    KPIs share (:func:`jeugdlib.metrics._common.materialiseer`) are made once and serve
    the next period length too. DuckDB runs each query on all cores already: two
    threads of KPIs on their own connections were slower on the national demo (all
    KPIs per jaar: 56,5 s against 52,7 s in one), so there are none. Only slow Python
    work a metric module declares with a ``voorbereiden(cleaned)`` function (the
    forecast fits, :func:`jeugdlib.metrics.prognose.voorbereiden`) is started first, in
    a thread of its own, and runs while DuckDB computes the KPIs before it."""
    reg = registry()
    ids = [k for k in reg if kpis is None or k in kpis]
    for module in dict.fromkeys(reg[k].functie.__module__ for k in ids):
        voorbereiden = getattr(sys.modules[module], "voorbereiden", None)
        if voorbereiden is not None:
            voorbereiden(cleaned)
    bar = None
    if voortgang and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(ids), desc="kpi", unit="kpi", file=sys.stderr)
    parts = []
    for k in ids:
        d = reg[k]
        part = d.functie(cleaned)
        part.insert(0, "kpi", k)
        part["eenheid"] = d.eenheid
        parts.append(part[ROW_COLUMNS])
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype=schema.S) for c in ROW_COLUMNS})
    rows = pd.concat(parts, ignore_index=True)
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        rows[c] = rows[c].astype(schema.S).fillna("")
    rows["waarde"] = pd.to_numeric(rows["waarde"], errors="coerce").astype("float64")
    return rows


def afwerken(rows: pd.DataFrame, params: Params, *, suppression: bool = True) -> pd.DataFrame:
    """KPI rows -> the contract's table: ``voorlopig``, suppression, a stable order
    (registry order, then regio with Nederland last, gemeente, periode, dimensie)."""
    rows = rows.copy()
    rows["voorlopig"] = voorlopig(rows["periode"], params.peildatum).to_numpy()
    out = privacy.suppress(rows, params.klein_aantal, enabled=suppression)
    kpi_order = pd.Categorical(out["kpi"], categories=pd.unique(out["kpi"]), ordered=True)
    nl_last = (out["regio"] == "Nederland").to_numpy()
    order = np.lexsort((_rang(out["dimensie"]), _rang(out["periode"]), _rang(out["gemeente"]),
                        _rang(out["regio"]), nl_last, kpi_order.codes))
    return out.iloc[order].reset_index(drop=True)


def kpi_table(cleaned, *, suppression: bool = True, kpis=None, voortgang: bool = False) -> pd.DataFrame:
    """The long KPI table of data-contract 3.1 for every regio, gemeente and Nederland.

    Every registered KPI (or the ids in ``kpis``) on ``cleaned``
    (:func:`jeugdlib.clean.clean`), with ``voorlopig`` and small-number suppression
    with ``params.klein_aantal`` unless ``suppression`` is false. Columns:
    :data:`jeugdlib.schema.KPI_COLUMNS`."""
    return afwerken(kpi_rows(cleaned, kpis, voortgang=voortgang), cleaned.params,
                    suppression=suppression)


def verwerkt_pad(path, *, quiet: bool = True) -> Path:
    """The processed dataset for ``path``: itself when processed, else the processed
    copy of a raw dataset (ingested on first use, see :mod:`jeugdlib.dataset`)."""
    from . import dataset

    path = Path(path)
    if not dataset.is_processed(path):
        path = Path(dataset.open_dataset(path, quiet=quiet).path)
    return dataset.version_dir(path)  # one published version, resolved once


def _quarantaine_rijen(bron: Path) -> int:
    from . import dataset

    try:
        return len(dataset.read_table(dataset.table_path(bron, "quarantaine"), "quarantaine", columns=["regel"]))
    except Exception:  # noqa: BLE001 - a count for the summary only
        return 0


def _rang(s: pd.Series) -> np.ndarray:
    """Per value its rank among the distinct values in Python string order (what
    sorting the strings themselves gives), for ``np.lexsort`` on integers."""
    codes, uniq = pd.factorize(s.to_numpy(dtype=object))
    rang = np.empty(len(uniq), dtype=np.int64)
    rang[np.argsort(np.asarray(uniq, dtype=object), kind="stable")] = np.arange(len(uniq))
    return rang[codes]


# --------------------------------------------------------------------------- output

def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in ("voorlopig", "onderdrukt"):
        out[c] = np.where(out[c].fillna(False).astype(bool), "true", "false")
    out["waarde"] = out["waarde"].astype("float64")
    return out


def csv_tekst(df: pd.DataFrame) -> str:
    """The long table as CSV text (data-contract 3.1: comma, decimal point)."""
    return df.to_csv(index=False, lineterminator="\n")


def label_van(kpi: str) -> str:
    """The Dutch label of a KPI (registry ``label``), the id itself when unknown."""
    d = registry().get(kpi)
    return d.label if d is not None and d.label else kpi


def dimensie_delen(dimensie: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split ``name=value`` into (soort, waarde): ``productgroep=GGZ`` -> (productgroep, GGZ);
    an empty dimension gives two empty strings."""
    s = dimensie.astype(str).fillna("")
    delen = s.str.split("=", n=1, expand=True).reindex(columns=[0, 1]).astype(object).fillna("")
    return delen[0].astype(str), delen[1].astype(str)


def periode_soort(periode: str) -> str:
    """The kind of a period label: ``2023`` jaar, ``2023-Q2`` kwartaal, ``2023-05`` maand."""
    p = str(periode)
    if "-Q" in p:
        return "kwartaal"
    return "jaar" if len(p) == 4 else "maand"


def csv_nl_tekst(df: pd.DataFrame) -> str:
    """The long table for Dutch Excel (``kpis_nl.csv``): semicolon, decimal comma,
    ``ja``/``nee``, with the Dutch label and the dimension as two columns (soort,
    waarde). Written with a UTF-8 BOM (:func:`write_kpis`) so Excel reads é and ë.

    The contract's ``kpis.csv`` (comma, decimal point) opens as one column in a
    Dutch-locale Excel; this file opens as columns."""
    out = pd.DataFrame({"kpi": df["kpi"].astype(str)})
    out["omschrijving"] = out["kpi"].map({k: label_van(k) for k in pd.unique(out["kpi"])})
    out["regio"] = df["regio"].astype(str).to_numpy()
    out["gemeente"] = df["gemeente"].astype(str).to_numpy()
    out["periode"] = df["periode"].astype(str).to_numpy()
    soort, waarde = dimensie_delen(df["dimensie"])
    out["indeling"], out["categorie"] = soort.to_numpy(), waarde.to_numpy()
    w = pd.to_numeric(df["waarde"], errors="coerce").astype("float64")
    out["waarde"] = ["" if np.isnan(v) else np.format_float_positional(v, trim="-").replace(".", ",")
                     for v in w.to_numpy()]  # one per row: plain digits, never 1e-05
    out["eenheid"] = df["eenheid"].astype(str).to_numpy()
    for c in ("voorlopig", "onderdrukt"):
        out[c] = np.where(df[c].fillna(False).astype(bool).to_numpy(), "ja", "nee")
    return out.to_csv(index=False, sep=";", lineterminator="\r\n")


def groep_van(kpi: str) -> str:
    """Excel sheet (KPI group) of a KPI, as declared in the registry."""
    d = registry().get(kpi)
    return d.groep if d is not None else "Overig"


def write_kpis(df: pd.DataFrame, path, *, gemeenten: pd.DataFrame | None = None,
               params: Params | None = None, nl: bool = False) -> Path:
    """Write the KPI table to ``path``: ``.csv`` (the long table, data-contract 3.1:
    decimal point, ``true``/``false``, empty ``waarde`` when suppressed; with ``nl``
    the Dutch-Excel variant of :func:`csv_nl_tekst`) or ``.xlsx`` (one sheet per KPI
    group and period kind, periods as columns, Dutch headings and KPI labels;
    suppressed values shown as ``x``; ``gemeenten`` adds gemeentenamen)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise JeugdlibError("uitvoer moet eindigen op .csv of .xlsx", path=path)
    from .veilig import neutraliseer_frame  # no text may start a formula (data-contract 2.2)

    df = neutraliseer_frame(df)
    gemeenten = neutraliseer_frame(gemeenten) if gemeenten is not None else None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    if suffix == ".csv" and nl:
        tmp.write_text(csv_nl_tekst(df), encoding="utf-8-sig", newline="")
    elif suffix == ".csv":
        tmp.write_text(csv_tekst(_csv_frame(df)), encoding="utf-8", newline="")
    else:
        _write_xlsx(df, tmp, gemeenten=gemeenten, params=params)
    tmp.replace(path)
    return path


def _number_format(eenheid: str, values: np.ndarray) -> str:
    if eenheid == "fractie":
        return "0.0%"
    if eenheid == "euro":
        return "€ #,##0"
    if eenheid == "maanden":
        return "0.0"
    v = values[~np.isnan(values)]
    return "#,##0" if np.all(v == np.round(v)) else "#,##0.00"


def _blad_naam(groep: str, soort: str, meerdere: bool) -> str:
    """Sheet name: the KPI group, with the period kind when the table has several
    (Excel allows 31 characters)."""
    if not meerdere:
        return groep[:31]
    achter = f" ({PERIODE_SOORTEN.get(soort, soort)})"
    return groep[:31 - len(achter)] + achter


def _regios_regel(regio: pd.Series) -> str:
    """The Toelichting's line naming the regions of the table (a run for one region
    writes that region's table, with Nederland as reference)."""
    regios = sorted(str(r) for r in pd.unique(regio.astype(str)) if r and r != config.NEDERLAND)
    if not regios:
        return ""
    wie = fmt.lijst(regios) if len(regios) <= 6 else f"{len(regios)} regio's"
    nl = (f", met {config.NEDERLAND} (alle regio's in de gegevens samen) als referentie"
          if (regio.astype(str) == config.NEDERLAND).any() else "")
    return f"Regio's in deze tabel: {wie}{nl}."


def _write_xlsx(df: pd.DataFrame, path: Path, *, gemeenten=None, params=None) -> None:
    """The Excel workbook, written with xlsxwriter row by row (constant memory: a national
    table of a million rows is written in seconds, not minutes). Texts are written as
    texts only: never a formula, a link or a number (data-contract 2.2)."""
    import xlsxwriter

    d = df.copy()
    labels = {k: label_van(k) for k in pd.unique(d["kpi"].astype(str))}
    groepen_ = {k: groep_van(k) for k in labels}
    d["_groep"] = d["kpi"].astype(str).map(groepen_)
    d["label"] = d["kpi"].astype(str).map(labels)
    d["dim_soort"], d["dim_waarde"] = (x.to_numpy() for x in dimensie_delen(d["dimensie"]))
    d["_soort"] = d["periode"].astype(str).map({p: periode_soort(p) for p in pd.unique(d["periode"].astype(str))})
    names = {}
    if gemeenten is not None and len(gemeenten):
        names = dict(zip(gemeenten["gemeentecode"].astype(str), gemeenten["gemeentenaam"].astype(str)))
    d["gemeentenaam"] = d["gemeente"].astype(str).map(names).fillna("")
    d.loc[d["gemeente"].astype(str) == "", "gemeentenaam"] = ""
    d["_cel"] = d["waarde"].astype("float64").astype(object)
    d.loc[d["onderdrukt"].astype(bool).to_numpy(), "_cel"] = ONDERDRUKT_TEKEN
    vl = d.groupby("periode")["voorlopig"].any()
    soorten = [k for k in PERIODE_SOORTEN if k in set(d["_soort"])]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    opmaak = _Opmaak(wb)

    toel = wb.add_worksheet("Toelichting")
    toel.set_column(0, 0, 110)
    lines = [
        "KPI-tabel jeugdlib (definities: metrics.md; kolommen: data-contract 3.1)",
        f"Peildatum: {params.peildatum.isoformat()} (gegevens op of na deze dag tellen niet)" if params else "",
        f"Analyse vanaf: {params.start.isoformat()}" if params else "",
        _regios_regel(d["regio"]),
        "Eén blad per KPI-groep" + (" en periodesoort (" + ", ".join(
            f"({PERIODE_SOORTEN[k]}) = {_SOORT_NAAM[k]}" for k in soorten) + ")" if len(soorten) > 1 else "") +
        "; elke rij is een KPI voor een gemeente, een regio of Nederland "
        "(Gemeentecode leeg = regiototaal), elke kolom een periode.",
        "KPI = de Nederlandse naam, KPI-id = de naam in metrics.md en in kpis.csv. Indeling en Categorie: de "
        "uitsplitsing (bijvoorbeeld productgroep en GGZ); leeg = alle.",
        "(voorlopig) in een kolomkop: de periode is niet compleet vóór de peildatum.",
        f"{ONDERDRUKT_TEKEN} = onderdrukt: minder dan 10 cliënten (kleine aantallen, privacy).",
        "Leeg = geen waarde (bijvoorbeeld geen noemer in die periode).",
        "Bedragen in euro; fracties als percentage.",
    ]
    for i, line in enumerate(x for x in lines if x):
        toel.write_string(i, 0, line)

    aanwezig = list(dict.fromkeys(d["_groep"]))
    groups = [g for g in GROEP_VOLGORDE if g in aanwezig] + [g for g in aanwezig if g not in GROEP_VOLGORDE]
    idx_cols = ["label", "kpi", "dim_soort", "dim_waarde", "regio", "gemeente", "gemeentenaam", "eenheid"]
    for g in groups:
        for soort in soorten:
            sub = d[(d["_groep"] == g) & (d["_soort"] == soort)]
            if len(sub) == 0:
                continue
            _blad(wb, sub, _blad_naam(g, soort, len(soorten) > 1), idx_cols, vl, path, opmaak)
    wb.close()


class _Opmaak:
    """The cell formats of the workbook, each made once (xlsxwriter keeps one per use)."""

    def __init__(self, wb):
        self.wb = wb
        self.kop = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"})
        self.onderdrukt = wb.add_format({"align": "right"})
        self._getal: dict[str, object] = {}

    def getal(self, num_format: str):
        if num_format not in self._getal:
            self._getal[num_format] = self.wb.add_format({"num_format": num_format})
        return self._getal[num_format]


def _leeg(v) -> bool:
    """No value: the cell stays empty (not an empty text)."""
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v == ""


def _blad(wb, sub: pd.DataFrame, naam: str, idx_cols: list[str], vl: pd.Series, path: Path, opmaak: _Opmaak) -> None:
    """One sheet: a row per KPI x dimension x regio/gemeente, a column per period."""
    kpi_order = {k: i for i, k in enumerate(pd.unique(sub["kpi"]))}
    wide = (sub.groupby(idx_cols + ["periode"], sort=False, dropna=False)["_cel"].first()
            .unstack("periode").reset_index())
    wide.columns.name = None
    wide["_k"] = wide["kpi"].map(kpi_order)
    wide["_nl"] = wide["regio"] == "Nederland"
    wide = wide.sort_values(["_k", "dim_soort", "dim_waarde", "_nl", "regio", "gemeente"], kind="mergesort")
    pcols = sorted([c for c in wide.columns if c not in idx_cols + ["_k", "_nl"]])
    if len(wide) + 1 > 1_048_576:
        raise JeugdlibError(f"blad {naam} heeft meer rijen dan Excel toestaat; schrijf CSV", path=path)
    ws = wb.add_worksheet(naam)
    ws.freeze_panes(1, len(idx_cols))
    for i, w in enumerate([34, 24, 16, 22, 22, 13, 24, 9] + [16] * len(pcols)):
        ws.set_column(i, i, w)
    heads = [KOPPEN[c] for c in idx_cols] + [f"{p} (voorlopig)" if vl.get(p, False) else str(p) for p in pcols]
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, opmaak.kop)
    ws.autofilter(0, 0, len(wide), len(heads) - 1)
    vals = wide[pcols].to_numpy(dtype=object)
    n_idx = len(idx_cols)
    for r, rec in enumerate(wide[idx_cols].itertuples(index=False), start=1):  # one per output row
        row_vals = vals[r - 1]
        nums = np.array([v for v in row_vals if isinstance(v, float)], dtype="float64")
        getal = opmaak.getal(_number_format(rec.eenheid, nums))
        for j, v in enumerate(rec):
            if not _leeg(v):
                ws.write_string(r, j, str(v))
        for j, v in enumerate(row_vals, start=n_idx):
            if isinstance(v, float) and not np.isnan(v):
                ws.write_number(r, j, float(v), getal)
            elif v == ONDERDRUKT_TEKEN:
                ws.write_string(r, j, v, opmaak.onderdrukt)


# --------------------------------------------------------------------------- command

def _date(value, flag):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise JeugdlibError(f"{flag} {value!r} is geen datum JJJJ-MM-DD") from None


def main(args) -> int:
    """``jeugdlib kpi DATASET --peildatum ... [--start] [--per] [--out] [--no-suppression]``."""
    from .clean import clean

    quiet = bool(getattr(args, "quiet", False))
    t0 = time.perf_counter()
    peil = _date(args.peildatum, "--peildatum")
    start = _date(getattr(args, "start", None), "--start")
    if start is not None and start >= peil:
        raise JeugdlibError(f"--start {start} ligt niet vóór --peildatum {peil}")
    sturing = {k: getattr(args, k) for k in ("indexatie", "donut_band", "staffel_drempel", "staffel_korting",
                                             "doeljaar", "basisjaar", "top_n") if getattr(args, k, None) is not None}
    params = Params(peildatum=peil, start=start, per=getattr(args, "per", "jaar") or "jaar", **sturing)
    bron = verwerkt_pad(args.dataset, quiet=quiet)
    cleaned = clean(bron, params)
    n = cleaned.con.execute("SELECT (SELECT count(*) FROM toewijzingen) + (SELECT count(*) FROM declaraties)").fetchall()
    if n[0][0] == 0:
        raise JeugdlibError("geen bruikbare toewijzingen of declaraties vóór de peildatum", path=args.dataset)
    table = kpi_table(cleaned, suppression=not args.no_suppression, voortgang=not quiet)
    n_quarantaine = _quarantaine_rijen(bron)
    out = getattr(args, "out", None)
    if out:
        write_kpis(table, out, gemeenten=cleaned.gemeenten, params=params)
    else:
        sys.stdout.write(csv_tekst(_csv_frame(table)))
    if not quiet:
        _summary(n_quarantaine, cleaned, table, out, time.perf_counter() - t0)
    return 0


def _summary(q, cleaned, table, out, seconds) -> None:
    err = sys.stderr
    n_tw, n_dec = cleaned.con.execute(
        "SELECT (SELECT count(*) FROM toewijzingen), (SELECT count(*) FROM declaraties)").fetchall()[0]
    print(f"jeugdlib kpi: {n_tw:,} toewijzingen en {n_dec:,} "
          f"declaratieposten na opschonen; {q:,} records in quarantaine bij het inlezen.", file=err)
    tel = cleaned.telling
    for r in tel[tel["verwijderd"] > 0].itertuples(index=False):
        print(f"  {r.tabel}: {r.verwijderd:,} verwijderd ({r.omschrijving})", file=err)
    n_sup = int(table["onderdrukt"].astype(bool).sum())
    dest = out if out else "stdout"
    print(f"  {len(table):,} KPI-rijen ({n_sup:,} onderdrukt) naar {dest} in {seconds:.1f} s", file=err)
