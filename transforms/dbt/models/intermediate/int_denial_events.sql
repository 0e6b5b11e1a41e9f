-- One row per denial: a denial adjustment (claim or line level) of one adjudication, with its
-- root cause. kind = 'initial' for the family's initial adjudication, 'repeat' for any later
-- adjudication (a resubmission or appeal denied again), so one line denied three times is one
-- initial denial and two repeat denials, never three initial ones. The rows of one adjudication
-- (a payer's split claim) share its kind. A denial is an adjustment whose CARC is a denial
-- (int_adjustments.is_denial, any group). A CLP02=4 claim's unpaid charge that no denial CARC
-- explains is one more claim-level denial with category 'payer_denied_unspecified' (no group, no
-- CARC; reason 'CLP02=4'), so a denied claim always has a category and its denied dollars.
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
SELECT
    a.remit_claim_id,
    a.remit_line_id,
    a.adjustment_level,
    a.file_id,
    a.source_row,
    a.triple_index,
    d.adjudication_id,
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
FROM {{ scoped(ref('int_adjustments'), 'remit_claim_id') }} AS a
JOIN {{ scoped(ref('int_adjudications'), 'remit_claim_id') }} AS d USING (remit_claim_id)
WHERE a.is_denial AND NOT d.is_reversal
UNION ALL
SELECT
    d.remit_claim_id,
    NULL AS remit_line_id,
    'claim' AS adjustment_level,
    d.file_id,
    d.source_row,
    0 AS triple_index,
    d.adjudication_id,
    d.claim_id,
    d.claim_family_id,
    d.payment_date,
    d.payment_week,
    d.payer_id,
    d.payer_name,
    d.payer_role,
    coalesce(d.department, 'unassigned'),
    coalesce(d.location, 'unassigned'),
    d.rendering_npi,
    NULL AS procedure_code,
    NULL AS group_code,
    NULL AS carc,
    nullif(split_part(d.remark_codes, ';', 1), '') AS rarc,
    'payer_denied_unspecified' AS category,
    false AS is_unmapped,
    false AS preventable,
    'billing' AS owner,
    d.unspecified_denied_amount,
    d.is_full_denial,
    CASE WHEN d.primary_seq = 1 THEN 'initial' ELSE 'repeat' END
FROM {{ scoped(ref('int_adjudications'), 'remit_claim_id') }} AS d
WHERE d.status_code = '4' AND NOT d.is_reversal
  AND (d.unspecified_denied_amount > 0 OR d.n_denial_adjustments = 0)
