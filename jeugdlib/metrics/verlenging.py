"""Verlenging and recidief (metrics.md section 4).

Per client and productgroep, for each toewijzing A whose ``einddatum`` lies in the
period:

* A is **verlengd** when another toewijzing B of the same client and productgroep
  (any aanbieder) has ``B.ingangsdatum > A.ingangsdatum``,
  ``B.ingangsdatum <= A.einddatum + aansluit_dagen`` and ends later than A (an open
  end counts as later). Counted only when ``A.einddatum + aansluit_dagen`` is
  before the peildatum.
* A is **recidief** when it is not verlengd and such a B starts in
  (``A.einddatum + aansluit_dagen``, ``A.einddatum + recidief_dagen``]. Counted
  only when ``A.einddatum + recidief_dagen`` is before the peildatum. The
  denominator is every toewijzing counted for recidief (verlengde included: they
  are counted, and are not recidief).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from . import _common
from .trajecten import _sorteer
from .verzilvering import _eindigend_posities, _finish, _kpi_rows_codes, _rij_codes
from .zorgduur import _sleutel_codes

_OPEN = np.iinfo(np.int64).max  # an open einddatum: later than any date


def verlenging_status(toewijzingen: pd.DataFrame, params: config.Params) -> pd.DataFrame:
    """Per toewijzing A: verlengd / recidief and whether it is counted (metrics.md section 4).

    ``toewijzingen``: ``Cleaned.toewijzingen`` (client_id, productgroep,
    ingangsdatum, einddatum; every toewijzing is a candidate B). Returns a frame
    aligned to the input index with boolean columns ``telt_verlenging``,
    ``verlengd``, ``telt_recidief``, ``recidief``. Toewijzingen without an
    einddatum (open) have not ended and are counted for neither.

    Vectorised: one self-join on (client, productgroep) codes (one sort; the runs
    of equal keys give each A its B's) with numpy date arithmetic; the join is as
    large as the sum over client-productgroep pairs of (number of toewijzingen)
    squared, which is small in practice.
    """
    t = toewijzingen
    n = len(t)
    aansluit = np.int64(params.aansluit_dagen) * 86_400 * 10**9
    recid = np.int64(params.recidief_dagen) * 86_400 * 10**9
    peil = np.int64(params.peil_ts.value)

    # (client, productgroep) as one integer key.
    # (client_nr when present; missing and "" productgroep one value, on cached codes)
    cc, pgc = _sleutel_codes(t, "client_id"), _sleutel_codes(t, "productgroep")
    key = cc * (int(pgc.max()) + 2 if n else 1) + pgc
    ing = t["ingangsdatum"].to_numpy(dtype="datetime64[ns]").view("int64")
    eind_dt = t["einddatum"].to_numpy(dtype="datetime64[ns]")
    heeft_eind = ~np.isnat(eind_dt)
    eind = np.where(heeft_eind, eind_dt.view("int64"), _OPEN)

    e0 = np.where(heeft_eind, eind, 0)  # no arithmetic on the open sentinel
    telt_v = heeft_eind & (e0 < peil) & (e0 + aansluit < peil)
    telt_r = heeft_eind & (e0 < peil) & (e0 + recid < peil)

    verlengd = np.zeros(n, dtype=bool)
    recidief_kand = np.zeros(n, dtype=bool)
    a_pos = np.flatnonzero(telt_v)
    if len(a_pos):
        # Self-join on the key: every B with A's key, from one sort of the keys
        # (each A's range of B's is the run of its key in the sorted keys;
        # np.repeat expands the pairs).
        order, ks = _sorteer(key)
        nieuw = np.r_[True, ks[1:] != ks[:-1]]
        begin = np.flatnonzero(nieuw)
        lengte = np.diff(np.r_[begin, n])
        run = np.empty(n, dtype=np.int64)
        run[order] = np.cumsum(nieuw) - 1
        lo, cnt = begin[run[a_pos]], lengte[run[a_pos]]
        a = np.repeat(a_pos, cnt)
        offs = np.arange(len(a)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        b = order[np.repeat(lo, cnt) + offs]
        later_start = ing[b] > ing[a]
        v = later_start & (ing[b] <= eind[a] + aansluit) & (eind[b] > eind[a])
        r = (ing[b] > eind[a] + aansluit) & (ing[b] <= eind[a] + recid)
        verlengd[a[v]] = True
        recidief_kand[a[r]] = True

    out = pd.DataFrame({
        "telt_verlenging": telt_v,
        "verlengd": verlengd & telt_v,
        "telt_recidief": telt_r,
        "recidief": recidief_kand & ~verlengd & telt_r,
    }, index=t.index)
    return out


def kpis(cleaned, params: config.Params) -> pd.DataFrame:
    """KPI rows ``verlenging`` and ``recidief`` (fractie; metrics.md section 4).

    Per period of the toewijzing's einddatum: verlengd / toewijzingen counted and
    recidief / toewijzingen counted, total and per ``financieringsvorm=...``;
    ``n_clienten`` = distinct clients among the toewijzingen counted.
    """
    toew = cleaned.toewijzingen
    st = verlenging_status(toew, params)
    pos, pidx, per = _eindigend_posities(toew, params)
    if len(pos) == 0:
        return _finish(pd.DataFrame())
    # Grouped on the whole frame's cached codes at the counted rows (no strings copied).
    cc = _common.client_codes(toew)
    per_u = per["periode"].to_numpy(dtype=object)
    rows = []
    for kpi, telt, flag in (("verlenging", "telt_verlenging", "verlengd"),
                            ("recidief", "telt_recidief", "recidief")):
        m = st[telt].to_numpy(dtype=bool)[pos]
        sel = pos[m]
        if len(sel) == 0:
            continue
        vals = {"_teller": st[flag].to_numpy(dtype=bool)[sel].astype("float64"), "_noemer": np.ones(len(sel))}
        rc, ru = _rij_codes(toew, "regio", sel, "onbekend")
        gc, gu = _rij_codes(toew, "gemeentecode", sel, "onbekend")
        dims = {"": None, "financieringsvorm": _rij_codes(toew, "financieringsvorm", sel, strip=True)}
        agg = _kpi_rows_codes(rc, ru, gc, gu, pidx[m], per_u, cc[sel], dims, vals)
        rows.append(agg.assign(kpi=kpi, waarde=agg["_teller"] / agg["_noemer"], eenheid="fractie"))
    if not rows:
        return _finish(pd.DataFrame())
    return _finish(pd.concat(rows, ignore_index=True))
