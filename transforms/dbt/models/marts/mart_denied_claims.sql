-- Initially denied claims, one row per claim and root-cause category: the claims behind the
-- denial charts of the weekly report (its drill-down table); remit_claim_id is the adjudication's
-- id (int_adjudications.adjudication_id: a split claim's CLP loops are one row). A claim denied for two categories
-- has a row for each; the distinct remit_claim_id of a slice are the claims that
-- mart_denials_by_category, mart_denials_by_carc and mart_weekly_denial_rates count, and
-- denied_amount adds up to their dollars. Claim ids, payer, department, codes and amounts only:
-- no patient data.
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
SELECT
    e.denial_week AS week_start,
    {{ iso_week('e.denial_week') }} AS iso_week,
    e.adjudication_id AS remit_claim_id,
    any_value(e.claim_id) AS claim_id,
    e.claim_family_id,
    e.payer_id,
    any_value(e.payer_name) AS payer_name,
    e.department,
    e.location,
    e.category,
    bool_or(e.preventable) AS preventable,
    any_value(e.owner) AS owner,
    {{ string_agg_ordered("coalesce(e.group_code || '-' || e.carc, 'CLP02=4')", "' '",
                          "coalesce(e.group_code || '-' || e.carc, 'CLP02=4')", distinct=true) }} AS reasons,
    {{ string_agg_ordered("e.rarc", "' '", "e.rarc", distinct=true) }} AS remarks,
    bool_or(e.is_full_denial) AS is_full_denial,
    count(*) AS denial_adjustments,
    sum(e.denied_amount)::DECIMAL(18,2) AS denied_amount
FROM {{ scoped(ref('int_denial_events'), 'remit_claim_id') }} AS e
WHERE e.kind = 'initial'
GROUP BY e.denial_week, e.adjudication_id, e.claim_family_id, e.payer_id, e.department, e.location, e.category
ORDER BY week_start, remit_claim_id, category
