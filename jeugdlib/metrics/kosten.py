"""Cost: declared amounts per period (metrics.md section 1).

Input is ``Cleaned.declaraties``: netted items (metrics.md 0.2), each belonging
to the period of its ``periode_begin``. Items without a known toewijzing count
here (the money was declared). Amounts are summed in integer eurocent and
returned in euro. Output columns as in :mod:`jeugdlib.metrics.volume`:
``regio, gemeente, periode, dimensie, waarde, n_clienten``.

The arithmetic runs on integer codes (:class:`Werkset`): sums per gemeente x
period (x dimension) are ``np.bincount`` over one packed key and are rolled up
to regio and Nederland (sums are additive); distinct clients with a positive
amount are counted per level from the (client, period, gemeente) sums. One
factorisation per column, no pandas groupby over the items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config, schema
from . import _common
from .volume import as_kpi, cached, finish

#: Dimensions of ``kosten`` (metrics.md section 1), besides the total.
KOSTEN_DIMENSIES = ("segment", "financieringsvorm", "productgroep", "productcode")

_KEYS = ["regio", "gemeente", "periode"]


class Werkset:
    """The declaration items as integer codes, for fast sums per level (plumbing).

    ``g``: gemeente code per item (``gem_labels``), ``regio_of_g``: regio code of
    each gemeente (``regio_labels``), ``client``: ``client_nr`` (factorised here if
    absent), ``bedrag``: net cent, ``maand``: months since 1970 of periode_begin.
    Other columns are factorised on first use (:meth:`codes`). Results several
    metrics share are memoised in ``memo``; everything is a pure function of the
    declaraties, so caching never changes a result.
    """

    def __init__(self, declaraties: pd.DataFrame):
        self.src = declaraties
        n = len(declaraties)
        self.g, gu = _factorize(declaraties["gemeentecode"], declaraties)
        self.gem_labels = np.asarray(gu, dtype=object)
        # regio of each gemeente: the regio of its first item
        first = np.zeros(len(gu), dtype=np.int64)
        if n:
            first[self.g[::-1]] = np.arange(n)[::-1]
        reg = declaraties["regio"].take(first).astype(object).fillna("onbekend").to_numpy() if len(gu) else []
        self.regio_of_g, ru = pd.factorize(np.asarray(reg, dtype=object))
        self.regio_of_g = self.regio_of_g.astype(np.int64)
        self.regio_labels = np.asarray(ru, dtype=object)
        self.G, self.R = len(self.gem_labels), len(self.regio_labels)
        self.bedrag = declaraties["bedrag_cent"].fillna(0).to_numpy(dtype=np.int64)
        if "client_nr" in declaraties.columns:
            self.client = declaraties["client_nr"].to_numpy(dtype=np.int64)
        else:
            self.client = pd.factorize(declaraties["client_id"])[0].astype(np.int64)
        pb = declaraties["periode_begin"].to_numpy(dtype="datetime64[ns]")
        maand = pb.astype("datetime64[M]").astype(np.int64)
        geen = np.isnat(pb)
        known = maand[~geen]
        self.m_lo = int(known.min()) if len(known) else None
        self.m_hi = int(known.max()) if len(known) else None
        # month of each item as a position in m_lo..m_hi, the last slot for items
        # without a month; and its cell in gemeente x month (both small integers:
        # a periods table becomes a lookup table over them)
        self.nm = (self.m_hi - self.m_lo + 1 if self.m_lo is not None else 0) + 1
        mpos = np.where(geen, self.nm - 1, maand - (self.m_lo or 0))
        del maand
        typ = np.int32 if self.G * self.nm < 2**31 else np.int64
        self.mpos = mpos.astype(typ)
        self.gm = (self.g * self.nm + mpos).astype(typ)
        self._p = {}
        self._bedrag_f = None
        self.memo = {}

    # -- codes and periods
    def codes(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes of a column (missing values get a code of their own, label None);
        from the compact cache of :func:`_common.column_codes`, not kept here as
        int64 (memory: 70 MB per column at national scale)."""
        return _factorize(self.src[col], self.src)

    def periode_index(self, perioden: pd.DataFrame) -> np.ndarray:
        """Index into ``perioden`` of each item's period (-1: outside). Periods are
        whole months, so the item's month decides."""
        # per distinct month of the items (a small table), then looked up; the last
        # periods table's result is kept (metrics ask for the same one again and again)
        k = pkey(perioden)
        if ("index", k) in self._p:
            return self._p[("index", k)]
        idx = self._maand_lut(perioden).astype(np.int32)[self.mpos]
        idx.setflags(write=False)
        self._onthoud(("index", k), idx)
        return idx

    def _maand_lut(self, perioden: pd.DataFrame) -> np.ndarray:
        """Period index (-1: outside) of each month slot of ``mpos`` (the last slot:
        items without a month)."""
        if self.m_lo is None:
            return np.full(self.nm, -1, dtype=np.int64)
        b = perioden["begin"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        e = perioden["eind"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        months = np.arange(self.m_lo, self.m_hi + 1, dtype=np.int64)
        i = np.searchsorted(b, months, side="right") - 1
        ok = (i >= 0) & (months <= e[np.clip(i, 0, None)]) if len(b) else np.zeros(len(months), dtype=bool)
        return np.append(np.where(ok, i, -1), -1)

    def _gp(self, perioden: pd.DataFrame) -> np.ndarray:
        """gemeente x period cell of each item (-1: outside the periods); the last
        periods tables' results are kept."""
        k = pkey(perioden)
        if ("gp", k) not in self._p:
            lut = self._maand_lut(perioden)
            P = len(perioden)
            cell = np.arange(self.G, dtype=np.int64)[:, None] * P + lut[None, :]
            cell = np.where(lut[None, :] >= 0, cell, -1).ravel()  # gemeente x month slot -> cell
            typ = np.int32 if self.G * P < 2**31 else np.int64  # memory; bincount and indexing take it
            gp = cell.astype(typ)[self.gm]
            gp.setflags(write=False)
            self._onthoud(("gp", k), gp)
        return self._p[("gp", k)]

    def _onthoud(self, key, arr: np.ndarray, n: int = 4) -> None:
        """Keep ``arr`` (an item-length array of one periods table) among the last
        ``n`` such arrays (memory: each is as long as the declaraties)."""
        self._p[key] = arr
        while len(self._p) > n:
            del self._p[next(iter(self._p))]

    # -- sums
    def som(self, perioden: pd.DataFrame, by: np.ndarray | None = None, n_by: int = 1,
            mask: np.ndarray | None = None, gewicht: np.ndarray | None = None, tellen: bool = True):
        """Sum of ``gewicht`` (default the net cent) and the item count per
        gemeente x period x ``by``: arrays of shape (G, P, n_by); the count is None
        unless ``tellen``."""
        P = len(perioden)
        gp = self._gp(perioden)
        sel = gp >= 0
        if mask is not None:
            sel &= mask
        alle = bool(sel.all())  # then no copies of the columns
        key = gp if alle else gp[sel]
        if by is not None or n_by != 1:
            key = key.astype(np.int64)  # gp may be int32: no overflow in the packed key
        if by is not None:
            key = key * n_by + (by if alle else by[sel])
        elif n_by != 1:
            key = key * n_by
        if gewicht is None:
            if self._bedrag_f is None:
                self._bedrag_f = self.bedrag.astype(np.float64)
            w = self._bedrag_f
        else:
            w = np.asarray(gewicht).astype(np.float64)
        w = w if alle else w[sel]
        size = self.G * P * n_by
        s = np.bincount(key, weights=w, minlength=size).reshape(self.G, P, n_by)
        c = np.bincount(key, minlength=size).reshape(self.G, P, n_by) if tellen else None
        return s, c

    def rollup(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(gemeente, regio, Nederland) versions of an additive (G, ...) array."""
        r = np.zeros((self.R,) + arr.shape[1:], dtype=arr.dtype)
        np.add.at(r, self.regio_of_g, arr)
        return arr, r, arr.sum(axis=0)

    def clienten_pos(self, perioden: pd.DataFrame, by: np.ndarray | None = None, n_by: int = 1):
        """Distinct clients with a positive net amount per level x period x ``by``:
        arrays (G, P, n_by), (R, P, n_by), (P, n_by). The amount is summed per
        client within each level (a client's credit in one gemeente and debet in
        another count separately in the gemeenten, netted in the regio)."""
        P = len(perioden)
        p = self.periode_index(perioden)
        sel = p >= 0
        e = by[sel] if by is not None else np.zeros(int(sel.sum()), np.int64)
        base = (self.client[sel] * P + p[sel]) * n_by + e  # client x period x by
        # gemeente level
        k, u = pd.factorize(base * self.G + self.g[sel])
        s = np.bincount(k, weights=self.bedrag[sel].astype(np.float64), minlength=len(u))
        g_u, b_u = u % self.G, u // self.G
        out_g = _count_pos(s, (g_u * P + (b_u // n_by) % P) * n_by + b_u % n_by, self.G * P * n_by)
        # regio level from the gemeente-level sums
        k2, u2 = pd.factorize(b_u * self.R + self.regio_of_g[g_u])
        s2 = np.bincount(k2, weights=s, minlength=len(u2))
        r_u, b2 = u2 % self.R, u2 // self.R
        out_r = _count_pos(s2, (r_u * P + (b2 // n_by) % P) * n_by + b2 % n_by, self.R * P * n_by)
        # Nederland from the regio-level sums
        k3, u3 = pd.factorize(b2)
        s3 = np.bincount(k3, weights=s2, minlength=len(u3))
        out_n = _count_pos(s3, ((u3 // n_by) % P) * n_by + u3 % n_by, P * n_by)
        return (out_g.reshape(self.G, P, n_by), out_r.reshape(self.R, P, n_by), out_n.reshape(P, n_by))

    # -- shaping
    def frame(self, perioden: pd.DataFrame, values: dict, by_labels=None) -> pd.DataFrame:
        """Long frame (regio, gemeente, periode[, by], one column per value) from
        level arrays ``values[name] = (arr_g, arr_r, arr_n)`` of shapes (G, P, E),
        (R, P, E), (P, E): every level x period x by value."""
        P = len(perioden)
        first = next(iter(values.values()))
        E = first[0].shape[2]
        plab = perioden["periode"].to_numpy(dtype=object)
        regio = np.concatenate([self.regio_labels[self.regio_of_g], self.regio_labels,
                                np.array([config.NEDERLAND], dtype=object)])
        gem = np.concatenate([self.gem_labels, np.full(self.R + 1, "", dtype=object)])
        L = len(regio)
        out = pd.DataFrame({
            "regio": np.repeat(regio, P * E), "gemeente": np.repeat(gem, P * E),
            "periode": np.tile(np.repeat(plab, E), L),
        })
        if by_labels is not None:
            out["_by"] = np.tile(np.asarray(by_labels, dtype=object), L * P)
        for name, (a, b, c) in values.items():
            out[name] = np.concatenate([a.reshape(-1), b.reshape(-1), c.reshape(-1)])
        for c in ("regio", "gemeente", "periode"):
            out[c] = out[c].astype(schema.S)
        return out

    # -- shared results
    def totaal(self, perioden: pd.DataFrame):
        """(kosten cent, clients with positive kosten) as level arrays (E = 1)."""
        k = ("tot", pkey(perioden))
        if k not in self.memo:
            s, _ = self.som(perioden, tellen=False)
            self.memo[k] = (self.rollup(s), self.clienten_pos(perioden))
        return self.memo[k]

    def per_agb(self, perioden: pd.DataFrame):
        """Net cent and item counts per level x period x aanbieder: arrays (., P, A)."""
        k = ("agb", pkey(perioden))
        if k not in self.memo:
            a, labels = self.codes("agb")
            s, c = self.som(perioden, a, len(labels))
            self.memo[k] = (self.rollup(s), self.rollup(c))
        return self.memo[k]




def _factorize(s: pd.Series, frame: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes (missing -> its own last code, label None) and labels of a column. With
    ``frame`` (``s`` is a column of it) the cached codes of
    :func:`_common.column_codes` are used, shared with the other metric modules."""
    if frame is not None:
        c, labels = _common.column_codes(frame, s.name)
    else:
        c, u = pd.factorize(s, use_na_sentinel=True)
        c = np.asarray(c, dtype=np.int64)
        labels = np.asarray(pd.Index(u).astype(object), dtype=object)
    if (c < 0).any():
        c = np.where(c < 0, len(labels), c)
        labels = np.append(labels, None)
    return c, labels


def _count_pos(sums: np.ndarray, cell: np.ndarray, size: int) -> np.ndarray:
    pos = sums > 0
    return np.bincount(cell[pos], minlength=size).astype(np.float64)


def werkset(declaraties: pd.DataFrame) -> Werkset:
    """The :class:`Werkset` of ``declaraties``, built once per frame (cached while
    the frame lives)."""
    if isinstance(declaraties, Werkset):
        return declaraties
    return cached(declaraties, "declaraties", Werkset)


def dim_value(s, name: str) -> pd.Series:
    """``name=value`` dimension labels; empty or missing values -> ``name=onbekend``."""
    v = pd.Series(s).astype(schema.S).fillna("").str.strip()
    v = v.where(v != "", "onbekend")
    return (name + "=" + v).astype(schema.S)


def euro(cent):
    """Cent -> euro (float)."""
    return np.asarray(cent, dtype=np.float64) / 100.0


def pkey(perioden: pd.DataFrame) -> tuple:
    """A hashable identity of a periods table (labels and bounds)."""
    return tuple(zip(perioden["periode"], perioden["begin"], perioden["eind"]))


# --------------------------------------------------------------------------- metrics

def kosten(declaraties: pd.DataFrame, perioden: pd.DataFrame, dimensie: str | None = None) -> pd.DataFrame:
    """``kosten`` (metrics.md section 1): sum of net declared amounts (euro) of the
    items whose periode_begin lies in the period.

    ``dimensie``: None for the total, or one of ``segment``, ``financieringsvorm``,
    ``productgroep``, ``productcode`` (rows ``name=value``; missing -> ``onbekend``;
    only the values that occur in the level and period). Money totals have no
    client basis for suppression (``n_clienten`` empty). The total has a row
    for every level and period (0 when nothing was declared).
    """
    ws = werkset(declaraties)
    if not dimensie:
        (g, r, n), _ = ws.totaal(perioden)
        f = ws.frame(perioden, {"cent": (g, r, n)})
        f["waarde"] = euro(f["cent"])
        return finish(f)
    codes, labels = ws.codes(dimensie)
    s, c = ws.som(perioden, codes, len(labels))
    f = ws.frame(perioden, {"cent": ws.rollup(s), "n": ws.rollup(c)}, by_labels=labels)
    f = f[f["n"] > 0].copy()
    f["waarde"] = euro(f["cent"])
    f["dimensie"] = dim_value(f["_by"], dimensie).to_numpy()
    return finish(f)


def kosten_per_client(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``kosten_per_client`` (metrics.md section 1): ``kosten`` / distinct clients with
    a positive net declared amount in the period (per level: the client's net
    amount within that gemeente, regio or Nederland). ``n_clienten`` = that
    denominator; no row without such clients."""
    ws = werkset(declaraties)
    tot, cl = ws.totaal(perioden)
    f = ws.frame(perioden, {"cent": tot, "n": cl})
    f = f[f["n"] > 0].copy()
    f["waarde"] = euro(f["cent"]) / f["n"]
    f["n_clienten"] = f["n"]
    return finish(f)


def aanbieders(declaraties: pd.DataFrame, perioden: pd.DataFrame) -> pd.DataFrame:
    """``aanbieders`` (metrics.md section 1): distinct AGB codes whose net declared
    amount in the period (within the level) is positive. Not client-based."""
    ws = werkset(declaraties)
    (g, r, n), _ = ws.per_agb(perioden)
    f = ws.frame(perioden, {"waarde": tuple((x > 0).sum(axis=-1, keepdims=True).astype(float) for x in (g, r, n))})
    return finish(f)


def kosten_groei(declaraties: pd.DataFrame, jaren: pd.DataFrame) -> pd.DataFrame:
    """``kosten_groei`` (metrics.md section 1): kosten(year) / kosten(year - 1) - 1,
    only when both years are complete (not voorlopig) and in ``jaren`` (a yearly
    periods table). Empty when kosten(year - 1) is not positive."""
    k = kosten(declaraties, jaren)
    compleet = set(jaren.loc[~jaren["voorlopig"], "periode"])
    k = k[k["periode"].isin(compleet)].copy()
    k["jaar"] = k["periode"].astype("int64")
    prev = k[["regio", "gemeente", "jaar", "waarde"]].copy()
    prev["jaar"] += 1
    m = k.merge(prev, on=["regio", "gemeente", "jaar"], suffixes=("", "_vorig"))
    m = m[m["waarde_vorig"] > 0]
    m["waarde"] = m["waarde"] / m["waarde_vorig"] - 1
    return finish(m.drop(columns=["n_clienten", "dimensie"]))


def _ytd(declaraties: pd.DataFrame, jaar: int, m: int) -> pd.DataFrame:
    """Kosten (euro) of the first ``m`` months of ``jaar`` per level (column ``waarde``)."""
    ws = werkset(declaraties)
    per = pd.DataFrame({"periode": [str(jaar)], "begin": [pd.Timestamp(jaar, 1, 1)],
                        "eind": [pd.Timestamp(jaar, 1, 1) + pd.DateOffset(months=m) - pd.Timedelta(days=1)]})
    s, _ = ws.som(per, tellen=False)
    f = ws.frame(per, {"cent": ws.rollup(s)})
    f["waarde"] = euro(f["cent"])
    return f[_KEYS + ["waarde"]]


def hele_maanden(peildatum) -> int:
    """Whole months from 1 January of the peildatum's year to the peildatum
    (exclusive): 2024-08-01 -> 7, 2024-08-15 -> 7, 2024-01-01 -> 0."""
    return pd.Timestamp(peildatum).month - 1


def kosten_prognose_lineair(declaraties: pd.DataFrame, peildatum) -> pd.DataFrame:
    """``kosten_prognose_lineair`` (metrics.md section 1): for the year holding the
    peildatum, kosten year-to-date x 12 / m, with m the whole months from 1 January
    to the peildatum. Year-to-date = the items with periode_begin in those m
    months (so a peildatum in mid-month does not add a part month to m whole
    months). Empty when m = 0 (peildatum in January)."""
    peil = pd.Timestamp(peildatum)
    m = hele_maanden(peil)
    if m == 0:
        return finish(pd.DataFrame(columns=_KEYS + ["waarde"]))
    y = _ytd(declaraties, peil.year, m)
    y["waarde"] = y["waarde"] * 12 / m
    return finish(y)


def kosten_prognose_seizoen(declaraties: pd.DataFrame, peildatum) -> pd.DataFrame:
    """``kosten_prognose_seizoen`` (metrics.md section 1): kosten year-to-date /
    (share of the previous year's kosten that fell in its first m months), m as
    in :func:`kosten_prognose_lineair`. Empty where the previous year has no
    positive kosten in its first m months or in total."""
    peil = pd.Timestamp(peildatum)
    m = hele_maanden(peil)
    if m == 0:
        return finish(pd.DataFrame(columns=_KEYS + ["waarde"]))
    y = _ytd(declaraties, peil.year, m)
    p_m = _ytd(declaraties, peil.year - 1, m)["waarde"].to_numpy()
    p_all = _ytd(declaraties, peil.year - 1, 12)["waarde"].to_numpy()
    ok = (p_m > 0) & (p_all > 0)
    y = y[ok].copy()
    y["waarde"] = y["waarde"] / (p_m[ok] / p_all[ok])
    return finish(y)


# --------------------------------------------------------------------------- KPI rows

def kpis(cleaned, params) -> pd.DataFrame:
    """KPI rows of metrics.md section 1 (cost): aanbieders, kosten (total and per
    segment, financieringsvorm, productgroep, productcode), kosten_per_client,
    kosten_groei, kosten_prognose_lineair, kosten_prognose_seizoen (euro)."""
    dec = cleaned.declaraties
    per = _common.periods(params.start, params.peildatum, params.per)
    jaren = _common.periods(params.start, params.peildatum, "jaar")
    parts = [as_kpi(aanbieders(dec, per), "aanbieders", "aantal"),
             as_kpi(kosten(dec, per), "kosten", "euro")]
    parts += [as_kpi(kosten(dec, per, dim), "kosten", "euro") for dim in KOSTEN_DIMENSIES]
    parts += [
        as_kpi(kosten_per_client(dec, per), "kosten_per_client", "euro"),
        as_kpi(kosten_groei(dec, jaren), "kosten_groei", "fractie"),
        as_kpi(kosten_prognose_lineair(dec, params.peildatum), "kosten_prognose_lineair", "euro"),
        as_kpi(kosten_prognose_seizoen(dec, params.peildatum), "kosten_prognose_seizoen", "euro"),
    ]
    return pd.concat(parts, ignore_index=True)
