"""Trajecten (outputgericht): zorgpaden with labels, doorlooptijd, volume, traject ratios.

metrics.md section 6: the analyses Noord-Limburg did by hand for its traject
products (licht/midden/zwaar, plus P*Q maatwerk and meerwerk in the same
productgroep), as SQL over the cleaned tables.

* A **zorgpad** (metrics.md 5): per client and productgroep, toewijzingen sorted by
  ingangsdatum are joined while the next starts at most ``aansluit_dagen`` after the
  latest end so far (:func:`jeugdlib.metrics.zorgduur.ketens_sql`, the library's one
  definition of a chain; ``keten`` here is the ``rij`` of a zorgpad's first
  toewijzing). Only productgroepen with traject products (:func:`groepen_sql`) have
  zorgpaden here.
* Its **label** (:func:`labels_sql`): the zorgpad's time span is cut at every start
  and every end + 1 day of its labelled toewijzingen; each piece gets the bitmask of
  the labels active in it (:data:`BITS`; ``bit_or`` over the toewijzingen active on
  the piece's first day); empty pieces are dropped, equal neighbours merged (``lag``)
  and the pieces' names (:func:`mask_label`, the one piece of Python) joined with
  ``" > "``.
* Declarations are linked to a toewijzing on (gemeentecode, toewijzing_nr) and the
  client (metrics.md 0.1, 0.2); lines without a known toewijzing count in
  :func:`aandeel_pq_in_traject` only.

The KPI functions (one per KPI id) come last; :func:`zorgpaden_lijst`,
:func:`traject_ratios`, :func:`kosten_samenstelling` and the small pandas functions
over their results (:func:`label_samenvatting`, :func:`top_labels`, ...) are what the
Trajecten report (:func:`rapport`) plots. Every function takes ``exclude_agb``: the
named aanbieders' toewijzingen and declarations are left out before anything is
computed (``params.exclude_agb`` is already left out by cleaning).
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np
import pandas as pd

from .. import config, engine, schema
from ._common import datum, kpi, materialiseer, perioden, rollup, rows
from .verzilvering import uren_sql
from .zorgduur import ZORGPAD, ketens_sql

#: Label bits: the set of labels active in a piece is a bitmask.
BITS = {"Licht": 1, "Midden": 2, "Zwaar": 4, "Maatwerk": 8, "Meerwerk": 16}
MAATWERK_BITS = BITS["Maatwerk"] | BITS["Meerwerk"]
#: Label of a zorgpad none of whose toewijzingen carries a label (e.g. a traject
#: product without zwaarte). metrics.md leaves this open.
GEEN_LABEL = "Zonder label"
#: RedenBeeindiging (JZ588) "Levering is volgens plan beeindigd".
REDEN_REGULIER = "31"
#: Volume classes in hours (metrics.md section 6): left-closed, last one open.
VOLUME_GRENZEN = (0, 10, 20, 30, 50, 75, 100, 200, 500)
VOLUME_KLASSEN = ("0-10", "10-20", "20-30", "30-50", "50-75", "75-100", "100-200", "200-500", "500+")
#: Doorlooptijd classes in months: 1 .. 24 and >24.
DOORLOOPTIJD_KLASSEN = tuple(str(i) for i in range(1, 25)) + (">24",)

GROEP = "Trajecten"


def mask_label(mask: int) -> str:
    """The label of one piece: the active labels in fixed order joined by ``-``.

    ``mask_label(4 | 8) == "Zwaar-Maatwerk"``; ``mask_label(0) == ""``.
    """
    return "-".join(name for name, bit in BITS.items() if mask & bit)


# --------------------------------------------------------------------------- shared SQL

def _lit(text: str) -> str:
    return engine._lit(text)


def zonder_agb_sql(exclude_agb: Iterable[str] = (), kolom: str = "agb") -> str:
    """SQL condition: the row's aanbieder is not one of ``exclude_agb`` (a missing agb is kept)."""
    if isinstance(exclude_agb, str):
        exclude_agb = (exclude_agb,)
    agbs = ", ".join(_lit(a) for a in dict.fromkeys(str(a) for a in exclude_agb or ()))
    return f"coalesce({kolom} NOT IN ({agbs}), true)" if agbs else "true"


def label_bit_sql(t: str = "t") -> str:
    """SQL of the label bit of a toewijzing (or declaration line) ``t``: traject
    products by zwaarte (licht/midden/zwaar -> 1/2/4), other products by variant
    (maatwerk/meerwerk -> 8/16), else 0 (no label). Cleaning lower-cases these attributes."""
    return f"""(CASE WHEN {t}.financieringsvorm = 'traject' THEN
                    CASE {t}.zwaarte WHEN 'licht' THEN 1 WHEN 'midden' THEN 2 WHEN 'zwaar' THEN 4 ELSE 0 END
                ELSE CASE {t}.variant WHEN 'maatwerk' THEN 8 WHEN 'meerwerk' THEN 16 ELSE 0 END END)"""


def groepen_sql(exclude_agb: Iterable[str] = ()) -> str:
    """SQL of the productgroepen with traject products: a toewijzing or a row of
    producten.csv in it has financieringsvorm ``traject`` (metrics.md section 6)."""
    return f"""
        SELECT productgroep FROM toewijzingen
        WHERE financieringsvorm = 'traject' AND productgroep IS NOT NULL AND {zonder_agb_sql(exclude_agb)}
        UNION
        SELECT coalesce(nullif(productgroep, ''), productcode) FROM ref_producten
        WHERE lower(trim(financieringsvorm)) = 'traject'
              AND coalesce(nullif(productgroep, ''), productcode) IS NOT NULL"""


def traject_groepen(c, exclude_agb: Iterable[str] = ()) -> list[str]:
    """The productgroepen with traject products (sorted)."""
    return sorted(r[0] for r in c.con.execute(groepen_sql(exclude_agb)).fetchall())


def traject_toewijzingen_sql(c, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: the toewijzingen of the traject productgroepen with their label ``bit``,
    their zorgpad (``keten``), and per toewijzing ``maanden`` (calendar months whose
    summed net declared amount on it is positive), ``kosten_cent`` (net declared) and
    ``uren_decl`` (net declared volume in hours)."""
    # the chaining on the few columns it needs, then the toewijzingen' attributes by rij
    smal = f"""SELECT rij, client_nr, productgroep, ingangsdatum, einddatum_eff FROM toewijzingen
               WHERE productgroep IN ({groepen_sql(exclude_agb)}) AND {zonder_agb_sql(exclude_agb)}"""
    return f"""
        WITH tw AS MATERIALIZED (
            SELECT k.keten_rij AS keten, t.rij, t.client_nr, t.gemeentecode, t.regio, t.toewijzing_nr, t.agb,
                   t.productgroep, t.productcode, t.financieringsvorm, t.zwaarte, t.variant, t.ingangsdatum,
                   t.einddatum, t.einddatum_eff, t.norm_uren, t.norm_maanden, t.trajectprijs_cent,
                   {label_bit_sql('t')} AS bit
            FROM ({ketens_sql(smal, ZORGPAD, c.params.aansluit_dagen, volgorde='rij')}) k
            JOIN toewijzingen t USING (rij)),
        dec AS MATERIALIZED (SELECT tw.rij, d.maand, d.bedrag_cent, d.volume * {uren_sql('d.eenheid')} AS uren
                FROM declaraties d JOIN tw ON d.toewijzing_rij = tw.rij
                WHERE d.maand IS NOT NULL AND {zonder_agb_sql(exclude_agb, 'd.agb')}),
        per_maand AS (SELECT rij, maand, sum(bedrag_cent) AS bedrag FROM dec GROUP BY rij, maand),
        cijfers AS (SELECT rij, count(*) FILTER (bedrag > 0) AS maanden, sum(bedrag) AS kosten_cent
                    FROM per_maand GROUP BY rij),
        uren AS (SELECT rij, sum(coalesce(uren, 0)) AS uren_decl FROM dec GROUP BY rij)
        SELECT tw.*, coalesce(k.maanden, 0) AS maanden, coalesce(k.kosten_cent, 0) AS kosten_cent,
               coalesce(u.uren_decl, 0) AS uren_decl
        FROM tw LEFT JOIN cijfers k USING (rij) LEFT JOIN uren u USING (rij)"""


def traject_toewijzingen(c, exclude_agb: Iterable[str] = ()) -> str:
    """The table of :func:`traject_toewijzingen_sql`, made once per connection
    (:func:`materialiseer`): the zorgpaden and the traject ratios both read it (on the
    national demo the chaining and the months per toewijzing cost about 1,5 s each time)."""
    return materialiseer(c, traject_toewijzingen_sql(c, exclude_agb))


def _mask_namen_sql() -> str:
    """SQL: the 32 piece names (mask, tekst) of :func:`mask_label`."""
    return "SELECT * FROM (VALUES " + ", ".join(f"({m}, {_lit(mask_label(m))})" for m in range(1, 32)) + \
        ") AS n(mask, tekst)"


def labels_sql(tw_sql: str) -> str:
    """SQL: per zorgpad (``keten`` of ``tw_sql``, rows with ``bit``, ``ingangsdatum``,
    ``einddatum_eff``) its ``label``, ``met_maatwerk`` (a piece holds Maatwerk or
    Meerwerk) and ``stukken`` (pieces after merging). A zorgpad without a labelled
    toewijzing gets :data:`GEEN_LABEL`."""
    return f"""
        WITH l AS MATERIALIZED (SELECT keten, bit, ingangsdatum, einddatum_eff FROM ({tw_sql}) AS t WHERE bit > 0),
        punten AS (SELECT keten, ingangsdatum AS dag FROM l UNION SELECT keten, einddatum_eff + 1 FROM l),
        stukken AS (SELECT p.keten, p.dag, bit_or(l.bit) AS mask
                    FROM punten p JOIN l ON l.keten = p.keten AND l.ingangsdatum <= p.dag AND p.dag <= l.einddatum_eff
                    GROUP BY p.keten, p.dag),
        samengevoegd AS (SELECT *, mask IS DISTINCT FROM lag(mask) OVER (PARTITION BY keten ORDER BY dag) AS nieuw
                         FROM stukken),
        labels AS (SELECT s.keten, string_agg(n.tekst, ' > ' ORDER BY s.dag) AS label,
                          bool_or(s.mask & {MAATWERK_BITS} > 0) AS met_maatwerk, count(*) AS stukken
                   FROM samengevoegd s JOIN ({_mask_namen_sql()}) n USING (mask)
                   WHERE s.nieuw GROUP BY s.keten)
        SELECT k.keten, coalesce(l.label, {_lit(GEEN_LABEL)}) AS label, coalesce(l.met_maatwerk, false) AS met_maatwerk,
               coalesce(l.stukken, 0) AS stukken
        FROM (SELECT DISTINCT keten FROM ({tw_sql}) AS t) k LEFT JOIN labels l USING (keten)"""


def zorgpaden_sql(c, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: one row per zorgpad of the traject productgroepen (metrics.md 5 and 6):
    ``keten``, ``client_nr``, ``productgroep``, ``regio`` and ``gemeentecode`` (of its
    first toewijzing: earliest ingangsdatum), ``start``, ``eind`` (latest
    einddatum_eff), ``toewijzingen``, ``label``, ``met_maatwerk``, ``stukken``,
    ``doorlooptijd`` (calendar months in which the zorgpad's summed net declared
    amount is positive), ``volume_uren`` (traject toewijzingen: norm_uren x their
    positive months / norm_maanden; inspanning toewijzingen: net declared hours;
    others and missing norms 0) and ``kosten_cent``."""
    return f"""
        WITH tw AS (SELECT * FROM {traject_toewijzingen(c, exclude_agb)}),
        labels AS ({labels_sql('SELECT * FROM tw')}),
        zp_maand AS (SELECT tw.keten, d.maand, sum(d.bedrag_cent) AS bedrag
                     FROM declaraties d JOIN tw ON d.toewijzing_rij = tw.rij
                     WHERE d.maand IS NOT NULL AND {zonder_agb_sql(exclude_agb, 'd.agb')}
                     GROUP BY tw.keten, d.maand),
        doorloop AS (SELECT keten, count(*) FILTER (bedrag > 0) AS doorlooptijd FROM zp_maand GROUP BY keten),
        paden AS (
            SELECT keten, any_value(client_nr) AS client_nr,
                   any_value(productgroep) AS productgroep,
                   arg_min(regio, (ingangsdatum, rij)) AS regio,
                   arg_min(gemeentecode, (ingangsdatum, rij)) AS gemeentecode,
                   min(ingangsdatum) AS start, max(einddatum_eff) AS eind, count(*) AS toewijzingen,
                   sum(CASE WHEN financieringsvorm = 'traject' THEN
                                CASE WHEN norm_maanden <> 0 THEN coalesce(norm_uren * maanden / norm_maanden, 0)
                                     ELSE 0 END
                            WHEN financieringsvorm = 'inspanning' THEN uren_decl ELSE 0 END) AS volume_uren,
                   sum(kosten_cent) AS kosten_cent
            FROM tw GROUP BY keten)
        SELECT p.keten, p.client_nr, p.productgroep, p.regio, p.gemeentecode, p.start, p.eind, p.toewijzingen,
               l.label, l.met_maatwerk, l.stukken, coalesce(d.doorlooptijd, 0) AS doorlooptijd,
               p.volume_uren, p.kosten_cent::BIGINT AS kosten_cent
        FROM paden p JOIN labels l USING (keten) LEFT JOIN doorloop d USING (keten)"""


def _in_venster(c, col: str) -> str:
    return f"{col} >= {datum(c.params.start)} AND {col} < {datum(c.params.peildatum)}"


def _waar(c, regio: str | None, in_venster: bool, datum_kolom: str) -> str:
    """SQL condition: only ``regio`` (when given), only ``datum_kolom`` in the window (when asked)."""
    waar = ["true"]
    if regio is not None:
        waar.append(f"regio = {_lit(regio)}")
    if in_venster:
        waar.append(_in_venster(c, datum_kolom))
    return " AND ".join(waar)


def zorgpaden_lijst(c, *, exclude_agb: Iterable[str] = (), met_client_id: bool = False,
                    regio: str | None = None, in_venster: bool = False) -> pd.DataFrame:
    """:func:`zorgpaden_sql` as a frame (ordered by client, productgroep, start), for
    reports and tests. Client-free unless ``met_client_id``; ``regio``: only the
    zorgpaden of that regio (chained over all regions); ``in_venster``: only those
    that start in [start, peildatum)."""
    # the client's id by its number (the KPI queries carry only the number)
    out = engine.df(c.con, f"SELECT z.keten, cn.client_id, z.* EXCLUDE (keten) "
                           f"FROM ({zorgpaden_sql(c, exclude_agb)}) z "
                           f"LEFT JOIN client_nummers cn ON cn.client_nr = z.client_nr "
                           f"WHERE {_waar(c, regio, in_venster, 'start')} "
                           f"ORDER BY client_id, productgroep, start, keten")
    out = out.drop(columns=["keten", "client_nr"] + ([] if met_client_id else ["client_id"]))
    out["met_maatwerk"] = out["met_maatwerk"].astype(bool)
    for col in ("toewijzingen", "stukken", "doorlooptijd", "kosten_cent"):
        out[col] = out[col].astype("int64")
    out["volume_uren"] = out["volume_uren"].astype("float64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- traject ratios

class TrajectRatios(NamedTuple):
    """Result of :func:`traject_ratios`: the table and whether the fallback was used."""

    tabel: pd.DataFrame
    #: True when the dataset has no JW307 at all, so every traject toewijzing that
    #: ended before the peildatum counts as regulier ended (the report says so).
    fallback: bool


def heeft_jw307(c) -> bool:
    """Whether the cleaned start_stop holds any JW307."""
    return bool(c.con.execute("SELECT count(*) FROM start_stop WHERE upper(bericht) = 'JW307'").fetchall()[0][0])


def ratios_sql(c, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: volume_ratio and kosten_ratio per traject toewijzing that ended regulier
    (metrics.md section 6), with ``einddatum`` (the toewijzing's, else its JW307's).

    Regulier ended: the toewijzing's latest JW307 (same gemeentecode and
    toewijzing_nr; latest by einddatum, then the last one read) has RedenBeeindiging
    31 and the einddatum is before the peildatum. Without any JW307 in the dataset
    (:func:`heeft_jw307`): every traject toewijzing whose einddatum is before the
    peildatum. ``volume_ratio`` = months with a positive net declared amount on the
    toewijzing / norm_maanden; ``kosten_ratio`` = net declared amount /
    trajectprijs (NULL when the norm or price is missing or 0)."""
    peil = datum(c.params.peildatum)
    tw = f"SELECT * FROM {traject_toewijzingen(c, exclude_agb)} AS t WHERE financieringsvorm = 'traject'"
    if heeft_jw307(c):
        stop = f"""SELECT gemeentecode, toewijzing_nr, einddatum AS stop_eind,
                          trim(reden_beeindiging) = {_lit(REDEN_REGULIER)} AS regulier
                   FROM start_stop WHERE upper(bericht) = 'JW307'
                   QUALIFY row_number() OVER (PARTITION BY gemeentecode, toewijzing_nr
                                              ORDER BY einddatum DESC NULLS LAST, rij DESC) = 1"""
        beeindigd = f"""SELECT t.*, coalesce(t.einddatum, s.stop_eind) AS eind
                        FROM ({tw}) t JOIN ({stop}) s ON s.gemeentecode = t.gemeentecode
                             AND s.toewijzing_nr = t.toewijzing_nr
                        WHERE coalesce(s.regulier, false) AND (t.einddatum IS NULL OR t.einddatum < {peil})"""
    else:
        beeindigd = f"SELECT t.*, t.einddatum AS eind FROM ({tw}) t"
    return f"""
        SELECT client_nr, toewijzing_nr, productgroep, productcode, zwaarte, regio, gemeentecode, agb,
               eind AS einddatum, maanden, kosten_cent::BIGINT AS kosten_cent, norm_maanden, trajectprijs_cent,
               CASE WHEN norm_maanden > 0 THEN maanden / norm_maanden END AS volume_ratio,
               CASE WHEN trajectprijs_cent > 0 THEN kosten_cent::DOUBLE / trajectprijs_cent END AS kosten_ratio
        FROM ({beeindigd}) AS b WHERE eind IS NOT NULL AND eind < {peil}"""


def traject_ratios(c, *, exclude_agb: Iterable[str] = (), met_client_id: bool = False,
                   regio: str | None = None, in_venster: bool = False) -> TrajectRatios:
    """:func:`ratios_sql` as a frame (client-free unless ``met_client_id``; ``regio``:
    only that regio's toewijzingen; ``in_venster``: only those ending in [start,
    peildatum)), and whether the fallback without JW307 was used."""
    out = engine.df(c.con, f"SELECT cn.client_id, r.* FROM ({ratios_sql(c, exclude_agb)}) r "
                           f"LEFT JOIN client_nummers cn ON cn.client_nr = r.client_nr "
                           f"WHERE {_waar(c, regio, in_venster, 'einddatum')} "
                           f"ORDER BY gemeentecode, toewijzing_nr")
    out = out.drop(columns=["client_nr"] + ([] if met_client_id else ["client_id"]))
    for col in ("volume_ratio", "kosten_ratio", "norm_maanden", "trajectprijs_cent"):
        out[col] = out[col].astype("float64")
    return TrajectRatios(out.reset_index(drop=True), not heeft_jw307(c))


# --------------------------------------------------------------------------- cost shares

def kostencategorie_sql(d: str = "d") -> str:
    """SQL: cost category of a line, its label name (Licht .. Meerwerk) or ``Overig``."""
    namen = " ".join(f"WHEN {bit} THEN {_lit(naam)}" for naam, bit in BITS.items())
    return f"(CASE {label_bit_sql(d)} {namen} ELSE 'Overig' END)"


def kosten_samenstelling(c, *, exclude_agb: Iterable[str] = (), groepen: Iterable[str] | None = None,
                         per: str | None = None, regio: str | None = None) -> pd.DataFrame:
    """Net declared cost per productgroep (with traject products), period and
    kostencategorie (:func:`kostencategorie_sql`), with ``aandeel`` of the
    productgroep's cost in the period (NaN when that is 0). A line belongs to the
    period of its periode_begin inside [start, peildatum). Columns productgroep,
    periode, categorie, kosten_cent, aandeel."""
    p = perioden(c, per)
    groep_sql = groepen_sql(exclude_agb) if groepen is None else \
        "SELECT * FROM (VALUES " + ", ".join(f"({_lit(g)})" for g in groepen) + ") AS g(productgroep)"
    if groepen is not None and not list(groepen):
        groep_sql = "SELECT NULL::VARCHAR AS productgroep WHERE false"
    waar = f"AND d.regio = {_lit(regio)}" if regio is not None else ""
    out = engine.df(c.con, f"""
        SELECT productgroep, periode, categorie, kosten_cent,
               kosten_cent / nullif(sum(kosten_cent) OVER (PARTITION BY productgroep, periode), 0) AS aandeel
        FROM (SELECT d.productgroep, p.periode, {kostencategorie_sql('d')} AS categorie,
                     sum(coalesce(d.bedrag_cent, 0))::BIGINT AS kosten_cent
              FROM declaraties d JOIN {p} p ON d.periode_begin BETWEEN p.begin AND p.eind
              WHERE d.productgroep IN ({groep_sql}) AND {_in_venster(c, 'd.periode_begin')}
                    AND {zonder_agb_sql(exclude_agb, 'd.agb')} {waar}
              GROUP BY ALL)
        ORDER BY productgroep, periode, categorie""")
    out["kosten_cent"] = out["kosten_cent"].astype("int64")
    out["aandeel"] = out["aandeel"].astype("float64")
    return out


def pq_sql(c, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: per level (regio, gemeente, Nederland), period and productgroep (with
    traject products) the net declared ``kosten_cent``, the part ``pq_cent`` on
    maatwerk and meerwerk products (variant), ``waarde`` = pq / kosten (NULL when
    kosten is 0) and ``n_clienten`` (distinct clients with lines). All lines count,
    also those without a known toewijzing (metrics.md 0.2)."""
    p = perioden(c)
    bron = f"""
        SELECT d.regio, d.gemeentecode, d.client_nr, p.periode, d.productgroep, d.bedrag_cent,
               d.variant IN ('maatwerk', 'meerwerk') AS pq
        FROM declaraties d JOIN {p} p ON d.periode_begin BETWEEN p.begin AND p.eind
        WHERE d.productgroep IN ({groepen_sql(exclude_agb)}) AND {_in_venster(c, 'd.periode_begin')}
              AND {zonder_agb_sql(exclude_agb, 'd.agb')}"""
    tel = rollup(bron, """sum(coalesce(bedrag_cent, 0))::BIGINT AS kosten_cent,
                          coalesce(sum(bedrag_cent) FILTER (pq), 0)::BIGINT AS pq_cent,
                          count(DISTINCT client_nr) AS n_clienten""", by="periode, productgroep")
    return f"""SELECT *, CASE WHEN kosten_cent <> 0 THEN pq_cent::DOUBLE / kosten_cent END AS waarde
               FROM ({tel}) AS t"""


# --------------------------------------------------------------------------- report tables (pandas)

def _by_cols(by) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def label_samenvatting(zp: pd.DataFrame, by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """Per group of a :func:`zorgpaden_lijst` frame: ``zorgpaden``, ``uniek`` (distinct
    labels), ``top5_dekking`` (share of zorgpaden whose label is one of the 5 most
    frequent; ties broken by label name) and ``aandeel_meer_maatwerk`` (share whose
    label holds Maatwerk or Meerwerk): the KPIs of section 6 for one report."""
    by = _by_cols(by)
    if len(zp) == 0:
        return pd.DataFrame(columns=by + ["zorgpaden", "uniek", "top5_dekking", "aandeel_meer_maatwerk"])
    cnt = _label_tellingen(zp, by)
    cnt["top5"] = cnt["aantal"].where(cnt["rang"] <= 5, 0)
    g = cnt.groupby(by, observed=True, dropna=False).agg(zorgpaden=("aantal", "sum"), uniek=("label", "size"),
                                                          top5=("top5", "sum"))
    mw = zp.groupby(by, observed=True, dropna=False)["met_maatwerk"].sum()
    g["top5_dekking"] = g["top5"] / g["zorgpaden"]
    g["aandeel_meer_maatwerk"] = mw.reindex(g.index).to_numpy() / g["zorgpaden"].to_numpy()
    return g.drop(columns=["top5"]).reset_index()


def _label_tellingen(zp: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Zorgpaden per group and label, ranked by count (ties by label name)."""
    cnt = zp.groupby(by + ["label"], observed=True, dropna=False).size().rename("aantal").reset_index()
    cnt["label"] = cnt["label"].astype(str)
    cnt = cnt.sort_values(by + ["aantal", "label"], ascending=[True] * len(by) + [False, True], kind="mergesort")
    cnt["rang"] = cnt.groupby(by, observed=True, dropna=False).cumcount() + 1
    return cnt


def top_labels(zp: pd.DataFrame, n: int = 10, by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """The ``n`` most frequent labels per group with ``aantal``, ``aandeel`` and ``rang``
    (ties broken by label name): "top-10 labels with counts" of metrics.md section 6."""
    by = _by_cols(by)
    if len(zp) == 0:
        return pd.DataFrame(columns=by + ["rang", "label", "aantal", "aandeel"])
    cnt = _label_tellingen(zp, by)
    tot = cnt.groupby(by, observed=True, dropna=False)["aantal"].transform("sum")
    cnt["aandeel"] = cnt["aantal"] / tot
    out = cnt[cnt["rang"] <= n]
    return out[by + ["rang", "label", "aantal", "aandeel"]].reset_index(drop=True)


def normen(producten: pd.DataFrame | None) -> pd.DataFrame:
    """Norms of the traject products per productgroep and zwaarte: ``norm_uren``,
    ``norm_maanden`` (the latest validity of each product code, then the median over
    the codes of a productgroep and zwaarte), for the reference lines in the volume
    and doorlooptijd charts (reports.md item 2)."""
    cols = ["productgroep", "zwaarte", "norm_uren", "norm_maanden"]
    if producten is None or len(producten) == 0:
        return pd.DataFrame(columns=cols)
    low = producten["financieringsvorm"].astype(schema.S).str.strip().str.lower()
    p = producten[(low == "traject").fillna(False).to_numpy(dtype=bool)].copy()
    if len(p) == 0:
        return pd.DataFrame(columns=cols)
    pg = p["productgroep"].astype(schema.S)
    p["productgroep"] = pg.where(~(pg.isna() | (pg.str.strip() == "")).fillna(True), p["productcode"].astype(schema.S))
    p = p.sort_values(["productcode", "geldig_vanaf"], kind="mergesort").drop_duplicates("productcode", keep="last")
    p["zwaarte"] = p["zwaarte"].astype(schema.S).str.strip().str.lower().fillna("")
    p["norm_uren"] = pd.to_numeric(p["norm_uren"]).astype(float)
    p["norm_maanden"] = pd.to_numeric(p["norm_maanden"]).astype(float)
    g = p.groupby(["productgroep", "zwaarte"], observed=True)[["norm_uren", "norm_maanden"]].median().reset_index()
    g["productgroep"] = g["productgroep"].astype(schema.S)
    g["zwaarte"] = g["zwaarte"].astype(schema.S)
    return g[cols]


def doorlooptijd_verdeling(zp: pd.DataFrame, producten: pd.DataFrame | None = None,
                           by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """Zorgpaden per doorlooptijd class 1, 2, ..., 24, >24 (declared months), per
    group, with ``norm_maanden`` of the productgroep (median over its traject
    products) when ``producten`` is given. Zorgpaden without any declared month are
    not in the distribution (column ``zonder_declaratie`` holds their number)."""
    by = _by_cols(by)
    cols = by + ["klasse", "aantal", "zonder_declaratie", "norm_maanden"]
    if len(zp) == 0:
        return pd.DataFrame(columns=cols)
    d = zp[by].copy()
    m = zp["doorlooptijd"].to_numpy()
    klasse = np.where(m > 24, ">24", m.astype(str)).astype(object)
    klasse[m < 1] = None  # no declared month: no class (counted in zonder_declaratie)
    d["klasse"] = pd.Categorical(klasse, categories=DOORLOOPTIJD_KLASSEN)
    d["nul"] = m == 0
    zonder = d.groupby(by, observed=True, dropna=False)["nul"].sum().rename("zonder_declaratie")
    cnt = d[~d["nul"]].groupby(by + ["klasse"], observed=False, dropna=False).size().rename("aantal")
    out = cnt.reset_index().merge(zonder.reset_index(), on=by, how="right")
    out["aantal"] = out["aantal"].fillna(0).astype(np.int64)
    out["klasse"] = pd.Categorical(out["klasse"], categories=DOORLOOPTIJD_KLASSEN)
    out = out[out["klasse"].notna()]
    out["norm_maanden"] = np.nan
    if producten is not None and "productgroep" in by:
        nm = normen(producten).groupby("productgroep")["norm_maanden"].median()
        out["norm_maanden"] = out["productgroep"].astype(str).map(nm.to_dict()).astype(float)
    return out[cols].sort_values(by + ["klasse"], kind="mergesort").reset_index(drop=True)


def volume_klassen(zp: pd.DataFrame, by: Iterable[str] = ("productgroep",)) -> pd.DataFrame:
    """Zorgpaden per volume class in hours [0,10), [10,20), ..., [200,500), 500+
    (metrics.md section 6), per group; negative volumes count in the first class."""
    by = _by_cols(by)
    if len(zp) == 0:
        return pd.DataFrame(columns=by + ["klasse", "aantal"])
    d = zp[by].copy()
    v = zp["volume_uren"].to_numpy(dtype=float)
    code = np.searchsorted(np.array(VOLUME_GRENZEN[1:], float), np.maximum(v, 0.0), side="right")
    d["klasse"] = pd.Categorical.from_codes(code, categories=list(VOLUME_KLASSEN))
    out = d.groupby(by + ["klasse"], observed=False, dropna=False).size().rename("aantal").reset_index()
    return out.sort_values(by + ["klasse"], kind="mergesort").reset_index(drop=True)


def zorgpaden_tabel(zp: pd.DataFrame) -> pd.DataFrame:
    """The client-free zorgpaden table for reports: label, productgroep, regio,
    gemeentecode, start, doorlooptijd (declared months), volume_uren."""
    return zp[["label", "productgroep", "regio", "gemeentecode", "start", "doorlooptijd",
               "volume_uren"]].reset_index(drop=True)


def bubbel_data(ratios: pd.DataFrame, by: Iterable[str] = ("productgroep",), stap: float = 0.1,
                max_ratio: float = 2.0) -> pd.DataFrame:
    """The bubble chart of (volume_ratio, kosten_ratio) in classes of ``stap`` (10
    percentage points): class = floor(ratio / stap) x stap, ratios at or above
    ``max_ratio`` in class ``max_ratio``; rows with a missing ratio are left out.
    Columns: group, ``volume_klasse``, ``kosten_klasse``, ``aantal``."""
    by = _by_cols(by)
    cols = by + ["volume_klasse", "kosten_klasse", "aantal"]
    r = ratios[ratios["volume_ratio"].notna() & ratios["kosten_ratio"].notna()]
    if len(r) == 0:
        return pd.DataFrame(columns=cols)
    top = int(round(max_ratio / stap))

    def klasse(x):
        k = np.floor(np.maximum(x.to_numpy(dtype=float), 0.0) / stap + 1e-9)
        return np.round(np.minimum(k, top) * stap, 10)

    d = r[by].copy()
    d["volume_klasse"] = klasse(r["volume_ratio"])
    d["kosten_klasse"] = klasse(r["kosten_ratio"])
    out = d.groupby(by + ["volume_klasse", "kosten_klasse"], observed=True, dropna=False).size()
    return out.rename("aantal").reset_index()[cols]


def rapport(c, params=None, *, regio: str | None = None, exclude_agb: Iterable[str] = (), top: int = 10) -> dict:
    """Everything the Trajecten report (reports.md item 2) plots, for one regio
    (``None``: all regions), as a dict: ``groepen``, ``zorgpaden`` (client-free,
    :func:`zorgpaden_tabel`), ``samenvatting`` (:func:`label_samenvatting`),
    ``top_labels`` (top ``top``), ``doorlooptijd``, ``volume``, ``normen``,
    ``ratios`` (:func:`traject_ratios`, client-free), ``ratios_fallback`` (no JW307 in
    the data), ``bubbel``, ``kosten_samenstelling`` (per year) and ``aandeel_pq``
    (regio level, or Nederland). Only zorgpaden that start, and ratios of trajecten
    that end, in [start, peildatum). Zorgpaden and ratios belong to the regio of their
    (first) toewijzing; zorgpaden are chained over all regions. ``params``: other
    period parameters for ``c`` (:meth:`Cleaned.met_params`)."""
    if params is not None and params != c.params:
        c = c.met_params(params)
    groepen = traject_groepen(c, exclude_agb)
    zp = zorgpaden_lijst(c, exclude_agb=exclude_agb, regio=regio, in_venster=True)
    rat = traject_ratios(c, exclude_agb=exclude_agb, regio=regio, in_venster=True)
    niveau = f"regio = {_lit(regio)} AND gemeente = ''" if regio is not None else \
        f"regio = {_lit(config.NEDERLAND)}"
    aq = engine.df(c.con, f"""SELECT regio, gemeente, periode, productgroep, waarde, kosten_cent, n_clienten
                              FROM ({pq_sql(c, exclude_agb)}) WHERE {niveau} ORDER BY periode, productgroep""")
    return {
        "groepen": groepen,
        "zorgpaden": zorgpaden_tabel(zp),
        "samenvatting": label_samenvatting(zp),
        "top_labels": top_labels(zp, n=top),
        "doorlooptijd": doorlooptijd_verdeling(zp, c.producten),
        "volume": volume_klassen(zp),
        "normen": normen(c.producten),
        "ratios": rat.tabel,
        "ratios_fallback": rat.fallback,
        "bubbel": bubbel_data(rat.tabel),
        "kosten_samenstelling": kosten_samenstelling(c, exclude_agb=exclude_agb, groepen=groepen, per="jaar",
                                                     regio=regio),
        "aandeel_pq": aq,
    }


# --------------------------------------------------------------------------- KPIs

def _gestarte_paden(c) -> str:
    """SQL: the zorgpaden that start in the analysis window, with their period and
    dimension ``productgroep=...``."""
    p = perioden(c)
    return f"""SELECT z.regio, z.gemeentecode, z.client_nr, z.label, z.met_maatwerk, p.periode,
                      'productgroep=' || z.productgroep AS dimensie
               FROM {materialiseer(c, zorgpaden_sql(c))} z JOIN {p} p ON z.start BETWEEN p.begin AND p.eind
               WHERE {_in_venster(c, 'z.start')}"""


def _paden_kpi(c, waarde: str) -> pd.DataFrame:
    """Rows of a zorgpad KPI: ``waarde`` over the started zorgpaden per level, period
    and productgroep; ``n_clienten`` = their distinct clients."""
    t = rollup(_gestarte_paden(c), f"{waarde} AS waarde, count(DISTINCT client_nr) AS n_clienten",
               by="periode, dimensie")
    return rows(c, t)


@kpi(eenheid="aantal", groep=GROEP, label="Zorgpaden", dimensies=("productgroep",), basis="clienten",
     bron="metrics.md 6")
def zorgpaden(c):
    """Zorgpaden (of a productgroep with traject products) that start in the period, per productgroep.

    A zorgpad belongs to the gemeente of its first toewijzing. ``n_clienten``: the
    distinct clients of those zorgpaden."""
    return _paden_kpi(c, "count(*)")


@kpi(eenheid="aantal", groep=GROEP, label="Verschillende zorgpaden", dimensies=("productgroep",),
     basis="clienten", bron="metrics.md 6")
def zorgpaden_uniek(c):
    """Distinct labels among the zorgpaden that start in the period, per productgroep."""
    return _paden_kpi(c, "count(DISTINCT label)")


@kpi(eenheid="fractie", groep=GROEP, label="Aandeel top-5 zorgpaden", dimensies=("productgroep",),
     basis="clienten", bron="metrics.md 6")
def zorgpaden_top5(c):
    """Share of the zorgpaden starting in the period whose label is one of the 5 most frequent, per productgroep.

    Labels ranked by count (ties by label name; a tie does not change the share)."""
    per_label = rollup("SELECT * FROM paden", "count(*) AS aantal", by="periode, dimensie, label")
    top5 = f"""SELECT regio, gemeente, periode, dimensie, sum(aantal) FILTER (rang <= 5) AS top5
               FROM (SELECT *, row_number() OVER (PARTITION BY regio, gemeente, periode, dimensie
                                                  ORDER BY aantal DESC, label) AS rang FROM ({per_label}))
               GROUP BY ALL"""
    tot = rollup("SELECT * FROM paden", "count(*) AS aantal, count(DISTINCT client_nr) AS n_clienten",
                 by="periode, dimensie")
    return rows(c, f"""WITH paden AS MATERIALIZED ({_gestarte_paden(c)})
                       SELECT t.regio, t.gemeente, t.periode, t.dimensie, k.top5 / t.aantal AS waarde, t.n_clienten
                       FROM ({tot}) t JOIN ({top5}) k USING (regio, gemeente, periode, dimensie)""")


@kpi(eenheid="fractie", groep=GROEP, label="Aandeel zorgpaden met maatwerk of meerwerk",
     dimensies=("productgroep",), basis="clienten", bron="metrics.md 6")
def zorgpaden_meer_maatwerk(c):
    """Share of the zorgpaden starting in the period whose label contains Maatwerk or Meerwerk, per productgroep."""
    return _paden_kpi(c, "count(*) FILTER (met_maatwerk) / count(*)")


@kpi(eenheid="fractie", groep=GROEP, label="Aandeel P×Q in trajectgroepen", dimensies=("productgroep",),
     basis="clienten", bron="metrics.md 6")
def aandeel_pq_in_traject(c):
    """Share of the net declared cost of the productgroep on maatwerk and meerwerk products, per productgroep.

    Only productgroepen with traject products; a line belongs to the period of its
    periode_begin; every line counts, also without a known toewijzing. No value where
    the productgroep's cost is 0. ``n_clienten``: distinct clients with lines."""
    return rows(c, f"SELECT regio, gemeente, periode, 'productgroep=' || productgroep AS dimensie, waarde, "
                   f"n_clienten FROM ({pq_sql(c)})")


def _ratio_kpi(c, kolom: str) -> pd.DataFrame:
    """Median of ``kolom`` over the regulier ended trajecten per level, period of the
    einddatum and productgroep; ``n_clienten`` = their distinct clients."""
    p = perioden(c)
    bron = f"""SELECT r.regio, r.gemeentecode, r.client_nr, r.{kolom} AS ratio, p.periode,
                      'productgroep=' || r.productgroep AS dimensie
               FROM {materialiseer(c, ratios_sql(c))} r JOIN {p} p ON r.einddatum BETWEEN p.begin AND p.eind
               WHERE r.{kolom} IS NOT NULL AND {_in_venster(c, 'r.einddatum')}"""
    return rows(c, rollup(bron, "median(ratio) AS waarde, count(DISTINCT client_nr) AS n_clienten",
                          by="periode, dimensie"))


@kpi(eenheid="fractie", groep=GROEP, label="Kostenratio beëindigde trajecten", dimensies=("productgroep",),
     basis="clienten", bron="metrics.md 6")
def traject_kosten_ratio(c):
    """Median kosten_ratio (net declared amount / trajectprijs) of the regulier ended trajecten, per productgroep.

    Regulier ended: latest JW307 with RedenBeeindiging 31 (without any JW307 in the
    data: every traject toewijzing ended before the peildatum); by the period of the
    einddatum (:func:`ratios_sql`)."""
    return _ratio_kpi(c, "kosten_ratio")


@kpi(eenheid="fractie", groep=GROEP, label="Volumeratio beëindigde trajecten", dimensies=("productgroep",),
     basis="clienten", bron="metrics.md 6")
def traject_volume_ratio(c):
    """Median volume_ratio (months with a positive net declared amount / norm_maanden) of the regulier ended
    trajecten, per productgroep.

    As :func:`traject_kosten_ratio`."""
    return _ratio_kpi(c, "volume_ratio")
