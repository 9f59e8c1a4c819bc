"""Report 4, Plekfinanciering (reports.md): clients per month against capacity.

From :mod:`jeugdlib.metrics.plek`: clients per month per plek product with the
capacity and the deviation class (:func:`plek_maanden`), the class counts, and
the KPIs bezetting, share of months aansluitend and kosten per cliënt.
"""

from __future__ import annotations

import pandas as pd

from .. import fmt, plots
from ..metrics import plek as P
from .laden import Rapport
from .opmaak import bijschrift, kopje, let_op, samenvatting_blok, tabel, toon
from .reeksen import breed, waarde_in

KLEUREN = {"aansluitend": "#009E73", "afwijking 1-5% boven": "#E69F00", "afwijking 1-5% onder": "#56B4E9",
           "afwijking >5% boven": "#D55E00", "afwijking >5% onder": "#0072B2"}


def maanden(r: Rapport) -> pd.DataFrame:
    if "plek_maanden" not in r._cache:
        m = P.plek_maanden(r.cleaned, regio=r.regio, gemeente="")
        m["klasse_teken"] = [k if k == "aansluitend" else f"{k} {t}" for k, t in zip(m["klasse"], m["teken"])]
        r._cache["plek_maanden"] = m
    return r._cache["plek_maanden"]


def _namen(r: Rapport) -> dict:
    p = r.cleaned.producten
    return dict(zip(p["productcode"].astype(str), p["omschrijving"].astype(str)))


def samenvatting(r: Rapport) -> None:
    m = maanden(r)
    z = []
    if len(m) == 0:
        z.append(f"In {r.regio} zijn in dit venster geen toewijzingen van producten met plekfinanciering.")
    else:
        bron = "plekken.csv" if (m["capaciteit_bron"] == "plekken").any() else "het jaargemiddelde"
        for pc, g in m.groupby("productcode"):
            n = len(g)
            ok = int((g["klasse"] == "aansluitend").sum())
            groot = int((g["klasse"] == "afwijking >5%").sum())
            z.append(f"{_namen(r).get(pc, pc)} ({pc}): in {fmt.getal(ok)} van de {fmt.getal(n)} maanden sloot het "
                     f"aantal cliënten aan op de capaciteit (binnen 1%), in {fmt.getal(groot)} maanden week het "
                     f"meer dan 5% af.")
            r.leg_vast(f"plek_maanden_aansluitend_{pc}", ok / n if n else None)
        z.append(f"Capaciteit volgens {bron}.")
    r.samenvatting = z
    toon(samenvatting_blok(z))


def per_product(r: Rapport) -> None:
    """Per plek product: clients per month against capacity, points coloured by class."""
    m = maanden(r)
    if len(m) == 0:
        toon(let_op("Geen plekfinanciering in deze regio en dit venster."))
        return
    for pc, g in m.groupby("productcode"):
        naam = _namen(r).get(pc, pc)
        g = g.copy()
        klein = g["clienten"].between(1, r.params.klein_aantal - 1)
        g.loc[klein, "clienten"] = float("nan")
        fig = plots.punten_tegen_lijn(g, "maand", "clienten", "capaciteit", "klasse_teken",
                                      titel=f"Cliënten per maand tegen de capaciteit: {naam}, {r.regio}",
                                      xlabel="maand", ylabel="aantal cliënten", kleuren=KLEUREN,
                                      leeswijzer="De lijn is de gecontracteerde capaciteit (plekken); groen = binnen "
                                                 "1%, oranje/lichtblauw = 1-5% boven/onder, rood/blauw = meer dan 5%.")
        toon(kopje(f"{naam} ({pc})"), fig)
        t = g.groupby("klasse_teken").size().reset_index(name="maanden")
        toon(tabel(t.rename(columns={"klasse_teken": "klasse"}), {"maanden": "aantal"}))
        if klein.any():
            toon(bijschrift(f"Maanden met minder dan {r.params.klein_aantal} cliënten zijn niet getoond."))


def kpis(r: Rapport) -> None:
    """Bezetting and kosten per cliënt per product and year."""
    k = r.kpis("plek")
    k = k[k["gemeente"] == ""]
    for kpi, titel, een in (("plek_bezetting", "Bezetting (cliënten / plekken)", "fractie"),
                            ("plek_kosten_per_client", "Kosten per cliënt (plekken × prijs / cliënten)", "euro")):
        w = breed(r, k, kpi, rijen="dimensie", dimensie_prefix="productcode=")
        if len(w):
            toon(kopje(titel, 3), tabel(w, rechts=list(w.columns[1:])))
