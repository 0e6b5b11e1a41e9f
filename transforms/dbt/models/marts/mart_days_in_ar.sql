-- Days in A/R at each weekly snapshot:
--   days_in_ar = A/R balance at the snapshot / (charges of the trailing N days / N)
-- N is the setting ar_window_days (AAFP: user-chosen, 90 by default; MGMA uses 365).
-- ar_basis = 'gross' (AAFP) divides by gross charges; 'net' (HFMA) by charges less the
-- contractual adjustments posted in the same window.
-- At the start of the history the window holds fewer than N days: the average daily charges are
-- taken over the days actually in the data (window_days_used = least(N, days since the first
-- activity)), and window_full says whether the figure has its whole window (reports flag it and
-- never compare it with a baseline until it has).
WITH ar AS (
    SELECT snapshot_date,
           sum(balance) AS ar_balance,
           coalesce(sum(balance) FILTER (WHERE age_days > 90), 0) AS ar_over_90
    FROM {{ ref('mart_ar_claim_balances') }}
    GROUP BY snapshot_date
),
ledger_days AS (
    -- the ledger summed per day and event type first (exact: DECIMAL sums), so that the window
    -- join below reads a few hundred rows per snapshot instead of every event in the window
    SELECT event_date, event_type, sum(amount) AS amount
    FROM {{ ref('int_ar_ledger') }}
    WHERE event_type IN ('charge', 'contractual')
    GROUP BY ALL
),
windowed AS (
    SELECT
        s.snapshot_date,
        coalesce(sum(l.amount) FILTER (WHERE l.event_type = 'charge'), 0) AS charges_in_window,
        coalesce(-sum(l.amount) FILTER (WHERE l.event_type = 'contractual'), 0) AS contractual_in_window
    FROM {{ ref('int_calendar_weeks') }} AS s
    CROSS JOIN {{ source('ref', 'settings') }} AS cfg
    LEFT JOIN ledger_days AS l
      ON l.event_date > s.snapshot_date - cfg.ar_window_days
     AND l.event_date <= s.snapshot_date
    GROUP BY s.snapshot_date
),
basis AS (
    -- the window's charges on the chosen basis, and the days they are averaged over
    SELECT
        s.snapshot_date,
        least(cfg.ar_window_days, s.history_days) AS days_used,
        CASE WHEN cfg.ar_basis = 'net' THEN w.charges_in_window - w.contractual_in_window
             ELSE w.charges_in_window END AS charges_on_basis
    FROM {{ ref('int_calendar_weeks') }} AS s
    CROSS JOIN {{ source('ref', 'settings') }} AS cfg
    JOIN windowed AS w USING (snapshot_date)
)
SELECT
    s.week_start,
    s.iso_week,
    s.snapshot_date,
    s.is_complete,
    coalesce(a.ar_balance, 0) AS ar_balance,
    coalesce(a.ar_over_90, 0) AS ar_over_90,
    CASE WHEN coalesce(a.ar_balance, 0) <> 0 THEN CAST(coalesce(a.ar_over_90, 0) AS DOUBLE) / a.ar_balance END AS ar_over_90_share,
    cfg.ar_window_days AS window_days,
    b.days_used::INTEGER AS window_days_used,
    s.history_days >= cfg.ar_window_days AS window_full,
    cfg.ar_basis,
    w.charges_in_window,
    w.contractual_in_window,
    CAST(b.charges_on_basis AS DOUBLE) / b.days_used AS average_daily_charges,
    -- the balance times the days over the charges, no rounded average in between
    CASE WHEN b.charges_on_basis > 0
         THEN CAST(coalesce(a.ar_balance, 0) * b.days_used AS DOUBLE) / b.charges_on_basis
    END AS days_in_ar
FROM {{ ref('int_calendar_weeks') }} AS s
CROSS JOIN {{ source('ref', 'settings') }} AS cfg
LEFT JOIN ar AS a USING (snapshot_date)
JOIN windowed AS w USING (snapshot_date)
JOIN basis AS b USING (snapshot_date)
ORDER BY s.week_start
