"""A processed dataset on disk: the canonical tables as Parquet, published whole.

Layout of a processed dataset ``data/processed/<name>`` (data-contract 2.2)::

    data/processed/<name>            -> symbolic link to the current version
    data/processed/.<name>.versies/v-<time>-<pid>/<table>.parquet, manifest.json
    data/processed/.<name>.lock      the writers' lock (fcntl.flock)

A writer (:class:`Publication`, used by ingest and :func:`save`) takes the lock,
builds the new version in a folder beside the current one and switches the
link in one atomic ``rename``: readers see the old version or the new one,
never tables of two runs side by side. A killed run leaves the previous version
intact; its half-built folder is removed by the next run. The previous version
is kept one more run, so that a reader that opened it just before the switch
can finish.

``manifest.json`` records the source (absolute path), the ingest time, the
software version and the key fingerprint (:func:`jeugdlib.privacy.key_fingerprint`,
never the key): writing into a dataset from another source or with another
key stops with one line, and so does combining datasets made with different
keys (:func:`same_key`).

:func:`version_dir` and :func:`table_path` give the current version's folder
and table files, for engines that read the Parquet files by path. A processed
dataset of an older jeugdlib (tables directly in the folder) is still read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None

from . import __version__, config, schema
from .errors import JeugdlibError

MANIFEST = "manifest.json"
_VERSIONS = ".{name}.versies"
_LOCK = ".{name}.lock"
_LINK_TMP = ".{name}.link-"
_BUILD = ".bouw-"


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
    #: manifest.json of the version read (source, time, version, key fingerprint); None if absent
    manifest: dict | None = None

    @classmethod
    def table_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.name not in ("path", "manifest")]

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


def save(ds: Dataset, out: Path, *, source: Path | str | None = None, key: bytes | None = None) -> None:
    """Publish every table of ``ds`` as a new version of the processed dataset ``out``."""
    with Publication(out, source=source, key=key) as pub:
        for name in Dataset.table_names():
            write_table(schema.conform(getattr(ds, name), name), pub.dir / f"{name}.parquet")
        pub.commit()


# --------------------------------------------------------------------------- reading


def version_dir(processed_dir: Path | str) -> Path:
    """The folder holding the current version's table files of a processed dataset.

    Resolves the ``<name>`` link once (absolute path of ``.<name>.versies/v-...``),
    so that every table read through the returned folder belongs to one
    version even when a new one is published meanwhile. A dataset of an older
    jeugdlib (tables directly in the folder) gives the folder itself. The
    DuckDB engine reads ``version_dir(p) / "<table>.parquet"`` directly.
    """
    return Path(processed_dir).resolve()


def table_path(processed_dir: Path | str, table: str) -> Path:
    """The Parquet file of ``table`` (e.g. ``"declaraties"``) in the current version of
    ``processed_dir``: ``version_dir(processed_dir) / f"{table}.parquet"``. Resolve the
    version once with :func:`version_dir` when reading several tables."""
    return version_dir(processed_dir) / f"{table}.parquet"


def read_manifest(processed_dir: Path | str) -> dict | None:
    """The manifest of the current version, or None (older layout or not processed)."""
    p = version_dir(processed_dir) / MANIFEST
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise JeugdlibError(f"manifest onleesbaar ({exc}); draai 'jeugdlib ingest' opnieuw", path=p) from None


def read_table(path: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one canonical table from Parquet with the canonical dtypes.

    A missing required table, or a file that is not valid Parquet, raises
    :class:`JeugdlibError` naming the file."""
    path = Path(path)
    if not path.exists():
        if table in schema.REQUIRED:
            raise JeugdlibError(f"tabel {table} ontbreekt; draai eerst 'jeugdlib ingest'", path=path)
        df = schema.empty(table)
        return df[columns] if columns else df
    try:
        df = pd.read_parquet(path, columns=columns, dtype_backend="pyarrow")
    except (pa.ArrowException, OSError) as exc:
        raise JeugdlibError(f"Parquet-bestand beschadigd of onleesbaar ({_first_line(exc)}); "
                            f"draai 'jeugdlib ingest' opnieuw", path=path) from None
    full = schema.conform(df, table)
    return full[columns] if columns else full


def find_corrupt(processed_dir: Path | str) -> JeugdlibError | None:
    """The first table file of ``processed_dir`` whose Parquet footer cannot be read, as an error."""
    try:
        folder = version_dir(processed_dir)
        files = sorted(folder.glob("*.parquet"))
    except OSError:
        return None
    for f in files:
        try:
            pq.read_metadata(f)
        except (pa.ArrowException, OSError) as exc:
            return JeugdlibError(f"Parquet-bestand beschadigd of onleesbaar ({_first_line(exc)}); "
                                 f"draai 'jeugdlib ingest' opnieuw", path=f)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def is_processed(path: Path) -> bool:
    try:
        return (Path(path) / "toewijzingen.parquet").exists()
    except OSError:
        return False


def load(path: Path, tables: list[str] | None = None) -> Dataset:
    """Load a processed dataset. ``tables`` limits which tables are read (others empty).

    The current version is resolved once (:func:`version_dir`); ``Dataset.path``
    is that version's folder, so later reads through it stay on one version."""
    path = Path(path)
    if not is_processed(path):
        raise JeugdlibError("geen verwerkte dataset (toewijzingen.parquet ontbreekt)", path=path)
    folder = version_dir(path)
    kw = {}
    for name in Dataset.table_names():
        if tables is None or name in tables:
            kw[name] = read_table(folder / f"{name}.parquet", name)
        else:
            kw[name] = schema.empty(name)
    return Dataset(**kw, path=folder, manifest=read_manifest(folder))


def same_key(*datasets: Dataset) -> None:
    """Refuse to combine datasets pseudonymised with different keys (their client ids do not join).

    Raises :class:`JeugdlibError` naming the two datasets; datasets without a
    recorded fingerprint (older jeugdlib) are not checked."""
    seen: tuple[str, Path | None] | None = None
    for ds in datasets:
        fp = (ds.manifest or {}).get("sleutel_vingerafdruk")
        if not fp:
            continue
        if seen is None:
            seen = (fp, ds.path)
        elif fp != seen[0]:
            raise JeugdlibError(f"gemaakt met een andere pseudonimiseringssleutel dan {seen[1]}: de client-id's "
                                f"zijn niet te koppelen; lees beide opnieuw in met dezelfde sleutel", path=ds.path)


def processed_dir_for(raw: Path) -> Path:
    """Where the processed tables of a raw dataset go by default: ``data/processed/<name>``
    under the working directory; ``<name>-<hash>`` when ``<name>`` already holds the
    processing of another source with the same folder name."""
    raw = Path(raw).resolve()
    base = config.processed_dir() / raw.name
    try:
        man = read_manifest(base) if is_processed(base) else None
    except JeugdlibError:
        man = None
    if man and man.get("bron") not in (None, str(raw)):
        tag = hashlib.sha256(os.fsencode(str(raw))).hexdigest()[:8]
        return config.processed_dir() / f"{raw.name}-{tag}"
    return base


def open_dataset(path: Path | str | None = None, *, quiet: bool = True) -> Dataset:
    """Open a dataset that is either processed (Parquet) or raw (ingested on the fly).

    A raw dataset is ingested into :func:`processed_dir_for` unless that holds an
    ingest that is newer than every input file. ``None`` means the demo dataset.
    A processed dataset is read from its current version (:func:`version_dir`).
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
    try:
        stamp = (out / "toewijzingen.parquet").stat().st_mtime
        latest = 0.0
        for p in raw.rglob("*"):
            try:
                if p.is_file():
                    latest = max(latest, p.stat().st_mtime)
            except OSError:
                return False  # something odd: ingest again, it reports the file
        return stamp >= latest
    except OSError:
        return False


# --------------------------------------------------------------------------- publishing


class Publication:
    """Write a new version of the processed dataset ``out``, whole or not at all.

    ``with Publication(out, source=..., key=...) as pub:`` takes the writers'
    lock (waiting, with a message, while another run holds it), removes what
    killed runs left behind, refuses (:class:`JeugdlibError`) when ``out`` holds
    the processing of another source or another key, and gives ``pub.dir``, an
    empty folder beside the current version. Write the tables there and call
    ``pub.commit()``: the version is switched in one atomic step. Leaving the
    block without ``commit()`` (an error, Ctrl-C) removes the folder and keeps
    the current version.
    """

    def __init__(self, out: Path | str, *, source: Path | str | None = None, key: bytes | None = None,
                 wait: bool = True):
        out = Path(out).absolute()
        if out.is_symlink() and not _is_ours(out):
            out = out.resolve()  # a link the user made: publish at its target
        self.out = out
        self.source = str(Path(source).resolve()) if source is not None else None
        self.key_fp = None
        if key is not None:
            from .privacy import key_fingerprint

            self.key_fp = key_fingerprint(key)
        self.wait = wait
        self.versions = out.parent / _VERSIONS.format(name=out.name)
        self.dir: Path | None = None
        self._lock_fd: int | None = None
        self._committed = False

    # -- the lock
    def __enter__(self) -> "Publication":
        out = self.out
        if out.exists() and not out.is_dir():
            raise JeugdlibError("bestaat al en is geen map; kies met --out een map voor de verwerkte dataset",
                                path=out)
        if out.is_dir() and not out.is_symlink() and not _legacy_or_empty(out):
            raise JeugdlibError("map is niet leeg en geen verwerkte dataset; kies met --out een nieuwe of lege map",
                                path=out)
        out.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            self._check_compatible()
            self._clean_debris()
            self.versions.mkdir(exist_ok=True)
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            self.dir = self.versions / f"{_BUILD}{stamp}-{os.getpid()}"
            self.dir.mkdir()
        except BaseException:
            self._unlock()
            raise
        return self

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        path = self.out.parent / _LOCK.format(name=self.out.name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self.wait:
                os.close(fd)
                raise JeugdlibError("een andere run schrijft nu naar deze dataset; probeer het zo opnieuw",
                                    path=self.out) from None
            print(f"Wachten: een andere run schrijft naar {self.out} ...", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            if fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __exit__(self, exc_type, exc, tb):
        try:
            if not self._committed and self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
        finally:
            self._unlock()
        return False

    # -- checks and cleaning (under the lock)
    def _check_compatible(self) -> None:
        if not is_processed(self.out):
            return
        man = read_manifest(self.out)
        if not man:
            return  # older jeugdlib: no record to check against
        bron = man.get("bron")
        if self.source is not None and bron and bron != self.source:
            raise JeugdlibError(f"bevat de verwerking van een andere bron ({bron}); schrijf deze dataset "
                                f"met --out naar een andere map", path=self.out)
        fp = man.get("sleutel_vingerafdruk")
        if self.key_fp is not None and fp and fp != self.key_fp:
            raise JeugdlibError("is gemaakt met een andere pseudonimiseringssleutel (de client-id's zouden niet "
                                "meer kloppen met eerdere runs); zet de oude sleutel terug, of schrijf met --out "
                                "naar een nieuwe map", path=self.out)

    def _current(self) -> Path | None:
        if self.out.is_symlink():
            try:
                return self.out.resolve(strict=True)
            except OSError:
                return None
        return None

    def _clean_debris(self) -> None:
        """Remove what killed runs left: half-built versions, stray links, old versions, temp files."""
        for p in self.out.parent.glob(_LINK_TMP.format(name=self.out.name) + "*"):
            with contextlib.suppress(OSError):
                p.unlink()
        if self.out.is_dir() and not self.out.is_symlink():  # older layout: its temporary files
            for p in self.out.glob(".*tmp"):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        p.unlink()
        if self.versions.is_dir():
            self._prune(keep=self._current())

    def _prune(self, keep: Path | None, also: Path | None = None) -> None:
        """Remove every version but ``keep``, ``also`` and (if ``also`` is None) the newest older one."""
        if not self.versions.is_dir():
            return
        entries = sorted(p for p in self.versions.iterdir())
        finished = [p for p in entries if p.name.startswith("v-")]
        keep_set = {p for p in (keep, also) if p is not None}
        if also is None and keep is not None:
            older = [p for p in finished if p.name < keep.name]
            if older:
                keep_set.add(older[-1])
        for p in entries:
            if p in keep_set or (self.dir is not None and p == self.dir):
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()

    # -- the switch
    def commit(self, **extra) -> Path:
        """Write the manifest and make the built folder the current version (atomic)."""
        assert self.dir is not None and not self._committed
        manifest = {
            "bron": self.source,
            "ingest_tijd": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "jeugdlib_versie": __version__,
            "sleutel_vingerafdruk": self.key_fp,
            "tabellen": sorted(p.stem for p in self.dir.glob("*.parquet")),
            **extra,
        }
        missing = [t for t in schema.REQUIRED if t not in manifest["tabellen"]]
        if missing:
            raise JeugdlibError(f"tabel {missing[0]} is niet geschreven; de vorige versie blijft staan", path=self.out)
        tmp = self.dir / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.dir / MANIFEST)
        final = self.versions / ("v-" + self.dir.name[len(_BUILD):])
        os.rename(self.dir, final)
        self.dir = final
        previous = self._current()
        if self.out.is_dir() and not self.out.is_symlink():
            # older layout (or an empty folder): move it aside as a version, then link
            if any(self.out.iterdir()):
                aside = self.versions / f"v-0-oud-{os.getpid()}"
                os.rename(self.out, aside)
                previous = aside
            else:
                self.out.rmdir()
        link = self.out.parent / (_LINK_TMP.format(name=self.out.name) + str(os.getpid()))
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        os.symlink(os.path.relpath(final, self.out.parent), link)
        os.replace(link, self.out)  # the one atomic step
        self._committed = True
        self._prune(keep=final, also=previous)
        return final


def _is_ours(out: Path) -> bool:
    """``out`` is a link into its own ``.<name>.versies`` folder."""
    try:
        target = Path(os.readlink(out))
    except OSError:
        return False
    return target.parts[:1] == (_VERSIONS.format(name=out.name),)


def _legacy_or_empty(folder: Path) -> bool:
    """An empty folder or a processed dataset of an older jeugdlib (tables in the folder itself)."""
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError as exc:
        raise JeugdlibError(f"map onleesbaar ({exc.strerror or exc})", path=folder) from None
    if not names:
        return True
    return "toewijzingen.parquet" in names or all(n.endswith(".parquet") or n.startswith(".") for n in names)
