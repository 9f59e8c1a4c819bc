"""Volume: clients and toewijzingen per period (metrics.md section 1).

A toewijzing *overlaps* a period when ``ingangsdatum <= eind`` and ``einddatum_eff
>= begin`` (``einddatum_eff``: the einddatum, or the day before the peildatum when
open). Every level (gemeente, regio, Nederland) that has toewijzingen gets a row for
every period, 0 where nothing overlaps.
"""

from __future__ import annotations

from ._common import kpi, niveaus, perioden, rollup, rows

LEVEL = "SELECT regio, gemeentecode FROM toewijzingen"


def _actief(c) -> str:
    """SQL: one row per (toewijzing, period it overlaps)."""
    per = perioden(c)
    return f"""SELECT t.regio, t.gemeentecode, t.client_id, t.client_nr, t.ingangsdatum, t.geboortedatum, p.periode, p.eind
               FROM toewijzingen t JOIN {per} p ON t.ingangsdatum <= p.eind AND t.einddatum_eff >= p.begin"""


def _rooster(c, tellingen: str, waarde: str, n: str) -> str:
    """Every level with toewijzingen x every period, left-joined to ``tellingen``
    (0 where a level has nothing in a period)."""
    per = perioden(c)
    return f"""
        SELECT l.regio, l.gemeente, p.periode, coalesce({waarde}, 0) AS waarde, coalesce({n}, 0) AS n_clienten
        FROM ({niveaus(LEVEL)}) l CROSS JOIN {per} p
        LEFT JOIN ({tellingen}) t ON t.regio = l.regio AND t.gemeente = l.gemeente AND t.periode = p.periode"""


@kpi(eenheid="aantal", groep="Volume", label="Cliënten", basis="clienten", bron="metrics.md 1")
def clienten(c):
    """Distinct clients with at least one toewijzing overlapping the period.

    ``n_clienten`` is the value itself (a client count is suppressed from 1 to 9)."""
    t = rollup(_actief(c), "count(DISTINCT client_nr) AS clienten")
    return rows(c, _rooster(c, t, "t.clienten", "t.clienten"))


@kpi(eenheid="aantal", groep="Volume", label="Toewijzingen", basis="clienten", bron="metrics.md 1")
def toewijzingen(c):
    """Toewijzingen overlapping the period.

    ``n_clienten``: the distinct clients behind them."""
    t = rollup(_actief(c), "count(*) AS aantal, count(DISTINCT client_nr) AS clienten")
    return rows(c, _rooster(c, t, "t.aantal", "t.clienten"))


@kpi(eenheid="aantal", groep="Volume", label="Gestarte toewijzingen", basis="clienten", bron="metrics.md 1")
def toewijzingen_gestart(c):
    """Toewijzingen whose ingangsdatum lies in the period.

    ``n_clienten``: the distinct clients among them."""
    per = perioden(c)
    gestart = f"""SELECT t.regio, t.gemeentecode, t.client_id, t.client_nr, p.periode FROM toewijzingen t
                  JOIN {per} p ON t.ingangsdatum BETWEEN p.begin AND p.eind"""
    t = rollup(gestart, "count(*) AS aantal, count(DISTINCT client_nr) AS clienten")
    return rows(c, _rooster(c, t, "t.aantal", "t.clienten"))


@kpi(eenheid="aantal", groep="Volume", label="Toewijzingen per cliënt", basis="clienten", bron="metrics.md 1")
def toewijzingen_per_client(c):
    """``toewijzingen`` / ``clienten`` in the period (no row without clients).

    ``n_clienten`` = ``clienten``."""
    t = rollup(_actief(c), "count(*) AS aantal, count(DISTINCT client_nr) AS clienten")
    return rows(c, f"SELECT regio, gemeente, periode, aantal / clienten AS waarde, clienten AS n_clienten "
                   f"FROM ({t}) WHERE clienten > 0")


@kpi(eenheid="fractie", groep="Volume", label="Jeugdigen met jeugdhulp", basis="clienten", bron="metrics.md 1")
def jeugdigen_met_jeugdhulp(c):
    """Clients aged 0-17 on the period's last day with a toewijzing overlapping the
    period / ``jeugdigen`` of bevolking.csv for the period's year.

    Only where bevolking is given: a regio or Nederland figure covers the gemeenten
    with a bevolking figure for that year (numerator and denominator alike). Clients
    without a birth date are not counted. ``n_clienten`` = the numerator."""
    from ..clean import leeftijd_sql

    per = perioden(c)
    bev = """SELECT gemeentecode, jaar, sum(jeugdigen) AS jeugdigen FROM ref_bevolking
             WHERE gemeentecode IS NOT NULL AND jaar IS NOT NULL AND jeugdigen IS NOT NULL GROUP BY ALL"""
    gem = "SELECT DISTINCT regio, gemeentecode FROM toewijzingen"
    noemer = rollup(f"""SELECT g.regio, g.gemeentecode, p.periode, b.jeugdigen FROM ({gem}) g
                        JOIN ({bev}) b USING (gemeentecode) JOIN {per} p ON year(p.eind) = b.jaar""",
                    "sum(jeugdigen) AS jeugdigen")
    teller = rollup(f"""SELECT a.* FROM ({_actief(c)}) a
                        JOIN ({bev}) b ON b.gemeentecode = a.gemeentecode AND b.jaar = year(a.eind)
                        WHERE {leeftijd_sql('a.geboortedatum', 'a.eind')} BETWEEN 0 AND 17""",
                    "count(DISTINCT client_nr) AS teller")
    return rows(c, f"""
        SELECT n.regio, n.gemeente, n.periode, coalesce(t.teller, 0) / n.jeugdigen AS waarde,
               coalesce(t.teller, 0) AS n_clienten
        FROM ({noemer}) n LEFT JOIN ({teller}) t USING (regio, gemeente, periode)
        WHERE n.jeugdigen > 0""")
