"""Canonical CSV rows (docs/data-formats.md): claims, claim lines, write-offs and remittances.

Rows are built as strings (the csv module is slow at this volume): every value is a code, a
number or a date, except ``patient_name`` ("LAST, FIRST"), which is always quoted. Money has two
decimals; empty cells are NULL.
"""

from __future__ import annotations

from datagen import reference as ref
from datagen.dates import iso
from datagen.model import Adjudication, PatientPool, Submission, WriteOff
from datagen.x12_writer import money, trace_number

CLAIMS_HEADER = (
    "claim_id",
    "claim_type",
    "frequency_code",
    "original_claim_id",
    "submission_date",
    "service_from",
    "service_to",
    "total_charge",
    "payer_id",
    "payer_name",
    "payer_type",
    "payer_sequence",
    "billing_npi",
    "rendering_npi",
    "department",
    "location",
    "place_of_service",
    "prior_auth_number",
    "principal_diagnosis",
    "diagnosis_codes",
    "member_id",
    "patient_name",
    "patient_birth_date",
)
CLAIM_LINES_HEADER = (
    "claim_id",
    "line_number",
    "procedure_code",
    "modifiers",
    "revenue_code",
    "units",
    "line_charge",
    "service_date",
    "place_of_service",
    "line_control_number",
)
WRITE_OFFS_HEADER = ("claim_id", "writeoff_date", "amount", "reason", "carc")
REMIT_CLAIMS_HEADER = (
    "adjudication_id",
    "trace_number",
    "payment_date",
    "payer_id",
    "payer_name",
    "claim_id",
    "status_code",
    "charge_amount",
    "paid_amount",
    "patient_responsibility",
    "payer_claim_number",
    "claim_received_date",
    "remark_codes",
    "member_id",
    "patient_name",
)
REMIT_LINES_HEADER = (
    "adjudication_id",
    "line_number",
    "procedure_code",
    "modifiers",
    "charge_amount",
    "paid_amount",
    "units",
    "service_date",
    "line_control_number",
    "allowed_amount",
    "remark_codes",
)
REMIT_ADJUSTMENTS_HEADER = (
    "adjudication_id",
    "line_number",
    "group_code",
    "carc",
    "amount",
    "quantity",
)

HEADERS = {
    "claims/claims.csv": CLAIMS_HEADER,
    "claims/claim_lines.csv": CLAIM_LINES_HEADER,
    "claims/write_offs.csv": WRITE_OFFS_HEADER,
    "remittances_csv/remit_claims.csv": REMIT_CLAIMS_HEADER,
    "remittances_csv/remit_lines.csv": REMIT_LINES_HEADER,
    "remittances_csv/remit_adjustments.csv": REMIT_ADJUSTMENTS_HEADER,
}


def header_line(columns: tuple[str, ...]) -> str:
    return ",".join(columns) + "\n"


def patient_name(p: int) -> str:
    return f'"{PatientPool.last_name(p)}, {PatientPool.first_name(p)}"'


class ClaimRows:
    def __init__(self, pool: PatientPool):
        org = ref.organisation()
        self.org = org
        self.birth = pool.birth_ord

    def claim(self, s: Submission) -> tuple[str, str]:
        """(claims.csv row, claim_lines.csv rows)."""
        payer = ref.PAYERS[s.payer]
        org = self.org
        inst = s.institutional
        billing = org.billing["FAC" if inst else "PRO"].npi
        rendering = org.providers[s.provider].npi if s.provider >= 0 else ""
        pos = "13" if inst else s.place_of_service
        p = s.patient
        row = (
            f"{s.claim_id},{'institutional' if inst else 'professional'},{s.frequency},{s.original_claim_id},"
            f"{iso(s.submission_ord)},{iso(s.from_ord)},{iso(s.to_ord)},{money(s.charge)},{payer.payer_id},"
            f"{payer.name},{payer.payer_type},P,{billing},{rendering},{ref.DEPARTMENTS[s.department].name},"
            f"{org.locations[s.location].label},{pos},{s.prior_auth},{s.diagnoses[0]},{';'.join(s.diagnoses)},"
            f"{PatientPool.member_id(p)},{patient_name(p)},{iso(int(self.birth[p]))}\n"
        )
        lines = []
        for x in s.lines:
            proc = ref.PROCEDURES[x.proc]
            lines.append(
                f"{s.claim_id},{x.line_number},{proc.code},{x.modifier},{proc.revenue_code if inst else ''},"
                f"{x.units},{money(x.charge)},{iso(x.service_ord)},{'' if inst else s.place_of_service},"
                f"{s.claim_id}-{x.line_number}\n"
            )
        return row, "".join(lines)


def write_off_row(w: WriteOff) -> str:
    return f"{w.claim_id},{iso(w.writeoff_ord)},{money(w.amount)},{w.reason},{w.carc}\n"


def adjudication_id(a: Adjudication) -> str:
    return f"{trace_number(a.payer, a.payee, a.payment_ord)}-{a.icn}"


def remit_rows(a: Adjudication) -> tuple[str, str, str]:
    """(remit_claims row, remit_lines rows, remit_adjustments rows) of one adjudication."""
    payer = ref.PAYERS[a.payer]
    aid = adjudication_id(a)
    claim = (
        f"{aid},{trace_number(a.payer, a.payee, a.payment_ord)},{iso(a.payment_ord)},{payer.payer_id},"
        f"{payer.name},{a.claim_id},{a.status},{money(a.charge)},{money(a.paid)},{money(a.patient_resp)},"
        f"{a.icn},{iso(a.received_ord)},{';'.join(a.remarks)},{a.member_id},{patient_name(a.patient)}\n"
    )
    lines = []
    adjs = [f"{aid},,{g},{c},{money(amt)},\n" for g, c, amt in a.claim_adjustments]
    for n, x in enumerate(a.lines, start=1):
        proc = ref.PROCEDURES[x.proc]
        allowed = money(x.allowed) if x.allowed != -1 else ""
        lines.append(
            f"{aid},{n},{proc.code},{x.modifier},{money(x.charge)},{money(x.paid)},{x.units},{iso(x.service_ord)},"
            f"{a.claim_id}-{x.line_number},{allowed},{';'.join(x.remarks)}\n"
        )
        for g, c, amt in x.adjustments:
            adjs.append(f"{aid},{n},{g},{c},{money(amt)},\n")
    return claim, "".join(lines), "".join(adjs)
