-- One row per claim family that has been adjudicated: its initial adjudication (HFMA: the first
-- adjudication decides the initial denial) and what became of it (the last decides the final
-- outcome). Reversals are netted into total_paid. The initial adjudication is every row with
-- primary_seq = 1 (one adjudication may be several CLP loops of one payment: a split claim); its
-- charge, paid and denied amounts are their sums.
{{ config(materialized=scoped_materialization(), unique_key='claim_family_id', incremental_strategy='scoped', pre_hook="{{ extend_family_scope() }}") }}
WITH fam AS (
    SELECT
        claim_family_id,
        sum(paid_amount) AS total_paid,
        max(payment_date) AS last_payment_date,
        min(payment_date) FILTER (WHERE primary_seq > 1 AND paid_amount > 0) AS first_later_paid_date,
        min(payment_date) FILTER (WHERE paid_amount > 0 AND NOT is_reversal) AS first_paid_date
    FROM {{ scoped(ref('int_adjudications'), 'remit_claim_id') }}
    GROUP BY claim_family_id
),
wo AS (
    SELECT c.claim_family_id, sum(w.amount) AS written_off, min(w.writeoff_date) AS first_writeoff_date,
           sum(w.amount) FILTER (WHERE w.reason = 'denial') AS denial_written_off
    FROM {{ scoped(ref('stg_write_offs'), 'claim_id') }} AS w
    JOIN {{ scoped(ref('stg_claims'), 'claim_id') }} AS c USING (claim_id)
    GROUP BY c.claim_family_id
),
top_reason AS (
    -- the root cause of the initial denial: its largest denial adjustment
    SELECT claim_family_id, category, carc, group_code, owner, preventable
    FROM {{ scoped(ref('int_denial_events'), 'remit_claim_id') }}
    WHERE kind = 'initial'
    QUALIFY row_number() OVER (PARTITION BY claim_family_id ORDER BY denied_amount DESC, carc NULLS LAST, remit_claim_id, triple_index) = 1
),
initial AS (
    SELECT
        claim_family_id,
        any_value(adjudication_id) AS adjudication_id,
        sum(charge_amount) AS remit_charge,
        sum(paid_amount) AS paid_amount,
        sum(denied_amount) AS denied_amount
    FROM {{ scoped(ref('int_adjudications'), 'remit_claim_id') }}
    WHERE primary_seq = 1
    GROUP BY claim_family_id
),
first_line AS (
    SELECT claim_id, procedure_code
    FROM {{ scoped(ref('stg_claim_lines'), 'claim_id') }}
    QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY line_number) = 1
)
SELECT
    i.claim_family_id,
    i.claim_id AS initial_claim_id,
    n.adjudication_id AS initial_remit_claim_id,
    i.payer_id,
    i.payer_name,
    i.payer_type,
    coalesce(i.department, 'unassigned') AS department,
    coalesce(i.location, 'unassigned') AS location,
    i.rendering_npi,
    i.is_matched,
    i.service_from,
    i.first_submission_date,
    i.payment_date AS initial_adjudication_date,
    i.payment_week AS initial_adjudication_week,
    i.status_code AS initial_status_code,
    coalesce(i.billed_charge, n.remit_charge) AS charge_amount,
    n.paid_amount AS initial_paid_amount,
    i.is_denied AS initially_denied,
    i.is_full_denial AS initially_fully_denied,
    i.is_denied AND NOT i.is_full_denial AS initially_partially_denied,
    n.denied_amount AS initial_denied_amount,
    f.total_paid::DECIMAL(18,2) AS total_paid,
    f.last_payment_date,
    i.is_denied AND f.first_later_paid_date IS NOT NULL AS overturned,
    CASE WHEN i.is_denied THEN least(f.first_later_paid_date, w.first_writeoff_date) END AS resolution_date,
    coalesce(w.written_off, 0)::DECIMAL(18,2) AS written_off,
    coalesce(w.denial_written_off, 0)::DECIMAL(18,2) AS denial_written_off,
    f.first_paid_date,
    {{ days_between('i.first_submission_date', 'f.first_paid_date') }} AS days_to_payment,
    CASE WHEN i.is_denied THEN {{ days_between('i.payment_date', 'least(f.first_later_paid_date, w.first_writeoff_date)') }} END AS days_to_resolution,
    t.category AS initial_denial_category,
    CASE WHEN t.category = 'payer_denied_unspecified' THEN 'CLP02=4' ELSE t.group_code || '-' || t.carc END AS initial_denial_reason,
    t.owner AS initial_denial_owner,
    t.preventable AS initial_denial_preventable,
    fl.procedure_code
FROM {{ scoped(ref('int_adjudications'), 'remit_claim_id') }} AS i
JOIN initial AS n ON n.claim_family_id = i.claim_family_id AND n.adjudication_id = i.remit_claim_id
JOIN fam AS f ON f.claim_family_id = i.claim_family_id
LEFT JOIN wo AS w ON w.claim_family_id = i.claim_family_id
LEFT JOIN top_reason AS t ON t.claim_family_id = i.claim_family_id
LEFT JOIN first_line AS fl ON fl.claim_id = i.claim_id

