"""Keyed hashing of member ids: the only form in which a member id reaches the warehouse."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

ENV_KEY = "DENIALS_PHI_KEY"


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
