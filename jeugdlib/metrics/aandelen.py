"""Shares of cost and aanbieder counts (metrics.md section 2).

Each share is cost in the group / ``kosten`` in the period (net declared amounts, by
periode_begin, see :mod:`jeugdlib.metrics.kosten`), with a row for each level and
period whose ``kosten`` is positive. ``n_clienten`` of a share = the distinct clients
with a positive net declared amount in its denominator (a share over fewer than 10
clients is suppressed, data-contract 3.1). The aanbieder counts are not client-based.
"""

from __future__ import annotations

from ._common import dim_sql, kpi, materialiseer, rollup, rows
from .kosten import clienten_positief, per_aanbieder, posten, rooster, totaal

#: Threshold of ``aanbieders_klein``: positive kosten below EUR 20,000 in a year.
KLEIN_CENT = 20_000 * 100

#: Kosten of aanbieders not contracted on periode_begin (an AGB missing from aanbieders.csv is NGA).
NGA_SQL = "CASE WHEN coalesce(gecontracteerd, false) THEN 0 ELSE bedrag_cent END"


def aandeel_groepen(c, groep_sql: str, waarden: list[str], naam: str) -> str:
    """SQL: the share of the period's kosten per group, ``groep_sql`` (an expression over
    the items giving one of ``waarden``), as rows ``naam=value`` for every value
    (0 where the group has no kosten) at every level and period with positive kosten."""
    per_groep = rollup(f"SELECT regio, gemeentecode, periode, bedrag_cent, {groep_sql} AS groep FROM ({posten(c)})",
                       "sum(bedrag_cent) AS cent", by="periode, groep")
    lijst = ", ".join(f"('{w}')" for w in waarden)
    return f"""
        SELECT t.regio, t.gemeente, t.periode, '{naam}=' || v.groep AS dimensie,
               coalesce(g.cent, 0)::DOUBLE / t.cent::DOUBLE AS waarde, t.clienten AS n_clienten
        FROM ({totaal(c)}) t CROSS JOIN (VALUES {lijst}) v(groep)
        LEFT JOIN ({per_groep}) g ON g.regio = t.regio AND g.gemeente = t.gemeente AND g.periode = t.periode
                                 AND g.groep = v.groep
        WHERE t.cent > 0"""


@kpi(eenheid="fractie", groep="Aanbieders en aandelen", label="Aandeel niet-gecontracteerd aanbod",
     dimensies=("segment",), basis="clienten", bron="metrics.md 2")
def aandeel_nga(c):
    """Kosten of lines of aanbieders not contracted on periode_begin (niet-gecontracteerd
    aanbod; an AGB missing from aanbieders.csv is NGA) / ``kosten`` in the period.

    Also per ``segment=...``: the share *within* the segment (NGA kosten in the segment /
    kosten of the segment; ``n_clienten``: clients with positive kosten in the segment)."""
    # per client and segment first (sums of sums are the same sums; a client's net amount
    # in a level is the sum of its rows), then the labels: texts per sum, not per item
    per_client = materialiseer(c, f"""
        SELECT regio, gemeentecode, periode, client_nr, segment, sum({NGA_SQL}) AS nga,
               sum(bedrag_cent) AS bedrag_cent
        FROM ({posten(c)}) GROUP BY ALL""")
    nga = rollup(f"SELECT * FROM {per_client}", "sum(nga) AS nga")
    seg_bron = f"SELECT *, {dim_sql('segment')} AS dimensie FROM {per_client}"
    seg = rollup(seg_bron, "sum(nga) AS nga, sum(bedrag_cent) AS cent", by="periode, dimensie")
    return rows(c, f"""
        SELECT t.regio, t.gemeente, t.periode, '' AS dimensie, n.nga::DOUBLE / t.cent::DOUBLE AS waarde,
               t.clienten AS n_clienten
        FROM ({totaal(c)}) t JOIN ({nga}) n USING (regio, gemeente, periode)
        WHERE t.cent > 0
        UNION ALL
        SELECT s.regio, s.gemeente, s.periode, s.dimensie, s.nga::DOUBLE / s.cent::DOUBLE,
               coalesce(k.clienten, 0)
        FROM ({seg}) s LEFT JOIN ({clienten_positief(seg_bron, 'periode, dimensie')}) k
             USING (regio, gemeente, periode, dimensie)
        WHERE s.cent > 0""")


@kpi(eenheid="fractie", groep="Aanbieders en aandelen", label="Aandeel maatwerk en meerwerk",
     dimensies=("variant",), basis="clienten", bron="metrics.md 2")
def aandeel_variant(c):
    """Share of kosten per product variant: ``variant=maatwerk``, ``variant=meerwerk``,
    ``variant=overig`` (no variant, or an unknown product)."""
    groep = ("CASE lower(trim(variant)) WHEN 'maatwerk' THEN 'maatwerk' WHEN 'meerwerk' THEN 'meerwerk' "
             "ELSE 'overig' END")
    return rows(c, aandeel_groepen(c, groep, ["maatwerk", "meerwerk", "overig"], "variant"))


@kpi(eenheid="fractie", groep="Aanbieders en aandelen", label="Aandeel micro-aanbieders",
     dimensies=("type",), basis="clienten", bron="metrics.md 2")
def aandeel_aanbiedertype(c):
    """Share of kosten per aanbieder type, ``type=micro`` and ``type=regulier`` (an unknown
    AGB counts as regulier)."""
    groep = "CASE WHEN lower(trim(aanbieder_type)) = 'micro' THEN 'micro' ELSE 'regulier' END"
    return rows(c, aandeel_groepen(c, groep, ["micro", "regulier"], "type"))


@kpi(eenheid="fractie", groep="Aanbieders en aandelen", label="Aandeel top-10 aanbieders", basis="clienten",
     bron="metrics.md 2")
def aandeel_top10(c, n: int = 10):
    """Kosten of the 10 aanbieders with the highest kosten in the period (within the
    level) / ``kosten``.

    Among the aanbieders with items in the level and period (all of them when fewer
    than 10, also one with a negative net amount)."""
    top = f"""SELECT regio, gemeente, periode, sum(cent) AS top FROM (
                  SELECT * FROM ({per_aanbieder(c)})
                  QUALIFY row_number() OVER (PARTITION BY regio, gemeente, periode ORDER BY cent DESC) <= {int(n)})
              GROUP BY regio, gemeente, periode"""
    return rows(c, f"""
        SELECT t.regio, t.gemeente, t.periode, coalesce(s.top, 0)::DOUBLE / t.cent::DOUBLE AS waarde,
               t.clienten AS n_clienten
        FROM ({totaal(c)}) t LEFT JOIN ({top}) s USING (regio, gemeente, periode)
        WHERE t.cent > 0""")


@kpi(eenheid="aantal", groep="Aanbieders en aandelen", label="Aanbieders onder € 20.000", bron="metrics.md 2")
def aanbieders_klein(c):
    """Aanbieders with positive kosten below EUR 20,000 in a year (within the level).

    Always per calendar year, whatever ``per``. Not client-based."""
    t = f"""SELECT regio, gemeente, periode, count(*) FILTER (WHERE cent > 0 AND cent < {KLEIN_CENT}) AS aantal
            FROM ({per_aanbieder(c, 'jaar')}) GROUP BY regio, gemeente, periode"""
    return rows(c, rooster(c, t, "t.aantal", per="jaar"))


@kpi(eenheid="aantal", groep="Aanbieders en aandelen", label="Aanbieders met één cliënt", bron="metrics.md 2")
def aanbieders_een_client(c):
    """Aanbieders that served exactly one client in the period: one client with a positive
    net declared amount at that aanbieder, within the level.

    Not client-based."""
    per_agb = clienten_positief(posten(c), "periode, agb")
    t = f"""SELECT regio, gemeente, periode, count(*) FILTER (WHERE clienten = 1) AS aantal
            FROM ({per_agb}) GROUP BY regio, gemeente, periode"""
    return rows(c, rooster(c, t, "t.aantal"))


def aandeel_nga_per_product(c) -> pd.DataFrame:
    """The share of NGA within each product (as ``aandeel_nga`` within a segment: NGA
    kosten of the product / kosten of the product), per level and period, with
    ``n_clienten`` (clients with positive kosten on the product) for suppression.
    Not a registered KPI (it would add a row per product to the KPI table); for the
    Kostenontwikkeling report. Columns of :func:`rows` with ``dimensie``
    ``productcode=...``."""
    bron = posten(c)
    p_bron = f"SELECT *, {dim_sql('productcode')} AS dimensie FROM ({bron})"
    p = rollup(p_bron, f"sum({NGA_SQL}) AS nga, sum(bedrag_cent) AS cent", by="periode, dimensie")
    return rows(c, f"""
        SELECT s.regio, s.gemeente, s.periode, s.dimensie, s.nga::DOUBLE / s.cent::DOUBLE AS waarde,
               coalesce(k.clienten, 0) AS n_clienten
        FROM ({p}) s LEFT JOIN ({clienten_positief(p_bron, 'periode, dimensie')}) k
             USING (regio, gemeente, periode, dimensie)
        WHERE s.cent > 0""")
