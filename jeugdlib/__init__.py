"""jeugdlib: research and reporting on Dutch jeugdhulp (youth care) regions.

Data flows one way:

    dataset (iJw XML / CSV exports + referentie/)
      -> jeugdlib.ingest    parse, validate, pseudonymise, quarantine -> Parquet
      -> jeugdlib.clean     versions, netting, age, window (each rule counted)
      -> jeugdlib.metrics   pure functions, one module per subject     -> KPI table
      -> jeugdlib.reports   parameterised notebooks -> papermill -> HTML
"""

__version__ = "0.1.0"
