"""Significance of year-on-year changes, for the reports to cite (issue 4).

* Counts (clients, toewijzingen, ...): the two counts are treated as Poisson
  with exposures (default 1 each, i.e. equal periods); the estimate is the
  relative change ``rate_nu / rate_vorig - 1`` with the score test and the
  MOVER interval of statsmodels (``test_poisson_2indep`` /
  ``confint_poisson_2indep``, ``compare='ratio'``; MOVER because the score
  interval degenerates when a count is 0).
* Shares of counts (e.g. verlengd / toewijzingen counted): the estimate is the
  difference ``p_nu - p_vorig`` with the Agresti-Caffo test and Newcombe
  interval of statsmodels (``test_proportions_2indep`` /
  ``confint_proportions_2indep``, ``compare='diff'``; both stay defined when a
  share is 0 or 1, unlike the score method). A proportions test needs counts of units: do not feed it
  euro amounts (a share of cost is not a binomial proportion).

Each returns a :class:`Toetsuitslag` with estimate, interval, p-value and the
test's Dutch name.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd

from .. import schema

POISSON_TOETS = "Poisson-toets (score) op de verhouding van twee aantallen"
PROPORTIE_TOETS = "toets (Agresti-Caffo) op het verschil van twee proporties"


@dataclasses.dataclass(frozen=True)
class Toetsuitslag:
    """Result of a year-on-year test.

    ``schatting``: relative change (counts) or difference in proportion points
    as a fraction (shares); ``ondergrens``/``bovengrens``: the (1 - alpha)
    interval of that estimate; ``p_waarde``: two-sided p-value of "no change";
    ``toets``: the test's Dutch name.
    """

    schatting: float
    ondergrens: float
    bovengrens: float
    p_waarde: float
    toets: str
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        """True when the p-value is below alpha."""
        return bool(self.p_waarde < self.alpha)

    def tekst(self) -> str:
        """One Dutch phrase for a report, e.g. ``+20,0% (95%-BI -7,9% tot +56,4%; p = 0,178)``."""
        def pct(x):
            if not np.isfinite(x):
                return "onbepaald"
            return f"{x * 100:+.1f}%".replace(".", ",")
        conf = f"{round((1 - self.alpha) * 100):d}%-BI"
        p = "p < 0,001" if self.p_waarde < 0.001 else f"p = {self.p_waarde:.3f}".replace(".", ",")
        return f"{pct(self.schatting)} ({conf} {pct(self.ondergrens)} tot {pct(self.bovengrens)}; {p})"


def _check_count(x, name):
    if x is None or (isinstance(x, float) and math.isnan(x)) or x < 0 or x != int(x):
        raise ValueError(f"{name} moet een geheel getal >= 0 zijn, niet {x!r}")
    return int(x)


def verandering_aantal(nu, vorig, *, blootstelling_nu: float = 1.0, blootstelling_vorig: float = 1.0,
                       alpha: float = 0.05) -> Toetsuitslag:
    """Year-on-year change of a count with a Poisson rate test.

    ``schatting`` = (nu / blootstelling_nu) / (vorig / blootstelling_vorig) - 1;
    test of ratio = 1 by the score method, interval by MOVER (statsmodels
    ``test_poisson_2indep`` / ``confint_poisson_2indep``). Exposures allow e.g.
    a count per jeugdige (exposure = population) or periods of unequal length.
    With ``vorig`` = 0 the change is undefined (NaN, p = NaN).
    """
    from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

    nu, vorig = _check_count(nu, "nu"), _check_count(vorig, "vorig")
    if vorig == 0:
        return Toetsuitslag(math.nan, math.nan, math.nan, math.nan, POISSON_TOETS, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = test_poisson_2indep(nu, blootstelling_nu, vorig, blootstelling_vorig, method="score",
                                  compare="ratio")
        lo, hi = confint_poisson_2indep(nu, blootstelling_nu, vorig, blootstelling_vorig, method="mover",
                                        compare="ratio", alpha=alpha)
    ratio = (nu / blootstelling_nu) / (vorig / blootstelling_vorig)
    return Toetsuitslag(float(ratio - 1), float(lo - 1), float(hi - 1), float(res.pvalue), POISSON_TOETS, alpha)


def verandering_aandeel(teller_nu, noemer_nu, teller_vorig, noemer_vorig, *, alpha: float = 0.05) -> Toetsuitslag:
    """Year-on-year change of a share of counts with a two-proportions test.

    ``schatting`` = teller_nu / noemer_nu - teller_vorig / noemer_vorig; test of
    difference = 0 and interval by the score method (statsmodels
    ``test_proportions_2indep`` / ``confint_proportions_2indep``).
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    t1, n1 = _check_count(teller_nu, "teller_nu"), _check_count(noemer_nu, "noemer_nu")
    t0, n0 = _check_count(teller_vorig, "teller_vorig"), _check_count(noemer_vorig, "noemer_vorig")
    if n1 == 0 or n0 == 0 or t1 > n1 or t0 > n0:
        raise ValueError("tellers moeten tussen 0 en hun noemer (> 0) liggen")
    with warnings.catch_warnings():  # statsmodels also computes ratios that may divide by 0
        warnings.simplefilter("ignore", RuntimeWarning)
        res = test_proportions_2indep(t1, n1, t0, n0, compare="diff", method="agresti-caffo")
        lo, hi = confint_proportions_2indep(t1, n1, t0, n0, compare="diff", method="newcombe", alpha=alpha)
    p = float(res.pvalue)
    if not np.isfinite(p):  # both shares 0 or both 1: no evidence of change
        p = 1.0
    return Toetsuitslag(float(t1 / n1 - t0 / n0), float(lo), float(hi), p, PROPORTIE_TOETS, alpha)


VERZILVERING_TOETS = ("Welch-t-toets op het verschil in verzilvering (per toewijzing, gewogen naar het "
                      "toegewezen bedrag)")


def verschil_verzilvering(geleverd_a, toegewezen_a, geleverd_b, toegewezen_b, *,
                          alpha: float = 0.05) -> Toetsuitslag:
    """Difference in verzilvering (sum geleverd / sum toegewezen) between two groups of
    toewijzingen, e.g. micro against regulier aanbieders.

    Each toewijzing's ratio geleverd / toegewezen, weighted by its toegewezen amount,
    has as weighted mean exactly the group's verzilvering; ``schatting`` = that of
    group a minus that of group b. Test and interval: Welch's t-test on the two
    weighted means (statsmodels ``CompareMeans`` of ``DescrStatsW``, unequal
    variances), with the weights scaled to sum to the number of toewijzingen of the
    group (so a group counts as many observations as it has toewijzingen; with equal
    amounts this is scipy's Welch test on the ratios). Amounts are not counts, so no
    proportions test applies. Needs at least two toewijzingen per group."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    groepen = []
    for g, t in ((geleverd_a, toegewezen_a), (geleverd_b, toegewezen_b)):
        g, t = np.asarray(g, dtype=float), np.asarray(t, dtype=float)
        if len(g) != len(t) or len(t) < 2 or not np.all(t > 0):
            raise ValueError("per groep minstens twee toewijzingen met een positief toegewezen bedrag")
        groepen.append(DescrStatsW(g / t, weights=t / t.sum() * len(t), ddof=0))
    a, b = groepen
    cm = CompareMeans(a, b)
    _, p, _ = cm.ttest_ind(usevar="unequal")
    lo, hi = cm.tconfint_diff(alpha=alpha, usevar="unequal")
    p = float(p) if np.isfinite(p) else 1.0
    return Toetsuitslag(float(a.mean - b.mean), float(lo), float(hi), p, VERZILVERING_TOETS, alpha)


def vorige_periode(periode: pd.Series) -> pd.Series:
    """The same period one year earlier: '2024' -> '2023', '2024-Q2' -> '2023-Q2',
    '2024-05' -> '2023-05'."""
    p = pd.Series(periode).astype(schema.S)
    jaar = p.str.slice(0, 4).astype("int64") - 1
    return (jaar.astype(schema.S) + p.str.slice(4)).astype(schema.S)


def jaar_op_jaar_aantallen(kpis: pd.DataFrame, kpi: str, *, alpha: float = 0.05) -> pd.DataFrame:
    """For a count KPI of the KPI table (eenheid ``aantal``), the change of every
    (regio, gemeente, dimensie, periode) on the same period a year earlier with
    :func:`verandering_aantal`. Rows where either value is missing (suppressed)
    are left out. Columns: regio, gemeente, dimensie, periode, nu, vorig,
    schatting, ondergrens, bovengrens, p_waarde, toets.
    """
    k = kpis[kpis["kpi"] == kpi][["regio", "gemeente", "dimensie", "periode", "waarde"]].copy()
    prev = k.rename(columns={"periode": "_vp", "waarde": "vorig"})
    k["_vp"] = vorige_periode(k["periode"]).to_numpy()
    m = k.rename(columns={"waarde": "nu"}).merge(prev, on=["regio", "gemeente", "dimensie", "_vp"])
    m = m.dropna(subset=["nu", "vorig"]).drop(columns="_vp").reset_index(drop=True)
    res = [verandering_aantal(int(a), int(b), alpha=alpha) for a, b in zip(m["nu"], m["vorig"])]  # per KPI row
    for f in ("schatting", "ondergrens", "bovengrens", "p_waarde", "toets"):
        m[f] = [getattr(r, f) for r in res]
    return m
