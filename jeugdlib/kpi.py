"""The long KPI table (data-contract 3.1) and the ``jeugdlib kpi`` command (section 4).

``kpi_table(cleaned, params)`` collects the KPI rows of every metric module in
:data:`KPI_MODULES` that exists (each exposes ``kpis(cleaned, params)``), adds
``voorlopig`` (the period's last day is on or after the peildatum) and applies
small-number suppression (:func:`jeugdlib.privacy.suppress`). ``write_kpis``
writes it as CSV or as Excel with one readable sheet per KPI group.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import privacy, schema
from .config import Params
from .errors import JeugdlibError

#: Metric modules whose ``kpis(cleaned, params)`` make up the KPI table, in output
#: order. A module that does not exist (yet), or has no ``kpis``, is skipped; a
#: module that raises makes the table fail.
KPI_MODULES = [
    "jeugdlib.metrics.volume",
    "jeugdlib.metrics.kosten",
    "jeugdlib.metrics.aandelen",
    "jeugdlib.metrics.verzilvering",
    "jeugdlib.metrics.verlenging",
    "jeugdlib.metrics.zorgduur",
    "jeugdlib.metrics.trajecten",
    "jeugdlib.metrics.plek",
    "jeugdlib.metrics.verwijzer",
    "jeugdlib.metrics.budget",
    "jeugdlib.metrics.verdeelsleutel",
    "jeugdlib.forecast",
]

#: Columns of the declaration lines that no KPI reads (dropped by ``jeugdlib kpi``).
ONGEBRUIKT = ("bron", "declaratie_nr", "referentie_nr", "vorig_referentie_nr")

#: Columns ``jeugdlib kpi`` reads of a processed dataset (memory and time at national
#: scale): what cleaning and the KPI modules use; a table not named is read whole.
#: Of ``quarantaine`` only the number of rows is reported.
LEES_KOLOMMEN: dict[str, list[str]] = {
    "toewijzingen": [c for c in schema.TABLES["toewijzingen"] if c != "bron"],
    "declaraties": [c for c in schema.TABLES["declaraties"] if c not in ONGEBRUIKT],
    "start_stop": [c for c in schema.TABLES["start_stop"] if c != "bron"],
    "verzoeken": [c for c in schema.TABLES["verzoeken"] if c != "bron"],
    "quarantaine": ["regel"],
}

#: String columns ``jeugdlib kpi`` reads dictionary-encoded (pandas ``ArrowDtype``
#: of ``dictionary<string>``, as Parquet stores them): ``clean`` numbers them
#: through their dictionaries and decodes only the rows it keeps. At national
#: scale this spares materialising 14M 64-character client ids (about 0.6 GB) and
#: the low-cardinality codes; read + clean 1-2 CPU-seconds less (measured with
#: benchmarks/bench_kpi.py --modules and by A/B runs of read + clean).
LEES_WOORDENBOEK: dict[str, list[str]] = {
    "declaraties": ["client_id", "toewijzing_nr", "gemeentecode", "agb", "productcode", "productcategorie",
                    "eenheid"],
}

#: Columns of ``Cleaned.declaraties`` the KPI modules read; ``jeugdlib kpi`` drops the
#: others after cleaning (e.g. the 64-character client_id: the modules count
#: clients on ``client_nr``). Every KPI value is the same with or without them
#: (benchmarks/bench_kpi.py --check compares).
KPI_DECLARATIE_KOLOMMEN = (
    "toewijzing_nr", "client_nr", "agb", "gemeentecode", "regio", "productcode", "periode_begin", "maand",
    "eenheid", "volume", "bedrag_cent", "toewijzing_bekend", "productgroep", "financieringsvorm", "segment",
    "variant", "zwaarte", "aanbieder_type", "gecontracteerd",
)
#: Columns of the raw declaration lines kept in ``Cleaned.dataset`` for the KPIs
#: (verdeelsleutel counts lines received per gemeente and year).
KPI_RUWE_DECLARATIE_KOLOMMEN = ("gemeentecode", "periode_begin")

ROW_COLUMNS = ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", schema.KPI_N]

#: Excel sheets: KPI group -> the KPIs of metrics.md in it. KPIs not listed go to
#: the sheet of their module's group by prefix, else to "Overig".
GROEPEN: dict[str, list[str]] = {
    "Volume": ["clienten", "toewijzingen", "toewijzingen_gestart", "toewijzingen_per_client",
               "jeugdigen_met_jeugdhulp"],
    "Kosten": ["kosten", "kosten_per_client", "kosten_groei", "kosten_prognose_lineair",
               "kosten_prognose_seizoen"],
    "Aanbieders en aandelen": ["aanbieders", "aandeel_nga", "aandeel_variant", "aandeel_aanbiedertype",
                               "aandeel_top10", "aanbieders_klein", "aanbieders_een_client"],
    "Verzilvering": ["verzilvering", "toegewezen_bedrag", "gedeclareerd_bedrag"],
    "Verlenging en recidief": ["verlenging", "recidief"],
    "Zorgduur": ["duur_gem", "zorgduur_2jaar"],
    "Trajecten": ["zorgpaden", "zorgpaden_uniek", "zorgpaden_top5", "zorgpaden_meer_maatwerk",
                  "aandeel_pq_in_traject", "traject_kosten_ratio", "traject_volume_ratio"],
    "Plekfinanciering": ["plek_bezetting", "plek_maanden_aansluitend", "plek_kosten_per_client"],
    "Verwijzers en budget": ["verwijzer", "budget_uitnutting", "budget_prognose"],
}
_PREFIX_GROEP = [("verdeel", "Verdeelsleutel"), ("prognose", "Prognose"), ("kosten_prognose", "Prognose"), ("budget", "Verwijzers en budget"),
                 ("plek", "Plekfinanciering"), ("traject", "Trajecten"), ("zorgpad", "Trajecten")]

KOPPEN = {"kpi": "KPI", "dimensie": "Dimensie", "regio": "Regio", "gemeente": "Gemeentecode",
          "gemeentenaam": "Gemeente", "eenheid": "Eenheid"}
ONDERDRUKT_TEKEN = "x"


# --------------------------------------------------------------------------- the table

def kpi_modules() -> list:
    """The metric modules of :data:`KPI_MODULES` that exist and have ``kpis``."""
    mods = []
    for name in KPI_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        if callable(getattr(mod, "kpis", None)):
            mods.append(mod)
    return mods


def voorlopig(periode: pd.Series, peildatum) -> pd.Series:
    """True where the period ('2023', '2023-Q2', '2023-05') ends on or after the
    peildatum (metrics.md section 0)."""
    peil = pd.Timestamp(peildatum)
    p = pd.Series(periode).astype(schema.S)
    uniq = p.dropna().unique()
    ends = {}
    for lab in uniq:  # a handful of distinct labels
        try:
            ends[lab] = pd.Period(str(lab)).end_time.normalize() >= peil
        except (ValueError, TypeError) as exc:
            raise ValueError(f"onbekend periodelabel {lab!r} in de KPI-tabel") from exc
    return p.map(ends).fillna(False).astype(bool)


#: KPI modules that run in the same process when :func:`kpi_table` uses two
#: (``processen=2``), heaviest first: modules in one bundle share results cached
#: per frame (kosten, aandelen and budget: the integer-coded ``Werkset`` and column
#: codes of the declaration items; trajecten and verzilvering: the codes of the
#: toewijzing numbers), so splitting them would compute those twice. A module of
#: :data:`KPI_MODULES` not named here is a bundle of its own, at the end.
BUNDELS = [
    ("jeugdlib.forecast",),  # without a pool for its model fits
    ("jeugdlib.metrics.kosten", "jeugdlib.metrics.aandelen", "jeugdlib.metrics.budget"),
    ("jeugdlib.metrics.trajecten", "jeugdlib.metrics.verzilvering"),
    ("jeugdlib.metrics.volume",),
    ("jeugdlib.metrics.verlenging",),
    ("jeugdlib.metrics.verdeelsleutel",),
    ("jeugdlib.metrics.zorgduur",),
    ("jeugdlib.metrics.verwijzer",),
    ("jeugdlib.metrics.plek",),
]


def _bundels(mods: list, eigen: list) -> list[tuple]:
    """The modules of ``mods`` not in ``eigen`` grouped as in :data:`BUNDELS`."""
    names = [m.__name__ for m in mods if m.__name__ not in eigen]
    out = [tuple(n for n in b if n in names) for b in BUNDELS]
    out = [b for b in out if b]
    named = {n for b in out for n in b}
    return out + [(n,) for n in names if n not in named]


def _kpis_van(mods: dict, bundel: tuple, cleaned, params: Params, vrijgeven: bool = False) -> dict:
    """``kpis`` of the modules of ``bundel``; with ``vrijgeven`` the memory their
    intermediate results freed is handed back to the system afterwards (two
    processes at once: keeps their summed peak down)."""
    out = {name: mods[name].kpis(cleaned, params) for name in bundel}
    if vrijgeven:
        from .metrics import _common

        _common.clear_caches(codes=False)  # what the bundle's modules shared (kpi.BUNDELS), but the column codes
        geheugen_vrijgeven()
    return out


def _claim(teller, n: int):
    """The indexes of the bundles this process takes: the next unclaimed one from the
    shared counter ``teller`` (a ``multiprocessing.Value``), until all ``n`` are claimed."""
    while True:
        with teller.get_lock():
            i = teller.value
            teller.value += 1
        if i >= n:
            return
        yield i


def _tweede_proces(conn, teller, mods, bundels, cleaned, params) -> None:  # pragma: no cover - runs in a fork
    """The forked second process of :func:`_parallel`: claims bundles from the shared
    ``teller`` and sends each result as (index, {module: rows}); a failing bundle is
    sent as (index, None) and the parent computes it (and raises) itself."""
    try:
        for i in _claim(teller, len(bundels)):
            try:
                res = _kpis_van(mods, bundels[i], cleaned, params, vrijgeven=True)
            except BaseException:
                res = None
            conn.send((i, res))
    finally:
        conn.close()


def _parallel(mods: dict, bundels: list, cleaned, params: Params, eigen_werk) -> dict:
    """Run the ``bundels`` in this process and one forked process, each claiming the
    next bundle when free (heaviest first), after ``eigen_werk()`` here (starting
    the forecast's model fits in their pool). The fork shares ``cleaned``
    copy-on-write: nothing is pickled but the KPI rows coming back. Whatever the
    second process does not deliver (it failed or died) is computed here, so the
    result is always the same as in one process.
    """
    import multiprocessing
    import threading

    ctx = multiprocessing.get_context("fork")
    teller = ctx.Value("i", 0)
    ontvang, zend = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_tweede_proces, args=(zend, teller, mods, bundels, cleaned, params), daemon=True)
    proc.start()
    zend.close()
    results: dict[int, dict] = {}
    van_kind: dict[int, dict] = {}

    def lees():  # drain the pipe as results come (a full pipe would block the second process)
        try:
            while True:
                i, res = ontvang.recv()
                if res is not None:
                    van_kind[i] = res
        except (EOFError, OSError):  # the second process is done (or died)
            pass

    lezer = threading.Thread(target=lees, daemon=True)
    lezer.start()
    t0 = time.perf_counter()
    try:
        eigen_werk()
        for i in _claim(teller, len(bundels)):
            results[i] = _kpis_van(mods, bundels[i], cleaned, params, vrijgeven=True)
        # The second process has at most its last bundle to finish; should it hang
        # (e.g. a lock another thread held at the fork), stop it and compute here.
        lezer.join(timeout=max(WACHT_MINIMAAL, 3 * (time.perf_counter() - t0)))
    finally:
        if lezer.is_alive():  # still busy or hanging: not waited for any longer
            proc.terminate()
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover
            proc.kill()
        ontvang.close()
        lezer.join(timeout=5)  # the reader stops at the closed pipe
    results.update(dict(van_kind))
    for i, bundel in enumerate(bundels):  # not delivered: compute here (raises as usual)
        if i not in results:
            results[i] = _kpis_van(mods, bundel, cleaned, params)
    return {name: part for res in results.values() for name, part in res.items()}


#: Seconds the main process waits at least for the forked process after finishing its
#: own bundles (otherwise three times its own time), before computing the rest itself.
WACHT_MINIMAAL = 120.0


def _kan_forken() -> bool:
    """Whether :func:`kpi_table` can use a forked second process: Linux (fork is
    the safe, cheap default there) with at least two cores."""
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) >= 2


def kpi_table(cleaned, params: Params, *, suppression: bool = True, pool=None,
              processen: int = 1) -> pd.DataFrame:
    """The long KPI table of data-contract 3.1 for every regio, gemeente and Nederland.

    Concatenates ``kpis(cleaned, params)`` of every available metric module (in
    :data:`KPI_MODULES` order), adds ``voorlopig`` and applies small-number
    suppression with ``params.klein_aantal`` unless ``suppression`` is false.
    Columns: :data:`jeugdlib.schema.KPI_COLUMNS`.

    ``pool``: a ``concurrent.futures`` process pool; modules with ``kpis_start``
    (the forecast) then start their model fits in it first and finish in their
    place, so the fits run beside the other modules. ``processen=2`` (Linux):
    the modules are shared between this process and a forked one
    (:data:`BUNDELS`). The table is the same either way.
    """
    mods = kpi_modules()
    by_name = {m.__name__: m for m in mods}
    # with a pool: modules with kpis_start start their work in it first, here
    eigen = [m.__name__ for m in mods if pool is not None and callable(getattr(m, "kpis_start", None))]
    started = {}

    def start_eigen():
        for name in eigen:
            started[name] = by_name[name].kpis_start(cleaned, params, pool=pool)

    bundels = _bundels(mods, eigen)
    if processen >= 2 and len(bundels) >= 2 and _kan_forken():
        res = _parallel(by_name, bundels, cleaned, params, start_eigen)
    else:
        start_eigen()
        res = {}
        for b in bundels:
            res.update(_kpis_van(by_name, b, cleaned, params))
    res.update({name: finish() for name, finish in started.items()})
    parts = []
    for mod in mods:
        part = res[mod.__name__]
        missing = [c for c in ROW_COLUMNS if c not in part.columns]
        if missing:
            raise ValueError(f"{mod.__name__}.kpis mist kolommen {missing}")
        parts.append(part[ROW_COLUMNS])
    if not parts:
        return schema.empty("kpi")
    rows = pd.concat(parts, ignore_index=True)
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        rows[c] = rows[c].astype(schema.S).fillna("")
    rows["waarde"] = pd.to_numeric(rows["waarde"], errors="coerce").astype("float64")
    rows["voorlopig"] = voorlopig(rows["periode"], params.peildatum).to_numpy()
    out = privacy.suppress(rows, params.klein_aantal, enabled=suppression)
    # stable order: module/kpi order of appearance, then regio, gemeente, periode, dimensie
    kpi_order = pd.Categorical(out["kpi"], categories=pd.unique(out["kpi"]), ordered=True)
    nl_last = (out["regio"] == "Nederland").to_numpy()
    order = np.lexsort((_rang(out["dimensie"]), _rang(out["periode"]), _rang(out["gemeente"]),
                        _rang(out["regio"]), nl_last, kpi_order.codes))
    return out.iloc[order].reset_index(drop=True)


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


_CSV_SPECIAAL = (",", '"', "\n", "\r")


def _csv_veld(values: list) -> list:
    """Fields as the ``csv`` module writes them (QUOTE_MINIMAL): quoted, with inner
    quotes doubled, when they hold a comma, quote or line break."""
    if not any(ch in v for v in set(values) for ch in _CSV_SPECIAAL):
        return values
    return ['"' + v.replace('"', '""') + '"' if any(ch in v for ch in _CSV_SPECIAAL) else v for v in values]


def csv_tekst(df: pd.DataFrame) -> str:
    """``df.to_csv(index=False, lineterminator="\\n")``, byte for byte (floats as numpy
    writes them, missing as empty, minimal quoting), but joined per column instead
    of through the ``csv`` module: at national scale (~230,000 KPI rows) a few
    tenths of a second instead of about a second."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(df.columns) == 1:  # the csv module quotes a lone empty field: leave that to pandas
        return df.to_csv(index=False, lineterminator="\n")
    cols = []
    for c in df.columns:
        s = df[c]
        data = getattr(s.array, "_pa_array", None)
        if s.dtype == np.float64:  # never quoted
            v = s.to_numpy()
            vals = list(map(repr, v.tolist()))  # what pandas writes (numpy's str of a float64 is its repr)
            for i in np.flatnonzero(np.isnan(v)).tolist():
                vals[i] = ""
            cols.append(vals)
            continue
        if data is not None and (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
            data = pc.fill_null(data, "")  # Arrow strings: straight to a list, checked in Arrow
            vals = data.to_pylist()
            if not len(data) or not pc.any(pc.match_substring_regex(data, '[,"\r\n]')).as_py():
                cols.append(vals)
                continue
        else:
            a = s.astype(object).to_numpy(dtype=object, na_value="")
            a = a.astype(str).astype(object) if len(a) and not all(isinstance(x, str) for x in set(a.tolist())) else a
            vals = a.tolist()
        cols.append(_csv_veld(vals))
    kop = ",".join(_csv_veld([str(c) for c in df.columns]))
    return "\n".join([kop, *map(",".join, zip(*cols))]) + "\n"


def groep_van(kpi: str) -> str:
    """Excel sheet (KPI group) of a KPI."""
    for g, kpis_ in GROEPEN.items():
        if kpi in kpis_:
            return g
    for prefix, g in _PREFIX_GROEP:
        if kpi.startswith(prefix):
            return g
    return "Overig"


def write_kpis(df: pd.DataFrame, path, *, gemeenten: pd.DataFrame | None = None,
               params: Params | None = None) -> Path:
    """Write the KPI table to ``path``: ``.csv`` (the long table, data-contract 3.1:
    decimal point, ``true``/``false``, empty ``waarde`` when suppressed) or
    ``.xlsx`` (one sheet per KPI group, periods as columns, Dutch headings;
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
    if suffix == ".csv":
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


def _write_xlsx(df: pd.DataFrame, path: Path, *, gemeenten=None, params=None) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    d = df.copy()
    d["_groep"] = [groep_van(k) for k in d["kpi"].astype(str)]  # one per row of the output table
    names = {}
    if gemeenten is not None and len(gemeenten):
        names = dict(zip(gemeenten["gemeentecode"].astype(str), gemeenten["gemeentenaam"].astype(str)))
    d["gemeentenaam"] = d["gemeente"].astype(str).map(names).fillna("")
    d.loc[d["gemeente"].astype(str) == "", "gemeentenaam"] = ""
    d["_cel"] = d["waarde"].astype("float64").astype(object)
    d.loc[d["onderdrukt"].astype(bool).to_numpy(), "_cel"] = ONDERDRUKT_TEKEN
    vl = d.groupby("periode")["voorlopig"].any()
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")

    toel = wb.create_sheet("Toelichting")
    toel.column_dimensions["A"].width = 110
    lines = [
        "KPI-tabel jeugdlib (definities: metrics.md; kolommen: data-contract 3.1)",
        f"Peildatum: {params.peildatum.isoformat()} (gegevens op of na deze dag tellen niet)" if params else "",
        f"Analyse vanaf: {params.start.isoformat()}, per {params.per}" if params else "",
        "Eén blad per KPI-groep; elke rij is een KPI voor een gemeente, een regio of Nederland "
        "(Gemeentecode leeg = regiototaal), elke kolom een periode.",
        "(voorlopig) in een kolomkop: de periode is niet compleet vóór de peildatum.",
        f"{ONDERDRUKT_TEKEN} = onderdrukt: minder dan 10 cliënten (kleine aantallen, privacy).",
        "Leeg = geen waarde (bijvoorbeeld geen noemer in die periode).",
        "Bedragen in euro; fracties als percentage.",
    ]
    for line in lines:
        if line:
            toel.append([line])

    groups = [g for g in list(GROEPEN) + ["Verdeelsleutel", "Prognose", "Overig"] if (d["_groep"] == g).any()]
    idx_cols = ["kpi", "dimensie", "regio", "gemeente", "gemeentenaam", "eenheid"]
    for g in groups:
        sub = d[d["_groep"] == g]
        kpi_order = {k: i for i, k in enumerate(pd.unique(sub["kpi"]))}
        wide = (sub.groupby(idx_cols + ["periode"], sort=False, dropna=False)["_cel"].first()
                .unstack("periode").reset_index())
        wide.columns.name = None
        wide["_k"] = wide["kpi"].map(kpi_order)
        wide["_nl"] = wide["regio"] == "Nederland"
        wide = wide.sort_values(["_k", "dimensie", "_nl", "regio", "gemeente"], kind="mergesort")
        pcols = sorted([c for c in wide.columns if c not in idx_cols + ["_k", "_nl"]])
        if len(wide) + 1 > 1_048_576:
            raise JeugdlibError(f"blad {g} heeft meer rijen dan Excel toestaat; schrijf CSV", path=path)
        ws = wb.create_sheet(g[:31])
        ws.freeze_panes = "G2"
        widths = [26, 34, 22, 13, 24, 9] + [16] * len(pcols)
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        heads = [KOPPEN[c] for c in idx_cols] + [f"{p} (voorlopig)" if vl.get(p, False) else str(p) for p in pcols]
        hrow = []
        for h in heads:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            c.fill = fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
            hrow.append(c)
        ws.append(hrow)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{len(wide) + 1}"
        vals = wide[pcols].to_numpy(dtype=object)
        for r, rec in enumerate(wide[idx_cols].itertuples(index=False)):  # one per output row
            row_vals = vals[r]
            nums = np.array([v for v in row_vals if isinstance(v, float)], dtype="float64")
            fmt = _number_format(rec.eenheid, nums)
            cells = list(rec)
            for v in row_vals:
                if isinstance(v, float) and not np.isnan(v):
                    c = WriteOnlyCell(ws, value=float(v))
                    c.number_format = fmt
                    cells.append(c)
                elif v == ONDERDRUKT_TEKEN:
                    c = WriteOnlyCell(ws, value=v)
                    c.alignment = Alignment(horizontal="right")
                    cells.append(c)
                else:
                    cells.append(None)
            ws.append(cells)
    wb.save(path)


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
    params = Params(peildatum=peil, start=start, per=getattr(args, "per", "jaar") or "jaar")
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise JeugdlibError(f"--workers {workers}: minstens 1")
    ds = lees_dataset(args.dataset, quiet=quiet)
    groot = len(ds.declaraties) >= GROOT
    pool = _werker() if groot and workers != 1 else None
    try:
        cleaned = clean(ds, params, declaratie_kolommen=KPI_DECLARATIE_KOLOMMEN, ruw_vrijgeven=True)
        n_quarantaine = len(ds.quarantaine)
        del ds
        licht_maken(cleaned)
        if len(cleaned.toewijzingen) == 0 and len(cleaned.declaraties) == 0:
            raise JeugdlibError("geen bruikbare toewijzingen of declaraties vóór de peildatum", path=args.dataset)
        geheugen_vrijgeven()
        processen = min(workers, 2) if workers is not None else (2 if groot else 1)
        table = kpi_table(cleaned, params, suppression=not args.no_suppression, pool=pool, processen=processen)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    out = getattr(args, "out", None)
    if out:
        write_kpis(table, out, gemeenten=cleaned.gemeenten, params=params)
    else:
        sys.stdout.write(csv_tekst(_csv_frame(table)))
    if not quiet:
        _summary(n_quarantaine, cleaned, table, out, time.perf_counter() - t0)
    return 0


#: From this many declaration lines on, ``jeugdlib kpi`` fits the forecast models in a
#: separate process and shares the other KPI modules with a forked second process
#: (the machine has at least two cores); below it the start-up is not worth it.
GROOT = 1_000_000


def geheugen_vrijgeven() -> None:
    """Hand memory that freed objects left in the allocators back to the system
    (pyarrow's pool and glibc's heap): after cleaning, about 1 GB at national
    scale, which a forked process would otherwise share as dead weight."""
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass


def _hoofd_veilig() -> bool:
    """Whether a spawned process may import this process's ``__main__``: true for the
    ``jeugdlib`` command (console script or ``python -m jeugdlib.cli``), whose main
    module only runs under ``if __name__ == "__main__"``. A spawned worker imports
    the main module again, which would rerun an unguarded script."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", "") == "jeugdlib.cli":
        return True
    return Path(getattr(main, "__file__", "") or "").name == "jeugdlib"


def _werker():
    """A one-process pool (spawned: nothing of this process is copied) that has
    already started importing the forecast models; None when that fails or when
    it is not safe (see :func:`_hoofd_veilig`)."""
    try:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from . import forecast

        if (os.cpu_count() or 1) < 2 or not _hoofd_veilig():
            return None
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        pool.submit(forecast._warm)
        return pool
    except (ImportError, OSError, ValueError):  # pragma: no cover - no processes on this platform
        return None


def _lees_tabel(path: Path, table: str, columns: list[str] | None) -> pd.DataFrame:
    """One table of a processed dataset, only ``columns`` (None: all), canonical dtypes."""
    from .dataset import read_table

    f = path / f"{table}.parquet"
    if columns is None or not f.exists():
        df = read_table(f, table)
        return df if columns is None else df[[c for c in columns if c in df.columns]]
    import pyarrow.parquet as pq

    present = set(pq.read_schema(f).names)
    woordenboek = [c for c in LEES_WOORDENBOEK.get(table, ()) if c in present and c in columns]
    df = pd.read_parquet(f, columns=[c for c in columns if c in present], dtype_backend="pyarrow",
                         read_dictionary=woordenboek or None)
    out = {}
    for c in df.columns:
        s, t = df[c], schema.TABLES[table][c]
        if c in woordenboek:
            pass  # dictionary-encoded strings, as read
        elif t == schema.D:
            s = pd.Series(s.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")), name=c) \
                if s.dtype != schema.D else s
        elif s.dtype != pd.api.types.pandas_dtype(t):
            if t == schema.S and schema._is_arrow_string(s.dtype):
                s = pd.Series(pd.arrays.ArrowStringArray(s.array._pa_array), name=c)  # zero-copy
            else:
                s = s.astype(t)
        out[c] = s
    res = pd.DataFrame(out)
    for c in columns:  # absent from the file: empty, as schema.conform would add it
        if c not in res.columns:
            t = schema.TABLES[table][c]
            res[c] = pd.Series(pd.NaT if t == schema.D else pd.NA, index=pd.RangeIndex(len(res)), dtype=t)
    return res[columns]


def lees_dataset(path, *, quiet: bool = True):
    """The dataset for ``jeugdlib kpi``: a processed one with only the columns of
    :data:`LEES_KOLOMMEN` (wide strings nothing reads, e.g. ``bron``, stay on disk);
    a raw one through :func:`jeugdlib.dataset.open_dataset` (ingested on the fly)."""
    from .dataset import Dataset, is_processed, open_dataset

    path = Path(path).resolve()  # a processed dataset: its current version, once (dataset.version_dir)
    if not is_processed(path):
        ds = open_dataset(path, quiet=quiet)
        ds.declaraties = ds.declaraties.drop(columns=[c for c in ONGEBRUIKT if c in ds.declaraties.columns])
        ds.toewijzingen = ds.toewijzingen.drop(columns=[c for c in ("bron",) if c in ds.toewijzingen.columns])
        return ds
    # one table after the other: pyarrow decodes each in its own threads already (reading
    # the tables in a thread pool as well measured no faster)
    return Dataset(**{t: _lees_tabel(path, t, LEES_KOLOMMEN.get(t)) for t in Dataset.table_names()}, path=path)


def licht_maken(cleaned) -> None:
    """Drop what no KPI module reads from ``cleaned`` (in place; memory): the
    declaration columns outside :data:`KPI_DECLARATIE_KOLOMMEN` and, of the raw
    dataset, all but the columns of :data:`KPI_RUWE_DECLARATIE_KOLOMMEN` of its
    declaration lines. For ``jeugdlib kpi`` only: reports need the full Cleaned."""
    import dataclasses

    d = cleaned.declaraties
    cleaned.declaraties = d[[c for c in d.columns if c in KPI_DECLARATIE_KOLOMMEN]]
    ds = cleaned.dataset
    if ds is not None:
        raw = ds.declaraties
        leeg = {t: getattr(ds, t).iloc[0:0] for t in ("toewijzingen", "start_stop", "verzoeken", "quarantaine")}
        cleaned.dataset = dataclasses.replace(
            ds, declaraties=raw[[c for c in raw.columns if c in KPI_RUWE_DECLARATIE_KOLOMMEN]], **leeg)


def _summary(q, cleaned, table, out, seconds) -> None:
    err = sys.stderr
    print(f"jeugdlib kpi: {len(cleaned.toewijzingen):,} toewijzingen en {len(cleaned.declaraties):,} "
          f"declaratieposten na opschonen; {q:,} records in quarantaine bij het inlezen.", file=err)
    tel = cleaned.telling
    for r in tel[tel["verwijderd"] > 0].itertuples(index=False):
        print(f"  {r.tabel}: {r.verwijderd:,} verwijderd ({r.omschrijving})", file=err)
    n_sup = int(table["onderdrukt"].astype(bool).sum())
    dest = out if out else "stdout"
    print(f"  {len(table):,} KPI-rijen ({n_sup:,} onderdrukt) naar {dest} in {seconds:.1f} s", file=err)
