"""``jeugdlib reports``: the quarterly run (reports.md, "The quarterly run").

1. Open the dataset once (a raw dataset is ingested here, up front), pick the
   quarter (default: the last complete quarter in the data) and set the
   peildatum to the day after it.
2. Run every report notebook of ``notebooks/reports/`` for every region with
   papermill, in parallel worker processes (one kernel each), and convert each
   executed notebook to HTML without code (nbconvert, no input, no
   injected-parameters cell, no stderr).
3. Write ``index.html`` (links and run status), ``kpis.csv`` + ``kpis.xlsx`` (via
   :mod:`jeugdlib.kpi`) and ``run.json`` (parameters, package versions, git
   commit, time per notebook).

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
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from . import __version__, config, fmt
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
}

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


def regios_in_data(ds) -> list[str]:
    """Region names (gemeenten.csv ``regio_naam``) that have toewijzingen or declaraties."""
    codes = pd.concat([ds.toewijzingen["gemeentecode"], ds.declaraties["gemeentecode"]]).dropna().unique()
    gem = ds.gemeenten if len(ds.gemeenten) else config.demo_gemeenten()
    namen = gem.loc[gem["gemeentecode"].isin(codes), "regio_naam"].dropna().unique().tolist()
    return sorted(str(n) for n in namen)


def laatste_datum(ds) -> dt.date:
    """The last day the data covers: the latest declared period end or toewijzing version."""
    kand = []
    for s in (ds.declaraties["periode_eind"], ds.declaraties["periode_begin"],
              ds.toewijzingen["versie_ts"]):
        m = s.max() if len(s) else pd.NaT
        if not pd.isna(m):
            kand.append(pd.Timestamp(m).date())
    if not kand:
        raise JeugdlibError("geen bruikbare records: kan geen kwartaal kiezen", path=ds.path)
    return max(kand)


def laatste_volledige_kwartaal(ds) -> str:
    """The last quarter that lies completely within the data, e.g. "2024Q2".

    A quarter is complete when the data reaches its last day; otherwise the
    quarter before the one holding the last date is taken.
    """
    d = laatste_datum(ds)
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
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def draai_notebook(taak: Taak) -> Uitkomst:
    """Execute one report notebook with papermill and convert it to HTML.

    Never raises: a failure is returned in :class:`Uitkomst` (the executed
    notebook, with the error in it, is kept at ``taak.uit_ipynb``).
    """
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    taak.uit_ipynb.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            str(taak.notebook), str(taak.uit_ipynb), parameters=taak.parameters,
            kernel_name="python3", cwd=str(taak.notebook.parent), progress_bar=False,
            log_output=False, execution_timeout=CELL_TIMEOUT,
        )
        notebook_naar_html(taak.uit_ipynb, taak.uit_html, taak.titel)
        ok, fout = True, ""
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never stops the run
        ok = False
        ename = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", str(exc))
        fout = f"{ename}: {evalue}".strip().splitlines()[0][:300] if f"{ename}: {evalue}".strip() else ename
    return Uitkomst(taak.rapport, taak.regio, ok, round(time.perf_counter() - t0, 2), fout,
                    str(taak.uit_html) if ok else "", str(taak.uit_ipynb))


def _kpi_taak(data: str, peildatum: str, out_dir: str) -> dict:
    """Compute the suppressed KPI table and write kpis.csv and kpis.xlsx."""
    t0 = time.perf_counter()
    try:
        from . import clean, dataset, kpi
        from .config import Params

        params = Params(peildatum=dt.date.fromisoformat(peildatum))
        ds = dataset.load(Path(data))
        cl = clean.clean(ds, params)
        df = kpi.kpi_table(cl, params)
        kpi.write_kpis(df, Path(out_dir) / "kpis.csv")
        kpi.write_kpis(df, Path(out_dir) / "kpis.xlsx", gemeenten=cl.gemeenten, params=params)
        return {"ok": True, "seconden": round(time.perf_counter() - t0, 2), "rijen": int(len(df)),
                "fout": ""}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "seconden": round(time.perf_counter() - t0, 2), "rijen": 0,
                "fout": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}


# --------------------------------------------------------------------------- planning


def plan(data: Path, regios: list[str], rapporten: list[str], peildatum: dt.date, out: Path,
         notebooks_dir: Path = config.NOTEBOOKS_DIR, kwartaal: str = "") -> list[Taak]:
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
            taken.append(Taak(r, regio, nb, d / f"{r}.ipynb", d / f"{r}.html",
                              {"data": str(data), "regio": str(regio),
                               "peildatum": peildatum.isoformat()}, titel))
    return taken


def draai(taken: list[Taak], workers: int, *, voortgang: bool, kpi_args: tuple | None = None,
          logbestand: Path | None = None):
    """Run ``taken`` in a process pool of ``workers``; returns (uitkomsten, kpi_result).

    The KPI table job (``kpi_args`` for :func:`_kpi_taak`) runs in the same pool.
    Results come back in the order of ``taken``. Worker and kernel stderr go to
    ``logbestand`` when given.
    """
    from tqdm import tqdm

    ctx = multiprocessing.get_context("spawn")
    uitkomsten: dict[int, Uitkomst] = {}
    kpi_res = None
    bar = tqdm(total=len(taken) + (1 if kpi_args else 0), disable=not voortgang, unit="notebook",
               desc="rapporten", file=sys.stderr, dynamic_ncols=True)
    with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx,
                                initializer=_worker_init,
                                initargs=(str(logbestand) if logbestand else None,)) as pool:
        futs = {}
        if kpi_args:
            futs[pool.submit(_kpi_taak, *kpi_args)] = "kpi"
        # Longest reports first keeps both cores busy to the end.
        volgorde = sorted(range(len(taken)), key=lambda i: _GEWICHT.get(taken[i].rapport, 5),
                          reverse=True)
        for i in volgorde:
            futs[pool.submit(draai_notebook, taken[i])] = i
        for fut in cf.as_completed(futs):
            key = futs[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker crash is one failure
                if key == "kpi":
                    res = {"ok": False, "seconden": 0.0, "rijen": 0, "fout": f"{type(exc).__name__}: {exc}"}
                else:
                    t = taken[key]
                    res = Uitkomst(t.rapport, t.regio, False, 0.0, f"{type(exc).__name__}: {exc}",
                                   "", str(t.uit_ipynb))
            if key == "kpi":
                kpi_res = res
            else:
                uitkomsten[key] = res
                if not res.ok:
                    bar.write(f"mislukt: {res.regio} / {res.rapport}: {res.fout}", file=sys.stderr)
            bar.update(1)
    bar.close()
    return [uitkomsten[i] for i in range(len(taken))], kpi_res


#: Relative run time of each report (longest first in the queue).
_GEWICHT = {"trajecten": 9, "kostenontwikkeling": 8, "prognose": 7, "regiovergelijking": 6,
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
        kpi_html = ('<a href="kpis.csv">kpis.csv</a> en <a href="kpis.xlsx">kpis.xlsx</a> '
                    f'({fmt.getal(kpi_res["rijen"])} rijen, kleine aantallen onderdrukt)')
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
van {e(snap.get('bijgewerkt', '').replace('T', ' '))}. jeugdlib {e(__version__)}.</p>
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


def main(args) -> int:
    """``jeugdlib reports [--data DIR] [--regio NAAM|alle] [--kwartaal 2024Q2] [--out DIR]
    [--rapport NAAM ...] [--workers N] [--quiet]``. Returns the exit status."""
    from . import dataset

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
    if not quiet and not dataset.is_processed(data_arg):
        print(f"Dataset {data_arg} inlezen (eenmalig)...", file=sys.stderr)
    ds = dataset.open_dataset(data_arg, quiet=not voortgang)
    data = Path(ds.path).resolve()

    kwartaal = args.kwartaal or laatste_volledige_kwartaal(ds)
    try:
        _, peildatum = fmt.kwartaal(kwartaal)
    except ValueError as exc:
        raise JeugdlibError(str(exc)) from None
    kwartaal = fmt.kwartaal_label(peildatum - dt.timedelta(days=1))

    alle = regios_in_data(ds)
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
    del ds

    taken = plan(data, regios, rapporten, peildatum, out, notebooks_dir, kwartaal)
    if not quiet and not voortgang:
        print(f"{len(taken)} rapporten voor {fmt.lijst(regios)}, {kwartaal} "
              f"(peildatum {peildatum.isoformat()}), {workers} tegelijk", file=sys.stderr)
    kpi_args = (str(data), peildatum.isoformat(), str(out)) if getattr(args, "kpis", True) else None
    (out / "kernels.log").write_text("", encoding="utf-8")
    uitkomsten, kpi_res = draai(taken, workers, voortgang=voortgang, kpi_args=kpi_args,
                                logbestand=out / "kernels.log")
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
