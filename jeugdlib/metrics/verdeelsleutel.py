"""Kostenverdeling tussen gemeenten: the verdeelsleutel (metrics.md section 9).

A region splits shared running costs over its gemeenten by a key of weighted
parts. Zuid-Limburg's key (the default, :data:`ZUID_LIMBURG`) has four equal
parts:

* ``gemeente``: per gemeente (1/N);
* ``jeugdigen``: number of jeugdigen (bevolking.csv);
* ``toewijzingen``: toewijzingen that overlap year t-1, withdrawn ones included;
* ``declaratieregels``: declaration lines received in year t-1.

Share of gemeente g = sum over parts of weight x (g's count / total count);
amount = share x total cost, rounded to whole euros by largest remainder so the
amounts add up exactly to the total.

:func:`tellingen_sql` derives the four standard counts per gemeente and year from
the tables (SQL); the KPI ``verdeelsleutel`` gives each gemeente's share of its
regio. :func:`verdeel` (the pure key, any parts and weights, counts given) and
:func:`largest_remainder` are plain Python over a query's result: the rounding to
whole euros is not SQL-natural and the total to split is not in the data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import engine, schema
from ..errors import JeugdlibError
from ._common import kpi, perioden, rows, som

#: Zuid-Limburg: four equal parts.
ZUID_LIMBURG: dict[str, float] = {"gemeente": 0.25, "jeugdigen": 0.25, "toewijzingen": 0.25,
                                  "declaratieregels": 0.25}

#: The counts :func:`tellingen_sql` gives, in order.
DELEN = ("gemeente", "jeugdigen", "toewijzingen", "declaratieregels")


def largest_remainder(exact: np.ndarray, totaal: int) -> np.ndarray:
    """Whole numbers close to ``exact`` that add up to ``totaal`` (largest-remainder method).

    Each value is rounded down; the units still missing go one each to the values
    with the largest fractional parts (ties: first in order). ``exact`` should sum
    to ``totaal``; values are first rounded to 6 decimals so that float noise
    (99.99999999 for 100) never decides who gets a unit.
    """
    exact = np.round(np.asarray(exact, dtype="float64"), 6)
    basis = np.floor(exact)
    rest = int(totaal - basis.sum())
    frac = exact - basis
    order = np.argsort(-frac, kind="stable")
    out = basis.astype(np.int64)
    if rest > 0:
        out[order[:rest]] += 1
    elif rest < 0:  # only when exact does not sum to totaal: take from the smallest fractions
        out[order[::-1][: -rest]] -= 1
    return out


def verdeel(tellingen: pd.DataFrame, totaal_euro, gewichten: Mapping[str, float] = ZUID_LIMBURG) -> pd.DataFrame:
    """Split ``totaal_euro`` over gemeenten by a weighted key (metrics.md section 9).

    ``tellingen``: one row per gemeente with ``gemeentecode`` and one count column
    per part named in ``gewichten`` (the part ``gemeente`` may be left out: it
    counts 1 per row), e.g. one year and regio of :func:`tellingen`.
    ``gewichten``: part -> weight; weights must be >= 0 and sum to 1.
    ``totaal_euro`` is rounded to whole euros first.

    Returns per gemeente (input order): ``gemeentecode``, ``aandeel_<part>`` (the
    gemeente's count / the part's total), ``aandeel`` (weighted sum) and
    ``bedrag`` (whole euros, largest remainder; the amounts sum exactly to the
    total). Raises :class:`JeugdlibError` for bad weights, a missing or negative
    count, or a part whose counts sum to 0.
    """
    w = {k: float(v) for k, v in gewichten.items()}
    if not w:
        raise JeugdlibError("verdeelsleutel: geen onderdelen opgegeven")
    if any(v < 0 for v in w.values()) or abs(sum(w.values()) - 1.0) > 1e-9:
        raise JeugdlibError(f"verdeelsleutel: gewichten moeten >= 0 zijn en samen 1 zijn, niet {w}")
    if len(tellingen) == 0:
        raise JeugdlibError("verdeelsleutel: geen gemeenten om over te verdelen")
    out = pd.DataFrame({"gemeentecode": tellingen["gemeentecode"].astype(schema.S).to_numpy()})
    aandeel = np.zeros(len(tellingen))
    for deel, gewicht in w.items():
        if deel in tellingen.columns:
            c = pd.to_numeric(tellingen[deel], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        elif deel == "gemeente":
            c = np.ones(len(tellingen))
        else:
            raise JeugdlibError(f"verdeelsleutel: telling voor onderdeel {deel!r} ontbreekt")
        if np.isnan(c).any() or (c < 0).any():
            g = out["gemeentecode"][np.isnan(c) | (c < 0)].iloc[0]
            raise JeugdlibError(f"verdeelsleutel: telling {deel!r} ontbreekt of is negatief voor gemeente {g}")
        if c.sum() <= 0:
            raise JeugdlibError(f"verdeelsleutel: onderdeel {deel!r} telt in totaal 0")
        out[f"aandeel_{deel}"] = c / c.sum()
        aandeel += gewicht * out[f"aandeel_{deel}"].to_numpy()
    out["aandeel"] = aandeel
    totaal = int(round(float(totaal_euro)))
    out["bedrag"] = largest_remainder(aandeel * totaal, totaal)
    return out


def tellingen_sql(jaren_sql: str) -> str:
    """SQL: the standard counts per gemeente for the key of each year ``jaar`` of
    ``jaren_sql`` (a query with an integer column ``jaar``), long: columns jaar,
    regio, gemeentecode and the counts of :data:`DELEN` (metrics.md section 9).

    * gemeenten: those of the cleaned gemeenten table (``schoon_gemeenten``; one row
      per code, its regio_naam from the last row with that code);
    * ``gemeente``: 1;
    * ``jeugdigen``: bevolking of the latest year up to t-1 (0 without a figure);
    * ``toewijzingen``: distinct (gemeentecode, toewijzing_nr) with a span
      overlapping year t-1 (earliest ingangsdatum to latest einddatum over the
      kept and the withdrawn toewijzingen; open = open);
    * ``declaratieregels``: declaration lines as delivered (``ruw_declaraties``, one
      row per Prestatie, debet and credit alike) with periode_begin in year t-1
      (the line's period stands in for its receipt).
    """
    return f"""
        WITH jaren AS ({jaren_sql}),
        gem AS (SELECT gemeentecode, arg_max(regio_naam, rij) AS regio FROM schoon_gemeenten
                WHERE gemeentecode IS NOT NULL GROUP BY gemeentecode),
        bev AS (SELECT j.jaar, b.gemeentecode, arg_max(b.jeugdigen, (b.jaar, b.rij)) AS jeugdigen
                FROM jaren j JOIN ref_bevolking b ON b.jaar <= j.jaar - 1 GROUP BY ALL),
        span AS (SELECT gemeentecode, toewijzing_nr, min(ingangsdatum) AS ing,
                        max(coalesce(einddatum, DATE '9999-12-31')) AS eind
                 FROM (SELECT gemeentecode, toewijzing_nr, ingangsdatum, einddatum FROM toewijzingen
                       UNION ALL
                       SELECT gemeentecode, toewijzing_nr, ingangsdatum, einddatum FROM toewijzingen_ingetrokken)
                 WHERE gemeentecode IS NOT NULL GROUP BY ALL),
        tw AS (SELECT j.jaar, s.gemeentecode, count(*) AS n FROM jaren j JOIN span s
                 ON s.ing <= make_date(j.jaar - 1, 12, 31) AND s.eind >= make_date(j.jaar - 1, 1, 1)
               GROUP BY ALL),
        regels AS (SELECT j.jaar, d.gemeentecode, count(*) AS n FROM jaren j JOIN ruw_declaraties d
                     ON year(d.periode_begin) = j.jaar - 1
                   GROUP BY ALL)
        SELECT j.jaar, g.regio, g.gemeentecode, 1 AS gemeente,
               coalesce(b.jeugdigen, 0)::DOUBLE AS jeugdigen,
               coalesce(t.n, 0)::DOUBLE AS toewijzingen, coalesce(r.n, 0)::DOUBLE AS declaratieregels
        FROM jaren j CROSS JOIN gem g
        LEFT JOIN bev b ON b.jaar = j.jaar AND b.gemeentecode = g.gemeentecode
        LEFT JOIN tw t ON t.jaar = j.jaar AND t.gemeentecode = g.gemeentecode
        LEFT JOIN regels r ON r.jaar = j.jaar AND r.gemeentecode = g.gemeentecode"""


def tellingen(c, jaar: int) -> pd.DataFrame:
    """The standard counts per gemeente for the key of year ``jaar`` (see
    :func:`tellingen_sql`): columns regio, gemeentecode and :data:`DELEN`, ordered
    by regio and gemeentecode. Select one regio's rows to pass to :func:`verdeel`."""
    return engine.df(c.con, f"SELECT * EXCLUDE (jaar) FROM ({tellingen_sql(f'SELECT {int(jaar)} AS jaar')}) "
                            f"ORDER BY regio, gemeentecode")


def aandelen_sql(c, gewichten: Mapping[str, float] = ZUID_LIMBURG) -> str:
    """SQL: per year of the window (``perioden_jaar``), regio and gemeente, the share of
    each part (``deel``, count / the regio's total; NULL when the regio's total is 0)
    and the weighted total share (``deel`` = ''), over the parts with data in that
    regio and year (the other weights scaled up to sum to 1)."""
    onbekend = [k for k in gewichten if k not in DELEN]
    if onbekend:
        raise JeugdlibError(f"verdeelsleutel: geen telling voor onderdeel {onbekend[0]!r}")
    per = perioden(c, "jaar")
    tel = tellingen_sql(f"SELECT periode, periode::INT AS jaar FROM {per}")
    delen = " UNION ALL ".join(f"SELECT jaar, regio, gemeentecode, '{k}' AS deel, {k}::DOUBLE AS telling, "
                               f"{float(w)!r} AS gewicht FROM t" for k, w in gewichten.items())
    return f"""
        WITH t AS ({tel}),
        lang AS ({delen}),
        a AS (SELECT *, CASE WHEN sum(telling) OVER w > 0 THEN telling / sum(telling) OVER w END AS aandeel
              FROM lang WINDOW w AS (PARTITION BY jaar, regio, deel))
        SELECT jaar, regio, gemeentecode, deel, aandeel FROM a
        UNION ALL
        SELECT jaar, regio, gemeentecode, '',
               {som('gewicht * aandeel', 'aandeel IS NOT NULL')}
                 / nullif({som('gewicht', 'aandeel IS NOT NULL')}, 0)
        FROM a GROUP BY jaar, regio, gemeentecode"""


@kpi(eenheid="fractie", groep="Verdeelsleutel", label="Verdeelsleutel", dimensies=("deel",),
     bron="metrics.md 9")
def verdeelsleutel(c):
    """Each gemeente's share of its regio's shared costs by the default key
    (:data:`ZUID_LIMBURG`: per gemeente, jeugdigen, toewijzingen and declaration
    lines of year t-1, a quarter each), per year t of the window.

    Only per jaar. Rows: the total share (``dimensie`` empty) and each part's share
    (``deel=<part>``). A part without data in a regio and year (e.g. no
    bevolking.csv) is left out and the other weights are scaled up to sum to 1.
    Not client-based (``n_clienten`` empty). No amounts: the total to split is not
    in the data (call :func:`verdeel` with it)."""
    if c.params.per != "jaar":
        return rows(c, "SELECT '' AS regio, '' AS gemeente, '' AS periode, 0.0 AS waarde WHERE false")
    return rows(c, f"""
        SELECT regio, gemeentecode AS gemeente, jaar::VARCHAR AS periode,
               CASE WHEN deel = '' THEN '' ELSE 'deel=' || deel END AS dimensie, aandeel AS waarde
        FROM ({aandelen_sql(c)}) WHERE aandeel IS NOT NULL AND regio IS NOT NULL""")
