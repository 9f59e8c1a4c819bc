"""Samenvatting sentences built from computed numbers and statsmodels tests.

Every sentence here takes the numbers (and, for a statement of change, the
:class:`jeugdlib.metrics.toetsen.Toetsuitslag` of the test) and writes them
out in Dutch, so no number in a Samenvatting is ever typed in. A change is only
called a rise or fall ("steeg", "daalde") when the test is significant; it
names the test and the p-value.
"""

from __future__ import annotations

from .. import fmt


def _toets_kort(t) -> str:
    naam = "Poisson-toets" if "Poisson" in t.toets else "toets op twee proporties"
    return f"{naam}, {fmt.p_waarde(t.p_waarde)}"


def aantal_verandering(onderwerp: str, jaar: str, vorig_jaar: str, nu: float, vorig: float, toets) -> str:
    """E.g. "Het aantal cliënten steeg in 2023 met 3,2% naar 8.932 (significant; Poisson-toets, p = 0,003)."

    ``onderwerp``: plural noun ("cliënten"); ``toets``: result of
    :func:`jeugdlib.metrics.toetsen.verandering_aantal`.
    """
    delta = fmt.procent(toets.schatting, 1, teken=True)
    if toets.significant:
        werkwoord = "steeg" if toets.schatting > 0 else "daalde"
        return (f"Het aantal {onderwerp} {werkwoord} in {jaar} met {fmt.procent(abs(toets.schatting))} "
                f"naar {fmt.getal(nu)} (significant; {_toets_kort(toets)}).")
    return (f"Het aantal {onderwerp} bleef in {jaar} ongeveer gelijk: {fmt.getal(nu)} tegen "
            f"{fmt.getal(vorig)} in {vorig_jaar} ({delta}, niet significant; {_toets_kort(toets)}).")


def aandeel_verandering(onderwerp: str, jaar: str, vorig_jaar: str, nu: float, vorig: float, toets) -> str:
    """E.g. "Het aandeel verlengde toewijzingen was in 2023 62,0% (2022: 58,1%; verschil significant; ...)."

    ``toets``: :func:`jeugdlib.metrics.toetsen.verandering_aandeel`.
    """
    if toets.significant:
        richting = "hoger" if toets.schatting > 0 else "lager"
        oordeel = f"significant {richting}"
    else:
        oordeel = "verschil niet significant"
    return (f"Het aandeel {onderwerp} was in {jaar} {fmt.procent(nu)} ({vorig_jaar}: {fmt.procent(vorig)}; "
            f"{oordeel}; {_toets_kort(toets)}).")


def kosten_jaar(jaar: str, kosten: float, vorig_jaar: str | None, groei: float | None) -> str:
    """E.g. "De zorgkosten waren in 2023 € 38,0 mln, 10,8% meer dan in 2022."

    Cost is a sum of money, not a count: no significance test applies, and the
    sentence states the difference without calling it a trend.
    """
    if groei is None or vorig_jaar is None:
        return f"De zorgkosten waren in {jaar} {fmt.bedrag_kort(kosten)}."
    meer = "meer" if groei >= 0 else "minder"
    return (f"De zorgkosten waren in {jaar} {fmt.bedrag_kort(kosten)}, {fmt.procent(abs(groei))} {meer} "
            f"dan in {vorig_jaar}.")


#: Dutch names of the factors of the cost decomposition (metrics.md section 11).
FACTOR_NAMEN = {"prijs": "prijs", "clienten": "aantal cliënten", "mix": "productmix",
                "intensiteit": "zorg per cliënt", "nieuw_vervallen": "nieuwe en vervallen producten"}


def kosten_verklaring(jaar: str, vorig_jaar: str, effecten: dict[str, float]) -> str:
    """E.g. "De kosten stegen van 2022 naar 2023 met € 4,2 mln: prijs +€ 2,0 mln, aantal
    cliënten +€ 1,1 mln, ..." (the effects of the LMDI decomposition, largest first;
    they add up to the change)."""
    totaal = sum(effecten.values())
    richting = "stegen" if totaal >= 0 else "daalden"
    delen = [f"{FACTOR_NAMEN.get(f, f)} {'+' if v >= 0 else '−'}{fmt.bedrag_kort(abs(v))}"
             for f, v in sorted(effecten.items(), key=lambda kv: -abs(kv[1]))]
    return (f"De kosten {richting} van {vorig_jaar} naar {jaar} met {fmt.bedrag_kort(abs(totaal))}: "
            f"{', '.join(delen)}.")


def kosten_prognose(jaar: str, tot_nu: float, tot_maand: str, lineair: float | None,
                    seizoen: float | None, vorig: float | None) -> str:
    """E.g. "Tot en met juni 2024 is € 26,1 mln gedeclareerd; lineair doorgetrokken is dat € 44,0 mln
    voor heel 2024 (+14,1% op 2023), met het seizoenspatroon van 2023 € 43,2 mln."
    """
    zin = f"Tot en met {tot_maand} is {fmt.bedrag_kort(tot_nu)} gedeclareerd over {jaar}"
    if lineair is None:
        return zin + "."
    zin += f"; lineair doorgetrokken is dat {fmt.bedrag_kort(lineair)} voor heel {jaar}"
    if vorig:
        zin += f" ({fmt.procent(lineair / vorig - 1, teken=True)} op {int(jaar) - 1})"
    if seizoen is not None:
        zin += f", met het seizoenspatroon van {int(jaar) - 1} {fmt.bedrag_kort(seizoen)}"
    return zin + ". Recente maanden zijn nog onvolledig gedeclareerd."


def aandeel_stand(onderwerp: str, jaar: str, nu: float | None, vorig_jaar: str | None = None,
                  vorig: float | None = None) -> str:
    """E.g. "Niet-gecontracteerd aanbod (NGA) had in 2024 5,0% van de kosten (2023: 4,1%)."

    A share of cost (euro) is descriptive: no proportions test applies to money.
    """
    if nu is None:
        return ""
    meervoud = onderwerp.split(" (")[0].endswith(("aanbieders", "producten", "gemeenten"))
    zin = (f"{onderwerp[0].upper()}{onderwerp[1:]} {'hadden' if meervoud else 'had'} in {jaar} "
           f"{fmt.procent(nu)} van de kosten")
    if vorig is not None and vorig_jaar:
        zin += f" ({vorig_jaar}: {fmt.procent(vorig)})"
    return zin + "."
