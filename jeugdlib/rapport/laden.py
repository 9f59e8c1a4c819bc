"""Load and clean a dataset once per report, and hand out suppressed KPI rows.

:func:`open_rapport` is the first call of every report notebook: it opens the
dataset (raw datasets are ingested on first use), keeps the requested region,
cleans it with :func:`jeugdlib.clean.clean` and returns a :class:`Rapport`, the
context every other building block takes. KPI rows come from the metric
modules' own ``kpis(cleaned, params)`` functions, with small-number
suppression (:func:`jeugdlib.privacy.suppress`) and the ``voorlopig`` flag, so
a report shows exactly the values of ``kpis.csv``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pandas as pd

from .. import config, privacy, schema
from ..errors import JeugdlibError


def _pad(data: str | Path) -> Path:
    """Resolve a dataset path: as given, else relative to the project root."""
    p = Path(data) if data else config.FIXTURE_DIR / "mini"
    if p.exists() or p.is_absolute():
        return p
    for base in (config.PROJ_ROOT, config.NOTEBOOKS_DIR):
        if (base / p).exists():
            return base / p
    return p


def regio_gemeenten(gemeenten: pd.DataFrame, regio: str) -> pd.DataFrame:
    """The gemeenten (code, naam) of ``regio``, sorted by name."""
    g = gemeenten[gemeenten["regio_naam"] == regio][["gemeentecode", "gemeentenaam"]]
    return g.drop_duplicates("gemeentecode").sort_values("gemeentenaam").reset_index(drop=True)


@dataclasses.dataclass
class Rapport:
    """Everything a report needs: parameters, the cleaned data, the KPI rows.

    ``regio`` is the region the report is about (``""`` with ``alle_regios``:
    all regions). ``cleaned`` holds only that region unless ``alle_regios``.
    ``kern`` collects the key numbers the report shows (written at the end by
    :func:`kerncijfers`, for tests and for reuse).
    """

    naam: str
    regio: str
    params: config.Params
    data: Path
    ds: object
    cleaned: object
    gemeenten: pd.DataFrame
    regios: list[str]
    alle_regios: bool = False
    #: The quarterly run's stored tables (``_data`` of the run), when the report reads them.
    opslag: Path | None = None
    kern: dict = dataclasses.field(default_factory=dict)
    samenvatting: list = dataclasses.field(default_factory=list)
    gebruikte_kpis: list = dataclasses.field(default_factory=list)
    _cache: dict = dataclasses.field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ names
    def gemeentenaam(self, code) -> str:
        """The name of a gemeentecode ("" -> the region name)."""
        if not code:
            return self.regio or config.NEDERLAND
        m = self.cleaned.gemeenten
        hit = m.loc[m["gemeentecode"] == code, "gemeentenaam"]
        return str(hit.iloc[0]) if len(hit) else str(code)

    def namen(self) -> dict:
        """gemeentecode -> gemeentenaam for every gemeente in the cleaned data."""
        g = self.cleaned.gemeenten
        return dict(zip(g["gemeentecode"].astype(str), g["gemeentenaam"].astype(str)))

    @property
    def peildatum(self) -> dt.date:
        return self.params.peildatum

    @property
    def laatste_dag(self) -> dt.date:
        """The last day with data: the day before the peildatum."""
        return self.params.peildatum - dt.timedelta(days=1)

    # ------------------------------------------------------------------ KPIs
    def kpis(self, *modules: str, per: str | None = None, params: config.Params | None = None,
             alle: bool = False) -> pd.DataFrame:
        """Suppressed KPI rows of the given metric modules (e.g. ``"volume"``).

        ``per`` overrides the period length (jaar | kwartaal | maand). Rows are
        for this report's region (and its gemeenten) unless ``alle``. Columns:
        the KPI table's (data-contract 3.1) plus ``n_clienten`` dropped.
        """
        p = params or self.params
        if per:
            p = dataclasses.replace(p, per=per)
        parts = []
        for m in modules:
            key = (m, p)
            if key not in self._cache:
                self._cache[key] = _afwerken(self._rijen(m, p), p)
            parts.append(self._cache[key])
        out = pd.concat(parts, ignore_index=True) if parts else schema.empty("kpi")
        for k in out["kpi"].dropna().unique():
            if k not in self.gebruikte_kpis:
                self.gebruikte_kpis.append(str(k))
        if not alle and self.regio:
            out = out[out["regio"] == self.regio]
        return out.reset_index(drop=True)

    def kpis_met_n(self, module: str, kpi: str, params: config.Params | None = None) -> pd.DataFrame:
        """Rows of one KPI with its client basis ``n_clienten`` (for funnel plots), for
        every region and gemeente. Only rows with at least ``klein_aantal`` clients are
        returned, so no small number can leak into a chart."""
        p = params or self.params
        key = ("met_n", module, p)
        if key not in self._cache:
            self._cache[key] = self._rijen(module, p)
        rows = self._cache[key]
        rows = rows[rows["kpi"] == kpi].copy()
        rows[schema.KPI_N] = pd.to_numeric(rows[schema.KPI_N], errors="coerce")
        rows = rows[rows[schema.KPI_N] >= p.klein_aantal]
        if kpi not in self.gebruikte_kpis:
            self.gebruikte_kpis.append(kpi)
        return rows.reset_index(drop=True)

    def _rijen(self, module: str, p: config.Params) -> pd.DataFrame:
        """Unsuppressed KPI rows of ``module``: from the quarterly run's stored KPI rows
        when they were computed with these parameters, else computed now."""
        f = self.opslag / f"kpi_rijen_{p.per}.parquet" if self.opslag else None
        if f is not None and f.exists() and dataclasses.replace(p, per="jaar") == \
                dataclasses.replace(self.params, per="jaar"):
            from ..metrics._common import registry

            ids = [k for k, d in registry().items() if d.module == module]
            rows = pd.read_parquet(f, filters=[("kpi", "in", ids)]) if ids else pd.read_parquet(f).iloc[0:0]
            return rows.reset_index(drop=True)
        return module_rows(self.cleaned, module, p)

    def waarde(self, kpis: pd.DataFrame, kpi: str, periode: str, *, gemeente: str = "",
               dimensie: str = "", regio: str | None = None) -> float | None:
        """One value from KPI rows (None when missing or suppressed)."""
        regio = self.regio if regio is None else regio
        sel = kpis[(kpis["kpi"] == kpi) & (kpis["periode"] == periode) & (kpis["gemeente"] == gemeente)
                   & (kpis["dimensie"] == dimensie) & (kpis["regio"] == regio)]
        if len(sel) == 0 or bool(sel["onderdrukt"].iloc[0]) or pd.isna(sel["waarde"].iloc[0]):
            return None
        return float(sel["waarde"].iloc[0])

    def leg_vast(self, naam: str, waarde) -> None:
        """Record a key number shown in the report (see :func:`kerncijfers`)."""
        if waarde is not None and not isinstance(waarde, (str, bool)):
            try:
                waarde = None if pd.isna(waarde) else float(waarde)
            except (TypeError, ValueError):
                pass
        self.kern[naam] = waarde

    # ------------------------------------------------------------------ periods
    def jaren(self) -> pd.DataFrame:
        """The years of the window: periode, begin, eind, voorlopig."""
        from ..metrics import _common

        return _common.periods(self.params.start, self.params.peildatum, "jaar")

    def laatste_volledige_jaar(self) -> str | None:
        j = self.jaren()
        vol = j[~j["voorlopig"]]
        return str(vol["periode"].iloc[-1]) if len(vol) else None

    def huidig_jaar(self) -> str:
        return str(self.laatste_dag.year)


def module_rows(cleaned, module: str, params: config.Params) -> pd.DataFrame:
    """Unsuppressed KPI rows (with ``n_clienten``) of the registered KPIs defined in the
    metric module ``module`` (e.g. ``"volume"``), for ``params`` (period length)."""
    from .. import kpi
    from ..metrics._common import registry

    ids = [k for k, d in registry().items() if d.module == module]
    c = cleaned if params == cleaned.params else cleaned.met_params(params)
    return kpi.kpi_rows(c, ids)


def kpi_rijen(cleaned, ids: list[str], params: config.Params) -> pd.DataFrame:
    """Unsuppressed KPI rows (with ``n_clienten``) of the KPIs ``ids`` only, for
    ``params`` (period length): for a part of the data a report computes itself."""
    from .. import kpi

    c = cleaned if params == cleaned.params else cleaned.met_params(params)
    return kpi.kpi_rows(c, ids)


def _afwerken(rows: pd.DataFrame, params: config.Params) -> pd.DataFrame:
    """Suppress small numbers and add ``voorlopig``, exactly as :func:`jeugdlib.kpi.kpi_table`."""
    from .. import kpi

    if rows is None or len(rows) == 0:
        return schema.empty("kpi")
    rows = rows[kpi.ROW_COLUMNS].copy()
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        rows[c] = rows[c].astype(schema.S).fillna("")
    rows["waarde"] = pd.to_numeric(rows["waarde"], errors="coerce").astype("float64")
    rows["voorlopig"] = kpi.voorlopig(rows["periode"], params.peildatum).to_numpy()
    return privacy.suppress(rows, params.klein_aantal)


def open_rapport(naam: str, data: str | Path, regio: str, peildatum: str, *, start: str = "",
                 klein_aantal: int = 10, uitsluiten_agb=(), alle_regios: bool = False,
                 per: str = "jaar") -> Rapport:
    """Open the data for one report: ``regio``'s part (or all regions with ``alle_regios``).

    ``data``: a raw or processed dataset directory (relative paths are tried from the
    working directory, then from the project root), or the stored tables of a quarterly
    run (``reports/<kwartaal>/_data``, see :mod:`jeugdlib.reports`). From a run's tables
    with the run's parameters nothing is cleaned or computed again: the report reads its
    region's rows. Otherwise the region's records are cleaned here (DuckDB, only that
    region's rows read). ``regio``: a regio_naam of gemeenten.csv; empty means the first
    region in the data. ``peildatum``: ISO date, exclusive cutoff. ``start``: ISO date or
    empty for the default (1 January three years before the peildatum's year).
    """
    from .. import clean, dataset, kpi

    path = _pad(data)
    run = _run_opslag(path)
    verwerkt = Path(run["dataset"]) if run else kpi.verwerkt_pad(path, quiet=True)
    params = config.Params(peildatum=dt.date.fromisoformat(str(peildatum)), start=start or None,
                           klein_aantal=int(klein_aantal), per=per,
                           exclude_agb=tuple(str(a) for a in (uitsluiten_agb or ())))
    gem_all = dataset.read_table(dataset.table_path(verwerkt, "gemeenten"), "gemeenten")
    if not len(gem_all):
        gem_all = config.demo_gemeenten()
    regios = regios_in(verwerkt, gem_all)
    if not regio and not alle_regios:
        if not regios:
            raise JeugdlibError("geen regio's in de gegevens", path=path)
        regio = regios[0]
    if regio and regio not in regios:
        raise JeugdlibError(f"regio {regio!r} komt niet voor in de gegevens; kies uit {', '.join(regios)}",
                            path=path)
    codes = None if alle_regios else list(regio_gemeenten(gem_all, regio)["gemeentecode"])
    opslag = None
    if run and run.get("peildatum") == params.peildatum.isoformat() and not params.exclude_agb \
            and _gedekt(run, codes) and clean.is_bewaard(path):
        opslag = path
        cl = clean.opgeslagen(path, verwerkt, params, codes)
    else:
        cl = clean.clean(verwerkt, params, gemeenten=codes)
    ds = dataset.load(verwerkt, tables=["quarantaine", "ingest_telling"])
    gem = regio_gemeenten(gem_all, regio) if regio else gem_all[["gemeentecode", "gemeentenaam"]]
    return Rapport(naam=naam, regio=regio, params=params, data=verwerkt, ds=ds, cleaned=cl,
                   gemeenten=gem, regios=regios, alle_regios=alle_regios, opslag=opslag)


#: File that marks the stored tables of a quarterly run (written by jeugdlib.reports).
RUN_MARKER = "run_data.json"


def _gedekt(run: dict, codes) -> bool:
    """Whether a run's stored tables hold the gemeenten a report needs: a run for some
    regions stores only theirs (``run["gemeenten"]``); a report on all regions
    (``codes`` None) reads of them only the KPI rows, which cover every region, and
    the cleaning counts, which are stored whole."""
    opgeslagen = run.get("gemeenten")
    return opgeslagen is None or codes is None or set(codes) <= set(opgeslagen)


def _run_opslag(path: Path) -> dict | None:
    """The description of a quarterly run's stored tables in ``path``, else None."""
    f = Path(path) / RUN_MARKER
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None


def regios_in(verwerkt: Path, gemeenten: pd.DataFrame) -> list[str]:
    """Region names (gemeenten.csv ``regio_naam``) that have toewijzingen or declaraties in
    the processed dataset ``verwerkt`` (read with DuckDB: only the gemeentecode column)."""
    from .. import engine

    con = engine.connect()
    engine.laad(con, verwerkt)
    codes = [r[0] for r in con.execute(
        "SELECT DISTINCT gemeentecode FROM ruw_toewijzingen UNION SELECT DISTINCT gemeentecode FROM ruw_declaraties"
    ).fetchall() if r[0] is not None]
    con.close()
    namen = gemeenten.loc[gemeenten["gemeentecode"].isin(codes), "regio_naam"].dropna().unique().tolist()
    return sorted(str(n) for n in namen)


def kerncijfers(r: Rapport) -> None:
    """Display the recorded key numbers as a machine-readable output.

    The output has the MIME type ``application/vnd.jeugdlib.kerncijfers+json``:
    the HTML export leaves it out, tests read it from the executed notebook.
    """
    from IPython.display import display

    doc = {"rapport": r.naam, "regio": r.regio, "peildatum": r.params.peildatum.isoformat(),
           "kern": r.kern, "samenvatting": list(r.samenvatting)}
    display({KERN_MIME: json.loads(json.dumps(doc, default=str)),
             "text/plain": f"Kerncijfers van dit rapport: {len(r.kern)} waarden (voor tests)."}, raw=True)


KERN_MIME = "application/vnd.jeugdlib.kerncijfers+json"
