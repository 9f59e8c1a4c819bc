"""Privacy: BSN check and pseudonymisation at ingest, small-number suppression on output.

data-contract section 2.1 and 3.1. The BSN never reaches disk after ingest:
``client_id`` is HMAC-SHA256(key, BSN), hex, with a local secret key that lives
outside git (``JEUGDLIB_KEY`` or ``data/.jeugdlib_key``, created on first use). A
key under 32 bytes is refused; a dataset stores only :func:`key_fingerprint`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, schema
from .errors import JeugdlibError

_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])


def elfproef(bsn: pd.Series) -> pd.Series:
    """True where ``bsn`` is a 9-digit number passing the elfproef (vectorised).

    Rule (BSN): sum(d_i * w_i) with weights 9,8,...,2,-1 is divisible by 11 and
    not 0. Shorter numbers of 8 digits are left-padded with a zero, as iJw allows.
    """
    s = pd.Series(bsn, copy=False).astype("string").fillna("").str.strip()
    s = s.where(s.str.len() != 8, "0" + s)
    ok = s.str.fullmatch(r"\d{9}").fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if ok.any():
        digits = np.frombuffer("".join(s[ok].tolist()).encode("ascii"), dtype=np.uint8) - 48
        digits = digits.reshape(-1, 9).astype(np.int64)
        total = digits @ _WEIGHTS
        out[ok] = (total % 11 == 0) & (total != 0)
    return pd.Series(out, index=pd.Series(bsn).index)


def elfproef_one(bsn: str) -> bool:
    """Scalar version of :func:`elfproef`."""
    return bool(elfproef(pd.Series([bsn])).iloc[0])


#: Shortest key accepted (bytes): an HMAC with a short or empty key can be reversed by
#: trying every BSN (there are fewer than a billion).
MIN_KEY_BYTES = 32

#: The fixed text whose HMAC is a key's fingerprint (stored with a processed dataset).
_FINGERPRINT_TEXT = b"jeugdlib sleutel-vingerafdruk v1"


def key_path() -> Path:
    """Where the key file lives: ``JEUGDLIB_KEY_FILE``, else ``data/.jeugdlib_key`` under
    the working directory (or under ``JEUGDLIB_DATA``), never inside the installed package."""
    env = os.environ.get("JEUGDLIB_KEY_FILE")
    return Path(env) if env else config.data_dir() / ".jeugdlib_key"


def _check_key(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise JeugdlibError(
            f"pseudonimiseringssleutel is {'leeg' if not key else f'te kort ({len(key)} bytes)'}; "
            f"een sleutel moet minstens {MIN_KEY_BYTES} bytes zijn (bv. 64 hex-tekens) "
            f"- zet de juiste sleutel terug", path=where)
    return key


def load_key(*, create: bool = True, quiet: bool = False) -> bytes:
    """The secret key for pseudonymisation.

    From the environment variable ``JEUGDLIB_KEY`` if set, else from the key
    file (:func:`key_path`, git-ignored); created there on first use, with a
    message on stderr (always, also when ``quiet``: a new key means new client
    ids). Keep the key: the same key gives the same client ids across runs and
    datasets. A key shorter than :data:`MIN_KEY_BYTES` (or empty) is refused,
    and so is a key file that cannot be read: :class:`JeugdlibError`, one line.
    Whitespace around the key is ignored; any bytes are accepted.
    """
    if config.KEY_ENV in os.environ:
        env = os.environ[config.KEY_ENV]
        return _check_key(os.fsencode(env).strip(), f"${config.KEY_ENV}")
    path = key_path()
    try:
        return _check_key(path.read_bytes().strip(), str(path))
    except FileNotFoundError:
        pass
    except OSError as exc:  # a directory, no permission, I/O error
        raise JeugdlibError(f"sleutelbestand onleesbaar ({exc.strerror or exc}); "
                            f"herstel het of wijs een ander aan met JEUGDLIB_KEY_FILE", path=path) from None
    if not create:
        raise JeugdlibError("pseudonimiseringssleutel ontbreekt", path=path)
    key = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run made it a moment ago: use that one
        return load_key(create=False)
    except OSError as exc:
        raise JeugdlibError(f"kan geen sleutelbestand aanmaken ({exc.strerror or exc})", path=path) from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    print(f"Nieuwe pseudonimiseringssleutel aangemaakt in {path} (buiten git; bewaar hem "
          f"om client-id's over runs heen gelijk te houden).", file=sys.stderr)
    return key.encode("ascii")


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of ``key`` that does not reveal it: HMAC-SHA256(key, fixed text), hex.

    Stored with a processed dataset, so that writing into it or joining it with
    another key can be refused (data-contract 2.2)."""
    return hmac.new(key, _FINGERPRINT_TEXT, hashlib.sha256).hexdigest()


_NINE_DIGITS = re.compile(r"(?<!\d)0*\d{9}(?!\d)")
_NINE_RE2 = r"(^|[^0-9])0*[0-9]{9}([^0-9]|$)"  # the same for Arrow (RE2 has no look-behind)
#: What a masked run of digits becomes.
MASK = "*********"


def mask_bsn(text):
    """``text`` with every number of nine digits (zeros in front included) replaced by
    :data:`MASK`: it may be a BSN. A longer number (a 12-digit BerichtIdentificatie) stays.

    Used on file names (``bron``, ``bestand``) and on quarantine messages and
    values (data-contract 2.1). ``None`` stays ``None``."""
    if text is None:
        return None
    return _NINE_DIGITS.sub(MASK, str(text))


def mask_bsn_series(s: pd.Series) -> pd.Series:
    """:func:`mask_bsn` on a string Series (vectorised; missing values stay missing)."""
    s = pd.Series(s, copy=False)
    if not len(s):
        return s
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.astype(schema.S))
    for _ in range(2):  # twice: "123456789 987654321" shares the space between the matches
        arr = pc.replace_substring_regex(arr, _NINE_RE2, r"\1" + MASK + r"\2")
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index).astype(schema.S)


def pseudonymise(bsn: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash (HMAC-SHA256, hex) of each BSN; each distinct BSN is hashed once."""
    s = pd.Series(bsn, copy=False).astype("string").str.strip()
    s = s.where(s.str.len() != 8, "0" + s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    hashed = np.array(
        [hmac.new(key, u.encode("ascii"), hashlib.sha256).hexdigest() for u in uniques],
        dtype=object,
    )
    out = np.where(codes >= 0, hashed[np.maximum(codes, 0)] if len(hashed) else None, None)
    return pd.Series(out, index=s.index, dtype=schema.S)


def suppress(kpis: pd.DataFrame, klein_aantal: int = 10, *, enabled: bool = True) -> pd.DataFrame:
    """Small-number suppression (data-contract 3.1).

    A row is suppressed when the number of clients behind it (column
    ``n_clienten``) is from 1 to ``klein_aantal - 1``: its ``waarde`` becomes
    empty and ``onderdrukt`` true. Rows without a client basis (NaN, e.g. money
    totals over many clients already checked upstream) are left alone. Returns
    the KPI columns of the contract, without ``n_clienten``.
    """
    out = kpis.copy()
    if schema.KPI_N in out.columns and enabled:
        n = pd.to_numeric(out[schema.KPI_N], errors="coerce")
        small = (n >= 1) & (n < klein_aantal)
        small = small.fillna(False).astype(bool)
    else:
        small = pd.Series(False, index=out.index)
    out["onderdrukt"] = small.to_numpy()
    out["waarde"] = out["waarde"].astype("float64").where(~small.to_numpy())
    for c in schema.KPI_COLUMNS:
        if c not in out.columns:
            out[c] = "" if schema.KPI_COLUMNS[c] == schema.S else False
    out = out[list(schema.KPI_COLUMNS)]
    return out.astype(schema.KPI_COLUMNS)
