-- The weekly report's headline figures, one row per ISO week (docs/metrics.md defines each).
-- The initial denial rates and the overturn rate are read from marts.mart_claim_kpis (all claims,
-- one week), where they are defined; the others are defined here (the A/R figures in
-- marts.mart_days_in_ar).
WITH denials AS (
    -- the initial denial rates and the overturn rate: the all-claims rows of one week of
    -- marts.mart_claim_kpis, where they are defined (docs/metrics.md)
    SELECT week_start, claims_adjudicated, claims_denied, charges_adjudicated, charges_denied, denied_amount,
           initial_denial_rate, initial_denial_rate_dollars, denied_dollar_rate, overturn_rate
    FROM {{ ref('mart_claim_kpis') }}
    WHERE window_weeks = 1 AND dimension = 'all'
),
primary_remits AS (
    -- HFMA task force primary denial rate: zero-paid remits / all remits, primary payers,
    -- duplicates (already left out in staging) and reversals excluded
    SELECT payment_week AS week_start,
           count(*) AS primary_remits,
           count(*) FILTER (WHERE paid_amount = 0) AS zero_paid_remits
    FROM {{ ref('int_adjudications') }}
    WHERE payer_role = 'primary' AND NOT is_reversal AND status_code NOT IN ('23', '25')
    GROUP BY ALL
),
payment_days AS (
    SELECT date_trunc('week', first_paid_date)::DATE AS week_start, avg(days_to_payment) AS avg_days_to_payment
    FROM {{ ref('int_claim_outcomes') }}
    WHERE first_paid_date IS NOT NULL
    GROUP BY ALL
),
resolution_days AS (
    SELECT date_trunc('week', resolution_date)::DATE AS week_start, avg(days_to_resolution) AS avg_days_to_resolution,
           count(*) AS denials_resolved
    FROM {{ ref('int_claim_outcomes') }}
    WHERE resolution_date IS NOT NULL
    GROUP BY ALL
),
-- the write-offs and the ledger are summed per day first (exact: DECIMAL sums), so that the
-- 13-week window joins below read a few hundred rows per week instead of every event
denial_writeoff_days AS (
    SELECT writeoff_date, sum(amount) AS amount
    FROM {{ ref('stg_write_offs') }}
    WHERE reason = 'denial'
    GROUP BY ALL
),
ledger_days AS (
    SELECT event_date, event_type, sum(amount) AS amount
    FROM {{ ref('int_ar_ledger') }}
    WHERE event_type = 'charge'
    GROUP BY ALL
),
denial_writeoffs AS (
    SELECT s.week_start, coalesce(sum(w.amount), 0) AS denial_writeoffs_13w
    FROM {{ ref('int_calendar_weeks') }} AS s
    LEFT JOIN denial_writeoff_days AS w
      ON w.writeoff_date > s.snapshot_date - 91 AND w.writeoff_date <= s.snapshot_date
    GROUP BY s.week_start
),
-- Money posted by the payers, from the adjudications themselves (every CLP of a billed insurance
-- claim, reversals included with their negative amounts, so a payment reversed after its claim
-- was replaced nets out). patient_net is the patient share each adjudication leaves with the
-- patient: its PR amounts (unless the claim was forwarded to the next payer, CLP02 19/20/21),
-- less the shares of earlier payers that a later payer (secondary, tertiary) took over.
adj AS (
    SELECT a.*, CASE a.payer_role WHEN 'primary' THEN 1 WHEN 'secondary' THEN 2 ELSE 3 END AS role_rank
    FROM {{ ref('int_adjudications') }} AS a
    WHERE a.is_matched AND coalesce(a.payer_type, '') <> 'self_pay'
),
reopened AS (
    SELECT a.remit_claim_id, (CASE WHEN a.charge_amount > 0 THEN 1 WHEN a.charge_amount < 0 THEN -1 ELSE 0 END) * sum(b.patient_amount) AS amount
    FROM adj AS a
    JOIN adj AS b
      ON b.claim_id = a.claim_id
     AND b.role_rank < a.role_rank
     AND b.status_code NOT IN ('19', '20', '21')
     AND b.payment_date <= a.payment_date
    WHERE a.role_rank > 1
    GROUP BY a.remit_claim_id, a.charge_amount
),
posted AS (
    SELECT
        a.claim_family_id,
        a.payment_date,
        a.primary_seq,
        a.billed_charge,
        a.paid_amount,
        a.contractual_amount,
        CASE WHEN a.status_code IN ('19', '20', '21') THEN 0 ELSE a.patient_amount END
            - coalesce(r.amount, 0) AS patient_net
    FROM adj AS a
    LEFT JOIN reopened AS r USING (remit_claim_id)
),
posted_days AS (
    SELECT payment_date, sum(paid_amount) AS paid, sum(contractual_amount) AS contractual, sum(patient_net) AS patient
    FROM posted
    GROUP BY ALL
),
charged AS (
    -- what was billed in the trailing 13 weeks (91 days) ending at the snapshot
    SELECT s.week_start, coalesce(sum(l.amount), 0) AS charges_13w
    FROM {{ ref('int_calendar_weeks') }} AS s
    LEFT JOIN ledger_days AS l
      ON l.event_date > s.snapshot_date - 91 AND l.event_date <= s.snapshot_date
    GROUP BY s.week_start
),
money AS (
    -- and what was posted in them
    SELECT
        s.week_start,
        c.charges_13w,
        coalesce(sum(p.paid), 0) AS payments_13w,
        coalesce(sum(p.contractual), 0) AS contractual_13w,
        coalesce(sum(p.patient), 0) AS patient_13w
    FROM {{ ref('int_calendar_weeks') }} AS s
    JOIN charged AS c USING (week_start)
    LEFT JOIN posted_days AS p
      ON p.payment_date > s.snapshot_date - 91 AND p.payment_date <= s.snapshot_date
    GROUP BY s.week_start, s.snapshot_date, c.charges_13w
),
-- Net collection rate (MGMA adjusted collection rate, AAFP net collection rate), with matched
-- periods: the claim families whose initial adjudication fell in the 13 weeks ending at the
-- snapshot, and what the payers posted on them up to the snapshot: payments / (charges -
-- contractual adjustments - patient share). Charges are the billed charge of the family's claim
-- that its latest primary adjudication (as of the snapshot) settled.
cohort AS (
    SELECT s.week_start, s.snapshot_date, o.claim_family_id
    FROM {{ ref('int_calendar_weeks') }} AS s
    JOIN {{ ref('int_claim_outcomes') }} AS o
      ON o.initial_adjudication_date > s.snapshot_date - 91 AND o.initial_adjudication_date <= s.snapshot_date
    WHERE o.is_matched AND coalesce(o.payer_type, '') <> 'self_pay'
),
cohort_money AS (
    SELECT
        c.week_start,
        c.claim_family_id,
        sum(p.paid_amount) AS paid,
        sum(p.contractual_amount) AS contractual,
        sum(p.patient_net) AS patient,
        max_by(p.billed_charge, p.primary_seq) FILTER (WHERE p.primary_seq IS NOT NULL) AS charge
    FROM cohort AS c
    JOIN posted AS p ON p.claim_family_id = c.claim_family_id AND p.payment_date <= c.snapshot_date
    GROUP BY c.week_start, c.claim_family_id
),
collections AS (
    SELECT week_start,
           count(*) AS ncr_claims,
           sum(charge) AS ncr_charges,
           sum(paid) AS ncr_payments,
           sum(contractual) AS ncr_contractual,
           sum(patient) AS ncr_patient
    FROM cohort_money
    GROUP BY week_start
)
SELECT
    c.week_start,
    c.iso_week,
    c.snapshot_date,
    c.is_complete,
    coalesce(d.claims_adjudicated, 0) AS claims_adjudicated,
    coalesce(d.claims_denied, 0) AS claims_denied,
    coalesce(d.charges_adjudicated, 0) AS charges_adjudicated,
    coalesce(d.charges_denied, 0) AS charges_denied,
    d.initial_denial_rate,
    d.initial_denial_rate_dollars,
    coalesce(d.denied_amount, 0) AS denied_amount,
    d.denied_dollar_rate,
    a.ar_balance,
    a.ar_over_90,
    a.ar_over_90_share,
    a.days_in_ar,
    a.window_days_used AS ar_window_days_used,
    a.window_full AS ar_window_full,
    c.history_start,
    m.payments_13w,
    m.charges_13w,
    m.contractual_13w,
    m.patient_13w,
    coalesce(n.ncr_claims, 0) AS ncr_claims,
    coalesce(n.ncr_charges, 0) AS ncr_charges,
    coalesce(n.ncr_payments, 0) AS ncr_payments,
    coalesce(n.ncr_contractual, 0) AS ncr_contractual,
    coalesce(n.ncr_patient, 0) AS ncr_patient,
    CAST(n.ncr_payments AS DOUBLE) / nullif(n.ncr_charges - n.ncr_contractual - n.ncr_patient, 0) AS net_collection_rate,
    c.history_days >= 91 AS ncr_window_full,
    91 AS ncr_window_days,
    greatest(0, least(91, c.history_days))::INTEGER AS ncr_window_days_used,
    coalesce(p.primary_remits, 0) AS primary_remits,
    coalesce(p.zero_paid_remits, 0) AS zero_paid_remits,
    p.zero_paid_remits / nullif(p.primary_remits, 0) AS primary_denial_rate,
    dw.denial_writeoffs_13w,
    CAST(dw.denial_writeoffs_13w AS DOUBLE) / nullif(m.charges_13w - m.contractual_13w, 0) AS final_denial_rate,
    d.overturn_rate,
    pd.avg_days_to_payment,
    rd.avg_days_to_resolution,
    coalesce(rd.denials_resolved, 0) AS denials_resolved
FROM {{ ref('int_calendar_weeks') }} AS c
LEFT JOIN denials AS d USING (week_start)
LEFT JOIN primary_remits AS p USING (week_start)
LEFT JOIN payment_days AS pd USING (week_start)
LEFT JOIN resolution_days AS rd USING (week_start)
LEFT JOIN denial_writeoffs AS dw USING (week_start)
LEFT JOIN {{ ref('mart_days_in_ar') }} AS a USING (week_start)
LEFT JOIN money AS m USING (week_start)
LEFT JOIN collections AS n USING (week_start)
ORDER BY c.week_start
