"""Zorgduur: zorgpaden, episodes, mean duration, care of two years or longer (metrics.md section 5).

* **Zorgpad**: per client and productgroep, toewijzingen sorted by ingangsdatum
  are joined while the next starts at most ``aansluit_dagen`` after the latest end
  so far (``einddatum_eff``: an open end is the day before the peildatum). Each
  chain is one zorgpad.
* **Episode**: the same joining over all of a client's toewijzingen, regardless
  of product.

Both are :func:`ketens_sql` (window functions: a running maximum of the end per
partition, a new chain where a start lies more than ``aansluit_dagen`` beyond the
previous running maximum). A missing or empty client id (or productgroep) is one
value of the partition.

KPIs: ``duur_gem`` (months of 30.4375 days, over toewijzingen ending in the
period) and ``zorgduur_2jaar`` (share of clients active on the period's last day
whose episode started at least 730 days earlier).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .. import engine
from ._common import datum, kpi, perioden, rollup, rows
from .verzilvering import eindigend_sql

#: Days per month for durations (metrics.md section 5).
DAGEN_PER_MAAND = 30.4375
#: Episode length that counts as "two years or longer".
TWEE_JAAR_DAGEN = 730

#: Partitions of the two chain kinds (columns of the cleaned ``toewijzingen``): the client by
#: its number (``client_nr``, in the order of the ids; a missing or empty id is 0).
ZORGPAD = ("coalesce(client_nr, 0)", "coalesce(productgroep, '')")
EPISODE = ("coalesce(client_nr, 0)",)


def ketens_sql(bron_sql: str, partitie: Sequence[str] | str, aansluit_dagen: int, *,
               begin: str = "ingangsdatum", eind: str = "einddatum_eff", volgorde: str | None = None) -> str:
    """SQL numbering chains of periods (metrics.md 5: zorgpaden, episodes).

    ``bron_sql``: a query of rows with a start ``begin`` and an end ``eind`` (dates,
    not NULL; default the toewijzing's ``ingangsdatum`` and ``einddatum_eff``).
    ``partitie``: SQL expressions over its columns (a list, or one comma-separated
    string) whose rows are chained together, e.g. :data:`ZORGPAD` (client and
    productgroep) or :data:`EPISODE` (client); pass ``coalesce(x, '')`` to make
    missing and "" one value. Within a partition, rows sorted by (begin, end) join
    the chain while the next begins at most ``aansluit_dagen`` days after the latest
    end so far (a running maximum of the end over the rows before; a new chain
    where the begin lies beyond it + ``aansluit_dagen``).

    Returns every column of ``bron_sql`` plus ``keten`` (the chain's number within
    its partition: 1, 2, ... in order of start), ``keten_begin`` (its first begin)
    and ``keten_eind`` (its latest end). A chain is identified by the partition's
    values and ``keten``. With ``volgorde`` (a unique column such as ``rij``) rows
    with equal (begin, end) are ordered by it, and ``keten_rij`` is the
    ``volgorde`` value of the chain's first row: a chain id unique over the table.
    """
    part = partitie if isinstance(partitie, str) else ", ".join(partitie)
    orde = f"{begin}, {eind}" + (f", {volgorde}" if volgorde else "")
    w = f"PARTITION BY {part} ORDER BY {orde}"
    rij = (f", first_value({volgorde}) OVER (PARTITION BY {part}, keten ORDER BY {orde}) AS keten_rij"
           if volgorde else "")
    return f"""
        WITH vorig AS (
            SELECT *, max({eind}) OVER ({w} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS _vorig_eind
            FROM ({bron_sql}) AS bron),
        genummerd AS (
            SELECT * EXCLUDE (_vorig_eind),
                   sum(CASE WHEN _vorig_eind IS NULL
                              OR {begin} > _vorig_eind + INTERVAL {int(aansluit_dagen)} DAY THEN 1 ELSE 0 END)
                       OVER ({w} ROWS UNBOUNDED PRECEDING) AS keten
            FROM vorig)
        SELECT *, min({begin}) OVER (PARTITION BY {part}, keten) AS keten_begin,
                  max({eind}) OVER (PARTITION BY {part}, keten) AS keten_eind{rij}
        FROM genummerd"""


def genummerd_sql(c, partitie, naam: str) -> str:
    """SQL: the cleaned ``toewijzingen`` (all columns) with the chain of
    :func:`ketens_sql` over ``partitie`` as ``<naam>`` (a number unique over the
    table: chains numbered in order of partition and start), ``<naam>_begin`` and
    ``<naam>_eind``."""
    k = ketens_sql("SELECT * FROM toewijzingen", partitie, c.params.aansluit_dagen, volgorde="rij")
    return f"""
        SELECT * EXCLUDE (keten, keten_begin, keten_eind, keten_rij),
               dense_rank() OVER (ORDER BY {', '.join(partitie)}, keten) AS {naam},
               keten_begin AS {naam}_begin, keten_eind AS {naam}_eind
        FROM ({k})"""


def zorgpaden(c) -> pd.DataFrame:
    """Zorgpad of each toewijzing (metrics.md 5), in the order of the cleaned table:
    columns rij, gemeentecode, toewijzing_nr, client_id, productgroep, ``zorgpad`` (a
    number unique over the table), ``zorgpad_begin``, ``zorgpad_eind``."""
    return _keten_frame(c, ZORGPAD, "zorgpad")


def episodes(c) -> pd.DataFrame:
    """Episode of each toewijzing (metrics.md 5: a zorgpad over all of a client's
    toewijzingen), columns as :func:`zorgpaden` with ``episode``."""
    return _keten_frame(c, EPISODE, "episode")


def _keten_frame(c, partitie, naam: str) -> pd.DataFrame:
    return engine.df(c.con, f"""
        SELECT rij, gemeentecode, toewijzing_nr, client_id, productgroep, {naam}, {naam}_begin, {naam}_eind
        FROM ({genummerd_sql(c, partitie, naam)}) ORDER BY rij""")


def zorgpad_overzicht(c) -> pd.DataFrame:
    """One row per zorgpad: ``zorgpad`` (as :func:`zorgpaden`), client_id,
    productgroep, ``begin`` (first ingangsdatum), ``eind`` (latest effective end),
    ``toewijzingen`` (count), and regio / gemeentecode of its first toewijzing (by
    ingangsdatum, then order in the table; metrics.md 5 and 6: a zorgpad belongs to
    the period of its start). Ordered by zorgpad."""
    return engine.df(c.con, f"""
        SELECT zorgpad, any_value(client_id) AS client_id, any_value(productgroep) AS productgroep,
               min(zorgpad_begin) AS begin, max(zorgpad_eind) AS eind, count(*) AS toewijzingen,
               arg_min(regio, (ingangsdatum, rij)) AS regio,
               arg_min(gemeentecode, (ingangsdatum, rij)) AS gemeentecode
        FROM ({genummerd_sql(c, ZORGPAD, 'zorgpad')}) GROUP BY zorgpad ORDER BY zorgpad""")


def duur_dagen_sql(t: str = "t") -> str:
    """SQL: duration of toewijzing ``t`` in days, einddatum - ingangsdatum + 1 (an
    integer; NULL for an open einddatum)."""
    return f"(datediff('day', {t}.ingangsdatum, {t}.einddatum) + 1)"


@kpi(eenheid="maanden", groep="Zorgduur", label="Gemiddelde duur toewijzing", basis="clienten",
     bron="metrics.md 5")
def duur_gem(c):
    """Mean over toewijzingen ending in the period of (einddatum - ingangsdatum + 1
    day) in months of 30.4375 days.

    Toewijzingen with a real einddatum in the analysis window, before the peildatum.
    ``n_clienten``: distinct clients among them."""
    # the days summed as integers and then made months: the same on every run (a sum of
    # months as doubles depends on the order DuckDB adds them in, in its last digits)
    bron = f"""SELECT t.regio, coalesce(t.gemeentecode, 'onbekend') AS gemeentecode, t.client_nr, t.periode,
                      {duur_dagen_sql('t')} AS dagen
               FROM ({eindigend_sql(c, alleen_volledig=False)}) t"""
    agg = rollup(bron, "sum(dagen) AS dagen, count(*) AS n, count(DISTINCT client_nr) AS n_clienten")
    return rows(c, f"SELECT regio, gemeente, periode, dagen / {DAGEN_PER_MAAND} / n AS waarde, n_clienten "
                   f"FROM ({agg})")


@kpi(eenheid="fractie", groep="Zorgduur", label="Zorg twee jaar of langer", basis="clienten",
     bron="metrics.md 5")
def zorgduur_2jaar(c):
    """Among clients active on the period's last day, the share whose episode
    started at least 730 days earlier.

    Active: a toewijzing with ingangsdatum <= day <= einddatum_eff; for a period
    still running at the peildatum the day is the day before the peildatum. All of
    a client's toewijzingen active on one day are in one episode. ``n_clienten``:
    the active clients."""
    per = perioden(c)
    laatste = f"({datum(c.params.peildatum)} - 1)"
    ep = ketens_sql("SELECT * FROM toewijzingen", EPISODE, c.params.aansluit_dagen)
    bron = f"""
        SELECT e.regio, coalesce(e.gemeentecode, 'onbekend') AS gemeentecode, e.client_id, e.client_nr, p.periode,
               datediff('day', e.keten_begin, p.dag) >= {TWEE_JAAR_DAGEN} AS lang
        FROM ({ep}) e
        JOIN (SELECT periode, least(eind, {laatste}) AS dag FROM {per}) p
          ON e.ingangsdatum <= p.dag AND e.einddatum_eff >= p.dag
        WHERE e.client_id IS NOT NULL"""
    agg = rollup(bron, "count(DISTINCT client_nr) FILTER (WHERE lang) AS lang, count(DISTINCT client_nr) AS n_clienten")
    return rows(c, f"SELECT regio, gemeente, periode, lang / n_clienten AS waarde, n_clienten FROM ({agg}) "
                   f"WHERE n_clienten > 0")
