"""The columnar 835 path (transforms.x12.fast835) gives exactly what the row parser gives:
the same tables (every column, as Arrow), the same findings, the same errors."""

from __future__ import annotations

import hashlib
import hmac
import re

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import DELIMS, _mutate, layout, render, txns
from x12support import EXPECTED, FIXTURE_NAMES, X12_FILES, fixture_bytes, hasher, redelimit

from bench.make_835 import make_835
from transforms.errors import InputFileError
from transforms.ingest.phi import MemberIdHasher
from transforms.ingest.records import ParsedFile
from transforms.x12 import fast835, parse_835
from transforms.x12.fast835 import SCHEMAS, parse_835_arrow, parse_835_batch, parse_835_files, to_arrow

FID = "f" * 16
HASH = hasher()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(data: bytes, name: str, fid: str = FID):
    """(ParsedFile with Arrow tables, None) or (None, InputFileError) from the row parser."""
    try:
        return to_arrow(parse_835(data, name, fid, HASH)), None
    except InputFileError as e:
        return None, e


def assert_same(data: bytes, name: str = "t.835", threads: int = 1, fid: str = FID) -> None:
    ref, ref_err = reference(data, name, fid)
    try:
        got, err = parse_835_arrow(data, name, fid, HASH, threads=threads), None
    except InputFileError as e:
        got, err = None, e
    check(ref, ref_err, got, err)


def check(ref, ref_err, got, err) -> None:
    if ref_err is not None:
        assert err is not None, f"the row parser raised {ref_err}, the fast path did not"
        assert (err.file_name, err.location, err.expected, err.code) == (
            ref_err.file_name, ref_err.location, ref_err.expected, ref_err.code,
        )  # fmt: skip
        return
    assert err is None, f"the fast path raised {err}"
    assert got.kind == ref.kind
    assert got.rows_read == ref.rows_read
    assert got.findings == ref.findings
    assert set(got.tables) == set(ref.tables)
    for name, table in ref.tables.items():
        g = got.tables[name]
        assert g.schema == table.schema, name
        for col in table.column_names:
            assert g[col].equals(table[col]), (name, col, g[col].to_pylist()[:5], table[col].to_pylist()[:5])
        assert g.equals(table)


def fast_only(data: bytes, name: str = "t.835", threads: int = 1):
    """The fast path itself (no fallback to the row parser)."""
    prep = fast835._prepare(data, name)
    assert prep is not None, "the file was not prepared for the fast path"
    tables, files = fast835._fast([prep], prep.d, [name], [FID], HASH, threads)
    rows_read, findings, counts = files[0]
    assert counts == {n: t.num_rows for n, t in tables.items()}
    return ParsedFile("x12_835", tables, rows_read, findings)


@pytest.fixture
def split_small(monkeypatch):
    """Small parts, so that small inputs are cut in several parts too."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 2_000)


# --- schemas -----------------------------------------------------------------------------------


def test_schemas_match_the_raw_tables():
    from transforms.warehouse import raw_columns

    cols = raw_columns()
    for name, schema in SCHEMAS.items():
        assert {f.name: f.type for f in schema} == {k: v for k, v in cols[name].items() if k in schema.names}
        assert set(cols[name]) == set(schema.names), name


def test_member_hasher_is_hmac_sha256():
    for key in (b"x12-tests-key-0123456789abcdef", b"k" * 64, b"z" * 100):
        h = MemberIdHasher(key)
        for m in ("A1", "  JS00111223333 ", "\u00dc-\u00f1", "x" * 300):
            assert h(m) == hmac.new(key, m.strip().encode(), hashlib.sha256).hexdigest()[:32]
        assert h("") is None and h(None) is None and h("  ") is None


# --- the shared fixtures -----------------------------------------------------------------------


@pytest.mark.parametrize("name", X12_FILES)
@pytest.mark.parametrize("threads", [1, 2])
def test_fixtures_same_as_row_parser(name, threads, split_small):
    assert_same(fixture_bytes(name), name, threads)


@pytest.mark.parametrize("name", [n for n in FIXTURE_NAMES if "835" in EXPECTED[n]["format"]["st_types"]])
def test_fixtures_take_the_fast_path(name):
    data = fixture_bytes(name)
    got = fast_only(data, name)
    ref, _ = reference(data, name)
    check(ref, None, got, None)


@pytest.mark.parametrize("name", [n for n in X12_FILES if "837" not in n])
@pytest.mark.parametrize(
    "delims",
    [("|", ">", "~", ""), ("^", "\\", "'", "crlf"), ("*", ":", "\n", "nl"), ("!", "}", "~", "indent")],
)
def test_redelimited_fixtures(name, delims):
    el, comp, term, how = delims
    assert_same(redelimit(fixture_bytes(name), el, comp, term, how), name)


# --- generated files ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_file_same_as_row_parser(seed):
    data = make_835(300_000, seed=seed)
    got = fast_only(data)
    ref, _ = reference(data, "t.835")
    check(ref, None, got, None)
    assert got.tables["remit_claims"].num_rows > 100
    assert got.tables["provider_adjustments"].num_rows >= 0


def test_generated_file_two_threads(split_small):
    data = make_835(400_000, seed=7, claims_per_st=(2, 10))
    got = fast_only(data, threads=2)
    assert got.tables["remit_claims"]["remit_claim_id"].num_chunks > 10  # cut in parts
    ref, _ = reference(data, "t.835")
    check(ref, None, got, None)


def test_unbalanced_and_non_ascii():
    # change paid amounts so SVC, CLP and BPR no longer balance; a name in UTF-8
    data = make_835(60_000, seed=11).decode()
    data = data.replace("NM1*QC*1*SMITH*", "NM1*QC*1*SM\u00cfTH*", 1)
    segs = data.split("~\n")
    k = next(i for i, s in enumerate(segs) if s.startswith("SVC*"))
    e = segs[k].split("*")
    e[3] = "0.01"
    segs[k] = "*".join(e)
    k = next(i for i, s in enumerate(segs) if i > k and s.startswith("CLP*"))
    e = segs[k].split("*")
    e[4] = "1234.5"
    segs[k] = "*".join(e)
    data = "~\n".join(segs).encode()
    ref, _ = reference(data, "u.835")
    assert {f.code for f in ref.findings} >= {"svc_unbalanced", "clp_unbalanced", "bpr_unbalanced"}
    check(ref, None, fast_only(data, "u.835"), None)


def test_batch_of_small_files_mixed_with_bad_ones(split_small):
    items = [(make_835(1, seed=s, claims_per_st=(1, 6)), f"r{s}.835", f"{s:016x}") for s in range(40)]
    items[5] = (items[5][0].replace(b"~\nCLP*", b"~\nCLP**", 1), "bad.835", "b" * 16)  # CLP01 missing
    items[9] = (items[9][0].replace(b"~\nSE*", b"~\nSE ", 1), "odd.835", "o" * 16)  # unknown segment id
    items[12] = (items[12][0].replace(b"~\n", b"~\n  ", 3), "blank.835", "c" * 16)  # indented: row path
    items += [(fixture_bytes(n), n, f"{k:016x}") for k, n in enumerate(X12_FILES)]
    out = parse_835_batch(items, HASH, threads=2)
    assert len(out) == len(items)
    for (data, name, fid), got in zip(items, out, strict=True):
        ref, ref_err = reference(data, name, fid)
        if isinstance(got, InputFileError):
            check(ref, ref_err, None, got)
        else:
            check(ref, ref_err, got, None)
    assert isinstance(out[5], InputFileError) and out[5].location.endswith("element CLP01")


def test_batch_tables_hold_every_readable_file():
    items = [(make_835(1, seed=s, claims_per_st=(1, 5)), f"r{s}.835", f"{s:016x}") for s in range(30)]
    items[3] = (b"not x12", "junk.txt", "j" * 16)
    items[4] = (items[4][0].replace(b"~\n", b"~\n ", 2), "blank.835", "k" * 16)  # row path, loads
    batch = parse_835_files(items, HASH, threads=2)
    assert isinstance(batch.results[3], InputFileError)
    for name, table in batch.tables.items():
        assert table.schema == SCHEMAS[name]
        expect = []
        for data, fname, fid in items:
            ref, err = reference(data, fname, fid)
            if err is None:
                expect += ref.tables[name].to_pylist()
        key = [c for c in table.column_names if c in ("file_id", "source_row", "triple_index", "pair_index")]
        assert sorted(table.to_pylist(), key=lambda r: [r[c] for c in key]) == sorted(
            expect, key=lambda r: [r[c] for c in key]
        )


def test_batch_results_are_per_file():
    items = [(make_835(1, seed=s, claims_per_st=(2, 4)), f"r{s}.835", f"{s:016x}") for s in range(5)]
    out = parse_835_batch(items, HASH, threads=1)
    for (_, _, fid), pf in zip(items, out, strict=True):
        for t in pf.tables.values():
            assert set(t["file_id"].to_pylist()) <= {fid}
        assert pf.tables["remit_payments"].num_rows == 1


# --- errors: exact location, deep in a large file ---------------------------------------------


def _segments(data: bytes) -> list[bytes]:
    return data.split(b"~\n")


@pytest.mark.parametrize(
    ("seg_id", "k", "value", "element"),
    [
        (b"CAS", 3, b"12.345", "CAS03"),
        (b"SVC", 2, b"1O.00", "SVC02"),
        (b"CLP", 4, b"", "CLP04"),
        (b"AMT", 2, b"1e5", "AMT02"),
        (b"DTM", 2, b"20240230", "DTM02"),
        (b"CAS", 3, b"12345678901234567", "CAS03"),
    ],
)
def test_bad_value_deep_in_a_large_file(seg_id, k, value, element):
    data = make_835(2_500_000, seed=5)
    segs = _segments(data)
    # a segment of that kind about 90% into the file (DTM: a line's service date)
    start = int(len(segs) * 0.9)
    n = next(
        i for i in range(start, len(segs))
        if segs[i].startswith(seg_id + b"*") and (seg_id != b"DTM" or segs[i].startswith(b"DTM*472"))
        and (seg_id != b"AMT" or segs[i].startswith(b"AMT*B6"))
    )  # fmt: skip
    e = segs[n].split(b"*")
    e[k] = value
    segs[n] = b"*".join(e)
    bad = b"~\n".join(segs)
    with pytest.raises(InputFileError) as exc:
        parse_835_arrow(bad, "big.835", FID, HASH)
    err = exc.value
    assert err.location == f"segment {n + 1} ({seg_id.decode()}), element {element}"
    assert err.code == "bad_value"
    if value:
        assert value.decode() not in str(err)
    _, ref_err = reference(bad, "big.835")
    check(None, ref_err, None, err)


def test_misplaced_segment_deep_in_a_large_file():
    data = make_835(1_000_000, seed=6)
    segs = _segments(data)
    n = next(i for i in range(int(len(segs) * 0.8), len(segs)) if segs[i].startswith(b"LX*"))
    segs.insert(n + 1, b"SVC*HC:99213*10*10")  # right after LX: a line outside any claim
    bad = b"~\n".join(segs)
    with pytest.raises(InputFileError) as exc:
        parse_835_arrow(bad, "big.835", FID, HASH)
    assert exc.value.location == f"segment {n + 2} (SVC)"
    assert exc.value.code == "malformed_segment"
    _, ref_err = reference(bad, "big.835")
    check(None, ref_err, None, exc.value)


# --- properties: random files and random damage give the same answer ---------------------------


@SETTINGS
@given(
    tx=st.lists(txns, min_size=1, max_size=3),
    delims=DELIMS,
    style=st.integers(0, 2),
    how=st.sampled_from(["one", "lf", "crlf", "indent"]),
    threads=st.sampled_from([1, 2]),
)
def test_random_835_same_as_row_parser(tx, delims, style, how, threads):
    el, comp, term = delims
    rep = "^" if "^" not in (el, comp, term) else "U"
    data = layout(render(tx, el, comp, style, True, rep), term, how, False)
    old = fast835._CHUNK_BYTES
    fast835._CHUNK_BYTES = 300
    try:
        assert_same(data, "gen.835", threads)
    finally:
        fast835._CHUNK_BYTES = old


TRICKY = [
    b"", b"0", b"-0", b"1.", b".5", b"-.5", b"5.000", b"12.340", b"12.345", b"0000000000000000001.10",
    b"9999999999999999.99", b"12345678901234567", b"1e5", b"+5", b" 12", b"12 ", b"1-2", b"--1", b"1.2.3",
    b"-", b".", b"20240229", b"20230229", b"20241301", b"00000101", b"240101", b"ABC", b"QC", b"IL", b"HE",
    b"472", b"150", b"6R", b"B6", b"\xc3\xa9", b"HC:99213:25:", b"::", b"HC::::::26",
    b"0000000000000000000000000012.5", b"-000", b"12.3400", b"1.000", b"1.0001", b"\xd9\xa3", b"1234567890123456",
    b"-1234567890123456.99", b"123456789012345.678", b"1234567890123456.1", b"0.", b"-0.0", b"00.50", b"5..",
]  # fmt: skip
BASE = make_835(1, seed=3, claims_per_st=(4, 4))
BASE_SEGS = _segments(BASE)


@SETTINGS
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(BASE_SEGS) - 1), st.integers(0, 12), st.sampled_from(TRICKY)),
        min_size=1,
        max_size=3,
    ),
    threads=st.sampled_from([1, 2]),
)
def test_tricky_element_values_same_as_row_parser(edits, threads):
    segs = list(BASE_SEGS)
    for i, k, v in edits:
        e = segs[i].split(b"*")
        if k < len(e):
            e[k] = v
        else:
            e += [b""] * (k - len(e)) + [v]
        segs[i] = b"*".join(e)
    data = b"~\n".join(segs)
    old = fast835._CHUNK_BYTES
    fast835._CHUNK_BYTES = 1_000
    try:
        assert_same(data, "tricky.835", threads)
    finally:
        fast835._CHUNK_BYTES = old


SEG_IDS = [b"CLP", b"SVC", b"CAS", b"DTM", b"NM1", b"REF", b"AMT", b"LQ", b"MOA", b"MIA", b"PLB", b"LX", b"SE",
           b"ST", b"BPR", b"TRN", b"N1", b"GE", b"GS", b"IEA", b"ISA", b"QTY", b"ZZ9", b"X", b"ABCD"]  # fmt: skip


@SETTINGS
@given(
    moves=st.lists(
        st.tuples(st.integers(0, len(BASE_SEGS) - 1), st.integers(0, 3), st.sampled_from(SEG_IDS)),
        min_size=1,
        max_size=3,
    )
)
def test_segments_moved_or_renamed_same_as_row_parser(moves):
    segs = list(BASE_SEGS)
    for i, op, sid in moves:
        i %= len(segs)
        if op == 0:  # rename
            e = segs[i].split(b"*")
            e[0] = sid
            segs[i] = b"*".join(e)
        elif op == 1:  # delete
            del segs[i]
        elif op == 2:  # duplicate
            segs.insert(i, segs[i])
        else:  # cut elements
            segs[i] = b"*".join(segs[i].split(b"*")[: 1 + i % 4])
    assert_same(b"~\n".join(segs), "moved.835")


interesting_bytes = st.sampled_from(list(b"*:~^\n\r 0123456789.-ABCSEGILTXPV\x00\xff\xef"))


@SETTINGS
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 2), interesting_bytes | st.integers(0, 255)),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_bytes_same_as_row_parser(edits):
    assert_same(_mutate(BASE, edits), "mut.835")


def test_messages_carry_no_member_or_name():
    segs = list(BASE_SEGS)
    k = next(i for i, s in enumerate(segs) if s.startswith(b"NM1*QC"))
    name = segs[k].split(b"*")[3].decode()
    e = segs[k + 1].split(b"*")
    segs.insert(k + 1, b"CAS*CO*45*" + name.encode())  # a name where an amount should be
    with pytest.raises(InputFileError) as exc:
        parse_835_arrow(b"~\n".join(segs), "n.835", FID, HASH)
    assert name not in str(exc.value)
    assert not re.search(r"M\d{9}", str(exc.value))
    assert e  # (the segment after the NM1 was a real one)


def test_arrow_tables_load_like_the_lists(tmp_path):
    """The loader's _insert takes either form: same rows in the warehouse."""
    import duckdb

    from transforms.ingest.loader import _insert
    from transforms.warehouse import ensure_schema

    data = make_835(80_000, seed=9)
    fast = parse_835_arrow(data, "l.835", FID, HASH)
    rows = parse_835(data, "l.835", FID, HASH)
    out = []
    for tables in (fast.tables, rows.tables):
        con = duckdb.connect(str(tmp_path / f"w{len(out)}.duckdb"))
        ensure_schema(con)
        for name, t in tables.items():
            _insert(con, name, t)
        out.append({n: con.execute(f"SELECT * FROM raw.{n} ORDER BY ALL").fetchall() for n in tables})
        con.close()
    assert out[0] == out[1]
    assert isinstance(fast.tables["remit_claims"], pa.Table)


def test_hash_many_is_the_hasher_per_value():
    h = MemberIdHasher(b"x12-tests-key-0123456789abcdef")
    values = ["A1", " A1 ", None, "", "  ", "\u00dc-\u00f1", "A1", "B2"]
    assert h.hash_many(values) == [MemberIdHasher(b"x12-tests-key-0123456789abcdef")(v) for v in values]


def test_any_hasher_callable_works():
    data = make_835(50_000, seed=4)
    seen = []

    def plain(m):
        seen.append(m)
        return None if m is None else "h" + m[::-1]

    fast = parse_835_arrow(data, "p.835", FID, plain)
    rows = to_arrow(parse_835(data, "p.835", FID, plain))
    assert fast.tables["remit_claims"].equals(rows.tables["remit_claims"])
    assert seen


@pytest.mark.parametrize("name", X12_FILES)
def test_parse_x12_arrow_same_as_lists(name):
    from transforms.x12 import parse_x12

    data = fixture_bytes(name)
    lists = parse_x12(data, name, FID, HASH)
    arrow = parse_x12(data, name, FID, HASH, arrow=True)
    assert arrow.kind == lists.kind and arrow.rows_read == lists.rows_read and arrow.findings == lists.findings
    for t, cols in lists.tables.items():
        got = arrow.tables[t]
        if lists.kind == "x12_835":
            assert isinstance(got, pa.Table) and got.equals(to_arrow(lists).tables[t])
        else:
            assert got == cols  # 837: lists either way


def test_loader_loads_835_through_the_fast_path(tmp_path):
    import duckdb

    from transforms.ingest import loader

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.835").write_bytes(make_835(120_000, seed=21))
    segs = _segments(make_835(60_000, seed=22))
    n = next(i for i in range(len(segs) // 2, len(segs)) if segs[i].startswith(b"CAS*"))
    e = segs[n].split(b"*")
    e[3] = b"1.234"
    segs[n] = b"*".join(e)
    (landing / "bad.835").write_bytes(b"~\n".join(segs))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    res = loader.load_batch(con, loader.discover(landing), HASH)
    assert res.count("loaded") == 1 and res.count("quarantined") == 1
    q = con.execute("SELECT file_name, error_code, location FROM audit.quarantine").fetchall()
    assert q == [("bad.835", "bad_value", f"segment {n + 1} (CAS), element CAS03")]
    ref = parse_835(make_835(120_000, seed=21), "a.835", "x", HASH)
    got = con.execute("SELECT count(*), sum(paid_amount) FROM raw.remit_claims").fetchone()
    assert got == (len(ref.tables["remit_claims"]["claim_id"]), sum(ref.tables["remit_claims"]["paid_amount"]))
    con.close()


def _fast_decimals(values: list[bytes], scale: int):
    """fast835's column check and cast, one value at a time: the unscaled int, or 'bad'."""
    out = []
    for v in values:
        try:
            arr = pa.array([v.decode("utf-8")], pa.string())
        except UnicodeDecodeError:
            out.append("bad")
            continue
        try:
            d = (fast835._money(arr, True) if scale == 2 else fast835._quantity(arr))[0].as_py()
        except fast835._Fallback:
            out.append("bad")
            continue
        out.append(int(d.scaleb(scale)))
    return out


def _row_decimals(values: list[bytes], scale: int):
    from transforms.x12.values import BadValue, parse_money, parse_quantity

    out = []
    for v in values:
        try:
            s = v.decode("utf-8")
        except UnicodeDecodeError:
            out.append("bad")
            continue
        if not s or s != s.strip(" "):
            out.append("bad")  # blanks are stripped by the row parser: the fast path leaves them to it
            continue
        try:
            d = parse_money(s, "X") if scale == 2 else parse_quantity(s, "X")
        except BadValue:
            out.append("bad")
            continue
        out.append(int(d.scaleb(scale)))
    return out


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text("0123456789.-+e \u0663", min_size=1, max_size=24).map(str.encode), min_size=1, max_size=10),
       st.sampled_from([2, 3]))  # fmt: skip
def test_amount_check_accepts_what_parse_money_accepts(values, scale):
    assert _fast_decimals(values, scale) == _row_decimals(values, scale), values


def test_amount_check_examples():
    values = [b"0", b"-0", b"1.", b".5", b"-.5", b"5.000", b"12.340", b"12.345", b"150000", b"00.50", b"-",
              b".", b"-.", b"1e5", b"+5", b"1-2", b"--1", b"1.2.3", b"9999999999999999.99", b"99999999999999999",
              b"999999999999999.999", b"0000000000000000000000000000012.5", b"\xd9\xa3", b" 1", b"1 ", b"12.3450",
              b"-12.30", b"0.001", b"0.0010"]  # fmt: skip
    for scale in (2, 3):
        assert _fast_decimals(values, scale) == _row_decimals(values, scale)
    # several values in one column, nulls among them
    arr = pa.array(["12.5", None, "-3", ".25", None], pa.string())
    assert fast835._money(arr, False).to_pylist() == [
        __import__("decimal").Decimal(x) if x else None for x in ["12.50", None, "-3.00", "0.25", None]
    ]
    with pytest.raises(fast835._Fallback):
        fast835._money(pa.array(["1.5", "2-"], pa.string()), True)
    with pytest.raises(fast835._Fallback):
        fast835._money(pa.array(["1.5", "2.2.", "3"], pa.string()), True)


def test_concurrent_calls_share_the_thread_pool(split_small):
    from concurrent.futures import ThreadPoolExecutor

    datas = [make_835(200_000, seed=s, claims_per_st=(2, 8)) for s in (31, 32, 33, 34)]
    refs = [reference(d, "c.835")[0] for d in datas]
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda d: parse_835_arrow(d, "c.835", FID, HASH, threads=2), datas))
    for ref, got in zip(refs, outs, strict=True):
        check(ref, None, got, None)


@pytest.mark.parametrize("threads", [1, 2])
def test_one_transaction_cut_before_claims(threads, monkeypatch):
    """A file of a single transaction is cut before CLP segments: parts begin inside it."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 3_000)
    data = make_835(1, seed=41, claims_per_st=(300, 300))
    assert data.count(b"ST*835") == 1
    # unbalance a claim and a line near cuts, so findings close in the next part
    segs = _segments(data)
    for k in range(40, len(segs), 97):
        if segs[k].startswith((b"CLP*", b"SVC*")):
            e = segs[k].split(b"*")
            e[3 if segs[k].startswith(b"SVC") else 4] = b"1.11"
            segs[k] = b"*".join(e)
    data = b"~\n".join(segs)
    got = fast_only(data, threads=threads)
    assert got.tables["remit_claims"]["claim_id"].num_chunks > 10
    ref, _ = reference(data, "t.835")
    assert ref.findings
    check(ref, None, got, None)


def test_claims_outside_a_transaction_after_a_cut(monkeypatch):
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 3_000)
    data = make_835(60_000, seed=42, claims_per_st=(3, 6))
    segs = _segments(data)
    k = next(i for i in range(len(segs) // 2, len(segs)) if segs[i].startswith(b"SE*"))
    segs.insert(k + 1, segs[k - 30] if segs[k - 30].startswith(b"CLP") else b"CLP*X*1*10*10")  # a claim after SE
    assert_same(b"~\n".join(segs), "out.835", threads=2)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk", [3_000, 100])
@pytest.mark.parametrize(("tx", "after_clp"), [(0, 0), (0, 150), (1, 0), (1, 299), (2, None)])
def test_claims_before_bpr_across_parts(tx, after_clp, chunk, threads, monkeypatch):
    """The BPR of transaction ``tx`` moved after its claim ``after_clp`` (None: right before
    SE): parts that begin inside that transaction must not take its claims; the error is the row
    parser's, at the first CLP (or LX) before the BPR. With parts of 100 bytes (and no LX) every
    claim is a part of its own and the part of the ST ends before the first CLP."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", chunk)
    data = make_835(1, seed=43, claims_per_st=(300, 300)) + make_835(1, seed=44, claims_per_st=(300, 300))
    data += make_835(1, seed=45, claims_per_st=(40, 40))
    segs = _segments(data)
    if chunk == 100:  # without LX (optional) the first claim segment is the CLP, in the next part
        segs = [s for s in segs if not s.startswith(b"LX*")]
    sts = [i for i, s in enumerate(segs) if s.startswith(b"ST*")]
    st = sts[tx]
    bpr = segs.pop(st + 1)
    assert bpr.startswith(b"BPR*")
    end = next(i for i in range(st, len(segs)) if segs[i].startswith(b"SE*"))
    clps = [i for i in range(st, end) if segs[i].startswith(b"CLP*")]
    at = end if after_clp is None else clps[after_clp] + 1
    segs.insert(at, bpr)
    bad = b"~\n".join(segs)
    with pytest.raises(InputFileError) as exc:
        parse_835_arrow(bad, "o.835", FID, HASH, threads=threads)
    first = next(i for i in range(st, end) if segs[i].startswith((b"CLP*", b"LX*", b"PLB*")))
    assert exc.value.location == f"segment {first + 1} ({segs[first].split(b'*')[0].decode()})"
    assert exc.value.code == "malformed_segment"
    _, ref_err = reference(bad, "o.835")
    check(None, ref_err, None, exc.value)


def test_long_segment_deep_in_a_large_file():
    from transforms.x12.tokenizer import MAX_SEGMENT_LENGTH

    data = make_835(1_000_000, seed=7)
    segs = _segments(data)
    n = next(i for i in range(int(len(segs) * 0.7), len(segs)) if segs[i].startswith(b"NM1*QC"))
    segs[n] += b"*" + b"Z" * MAX_SEGMENT_LENGTH
    bad = b"~\n".join(segs)
    for threads in (1, 2):
        with pytest.raises(InputFileError) as exc:
            parse_835_arrow(bad, "big.835", FID, HASH, threads=threads)
        assert (exc.value.code, exc.value.location) == ("segment_too_long", f"segment {n + 1} (NM1)")
        _, ref_err = reference(bad, "big.835")
        check(None, ref_err, None, exc.value)


def test_date_check_accepts_what_parse_date_accepts():
    """Every CCYYMMDD of some years (leap and not), month/day 00-32 and damaged digits."""
    import datetime as dt

    import numpy as np

    from transforms.x12.values import BadValue, parse_date

    values = [f"{y:04d}{m:02d}{d:02d}" for y in (1, 1900, 1970, 1999, 2000, 2023, 2024, 9999) for m in range(14)
              for d in range(33)]  # fmt: skip
    values += ["2024010a", "2024/101", ":0240101", "20240:01", "2024-1-1", "\xff0240101"[:8], "0000" + "0101"]
    for v in values:
        raw = v.encode("latin-1")
        try:
            got = dt.date(1970, 1, 1) + dt.timedelta(days=int(fast835._ccyymmdd(np.frombuffer(raw, np.uint8), np.zeros(1))[0]))
        except fast835._Fallback:
            got = None
        try:
            ref = parse_date(v, "X")
        except BadValue:
            ref = None
        assert got == ref, v


@pytest.mark.parametrize("threads", [1, 2])
def test_newlines_after_terminators_left_in(threads, monkeypatch):
    """A file written "~\\n" is split without a copy that removes its newlines; a part holding a
    newline anywhere else (a wrapped line, a blank line) removes them all, as the tokenizer does."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 20_000)
    data = make_835(300_000, seed=51)
    prep = fast835._prepare(data, "n.835")
    assert prep.newline == "\n" and prep.c is data  # no copy
    ref, _ = reference(data, "n.835")
    check(ref, None, fast_only(data, "n.835", threads), None)
    segs = _segments(data)
    k = len(segs) // 2
    variants = {
        "wrapped": b"~\n".join(segs[:k]) + b"~\n" + segs[k][:5] + b"\n" + segs[k][5:] + b"~\n" + b"~\n".join(segs[k + 1 :]),
        "blank line": b"~\n".join(segs[:k]) + b"~\n\n" + b"~\n".join(segs[k:]),
        "some without": b"~\n".join(segs[:k]) + b"~" + b"~\n".join(segs[k:]),
        "no final newline": data.rstrip(b"\n"),
        "CRLF": data.replace(b"\n", b"\r\n"),
    }
    for name, v in variants.items():
        ref, err = reference(v, "n.835")
        assert err is None, name
        check(ref, None, fast_only(v, "n.835", threads), None)


# --- many parts: what the parts hand on to each other ---------------------------------------


@pytest.mark.parametrize("name", X12_FILES)
def test_fixtures_in_parts_of_100_bytes(name, monkeypatch):
    """Every claim (and most segments outside claims) a part of its own."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 100)
    for threads in (1, 2):
        assert_same(fixture_bytes(name), name, threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_findings_of_parts_and_envelope_merged_in_order(threads, monkeypatch):
    """Unbalanced lines, claims and transactions in many parts, with wrong SE01 counts, ST
    control numbers and GE01: the findings of the parts (SVC, CLP) and of RemitHeader (BPR,
    envelope) in the row parser's order."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 20_000)
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
    data = b"~\n".join(segs)
    ref, _ = reference(data, "t.835")
    codes = [f.code for f in ref.findings]
    assert {"svc_unbalanced", "clp_unbalanced", "bpr_unbalanced", "se01_count", "st02_se02", "ge01_count"} <= set(codes)
    check(ref, None, fast_only(data, threads=threads), None)


@pytest.mark.parametrize("threads", [1, 2])
def test_empty_segments_in_many_parts(threads, monkeypatch):
    """Empty segments (``~~``, ``~\n~``) are dropped: the segment numbers of the parts after
    them go on from the segments really found."""
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 20_000)
    segs = _segments(make_835(300_000, seed=12))
    k, m = len(segs) // 5, len(segs) // 2
    data = b"~\n".join(segs[:k]) + b"~\n~\n" + b"~\n".join(segs[k:m]) + b"~~\n" + b"~\n".join(segs[m:])
    ref, _ = reference(data, "e.835")
    assert ref.rows_read == len([x for x in segs if x])
    check(ref, None, fast_only(data, "e.835", threads), None)


@pytest.mark.parametrize("layout", ["~", "\r\n", "'"])
def test_layouts_in_many_parts(layout, monkeypatch):
    monkeypatch.setattr(fast835, "_CHUNK_BYTES", 20_000)
    data = make_835(300_000, seed=3)
    variant = {"~": data.replace(b"~\n", b"~"), "\r\n": data.replace(b"\n", b"\r\n"),
               "'": data.replace(b"~\n", b"'\n")}[layout]  # fmt: skip
    ref, _ = reference(variant, "l.835")
    check(ref, None, fast_only(variant, "l.835", 2), None)


def test_payment_dated_by_dtm405_on_the_fast_path():
    """BPR16 empty, DTM*405 in the header: RemitHeader dates the payment and records the
    finding, on the fast path as in the row parser; without DTM*405 the row parser's error."""
    segs = _segments(make_835(40_000, seed=8, claims_per_st=(2, 4)))
    sts = [i for i, s in enumerate(segs) if s.startswith(b"ST*")]
    for i in sts[:2]:
        bpr = segs[i + 1].split(b"*")
        assert bpr[0] == b"BPR" and len(bpr) == 17
        segs[i + 1] = b"*".join(bpr[:16])  # BPR16 dropped
    data = b"~\n".join(segs)
    ref, _ = reference(data, "d.835")
    assert [f.code for f in ref.findings] == ["payment_date_from_dtm405"] * 2
    check(ref, None, fast_only(data, "d.835"), None)
    dtm405 = next(i for i in range(sts[1], sts[2]) if segs[i].startswith(b"DTM*405*"))
    del segs[dtm405]  # the second transaction has no date at all
    _, err = reference(b"~\n".join(segs), "d.835")
    assert err is not None and err.code == "missing_payment_date"
    assert_same(b"~\n".join(segs), "d.835")


def test_fast_path_reads_header_segments_with_the_row_parsers_code():
    """The segments outside claims go through remit835.RemitHeader, whose methods the row
    parser (a subclass) calls too: one place reads BPR, TRN, N1, REF, DTM*405, PLB, ST and SE."""
    from transforms.x12 import remit835

    names = {"ISA", "GS", "GE", "IEA", "ST", "SE", "BPR", "TRN", "N1", "REF", "DTM", "PLB"}
    table = fast835._HEADER_METHODS
    assert {k for k, v in fast835._CODES.items() if v in table} == names
    for fn in table.values():
        assert fn is getattr(remit835.RemitHeader, fn.__name__), fn
    assert issubclass(remit835._Remit835, remit835.RemitHeader)
    assert remit835._Remit835.bpr is remit835.RemitHeader.bpr  # not overridden: the very same code
