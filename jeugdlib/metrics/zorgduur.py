"""Zorgduur: zorgpaden, episodes, mean duration, care of two years or longer (metrics.md section 5).

* **Zorgpad**: per client and productgroep, toewijzingen sorted by ingangsdatum
  are joined while the next starts at most ``aansluit_dagen`` after the latest end
  so far (open end: the day before the peildatum). Each chain is one zorgpad.
* **Episode**: the same joining over all of a client's toewijzingen, regardless
  of product.

KPIs: ``duur_gem`` (months of 30.4375 days, over toewijzingen ending in the
period) and ``zorgduur_2jaar`` (share of clients active on the period's last day
whose episode started at least 730 days earlier).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from . import _common
from .verzilvering import _eindigend_posities, _finish, _kpi_rows_codes, _rij_codes

#: Days per month for durations (metrics.md section 5).
DAGEN_PER_MAAND = 30.4375
#: Episode length that counts as "two years or longer".
TWEE_JAAR_DAGEN = 730


def _eind_eff(toewijzingen: pd.DataFrame, params: config.Params) -> pd.Series:
    """einddatum_eff when present, else einddatum with an open end as the day before the peildatum."""
    if "einddatum_eff" in toewijzingen.columns:
        e = toewijzingen["einddatum_eff"]
        if e.notna().all():
            return e
        return e.fillna(toewijzingen["einddatum"]).fillna(params.peil_ts - pd.Timedelta(days=1))
    return toewijzingen["einddatum"].fillna(params.peil_ts - pd.Timedelta(days=1))


def _leeg_codes(toewijzingen: pd.DataFrame, col: str) -> np.ndarray:
    """Codes of ``toewijzingen[col]`` over the whole frame (cached,
    :func:`_common.column_codes`) with missing and "" one value."""
    codes, uniq = _common.column_codes(toewijzingen, col)
    leeg = np.flatnonzero(pd.Series(uniq, dtype=object).eq("").to_numpy(dtype=bool))
    return np.where(codes < 0, leeg[0] if len(leeg) else len(uniq), codes)


def _sleutel_codes(toewijzingen: pd.DataFrame, col: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Codes of a key column (at ``rows``, default all) in order of first appearance,
    missing and "" one value, on the column's cached codes (:func:`_leeg_codes`).
    For ``client_id`` taken from ``client_nr`` when present (Cleaned: a dense code of
    client_id with -1 for missing or ""), which partitions the rows the same way
    without hashing 64-character strings. Without a ``productgroep`` column: one group."""
    t = toewijzingen
    if col == "client_id" and "client_nr" in t.columns:
        c = t["client_nr"].to_numpy(dtype=np.int64, na_value=-1)
    elif col == "productgroep" and col not in t.columns:
        c = np.zeros(len(t), dtype=np.int64)
    else:
        c = _leeg_codes(t, col)
    if rows is not None:
        c = c[rows]
    return np.asarray(pd.factorize(c)[0], dtype=np.int64)


def _chains(toewijzingen: pd.DataFrame, params: config.Params, by: list[str],
            rows: np.ndarray | None = None) -> np.ndarray:
    """Chain number per row (of ``rows``, default all; int64 array) over groups of
    ``by``: ``_common.chain_ids`` on the rows, without copying them.

    The codes of the selected rows are the whole frame's cached codes renumbered in
    order of first appearance in the selection (:func:`_sleutel_codes`): the same
    numbers the copied rows would get, so the chains and their numbers are the same."""
    t = toewijzingen
    keys = [_sleutel_codes(t, c, rows) for c in by]
    s = t["ingangsdatum"].to_numpy()
    e = _eind_eff(t, params).to_numpy()
    if rows is not None:
        s, e = s[rows], e[rows]
    ids = _keten_ids(keys, s, e, params.aansluit_dagen)
    if ids is not None:
        return ids
    df = pd.DataFrame(dict(zip(by, keys)))
    df["_s"] = s
    df["_e"] = e
    return _common.chain_ids(df, by, "_s", "_e", params.aansluit_dagen).to_numpy(dtype=np.int64)


_DAG_NS = 86_400 * 10**9


def _lexvolgorde(keys: list[np.ndarray], si: np.ndarray, ei: np.ndarray) -> np.ndarray:
    """``np.lexsort((ei, si, *keys[::-1]))``: the stable order by (keys, si, ei).

    When the keys are non-negative and the times whole days, and all fit in one
    int64 (widths of their ranges), they are packed into one key in that order
    and sorted with one stable argsort (several times faster than lexsort)."""
    n = len(si)
    if n and all(int(k.min()) >= 0 for k in keys) and not (si % _DAG_NS).any() and not (ei % _DAG_NS).any():
        sd, ed = si // _DAG_NS, ei // _DAG_NS
        parts = [*keys, sd - sd.min(), ed - ed.min()]
        widths = [max(int(p.max()).bit_length(), 1) for p in parts]
        if sum(widths) <= 62:
            packed = np.zeros(n, dtype=np.int64)
            for p, w in zip(parts, widths):
                packed = (packed << w) | p
            return np.argsort(packed, kind="stable")
    return np.lexsort((ei, si, *keys[::-1]))


def _groep_cummax(groep: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``pd.Series(v).groupby(groep).cummax()`` for sorted groups ``groep`` (ascending)
    and times ``v`` (int64 ns). When all are whole days, group and day are packed
    into one int64 (group in the high part), so one ``np.maximum.accumulate``
    restarts at each group; otherwise pandas."""
    if len(v) and not (v % _DAG_NS).any():
        dag = v // _DAG_NS
        d0 = int(dag.min())
        breedte = int(dag.max()) - d0 + 1
        if float(groep.max()) * breedte < 2.0**62:
            packed = groep.astype(np.int64) * breedte + (dag - d0)
            return (np.maximum.accumulate(packed) - groep * breedte + d0) * _DAG_NS
    return pd.Series(v).groupby(groep).cummax().to_numpy()


def _keten_ids(keys: list[np.ndarray], s, e, gap_days: int) -> np.ndarray | None:
    """``_common.chain_ids`` on arrays: ``keys`` (integer codes, the groups, first
    key first), ``s``/``e`` (start and end, datetime64). The same numbers: rows
    sorted by (keys, s, e) with one stable ``np.lexsort`` (as the stable
    ``sort_values``), joined while the next starts at most ``gap_days`` after the
    latest end so far (grouped cumulative max), numbered in that order. Returns
    None when a date is missing (NaT sorts differently there: use ``chain_ids``)."""
    s = np.asarray(s, dtype="datetime64[ns]")
    e = np.asarray(e, dtype="datetime64[ns]")
    n = len(s)
    if n == 0:
        return np.array([], dtype=np.int64)
    if np.isnat(s).any() or np.isnat(e).any():
        return None
    si, ei = s.view(np.int64), e.view(np.int64)
    keys = [np.asarray(k, dtype=np.int64) for k in keys]
    order = _lexvolgorde(keys, si, ei)
    grp_change = np.zeros(n, dtype=bool)
    grp_change[0] = True
    for k in keys:
        v = k[order]
        grp_change[1:] |= v[1:] != v[:-1]
    run_max = _groep_cummax(np.cumsum(grp_change), ei[order])
    prev_max = np.empty_like(run_max)
    prev_max[1:] = run_max[:-1]
    prev_max[0] = run_max[0]
    new = grp_change | (si[order] > prev_max + np.int64(gap_days) * 86_400 * 10**9)
    ids = np.empty(n, dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


def _zorgpad_ids_rijen(toewijzingen: pd.DataFrame, pos: np.ndarray, params: config.Params) -> np.ndarray:
    """``zorgpaden(toewijzingen.take(pos), params).to_numpy()`` without copying the rows."""
    return _chains(toewijzingen, params, ["client_id", "productgroep"], pos)


def zorgpaden(toewijzingen: pd.DataFrame, params: config.Params) -> pd.Series:
    """Zorgpad number per toewijzing (metrics.md section 5), aligned to the input index.

    Per (client_id, productgroep), toewijzingen sorted by ingangsdatum join while the
    next starts at most ``params.aansluit_dagen`` after the latest end so far.
    Numbers are unique over the whole frame (not stable across different inputs).
    Use as ``toew["zorgpad"] = zorgpaden(toew, params)``.
    """
    ids = _chains(toewijzingen, params, ["client_id", "productgroep"])
    return pd.Series(ids, index=toewijzingen.index, name="zorgpad")


def episodes(toewijzingen: pd.DataFrame, params: config.Params) -> pd.Series:
    """Episode number per toewijzing: the zorgpad joining over all of a client's
    toewijzingen regardless of product (metrics.md section 5), aligned to the input index."""
    return pd.Series(_chains(toewijzingen, params, ["client_id"]), index=toewijzingen.index, name="episode")


def zorgpad_overzicht(toewijzingen: pd.DataFrame, params: config.Params) -> pd.DataFrame:
    """One row per zorgpad: ``zorgpad``, ``client_id``, ``productgroep``, ``begin``
    (first ingangsdatum), ``eind`` (latest effective end), ``toewijzingen`` (count),
    and ``regio``/``gemeentecode`` of its first toewijzing (metrics.md sections 5, 6:
    a zorgpad belongs to the period of its start)."""
    t = toewijzingen.assign(zorgpad=zorgpaden(toewijzingen, params), _e=_eind_eff(toewijzingen, params))
    t = t.sort_values(["zorgpad", "ingangsdatum"], kind="mergesort")
    g = t.groupby("zorgpad", sort=True)
    out = g.agg(client_id=("client_id", "first"), productgroep=("productgroep", "first"),
                begin=("ingangsdatum", "min"), eind=("_e", "max"), toewijzingen=("ingangsdatum", "size"))
    for c in ("regio", "gemeentecode"):
        if c in t.columns:
            out[c] = g[c].first()
    return out.reset_index()


def duur_maanden(toewijzingen: pd.DataFrame) -> pd.Series:
    """Duration of each toewijzing: (einddatum - ingangsdatum + 1 day) in months of
    30.4375 days (metrics.md section 5, ``duur_gem``). NaN for an open einddatum."""
    dagen = (toewijzingen["einddatum"] - toewijzingen["ingangsdatum"]).dt.days + 1
    return (dagen.astype("float64") / DAGEN_PER_MAAND).rename("duur_maanden")


def episode_begin(toewijzingen: pd.DataFrame, params: config.Params) -> pd.Series:
    """Start (first ingangsdatum) of the episode each toewijzing belongs to, aligned to the input."""
    ep = episodes(toewijzingen, params).to_numpy()
    ing = toewijzingen["ingangsdatum"]
    if ing.dtype == "datetime64[ns]" and len(ep):  # the minimum per episode on numpy (NaT skipped)
        v = ing.to_numpy().view(np.int64)
        nat, groot = np.iinfo(np.int64).min, np.iinfo(np.int64).max
        laagste = np.full(int(ep.max()) + 1, groot, dtype=np.int64)
        np.minimum.at(laagste, ep, np.where(v == nat, groot, v))
        laagste[laagste == groot] = nat
        return pd.Series(laagste[ep].view("datetime64[ns]"), index=toewijzingen.index, name="episode_begin")
    return ing.groupby(ep).transform("min").rename("episode_begin")


def _actief(toewijzingen: pd.DataFrame, eind: pd.Series, begin: pd.Series, dag: pd.Timestamp) -> pd.DataFrame:
    act = ((toewijzingen["ingangsdatum"] <= dag) & (eind >= dag)).to_numpy(dtype=bool)
    t = toewijzingen.loc[act]
    out = pd.DataFrame({
        "client_id": t["client_id"].to_numpy(),
        "regio": t["regio"].to_numpy() if "regio" in t.columns else np.full(len(t), "", dtype=object),
        "gemeentecode": t["gemeentecode"].to_numpy(),
        "lang": ((dag - begin[act]).dt.days >= TWEE_JAAR_DAGEN).to_numpy(dtype=bool),
    })
    # One episode is active per client on a given day; keep one row per place.
    return out.drop_duplicates(["client_id", "regio", "gemeentecode"]).reset_index(drop=True)


def zorgduur_2jaar_per_client(toewijzingen: pd.DataFrame, params: config.Params, dag) -> pd.DataFrame:
    """Clients active on ``dag`` and whether their episode started at least 730 days before it.

    Active: a toewijzing with ingangsdatum <= dag <= effective end (metrics.md
    section 5). Returns one row per (client_id, regio, gemeentecode) active that
    day with ``lang`` (bool): the client's episode began >= 730 days before ``dag``.
    """
    return _actief(toewijzingen, _eind_eff(toewijzingen, params), episode_begin(toewijzingen, params),
                   pd.Timestamp(dag))


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``duur_gem`` (maanden) and ``zorgduur_2jaar`` (fractie); metrics.md section 5.

    * ``duur_gem``: mean :func:`duur_maanden` over toewijzingen whose (real)
      einddatum lies in the period and before the peildatum;
    * ``zorgduur_2jaar``: among clients active on the period's last day (for a
      period still running at the peildatum: the day before the peildatum), the
      share whose episode started at least 730 days earlier.

    ``n_clienten``: distinct clients behind the value.
    """
    toew = cleaned.toewijzingen
    rows = []
    # On the whole frame's cached codes at the selected rows (no strings copied).
    cc_all = _common.client_codes(toew)
    pos, pidx, per = _eindigend_posities(toew, params)
    if len(pos):
        duur = duur_maanden(toew[["ingangsdatum", "einddatum"]].take(pos)).to_numpy(dtype="float64")
        rc, ru = _rij_codes(toew, "regio", pos, "onbekend")
        gc, gu = _rij_codes(toew, "gemeentecode", pos, "onbekend")
        agg = _kpi_rows_codes(rc, ru, gc, gu, pidx, per["periode"].to_numpy(dtype=object), cc_all[pos], {"": None},
                              {"_duur": duur, "_n": np.ones(len(pos))})
        rows.append(agg.assign(kpi="duur_gem", waarde=agg["_duur"] / agg["_n"], eenheid="maanden"))

    if len(toew):
        # zorgduur_2jaar on integer codes: one vectorised pass per period.
        ing = toew["ingangsdatum"].to_numpy(dtype="datetime64[ns]")
        eind = _eind_eff(toew, params).to_numpy(dtype="datetime64[ns]")
        begin = episode_begin(toew, params).to_numpy(dtype="datetime64[ns]")
        alle = np.arange(len(toew))
        rc, ru = _rij_codes(toew, "regio", alle, "onbekend")
        gc, gu = _rij_codes(toew, "gemeentecode", alle, "onbekend")
        cc = cc_all
        laatste = params.peil_ts - pd.Timedelta(days=1)
        per = _common.periods(params.start, params.peildatum, params.per)
        twee_jaar = np.timedelta64(TWEE_JAAR_DAGEN, "D")
        nr, ng = len(ru), len(gu)
        # Sorted once by (regio, client, gemeente): within any selection of rows a
        # client's rows in one regio (and one gemeente) are then adjacent, so
        # distinct counting is a comparison with the previous row.
        # (np.lexsort((gc, cc, rc)) as one stable argsort of the packed codes)
        order = np.argsort((rc * (int(cc.max()) + 2) + (cc + 1)) * (max(ng, 1)) + gc, kind="stable")
        ing, eind, begin, rc, gc, cc = (a[order] for a in (ing, eind, begin, rc, gc, cc))
        delen = []
        for periode, e in zip(per["periode"], per["eind"]):  # one vectorised pass per period
            dag = np.datetime64(min(pd.Timestamp(e), laatste), "ns")
            act = np.flatnonzero((ing <= dag) & (eind >= dag) & (cc >= 0))
            if len(act) == 0:
                continue
            r, g, c = rc[act], gc[act], cc[act]
            # one episode is active per client on a day: ``lang`` is equal on all its rows
            lang = ((dag - begin[act]) >= twee_jaar).astype("float64")
            zelfde_rc = np.zeros(len(act), dtype=bool)
            zelfde_rc[1:] = (r[1:] == r[:-1]) & (c[1:] == c[:-1])
            zelfde_rcg = zelfde_rc.copy()
            zelfde_rcg[1:] &= g[1:] == g[:-1]
            eerste_n = ~pd.Series(c).duplicated().to_numpy()
            for niveau, key, eerste, size in (("gemeente", r * ng + g, ~zelfde_rcg, nr * ng),
                                              ("regio", r, ~zelfde_rc, nr),
                                              ("nederland", np.zeros_like(r), eerste_n, 1)):
                n = np.bincount(key[eerste], minlength=size)
                lg = np.bincount(key[eerste], weights=lang[eerste], minlength=size)
                kk = np.flatnonzero(n)
                delen.append(pd.DataFrame({
                    "regio": config.NEDERLAND if niveau == "nederland" else (ru[kk // ng] if niveau == "gemeente"
                                                                            else ru[kk]),
                    "gemeente": gu[kk % ng] if niveau == "gemeente" else "",
                    "periode": periode, "dimensie": "",
                    "waarde": lg[kk] / n[kk],
                    "n_clienten": n[kk].astype("float64"),
                }))
        if delen:
            rows.append(pd.concat(delen, ignore_index=True).assign(kpi="zorgduur_2jaar", eenheid="fractie"))
    if not rows:
        return _finish(pd.DataFrame())
    return _finish(pd.concat(rows, ignore_index=True))
