"""A processed dataset on disk: the canonical tables as Parquet, read and written.

``data/processed/<name>/<table>.parquet`` for every table of
:mod:`jeugdlib.schema`. Writes go to a temporary file beside the target and are
renamed into place, so an interrupted run never leaves a half-written table.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import config, schema
from .errors import JeugdlibError


@dataclasses.dataclass
class Dataset:
    """The canonical tables of one dataset (data-contract section 2)."""

    toewijzingen: pd.DataFrame
    declaraties: pd.DataFrame
    start_stop: pd.DataFrame
    verzoeken: pd.DataFrame
    quarantaine: pd.DataFrame
    ingest_telling: pd.DataFrame
    producten: pd.DataFrame
    aanbieders: pd.DataFrame
    gemeenten: pd.DataFrame
    plekken: pd.DataFrame
    budgetplafonds: pd.DataFrame
    bevolking: pd.DataFrame
    #: JW325 rejections (optional: absent in datasets processed before it existed)
    afwijzingen: pd.DataFrame = dataclasses.field(default_factory=lambda: schema.empty("afwijzingen"))
    path: Path | None = None

    @classmethod
    def table_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.name != "path"]

    @property
    def has_plekken(self) -> bool:
        return len(self.plekken) > 0


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write one table as Parquet atomically (write aside, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # One chunk per column: Parquet page boundaries follow the chunks, so the same
    # data split differently (e.g. by parallel ingest) would give other bytes.
    table = pa.Table.from_pandas(df, preserve_index=False).combine_chunks()
    # Drop pandas metadata so identical data gives identical bytes across runs.
    table = table.replace_schema_metadata(None)
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def save(ds: Dataset, out: Path) -> None:
    """Write every table of ``ds`` to ``out``/<table>.parquet."""
    for name in Dataset.table_names():
        write_table(schema.conform(getattr(ds, name), name), Path(out) / f"{name}.parquet")


def read_table(path: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one canonical table from Parquet with the canonical dtypes."""
    path = Path(path)
    if not path.exists():
        if table in schema.REQUIRED:
            raise JeugdlibError(f"tabel {table} ontbreekt; draai eerst 'jeugdlib ingest'", path=path)
        df = schema.empty(table)
        return df[columns] if columns else df
    df = pd.read_parquet(path, columns=columns, dtype_backend="pyarrow")
    full = schema.conform(df, table)
    return full[columns] if columns else full


def is_processed(path: Path) -> bool:
    return (Path(path) / "toewijzingen.parquet").exists()


def load(path: Path, tables: list[str] | None = None) -> Dataset:
    """Load a processed dataset. ``tables`` limits which tables are read (others empty)."""
    path = Path(path)
    if not is_processed(path):
        raise JeugdlibError("geen verwerkte dataset (toewijzingen.parquet ontbreekt)", path=path)
    kw = {}
    for name in Dataset.table_names():
        if tables is None or name in tables:
            kw[name] = read_table(path / f"{name}.parquet", name)
        else:
            kw[name] = schema.empty(name)
    return Dataset(**kw, path=path)


def processed_dir_for(raw: Path) -> Path:
    """Where the processed tables of a raw dataset go by default."""
    raw = Path(raw).resolve()
    return config.PROCESSED_DIR / raw.name


def open_dataset(path: Path | str | None = None, *, quiet: bool = True) -> Dataset:
    """Open a dataset that is either processed (Parquet) or raw (ingested on the fly).

    A raw dataset is ingested into ``data/processed/<name>`` unless that holds an
    ingest that is newer than every input file. ``None`` means the demo dataset.
    """
    path = Path(path) if path is not None else config.DEMO_DATASET
    if is_processed(path):
        return load(path)
    if not path.exists():
        raise JeugdlibError("dataset niet gevonden", path=path)
    from . import ingest  # late import: ingest is the only module that reads raw data

    out = processed_dir_for(path)
    if not (is_processed(out) and _newer_than_inputs(out, path)):
        ingest.ingest(path, out, quiet=quiet)
    return load(out)


def _newer_than_inputs(out: Path, raw: Path) -> bool:
    stamp = (out / "toewijzingen.parquet").stat().st_mtime
    latest = 0.0
    for p in raw.rglob("*"):
        if p.is_file():
            latest = max(latest, p.stat().st_mtime)
    return stamp >= latest
