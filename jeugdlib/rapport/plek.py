"""Report 4, Plekfinanciering (reports.md): clients per month against capacity.

From :mod:`jeugdlib.metrics.plek`: clients per month per plek product with the
capacity and the deviation class (:func:`plek_maanden`), the class counts, and
the KPIs bezetting, share of months aansluitend and kosten per cliënt.

The report looks at the years for which plekken.csv gives a capacity (in the
Noord-Limburg data: Venlo 2019-2021), whatever the report's own window: the
analysis window is widened back to the first plek year (:func:`plek_params`)
and the report says which years it shows and when plek financing stopped.

Privacy (reports.md): a month with fewer than ``klein_aantal`` clients is shown
neither as a point nor with its class (a class on a capacity of 9 would pin the
hidden count down); the class counts are over the shown months only, with the
hidden months as a row of their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from .. import engine, fmt, plots
from ..metrics import plek as P
from .laden import Rapport
from .opmaak import bijschrift, kopje, let_op, samenvatting_blok, tabel, toon
from .reeksen import breed

#: The class of a month whose client count is suppressed.
NIET_GETOOND = "niet getoond (minder dan 10 cliënten)"
#: Deviation classes: a diverging scheme (blue under, green on, orange/red above) whose
#: light and dark steps differ in lightness, so 1-5% and >5% are told apart in print.
KLEUREN = {"afwijking >5% onder": "#08519C", "afwijking 1-5% onder": "#9ECAE1", "aansluitend": "#009E73",
           "afwijking 1-5% boven": "#FDB863", "afwijking >5% boven": "#B2182B"}


def plek_jaren(r: Rapport) -> list[int]:
    """The years for which plekken.csv gives a capacity (any plek product)."""
    if "plek_jaren" not in r._cache:
        d = engine.df(r.cleaned.con, "SELECT DISTINCT jaar FROM ref_plekken WHERE jaar IS NOT NULL "
                                     "AND plekken IS NOT NULL ORDER BY jaar")
        r._cache["plek_jaren"] = [int(j) for j in d["jaar"]] if len(d) else []
    return r._cache["plek_jaren"]


def plek_params(r: Rapport):
    """The report's parameters with the window widened back to 1 January of the first
    plek year (when that lies before the window), so the plek years are all shown."""
    jaren = plek_jaren(r)
    if jaren and dt.date(jaren[0], 1, 1) < r.params.start:
        return dataclasses.replace(r.params, start=dt.date(jaren[0], 1, 1))
    return r.params


def _cleaned(r: Rapport):
    p = plek_params(r)
    return r.cleaned if p == r.params else r.cleaned.met_params(p)


def maanden(r: Rapport) -> pd.DataFrame:
    """Clients per month per plek product (the regio total), in the plek years when
    plekken.csv gives any, with ``getoond`` (client count at least ``klein_aantal``
    or 0) and ``klasse_teken`` (the class, :data:`NIET_GETOOND` for a hidden month)."""
    if "plek_maanden" not in r._cache:
        m = P.plek_maanden(_cleaned(r), regio=r.regio, gemeente="")
        jaren = plek_jaren(r)
        if jaren and len(m):
            m = m[m["jaar"].isin(jaren)].reset_index(drop=True)
        m["getoond"] = ~m["clienten"].between(1, r.params.klein_aantal - 1)
        m["klasse_teken"] = [NIET_GETOOND if not g else (k if k == "aansluitend" else f"{k} {t}")
                             for k, t, g in zip(m["klasse"], m["teken"], m["getoond"])]
        r._cache["plek_maanden"] = m
    return r._cache["plek_maanden"]


def _na_plekjaren(r: Rapport) -> int:
    """Months after the last plek year with clients of a plek product (all levels of the region)."""
    jaren = plek_jaren(r)
    if not jaren:
        return 0
    m = P.plek_maanden(_cleaned(r), regio=r.regio, gemeente="")
    return int(((m["jaar"] > jaren[-1]) & (m["clienten"] > 0)).sum())


def _namen(r: Rapport) -> dict:
    p = r.cleaned.producten
    return dict(zip(p["productcode"].astype(str), p["omschrijving"].astype(str)))


def _jaren_tekst(jaren: list[int]) -> str:
    if not jaren:
        return ""
    return str(jaren[0]) if len(jaren) == 1 else f"{jaren[0]} tot en met {jaren[-1]}"


def _bezetting(r: Rapport) -> pd.DataFrame:
    """Suppressed KPI rows of module plek over the plek years (regio total). The bezetting
    (mean of clients / capacity over the months) of a product and year with a hidden month
    is suppressed as well: with the shown months it would give the hidden count back
    (a total minus the other rows, reports.md)."""
    k = r.kpis("plek", params=plek_params(r))
    k = k[(k["gemeente"] == "") & (k["regio"] == r.regio)].copy()
    m = maanden(r)
    verborgen = {(f"productcode={pc}", str(j)) for pc, j in zip(m.loc[~m["getoond"], "productcode"],
                                                                 m.loc[~m["getoond"], "jaar"])}
    if verborgen:
        weg = (k["kpi"].isin(["plek_bezetting", "plek_maanden_aansluitend"])
               & pd.Series([(d, str(p)) in verborgen for d, p in zip(k["dimensie"], k["periode"])], index=k.index))
        k.loc[weg, "onderdrukt"] = True
        k.loc[weg, "waarde"] = float("nan")
    return k


def samenvatting(r: Rapport) -> None:
    m = maanden(r)
    jaren = plek_jaren(r)
    z = []
    if len(m) == 0:
        z.append(f"In {r.regio} zijn geen toewijzingen van producten met plekfinanciering"
                 + (f" in de jaren met plekken ({_jaren_tekst(jaren)})." if jaren else "."))
    else:
        if jaren:
            na = _na_plekjaren(r)
            z.append(f"Dit rapport toont de jaren waarvoor plekken.csv een capaciteit geeft: {_jaren_tekst(jaren)}. "
                     + (f"Na {jaren[-1]} is er geen plekfinanciering meer: er zijn geen plekken meer afgesproken"
                        + (f", maar wel nog {fmt.getal(na)} productmaanden met cliënten." if na else
                           " en geen cliënten meer op plekproducten.")))
        else:
            z.append("plekken.csv geeft geen capaciteit; de capaciteit is het jaargemiddelde van het aantal "
                     "cliënten per maand.")
        kb = _bezetting(r)
        for pc, g in m.groupby("productcode"):
            zicht = g[g["getoond"]]
            n, ok = len(zicht), int((zicht["klasse"] == "aansluitend").sum())
            groot = int((zicht["klasse"] == "afwijking >5%").sum())
            zin = (f"{_namen(r).get(pc, pc)} ({pc}): in {fmt.getal(ok)} van de {fmt.getal(n)} getoonde maanden "
                   f"sloot het aantal cliënten aan op de capaciteit (binnen 1%), in {fmt.getal(groot)} "
                   f"{'maand' if groot == 1 else 'maanden'} week het meer dan 5% af")
            b = kb[(kb["kpi"] == "plek_bezetting") & (kb["dimensie"] == f"productcode={pc}")
                   & ~kb["onderdrukt"].astype(bool)].dropna(subset=["waarde"])
            if len(b):
                lo, hi = float(b["waarde"].min()), float(b["waarde"].max())
                zin += (f"; de bezetting was {fmt.procent(lo, 0)}" if fmt.procent(lo, 0) == fmt.procent(hi, 0)
                        else f"; de bezetting lag per jaar tussen {fmt.procent(lo, 0)} en {fmt.procent(hi, 0)}")
                zin += " van de plekken" + (" (meer cliënten dan plekken)" if lo > 1 else "")
                r.leg_vast(f"plek_bezetting_min_{pc}", lo)
                r.leg_vast(f"plek_bezetting_max_{pc}", hi)
            z.append(zin + ".")
            r.leg_vast(f"plek_maanden_aansluitend_{pc}", ok / n if n else None)
    r.samenvatting = z
    toon(samenvatting_blok(z))


def per_product(r: Rapport) -> None:
    """Per plek product: clients per month against capacity, points coloured by class."""
    m = maanden(r)
    if len(m) == 0:
        toon(let_op("Geen plekfinanciering in deze regio."))
        return
    jt = _jaren_tekst(plek_jaren(r))
    for pc, g in m.groupby("productcode"):
        naam = _namen(r).get(pc, pc)
        g = g.copy()
        g["clienten_getoond"] = g["clienten"].where(g["getoond"]).astype(float)
        fig = plots.punten_tegen_lijn(g, "maand", "clienten_getoond", "capaciteit", "klasse_teken",
                                      titel=f"Cliënten per maand tegen de capaciteit: {naam}, {r.regio}"
                                            + (f", {jt}" if jt else ""),
                                      xlabel="maand", ylabel="aantal cliënten", kleuren=KLEUREN,
                                      leeswijzer="De lijn is de gecontracteerde capaciteit (plekken); groen = binnen "
                                                 "1%, licht oranje/lichtblauw = 1-5% boven/onder, donkerrood/"
                                                 "donkerblauw = meer dan 5% boven/onder.")
        toon(kopje(f"{naam} ({pc})"), fig)
        t = g.groupby("klasse_teken").size().reset_index(name="maanden")
        volgorde = {k: i for i, k in enumerate(list(KLEUREN) + [NIET_GETOOND])}
        t = t.assign(_o=t["klasse_teken"].map(volgorde).fillna(99)).sort_values("_o").drop(columns="_o")
        toon(tabel(t.rename(columns={"klasse_teken": "klasse"}), {"maanden": "aantal"}))
        if (~g["getoond"]).any():
            toon(bijschrift(f"Maanden met minder dan {r.params.klein_aantal} cliënten zijn niet getoond, ook hun "
                            "klasse niet, en de bezetting van dat jaar ook niet: die zouden het aantal verraden."))


def kpis(r: Rapport) -> None:
    """Bezetting and kosten per cliënt per product and year, over the plek years."""
    k = _bezetting(r)
    jaren = {str(j) for j in plek_jaren(r)}
    if jaren:
        k = k[k["periode"].astype(str).isin(jaren)]
    for kpi, titel in (("plek_bezetting", "Bezetting (cliënten / plekken)"),
                       ("plek_kosten_per_client", "Kosten per cliënt (plekken × prijs / cliënten)")):
        w = breed(r, k, kpi, rijen="dimensie", dimensie_prefix="productcode=")
        if len(w):
            toon(kopje(titel, 3), tabel(w, rechts=list(w.columns[1:])))
