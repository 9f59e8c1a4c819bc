"""Privacy: BSN check and pseudonymisation at ingest, small-number suppression on output.

data-contract section 2.1 and 3.1. The BSN never reaches disk after ingest:
``client_id`` is HMAC-SHA256(key, BSN), hex, with a local secret key that lives
outside git (``JEUGDLIB_KEY`` or ``data/.jeugdlib_key``, created on first use).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, schema

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


def load_key(*, create: bool = True, quiet: bool = False) -> bytes:
    """The secret key for pseudonymisation.

    From the environment variable ``JEUGDLIB_KEY`` if set, else from
    ``data/.jeugdlib_key`` (git-ignored); created there on first use, with a
    message on stderr. Keep the key: the same key gives the same client ids
    across runs and datasets.
    """
    env = os.environ.get(config.KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = Path(os.environ.get("JEUGDLIB_KEY_FILE", config.KEY_FILE))
    if path.exists():
        return path.read_text(encoding="ascii").strip().encode("ascii")
    if not create:
        raise FileNotFoundError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    if not quiet:
        print(f"Nieuwe pseudonimiseringssleutel aangemaakt in {path} (buiten git; bewaar hem "
              f"om client-id's over runs heen gelijk te houden).", file=sys.stderr)
    return key.encode("ascii")


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
