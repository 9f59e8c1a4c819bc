"""Report 3, Verzilvering (P*Q) (reports.md): how much of what was allocated was declared.

Values come from the KPI rows of :mod:`jeugdlib.metrics.verzilvering` (per year,
by aanbieder type and by product, over inspanning toewijzingen that ended in
the year) and :mod:`jeugdlib.metrics.budget`; the committed amount of the open
toewijzingen from :func:`jeugdlib.forecast.verplicht`.
"""

from __future__ import annotations

import pandas as pd

from .. import fmt, plots
from .laden import Rapport
from .opmaak import Tegel, bijschrift, kopje, let_op, samenvatting_blok, tabel, tegels, toon
from .reeksen import breed, laatste, periode_naam, reeks, waarde_in


def _k(r: Rapport) -> pd.DataFrame:
    return r.kpis("verzilvering", "budget")


def samenvatting(r: Rapport) -> None:
    """Verzilvering in the last complete year, micro against regulier, the unused amount."""
    k = _k(r)
    z = []
    p, v = laatste(k, "verzilvering", r.regio)
    if v is None:
        z.append("Er zijn nog geen beëindigde inspanningstoewijzingen in een volledig jaar om de verzilvering "
                 "te berekenen.")
    else:
        toe = waarde_in(k, "toegewezen_bedrag", r.regio, p)
        ged = waarde_in(k, "gedeclareerd_bedrag", r.regio, p)
        z.append(f"Van de inspanningstoewijzingen die in {p} eindigden, is {fmt.procent(v)} van het toegewezen "
                 f"bedrag gedeclareerd ({fmt.bedrag_kort(ged)} van {fmt.bedrag_kort(toe)}).")
        r.leg_vast(f"verzilvering_{p}", v)
        vorig = waarde_in(k, "verzilvering", r.regio, str(int(p) - 1))
        if vorig is not None:
            z.append(f"In {int(p) - 1} was dat {fmt.procent(vorig)}.")
        mi = waarde_in(k, "verzilvering", r.regio, p, dimensie="type=micro")
        re_ = waarde_in(k, "verzilvering", r.regio, p, dimensie="type=regulier")
        if mi is not None and re_ is not None:
            z.append(micro_regulier_zin(r, p, mi, re_))
        if toe is not None and ged is not None:
            z.append(f"Als alle in {p} beëindigde toewijzingen volledig waren gedeclareerd, had dat "
                     f"{fmt.bedrag_kort(toe - ged)} meer gekost.")
    b = k[(k["kpi"] == "budget_prognose") & (k["regio"] == r.regio) & (k["waarde"] > 1)]
    if len(b):
        z.append(f"{fmt.aantal(len(b), 'aanbieder gaat', 'aanbieders gaan')} volgens de lineaire prognose over "
                 "hun budgetplafond.")
    r.samenvatting = z
    toon(samenvatting_blok(z))


def micro_regulier_zin(r: Rapport, p: str, mi: float, re_: float) -> str:
    """The sentence comparing micro and reguliere aanbieders, resting on the Welch test of
    :func:`jeugdlib.metrics.toetsen.verschil_verzilvering` over the toewijzingen behind
    the two KPI values; "hoger"/"lager" only when the difference is significant."""
    from ..metrics import toetsen
    from ..metrics import verzilvering as V

    t = V.verzilvering_toewijzingen(r.cleaned, p, r.regio)
    a, b = t[t["aanbieder_type"] == "micro"], t[t["aanbieder_type"] == "regulier"]
    zin = (f"Micro-aanbieders verzilverden in {p} {fmt.procent(mi)}, reguliere aanbieders {fmt.procent(re_)}")
    try:
        u = toetsen.verschil_verzilvering(a["geleverd_cent"], a["toegewezen_cent"],
                                          b["geleverd_cent"], b["toegewezen_cent"])
    except ValueError:
        return zin + " (te weinig toewijzingen om het verschil te toetsen)."
    r.leg_vast(f"verzilvering_micro_regulier_p_{p}", u.p_waarde)
    if u.significant:
        return zin + (f": bij micro-aanbieders {'hoger' if u.schatting > 0 else 'lager'} (significant, "
                      f"{fmt.p_waarde(u.p_waarde)}, {u.toets}).")
    return zin + f": het verschil is niet significant ({fmt.p_waarde(u.p_waarde)}, {u.toets})."


def per_jaar(r: Rapport) -> None:
    """Verzilvering per year, total and by aanbieder type (chart and table)."""
    k = _k(r)
    sel = k[(k["kpi"] == "verzilvering") & (k["regio"] == r.regio) & (k["gemeente"] == "")
            & ((k["dimensie"] == "") | k["dimensie"].str.startswith("type="))].copy()
    if len(sel) == 0:
        toon(let_op("Geen verzilvering te berekenen: geen beëindigde inspanningstoewijzingen."))
        return
    sel["groep"] = sel["dimensie"].replace({"": "alle aanbieders", "type=micro": "micro-aanbieders",
                                            "type=regulier": "reguliere aanbieders"})
    sel = sel.sort_values("periode")
    fig = plots.staven(sel, "periode", "waarde", "groep", titel=f"Verzilvering per jaar naar type aanbieder, {r.regio}",
                       xlabel="jaar waarin de toewijzing eindigde", ylabel="gedeclareerd / toegewezen (%)",
                       eenheid="fractie", waarden=True,
                       leeswijzer="100% betekent dat alles wat werd toegewezen ook werd gedeclareerd; landelijk "
                                  "ligt de verzilvering rond 70-80%.")
    toon(kopje("Verzilvering per jaar"), fig)
    rows = []
    for _, x in reeks(k, "toegewezen_bedrag", r.regio).iterrows():
        ged = waarde_in(k, "gedeclareerd_bedrag", r.regio, x["periode"])
        rows.append({"jaar": x["periode"], "toegewezen": fmt.bedrag(x["waarde"]), "gedeclareerd": fmt.bedrag(ged),
                     "niet gedeclareerd": fmt.bedrag(x["waarde"] - ged) if ged is not None else fmt.LEEG,
                     "verzilvering": fmt.procent(waarde_in(k, "verzilvering", r.regio, x["periode"]))})
    if rows:
        df = pd.DataFrame(rows)
        toon(tabel(df, rechts=list(df.columns[1:])),
             bijschrift("Over inspanningstoewijzingen (P×Q) die in het jaar eindigden; toegewezen = maximaal "
                        "volume × tarief. “Niet gedeclareerd” is wat het had gekost als alles was gedeclareerd."))


def per_product(r: Rapport) -> None:
    """Verzilvering per product (latest complete year, and the years before)."""
    k = _k(r)
    w = breed(r, k[k["gemeente"] == ""], "verzilvering", rijen="dimensie", dimensie_prefix="productcode=")
    if len(w) == 0:
        return
    namen = dict(zip(r.cleaned.producten["productcode"].astype(str), r.cleaned.producten["omschrijving"].astype(str)))
    w.insert(1, "product", w["productcode"].map(namen).fillna(""))
    toon(kopje("Verzilvering per product"), tabel(w, rechts=list(w.columns[2:])),
         bijschrift(f"“{fmt.ONDERDRUKT}”: minder dan {r.params.klein_aantal} cliënten."))


def open_toewijzingen(r: Rapport) -> None:
    """What the open toewijzingen may still cost: remaining maximum and expected (committed) cost."""
    from ..forecast import horizon_einde, verplicht

    try:
        v = verplicht(r.cleaned)
    except Exception as exc:  # noqa: BLE001 - the section is optional
        toon(let_op(f"Verplichte kosten niet te berekenen: {exc}"))
        return
    v = v[v["regio"] == r.regio]
    if len(v) == 0:
        return
    tot_max, tot_v = float(v["maximum"].sum()), float(v["verplicht"].sum())
    r.leg_vast("open_maximum", tot_max)
    toon(kopje("Open toewijzingen"),
         tegels([Tegel("Nog toegewezen", fmt.bedrag_kort(tot_max), "als alles volledig wordt gedeclareerd"),
                 Tegel("Verwacht", fmt.bedrag_kort(tot_v), "met de recente verzilvering per product")]),
         bijschrift(f"Open inspanningstoewijzingen vanaf {fmt.datum(r.params.peildatum)} tot en met "
                    f"{fmt.datum(horizon_einde(r.params.peildatum) - pd.Timedelta(days=1))} (het einde van de "
                    "prognoseperiode), gewaardeerd tegen het tarief. Het rapport Prognose zet deze bedragen naast "
                    "de andere jaarcijfers."))


def budget(r: Rapport) -> None:
    """Budget uitnutting per aanbieder with the projection to year end, flagged above 100%."""
    from . import kosten

    kosten.budget(r)
