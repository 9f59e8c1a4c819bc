"""Cost: declared amounts per period (metrics.md section 1).

Input is ``Cleaned.declaraties``: netted items (metrics.md 0.2), each belonging
to the period of its ``periode_begin``. Items without a known toewijzing count
here (the money was declared). Amounts are summed in integer eurocent and
returned in euro. Output columns as in :mod:`jeugdlib.metrics.volume`:
``regio, gemeente, periode, dimensie, waarde, n_clienten``.

The arithmetic runs on integer codes (:class:`Werkset`): sums per gemeente x
period (x dimension) are ``np.bincount`` over one packed key and are rolled up
to regio and Nederland (sums are additive); the small columns (segment,
financieringsvorm, productgroep, productcode, ...) share one combined table made
in one pass over the items. Distinct clients with a positive amount are counted
per level from one aggregation per (client, period, gemeente, segment, aanbieder),
which also gives the sums per aanbieder. No pandas groupby over the items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config, schema
from ..clean import combine_keys, first_positions
from . import _common
from .volume import as_kpi, cached, finish, in_meer_eenheden

#: Dimensions of ``kosten`` (metrics.md section 1), besides the total.
KOSTEN_DIMENSIES = ("segment", "financieringsvorm", "productgroep", "productcode")

_KEYS = ["regio", "gemeente", "periode"]


#: The flag column of :meth:`Werkset.som`: code 1 for items of aanbieders not
#: contracted on periode_begin (``gecontracteerd`` false or missing), else 0.
NGA = "nga"

#: The columns :meth:`Werkset.clienten_pos` splits by from one shared aggregation.
KLANT_KOLOMMEN = ("segment", "agb")

#: The small columns of the combined month table (:meth:`Werkset._kombi`): every
#: distinct combination of their values is one code, and one pass over the items sums
#: per gemeente x month x combination; the tables per column are sums over it.
KLEINE_KOLOMMEN = ("segment", "financieringsvorm", "productgroep", "productcode", "variant",
                   "aanbieder_type", NGA)

#: Month tables of :meth:`Werkset.som` up to this many cells (gemeente x month x
#: values); beyond it (e.g. per aanbieder) the sums are made per period directly.
_MAAND_CELLEN = 2**23


class Werkset:
    """The declaration items as integer codes, for fast sums per level (plumbing).

    ``gem_labels``: the gemeenten, ``regio_of_g``: regio code of each gemeente
    (``regio_labels``), ``client``: ``client_nr`` (factorised here if absent),
    ``bedrag_f``: net cent as float64, ``gm``: the item's cell in gemeente (code
    into ``gem_labels``) x month slot (months ``m_lo..m_hi`` since 1970, the last slot
    of ``nm`` for items without a month). Periods are whole months, so a periods
    table is a small lookup table over the month slots. Other columns are
    factorised on first use (:meth:`codes`). Results several metrics share are
    memoised in ``memo``; everything is a pure function of the declaraties, so
    caching never changes a result.

    Sums are float64 sums of integer cents: exact (in any order) while the total
    absolute amount stays below 2**53 cent (EUR 90 trillion).
    """

    def __init__(self, declaraties: pd.DataFrame):
        self.src = declaraties
        n = len(declaraties)
        g, gu = _factorize(declaraties["gemeentecode"], declaraties)
        g = np.asarray(g, dtype=np.int64)
        self.gem_labels = np.asarray(gu, dtype=object)
        # regio of each gemeente: the regio of its first item
        first = np.zeros(len(gu), dtype=np.int64)
        if n:
            first[g[::-1]] = np.arange(n)[::-1]
        if "regio" in declaraties.columns and len(gu):
            reg = declaraties["regio"].take(first).astype(object).fillna("onbekend").to_numpy()
        else:
            reg = np.full(len(gu), "onbekend", dtype=object)
        self.regio_of_g, ru = pd.factorize(np.asarray(reg, dtype=object))
        self.regio_of_g = self.regio_of_g.astype(np.int64)
        self.regio_labels = np.asarray(ru, dtype=object)
        self.G, self.R = len(self.gem_labels), len(self.regio_labels)
        self.bedrag_f = declaraties["bedrag_cent"].fillna(0).to_numpy(dtype=np.int64).astype(np.float64)
        if "client_nr" in declaraties.columns:
            self.client = declaraties["client_nr"].to_numpy(dtype=np.int64)
        else:
            self.client = pd.factorize(declaraties["client_id"])[0].astype(np.int64)
        self.n_client = int(self.client.max()) + 1 if n else 1
        pb = declaraties["periode_begin"].to_numpy(dtype="datetime64[ns]")
        # month of each item via its day: one integer division and a lookup table over
        # the days spanned (a calendar conversion per item costs more)
        geen = np.isnat(pb)
        dag = pb.view(np.int64) // (86_400 * 10**9)
        heeft_geen = bool(geen.any())
        known = dag[~geen] if heeft_geen else dag
        if len(known):
            d_lo, d_hi = int(known.min()), int(known.max())
            maand_van_dag = np.arange(d_lo, d_hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            self.m_lo, self.m_hi = int(maand_van_dag[0]), int(maand_van_dag[-1])
        else:
            self.m_lo = self.m_hi = None
        self.nm = (self.m_hi - self.m_lo + 1 if self.m_lo is not None else 0) + 1
        if len(known):
            if heeft_geen:
                dag[geen] = d_hi + 1  # -> the last slot
            dag -= d_lo
            mpos = np.append(maand_van_dag - self.m_lo, self.nm - 1)[dag]
        else:
            mpos = np.full(n, self.nm - 1, dtype=np.int64)
        del dag, known
        self.gm = g * self.nm + mpos  # int64: np.bincount's index type, no conversion per call
        self._p = {}
        self.memo = {}
        self._regio_volgorde = None

    # -- codes and periods
    def codes(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes of a column (missing values get a code of their own, label None; the
        labels are memoised, see :meth:`labels`);
        from the compact cache of :func:`_common.column_codes`, not kept here as
        int64 (memory: 70 MB per column at national scale). ``NGA``: the flag of
        :data:`NGA` (labels ``gecontracteerd``, ``nga``)."""
        kombi = self.memo.get("kombi")
        if kombi is not None and col in kombi["kolommen"]:  # from the combination codes: no factorisation
            return kombi["codes"][col][kombi["d"]], self.memo[("labels", col)]
        if col == NGA:
            nga = ~self.src["gecontracteerd"].fillna(False).to_numpy(dtype=bool)
            c, labels = nga.view(np.int8), np.array(["gecontracteerd", "nga"], dtype=object)
        else:
            c, labels = _factorize(self.src[col], self.src)
        self.memo[("labels", col)] = labels
        return c, labels

    def labels(self, col: str) -> np.ndarray:
        """The labels of :meth:`codes` (memoised: no pass over the items)."""
        if ("labels", col) not in self.memo:
            return self.codes(col)[1]
        return self.memo[("labels", col)]

    def n_waarden(self, col: str) -> int:
        """Number of codes of :meth:`codes`."""
        return len(self.labels(col))

    def _maand_lut(self, perioden: pd.DataFrame) -> np.ndarray:
        """Period index (-1: outside) of each month slot (the last slot: items
        without a month)."""
        if self.m_lo is None:
            return np.full(self.nm, -1, dtype=np.int64)
        b = perioden["begin"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        e = perioden["eind"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        months = np.arange(self.m_lo, self.m_hi + 1, dtype=np.int64)
        i = np.searchsorted(b, months, side="right") - 1
        ok = (i >= 0) & (months <= e[np.clip(i, 0, None)]) if len(b) else np.zeros(len(months), dtype=bool)
        return np.append(np.where(ok, i, -1), -1)

    def _gp(self, perioden: pd.DataFrame) -> np.ndarray:
        """gemeente x (period + 1) cell of each item: ``g * (P + 1) + period``, the
        period slot ``P`` for items outside the periods (no selection: bincount
        over all items, the slot dropped afterwards)."""
        k = ("gp", pkey(perioden))
        if k not in self._p:
            P = len(perioden)
            lut = self._maand_lut(perioden)
            lut = np.where(lut >= 0, lut, P)
            cell = (np.arange(self.G, dtype=np.int64)[:, None] * (P + 1) + lut[None, :]).ravel()
            gp = cell[self.gm]
            gp.setflags(write=False)
            self._onthoud(k, gp)
        return self._p[k]

    def _onthoud(self, key, arr: np.ndarray, n: int = 4) -> None:
        """Keep ``arr`` (an item-length array of one periods table) among the last
        ``n`` such arrays (memory: each is as long as the declaraties)."""
        self._p[key] = arr
        while len(self._p) > n:
            del self._p[next(iter(self._p))]

    # -- sums
    def _sleutel(self, base: np.ndarray, kolommen: tuple) -> tuple[np.ndarray, tuple]:
        """``base`` with the codes of ``kolommen`` packed in (mixed radix) and the
        number of values of each column."""
        key, ks = base, []
        for col in kolommen:
            c, labels = self.codes(col)
            key = key * len(labels) + c
            ks.append(len(labels))
        return key, tuple(ks)

    def _maandtabel(self, kolommen: tuple):
        """Net cent and item count per gemeente x month slot x value of each of
        ``kolommen``: arrays (G, nm, K1, ...), memoised (small)."""
        k = ("maand", kolommen)
        if k not in self.memo:
            key, ks = self._sleutel(self.gm, kolommen)
            size = self.G * self.nm * _prod(ks)
            shape = (self.G, self.nm) + (ks or (1,))
            s = np.bincount(key, weights=self.bedrag_f, minlength=size).reshape(shape)
            c = np.bincount(key, minlength=size).reshape(shape)
            self.memo[k] = (s, c)
        return self.memo[k]

    def _vouw(self, arr: np.ndarray, perioden: pd.DataFrame) -> np.ndarray:
        """A (G, nm, ...) month table summed into the periods: (G, P, ...)."""
        lut = self._maand_lut(perioden)
        out = np.zeros((arr.shape[0], len(perioden)) + arr.shape[2:], dtype=arr.dtype)
        for j in range(len(perioden)):  # a handful of periods; each a slice of months
            out[:, j] = arr[:, lut == j].sum(axis=1)
        return out

    def som(self, perioden: pd.DataFrame, *kolommen: str, tellen: bool = True):
        """Net cent and item count per gemeente x period x value of each column of
        ``kolommen`` (names for :meth:`codes`, e.g. ``"segment"``, :data:`NGA`):
        arrays of shape (G, P, K1, ...) ((G, P, 1) without columns); the count is
        None unless ``tellen``.

        Small tables come from a memoised gemeente x month table (one pass over the
        items per set of columns, whatever the periods table); large ones (e.g.
        per aanbieder) are summed per period directly.
        """
        kolommen = tuple(kolommen)
        kombi = self._kombi()
        if kombi is not None and set(kolommen) <= set(kombi["kolommen"]):
            return self._uit_kombi(perioden, kolommen, tellen)
        if ("maand", kolommen) in self.memo or self.G * self.nm * _prod(map(self.n_waarden, kolommen)) <= _MAAND_CELLEN:
            s, c = self._maandtabel(kolommen)
            return self._vouw(s, perioden), (self._vouw(c, perioden) if tellen else None)
        P = len(perioden)
        key, ks = self._sleutel(self._gp(perioden), kolommen)
        shape = (self.G, P + 1) + (ks or (1,))
        size = _prod(shape)
        s = np.bincount(key, weights=self.bedrag_f, minlength=size).reshape(shape)[:, :P]
        c = np.bincount(key, minlength=size).reshape(shape)[:, :P] if tellen else None
        return s, c

    def _kombi(self) -> dict | None:
        """The combined month table of :data:`KLEINE_KOLOMMEN` (those present), memoised:
        ``d`` the combination code of each item (int16/int32), ``codes[col]`` the code
        of ``col`` (:meth:`codes`) of each combination, ``s``/``c`` net cent and item
        count per gemeente x month slot x combination (G, nm, D). None when the table
        would exceed :data:`_MAAND_CELLEN` cells (then :meth:`som` sums per column).

        One pass over the items for all small columns: the codes packed into one key
        (mixed radix), the distinct keys numbered densely (in key order) through a
        lookup table over the key range (``np.unique`` when that range is large)."""
        if "kombi" not in self.memo:
            kol = tuple(c for c in KLEINE_KOLOMMEN
                        if c in self.src.columns or (c == NGA and "gecontracteerd" in self.src.columns))
            out = None
            if kol:
                # codes + 1 packed (missing -> 0: no pass to find the missing values; the
                # codes of :meth:`codes` are made from the combinations afterwards)
                key = np.zeros(len(self.src), dtype=np.int64)
                widths, uniques, plus = [], {}, 0  # plus: the +1 of every column, added once at the end
                for col in kol:
                    if col == NGA:
                        c, labels = self.codes(col)
                        w = len(labels)
                    else:
                        c, uniques[col] = _common.column_codes(self.src, col)
                        w = len(uniques[col]) + 1
                    key *= w
                    key += c
                    plus = plus * w + (col != NGA)
                    widths.append(w)
                    del c
                key += plus
                W = _prod(widths)
                if W <= 2**26:
                    aanwezig = np.zeros(W, dtype=bool)
                    aanwezig[key] = True
                    uniq = np.flatnonzero(aanwezig)
                    lut = np.cumsum(aanwezig, dtype=np.int64) - 1
                    d = lut[key]
                    del lut, aanwezig
                else:
                    uniq, d = np.unique(key, return_inverse=True)
                del key
                D = len(uniq)
                if self.G * self.nm * max(D, 1) <= _MAAND_CELLEN:
                    codes, rest = {}, uniq
                    for col, w in zip(kol[::-1], widths[::-1]):
                        rest, codes[col] = np.divmod(rest, w)
                        if col in uniques:  # as _factorize: missing -> the last code, label None
                            u = np.asarray(uniques[col], dtype=object)
                            mis = codes[col] == 0
                            codes[col] = np.where(mis, len(u), codes[col] - 1)
                            self.memo[("labels", col)] = np.append(u, None) if mis.any() else u
                    cell = self.gm * D + d
                    size, shape = self.G * self.nm * D, (self.G, self.nm, D)
                    out = {"kolommen": kol, "codes": codes,
                           "d": d.astype(np.int16 if D < 2**15 else np.int32),
                           "s": np.bincount(cell, weights=self.bedrag_f, minlength=size).reshape(shape),
                           "c": np.bincount(cell, minlength=size).reshape(shape)}
            self.memo["kombi"] = out
        return self.memo["kombi"]

    def _uit_kombi(self, perioden: pd.DataFrame, kolommen: tuple, tellen: bool):
        """:meth:`som` from the combined month table: folded into the periods (memoised
        per periods table), then summed per value of ``kolommen`` (float sums of
        integer cents: exact in any order)."""
        kombi = self._kombi()
        k = ("kombi_vouw", pkey(perioden))
        if k not in self.memo:
            self.memo[k] = (self._vouw(kombi["s"], perioden), self._vouw(kombi["c"], perioden))
        S, C = self.memo[k]
        ks = tuple(self.n_waarden(c) for c in kolommen)
        doel = np.zeros(S.shape[2], dtype=np.int64)  # the (kolommen) value of each combination
        for col, w in zip(kolommen, ks):
            doel = doel * w + kombi["codes"][col]
        Kt = _prod(ks)
        GP = S.shape[0] * S.shape[1]
        idx = (np.arange(GP, dtype=np.int64)[:, None] * Kt + doel[None, :]).ravel()
        shape = S.shape[:2] + (ks or (1,))
        s = np.bincount(idx, weights=S.reshape(-1), minlength=GP * Kt).reshape(shape)
        c = None
        if tellen:
            c = np.bincount(idx, weights=C.reshape(-1), minlength=GP * Kt).astype(np.int64).reshape(shape)
        return s, c

    def rollup(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(gemeente, regio, Nederland) versions of an additive (G, ...) array."""
        if self.G == 0:
            return arr, np.zeros((self.R,) + arr.shape[1:], dtype=arr.dtype), arr.sum(axis=0)
        # gemeenten grouped per regio (stable: in gemeente order), each group summed
        if self._regio_volgorde is None:
            volg = np.argsort(self.regio_of_g, kind="stable")
            self._regio_volgorde = (volg, np.flatnonzero(np.r_[True, np.diff(self.regio_of_g[volg]) != 0]))
        volg, begin = self._regio_volgorde
        return arr, np.add.reduceat(arr[volg], begin, axis=0), arr.sum(axis=0)

    def _cellen(self, perioden: pd.DataFrame, kolommen: tuple):
        """The items in the periods aggregated per distinct (client, gemeente,
        period, value of each of ``kolommen``): a dict of the cells' codes
        (``client``, ``g``, ``p`` and the columns), their net cent ``s`` and item
        count ``n``, and ``veel``: per client, whether its cells lie in more than one
        gemeente; memoised for the last two periods tables."""
        k = ("cellen", pkey(perioden), kolommen)
        if k not in self.memo:
            for old in [x for x in self.memo if x[0] == "cellen"][:-1]:
                del self.memo[old]  # memory: the last two periods tables
            P = len(perioden)
            if set(kolommen) & set(KLEINE_KOLOMMEN):
                self._kombi()  # their codes then come from the combinations (see codes)
            lut = self._maand_lut(perioden)
            cell = np.where(lut[None, :] >= 0, np.arange(self.G, dtype=np.int64)[:, None] * P + lut[None, :], -1)
            gp = cell.ravel()[self.gm]  # gemeente x period of each item, -1: outside the periods
            sel = np.flatnonzero(gp >= 0)
            arrays = [self.client, gp] + [self.codes(c)[0] for c in kolommen]
            widths = [self.n_client, self.G * P] + [self.n_waarden(c) for c in kolommen]
            codes, cols = _groepeer(arrays, widths, sel)
            out = dict(zip(("client", "gp") + kolommen, cols))
            out["g"], out["p"] = np.divmod(out.pop("gp"), max(P, 1))
            out["s"] = np.bincount(codes, weights=self.bedrag_f[sel], minlength=len(cols[0]))
            out["n"] = np.bincount(codes, minlength=len(cols[0]))
            out["veel"] = in_meer_eenheden(out["client"], out["g"], self.n_client)
            self.memo[k] = out
        return self.memo[k]

    def clienten_pos(self, perioden: pd.DataFrame, kolom: str | None = None):
        """Distinct clients with a positive net amount per level x period x value of
        ``kolom`` (None: no split): arrays (G, P, K), (R, P, K), (P, K). The amount
        is summed per client within each level (a client's credit in one gemeente
        and debet in another count separately in the gemeenten, netted in the
        regio). From one aggregation per periods table (:meth:`_cellen`, split by
        :data:`KLANT_KOLOMMEN`), summed per (client, period, value, gemeente); a
        client whose cells all lie in one gemeente has the same sums in its regio
        and in Nederland, so only the other clients are summed again per level."""
        P = len(perioden)
        kol = KLANT_KOLOMMEN if kolom is None or kolom in KLANT_KOLOMMEN else (kolom,)
        c = self._cellen(perioden, kol)
        if kolom is None:
            e, K = np.zeros(len(c["s"]), dtype=np.int64), 1
        else:
            e, K = c[kolom], self.n_waarden(kolom)

        PK = P * K
        grp, (cl, p, e, g) = _groepeer([c["client"], c["p"], e, c["g"]], [self.n_client, P, K, self.G])
        s = np.bincount(grp, weights=c["s"], minlength=len(cl))
        pe = p * K + e
        pos = s > 0
        gem = np.bincount((g * PK + pe)[pos], minlength=self.G * PK)
        veel = c["veel"][cl]
        een = pos & ~veel  # positive, and the same sum in the client's regio and in Nederland
        r = self.regio_of_g[g]
        regio = np.bincount((r * PK + pe)[een], minlength=self.R * PK)
        nl = np.bincount(pe[een], minlength=PK)
        if veel.any():
            grp, (cl, pe, r) = _groepeer([cl[veel], pe[veel], r[veel]], [self.n_client, PK, self.R])
            s = np.bincount(grp, weights=s[veel], minlength=len(cl))
            regio += np.bincount((r * PK + pe)[s > 0], minlength=self.R * PK)
            grp, (cl, pe) = _groepeer([cl, pe], [self.n_client, PK])
            s = np.bincount(grp, weights=s, minlength=len(cl))
            nl += np.bincount(pe[s > 0], minlength=PK)
        f = np.float64
        return gem.astype(f).reshape(self.G, P, K), regio.astype(f).reshape(self.R, P, K), nl.astype(f).reshape(P, K)

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
        if k not in self.memo:  # from the cells of clienten_pos (far fewer than the items), per level
            cel = self._cellen(perioden, KLANT_KOLOMMEN)
            P, A = len(perioden), self.n_waarden("agb")
            sums, counts = [], []
            for unit, n_unit in ((cel["g"], self.G), (self.regio_of_g[cel["g"]], self.R), (None, 1)):
                idx = cel["p"] * A + cel["agb"] if unit is None else (unit * P + cel["p"]) * A + cel["agb"]
                shape = (P, A) if unit is None else (n_unit, P, A)
                sums.append(np.bincount(idx, weights=cel["s"], minlength=n_unit * P * A).reshape(shape))
                counts.append(np.bincount(idx, weights=cel["n"], minlength=n_unit * P * A).astype(np.int64)
                              .reshape(shape))
            self.memo[k] = (tuple(sums), tuple(counts))
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


def _prod(values) -> int:
    """Product of integers (Python ints: no overflow)."""
    out = 1
    for v in values:
        out *= int(v)
    return out


def _groepeer(arrays: list, widths: list, sel: np.ndarray | None = None) -> tuple[np.ndarray, list]:
    """The distinct rows of integer ``arrays`` (array i in 0..widths[i]-1; the first
    may also hold -1), of the rows ``sel`` (default all): a dense code per row
    (numbered in order of first appearance) and the arrays' values per code.

    One int64 key packed in mixed radix and one factorisation (the values decoded
    from the distinct keys); :func:`clean.combine_keys` when the key would not fit.
    """
    size = 1
    for w in widths:
        size *= max(int(w), 1)
    if size * 2 < 2**62:
        key = np.asarray(arrays[0], dtype=np.int64)
        for a, w in zip(arrays[1:], widths[1:]):
            key = key * max(int(w), 1) + a
        codes, uniq = pd.factorize(key if sel is None else key[sel])
        cols = []
        for w in widths[:0:-1]:
            uniq, rest = np.divmod(uniq, max(int(w), 1))
            cols.append(rest)
        return codes.astype(np.int64, copy=False), [uniq] + cols[::-1]
    arrays = [np.asarray(a, dtype=np.int64) if sel is None else np.asarray(a)[sel].astype(np.int64) for a in arrays]
    codes = combine_keys(arrays)
    first = first_positions(codes)
    return codes, [a[first] for a in arrays]


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
        f = ws.frame(perioden, {"cent": ws.rollup(ws.som(perioden, tellen=False)[0])})
        f["waarde"] = euro(f["cent"])
        return finish(f)
    dims = dim_value(ws.labels(dimensie), dimensie).to_numpy()  # one label per value, not per row
    s, c = ws.som(perioden, dimensie)
    f = ws.frame(perioden, {"cent": ws.rollup(s), "n": ws.rollup(c)}, by_labels=dims)
    f = f[f["n"] > 0].copy()
    f["waarde"] = euro(f["cent"])
    f["dimensie"] = f["_by"]
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
