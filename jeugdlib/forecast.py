"""Cost forecasts per regio with backtests (metrics.md section 10, issue 7).

What the regions do today, and what this module adds:

* ``vorig_jaar``: the same month last year x (1 + ``indexatie``) (the regions'
  "zelfde periode vorig jaar, gecorrigeerd voor indexatie");
* ``gemiddelde_12m``: the mean of the last twelve complete months, flat;
* ``ets``: a statsmodels exponential smoothing state space model, ETS(A,Ad,A):
  additive errors, additive *damped* trend, additive seasonality of 12 months,
  with a prediction interval (see :func:`voorspel_ets` for why this model).

Each method is backtested on the last eight complete quarters (rolling origin:
for each quarter, fit on the months before it and forecast its three months);
the error per quarter and the MAPE decide which method the report uses
(:func:`kies_methode`), and by how much it beats the others.

**Where the numbers come from.** The monthly net cost per regio (and Nederland)
is one SQL query over the cleaned ``declaraties`` (:func:`maandkosten`; Nederland
the sum of the regions, :func:`met_nederland`); the
methods, backtests and the choice are plain Python over that small monthly frame
(one series per regio: a few dozen months).

**Declaration lag** (metrics.md 0.2). Declarations arrive weeks to months after
the care month, so the last months before the peildatum are short.
:func:`volledigheid` measures, per regio, how much of a month's eventual net cost
had been declared k = 0, 1, 2, ... months after the month's end (from the
declarations' ``declaratiedatum``); a month is *onvolledig* at the peildatum when
its expected completeness is below ``volledig_drempel`` (0,95)
(:func:`onvolledige_maanden`). Onvolledige months are never fitted or backtested;
they are forecast like future months, and where what has already arrived is
higher than the forecast, the arrived amount is kept (a month's eventual cost is
at least what has been declared so far). Data without any ``declaratiedatum``
cannot show its lag: then the last ``lag_maanden`` (3) months before the
peildatum's month count as onvolledig (:func:`eerste_onvolledige_maand`).

The allocation-based forecast of committed cost (:func:`verplicht`) values the
maximum volume that open toewijzingen still allow after the peildatum at the
product's tarief and multiplies by the product's recent verzilvering
(:func:`jeugdlib.metrics.verzilvering.verzilvering_per_product`).
:func:`budget_vergelijking` signals when the forecast for the year passes the
budget: a regional budget parameter against the regio's total forecast, or the
sum of budgetplafonds against the forecast of the cost that falls under those
plafonds.

Entry points: :func:`bereken` (everything the KPI table needs, fitted once),
:func:`kpis` (KPI rows), :func:`rapport` (everything the Prognose report shows for
one regio), :func:`prognose_reeks` (one plain monthly series). Too little history
never raises: the simple methods are used and :attr:`Prognose.redenen` says why.

All amounts here are in euro (float), because forecasts are not whole cents.
Forecasts are deterministic: the monthly ETS intervals are exact (no
simulation), and the simulated paths for intervals of period totals use a fixed
seed. The history used is all of it before the peildatum, not only the analysis
window (``Params.start``), because the models need years of months.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import config, engine, schema
from .metrics._common import datum, period_label, som

#: Method names (as in ``dimensie="methode=<naam>"``) and their Dutch labels.
METHODEN = ("vorig_jaar", "gemiddelde_12m", "ets")
METHODE_LABELS = {
    "vorig_jaar": "zelfde maand vorig jaar + indexatie",
    "gemiddelde_12m": "voortschrijdend twaalfmaandsgemiddelde",
    "ets": "exponentiële afvlakking (ETS, statsmodels)",
}
#: Months of history a method needs at its fit origin.
MIN_MAANDEN = {"vorig_jaar": 12, "gemiddelde_12m": 12, "ets": 24}
#: Months per period of ``per``.
PERIODE_MAANDEN = {"jaar": 12, "kwartaal": 3, "maand": 1}


@dataclasses.dataclass(frozen=True)
class ForecastParams:
    """Parameters of the forecast (metrics.md sections 0.2 and 10); a report states them.

    * ``indexatie``: yearly tariff indexation used by ``vorig_jaar``; default
      0.0474, the 4,74% of 2023 in calibration.md (Noord-Limburg).
    * ``volledig_drempel``: a month is onvolledig while its expected completeness
      is below this share (0,95; metrics.md 0.2).
    * ``volledigheid_maanden``: the completeness curve is measured for k = 0 up to
      this many months after a month's end (12); a month older than that counts as
      complete. ``volledigheid_venster``: the curve is measured on this many most
      recent months that are at least that old (12).
    * ``lag_maanden``: only for data without a ``declaratiedatum``: months before
      the peildatum's month treated as onvolledig (3).
    * ``backtest_kwartalen``: how many complete quarters the backtest covers (8);
      ``min_backtest_kwartalen``: fewer than this and the statsmodels method is
      not used, because its backtest would say too little (4).
    * ``interval``: coverage of the prediction interval (0.8 = 80%).
    * ``budget``: regional budget in euro for the peildatum's year, per regio
      name; overrides the sum of budgetplafonds for that regio.
    * ``verzilvering_maanden``: the product's "recent" verzilvering is taken over
      toewijzingen that ended in this many months before the onvolledige months.
    * ``begin``: first month of history to use (default: the first month with a
      positive cost).
    * ``simulaties``: number of simulated ETS paths for interval of period totals.
    """

    indexatie: float = 0.0474
    lag_maanden: int = 3
    backtest_kwartalen: int = 8
    min_backtest_kwartalen: int = 4
    interval: float = 0.8
    budget: Mapping[str, float] | None = None
    verzilvering_maanden: int = 12
    begin: dt.date | None = None
    simulaties: int = 2000
    volledig_drempel: float = 0.95
    volledigheid_maanden: int = 12
    volledigheid_venster: int = 12

    def __post_init__(self):
        if not 0 < self.interval < 1:
            raise ValueError(f"interval must be between 0 and 1, not {self.interval!r}")
        if self.lag_maanden < 0:
            raise ValueError(f"lag_maanden must be >= 0, not {self.lag_maanden!r}")
        if not 0 < self.volledig_drempel <= 1:
            raise ValueError(f"volledig_drempel must be in (0, 1], not {self.volledig_drempel!r}")
        if self.volledigheid_maanden < 0 or self.volledigheid_venster < 1:
            raise ValueError("volledigheid_maanden must be >= 0 and volledigheid_venster >= 1")


# --------------------------------------------------------------------------- BLAS threads

_BLAS_LIBS: list | None = None


def _blas_libs() -> list:
    """(get, set) thread-count functions of the OpenBLAS libraries loaded in this process."""
    global _BLAS_LIBS
    if _BLAS_LIBS is not None:
        return _BLAS_LIBS
    import ctypes

    found = []
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as fh:
            paths = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and "/" in ln})
    except OSError:
        paths = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None) or \
                getattr(lib, f"openblas_get_num_threads{suffix}", None)
            put = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None) or \
                getattr(lib, f"openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                found.append((get, put))
                break
    if any("scipy.libs" in x for x in paths):  # scipy's BLAS is loaded: the list is complete
        _BLAS_LIBS = found
    return found


class _EenBlasThread:
    """Run model fits with single-threaded OpenBLAS, then restore the thread count.

    The ETS likelihood is optimised with L-BFGS-B on a handful of parameters; on
    such tiny problems OpenBLAS threads only add synchronisation: with them one
    series' fits (backtest and forecast) cost about four times the CPU time, which
    counts with 40+ regions on a shared machine. Best effort (what threadpoolctl
    does, without the dependency): without OpenBLAS it does nothing.
    """

    def __enter__(self):
        self._saved = []
        for get, put in _blas_libs():
            try:
                n = int(get())
                put(1)
                self._saved.append((put, n))
            except (OSError, ValueError):  # pragma: no cover - exotic builds
                pass
        return self

    def __exit__(self, *exc):
        for put, n in self._saved:
            put(n)
        return False


# --------------------------------------------------------------------------- dates


def _maand(ts) -> pd.Timestamp:
    return pd.Timestamp(ts).to_period("M").start_time


def _months(start, stop) -> pd.DatetimeIndex:
    """Month starts in [start, stop)."""
    return pd.date_range(_maand(start), pd.Timestamp(stop) - pd.Timedelta(days=1), freq="MS")


def eerste_onvolledige_maand(peildatum, lag_maanden: int = 3) -> pd.Timestamp:
    """First month treated as onvolledig with a *fixed* lag: the peildatum's month
    minus ``lag_maanden`` (used only for data without a ``declaratiedatum``; see
    :func:`onvolledige_maanden` for the measured lag).

    The peildatum is exclusive, so a peildatum on the 1st of a month leaves that
    month out entirely: with peildatum 2024-08-01 and a lag of 3 the months
    2024-05 up to 2024-07 are onvolledig and 2024-04 is the last complete month.
    """
    return _maand(peildatum) - pd.DateOffset(months=lag_maanden)


def horizon_einde(peildatum) -> pd.Timestamp:
    """First day of the month *after* the forecast horizon.

    The horizon covers the rest of the peildatum's year and the next four
    quarters: the four calendar quarters that start on or after the peildatum
    (peildatum 2024-08-01 -> 2024-Q4 .. 2025-Q3, horizon through 2025-09).
    """
    peil = pd.Timestamp(peildatum)
    q = peil.to_period("Q")
    if peil > q.start_time:
        q = q + 1
    end = (q + 3).end_time.normalize() + pd.Timedelta(days=1)
    year_end = pd.Timestamp(peil.year + 1, 1, 1)
    return max(end, year_end)


def _peil(c, peildatum) -> pd.Timestamp:
    return pd.Timestamp(peildatum if peildatum is not None else c.params.peildatum)


# --------------------------------------------------------------------------- declaration lag


def heeft_declaratiedatum(c) -> bool:
    """Whether any cleaned declaration item carries its ``declaratiedatum`` (else the
    lag cannot be measured and the fixed ``lag_maanden`` is used)."""
    return bool(c.con.execute("SELECT count(declaratiedatum) FROM declaraties").fetchall()[0][0])


def volledigheid(c, fp: ForecastParams | None = None, peildatum=None) -> pd.DataFrame:
    """Completeness curve of the declarations per regio (and Nederland), measured
    from the data (metrics.md 0.2, "Declaration lag").

    For k = 0 .. ``fp.volledigheid_maanden`` (H): the share of a month's eventual
    net cost that had been declared k months after the month's end, i.e. by
    declarations dated before the first day of month m + 1 + k. Measured on the
    ``fp.volledigheid_venster`` most recent care months that are at least H months
    old at the peildatum (their cost declared by the peildatum counts as their
    eventual cost), summed over those months: sum(declared by then) / sum(eventual).
    Only items with a ``declaratiedatum`` count (a netted item carries the date of
    its first debet line, :mod:`jeugdlib.clean`).

    Columns ``regio``, ``k``, ``volledigheid`` (fraction; net cost, so credits can
    make it dip). Empty when no item in the reference months has a declaratiedatum,
    or a regio's reference months have no positive cost.
    """
    fp = fp or ForecastParams()
    peil = _maand(_peil(c, peildatum))
    h = fp.volledigheid_maanden
    laatste = peil - pd.DateOffset(months=h + 1)  # the newest month at least H months past its end
    eerste = laatste - pd.DateOffset(months=fp.volledigheid_venster - 1)
    out = engine.df(c.con, f"""
        WITH d AS (  -- reference months' items, with the month (after the care month) they were declared in
            SELECT regio, bedrag_cent::DOUBLE / 100.0 AS kosten,
                   greatest(datediff('month', maand, declaratiedatum), 0) AS k_gedeclareerd
            FROM declaraties
            WHERE declaratiedatum IS NOT NULL AND maand BETWEEN {datum(eerste)} AND {datum(laatste)}),
        per_k AS (
            SELECT CASE WHEN grouping(regio) = 1 THEN '{config.NEDERLAND}' ELSE regio END AS regio,
                   k_gedeclareerd, sum(kosten) AS kosten
            FROM d GROUP BY GROUPING SETS ((regio, k_gedeclareerd), (k_gedeclareerd)))
        SELECT p.regio, k.range AS k,
               coalesce(sum(p.kosten) FILTER (WHERE p.k_gedeclareerd <= k.range), 0) / sum(p.kosten) AS volledigheid
        FROM per_k p CROSS JOIN range(0, {h + 1}) k
        GROUP BY p.regio, k.range HAVING sum(p.kosten) > 0
        ORDER BY p.regio, k""")
    return out.astype({"regio": schema.S, "k": "int64", "volledigheid": "float64"})


def vertraging(curve: pd.DataFrame, drempel: float = 0.95, h: int = 12) -> dict[str, int]:
    """Per regio of a :func:`volledigheid` curve: the fewest months K after its end
    from which a month counts as complete, i.e. the curve is at least ``drempel``
    for every k from K up to ``h`` (beyond ``h`` a month is complete by definition).
    A month with k < K months past its end at the peildatum is onvolledig."""
    out = {}
    for regio, g in curve.groupby("regio", sort=True):
        v = dict(zip(g["k"], g["volledigheid"]))
        k_min = h + 1
        for k in range(h, -1, -1):
            if v.get(k, 0.0) < drempel:
                break
            k_min = k
        out[str(regio)] = k_min
    return out


def onvolledig_vanaf(c, fp: ForecastParams | None = None, peildatum=None) -> dict[str, pd.Timestamp]:
    """First onvolledige month per regio (and Nederland): the peildatum's month minus
    the :func:`vertraging` of the regio's curve; a regio without a curve of its own
    takes Nederland's. Key ``""``: the default for any other series (Nederland's).

    Falls back to the fixed :func:`eerste_onvolledige_maand` (``fp.lag_maanden``)
    when the data has no ``declaratiedatum`` at all, or none in the reference
    months (history shorter than the curve needs)."""
    fp = fp or ForecastParams()
    peil = _peil(c, peildatum)
    vast = eerste_onvolledige_maand(peil, fp.lag_maanden)
    curve = volledigheid(c, fp, peil) if heeft_declaratiedatum(c) else None
    if curve is None or len(curve) == 0:
        return {"": vast}
    k = vertraging(curve, fp.volledig_drempel, fp.volledigheid_maanden)
    out = {regio: _maand(peil) - pd.DateOffset(months=n) for regio, n in k.items()}
    out[""] = out.get(config.NEDERLAND, vast)
    return out


def _vanaf(cuts: Mapping[str, pd.Timestamp], regio: str) -> pd.Timestamp:
    return cuts.get(regio, cuts[""])


def onvolledige_maanden(c, regio: str, fp: ForecastParams | None = None, peildatum=None) -> pd.DataFrame:
    """The recent months of ``regio`` (or ``Nederland``) and whether each is onvolledig
    at the peildatum (metrics.md 0.2).

    One row per month from ``volledigheid_maanden`` + 1 months before the
    peildatum's month (with a fixed lag: from the month before the first onvolledige
    one) up to the month holding the day before the peildatum: ``maand``, ``k``
    (whole months past the month's end at the peildatum; -1 for a month the
    peildatum cuts), ``volledigheid`` (expected completeness from the regio's curve,
    or Nederland's; 1 beyond the curve, 0 for k = -1; NaN with the fixed lag) and
    ``onvolledig`` (expected completeness below ``volledig_drempel``, counted from
    the first month where that holds for every later month)."""
    fp = fp or ForecastParams()
    peil = _peil(c, peildatum)
    cuts = onvolledig_vanaf(c, fp, peil)
    vanaf = _vanaf(cuts, regio)
    gemeten = len(cuts) > 1
    pm = _maand(peil)
    begin = pm - pd.DateOffset(months=fp.volledigheid_maanden + 1) if gemeten else vanaf - pd.DateOffset(months=1)
    maanden = _months(begin, peil)
    k = np.array([(pm.year - m.year) * 12 + pm.month - m.month - 1 for m in maanden], dtype="int64")
    if gemeten:
        curve = volledigheid(c, fp, peil)
        eigen = curve[curve["regio"] == (regio if (curve["regio"] == regio).any() else config.NEDERLAND)]
        v = dict(zip(eigen["k"].tolist(), eigen["volledigheid"].tolist()))
        vol = [0.0 if j < 0 else v.get(j, 1.0) for j in k.tolist()]
    else:
        vol = [np.nan] * len(k)
    return pd.DataFrame({"maand": maanden, "k": k, "volledigheid": np.asarray(vol, dtype="float64"),
                         "onvolledig": maanden >= vanaf})


# --------------------------------------------------------------------------- series


def maandkosten_sql(by: tuple[str, ...] = ("regio",), waar: str = "true") -> str:
    """SQL: net declared cost per month in euro (metrics.md 1, ``kosten``) per group ``by``.

    Over the items of ``declaraties`` where ``waar`` holds; an item belongs to the
    month of its ``periode_begin`` (column ``maand``). Missing ``by`` values are
    grouped as ``onbekend``. Columns: ``by``, ``maand``, ``kosten``; sorted."""
    keys = ", ".join(f"coalesce({b}, 'onbekend') AS {b}" for b in by)
    return f"""
        SELECT {keys}, maand, coalesce(sum(bedrag_cent), 0)::DOUBLE / 100.0 AS kosten
        FROM declaraties WHERE maand IS NOT NULL AND ({waar})
        GROUP BY ALL ORDER BY ALL"""


def met_nederland(tab: pd.DataFrame, kolom: str = "kosten") -> pd.DataFrame:
    """``tab`` (columns regio, other keys, maand, ``kolom``: one row per regio and
    month) with the total over the regions added as regio ``Nederland``.

    The total is the sum of the regions' monthly amounts in euro (pandas' compensated
    sum, in regio order), as the numpy engine computed it: the ETS fit reacts to the
    last bit of its input (summing the cents instead moved a forecast in the 9th
    digit), and the KPI table is held equal to the earlier version's."""
    rest = [c for c in tab.columns if c not in ("regio", "maand", kolom)]
    nl = tab.sort_values(["regio", *rest, "maand"]).groupby([*rest, "maand"], sort=True)[kolom].sum().reset_index()
    nl["regio"] = config.NEDERLAND
    out = pd.concat([tab, nl[tab.columns]], ignore_index=True)
    out["regio"] = out["regio"].astype(schema.S)
    return out


def maandkosten(c, by: tuple[str, ...] = ("regio",), nederland: bool = True, waar: str = "true") -> pd.DataFrame:
    """:func:`maandkosten_sql` as a frame (``maand`` as datetime64); with ``nederland``
    (and ``regio`` in ``by``) also the total over all regions as regio ``Nederland``
    (:func:`met_nederland`, per value of the other ``by`` columns)."""
    out = engine.df(c.con, maandkosten_sql(by, waar))
    out = out.astype({b: schema.S for b in by} | {"maand": "datetime64[ns]", "kosten": "float64"})
    return met_nederland(out) if nederland and "regio" in by else out


def reeks(maandtabel: pd.DataFrame, eind) -> pd.Series:
    """One group's monthly cost (rows ``maand``, ``kosten`` of :func:`maandkosten`) as a
    gapless series: months without lines are 0, from the first month with positive
    cost to the month holding the day before ``eind`` (the peildatum); float64 euro
    indexed by month start (freq ``MS``); empty without a positive month."""
    s = maandtabel.set_index("maand")["kosten"].astype("float64").sort_index()
    pos = s[s > 0]
    if len(pos) == 0 or pos.index[0] >= pd.Timestamp(eind):
        return pd.Series([], dtype="float64", index=pd.DatetimeIndex([], freq="MS"), name="kosten")
    return s.reindex(_months(pos.index[0], eind), fill_value=0.0).rename("kosten")


def _reeksen(tab: pd.DataFrame, by: list[str], eind) -> list[tuple[tuple[str, ...], pd.Series]]:
    """(key, :func:`reeks`) of every group ``by`` of a :func:`maandkosten` table, sorted by key."""
    return [((k,) if isinstance(k, str) else tuple(k), reeks(g, eind))
            for k, g in tab.groupby(by if len(by) > 1 else by[0], sort=True)]


# --------------------------------------------------------------------------- methods


def voorspel_vorig_jaar(y: pd.Series, maanden: pd.DatetimeIndex, indexatie: float = 0.0474) -> pd.Series:
    """Same month last year x (1 + indexatie) (the regions' current method).

    Months more than a year ahead use the forecast of the year before, so they
    are indexed twice: y(t) = y(t - 12 k) x (1 + indexatie)^k with k the number
    of years back to the last observed month. Needs 12 months of history.
    """
    if len(y) < 12:
        raise ValueError("vorig_jaar needs 12 months of history")
    maanden = pd.DatetimeIndex(maanden)
    last = y.index[-1]
    waarden = []
    for m in maanden:
        na = (m.year - last.year) * 12 + m.month - last.month  # months after the last observed one
        k = -(-na // 12)  # ceil: years to step back
        bron = m - pd.DateOffset(months=12 * k)
        if bron not in y.index:
            raise KeyError(f"vorig_jaar: {bron} is not in the history")
        waarden.append(float(y[bron]) * (1.0 + indexatie) ** k)
    return pd.Series(waarden, index=maanden, dtype="float64", name="vorig_jaar")


def voorspel_gemiddelde(y: pd.Series, maanden: pd.DatetimeIndex, venster: int = 12) -> pd.Series:
    """Rolling twelve-month mean: every future month = mean of the last 12 months.

    With fewer than ``venster`` months the mean of all months is used (the
    caller reports that as a reason).
    """
    if len(y) == 0:
        raise ValueError("gemiddelde_12m needs at least one month")
    return pd.Series(float(y.iloc[-venster:].mean()), index=maanden, dtype="float64", name="gemiddelde_12m")


def _ets_fit(y: pd.Series):
    """The fitted ETS model of ``y`` scaled to mean 1 (a plain RangeIndex: the model
    needs no dates), and the scale."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    scale = float(np.abs(y).mean())
    if not np.isfinite(scale) or scale == 0:
        raise ValueError("ets: series is zero")
    ys = pd.Series(y.to_numpy(dtype="float64") / scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(ys, error="add", trend="add", damped_trend=True, seasonal="add",
                         seasonal_periods=12, initialization_method="heuristic")
        res = model.fit(disp=False)
    return res, scale


def voorspel_ets(y: pd.Series, maanden: pd.DatetimeIndex, interval: float = 0.8,
                 simulaties: int = 0, seed: int = 20240801):
    """ETS(A,Ad,A) from statsmodels: forecast with a prediction interval.

    Model: ``ETSModel(error="add", trend="add", damped_trend=True,
    seasonal="add", seasonal_periods=12)``, heuristic initial states, fitted by
    maximum likelihood on the series scaled to mean 1.

    Why this model and not SARIMAX: youth-care cost per region is a level that
    drifts (indexation, growth) with a stable calendar pattern (holiday months,
    year-end) and little else; exponential smoothing models exactly that with
    four smoothing parameters, where a seasonal ARIMA needs an order chosen per
    region from only three to five years of monthly data, which is fragile. The
    trend is damped so that one strong year is not extrapolated in full into the
    next (damped trend is the best single ETS choice in the M-competitions). All
    components are additive so the model is linear: the prediction interval is
    exact (no simulation, hence deterministic) and months with net credits
    (zero or negative cost) are no problem, unlike multiplicative models.
    Seasonality needs two complete years, hence 24 months of history.

    Returns a frame indexed by ``maanden`` with ``waarde``, ``ondergrens``,
    ``bovengrens`` (the ``interval`` prediction interval per month), and with
    ``simulaties`` > 0 also the simulated paths (array repetitions x months,
    fixed ``seed``) as ``frame.attrs["paden"]`` for intervals of period totals.
    ``maanden`` must start right after the last month of ``y``.
    """
    if len(y) < MIN_MAANDEN["ets"]:
        raise ValueError("ets needs 24 months of history")
    n = len(y)
    first = y.index[-1] + pd.DateOffset(months=1)
    if len(maanden) and maanden[0] != first:
        raise ValueError("ets: forecast months must follow the history")
    res, scale = _ets_fit(y)
    h = len(maanden)
    pred = res.get_prediction(start=n, end=n + h - 1, method="exact")
    sf = pred.summary_frame(alpha=1.0 - interval)
    out = pd.DataFrame({
        "waarde": sf["mean"].to_numpy() * scale,
        "ondergrens": sf["pi_lower"].to_numpy() * scale,
        "bovengrens": sf["pi_upper"].to_numpy() * scale,
    }, index=maanden)
    if simulaties:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim = res.simulate(h, anchor="end", repetitions=simulaties,
                               random_state=np.random.RandomState(seed))
        out.attrs["paden"] = np.asarray(sim, dtype="float64").T * scale
    return out


def _voorspel(methode: str, y: pd.Series, maanden: pd.DatetimeIndex, fp: ForecastParams) -> pd.Series:
    if methode == "vorig_jaar":
        return voorspel_vorig_jaar(y, maanden, fp.indexatie)
    if methode == "gemiddelde_12m":
        return voorspel_gemiddelde(y, maanden)
    if methode == "ets":  # point forecast only (the backtest needs no interval)
        if len(y) < MIN_MAANDEN["ets"]:
            raise ValueError("ets needs 24 months of history")
        res, scale = _ets_fit(y)
        return pd.Series(np.asarray(res.forecast(len(maanden))) * scale, index=maanden, name="ets")
    raise ValueError(f"unknown method {methode!r}")


# --------------------------------------------------------------------------- backtest


def backtest_kwartalen(y: pd.Series, n: int = 8, min_historie: int = 12) -> list[pd.Period]:
    """The last ``n`` calendar quarters wholly inside ``y`` with ``min_historie`` months before them."""
    if len(y) == 0:
        return []
    first, last = y.index[0], y.index[-1]
    q_last = last.to_period("Q")
    if (q_last.end_time.normalize().to_period("M").start_time) != last:
        q_last = q_last - 1
    out = []
    q = q_last
    while len(out) < n:
        start = q.start_time
        if start < first:
            break
        hist = (start.year - first.year) * 12 + start.month - first.month
        if hist < min_historie:
            break
        out.append(q)
        q = q - 1
    return sorted(out)


def backtest(y: pd.Series, methoden=METHODEN, fp: ForecastParams | None = None,
             kwartalen: list[pd.Period] | None = None) -> pd.DataFrame:
    """Rolling-origin backtest: per quarter, fit on the months before it, forecast it.

    Returns one row per quarter and method: ``kwartaal`` ('2023-Q2'),
    ``methode``, ``voorspeld`` and ``werkelijk`` (quarter totals, euro), ``fout``
    = voorspeld / werkelijk - 1 (NaN when werkelijk <= 0) and ``abs_fout``.
    A method that cannot forecast a quarter (too little history, or the model
    fails) gets NaN ``voorspeld`` for it. ``y`` holds complete months only.
    """
    fp = fp or ForecastParams()
    if kwartalen is None:
        kwartalen = backtest_kwartalen(y, fp.backtest_kwartalen)
    rows = []
    for q in kwartalen:  # eight quarters: a loop over origins, not over records
        train = y[y.index < q.start_time]
        months = pd.date_range(q.start_time, periods=3, freq="MS")
        actual = float(y.reindex(months).sum())
        for m in methoden:
            try:
                pred = float(_voorspel(m, train, months, fp).sum())
            except (ValueError, np.linalg.LinAlgError):
                pred = np.nan
            rows.append((f"{q.year}-Q{q.quarter}", m, pred, actual))
    bt = pd.DataFrame(rows, columns=["kwartaal", "methode", "voorspeld", "werkelijk"])
    bt["fout"] = np.where(bt["werkelijk"] > 0, bt["voorspeld"] / bt["werkelijk"].where(bt["werkelijk"] > 0) - 1.0,
                          np.nan)
    bt["abs_fout"] = bt["fout"].abs()
    return bt


def mape(bt: pd.DataFrame) -> pd.Series:
    """Mean absolute percentage error per method over the backtest quarters (fraction).

    MAPE = mean over quarters of |voorspeld / werkelijk - 1|; quarters with no
    positive actual cost are left out. A method missing a forecast for any
    quarter gets NaN (it cannot be compared fairly).
    """
    if len(bt) == 0:
        return pd.Series(dtype="float64", name="mape")
    ok = bt[bt["werkelijk"] > 0]
    g = ok.groupby("methode", sort=False)
    out = g["abs_fout"].mean().where(g["voorspeld"].count() == g.size())
    return out.reindex(pd.unique(bt["methode"])).rename("mape")


def kies_methode(m: pd.Series) -> tuple[str | None, pd.Series]:
    """The method with the lowest MAPE and by how much it beats each other method.

    Returns (best, voorsprong) with voorsprong = MAPE(other) - MAPE(best) in
    fraction points (0.031 = 3,1 procentpunt) per method (0 for the best).
    Ties go to the method listed first in :data:`METHODEN` order (simplest).
    """
    valid = m.dropna()
    if len(valid) == 0:
        return None, pd.Series(dtype="float64", name="voorsprong")
    order = [x for x in METHODEN if x in valid.index] + [x for x in valid.index if x not in METHODEN]
    valid = valid.reindex(order)
    best = str(valid.idxmin())
    return best, (valid - valid[best]).rename("voorsprong")


# --------------------------------------------------------------------------- one series


@dataclasses.dataclass
class Prognose:
    """The forecast of one series (a regio, or a regio x segment) with its backtest.

    * ``realisatie``: monthly cost as declared so far (euro), incl. onvolledige months;
    * ``eerste_onvolledig``: first month treated as onvolledig (not fitted);
    * ``voorspelling``: one row per forecast month and method: ``maand``,
      ``methode``, ``waarde``, ``ondergrens``, ``bovengrens`` (interval: exact for
      ``ets``, empirical from the backtest errors for the simple methods);
    * ``backtest``: see :func:`backtest`; ``mape``: per method;
    * ``beste``: the chosen method; ``voorsprong``: MAPE(other) - MAPE(beste);
    * ``methoden``: the methods that were forecast; ``redenen``: Dutch sentences
      saying why a method was left out or what was done instead.
    """

    naam: str
    realisatie: pd.Series
    eerste_onvolledig: pd.Timestamp
    voorspelling: pd.DataFrame
    backtest: pd.DataFrame
    mape: pd.Series
    beste: str | None
    voorsprong: pd.Series
    methoden: tuple[str, ...]
    redenen: list[str]
    paden: np.ndarray | None = None  # ETS simulated paths (repetitions x forecast months)
    interval: float = 0.8  # coverage of ondergrens..bovengrens

    def aangevuld(self, methode: str | None = None) -> pd.DataFrame:
        """Monthly cost: realised where complete, else max(arrived so far, forecast).

        From January of the first year of ``realisatie`` (0 before it) to the end of the horizon, with
        ``waarde``, ``ondergrens``, ``bovengrens`` and ``prognose`` (bool: the month
        comes from the forecast). ``methode`` defaults to the chosen one.
        """
        methode = methode or self.beste
        if methode is None:
            raise ValueError(f"{self.naam}: no forecast")
        f = self.voorspelling[self.voorspelling["methode"] == methode].set_index("maand")
        idx = self.realisatie.index.union(f.index)
        if len(idx):  # from 1 January of the first year, so that year totals exist
            idx = _months(pd.Timestamp(idx[0].year, 1, 1), idx[-1] + pd.DateOffset(months=1))
        real = self.realisatie.reindex(idx, fill_value=0.0)
        out = pd.DataFrame({"waarde": real, "ondergrens": real, "bovengrens": real})
        fm = f.index
        for c in ("waarde", "ondergrens", "bovengrens"):
            out.loc[fm, c] = np.maximum(real.loc[fm].to_numpy(), f[c].to_numpy())
        out["prognose"] = out.index.isin(fm)
        out.index.name = "maand"
        return out

    def per_periode(self, per: str, methode: str | None = None) -> pd.DataFrame:
        """Totals per period ('jaar', 'kwartaal', 'maand') over periods that hold a forecast month.

        The months are those of :meth:`aangevuld`. Only whole periods inside the
        data plus horizon are given (so no partial next year). Interval of a
        total: for ``ets`` from the simulated paths (quantiles of the path sums,
        fixed seed; each path floored at what has arrived), otherwise the sum of
        the monthly bounds (the empirical interval is a relative band, so it adds
        up). Columns ``periode``, ``waarde``, ``ondergrens``, ``bovengrens``,
        ``prognose`` (always true).
        """
        methode = methode or self.beste
        if methode is None:
            raise ValueError(f"{self.naam}: no forecast")
        if per not in PERIODE_MAANDEN:
            raise ValueError(f"unknown per {per!r}")
        cols = ["periode", "waarde", "ondergrens", "bovengrens", "prognose"]
        if not (self.voorspelling["methode"] == methode).any():
            return pd.DataFrame({c: pd.Series([], dtype=object if c == "periode" else "float64") for c in cols})
        a = self.aangevuld(methode)
        a["periode"] = period_label(pd.Series(a.index), per).to_numpy(dtype=object)
        g = a.groupby("periode", sort=False)
        tot = g[["waarde", "ondergrens", "bovengrens"]].sum()
        keep = (g.size() == PERIODE_MAANDEN[per]) & g["prognose"].any()  # whole, with a forecast month
        tot = tot[keep]
        if methode == "ets" and self.paden is not None:
            alpha = (1.0 - self.interval) / 2.0
            prog = a[a["prognose"]]  # the forecast months, in the order of the paths' columns
            paden = np.maximum(self.paden, self.realisatie.reindex(prog.index, fill_value=0.0).to_numpy()[None, :])
            basis = a[~a["prognose"]].groupby("periode")["waarde"].sum()  # the realised months per period
            lab = prog["periode"].to_numpy()
            sums = [paden[:, lab == p].sum(axis=1) + basis.get(p, 0.0) for p in tot.index]  # a few periods
            tot["ondergrens"] = [float(np.quantile(x, alpha)) for x in sums]
            tot["bovengrens"] = [float(np.quantile(x, 1 - alpha)) for x in sums]
        out = tot.reset_index()
        out["prognose"] = True
        return out[cols]


def prognose_reeks(y_all: pd.Series, peildatum, fp: ForecastParams | None = None,
                   naam: str = "", eerste_onvolledig=None) -> Prognose:
    """Forecast one monthly series with all methods, backtest them, choose the best.

    ``y_all`` is the monthly cost as declared up to the peildatum (onvolledige
    months included; they are cut off here from ``eerste_onvolledig``, default the
    fixed :func:`eerste_onvolledige_maand`). Too little history never raises: a
    method that cannot be used is left out and :attr:`Prognose.redenen` says why,
    e.g. "te weinig historie (18 volledige maanden): het statsmodels-model vraagt
    er minstens 24".
    """
    fp = fp or ForecastParams()
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401  (loads scipy's BLAS before it is tuned)

    with _EenBlasThread():
        return _prognose_reeks(y_all, peildatum, fp, naam, eerste_onvolledig)


def _prognose_reeks(y_all: pd.Series, peildatum, fp: ForecastParams, naam: str, eerste_onvolledig) -> Prognose:
    cut = _maand(eerste_onvolledig) if eerste_onvolledig is not None else \
        eerste_onvolledige_maand(peildatum, fp.lag_maanden)
    if fp.begin is not None:
        y_all = y_all[y_all.index >= _maand(fp.begin)]
    y = y_all[y_all.index < cut]
    maanden = _months(cut, horizon_einde(peildatum))
    n = len(y)
    redenen: list[str] = []
    methoden = []
    if n == 0:
        redenen.append("geen volledige maanden met kosten vóór "
                       f"{cut:%Y-%m}: geen prognose mogelijk")
    elif n < 12:
        methoden = ["gemiddelde_12m"]
        redenen.append(f"te weinig historie ({n} volledige maanden): alleen het gemiddelde over "
                       f"{n} maanden; vorig jaar + indexatie vraagt 12 maanden, het statsmodels-model 24")
    else:
        methoden = ["vorig_jaar", "gemiddelde_12m"]
        if n < MIN_MAANDEN["ets"]:
            redenen.append(f"te weinig historie ({n} volledige maanden): het statsmodels-model "
                           f"vraagt er minstens {MIN_MAANDEN['ets']} (twee volle jaren voor het seizoenspatroon); "
                           "alleen de eenvoudige methoden")
        else:
            methoden.append("ets")

    # Backtest: all methods on the same quarters.
    kwartalen = backtest_kwartalen(y, fp.backtest_kwartalen, 12)
    if "ets" in methoden:
        kw_ets = backtest_kwartalen(y, fp.backtest_kwartalen, MIN_MAANDEN["ets"])
        if len(kw_ets) < fp.min_backtest_kwartalen:
            methoden.remove("ets")
            redenen.append(f"te weinig historie ({n} volledige maanden) voor een backtest van het "
                           f"statsmodels-model over minstens {fp.min_backtest_kwartalen} kwartalen "
                           f"(nodig: {MIN_MAANDEN['ets'] + 3 * fp.min_backtest_kwartalen} maanden); "
                           "alleen de eenvoudige methoden")
        else:
            kwartalen = kw_ets
    bt = backtest(y, methoden, fp, kwartalen) if kwartalen and methoden else \
        pd.DataFrame(columns=["kwartaal", "methode", "voorspeld", "werkelijk", "fout", "abs_fout"])
    if methoden and 0 < len(kwartalen) < fp.backtest_kwartalen:
        redenen.append(f"backtest over {len(kwartalen)} in plaats van {fp.backtest_kwartalen} kwartalen "
                       "(niet genoeg historie)")
    if "ets" in methoden and bt.loc[bt["methode"] == "ets", "voorspeld"].isna().any():
        methoden.remove("ets")
        bt = bt[bt["methode"] != "ets"].reset_index(drop=True)
        redenen.append("het statsmodels-model liet zich niet op elk backtestkwartaal schatten; "
                       "alleen de eenvoudige methoden")
    m = mape(bt)
    beste, voorsprong = kies_methode(m)
    if beste is None and methoden:
        beste = "gemiddelde_12m"
        waarom = "geen kwartaal met positieve kosten in de backtestperiode" if len(bt) else \
            "te weinig volledige kwartalen"
        redenen.append(f"geen backtest mogelijk ({waarom}): het twaalfmaandsgemiddelde wordt gebruikt")

    # Final forecasts.
    parts = []
    paden = None
    for meth in list(methoden):
        if meth == "ets":
            try:
                f = voorspel_ets(y, maanden, fp.interval, fp.simulaties)
            except (ValueError, np.linalg.LinAlgError) as exc:
                methoden.remove("ets")
                redenen.append(f"het statsmodels-model liet zich niet schatten ({exc}); alleen de eenvoudige methoden")
                if beste == "ets":
                    beste, voorsprong = kies_methode(m.drop("ets"))
                continue
            paden = f.attrs.get("paden")
        else:
            w = _voorspel(meth, y, maanden, fp)
            errs = bt.loc[bt["methode"] == meth, "fout"].dropna()
            lo, hi = (float(errs.min()), float(errs.max())) if len(errs) else (np.nan, np.nan)
            f = pd.DataFrame({"waarde": w, "ondergrens": w * (1 + min(lo, 0.0)),
                              "bovengrens": w * (1 + max(hi, 0.0))}, index=maanden)
        f = f.rename_axis("maand").reset_index()
        f.insert(1, "methode", meth)
        parts.append(f)
    cols = ["maand", "methode", "waarde", "ondergrens", "bovengrens"]
    voorsp = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    return Prognose(naam=naam, realisatie=y_all.copy(), eerste_onvolledig=cut,
                    voorspelling=voorsp, backtest=bt.reset_index(drop=True), mape=m, beste=beste,
                    voorsprong=voorsprong, methoden=tuple(methoden), redenen=redenen, paden=paden,
                    interval=fp.interval)


# --------------------------------------------------------------------------- regions


def _binnen_regio(regio: str | None) -> str:
    """SQL condition on declaraties for one regio (all rows for None or Nederland)."""
    if regio is None or regio == config.NEDERLAND:
        return "true"
    return f"regio = {engine._lit(regio)}"


def prognoses(cleaned, fp: ForecastParams | None = None, *, segment: bool = False,
              peildatum=None, regio: str | None = None) -> dict[tuple[str, ...], Prognose]:
    """Forecast per regio (and ``Nederland``), or per regio x segment with ``segment=True``.

    Keys are ``(regio,)`` or ``(regio, segment)``. Series come from
    :func:`maandkosten` (all history before the peildatum is used, not only the
    analysis window ``params.start``, because the models need years of history);
    each is fitted on its regio's complete months (:func:`onvolledig_vanaf`). A
    segment whose history is too short gets the simple methods and a reason, like
    a region. With ``regio`` only that regio's series are forecast (``Nederland``:
    the total).
    """
    fp = fp or ForecastParams()
    peil = _peil(cleaned, peildatum)
    cuts = onvolledig_vanaf(cleaned, fp, peil)
    by = ["regio", "segment"] if segment else ["regio"]
    tab = maandkosten(cleaned, tuple(by), regio is None or regio == config.NEDERLAND, _binnen_regio(regio))
    if regio is not None:
        tab = tab[tab["regio"] == regio]
    return {key: prognose_reeks(y, peil, fp, naam=" / ".join(key), eerste_onvolledig=_vanaf(cuts, key[0]))
            for key, y in _reeksen(tab, by, peil)}


def overzicht(progs: Mapping[tuple[str, ...], Prognose]) -> pd.DataFrame:
    """One row per series and method: MAPE, voorsprong, chosen (bool), reasons joined.

    The table the Prognose report shows next to the forecasts.
    """
    rows = []
    for p in progs.values():
        for meth in METHODEN:
            rows.append({
                "reeks": p.naam, "methode": meth, "label": METHODE_LABELS[meth],
                "gebruikt": meth in p.methoden,
                "mape": float(p.mape.get(meth, np.nan)) if len(p.mape) else np.nan,
                "voorsprong": float(p.voorsprong.get(meth, np.nan)) if len(p.voorsprong) else np.nan,
                "gekozen": meth == p.beste,
                "kwartalen": int(p.backtest["kwartaal"].nunique()) if len(p.backtest) else 0,
                "redenen": "; ".join(p.redenen),
            })
    return pd.DataFrame(rows)


def jaartotalen(progs: Mapping[tuple[str, ...], Prognose], jaar: int, methode: str | None = None) -> pd.DataFrame:
    """Forecast for the whole year ``jaar`` per series (realised + forecast, see :meth:`Prognose.aangevuld`).

    Columns: ``regio`` (the key joined with " / " for segment keys), ``methode``
    (default the chosen one), ``waarde``, ``ondergrens``, ``bovengrens`` (euro).
    Series without a forecast for that whole year are left out.
    """
    rows = []
    for key, p in progs.items():
        m = methode or p.beste
        if m is None or m not in p.methoden:
            continue
        j = p.per_periode("jaar", m)
        j = j[j["periode"] == str(jaar)]
        if len(j):
            rows.append({"regio": " / ".join(key), "methode": m, "waarde": float(j["waarde"].iloc[0]),
                         "ondergrens": float(j["ondergrens"].iloc[0]), "bovengrens": float(j["bovengrens"].iloc[0])})
    return pd.DataFrame(rows, columns=["regio", "methode", "waarde", "ondergrens", "bovengrens"])


# --------------------------------------------------------------------------- committed cost


def recente_verzilvering(c, peildatum=None, fp: ForecastParams | None = None,
                         min_toewijzingen: int = 10) -> pd.DataFrame:
    """The product's recent verzilvering, per regio and productcode (metrics.md 3 and 10).

    Over toewijzingen of ``inspanning`` products that ended in the
    ``verzilvering_maanden`` months before the first onvolledige month (Nederland's,
    so that their declarations are in), status ``ok``
    (:func:`jeugdlib.metrics.verzilvering.verzilvering_per_product`):
    sum(geleverd) / sum(toegewezen). With fewer than ``min_toewijzingen`` ended
    toewijzingen the next level is used: the product over all regions, then the
    regio over all products, then everything (at least one).
    Returns one row per (regio, productcode) of the cleaned toewijzingen (missing
    regio 'onbekend', productcode '') with ``verzilvering`` and ``bron``
    (``regio_product``, ``product``, ``regio``, ``totaal`` or ``geen``).
    """
    from .metrics.verzilvering import verzilvering_per_product

    fp = fp or ForecastParams()
    peil = _peil(c, peildatum)
    cut = _vanaf(onvolledig_vanaf(c, fp, peil), config.NEDERLAND)
    v = verzilvering_per_product(c, cut - pd.DateOffset(months=fp.verzilvering_maanden), cut)
    keys = engine.df(c.con, """
        SELECT DISTINCT coalesce(regio, 'onbekend') AS regio, coalesce(productcode, '') AS productcode
        FROM toewijzingen ORDER BY regio, productcode""")

    def level(cols: list[str], minimum: int) -> pd.Series:
        g = v.groupby(cols, observed=True)[["geleverd_cent", "toegewezen_cent", "toewijzingen"]].sum() if cols \
            else v[["geleverd_cent", "toegewezen_cent", "toewijzingen"]].sum().to_frame().T
        g = g[(g["toewijzingen"] >= minimum) & (g["toegewezen_cent"] > 0)]
        return (g["geleverd_cent"] / g["toegewezen_cent"]).rename("r")

    out = keys.assign(verzilvering=np.nan, bron="geen")
    for naam, cols, minimum in (("regio_product", ["regio", "productcode"], min_toewijzingen),
                                ("product", ["productcode"], min_toewijzingen),
                                ("regio", ["regio"], min_toewijzingen), ("totaal", [], 1)):
        r = level(cols, minimum)
        if cols:
            val = out[cols].merge(r.reset_index(), on=cols, how="left")["r"].to_numpy(dtype="float64")
        else:
            val = np.full(len(out), float(r.iloc[0]) if len(r) else np.nan)
        fill = out["verzilvering"].isna().to_numpy() & ~np.isnan(val)
        out.loc[fill, "verzilvering"] = val[fill]
        out.loc[fill, "bron"] = naam
    return out.reset_index(drop=True)


def resterend_sql(peildatum, eind, waar: str = "true") -> str:
    """SQL: remaining maximum amount per open toewijzing and month, before
    verzilvering (euro), over ``toewijzingen`` where ``waar``.

    For toewijzingen of ``inspanning`` products that are open on the peildatum
    (einddatum empty or on/after it): the maximum volume of metrics.md section 3
    over the part of the toewijzing from the peildatum up to its einddatum (open:
    up to ``eind``, the end of the forecast horizon), spread over months:
    per dag = volume x days, per week = volume x days / 7, per maand = volume per
    overlapping calendar month, totaal = volume x (days in the month / days of the
    whole toewijzing); valued at the product's tarief (eenheid 83 without a Budget:
    the volume is in euro). Budget-only toewijzingen (a Budget) give budget x days /
    days of the whole toewijzing. Columns: rij (the toewijzing's row), gemeentecode,
    toewijzing_nr, regio (missing 'onbekend'), productcode (missing ''), maand, dagen,
    maximum (NULL: cannot be valued: unknown frequentie, no volume or no tarief).
    """
    from .metrics.verzilvering import EENHEID_EURO, eenheid_sql, frequentie_sql

    peil = datum(peildatum)
    laatste = datum(pd.Timestamp(eind) - pd.Timedelta(days=1))
    return f"""
        WITH t AS (
            SELECT rij, gemeentecode, toewijzing_nr, coalesce(regio, 'onbekend') AS regio,
                   coalesce(productcode, '') AS productcode, ingangsdatum,
                   greatest(ingangsdatum, {peil}) AS eerste,
                   least(coalesce(einddatum, {laatste}), {laatste}) AS laatste,
                   {frequentie_sql('frequentie')} AS freq, volume::DOUBLE AS volume,
                   budget_cent::DOUBLE / 100.0 AS budget,
                   CASE WHEN {eenheid_sql('eenheid')} = '{EENHEID_EURO}' AND budget_cent IS NULL THEN 1.0
                        ELSE tarief_cent::DOUBLE / 100.0 END AS tarief
            FROM toewijzingen
            WHERE financieringsvorm = 'inspanning' AND (einddatum IS NULL OR einddatum >= {peil}) AND ({waar})),
        m AS (SELECT maand::DATE AS maand
              FROM range(date_trunc('month', {peil}), {laatste} + 1, INTERVAL 1 MONTH) r(maand)),
        tm AS (
            SELECT t.*, m.maand,
                   greatest(datediff('day', greatest(t.eerste, m.maand), least(t.laatste, last_day(m.maand))) + 1,
                            0)::DOUBLE AS dagen,
                   greatest(datediff('day', t.ingangsdatum, t.laatste) + 1, 1)::DOUBLE AS totaal_dagen
            FROM t CROSS JOIN m)
        SELECT rij, gemeentecode, toewijzing_nr, regio, productcode, maand, dagen,
               CASE WHEN budget IS NOT NULL THEN budget * dagen / totaal_dagen
                    ELSE volume * (CASE freq WHEN '1' THEN dagen WHEN '2' THEN dagen / 7.0
                                             WHEN '4' THEN (dagen > 0)::DOUBLE WHEN '6' THEN dagen / totaal_dagen END)
                         * tarief END AS maximum
        FROM tm"""


def resterend_maximum(c, peildatum=None, eind=None, waar: str = "true") -> pd.DataFrame:
    """:func:`resterend_sql` per toewijzing and month as a frame (for tests and a
    region's report): rows with a non-zero amount; toewijzingen that cannot be
    valued are left out and counted in ``frame.attrs["niet_gewaardeerd"]``."""
    peil = _peil(c, peildatum)
    eind = pd.Timestamp(eind) if eind is not None else horizon_einde(peil)
    sql = resterend_sql(peil, eind, waar)
    out = engine.df(c.con, f"""
        SELECT toewijzing_nr, regio, productcode, maand, maximum FROM ({_gewaardeerd(sql)})
        ORDER BY rij, maand""")
    out.attrs["niet_gewaardeerd"] = _niet_gewaardeerd(c, sql)
    return out


def _gewaardeerd(sql: str) -> str:
    """SQL: the rows of :func:`resterend_sql` ``sql`` with a non-zero amount, of the
    toewijzingen that can be valued in every month."""
    return f"""SELECT * FROM ({sql}) WHERE maximum <> 0
               AND rij NOT IN (SELECT rij FROM ({sql}) WHERE maximum IS NULL)"""


def _niet_gewaardeerd(c, sql: str) -> int:
    """Open toewijzingen of :func:`resterend_sql` ``sql`` that cannot be valued."""
    return int(c.con.execute(f"SELECT count(DISTINCT rij) FROM ({sql}) WHERE maximum IS NULL").fetchall()[0][0])


def verplichte_kosten(resterend: pd.DataFrame, verzilvering: pd.DataFrame | None,
                      nederland: bool = True) -> pd.DataFrame:
    """Allocation-based forecast of committed cost per regio and month (metrics.md 10).

    committed = remaining maximum (volume x tarief, ``resterend``: columns regio,
    productcode, maand, maximum; per toewijzing or already summed per product) x
    the product's recent verzilvering (:func:`recente_verzilvering`), summed per
    regio and month; with ``nederland`` also the total. Remaining amounts whose
    product has no verzilvering at all are left out and their amount is in
    ``frame.attrs["zonder_verzilvering"]`` (euro).
    Columns: ``regio``, ``maand``, ``maximum``, ``verplicht`` (euro).
    """
    cols = ["regio", "maand", "maximum", "verplicht"]
    if len(resterend) == 0:
        out = pd.DataFrame({"regio": pd.Series([], dtype=schema.S), "maand": pd.Series([], dtype="datetime64[ns]"),
                            "maximum": pd.Series([], dtype="float64"), "verplicht": pd.Series([], dtype="float64")})
        out.attrs["zonder_verzilvering"] = 0.0
        return out
    r = resterend.astype({"regio": schema.S, "productcode": schema.S}).merge(
        verzilvering[["regio", "productcode", "verzilvering"]].astype({"regio": schema.S, "productcode": schema.S}),
        on=["regio", "productcode"], how="left")
    fac = pd.to_numeric(r["verzilvering"]).to_numpy(dtype="float64")
    r["verplicht"] = r["maximum"].to_numpy(dtype="float64") * fac
    zonder = float(r.loc[np.isnan(fac), "maximum"].sum())
    r["verplicht"] = r["verplicht"].fillna(0.0)
    parts = [r[cols]]
    if nederland:
        parts.append(parts[0].assign(regio=config.NEDERLAND))
    out = pd.concat(parts, ignore_index=True).groupby(["regio", "maand"], sort=True)[["maximum", "verplicht"]] \
        .sum().reset_index()
    out.attrs["zonder_verzilvering"] = zonder
    return out


def verplicht(cleaned, fp: ForecastParams | None = None, peildatum=None, regio: str | None = None) -> pd.DataFrame:
    """Committed cost of the open toewijzingen per regio and month, from a Cleaned dataset.

    The remaining maximum (:func:`resterend_sql`, summed in SQL per regio,
    productcode and month over the toewijzingen that can be valued) x
    :func:`recente_verzilvering`, see :func:`verplichte_kosten`. With ``regio`` only
    that regio (or ``Nederland``). ``attrs``: ``niet_gewaardeerd`` (open
    toewijzingen that could not be valued), ``zonder_verzilvering`` (euro).
    Without any open toewijzing (e.g. a JW323-only dataset) the frame is empty.
    """
    fp = fp or ForecastParams()
    peil = _peil(cleaned, peildatum)
    waar = "true" if regio is None or regio == config.NEDERLAND else f"regio = {engine._lit(regio)}"
    sql = resterend_sql(peil, horizon_einde(peil), waar)
    rest = engine.df(cleaned.con, f"""
        SELECT regio, productcode, maand, {som('maximum')} AS maximum FROM ({_gewaardeerd(sql)})
        GROUP BY ALL ORDER BY ALL""")
    rest["maand"] = rest["maand"].astype("datetime64[ns]")
    # the product's verzilvering may fall back to all regions: computed over everything
    vz = recente_verzilvering(cleaned, peil, fp) if len(rest) else None
    out = verplichte_kosten(rest, vz)
    if regio is not None:
        zonder = out.attrs["zonder_verzilvering"]
        out = out[out["regio"] == regio].reset_index(drop=True)
        out.attrs["zonder_verzilvering"] = zonder
    out.attrs["niet_gewaardeerd"] = _niet_gewaardeerd(cleaned, sql)
    return out


# --------------------------------------------------------------------------- budget


def budget_per_regio(budgetplafonds: pd.DataFrame, gemeenten: pd.DataFrame, jaar: int,
                     budget: Mapping[str, float] | None = None) -> pd.Series:
    """Budget per regio for ``jaar`` in euro: the sum of budgetplafonds, or the parameter.

    A plafond with a gemeentecode counts for that gemeente's regio; one without
    a gemeentecode counts for the only regio when ``gemeenten`` has one regio,
    else only for ``Nederland`` (it cannot be split). ``Nederland`` = all
    plafonds of the year. Entries of ``budget`` (regio -> euro) replace the sum.
    (The reference tables are small: plain pandas.)
    """
    bp = budgetplafonds[pd.to_numeric(budgetplafonds["jaar"]).eq(jaar).fillna(False).to_numpy(dtype=bool)]
    bedrag = pd.to_numeric(bp["plafond_cent"]).to_numpy(dtype="float64", na_value=np.nan) / 100.0
    regios = gemeenten["regio_naam"].dropna().unique()
    g2r = dict(zip(gemeenten["gemeentecode"].astype(str), gemeenten["regio_naam"].astype(str)))
    reg = bp["gemeentecode"].astype(schema.S).map(g2r).astype(object).to_numpy()
    if len(regios) == 1:
        reg = np.where(pd.isna(reg), regios[0], reg)
    out = pd.Series(bedrag, index=reg, dtype="float64")
    res = out[~pd.isna(out.index)].groupby(level=0).sum() if len(out) else pd.Series(dtype="float64")
    if len(bp):
        res[config.NEDERLAND] = float(np.nansum(bedrag))
    for k, v in (budget or {}).items():
        res[k] = float(v)
    return res.rename("budget")


def onder_plafond_sql(jaar: int) -> str:
    """SQL: the ``declaraties`` rows (all columns) with two flags saying whether the
    item falls under a budgetplafond of ``jaar`` (metrics.md 8 and 10): ``alle``
    (covered by any plafond) and ``met_gemeente`` (covered by a plafond that names
    a gemeente, so attributable to that gemeente's regio).

    A plafond row covers the items of its ``agb``, restricted to its
    ``gemeentecode`` and ``productcode`` where those are given (codes compared
    stripped; a missing code is '')."""
    def txt(col):
        return f"coalesce(trim({col}), '')"

    return f"""
        WITH b AS (
            SELECT DISTINCT {txt('agb')} AS agb, {txt('gemeentecode')} AS gem, {txt('productcode')} AS prod
            FROM ref_budgetplafonds WHERE jaar = {int(jaar)}),
        dekking AS (
            SELECT d.rij, bool_or(b.gem <> '') AS met_gemeente
            FROM declaraties d JOIN b ON b.agb = {txt('d.agb')}
                AND (b.gem = '' OR b.gem = {txt('d.gemeentecode')}) AND (b.prod = '' OR b.prod = {txt('d.productcode')})
            GROUP BY d.rij)
        SELECT d.*, k.rij IS NOT NULL AS alle, coalesce(k.met_gemeente, false) AS met_gemeente
        FROM declaraties d LEFT JOIN dekking k USING (rij)"""


def onder_plafond(c, jaar: int) -> pd.DataFrame:
    """:func:`onder_plafond_sql` as a frame: ``met_gemeente`` and ``alle`` per item,
    in the order of ``rij``."""
    return engine.df(c.con, f"SELECT met_gemeente, alle FROM ({onder_plafond_sql(jaar)}) ORDER BY rij")


def plafond_prognoses(cleaned, jaar: int, fp: ForecastParams | None = None, peildatum=None,
                      regio: str | None = None) -> dict[tuple[str, ...], Prognose]:
    """Forecast of the cost that falls under the budgetplafonds of ``jaar``, per regio and Nederland.

    Budgetplafonds cap what some aanbieders may declare; their sum is compared
    with the forecast of *those* aanbieders' cost (:func:`onder_plafond_sql`), not
    with the region's total cost. A regio counts the items under plafonds that
    name one of its gemeenten (all plafonds when the data holds one regio);
    Nederland counts the items under any plafond.
    """
    fp = fp or ForecastParams()
    peil = _peil(cleaned, peildatum)
    cuts = onvolledig_vanaf(cleaned, fp, peil)
    een_regio = cleaned.con.execute(
        "SELECT count(DISTINCT regio_naam) FROM schoon_gemeenten").fetchall()[0][0] == 1
    regionaal = "alle" if een_regio else "met_gemeente"
    binnen = _binnen_regio(regio)
    tab = engine.df(cleaned.con, f"""
        SELECT coalesce(regio, 'onbekend') AS regio, maand,
               coalesce(sum(bedrag_cent) FILTER (WHERE {regionaal}), 0)::DOUBLE / 100.0 AS kosten,
               coalesce(sum(bedrag_cent), 0)::DOUBLE / 100.0 AS alle, count(*) FILTER (WHERE {regionaal}) AS n
        FROM ({onder_plafond_sql(jaar)}) WHERE alle AND maand IS NOT NULL AND {binnen}
        GROUP BY ALL ORDER BY ALL""").astype({"regio": schema.S, "maand": "datetime64[ns]", "kosten": "float64",
                                               "alle": "float64"})
    nl = met_nederland(tab[["regio", "maand", "alle"]], "alle")  # Nederland: every item under a plafond
    nl = nl[nl["regio"] == config.NEDERLAND].rename(columns={"alle": "kosten"})
    tab = pd.concat([tab[tab["n"] > 0][["regio", "maand", "kosten"]], nl], ignore_index=True)
    if regio is not None:
        tab = tab[tab["regio"] == regio]
    return {key: prognose_reeks(y, peil, fp, naam=f"{key[0]} (onder budgetplafond)",
                                eerste_onvolledig=_vanaf(cuts, key[0]))
            for key, y in _reeksen(tab, ["regio"], peil)}


def budget_vergelijking(cleaned, progs: Mapping[tuple[str, ...], Prognose], jaar: int,
                        fp: ForecastParams | None = None, peildatum=None, regio: str | None = None,
                        plafond_progs: Mapping[tuple[str, ...], Prognose] | None = None) -> pd.DataFrame:
    """Budget signal per regio: the right forecast against the right budget.

    A regional budget parameter (``fp.budget``) is compared with the regio's
    total cost forecast (``progs``); a budget from budgetplafonds with the
    forecast of the cost under those plafonds (:func:`plafond_prognoses`).
    Columns of :func:`budget_signaal` plus ``bron`` (``parameter`` or
    ``budgetplafonds``) and ``methode``. ``plafond_progs``: :func:`plafond_prognoses`
    when already computed.
    """
    fp = fp or ForecastParams()
    bud, par, rest = _budget_delen(cleaned, jaar, fp, regio)
    parts = []
    if par:
        jt = jaartotalen({k: v for k, v in progs.items() if len(k) == 1 and k[0] in par}, jaar)
        parts.append(budget_signaal(jt, bud[par]).merge(jt[["regio", "methode"]], on="regio")
                     .assign(bron="parameter"))
    if rest:
        pp = plafond_progs if plafond_progs is not None else plafond_prognoses(cleaned, jaar, fp, peildatum,
                                                                                regio=regio)
        jt = jaartotalen(pp, jaar)
        parts.append(budget_signaal(jt, bud[rest]).merge(jt[["regio", "methode"]], on="regio")
                     .assign(bron="budgetplafonds"))
    cols = ["regio", "budget", "prognose", "ratio", "signaal", "zeker", "mogelijk", "methode", "bron"]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def _budget_delen(cleaned, jaar: int, fp: ForecastParams, regio: str | None = None):
    """(budget per regio, regions with a budget parameter, regions compared with the
    forecast under their budgetplafonds) as :func:`budget_vergelijking` uses them."""
    params_budget = dict(fp.budget or {})
    bud = budget_per_regio(cleaned.budgetplafonds, cleaned.gemeenten, jaar, params_budget)
    if regio is not None:
        bud = bud[bud.index == regio]
    par = [r for r in bud.index if r in params_budget]
    rest = [r for r in bud.index if r not in params_budget and bud[r] > 0]
    return bud, par, rest


def budget_signaal(jaartotalen: pd.DataFrame, budget: pd.Series) -> pd.DataFrame:
    """Signal when the forecast for the year passes the budget.

    ``jaartotalen``: per ``regio`` the year forecast ``waarde`` with
    ``ondergrens``/``bovengrens``. Returns per regio with a budget: ``budget``,
    ``prognose``, ``ratio`` = prognose / budget, ``signaal`` (prognose > budget),
    and ``zeker`` (also the lower bound passes the budget) and ``mogelijk`` (the
    upper bound passes it).
    """
    j = jaartotalen.set_index("regio")
    b = budget[budget > 0]
    common = j.index.intersection(b.index)
    j, b = j.loc[common], b.loc[common]
    return pd.DataFrame({
        "regio": common, "budget": b.to_numpy(), "prognose": j["waarde"].to_numpy(),
        "ratio": (j["waarde"] / b).to_numpy(),
        "signaal": (j["waarde"] > b).to_numpy(), "zeker": (j["ondergrens"] > b).to_numpy(),
        "mogelijk": (j["bovengrens"] > b).to_numpy(),
    })


# --------------------------------------------------------------------------- KPI rows


@dataclasses.dataclass
class Uitkomst:
    """Everything the forecast KPIs need, computed once (:func:`bereken`): the
    forecasts per regio and Nederland, the committed cost per month, the budget
    signal, the peildatum's ``jaar``."""

    peildatum: pd.Timestamp
    jaar: int
    progs: dict
    verplicht: pd.DataFrame
    signaal: pd.DataFrame


def bereken(cleaned, fp: ForecastParams | None = None, peildatum=None) -> Uitkomst:
    """Fit every forecast the KPI table needs, once: per regio and Nederland, the
    forecast under budgetplafonds where a plafond gives a budget, and the committed
    cost of the open toewijzingen."""
    fp = fp or ForecastParams()
    peil = _peil(cleaned, peildatum)
    jaar = (peil - pd.Timedelta(days=1)).year
    progs = prognoses(cleaned, fp, peildatum=peil)
    sig = budget_vergelijking(cleaned, progs, jaar, fp, peildatum=peil)
    return Uitkomst(peildatum=peil, jaar=jaar, progs=progs, verplicht=verplicht(cleaned, fp, peildatum=peil),
                    signaal=sig)


_KPI_COLS = ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", schema.KPI_N, "voorlopig"]


def kpi_rows(u: Uitkomst, per: str) -> pd.DataFrame:
    """KPI rows of the forecast (docs/architecture.md "KPI rows"), all ``voorlopig``.

    * ``kosten_prognose`` (euro), ``dimensie="methode=<naam>"`` for each method
      used and ``methode=gekozen`` (the backtest's best), per period of ``per``
      that holds a forecast month (months not yet complete are realised-or-
      forecast, see :meth:`Prognose.aangevuld`); a year only when it is whole
      inside the horizon (the peildatum's year);
    * ``kosten_prognose_ondergrens`` / ``_bovengrens`` (euro, ``methode=gekozen``):
      the prediction interval of the chosen forecast;
    * ``kosten_verplicht`` (euro): committed cost of open toewijzingen in the
      forecast periods (from the peildatum on; periods wholly in the horizon, and
      the peildatum's own);
    * ``kosten_prognose_budget`` (fractie, periode = ``jaar``): the ``ratio`` of
      :func:`budget_vergelijking` (``signaal``), when a budget is known.

    Regio level and ``Nederland`` only (gemeente ""): the forecast is per regio.
    Only periods ending on or after the peildatum are given, so every row is
    ``voorlopig`` also by the KPI table's rule (the onvolledige months before the
    peildatum's period are in :class:`Prognose`, not in the KPI table).
    """
    parts = []

    def rows(kpi, regio, periode, dimensie, waarde, eenheid="euro"):
        parts.append(pd.DataFrame({"kpi": kpi, "regio": regio, "periode": list(periode), "dimensie": dimensie,
                                   "waarde": np.asarray(waarde, dtype="float64"), "eenheid": eenheid}))

    for key, p in u.progs.items():
        if len(key) != 1 or p.beste is None:
            continue
        for meth in list(p.methoden) + ["gekozen"]:
            t = p.per_periode(per, p.beste if meth == "gekozen" else meth)
            rows("kosten_prognose", key[0], t["periode"], f"methode={meth}", t["waarde"])
            if meth == "gekozen":
                rows("kosten_prognose_ondergrens", key[0], t["periode"], "methode=gekozen", t["ondergrens"])
                rows("kosten_prognose_bovengrens", key[0], t["periode"], "methode=gekozen", t["bovengrens"])
    sig = u.signaal
    if len(sig):
        rows("kosten_prognose_budget", sig["regio"].to_numpy(), [str(u.jaar)] * len(sig), "methode=gekozen",
             sig["ratio"], "fractie")
    v = u.verplicht
    if len(v):
        v = v.assign(periode=period_label(v["maand"], per).to_numpy(dtype=object))
        g = v.groupby(["regio", "periode"], sort=True).agg(verplicht=("verplicht", "sum"),
                                                            maanden=("maand", "nunique")).reset_index()
        # only periods the horizon covers entirely (no partial next year), and the first one
        eerste = period_label(pd.Series([v["maand"].min()]), per).iloc[0]
        g = g[(g["maanden"] == PERIODE_MAANDEN[per]) | (g["periode"] == eerste)]
        rows("kosten_verplicht", g["regio"].to_numpy(), g["periode"], "", g["verplicht"])
    out = pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame({c: pd.Series([], dtype="float64" if c == "waarde" else object)
                      for c in ("kpi", "regio", "periode", "dimensie", "waarde", "eenheid")})
    out["gemeente"] = ""
    out[schema.KPI_N] = np.nan
    out["voorlopig"] = True
    if len(out):
        ends = {lab: pd.Period(str(lab)).end_time.normalize() for lab in out["periode"].unique()}
        out = out[out["periode"].map(ends) >= u.peildatum]
    out = out[_KPI_COLS].reset_index(drop=True)
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        out[c] = out[c].astype(schema.S)
    out["waarde"] = out["waarde"].astype("float64").astype(schema.F)
    out[schema.KPI_N] = out[schema.KPI_N].astype("float64")
    out["voorlopig"] = out["voorlopig"].astype(schema.B)
    return out


def kpis(cleaned, params: config.Params | None = None, fp: ForecastParams | None = None) -> pd.DataFrame:
    """Forecast KPI rows for ``params.per`` (default the cleaned data's); see
    :func:`kpi_rows`. The registered KPIs (:mod:`jeugdlib.metrics.prognose`) read
    the same rows."""
    params = params or cleaned.params
    return kpi_rows(bereken(cleaned, fp, params.peildatum), params.per)


# --------------------------------------------------------------------------- report


def parameters_tabel(fp: ForecastParams) -> pd.DataFrame:
    """The forecast parameters with a Dutch explanation, for a report's Toelichting."""
    rows = [
        ("indexatie", fp.indexatie, "jaarlijkse tariefindexatie bij 'zelfde maand vorig jaar'"),
        ("volledig_drempel", fp.volledig_drempel, "een maand is onvolledig zolang naar verwachting minder dan dit "
                                                  "deel van de kosten is gedeclareerd (declaratievertraging)"),
        ("volledigheid_maanden", fp.volledigheid_maanden,
         "maanden na afloop van een zorgmaand waarover de declaratievertraging wordt gemeten"),
        ("lag_maanden", fp.lag_maanden, "alleen zonder declaratiedatum in de gegevens: maanden vóór de maand van "
                                        "de peildatum die als onvolledig gelden"),
        ("backtest_kwartalen", fp.backtest_kwartalen, "aantal volledige kwartalen in de backtest"),
        ("min_backtest_kwartalen", fp.min_backtest_kwartalen,
         "minimum aantal backtestkwartalen voor het statsmodels-model"),
        ("interval", fp.interval, "dekking van het voorspelinterval"),
        ("verzilvering_maanden", fp.verzilvering_maanden,
         "venster (maanden) van beëindigde toewijzingen voor de recente verzilvering"),
        ("budget", dict(fp.budget) if fp.budget else "budgetplafonds",
         "budget per regio voor het lopende jaar (anders de som van de budgetplafonds)"),
    ]
    return pd.DataFrame(rows, columns=["parameter", "waarde", "toelichting"])


@dataclasses.dataclass
class PrognoseRapport:
    """Everything the Prognose report shows for one regio (reports.md, report 5).

    * ``prognose``: the regio's :class:`Prognose` (forecasts of every method,
      backtest, MAPE, chosen method and lead, reasons);
    * ``segmenten``: segment -> :class:`Prognose` (segments with too little
      history carry their reasons);
    * ``overzicht``: :func:`overzicht` of the regio and its segments;
    * ``jaar``, ``jaartotalen``: the year of the peildatum, its forecast per method
      (:func:`jaartotalen`); ``budget`` (euro or None) and ``signaal``
      (:func:`budget_vergelijking`: one row, empty without a budget; its ``bron``
      says whether the total forecast was compared with a budget parameter or the
      forecast of the cost under budgetplafonds with their sum);
    * ``verplicht``: committed cost of the open toewijzingen per month;
      ``niet_gewaardeerd``: open toewijzingen that could not be valued;
    * ``onvolledig``: :func:`onvolledige_maanden` of the regio;
    * ``parameters``: :func:`parameters_tabel`.
    """

    regio: str
    prognose: Prognose
    segmenten: dict
    overzicht: pd.DataFrame
    jaar: int
    jaartotalen: pd.DataFrame
    budget: float | None
    signaal: pd.DataFrame
    verplicht: pd.DataFrame
    niet_gewaardeerd: int
    onvolledig: pd.DataFrame
    parameters: pd.DataFrame


def rapport(cleaned, regio: str, fp: ForecastParams | None = None, *, segment: bool = True,
            peildatum=None) -> PrognoseRapport:
    """The forecast part of the Prognose report for one regio (or ``Nederland``).

    A regio without declarations gets an empty forecast with a reason, not an error.
    """
    fp = fp or ForecastParams()
    peil = _peil(cleaned, peildatum)
    progs = prognoses(cleaned, fp, peildatum=peil, regio=regio)
    p = progs.get((regio,))
    if p is None:
        leeg = pd.Series([], dtype="float64", index=pd.DatetimeIndex([], freq="MS"), name="kosten")
        p = prognose_reeks(leeg, peil, fp, naam=regio)
    segs = prognoses(cleaned, fp, segment=True, peildatum=peil, regio=regio) if segment else {}
    segmenten = {k[1]: v for k, v in segs.items()}
    jaar = (peil - pd.Timedelta(days=1)).year
    jt = pd.concat([jaartotalen({(regio,): p}, jaar, m) for m in p.methoden], ignore_index=True) \
        if p.methoden else jaartotalen({}, jaar)
    jt["gekozen"] = jt["methode"] == p.beste
    sig = budget_vergelijking(cleaned, {(regio,): p}, jaar, fp, peildatum=peil, regio=regio)
    budget = float(sig["budget"].iloc[0]) if len(sig) else None
    ver = verplicht(cleaned, fp, peildatum=peil, regio=regio)
    return PrognoseRapport(
        regio=regio, prognose=p, segmenten=segmenten, overzicht=overzicht({(regio,): p, **segs}),
        jaar=jaar, jaartotalen=jt, budget=budget, signaal=sig,
        verplicht=ver[["maand", "maximum", "verplicht"]].reset_index(drop=True),
        niet_gewaardeerd=int(ver.attrs.get("niet_gewaardeerd", 0)),
        onvolledig=onvolledige_maanden(cleaned, regio, fp, peil), parameters=parameters_tabel(fp))
