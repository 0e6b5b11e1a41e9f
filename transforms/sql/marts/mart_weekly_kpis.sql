-- The weekly report's headline figures, one row per ISO week (docs/metrics.md defines each).
WITH denials AS (
    SELECT
        initial_adjudication_week AS week_start,
        count(*) AS claims_adjudicated,
        count(*) FILTER (WHERE initially_denied) AS claims_denied,
        sum(charge_amount) AS charges_adjudicated,
        coalesce(sum(charge_amount) FILTER (WHERE initially_denied), 0) AS charges_denied,
        count(*) FILTER (WHERE NOT initially_denied) AS claims_clean
    FROM intermediate.int_claim_outcomes
    GROUP BY ALL
),
primary_remits AS (
    -- HFMA task force primary denial rate: zero-paid remits / all remits, primary payers,
    -- duplicates (already left out in staging) and reversals excluded
    SELECT payment_week AS week_start,
           count(*) AS primary_remits,
           count(*) FILTER (WHERE paid_amount = 0) AS zero_paid_remits
    FROM intermediate.int_adjudications
    WHERE payer_role = 'primary' AND NOT is_reversal AND status_code NOT IN ('23', '25')
    GROUP BY ALL
),
overturns AS (
    -- cohort of the week's initial denials: how many were paid later (so far)
    SELECT initial_adjudication_week AS week_start,
           count(*) FILTER (WHERE initially_denied) AS denied_families,
           count(*) FILTER (WHERE overturned) AS overturned_families
    FROM intermediate.int_claim_outcomes
    GROUP BY ALL
),
payment_days AS (
    SELECT date_trunc('week', first_paid_date)::DATE AS week_start, avg(days_to_payment) AS avg_days_to_payment
    FROM intermediate.int_claim_outcomes
    WHERE first_paid_date IS NOT NULL
    GROUP BY ALL
),
resolution_days AS (
    SELECT date_trunc('week', resolution_date)::DATE AS week_start, avg(days_to_resolution) AS avg_days_to_resolution,
           count(*) AS denials_resolved
    FROM intermediate.int_claim_outcomes
    WHERE resolution_date IS NOT NULL
    GROUP BY ALL
),
-- the write-offs and the ledger are summed per day first (exact: DECIMAL sums), so that the
-- 13-week window joins below read a few hundred rows per week instead of every event
denial_writeoff_days AS (
    SELECT writeoff_date, sum(amount) AS amount
    FROM staging.stg_write_offs
    WHERE reason = 'denial'
    GROUP BY ALL
),
ledger_days AS (
    SELECT event_date, event_type, sum(amount) AS amount
    FROM intermediate.int_ar_ledger
    WHERE event_type IN ('payment', 'charge', 'contractual', 'patient_transfer', 'patient_reopen')
    GROUP BY ALL
),
denial_writeoffs AS (
    SELECT s.week_start, coalesce(sum(w.amount), 0) AS denial_writeoffs_13w
    FROM intermediate.int_calendar_weeks AS s
    LEFT JOIN denial_writeoff_days AS w
      ON w.writeoff_date > s.snapshot_date - 91 AND w.writeoff_date <= s.snapshot_date
    GROUP BY s.week_start
),
money AS (
    -- insurance net collection over the trailing 13 weeks (91 days) ending at the snapshot
    SELECT
        s.week_start,
        coalesce(sum(-l.amount) FILTER (WHERE l.event_type = 'payment'), 0) AS payments_13w,
        coalesce(sum(l.amount) FILTER (WHERE l.event_type = 'charge'), 0) AS charges_13w,
        coalesce(sum(-l.amount) FILTER (WHERE l.event_type = 'contractual'), 0) AS contractual_13w,
        coalesce(sum(-l.amount) FILTER (WHERE l.event_type IN ('patient_transfer', 'patient_reopen')), 0) AS patient_13w
    FROM intermediate.int_calendar_weeks AS s
    LEFT JOIN ledger_days AS l
      ON l.event_date > s.snapshot_date - 91 AND l.event_date <= s.snapshot_date
    GROUP BY s.week_start
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
    d.claims_denied / nullif(d.claims_adjudicated, 0) AS initial_denial_rate,
    d.charges_denied / nullif(d.charges_adjudicated, 0) AS initial_denial_rate_dollars,
    d.claims_clean / nullif(d.claims_adjudicated, 0) AS clean_claim_rate,
    a.ar_balance,
    a.ar_over_90,
    a.ar_over_90_share,
    a.days_in_ar,
    m.payments_13w,
    m.charges_13w,
    m.contractual_13w,
    m.patient_13w,
    m.payments_13w / nullif(m.charges_13w - m.contractual_13w - m.patient_13w, 0) AS net_collection_rate,
    coalesce(p.primary_remits, 0) AS primary_remits,
    coalesce(p.zero_paid_remits, 0) AS zero_paid_remits,
    p.zero_paid_remits / nullif(p.primary_remits, 0) AS primary_denial_rate,
    dw.denial_writeoffs_13w,
    dw.denial_writeoffs_13w / nullif(m.charges_13w - m.contractual_13w, 0) AS final_denial_rate,
    o.overturned_families / nullif(o.denied_families, 0) AS overturn_rate,
    pd.avg_days_to_payment,
    rd.avg_days_to_resolution,
    coalesce(rd.denials_resolved, 0) AS denials_resolved
FROM intermediate.int_calendar_weeks AS c
LEFT JOIN denials AS d USING (week_start)
LEFT JOIN primary_remits AS p USING (week_start)
LEFT JOIN overturns AS o USING (week_start)
LEFT JOIN payment_days AS pd USING (week_start)
LEFT JOIN resolution_days AS rd USING (week_start)
LEFT JOIN denial_writeoffs AS dw USING (week_start)
LEFT JOIN marts.mart_days_in_ar AS a USING (week_start)
LEFT JOIN money AS m USING (week_start)
ORDER BY c.week_start
