-- One row per claim adjudication (835 CLP / CSV remittance claim) of a payment that is not
-- superseded by a later file (stg_remit_payments). A CSV remittance claim id loaded again in a
-- later file is that file's row (the latest file counts, as for an 835 resend).
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
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
FROM {{ scoped(source('raw', 'remit_claims'), 'remit_claim_id') }} AS r
JOIN {{ ref('stg_remit_payments') }} AS p ON p.payment_id = r.payment_id AND p.file_id = r.file_id
WHERE NOT p.is_duplicate
QUALIFY row_number() OVER (
    PARTITION BY r.remit_claim_id
    ORDER BY p.interchange_created DESC NULLS LAST, p.loaded_at DESC, p.received_at DESC, p.file_name DESC, r.file_id DESC, r.source_row DESC) = 1
