"""KPI definitions, one module per section of metrics.md.

Each KPI is a function named after its KPI id and registered with
:func:`jeugdlib.metrics._common.kpi` (unit, dimensions, suppression basis, group and
label declared beside it; the docstring states the definition and its source). The
functions run SQL in DuckDB over the cleaned tables (:mod:`jeugdlib.clean`); where SQL
is not the natural language (zorgpad labels, forecasts) a short Python function works
on a query's result. :data:`MODULES` lists the modules in the order of the KPI table.
A module with slow Python work may define ``voorbereiden(cleaned)``: the KPI table
starts it before the first KPI so it runs in a thread beside the queries
(:func:`jeugdlib.metrics.prognose.voorbereiden`).
"""

from __future__ import annotations

import importlib

#: Metric modules in the order of the KPI table (each registers its KPIs on import).
MODULES = ["volume", "kosten", "aandelen", "verzilvering", "verlenging", "zorgduur", "trajecten", "plek",
           "verwijzer", "budget", "verdeelsleutel", "prognose", "sturing"]


def laad_alles() -> list:
    """Import every metric module of :data:`MODULES` that exists (registering its KPIs)."""
    mods = []
    for name in MODULES:
        try:
            mods.append(importlib.import_module(f"jeugdlib.metrics.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"jeugdlib.metrics.{name}":
                raise
    return mods
