-- The weekly report's headline tiles: one row per week and figure (tile_order 1-6: the initial
-- denial rates in claims and dollars, denied dollars over charges, days in A/R, A/R over 90 days,
-- the net collection rate), each as marts.mart_weekly_kpis defines it, with its trailing window
-- (window_full false: the window reaches before the start of the history, window_days_used of
-- window_days) and two baselines: the week before, and the mean of the 13 weeks before (the week
-- itself not counted). A baseline is NULL ("no baseline yet" on the page) when fewer weeks come
-- before, when one of them has no figure, or when the week's or a baseline week's window is
-- partial; change_* = value - baseline.
WITH k AS (
    SELECT k.*, d.window_days AS ar_window_days
    FROM {{ ref('mart_weekly_kpis') }} AS k
    LEFT JOIN {{ ref('mart_days_in_ar') }} AS d USING (week_start)
),
figures AS (
    SELECT week_start, iso_week, 1 AS tile_order, 'initial_denial_rate' AS kpi, initial_denial_rate AS value,
           NULL::BOOLEAN AS window_full, NULL::INTEGER AS window_days_used, NULL::INTEGER AS window_days
    FROM k
    UNION ALL
    SELECT week_start, iso_week, 2, 'initial_denial_rate_dollars', initial_denial_rate_dollars, NULL, NULL, NULL FROM k
    UNION ALL
    SELECT week_start, iso_week, 3, 'denied_dollar_rate', denied_dollar_rate, NULL, NULL, NULL FROM k
    UNION ALL
    SELECT week_start, iso_week, 4, 'days_in_ar', days_in_ar, ar_window_full, ar_window_days_used, ar_window_days FROM k
    UNION ALL
    SELECT week_start, iso_week, 5, 'ar_over_90_share', ar_over_90_share, NULL, NULL, NULL FROM k
    UNION ALL
    SELECT week_start, iso_week, 6, 'net_collection_rate', net_collection_rate, ncr_window_full, ncr_window_days_used,
           ncr_window_days
    FROM k
),
history AS (
    SELECT
        *,
        count(*) OVER last_week AS weeks_1,
        count(value) OVER last_week AS figures_1,
        sum(CASE WHEN window_full = false THEN 1 ELSE 0 END) OVER last_week AS partial_1,
        avg(value) OVER last_week AS mean_1,
        count(*) OVER last_13 AS weeks_13,
        count(value) OVER last_13 AS figures_13,
        sum(CASE WHEN window_full = false THEN 1 ELSE 0 END) OVER last_13 AS partial_13,
        avg(value) OVER last_13 AS mean_13
    FROM figures
    WINDOW last_week AS (PARTITION BY kpi ORDER BY week_start ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING),
           last_13 AS (PARTITION BY kpi ORDER BY week_start ROWS BETWEEN 13 PRECEDING AND 1 PRECEDING)
),
baselines AS (
    SELECT
        week_start, iso_week, tile_order, kpi, value, window_full, window_days_used, window_days,
        CASE WHEN weeks_1 = 1 AND figures_1 = 1 AND partial_1 = 0 AND window_full IS DISTINCT FROM false
             THEN mean_1 END AS baseline_last_week,
        CASE WHEN weeks_13 = 13 AND figures_13 = 13 AND partial_13 = 0 AND window_full IS DISTINCT FROM false
             THEN mean_13 END AS baseline_13_weeks
    FROM history
)
SELECT
    *,
    value - baseline_last_week AS change_last_week,
    value - baseline_13_weeks AS change_13_weeks
FROM baselines
ORDER BY week_start, tile_order
