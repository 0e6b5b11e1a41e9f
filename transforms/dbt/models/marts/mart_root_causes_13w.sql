-- Initial denials of the 13 weeks ending with each week, by root cause: the rows of the weekly
-- report's root-cause charts and tables, one row per week and
--   view 'category':       root-cause category (the Pareto chart and its table);
--   view 'payer_category': payer and category (the payer by root-cause heatmap);
--   view 'reason':         group-CARC and category (the reason-code table).
-- claims_denied and denied_amount add up mart_denials_by_category and mart_denials_by_carc
-- (kind 'initial'), which define them (a claim once per category and adjudication; the denial
-- adjustments' dollars), over the 13 weeks: the claims behind a row are the rows of
-- marts.mart_denied_claims of the same weeks and slice. rank orders a view by denied dollars
-- (ties by reason, category, payer); cumulative_share is the Pareto line (view 'category').
WITH by_category AS (
    SELECT
        c.week_start,
        c.iso_week,
        CASE WHEN grouping(d.payer_id) = 0 THEN 'payer_category' ELSE 'category' END AS view,
        d.payer_id,
        CASE WHEN grouping(d.payer_id) = 0 THEN any_value(d.payer_name) END AS payer_name,
        d.category,
        NULL AS reason,
        sum(d.claims_denied)::BIGINT AS claims_denied,
        sum(d.denied_amount) AS denied_amount,
        bool_or(d.preventable) AS preventable,
        min(d.owner) AS owner
    FROM {{ ref('int_calendar_weeks') }} AS c
    JOIN {{ ref('mart_denials_by_category') }} AS d
      ON d.kind = 'initial' AND d.week_start > c.week_start - 91 AND d.week_start <= c.week_start
    GROUP BY GROUPING SETS ((c.week_start, c.iso_week, d.category), (c.week_start, c.iso_week, d.payer_id, d.category))
),
by_reason AS (
    SELECT
        c.week_start,
        c.iso_week,
        'reason' AS view,
        NULL AS payer_id,
        NULL AS payer_name,
        d.category,
        d.reason,
        sum(d.claims_denied)::BIGINT AS claims_denied,
        sum(d.denied_amount) AS denied_amount,
        NULL::BOOLEAN AS preventable,
        NULL AS owner
    FROM {{ ref('int_calendar_weeks') }} AS c
    JOIN {{ ref('mart_denials_by_carc') }} AS d
      ON d.kind = 'initial' AND d.week_start > c.week_start - 91 AND d.week_start <= c.week_start
    GROUP BY c.week_start, c.iso_week, d.reason, d.category
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY week_start, view
                           ORDER BY denied_amount DESC, reason NULLS FIRST, category, payer_id NULLS FIRST) AS rank
    FROM (SELECT * FROM by_category UNION ALL SELECT * FROM by_reason) AS u
)
SELECT
    *,
    CASE WHEN view = 'category' THEN
        CASE WHEN sum(denied_amount) OVER (PARTITION BY week_start, view) = 0 THEN 0.0
             ELSE CAST(sum(denied_amount) OVER (PARTITION BY week_start, view ORDER BY rank ROWS UNBOUNDED PRECEDING) AS DOUBLE)
                  / sum(denied_amount) OVER (PARTITION BY week_start, view)
        END
    END AS cumulative_share
FROM ranked
ORDER BY week_start, view, rank
