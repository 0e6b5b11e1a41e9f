-- One row per adjudicated claim family: the fact table the claim-level KPIs are counted from
-- (marts.mart_claim_kpis, by payer, department, location, provider, root-cause category, CARC and
-- procedure code) and the trend alerts' series (transforms/trends.py). Weeks are ISO weeks of the
-- initial adjudication.
{{ config(materialized=scoped_materialization(), unique_key='claim_family_id', incremental_strategy='scoped', pre_hook="{{ extend_family_scope() }}") }}
-- depends_on: {{ ref('stg_claims') }}, {{ ref('int_adjudications') }} (the pre_hook's family scope)
SELECT
    o.claim_family_id,
    o.initial_claim_id AS claim_id,
    o.initial_adjudication_week AS week_start,
    {{ iso_week('o.initial_adjudication_week') }} AS iso_week,
    o.initial_adjudication_date,
    -- the week the family was first billed (trend detection dates cohorts by it; unmatched
    -- remittances have no bill date and use their adjudication week)
    {{ iso_week("coalesce(date_trunc('week', o.first_submission_date)::DATE, o.initial_adjudication_week)") }} AS bill_week,
    o.payer_id,
    o.payer_name,
    o.payer_type,
    o.department,
    o.location,
    coalesce(o.rendering_npi, 'unknown') AS provider_npi,
    coalesce(o.procedure_code, 'unknown') AS procedure_code,
    coalesce(o.initial_denial_category, 'none') AS category,
    coalesce(o.initial_denial_reason, 'none') AS reason,
    o.initial_denial_preventable AS preventable,
    o.is_matched,
    o.charge_amount,
    o.initial_paid_amount,
    o.total_paid,
    o.initially_denied,
    o.initially_fully_denied,
    o.initially_partially_denied,
    o.initial_denied_amount,
    o.overturned,
    o.resolution_date,
    o.days_to_resolution,
    o.first_paid_date,
    o.days_to_payment,
    o.written_off,
    o.denial_written_off
FROM {{ scoped(ref('int_claim_outcomes'), 'claim_family_id') }} AS o
