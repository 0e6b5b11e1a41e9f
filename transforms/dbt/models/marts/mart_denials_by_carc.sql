-- Denials by CARC (and group code), week and payer: the codes behind each root-cause category.
SELECT
    e.denial_week AS week_start,
    e.payer_id,
    e.group_code,
    e.carc,
    -- group-CARC as the reports show it; 'CLP02=4' for a denial no CARC explains
    coalesce(e.group_code || '-' || e.carc, 'CLP02=4') AS reason,
    e.category,
    e.kind,
    count(DISTINCT e.adjudication_id) AS claims_denied,
    count(*) AS denial_adjustments,
    sum(e.denied_amount) AS denied_amount
FROM {{ ref('int_denial_events') }} AS e
GROUP BY ALL
ORDER BY week_start, payer_id, carc
