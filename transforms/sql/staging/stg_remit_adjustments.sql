-- One row per adjustment (CAS reason/amount/quantity triple, claim or line level) of a kept adjudication.
-- incremental: remit_claim_id
SELECT
    a.file_id,
    a.source_row,
    a.triple_index,
    a.remit_claim_id,
    a.remit_line_id,
    a.adjustment_level,
    upper(a.group_code) AS group_code,
    upper(a.carc) AS carc,
    a.amount,
    a.quantity
FROM raw.remit_adjustments AS a
WHERE a.remit_claim_id IN (SELECT remit_claim_id FROM staging.stg_remit_claims)
