-- One row per claim adjudication (835 CLP / CSV remittance claim) of a non-duplicate payment.
-- incremental: remit_claim_id
SELECT
    r.file_id,
    r.source_row,
    r.remit_claim_id,
    r.payment_id,
    r.claim_id,
    r.status_code,
    r.charge_amount,
    r.paid_amount,
    coalesce(r.patient_responsibility, 0) AS patient_responsibility,
    r.payer_claim_number,
    r.claim_frequency_code,
    r.statement_from,
    r.remark_codes,
    p.payment_date,
    p.payer_id,
    p.payer_name,
    p.trace_number,
    p.loaded_at
FROM raw.remit_claims AS r
JOIN staging.stg_remit_payments AS p USING (payment_id)
WHERE NOT p.is_duplicate
