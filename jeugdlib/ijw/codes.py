"""iJw 3.2 code lists needed to validate incoming records.

Read once by hand from the published code lists (copies in
``../shared/ijw/codelijsten/``, source: Zorginstituut Nederland,
https://informatiemodel.istandaarden.nl/informatiemodel/ijw/3.2/codelijsten/)
and written down here as constants, so that ingest does not depend on those files
at run time. Each constant maps code -> meaning. :data:`BY_FIELD` says which
canonical column is checked against which list.
"""

from __future__ import annotations

#: WJ756 Eenheid (``WJ756_Eenheid.md``).
EENHEID: dict[str, str] = {
    "01": "Minuut",
    "04": "Uur",
    "14": "Etmaal",
    "16": "Dagdeel (4 uur)",
    "82": "Stuks (output)",
    "83": "Euro's",
    "84": "Stuks (inspanning)",
}

#: WMO757 Frequentie (``WMO757_Frequentie.md``).
FREQUENTIE: dict[str, str] = {
    "1": "Per dag",
    "2": "Per week",
    "4": "Per maand",
    "6": "Totaal binnen geldigheidsduur toewijzing",
}

#: JZ020 Productcategorie (``JZ020_Productcategorie``). 31-38 are the 2015 categories.
PRODUCTCATEGORIE: dict[str, str] = {
    "31": "(2015) Zonder verblijf: uitgevoerd door wijk- of buurtteam",
    "32": "(2015) Zonder verblijf: ambulante jeugdhulp op locatie van de aanbieder",
    "33": "(2015) Zonder verblijf: daghulp op locatie van de aanbieder",
    "34": "(2015) Zonder verblijf: jeugdhulp in het netwerk van de jeugdige",
    "35": "(2015) Met verblijf: pleegzorg",
    "36": "(2015) Met verblijf: gezinsgericht",
    "37": "(2015) Met verblijf: gesloten plaatsing",
    "38": "(2015) Met verblijf: overig residentieel",
    "40": "Persoonlijke verzorging",
    "41": "Dagbehandeling",
    "42": "Vervoerdiensten",
    "43": "Jeugdhulp verblijf (incl. behandeling)",
    "44": "Jeugdhulp verblijf (excl. behandeling)",
    "45": "Jeugdhulp ambulant",
    "46": "Jeugdhulp crisis",
    "47": "Jeugdreclassering",
    "48": "Jeugdbescherming",
    "49": "Activiteiten in het preventief justitieel kader",
    "50": "Maatwerkarrangementen jeugd",
    "51": "Generalistische basis-ggz",
    "52": "Specialistische ggz",
    "53": "Kindergeneeskunde",
    "54": "Jeugd-ggz",
    "55": "Landelijk ingekochte zorg",
}

#: JZ002 Reden wijziging toewijzing (``JZ002_Reden_wijziging_toewijzing.md``).
#: 01 is "vervallen" since release 3.1 but still listed, so still accepted.
REDEN_WIJZIGING: dict[str, str] = {
    "01": "Administratieve correctie (vervallen)",
    "02": "Cliënt overleden",
    "03": "Contractwijziging",
    "04": "Herbeoordeling verlenging toewijzing",
    "05": "Herbeoordeling verkorting toewijzing",
    "06": "Uitstroom naar ander domein",
    "07": "Verhuizing naar een andere gemeente",
    "08": "Wijziging leveringsvorm",
    "09": "Overstap naar andere aanbieder",
    "10": "Overgang naar nieuwe bekostigingssystematiek",
    "11": "Gemeentelijke herindeling",
    "12": "Geïnitieerd door de aanbieder",
    "13": "Verwijderd",
    "14": "Administratieve correctie",
}

#: JZ588 Reden beëindiging (``JZ588_Reden_beeindiging.md``).
REDEN_BEEINDIGING: dict[str, str] = {
    "02": "Overlijden",
    "20": "Levering is tijdelijk beëindigd",
    "31": "Levering is volgens plan beëindigd",
    "32": "Voortijdig afgesloten, door cliënt",
    "33": "Voortijdig afgesloten, door aanbieder",
    "34": "Voortijdig afgesloten, in overleg",
    "35": "Voortijdig afgesloten, externe oorzaak",
    "36": "Geïnitieerd door de gemeente",
    "37": "In verband met wijzigingsverzoek",
    "38": "Overstap naar andere aanbieder",
    "39": "Uitstroom naar ander domein",
}

#: COD043 Indicatie debet/credit (``COD043_Indicatie_debet_credit.md``).
DEBET_CREDIT: dict[str, str] = {
    "C": "Creditbedrag en aantal",
    "D": "Debetbedrag en aantal",
}

#: COD046 Geslacht (``COD046_Geslacht.md``).
GESLACHT: dict[str, str] = {
    "0": "Onbekend",
    "1": "Mannelijk",
    "2": "Vrouwelijk",
}

#: COD327 Code verwijzer (``COD327_Code_verwijzer.md``). There is no code 07.
VERWIJZER: dict[str, str] = {
    "01": "Gemeente",
    "02": "Huisarts",
    "03": "Jeugdarts",
    "04": "Gecertificeerde instelling",
    "05": "Medisch specialist",
    "06": "Zelfverwijzer / geen verwijzer",
    "08": "Rechter, Officier van Justitie, functionaris Justitiële jeugdinrichting",
}

#: Code list id -> (codes, name) for messages.
LISTS: dict[str, dict[str, str]] = {
    "WJ756": EENHEID,
    "WMO757": FREQUENTIE,
    "JZ020": PRODUCTCATEGORIE,
    "JZ002": REDEN_WIJZIGING,
    "JZ588": REDEN_BEEINDIGING,
    "COD043": DEBET_CREDIT,
    "COD046": GESLACHT,
    "COD327": VERWIJZER,
}

#: Canonical column (or raw field) -> code list id it is checked against.
BY_FIELD: dict[str, str] = {
    "eenheid": "WJ756",
    "frequentie": "WMO757",
    "productcategorie": "JZ020",
    "reden_wijziging": "JZ002",
    "reden_beeindiging": "JZ588",
    "debet_credit": "COD043",
    "geslacht": "COD046",
    "verwijzer_type": "COD327",
}

#: Zero-padded width of each code-listed field (exports may lose leading zeros).
WIDTH: dict[str, int] = {
    "eenheid": 2,
    "frequentie": 1,
    "productcategorie": 2,
    "reden_wijziging": 2,
    "reden_beeindiging": 2,
    "debet_credit": 1,
    "geslacht": 1,
    "verwijzer_type": 2,
}

#: Values of the reference-table fields that have a fixed vocabulary (data-contract 1.3).
FINANCIERINGSVORM = ("inspanning", "traject", "plek", "taak")
ZWAARTE = ("licht", "midden", "zwaar")
VARIANT = ("maatwerk", "meerwerk")
AANBIEDER_TYPE = ("micro", "regulier")
