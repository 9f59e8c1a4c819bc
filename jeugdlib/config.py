"""Paths, defaults and analysis parameters.

Data locations (``data/raw``, ``data/processed``, ``data/.jeugdlib_key``,
``reports/``) are relative to the working directory (or under ``JEUGDLIB_DATA``
when set), never inside the installed package: on a normal install that is
site-packages. The project's own material (notebooks, test fixtures) is found
from this file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pandas as pd

PROJ_ROOT = Path(__file__).resolve().parents[1]
#: Relative paths: resolved against the working directory when used.
DATA_DIR = Path("data")
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = Path("reports")


def data_dir() -> Path:
    """The data folder now: ``$JEUGDLIB_DATA`` if set, else ``./data`` (absolute)."""
    env = os.environ.get("JEUGDLIB_DATA")
    return Path(env).absolute() if env else Path.cwd() / DATA_DIR


def processed_dir() -> Path:
    """Where processed datasets go by default: ``<data>/processed``."""
    return data_dir() / "processed"

NOTEBOOKS_DIR = PROJ_ROOT / "notebooks" / "reports"
FIXTURE_DIR = PROJ_ROOT / "tests" / "fixtures"

#: The demo dataset written by ``jeugdlib demo`` and used by default everywhere.
DEMO_DATASET = RAW_DIR / "demo"

#: Material outside the repo (official XSDs, example messages, CBS table).
#: Overridable with JEUGDLIB_SHARED; never copied into the project.
SHARED_DIR = Path(os.environ.get("JEUGDLIB_SHARED", PROJ_ROOT.parent / "shared"))

#: Key for the keyed hash of BSNs (see jeugdlib.privacy). Outside git.
KEY_ENV = "JEUGDLIB_KEY"
KEY_FILE = DATA_DIR / ".jeugdlib_key"  # see privacy.key_path()

#: iJw 3.2 namespaces.
NS_BASIS = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"

#: iJw releases ingest reads (the elements it reads sit at the same paths in each);
#: messages of other releases (2.x) and other standards (iWmo) are skipped and counted.
RELEASES = ("3.0", "3.1", "3.2")


def ns_bericht(bericht: str, release: str = "3.2") -> str:
    """Namespace of an iJw message, e.g. ``ns_bericht('JW323')`` or ``ns_bericht('JW301', '3.0')``."""
    return f"http://www.istandaarden.nl/ijw/{release.replace('.', '_')}/{bericht.lower()}/schema"


def ns_basis(release: str = "3.2") -> str:
    """Namespace of the basisschema of an iJw release."""
    return f"http://www.istandaarden.nl/ijw/{release.replace('.', '_')}/basisschema/schema"


#: Message types ingest reads; others are skipped and counted.
BERICHTEN = ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325")

#: Eenheid (WJ756) -> hours. Units not here have no hour value.
EENHEID_UREN = {"01": 1 / 60, "04": 1.0, "16": 4.0}

#: Demo regions (calibration.md), CBS indeling 2026. regio_code from the CBS table.
DEMO_REGIOS = {
    ("JZ37", "Noord-Limburg"): {
        "0889": "Beesel", "0893": "Bergen (L.)", "0907": "Gennep", "1507": "Horst aan de Maas",
        "1894": "Peel en Maas", "0983": "Venlo", "0984": "Venray",
    },
    ("JZ41", "Zuid-Limburg"): {
        "0888": "Beek", "1954": "Beekdaelen", "0899": "Brunssum", "1903": "Eijsden-Margraten",
        "1729": "Gulpen-Wittem", "0917": "Heerlen", "0928": "Kerkrade", "0882": "Landgraaf",
        "0935": "Maastricht", "0938": "Meerssen", "0965": "Simpelveld", "1883": "Sittard-Geleen",
        "0971": "Stein", "0981": "Vaals", "0994": "Valkenburg aan de Geul", "0986": "Voerendaal",
    },
    ("JZ42", "Midden-Limburg Oost"): {
        "1711": "Echt-Susteren", "1641": "Maasgouw", "1669": "Roerdalen", "0957": "Roermond",
    },
    ("JZ31", "Zuid-Holland Zuid"): {
        "0482": "Alblasserdam", "0505": "Dordrecht", "0512": "Gorinchem",
        "0531": "Hendrik-Ido-Ambacht", "1963": "Hoeksche Waard", "0610": "Sliedrecht",
        "0642": "Zwijndrecht", "0590": "Papendrecht", "0523": "Hardinxveld-Giessendam",
        "1978": "Molenlanden",
    },
}

NEDERLAND = "Nederland"


def demo_gemeenten() -> pd.DataFrame:
    """The default gemeente -> regio table (the four demo regions)."""
    rows = [
        {"gemeentecode": code, "gemeentenaam": naam, "regio_code": rc, "regio_naam": rn}
        for (rc, rn), gem in DEMO_REGIOS.items()
        for code, naam in gem.items()
    ]
    return pd.DataFrame(rows).astype("string[pyarrow]")


@dataclasses.dataclass(frozen=True)
class Params:
    """Analysis parameters of metrics.md section 0 (defaults as stated there).

    ``peildatum`` is exclusive: data on or after it is ignored, an open einddatum
    means active until the day before it. ``start`` is inclusive; default 1 January
    three years before the peildatum's year.
    """

    peildatum: dt.date
    start: dt.date | None = None
    max_leeftijd: int = 21
    aansluit_dagen: int = 31
    recidief_dagen: int = 183
    klein_aantal: int = 10
    per: str = "jaar"  # jaar | kwartaal | maand
    exclude_agb: tuple[str, ...] = ()
    # Sturing (metrics.md section 11); None = the default of jeugdlib.metrics.sturing
    indexatie: float | None = None
    donut_band: float | None = None
    staffel_drempel: float | None = None
    staffel_korting: float | None = None
    doeljaar: int | None = None
    basisjaar: int | None = None
    top_n: int | None = None

    def __post_init__(self):
        if isinstance(self.peildatum, str):
            object.__setattr__(self, "peildatum", dt.date.fromisoformat(self.peildatum))
        if isinstance(self.start, str):
            object.__setattr__(self, "start", dt.date.fromisoformat(self.start))
        if self.start is None:
            object.__setattr__(self, "start", dt.date(self.peildatum.year - 3, 1, 1))
        if self.per not in ("jaar", "kwartaal", "maand"):
            raise ValueError(f"per must be jaar, kwartaal or maand, not {self.per!r}")
        object.__setattr__(self, "exclude_agb", tuple(self.exclude_agb))

    @property
    def peil_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.peildatum)

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)
