"""Report 5, Prognose (reports.md): three forecast methods side by side with their
backtest error, the chosen forecast with its interval, and the allocation-based
forecast of committed cost. Everything comes from :mod:`jeugdlib.forecast`;
besides it the linear and seasonal extrapolations of the current year
(:mod:`jeugdlib.metrics.kosten`).
"""

from __future__ import annotations

import pandas as pd

from .. import fmt, plots
from .. import forecast as F
from .laden import Rapport
from .opmaak import Tegel, bijschrift, kopje, let_op, samenvatting_blok, tabel, tegels, toon
from .reeksen import waarde_in


def prognose(r: Rapport, indexatie: float = 0.0474):
    """The :class:`jeugdlib.forecast.Prognose` of this region (computed once), or None."""
    key = ("prognose", indexatie)
    if key not in r._cache:
        fp = F.ForecastParams(indexatie=float(indexatie))
        progs = F.prognoses(r.cleaned, fp, peildatum=r.params.peildatum, regio=r.regio or None)
        r._cache[key] = (progs.get((r.regio,)), F.overzicht({k: v for k, v in progs.items() if k == (r.regio,)}), fp)
    return r._cache[key]


def samenvatting(r: Rapport, indexatie: float = 0.0474) -> None:
    p, ov, fp = prognose(r, indexatie)
    z = []
    jaar = r.huidig_jaar()
    if p is None or p.beste is None:
        z.append("Er is te weinig historie voor een prognose." + (" " + " ".join(p.redenen) if p else ""))
    else:
        pj = p.per_periode("jaar")
        rij = pj[pj["periode"] == jaar]
        if len(rij):
            x = rij.iloc[0]
            z.append(f"De verwachte zorgkosten over heel {jaar} zijn {fmt.bedrag_kort(x['waarde'])} "
                     f"({fmt.procent(fp.interval, 0)}-interval {fmt.bedrag_kort(x['ondergrens'])} tot "
                     f"{fmt.bedrag_kort(x['bovengrens'])}), volgens de methode {F.METHODE_LABELS[p.beste]}.")
            r.leg_vast(f"prognose_{jaar}", float(x["waarde"]))
        z.append(f"Die methode had in de terugtoets de kleinste fout: gemiddeld {fmt.procent(p.mape[p.beste])} "
                 f"per kwartaal (MAPE), tegen " + fmt.lijst([f"{fmt.procent(v)} voor {F.METHODE_LABELS[m]}"
                                                                for m, v in p.mape.items() if m != p.beste]) + ".")
        r.leg_vast("mape_beste", float(p.mape[p.beste]))
    k = r.kpis("kosten")
    lin = waarde_in(k, "kosten_prognose_lineair", r.regio, jaar)
    if lin is not None:
        z.append(f"Ter vergelijking: het lopende jaar lineair doorgetrokken geeft {fmt.bedrag_kort(lin)} (zoals in "
                 "Kostenontwikkeling); de tabel “Alle jaarcijfers naast elkaar” legt uit hoe elk jaarcijfer is gemaakt.")
    z.append(f"De methode “{F.METHODE_LABELS['vorig_jaar']}” rekent met een indexatie van de tarieven van "
             f"{fmt.procent(fp.indexatie)} per jaar.")
    r.samenvatting = z
    toon(samenvatting_blok(z))


def _vertraging_tekst(r: Rapport, fp: F.ForecastParams) -> str:
    """How the onvolledige months were found: the measured declaration lag, or the
    fixed lag when the data has no declaratiedatum (metrics.md 0.2)."""
    if F.heeft_declaratiedatum(r.cleaned):
        return (f"naar verwachting minder dan {fmt.procent(fp.volledig_drempel, 0)} gedeclareerd, volgens de "
                "gemeten declaratievertraging")
    return (f"de gegevens hebben geen declaratiedatum: de laatste {fp.lag_maanden} maanden vóór de peildatum "
            "gelden als onvolledig")


def methoden(r: Rapport, indexatie: float = 0.0474) -> None:
    """Monthly cost with the three forecasts, and the backtest table."""
    p, ov, fp = prognose(r, indexatie)
    if p is None:
        toon(let_op("Geen prognose: te weinig gegevens."))
        return
    real = p.realisatie.rename("waarde").reset_index().rename(columns={"index": "maand"})
    real = real[real["maand"] >= pd.Timestamp(r.params.start)]
    d = real.rename(columns={"waarde": "gedeclareerd"})
    for m in p.methoden:
        v = p.voorspelling[p.voorspelling["methode"] == m][["maand", "waarde", "ondergrens", "bovengrens"]]
        d = d.merge(v.rename(columns={"waarde": m, "ondergrens": f"{m}_onder", "bovengrens": f"{m}_boven"}),
                    on="maand", how="outer")
    lijnen_ = {"gedeclareerd": "gedeclareerd (tot nu)"}
    lijnen_.update({m: F.METHODE_LABELS[m] + (" (gekozen)" if m == p.beste else "") for m in p.methoden})
    b = p.beste
    fig = plots.band(d.sort_values("maand"), "maand", lijnen_, titel=f"Zorgkosten per maand en prognose, {r.regio}",
                     xlabel="maand", ylabel="kosten per maand (€)", eenheid="euro",
                     onder=f"{b}_onder" if b else None, boven=f"{b}_boven" if b else None,
                     band_naam=f"{fmt.procent(fp.interval, 0)}-interval gekozen methode",
                     onvolledig_vanaf=p.eerste_onvolledig,
                     onvolledig_tot=pd.Timestamp(r.laatste_dag).to_period("M").to_timestamp(),
                     leeswijzer=f"Grijs: vanaf {fmt.maand(p.eerste_onvolledig)} zijn de declaraties nog onvolledig "
                                f"({_vertraging_tekst(r, fp)}); die maanden worden voorspeld, net als de maanden "
                                "na de peildatum.")
    toon(kopje("Drie methoden naast elkaar"), fig)
    t = ov[["label", "gebruikt", "mape", "gekozen", "kwartalen"]].copy()
    t["gebruikt"] = t["gebruikt"].map({True: "ja", False: "nee"})
    t["gekozen"] = t["gekozen"].map({True: "✓", False: ""})
    t = t.rename(columns={"label": "methode", "mape": "fout (MAPE)", "kwartalen": "kwartalen getoetst"})
    toon(tabel(t, {"fout (MAPE)": "fractie", "kwartalen getoetst": "aantal"}),
         bijschrift("Terugtoets: voor elk van de laatste volledige kwartalen is de methode toegepast op de maanden "
                    "ervoor en vergeleken met wat werkelijk is gedeclareerd. MAPE = gemiddelde absolute fout in "
                    "procenten. " + " ".join(p.redenen)))
    pj = p.per_periode("kwartaal")
    pj = pj[pj["prognose"]]
    if len(pj):
        gelijk = (pj["ondergrens"] - pj["waarde"]).abs() < 0.5
        t2 = pd.DataFrame({"kwartaal": [fmt.periode(x) for x in pj["periode"]],
                           "prognose": [fmt.bedrag(x) for x in pj["waarde"]],
                           "ondergrens": [fmt.bedrag(x) + (" ¹" if g else "") for x, g in zip(pj["ondergrens"], gelijk)],
                           "bovengrens": [fmt.bedrag(x) for x in pj["bovengrens"]]})
        toon(kopje("Gekozen prognose per kwartaal", 3), tabel(t2, rechts=["prognose", "ondergrens", "bovengrens"]),
             bijschrift(f"Interval: {fmt.procent(fp.interval, 0)}. ¹ Ondergrens gelijk aan de prognose: in dit "
                        "kwartaal is al meer gedeclareerd dan de ondergrens van de methode, en een prognose ligt "
                        "nooit onder wat al binnen is; de onzekerheid zit dan alleen naar boven.")
             if gelijk.any() else bijschrift(f"Interval: {fmt.procent(fp.interval, 0)}."))


def verplicht(r: Rapport) -> None:
    """Allocation-based forecast of committed cost of the open toewijzingen."""
    v = F.verplicht(r.cleaned, peildatum=r.params.peildatum)
    v = v[v["regio"] == r.regio].sort_values("maand")
    if len(v) == 0:
        return
    fig = plots.band(v, "maand", {"maximum": "maximaal (alles gedeclareerd)", "verplicht": "verwacht (recente verzilvering)"},
                     titel=f"Kosten van de open toewijzingen per maand, {r.regio}", xlabel="maand",
                     ylabel="kosten per maand (€)", eenheid="euro",
                     leeswijzer="Alleen toewijzingen die op de peildatum openstaan; nieuwe toewijzingen komen "
                                "hier nog bij, daarom daalt de lijn.")
    r.leg_vast("verplicht_totaal", float(v["verplicht"].sum()))
    toon(kopje("Verplichte kosten op grond van open toewijzingen"),
         tegels([Tegel("Maximaal", fmt.bedrag_kort(v["maximum"].sum()), "als alles wordt gedeclareerd"),
                 Tegel("Verwacht", fmt.bedrag_kort(v["verplicht"].sum()), "met de recente verzilvering")]), fig)


def aansluiting(r: Rapport, indexatie: float = 0.0474) -> pd.DataFrame:
    """Every figure for the current year (and the open toewijzingen) that any report
    shows, side by side, with where it is shown and how it is made: the reconciliation
    of reports.md 5. One row per figure: ``cijfer``, ``waar`` (report), ``methode``,
    ``gerealiseerd`` (declared so far, in the figure), ``bijgeschat`` (added on top),
    ``totaal`` = gerealiseerd + bijgeschat (euro; bijgeschat NaN where the figure is not
    a year total).

    Declared so far is the KPI ``kosten`` of the year up to the peildatum; each
    forecast method's year total is its realised months plus its forecast months
    (:meth:`jeugdlib.forecast.Prognose.aangevuld`)."""
    jaar = r.huidig_jaar()
    k = r.kpis("kosten", "prognose")
    maand = fmt.maand(r.laatste_dag)
    ytd = waarde_in(k, "kosten", r.regio, jaar)
    rows = []

    def rij(cijfer, waar, methode, totaal, gerealiseerd=None):
        if totaal is None:
            return
        b = None if gerealiseerd is None else totaal - gerealiseerd
        rows.append({"cijfer": cijfer, "waar": waar, "methode": methode, "gerealiseerd": gerealiseerd,
                     "bijgeschat": b, "totaal": totaal})

    rij(f"Gedeclareerd {jaar} tot nu", "Kostenontwikkeling",
        f"declaraties met zorg in {jaar} tot de peildatum; recente maanden zijn nog onvolledig", ytd, ytd)
    m = r.params.peildatum.month - 1  # whole months from 1 January to the peildatum
    rij(f"Heel {jaar}, lineair", "Kostenontwikkeling",
        f"gedeclareerd over {fmt.aantal(m, 'hele maand', 'hele maanden')} × 12 / {m}",
        waarde_in(k, "kosten_prognose_lineair", r.regio, jaar), ytd)
    rij(f"Heel {jaar}, seizoen", "Kostenontwikkeling",
        f"gedeclareerd tot nu / aandeel van dezelfde maanden in de kosten van {int(jaar) - 1}",
        waarde_in(k, "kosten_prognose_seizoen", r.regio, jaar), ytd)
    p, _ov, fp = prognose(r, indexatie)
    if p is not None:
        for meth in p.methoden:
            a = p.aangevuld(meth)
            a = a[a.index.year == int(jaar)]
            if len(a) == 0:
                continue
            real = float(a.loc[~a["prognose"], "waarde"].sum())
            tot = float(a["waarde"].sum())
            uitleg = {"vorig_jaar": f"dezelfde maand vorig jaar × (1 + indexatie {fmt.procent(fp.indexatie)})"}
            rij(f"Heel {jaar}, {F.METHODE_LABELS[meth]}" + (" (gekozen)" if meth == p.beste else ""), "Prognose",
                f"volledige maanden gedeclareerd, vanaf {fmt.maand(p.eerste_onvolledig)} voorspeld"
                + (f"; {uitleg[meth]}" if meth in uitleg else ""), tot, real)
    try:
        v = F.verplicht(r.cleaned, peildatum=r.params.peildatum)
        v = v[v["regio"] == r.regio]
    except Exception:  # noqa: BLE001 - the committed cost is optional in the reconciliation
        v = pd.DataFrame()
    if len(v):
        eind = F.horizon_einde(r.params.peildatum) - pd.Timedelta(days=1)
        periode = f"{fmt.datum(r.params.peildatum)} t/m {fmt.datum(eind)}"
        rij("Nog toegewezen (maximum)", "Verzilvering, Prognose",
            f"open toewijzingen, {periode}: resterend volume × tarief", float(v["maximum"].sum()))
        rij("Verwacht uit open toewijzingen", "Verzilvering, Prognose, KPI-tabel (kosten_verplicht)",
            f"open toewijzingen, {periode}: maximum × recente verzilvering per product",
            float(v["verplicht"].sum()))
    return pd.DataFrame(rows, columns=["cijfer", "waar", "methode", "gerealiseerd", "bijgeschat", "totaal"])


def aansluiting_tabel(r: Rapport, indexatie: float = 0.0474) -> None:
    """The reconciliation table of :func:`aansluiting`, with the parameters it rests on."""
    a = aansluiting(r, indexatie)
    if len(a) == 0:
        return
    _, _, fp = prognose(r, indexatie)
    for _, x in a.iterrows():
        r.leg_vast(f"aansluiting_{x['cijfer']}", x["totaal"])
    toon(kopje("Alle jaarcijfers naast elkaar"),
         tabel(a, {"gerealiseerd": "euro", "bijgeschat": "euro", "totaal": "euro"}),
         bijschrift(f"Elk bedrag voor {r.huidig_jaar()} dat een rapport van deze regio toont, met hoe het is "
                    "gemaakt: totaal = gerealiseerd + bijgeschat. De cijfers verschillen omdat ze iets anders "
                    "schatten: lineair en seizoen trekken het gedeclareerde door, de prognosemethoden vullen de "
                    "onvolledige en toekomstige maanden aan. Indexatie van de tarieven: "
                    f"{fmt.procent(fp.indexatie)} per jaar. De open toewijzingen zijn geen jaartotaal: ze lopen "
                    f"tot het einde van de prognoseperiode ({fmt.datum(F.horizon_einde(r.params.peildatum) - pd.Timedelta(days=1))})."))
