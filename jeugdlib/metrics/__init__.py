"""Metric functions, one module per subject (see metrics.md).

Every metric is a pure function over DataFrames with a docstring giving its
definition and source. Notebooks and the KPI table call these; no metric logic
lives anywhere else.
"""
