-- Denials by root cause: one row per week, payer, department, category and kind (initial or
-- repeat). A claim is counted once per category and adjudication however many lines or CARCs of
-- that category it had; dollars are the denial adjustments' amounts (never counted twice: the
-- same dollars are never at claim and at line level).
SELECT
    e.denial_week AS week_start,
    c.iso_week,
    e.payer_id,
    any_value(e.payer_name) AS payer_name,
    e.department,
    e.location,
    e.category,
    bool_or(e.preventable) AS preventable,
    any_value(e.owner) AS owner,
    e.kind,
    count(DISTINCT e.adjudication_id) AS claims_denied,
    count(*) AS denial_adjustments,
    sum(e.denied_amount) AS denied_amount
FROM {{ ref('int_denial_events') }} AS e
JOIN {{ ref('int_calendar_weeks') }} AS c ON c.week_start = e.denial_week
GROUP BY e.denial_week, c.iso_week, e.payer_id, e.department, e.location, e.category, e.kind
ORDER BY week_start, payer_id, category
