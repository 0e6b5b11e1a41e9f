-- One row per denial: a denial adjustment (claim or line level) of one adjudication, with its
-- root cause. kind = 'initial' for the family's initial adjudication, 'repeat' for any later
-- adjudication (a resubmission or appeal denied again), so one line denied three times is one
-- initial denial and two repeat denials, never three initial ones.
-- incremental: remit_claim_id
SELECT
    a.remit_claim_id,
    a.remit_line_id,
    a.adjustment_level,
    a.file_id,
    a.source_row,
    a.triple_index,
    d.claim_id,
    d.claim_family_id,
    d.payment_date AS denial_date,
    d.payment_week AS denial_week,
    d.payer_id,
    d.payer_name,
    d.payer_role,
    coalesce(d.department, 'unassigned') AS department,
    coalesce(d.location, 'unassigned') AS location,
    d.rendering_npi,
    a.procedure_code,
    a.group_code,
    a.carc,
    a.rarc,
    a.category,
    a.is_unmapped,
    a.preventable,
    a.owner,
    a.amount AS denied_amount,
    d.is_full_denial,
    CASE WHEN d.primary_seq = 1 THEN 'initial' ELSE 'repeat' END AS kind
FROM intermediate.int_adjustments AS a
JOIN intermediate.int_adjudications AS d USING (remit_claim_id)
WHERE a.adjustment_class = 'denial' AND NOT d.is_reversal
