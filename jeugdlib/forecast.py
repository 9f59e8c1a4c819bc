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

**Declaration lag.** Declarations arrive weeks to months after the care month, so
the last months before the peildatum are short. This module treats the last
``lag_maanden`` months before the peildatum's month (default 3) together with
the peildatum's own month as *incomplete*: they are never used for fitting or in
the backtest, and they are forecast like future months. Where what has already
arrived is higher than the forecast, the arrived amount is kept (a month's
eventual cost is at least what has been declared so far).

The allocation-based forecast of committed cost (:func:`verplichte_kosten`)
values the maximum volume that open toewijzingen still allow after the peildatum
at the product's tarief and multiplies by the product's recent verzilvering
(from :mod:`jeugdlib.metrics.verzilvering`). :func:`budget_vergelijking` signals
when the forecast for the year passes the budget: a regional budget parameter
against the regio's total forecast, or the sum of budgetplafonds against the
forecast of the cost that falls under those plafonds.

Entry points: :func:`kpis` (KPI rows), :func:`rapport` (everything the Prognose
report shows for one regio), :func:`prognose_reeks` (one plain monthly series).
Too little history never raises: the simple methods are used and
:attr:`Prognose.redenen` says why.

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

from . import config, schema
from .metrics import _common

#: Method names (as in ``dimensie="methode=<naam>"``) and their Dutch labels.
METHODEN = ("vorig_jaar", "gemiddelde_12m", "ets")
METHODE_LABELS = {
    "vorig_jaar": "zelfde maand vorig jaar + indexatie",
    "gemiddelde_12m": "voortschrijdend twaalfmaandsgemiddelde",
    "ets": "exponentiële afvlakking (ETS, statsmodels)",
}
#: Months of history a method needs at its fit origin.
MIN_MAANDEN = {"vorig_jaar": 12, "gemiddelde_12m": 12, "ets": 24}


@dataclasses.dataclass(frozen=True)
class ForecastParams:
    """Parameters of the forecast (metrics.md section 10); a report states them.

    * ``indexatie``: yearly tariff indexation used by ``vorig_jaar``; default
      0.0474, the 4,74% of 2023 in calibration.md (Noord-Limburg).
    * ``lag_maanden``: months before the peildatum's month treated as incomplete
      because of the declaration lag (see the module docstring).
    * ``backtest_kwartalen``: how many complete quarters the backtest covers (8);
      ``min_backtest_kwartalen``: fewer than this and the statsmodels method is
      not used, because its backtest would say too little (4).
    * ``interval``: coverage of the prediction interval (0.8 = 80%).
    * ``budget``: regional budget in euro for the peildatum's year, per regio
      name; overrides the sum of budgetplafonds for that regio.
    * ``verzilvering_maanden``: the product's "recent" verzilvering is taken over
      toewijzingen that ended in this many months before the incomplete months.
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

    def __post_init__(self):
        if not 0 < self.interval < 1:
            raise ValueError(f"interval must be between 0 and 1, not {self.interval!r}")
        if self.lag_maanden < 0:
            raise ValueError(f"lag_maanden must be >= 0, not {self.lag_maanden!r}")


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
    such tiny problems OpenBLAS threads only add synchronisation, and on a busy
    2-core machine a fit took 23 ms instead of 5 ms. Best effort (what
    threadpoolctl does, without the dependency): without OpenBLAS it does nothing.
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


def eerste_onvolledige_maand(peildatum, lag_maanden: int = 3) -> pd.Timestamp:
    """First month treated as incomplete: the peildatum's month minus ``lag_maanden``.

    The peildatum is exclusive, so a peildatum on the 1st of a month leaves that
    month out entirely: with peildatum 2024-08-01 and a lag of 3 the months
    2024-05 up to 2024-07 are incomplete and 2024-04 is the last complete month.
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


def _months(start, stop) -> pd.DatetimeIndex:
    """Month starts in [start, stop)."""
    return pd.date_range(_maand(start), pd.Timestamp(stop) - pd.Timedelta(days=1), freq="MS")


def _maandnummers(d) -> np.ndarray:
    """Months since 1970-01 (int64) of datetime values."""
    return np.asarray(d, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)


# --------------------------------------------------------------------------- series


def maandkosten(declaraties: pd.DataFrame, by: tuple[str, ...] = ("regio",),
                nederland: bool = True) -> pd.DataFrame:
    """Net declared cost per month (euro), per group ``by`` (metrics.md 1, ``kosten``).

    One row per group and ``maand`` with column ``kosten``; a line belongs to the
    month of its ``periode_begin`` (the ``maand`` column of Cleaned.declaraties).
    With ``nederland`` the total over all regions is added with regio
    ``Nederland`` (and, when ``by`` has more columns, per their values).
    Missing regio/segment values are grouped as ``onbekend``.
    """
    return _maandkosten(declaraties, by, nederland)


def _maandkosten(declaraties: pd.DataFrame, by: tuple[str, ...], nederland: bool,
                 rijen: np.ndarray | None = None, cellen=None) -> pd.DataFrame:
    """:func:`maandkosten` of the rows of ``declaraties`` where ``rijen`` (bool, None:
    all) is true, without copying them out of the frame; ``cellen``:
    :func:`_maandcellen` of ``declaraties`` and ``by`` when the caller has them."""
    by = list(by)
    out = _maandsommen(declaraties, by, rijen, cellen)
    if nederland and "regio" in by:
        # The total from the regional aggregates (no second pass over the records).
        rest = [c for c in by if c != "regio"]
        nl = out.groupby(rest + ["maand"], observed=True, sort=True)["kosten"].sum().reset_index()
        nl["regio"] = config.NEDERLAND
        out = pd.concat([out, nl[by + ["maand", "kosten"]]], ignore_index=True)
        out["regio"] = out["regio"].astype(schema.S)
    return out


def _maandsommen(declaraties: pd.DataFrame, by: list[str], rijen: np.ndarray | None = None,
                 cellen=None) -> pd.DataFrame:
    """Sum of ``bedrag_cent`` in euro per ``by`` x ``maand`` over the rows where
    ``rijen`` is true (None: all), sorted by those keys, missing ``by`` values as
    ``onbekend`` and rows without a month left out: a groupby-sum on the integer
    cells of :func:`_maandcellen` (``cellen``: when the caller has them) and
    ``np.bincount`` instead of hashing millions of strings. Sums are exact: whole
    cents stay below 2**53."""
    key, cent, labels, lo, nm = cellen if cellen is not None else _maandcellen(declaraties, by)
    ok = key >= 0
    if rijen is not None:
        ok = ok & rijen
    if not ok.all():
        key, cent = key[ok], cent[ok]
    size = int(np.prod([len(x) for x in labels], dtype=np.int64))
    # one cell per label combination x month: a small dense table
    cells = np.flatnonzero(np.bincount(key, minlength=size * nm))
    som = np.bincount(key, weights=cent, minlength=size * nm)[cells]
    out = {}
    rest = cells // nm
    for c, srt in reversed(list(zip(by, labels))):
        out[c] = srt[rest % len(srt)]
        rest = rest // len(srt)
    res = pd.DataFrame({c: pd.array(out[c], dtype=schema.S) for c in by})
    res["maand"] = ((cells % nm) + lo).astype("datetime64[M]").astype("datetime64[ns]")
    res["kosten"] = som / 100.0
    return res


def _maandcellen(declaraties: pd.DataFrame, by: list[str]):
    """Per row of ``declaraties`` its cell ``by`` x ``maand`` as one int64 (negative:
    no month), the amounts in cent (float64, missing 0), the sorted distinct labels
    per ``by`` column (missing as ``onbekend``), the first month (months since
    1970-01) and the number of months: cell = (label codes, mixed radix) x months +
    month - first. From the cached column codes (:func:`_common.column_codes`, also
    of ``maand``: its few distinct months are converted, not every row)."""
    key = np.zeros(len(declaraties), dtype=np.int64)
    labels = []
    for c in by:
        codes, uniq = _common.column_codes(declaraties, c)
        lab = pd.Series(np.append(uniq, None), dtype=schema.S).fillna("onbekend").to_numpy(dtype=object)
        srt, inv = np.unique(lab, return_inverse=True)  # sorted distinct labels ("onbekend" merged)
        key *= len(srt)
        key += inv[codes]  # (code -1, missing, takes the last label: "onbekend")
        labels.append(srt)
    mc, mu = _common.column_codes(declaraties, "maand")  # NaT: -1
    mi = _maandnummers(pd.DatetimeIndex(mu, dtype="datetime64[ns]"))  # months since 1970-01 per code
    lo = int(mi.min()) if len(mi) else 0
    nm = int(mi.max()) - lo + 1 if len(mi) else 1  # (any range holding the months gives the same sums)
    size = int(np.prod([len(x) for x in labels], dtype=np.int64))
    key *= nm
    key += np.append(mi - lo, -size * nm - 1)[mc]  # no month (code -1): below every cell
    cent = declaraties["bedrag_cent"].to_numpy(dtype="float64", na_value=0.0)
    return key, cent, labels, lo, nm


def _reeksen(groepen, eind) -> list[tuple[object, pd.Series]]:
    """(key, series) for each (key, grp) of ``groepen`` (groups of a
    :func:`maandkosten` table: one row per month): the group's monthly cost as a
    gapless series (months without lines = 0) from its first month with positive
    cost to the month holding the day before ``eind`` (the peildatum); float64
    euro, indexed by month start (freq ``MS``), empty without a positive month.
    On numpy: each series is a slice of one month index, filled with its months' costs."""
    groepen = [(key, _maandnummers(grp["maand"].to_numpy()), grp["kosten"].to_numpy(dtype="float64"))
               for key, grp in groepen]
    last = int(_maandnummers([pd.Timestamp(eind) - pd.Timedelta(days=1)])[0])  # month holding eind - 1 day
    lo = min((int(m.min()) for _, m, _ in groepen if len(m)), default=0)
    alle = _months(pd.Timestamp(np.datetime64(lo, "M")), eind)  # months lo .. last (freq MS)
    out = []
    for key, m, kosten in groepen:
        pos = m[kosten > 0]
        begin = int(pos.min()) if len(pos) else None  # the first month with positive cost
        if begin is None or begin > last:
            out.append((key, pd.Series([], dtype="float64", index=pd.DatetimeIndex([], freq="MS"), name="kosten")))
            continue
        vals = np.zeros(last - begin + 1)
        sel = (m >= begin) & (m <= last)
        vals[m[sel] - begin] = kosten[sel]
        out.append((key, pd.Series(vals, index=alle[begin - lo:], name="kosten")))
    return out


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
    d = maanden.to_numpy(dtype="datetime64[ns]")
    mn = d.astype("datetime64[M]")
    k = -((_maandnummers(y.index[-1:]) - mn.astype(np.int64)) // 12)  # ceil(months after the last one / 12)
    if (mn.astype("datetime64[ns]") == d).all():  # month starts: month arithmetic
        bron = (mn - 12 * k).astype("datetime64[ns]")
    else:
        bron = pd.DatetimeIndex([m - pd.DateOffset(months=12 * int(j)) for m, j in zip(maanden, k)])
    pos = y.index.get_indexer(bron)
    if (pos < 0).any():
        raise KeyError(f"vorig_jaar: {bron[pos < 0][0]} is not in the history")
    factor = np.array([(1.0 + indexatie) ** int(j) for j in k], dtype="float64")  # Python's float power
    return pd.Series(y.to_numpy(dtype="float64")[pos] * factor, index=maanden, dtype="float64", name="vorig_jaar")


def voorspel_gemiddelde(y: pd.Series, maanden: pd.DatetimeIndex, venster: int = 12) -> pd.Series:
    """Rolling twelve-month mean: every future month = mean of the last 12 months.

    With fewer than ``venster`` months the mean of all months is used (the
    caller reports that as a reason).
    """
    if len(y) == 0:
        raise ValueError("gemiddelde_12m needs at least one month")
    return pd.Series(float(y.iloc[-venster:].mean()), index=maanden, dtype="float64", name="gemiddelde_12m")


def _ets_fit(y: pd.Series, als_reeks: bool = True):
    """The fitted ETS model of ``y`` scaled to mean 1, and the scale. The model gets
    the values without their month index (the numbers are the same; it then skips
    the date bookkeeping of every fit, forecast and simulation): as a Series with a
    RangeIndex (``als_reeks``: what ``get_prediction`` needs), else a plain array
    (enough for the backtest's point forecasts)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    scale = float(np.abs(y).mean())
    if not np.isfinite(scale) or scale == 0:
        raise ValueError("ets: series is zero")
    ys = y.to_numpy(dtype="float64") / scale
    if als_reeks:
        ys = pd.Series(ys)
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
        res, scale = _ets_fit(y, als_reeks=False)
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

    * ``realisatie``: monthly cost as declared so far (euro), incl. incomplete months;
    * ``eerste_onvolledig``: first month treated as incomplete (not fitted);
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
    paden: np.ndarray | None = None  # ETS simulated paths (repetitions x months)
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
        fixed seed), otherwise the sum of the monthly bounds (the empirical
        interval is a relative band, so it adds up). Columns ``periode``,
        ``waarde``, ``ondergrens``, ``bovengrens``, ``prognose`` (always true).
        """
        lab, waarde, onder, boven = _periode_totalen(self, per, methode or self.beste)
        return pd.DataFrame({"periode": lab, "waarde": waarde, "ondergrens": onder, "bovengrens": boven,
                             "prognose": np.ones(len(lab), dtype=bool)})


#: Months per period of ``per``.
_PERIODE_MAANDEN = {"jaar": 12, "kwartaal": 3, "maand": 1}


def _periode_labels(start: np.ndarray, per: str) -> np.ndarray:
    """Labels ('2023', '2023-Q2', '2023-05', as :func:`_common.period_label`) of the
    periods that start in the months ``start`` (months since 1970-01); object array."""
    jaar, mnd = start // 12 + 1970, start % 12 + 1
    if per == "jaar":
        lab = [str(j) for j in jaar]
    elif per == "kwartaal":
        lab = [f"{j}-Q{(m - 1) // 3 + 1}" for j, m in zip(jaar, mnd)]
    else:
        lab = [f"{j}-{m:02d}" for j, m in zip(jaar, mnd)]
    return np.array(lab, dtype=object)


def _som_per_rij(v: np.ndarray) -> np.ndarray:
    """Sum of each row of ``v`` from left to right, NaN skipped (0 when none), with the
    compensated (Kahan) summation of pandas' ``groupby(...).sum()``, so that the totals
    equal a groupby over the rows' cells to the last bit. A loop over the (at most 12)
    columns, vectorised over the rows."""
    s = np.zeros(len(v))
    comp = np.zeros(len(v))
    for j in range(v.shape[1]):
        x = v[:, j]
        ok = ~np.isnan(x)
        y = x - comp
        t = s + y
        c = (t - s) - y
        c[np.isnan(c)] = 0.0  # an infinite value: no compensation (as pandas)
        s = np.where(ok, t, s)
        comp = np.where(ok, c, comp)
    return s


def _periode_totalen(p: Prognose, per: str, methode: str | None):
    """:meth:`Prognose.per_periode` as arrays (labels, waarde, ondergrens, bovengrens), on
    numpy: the months of :meth:`Prognose.aangevuld` start in January, so the whole
    periods are the rows of one reshape of them."""
    if methode is None:
        raise ValueError(f"{p.naam}: no forecast")
    if per not in _PERIODE_MAANDEN:
        raise ValueError(f"unknown per {per!r}")
    size = _PERIODE_MAANDEN[per]
    f = p.voorspelling
    is_m = f["methode"].to_numpy(dtype=object) == methode
    fm = _maandnummers(f["maand"].to_numpy()[is_m])
    leeg = np.array([], dtype=object), np.array([]), np.array([]), np.array([])
    if len(fm) == 0:  # no forecast month: no period
        return leeg
    rm = _maandnummers(p.realisatie.index)
    first = int(min(fm.min(), rm.min() if len(rm) else fm.min())) // 12 * 12  # January
    n = int(max(fm.max(), rm.max() if len(rm) else fm.max())) - first + 1
    real = np.zeros(n)
    real[rm - first] = p.realisatie.to_numpy(dtype="float64")
    pos = fm - first
    prog = np.zeros(n, dtype=bool)
    prog[pos] = True
    maand = []  # realised where complete, else max(arrived so far, forecast)
    for c in ("waarde", "ondergrens", "bovengrens"):
        x = real.copy()
        x[pos] = np.maximum(real[pos], f[c].to_numpy(dtype="float64")[is_m])
        maand.append(x)
    k = n // size  # whole periods
    ids = np.flatnonzero(prog[:k * size].reshape(k, size).any(axis=1))
    if len(ids) == 0:
        return leeg
    waarde, onder, boven = (_som_per_rij(x[:k * size].reshape(k, size)[ids]) for x in maand)
    if methode == "ets" and p.paden is not None:
        paths = np.maximum(p.paden, real[pos][None, :])
        fper = pos // size
        alpha = (1.0 - p.interval) / 2.0
        for i, pid in enumerate(ids):  # a few periods per series
            blok = slice(pid * size, (pid + 1) * size)
            gerealiseerd = maand[0][blok][~prog[blok]]
            base = float(np.where(np.isnan(gerealiseerd), 0.0, gerealiseerd).sum())
            sums = paths[:, fper == pid].sum(axis=1) + base
            onder[i] = float(np.quantile(sums, alpha))
            boven[i] = float(np.quantile(sums, 1 - alpha))
    return _periode_labels(first + ids * size, per), waarde, onder, boven


def prognose_reeks(y_all: pd.Series, peildatum, fp: ForecastParams | None = None,
                   naam: str = "") -> Prognose:
    """Forecast one monthly series with all methods, backtest them, choose the best.

    ``y_all`` is the monthly cost as declared up to the peildatum (incomplete
    months included; they are cut off here, see the module docstring). Too
    little history never raises: a method that cannot be used is left out and
    :attr:`Prognose.redenen` says why, e.g. "te weinig historie (18 volledige
    maanden): het statsmodels-model vraagt er minstens 24".
    """
    fp = fp or ForecastParams()
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401  (load scipy's BLAS first)

    with _EenBlasThread():
        return _prognose_reeks(y_all, peildatum, fp, naam)


def _prognose_reeks(y_all: pd.Series, peildatum, fp: ForecastParams, naam: str) -> Prognose:
    cut = eerste_onvolledig = eerste_onvolledige_maand(peildatum, fp.lag_maanden)
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
    kw_simple = backtest_kwartalen(y, fp.backtest_kwartalen, 12)
    kwartalen = kw_simple
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
    return Prognose(naam=naam, realisatie=y_all.copy(), eerste_onvolledig=eerste_onvolledig,
                    voorspelling=voorsp, backtest=bt.reset_index(drop=True), mape=m, beste=beste,
                    voorsprong=voorsprong, methoden=tuple(methoden), redenen=redenen, paden=paden,
                    interval=fp.interval)


# --------------------------------------------------------------------------- regions


def prognoses(cleaned, fp: ForecastParams | None = None, *, segment: bool = False,
              peildatum=None, regio: str | None = None) -> dict[tuple[str, ...], Prognose]:
    """Forecast per regio (and ``Nederland``), or per regio x segment with ``segment=True``.

    Keys are ``(regio,)`` or ``(regio, segment)``. Series come from
    ``cleaned.declaraties`` (net items, month of periode_begin; all history
    before the peildatum is used, not only the analysis window ``params.start``,
    because the models need years of history). A segment whose history is too
    short gets the simple methods and a reason, like a region. With ``regio``
    only that regio's series are forecast (``Nederland``: the total).
    """
    fp = fp or ForecastParams()
    peil = pd.Timestamp(peildatum if peildatum is not None else cleaned.params.peildatum)
    return _fit_reeksen(_prognose_taken(cleaned, peil, segment=segment, regio=regio), peil, fp)


def _prognose_taken(cleaned, peil: pd.Timestamp, *, segment: bool = False, regio: str | None = None,
                    cellen=None) -> list:
    """The series :func:`prognoses` forecasts: a list of (key, monthly series, name).
    ``cellen``: :func:`_maandcellen` of the declarations by regio, when the caller has them."""
    by = ("regio", "segment") if segment else ("regio",)
    dec = cleaned.declaraties
    rijen = None
    if regio is not None and regio != config.NEDERLAND:
        rijen = (dec["regio"] == regio).fillna(False).to_numpy(dtype=bool)
    tab = _maandkosten(dec, by, regio is None or regio == config.NEDERLAND, rijen, None if segment else cellen)
    if regio is not None:
        tab = tab[tab["regio"] == regio]
    out = []
    for key, y in _reeksen(tab.groupby(list(by), sort=True, observed=True), peil):  # one per series
        key = tuple(key) if isinstance(key, tuple) else (key,)
        out.append((key, y, " / ".join(key)))
    return out


def _fit_reeksen(taken: list, peil, fp: ForecastParams) -> dict[tuple[str, ...], Prognose]:
    """:func:`prognose_reeks` of each (key, series, name) of ``taken``. Module level, so
    that a worker process can run it (see :func:`kpis_start`)."""
    return {key: prognose_reeks(y, peil, fp, naam=naam) for key, y, naam in taken}


def _warm() -> bool:
    """Import the model code in a worker process ahead of the first fit."""
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401

    return True


def _start(taken: list, peil, fp: ForecastParams, pool):
    """Fit ``taken`` now, or in ``pool`` (a process pool) while the caller does other
    work; returns a function giving the dict of :func:`_fit_reeksen`. The fits are
    the same computation either way (single-threaded BLAS, fixed seeds)."""
    if pool is None or not taken:
        res = _fit_reeksen(taken, peil, fp)
        return lambda: res
    return pool.submit(_fit_reeksen, taken, peil, fp).result


def overzicht(progs: Mapping[tuple[str, ...], Prognose]) -> pd.DataFrame:
    """One row per series and method: MAPE, voorsprong, chosen (bool), reasons joined.

    The table the Prognose report shows next to the forecasts.
    """
    rows = []
    for key, p in progs.items():
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
        lab, waarde, onder, boven = _periode_totalen(p, "jaar", m)  # p.per_periode("jaar", m) as arrays
        hit = np.flatnonzero(lab == str(jaar))
        if len(hit):
            i = hit[0]
            rows.append({"regio": " / ".join(key), "methode": m, "waarde": float(waarde[i]),
                         "ondergrens": float(onder[i]), "bovengrens": float(boven[i])})
    return pd.DataFrame(rows, columns=["regio", "methode", "waarde", "ondergrens", "bovengrens"])


# --------------------------------------------------------------------------- committed cost


def _regio_product_paren(rc: np.ndarray, ru: np.ndarray, pc_: np.ndarray, pu: np.ndarray) -> pd.DataFrame:
    """The distinct (regio, productcode) pairs in order of appearance, from the codes
    and labels per row of regio (``rc``, ``ru``) and productcode (``pc_``, ``pu``)
    (columns of dtype schema.S): ``drop_duplicates`` of the labels, on integer codes."""
    first = np.sort(np.unique(rc * len(pu) + pc_, return_index=True)[1])
    return pd.DataFrame({"regio": pd.array(ru[rc[first]], dtype=schema.S),
                         "productcode": pd.array(pu[pc_[first]], dtype=schema.S)})


def recente_verzilvering(toewijzingen: pd.DataFrame, declaraties: pd.DataFrame, peildatum,
                         fp: ForecastParams | None = None, min_toewijzingen: int = 10) -> pd.DataFrame:
    """The product's recent verzilvering, per regio and productcode (metrics.md 3 and 10).

    Over toewijzingen of ``inspanning`` products that ended in the
    ``verzilvering_maanden`` months before the first incomplete month (so that
    their declarations are in), computed by
    :func:`jeugdlib.metrics.verzilvering.verzilvering_per_toewijzing` (status
    ``ok`` only): sum(geleverd) / sum(toegewezen). With fewer than
    ``min_toewijzingen`` ended toewijzingen the next level is used: the product
    over all regions, then the regio over all products, then everything.
    Returns one row per (regio, productcode) present in ``toewijzingen`` with
    ``verzilvering`` and ``bron`` (``regio_product``, ``product``, ``regio``,
    ``totaal`` or ``geen``).
    """
    from .metrics import verzilvering as vz

    fp = fp or ForecastParams()
    cut = eerste_onvolledige_maand(peildatum, fp.lag_maanden)
    van = cut - pd.DateOffset(months=fp.verzilvering_maanden)
    t = toewijzingen
    # regio (missing "onbekend") and productcode (missing "") codes of every row
    rc, ru = vz._rij_codes(t, "regio", slice(None), "onbekend")
    pc_, pu = vz._rij_codes(t, "productcode", slice(None))
    keys = _regio_product_paren(rc, ru, pc_, pu)
    insp = (t["financieringsvorm"] == "inspanning").fillna(False).to_numpy(dtype=bool)
    eind = t["einddatum"]
    ended = (eind.notna() & (eind >= van) & (eind < cut)).to_numpy(dtype=bool)
    pos = np.flatnonzero(insp & ended)
    # verzilvering_per_toewijzing of those rows (status ok only), on positions
    w = vz._per_toewijzing_rijen(t, declaraties, pos)
    ok = (w["status"] == vz.STATUS_OK).to_numpy(dtype=bool)
    v = pd.DataFrame({"regio": ru[rc[pos[ok]]], "productcode": pu[pc_[pos[ok]]],
                      "geleverd": np.asarray(w["geleverd_cent"], dtype="float64")[ok],
                      "toegewezen": np.asarray(w["toegewezen_cent"], dtype="float64")[ok]})

    def level(cols):
        if not cols:
            g = v[["geleverd", "toegewezen"]].sum()
            n = len(v)
            return (g["geleverd"] / g["toegewezen"]) if (n >= 1 and g["toegewezen"] > 0) else np.nan
        g = v.groupby(cols, observed=True).agg(geleverd=("geleverd", "sum"), toegewezen=("toegewezen", "sum"),
                                               n=("geleverd", "size"))
        g = g[(g["n"] >= min_toewijzingen) & (g["toegewezen"] > 0)]
        return (g["geleverd"] / g["toegewezen"]).rename("r")

    out = keys.copy()
    out["verzilvering"] = np.nan
    out["bron"] = "geen"
    for naam, cols in (("regio_product", ["regio", "productcode"]), ("product", ["productcode"]),
                       ("regio", ["regio"])):
        r = level(cols)
        val = out[cols].merge(r.reset_index(), on=cols, how="left")["r"].to_numpy(dtype="float64")
        fill = np.isnan(out["verzilvering"].to_numpy(dtype="float64")) & ~np.isnan(val)
        out.loc[fill, "verzilvering"] = val[fill]
        out.loc[fill, "bron"] = naam
    tot = level([])
    fill = out["verzilvering"].isna().to_numpy()
    if np.isfinite(tot):
        out.loc[fill, "verzilvering"] = tot
        out.loc[fill, "bron"] = "totaal"
    return out.reset_index(drop=True)


_CHUNK = 100_000


def _resterend_chunk(t: pd.DataFrame, peil: pd.Timestamp, eind: pd.Timestamp,
                     months: pd.DatetimeIndex) -> tuple[pd.DataFrame, int]:
    """:func:`resterend_maximum` for one chunk of open inspanning toewijzingen."""
    from .metrics import verzilvering as vz

    day = np.timedelta64(1, "D")
    ing = t["ingangsdatum"].to_numpy(dtype="datetime64[D]")
    last = t["einddatum"].fillna(eind - pd.Timedelta(days=1)).to_numpy(dtype="datetime64[D]")
    last = np.minimum(last, np.datetime64(eind - pd.Timedelta(days=1), "D"))
    first = np.maximum(ing, np.datetime64(peil, "D"))
    ms = months.to_numpy(dtype="datetime64[D]")
    me = (months + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[D]")
    lo = np.maximum(first[:, None], ms[None, :])
    hi = np.minimum(last[:, None], me[None, :])
    dagen = np.maximum((hi - lo) / day + 1, 0.0)  # toewijzingen x months
    totaal_dagen = np.maximum((last - ing) / day + 1, 1.0)

    freq = vz._code(t["frequentie"]).fillna("").to_numpy(dtype=object)
    vol = vz._num(t["volume"])
    tarief = vz._num(t["tarief_cent"]) / 100.0
    budget_eur = vz._num(t["budget_cent"]) / 100.0
    budget = ~np.isnan(budget_eur)
    # Eenheid 83 without a Budget: the volume is in euro (as in verzilvering.py),
    # so it accrues by its frequentie at 1 euro per unit.
    eenheid83 = (vz._code(t["eenheid"], 2) == vz.EENHEID_EURO).fillna(False).to_numpy(dtype=bool)
    tarief = np.where(eenheid83 & ~budget, 1.0, tarief)
    eenheden = np.select(
        [(freq == vz.FREQ_DAG)[:, None], (freq == vz.FREQ_WEEK)[:, None],
         (freq == vz.FREQ_MAAND)[:, None], (freq == vz.FREQ_TOTAAL)[:, None]],
        [dagen, dagen / 7.0, (dagen > 0).astype("float64"), dagen / totaal_dagen[:, None]],
        default=np.nan,
    )
    bedrag = np.where(budget[:, None], budget_eur[:, None] * dagen / totaal_dagen[:, None],
                      vol[:, None] * eenheden * tarief[:, None])
    ok = ~np.isnan(bedrag).any(axis=1)
    n_bad = int((~ok).sum())
    bedrag = np.where(np.isnan(bedrag), 0.0, bedrag)
    ti, mi = np.nonzero(bedrag)
    return pd.DataFrame({
        "toewijzing_nr": t["toewijzing_nr"].to_numpy()[ti],
        "regio": t["regio"].astype(schema.S).fillna("onbekend").to_numpy()[ti],
        "productcode": t["productcode"].astype(schema.S).fillna("").to_numpy()[ti],
        "maand": months[mi],
        "maximum": bedrag[ti, mi],
    }), n_bad


def resterend_maximum(toewijzingen: pd.DataFrame, peildatum, eind) -> pd.DataFrame:
    """Remaining maximum amount per open toewijzing and month, before verzilvering (euro).

    For toewijzingen of ``inspanning`` products that are open on the peildatum
    (einddatum empty or on/after it): the maximum volume of metrics.md section 3
    over the part of the toewijzing from the peildatum up to its einddatum (open:
    up to ``eind``, the end of the forecast horizon), spread over months:
    per dag = volume x days, per week = volume x days / 7, per maand = volume per
    overlapping calendar month, totaal = volume x (days in the month / days of the
    whole toewijzing); valued at the product's tarief. Budget-only toewijzingen
    (eenheid 83 or a Budget) give budget x days / days of the whole toewijzing.

    Returns a long frame: ``toewijzing_nr``, ``regio``, ``productcode``,
    ``maand``, ``maximum`` (euro); rows with 0 are dropped. Toewijzingen that
    cannot be valued (unknown frequentie, no tarief) are counted in
    ``frame.attrs["niet_gewaardeerd"]``. Vectorised: toewijzingen x months as
    one array per chunk of 100.000 toewijzingen (a few dozen months).
    """
    peil = pd.Timestamp(peildatum)
    eind = pd.Timestamp(eind)
    t = toewijzingen
    insp = (t["financieringsvorm"] == "inspanning").fillna(False).to_numpy(dtype=bool)
    open_ = (t["einddatum"].isna() | (t["einddatum"] >= peil)).to_numpy(dtype=bool)
    t = t.loc[insp & open_]
    months = _months(peil, eind)
    cols = ["toewijzing_nr", "regio", "productcode", "maand", "maximum"]
    if len(t) == 0 or len(months) == 0:
        out = pd.DataFrame({c: [] for c in cols})
        out.attrs["niet_gewaardeerd"] = 0
        return out
    parts, n_bad = [], 0
    for lo_i in range(0, len(t), _CHUNK):  # bounded memory: toewijzingen x months per chunk
        part, bad = _resterend_chunk(t.iloc[lo_i:lo_i + _CHUNK], peil, eind, months)
        parts.append(part)
        n_bad += bad
    out = pd.concat(parts, ignore_index=True)
    out.attrs["niet_gewaardeerd"] = n_bad
    return out


def verplichte_kosten(resterend: pd.DataFrame, verzilvering: pd.DataFrame, nederland: bool = True) -> pd.DataFrame:
    """Allocation-based forecast of committed cost per regio and month (metrics.md 10).

    committed = remaining maximum (volume x tarief, :func:`resterend_maximum`)
    x the product's recent verzilvering (:func:`recente_verzilvering`), summed
    per regio and month; with ``nederland`` also the total. Remaining amounts
    whose product has no verzilvering at all are left out and their amount is
    in ``frame.attrs["zonder_verzilvering"]`` (euro).
    Columns: ``regio``, ``maand``, ``maximum``, ``verplicht`` (euro).
    """
    r = resterend.merge(verzilvering[["regio", "productcode", "verzilvering"]],
                        on=["regio", "productcode"], how="left")
    fac = pd.to_numeric(r["verzilvering"]).to_numpy(dtype="float64")
    r["verplicht"] = r["maximum"].to_numpy(dtype="float64") * fac
    zonder = float(r.loc[np.isnan(fac), "maximum"].sum())
    r["verplicht"] = r["verplicht"].fillna(0.0)
    parts = [r[["regio", "maand", "maximum", "verplicht"]]]
    if nederland:
        parts.append(parts[0].assign(regio=config.NEDERLAND))
    out = (pd.concat(parts, ignore_index=True).groupby(["regio", "maand"], sort=True)[["maximum", "verplicht"]]
           .sum().reset_index())
    out.attrs["zonder_verzilvering"] = zonder
    return out


def verplicht(cleaned, fp: ForecastParams | None = None, peildatum=None, regio: str | None = None) -> pd.DataFrame:
    """Committed cost of the open toewijzingen per regio and month, from a Cleaned dataset.

    See :func:`resterend_maximum`, :func:`recente_verzilvering` and
    :func:`verplichte_kosten`. With ``regio`` only that regio (or ``Nederland``).
    """
    fp = fp or ForecastParams()
    peil = pd.Timestamp(peildatum if peildatum is not None else cleaned.params.peildatum)
    toew = cleaned.toewijzingen
    if regio is not None and regio != config.NEDERLAND:
        toew = toew.loc[(toew["regio"] == regio).fillna(False).to_numpy(dtype=bool)]
    rest = resterend_maximum(toew, peil, horizon_einde(peil))
    # the product's verzilvering may fall back to all regions: computed over everything
    vz = recente_verzilvering(cleaned.toewijzingen, cleaned.declaraties, peil, fp)
    out = verplichte_kosten(rest, vz)
    if regio is not None:
        out = out[out["regio"] == regio].reset_index(drop=True)
    out.attrs["niet_gewaardeerd"] = rest.attrs.get("niet_gewaardeerd", 0)
    return out


# --------------------------------------------------------------------------- budget


def budget_per_regio(budgetplafonds: pd.DataFrame, gemeenten: pd.DataFrame, jaar: int,
                     budget: Mapping[str, float] | None = None) -> pd.Series:
    """Budget per regio for ``jaar`` in euro: the sum of budgetplafonds, or the parameter.

    A plafond with a gemeentecode counts for that gemeente's regio; one without
    a gemeentecode counts for the only regio when ``gemeenten`` has one regio,
    else only for ``Nederland`` (it cannot be split). ``Nederland`` = all
    plafonds of the year. Entries of ``budget`` (regio -> euro) replace the sum.
    """
    bp = budgetplafonds
    jr = pd.to_numeric(bp["jaar"]).to_numpy(dtype="float64", na_value=np.nan) == jaar
    bp = bp.loc[jr]
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


def onder_plafond(declaraties: pd.DataFrame, budgetplafonds: pd.DataFrame, jaar: int) -> pd.DataFrame:
    """Which declaration items fall under a budgetplafond of ``jaar`` (metrics.md 8 and 10).

    A plafond row covers the items of its ``agb``, restricted to its
    ``gemeentecode`` and ``productcode`` where those are given. Returns two
    boolean columns aligned to ``declaraties``: ``met_gemeente`` (covered by a
    plafond that names a gemeente, so attributable to that gemeente's regio) and
    ``alle`` (covered by any plafond). Vectorised: one key match per combination
    of given fields.
    """
    from .metrics import verzilvering as vz

    bp = budgetplafonds
    jr = pd.to_numeric(bp["jaar"]).to_numpy(dtype="float64", na_value=np.nan) == jaar
    bp = bp.loc[jr]
    n = len(declaraties)
    met_gem = np.zeros(n, dtype=bool)
    alle = np.zeros(n, dtype=bool)
    if len(bp) == 0:
        return pd.DataFrame({"met_gemeente": met_gem, "alle": alle}, index=declaraties.index)

    def txt(s):
        return pd.Series(s, copy=False).astype(schema.S).fillna("").str.strip()

    velden = ("agb", "gemeentecode", "productcode")
    b_txt = [txt(bp[c]).to_numpy(dtype=object) for c in velden]
    b_gem, b_prod = b_txt[1] != "", b_txt[2] != ""
    # the fields some plafond names (agb always); per field, per declaration the
    # position of its text (as ``txt``) among the distinct texts (vocab), and the vocab
    nodig = [0] + ([1] if b_gem.any() else []) + ([2] if b_prod.any() else [])
    d = {i: vz._rij_codes(declaraties, velden[i], slice(None), strip=True) for i in nodig}
    if any("|" in str(x) for i in nodig for arr in (b_txt[i], d[i][1]) for x in arr):
        return _onder_plafond_tekst(declaraties, bp, txt)  # keys could collide: as text
    # bp's values as codes of the declarations' vocabulary (-1: no declaration has it)
    b_codes = {i: pd.Index(d[i][1]).get_indexer(b_txt[i]) for i in nodig}
    for use_gem in (False, True):
        for use_prod in (False, True):
            sel = (b_gem == use_gem) & (b_prod == use_prod)
            if not sel.any():
                continue
            used = [0] + ([1] if use_gem else []) + ([2] if use_prod else [])
            # a plafond matches only if each of its fields occurs in the declarations
            ok = sel & np.logical_and.reduce([b_codes[i] >= 0 for i in used])
            bk = np.zeros(int(ok.sum()), dtype=np.int64)
            dk = np.zeros(n, dtype=np.int64)
            for i in used:  # mixed-radix key of the used fields (the "|"-joined text, on codes)
                codes, vocab = d[i]
                bk = bk * len(vocab) + b_codes[i][ok]
                dk = dk * len(vocab) + codes
            size = int(np.prod([len(d[i][1]) for i in used], dtype=np.float64))
            if size <= 2**24:  # a dense lookup table over all key values: no hashing
                tab = np.zeros(size, dtype=bool)
                tab[bk] = True
                hit = tab[dk]
            else:
                hit = pd.Series(dk, copy=False).isin(bk).to_numpy(dtype=bool)
            alle |= hit
            if use_gem:
                met_gem |= hit
    return pd.DataFrame({"met_gemeente": met_gem, "alle": alle}, index=declaraties.index)


def _onder_plafond_tekst(declaraties: pd.DataFrame, bp: pd.DataFrame, txt) -> pd.DataFrame:
    """:func:`onder_plafond` on "|"-joined text keys (``bp``: the plafonds of the year)."""
    n = len(declaraties)
    met_gem = np.zeros(n, dtype=bool)
    alle = np.zeros(n, dtype=bool)
    b_agb, b_gem, b_prod = txt(bp["agb"]), txt(bp["gemeentecode"]), txt(bp["productcode"])
    d_agb, d_gem, d_prod = txt(declaraties["agb"]), txt(declaraties["gemeentecode"]), txt(declaraties["productcode"])
    for use_gem in (False, True):
        for use_prod in (False, True):
            sel = ((b_gem != "") == use_gem) & ((b_prod != "") == use_prod)
            if not sel.any():
                continue
            bk = b_agb[sel]
            dk = d_agb
            if use_gem:
                bk, dk = bk + "|" + b_gem[sel], dk + "|" + d_gem
            if use_prod:
                bk, dk = bk + "|" + b_prod[sel], dk + "|" + d_prod
            hit = dk.isin(set(bk.dropna())).fillna(False).to_numpy(dtype=bool)
            alle |= hit
            if use_gem:
                met_gem |= hit
    return pd.DataFrame({"met_gemeente": met_gem, "alle": alle}, index=declaraties.index)


def plafond_prognoses(cleaned, jaar: int, fp: ForecastParams | None = None, peildatum=None,
                      regio: str | None = None) -> dict[tuple[str, ...], Prognose]:
    """Forecast of the cost that falls under the budgetplafonds of ``jaar``, per regio and Nederland.

    Budgetplafonds cap what some aanbieders may declare; their sum is compared
    with the forecast of *those* aanbieders' cost (:func:`onder_plafond`), not
    with the region's total cost. A regio counts the items under plafonds that
    name one of its gemeenten (all plafonds when the data holds one regio);
    Nederland counts the items under any plafond.
    """
    fp = fp or ForecastParams()
    peil = pd.Timestamp(peildatum if peildatum is not None else cleaned.params.peildatum)
    return _fit_reeksen(_plafond_taken(cleaned, jaar, peil, regio), peil, fp)


def _plafond_taken(cleaned, jaar: int, peil: pd.Timestamp, regio: str | None = None, cellen=None) -> list:
    """The series :func:`plafond_prognoses` forecasts: a list of (key, series, name).
    ``cellen``: :func:`_maandcellen` of the declarations by regio, when the caller has them."""
    dec = cleaned.declaraties
    if regio is not None and regio != config.NEDERLAND:
        dec = dec.loc[(dec["regio"] == regio).fillna(False).to_numpy(dtype=bool)]
        cellen = None
    flags = onder_plafond(dec, cleaned.budgetplafonds, jaar)
    one_regio = cleaned.gemeenten["regio_naam"].dropna().nunique() == 1
    alle = flags["alle"].to_numpy()
    regional = alle if one_regio else flags["met_gemeente"].to_numpy()
    # maandkosten of the selected rows: one set of month cells for both (no copies of the rows)
    if cellen is None:
        cellen = _maandcellen(dec, ["regio"])
    tab = _maandkosten(dec, ("regio",), False, regional, cellen)
    nl = _maandkosten(dec, ("regio",), True, alle, cellen)
    tab = pd.concat([tab, nl[nl["regio"] == config.NEDERLAND]], ignore_index=True)
    if regio is not None:
        tab = tab[tab["regio"] == regio]
    return [((key,), y, f"{key} (onder budgetplafond)")
            for key, y in _reeksen(tab.groupby("regio", sort=True, observed=True), peil)]


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

_KPI_COLS = ["kpi", "regio", "gemeente", "periode", "dimensie", "waarde", "eenheid", schema.KPI_N, "voorlopig"]


def kpi_rows(progs: Mapping[tuple[str, ...], Prognose], per: str, verplicht_tab: pd.DataFrame | None = None,
             signaal: pd.DataFrame | None = None, jaar: int | None = None, peildatum=None) -> pd.DataFrame:
    """KPI rows of the forecast (docs/architecture.md "KPI rows"), all ``voorlopig``.

    * ``kosten_prognose`` (euro), ``dimensie="methode=<naam>"`` for each method
      used and ``methode=gekozen`` (the backtest's best), per period of ``per``
      that holds a forecast month (months not yet complete are realised-or-
      forecast, see :meth:`Prognose.aangevuld`); a year only when it is whole
      inside the horizon (the peildatum's year);
    * ``kosten_prognose_ondergrens`` / ``_bovengrens`` (euro, ``methode=gekozen``):
      the prediction interval of the chosen forecast;
    * ``kosten_verplicht`` (euro): committed cost of open toewijzingen in the
      forecast periods (from the peildatum on);
    * ``kosten_prognose_budget`` (fractie, periode = ``jaar``): the ``ratio`` of
      :func:`budget_vergelijking` (``signaal``), when a budget is known.

    Regio level and ``Nederland`` only (gemeente ""): the forecast is per regio.
    With ``peildatum``, only periods ending on or after it are given, so every row
    is ``voorlopig`` also by the KPI table's rule (the incomplete months before
    the peildatum's quarter are in :class:`Prognose`, not in the KPI table).
    """
    kol = {c: [] for c in ("kpi", "regio", "periode", "dimensie", "waarde", "eenheid")}

    def rows(kpi, regio, periode, dimensie, waarde, eenheid="euro"):
        n = len(periode)
        for c, v in (("kpi", kpi), ("regio", regio), ("periode", periode), ("dimensie", dimensie),
                     ("eenheid", eenheid)):
            kol[c].extend([v] * n if np.ndim(v) == 0 else list(v))
        kol["waarde"].append(np.asarray(waarde, dtype="float64"))

    for key, p in progs.items():
        if len(key) != 1 or p.beste is None:
            continue
        regio = key[0]
        # p.per_periode(per, m) as arrays, once per method ("gekozen" is the best one's)
        tab = {m: _periode_totalen(p, per, m) for m in p.methoden}
        for meth in list(p.methoden) + ["gekozen"]:
            m = p.beste if meth == "gekozen" else meth
            lab, waarde, onder, boven = tab[m]
            rows("kosten_prognose", regio, lab, f"methode={meth}", waarde)
            if meth == "gekozen":
                rows("kosten_prognose_ondergrens", regio, lab, "methode=gekozen", onder)
                rows("kosten_prognose_bovengrens", regio, lab, "methode=gekozen", boven)
    if signaal is not None and len(signaal) and jaar is not None:
        n = len(signaal)
        rows("kosten_prognose_budget", signaal["regio"].to_numpy(), np.full(n, str(jaar), dtype=object),
             "methode=gekozen", signaal["ratio"].to_numpy(dtype="float64"), "fractie")
    if verplicht_tab is not None and len(verplicht_tab):
        v = verplicht_tab.assign(periode=_common.period_label(verplicht_tab["maand"], per).to_numpy())
        g = v.groupby(["regio", "periode"], sort=True)["verplicht"].sum().reset_index()
        # Only periods that the forecast covers entirely (no partial next year).
        n_m = v.groupby(["regio", "periode"], sort=True)["maand"].nunique().to_numpy()
        size = _PERIODE_MAANDEN[per]
        first = v["maand"].min()
        whole = (n_m == size) | ((g["periode"] == _common.period_label(pd.Series([first]), per).iloc[0])
                                 .to_numpy())
        g = g[whole]
        rows("kosten_verplicht", g["regio"].to_numpy(), g["periode"].to_numpy(), "", g["verplicht"].to_numpy())
    waarde = np.concatenate([np.array([], dtype="float64")] + kol.pop("waarde"))
    out = pd.DataFrame({**{c: np.array(v, dtype=object) for c, v in kol.items()}, "waarde": waarde})
    out["gemeente"] = ""
    out[schema.KPI_N] = np.nan
    out["voorlopig"] = True
    if peildatum is not None and len(out):
        ends = {lab: pd.Period(str(lab)).end_time.normalize() for lab in out["periode"].unique()}
        out = out[out["periode"].map(ends) >= pd.Timestamp(peildatum)]
    out = out[_KPI_COLS].reset_index(drop=True)
    for c in ("kpi", "regio", "gemeente", "periode", "dimensie", "eenheid"):
        out[c] = out[c].astype(schema.S)
    out["waarde"] = out["waarde"].astype("float64").astype(schema.F)
    out[schema.KPI_N] = out[schema.KPI_N].astype("float64")
    out["voorlopig"] = out["voorlopig"].astype(schema.B)
    return out


def kpis(cleaned, params: config.Params, fp: ForecastParams | None = None) -> pd.DataFrame:
    """Forecast KPI rows for the KPI table (metrics.md section 10); see :func:`kpi_rows`.

    Per regio and ``Nederland``: ``kosten_prognose`` per method and for the chosen
    method with its interval, ``kosten_verplicht``, and ``kosten_prognose_budget``
    when budgetplafonds (or ``fp.budget``) give a budget for the peildatum's year.
    Periods follow ``params.per``.
    """
    return kpis_start(cleaned, params, fp)()


def kpis_start(cleaned, params: config.Params, fp: ForecastParams | None = None, *, pool=None):
    """:func:`kpis` in two steps: prepares the monthly series and starts the model
    fits (in ``pool``, a ``concurrent.futures`` process pool, when given: the fits
    then run beside the caller's other work); returns a function that finishes
    and returns the KPI rows. Same rows as :func:`kpis`."""
    fp = fp or ForecastParams()
    peil = pd.Timestamp(params.peildatum)
    jaar = (params.peil_ts - pd.Timedelta(days=1)).year
    cellen = _maandcellen(cleaned.declaraties, ["regio"])  # the month cells for both kinds of series
    progs = _start(_prognose_taken(cleaned, peil, cellen=cellen), peil, fp, pool)
    _, _, rest = _budget_delen(cleaned, jaar, fp)
    plafond = _start(_plafond_taken(cleaned, jaar, peil, cellen=cellen), peil, fp, pool) if rest else None
    del cellen  # two arrays per declaration line: not kept while the fits run
    ver = verplicht(cleaned, fp, peildatum=params.peildatum)  # while the fits run

    def finish() -> pd.DataFrame:
        p = progs()
        sig = budget_vergelijking(cleaned, p, jaar, fp, peildatum=params.peildatum,
                                  plafond_progs=plafond() if plafond is not None else None)
        return kpi_rows(p, params.per, ver, sig, jaar, peildatum=params.peildatum)

    return finish


# --------------------------------------------------------------------------- report


def parameters_tabel(fp: ForecastParams) -> pd.DataFrame:
    """The forecast parameters with a Dutch explanation, for a report's Toelichting."""
    rows = [
        ("indexatie", fp.indexatie, "jaarlijkse tariefindexatie bij 'zelfde maand vorig jaar'"),
        ("lag_maanden", fp.lag_maanden, "maanden vóór de maand van de peildatum die als onvolledig "
                                        "gelden (declaratievertraging): niet gebruikt om te schatten"),
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
    parameters: pd.DataFrame


def rapport(cleaned, regio: str, fp: ForecastParams | None = None, *, segment: bool = True,
            peildatum=None) -> PrognoseRapport:
    """The forecast part of the Prognose report for one regio (or ``Nederland``).

    A regio without declarations gets an empty forecast with a reason, not an error.
    """
    fp = fp or ForecastParams()
    peil = pd.Timestamp(peildatum if peildatum is not None else cleaned.params.peildatum)
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
        niet_gewaardeerd=int(ver.attrs.get("niet_gewaardeerd", 0)), parameters=parameters_tabel(fp))
