"""One large 835 on two processes (``processes=2``): the second process parses the last parts
of the file from a guessed state; the result is exactly the one-process result (every column
of every table, the findings, the errors), which is exactly the row parser's. The tests force
many parts (small ``_CHUNK_BYTES``) and the second process on small files
(``_PROCESS_MIN_FILE_BYTES = 0``), and look at which way each parse went."""

from __future__ import annotations

import os

import pytest
from test_fast835 import FID, HASH, check, reference
from x12support import X12_FILES, fixture_bytes, needs_fixtures

from bench.make_835 import make_835
from transforms.errors import InputFileError
from transforms.ingest.phi import MemberIdHasher
from transforms.x12 import fast835
from transforms.x12.fast835 import parse_835_arrow, parse_835_files

pytestmark = pytest.mark.skipif(fast835._n_processes(2) != 2, reason="Linux only (memfd)")


@pytest.fixture
def two(monkeypatch):
    """Many parts, the second process for any size; records how each parse went: "child" (the
    second process's parts were taken), "here" (they were parsed here after all: the guess was
    wrong or the child failed) or "fallback" (the fast path gave up: the row parser decides)."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 20_000)
    monkeypatch.setattr(fast835, "_PROCESS_MIN_FILE_BYTES", 0)
    ways: list[str] = []
    inner = fast835._pipeline
    outer = fast835._pipeline_two_processes

    def pipeline(parts, file_ids, n_threads, hash_many=None, carry=None):
        if carry is not None:
            ways.append("here")  # the parent parses the child's parts
        return inner(parts, file_ids, n_threads, hash_many, carry)

    def two_processes(*a, **k):
        n = len(ways)
        try:
            out = outer(*a, **k)
        except fast835._Fallback:
            ways.append("fallback")
            raise
        if len(ways) == n:
            ways.append("child")
        return out

    monkeypatch.setattr(fast835, "_pipeline", pipeline)
    monkeypatch.setattr(fast835, "_pipeline_two_processes", two_processes)
    return ways


def parse(data: bytes, name: str = "t.835", processes: int = 2, hasher=HASH):
    try:
        return parse_835_arrow(data, name, FID, hasher, threads=1, processes=processes), None
    except InputFileError as e:
        return None, e


def same_three_ways(data: bytes, name: str = "t.835", hasher=HASH):
    """Two processes == one process == the row parser (tables, findings, errors)."""
    ref, ref_err = reference(data, name)
    got2, err2 = parse(data, name, 2, hasher)
    got1, err1 = parse(data, name, 1)
    check(ref, ref_err, got2, err2)
    check(ref, ref_err, got1, err1)
    return ref, ref_err


def _segments(data: bytes) -> list[bytes]:
    return data.split(b"~\n")


def _join(segs: list[bytes]) -> bytes:
    return b"~\n".join(segs)


# --- normal files: the second process's parts are taken ----------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_file(two, seed):
    data = make_835(400_000, seed=seed)
    ref, _ = same_three_ways(data)
    assert two == ["child"]
    assert ref.tables["remit_claims"].num_rows > 500


def test_one_transaction_cut_before_claims(two):
    """One transaction: the second process begins inside it (its BPR in the first half)."""
    data = make_835(1, seed=41, claims_per_st=(1500, 1500))
    assert data.count(b"ST*835") == 1
    same_three_ways(data)
    assert two == ["child"]


def test_layouts(two):
    """Without newlines, with CRLF, with another terminator: the guess reads them too."""
    data = make_835(300_000, seed=3)
    for variant in (data.replace(b"~\n", b"~"), data.replace(b"\n", b"\r\n"), data.replace(b"~\n", b"'\n")):
        same_three_ways(variant)
    assert two == ["child"] * 3


def test_member_ids_hashed_in_the_second_process(two):
    data = make_835(300_000, seed=4)
    got, _ = parse(data)
    ref, _ = reference(data, "t.835")
    member = got.tables["remit_claims"]["member_id_hash"]
    assert member.equals(ref.tables["remit_claims"]["member_id_hash"])
    assert member.null_count < len(member) // 2
    assert two == ["child"]


@needs_fixtures
@pytest.mark.parametrize("name", X12_FILES)
def test_shared_fixtures(name, two, monkeypatch):
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 100)  # (fixtures of 1-2 KB: a few parts each)
    same_three_ways(fixture_bytes(name), name)


# --- findings in both halves -------------------------------------------------------------------


def test_unbalanced_claims_and_envelope_errors_in_both_halves(two):
    segs = _segments(make_835(400_000, seed=11, claims_per_st=(5, 40)))
    n = len(segs)
    for where in (0.1, 0.3, 0.6, 0.9):  # an SVC and a CLP paid wrongly: SVC, CLP, BPR unbalanced
        k = next(i for i in range(int(n * where), n) if segs[i].startswith(b"SVC*"))
        e = segs[k].split(b"*")
        e[3] = b"0.01"
        segs[k] = b"*".join(e)
        k = next(i for i in range(k, n) if segs[i].startswith(b"CLP*"))
        e = segs[k].split(b"*")
        e[4] = b"1234.5"
        segs[k] = b"*".join(e)
    for where in (0.2, 0.8):  # a wrong SE01 count and a wrong ST control number
        k = next(i for i in range(int(n * where), n) if segs[i].startswith(b"SE*"))
        segs[k] = b"SE*3*" + segs[k].split(b"*")[2]
        k = next(i for i in range(k, n) if segs[i].startswith(b"ST*"))
        segs[k] = segs[k].replace(b"*0", b"*9", 1) if b"*0" in segs[k] else segs[k] + b"9"
    i = next(i for i in range(n - 1, 0, -1) if segs[i].startswith(b"GE*"))
    segs[i] = b"GE*999*" + segs[i].split(b"*")[2]  # a wrong GE01
    ref, _ = same_three_ways(_join(segs))
    codes = [f.code for f in ref.findings]
    assert {"svc_unbalanced", "clp_unbalanced", "bpr_unbalanced"} <= set(codes)
    assert len(codes) >= 12
    assert two == ["child"]


# --- errors: the row parser's, wherever they are -----------------------------------------------


@pytest.mark.parametrize("where", [0.1, 0.9])
@pytest.mark.parametrize(
    ("seg_id", "k", "value", "element"),
    [(b"CAS", 3, b"12.345", "CAS03"), (b"CLP", 4, b"", "CLP04"), (b"DTM", 2, b"20240230", "DTM02")],
)
def test_bad_value_in_either_half(two, where, seg_id, k, value, element):
    segs = _segments(make_835(400_000, seed=5))
    n = next(
        i for i in range(int(len(segs) * where), len(segs))
        if segs[i].startswith(seg_id + b"*") and (seg_id != b"DTM" or segs[i].startswith(b"DTM*472"))
    )  # fmt: skip
    e = segs[n].split(b"*")
    e[k] = value
    segs[n] = b"*".join(e)
    _, ref_err = same_three_ways(_join(segs), "big.835")
    assert ref_err.location == f"segment {n + 1} ({seg_id.decode()}), element {element}"
    assert two == ["fallback"]


def test_misplaced_segment_in_the_second_half(two):
    segs = _segments(make_835(400_000, seed=6))
    n = next(i for i in range(int(len(segs) * 0.8), len(segs)) if segs[i].startswith(b"LX*"))
    segs.insert(n + 1, b"SVC*HC:99213*10*10")  # a line outside any claim
    _, err = same_three_ways(_join(segs), "big.835")
    assert (err.location, err.code) == (f"segment {n + 2} (SVC)", "malformed_segment")


def test_claims_before_bpr_in_the_second_half(two):
    """The BPR of a transaction of the second half moved after its claims: the error is the row
    parser's, and the second process finds it from the state it was handed."""
    segs = _segments(make_835(1, seed=43, claims_per_st=(400, 400)) + make_835(1, seed=44, claims_per_st=(900, 900)))
    st = [i for i, s in enumerate(segs) if s.startswith(b"ST*")][1]
    bpr = segs.pop(st + 1)
    end = next(i for i in range(st, len(segs)) if segs[i].startswith(b"SE*"))
    segs.insert(end, bpr)
    _, err = same_three_ways(_join(segs), "o.835")
    assert err.code == "malformed_segment"


# --- the guess is wrong, or the second process fails: parsed here, same result ----------------


def test_empty_segments_in_the_first_half(two):
    """Empty segments (``~~``) are dropped by the tokenizer: the guessed segment count is off,
    so the second process's parts are parsed here from the real state."""
    segs = _segments(make_835(400_000, seed=12))
    k = len(segs) // 5
    data = _join(segs[:k]) + b"~\n~\n" + _join(segs[k:])
    same_three_ways(data)
    assert two == ["here"]


def test_guess_is_the_real_state():
    """On files of the usual shapes the guess is right at every cut (else the second process
    would be wasted work): segments, an open transaction, an open BPR."""
    datas = [
        make_835(200_000, seed=21),
        make_835(1, seed=22, claims_per_st=(400, 400)),
        make_835(200_000, seed=23).replace(b"~\n", b"~"),
        make_835(200_000, seed=24).replace(b"\n", b"\r\n"),
    ]
    old = fast835._CHUNK_BYTES
    fast835._CHUNK_BYTES = 5_000
    try:
        for data in datas:
            prep = fast835._prepare(data, "g.835")
            n_parts = len(fast835._make_parts([prep], prep.d))
            assert n_parts > 10
            for k in range(1, n_parts, 3):
                parts = fast835._make_parts([prep], prep.d)[:k]
                guess = fast835._guess_carry(parts, prep)
                real = fast835._pipeline(parts, [FID], 1)
                assert guess.handed_on() == real.handed_on(), k
                assert guess.seen == real.seen, k
    finally:
        fast835._CHUNK_BYTES = old


class _FailsInChild(MemberIdHasher):
    """Hashes like MemberIdHasher, but fails in any process other than the test's: ``how``
    "raise" (an exception: the child reports it) or "exit" (the child dies without a word)."""

    def __init__(self, key: bytes, parent: int, how: str):
        super().__init__(key)
        self.parent, self.how = parent, how

    def __reduce__(self):
        return _FailsInChild, (self._key, self.parent, self.how)

    def hash_many(self, member_ids):
        if os.getpid() != self.parent:
            if self.how == "exit":
                os._exit(3)
            raise RuntimeError("no")
        return super().hash_many(member_ids)


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_second_process_fails(two, how):
    from x12support import hasher

    key = hasher()._key
    data = make_835(300_000, seed=13)
    same_three_ways(data, hasher=_FailsInChild(key, os.getpid(), how))
    assert two == ["here"]


def test_hasher_that_does_not_pickle(two):
    """No second process (the hasher cannot be sent): parsed here."""

    class Local(MemberIdHasher):
        def __reduce__(self):
            raise TypeError("not picklable")

    from x12support import hasher

    data = make_835(200_000, seed=14)
    same_three_ways(data, hasher=Local(hasher()._key))


def test_small_file_stays_in_one_process(monkeypatch):
    calls = []
    monkeypatch.setattr(fast835, "_pipeline_two_processes", lambda *a: calls.append(a))
    data = make_835(300_000, seed=15)
    assert len(data) < fast835._PROCESS_MIN_FILE_BYTES
    got, _ = parse(data)
    ref, _ = reference(data, "t.835")
    check(ref, None, got, None)
    assert calls == []


def test_batch_with_one_file(two):
    """``parse_835_files`` with a single item and ``processes=2`` takes the same path."""
    data = make_835(300_000, seed=16)
    one = parse_835_files([(data, "a.835", FID)], HASH, processes=1)
    two_ = parse_835_files([(data, "a.835", FID)], HASH, processes=2)
    for name in one.tables:
        assert two_.tables[name].equals(one.tables[name]), name
    assert one.results == two_.results
    assert two == ["child"]


# --- the second process is kept between files ---------------------------------------------------


def test_second_process_is_kept_and_replaced_when_gone(two):
    data = make_835(300_000, seed=17)
    ref, _ = reference(data, "t.835")
    check(ref, None, parse(data)[0], None)
    pid = fast835._worker.proc.pid
    check(ref, None, parse(data)[0], None)
    assert fast835._worker.proc.pid == pid  # the same process for the next file
    fast835._worker.proc.kill()  # gone: the next file finds out and starts another
    fast835._worker.proc.wait()
    check(ref, None, parse(data)[0], None)
    assert fast835._worker.proc.pid != pid
    assert two == ["child", "child", "child"]


def test_second_process_exits_when_idle(two, monkeypatch):
    import time

    if fast835._worker is not None:
        fast835._worker.close()
        fast835._worker = None
    monkeypatch.setattr(fast835, "_WORKER_IDLE_S", 0.5)
    data = make_835(300_000, seed=18)
    ref, _ = reference(data, "t.835")
    check(ref, None, parse(data)[0], None)
    proc = fast835._worker.proc
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is not None
    check(ref, None, parse(data)[0], None)
    assert two == ["child", "child"]
    fast835._worker.close()  # (the next tests start one with the usual idle time)
    fast835._worker = None


def test_concurrent_files_share_the_second_process(two):
    """Two threads parse large files at once: one has the second process, the other parses in
    its own process; both results are exact."""
    from concurrent.futures import ThreadPoolExecutor

    datas = [make_835(300_000, seed=s) for s in (61, 62, 63, 64)]
    refs = [reference(d, "c.835")[0] for d in datas]
    with ThreadPoolExecutor(2) as ex:
        outs = list(ex.map(lambda d: parse(d, "c.835")[0], datas))
    for ref, got in zip(refs, outs, strict=True):
        check(ref, None, got, None)


@pytest.mark.skipif(fast835._cores() < 2, reason="one core: processes=None stays in one process")
def test_automatic_choice_starts_the_second_process_in_the_background(two):
    """``processes=None`` (the loader's way): the first large file starts the second process
    without waiting for it and is parsed in this process; the next ones use it."""
    import time

    if fast835._worker is not None:
        fast835._worker.close()
        fast835._worker = None
    data = make_835(300_000, seed=19)
    ref, _ = reference(data, "t.835")
    check(ref, None, parse(data, processes=None)[0], None)
    assert two == []  # parsed here
    deadline = time.monotonic() + 60
    while not (fast835._worker is not None and fast835._worker.is_ready()) and time.monotonic() < deadline:
        time.sleep(0.05)
    while fast835._worker_lock.locked() and time.monotonic() < deadline:
        time.sleep(0.05)
    check(ref, None, parse(data, processes=None)[0], None)
    assert two == ["child"]
    check(ref, None, parse(data, processes=1)[0], None)
    assert two == ["child"]  # processes=1: one process, whatever runs


# --- many files: the second half in the same second process ----------------------------------


def _batch_items():
    items = [(make_835(1, seed=s, claims_per_st=(1, 5)), f"r{s}.835", f"{s:016x}") for s in range(30)]
    items[3] = (b"not x12", "junk.txt", "j" * 16)
    items[25] = (items[25][0].replace(b"~\nCLP*", b"~\nCLP**", 1), "bad.835", "b" * 16)
    return items


def _same_batches(one, two_):
    for name in one.tables:
        assert two_.tables[name].equals(one.tables[name]), name
    for a, b in zip(one.results, two_.results, strict=True):
        if isinstance(a, InputFileError):
            assert (b.file_name, b.location, b.expected, b.code) == (a.file_name, a.location, a.expected, a.code)
        else:
            assert a == b


@pytest.mark.parametrize("how", [None, "raise", "exit"])
def test_batch_in_two_processes(monkeypatch, how):
    """The second half of the files in the second process; when it fails (an exception, or it
    dies), that half is parsed here: the same batch either way."""
    from x12support import hasher

    monkeypatch.setattr(fast835, "_PROCESS_MIN_BYTES", 0)
    items = _batch_items()
    h = hasher() if how is None else _FailsInChild(hasher()._key, os.getpid(), how)
    one = parse_835_files(items, HASH, threads=1)
    _same_batches(one, parse_835_files(items, h, processes=2))
    assert isinstance(one.results[25], InputFileError)
    _same_batches(one, parse_835_files(items, HASH, processes=2))  # (after a failure: another second process)


def test_concurrent_batches(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(fast835, "_PROCESS_MIN_BYTES", 0)
    items = _batch_items()
    one = parse_835_files(items, HASH, threads=1)
    with ThreadPoolExecutor(3) as ex:
        outs = list(ex.map(lambda _: parse_835_files(items, HASH, processes=2), range(3)))
    for b in outs:
        _same_batches(one, b)


@pytest.mark.skipif(fast835._cores() < 2, reason="one core: processes=None stays in one process")
def test_automatic_choice_after_the_second_process_went_idle(two, monkeypatch):
    """A second process that was ready and exited when idle (its "ready" never read) is started
    again by the next large file, not taken for one that cannot start."""
    import time

    if fast835._worker is not None:
        fast835._worker.close()
        fast835._worker = None
    monkeypatch.setattr(fast835, "_WORKER_IDLE_S", 0.3)
    monkeypatch.setattr(fast835, "_worker_auto_failed", False)
    data = make_835(300_000, seed=20)
    ref, _ = reference(data, "t.835")
    check(ref, None, parse(data, processes=None)[0], None)  # starts it
    proc = fast835._worker.proc
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:  # ready, then idle, then gone
        time.sleep(0.1)
    assert proc.poll() is not None
    check(ref, None, parse(data, processes=None)[0], None)  # starts another
    assert not fast835._worker_auto_failed
    assert fast835._worker.proc.pid != proc.pid
    fast835._worker.close()
    fast835._worker = None
