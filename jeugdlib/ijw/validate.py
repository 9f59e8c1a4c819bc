"""Optional XSD validation of iJw messages against the official schemas.

``jeugdlib ingest DATASET --xsd DIR`` validates every message against
``DIR/<BERICHT>.xsd`` (which imports ``basisschema.xsd`` from the same folder):
a user's copy of the iStandaarden XSD package; tests use ``../shared/ijw/xsd``.
Schemas are compiled once per process and message type. Validation streams
(lxml ``iterparse`` with a schema), clearing elements as it goes, so memory stays
flat for large files.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lxml import etree

from ..errors import JeugdlibError


@functools.lru_cache(maxsize=32)
def load_schema(xsd_dir: str, bericht: str) -> etree.XMLSchema:
    """The compiled schema of ``bericht`` (e.g. ``"JW323"``) from ``xsd_dir`` (cached)."""
    folder = Path(xsd_dir)
    candidates = [folder / f"{bericht}.xsd", folder / f"{bericht.lower()}.xsd"]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise JeugdlibError(f"XSD voor {bericht} niet gevonden (verwacht {bericht}.xsd)", path=folder)
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise JeugdlibError(f"XSD onleesbaar: {exc}", path=path) from None


def check_xsd_dir(xsd_dir: str | Path, berichten: tuple[str, ...]) -> None:
    """Fail early (one line) when the XSD folder is missing or a schema does not compile."""
    folder = Path(xsd_dir)
    if not folder.is_dir():
        raise JeugdlibError("map met XSD's niet gevonden", path=folder)
    for b in berichten:
        load_schema(str(folder.resolve()), b)


_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z_][\w.\-]*)'")


def validate_file(path, xsd_dir: str | Path, bericht: str) -> str | None:
    """Validate one message (a path, or a binary file object such as a zip member's
    bytes); returns None when valid, else the first error as one line.

    The line names the rule and the element only (e.g. ``voldoet niet aan
    JW301.xsd: cvc-pattern-valid bij element Bsn (regel 23)``), never the
    validator's own text: that quotes the offending value, which may be a BSN
    (data-contract 2.1). A file that cannot be read gives a line too.
    """
    schema = load_schema(str(Path(xsd_dir).resolve()), bericht)
    src = str(path) if isinstance(path, (str, Path)) else path
    try:
        for _event, el in etree.iterparse(src, events=("end",), schema=schema,
                                          resolve_entities=False, no_network=True):
            if len(el) == 0:
                continue
            el.clear()
    except etree.XMLSyntaxError as exc:
        log = getattr(exc, "error_log", None)
        e = log.last_error if log is not None and hasattr(log, "last_error") else None
        msg = getattr(exc, "msg", None) or str(exc)
        line = e.line if e is not None else getattr(exc, "lineno", None)
        regel = (e.type_name if e is not None and e.type_name else "") or "xml-fout"
        regel = regel.removeprefix("SCHEMAV_").removeprefix("ERR_").lower().replace("_", "-")
        m = _ELEMENT.search((e.message if e is not None else None) or msg)
        waar = f" bij element {m.group(1)}" if m else ""
        return f"voldoet niet aan {bericht}.xsd: {regel}{waar}" + (f" (regel {line})" if line else "")
    except OSError as exc:
        return f"voldoet niet aan {bericht}.xsd: bestand onleesbaar ({exc.strerror or type(exc).__name__})"
    return None
