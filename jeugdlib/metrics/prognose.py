"""Prognose: cost forecasts per regio and committed cost (metrics.md section 10).

The forecasts themselves live in :mod:`jeugdlib.forecast`: the monthly net cost
per regio is one SQL query over the cleaned declarations, the three methods, the
backtest and the choice are short Python over that monthly frame. Fitting them
(statsmodels ETS, backtested on eight quarters per regio) is the expensive part,
so it runs once per cleaned dataset: :func:`prognose_tabel` keeps the fits and
stores the KPI rows of the period length asked in a table of the connection, and
each KPI below selects its rows from it. The KPI table starts the fits first, in a
thread beside the other KPIs (:func:`voorbereiden`): they are Python, the other KPIs
are DuckDB queries that leave the interpreter free while they run.

Rows are per regio and for ``Nederland`` (gemeente ""), only for periods ending
on or after the peildatum (all ``voorlopig``), without a client basis (no
suppression: amounts over a whole regio).
"""

from __future__ import annotations

import pandas as pd

from .. import engine
from ._common import datum, kpi, rows

TABEL = "prognose_kpi"


def _sleutel(c) -> tuple:
    """Key of the fits in ``c.memo``: they depend on the cleaned data and the peildatum."""
    return ("forecast.bereken", c.params.peildatum)


def voorbereiden(c) -> None:
    """Start the fits for ``c`` (:func:`jeugdlib.forecast.bereken`) in a background
    thread, on a cursor of their own, and keep the future in ``c.memo``;
    :func:`prognose_tabel` waits for it. The KPI table calls this before its first KPI
    (:func:`jeugdlib.kpi.kpi_rows`): the fits, about 6 s of Python on the national
    demo, then run while DuckDB computes the KPIs before them."""
    from concurrent.futures import ThreadPoolExecutor

    from .. import forecast

    if _sleutel(c) in c.memo:
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jeugdlib-prognose")
    c.memo[_sleutel(c)] = pool.submit(forecast.bereken, c.cursor())
    pool.shutdown(wait=False)


def _uitkomst(c):
    """The fits for ``c``: made now, or the result of :func:`voorbereiden`'s thread
    (its error, if any, raised here)."""
    from concurrent.futures import Future

    from .. import forecast

    sleutel = _sleutel(c)
    if sleutel not in c.memo:
        c.memo[sleutel] = forecast.bereken(c)
    elif isinstance(c.memo[sleutel], Future):
        try:
            c.memo[sleutel] = c.memo[sleutel].result()
        except BaseException:
            del c.memo[sleutel]
            raise
    return c.memo[sleutel]


def prognose_tabel(c) -> str:
    """The table ``prognose_kpi_<per>`` (kpi, regio, periode, dimensie, waarde): the
    rows of :func:`jeugdlib.forecast.kpi_rows` for ``c.params.per``, kept in ``c.con``
    for the cleaned data's peildatum (``..._gemaakt`` records it). The fits
    (:func:`jeugdlib.forecast.bereken`, default parameters) are made once per
    cleaning and kept in ``c.memo``: another period length only regroups them."""
    from .. import forecast

    per = c.params.per
    tabel = f"{TABEL}_{per}"
    peil = datum(c.params.peildatum)
    gemaakt = c.con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{tabel}_gemaakt'").fetchall()
    if gemaakt[0][0] and c.con.execute(f"SELECT peildatum = {peil} FROM {tabel}_gemaakt").fetchall()[0][0]:
        return tabel
    df = forecast.kpi_rows(_uitkomst(c), per)[["kpi", "regio", "periode", "dimensie", "waarde"]]
    df["waarde"] = df["waarde"].astype("float64")
    c.con.register("_prognose_kpi", df)
    engine.run(c.con, f"CREATE OR REPLACE TEMP TABLE {tabel} AS SELECT * FROM _prognose_kpi")
    c.con.unregister("_prognose_kpi")
    engine.run(c.con, f"CREATE OR REPLACE TEMP TABLE {tabel}_gemaakt AS SELECT {peil} AS peildatum")
    return tabel


def _rijen(c, kpi_id: str):
    """The stored rows of ``kpi_id`` for ``c.params.per``."""
    t = prognose_tabel(c)
    return rows(c, f"""SELECT regio, '' AS gemeente, periode, dimensie, waarde FROM {t}
                       WHERE kpi = '{kpi_id}'""")


@kpi(eenheid="euro", groep="Prognose", label="Kostenprognose", dimensies=("methode",), bron="metrics.md 10")
def kosten_prognose(c):
    """Forecast of the net declared cost in the period, per regio: realised where the
    months are complete, the forecast (at least what has arrived) where they are
    onvolledig or in the future; for each method (``methode=vorig_jaar``,
    ``gemiddelde_12m``, ``ets``) and for the one with the lowest backtest MAPE
    (``methode=gekozen``).

    Periods of ``per`` that hold a forecast month and end on or after the peildatum,
    up to the end of the horizon (the rest of the year and the next four quarters);
    a year only when it lies wholly inside the horizon. See
    :func:`jeugdlib.forecast.kpi_rows`."""
    return _rijen(c, "kosten_prognose")


@kpi(eenheid="euro", groep="Prognose", label="Kostenprognose, ondergrens", dimensies=("methode",),
     bron="metrics.md 10")
def kosten_prognose_ondergrens(c):
    """Lower bound of the 80% prediction interval of ``kosten_prognose`` of the chosen
    method (``methode=gekozen``).

    ETS: quantile of simulated path totals; the simple methods: the forecast x (1 +
    the largest backtest under-forecast)."""
    return _rijen(c, "kosten_prognose_ondergrens")


@kpi(eenheid="euro", groep="Prognose", label="Kostenprognose, bovengrens", dimensies=("methode",),
     bron="metrics.md 10")
def kosten_prognose_bovengrens(c):
    """Upper bound of the 80% prediction interval of ``kosten_prognose`` of the chosen
    method (``methode=gekozen``)."""
    return _rijen(c, "kosten_prognose_bovengrens")


@kpi(eenheid="euro", groep="Prognose", label="Verplichte kosten open toewijzingen", bron="metrics.md 10")
def kosten_verplicht(c):
    """Committed cost of the toewijzingen open on the peildatum in the period: their
    remaining maximum volume x the product's tarief x the product's recent
    verzilvering (allocation-based forecast).

    Periods from the peildatum's on that the horizon covers wholly (and the
    peildatum's own). No rows without open toewijzingen (e.g. a dataset of JW323
    messages only)."""
    return _rijen(c, "kosten_verplicht")


@kpi(eenheid="fractie", groep="Prognose", label="Prognose / budget", dimensies=("methode",), bron="metrics.md 10")
def kosten_prognose_budget(c):
    """The chosen year forecast / the budget of the peildatum's year (periode = that
    year): a regional budget parameter against the regio's total forecast, or the sum
    of the budgetplafonds against the forecast of the cost under those plafonds.

    Only where a budget is known."""
    return _rijen(c, "kosten_prognose_budget")
