"""``jeugdlib reports``: the quarterly run (reports.md, "The quarterly run").

1. Open the dataset once (a raw dataset is ingested here, up front), pick the
   quarter (default: the last complete quarter in the data) and set the
   peildatum to the day after it.
2. Compute once, in DuckDB, what every notebook reads (:func:`run_tabellen`): the
   cleaned tables (of the run's regions), the KPI rows per year (unsuppressed, with
   their client basis, of every region), stored in ``<out>/_data``.
3. Run every report notebook of ``notebooks/reports/`` for every region with
   papermill, in parallel worker processes, each reusing its kernel for a dozen
   notebooks (names cleared between them: :func:`_schoon_kernel`); each notebook reads
   only its region's rows of the stored tables, so memory does not grow with the
   number of regions. Each executed notebook is converted to HTML without code.
   Meanwhile a thread computes the KPI rows per quarter, which no notebook reads, and
   writes ``kpis.csv``, ``kpis_nl.csv`` and ``kpis.xlsx`` (:class:`_KpiBestanden`).
4. Write ``index.html`` (links and run status) and ``run.json`` (parameters, package
   versions, git commit, time per notebook).

One failing notebook does not stop the rest: its executed notebook is kept, the
index marks it, and the command exits with status 1 at the end.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import html
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from . import __version__, config, fmt
from .config import Params
from .errors import JeugdlibError

#: The report set of reports.md, in index order, with their Dutch titles.
RAPPORTEN: dict[str, str] = {
    "kostenontwikkeling": "Kostenontwikkeling",
    "trajecten": "Trajecten",
    "verzilvering": "Verzilvering (P*Q)",
    "plekfinanciering": "Plekfinanciering",
    "prognose": "Prognose",
    "regiovergelijking": "Regiovergelijking",
    "datakwaliteit": "Datakwaliteit",
    "sturing": "Sturing op budgetplafonds",
}

#: Sturing parameters (metrics.md section 11) a run passes to the KPIs and the Sturing notebook.
STURING = ("indexatie", "donut_band", "staffel_drempel", "staffel_korting", "doeljaar", "basisjaar", "top_n")

#: MIME type of the key-numbers output of a report (jeugdlib.rapport.laden): not rendered.
KERN_MIME = "application/vnd.jeugdlib.kerncijfers+json"

#: Seconds a single notebook cell may run before the notebook counts as failed.
CELL_TIMEOUT = 900

PAKKETTEN = ("pandas", "numpy", "pyarrow", "statsmodels", "scipy", "matplotlib", "seaborn",
             "papermill", "nbconvert", "nbclient", "ipykernel", "openpyxl", "lxml")


@dataclasses.dataclass
class Taak:
    """One notebook run: a report for a region."""

    rapport: str
    regio: str
    notebook: Path
    uit_ipynb: Path
    uit_html: Path
    parameters: dict
    titel: str


@dataclasses.dataclass
class Uitkomst:
    """What happened to a :class:`Taak`."""

    rapport: str
    regio: str
    ok: bool
    seconden: float
    fout: str = ""
    html: str = ""
    notebook: str = ""


# --------------------------------------------------------------------------- data


def laatste_datum(verwerkt: Path) -> dt.date:
    """The last day the data covers: the latest declared period end or toewijzing version."""
    from . import engine

    con = engine.connect()
    engine.laad(con, verwerkt)
    d = con.execute("""SELECT greatest((SELECT max(periode_eind) FROM ruw_declaraties),
                                       (SELECT max(periode_begin) FROM ruw_declaraties),
                                       (SELECT max(versie_ts)::DATE FROM ruw_toewijzingen))""").fetchall()[0][0]
    con.close()
    if d is None:
        raise JeugdlibError("geen bruikbare records: kan geen kwartaal kiezen", path=verwerkt)
    return pd.Timestamp(d).date()


def laatste_volledige_kwartaal(verwerkt: Path) -> str:
    """The last quarter that lies completely within the data, e.g. "2024Q2".

    A quarter is complete when the data reaches its last day; otherwise the
    quarter before the one holding the last date is taken.
    """
    d = laatste_datum(verwerkt)
    label = fmt.kwartaal_label(d)
    _, na = fmt.kwartaal(label)
    if d == na - dt.timedelta(days=1):
        return label
    begin, _ = fmt.kwartaal(label)
    return fmt.kwartaal_label(begin - dt.timedelta(days=1))


def snapshot(path: Path) -> dict:
    """Identify a processed dataset: its path, newest table time and a content hash.

    The hash is SHA-256 over the Parquet files' names and bytes (first 12 hex
    digits), so two runs on the same data name the same snapshot.
    """
    import hashlib

    path = Path(path)
    h = hashlib.sha256()
    newest = 0.0
    for p in sorted(path.glob("*.parquet")):
        h.update(p.name.encode())
        with open(p, "rb") as fh:
            for blok in iter(lambda: fh.read(1 << 20), b""):
                h.update(blok)
        newest = max(newest, p.stat().st_mtime)
    return {
        "pad": str(path),
        "hash": h.hexdigest()[:12],
        "bijgewerkt": dt.datetime.fromtimestamp(newest).isoformat(timespec="seconds") if newest else "",
    }


def git_commit() -> dict:
    """The git commit of the project and whether the working tree has changes (read-only)."""
    def git(*a):
        return subprocess.run(["git", *a], cwd=config.PROJ_ROOT, capture_output=True, text=True,
                              timeout=20)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "gewijzigd": None}
        status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "gewijzigd": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "gewijzigd": None}


def versies() -> dict:
    """Versions of Python, jeugdlib and the packages the reports depend on."""
    from importlib import metadata

    out = {"python": platform.python_version(), "jeugdlib": __version__}
    for p in PAKKETTEN:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


# --------------------------------------------------------------------------- one notebook


def _html_exporter():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = ("injected-parameters", "parameters", "verberg")
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.exclude_anchor_links = True
    c.HTMLExporter.language_code = "nl"
    sjabloon = Path(__file__).resolve().parent / "rapport" / "sjabloon"
    return HTMLExporter(config=c, extra_template_basedirs=[str(sjabloon)], template_name="jeugdlib")


def notebook_naar_html(nb_path: Path, html_path: Path, titel: str) -> None:
    """Convert an executed notebook to HTML for readers: no code, no parameters cell,
    no warnings (stderr), no key-numbers output."""
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                               and KERN_MIME not in o.get("data", {})]
    nb.metadata["title"] = titel
    body, _ = _html_exporter().from_notebook_node(nb, resources={"metadata": {"name": titel}})
    html_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = html_path.with_name(f".{html_path.name}.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, html_path)


def _worker_init(logbestand: str | None = None) -> None:
    # Kernel chatter (stderr of the worker and its kernels) goes to a log file,
    # so the terminal shows only the progress bar and failures.
    if logbestand:
        fd = os.open(logbestand, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    # One BLAS/OpenMP thread per kernel: the parallelism is over notebooks.
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, "1")
    # A kernel reads one region's stored rows: a small DuckDB memory ceiling keeps the
    # process tree of the run bounded whatever the number of regions.
    os.environ.setdefault("JEUGDLIB_GEHEUGEN", "1500MB")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import atexit

    atexit.register(_stop_kernel)  # the worker's reused kernel goes with the worker


#: A worker reuses its kernel for this many notebooks, then starts a fresh one. Starting a
#: kernel and importing jeugdlib, pandas, DuckDB and matplotlib costs about 2 s, longer
#: than some reports take; a fresh kernel now and then hands back memory a long-lived
#: Python process keeps.
KERNEL_HERGEBRUIK = 12

_kernel: dict = {"km": None, "gebruikt": 0}


def _schoon_kernel(cwd: Path):
    """This worker's kernel for the next notebook: the one it has, its variables cleared
    (``%reset -f``, so no notebook sees another's names), or a fresh one when there is
    none, it died, or it ran :data:`KERNEL_HERGEBRUIK` notebooks."""
    from jupyter_client.manager import KernelManager

    class _KernelManager(KernelManager):
        """Remembers the clients made for it: nbclient leaves a client it did not
        start the kernel for connected, and each would keep receiving (and queueing)
        every output of the kernel's next notebooks; :func:`_sluit_clients` closes them."""

        def client(self, **kw):
            kc = super().client(**kw)
            _kernel.setdefault("clients", []).append(kc)
            return kc

    km = _kernel["km"]
    if km is not None and (not km.is_alive() or _kernel["gebruikt"] >= KERNEL_HERGEBRUIK):
        _stop_kernel()
        km = None
    if km is None:
        km = _KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        _kernel.update(km=km, gebruikt=0)
    else:
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            kc.execute_interactive("get_ipython().run_line_magic('reset', '-f')\nimport gc; gc.collect()",
                                   timeout=60, output_hook=lambda msg: None)
        finally:
            kc.stop_channels()
    _kernel["gebruikt"] += 1
    return km


def _sluit_clients() -> None:
    """Close the connections to this worker's kernel made for the last notebook."""
    for kc in _kernel.pop("clients", []):
        try:
            kc.stop_channels()
        except Exception:  # noqa: BLE001 - a closed client needs no closing
            pass


def _stop_kernel() -> None:
    _sluit_clients()
    km = _kernel["km"]
    _kernel.update(km=None, gebruikt=0)
    if km is not None:
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a dead kernel needs no shutdown
            pass


def draai_notebook(taak: Taak, *, hergebruik: bool = False) -> Uitkomst:
    """Execute one report notebook with papermill and convert it to HTML.

    ``hergebruik``: run it in this worker process's kernel (:func:`_schoon_kernel`)
    instead of a kernel of its own; after a failure that kernel is stopped, so the next
    notebook starts clean. Never raises: a failure is returned in :class:`Uitkomst`
    (the executed notebook, with the error in it, is kept at ``taak.uit_ipynb``).
    """
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    taak.uit_ipynb.parent.mkdir(parents=True, exist_ok=True)
    try:
        extra = {"km": _schoon_kernel(taak.notebook.parent)} if hergebruik else {}
        pm.execute_notebook(
            str(taak.notebook), str(taak.uit_ipynb), parameters=taak.parameters,
            kernel_name="python3", cwd=str(taak.notebook.parent), progress_bar=False,
            log_output=False, execution_timeout=CELL_TIMEOUT, **extra,
        )
        notebook_naar_html(taak.uit_ipynb, taak.uit_html, taak.titel)
        ok, fout = True, ""
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never stops the run
        ok = False
        if hergebruik:
            _stop_kernel()
        ename = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", str(exc))
        fout = f"{ename}: {evalue}".strip().splitlines()[0][:300] if f"{ename}: {evalue}".strip() else ename
    finally:
        if hergebruik:
            _sluit_clients()
    return Uitkomst(taak.rapport, taak.regio, ok, round(time.perf_counter() - t0, 2), fout,
                    str(taak.uit_html) if ok else "", str(taak.uit_ipynb))


#: Period kinds of the KPI rows a run stores and writes to kpis.csv / kpis.xlsx. The
#: notebooks read the first (:data:`NOTEBOOK_PERIODEN`); the others are computed while
#: the notebooks run (:meth:`RunTabellen.afmaken`).
RUN_PERIODEN = ("jaar", "kwartaal")
NOTEBOOK_PERIODEN = ("jaar",)


def _parquet(df: pd.DataFrame, pad: Path) -> None:
    """Write ``df`` to ``pad`` whole or not at all (a temporary file renamed): a notebook
    reading it at the same moment never sees half a file."""
    tmp = pad.with_name(f".{pad.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, pad)


@dataclasses.dataclass
class RunTabellen:
    """What :func:`run_tabellen` computed: the cleaned data (its connection still open
    for :meth:`afmaken`), the unsuppressed KPI rows the notebooks read (``rijen``, per
    period kind), the gemeenten, and the seconds it took."""

    cleaned: object
    params: Params
    map_: Path
    regios: list[str] | None
    rijen: dict
    gemeenten: pd.DataFrame
    seconden: float

    def _voor_bestanden(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Suppressed rows of the run's KPI table: of ``regios`` (their gemeenten, the
        regions, and Nederland as reference) when the run is for some regions only."""
        from . import kpi

        if self.regios is not None:
            rows = rows[rows["regio"].isin([*self.regios, config.NEDERLAND]).to_numpy()]
        return kpi.afwerken(rows, self.params)

    def afmaken(self) -> pd.DataFrame:
        """The KPI rows of the other period kinds of :data:`RUN_PERIODEN` (stored as
        ``kpi_rijen_<per>.parquet``, for researchers); returns the whole suppressed KPI
        table for kpis.csv / kpis.xlsx and closes the connection. No notebook reads these
        rows, so the run computes them while the notebooks run (national demo: 32 s)."""
        from . import kpi

        try:
            for per in RUN_PERIODEN:
                if per not in self.rijen:
                    rows = kpi.kpi_rows(self.cleaned.met_params(dataclasses.replace(self.params, per=per)))
                    _parquet(rows, self.map_ / f"kpi_rijen_{per}.parquet")
                    self.rijen[per] = rows
        finally:
            self.cleaned.con.close()
        tabel = pd.concat([self._voor_bestanden(self.rijen[per]) for per in RUN_PERIODEN], ignore_index=True)
        # a yearly-only KPI (e.g. kosten_groei) comes out of the jaar and the kwartaal evaluation alike: once
        return tabel.drop_duplicates(["kpi", "regio", "gemeente", "periode", "dimensie"], ignore_index=True)


def run_tabellen(verwerkt: Path, peildatum: dt.date, map_: Path, sturing: dict | None = None,
                 regios: list[str] | None = None) -> RunTabellen:
    """Compute once what every notebook of the run reads, and store it in ``map_``: the
    cleaned tables (:func:`jeugdlib.clean.bewaar`; of the gemeenten of ``regios`` only
    when given), the unsuppressed KPI rows of :data:`NOTEBOOK_PERIODEN`
    (``kpi_rijen_<per>.parquet``, with ``n_clienten``; always for every region, which the
    Regiovergelijking compares), the Trajecten report's KPIs per productgroep
    (``kpi_groep_<per>.parquet``, for ``regios``: default all; not for one region) and
    ``run_data.json``. The rest of the KPI table: :meth:`RunTabellen.afmaken`."""
    from . import clean

    t0 = time.perf_counter()
    params = Params(peildatum=peildatum, **(sturing or {}))
    c = clean.clean(verwerkt, params)
    try:
        return _bewaar_run(c, verwerkt, params, map_, regios, t0)
    except BaseException:
        c.con.close()  # not held open through the notebooks, which then clean for themselves
        raise


def _bewaar_run(c, verwerkt: Path, params: Params, map_: Path, regios: list[str] | None,
                t0: float) -> RunTabellen:
    """:func:`run_tabellen` after cleaning: store what the notebooks read."""
    from . import clean, kpi
    from .rapport.laden import RUN_MARKER

    gemeenten = c.gemeenten
    codes = None if regios is None else \
        gemeenten.loc[gemeenten["regio_naam"].isin(regios), "gemeentecode"].astype(str).tolist()
    map_.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(map_ / "grafieken", ignore_errors=True)  # charts the reports share (plots.gedeeld_png): drawn anew
    for per in RUN_PERIODEN:
        (map_ / f"kpi_rijen_{per}.parquet").unlink(missing_ok=True)  # not an earlier run's
    clean.bewaar(c, map_, codes)
    rijen = {}
    for per in NOTEBOOK_PERIODEN:
        rijen[per] = kpi.kpi_rows(c.met_params(dataclasses.replace(params, per=per)))
        _parquet(rijen[per], map_ / f"kpi_rijen_{per}.parquet")
    # the Trajecten report's KPIs per productgroep, for all the run's regions at once
    # (each report computing its own costs about 7 s a region on the national demo);
    # for one region the report computes them itself, beside the other notebooks
    from .rapport import trajecten

    if regios is None or len(regios) > 1:
        for per in trajecten.GROEP_PERIODEN:
            trajecten.groep_kpi_rijen(c, per, codes).to_parquet(map_ / f"kpi_groep_{per}.parquet", index=False)
    else:
        for per in trajecten.GROEP_PERIODEN:
            (map_ / f"kpi_groep_{per}.parquet").unlink(missing_ok=True)  # not an earlier run's
    (map_ / RUN_MARKER).write_text(json.dumps({"dataset": str(verwerkt), "peildatum": params.peildatum.isoformat(),
                                               "perioden": list(RUN_PERIODEN), "gemeenten": codes}),
                                   encoding="utf-8")
    return RunTabellen(cleaned=c, params=params, map_=map_, regios=regios, rijen=rijen, gemeenten=gemeenten,
                       seconden=round(time.perf_counter() - t0, 2))


# --------------------------------------------------------------------------- planning


def plan(data: Path, regios: list[str], rapporten: list[str], peildatum: dt.date, out: Path,
         notebooks_dir: Path = config.NOTEBOOKS_DIR, kwartaal: str = "", sturing: dict | None = None) -> list[Taak]:
    """The notebook runs of one quarterly run: every report for every region.

    Parameters passed to each notebook (all strings): ``data`` (the processed
    dataset), ``regio``, ``peildatum`` (ISO date).
    """
    taken = []
    for regio in regios:
        for r in rapporten:
            nb = notebooks_dir / f"{r}.ipynb"
            d = out / fmt.slug(regio)
            titel = f"{RAPPORTEN.get(r, r)} – {regio} – {fmt.periode(kwartaal[:4] + '-' + kwartaal[4:]) if kwartaal else fmt.datum(peildatum)}"
            par = {"data": str(data), "regio": str(regio), "peildatum": peildatum.isoformat()}
            if r == "sturing":
                par.update(sturing or {})
            taken.append(Taak(r, regio, nb, d / f"{r}.ipynb", d / f"{r}.html", par, titel))
    return taken


def draai(taken: list[Taak], workers: int, *, voortgang: bool, logbestand: Path | None = None):
    """Run ``taken`` in a process pool of ``workers``; returns the outcomes in the order
    of ``taken``. Worker and kernel stderr go to ``logbestand`` when given."""
    from tqdm import tqdm

    ctx = multiprocessing.get_context("spawn")
    uitkomsten: dict[int, Uitkomst] = {}
    bar = tqdm(total=len(taken), disable=not voortgang, unit="notebook",
               desc="rapporten", file=sys.stderr, dynamic_ncols=True)
    with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx,
                                initializer=_worker_init,
                                initargs=(str(logbestand) if logbestand else None,)) as pool:
        futs = {}
        # Longest reports first keeps both cores busy to the end.
        volgorde = sorted(range(len(taken)), key=lambda i: _GEWICHT.get(taken[i].rapport, 5),
                          reverse=True)
        for i in volgorde:
            futs[pool.submit(draai_notebook, taken[i], hergebruik=True)] = i
        for fut in cf.as_completed(futs):
            key = futs[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker crash is one failure
                t = taken[key]
                res = Uitkomst(t.rapport, t.regio, False, 0.0, f"{type(exc).__name__}: {exc}",
                               "", str(t.uit_ipynb))
            uitkomsten[key] = res
            if not res.ok:
                bar.write(f"mislukt: {res.regio} / {res.rapport}: {res.fout}", file=sys.stderr)
            bar.update(1)
    bar.close()
    return [uitkomsten[i] for i in range(len(taken))]


#: Relative run time of each report (longest first in the queue).
_GEWICHT = {"trajecten": 9, "kostenontwikkeling": 8, "prognose": 7, "regiovergelijking": 6, "sturing": 6,
            "verzilvering": 5, "datakwaliteit": 4, "plekfinanciering": 3}


# --------------------------------------------------------------------------- index and run.json


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d1d1d;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
p.sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f5f8;font-weight:600}
a{color:#0b5cad}
.ok{color:#1a7f37}.mislukt{color:#b42318;font-weight:600}
.fout{font-size:.85rem;color:#b42318}
.tijd{color:#777;font-size:.8rem}
.samen{background:#f6f8fa;border-left:4px solid #0b5cad;padding:.6rem 1rem}
"""


def _tijdstip(iso: str) -> str:
    """An ISO timestamp in Dutch words for the index page: "7 december 2026, 00.53 uur"."""
    try:
        t = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    return f"{fmt.datum(t.date())}, {t.hour:02d}.{t.minute:02d} uur"


def schrijf_index(out: Path, kwartaal: str, peildatum: dt.date, uitkomsten: list[Uitkomst],
                  kpi_res: dict | None, snap: dict, duur: float) -> Path:
    """Write ``index.html``: a table of regions x reports with links and run status."""
    e = html.escape
    regios = list(dict.fromkeys(u.regio for u in uitkomsten))
    rapporten = list(dict.fromkeys(u.rapport for u in uitkomsten))
    per = {(u.regio, u.rapport): u for u in uitkomsten}
    n_fout = sum(not u.ok for u in uitkomsten)
    kw = fmt.periode(f"{kwartaal[:4]}-{kwartaal[4:]}")
    rows = []
    for regio in regios:
        cells = [f"<th>{e(regio)}</th>"]
        for r in rapporten:
            u = per.get((regio, r))
            if u is None:
                cells.append("<td>–</td>")
            elif u.ok:
                rel = Path(u.html).relative_to(out).as_posix()
                cells.append(f'<td><a href="{e(rel)}">{e(RAPPORTEN.get(r, r))}</a> '
                             f'<span class="ok" title="gelukt">✓</span>'
                             f'<br><span class="tijd">{fmt.getal(u.seconden, 0)} s</span></td>')
            else:
                rel = Path(u.notebook).relative_to(out).as_posix()
                cells.append(f'<td><span class="mislukt">✗ mislukt</span> '
                             f'(<a href="{e(rel)}">notebook</a>)<br>'
                             f'<span class="fout">{e(u.fout)}</span></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "<tr><th>Regio</th>" + "".join(f"<th>{e(RAPPORTEN.get(r, r))}</th>" for r in rapporten) + "</tr>"
    if kpi_res and kpi_res.get("ok"):
        kpi_html = ('<a href="kpis.xlsx">kpis.xlsx</a> (Excel, een blad per KPI-groep en periodesoort), '
                    '<a href="kpis_nl.csv">kpis_nl.csv</a> (puntkomma en decimale komma: opent in een '
                    'Nederlandse Excel in kolommen) en <a href="kpis.csv">kpis.csv</a> (het uitwisselformaat: '
                    f'komma en decimale punt); {fmt.getal(kpi_res["rijen"])} rijen, kleine aantallen onderdrukt')
    elif kpi_res:
        kpi_html = f'<span class="mislukt">✗ mislukt</span> <span class="fout">{e(kpi_res["fout"])}</span>'
    else:
        kpi_html = "niet berekend"
    status = ("Alle rapporten zijn gemaakt." if n_fout == 0 else
              f'<span class="mislukt">{n_fout} van de {len(uitkomsten)} rapporten zijn mislukt.</span> '
              "Het uitgevoerde notebook staat erbij om de fout te bekijken.")
    doc = f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jeugdhulprapportages {e(kw)}</title><style>{_CSS}</style></head>
<body>
<h1>Jeugdhulprapportages {e(kw)}</h1>
<p class="sub">Peildatum {e(fmt.datum(peildatum))}: gegevens tot en met {e(fmt.datum(peildatum - dt.timedelta(days=1)))}.</p>
<p class="samen">{status}</p>
<table>{head}{''.join(rows)}</table>
<p><b>KPI-tabel:</b> {kpi_html}.</p>
<p><b>Run:</b> <a href="run.json">run.json</a> (parameters, softwareversies, git-commit, tijd per rapport);
duur {fmt.getal(duur, 0)} seconden. Gegevens: momentopname <code>{e(snap.get('hash', ''))}</code>
van {e(_tijdstip(snap.get('bijgewerkt', '')))}. jeugdlib {e(__version__)}.</p>
</body></html>
"""
    path = out / "index.html"
    path.write_text(doc, encoding="utf-8")
    return path


def schrijf_run_json(out: Path, *, kwartaal: str, peildatum: dt.date, data: Path, regios: list[str],
                     rapporten: list[str], workers: int, uitkomsten: list[Uitkomst],
                     kpi_res: dict | None, snap: dict, gestart: dt.datetime, duur: float) -> Path:
    """Write ``run.json``: parameters, versions, git commit, time per notebook."""
    doc = {
        "kwartaal": kwartaal,
        "peildatum": peildatum.isoformat(),
        "data": str(data),
        "snapshot": snap,
        "regios": regios,
        "rapporten": rapporten,
        "workers": workers,
        "gestart": gestart.isoformat(timespec="seconds"),
        "duur_seconden": round(duur, 2),
        "versies": versies(),
        "git": git_commit(),
        "kpis": kpi_res,
        "notebooks": [
            {"regio": u.regio, "rapport": u.rapport, "status": "ok" if u.ok else "mislukt",
             "seconden": u.seconden, "fout": u.fout,
             "html": Path(u.html).relative_to(out).as_posix() if u.html else None,
             "notebook": Path(u.notebook).relative_to(out).as_posix() if u.notebook else None}
            for u in uitkomsten
        ],
    }
    path = out / "run.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- command


def _foutregel(exc: BaseException) -> str:
    """The first line of an error, with its type, at most 300 characters (index, run.json)."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


class _KpiBestanden:
    """Finish the run's KPI table (:meth:`RunTabellen.afmaken`) and write it as kpis.csv,
    kpis_nl.csv and kpis.xlsx, in a thread of its own while the notebooks run (which read
    neither); :meth:`wacht` waits for it and returns "" or the first line of the error."""

    def __init__(self, rt: RunTabellen, out: Path) -> None:
        import threading

        from . import kpi

        self.fout = ""
        self.rijen = 0
        self.seconden = 0.0

        def schrijf() -> None:
            t0 = time.perf_counter()
            try:
                tabel = rt.afmaken()
                self.rijen = len(tabel)
                self.seconden = round(time.perf_counter() - t0, 2)
                kpi.write_kpis(tabel, out / "kpis.csv")
                kpi.write_kpis(tabel, out / "kpis_nl.csv", nl=True)
                kpi.write_kpis(tabel, out / "kpis.xlsx", gemeenten=rt.gemeenten, params=rt.params)
            except Exception as exc:  # noqa: BLE001 - reported in the index and on stderr
                self.fout = _foutregel(exc)

        self._draad = threading.Thread(target=schrijf, name="kpi-bestanden", daemon=True)
        self._draad.start()

    def wacht(self) -> str:
        self._draad.join()
        return self.fout


def main(args) -> int:
    """``jeugdlib reports [--data DIR] [--regio NAAM|alle] [--kwartaal 2024Q2] [--out DIR]
    [--rapport NAAM ...] [--workers N] [--quiet]``. Returns the exit status."""
    from . import kpi

    gestart = dt.datetime.now()
    t0 = time.perf_counter()
    quiet = bool(getattr(args, "quiet", False))
    in_ci = bool(os.environ.get("CI"))
    voortgang = not quiet and not in_ci and sys.stderr.isatty()

    rapporten = list(getattr(args, "rapport", None) or RAPPORTEN)
    onbekend = [r for r in rapporten if r not in RAPPORTEN]
    if onbekend:
        raise JeugdlibError(f"onbekend rapport {onbekend[0]!r}; kies uit {', '.join(RAPPORTEN)}")
    notebooks_dir = Path(getattr(args, "notebooks", None) or config.NOTEBOOKS_DIR)
    for r in rapporten:
        if not (notebooks_dir / f"{r}.ipynb").exists():
            raise JeugdlibError(f"notebook {r}.ipynb ontbreekt", path=notebooks_dir)

    data_arg = Path(args.data) if getattr(args, "data", None) else config.DEMO_DATASET
    from .dataset import is_processed

    if not quiet and not is_processed(data_arg):
        print(f"Dataset {data_arg} inlezen (eenmalig)...", file=sys.stderr)
    data = kpi.verwerkt_pad(data_arg, quiet=not voortgang).resolve()

    kwartaal = args.kwartaal or laatste_volledige_kwartaal(data)
    try:
        _, peildatum = fmt.kwartaal(kwartaal)
    except ValueError as exc:
        raise JeugdlibError(str(exc)) from None
    kwartaal = fmt.kwartaal_label(peildatum - dt.timedelta(days=1))

    from .rapport.laden import regios_in
    from . import dataset

    gem = dataset.read_table(dataset.table_path(data, "gemeenten"), "gemeenten")
    alle = regios_in(data, gem if len(gem) else config.demo_gemeenten())
    if not alle:
        raise JeugdlibError("geen regio's in de gegevens (gemeentecodes onbekend)", path=data)
    keuze = getattr(args, "regio", None) or "alle"
    if keuze == "alle":
        regios = alle
    else:
        match = [r for r in alle if r.lower() == keuze.lower()]
        if not match:
            raise JeugdlibError(f"regio {keuze!r} komt niet voor in de gegevens; kies uit {', '.join(alle)}",
                                path=data)
        regios = match

    out = Path(args.out) if getattr(args, "out", None) else config.REPORTS_DIR
    out = (out / kwartaal).resolve()
    out.mkdir(parents=True, exist_ok=True)
    workers = getattr(args, "workers", None) or os.cpu_count() or 1
    snap = snapshot(data)
    run_map = out / "_data"
    if not quiet:
        print("Opschonen en KPI's berekenen (eenmalig voor alle rapporten)...", file=sys.stderr)
    sturing = {k: getattr(args, k) for k in STURING if getattr(args, k, None) is not None}
    schrijver = None
    try:
        rt = run_tabellen(data, peildatum, run_map, sturing, None if keuze == "alle" else regios)
        kpi_res = {"ok": True, "seconden": rt.seconden, "rijen": 0, "fout": ""}
        # the KPI rows per kwartaal and kpis.csv, kpis_nl.csv and kpis.xlsx are made while
        # the notebooks run, which read none of them (national demo: 32 s and 39 s)
        schrijver = _KpiBestanden(rt, out)
    except Exception as exc:  # noqa: BLE001 - reported in the index; the notebooks then clean themselves
        kpi_res = {"ok": False, "seconden": 0.0, "rijen": 0, "fout": _foutregel(exc)}
        run_map = data
    taken = plan(run_map, regios, rapporten, peildatum, out, notebooks_dir, kwartaal, sturing)
    if not quiet and not voortgang:
        print(f"{len(taken)} rapporten voor {fmt.lijst(regios)}, {kwartaal} "
              f"(peildatum {peildatum.isoformat()}), {workers} tegelijk", file=sys.stderr)
    (out / "kernels.log").write_text("", encoding="utf-8")
    uitkomsten = draai(taken, workers, voortgang=voortgang, logbestand=out / "kernels.log")
    if schrijver is not None:
        fout = schrijver.wacht()
        kpi_res = {**kpi_res, "rijen": int(schrijver.rijen), "naast_notebooks_seconden": schrijver.seconden}
        if fout:
            kpi_res = {**kpi_res, "ok": False, "fout": fout}
    duur = time.perf_counter() - t0
    index = schrijf_index(out, kwartaal, peildatum, uitkomsten, kpi_res, snap, duur)
    schrijf_run_json(out, kwartaal=kwartaal, peildatum=peildatum, data=data, regios=regios,
                     rapporten=rapporten, workers=workers, uitkomsten=uitkomsten, kpi_res=kpi_res,
                     snap=snap, gestart=gestart, duur=duur)
    n_fout = sum(not u.ok for u in uitkomsten) + (1 if kpi_res and not kpi_res.get("ok") else 0)
    if not quiet:
        print(f"{len(taken) - sum(not u.ok for u in uitkomsten)} van {len(taken)} rapporten gemaakt "
              f"in {fmt.getal(duur, 0)} s; {index}", file=sys.stderr)
    if n_fout:
        for u in uitkomsten:
            if not u.ok:
                print(f"jeugdlib reports: mislukt: {u.regio} / {u.rapport}: {u.fout} ({u.notebook})",
                      file=sys.stderr)
        if kpi_res and not kpi_res.get("ok"):
            print(f"jeugdlib reports: KPI-tabel mislukt: {kpi_res['fout']}", file=sys.stderr)
        return 1
    return 0
