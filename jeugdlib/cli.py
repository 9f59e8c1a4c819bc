"""The ``jeugdlib`` console command (data-contract section 4).

Parsing lives here; each subcommand's work lives in its own module, which exposes
``main(args) -> int``. Errors caused by input are :class:`JeugdlibError` and are
printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
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
    try:
        return int(run(args) or 0)
    except JeugdlibError as exc:
        print(f"jeugdlib {args.command}: fout: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"jeugdlib {args.command}: afgebroken", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
