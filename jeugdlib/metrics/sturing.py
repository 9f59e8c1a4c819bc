"""Sturing: budgetplafonds, scenarios and why cost rose (metrics.md section 11).

The steering instruments of Noord-Limburg's inkoopstrategie 2026: a budget ceiling
per aanbieder from its historical production, the year's production projected
against it, the payout under four financial rules for overproduction, a traffic
light per aanbieder, and a log-mean Divisia (LMDI-I) decomposition of each year's
cost change.

**Unit of steering.** A region contracts its own aanbieders, so an aanbieder is
steered per (regio, agb): its production is its net declared amount in that
regio's gemeenten. Nederland sums the regions' figures.

**Production** (of an aanbieder in a year) = the net declared amount of its
``inspanning`` and ``traject`` products (declaration lines by ``periode_begin``).

**Plafond for the peildatum's year** (``jaar`` = the peildatum's year), per regio:

* when budgetplafonds.csv has rows for ``jaar`` that fall in the regio, those. A
  row covers the aanbieder's items, narrowed to its ``productcode`` and
  ``gemeentecode`` where given (all products then, as ``budget_uitnutting`` of
  section 8). A row with a gemeentecode belongs to that gemeente's regio; a row
  without one is split over the regions its items come from by their share of the
  items in ``jaar`` (of all years when there are none in ``jaar``). P is then the
  amount of the items under the aanbieder's rows; an aanbieder without a row has no
  plafond (its P is its production, for the stoplicht list).
* else the proposal for ``jaar`` computed from ``basisjaar`` (default ``jaar`` - 1):
  every aanbieder with production in the basisjaar has one.

**Parameters** (:class:`SturingParams`, defaults of metrics.md 11): ``indexatie``
0,0474, ``donut_band`` d 0,05, ``staffel_drempel`` s 0,9, ``staffel_korting`` k
0,10, ``doeljaar`` (default the peildatum's year + 1), ``basisjaar`` (default the
last complete year before the peildatum), ``top_n`` 25. The registered KPIs read
them from ``c.params`` when it carries attributes of those names (so a CLI flag can
set them), else use the defaults; the report functions take them as keywords.

**KPI rows.** ``plafond_voorstel``: per aanbieder (dimensie ``agb=...``) and in
total (dimensie ""), per gemeente (= the gemeente split: the gemeente's share of the
aanbieder's basisjaar production), regio and Nederland; periode = doeljaar. The split
per productcode is a report table (:func:`voorstel`), not KPI rows: aanbieder x
product x gemeente would multiply the KPI table for little use. ``scenario_uitbetaling``
(dimensie ``scenario=...``) and ``aanbieders_boven_plafond`` per regio and Nederland
(a plafond is an agreement with the regio; per gemeente there is none).
``kosten_verklaring`` (dimensie ``factor=...``) per gemeente, regio and Nederland;
the same per productgroep is a report table (:func:`verklaring`).
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from .. import config, engine
from ._common import REGISTRY, datum, hele_maanden, kpi, materialiseer, perioden, rollup, rows, som

#: Defaults of metrics.md section 11.
INDEXATIE = 0.0474
DONUT_BAND = 0.05
STAFFEL_DREMPEL = 0.9
STAFFEL_KORTING = 0.10
TOP_N = 25
#: Stoplicht thresholds on the projected uitnutting.
GROEN_TOT = 0.90
ORANJE_TOT = 1.00

SCENARIOS = ("pq", "hard", "donuthole", "staffel")
FACTOREN = ("clienten", "mix", "intensiteit", "prijs", "nieuw_vervallen")

#: Financieringsvormen whose declared amount is "production" (metrics.md 11).
PRODUCTIE_VORMEN = ("inspanning", "traject")


# --------------------------------------------------------------------------- parameters

@dataclasses.dataclass(frozen=True)
class SturingParams:
    """The parameters of section 11 (None for doeljaar/basisjaar: the default years)."""

    indexatie: float = INDEXATIE
    donut_band: float = DONUT_BAND
    staffel_drempel: float = STAFFEL_DREMPEL
    staffel_korting: float = STAFFEL_KORTING
    doeljaar: int | None = None
    basisjaar: int | None = None
    top_n: int = TOP_N


def sturing_params(c, **kw) -> SturingParams:
    """The parameters for cleaned data ``c``: defaults, overridden by attributes of the
    same name on ``c.params`` (where the CLI may put them), overridden by ``kw``
    (None = not given)."""
    waarden = {}
    for f in dataclasses.fields(SturingParams):
        v = getattr(c.params, f.name, None)
        if kw.get(f.name) is not None:
            v = kw[f.name]
        if v is not None:
            waarden[f.name] = v
    return SturingParams(**waarden)


def lopend_jaar(peildatum) -> int:
    """The year holding the peildatum (the year that is projected)."""
    return pd.Timestamp(peildatum).year


def standaard_basisjaar(peildatum) -> int:
    """The last complete year before the peildatum (peildatum exclusive: 2024-07-01 and
    2024-01-01 both give 2023)."""
    return pd.Timestamp(peildatum).year - 1


def jaren(c, sp: SturingParams) -> tuple[int, int]:
    """(doeljaar, basisjaar) of the proposal with the defaults filled in."""
    peil = c.params.peildatum
    doel = int(sp.doeljaar) if sp.doeljaar is not None else lopend_jaar(peil) + 1
    basis = int(sp.basisjaar) if sp.basisjaar is not None else standaard_basisjaar(peil)
    return doel, basis


def indexfactor(indexatie: float, doeljaar: int, basisjaar: int) -> float:
    """(1 + indexatie) ^ (doeljaar - basisjaar)."""
    return (1.0 + float(indexatie)) ** (int(doeljaar) - int(basisjaar))


# --------------------------------------------------------------------------- payout rules

def uitbetaling_pq(p: float, b: float) -> float:
    """``pq``: P (no ceiling)."""
    return p


def uitbetaling_hard(p: float, b: float) -> float:
    """``hard``: min(P, B)."""
    return min(p, b)


def uitbetaling_donuthole(p: float, b: float, d: float = DONUT_BAND) -> float:
    """``donuthole`` with band d: P when P <= B; B when B < P <= B(1 + d); P - dB when
    P > B(1 + d) (the first d of overproduction is not paid)."""
    if p <= b:
        return p
    if p <= b * (1 + d):
        return b
    return p - d * b


def uitbetaling_staffel(p: float, b: float, s: float = STAFFEL_DREMPEL, k: float = STAFFEL_KORTING) -> float:
    """``staffel`` with threshold s and discount k: min(P, sB) + (1 - k) max(0, P - sB)."""
    return min(p, s * b) + (1 - k) * max(0.0, p - s * b)


def uitbetaling(scenario: str, p: float, b: float, *, d: float = DONUT_BAND, s: float = STAFFEL_DREMPEL,
                k: float = STAFFEL_KORTING) -> float:
    """The payout of production ``p`` against plafond ``b`` under ``scenario``."""
    if scenario == "pq":
        return uitbetaling_pq(p, b)
    if scenario == "hard":
        return uitbetaling_hard(p, b)
    if scenario == "donuthole":
        return uitbetaling_donuthole(p, b, d)
    if scenario == "staffel":
        return uitbetaling_staffel(p, b, s, k)
    raise ValueError(f"onbekend scenario {scenario!r}")


def uitbetaling_sql(scenario: str, p: str, b: str, *, d: float = DONUT_BAND, s: float = STAFFEL_DREMPEL,
                    k: float = STAFFEL_KORTING) -> str:
    """SQL of :func:`uitbetaling` over the columns ``p`` and ``b`` (same rules)."""
    d, s, k = float(d), float(s), float(k)
    return {
        "pq": f"({p})",
        "hard": f"least({p}, {b})",
        "donuthole": f"(CASE WHEN {p} <= {b} THEN {p} WHEN {p} <= {b} * (1 + {d!r}) THEN {b} "
                     f"ELSE {p} - {d!r} * {b} END)",
        "staffel": f"(least({p}, {s!r} * {b}) + (1 - {k!r}) * greatest(0, {p} - {s!r} * {b}))",
    }[scenario]


def stoplicht(uitnutting: float | None) -> str:
    """``groen`` when the projected uitnutting <= 0,90, ``oranje`` up to 1,00, ``rood``
    above; ``geen plafond`` without one."""
    if uitnutting is None or (isinstance(uitnutting, float) and math.isnan(uitnutting)):
        return "geen plafond"
    if uitnutting <= GROEN_TOT:
        return "groen"
    if uitnutting <= ORANJE_TOT:
        return "oranje"
    return "rood"


def lmdi_gewicht(a: float, b: float) -> float:
    """The logarithmic mean L(a, b) = (a - b) / (ln a - ln b), L(a, a) = a."""
    return a if a == b else (a - b) / (math.log(a) - math.log(b))


# --------------------------------------------------------------------------- production

def _jaar_sql(col: str, jaar: int, tot=None) -> str:
    eind = f" AND {col} < {datum(tot)}" if tot is not None else ""
    return f"{col} BETWEEN DATE '{int(jaar)}-01-01' AND DATE '{int(jaar)}-12-31'{eind}"


def productie_sql(jaar: int, tot=None) -> str:
    """SQL: the declaration items of inspanning and traject products in ``jaar``
    (``periode_begin`` in the year and before ``tot`` when given): regio,
    gemeentecode, agb, productcode, client_nr, maand, bedrag_cent, gecontracteerd."""
    vormen = ", ".join(f"'{v}'" for v in PRODUCTIE_VORMEN)
    return f"""SELECT regio, gemeentecode, agb, coalesce(nullif(productcode, ''), 'onbekend') AS productcode,
                      client_nr, maand, bedrag_cent, gecontracteerd
               FROM declaraties
               WHERE financieringsvorm IN ({vormen}) AND agb IS NOT NULL AND {_jaar_sql('periode_begin', jaar, tot)}"""


# --------------------------------------------------------------------------- plafond proposal

@kpi(eenheid="euro", groep="Sturing", label="Voorstel budgetplafond", dimensies=("agb",), basis="clienten",
     bron="metrics.md 11")
def plafond_voorstel(c):
    """Proposed budget ceiling for ``doeljaar`` (default: the year after the peildatum's
    year) per aanbieder: its production in ``basisjaar`` (default: the last complete
    year) = net declared amount of its inspanning and traject products, x (1 +
    ``indexatie``) ^ (doeljaar - basisjaar), indexatie default 4,74%.

    Rows per aanbieder (``agb=...``) and in total (""), per gemeente (the gemeente
    split: each gemeente's share of the aanbieder's basisjaar production, which is the
    production in that gemeente x the same factor), regio and Nederland; periode =
    doeljaar. ``n_clienten``: distinct clients behind the basisjaar production."""
    return voorstel_rijen(c, sturing_params(c))


def voorstel_rijen(c, sp: SturingParams) -> pd.DataFrame:
    """The rows of :func:`plafond_voorstel` for the parameters ``sp``."""
    doel, basis = jaren(c, sp)
    f = indexfactor(sp.indexatie, doel, basis)
    bron = f"SELECT *, '{doel}' AS periode, 'agb=' || agb AS dimensie FROM ({productie_sql(basis, c.params.peildatum)})"
    maten = f"sum(bedrag_cent)::DOUBLE / 100.0 * {f!r} AS waarde, count(DISTINCT client_nr) AS n_clienten"
    return rows(c, f"""{rollup(bron, maten, by="periode, dimensie")}
                       UNION ALL SELECT regio, gemeente, periode, '' AS dimensie, waarde, n_clienten
                       FROM ({rollup(bron, maten, by="periode")})""")


def voorstel(c, per: str = "agb", *, per_aanbieder: bool = True, indexatie: float | None = None,
             doeljaar: int | None = None, basisjaar: int | None = None) -> pd.DataFrame:
    """The proposal per regio and aanbieder, split per ``per`` = ``agb`` (no split),
    ``productcode`` or ``gemeentecode``: columns regio, agb, [productcode |
    gemeentecode], productie (basisjaar, euro), voorstel (euro), aandeel (of the
    aanbieder's production), n_clienten (distinct), doeljaar, basisjaar. With
    ``per_aanbieder`` False the split is summed over the aanbieders (no agb column;
    aandeel of the regio's production)."""
    if per not in ("agb", "productcode", "gemeentecode"):
        raise ValueError(f"onbekende uitsplitsing {per!r}")
    sp = sturing_params(c, indexatie=indexatie, doeljaar=doeljaar, basisjaar=basisjaar)
    doel, basis = jaren(c, sp)
    f = indexfactor(sp.indexatie, doel, basis)
    groep = ["regio"] + (["agb"] if per_aanbieder else []) + ([per] if per != "agb" else [])
    cols = ", ".join(groep)
    binnen = "regio, agb" if per_aanbieder else "regio"
    return engine.df(c.con, f"""
        WITH a AS (SELECT {cols}, sum(bedrag_cent)::DOUBLE / 100.0 AS productie,
                          count(DISTINCT client_nr) AS n_clienten
                   FROM ({productie_sql(basis, c.params.peildatum)}) GROUP BY ALL)
        SELECT {cols}, productie, productie * {f!r} AS voorstel,
               productie / nullif(sum(productie) OVER (PARTITION BY {binnen}), 0) AS aandeel,
               n_clienten, {doel} AS doeljaar, {basis} AS basisjaar
        FROM a ORDER BY regio, sum(productie) OVER (PARTITION BY {binnen}) DESC, productie DESC, {cols}""")


# --------------------------------------------------------------------------- projection

def _plafond_rijen_sql(jaar: int) -> str:
    """SQL: the budgetplafonds.csv rows of ``jaar``, per regio (a row without a
    gemeentecode split over the regions of its items, see the module docstring):
    pid, regio, agb, productcode, gemeentecode, plafond (euro, this regio's part)."""
    bp = f"""SELECT rij AS pid, trim(agb) AS agb, nullif(trim(productcode), '') AS productcode,
                    nullif(trim(gemeentecode), '') AS gemeentecode, plafond_cent::DOUBLE / 100.0 AS plafond
             FROM ref_budgetplafonds WHERE jaar = {int(jaar)} AND plafond_cent IS NOT NULL AND agb IS NOT NULL"""
    return f"""
        WITH bp AS ({bp}),
        met_gem AS (SELECT bp.*, coalesce(g.regio_naam, bp.gemeentecode) AS regio, 1.0 AS deel
                    FROM bp LEFT JOIN gem_lookup g ON g.gemeentecode = bp.gemeentecode
                    WHERE bp.gemeentecode IS NOT NULL),
        gewicht AS (SELECT bp.pid, d.regio,
                           greatest(sum(d.bedrag_cent) FILTER ({_jaar_sql('d.periode_begin', jaar)}), 0) AS s_jaar,
                           greatest(sum(d.bedrag_cent), 0) AS s_alle
                    FROM bp JOIN declaraties d ON d.agb = bp.agb
                         AND (bp.productcode IS NULL OR d.productcode = bp.productcode)
                    WHERE bp.gemeentecode IS NULL GROUP BY ALL),
        deel AS (SELECT pid, regio,
                        CASE WHEN sum(coalesce(s_jaar, 0)) OVER w > 0
                             THEN coalesce(s_jaar, 0) / sum(coalesce(s_jaar, 0)) OVER w
                             WHEN sum(s_alle) OVER w > 0 THEN s_alle / sum(s_alle) OVER w END AS deel
                 FROM gewicht WINDOW w AS (PARTITION BY pid))
        SELECT pid, regio, agb, productcode, gemeentecode, plafond * deel AS plafond FROM met_gem
        UNION ALL
        SELECT bp.pid, deel.regio, bp.agb, bp.productcode, bp.gemeentecode, bp.plafond * deel.deel
        FROM bp JOIN deel USING (pid) WHERE deel.deel > 0"""


def projectie_sql(c, sp: SturingParams) -> str:
    """SQL: per (regio, agb) of the peildatum's year ``jaar``: ytd (net amount so far,
    euro), lineair (the amount of the first m months x 12 / m), seizoen (that amount /
    the share of the previous year's amount that fell in its first m months), plafond
    (euro or NULL), bron (``budgetplafonds`` | ``voorstel`` | NULL), n_clienten (so
    far), nga (share of the amount so far on lines not contracted on their
    periode_begin). m = whole months from 1 January to the peildatum, as
    ``kosten_prognose_lineair`` (section 1: a part month is not extrapolated); with
    m = 0 there is no projection (lineair and seizoen NULL). Without budgetplafonds
    for the regio the plafond is the proposal for ``jaar`` from ``jaar`` - 1 (the
    default basisjaar at this peildatum, whatever ``sp.basisjaar`` says)."""
    peil = c.params.peildatum
    jaar = lopend_jaar(peil)
    m = hele_maanden(peil)
    f = indexfactor(sp.indexatie, jaar, jaar - 1)
    vormen = ", ".join(f"'{v}'" for v in PRODUCTIE_VORMEN)
    grens = f"DATE '{jaar}-01-01' + INTERVAL {m} MONTH"
    grens_vorig = f"DATE '{jaar - 1}-01-01' + INTERVAL {m} MONTH"
    return f"""
        WITH csv AS ({_plafond_rijen_sql(jaar)}),
        csv_regio AS (SELECT DISTINCT regio FROM csv),
        d AS (SELECT regio, gemeentecode, agb, productcode, client_nr, periode_begin, bedrag_cent,
                     gecontracteerd,
                     financieringsvorm IN ({vormen}) AS productie
              FROM declaraties
              WHERE agb IS NOT NULL AND periode_begin BETWEEN DATE '{jaar - 1}-01-01' AND DATE '{jaar}-12-31'),
        -- the items in scope: under a csv plafond row of the aanbieder where the regio has csv rows,
        -- else its production (inspanning and traject)
        scope AS (SELECT d.* FROM d
                  WHERE CASE WHEN EXISTS (SELECT 1 FROM csv WHERE csv.regio = d.regio AND csv.agb = d.agb)
                             THEN EXISTS (SELECT 1 FROM csv WHERE csv.regio = d.regio AND csv.agb = d.agb
                                          AND (csv.productcode IS NULL OR csv.productcode = d.productcode)
                                          AND (csv.gemeentecode IS NULL OR csv.gemeentecode = d.gemeentecode))
                             ELSE d.productie END),
        som AS (SELECT regio, agb,
                       sum(bedrag_cent) FILTER (year(periode_begin) = {jaar})::DOUBLE / 100.0 AS ytd,
                       sum(bedrag_cent) FILTER (year(periode_begin) = {jaar} AND periode_begin < {grens})::DOUBLE
                         / 100.0 AS ytd_m,
                       sum(bedrag_cent) FILTER (year(periode_begin) = {jaar - 1}
                                                AND periode_begin < {grens_vorig})::DOUBLE / 100.0 AS vorig_deel,
                       sum(bedrag_cent) FILTER (year(periode_begin) = {jaar - 1})::DOUBLE / 100.0 AS vorig,
                       count(DISTINCT client_nr) FILTER (year(periode_begin) = {jaar}) AS n_clienten,
                       coalesce(sum(bedrag_cent) FILTER (year(periode_begin) = {jaar} AND NOT gecontracteerd),
                                0)::DOUBLE / nullif(sum(bedrag_cent) FILTER (year(periode_begin) = {jaar}), 0) AS nga
                FROM scope WHERE periode_begin < {datum(peil)} GROUP BY ALL),
        plafond_csv AS (SELECT regio, agb, sum(plafond) AS plafond FROM csv GROUP BY ALL),
        voorstel AS (SELECT regio, agb, sum(bedrag_cent)::DOUBLE / 100.0 * {f!r} AS plafond
                     FROM ({productie_sql(jaar - 1, peil)})
                     WHERE regio NOT IN (SELECT regio FROM csv_regio) GROUP BY ALL HAVING sum(bedrag_cent) > 0),
        plafond AS (SELECT *, 'budgetplafonds' AS bron FROM plafond_csv
                    UNION ALL SELECT *, 'voorstel' AS bron FROM voorstel),
        sleutel AS (SELECT regio, agb FROM som WHERE ytd IS NOT NULL UNION SELECT regio, agb FROM plafond)
        SELECT k.regio, k.agb, {jaar} AS jaar, {m} AS maanden, coalesce(s.ytd, 0) AS ytd,
               CASE WHEN {m} >= 1 THEN coalesce(s.ytd_m, 0) * 12.0 / {m} END AS lineair,
               CASE WHEN {m} >= 1 AND s.vorig > 0 AND s.vorig_deel > 0
                    THEN coalesce(s.ytd_m, 0) / (s.vorig_deel / s.vorig) END AS seizoen,
               p.plafond, p.bron, coalesce(s.n_clienten, 0) AS n_clienten, s.nga
        FROM sleutel k LEFT JOIN som s USING (regio, agb) LEFT JOIN plafond p USING (regio, agb)"""


def projectie(c, *, indexatie: float | None = None, top_n: int | None = None) -> pd.DataFrame:
    """Per regio and aanbieder the projection of the peildatum's year against its
    plafond (:func:`projectie_sql`), with uitnutting_nu (ytd / plafond),
    uitnutting (lineair / plafond), boven (lineair > plafond), stoplicht, and rang
    (1 = highest ytd production in the regio). ``top_n`` keeps the top ranks."""
    sp = sturing_params(c, indexatie=indexatie, top_n=top_n)
    out = engine.df(c.con, f"""
        SELECT *, ytd / nullif(plafond, 0) AS uitnutting_nu, lineair / nullif(plafond, 0) AS uitnutting,
               lineair > plafond AS boven,
               row_number() OVER (PARTITION BY regio ORDER BY ytd DESC, agb) AS rang
        FROM ({projectie_sql(c, sp)}) ORDER BY regio, rang""")
    out["stoplicht"] = [stoplicht(None if pd.isna(u) else float(u)) for u in out["uitnutting"]]
    if top_n is not None:
        out = out[out["rang"] <= int(sp.top_n)].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------- scenarios

def _scenario_sql(c, sp: SturingParams) -> str:
    """SQL: per regio and aanbieder with a plafond and a projection: P (lineair), B,
    n_clienten and the payout of each scenario (columns named after them)."""
    kw = dict(d=sp.donut_band, s=sp.staffel_drempel, k=sp.staffel_korting)
    cols = ", ".join(f"{uitbetaling_sql(s, 'lineair', 'plafond', **kw)} AS {s}" for s in SCENARIOS)
    return f"""SELECT regio, agb, lineair AS p, plafond AS b, {cols}
               FROM {materialiseer(c, projectie_sql(c, sp))} WHERE plafond IS NOT NULL AND lineair IS NOT NULL"""


def _scenario_clienten_sql(c, sp: SturingParams) -> str:
    """SQL: distinct clients (this year so far) behind the aanbieders of :func:`_scenario_sql`,
    per regio and for Nederland (regio, n_clienten)."""
    jaar = lopend_jaar(c.params.peildatum)
    return f"""
        WITH a AS ({_scenario_sql(c, sp)})
        SELECT CASE WHEN grouping(d.regio) = 1 THEN '{config.NEDERLAND}' ELSE d.regio END AS regio,
               count(DISTINCT d.client_nr) AS n_clienten
        FROM declaraties d JOIN a ON a.regio = d.regio AND a.agb = d.agb
        WHERE {_jaar_sql('d.periode_begin', jaar, c.params.peildatum)}
        GROUP BY GROUPING SETS ((d.regio), ())"""


@kpi(eenheid="euro", groep="Sturing", label="Uitbetaling per scenario", dimensies=("scenario",),
     basis="clienten", bron="metrics.md 11")
def scenario_uitbetaling(c):
    """Payout for the peildatum's year under each scenario (``scenario=pq|hard|donuthole|
    staffel``), summed over the aanbieders with a plafond, of their linear year-end
    projection P against their plafond B: pq P; hard min(P, B); donuthole P when
    P <= B, B when B < P <= B(1+d), P - dB above (d 0,05); staffel min(P, sB) +
    (1-k) max(0, P - sB) (s 0,9, k 0,10).

    Per regio and Nederland (periode = the peildatum's year; none when the peildatum
    is in January: no whole month to project from). ``n_clienten``: distinct clients
    of those aanbieders this year."""
    return scenario_rijen(c, sturing_params(c))


def scenario_rijen(c, sp: SturingParams) -> pd.DataFrame:
    """The rows of :func:`scenario_uitbetaling` for the parameters ``sp``."""
    jaar = lopend_jaar(c.params.peildatum)
    lang = " UNION ALL ".join(f"SELECT regio, 'scenario={s}' AS dimensie, {s} AS w FROM a" for s in SCENARIOS)
    return rows(c, f"""
        WITH a AS ({_scenario_sql(c, sp)}), l AS ({lang}),
        t AS (SELECT CASE WHEN grouping(regio) = 1 THEN '{config.NEDERLAND}' ELSE regio END AS regio,
                     dimensie, {som('w')} AS waarde
              FROM l GROUP BY GROUPING SETS ((regio, dimensie), (dimensie)))
        SELECT t.regio, '' AS gemeente, '{jaar}' AS periode, t.dimensie, t.waarde, n.n_clienten
        FROM t LEFT JOIN ({_scenario_clienten_sql(c, sp)}) n USING (regio)""")


@kpi(eenheid="aantal", groep="Sturing", label="Aanbieders boven plafond", bron="metrics.md 11")
def aanbieders_boven_plafond(c):
    """Aanbieders whose linear year-end projection for the peildatum's year is above
    their plafond (budgetplafonds.csv, else the proposal for that year), per regio
    and Nederland; counted over the aanbieders with a plafond (0 when none is over)."""
    return boven_plafond_rijen(c, sturing_params(c))


def boven_plafond_rijen(c, sp: SturingParams) -> pd.DataFrame:
    """The rows of :func:`aanbieders_boven_plafond` for the parameters ``sp``."""
    jaar = lopend_jaar(c.params.peildatum)
    return rows(c, f"""
        SELECT CASE WHEN grouping(regio) = 1 THEN '{config.NEDERLAND}' ELSE regio END AS regio, '' AS gemeente,
               '{jaar}' AS periode, count(*) FILTER (p > b) AS waarde
        FROM ({_scenario_sql(c, sp)}) GROUP BY GROUPING SETS ((regio), ())""")


def scenarios(c, *, indexatie: float | None = None, donut_band: float | None = None,
              staffel_drempel: float | None = None, staffel_korting: float | None = None) -> pd.DataFrame:
    """Per regio and aanbieder with a plafond: p (projection), b (plafond) and the payout
    of each scenario (columns pq, hard, donuthole, staffel), for the report's table."""
    sp = sturing_params(c, indexatie=indexatie, donut_band=donut_band,
                        staffel_drempel=staffel_drempel, staffel_korting=staffel_korting)
    return engine.df(c.con, f"SELECT * FROM ({_scenario_sql(c, sp)}) ORDER BY regio, p DESC, agb")


# --------------------------------------------------------------------------- verzilvering per aanbieder

def verzilvering_per_aanbieder(c, jaar: int) -> pd.DataFrame:
    """Verzilvering (metrics.md 3) per regio and aanbieder over the inspanning toewijzingen
    whose einddatum lies in ``jaar``: sum(delivered x tarief) / sum(maximum x tarief);
    budget-only toewijzingen (eenheid 83 or a budget) count their net declared amount
    against the budget. Toewijzingen with declarations in a unit that does not convert,
    an unknown frequentie or no tarief are left out (as in section 3). Columns regio,
    agb, verzilvering, toewijzingen, n_clienten (distinct clients of those toewijzingen)."""
    uren = " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in config.EENHEID_UREN.items())
    geleverd = (f"d.volume * CASE WHEN lpad(trim(d.eenheid), 2, '0') = t.eenheid THEN 1.0 "
                f"ELSE (CASE lpad(trim(d.eenheid), 2, '0') {uren} END) / (CASE t.eenheid {uren} END) END")
    return engine.df(c.con, f"""
        WITH t AS (SELECT rij, regio, agb, gemeentecode, toewijzing_nr, client_nr, ingangsdatum, einddatum,
                          volume,
                          tarief_cent, budget_cent, lpad(trim(eenheid), 2, '0') AS eenheid,
                          ltrim(trim(frequentie), '0') AS freq,
                          lpad(trim(eenheid), 2, '0') = '83' OR budget_cent IS NOT NULL AS budget
                   FROM toewijzingen
                   WHERE financieringsvorm = 'inspanning' AND einddatum IS NOT NULL
                     AND {_jaar_sql('einddatum', jaar, c.params.peildatum)}
                     AND DATE '{int(jaar)}-12-31' < {datum(c.params.peildatum)}),
        g AS (SELECT t.rij,
                     sum(d.bedrag_cent) AS bedrag,
                     {som(geleverd)} AS geleverd,
                     bool_or(lpad(trim(d.eenheid), 2, '0') <> t.eenheid
                             AND ((CASE lpad(trim(d.eenheid), 2, '0') {uren} END) IS NULL
                                  OR (CASE t.eenheid {uren} END) IS NULL)) AS mix
              FROM t JOIN declaraties d ON d.toewijzing_rij = t.rij  -- the item's own toewijzing (clean)
              GROUP BY t.rij),
        v AS (SELECT t.regio, t.agb, t.client_nr,
                     CASE WHEN t.budget THEN coalesce(g.bedrag, 0)
                          ELSE coalesce(g.geleverd, 0) * t.tarief_cent END AS teller,
                     CASE WHEN t.budget THEN t.budget_cent
                          ELSE t.volume * CASE t.freq
                               WHEN '1' THEN (t.einddatum - t.ingangsdatum + 1)
                               WHEN '2' THEN ceil((t.einddatum - t.ingangsdatum + 1) / 7.0)
                               WHEN '4' THEN (year(t.einddatum) * 12 + month(t.einddatum))
                                             - (year(t.ingangsdatum) * 12 + month(t.ingangsdatum)) + 1
                               WHEN '6' THEN 1 END * t.tarief_cent END AS noemer
              FROM t LEFT JOIN g USING (rij)
              WHERE NOT coalesce(g.mix, false))
        SELECT regio, agb, {som('teller')} / nullif({som('noemer')}, 0) AS verzilvering, count(*) AS toewijzingen,
               count(DISTINCT client_nr) AS n_clienten
        FROM v WHERE noemer IS NOT NULL AND noemer > 0 GROUP BY ALL ORDER BY regio, agb""")


# --------------------------------------------------------------------------- why cost rose (LMDI-I)

def _eenheid_familie_sql(col: str) -> str:
    """SQL: the unit family of a declared eenheid: time units (minutes, hours, dagdelen)
    are one family measured in hours; any other unit is its own family."""
    codes = ", ".join(f"'{k}'" for k in config.EENHEID_UREN)
    code = f"lpad(trim({col}), 2, '0')"
    return f"CASE WHEN {code} IN ({codes}) THEN 'uur' ELSE coalesce({code}, '?') END"


def _uren_factor_sql(col: str) -> str:
    uren = " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in config.EENHEID_UREN.items())
    return f"coalesce(CASE lpad(trim({col}), 2, '0') {uren} END, 1.0)"


def verklaring_sql(c, *, per_productgroep: bool = False) -> str:
    """SQL of the LMDI-I decomposition (metrics.md 11) of each complete year's cost
    change t-1 -> t (both years complete and in the window), per gemeente, regio and
    Nederland (and per productgroep): columns regio, gemeente, [productgroep], periode
    (t), factor, waarde (euro), n_clienten (the smaller positive of N^t and N^{t-1}),
    kosten, kosten_vorig.

    A product i is a productcode in one unit family (time units converted to hours; a
    code declared in two unrelated units is two products). N = clients with a positive
    net declared amount (in the group), n_i = those of them with a positive net amount
    on i, q_i = net declared volume of i, C_i = net cost of i. Products with C, q or n
    not positive in one of the two years form ``nieuw_vervallen`` (their C^t - C^{t-1});
    for the others each factor's effect is L(C_i^t, C_i^{t-1}) ln(F_i^t / F_i^{t-1}).
    Per product the four effects add up to C_i^t - C_i^{t-1}, so all effects add up to
    C^t - C^{t-1} (to float rounding)."""
    per = perioden(c, "jaar", "perioden_sturing_jaar")
    g = ", productgroep" if per_productgroep else ""
    gsel = "coalesce(nullif(d.productgroep, ''), 'onbekend') AS productgroep, " if per_productgroep else ""
    # per client, product code and eenheid first (half the lines), then the product's
    # name and hours: the texts are made once per sum, not once per line; kept in a
    # table because the three roll-ups below read it
    per_regel = f"""SELECT d.regio, d.gemeentecode, {gsel}p.periode::INTEGER AS jaar, d.client_nr, d.productcode,
                           d.eenheid, sum(d.bedrag_cent) AS cent, sum(d.volume) AS volume
                    FROM declaraties d JOIN {per} p ON d.periode_begin BETWEEN p.begin AND p.eind
                    WHERE NOT p.voorlopig GROUP BY ALL"""
    bron = f"""SELECT regio, gemeentecode, {"productgroep, " if per_productgroep else ""}jaar, client_nr,
                      coalesce(nullif(productcode, ''), 'onbekend') || '|' || {_eenheid_familie_sql('eenheid')}
                        AS product,
                      cent, volume * {_uren_factor_sql('eenheid')} AS q
               FROM {materialiseer(c, per_regel)}"""
    # amounts summed as integer cents: exact, so the sums and the signs do not depend on
    # DuckDB's order of summation (a double sum of euros could round € x,50 either way)
    per_client = rollup(bron, "sum(cent) AS b", by=f"jaar{g}, client_nr")
    per_client_product = rollup(bron, "sum(cent) AS b", by=f"jaar{g}, product, client_nr")
    per_product = rollup(bron, f"sum(cent) AS cent, {som('q')} AS q", by=f"jaar{g}, product")
    k = f"regio, gemeente{g}"

    def op(a: str, b: str) -> str:  # join condition on the group columns
        return " AND ".join(f"{a}.{x.strip()} = {b}.{x.strip()}" for x in k.split(","))

    def kol(a: str) -> str:
        return ", ".join(f"{a}.{x.strip()}" for x in k.split(","))

    return f"""
        WITH pc AS ({per_client}),
        n_groep AS (SELECT {k}, jaar, count(*) FILTER (b > 0 AND client_nr IS NOT NULL) AS n_tot
                    FROM pc GROUP BY ALL),
        n_prod AS (SELECT {kol('x')}, x.jaar, x.product, count(*) AS n
                   FROM ({per_client_product}) x JOIN pc ON {op('pc', 'x')} AND pc.jaar = x.jaar
                                                         AND pc.client_nr = x.client_nr
                   WHERE x.b > 0 AND pc.b > 0 AND x.client_nr IS NOT NULL GROUP BY ALL),
        prod AS (SELECT {kol('p')}, p.jaar, p.product, p.cent, p.cent / 100.0 AS c, p.q, coalesce(n.n, 0) AS n
                 FROM ({per_product}) p
                 LEFT JOIN n_prod n ON {op('n', 'p')} AND n.jaar = p.jaar AND n.product = p.product),
        jaren AS (SELECT periode::INTEGER AS jaar FROM {per} WHERE NOT voorlopig),
        nu AS (SELECT * FROM prod WHERE jaar IN (SELECT jaar FROM jaren) AND jaar - 1 IN (SELECT jaar FROM jaren)),
        vorig AS (SELECT * FROM prod WHERE jaar IN (SELECT jaar FROM jaren) AND jaar + 1 IN (SELECT jaar FROM jaren)),
        paar AS (SELECT {", ".join(f"coalesce(a.{x.strip()}, b.{x.strip()}) AS {x.strip()}" for x in k.split(","))},
                        coalesce(a.jaar, b.jaar + 1) AS jaar, coalesce(a.product, b.product) AS product,
                        a.c AS c1, b.c AS c0, a.cent AS cent1, b.cent AS cent0,
                        a.q AS q1, b.q AS q0, a.n AS n1, b.n AS n0
                 FROM nu a FULL JOIN vorig b ON {op('a', 'b')} AND b.jaar = a.jaar - 1 AND b.product = a.product),
        x AS (SELECT p.*, coalesce(n1.n_tot, 0) AS nn1, coalesce(n0.n_tot, 0) AS nn0,
                     coalesce(p.c1 > 0 AND p.c0 > 0 AND p.q1 > 0 AND p.q0 > 0 AND p.n1 > 0 AND p.n0 > 0, false)
                       AS blijft
              FROM paar p
              LEFT JOIN n_groep n1 ON {op('n1', 'p')} AND n1.jaar = p.jaar
              LEFT JOIN n_groep n0 ON {op('n0', 'p')} AND n0.jaar = p.jaar - 1),
        y AS (SELECT *, CASE WHEN NOT blijft THEN NULL WHEN c1 = c0 THEN c1
                             ELSE (c1 - c0) / (ln(c1) - ln(c0)) END AS l FROM x),
        z AS (SELECT *, CASE WHEN blijft THEN l * ln(nn1::DOUBLE / nn0) ELSE 0 END AS clienten,
                     CASE WHEN blijft THEN l * ln((n1::DOUBLE / nn1) / (n0::DOUBLE / nn0)) ELSE 0 END AS mix,
                     CASE WHEN blijft THEN l * ln((q1 / n1) / (q0 / n0)) ELSE 0 END AS intensiteit,
                     CASE WHEN blijft THEN l * ln((c1 / q1) / (c0 / q0)) ELSE 0 END AS prijs,
                     CASE WHEN blijft THEN 0 ELSE coalesce(cent1, 0) - coalesce(cent0, 0) END AS nv_cent
              FROM y),
        tot AS (SELECT {k}, jaar, {som('clienten')} AS clienten, {som('mix')} AS mix,
                       {som('intensiteit')} AS intensiteit, {som('prijs')} AS prijs,
                       sum(nv_cent) / 100.0 AS nieuw_vervallen,
                       sum(coalesce(cent1, 0)) / 100.0 AS kosten, sum(coalesce(cent0, 0)) / 100.0 AS kosten_vorig,
                       max(nn1) AS nn1, max(nn0) AS nn0
                FROM z GROUP BY ALL)
        SELECT {k}, jaar::VARCHAR AS periode, factor, waarde,
               CASE WHEN nn1 > 0 AND nn0 > 0 THEN least(nn1, nn0) ELSE greatest(nn1, nn0) END AS n_clienten,
               kosten, kosten_vorig
        FROM tot UNPIVOT (waarde FOR factor IN ({", ".join(FACTOREN)}))"""


@kpi(eenheid="euro", groep="Sturing", label="Verklaring kostenstijging", dimensies=("factor",),
     basis="clienten", bron="metrics.md 11")
def kosten_verklaring(c):
    """The change of kosten from year t-1 to t (both complete) split by a log-mean
    Divisia (LMDI-I) decomposition over products into the effects ``factor=clienten``
    (number of clients N), ``mix`` (n_i / N), ``intensiteit`` (q_i / n_i), ``prijs``
    (C_i / q_i) and ``nieuw_vervallen`` (products in one of the two years only); the
    effects add up to C^t - C^{t-1}.

    Per gemeente, regio and Nederland, periode = t (see :func:`verklaring_sql`);
    per productgroep in :func:`verklaring`. ``n_clienten``: the smaller of N^t and
    N^{t-1} (the larger when one is 0)."""
    return rows(c, f"SELECT regio, gemeente, periode, 'factor=' || factor AS dimensie, waarde, n_clienten "
                   f"FROM ({verklaring_sql(c)})")


def verklaring(c, *, per_productgroep: bool = False) -> pd.DataFrame:
    """The decomposition as a frame (wide: one row per group and year, a column per
    factor, plus kosten, kosten_vorig, verschil and n_clienten), for the reports."""
    g = ["productgroep"] if per_productgroep else []
    lang = engine.df(c.con, verklaring_sql(c, per_productgroep=per_productgroep))
    if len(lang) == 0:
        return pd.DataFrame(columns=["regio", "gemeente", *g, "periode", *FACTOREN, "kosten", "kosten_vorig",
                                     "verschil", "n_clienten"])
    sleutel = ["regio", "gemeente", *g, "periode"]
    w = lang.pivot_table(index=sleutel, columns="factor", values="waarde", aggfunc="first").reset_index()
    extra = lang.groupby(sleutel, as_index=False)[["kosten", "kosten_vorig", "n_clienten"]].first()
    w = w.merge(extra, on=sleutel)
    for f in FACTOREN:
        if f not in w:
            w[f] = 0.0
    w["verschil"] = w["kosten"] - w["kosten_vorig"]
    w.columns.name = None
    return w[[*sleutel, *FACTOREN, "kosten", "kosten_vorig", "verschil", "n_clienten"]].sort_values(
        sleutel).reset_index(drop=True)


# --------------------------------------------------------------------------- all KPIs with parameters

def kpi_rijen(c, **params) -> pd.DataFrame:
    """Unsuppressed rows of this module's KPIs (columns of :data:`jeugdlib.kpi.ROW_COLUMNS`)
    for the parameters ``params`` (keywords of :class:`SturingParams`; None = default):
    what the KPI table holds when the same parameters are set, for the report."""
    from .. import kpi as _kpi

    sp = sturing_params(c, **params)
    delen = []
    for k, f in (("plafond_voorstel", voorstel_rijen), ("scenario_uitbetaling", scenario_rijen),
                 ("aanbieders_boven_plafond", boven_plafond_rijen)):
        delen.append(f(c, sp).assign(kpi=k, eenheid=REGISTRY[k].eenheid))
    delen.append(kosten_verklaring(c).assign(kpi="kosten_verklaring", eenheid=REGISTRY["kosten_verklaring"].eenheid))
    return pd.concat(delen, ignore_index=True)[_kpi.ROW_COLUMNS]

