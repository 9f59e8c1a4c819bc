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
import importlib
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


def filter_regio(ds, codes) -> object:
    """A copy of ``ds`` holding only the records of the given gemeentecodes.

    Reference tables stay whole; quarantaine and ingest counts stay whole (they
    are per input file, not per gemeente).
    """
    codes = set(codes)
    kw = {}
    for name in ds.table_names():
        df = getattr(ds, name)
        if name in ("toewijzingen", "declaraties", "start_stop", "verzoeken") and "gemeentecode" in df:
            df = df[df["gemeentecode"].isin(codes)].reset_index(drop=True)
        kw[name] = df
    return type(ds)(**kw, path=ds.path)


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
                self._cache[key] = _afwerken(module_rows(self.cleaned, m, p), p)
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
            self._cache[key] = module_rows(self.cleaned, module, p)
        rows = self._cache[key]
        rows = rows[rows["kpi"] == kpi].copy()
        rows[schema.KPI_N] = pd.to_numeric(rows[schema.KPI_N], errors="coerce")
        rows = rows[rows[schema.KPI_N] >= p.klein_aantal]
        if kpi not in self.gebruikte_kpis:
            self.gebruikte_kpis.append(kpi)
        return rows.reset_index(drop=True)

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
    """Open the dataset, keep ``regio`` (unless ``alle_regios``), clean it once.

    ``data``: a raw or processed dataset directory (relative paths are tried
    from the working directory, then from the project root). ``regio``: a
    regio_naam of gemeenten.csv; empty means the first region in the data.
    ``peildatum``: ISO date, exclusive cutoff. ``start``: ISO date or empty for
    the default (1 January three years before the peildatum's year).
    """
    from .. import clean, dataset

    path = _pad(data)
    ds = dataset.open_dataset(path, quiet=True)
    params = config.Params(peildatum=dt.date.fromisoformat(str(peildatum)), start=start or None,
                           klein_aantal=int(klein_aantal), per=per,
                           exclude_agb=tuple(str(a) for a in (uitsluiten_agb or ())))
    gem_all = ds.gemeenten if len(ds.gemeenten) else config.demo_gemeenten()
    codes_in_data = pd.concat([ds.toewijzingen["gemeentecode"], ds.declaraties["gemeentecode"]]).dropna().unique()
    regios = sorted(gem_all.loc[gem_all["gemeentecode"].isin(codes_in_data), "regio_naam"].dropna().unique().tolist())
    if not regio and not alle_regios:
        if not regios:
            raise JeugdlibError("geen regio's in de gegevens", path=path)
        regio = regios[0]
    if regio and regio not in regios:
        raise JeugdlibError(f"regio {regio!r} komt niet voor in de gegevens; kies uit {', '.join(regios)}",
                            path=path)
    if alle_regios:
        sub = ds
    else:
        sub = filter_regio(ds, regio_gemeenten(gem_all, regio)["gemeentecode"])
    cl = clean.clean(sub, params)
    gem = regio_gemeenten(gem_all, regio) if regio else gem_all[["gemeentecode", "gemeentenaam"]]
    return Rapport(naam=naam, regio=regio, params=params, data=Path(ds.path or path), ds=ds, cleaned=cl,
                   gemeenten=gem, regios=regios, alle_regios=alle_regios)


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
