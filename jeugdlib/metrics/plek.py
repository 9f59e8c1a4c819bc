"""Plekfinanciering: clients per month against capacity, deviation class, bezetting.

metrics.md section 7 (Venlo's plek-financed products 2019-2021 in the
Noord-Limburg evaluation). For products with financieringsvorm ``plek``, per
product and optionally per aanbieder:

* :func:`plek_clienten_per_maand` - distinct clients with a toewijzing of the
  product active on at least one day of the month;
* :func:`plek_maanden` - the same with the year's capacity (plekken.csv, else the
  yearly mean of the monthly counts), ``afwijking``, ``klasse`` and ``teken``;
* :func:`plek_bezetting`, :func:`plek_kosten_per_client`, :func:`klassen_telling`;
* :func:`kpis` - ``plek_bezetting``, ``plek_maanden_aansluitend``,
  ``plek_kosten_per_client`` for ``jeugdlib kpi``.

Every function takes ``exclude_agb`` (plus ``params.exclude_agb``): those
aanbieders' toewijzingen and plekken are left out. Vectorised: toewijzingen are
expanded to months with ``np.repeat``, no Python loop per toewijzing or client.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .. import schema
from . import _common
from .trajecten import _agb_mask, _empty_kpis, _eq, _excluded, _is_lower, _kpi_rows, _lower, _without_agb

LEVELS = ("gemeente", "regio", "nederland")
AANSLUITEND = "aansluitend"
AFWIJKING_KLEIN = "afwijking 1-5%"
AFWIJKING_GROOT = "afwijking >5%"
KLASSEN = (AANSLUITEND, AFWIJKING_KLEIN, AFWIJKING_GROOT)
#: Class bounds on |deviation| (metrics.md section 7): <= 1% and <= 5%.
GRENS_AANSLUITEND = 0.01
GRENS_KLEIN = 0.05
_EPS = 1e-12  # (clients - capacity) / capacity is correctly rounded; keep exact 1% / 5% inside


def _month_no(dates) -> np.ndarray:
    return np.asarray(pd.Series(dates).to_numpy(dtype="datetime64[ns]"), dtype="datetime64[M]").astype(np.int64)


def _month_ts(month_no) -> np.ndarray:
    return np.asarray(month_no, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")


def _series_keys(per_aanbieder: bool) -> list[str]:
    return ["regio", "gemeente", "productcode"] + (["agb"] if per_aanbieder else [])


def plek_toewijzingen(toewijzingen: pd.DataFrame, params, exclude_agb: Iterable[str] = ()) -> pd.DataFrame:
    """Toewijzingen of products with financieringsvorm ``plek``, without the excluded aanbieders."""
    t = _without_agb(toewijzingen, _excluded(params, exclude_agb))
    return t[_eq(_lower(t["financieringsvorm"]), "plek")].reset_index(drop=True)


class _ClientMaanden:
    """The (toewijzing x month) rows of the plek toewijzingen as integer codes (plumbing).

    One row per toewijzing of a plek product and calendar month it is active on
    at least one day, months inside [start, peildatum): ``rows`` (position in
    the toewijzingen), ``maand`` (months since 1970-01), codes of regio,
    gemeentecode, productcode, agb and client (missing -1). The counts of
    :func:`plek_clienten_per_maand` & co. are distinct counts on these codes per
    level (:class:`_common.LevelGroups`): no strings are stacked or deduplicated.
    """

    def __init__(self, toewijzingen: pd.DataFrame, params, exclude_agb):
        t = toewijzingen
        keep = _agb_mask(t, _excluded(params, exclude_agb)) & _is_lower(t, "financieringsvorm", "plek")
        pos = np.flatnonzero(keep)
        lo = np.datetime64(params.start_ts.to_datetime64(), "ns")
        hi = np.datetime64((params.peil_ts - pd.Timedelta(days=1)).to_datetime64(), "ns")
        s = np.maximum(t["ingangsdatum"].to_numpy(dtype="datetime64[ns]")[pos], lo)
        e = np.minimum(t["einddatum_eff"].to_numpy(dtype="datetime64[ns]")[pos], hi)
        ok = s <= e
        pos, s, e = pos[ok], s[ok], e[ok]
        m0, m1 = _month_no(s), _month_no(e)
        n = (m1 - m0 + 1).astype(np.int64)
        rep = np.repeat(np.arange(len(pos)), n)
        offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        self.rows = pos[rep]
        self.maand = m0[rep] + offs
        self.m_lo = int(_month_no([params.start_ts])[0])
        self.nm = int(_month_no([params.peil_ts - pd.Timedelta(days=1)])[0]) - self.m_lo + 1
        self.t = t
        self.regio = _common.column_codes(t, "regio")
        self.gemeente = _common.column_codes(t, "gemeentecode")
        self.product = _common.column_codes(t, "productcode")
        self.agb = _common.column_codes(t, "agb")
        cl = _common.client_codes(t)[self.rows]
        self.client = cl
        # drop_duplicates keeps one row for a missing client id: it counts as one client there
        self.client_na_telt = np.where(cl < 0, int(cl.max()) + 1 if len(cl) else 0, cl)

    def tel(self, per_aanbieder: bool, levels, tijd: np.ndarray, nt: int, na_telt: bool) -> pd.DataFrame:
        """Distinct clients per level x productcode [x agb] x ``tijd`` (an int per row in
        0..nt-1, -1 = none): regio, gemeente, productcode, [agb], ``_t``, ``clienten``;
        groups with a missing key are left out (as ``groupby`` does)."""
        pc, pu = self.product
        p = pc[self.rows]
        if per_aanbieder:
            ac, au = self.agb
            a = ac[self.rows]
            na = max(len(au), 1)
        else:
            a, na, au = np.zeros(len(p), dtype=np.int64), 1, None
        mask = (p >= 0) & (a >= 0) & (tijd >= 0)
        key = (p * na + a) * nt + tijd
        rc, ru = self.regio
        gc, gu = self.gemeente
        lg = _common.LevelGroups(rc[self.rows], ru, gc[self.rows], gu, key, max(len(pu), 1) * na * nt, mask)
        f = lg.frame(levels, clienten=lg.nunique(lg.take(self.client_na_telt if na_telt else self.client)))
        k = f["_key"].to_numpy()
        out = pd.DataFrame({"regio": f["regio"].astype(schema.S), "gemeente": f["gemeente"].astype(schema.S),
                            "productcode": np.asarray(pu, dtype=object)[(k // nt) // na]})
        if per_aanbieder:
            out["agb"] = np.asarray(au, dtype=object)[(k // nt) % na]
        out["_t"] = k % nt
        out["clienten"] = f["clienten"].to_numpy().astype(np.int64)
        return out

    def per_maand(self, per_aanbieder: bool, levels) -> pd.DataFrame:
        """``groupby(keys + ["maand"]).size()`` of the deduplicated client months, sorted."""
        f = self.tel(per_aanbieder, levels, self.maand - self.m_lo, self.nm, True)
        f["maand"] = f.pop("_t").to_numpy() + self.m_lo
        keys = _series_keys(per_aanbieder)
        f = f[keys + ["maand", "clienten"]]
        return f.sort_values(keys + ["maand"], kind="mergesort").reset_index(drop=True)

    def per_label(self, per_aanbieder: bool, levels, labels: np.ndarray, name: str) -> pd.DataFrame:
        """Distinct (non-missing) clients per level x series x ``labels[month]``, where
        ``labels`` gives a label for each month of the window; sorted by keys and label."""
        lab_c, lab_u = pd.factorize(labels)
        tijd = np.asarray(lab_c, dtype=np.int64)[self.maand - self.m_lo]
        f = self.tel(per_aanbieder, levels, tijd, max(len(lab_u), 1), False)
        f[name] = np.asarray(lab_u, dtype=object)[f.pop("_t").to_numpy()]
        keys = _series_keys(per_aanbieder)
        f = f[keys + [name, "clienten"]]
        return f.sort_values(keys + [name], kind="mergesort").reset_index(drop=True)

    def maand_ts(self) -> pd.Series:
        """The first day of every month of the window."""
        return pd.Series(_month_ts(np.arange(self.nm) + self.m_lo))


def _client_maanden(toewijzingen: pd.DataFrame, params, exclude_agb, per_aanbieder: bool,
                    levels) -> pd.DataFrame:
    """One row per (level, productcode[, agb], maand, client) with the client active
    on at least one day of the month, months inside [start, peildatum).
    (Materialised from :class:`_ClientMaanden`; the metrics use its counts directly.)"""
    cm = _ClientMaanden(toewijzingen, params, exclude_agb)
    keys = _series_keys(per_aanbieder)
    t = cm.t
    base = {"regio": t["regio"].to_numpy()[cm.rows], "gemeentecode": t["gemeentecode"].to_numpy()[cm.rows],
            "productcode": t["productcode"].to_numpy()[cm.rows], "client_id": t["client_id"].to_numpy()[cm.rows],
            "maand": cm.maand}
    if per_aanbieder:
        base["agb"] = t["agb"].to_numpy()[cm.rows]
    if len(cm.rows) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=schema.S) for c in keys + ["client_id"]}
                            | {"maand": pd.Series([], dtype=np.int64)})
    s_ = _common.stack_levels(pd.DataFrame(base), levels=levels)
    return s_.drop_duplicates(keys + ["maand", "client_id"]).reset_index(drop=True)


def plek_clienten_per_maand(toewijzingen: pd.DataFrame, params, *, per_aanbieder: bool = False,
                            exclude_agb: Iterable[str] = (), levels: tuple[str, ...] = LEVELS) -> pd.DataFrame:
    """Distinct clients per month with a toewijzing of the plek product active on at
    least one day of the month (metrics.md section 7), per group level,
    productcode (and agb when ``per_aanbieder``). Only months with clients.
    Columns: regio, gemeente, productcode, [agb], maand (first day), clienten.
    """
    g = _ClientMaanden(toewijzingen, params, exclude_agb).per_maand(per_aanbieder, levels)
    g["maand"] = pd.Series(_month_ts(g["maand"].to_numpy()), dtype=schema.D)
    g["clienten"] = g["clienten"].astype(np.int64)
    return g


def _plekken_per_jaar(plekken: pd.DataFrame | None, params, exclude_agb, per_aanbieder: bool) -> pd.DataFrame:
    """plekken and plekken x prijs per (productcode[, agb], jaar)."""
    keys = ["productcode"] + (["agb"] if per_aanbieder else []) + ["jaar"]
    if plekken is None or len(plekken) == 0:
        return pd.DataFrame({c: [] for c in keys + ["plekken", "plek_kosten_cent"]})
    p = _without_agb(plekken, _excluded(params, exclude_agb))
    f = pd.DataFrame({"productcode": p["productcode"].astype(schema.S).to_numpy(),
                      "agb": p["agb"].astype(schema.S).to_numpy(),
                      "jaar": pd.to_numeric(p["jaar"]).to_numpy(dtype=np.int64),
                      "plekken": pd.to_numeric(p["plekken"]).to_numpy(dtype=float, na_value=np.nan)})
    prijs = pd.to_numeric(p["prijs_per_plek_cent"]).to_numpy(dtype=float, na_value=np.nan)
    f["plek_kosten_cent"] = f["plekken"].to_numpy() * prijs
    return f.groupby(keys, observed=True)[["plekken", "plek_kosten_cent"]].sum(min_count=1).reset_index()


def klasse_van(afwijking) -> tuple[np.ndarray, np.ndarray]:
    """Deviation class and sign (metrics.md section 7): ``aansluitend`` when
    |afwijking| <= 1%, ``afwijking 1-5%`` when 1% < |afwijking| <= 5%, else
    ``afwijking >5%``; sign ``boven`` (> 0), ``onder`` (< 0) or ``gelijk`` (0).
    Missing deviation (capacity 0 or unknown) gives empty class and sign."""
    a = np.asarray(afwijking, dtype=float)
    absa = np.abs(a)
    klasse = np.where(absa <= GRENS_AANSLUITEND + _EPS, AANSLUITEND,
                      np.where(absa <= GRENS_KLEIN + _EPS, AFWIJKING_KLEIN, AFWIJKING_GROOT)).astype(object)
    teken = np.where(a > 0, "boven", np.where(a < 0, "onder", "gelijk")).astype(object)
    nan = ~np.isfinite(a)
    klasse[nan] = None
    teken[nan] = None
    return klasse, teken


def plek_maanden(toewijzingen: pd.DataFrame, plekken: pd.DataFrame | None, params, *,
                 per_aanbieder: bool = False, exclude_agb: Iterable[str] = (),
                 levels: tuple[str, ...] = LEVELS, cm: "_ClientMaanden | None" = None) -> pd.DataFrame:
    """Clients per month against the year's capacity (metrics.md section 7).

    Months of a series (level, productcode[, agb]): from its first to its last
    month with clients (months between with none count 0), plus every month of a
    year for which plekken.csv gives capacity, inside [start, peildatum).

    * ``capaciteit``: ``plekken`` for that year (and aanbieder; summed over the
      aanbieders for the product total), ``capaciteit_bron`` = ``plekken``; where
      plekken.csv has no row for it, the mean of the series' monthly counts in
      that year (``jaargemiddelde``). plekken.csv holds no gemeente, so the same
      plekken apply at every group level.
    * ``afwijking`` = (clienten - capaciteit) / capaciteit (NaN when capacity is 0);
      ``klasse`` and ``teken`` from :func:`klasse_van`.

    Columns: regio, gemeente, productcode, [agb], maand, jaar, clienten,
    capaciteit, capaciteit_bron, afwijking, klasse, teken.
    """
    keys = _series_keys(per_aanbieder)
    if cm is None:
        cm = _ClientMaanden(toewijzingen, params, exclude_agb)
    cnt = cm.per_maand(per_aanbieder, levels)
    out_cols = keys + ["maand", "jaar", "clienten", "capaciteit", "capaciteit_bron", "afwijking", "klasse", "teken"]
    if len(cnt) == 0:
        return pd.DataFrame(columns=out_cols)
    w0 = int(_month_no([params.start_ts])[0])
    w1 = int(_month_no([params.peil_ts - pd.Timedelta(days=1)])[0])
    # Grid 1: first..last month with clients per series.
    span = cnt.groupby(keys, observed=True)["maand"].agg(["min", "max"]).reset_index()
    n = (span["max"] - span["min"] + 1).to_numpy(dtype=np.int64)
    rep = np.repeat(np.arange(len(span)), n)
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    grid = span[keys].iloc[rep].reset_index(drop=True)
    grid["maand"] = span["min"].to_numpy()[rep] + offs
    # Grid 2: every month of a year with plekken, for series that exist.
    pl = _plekken_per_jaar(plekken, params, exclude_agb, per_aanbieder)
    pkeys = ["productcode"] + (["agb"] if per_aanbieder else [])
    if len(pl):
        ser = span[keys].merge(pl[pkeys + ["jaar"]], on=pkeys, how="inner")
        if len(ser):
            rep2 = np.repeat(np.arange(len(ser)), 12)
            g2 = ser[keys].iloc[rep2].reset_index(drop=True)
            g2["maand"] = (ser["jaar"].to_numpy(dtype=np.int64)[rep2] - 1970) * 12 + np.tile(np.arange(12), len(ser))
            g2 = g2[(g2["maand"] >= w0) & (g2["maand"] <= w1)]
            grid = pd.concat([grid, g2], ignore_index=True).drop_duplicates(keys + ["maand"])
    m = grid.merge(cnt, on=keys + ["maand"], how="left")
    m["clienten"] = m["clienten"].fillna(0).astype(np.int64)
    m["jaar"] = (m["maand"] // 12 + 1970).astype(np.int64)
    m["gemiddeld"] = m.groupby(keys + ["jaar"], observed=True)["clienten"].transform("mean").astype(float)
    if len(pl):
        m = m.merge(pl[pkeys + ["jaar", "plekken"]], on=pkeys + ["jaar"], how="left")
    else:
        m["plekken"] = np.nan
    heeft = m["plekken"].notna().to_numpy()
    m["capaciteit"] = np.where(heeft, m["plekken"].to_numpy(dtype=float, na_value=np.nan), m["gemiddeld"].to_numpy())
    m["capaciteit_bron"] = np.where(heeft, "plekken", "jaargemiddelde")
    cap = m["capaciteit"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        afw = np.where(cap > 0, (m["clienten"].to_numpy() - cap) / cap, np.nan)
    m["afwijking"] = afw
    k, s = klasse_van(afw)
    m["klasse"] = pd.Series(k, dtype=schema.S).to_numpy()
    m["teken"] = pd.Series(s, dtype=schema.S).to_numpy()
    m["klasse"] = m["klasse"].astype(schema.S)
    m["teken"] = m["teken"].astype(schema.S)
    m["capaciteit_bron"] = m["capaciteit_bron"].astype(schema.S)
    m["maand"] = pd.Series(_month_ts(m["maand"].to_numpy()), dtype=schema.D).to_numpy()
    return m[out_cols].sort_values(keys + ["maand"], kind="mergesort").reset_index(drop=True)


def _periode_van_maand(maand: pd.Series, per: str) -> pd.Series:
    return _common.period_label(pd.Series(maand).reset_index(drop=True), per)


def plek_bezetting(maanden: pd.DataFrame, per: str = "jaar") -> pd.DataFrame:
    """Per series and period: ``bezetting`` = mean over the months of clients /
    capacity, ``maanden``, ``maanden_aansluitend`` (share of months in class
    aansluitend) and the number of months per class (metrics.md section 7 KPIs
    plek_bezetting and plek_maanden_aansluitend). Months without a capacity are
    left out."""
    keys = [c for c in ("regio", "gemeente", "productcode", "agb") if c in maanden.columns]
    cols = keys + ["periode", "maanden", "bezetting", "maanden_aansluitend"] + list(KLASSEN)
    m = maanden[pd.to_numeric(maanden["capaciteit"]).fillna(0).to_numpy(dtype=float) > 0]
    if len(m) == 0:
        return pd.DataFrame(columns=cols)
    f = m[keys].copy()
    f["periode"] = _periode_van_maand(m["maand"], per).to_numpy()
    f["ratio"] = m["clienten"].to_numpy(dtype=float) / m["capaciteit"].to_numpy(dtype=float)
    for kl in KLASSEN:
        f[kl] = _eq(m["klasse"].astype(schema.S), kl).astype(np.int64)
    g = f.groupby(keys + ["periode"], observed=True).agg(
        maanden=("ratio", "size"), bezetting=("ratio", "mean"), **{kl: (kl, "sum") for kl in KLASSEN}).reset_index()
    g["maanden_aansluitend"] = g[AANSLUITEND] / g["maanden"]
    return g[cols]


def klassen_telling(maanden: pd.DataFrame) -> pd.DataFrame:
    """How many months fell in each class and sign, per series (productcode[, agb])
    and level: the conclusion in numbers of reports.md item 4."""
    keys = [c for c in ("regio", "gemeente", "productcode", "agb") if c in maanden.columns]
    m = maanden[maanden["klasse"].notna()]
    return (m.groupby(keys + ["klasse", "teken"], observed=True).size().rename("maanden").reset_index())


def plek_kosten_per_client(toewijzingen: pd.DataFrame, plekken: pd.DataFrame | None, params, *,
                           per_aanbieder: bool = False, exclude_agb: Iterable[str] = (),
                           levels: tuple[str, ...] = LEVELS, cm: "_ClientMaanden | None" = None) -> pd.DataFrame:
    """plekken x prijs_per_plek / distinct clients in the year (metrics.md section
    7, only with plekken.csv), per level, productcode (and agb) and year. Clients:
    active on at least one day of the year inside [start, peildatum). Columns:
    regio, gemeente, productcode, [agb], jaar, plek_kosten_cent, clienten,
    kosten_per_client_cent."""
    keys = _series_keys(per_aanbieder)
    cols = keys + ["jaar", "plek_kosten_cent", "clienten", "kosten_per_client_cent"]
    pl = _plekken_per_jaar(plekken, params, exclude_agb, per_aanbieder)
    if len(pl) == 0:
        return pd.DataFrame(columns=cols)
    if cm is None:
        cm = _ClientMaanden(toewijzingen, params, exclude_agb)
    jaren = (np.arange(cm.nm, dtype=np.int64) + cm.m_lo) // 12 + 1970
    n = cm.per_label(per_aanbieder, levels, jaren, "jaar")
    n["jaar"] = n["jaar"].astype(np.int64)
    pkeys = ["productcode"] + (["agb"] if per_aanbieder else [])
    g = n.merge(pl, on=pkeys + ["jaar"], how="inner")
    g["kosten_per_client_cent"] = g["plek_kosten_cent"] / g["clienten"]
    return g[cols].reset_index(drop=True)


def kpis(cleaned, params) -> pd.DataFrame:
    """Section 7 KPI rows per plek product (dimension ``productcode=...``):
    ``plek_bezetting`` and ``plek_maanden_aansluitend`` (fractie) per period, and
    ``plek_kosten_per_client`` (euro) per year when plekken.csv is given and
    ``params.per`` is ``jaar``. ``n_clienten`` = distinct clients of the product
    in the period (months inside the analysis window only)."""
    t = cleaned.toewijzingen
    plekken = getattr(cleaned, "plekken", None)
    cm = _ClientMaanden(t, params, ())
    m = plek_maanden(t, plekken, params, cm=cm)
    if len(m) == 0:
        return _empty_kpis()
    b = plek_bezetting(m, params.per)
    perioden = _periode_van_maand(cm.maand_ts(), params.per).to_numpy(dtype=object)
    n = cm.per_label(False, LEVELS, perioden, "periode").rename(columns={"clienten": "n_clienten"})
    keys = ["regio", "gemeente", "productcode", "periode"]
    b = b.merge(n, on=keys, how="left")
    b["n_clienten"] = b["n_clienten"].fillna(0)
    dim = "productcode=" + b["productcode"].astype(str)
    parts = [_kpi_rows(b, "plek_bezetting", "fractie", "bezetting", dimensie=dim),
             _kpi_rows(b, "plek_maanden_aansluitend", "fractie", "maanden_aansluitend", dimensie=dim)]
    if params.per == "jaar":
        k = plek_kosten_per_client(t, plekken, params, cm=cm)
        if len(k):
            k = k[k["kosten_per_client_cent"].notna()].copy()
            k["periode"] = k["jaar"].astype(str)
            k["waarde"] = k["kosten_per_client_cent"] / 100.0
            parts.append(_kpi_rows(k, "plek_kosten_per_client", "euro", "waarde", "clienten",
                                   dimensie="productcode=" + k["productcode"].astype(str)))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["kpi", "regio", "gemeente", "periode", "dimensie"], kind="mergesort").reset_index(drop=True)


def rapport(cleaned, params, *, regio: str | None = None, exclude_agb: Iterable[str] = ()) -> dict:
    """Everything the Plekfinanciering report (reports.md item 4) shows, for one
    regio (``None``: all regions together), as a dict of frames: ``maanden``
    (per product, :func:`plek_maanden`), ``maanden_aanbieder`` (per product and
    aanbieder), ``bezetting`` (per year), ``klassen`` (:func:`klassen_telling`),
    ``kosten_per_client`` (only with plekken.csv), ``heeft_plekken`` (bool: capacity
    from plekken.csv rather than the yearly mean)."""
    t = cleaned.toewijzingen
    pl = getattr(cleaned, "plekken", None)
    levels = ("regio",) if regio is not None else ("nederland",)

    def sel(df):
        if regio is None or len(df) == 0:
            return df.reset_index(drop=True)
        return df[_eq(df["regio"].astype(schema.S), regio)].reset_index(drop=True)

    m = sel(plek_maanden(t, pl, params, exclude_agb=exclude_agb, levels=levels))
    ma = sel(plek_maanden(t, pl, params, per_aanbieder=True, exclude_agb=exclude_agb, levels=levels))
    return {
        "maanden": m,
        "maanden_aanbieder": ma,
        "bezetting": plek_bezetting(m, "jaar"),
        "klassen": klassen_telling(m) if len(m) else pd.DataFrame(columns=["productcode", "klasse", "teken", "maanden"]),
        "kosten_per_client": sel(plek_kosten_per_client(t, pl, params, exclude_agb=exclude_agb, levels=levels)),
        "heeft_plekken": pl is not None and len(pl) > 0,
    }
