"""The expectation suites, declared as data.

Each suite validates one warehouse table. Each expectation has a severity:

* ``error``: the table is not fit for use; what depends on it is not built (a blocking check);
* ``warning``: reported in the data-quality report and as a non-blocking check.

Expectations are grouped by kind (keys, missing values, invalid values, balancing, codes), as
in docs/data-quality.md. No expectation is about a PHI column: the warehouse holds none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CLP02_CODES = ["1", "2", "3", "4", "19", "20", "21", "22", "23", "25"]
TODAY = "__today__"  # replaced by the validation date: "no date after today"
EARLIEST = "2000-01-01"
CAS_GROUPS = ["CO", "PR", "OA", "PI", "CR"]


@dataclass(frozen=True)
class Expect:
    gx_type: str  # Great Expectations expectation class name
    kwargs: dict[str, Any]
    severity: str  # error | warning
    kind: str  # keys | missing | invalid | balancing | codes | matching
    description: str  # plain words for the report


@dataclass(frozen=True)
class Suite:
    name: str
    table: str  # schema.table
    expectations: tuple[Expect, ...] = field(default_factory=tuple)

    @property
    def asset_path(self) -> list[str]:
        return self.table.split(".")


def _unique(col: str, what: str) -> Expect:
    return Expect("ExpectColumnValuesToBeUnique", {"column": col}, "error", "keys", f"each {what} appears once")


def _present(col: str, what: str, severity: str = "error") -> Expect:
    return Expect("ExpectColumnValuesToNotBeNull", {"column": col}, severity, "missing", f"every row has {'an' if what[0] in 'aeiou' else 'a'} {what}")


SUITES: tuple[Suite, ...] = (
    Suite(
        "claims",
        "staging.stg_claims",
        (
            _unique("claim_id", "claim id"),
            _present("claim_id", "claim id"),
            _present("total_charge", "total charge"),
            _present("service_from", "date of service"),
            _present("payer_id", "payer"),
            Expect("ExpectColumnValuesToBeBetween", {"column": "total_charge", "min_value": 0}, "error", "invalid",
                   "billed charges are not negative"),
            Expect("ExpectColumnPairValuesAToBeGreaterThanB",
                   {"column_A": "submission_date", "column_B": "service_from", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                   "warning", "invalid", "claims are billed on or after the date of service"),
            Expect("ExpectColumnValuesToBeInSet", {"column": "frequency_code", "value_set": ["1", "7", "8"]}, "warning",
                   "codes", "claim frequency codes are 1, 7 or 8"),
            Expect("ExpectColumnValuesToBeBetween", {"column": "service_from", "min_value": EARLIEST, "max_value": TODAY},
                   "warning", "invalid", "dates of service are plausible (not in the future, not before 2000)"),
            Expect("ExpectColumnValuesToBeBetween", {"column": "submission_date", "min_value": EARLIEST, "max_value": TODAY},
                   "warning", "invalid", "bill dates are plausible (not in the future, not before 2000)"),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "billing_npi", "regex": r"^[12][0-9]{9}$"}, "warning",
                   "codes", "billing NPIs have the NPI format (10 digits starting 1 or 2)"),
            Expect("ExpectColumnValuesToBeInSet", {"column": "npi_check_digit_ok", "value_set": [True]}, "warning",
                   "codes", "billing and rendering NPIs pass the NPI check digit (Luhn with prefix 80840)"),
        ),
    ),
    Suite(
        "claim_lines",
        "staging.stg_claim_lines",
        (
            _present("claim_id", "claim id"),
            _present("line_charge", "line charge"),
            Expect("ExpectColumnValuesToBeBetween", {"column": "line_charge", "min_value": 0}, "error", "invalid",
                   "line charges are not negative"),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "procedure_code", "regex": r"^[A-Z0-9]{5}$"}, "warning",
                   "codes", "procedure codes are 5-character CPT/HCPCS codes"),
        ),
    ),
    Suite(
        "remit_claims",
        "staging.stg_remit_claims",
        (
            _unique("remit_claim_id", "remittance claim"),
            _present("remit_claim_id", "remittance claim id"),
            _present("claim_id", "claim id (CLP01)"),
            _present("charge_amount", "charge (CLP03)"),
            _present("paid_amount", "paid amount (CLP04)"),
            _present("payment_date", "payment date"),
            Expect("ExpectColumnValuesToBeBetween", {"column": "payment_date", "min_value": EARLIEST, "max_value": TODAY},
                   "warning", "invalid", "payment dates are plausible (not in the future, not before 2000)"),
            Expect("ExpectColumnValuesToBeInSet", {"column": "status_code", "value_set": CLP02_CODES}, "warning", "codes",
                   "claim status codes (CLP02) are known codes"),
        ),
    ),
    Suite(
        "remit_adjustments",
        "staging.stg_remit_adjustments",
        (
            _present("carc", "reason code (CARC)"),
            _present("amount", "adjustment amount"),
            Expect("ExpectColumnValuesToBeInSet", {"column": "group_code", "value_set": CAS_GROUPS}, "error", "codes",
                   "adjustment group codes are CO, PR, OA, PI or CR"),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "carc", "regex": r"^(?:[0-9]{1,3}|[A-Z][0-9]{1,2})$"}, "warning",
                   "codes", "reason codes have the CARC format"),
        ),
    ),
    Suite(
        "remit_lines",
        "staging.stg_remit_lines",
        (
            _present("remit_line_id", "remittance line id"),
            _present("charge_amount", "line charge (SVC02)"),
            _present("paid_amount", "line paid amount (SVC03)"),
            Expect("ExpectColumnValuesToMatchRegex",
                   {"column": "remark_codes", "regex": r"^(?:(?:M|MA|N)[0-9]{1,3})(?:;(?:M|MA|N)[0-9]{1,3})*$"}, "warning",
                   "codes", "remark codes (RARC, LQ*HE) have the RARC format"),
        ),
    ),
    Suite(
        "adjustments_classified",
        "intermediate.int_adjustments",
        (
            Expect("ExpectColumnValuesToBeInSet", {"column": "is_unmapped", "value_set": [False]}, "warning", "codes",
                   "every CARC is in the root-cause table (unknown codes are counted as 'unmapped')"),
        ),
    ),
    Suite(
        "adjudications",
        "intermediate.int_adjudications",
        (
            Expect("ExpectColumnValuesToBeInSet", {"column": "is_matched", "value_set": [True]}, "warning", "matching",
                   "every remittance claim matches a billed claim (the others are listed as unmatched)"),
            Expect("ExpectColumnValuesToBeInSet", {"column": "is_balanced", "value_set": [True]}, "warning", "balancing",
                   "each remittance claim balances: charge - adjustments = paid (CLP03 - CAS = CLP04)"),
        ),
    ),
    Suite(
        "weekly_denial_rates",
        "marts.mart_weekly_denial_rates",
        (
            Expect("ExpectColumnValuesToBeBetween", {"column": "denial_rate", "min_value": 0, "max_value": 1}, "error",
                   "invalid", "denial rates are between 0 and 1"),
            Expect("ExpectColumnPairValuesAToBeGreaterThanB",
                   {"column_A": "claims_adjudicated", "column_B": "claims_denied", "or_equal": True}, "error", "invalid",
                   "no more claims denied than adjudicated"),
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["week_start", "payer_id"]}, "error", "keys",
                   "one row per week and payer"),
        ),
    ),
)


def suite_for(table: str) -> Suite | None:
    return next((s for s in SUITES if s.table == table), None)
