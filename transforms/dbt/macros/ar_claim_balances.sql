{#- The rows of marts.mart_ar_claim_balances from a ledger (claim_id, event_date, amount), a
    calendar of weekly snapshots and the claims: each claim's balance (the running sum of its
    ledger) at every snapshot at which it was not zero, with its age. -#}
{% macro ar_claim_balances_rows(ledger, calendar, claims) -%}
{%- set aged_from = "CASE WHEN cfg.aging_basis = 'bill' THEN c.first_submission_date ELSE c.service_from END" %}
WITH ev AS (
    SELECT claim_id, event_date, sum(amount) AS amount
    FROM {{ ledger }} AS l
    GROUP BY claim_id, event_date
),
running AS (
    SELECT
        claim_id,
        event_date AS valid_from,
        lead(event_date) OVER (PARTITION BY claim_id ORDER BY event_date) AS valid_to,
        sum(amount) OVER (PARTITION BY claim_id ORDER BY event_date
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance
    FROM ev
)
SELECT
    s.snapshot_date,
    s.week_start,
    r.claim_id,
    c.claim_family_id,
    c.payer_id,
    c.payer_name,
    c.payer_type,
    c.department,
    c.location,
    r.balance::DECIMAL(18,2) AS balance,  -- DECIMAL(18,2): scanned far faster than a sum's DECIMAL(38,2)
    {{ days_between(aged_from, 's.snapshot_date') }} AS age_days,
    CASE
        WHEN {{ days_between(aged_from, 's.snapshot_date') }} <= 30 THEN '0-30'
        WHEN {{ days_between(aged_from, 's.snapshot_date') }} <= 60 THEN '31-60'
        WHEN {{ days_between(aged_from, 's.snapshot_date') }} <= 90 THEN '61-90'
        WHEN {{ days_between(aged_from, 's.snapshot_date') }} <= 120 THEN '91-120'
        ELSE '120+'
    END AS aging_bucket
FROM running AS r
JOIN {{ calendar }} AS s
  ON s.snapshot_date >= r.valid_from AND s.snapshot_date < coalesce(r.valid_to, DATE '9999-12-31')  -- two inequalities: an IEJoin
JOIN {{ claims }} AS c USING (claim_id)
CROSS JOIN {{ source('ref', 'settings') }} AS cfg
WHERE r.balance <> 0
{%- endmacro %}
