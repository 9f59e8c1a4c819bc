"""Verzilvering (P*Q): how much of what was allocated was declared (metrics.md section 3).

For toewijzingen of ``inspanning`` products whose ``einddatum`` lies in a period
whose last day is before the peildatum:

* maximum volume = ``volume`` x the number of frequency units in
  [ingangsdatum, einddatum] (:func:`eenheden_sql`);
* delivered volume = the net declared volume on the toewijzing, converted to the
  toewijzing's eenheid (minutes, hours and dagdelen convert; any other mix of
  units makes the toewijzing unusable: status ``eenheid_mix``, left out);
* budget-only toewijzingen (eenheid 83 or a ``Budget``): delivered = net declared
  amount, maximum = budget.

Both sides are valued at the product's tarief, so units never mix:
``verzilvering = sum(delivered x tarief) / sum(maximum x tarief)``.

A declaration item belongs to a toewijzing when its (gemeentecode, toewijzing_nr)
is the toewijzing's key AND its client is the toewijzing's client (metrics.md 0.1
and 0.2: a line of another client counts as a line on an unknown toewijzing).

Two levels: :func:`per_toewijzing_sql` (one row per toewijzing: for
distributions, the "what if everything were declared" view of the reports and the
forecast's :func:`verzilvering_per_product`) and the KPI functions
``verzilvering``, ``toegewezen_bedrag`` and ``gedeclareerd_bedrag``.
"""

from __future__ import annotations

import pandas as pd

from .. import config, engine
from ._common import datum, dim_sql, euro, kpi, materialiseer, perioden, rollup, rows, som

#: WMO757 Frequentie codes.
FREQ_DAG, FREQ_WEEK, FREQ_MAAND, FREQ_TOTAAL = "1", "2", "4", "6"
#: WJ756 Eenheid code for euro (budget-only toewijzingen).
EENHEID_EURO = "83"

#: Status values of :func:`per_toewijzing_sql`; only ``ok`` enters the KPIs.
STATUS_OK = "ok"
STATUS_EENHEID_MIX = "eenheid_mix"  # declared in a unit that does not convert
STATUS_FREQUENTIE = "frequentie_onbekend"  # no volume or frequency not 1/2/4/6
STATUS_TARIEF = "geen_tarief"  # the product has no tarief to value the volume at


# --------------------------------------------------------------------------- codes and units

def eenheid_sql(col: str) -> str:
    """SQL: an eenheid code normalised (stripped, digits left-padded to two: '4' ->
    '04'); a missing code is ''."""
    return (f"CASE WHEN {col} IS NULL THEN '' WHEN length(trim({col})) >= 2 THEN trim({col}) "
            f"ELSE lpad(trim({col}), 2, '0') END")


def frequentie_sql(col: str) -> str:
    """SQL: a frequentie code normalised (stripped, leading zeros off: '01' -> '1')."""
    return f"ltrim(trim({col}), '0')"


def uren_sql(eenheid: str) -> str:
    """SQL: hours in one unit of the (normalised) ``eenheid`` (config.EENHEID_UREN),
    NULL for a unit that does not convert to hours."""
    whens = " ".join(f"WHEN '{k}' THEN {float(v)!r}" for k, v in config.EENHEID_UREN.items())
    return f"(CASE {eenheid} {whens} END)"


def eenheid_factor_sql(van: str, naar: str) -> str:
    """SQL: the factor converting a volume in eenheid ``van`` to eenheid ``naar`` (both
    normalised, :func:`eenheid_sql`): 1 for equal units; minutes (01), hours (04) and
    dagdelen (16) convert via hours; any other mix gives NULL (data-contract 1.1)."""
    return f"(CASE WHEN {van} = {naar} THEN 1.0 ELSE {uren_sql(van)} / {uren_sql(naar)} END)"


def eenheden_sql(t: str = "t") -> str:
    """SQL: the number of frequency units of toewijzing ``t`` in [ingangsdatum, end]
    (metrics.md 3), end = einddatum, else einddatum_eff (open: the day before the
    peildatum). ``1`` per dag: days, both ends included; ``2`` per week:
    ceil(days / 7); ``4`` per maand: calendar months overlapping the interval;
    ``6`` totaal: 1; any other (or empty) frequentie: NULL."""
    eind = f"coalesce({t}.einddatum, {t}.einddatum_eff)"
    dagen = f"(datediff('day', {t}.ingangsdatum, {eind}) + 1)"
    maanden = f"((year({eind}) * 12 + month({eind})) - (year({t}.ingangsdatum) * 12 + month({t}.ingangsdatum)) + 1)"
    return f"""(CASE {frequentie_sql(f'{t}.frequentie')}
                 WHEN '{FREQ_DAG}' THEN {dagen}::DOUBLE
                 WHEN '{FREQ_WEEK}' THEN ceil({dagen} / 7.0)
                 WHEN '{FREQ_MAAND}' THEN {maanden}::DOUBLE
                 WHEN '{FREQ_TOTAAL}' THEN 1.0 END)"""


# --------------------------------------------------------------------------- per toewijzing

def per_toewijzing_sql(bron: str = "SELECT * FROM toewijzingen") -> str:
    """SQL: per toewijzing of ``bron`` (rows of the cleaned ``toewijzingen``, any
    selection) maximum, delivered and declared, valued in eurocent (metrics.md 3).

    Returns the rows of ``bron`` (all columns) plus:

    * ``budget`` (bool): budget-only toewijzing (eenheid 83 or Budget given);
    * ``maximum_volume``: volume x frequency units, in the toewijzing's eenheid;
    * ``geleverd_volume``: net declared volume converted to the toewijzing's eenheid
      (NULL for budget-only);
    * ``toegewezen_cent``: maximum x tarief; for budget-only the budget (or, with
      eenheid 83 and no Budget, the maximum volume in euro x 100);
    * ``geleverd_cent``: delivered x tarief; for budget-only the net declared amount;
    * ``gedeclareerd_cent``: net declared amount on the toewijzing;
    * ``verzilvering``: geleverd_cent / toegewezen_cent (NULL unless toegewezen > 0);
    * ``status``: ``ok``, ``eenheid_mix``, ``frequentie_onbekend`` or ``geen_tarief``;
      only ``ok`` rows enter the KPIs.

    Declaration items link on (gemeentecode, toewijzing_nr, client_id), through the
    items' ``toewijzing_rij`` (:mod:`jeugdlib.clean`): an item of an unknown
    toewijzing (or of another client) never enters verzilvering.
    """
    factor = eenheid_factor_sql(eenheid_sql("d.eenheid"), eenheid_sql("t.eenheid"))
    return f"""
        WITH t AS ({bron}),
        geleverd AS (
            SELECT t.rij,
                   {som(f'coalesce(d.volume, 0) * coalesce({factor}, 0.0)')} AS geleverd,
                   sum(coalesce(d.bedrag_cent, 0))::DOUBLE AS gedeclareerd,
                   bool_or({factor} IS NULL AND coalesce(d.volume, 0) <> 0) AS mix
            FROM (SELECT rij, eenheid FROM t) t JOIN declaraties d ON d.toewijzing_rij = t.rij
            GROUP BY t.rij),
        w AS (
            SELECT t.*,
                   coalesce({eenheid_sql('t.eenheid')} = '{EENHEID_EURO}', false)
                       OR t.budget_cent IS NOT NULL AS budget,
                   t.volume::DOUBLE * {eenheden_sql('t')} AS maximum_volume,
                   coalesce(g.geleverd, 0.0) AS _geleverd,
                   coalesce(g.gedeclareerd, 0.0) AS gedeclareerd_cent,
                   coalesce(g.mix, false) AS _mix
            FROM t LEFT JOIN geleverd g ON g.rij = t.rij),
        v AS (  -- budget-only: maximum = Budget; eenheid 83 without a Budget: the volume is in euro
            SELECT w.*, CASE WHEN budget THEN coalesce(budget_cent::DOUBLE, maximum_volume * 100.0)
                             ELSE maximum_volume END AS _maximum
            FROM w),
        x AS (
            SELECT v.*,
                   CASE WHEN budget THEN NULL ELSE _geleverd END AS geleverd_volume,
                   CASE WHEN budget THEN _maximum ELSE _maximum * tarief_cent END AS toegewezen_cent,
                   CASE WHEN budget THEN gedeclareerd_cent ELSE _geleverd * tarief_cent END AS geleverd_cent
            FROM v)
        SELECT x.* EXCLUDE (_geleverd, _mix, _maximum),
               CASE WHEN toegewezen_cent > 0 THEN geleverd_cent / toegewezen_cent END AS verzilvering,
               CASE WHEN _maximum IS NULL THEN '{STATUS_FREQUENTIE}'
                    WHEN NOT budget AND _mix THEN '{STATUS_EENHEID_MIX}'
                    WHEN NOT budget AND tarief_cent IS NULL THEN '{STATUS_TARIEF}'
                    ELSE '{STATUS_OK}' END AS status
        FROM x"""


def verzilvering_per_toewijzing(c, bron: str = "SELECT * FROM toewijzingen") -> pd.DataFrame:
    """:func:`per_toewijzing_sql` as a pandas frame (ordered as the cleaned table):
    for reports and tests on a region's data."""
    return engine.df(c.con, f"SELECT * FROM ({per_toewijzing_sql(bron)}) ORDER BY rij")


def eindigend_sql(c, *, alleen_volledig: bool = True, waar: str = "true") -> str:
    """SQL: toewijzingen (rows of ``toewijzingen`` where ``waar``) with a real
    einddatum in the analysis window (on or after ``start``, before the peildatum),
    with the ``periode`` (of ``c.params.per``) holding that einddatum. Open
    toewijzingen have not ended and are left out. With ``alleen_volledig`` only
    periods whose last day is before the peildatum (metrics.md 3)."""
    per = perioden(c)
    p = c.params
    volledig = "AND NOT p.voorlopig" if alleen_volledig else ""
    return f"""
        SELECT t.*, p.periode FROM toewijzingen t
        JOIN {per} p ON t.einddatum BETWEEN p.begin AND p.eind {volledig}
        WHERE t.einddatum >= {datum(p.start)} AND t.einddatum < {datum(p.peildatum)} AND ({waar})"""


INSPANNING = "t.financieringsvorm = 'inspanning'"


def _groepen(c) -> str:
    """SQL: the grouped sums of the verzilvering KPIs per level, period and dimension
    (total, ``type=``, ``productcode=``), groups with a positive toegewezen amount."""
    v = per_toewijzing_sql(eindigend_sql(c, waar=INSPANNING))
    kolommen = ("regio, coalesce(gemeentecode, 'onbekend') AS gemeentecode, client_id, client_nr, periode, "
                "geleverd_cent, toegewezen_cent, gedeclareerd_cent")
    bron = f"""
        WITH v AS (SELECT * FROM ({v}) WHERE status = '{STATUS_OK}')
        SELECT {kolommen}, '' AS dimensie FROM v
        UNION ALL SELECT {kolommen}, {dim_sql('aanbieder_type', 'type')} FROM v
        UNION ALL SELECT {kolommen}, {dim_sql('productcode')} FROM v"""
    agg = rollup(bron, f"{som('geleverd_cent')} AS geleverd, {som('toegewezen_cent')} AS toegewezen, "
                       "sum(gedeclareerd_cent) AS gedeclareerd, count(DISTINCT client_nr) AS n_clienten",
                 by="periode, dimensie")
    return f"SELECT * FROM {materialiseer(c, agg)} WHERE toegewezen > 0"


@kpi(eenheid="fractie", groep="Verzilvering", label="Verzilvering", dimensies=("type", "productcode"),
     basis="clienten", bron="metrics.md 3")
def verzilvering(c):
    """sum(delivered x tarief) / sum(maximum x tarief) over the ``inspanning``
    toewijzingen whose einddatum lies in the period (complete periods only); for
    budget-only toewijzingen delivered = net declared amount and maximum = budget.

    Dimensions: total, ``type=micro/regulier`` (aanbieder type) and
    ``productcode=...``. Only toewijzingen with status ``ok``
    (:func:`per_toewijzing_sql`). ``n_clienten``: distinct clients in the group."""
    return rows(c, f"SELECT regio, gemeente, periode, dimensie, geleverd / toegewezen AS waarde, n_clienten "
                   f"FROM ({_groepen(c)})")


@kpi(eenheid="euro", groep="Verzilvering", label="Toegewezen bedrag", basis="clienten", bron="metrics.md 3")
def toegewezen_bedrag(c):
    """sum(maximum x tarief) (budget for budget-only toewijzingen) over the toewijzingen
    of ``verzilvering``, in euro.

    Total only; ``n_clienten``: distinct clients."""
    return rows(c, f"SELECT regio, gemeente, periode, dimensie, {euro('toegewezen')} AS waarde, n_clienten "
                   f"FROM ({_groepen(c)}) WHERE dimensie = ''")


@kpi(eenheid="euro", groep="Verzilvering", label="Gedeclareerd bedrag", basis="clienten", bron="metrics.md 3")
def gedeclareerd_bedrag(c):
    """sum(net declared amount) on the toewijzingen of ``verzilvering``, in euro.

    Total only; ``n_clienten``: distinct clients."""
    return rows(c, f"SELECT regio, gemeente, periode, dimensie, {euro('gedeclareerd')} AS waarde, n_clienten "
                   f"FROM ({_groepen(c)}) WHERE dimensie = ''")


# --------------------------------------------------------------------------- for the forecast

def verzilvering_per_product(c, van=None, tot=None) -> pd.DataFrame:
    """Recent verzilvering per regio and productcode (metrics.md 3 and 10; for the
    allocation-based forecast).

    Over toewijzingen of ``inspanning`` products with a real einddatum in
    [``van``, ``tot``) (default: ``c.params.start`` to the peildatum) and status
    ``ok``: ``geleverd_cent``, ``toegewezen_cent`` (sums), ``toewijzingen`` (their
    number) and ``verzilvering`` = geleverd / toegewezen (NaN unless toegewezen >
    0). ``regio`` missing -> 'onbekend', ``productcode`` missing -> ''. One row per
    (regio, productcode) with such toewijzingen, ordered by regio and productcode.
    """
    van = datum(van if van is not None else c.params.start)
    tot = datum(tot if tot is not None else c.params.peildatum)
    bron = (f"SELECT * FROM toewijzingen t WHERE {INSPANNING} AND t.einddatum IS NOT NULL "
            f"AND t.einddatum >= {van} AND t.einddatum < {tot}")
    return engine.df(c.con, f"""
        SELECT regio, productcode, geleverd_cent, toegewezen_cent, toewijzingen,
               CASE WHEN toegewezen_cent > 0 THEN geleverd_cent / toegewezen_cent END AS verzilvering
        FROM (SELECT coalesce(regio, 'onbekend') AS regio, coalesce(productcode, '') AS productcode,
                     {som('geleverd_cent')} AS geleverd_cent, {som('toegewezen_cent')} AS toegewezen_cent,
                     count(*) AS toewijzingen
              FROM ({per_toewijzing_sql(bron)}) WHERE status = '{STATUS_OK}' GROUP BY ALL)
        ORDER BY regio, productcode""")


def verzilvering_toewijzingen(c, periode: str, regio: str) -> pd.DataFrame:
    """The toewijzingen behind the KPI ``verzilvering`` of one regio and period (the
    ``inspanning`` toewijzingen that ended in it, status ``ok``, toegewezen > 0):
    ``aanbieder_type``, ``geleverd_cent``, ``toegewezen_cent``, one row each. For the
    test of a difference in verzilvering between aanbieder types
    (:func:`jeugdlib.metrics.toetsen.verschil_verzilvering`): sum(geleverd) /
    sum(toegewezen) of a type is exactly that type's KPI value."""
    v = per_toewijzing_sql(eindigend_sql(c, waar=INSPANNING))
    return engine.df(c.con, f"""
        SELECT aanbieder_type, geleverd_cent, toegewezen_cent FROM ({v})
        WHERE status = '{STATUS_OK}' AND toegewezen_cent > 0 AND periode = {engine._lit(str(periode))}
              AND regio = {engine._lit(str(regio))}
        ORDER BY rij""")
