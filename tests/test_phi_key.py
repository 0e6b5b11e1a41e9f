"""The member-id key is checked: a warehouse keeps a fingerprint of the key its member ids were
hashed with (audit.phi_key), and a load under another key is refused before anything is loaded
(otherwise every patient would get a second hash). The fingerprint does not reveal the key."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TINY
from transforms import warehouse
from transforms.errors import ConfigError, DenialsError
from transforms.ingest import loader, phi
from transforms.ingest.phi import MemberIdHasher, PhiKeyMismatchError

KEY_A = b"key-A-not-secret-0123456789abcdef"
KEY_B = b"key-B-not-secret-0123456789abcdef"
BIN = Path(sys.executable).parent / "denials"


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'audit') ORDER BY 1"
    ).fetchall()]
    return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}


def split_landing(tmp_path: Path) -> tuple[Path, Path]:
    """The tiny data set as two batches: the claims, then the remittances."""
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(TINY / "claims", first / "claims")
    shutil.copytree(TINY / "remittances", second / "remittances")
    return first, second


def test_another_key_is_refused_and_loads_nothing(tmp_path):
    first, second = split_landing(tmp_path)
    con = warehouse.connect(tmp_path / "w.duckdb")
    result = loader.load_batch(con, loader.discover(first), MemberIdHasher(KEY_A))
    assert result.count("loaded") == 3
    assert con.execute("SELECT count(*) FROM audit.phi_key").fetchone()[0] == 1
    before = counts(con)

    with pytest.raises(PhiKeyMismatchError) as e:
        loader.load_batch(con, loader.discover(second), MemberIdHasher(KEY_B))
    # a project error (the CLI prints it in one line): names the problem and the re-key procedure
    assert isinstance(e.value, ConfigError) and isinstance(e.value, DenialsError)
    message = str(e.value)
    assert "\n" not in message
    assert "member-id key" in message and "nothing was loaded" in message and "docs/runbook.md" in message
    assert KEY_A.decode() not in message and KEY_B.decode() not in message
    assert counts(con) == before  # no row, no manifest entry, no batch, no second fingerprint

    # the warehouse's own key loads the same batch
    result = loader.load_batch(con, loader.discover(second), MemberIdHasher(KEY_A))
    assert result.count("loaded") == 3 and result.count("quarantined") == 0
    after = counts(con)
    assert after["raw.remit_claims"] > 0 and after["audit.phi_key"] == 1
    # and every member has one hash: claims and remittances of a member link
    unlinked = con.execute(
        "SELECT count(*) FROM raw.remit_claims r WHERE r.member_id_hash IS NOT NULL AND r.claim_id IN "
        "(SELECT claim_id FROM raw.claims) AND r.member_id_hash NOT IN (SELECT member_id_hash FROM raw.claims)"
    ).fetchone()[0]
    assert unlinked == 0
    con.close()


def test_same_key_loads_again_and_the_check_survives_reopening(tmp_path):
    first, second = split_landing(tmp_path)
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(first), MemberIdHasher(KEY_A))
    con.close()
    con = warehouse.connect(db)
    with pytest.raises(PhiKeyMismatchError):
        loader.load_batch(con, loader.discover(second), MemberIdHasher(KEY_B))
    assert loader.load_batch(con, loader.discover(second), MemberIdHasher(KEY_A)).count("loaded") == 3
    # loading again under the same key: nothing new, no error
    assert loader.load_batch(con, loader.discover(first), MemberIdHasher(KEY_A)).count("skipped") == 3
    con.close()


def test_the_fingerprint_does_not_reveal_the_key(tmp_path):
    first, _ = split_landing(tmp_path)
    stored = []
    for name in ("one", "two"):
        con = warehouse.connect(tmp_path / f"{name}.duckdb")
        loader.load_batch(con, loader.discover(first), MemberIdHasher(KEY_A))
        stored.append(con.execute("SELECT algorithm, iterations, salt, fingerprint, recorded_at FROM audit.phi_key").fetchone())
        con.close()
    algorithm, iterations, salt, fingerprint, _ = stored[0]
    assert algorithm == "pbkdf2-hmac-sha256" and iterations >= 100_000
    assert len(fingerprint) == 64 and len(bytes.fromhex(salt)) == 16
    # a salted, slow, one-way function of the key: the same key gives another fingerprint in another warehouse
    assert stored[1][3] != fingerprint and stored[1][2] != salt
    assert phi.key_fingerprint(KEY_A, bytes.fromhex(salt), iterations) == fingerprint
    assert phi.key_fingerprint(KEY_B, bytes.fromhex(salt), iterations) != fingerprint
    # neither the key, nor any part of it, nor a plain hash of it, nor the key's member-id hash of anything stored
    text = " ".join(str(v) for row in stored for v in row)
    candidates = {KEY_A.decode(), KEY_A.hex(), KEY_A.decode()[:16], KEY_A.decode()[-16:]}
    for algo in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"):
        candidates.add(hashlib.new(algo, KEY_A).hexdigest())
    candidates.add(hmac.new(KEY_A, b"", hashlib.sha256).hexdigest())
    for c in candidates:
        assert c not in text and c[:32] not in text
    # every value of every column of audit.phi_key was looked at
    con = duckdb.connect(str(tmp_path / "one.duckdb"), read_only=True)
    assert [r[0] for r in con.execute("DESCRIBE audit.phi_key").fetchall()] == [
        "algorithm", "iterations", "salt", "fingerprint", "recorded_at"]
    con.close()


def test_a_warehouse_without_a_fingerprint_records_one_and_a_plain_hasher_is_not_checked(tmp_path):
    first, second = split_landing(tmp_path)
    con = warehouse.connect(tmp_path / "w.duckdb")
    plain = lambda m: None if m is None else f"h-{m}"  # noqa: E731  (any callable hashes; it has no key)
    loader.load_batch(con, loader.discover(first), plain)
    assert phi.recorded_fingerprints(con) == []
    # a warehouse loaded before fingerprints were kept: its next load records the key in use
    loader.load_batch(con, loader.discover(second), MemberIdHasher(KEY_A))
    assert len(phi.recorded_fingerprints(con)) == 1
    with pytest.raises(PhiKeyMismatchError):
        loader.load_batch(con, [TINY / "claims" / "write_offs.csv"], MemberIdHasher(KEY_B))
    con.close()


def _cli(*args: str, key: bytes | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DENIALS_PHI_KEY", "DENIALS_MAPPINGS")}
    if key is not None:
        env["DENIALS_PHI_KEY"] = key.decode()
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=300, env=env)


def test_denials_run_refuses_another_key_in_one_line(tmp_path):
    """`denials run` with another key than the warehouse's (or with its phi.key lost) stops before the
    pipeline starts: exit 2, one line on stderr, no traceback, nothing loaded, no key file made."""
    first, second = split_landing(tmp_path)
    db = tmp_path / "wh" / "w.duckdb"
    db.parent.mkdir()
    (db.parent / "phi.key").write_bytes(KEY_A + b"\n")  # the key `denials run` reads when DENIALS_PHI_KEY is unset
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(first), MemberIdHasher(KEY_A))
    before = counts(con)
    con.close()

    def refused(r: subprocess.CompletedProcess, *words: str) -> None:
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        for w in words:
            assert w in lines[0], (w, lines[0])
        assert KEY_A.decode() not in r.stderr + r.stdout and KEY_B.decode() not in r.stderr + r.stdout

    args = ("run", "--landing", str(second), "--warehouse", str(db), "--out", str(tmp_path / "out"))
    refused(_cli(*args, key=KEY_B), "member-id key mismatch", "$DENIALS_PHI_KEY", "nothing was loaded", "docs/runbook.md")
    (db.parent / "phi.key").write_bytes(KEY_B + b"\n")
    refused(_cli(*args, key=None), "member-id key mismatch", str(db.parent / "phi.key"), "docs/runbook.md")
    (db.parent / "phi.key").unlink()
    refused(_cli(*args, key=None), "no member-id key", "phi.key", "docs/runbook.md")
    assert not (db.parent / "phi.key").exists()  # not replaced by a new key behind the user's back
    refused(_cli(*args, key=b"short"), "member-id key $DENIALS_PHI_KEY", "at least 16 bytes")

    con = duckdb.connect(str(db), read_only=True)
    assert counts(con) == before
    con.close()
