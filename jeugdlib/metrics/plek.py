"""Plekfinanciering: clients per month against capacity, deviation class, bezetting.

metrics.md section 7 (Venlo's plek-financed products 2019-2021 in the Noord-Limburg
evaluation). For products with financieringsvorm ``plek``, per product (and per
aanbieder), at every level (gemeente, regio, Nederland):

* clients in a month (:func:`client_maanden_sql`): distinct clients with a
  toewijzing of the product active on at least one day of the month, months inside
  [start, peildatum);
* :func:`maanden_sql`: those counts on a grid of months with the year's capacity
  (plekken.csv, else the yearly mean of the monthly counts), the deviation, its
  class and sign;
* the KPIs ``plek_bezetting``, ``plek_maanden_aansluitend`` and
  ``plek_kosten_per_client``; :func:`rapport` and the pandas helpers
  (:func:`bezetting_tabel`, :func:`klassen_telling`) for the Plekfinanciering report.

``exclude_agb``: those aanbieders' toewijzingen and plekken are left out
(``params.exclude_agb``: the toewijzingen are already left out by cleaning, the
plekken here).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .. import config, engine, schema
from ._common import datum, kpi, label_sql, rollup, rows, som
from .trajecten import zonder_agb_sql

AANSLUITEND = "aansluitend"
AFWIJKING_KLEIN = "afwijking 1-5%"
AFWIJKING_GROOT = "afwijking >5%"
KLASSEN = (AANSLUITEND, AFWIJKING_KLEIN, AFWIJKING_GROOT)
#: Class bounds on |deviation| (metrics.md section 7): <= 1% and <= 5%.
GRENS_AANSLUITEND = 0.01
GRENS_KLEIN = 0.05
#: (clients - capacity) / capacity is correctly rounded; keeps an exact 1% / 5% inside.
_EPS = 1e-12

GROEP = "Plekfinanciering"


def _uitgesloten(c, exclude_agb: Iterable[str] = ()) -> tuple[str, ...]:
    if isinstance(exclude_agb, str):
        exclude_agb = (exclude_agb,)
    return tuple(dict.fromkeys([*c.params.exclude_agb, *(str(a) for a in exclude_agb or ())]))


def _sleutels(per_aanbieder: bool) -> str:
    return "productcode, agb" if per_aanbieder else "productcode"


def client_maanden_sql(c, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: one row per toewijzing of a plek product and calendar month (``maand``, its
    first day) of [start, peildatum) on which it is active at least one day:
    regio, gemeentecode, productcode, agb, client_id, maand."""
    lo = datum(c.params.start)
    hi = f"({datum(c.params.peildatum)} - 1)"
    van, tot = f"greatest(t.ingangsdatum, {lo})", f"least(t.einddatum_eff, {hi})"
    return f"""
        SELECT t.regio, t.gemeentecode, t.productcode, t.agb, t.client_id, t.client_nr,
               unnest(generate_series(date_trunc('month', {van}), date_trunc('month', {tot}),
                                      INTERVAL 1 MONTH))::DATE AS maand
        FROM toewijzingen t
        WHERE t.financieringsvorm = 'plek' AND {van} <= {tot} AND {zonder_agb_sql(exclude_agb, 't.agb')}"""


def plekken_sql(c, exclude_agb: Iterable[str] = (), per_aanbieder: bool = False) -> str:
    """SQL: ``plekken`` and ``plek_kosten_cent`` (plekken x prijs_per_plek) per
    productcode (and agb) and jaar from plekken.csv (summed over aanbieders; NULL
    when none is given), without the excluded aanbieders."""
    k = _sleutels(per_aanbieder)
    return f"""
        SELECT {k}, jaar, sum(plekken) AS plekken, sum(plekken * prijs_per_plek_cent) AS plek_kosten_cent
        FROM ref_plekken
        WHERE {' AND '.join(f'{x.strip()} IS NOT NULL' for x in k.split(','))} AND jaar IS NOT NULL
              AND {zonder_agb_sql(_uitgesloten(c, exclude_agb))}
        GROUP BY ALL"""


def klasse_sql(afwijking: str) -> str:
    """SQL of the deviation class (metrics.md section 7): ``aansluitend`` when
    |afwijking| <= 1%, ``afwijking 1-5%`` when <= 5%, else ``afwijking >5%``; NULL
    when the deviation is unknown."""
    return f"""(CASE WHEN abs({afwijking}) <= {GRENS_AANSLUITEND + _EPS!r} THEN '{AANSLUITEND}'
                     WHEN abs({afwijking}) <= {GRENS_KLEIN + _EPS!r} THEN '{AFWIJKING_KLEIN}'
                     WHEN {afwijking} IS NOT NULL THEN '{AFWIJKING_GROOT}' END)"""


def maanden_sql(c, *, per_aanbieder: bool = False, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: clients per month against the year's capacity (metrics.md section 7), per
    level (regio, gemeente; "" for a regio or Nederland), productcode (and agb).

    Months of a series: from its first to its last month with clients (months
    between with none count 0), plus every month of the window in a year for which
    plekken.csv gives capacity. ``capaciteit``: plekken of that year (the same at
    every level: plekken.csv holds no gemeente), ``capaciteit_bron`` ``plekken``;
    else the mean of the series' monthly counts in that year (``jaargemiddelde``).
    ``afwijking`` = (clienten - capaciteit) / capaciteit (NULL when capacity is 0),
    ``klasse`` (:func:`klasse_sql`) and ``teken`` (boven, onder, gelijk)."""
    k = _sleutels(per_aanbieder)
    sk = ", ".join(f"s.{x.strip()}" for x in k.split(","))
    niet_leeg = " AND ".join(f"{x.strip()} IS NOT NULL" for x in k.split(","))
    w0 = f"date_trunc('month', {datum(c.params.start)})"
    w1 = f"date_trunc('month', {datum(c.params.peildatum)} - 1)"
    # a missing client id counts as one client in a month
    tel = rollup(f"SELECT * FROM ({client_maanden_sql(c, exclude_agb)}) WHERE {niet_leeg}",
                 "count(DISTINCT coalesce(client_nr, 0)) AS clienten", by=f"{k}, maand")
    return f"""
        WITH tel AS ({tel}),
        pl AS ({plekken_sql(c, exclude_agb, per_aanbieder)}),
        reeks AS (SELECT regio, gemeente, {k}, min(maand) AS eerste, max(maand) AS laatste FROM tel GROUP BY ALL),
        rooster AS (
            SELECT regio, gemeente, {k}, unnest(generate_series(eerste, laatste, INTERVAL 1 MONTH))::DATE AS maand
            FROM reeks
            UNION
            SELECT * FROM (
                SELECT s.regio, s.gemeente, {sk},
                       unnest(generate_series(make_date(p.jaar::INTEGER, 1, 1), make_date(p.jaar::INTEGER, 12, 1),
                                              INTERVAL 1 MONTH))::DATE AS maand
                FROM reeks s JOIN pl p USING ({k}))
            WHERE maand BETWEEN {w0} AND {w1}),
        m AS (SELECT r.*, year(r.maand) AS jaar, coalesce(t.clienten, 0) AS clienten
              FROM rooster r LEFT JOIN tel t USING (regio, gemeente, {k}, maand)),
        cap AS (SELECT m.*, avg(clienten) OVER (PARTITION BY regio, gemeente, {k}, jaar) AS gemiddeld,
                       p.plekken
                FROM m LEFT JOIN pl p USING ({k}, jaar))
        SELECT regio, gemeente, {k}, maand, jaar, clienten,
               coalesce(plekken, gemiddeld) AS capaciteit,
               CASE WHEN plekken IS NOT NULL THEN 'plekken' ELSE 'jaargemiddelde' END AS capaciteit_bron,
               CASE WHEN coalesce(plekken, gemiddeld) > 0
                    THEN (clienten - coalesce(plekken, gemiddeld)) / coalesce(plekken, gemiddeld) END AS afwijking
        FROM cap"""


def met_klasse_sql(sql: str) -> str:
    """SQL: the rows of ``sql`` (with ``afwijking``) plus ``klasse`` (:func:`klasse_sql`) and
    ``teken`` (boven, onder, gelijk; NULL when the deviation is unknown)."""
    return f"""SELECT *, {klasse_sql('afwijking')} AS klasse,
                      CASE WHEN afwijking > 0 THEN 'boven' WHEN afwijking < 0 THEN 'onder'
                           WHEN afwijking = 0 THEN 'gelijk' END AS teken
               FROM ({sql}) AS m"""


def _niveau_sql(regio: str | None) -> str:
    if regio is None:
        return "true"
    return f"regio = {engine._lit(regio)}"


def plek_maanden(c, *, per_aanbieder: bool = False, exclude_agb: Iterable[str] = (),
                 regio: str | None = None, gemeente: str | None = None) -> pd.DataFrame:
    """:func:`maanden_sql` with ``klasse`` and ``teken`` as a frame, sorted (reports and
    tests). ``regio`` / ``gemeente`` (``""``: the regio total) select a level."""
    k = _sleutels(per_aanbieder)
    waar = [_niveau_sql(regio)]
    if gemeente is not None:
        waar.append(f"gemeente = {engine._lit(gemeente)}")
    m = met_klasse_sql(maanden_sql(c, per_aanbieder=per_aanbieder, exclude_agb=exclude_agb))
    out = engine.df(c.con, f"SELECT * FROM ({m}) "
                           f"WHERE {' AND '.join(waar)} ORDER BY regio, gemeente, {k}, maand")
    out["jaar"] = out["jaar"].astype("int64")
    out["clienten"] = out["clienten"].astype("int64")
    for col in ("capaciteit", "afwijking"):
        out[col] = out[col].astype("float64")
    return out


def clienten_per_maand(c, *, per_aanbieder: bool = False, exclude_agb: Iterable[str] = ()) -> pd.DataFrame:
    """Distinct clients per month with a toewijzing of the plek product active on at
    least one day of it, per level, productcode (and agb); only months with clients."""
    k = _sleutels(per_aanbieder)
    niet_leeg = " AND ".join(f"{x.strip()} IS NOT NULL" for x in k.split(","))
    tel = rollup(f"SELECT * FROM ({client_maanden_sql(c, exclude_agb)}) WHERE {niet_leeg}",
                 "count(DISTINCT coalesce(client_nr, 0)) AS clienten", by=f"{k}, maand")
    out = engine.df(c.con, f"SELECT * FROM ({tel}) ORDER BY regio, gemeente, {k}, maand")
    out["clienten"] = out["clienten"].astype("int64")
    return out


def kosten_per_client_sql(c, *, per_aanbieder: bool = False, exclude_agb: Iterable[str] = ()) -> str:
    """SQL: plekken x prijs_per_plek / distinct clients in the year (metrics.md section
    7, only where plekken.csv gives the year), per level, productcode (and agb) and
    jaar. Clients: active on at least one day of the year inside [start, peildatum).
    Columns regio, gemeente, productcode, [agb], jaar, plek_kosten_cent, clienten,
    kosten_per_client_cent."""
    k = _sleutels(per_aanbieder)
    niet_leeg = " AND ".join(f"{x.strip()} IS NOT NULL" for x in k.split(","))
    tel = rollup(f"SELECT *, year(maand) AS jaar FROM ({client_maanden_sql(c, exclude_agb)}) WHERE {niet_leeg}",
                 "count(DISTINCT client_nr) AS clienten", by=f"{k}, jaar")
    return f"""
        SELECT t.regio, t.gemeente, {', '.join(f't.{x.strip()}' for x in k.split(','))}, t.jaar,
               p.plek_kosten_cent, t.clienten, p.plek_kosten_cent / t.clienten AS kosten_per_client_cent
        FROM ({tel}) t JOIN ({plekken_sql(c, exclude_agb, per_aanbieder)}) p USING ({k}, jaar)"""


def kosten_per_client_tabel(c, *, per_aanbieder: bool = False, exclude_agb: Iterable[str] = (),
                            regio: str | None = None, gemeente: str | None = None) -> pd.DataFrame:
    """:func:`kosten_per_client_sql` as a frame (``regio``, ``gemeente`` select a level)."""
    k = _sleutels(per_aanbieder)
    waar = [_niveau_sql(regio)]
    if gemeente is not None:
        waar.append(f"gemeente = {engine._lit(gemeente)}")
    k_sql = kosten_per_client_sql(c, per_aanbieder=per_aanbieder, exclude_agb=exclude_agb)
    out = engine.df(c.con, f"SELECT * FROM ({k_sql}) "
                           f"WHERE {' AND '.join(waar)} ORDER BY regio, gemeente, {k}, jaar")
    out["jaar"] = out["jaar"].astype("int64")
    out["clienten"] = out["clienten"].astype("int64")
    for col in ("plek_kosten_cent", "kosten_per_client_cent"):
        out[col] = out[col].astype("float64")
    return out


# --------------------------------------------------------------------------- report tables (pandas)

def bezetting_tabel(maanden: pd.DataFrame, per: str = "jaar") -> pd.DataFrame:
    """Per series of a :func:`plek_maanden` frame and period: ``bezetting`` = mean over
    the months of clients / capacity, ``maanden``, ``maanden_aansluitend`` (share of
    months in class aansluitend) and the months per class. Months without a capacity
    are left out (the KPIs plek_bezetting and plek_maanden_aansluitend)."""
    from ._common import period_label

    keys = [c for c in ("regio", "gemeente", "productcode", "agb") if c in maanden.columns]
    cols = keys + ["periode", "maanden", "bezetting", "maanden_aansluitend"] + list(KLASSEN)
    m = maanden[pd.to_numeric(maanden["capaciteit"]).fillna(0).to_numpy(dtype=float) > 0]
    if len(m) == 0:
        return pd.DataFrame(columns=cols)
    f = m[keys].copy()
    f["periode"] = period_label(pd.to_datetime(m["maand"]).reset_index(drop=True), per).to_numpy()
    f["ratio"] = m["clienten"].to_numpy(dtype=float) / m["capaciteit"].to_numpy(dtype=float)
    for kl in KLASSEN:
        f[kl] = (m["klasse"].astype(schema.S) == kl).fillna(False).to_numpy(dtype=np.int64)
    g = f.groupby(keys + ["periode"], observed=True).agg(
        maanden=("ratio", "size"), bezetting=("ratio", "mean"), **{kl: (kl, "sum") for kl in KLASSEN}).reset_index()
    g["maanden_aansluitend"] = g[AANSLUITEND] / g["maanden"]
    return g[cols]


def klassen_telling(maanden: pd.DataFrame) -> pd.DataFrame:
    """Months per class and sign, per series (productcode[, agb]) and level: the
    conclusion in numbers of reports.md item 4."""
    keys = [c for c in ("regio", "gemeente", "productcode", "agb") if c in maanden.columns]
    cols = keys + ["klasse", "teken", "maanden"]
    m = maanden[maanden["klasse"].notna()]
    if len(m) == 0:
        return pd.DataFrame(columns=cols)
    return m.groupby(keys + ["klasse", "teken"], observed=True).size().rename("maanden").reset_index()[cols]


def rapport(c, params=None, *, regio: str | None = None, exclude_agb: Iterable[str] = ()) -> dict:
    """Everything the Plekfinanciering report (reports.md item 4) shows, for one regio
    (``None``: Nederland, all regions together), as a dict: ``maanden`` (per product,
    :func:`plek_maanden`), ``maanden_aanbieder`` (per product and aanbieder),
    ``bezetting`` (per year, :func:`bezetting_tabel`), ``klassen``
    (:func:`klassen_telling`), ``kosten_per_client`` (only with plekken.csv) and
    ``heeft_plekken`` (capacity from plekken.csv rather than the yearly mean)."""
    if params is not None and params != c.params:
        c = c.met_params(params)
    niveau = dict(regio=regio if regio is not None else config.NEDERLAND, gemeente="")
    m = plek_maanden(c, exclude_agb=exclude_agb, **niveau)
    ma = plek_maanden(c, per_aanbieder=True, exclude_agb=exclude_agb, **niveau)
    n_pl = c.con.execute("SELECT count(*) FROM ref_plekken").fetchall()[0][0]
    return {
        "maanden": m,
        "maanden_aanbieder": ma,
        "bezetting": bezetting_tabel(m, "jaar"),
        "klassen": klassen_telling(m),
        "kosten_per_client": kosten_per_client_tabel(c, exclude_agb=exclude_agb, **niveau),
        "heeft_plekken": n_pl > 0,
    }


# --------------------------------------------------------------------------- KPIs

def _bezetting_kpi(c, waarde: str) -> pd.DataFrame:
    """Rows of a bezetting KPI: ``waarde`` over the months with a capacity of a plek
    product per level and period (dimension ``productcode=...``); ``n_clienten`` =
    the product's distinct clients in the period."""
    per = c.params.per
    m = f"""SELECT *, {label_sql('maand', per)} AS periode, clienten / capaciteit AS ratio
            FROM ({met_klasse_sql(maanden_sql(c))}) WHERE capaciteit > 0"""
    n = rollup(f"""SELECT *, {label_sql('maand', per)} AS periode FROM ({client_maanden_sql(c)})
                   WHERE productcode IS NOT NULL""", "count(DISTINCT client_nr) AS n_clienten",
               by="productcode, periode")
    return rows(c, f"""
        SELECT m.regio, m.gemeente, m.periode, 'productcode=' || m.productcode AS dimensie, {waarde} AS waarde,
               coalesce(any_value(n.n_clienten), 0) AS n_clienten
        FROM ({m}) m LEFT JOIN ({n}) n USING (regio, gemeente, productcode, periode)
        GROUP BY m.regio, m.gemeente, m.periode, m.productcode""")


@kpi(eenheid="fractie", groep=GROEP, label="Bezetting plekken", dimensies=("productcode",), basis="clienten",
     bron="metrics.md 7")
def plek_bezetting(c):
    """Mean over the months of the period of clients / capacity, per plek product.

    Capacity: plekken of plekken.csv for the year (summed over aanbieders), else the
    yearly mean of the monthly client counts (:func:`maanden_sql`); months without a
    capacity are left out. ``n_clienten``: the product's distinct clients in the period."""
    return _bezetting_kpi(c, f"{som('m.ratio')} / count(m.ratio)")  # the mean, the same on every run


@kpi(eenheid="fractie", groep=GROEP, label="Maanden aansluitend op capaciteit", dimensies=("productcode",),
     basis="clienten", bron="metrics.md 7")
def plek_maanden_aansluitend(c):
    """Share of the months of the period in class aansluitend (|clients - capacity| / capacity <= 1%), per plek product.

    As :func:`plek_bezetting`."""
    return _bezetting_kpi(c, f"count(*) FILTER (m.klasse = '{AANSLUITEND}') / count(*)")


@kpi(eenheid="euro", groep=GROEP, label="Plekkosten per cliënt", dimensies=("productcode",), basis="clienten",
     bron="metrics.md 7")
def plek_kosten_per_client(c):
    """Plekken x prijs_per_plek / distinct clients in the year, per plek product (only with plekken.csv).

    A yearly figure: rows only when the period is a year. ``n_clienten``: the
    distinct clients in the year."""
    if c.params.per != "jaar":
        return rows(c, "SELECT NULL::VARCHAR AS regio, NULL::VARCHAR AS gemeente, NULL::VARCHAR AS periode, "
                       "NULL::VARCHAR AS dimensie, NULL::DOUBLE AS waarde, NULL::DOUBLE AS n_clienten WHERE false")
    return rows(c, f"""
        SELECT regio, gemeente, jaar::VARCHAR AS periode, 'productcode=' || productcode AS dimensie,
               kosten_per_client_cent / 100.0 AS waarde, clienten AS n_clienten
        FROM ({kosten_per_client_sql(c)}) WHERE kosten_per_client_cent IS NOT NULL""")
