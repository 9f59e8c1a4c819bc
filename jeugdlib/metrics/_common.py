"""The KPI registry and what every KPI definition shares: periods and the roll-up.

**Registry.** A KPI is a function whose name is its KPI id, decorated with
:func:`kpi`, which declares beside it its ``eenheid``, its dimensions, its
suppression basis and the Excel group and Dutch label it is shown under. Its
docstring states the definition (the one in ``metrics.md``) and the source. The
function takes the cleaned data (:class:`jeugdlib.clean.Cleaned`, whose ``con``
holds the tables) and returns rows ``regio, gemeente, periode, dimensie, waarde,
n_clienten``. :data:`REGISTRY` (id -> :class:`KpiDef`) drives the KPI table, the
Excel sheets, the report's Toelichting and the README's metric table.

**Groups.** Every KPI is given per gemeente (``gemeente`` = its code), per regio
(``gemeente`` = "") and for ``Nederland``: :func:`rollup` wraps a query in
``GROUPING SETS`` so sums and distinct client counts are right at each level (a
client in two gemeenten counts once in the regio).

**Periods.** :func:`perioden` makes the table ``perioden(periode, begin, eind,
voorlopig)`` of the analysis window (metrics.md section 0).
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Callable

import pandas as pd

from .. import config, engine, schema

#: Columns of the rows a KPI function returns.
OUT_COLUMNS = ["regio", "gemeente", "periode", "dimensie", "waarde", "n_clienten"]


# --------------------------------------------------------------------------- registry

@dataclasses.dataclass(frozen=True)
class KpiDef:
    """A KPI of metrics.md: its id (= the function's name) and what is declared beside it."""

    id: str
    functie: Callable
    eenheid: str  # aantal | euro | fractie | maanden
    groep: str  # Excel sheet / report group
    label: str  # Dutch label for tables and Excel
    dimensies: tuple[str, ...] = ()  # dimension names besides the total
    basis: str = ""  # what n_clienten counts (suppression basis); "" = not client-based
    bron: str = ""  # section of metrics.md

    @property
    def definitie(self) -> str:
        """The definition: the first paragraph of the function's docstring."""
        doc = inspect.getdoc(self.functie) or ""
        return doc.split("\n\n")[0].replace("\n", " ")

    @property
    def module(self) -> str:
        return self.functie.__module__.rsplit(".", 1)[-1]


#: KPI id -> definition, in the order of the KPI table.
REGISTRY: dict[str, KpiDef] = {}


def kpi(*, eenheid: str, groep: str, label: str, dimensies: tuple[str, ...] = (), basis: str = "",
        bron: str = "") -> Callable:
    """Register the decorated function as the KPI named after it."""
    def deco(f):
        REGISTRY[f.__name__] = KpiDef(f.__name__, f, eenheid, groep, label, tuple(dimensies), basis, bron)
        return f
    return deco


def registry() -> dict[str, KpiDef]:
    """Every KPI, in the order of the KPI table: the modules in the order of
    :data:`jeugdlib.metrics.MODULES`, within a module in the order of definition
    (whatever order the modules happened to be imported in)."""
    from .. import metrics

    metrics.laad_alles()
    rang = {m: i for i, m in enumerate(metrics.MODULES)}

    def sleutel(d: KpiDef):
        return rang.get(d.module, len(rang)), d.functie.__code__.co_firstlineno
    return {d.id: d for d in sorted(REGISTRY.values(), key=sleutel)}


# --------------------------------------------------------------------------- periods

def period_label(dates: pd.Series, per: str) -> pd.Series:
    """Label of the period holding each date: '2023', '2023-Q2' or '2023-05'."""
    d = pd.Series(dates)
    if per == "jaar":
        out = d.dt.year.astype("Int64").astype("string")
    elif per == "kwartaal":
        out = d.dt.year.astype("Int64").astype("string") + "-Q" + d.dt.quarter.astype("Int64").astype("string")
    elif per == "maand":
        out = d.dt.strftime("%Y-%m").astype("string")
    else:
        raise ValueError(f"unknown per {per!r}")
    return out.astype(schema.S)


def label_sql(col: str, per: str) -> str:
    """SQL for the label of the period of ``per`` holding the date ``col``."""
    return {"jaar": f"strftime({col}, '%Y')",
            "kwartaal": f"strftime({col}, '%Y') || '-Q' || quarter({col})",
            "maand": f"strftime({col}, '%Y-%m')"}[per]


def periods(start, peildatum, per: str) -> pd.DataFrame:
    """Periods overlapping [start, peildatum): columns periode, begin, eind, voorlopig.

    ``eind`` is the period's last day; ``voorlopig`` is true when that day is on or
    after the peildatum (metrics.md section 0).
    """
    start = pd.Timestamp(start)
    peil = pd.Timestamp(peildatum)
    freq = {"jaar": "YS", "kwartaal": "QS", "maand": "MS"}[per]
    first = start.to_period({"jaar": "Y", "kwartaal": "Q", "maand": "M"}[per]).start_time
    begins = pd.date_range(first, peil - pd.Timedelta(days=1), freq=freq)
    if len(begins) == 0:
        begins = pd.DatetimeIndex([first])
    offs = {"jaar": pd.offsets.YearEnd(0), "kwartaal": pd.offsets.QuarterEnd(0), "maand": pd.offsets.MonthEnd(0)}[per]
    ends = begins + offs
    out = pd.DataFrame({
        "periode": period_label(pd.Series(begins), per),
        "begin": begins.astype(schema.D),
        "eind": ends.astype(schema.D),
    })
    out["voorlopig"] = out["eind"] >= peil
    return out


def perioden(c, per: str | None = None, naam: str | None = None) -> str:
    """Create the table of :func:`periods` for the cleaned data ``c`` and return its
    name: ``perioden_jaar``, ``perioden_kwartaal`` or ``perioden_maand`` (``per``
    default ``c.params.per``), or ``perioden_eigen_<hash of its periods>`` for
    ``c.perioden_tabel`` when set (:meth:`jeugdlib.clean.Cleaned.met_perioden`): a
    query over other periods is another text, so :func:`materialiseer` keeps them apart."""
    eigen = per is None and getattr(c, "perioden_tabel", None) is not None
    per = per or c.params.per
    df = c.perioden_tabel if eigen else periods(c.params.start, c.params.peildatum, per)
    if naam is None and eigen:  # named after its content: other periods, another name
        import hashlib

        inhoud = df[["periode", "begin", "eind"]].astype(str).to_csv(index=False).encode()
        naam = "perioden_eigen_" + hashlib.sha1(inhoud).hexdigest()[:12]
    naam = naam or f"perioden_{per}"
    c.con.register("_perioden", df)
    engine.run(c.con, f"CREATE OR REPLACE TEMP TABLE {naam} AS "
                      f"SELECT periode, begin::DATE AS begin, eind::DATE AS eind, voorlopig FROM _perioden")
    c.con.unregister("_perioden")
    return naam


def materialiseer(c, sql: str) -> str:
    """Compute ``sql`` once per connection and return the name of the temporary table
    holding its result (named after a hash of the SQL text, so the same query gives
    the same table and another query another one). For intermediate results several
    KPIs share (the zorgpaden, the verzilvering per toewijzing, the cost totals per
    period): the cleaned tables do not change after cleaning and a period table is
    named after its periods (:func:`perioden`), so the result is a function of the SQL
    alone."""
    import hashlib

    naam = "tussen_" + hashlib.sha1(sql.encode()).hexdigest()[:16]
    engine.run(c.con, f"CREATE TEMP TABLE IF NOT EXISTS {naam} AS {sql}")
    return naam


def datum(d) -> str:
    """A SQL date literal."""
    return f"DATE '{pd.Timestamp(d).date().isoformat()}'"


# --------------------------------------------------------------------------- roll-up

def rollup(bron_sql: str, maten: str, by: str = "periode", *, regio: str = "regio",
           gemeente: str = "gemeentecode") -> str:
    """SQL of ``maten`` (aggregate expressions) over ``bron_sql`` per gemeente, per
    regio and for Nederland, with columns ``regio``, ``gemeente`` ("" for a regio or
    Nederland total), the ``by`` columns and the measures.

    One ``GROUP BY GROUPING SETS``: a distinct count (``count(DISTINCT client_nr)``)
    is right at every level. ``by`` is a comma-separated list of columns of the
    source (e.g. ``"periode, dimensie"``)."""
    return f"""
        SELECT CASE WHEN grouping({regio}) = 1 THEN '{config.NEDERLAND}' ELSE {regio} END AS regio,
               CASE WHEN grouping({gemeente}) = 1 THEN '' ELSE {gemeente} END AS gemeente,
               {by}, {maten}
        FROM ({bron_sql}) AS bron
        GROUP BY GROUPING SETS (({regio}, {gemeente}, {by}), ({regio}, {by}), ({by}))"""


def niveaus(bron_sql: str, *, regio: str = "regio", gemeente: str = "gemeentecode") -> str:
    """SQL of every level (regio, gemeente) present in ``bron_sql``: each gemeente,
    each regio (gemeente "") and Nederland."""
    return f"""
        SELECT DISTINCT regio, gemeente FROM (
            SELECT {regio} AS regio, {gemeente} AS gemeente FROM ({bron_sql}) AS b
            UNION ALL SELECT DISTINCT {regio}, '' FROM ({bron_sql}) AS b
            UNION ALL SELECT '{config.NEDERLAND}', '')"""


def rows(c, sql: str) -> pd.DataFrame:
    """Run a KPI query and shape its result into :data:`OUT_COLUMNS`."""
    out = engine.df(c.con, sql)
    if "dimensie" not in out.columns:
        out["dimensie"] = ""
    if "n_clienten" not in out.columns:
        out["n_clienten"] = float("nan")
    out = out[OUT_COLUMNS].astype({"regio": schema.S, "gemeente": schema.S, "periode": schema.S,
                                   "dimensie": schema.S, "waarde": "float64", "n_clienten": "float64"})
    out["dimensie"] = out["dimensie"].fillna("")
    out["gemeente"] = out["gemeente"].fillna("")
    return out.sort_values(["regio", "gemeente", "periode", "dimensie"], kind="mergesort").reset_index(drop=True)


def som(double_sql: str, waar: str | None = None) -> str:
    """SQL: the sum of the DOUBLE expression ``double_sql``, the same on every run.

    DuckDB adds the values of a group in the order its threads deliver them, and a sum
    of doubles depends on that order in its last digits: two runs of the KPI table gave
    5,588 of 277,446 values that differed in the 16th digit. Here every value is
    rounded to 12 decimals (far below a cent or a minute) and summed as an exact
    DECIMAL, so the order does not matter; the result is a DOUBLE again. Sums of
    integers (cents, counts) are exact already and need no ``som``. ``waar``: only the
    rows where this SQL condition holds (an aggregate's FILTER)."""
    filt = f" FILTER (WHERE {waar})" if waar else ""
    return f"(sum(({double_sql})::DECIMAL(38, 12)){filt})::DOUBLE"


def euro(cent_sql: str) -> str:
    """SQL: eurocent -> euro (double)."""
    return f"({cent_sql})::DOUBLE / 100.0"


def dim_sql(col: str, name: str | None = None) -> str:
    """SQL of the ``name=value`` dimension label of ``col`` (empty -> ``onbekend``)."""
    name = name or col
    return f"'{name}=' || coalesce(nullif(trim({col}), ''), 'onbekend')"


def hele_maanden(peildatum) -> int:
    """Whole months from 1 January of the peildatum's year to the peildatum
    (exclusive): 2024-08-01 -> 7, 2024-08-15 -> 7, 2024-01-01 -> 0."""
    return pd.Timestamp(peildatum).month - 1
