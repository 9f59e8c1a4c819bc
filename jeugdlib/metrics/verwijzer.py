"""Verwijzer: who refers the requested products (metrics.md section 8).

``verwijzer`` = share of JW315 requested products (one row of ``verzoeken`` each)
per ``verwijzer=`` type (COD327 code, e.g. ``verwijzer=02`` huisarts; empty type
``verwijzer=onbekend``), only when JW315 messages are present.

A verzoek belongs to the period of its requested start (``ingangsdatum``, the
ToewijzingIngangsdatum of JW315). Where that is empty, the ingangsdatum of the
client's earliest toewijzing of the same productcode and aanbieder is used; a
verzoek with neither, or dated on/after the peildatum, is left out.
"""

from __future__ import annotations

import pandas as pd

from .. import engine
from ._common import datum, dim_sql, kpi, perioden, rollup, rows


def verzoek_datum_sql() -> str:
    """SQL: the rows of ``verzoeken`` with ``datum``, the date each belongs to (see the
    module docstring)."""
    return """
        SELECT v.*, coalesce(v.ingangsdatum, e.eerste) AS datum
        FROM verzoeken v
        LEFT JOIN (SELECT client_id, productcode, agb, min(ingangsdatum) AS eerste FROM toewijzingen
                   GROUP BY ALL) e
          ON v.ingangsdatum IS NULL AND e.client_id = v.client_id AND e.productcode = v.productcode
             AND e.agb = v.agb"""


def verzoek_datum(c) -> pd.DataFrame:
    """:func:`verzoek_datum_sql` as a pandas frame (rij, client_id, productcode, agb,
    verwijzer_type, ingangsdatum, datum), in the order of the verzoeken."""
    return engine.df(c.con, f"""SELECT rij, client_id, productcode, agb, verwijzer_type, ingangsdatum, datum
                               FROM ({verzoek_datum_sql()}) ORDER BY rij""")


@kpi(eenheid="fractie", groep="Verwijzers en budget", label="Aandeel per verwijzer", dimensies=("verwijzer",),
     basis="clienten", bron="metrics.md 8")
def verwijzer(c):
    """Share of JW315 requested products per ``verwijzer=`` type (COD327), only when
    JW315 messages are present.

    Per level and period of the verzoek's date: requested products of the type /
    all requested products of the group. ``n_clienten``: distinct clients among all
    requested products of the group (the denominator)."""
    per = perioden(c)
    bron = f"""
        SELECT v.regio, coalesce(v.gemeentecode, 'onbekend') AS gemeentecode, v.client_id, v.client_nr, p.periode,
               {dim_sql('v.verwijzer_type', 'verwijzer')} AS dimensie
        FROM ({verzoek_datum_sql()}) v JOIN {per} p ON v.datum BETWEEN p.begin AND p.eind
        WHERE v.datum < {datum(c.params.peildatum)}"""
    per_type = rollup(bron, "count(*) AS aantal", by="periode, dimensie")
    totaal = rollup(bron, "count(*) AS totaal, count(DISTINCT client_nr) AS n_clienten")
    return rows(c, f"""
        SELECT t.regio, t.gemeente, t.periode, t.dimensie, t.aantal / n.totaal AS waarde, n.n_clienten
        FROM ({per_type}) t JOIN ({totaal}) n USING (regio, gemeente, periode)""")
