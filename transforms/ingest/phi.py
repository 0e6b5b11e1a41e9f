"""Keyed hashing of member ids: the only form in which a member id reaches the warehouse.

A warehouse holds hashes made under one key: the same member under another key gets another
hash, and would count as two patients. So the warehouse keeps a fingerprint of its key
(``audit.phi_key``, recorded by the first load) and a load under another key is refused before
anything is read (:func:`check_warehouse_key`). The fingerprint is PBKDF2-HMAC-SHA256 of the key
with a random salt of the warehouse: it tells whether a key is the warehouse's, and nothing else
(neither the key nor a plain hash of it is stored). Changing the key means loading the source
files again into a new warehouse (docs/runbook.md, "Changing the member-id key").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
from pathlib import Path

from transforms.errors import ConfigError

ENV_KEY = "DENIALS_PHI_KEY"
KEY_TABLE = "audit.phi_key"
FINGERPRINT_ALGORITHM = "pbkdf2-hmac-sha256"
FINGERPRINT_ITERATIONS = 100_000  # PBKDF2 rounds of the key fingerprint, computed once per load
# a fixed label before the warehouse's salt: the fingerprint is no value the key is used for elsewhere
_FINGERPRINT_LABEL = b"denials/phi-key-fingerprint/v1\x00"
RUNBOOK = 'docs/runbook.md, "Changing the member-id key"'

log = logging.getLogger(__name__)


class PhiKeyMismatchError(ConfigError):
    """The member-id key in use is not the key the warehouse's member ids were hashed with."""


class MemberIdHasher:
    """HMAC-SHA256 of a member id under a secret key, hex, first 32 digits.

    The same id under the same key always gives the same hash (so claims and remittances of one
    member can be linked), and the hash cannot be reversed or recomputed without the key.
    """

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the PHI hashing key must be at least 16 bytes")
        self._key = key
        self._cache: dict[str, str] = {}
        # HMAC (RFC 2104) with the padded keys hashed once: the same digest as hmac.new(key,
        # ..., sha256), about twice as fast per id (each id copies the two prepared states)
        k = key if len(key) <= 64 else hashlib.sha256(key).digest()
        k = k.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in k))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in k))

    def fingerprint(self, salt: bytes, iterations: int = FINGERPRINT_ITERATIONS) -> str:
        """The key's fingerprint under ``salt`` (:func:`key_fingerprint`)."""
        return key_fingerprint(self._key, salt, iterations)

    def __reduce__(self):
        # hash objects do not pickle: another process (fast835's second process) rebuilds them
        return (MemberIdHasher, (self._key,))

    def __call__(self, member_id: str | None) -> str | None:
        if member_id is None:
            return None
        member_id = member_id.strip()
        if not member_id:
            return None
        h = self._cache.get(member_id)
        if h is None:
            inner = self._inner.copy()
            inner.update(member_id.encode("utf-8"))
            outer = self._outer.copy()
            outer.update(inner.digest())
            h = outer.hexdigest()[:32]
            self._cache[member_id] = h
        return h


    def hash_many(self, member_ids: list[str | None]) -> list[str | None]:
        """``[self(m) for m in member_ids]``, without a call per id."""
        cache = self._cache
        get = cache.get
        inner_copy = self._inner.copy
        outer_copy = self._outer.copy
        out: list[str | None] = []
        append = out.append
        for m in member_ids:
            if m is None:
                append(None)
                continue
            m = m.strip()
            if not m:
                append(None)
                continue
            h = get(m)
            if h is None:
                inner = inner_copy()
                inner.update(m.encode("utf-8"))
                outer = outer_copy()
                outer.update(inner.digest())
                h = cache[m] = outer.hexdigest()[:32]
            append(h)
        return out


def load_key(key_file: Path) -> bytes:
    """The key from $DENIALS_PHI_KEY, else from ``key_file`` (created, mode 0600, if missing)."""
    env = os.environ.get(ENV_KEY)
    if env:
        return env.encode("utf-8")
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key


def key_fingerprint(key: bytes, salt: bytes, iterations: int = FINGERPRINT_ITERATIONS) -> str:
    """PBKDF2-HMAC-SHA256 of ``key`` with a fixed label and ``salt``, hex (64 digits). One-way and
    slow to guess: it shows whether a key is the one recorded, not what the key is."""
    return hashlib.pbkdf2_hmac("sha256", key, _FINGERPRINT_LABEL + salt, iterations).hex()


def ensure_key_table(con) -> None:
    """audit.phi_key: the fingerprint of the warehouse's member-id key (one row, from its first load)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {KEY_TABLE} (
               algorithm VARCHAR NOT NULL,  -- {FINGERPRINT_ALGORITHM}
               iterations INTEGER NOT NULL,
               salt VARCHAR NOT NULL,       -- hex, random per warehouse
               fingerprint VARCHAR NOT NULL,
               recorded_at TIMESTAMP NOT NULL
           )"""
    )


def recorded_fingerprints(con) -> list[tuple[str, int, str, str]]:
    """(algorithm, iterations, salt, fingerprint) of audit.phi_key; none if the table is missing (read only)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'audit' AND table_name = 'phi_key'").fetchone()[0]
    if not exists:
        return []
    return con.execute(f"SELECT algorithm, iterations, salt, fingerprint FROM {KEY_TABLE}").fetchall()


def check_warehouse_key(con, hasher) -> None:
    """Refuse a member-id key other than the warehouse's; record the key's fingerprint on the first load.

    Called by the loader before it reads any file. ``hasher``: the callable that hashes member ids
    for the load; only a :class:`MemberIdHasher` has a key to check (a test's plain function has
    none: nothing is checked or recorded). Raises :class:`PhiKeyMismatchError` (one line) when
    the warehouse recorded another key. A warehouse loaded before fingerprints were kept records
    the key of its next load (its earlier hashes cannot be checked).
    """
    if not isinstance(hasher, MemberIdHasher):
        return
    ensure_key_table(con)
    rows = recorded_fingerprints(con)
    if rows:
        _compare(rows, hasher)
        return
    loaded = con.execute("SELECT count(*) FROM audit.file_manifest WHERE status = 'loaded'").fetchone()[0]
    if loaded:
        log.warning("this warehouse has no record of its member-id key: the key in use is recorded now "
                    "(the %d files loaded before cannot be checked against it)", loaded)
    salt = secrets.token_bytes(16)
    con.execute(f"INSERT INTO {KEY_TABLE} VALUES (?, ?, ?, ?, ?)", [
        FINGERPRINT_ALGORITHM, FINGERPRINT_ITERATIONS, salt.hex(), hasher.fingerprint(salt, FINGERPRINT_ITERATIONS),
        dt.datetime.now(dt.UTC).replace(tzinfo=None)])


def check_key_before_run(con, key_file: Path) -> None:
    """What a run's load would refuse, told before the run starts (``denials run``): the key of
    $DENIALS_PHI_KEY, else of ``key_file``, against the warehouse's fingerprint. Writes nothing
    and creates no key file: a warehouse without a fingerprint passes (its first load records one)."""
    rows = recorded_fingerprints(con)
    if not rows:
        return
    source = f"${ENV_KEY}" if os.environ.get(ENV_KEY) else str(key_file)
    if not os.environ.get(ENV_KEY) and not key_file.exists():
        raise PhiKeyMismatchError(
            f"no member-id key: ${ENV_KEY} is not set and {key_file} does not exist, but this warehouse's member "
            f"ids were hashed with a key; restore that phi.key from the warehouse's backup or set ${ENV_KEY} to "
            f"it (nothing was loaded; {RUNBOOK})")
    try:
        hasher = MemberIdHasher(load_key(key_file))
    except (OSError, ValueError) as e:
        raise PhiKeyMismatchError(f"member-id key {source}: {e}") from None
    _compare(rows, hasher, source)


def _compare(rows, hasher: MemberIdHasher, source: str | None = None) -> None:
    for algorithm, iterations, salt, fingerprint in rows:
        if algorithm != FINGERPRINT_ALGORITHM:
            raise PhiKeyMismatchError(
                f"{KEY_TABLE}: a key fingerprint of an unknown kind ({algorithm!r}), expected "
                f"{FINGERPRINT_ALGORITHM} (written by a newer version of the pipeline?); nothing was loaded")
        if not secrets.compare_digest(hasher.fingerprint(bytes.fromhex(salt), iterations), fingerprint):
            where = source or f"${ENV_KEY}, or else the phi.key file"
            raise PhiKeyMismatchError(
                f"member-id key mismatch: the key in use ({where}) is not the key this warehouse's member ids "
                "were hashed with, so every patient would get a second hash; nothing was loaded. Use the "
                f"warehouse's key, or re-key by loading the source files into a new warehouse ({RUNBOOK})")
