"""Report 6, Regiovergelijking (reports.md): all regions in the data and the total.

Per KPI a table (regions as rows, the last complete year) and a chart; shares
and rates as funnel plots against size with binomial control limits
(:func:`jeugdlib.plots.funnel`), with every gemeente as a point and the
report's own region highlighted, so small gemeenten are not ranked on noise.
"""

from __future__ import annotations

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
            z.append(f"In {jaar} was {naam} in {r.regio} {fmt.waarde(eigen, een)}, tegen "
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


def _funnel_data(r: Rapport, module: str, kpi: str, jaar: str) -> pd.DataFrame:
    d = r.kpis_met_n(module, kpi)
    d = d[(d["periode"] == jaar) & (d["dimensie"] == "") & (d["gemeente"] != "")].copy()
    if kpi == "jeugdigen_met_jeugdhulp":
        d = d[d["waarde"] > 0]
        d["n"] = d["n_clienten"] / d["waarde"]  # the population behind the share
    else:
        d["n"] = d["n_clienten"]
    d["naam"] = d["gemeente"].map(r.namen()).fillna(d["gemeente"])
    d["eigen"] = (d["regio"] == r.regio).to_numpy()
    return d


def _buiten_grenzen(r: Rapport) -> list[str]:
    jaar = _jaar(r)
    out = []
    if not jaar:
        return out
    for module, kpi, naam, _ in FUNNELS:
        d = _funnel_data(r, module, kpi, jaar)
        d = d[d["eigen"]]
        if len(d) == 0:
            continue
        alle = _funnel_data(r, module, kpi, jaar)
        p0 = float((alle["waarde"] * alle["n"]).sum() / alle["n"].sum())
        lo, hi = plots.funnel_grenzen(p0, d["n"].to_numpy(), 3.09)
        w = d["waarde"].to_numpy()
        for nm, b, h in zip(d["naam"], w < lo, w > hi):
            if b or h:
                out.append(f"{nm} ({naam.lower()}, {'hoger' if h else 'lager'})")
    return out


def tabel_regios(r: Rapport) -> None:
    """One table: the KPIs of every region and the total, last complete year."""
    k = _k(r)
    jaar = _jaar(r)
    if jaar is None:
        toon(let_op("Nog geen volledig jaar in het venster."))
        return
    regios = list(r.regios) + [config.NEDERLAND]
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


def grafieken(r: Rapport) -> None:
    """Bar charts of cost per client and toewijzingen per client per region over the years."""
    k = _k(r)
    for kpi, naam, een, as_ in (("kosten_per_client", "Kosten per cliënt", "euro", "kosten per cliënt (€)"),
                                ("toewijzingen_per_client", "Toewijzingen per cliënt", "aantal", "toewijzingen per cliënt")):
        sel = k[(k["kpi"] == kpi) & (k["gemeente"] == "") & (k["dimensie"] == "")].copy()
        sel = sel[~sel["voorlopig"]]
        if len(sel) == 0:
            continue
        sel = sel.sort_values(["periode", "regio"])
        fig = plots.staven(sel, "regio", "waarde", "periode", titel=f"{naam} per regio en jaar", xlabel="regio",
                           ylabel=as_, eenheid=een, legenda="jaar",
                           leeswijzer=f"Alleen volledige jaren. {config.NEDERLAND} is het totaal van de regio's "
                                      "in de gegevens.")
        toon(kopje(naam, 3), fig)


def funnels(r: Rapport) -> None:
    """Funnel plots of the shares against size, one point per gemeente."""
    jaar = _jaar(r)
    if jaar is None:
        return
    toon(kopje("Aandelen in een trechterdiagram"),
         bijschrift("Elke stip is een gemeente (met minstens 10 cliënten). De lijnen zijn de controlegrenzen: "
                    "een gemeente binnen de lijnen verschilt niet meer van het gemiddelde dan toeval bij haar "
                    "grootte verklaart. Kleine gemeenten liggen daardoor vaak verder van het gemiddelde zonder "
                    "dat dat iets betekent."))
    for module, kpi, naam, xlabel in FUNNELS:
        d = _funnel_data(r, module, kpi, jaar)
        if len(d) < 3:
            continue
        fig = plots.funnel(d, "n", "waarde", "naam", markeer="eigen", markeer_naam=r.regio or "eigen regio",
                           titel=f"{naam} per gemeente, {jaar}", xlabel=xlabel, ylabel="aandeel (%)",
                           leeswijzer="Gemeenten buiten de doorgetrokken lijnen (99,8%) wijken meer af dan "
                                      "toeval verklaart; ze staan met naam in de grafiek.")
        toon(fig)
