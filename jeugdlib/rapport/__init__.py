"""Report building blocks: what the notebooks in ``notebooks/reports/`` call.

A report notebook is a list of calls, no logic of its own::

    from jeugdlib import rapport
    r = rapport.open_rapport("kostenontwikkeling", data, regio, peildatum)
    rapport.kop(r)
    rapport.kosten.samenvatting(r)
    ...
    rapport.toelichting(r)
    rapport.kerncijfers(r)

* :mod:`.laden` - load + clean once (:func:`open_rapport`), suppressed KPI rows;
* :mod:`.opmaak` - title, KPI tiles, Dutch tables, text blocks (HTML);
* :mod:`.zinnen` - Samenvatting sentences from numbers and statsmodels tests;
* :mod:`.toelichting` - definitions, parameters, window, quarantine, versions;
* one module per report with its sections: :mod:`.kosten`, :mod:`.trajecten`,
  :mod:`.verzilvering`, :mod:`.plek`, :mod:`.prognose`, :mod:`.vergelijking`,
  :mod:`.kwaliteit`, :mod:`.sturing`.
"""

from __future__ import annotations

import importlib

from .. import fmt
from .laden import Rapport, kerncijfers, open_rapport
from .opmaak import toon
from .toelichting import toelichting as _toelichting

#: Report name -> Dutch title (one list, kept in jeugdlib.reports).
from ..reports import RAPPORTEN as TITELS  # noqa: E402

#: The documented parameters of each report notebook (names in the ``parameters`` cell).
PARAMETERS = {
    "kostenontwikkeling": ["data", "regio", "peildatum", "start", "klein_aantal"],
    "trajecten": ["data", "regio", "peildatum", "start", "klein_aantal", "uitsluiten_agb"],
    "verzilvering": ["data", "regio", "peildatum", "start", "klein_aantal"],
    "plekfinanciering": ["data", "regio", "peildatum", "start", "klein_aantal"],
    "prognose": ["data", "regio", "peildatum", "start", "klein_aantal", "indexatie"],
    "regiovergelijking": ["data", "regio", "peildatum", "start", "klein_aantal"],
    "datakwaliteit": ["data", "regio", "peildatum", "start", "klein_aantal"],
    "sturing": ["data", "regio", "peildatum", "start", "klein_aantal", "doeljaar", "basisjaar", "indexatie",
                "donut_band", "staffel_drempel", "staffel_korting", "top_n"],
}

_SUB = {"kosten": "kosten", "trajecten": "trajecten", "verzilvering": "verzilvering", "plek": "plek",
        "prognose": "prognose", "vergelijking": "vergelijking", "kwaliteit": "kwaliteit", "sturing": "sturing"}


def __getattr__(name):  # report section modules load on first use
    if name in _SUB:
        return importlib.import_module(f"{__name__}.{_SUB[name]}")
    raise AttributeError(name)


def kop(r: Rapport) -> None:
    """The report title: "<Rapport> <regio>" with the quarter, data window and peildatum."""
    from .opmaak import kop as _kop

    titel = f"{TITELS.get(r.naam, r.naam)} {r.regio}" if r.regio else TITELS.get(r.naam, r.naam)
    kw = fmt.kwartaal_label(r.laatste_dag)
    sub = (f"{fmt.periode(kw[:4] + '-' + kw[4:])} · gegevens van {fmt.datum(r.params.start)} tot en met "
           f"{fmt.datum(r.laatste_dag)} (peildatum {fmt.datum(r.params.peildatum)})")
    toon(_kop(titel, sub))


def toelichting(r: Rapport, extra: list[str] | None = None) -> None:
    """Display the Toelichting (see :mod:`.toelichting`)."""
    from .opmaak import kopje

    toon(kopje("Toelichting"), _toelichting(r, extra))


__all__ = ["Rapport", "open_rapport", "kop", "toelichting", "kerncijfers", "toon", "TITELS", "PARAMETERS"]
