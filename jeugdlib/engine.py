"""The query engine: an embedded DuckDB connection over the canonical tables.

Cleaning (metrics.md section 0) and every KPI are relational work over tables of
millions of rows, so they are SQL run by DuckDB, in-process (a pip wheel, no
server). DuckDB reads the Parquet tables of a processed dataset directly, runs in
parallel and spills to disk when memory runs short, so a national dataset five
times the demo fits in bounded memory.

``connect()`` makes a connection with the project's settings; ``laad(con, bron)``
puts the canonical tables of a dataset in it as views named ``ruw_<table>``
(``ruw_toewijzingen``, ``ruw_declaraties``, ...) and the reference tables as
``ref_<table>``. A source is a processed dataset directory (Parquet, read lazily
by path) or a :class:`jeugdlib.dataset.Dataset` of pandas frames (tests, small
data). Columns a source lacks (older ingests, exports) are added as NULL, so every
query sees the canonical columns of :mod:`jeugdlib.schema`.

Readers of the tables: :mod:`jeugdlib.clean` (section 0) and the KPI definitions in
:mod:`jeugdlib.metrics`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from . import schema

#: DuckDB types of the canonical dtypes.
SQL_TYPE = {schema.S: "VARCHAR", schema.I: "BIGINT", schema.F: "DOUBLE", schema.B: "BOOLEAN",
            schema.D: "DATE"}

#: Tables of a processed dataset the engine reads (canonical ones of schema.TABLES).
DATA_TABLES = ("toewijzingen", "declaraties", "start_stop", "verzoeken", "afwijzingen")
REF_TABLES = ("producten", "aanbieders", "gemeenten", "plekken", "budgetplafonds", "bevolking")

#: Default memory ceiling of one connection: the KPI run and the quarterly reports
#: stay inside it by spilling to disk (issue: national scale in bounded memory).
GEHEUGEN_STANDAARD = os.environ.get("JEUGDLIB_GEHEUGEN", "4GB")


def connect(*, geheugen: str | None = None, threads: int | None = None,
            tijdelijk: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection with a memory ceiling and a spill folder.

    ``geheugen``: DuckDB ``memory_limit`` (default :data:`GEHEUGEN_STANDAARD`);
    ``threads``: default all cores; ``tijdelijk``: where DuckDB spills (default the
    system temp folder).
    """
    con = duckdb.connect(database=":memory:")
    run(con, f"SET memory_limit = '{geheugen or GEHEUGEN_STANDAARD}'")
    run(con, "SET preserve_insertion_order = true")
    # The KPI queries use one source several times (a total and its dimensions); DuckDB
    # would materialise such a shared subplan once, which on the national demo costs
    # more than scanning the table twice (all KPIs: 59 s -> 48 s without it).
    run(con, "SET disabled_optimizers = 'common_subplan'")
    _geen_voortgangsbalk(con)
    spill = Path(tijdelijk) if tijdelijk else Path(tempfile.gettempdir()) / "jeugdlib-duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    run(con, f"SET temp_directory = '{_lit(str(spill))[1:-1]}'")
    if threads:
        run(con, f"SET threads = {int(threads)}")
    return con


def _geen_voortgangsbalk(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's own progress bar off: the commands show their own (tqdm), per step. In a
    Jupyter kernel DuckDB refuses to change the setting without ipywidgets; there it
    draws no bar anyway, so the refusal is ignored."""
    try:
        run(con, "SET enable_progress_bar = false")
    except duckdb.Error:
        pass


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Execute a statement that returns no rows of interest (DDL, SET), fetching its
    result so the connection is free for the next one."""
    con.execute(sql, params or []).fetchall()


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def lijst(waarden) -> str:
    """The SQL list of ``waarden`` as string literals, for ``x IN (...)``; ``NULL`` for
    none (``x IN (NULL)`` holds for no row)."""
    return ", ".join(_lit(w) for w in waarden) or "NULL"


def _select_canonical(table: str, present: set[str], source: str, rij: str | None) -> str:
    """SELECT of the canonical columns of ``table`` from ``source``: present
    columns cast to their canonical type, absent ones as typed NULL; plus ``rij``
    (the row's position in the input: ties in 'the last one read')."""
    cols = []
    for c, t in schema.TABLES[table].items():
        st = SQL_TYPE[t]
        cols.append(f'CAST("{c}" AS {st}) AS "{c}"' if c in present else f'CAST(NULL AS {st}) AS "{c}"')
    if rij:
        cols.append(f"{rij} AS rij")
    return f"SELECT {', '.join(cols)} FROM {source}"


def _parquet_path(versie: Path, table: str) -> Path | None:
    p = Path(versie) / f"{table}.parquet"
    return p if p.exists() else None


def laad(con: duckdb.DuckDBPyConnection, bron, gemeenten=None) -> None:
    """Views ``ruw_<table>`` and ``ref_<table>`` over the dataset ``bron``: a
    processed directory (Parquet, read by path) or a :class:`Dataset`.

    Every view has the canonical columns and ``rij``, the row's position in the
    input (for 'on a tie the last one read' and 'the first row of the table').
    ``gemeenten``: keep only the records of these gemeentecodes in the data views
    (a region's report reads only its region's rows)."""
    from .dataset import Dataset, version_dir

    if not isinstance(bron, Dataset):
        bron = version_dir(bron)  # one published version for every table (data-contract 2.2)
    for table in DATA_TABLES + REF_TABLES:
        view = ("ruw_" if table in DATA_TABLES else "ref_") + table
        rij = "rij"
        if isinstance(bron, Dataset):
            df = getattr(bron, table, None)
            if df is None:
                df = schema.empty(table)
            df = df.reset_index(drop=True)
            naam = f"_df_{table}"
            con.register(naam, df.assign(rij=range(len(df))))
            # a table, not a view on the registered frame: cursors (Cleaned.deel) see it too
            select = _select_canonical(table, set(df.columns), naam, '"rij"')
            run(con, f"CREATE OR REPLACE TABLE {view} AS {select}")
            con.unregister(naam)
            if gemeenten is not None and table in DATA_TABLES:
                codes = lijst(gemeenten)
                run(con, f"DELETE FROM {view} WHERE gemeentecode IS NULL OR gemeentecode NOT IN ({codes})")
            continue
        else:
            path = _parquet_path(Path(bron), table)
            if path is None:
                sql = _select_canonical(table, set(), "(SELECT 1) AS leeg WHERE false", "0")
            else:
                present = {r[0] for r in con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})").fetchall()}
                src = f"read_parquet({_lit(str(path))}, file_row_number = true)"
                sql = _select_canonical(table, present, src, "file_row_number")
        if gemeenten is not None and table in DATA_TABLES:
            codes = lijst(gemeenten)
            sql = f"SELECT * FROM ({sql}) WHERE gemeentecode IN ({codes})"
        run(con, f"CREATE OR REPLACE VIEW {view} AS {sql}")


def df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """The result of a query as a pandas frame (Arrow-backed strings; an ENUM column,
    such as the cleaned tables' ``regio``, as strings too, not as a categorical)."""
    import pyarrow as pa

    out = con.sql(sql, params=params).to_arrow_table() if params else con.sql(sql).to_arrow_table()
    if any(pa.types.is_dictionary(f.type) for f in out.schema):
        out = out.cast(pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                                  for f in out.schema]))
    frame = out.to_pandas(types_mapper=_types_mapper, date_as_object=False)
    for c in frame.columns:  # dates as datetime64[ns], as schema.D
        if str(frame[c].dtype).startswith("datetime64") and str(frame[c].dtype) != schema.D:
            frame[c] = frame[c].astype(schema.D)
    return frame


def _types_mapper(t):
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype("pyarrow")
    if pa.types.is_integer(t):
        return pd.ArrowDtype(pa.int64())
    if pa.types.is_boolean(t):
        return pd.ArrowDtype(pa.bool_())
    return None
