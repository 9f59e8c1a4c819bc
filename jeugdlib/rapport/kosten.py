"""Report 1, Kostenontwikkeling (reports.md): the sections the notebook shows.

Every function takes the :class:`Rapport` and displays one section: tiles,
charts and tables from the suppressed KPI rows of the metric modules volume,
kosten, aandelen, zorgduur, budget and verdeelsleutel, and the year-on-year
tests of :mod:`jeugdlib.metrics.toetsen`. Nothing here computes a metric.
"""

from __future__ import annotations

import pandas as pd

from .. import fmt, plots
from ..metrics import toetsen
from . import zinnen
from .laden import Rapport
from .opmaak import Tegel, bijschrift, kopje, let_op, samenvatting_blok, tabel, tegels, tekst, toon
from .reeksen import breed, laatste, onvolledig_vanaf, periode_naam, reeks, waarde_in

MODULES = ("volume", "kosten", "aandelen", "zorgduur", "budget", "verdeelsleutel")
#: Counts of aanbieders that only mean something over a whole year (a half year has more small ones).
DEELJAAR_ONVERGELIJKBAAR = ("aanbieders_klein", "aanbieders_een_client")
#: Fixed colours per financieringsvorm and segment: the same in every region's report.
VASTE_KLEUREN = {"inspanning": "#0072B2", "output": "#E69F00", "traject": "#009E73", "plek": "#CC79A7",
                 "budget": "#56B4E9", "taakgericht": "#D55E00", "onbekend": "#9A9A9A", "overig": "#9A9A9A"}


def _k(r: Rapport) -> pd.DataFrame:
    return r.kpis(*MODULES)


def _jaren(r: Rapport) -> tuple[str | None, str | None]:
    """(last complete year, the year before) of the window."""
    j = r.jaren()
    vol = [str(p) for p in j.loc[~j["voorlopig"], "periode"]]
    return (vol[-1] if vol else None), (vol[-2] if len(vol) > 1 else None)


def _toets_aantal(k, kpi, regio, jaar, vorig):
    nu, vo = waarde_in(k, kpi, regio, jaar), waarde_in(k, kpi, regio, vorig)
    if nu is None or vo is None:
        return nu, vo, None
    return nu, vo, toetsen.verandering_aantal(int(round(nu)), int(round(vo)))


def samenvatting(r: Rapport) -> None:
    """The Samenvatting: cost, projection, clients and toewijzingen (tested), NGA and micro shares."""
    k = _k(r)
    jaar, vorig = _jaren(r)
    zinnen_ = []
    if jaar:
        kost = waarde_in(k, "kosten", r.regio, jaar)
        groei = waarde_in(k, "kosten_groei", r.regio, jaar)
        if kost is not None:
            zinnen_.append(zinnen.kosten_jaar(jaar, kost, vorig, groei))
            r.leg_vast("kosten_" + jaar, kost)
            r.leg_vast("kosten_groei_" + jaar, groei)
        if vorig:
            v = r.kpis("sturing")
            v = v[(v["kpi"] == "kosten_verklaring") & (v["regio"] == r.regio) & (v["gemeente"] == "")
                  & (v["periode"] == jaar)]
            if len(v) and not v["onderdrukt"].any():
                eff = {d.split("=", 1)[1]: float(w) for d, w in zip(v["dimensie"], v["waarde"])}
                zinnen_.append(zinnen.kosten_verklaring(jaar, vorig, eff))
                r.leg_vast("kosten_verklaring_" + jaar, sum(eff.values()))
    nu_jaar = r.huidig_jaar()
    ytd = waarde_in(k, "kosten", r.regio, nu_jaar)
    lin = waarde_in(k, "kosten_prognose_lineair", r.regio, nu_jaar)
    sei = waarde_in(k, "kosten_prognose_seizoen", r.regio, nu_jaar)
    if ytd is not None and nu_jaar != jaar:
        zinnen_.append(zinnen.kosten_prognose(nu_jaar, ytd, fmt.maand(r.laatste_dag), lin, sei,
                                              waarde_in(k, "kosten", r.regio, str(int(nu_jaar) - 1))))
        r.leg_vast("kosten_prognose_lineair_" + nu_jaar, lin)
    if jaar and vorig:
        for kpi, naam in (("clienten", "cliënten"), ("toewijzingen", "toewijzingen")):
            nu, vo, t = _toets_aantal(k, kpi, r.regio, jaar, vorig)
            if t is not None:
                zinnen_.append(zinnen.aantal_verandering(naam, jaar, vorig, nu, vo, t))
                r.leg_vast(f"{kpi}_{jaar}", nu)
                r.leg_vast(f"{kpi}_p_{jaar}", t.p_waarde)
    p_nga, nga = laatste(k, "aandeel_nga", r.regio, volledig=False)
    if nga is not None:
        vorig_p = str(int(p_nga) - 1)
        zinnen_.append(zinnen.aandeel_stand("niet-gecontracteerd aanbod (NGA)", periode_naam(r, p_nga, p_nga == nu_jaar),
                                            nga, vorig_p, waarde_in(k, "aandeel_nga", r.regio, vorig_p)))
        r.leg_vast("aandeel_nga_" + p_nga, nga)
    p_m, micro = laatste(k, "aandeel_aanbiedertype", r.regio, volledig=False, dimensie="type=micro")
    if micro is not None:
        vorig_p = str(int(p_m) - 1)
        zinnen_.append(zinnen.aandeel_stand("micro-aanbieders", periode_naam(r, p_m, p_m == nu_jaar), micro,
                                            vorig_p, waarde_in(k, "aandeel_aanbiedertype", r.regio, vorig_p,
                                                               dimensie="type=micro")))
    r.samenvatting = zinnen_
    toon(samenvatting_blok(zinnen_))


def kpi_tegels(r: Rapport) -> None:
    """Headline tiles for the last complete year (reports.md 1)."""
    k = _k(r)
    jaar, _ = _jaren(r)
    if jaar is None:
        toon(let_op("Er is nog geen volledig jaar in het venster."))
        return
    def w(kpi):
        return waarde_in(k, kpi, r.regio, jaar)
    def onderdrukt(kpi):
        s = reeks(k, kpi, r.regio)
        s = s[s["periode"] == jaar]
        return bool(len(s) and s["onderdrukt"].iloc[0])
    items = [
        Tegel("Gemeenten", fmt.getal(len(r.gemeenten)), r.regio),
        Tegel("Cliënten", fmt.waarde(w("clienten"), "aantal", onderdrukt=onderdrukt("clienten")),
              f"met een toewijzing in {jaar}"),
        Tegel("Toewijzingen", fmt.waarde(w("toewijzingen"), "aantal", onderdrukt=onderdrukt("toewijzingen")),
              f"lopend in {jaar}"),
        Tegel("Aanbieders", fmt.waarde(w("aanbieders"), "aantal"), f"met declaraties in {jaar}"),
        Tegel("Gemiddelde duur", fmt.maanden(w("duur_gem")), f"toewijzingen beëindigd in {jaar}"),
        Tegel("Kosten per cliënt", fmt.waarde(w("kosten_per_client"), "euro",
                                              onderdrukt=onderdrukt("kosten_per_client")), f"in {jaar}"),
    ]
    for kpi in ("clienten", "toewijzingen", "aanbieders", "kosten_per_client", "duur_gem"):
        r.leg_vast(f"tegel_{kpi}_{jaar}", w(kpi))
    toon(kopje(f"Kerncijfers {jaar}"), tegels(items))


def volume_per_jaar(r: Rapport) -> None:
    """Cliënten and toewijzingen per year, each year tested against the year before."""
    k = _k(r)
    toon(kopje("Cliënten en toewijzingen per jaar"))
    per_jaar: dict[str, dict] = {}
    for kpi, naam in (("clienten", "Cliënten"), ("toewijzingen", "Toewijzingen"),
                      ("toewijzingen_per_client", "Toewijzingen per cliënt")):
        for _, x in reeks(k, kpi, r.regio).iterrows():  # a handful of years
            rij = per_jaar.setdefault(x["periode"], {"jaar": periode_naam(r, x["periode"], x["voorlopig"])})
            rij[naam] = fmt.waarde(x["waarde"], "aantal", onderdrukt=x["onderdrukt"])
            if kpi == "toewijzingen_per_client":
                continue
            vorig = waarde_in(k, kpi, r.regio, str(int(x["periode"]) - 1))
            kol = f"{naam}: verandering"
            if not x["voorlopig"] and vorig and not pd.isna(x["waarde"]):
                t = toetsen.verandering_aantal(int(x["waarde"]), int(vorig))
                rij[kol] = (f"{fmt.procent(t.schatting, teken=True)} "
                            f"({'significant' if t.significant else 'niet sign.'}, {fmt.p_waarde(t.p_waarde)})")
            else:
                rij[kol] = fmt.LEEG
    df = pd.DataFrame([per_jaar[p] for p in sorted(per_jaar)]).fillna(fmt.LEEG)
    cols = ["jaar", "Cliënten", "Cliënten: verandering", "Toewijzingen", "Toewijzingen: verandering",
            "Toewijzingen per cliënt"]
    df = df[[c for c in cols if c in df.columns]]
    toon(tabel(df, rechts=list(df.columns[1:])),
         bijschrift("Verandering ten opzichte van het jaar ervoor, getoetst met een Poisson-toets (score, "
                    "statsmodels test_poisson_2indep); een voorlopig jaar wordt niet getoetst."))
    d = pd.concat([reeks(k, "clienten", r.regio).assign(reeks="cliënten"),
                   reeks(k, "toewijzingen", r.regio).assign(reeks="toewijzingen")])
    d["jaar"] = [periode_naam(r, p, v) for p, v in zip(d["periode"], d["voorlopig"])]
    fig = plots.staven(d, "jaar", "waarde", "reeks", titel=f"Cliënten en toewijzingen per jaar, {r.regio}",
                       xlabel="jaar", ylabel="aantal", eenheid="aantal", legenda=None,
                       leeswijzer="Het laatste jaar loopt tot de peildatum en is daarom lager; "
                                  "vergelijk volledige jaren.")
    toon(fig)


def kosten_per_jaar(r: Rapport) -> None:
    """Kosten per year with growth, and both extrapolations of the current year."""
    k = _k(r)
    toon(kopje("Kosten per jaar"))
    s = reeks(k, "kosten", r.regio)
    s["jaar"] = [periode_naam(r, p, v) for p, v in zip(s["periode"], s["voorlopig"])]
    s["soort"] = "gedeclareerd"
    nu = r.huidig_jaar()
    extra = []
    for kpi, naam in (("kosten_prognose_lineair", "lineair"),
                      ("kosten_prognose_seizoen", "seizoen")):
        v = waarde_in(k, kpi, r.regio, nu)
        if v is not None:
            extra.append({"jaar": f"{nu}\n{naam}", "waarde": v, "soort": "prognose"})
    d = pd.concat([s[["jaar", "waarde", "soort"]], pd.DataFrame(extra)], ignore_index=True)
    fig = plots.staven(d, "jaar", "waarde", titel=f"Kosten per jaar en prognose {nu}, {r.regio}",
                       xlabel="jaar", ylabel="kosten (€)", eenheid="euro", waarden=True,
                       kleuren=None,
                       leeswijzer=f"{nu} loopt tot en met {fmt.maand(r.laatste_dag)}; de laatste twee staven "
                                  f"schatten heel {nu} (lineair en met het seizoenspatroon van het vorige jaar).")
    # colour the projections differently
    ax = fig.axes[0]
    for patch, soort in zip(ax.patches, d["soort"]):
        if soort == "prognose":
            patch.set_facecolor(plots.KLEUREN[4])
            patch.set_hatch("//")
            patch.set_edgecolor("white")
    toon(fig)
    g = reeks(k, "kosten_groei", r.regio)
    rows = []
    for _, x in s.iterrows():
        gr = g.loc[g["periode"] == x["periode"], "waarde"]
        rows.append({"jaar": x["jaar"], "kosten": fmt.bedrag(x["waarde"]),
                     "groei t.o.v. vorig jaar": fmt.procent(gr.iloc[0], teken=True) if len(gr) else fmt.LEEG})
    for e_ in extra:
        rows.append({"jaar": e_["jaar"].replace("\n", " prognose "), "kosten": fmt.bedrag(e_["waarde"]),
                     "groei t.o.v. vorig jaar": fmt.procent(e_["waarde"] / waarde_in(k, "kosten", r.regio, str(int(nu) - 1)) - 1, teken=True)
                     if waarde_in(k, "kosten", r.regio, str(int(nu) - 1)) else fmt.LEEG})
    toon(tabel(pd.DataFrame(rows), rechts=["kosten", "groei t.o.v. vorig jaar"]))


def kosten_verdeling(r: Rapport) -> None:
    """Kosten per gemeente, segment and financieringsvorm."""
    k = _k(r)
    toon(kopje("Kosten per gemeente"))
    w = breed(r, k, "kosten")
    toon(tabel(w, rechts=list(w.columns[1:]), totaal=True))
    for dim, naam in (("segment", "segment"), ("financieringsvorm", "financieringsvorm")):
        sel = k[(k["kpi"] == "kosten") & (k["regio"] == r.regio) & (k["gemeente"] == "")
                & k["dimensie"].str.startswith(dim + "=")].copy()
        if len(sel) == 0:
            continue
        sel["waarde_"] = sel["waarde"].astype(float)
        sel[naam] = sel["dimensie"].str.slice(len(dim) + 1)
        sel["jaar"] = [periode_naam(r, p, v) for p, v in zip(sel["periode"], sel["voorlopig"])]
        sel = sel.sort_values(["periode", naam])
        waarden_ = sorted(sel[naam].unique())
        kleuren = {w: VASTE_KLEUREN.get(w.lower(), plots.KLEUREN[i % len(plots.KLEUREN)]) for i, w in enumerate(waarden_)}
        fig = plots.staven(sel, "jaar", "waarde_", naam, gestapeld=True, titel=f"Kosten per {naam} en jaar, {r.regio}",
                           xlabel="jaar", ylabel="kosten (€)", eenheid="euro", legenda=naam, waarden=True,
                           kleuren=kleuren,
                           leeswijzer=f"Elke staaf is het totaal van een jaar, opgedeeld naar {naam}; "
                                      "het laatste jaar is nog niet volledig.")
        toon(kopje(f"Kosten per {naam}", 3), fig)


def kosten_per_client(r: Rapport) -> None:
    """Kosten per cliënt per gemeente and year."""
    k = _k(r)
    toon(kopje("Kosten per cliënt"))
    w = breed(r, k, "kosten_per_client")
    toon(tabel(w, rechts=list(w.columns[1:]), totaal=True),
         bijschrift("Kosten gedeeld door het aantal cliënten met een positief gedeclareerd bedrag. "
                    f"“{fmt.ONDERDRUKT}”: minder dan {r.params.klein_aantal} cliënten, niet getoond."))


def aanbieders_per_maand(r: Rapport) -> None:
    """Aanbieders with declarations per month."""
    km = r.kpis("kosten", per="maand")
    s = reeks(km, "aanbieders", r.regio)
    if len(s) == 0:
        return
    s["maand"] = pd.to_datetime(s["periode"] + "-01")
    onvolledig = onvolledig_vanaf(r)
    grijs = onvolledig is not None and s["maand"].max() >= onvolledig
    fig = plots.lijnen(s, "maand", "waarde", titel=f"Aanbieders met declaraties per maand, {r.regio}",
                       xlabel="maand", ylabel="aantal aanbieders", eenheid="aantal",
                       voorlopig_vanaf=onvolledig if grijs else None, voorlopig_tekst="onvolledig",
                       leeswijzer=("In de grijze maanden zijn volgens de gemeten declaratievertraging nog niet "
                                   "alle declaraties binnen: daar kunnen nog aanbieders bijkomen. "
                                   if grijs else "Alle getoonde maanden zijn naar verwachting volledig "
                                                 "gedeclareerd. ")
                                  + "Een aanbieder telt in een maand als hij zorg in die maand declareerde.")
    toon(kopje("Aanbieders per maand"), fig)


def aandelen(r: Rapport) -> None:
    """NGA share (total, per segment), maatwerk/meerwerk, micro/regulier."""
    k = _k(r)
    toon(kopje("Aandelen in de kosten"))
    nga = k[(k["kpi"] == "aandeel_nga") & (k["regio"] == r.regio) & (k["gemeente"] == "")].copy()
    if len(nga):
        nga["segment"] = nga["dimensie"].str.replace("segment=", "", regex=False).replace("", "alle segmenten")
        w = breed(r, nga.assign(dimensie=nga["segment"]), "aandeel_nga", rijen="dimensie", dimensie_prefix="")
        w = w.rename(columns={"Dimensie": "Segment"})
        toon(kopje("Niet-gecontracteerd aanbod (NGA)", 3), tabel(w, rechts=list(w.columns[1:])),
             bijschrift("Aandeel van de kosten bij aanbieders zonder contract op de begindatum van de "
                        "geleverde zorg."))
    nga_per_product(r)
    parts = []
    for kpi, prefix, naam in (("aandeel_variant", "variant=", "variant"),
                              ("aandeel_aanbiedertype", "type=", "type aanbieder")):
        sel = k[(k["kpi"] == kpi) & (k["regio"] == r.regio) & (k["gemeente"] == "")].copy()
        if len(sel) == 0:
            continue
        sel["groep"] = naam + ": " + sel["dimensie"].str.slice(len(prefix))
        parts.append(sel)
    if parts:
        d = pd.concat(parts)
        d["jaar"] = [periode_naam(r, p, v) for p, v in zip(d["periode"], d["voorlopig"])]
        d = d[~d["groep"].str.endswith(": overig") & ~d["groep"].str.endswith(": regulier")]
        fig = plots.lijnen(d.sort_values("periode"), "jaar", "waarde", "groep",
                           titel=f"Aandeel maatwerk, meerwerk en micro-aanbieders in de kosten, {r.regio}",
                           xlabel="jaar", ylabel="aandeel van de kosten (%)", eenheid="fractie", legenda=None,
                           leeswijzer="Een stijgende lijn betekent dat een groter deel van het geld naar "
                                      "deze producten of aanbieders gaat.")
        toon(kopje("Maatwerk, meerwerk en micro-aanbieders", 3), fig)


def nga_per_product(r: Rapport) -> None:
    """NGA share within each product with NGA cost (:func:`jeugdlib.metrics.aandelen.aandeel_nga_per_product`),
    suppressed below ``klein_aantal`` clients like a KPI."""
    from ..metrics import aandelen as A
    from .laden import _afwerken

    if "nga_product" not in r._cache:
        rows = A.aandeel_nga_per_product(r.cleaned)
        rows.insert(0, "kpi", "aandeel_nga_product")
        rows["eenheid"] = "fractie"
        r._cache["nga_product"] = _afwerken(rows, r.params)
    k = r._cache["nga_product"]
    k = k[(k["regio"] == r.regio) & (k["gemeente"] == "")]
    met = k.groupby("dimensie")["waarde"].max()
    k = k[k["dimensie"].isin(met[met > 0].index)]
    if len(k) == 0:
        return
    w = breed(r, k, "aandeel_nga_product", rijen="dimensie", dimensie_prefix="productcode=")
    namen = dict(zip(r.cleaned.producten["productcode"].astype(str), r.cleaned.producten["omschrijving"].astype(str)))
    w.insert(1, "product", w["productcode"].map(namen).fillna(""))
    toon(kopje("NGA per product", 3), tabel(w, rechts=list(w.columns[2:])),
         bijschrift("Per product met NGA-kosten: het deel van de kosten van dat product bij aanbieders zonder contract. "
                    f"“{fmt.ONDERDRUKT}”: minder dan {r.params.klein_aantal} cliënten."))


def concentratie(r: Rapport) -> None:
    """Top-10 share, small aanbieders, aanbieders with one client."""
    k = _k(r)
    rows = []
    for kpi, naam, een in (("aanbieders", "Aanbieders met declaraties", "aantal"),
                           ("aandeel_top10", "Aandeel van de 10 grootste aanbieders", "fractie"),
                           ("aanbieders_klein", "Aanbieders met minder dan € 20.000", "aantal"),
                           ("aanbieders_een_client", "Aanbieders met één cliënt", "aantal")):
        s = reeks(k, kpi, r.regio)
        rij = {"": naam}
        for _, x in s.iterrows():
            # a count over part of a year (fewer than € 20.000, one client) is not comparable with whole years
            deeljaar = bool(x["voorlopig"]) and kpi in DEELJAAR_ONVERGELIJKBAAR
            rij[periode_naam(r, x["periode"], x["voorlopig"])] = (
                "n.v.t." if deeljaar else fmt.waarde(x["waarde"], een, onderdrukt=x["onderdrukt"]))
        rows.append(rij)
    df = pd.DataFrame(rows).fillna(fmt.LEEG)
    toon(kopje("Concentratie bij aanbieders"), tabel(df, rechts=list(df.columns[1:])),
         bijschrift("n.v.t.: over een deel van het jaar declareren meer aanbieders minder dan € 20.000 en hebben "
                    "meer aanbieders één cliënt; dat aantal is niet te vergelijken met volledige jaren."))


def budget(r: Rapport) -> None:
    """Budget uitnutting per aanbieder where plafonds are given."""
    k = _k(r)
    b = k[(k["kpi"].isin(["budget_uitnutting", "budget_prognose"])) & (k["regio"] == r.regio)]
    if len(b) == 0:
        return
    namen = dict(zip(r.cleaned.aanbieders["agb"].astype(str), r.cleaned.aanbieders["naam"].astype(str)))
    b = b.assign(agb=b["dimensie"].str.replace("agb=", "", regex=False))
    w = b.pivot_table(index=["agb", "periode"], columns="kpi", values="waarde", aggfunc="first").reset_index()
    for c in ("budget_uitnutting", "budget_prognose"):
        w[c] = pd.to_numeric(w[c], errors="coerce").astype("float64") if c in w else float("nan")
    w["aanbieder"] = w["agb"].map(namen).fillna(w["agb"])
    w = w.sort_values(["periode", "aanbieder"])
    boven = (w["budget_uitnutting"].fillna(0) > 1) | (w["budget_prognose"].fillna(0) > 1)
    out = pd.DataFrame({"aanbieder": w["aanbieder"], "jaar": w["periode"],
                        "uitnutting tot nu": w["budget_uitnutting"].map(fmt.procent),
                        "prognose jaareinde": w["budget_prognose"].map(fmt.procent),
                        "signaal": ["boven plafond" if x else "" for x in boven]})
    toon(kopje("Budgetplafonds"), tabel(out, rechts=["uitnutting tot nu", "prognose jaareinde"]),
         bijschrift("Gedeclareerd dit jaar gedeeld door het plafond; de prognose trekt het lopende jaar "
                    "lineair door tot het jaareinde."))


def verdeelsleutel(r: Rapport) -> None:
    """The kostenverdeling over gemeenten (verdeelsleutel), latest year: each part's share,
    the weights, and in euro what each gemeente would pay of the region's cost of that year."""
    from ..metrics import verdeelsleutel as V

    k = _k(r)
    v = k[(k["kpi"] == "verdeelsleutel") & (k["regio"] == r.regio) & (k["gemeente"] != "")]
    if len(v) == 0:
        return
    jaar = sorted(v["periode"].unique())[-1]
    v = v[v["periode"] == jaar].copy()
    namen_deel = {"gemeente": "gelijk deel (1/N)", "jeugdigen": "jeugdigen", "toewijzingen": "toewijzingen",
                  "declaratieregels": "declaratieregels"}
    v["deel"] = v["dimensie"].str.replace("deel=", "", regex=False).replace("", "totaal")
    w = v.pivot_table(index="gemeente", columns="deel", values="waarde", aggfunc="first")
    w.index = [r.gemeentenaam(c) for c in w.index]
    delen = [d for d in V.DELEN if d in w.columns]
    w = w[delen + (["totaal"] if "totaal" in w.columns else [])].sort_index()
    df = w.reset_index().rename(columns={"index": "Gemeente", **{d: namen_deel[d] for d in delen},
                                         "totaal": "aandeel (gewogen)"})
    formaten = {c: "fractie" for c in df.columns[1:]}
    kjaar, _ = _jaren(r)  # the example amount: the cost of the last complete year, never a part year
    kost = waarde_in(k, "kosten", r.regio, kjaar) if kjaar else None
    if kost is not None and "totaal" in w.columns:
        exact = w["totaal"].fillna(0).to_numpy(dtype=float) * round(kost)
        df[f"bedrag bij kosten {kjaar}"] = V.largest_remainder(exact, int(round(kost)))
        formaten[f"bedrag bij kosten {kjaar}"] = "euro"
    gew = fmt.lijst([f"{namen_deel[d]} {fmt.procent(V.ZUID_LIMBURG[d], 0)}" for d in delen])
    toon(kopje(f"Kostenverdeling over de gemeenten ({jaar})"), tabel(df, formaten),
         bijschrift(f"Aandeel van elke gemeente per deel van de verdeelsleutel (metrics.md §9), gewichten: {gew}; "
                    "het gewogen aandeel is de som van aandeel × gewicht. Een deel zonder gegevens valt weg en de "
                    "andere gewichten worden naar rato opgehoogd. Het bedrag verdeelt als voorbeeld de kosten van "
                    f"de regio in {kjaar} ({fmt.bedrag(kost)}) met deze sleutel (afgerond op hele euro's, de "
                    "bedragen tellen precies op)." if kost is not None else
                    f"Aandeel per deel van de verdeelsleutel (metrics.md §9), gewichten: {gew}."))
