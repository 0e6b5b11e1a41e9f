"""The bad-input corpus: each case, the error it must give (or how it is accepted), and proof that
the other files of the same batch still load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY, shared_dir
from tests.helpers import TEST_KEY, scalar
from transforms import warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher

FX = shared_dir() / "fixtures" / "x12"
GOOD_835 = (FX / "lfh__medicare-part-a.835").read_text()
CLAIMS = (TINY / "claims" / "claims.csv").read_text()
CLAIM_HEADER = CLAIMS.splitlines()[0]


def _segs() -> list[str]:
    return GOOD_835.split("~")


def _replace_segment(prefix: str, fn) -> str:
    segs = _segs()
    i = next(i for i, s in enumerate(segs) if s.strip().startswith(prefix))
    segs[i] = fn(segs[i])
    return "~".join(segs)


def _set_element(seg: str, idx: int, value: str) -> str:
    parts = seg.split("*")
    parts[idx] = value
    return "*".join(parts)


def _clp_before_bpr() -> str:
    """The first CLP moved up to right after ST (segment 4), before the BPR."""
    segs = _segs()
    clp = segs.pop(next(i for i, s in enumerate(segs) if s.strip().startswith("CLP*")))
    st = next(i for i, s in enumerate(segs) if s.strip().startswith("ST*"))
    segs.insert(st + 1, clp)
    return "~".join(segs)


TEN_MB = "A" * (10 << 20)
GOOD_837 = (FX / "lfh__demo.837").read_text()


# name: (file name, content, expected status, error code or finding code, location fragment)
X12_CASES = {
    "truncated": ("t.835", GOOD_835[: len(GOOD_835) // 2], "quarantined", "truncated", "segment 3 (ST)"),
    "missing_trailers": ("m.835", "~".join(s for s in _segs() if not s.strip().startswith(("SE*", "GE*", "IEA*"))),
                         "quarantined", "truncated", "segment 3 (ST)"),
    "wrong_trailer_counts": ("w.835", _replace_segment("SE*", lambda s: _set_element(s, 1, "99")), "loaded", "se01_count", "ST 1234"),
    "separator_not_declared": ("s.835", GOOD_835.split("~", 1)[0] + "~" + GOOD_835.split("~", 1)[1].replace("*", "|"),
                               "quarantined", None, None),
    "non_numeric_amount": ("n.835", _replace_segment("CLP*", lambda s: _set_element(s, 4, "12A.00")), "quarantined", "bad_value",
                           "element CLP04"),
    "impossible_date": ("d.835", _replace_segment("DTM*232*", lambda s: _set_element(s, 2, "20261345")), "quarantined", "bad_value",
                        "element DTM02"),
    "binary_junk": ("j.835", bytes(range(256)) * 40, "quarantined", "unrecognised_file", None),
    "empty": ("e.835", b"", "quarantined", "empty_file", None),
    "not_835_or_837": ("q.270", GOOD_835.replace("ST*835*", "ST*270*"), "quarantined", "unsupported_transaction", "element ST01"),
    "latin1_text": ("l.835", GOOD_835.replace("INSURANCE COMPANY", "INSURANCE CÖMPANY").encode("latin-1"), "loaded", None, None),
    "clp_before_bpr": ("b.835", _clp_before_bpr(), "quarantined", "malformed_segment", "segment 4 (CLP)"),
    # a 10 MB payer name (N1*PR, segment 7)
    "segment_10mb": ("g.835", _replace_segment("N1*PR*", lambda s: _set_element(s, 2, TEN_MB)), "quarantined",
                     "segment_too_long", "segment 7 (N1)"),
    # a 10 MB element added to the 837's first claim (CLM)
    "segment_10mb_837": ("g.837", GOOD_837.replace("\nCLM*", "\nCLM*" + TEN_MB + "*", 1), "quarantined", "segment_too_long",
                         "(CLM)"),
}
# what the error message must say, for some cases
X12_MESSAGES = {
    "clp_before_bpr": "a BPR segment before this CLP",
    "segment_10mb": "a segment of at most 65,536 characters (this one has 10,485,",
    "segment_10mb_837": "a segment of at most 65,536 characters",
}
RAW_TABLES = ("remit_payments", "remit_claims", "remit_lines", "remit_adjustments", "provider_adjustments", "claims",
              "claim_lines")

CSV_CASES = {
    "missing_required_column": ("claims.csv", CLAIMS.replace("total_charge", "charges"), "quarantined", "missing_column", "line 1"),
    "unknown_column": ("claims.csv", "\n".join(line + (",extra" if i == 0 else ",x") for i, line in enumerate(CLAIMS.splitlines())),
                       "loaded", "unknown_column", "line 1"),
    "wrong_type": ("claims.csv", CLAIMS.replace(",300.00,", ",three hundred,"), "quarantined", "bad_value", "line 4, column total_charge"),
    "duplicate_claim_ids": ("claims.csv", CLAIMS + CLAIMS.splitlines()[1] + "\n", "loaded", "duplicate_claim_id", "lines 2, 13"),
    "bom": ("claims.csv", b"\xef\xbb\xbf" + CLAIMS.encode(), "loaded", None, None),
    # semicolon-separated (the diagnosis list separator becomes '|' so that no value holds a ';')
    "semicolons": ("claims.csv", CLAIMS.replace(";", "|").replace(",", ";"), "loaded", None, None),
    # a value holding the separator without quotes: the row has one column too many
    "unquoted_separator": ("claims.csv", CLAIMS.replace(",ALPHA HEALTH,", ",ALPHA, HEALTH,", 1), "quarantined", "malformed_csv", "line"),
    "excel_dates": ("claims.csv", CLAIMS.replace("2026-03-03,2026-03-02", "3/3/2026,3/2/2026", 1), "quarantined", "bad_value",
                    "line 2, column submission_date"),
    "empty_csv": ("claims.csv", b"", "quarantined", "empty_file", None),
    "header_only": ("claims.csv", CLAIM_HEADER + "\n", "loaded", None, None),
}


def run_case(tmp_path: Path, name: str, content, bystander: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    path = landing / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    shutil.copy(bystander, landing / ("zz_" + bystander.name))
    con = warehouse.connect(tmp_path / "w.duckdb")
    result = loader.load_batch(con, loader.discover(landing), MemberIdHasher(TEST_KEY))
    status = {f.path.name: f for f in result.files}
    assert status["zz_" + bystander.name].status == "loaded", "the rest of the batch loads"
    return con, status[name]


@pytest.mark.parametrize("case", list(X12_CASES))
def test_x12_case(tmp_path, case):
    name, content, want, code, where = X12_CASES[case]
    con, out = run_case(tmp_path, name, content, FX / "pyx12__835_mult_loops.txt")
    assert out.status == want, out.error
    if want == "quarantined":
        if code:
            assert out.error.code == code
        if where:
            assert where in (out.error.location or "")
        if case in X12_MESSAGES:
            assert X12_MESSAGES[case] in str(out.error)
            assert name in str(out.error)
        for table in RAW_TABLES:  # nothing of the file is loaded
            assert scalar(con, f"SELECT count(*) FROM raw.{table} WHERE file_id = ?", [out.file_id]) == 0
        assert scalar(con, "SELECT count(*) FROM audit.quarantine WHERE file_id = ?", [out.file_id]) == 1
    elif code:
        assert con.execute("SELECT code, location FROM audit.load_findings WHERE file_id = ? AND code = ?", [out.file_id, code]).fetchall()


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_csv_case(tmp_path, case):
    name, content, want, code, where = CSV_CASES[case]
    con, out = run_case(tmp_path, name, content, TINY / "claims" / "write_offs.csv")
    assert out.status == want, out.error
    if want == "quarantined":
        assert out.error.code == code
        if where:
            assert where in (out.error.location or "")
        assert scalar(con, "SELECT count(*) FROM raw.claims") == 0
    elif code:
        rows = con.execute("SELECT location FROM audit.load_findings WHERE code = ?", [code]).fetchall()
        assert rows and where in rows[0][0]


def test_two_versions_of_one_claim_latest_wins(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    con = warehouse.connect(tmp_path / "w.duckdb")
    loader.load_batch(con, loader.discover(landing), MemberIdHasher(TEST_KEY))
    # a later export carries C7 again, corrected: 130.00 instead of 120.00, billed a day later
    v2 = landing / "claims" / "claims_v2.csv"
    v2.write_text(CLAIM_HEADER + "\n" + next(r for r in CLAIMS.splitlines() if r.startswith("C7,"))
                  .replace("2026-03-24,", "2026-03-25,", 1).replace(",120.00,", ",130.00,") + "\n")
    loader.load_batch(con, [v2], MemberIdHasher(TEST_KEY))
    from transforms import dbt_runner

    con.close()
    dbt_runner.build_all(tmp_path / "w.duckdb", select="stg_claim_submissions stg_claims")
    con = warehouse.connect(tmp_path / "w.duckdb")
    assert con.execute("SELECT total_charge, n_submissions FROM staging.stg_claims WHERE claim_id = 'C7'").fetchone()[0] == 130
    assert scalar(con, "SELECT n_submissions FROM staging.stg_claims WHERE claim_id = 'C7'") == 2
