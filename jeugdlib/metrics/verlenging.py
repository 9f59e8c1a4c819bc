"""Verlenging and recidief (metrics.md section 4).

Per client and productgroep, for each toewijzing A whose ``einddatum`` lies in the
period:

* A is **verlengd** when another toewijzing B of the same client and productgroep
  (any aanbieder) has ``B.ingangsdatum > A.ingangsdatum``,
  ``B.ingangsdatum <= A.einddatum + aansluit_dagen`` and ends later than A (an open
  end counts as later). Counted only when ``A.einddatum + aansluit_dagen`` is
  before the peildatum.
* A is **recidief** when it is not verlengd and such a B starts in
  (``A.einddatum + aansluit_dagen``, ``A.einddatum + recidief_dagen``]. Counted
  only when ``A.einddatum + recidief_dagen`` is before the peildatum. The
  denominator is every toewijzing counted for recidief (verlengde included: they
  are counted, and are not recidief).

A missing or empty client id (and productgroep) is one value of the key.
"""

from __future__ import annotations

import pandas as pd

from .. import engine
from ._common import datum, dim_sql, kpi, rollup, rows
from .verzilvering import eindigend_sql


def status_sql(c) -> str:
    """SQL: per toewijzing of the cleaned ``toewijzingen`` (all columns) the booleans
    ``telt_verlenging``, ``verlengd``, ``telt_recidief`` and ``recidief``
    (metrics.md 4). Toewijzingen without an einddatum (open) have not ended and are
    counted for neither.

    One self-join of the counted toewijzingen A with the toewijzingen B of the same
    (client, productgroep) that start after A (as many pairs as the sum over
    client-productgroep pairs of their toewijzingen squared: small in practice)."""
    p = c.params
    peil = datum(p.peildatum)
    aansluit, recid = int(p.aansluit_dagen), int(p.recidief_dagen)
    return f"""
        WITH t AS (
            SELECT *, coalesce(client_nr, 0) AS _client, coalesce(productgroep, '') AS _pg,
                   coalesce(einddatum < {peil} AND einddatum + {aansluit} < {peil}, false) AS telt_verlenging,
                   coalesce(einddatum < {peil} AND einddatum + {recid} < {peil}, false) AS telt_recidief
            FROM toewijzingen),
        paren AS (
            SELECT a.rij,
                   bool_or(b.ingangsdatum > a.ingangsdatum AND b.ingangsdatum <= a.einddatum + {aansluit}
                           AND (b.einddatum IS NULL OR b.einddatum > a.einddatum)) AS verlengd,
                   bool_or(b.ingangsdatum > a.einddatum + {aansluit}
                           AND b.ingangsdatum <= a.einddatum + {recid}) AS recidief_kandidaat
            FROM t a JOIN t b ON b._client = a._client AND b._pg = a._pg AND b.ingangsdatum > a.ingangsdatum
            WHERE a.telt_verlenging
            GROUP BY a.rij)
        SELECT t.* EXCLUDE (_client, _pg),
               coalesce(p.verlengd, false) AS verlengd,
               coalesce(t.telt_recidief AND p.recidief_kandidaat AND NOT p.verlengd, false) AS recidief
        FROM t LEFT JOIN paren p USING (rij)"""


def verlenging_status(c) -> pd.DataFrame:
    """:func:`status_sql` as a pandas frame in the order of the cleaned table
    (toewijzing_nr, gemeentecode, client_id and the four booleans)."""
    return engine.df(c.con, f"""SELECT rij, gemeentecode, toewijzing_nr, client_id, telt_verlenging, verlengd,
                                       telt_recidief, recidief FROM ({status_sql(c)}) ORDER BY rij""")


def _aandeel(c, telt: str, vlag: str) -> pd.DataFrame:
    """Rows of ``vlag`` / toewijzingen counted (``telt``) per period of the einddatum,
    total and per ``financieringsvorm=``; ``n_clienten``: distinct clients counted."""
    s = status_sql(c)
    eind = eindigend_sql(c, alleen_volledig=False)
    kolommen = f"regio, coalesce(gemeentecode, 'onbekend') AS gemeentecode, client_id, client_nr, periode, {vlag}::INT AS teller"
    bron = f"""
        WITH s AS (SELECT e.*, s.{vlag} FROM ({eind}) e JOIN ({s}) s USING (rij) WHERE s.{telt})
        SELECT {kolommen}, '' AS dimensie FROM s
        UNION ALL SELECT {kolommen}, {dim_sql('financieringsvorm')} FROM s"""
    agg = rollup(bron, "sum(teller) AS teller, count(*) AS noemer, count(DISTINCT client_nr) AS n_clienten",
                 by="periode, dimensie")
    return rows(c, f"SELECT regio, gemeente, periode, dimensie, teller / noemer AS waarde, n_clienten FROM ({agg})")


@kpi(eenheid="fractie", groep="Verlenging en recidief", label="Verlenging", dimensies=("financieringsvorm",),
     basis="clienten", bron="metrics.md 4")
def verlenging(c):
    """Verlengde toewijzingen / toewijzingen counted for verlenging, per period of
    the einddatum (A verlengd: a toewijzing B of the same client and productgroep
    starts after A, at most aansluit_dagen after A's einddatum, and ends later).

    Total and per ``financieringsvorm=``; counted when einddatum + aansluit_dagen
    is before the peildatum. ``n_clienten``: distinct clients among those counted."""
    return _aandeel(c, "telt_verlenging", "verlengd")


@kpi(eenheid="fractie", groep="Verlenging en recidief", label="Recidief", dimensies=("financieringsvorm",),
     basis="clienten", bron="metrics.md 4")
def recidief(c):
    """Recidive toewijzingen / toewijzingen counted for recidief, per period of the
    einddatum (A recidief: not verlengd, and a toewijzing B of the same client and
    productgroep starts in (einddatum + aansluit_dagen, einddatum + recidief_dagen]).

    Total and per ``financieringsvorm=``; counted when einddatum + recidief_dagen is
    before the peildatum. ``n_clienten``: distinct clients among those counted."""
    return _aandeel(c, "telt_recidief", "recidief")
