"""Budget ceilings: uitnutting and year-end prognose per aanbieder (metrics.md section 8).

``budgetplafonds.csv`` gives a ceiling per aanbieder and year, optionally narrowed to
one productcode and/or one gemeentecode (empty = all). For each ceiling:

* ``budget_uitnutting`` = net declared amount in that year (declaration items by
  ``periode_begin``, within the ceiling's productcode/gemeentecode) / plafond;
* ``budget_prognose`` = the same with the linear year-end projection of section 1
  (``kosten_prognose_lineair``): year-to-date x 12 / m, m = whole months from
  1 January to the peildatum; only for the year holding the peildatum, and only
  when m >= 1.

A ceiling is reported where it belongs: a ceiling for one gemeente under that
gemeente's regio; a ceiling without gemeente under the single regio its declarations
come from, or ``Nederland`` when they span several regions (or none).
"""

from __future__ import annotations

import pandas as pd

from .. import config, engine
from ._common import hele_maanden, kpi, rows
from .kosten import geen_rijen


def plafonds_sql(c) -> str:
    """SQL: one row per ceiling of budgetplafonds.csv for a year up to the peildatum's
    (in the table's order, ``pid``): its agb, jaar, productcode, gemeentecode (trimmed,
    empty -> NULL), plafond_cent, and ``gedeclareerd_cent`` (net declared amount of the
    aanbieder in that year within the ceiling's product and gemeente), ``n_clienten``
    (distinct clients in it), ``uitnutting``, ``prognose_cent`` and ``prognose`` (NULL
    except for the peildatum's year with m >= 1), ``boven_plafond`` (uitnutting or
    prognose above 1) and ``regio``/``gemeente`` where the ceiling is reported."""
    peil = pd.Timestamp(c.params.peildatum)
    m = hele_maanden(peil)
    lopend = f"p.jaar = {peil.year}" if m >= 1 else "false"
    return f"""
        WITH p AS (
            SELECT rij AS pid, agb, jaar::BIGINT AS jaar, plafond_cent,
                   nullif(trim(productcode), '') AS productcode, nullif(trim(gemeentecode), '') AS gemeentecode
            FROM ref_budgetplafonds WHERE jaar <= {peil.year}),
        gedeclareerd AS (
            SELECT p.pid, sum(d.bedrag_cent) AS cent, count(DISTINCT d.client_nr) AS clienten,
                   count(DISTINCT d.regio) AS n_regio, any_value(d.regio) AS regio
            FROM p JOIN declaraties d ON d.agb = p.agb AND year(d.periode_begin) = p.jaar
                                     AND (p.productcode IS NULL OR d.productcode = p.productcode)
                                     AND (p.gemeentecode IS NULL OR d.gemeentecode = p.gemeentecode)
            GROUP BY p.pid),
        gem AS (
            SELECT gemeentecode, arg_max(regio_naam, rij) AS regio_naam FROM schoon_gemeenten
            WHERE gemeentecode IS NOT NULL GROUP BY gemeentecode),
        uit AS (
            SELECT p.*, coalesce(g.cent, 0)::DOUBLE AS gedeclareerd_cent,
                   coalesce(g.clienten, 0)::DOUBLE AS n_clienten,
                   CASE WHEN p.plafond_cent > 0 THEN coalesce(g.cent, 0)::DOUBLE / p.plafond_cent END AS uitnutting,
                   CASE WHEN {lopend} THEN coalesce(g.cent, 0)::DOUBLE * 12.0 / {max(m, 1)} END AS prognose_cent,
                   CASE WHEN p.gemeentecode IS NOT NULL THEN coalesce(gm.regio_naam, p.gemeentecode)
                        WHEN g.n_regio = 1 THEN g.regio ELSE '{config.NEDERLAND}' END AS regio,
                   coalesce(p.gemeentecode, '') AS gemeente
            FROM p LEFT JOIN gedeclareerd g USING (pid) LEFT JOIN gem gm ON gm.gemeentecode = p.gemeentecode)
        SELECT *, CASE WHEN plafond_cent > 0 THEN prognose_cent / plafond_cent END AS prognose,
               coalesce(uitnutting > 1, false) OR coalesce(prognose_cent / plafond_cent > 1, false) AS boven_plafond
        FROM uit ORDER BY pid"""


def plafonds(c) -> pd.DataFrame:
    """The ceilings of :func:`plafonds_sql` as a frame (for reports and tests)."""
    return engine.df(c.con, plafonds_sql(c))


def _rijen(c, waarde: str) -> pd.DataFrame:
    """KPI rows of ``waarde`` (a column of :func:`plafonds_sql`): one per ceiling of a
    year in the window, dimensie ``agb=...`` (with ``;productcode=...`` for a ceiling of
    one product); only per year (a ceiling is yearly); no row where ``waarde`` is empty."""
    if c.params.per != "jaar":
        return geen_rijen(c)
    start = pd.Timestamp(c.params.start).year
    return rows(c, f"""
        SELECT regio, gemeente, jaar::VARCHAR AS periode,
               'agb=' || coalesce(agb, 'onbekend') || coalesce(';productcode=' || productcode, '') AS dimensie,
               {waarde} AS waarde, n_clienten
        FROM ({plafonds_sql(c)}) WHERE jaar >= {start} AND {waarde} IS NOT NULL""")


@kpi(eenheid="fractie", groep="Verwijzers en budget", label="Budgetuitnutting", dimensies=("agb",),
     basis="clienten", bron="metrics.md 8")
def budget_uitnutting(c):
    """Net declared amount in the ceiling's year / plafond, per budget ceiling
    (budgetplafonds.csv: aanbieder, optionally one productcode and/or gemeente).

    Only per year and only when budgetplafonds are given. ``n_clienten`` = distinct
    clients in the declared amount."""
    return _rijen(c, "uitnutting")


@kpi(eenheid="fractie", groep="Verwijzers en budget", label="Budgetprognose", dimensies=("agb",),
     basis="clienten", bron="metrics.md 8")
def budget_prognose(c):
    """``budget_uitnutting`` with the linear year-end projection of ``kosten_prognose_lineair``:
    declared year-to-date x 12 / m / plafond, only for the year holding the peildatum
    (m >= 1).

    ``n_clienten`` as ``budget_uitnutting``."""
    return _rijen(c, "prognose")
