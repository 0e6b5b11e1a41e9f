-- One row per adjudicated service line (835 SVC / CSV remittance line) of a kept adjudication.
-- incremental: remit_claim_id
SELECT
    l.file_id,
    l.source_row,
    l.remit_claim_id,
    l.remit_line_id,
    l.line_number,
    l.procedure_code,
    l.modifiers,
    l.charge_amount,
    l.paid_amount,
    l.units,
    l.service_date,
    l.line_control_number,
    l.allowed_amount,
    l.remark_codes
FROM raw.remit_lines AS l
WHERE l.remit_claim_id IN (SELECT remit_claim_id FROM staging.stg_remit_claims)
