"""Cost: declared amounts per period (metrics.md section 1).

Input is the cleaned table ``declaraties``: netted items (metrics.md 0.2), each
belonging to the period of its ``periode_begin``. Items without a known toewijzing
count here (the money was declared). Amounts are summed in integer eurocent and
returned in euro.

Every level that has declaration items (each gemeente, its regio, Nederland) gets a
total row for every period, 0 where nothing was declared; a dimension value only
gets a row where it has items. A client or aanbieder "with a positive net declared
amount" is judged within the level: its items are summed in the gemeente, in the
regio and in Nederland separately (a credit in one gemeente and a debet in another
count separately in the gemeenten, netted in the regio).

Shared SQL for :mod:`jeugdlib.metrics.aandelen` and :mod:`jeugdlib.metrics.budget`:
:func:`posten`, :func:`rooster`, :func:`totaal`, :func:`clienten_positief` and
:func:`per_aanbieder`.
"""

from __future__ import annotations

import pandas as pd

from ._common import datum, dim_sql, euro, hele_maanden, kpi, materialiseer, niveaus, perioden, rollup, rows

#: Dimensions of ``kosten`` (metrics.md section 1), besides the total.
KOSTEN_DIMENSIES = ("segment", "financieringsvorm", "productgroep", "productcode")

#: The levels of the cost KPIs: those of the declaration items.
LEVEL = "SELECT regio, gemeentecode FROM declaraties"


# --------------------------------------------------------------------------- shared SQL

def posten(c, per: str | None = None) -> str:
    """SQL: the declaration items with the ``periode`` (of ``per``, default
    ``c.params.per``) holding their periode_begin; items outside the window are left out."""
    p = perioden(c, per)
    # periods are whole months: an equality join on the item's month (d.maand)
    return f"""SELECT d.*, p.periode FROM declaraties d JOIN (
                   SELECT periode, unnest(generate_series(begin, eind, INTERVAL 1 MONTH))::DATE AS maand FROM {p}
               ) p ON d.maand = p.maand"""


def rooster(c, tellingen: str, waarde: str, per: str | None = None, level: str = LEVEL) -> str:
    """SQL: every level of ``level`` x every period of ``per``, left-joined to
    ``tellingen`` (columns regio, gemeente, periode, ...): ``waarde`` (an expression
    over ``t``), 0 where a level has nothing in a period."""
    p = perioden(c, per)
    return f"""
        SELECT l.regio, l.gemeente, p.periode, coalesce({waarde}, 0) AS waarde
        FROM ({niveaus(level)}) l CROSS JOIN {p} p
        LEFT JOIN ({tellingen}) t ON t.regio = l.regio AND t.gemeente = l.gemeente AND t.periode = p.periode"""


def clienten_positief(bron_sql: str, by: str = "periode") -> str:
    """SQL: per level and ``by`` the distinct clients (``client_nr``: cleaning's number of
    the client) whose net amount (``bedrag_cent`` of ``bron_sql``) within that level is
    positive (column ``clienten``)."""
    per_client = rollup(bron_sql, "sum(bedrag_cent) AS som", by=f"{by}, client_nr")
    return f"""SELECT regio, gemeente, {by}, count(*) FILTER (WHERE som > 0) AS clienten
               FROM ({per_client}) GROUP BY regio, gemeente, {by}"""


def totaal(c, per: str | None = None) -> str:
    """SQL: per level and period with items, ``cent`` (net declared amount) and
    ``clienten`` (clients with a positive net amount within the level)."""
    bron = posten(c, per)
    som = rollup(bron, "sum(bedrag_cent) AS cent")
    # the denominator of every share and of kosten_per_client: computed once per period kind
    return "SELECT * FROM " + materialiseer(c, f"""
        SELECT s.regio, s.gemeente, s.periode, s.cent, coalesce(k.clienten, 0) AS clienten
        FROM ({som}) s LEFT JOIN ({clienten_positief(bron)}) k USING (regio, gemeente, periode)""")


def per_aanbieder(c, per: str | None = None) -> str:
    """SQL: per level, period and aanbieder (``agb``) with items there, their net
    declared amount ``cent``."""
    return rollup(posten(c, per), "sum(bedrag_cent) AS cent", by="periode, agb")


def _ytd(c, jaar: int, maanden: int) -> str:
    """SQL: per level, ``cent`` of the items with periode_begin in the first ``maanden``
    months of ``jaar`` (every level of :data:`LEVEL`, 0 where none)."""
    begin = pd.Timestamp(jaar, 1, 1)
    eind = begin + pd.DateOffset(months=maanden)
    som = rollup(f"""SELECT regio, gemeentecode, bedrag_cent, '{jaar}' AS periode FROM declaraties
                     WHERE periode_begin >= {datum(begin)} AND periode_begin < {datum(eind)}""",
                 "sum(bedrag_cent) AS cent")
    return f"""SELECT l.regio, l.gemeente, coalesce(s.cent, 0)::DOUBLE AS cent
               FROM ({niveaus(LEVEL)}) l LEFT JOIN ({som}) s USING (regio, gemeente)"""


def geen_rijen(c):
    """No KPI rows (a KPI that does not apply to the data or the parameters)."""
    return rows(c, "SELECT ''::VARCHAR AS regio, ''::VARCHAR AS gemeente, ''::VARCHAR AS periode, "
                   "0.0 AS waarde WHERE false")


# --------------------------------------------------------------------------- KPIs

@kpi(eenheid="aantal", groep="Aanbieders en aandelen", label="Aanbieders", bron="metrics.md 1")
def aanbieders(c):
    """Distinct AGB codes with a positive net declared amount in the period (within the level).

    Not client-based (no suppression)."""
    t = f"""SELECT regio, gemeente, periode, count(*) FILTER (WHERE cent > 0) AS aantal
            FROM ({per_aanbieder(c)}) GROUP BY regio, gemeente, periode"""
    return rows(c, rooster(c, t, "t.aantal"))


@kpi(eenheid="euro", groep="Kosten", label="Kosten", dimensies=KOSTEN_DIMENSIES, bron="metrics.md 1")
def kosten(c):
    """Sum of net declared amounts (euro) of the items whose periode_begin lies in the period.

    Also per ``segment``, ``financieringsvorm``, ``productgroep`` and ``productcode``
    (rows ``name=value``, empty -> ``onbekend``; only values with items in the level
    and period). Money totals have no client basis (``n_clienten`` empty). The total has
    a row for every level and period (0 when nothing was declared)."""
    bron = posten(c)
    totaal_ = rooster(c, rollup(bron, "sum(bedrag_cent) AS cent"), euro("t.cent"))
    # sum per gemeente, period and dimension values first (a few hundred thousand rows),
    # then label: building the 'name=value' texts per item costs more than the sums
    dims = ", ".join(KOSTEN_DIMENSIES)
    labels = ", ".join(dim_sql(d) for d in KOSTEN_DIMENSIES)
    per_dim = f"""SELECT regio, gemeentecode, periode, bedrag_cent, unnest([{labels}]) AS dimensie FROM (
                      SELECT regio, gemeentecode, periode, {dims}, sum(bedrag_cent) AS bedrag_cent
                      FROM ({bron}) GROUP BY ALL)"""
    return rows(c, f"""
        SELECT regio, gemeente, periode, '' AS dimensie, waarde FROM ({totaal_})
        UNION ALL
        SELECT regio, gemeente, periode, dimensie, {euro('cent')} AS waarde
        FROM ({rollup(per_dim, 'sum(bedrag_cent) AS cent', by='periode, dimensie')})""")


@kpi(eenheid="euro", groep="Kosten", label="Kosten per cliënt", basis="clienten", bron="metrics.md 1")
def kosten_per_client(c):
    """``kosten`` / distinct clients with a positive net declared amount in the period
    (per level: the client's net amount within that gemeente, regio or Nederland).

    ``n_clienten`` = that denominator; no row without such clients."""
    return rows(c, f"""SELECT regio, gemeente, periode, {euro('cent')} / clienten AS waarde, clienten AS n_clienten
                       FROM ({totaal(c)}) WHERE clienten > 0""")


def kosten_per_jaar(c) -> str:
    """SQL: ``kosten`` (euro, column ``waarde``) per level and calendar year of the
    window, with ``voorlopig``; 0 where nothing was declared."""
    t = rollup(posten(c, "jaar"), "sum(bedrag_cent) AS cent")
    jaren = perioden(c, "jaar")
    return f"""SELECT k.*, p.voorlopig FROM ({rooster(c, t, euro('t.cent'), per='jaar')}) k
               JOIN {jaren} p USING (periode)"""


@kpi(eenheid="fractie", groep="Kosten", label="Groei van de kosten", bron="metrics.md 1")
def kosten_groei(c):
    """kosten(year) / kosten(year - 1) - 1, for complete years (not voorlopig) of the window.

    Always per calendar year, whatever ``per``. No row when kosten(year - 1) is not positive."""
    k = f"SELECT * FROM ({kosten_per_jaar(c)}) WHERE NOT voorlopig"
    return rows(c, f"""SELECT a.regio, a.gemeente, a.periode, a.waarde / b.waarde - 1 AS waarde
                       FROM ({k}) a JOIN ({k}) b ON b.regio = a.regio AND b.gemeente = a.gemeente
                                              AND b.periode::INTEGER = a.periode::INTEGER - 1
                       WHERE b.waarde > 0""")


@kpi(eenheid="euro", groep="Kosten", label="Kostenprognose (lineair)", bron="metrics.md 1")
def kosten_prognose_lineair(c):
    """For the year holding the peildatum: kosten year-to-date x 12 / m, with m the whole
    months from 1 January to the peildatum.

    Year-to-date = the items with periode_begin in those m months (a peildatum in
    mid-month does not add a part month). No rows when m = 0 (peildatum in January).
    Every level with declarations gets a row (0 when nothing was declared)."""
    peil = pd.Timestamp(c.params.peildatum)
    m = hele_maanden(peil)
    if m == 0:
        return geen_rijen(c)
    return rows(c, f"""SELECT regio, gemeente, '{peil.year}' AS periode, (cent / 100.0) * 12 / {m} AS waarde
                       FROM ({_ytd(c, peil.year, m)})""")


@kpi(eenheid="euro", groep="Kosten", label="Kostenprognose (seizoen)", bron="metrics.md 1")
def kosten_prognose_seizoen(c):
    """kosten year-to-date / (share of the previous year's kosten that fell in its first
    m months), m as in ``kosten_prognose_lineair``.

    No row where the previous year has no positive kosten in its first m months or in total."""
    peil = pd.Timestamp(c.params.peildatum)
    m = hele_maanden(peil)
    if m == 0:
        return geen_rijen(c)
    j = peil.year
    return rows(c, f"""
        SELECT y.regio, y.gemeente, '{j}' AS periode,
               (y.cent / 100.0) / ((vm.cent / 100.0) / (va.cent / 100.0)) AS waarde
        FROM ({_ytd(c, j, m)}) y JOIN ({_ytd(c, j - 1, m)}) vm USING (regio, gemeente)
        JOIN ({_ytd(c, j - 1, 12)}) va USING (regio, gemeente)
        WHERE vm.cent > 0 AND va.cent > 0""")


def afgewezen_regels(c) -> str:
    """SQL: the declaration lines rejected in a JW325 answer dated before the peildatum
    (metrics.md 0.2), the lines cleaning leaves out by its rule ``afgewezen`` (an answer
    without a date counts there, so here too), netted as cleaning nets the others
    (table ``declaraties_afgewezen``, made by :func:`jeugdlib.clean.clean` in the same
    pass): only lines with periode_begin and declaratiedatum before the peildatum, of
    clients not older than max_leeftijd on periode_begin (birth date from the
    toewijzingen; unknown: kept) and aanbieders not excluded. Columns regio,
    gemeentecode ('onbekend' when empty), client_nr (cleaning's number of the client),
    agb, periode_begin, bedrag_cent."""
    return "SELECT * FROM declaraties_afgewezen"


def _afgewezen_posten(c) -> str:
    """SQL: the rejected lines of :func:`afgewezen_regels` with their ``periode``."""
    p = perioden(c)
    return f"""SELECT a.*, p.periode FROM ({afgewezen_regels(c)}) a
               JOIN {p} p ON a.periode_begin BETWEEN p.begin AND p.eind"""


def _afgewezen_level(c) -> str:
    """SQL: the levels of the rejection KPIs, those of the declaration items and of the rejected lines."""
    return f"{LEVEL} UNION ALL SELECT regio, gemeentecode FROM ({afgewezen_regels(c)})"


@kpi(eenheid="euro", groep="Kosten", label="Afgewezen bedrag", bron="metrics.md 1")
def afgewezen_bedrag(c):
    """Net amount (euro) of the prestaties rejected in a JW325, by periode_begin (only when
    JW325 messages are present).

    The rejected lines of :func:`afgewezen_regels` (left out of ``kosten`` by cleaning),
    summed per period. Every level with declarations or rejections gets a row for every
    period (0 when nothing was rejected). Money: no client basis."""
    if not c.heeft_afwijzingen:
        return geen_rijen(c)
    t = rollup(_afgewezen_posten(c), "sum(bedrag_cent) AS cent")
    return rows(c, rooster(c, t, euro("t.cent"), level=_afgewezen_level(c)))


@kpi(eenheid="fractie", groep="Kosten", label="Aandeel afgewezen", basis="clienten", bron="metrics.md 1")
def aandeel_afgewezen(c):
    """``afgewezen_bedrag`` / (``kosten`` + ``afgewezen_bedrag``) in the period (only when
    JW325 messages are present).

    No row where the denominator is not positive. ``n_clienten``: the distinct clients
    with a positive net amount (kosten and rejected lines together) within the level."""
    if not c.heeft_afwijzingen:
        return geen_rijen(c)
    samen = f"""SELECT regio, gemeentecode, client_nr, periode, bedrag_cent, 0 AS afgewezen
                FROM ({posten(c)})
                UNION ALL
                SELECT regio, gemeentecode, client_nr, periode, bedrag_cent, bedrag_cent
                FROM ({_afgewezen_posten(c)})"""
    som = rollup(samen, "sum(bedrag_cent) AS noemer, sum(afgewezen) AS teller")
    return rows(c, f"""
        SELECT s.regio, s.gemeente, s.periode, s.teller::DOUBLE / s.noemer::DOUBLE AS waarde,
               coalesce(k.clienten, 0) AS n_clienten
        FROM ({som}) s LEFT JOIN ({clienten_positief(samen)}) k USING (regio, gemeente, periode)
        WHERE s.noemer > 0""")
