"""The ``jeugdlib`` console command (data-contract section 4).

Parsing lives here; each subcommand's work lives in its own module, which exposes
``main(args) -> int``. Errors caused by input are :class:`JeugdlibError` and are
printed as one line on stderr, never as a traceback; so are a failing disk
(:class:`OSError`), an unreadable Parquet file (pyarrow errors) and dates out of
range. Anything else is one line too, asking to report it (``JEUGDLIB_DEBUG=1``
shows its traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import importlib
import os
import sys

from . import __version__
from .errors import JeugdlibError


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jeugdlib",
        description="Onderzoek en rapportage over jeugdhulp uit het iJw-berichtenverkeer.",
    )
    p.add_argument("--version", action="version", version=f"jeugdlib {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="schrijf de synthetische demodataset (iJw XML + referentietabellen)")
    d.add_argument("--out", default=None, help="doelmap (standaard data/raw/demo)")
    d.add_argument("--scale", type=float, default=1.0, help="vermenigvuldigt het aantal cliënten")
    d.add_argument("--seed", type=int, default=2024, help="toevalszaad; zelfde zaad geeft dezelfde bytes")
    d.add_argument("--gemeenten", default=None,
                   help="gemeente->regio-tabel (CSV); standaard de vier demoregio's")
    d.add_argument("--quiet", action="store_true", help="geen voortgangsbalk")

    i = sub.add_parser("ingest", help="lees, valideer en pseudonimiseer een dataset naar Parquet")
    i.add_argument("dataset", help="map met berichten/, export/ en referentie/")
    i.add_argument("--out", default=None, help="doelmap (standaard data/processed/<naam>)")
    i.add_argument("--xsd", default=None, help="map met de officiële iJw 3.2 XSD's: valideer elk bericht")
    i.add_argument("--workers", type=int, default=None, help="aantal processen (standaard: alle kernen)")
    i.add_argument("--quiet", action="store_true", help="geen voortgangsbalk")

    k = sub.add_parser("kpi", help="bereken de KPI-tabel")
    k.add_argument("dataset", help="ruwe of verwerkte dataset")
    k.add_argument("--peildatum", required=True, help="JJJJ-MM-DD; gegevens op of na deze dag tellen niet")
    k.add_argument("--start", default=None, help="JJJJ-MM-DD (standaard 1 januari drie jaar voor de peildatum)")
    k.add_argument("--per", choices=["jaar", "kwartaal", "maand"], default="jaar")
    k.add_argument("--out", default=None, help="kpis.csv of kpis.xlsx (standaard: CSV op stdout)")
    k.add_argument("--no-suppression", action="store_true", help="kleine aantallen niet onderdrukken (intern)")
    _sturing_args(k)
    k.add_argument("--quiet", action="store_true")

    r = sub.add_parser("reports", help="draai de kwartaalrapportages (notebooks -> HTML)")
    r.add_argument("--data", default=None, help="dataset (standaard de demodataset)")
    r.add_argument("--regio", default="alle", help="regionaam of 'alle'")
    r.add_argument("--kwartaal", default=None, help="bv. 2024Q2 (standaard het laatste volledige kwartaal)")
    r.add_argument("--out", default=None, help="doelmap (standaard reports/)")
    r.add_argument("--rapport", action="append", default=None, help="alleen dit rapport (herhaalbaar)")
    r.add_argument("--workers", type=int, default=None, help="notebooks tegelijk (standaard: alle kernen)")
    _sturing_args(r)
    r.add_argument("--quiet", action="store_true")
    return p


def _sturing_args(p: argparse.ArgumentParser) -> None:
    """The scenario parameters of metrics.md section 11 (Sturing)."""
    g = p.add_argument_group("sturing (budgetplafonds, metrics.md 11)")
    g.add_argument("--indexatie", type=float, default=None, help="jaarlijkse indexatie (standaard 0.0474)")
    g.add_argument("--donut-band", dest="donut_band", type=float, default=None,
                   help="donuthole: deel boven het plafond dat niet wordt betaald (standaard 0.05)")
    g.add_argument("--staffel-drempel", dest="staffel_drempel", type=float, default=None,
                   help="staffelkorting vanaf dit deel van het plafond (standaard 0.9)")
    g.add_argument("--staffel-korting", dest="staffel_korting", type=float, default=None,
                   help="staffelkorting op het tarief boven de drempel (standaard 0.10)")
    g.add_argument("--doeljaar", type=int, default=None, help="jaar van het plafondvoorstel (standaard: volgend jaar)")
    g.add_argument("--basisjaar", type=int, default=None,
                   help="productiejaar als basis (standaard: het laatste volledige jaar)")
    g.add_argument("--top-n", dest="top_n", type=int, default=None, help="aanbieders in het stoplicht (standaard 25)")


_MODULES = {"demo": "jeugdlib.demo", "ingest": "jeugdlib.ingest", "kpi": "jeugdlib.kpi",
            "reports": "jeugdlib.reports"}

#: Dates the tables can hold (pandas nanosecond timestamps reach 1677-2262; the analysis
#: window goes back years before the peildatum and forward a year or more after it).
_EERSTE, _LAATSTE = dt.date(1901, 1, 1), dt.date(2199, 12, 31)


def _check_dates(args) -> None:
    """``--peildatum`` and ``--start``: a real date (JJJJ-MM-DD) within 1901-2199, else one line."""
    for name in ("peildatum", "start"):
        value = getattr(args, name, None)
        if value is None:
            continue
        try:
            d = dt.date.fromisoformat(str(value))
        except ValueError:
            raise JeugdlibError(f"--{name} {value!r} is geen datum; schrijf JJJJ-MM-DD, bv. 2024-08-01") from None
        if not (_EERSTE <= d <= _LAATSTE):
            raise JeugdlibError(f"--{name} {value} ligt buiten {_EERSTE.year}-{_LAATSTE.year}; kies een datum "
                                f"binnen de periode van de gegevens")


def _os_message(exc: OSError) -> str:
    """One line for a failing disk or file: which file, what, what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    why = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "maak ruimte vrij en draai opnieuw (een vorige versie van de uitvoer is ongewijzigd)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "controleer de rechten of kies een andere map"
    elif exc.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):
        hint = "controleer het pad (een bestand waar een map hoort, of andersom)"
    else:
        hint = "controleer het bestand en de schijf en draai opnieuw"
    return f"{where}{why}; {hint}"


def _arrow_message(args, exc: Exception) -> str:
    """One line for a Parquet file that cannot be read, naming the file where it can be found."""
    from . import dataset

    for name in ("dataset", "data"):
        path = getattr(args, name, None)
        if path:
            err = dataset.find_corrupt(path)
            if err is not None:
                return str(err)
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return f"Parquet-gegevens onleesbaar ({text}); draai 'jeugdlib ingest' opnieuw"


def _duckdb_message(args, exc: Exception) -> str | None:
    """One line for an error of the query engine that bad input or the machine causes: a
    corrupt Parquet file (named), a full disk while spilling, too little memory."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(exc, duckdb.Error):
        return None
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    if "No space left" in str(exc):
        return (f"schijf vol tijdens het rekenen ({text}); maak ruimte vrij in de tijdelijke map "
                f"(TMPDIR) en draai opnieuw")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return (f"te weinig geheugen ({text}); zet JEUGDLIB_GEHEUGEN lager (DuckDB schrijft dan meer naar "
                f"schijf) of hoger als de machine het heeft")
    if "parquet" in str(exc).lower() or isinstance(exc, (duckdb.IOException, duckdb.InvalidInputException)):
        return _arrow_message(args, exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        mod = importlib.import_module(_MODULES[args.command])
        run = getattr(mod, "main")
    except (ImportError, AttributeError) as exc:
        if getattr(exc, "name", "") in (_MODULES[args.command], None) or isinstance(exc, AttributeError):
            print(f"jeugdlib {args.command}: nog niet beschikbaar in deze versie", file=sys.stderr)
            return 3
        raise
    # Expected failures (bad input, a failing disk, a corrupt file) are one line on stderr and a
    # non-zero exit, never a traceback. JEUGDLIB_DEBUG=1 shows the traceback of anything else.
    try:
        _check_dates(args)
        return int(run(args) or 0)
    except JeugdlibError as exc:
        print(f"jeugdlib {args.command}: fout: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"jeugdlib {args.command}: afgebroken", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"jeugdlib {args.command}: fout: {_os_message(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
        import pyarrow as pa

        if isinstance(exc, pa.ArrowException):
            print(f"jeugdlib {args.command}: fout: {_arrow_message(args, exc)}", file=sys.stderr)
            return 2
        melding = _duckdb_message(args, exc)
        if melding:
            print(f"jeugdlib {args.command}: fout: {melding}", file=sys.stderr)
            return 2
        if os.environ.get("JEUGDLIB_DEBUG"):
            raise
        text = (str(exc).strip().splitlines() or [""])[0][:200]
        print(f"jeugdlib {args.command}: interne fout: {type(exc).__name__}: {text} (meld dit; "
              f"JEUGDLIB_DEBUG=1 toont de traceback)", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
