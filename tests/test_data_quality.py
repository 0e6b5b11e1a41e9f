"""Data broken on purpose: each problem is reported with its severity; errors block what
depends on the table (see also test_pipeline_dagster.test_error_check_blocks_downstream...)."""

from __future__ import annotations

import json

from pipelines.run import resources_for, run_pipeline


def test_broken_data_reported_with_severity(tiny_landing, tiny_settings, tmp_path):
    rc = tiny_landing / "remittances" / "remit_claims.csv"
    # an unbalanced claim: A1 says 71.00 paid, but 100.00 - 30.00 of adjustments = 70.00
    rc.write_text(rc.read_text().replace("A1,T100,2026-03-10,P1,ALPHA HEALTH,C1,1,100.00,70.00", "A1,T100,2026-03-10,P1,ALPHA HEALTH,C1,1,100.00,71.00"))
    # a date of service in the future
    cl = tiny_landing / "claims" / "claims.csv"
    cl.write_text(cl.read_text().replace("C7,professional,1,,2026-03-24,2026-03-23,2026-03-23", "C7,professional,1,,2026-03-24,2099-03-23,2099-03-23"))
    # an unknown CARC
    adj = tiny_landing / "remittances" / "remit_adjustments.csv"
    adj.write_text(adj.read_text().replace("A11,,CO,45,50.00,", "A11,,CO,999,50.00,"))
    # an NPI with a wrong check digit
    cl.write_text(cl.read_text().replace("C9,professional,1,,2025-12-05,2025-12-01,2025-12-01,1000.00,P1,ALPHA HEALTH,commercial,P,1234567893",
                                         "C9,professional,1,,2025-12-05,2025-12-01,2025-12-01,1000.00,P1,ALPHA HEALTH,commercial,P,1234567890"))

    outcome = run_pipeline(resources_for(tiny_landing, tmp_path / "w.duckdb", tmp_path / "out", tiny_settings))
    assert outcome.success, outcome.error  # warnings do not block
    assert "reports/weekly_dashboard" in outcome.materialized
    dq = json.loads((tmp_path / "out" / "data_quality" / "results.json").read_text())
    failed = {(e["table_name"], e["description"]): (e["severity"], e["unexpected_count"]) for e in dq["expectations"] if not e["success"]}
    assert failed == {
        ("intermediate.int_adjudications", "each remittance claim balances: charge - adjustments = paid (CLP03 - CAS = CLP04)"): ("warning", 1),
        ("intermediate.int_adjudications", "every remittance claim matches a billed claim (the others are listed as unmatched)"): ("warning", 1),
        ("staging.stg_claims", "dates of service are plausible (not in the future, not before 2000)"): ("warning", 1),
        # the same claim's bill date (2026-03-24) is now before its date of service
        ("staging.stg_claims", "claims are billed on or after the date of service"): ("warning", 1),
        ("intermediate.int_adjustments", "every CARC is in the root-cause table (unknown codes are counted as 'unmapped')"): ("warning", 1),
        ("staging.stg_claims", "billing and rendering NPIs pass the NPI check digit (Luhn with prefix 80840)"): ("warning", 1),
    }
    assert dq["errors_failed"] == 0
    # does it balance: every line and claim of the remittance CSVs checked; A1 is off by 100 - 30 - 71
    n_rows = lambda name: len((tiny_landing / "remittances" / name).read_text().strip().splitlines()) - 1  # noqa: E731
    assert dq["balancing"] == [
        {"check": "service lines (SVC02 - CAS = SVC03)", "checked": str(n_rows("remit_lines.csv")), "unbalanced": "0",
         "difference": "0.00"},
        {"check": "claims (CLP03 - CAS = CLP04)", "checked": str(n_rows("remit_claims.csv")), "unbalanced": "1",
         "difference": "-1.00"},
        {"check": "835 payments (sum CLP04 - PLB = BPR02)", "checked": "0", "unbalanced": "0", "difference": "0.00"},
    ]
    assert sorted(outcome.failed_checks) == [
        "intermediate/int_adjudications:adjudications_warnings (WARN)",
        "intermediate/int_adjustments:adjustments_classified_warnings (WARN)",
        "staging/stg_claims:claims_warnings (WARN)",
    ]
    html = (tmp_path / "out" / "data_quality" / "index.html").read_text()
    assert "unknown codes are counted as" in html
