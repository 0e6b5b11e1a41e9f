"""Every public fixture: inspect summary and parsed tables agree with EXPECTED.json."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal

import pytest
from x12support import (
    EXPECTED,
    FIXTURE_NAMES,
    FIXTURES,
    X12_FILES,
    fixture_bytes,
    hasher,
)

from transforms.x12 import inspect_file, inspect_paths, parse_x12
from transforms.x12.envelope import ENVELOPE_CODES

ZERO = Decimal(0)


def m(d: Decimal) -> str:
    return f"{d:.2f}"


def sums_by(keys, amounts) -> dict[str, str]:
    out: dict[str, Decimal] = {}
    for k, a in zip(keys, amounts, strict=True):
        out[k] = out.get(k, ZERO) + a
    return {k: m(v) for k, v in sorted(out.items())}


def test_every_fixture_file_has_expectations():
    assert FIXTURE_NAMES, "EXPECTED.json lists no fixture"
    assert set(X12_FILES) == set(FIXTURE_NAMES)
    assert (FIXTURES / "NOTICE.md").exists()


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_inspect_summary_matches_expected(name):
    exp = EXPECTED[name]
    s = inspect_file(FIXTURES / name)
    assert s["errors"] == []
    key = "x835" if "x835" in exp else "x837"
    got = s[key]
    if key == "x837":
        got = {k: v for k, v in got.items() if k in exp[key]}
    assert got == exp[key]
    for k in (
        "element_sep",
        "component_sep",
        "segment_term",
        "n_segments",
        "has_isa",
        "n_isa",
        "n_gs",
        "st_types",
        "gs08_versions",
        "crlf",
        "bom",
    ):
        assert s["format"][k] == exp["format"][k], k
    assert s["structural_anomalies"] == exp["structural_anomalies"]
    assert s["file_id"] == s["sha256"][:16]


@pytest.mark.parametrize("name", [n for n in FIXTURE_NAMES if "x835" in EXPECTED[n]])
def test_835_tables_match_expected(name):
    exp = EXPECTED[name]["x835"]
    extra = exp["extra"]
    p = parse_x12(fixture_bytes(name), name, "f" * 16, hasher())
    assert p.kind == "x12_835"
    pays = p.tables["remit_payments"]
    clms = p.tables["remit_claims"]
    lines = p.tables["remit_lines"]
    adjs = p.tables["remit_adjustments"]
    plbs = p.tables["provider_adjustments"]
    assert len(pays["payment_id"]) == exp["n_transactions"]
    assert len(clms["claim_id"]) == exp["n_claims"]
    assert dict(Counter(clms["status_code"])) == exp["clp02_counts"]
    assert m(sum(clms["charge_amount"], ZERO)) == exp["total_charge_clp03"]
    assert m(sum(clms["paid_amount"], ZERO)) == exp["total_paid_clp04"]
    assert (
        m(sum((x for x in clms["patient_responsibility"] if x is not None), ZERO))
        == extra["total_patient_resp_clp05"]
    )
    assert sums_by(adjs["group_code"], adjs["amount"]) == exp["cas_by_group"]
    claim_level = [
        (g, a)
        for g, lv, a in zip(
            adjs["group_code"], adjs["adjustment_level"], adjs["amount"], strict=True
        )
        if lv == "claim"
    ]
    line_level = [
        (g, a)
        for g, lv, a in zip(
            adjs["group_code"], adjs["adjustment_level"], adjs["amount"], strict=True
        )
        if lv == "line"
    ]
    assert len(claim_level) + len(line_level) == len(adjs["amount"])
    assert (
        sums_by([g for g, _ in claim_level], [a for _, a in claim_level])
        == extra["cas_by_group_claim_level"]
    )
    assert (
        sums_by([g for g, _ in line_level], [a for _, a in line_level])
        == extra["cas_by_group_service_level"]
    )
    # line-level CAS rows point at a line of the same claim; claim-level ones at none
    line_ids = set(lines["remit_line_id"])
    for lid, level, cid in zip(
        adjs["remit_line_id"],
        adjs["adjustment_level"],
        adjs["remit_claim_id"],
        strict=True,
    ):
        assert (lid is None) == (level == "claim")
        assert lid is None or (lid in line_ids and lid.startswith(cid + "-"))
    assert m(sum(plbs["amount"], ZERO)) == exp["plb_total"]
    assert len(set(plbs["source_row"])) == extra["n_plb_segments"]
    assert m(sum(pays["payment_amount"], ZERO)) == exp["bpr02_total"]
    assert len(lines["remit_line_id"]) == extra["n_svc"]
    assert m(sum(lines["charge_amount"], ZERO)) == extra["total_svc_charge_svc02"]
    assert m(sum(lines["paid_amount"], ZERO)) == extra["total_svc_paid_svc03"]
    assert [x for x in dict.fromkeys(pays["payer_name"]) if x] == extra["payers"]
    # per-ST balance computed from the tables
    per_st = []
    for pid, st02, bpr01, bpr02 in zip(
        pays["payment_id"],
        pays["st_control_number"],
        pays["handling_code"],
        pays["payment_amount"],
        strict=True,
    ):
        paid = [
            a
            for a, q in zip(clms["paid_amount"], clms["payment_id"], strict=True)
            if q == pid
        ]
        plb = sum(
            (
                a
                for a, q in zip(plbs["amount"], plbs["payment_id"], strict=True)
                if q == pid
            ),
            ZERO,
        )
        s = sum(paid, ZERO)
        per_st.append(
            {
                "st02": st02,
                "bpr01": bpr01,
                "bpr02": m(bpr02),
                "n_clp": len(paid),
                "sum_clp04": m(s),
                "plb_total": m(plb),
                "balanced": s - plb == bpr02,
            }
        )
    assert per_st == exp["per_st"]
    # balancing findings agree with the expected counts
    codes = Counter(f.code for f in p.findings)
    assert codes["clp_unbalanced"] == extra["n_claims_unbalanced"]
    assert codes["svc_unbalanced"] == extra["n_svc_unbalanced"]
    assert codes["bpr_unbalanced"] == sum(
        1 for st in exp["per_st"] if not st["balanced"]
    )
    assert p.rows_read == EXPECTED[name]["format"]["n_segments"]


@pytest.mark.parametrize("name", [n for n in FIXTURE_NAMES if "x835" in EXPECTED[n]])
def test_835_ids_and_lineage(name):
    fid = "0123456789abcdef"
    p = parse_x12(fixture_bytes(name), name, fid, hasher())
    pays, clms, lines = (
        p.tables["remit_payments"],
        p.tables["remit_claims"],
        p.tables["remit_lines"],
    )
    for row, pid in zip(pays["source_row"], pays["payment_id"], strict=True):
        assert pid == f"{fid}-{row}"
    for row, cid, pid in zip(
        clms["source_row"], clms["remit_claim_id"], clms["payment_id"], strict=True
    ):
        assert cid == f"{fid}-{row}" and pid in pays["payment_id"]
    for cid, lid, n in zip(
        lines["remit_claim_id"],
        lines["remit_line_id"],
        lines["line_number"],
        strict=True,
    ):
        assert lid == f"{cid}-{n}"
    # source_row points at a segment with the right id
    from transforms.x12.tokenizer import tokenize

    segs = tokenize(fixture_bytes(name), name).segments
    for table, seg_id in (
        ("remit_payments", "ST"),
        ("remit_claims", "CLP"),
        ("remit_lines", "SVC"),
        ("remit_adjustments", "CAS"),
        ("provider_adjustments", "PLB"),
    ):
        for row in p.tables[table]["source_row"]:
            assert segs[row - 1].startswith(seg_id), (table, row)
    for table in p.tables.values():
        assert set(table["file_id"]) <= {fid}


@pytest.mark.parametrize("name", [n for n in FIXTURE_NAMES if "x837" in EXPECTED[n]])
def test_837_tables_match_expected(name):
    exp = EXPECTED[name]["x837"]
    p = parse_x12(fixture_bytes(name), name, "f" * 16, hasher())
    clms, lines = p.tables["claims"], p.tables["claim_lines"]
    assert p.kind == ("x12_837p" if exp["n_sv1"] else "x12_837i")
    assert len(clms["claim_id"]) == exp["n_claims_clm"]
    assert m(sum(clms["total_charge"], ZERO)) == exp["total_charge_clm02"]
    assert (
        len(lines["line_number"]) == exp["n_sv1"] + exp["n_sv2"] + exp["n_sv3_dental"]
    )
    assert m(sum(lines["line_charge"], ZERO)) == exp["total_line_charge"]
    assert dict(Counter(clms["frequency_code"])) == exp["claim_frequency_codes"]
    assert (sum(clms["total_charge"], ZERO) == sum(lines["line_charge"], ZERO)) == exp[
        "lines_sum_equals_claims_sum"
    ]
    assert not [f for f in p.findings if f.code == "clm_lines_unbalanced"]
    assert p.rows_read == EXPECTED[name]["format"]["n_segments"]


def test_bad_envelope_file_reports_each_anomaly_by_name():
    name = "badx12__error_validation.edi"
    p = parse_x12(fixture_bytes(name), name, "f" * 16, hasher())
    env = [(f.code, f.location) for f in p.findings if f.code in ENVELOPE_CODES]
    assert env == [
        ("se01_count", "ST 112233"),
        ("st02_se02", "ST 112233"),
        ("gs_ge_control", "GS 20413"),
        ("ge01_count", "GS 20413"),
        ("isa_iea_control", "ISA 000010216"),
        ("iea01_count", "ISA 000010216"),
    ]
    assert all(f.severity == "warning" for f in p.findings)
    s = inspect_file(FIXTURES / name)
    assert [f["code"] for f in s["envelope_findings"]] == [c for c, _ in env]
    assert s["structural_anomalies"] == EXPECTED[name]["structural_anomalies"]
    # business content still loads
    assert len(p.tables["remit_claims"]["claim_id"]) == 2


def test_clean_fixtures_have_no_findings():
    for name in FIXTURE_NAMES:
        if EXPECTED[name]["structural_anomalies"]:
            continue
        p = parse_x12(fixture_bytes(name), name, "f" * 16, hasher())
        assert p.findings == [], name


def test_inspect_paths_directory_covers_every_file_without_raising():
    out = inspect_paths([FIXTURES])
    by_name = {s["file_name"]: s for s in out}
    for name in FIXTURE_NAMES:
        assert by_name[name]["errors"] == []
    # EXPECTED.json, NOTICE.md, SOURCES.tsv are not X12: a summary with an error, no exception
    assert by_name["NOTICE.md"]["errors"][0]["code"] == "not_x12"
    assert json.loads(json.dumps(out)) == out  # JSON-able as it is


# --- PHI -------------------------------------------------------------------------------------


def _phi_values() -> tuple[set[str], set[str]]:
    """Names (NM103-105) and ids (NM109) of patients/subscribers in the fixtures."""
    from transforms.x12.tokenizer import tokenize

    names: set[str] = set()
    ids: set[str] = set()
    for name in FIXTURE_NAMES:
        toks = tokenize(fixture_bytes(name), name)
        for _, e, _ in toks.elements():
            if e[0] == "NM1" and len(e) > 1 and e[1] in ("QC", "IL", "74", "GB"):
                names.update(
                    v for v in e[3:6] if len(v) > 1
                )  # initials (e.g. "P") are not names
                if len(e) > 9 and e[9]:
                    ids.add(e[9])
    return names, ids


def _cells(p) -> list[str]:
    return [
        str(v)
        for t in p.tables.values()
        for col in t.values()
        for v in col
        if v is not None
    ]


def test_no_patient_name_or_member_id_in_tables():
    names, ids = _phi_values()
    assert {"JONES", "SAM", "BUDD", "SMITH", "TED"} <= names
    for name in FIXTURE_NAMES:
        p = parse_x12(fixture_bytes(name), name, "f" * 16, hasher())
        tokens = {
            tok for cell in _cells(p) for tok in re.split(r"[^A-Za-z0-9]+", cell) if tok
        }
        cells = set(_cells(p))
        assert not (names & tokens), name
        assert not (ids & cells), name
        assert not (ids & tokens), name
        for f in p.findings:
            assert not (
                names & set(re.split(r"[^A-Za-z0-9]+", f.message + (f.location or "")))
            ), name
    s = str(inspect_paths([FIXTURES]))
    assert not (names & set(re.split(r"[^A-Za-z0-9]+", s)))


def test_member_id_is_hashed():
    name = "badx12__X221-secondary-payments.edi"
    h = hasher()
    p = parse_x12(fixture_bytes(name), name, "f" * 16, h)
    assert p.tables["remit_claims"]["member_id_hash"] == [
        h("XXX123456789"),
        h("456789123"),
    ]
    p = parse_x12(fixture_bytes("lfh__demo.837"), "lfh__demo.837", "f" * 16, h)
    assert p.tables["claims"]["member_id_hash"] == [h("JS00111223333")]
