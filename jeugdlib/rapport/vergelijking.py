"""Report 6, Regiovergelijking (reports.md): all regions in the data and the total.

Per KPI a table (regions as rows, the last complete year) and a chart; shares
and rates as funnel plots against size with binomial control limits
(:func:`jeugdlib.plots.funnel`), with every gemeente as a point and the
report's own region highlighted, so small gemeenten are not ranked on noise.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from .. import config, fmt, plots
from .laden import Rapport
from .opmaak import bijschrift, kopje, let_op, samenvatting_blok, tabel, toon
from .reeksen import waarde_in

#: (module, kpi, dimensie, Dutch name, eenheid) shown in the comparison table.
KPIS = [
    ("volume", "clienten", "", "Cliënten", "aantal"),
    ("kosten", "kosten", "", "Kosten", "euro"),
    ("kosten", "kosten_per_client", "", "Kosten per cliënt", "euro"),
    ("volume", "toewijzingen_per_client", "", "Toewijzingen per cliënt", "aantal"),
    ("volume", "jeugdigen_met_jeugdhulp", "", "Jeugdigen met jeugdhulp", "fractie"),
    ("aandelen", "aandeel_nga", "", "Aandeel NGA", "fractie"),
    ("aandelen", "aandeel_top10", "", "Aandeel top-10 aanbieders", "fractie"),
    ("verzilvering", "verzilvering", "", "Verzilvering", "fractie"),
    ("verlenging", "verlenging", "", "Verlenging", "fractie"),
    ("verlenging", "recidief", "", "Recidief", "fractie"),
    ("zorgduur", "zorgduur_2jaar", "", "Zorgduur 2 jaar of langer", "fractie"),
    ("zorgduur", "duur_gem", "", "Gemiddelde duur (maanden)", "maanden"),
]

#: Shares shown as funnel plots: (module, kpi, name, x-axis label).
FUNNELS = [
    ("aandelen", "aandeel_nga", "Aandeel niet-gecontracteerd aanbod in de kosten", "cliënten met declaraties"),
    ("verlenging", "verlenging", "Aandeel verlengde toewijzingen", "cliënten"),
    ("verlenging", "recidief", "Aandeel recidief", "cliënten"),
    ("zorgduur", "zorgduur_2jaar", "Aandeel cliënten met zorg van twee jaar of langer", "cliënten"),
    ("volume", "jeugdigen_met_jeugdhulp", "Aandeel jeugdigen met jeugdhulp", "jeugdigen (0-17 jaar)"),
]


def _jaar(r: Rapport) -> str | None:
    j = r.jaren()
    vol = j.loc[~j["voorlopig"], "periode"]
    return str(vol.iloc[-1]) if len(vol) else None


def _k(r: Rapport) -> pd.DataFrame:
    mods = sorted({m for m, *_ in KPIS})
    return r.kpis(*mods, alle=True)


def samenvatting(r: Rapport) -> None:
    k = _k(r)
    jaar = _jaar(r)
    z = [f"Deze vergelijking omvat {fmt.lijst(r.regios)}; “{config.NEDERLAND}” is hun totaal."]
    if jaar and r.regio:
        for kpi, naam, een in (("kosten_per_client", "de kosten per cliënt", "euro"),
                               ("aandeel_nga", "het aandeel NGA", "fractie"),
                               ("verlenging", "het aandeel verlengde toewijzingen", "fractie")):
            eigen = waarde_in(k, kpi, r.regio, jaar)
            tot = waarde_in(k, kpi, config.NEDERLAND, jaar)
            if eigen is None or tot is None:
                continue
            z.append(f"In {jaar} {'waren' if naam.startswith('de kosten') else 'was'} {naam} in {r.regio} {fmt.waarde(eigen, een)}, tegen "
                     f"{fmt.waarde(tot, een)} over alle regio's.")
            r.leg_vast(f"{kpi}_{jaar}_{r.regio}", eigen)
            r.leg_vast(f"{kpi}_{jaar}_{config.NEDERLAND}", tot)
        buiten = _buiten_grenzen(r)
        if buiten:
            z.append("Buiten de 99,8%-controlegrenzen (meer dan toeval): " + fmt.lijst(buiten) + ".")
        else:
            z.append(f"Geen gemeente van {r.regio} valt buiten de 99,8%-controlegrenzen van de trechterdiagrammen.")
    r.samenvatting = z
    toon(samenvatting_blok(z))


def _funnel_data(r: Rapport, module: str, kpi: str, jaar: str, niveau: str = "gemeente") -> pd.DataFrame:
    """Rows of a share KPI with its size ``n`` for a funnel plot: one per gemeente
    (``niveau="gemeente"``) or per region (``"regio"``, Nederland left out), only
    those with at least ``klein_aantal`` clients."""
    d = r.kpis_met_n(module, kpi)
    d = d[(d["periode"] == jaar) & (d["dimensie"] == "")].copy()
    if niveau == "regio":
        d = d[(d["gemeente"] == "") & (d["regio"] != config.NEDERLAND)]
    else:
        d = d[d["gemeente"] != ""]
    if kpi == "jeugdigen_met_jeugdhulp":
        d = d[d["waarde"] > 0]
        d["n"] = d["n_clienten"] / d["waarde"]  # the population behind the share
    else:
        d["n"] = d["n_clienten"]
    d["naam"] = d["regio"] if niveau == "regio" else d["gemeente"].map(r.namen()).fillna(d["gemeente"])
    d["eigen"] = (d["regio"] == r.regio).to_numpy()
    return d


def _gemiddelde(r: Rapport, kpi: str, jaar: str) -> float | None:
    """The reference share of a funnel: the value of "Nederland" (all regions in the
    data) in the KPI table, the same number the table shows."""
    return waarde_in(_k(r), kpi, config.NEDERLAND, jaar)


def _buiten_grenzen(r: Rapport) -> list[str]:
    jaar = _jaar(r)
    out = []
    if not jaar:
        return out
    for module, kpi, naam, _ in FUNNELS:
        p0 = _gemiddelde(r, kpi, jaar)
        if p0 is None:
            continue
        for niveau in ("regio", "gemeente"):
            d = _funnel_data(r, module, kpi, jaar, niveau)
            d = d[d["eigen"]]
            if len(d) == 0:
                continue
            lo, hi = plots.funnel_grenzen(p0, d["n"].to_numpy(), 3.09)
            w = d["waarde"].to_numpy()
            for nm, b, h in zip(d["naam"], w < lo, w > hi):
                if b or h:
                    out.append(f"{nm} ({naam.lower()}, {'hoger' if h else 'lager'})")
    return out


def _regio_volgorde(r: Rapport) -> list[str]:
    """The regions in alphabetical order, Nederland (their total) last."""
    return sorted(x for x in r.regios if x != config.NEDERLAND) + [config.NEDERLAND]


def tabel_regios(r: Rapport) -> None:
    """One table: the KPIs of every region and the total, last complete year."""
    k = _k(r)
    jaar = _jaar(r)
    if jaar is None:
        toon(let_op("Nog geen volledig jaar in het venster."))
        return
    regios = _regio_volgorde(r)
    rows = []
    for _, kpi, dim, naam, een in KPIS:
        rij = {"KPI": naam}
        for reg in regios:
            sel = k[(k["kpi"] == kpi) & (k["regio"] == reg) & (k["gemeente"] == "") & (k["dimensie"] == dim)
                    & (k["periode"] == jaar)]
            rij[reg] = fmt.waarde(sel["waarde"].iloc[0], een, onderdrukt=bool(sel["onderdrukt"].iloc[0])) \
                if len(sel) else fmt.LEEG
        rows.append(rij)
    df = pd.DataFrame(rows)
    toon(kopje(f"Kerncijfers per regio, {jaar}"), tabel(df, rechts=regios),
         bijschrift(f"“{config.NEDERLAND}” is het totaal van de regio's in de gegevens, niet heel Nederland."))


#: Axis labels of the KPI charts.
_AS = {"aantal": "aantal", "euro": "€", "fractie": "aandeel (%)", "maanden": "maanden"}


def grafieken(r: Rapport) -> None:
    """A bar chart per KPI of the comparison table: each region per complete year, the
    total (Nederland) last for rates and shares (a sum over regions is left out of a
    chart of totals, where it would dwarf the regions). These charts mark no region, so
    a quarterly run draws each once for all its reports (:func:`jeugdlib.plots.gedeeld_png`)."""
    k = _k(r)
    toon(kopje("Per KPI"))
    volgorde = _regio_volgorde(r)
    for _, kpi, dim, naam, een in KPIS:
        sel = k[(k["kpi"] == kpi) & (k["gemeente"] == "") & (k["dimensie"] == dim) & ~k["voorlopig"]].copy()
        som = kpi in ("clienten", "kosten")
        if som:
            sel = sel[sel["regio"] != config.NEDERLAND]
        sel = sel[~sel["onderdrukt"].astype(bool)].dropna(subset=["waarde"])
        if len(sel) == 0:
            continue
        sel["_o"] = sel["regio"].map({x: i for i, x in enumerate(volgorde)}).fillna(99)
        sel = sel.sort_values(["_o", "periode"])
        as_ = naam.lower() if een != "fractie" else f"{naam.lower()} (%)"
        if een == "euro":
            as_ = f"{naam.lower()} (€)"

        def maak(sel=sel, naam=naam, as_=as_, een=een, som=som):
            return plots.staven(sel, "regio", "waarde", "periode", titel=f"{naam} per regio en jaar",
                                xlabel="regio", ylabel=as_, eenheid=een, legenda="jaar",
                                leeswijzer="Alleen volledige jaren." + ("" if som else
                                           f" {config.NEDERLAND} (rechts) is het totaal van de regio's in de gegevens."))
        toon(kopje(naam, 3))
        if r.opslag is None:
            toon(maak())
            continue
        # the same chart in every region's report of the run: drawn once, by its content
        inhoud = repr((kpi, dim, naam, een, as_, som)) + sel[["regio", "periode", "waarde"]].to_csv(index=False)
        data, titel = plots.gedeeld_png(r.opslag / "grafieken", hashlib.sha1(inhoud.encode()).hexdigest(), maak)
        plots.toon_png(data, titel)


def funnels(r: Rapport) -> None:
    """Funnel plots of the shares against size: first one point per region, then one
    per gemeente; the reference line is Nederland's value from the table."""
    jaar = _jaar(r)
    if jaar is None:
        return
    toon(kopje("Aandelen in een trechterdiagram"),
         bijschrift("Elke stip is een regio (eerste grafiek) of een gemeente (tweede grafiek), met minstens 10 "
                    "cliënten. De lijnen zijn de controlegrenzen rond het gemiddelde van alle regio's samen "
                    f"({config.NEDERLAND} in de tabel): een stip binnen de lijnen verschilt niet meer van het "
                    "gemiddelde dan toeval bij die grootte verklaart. Kleine gemeenten liggen daardoor vaak verder "
                    "van het gemiddelde zonder dat dat iets betekent."))
    for module, kpi, naam, xlabel in FUNNELS:
        p0 = _gemiddelde(r, kpi, jaar)
        getoond = False
        for niveau, wie in (("regio", "regio"), ("gemeente", "gemeente")):
            d = _funnel_data(r, module, kpi, jaar, niveau)
            if len(d) < (1 if niveau == "regio" else 3):
                continue
            if not getoond:
                toon(kopje(naam, 3))
                getoond = True
            fig = plots.funnel(d, "n", "waarde", "naam", markeer="eigen", markeer_naam=r.regio or "eigen regio",
                               gemiddelde=p0, alle_labels=niveau == "regio",
                               titel=f"{naam} per {wie} tegen de grootte, {jaar}", xlabel=xlabel,
                               ylabel="aandeel (%)",
                               leeswijzer=(f"{'Regio' if niveau == 'regio' else 'Gemeenten'} buiten de doorgetrokken "
                                           "lijnen (99,8%) wijken meer af dan toeval verklaart"
                                           + ("; elke regio staat met naam in de grafiek." if niveau == "regio"
                                              else "; de eigen regio en (ten hoogste tien) de grootste "
                                                   "afwijkers staan met naam in de grafiek.")))
            toon(fig)
