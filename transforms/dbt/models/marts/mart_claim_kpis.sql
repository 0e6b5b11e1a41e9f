-- The claim-level KPIs, each defined here once (docs/metrics.md): one row per week, window
-- (window_weeks 1: the week; 13: the 13 weeks ending with it), dimension and member. Dimensions:
-- 'all' (every claim, member NULL), 'payer' (payer id; member_name its name), 'payer_type',
-- 'department', 'location', 'provider' (rendering NPI), 'category' and 'carc' (root cause and
-- group-CARC of the initial denial, 'none' if not denied), 'procedure'. A row counts the claim
-- families of marts.mart_claim_facts whose initial adjudication fell in its weeks:
--   initial_denial_rate         = claims_denied / claims_adjudicated           (HFMA task force)
--   initial_denial_rate_dollars = charges_denied / charges_adjudicated         (HFMA task force)
--   denied_dollar_rate          = denied_amount / charges_adjudicated          (HFMA, dollar basis)
--   overturn_rate               = claims_overturned / claims_denied            (HFMA task force)
-- A 13-week row adds up the weekly rows' parts (exact sums) and applies the same expressions.
-- mart_weekly_denial_rates (the payer rows) and mart_weekly_kpis (the 'all' rows) read these
-- rates, the weekly report reads its department and provider tables here, and
-- transforms/metrics.kpi_by sums the weekly parts for other week ranges.
WITH facts AS (
    SELECT f.*  -- the claims of the calendar's weeks (f.iso_week is the label of f.week_start)
    FROM {{ ref('mart_claim_facts') }} AS f
    JOIN {{ ref('int_calendar_weeks') }} AS c USING (week_start)
),
weekly AS (
    SELECT
        week_start,
        iso_week,
        CASE
            WHEN grouping(payer_id) = 0 THEN 'payer'
            WHEN grouping(payer_type) = 0 THEN 'payer_type'
            WHEN grouping(department) = 0 THEN 'department'
            WHEN grouping(location) = 0 THEN 'location'
            WHEN grouping(provider_npi) = 0 THEN 'provider'
            WHEN grouping(category) = 0 THEN 'category'
            WHEN grouping(reason) = 0 THEN 'carc'
            WHEN grouping(procedure_code) = 0 THEN 'procedure'
            ELSE 'all'
        END AS dimension,
        -- the grouped column: the others are NULL in a grouping set that leaves them out
        coalesce(payer_id, payer_type, department, location, provider_npi, category, reason, procedure_code) AS member,
        CASE WHEN grouping(payer_id) = 0 THEN any_value(payer_name)
             ELSE coalesce(payer_id, payer_type, department, location, provider_npi, category, reason, procedure_code)
        END AS member_name,
        count(*) AS claims_adjudicated,
        count(*) FILTER (WHERE initially_denied) AS claims_denied,
        count(*) FILTER (WHERE initially_fully_denied) AS claims_fully_denied,
        count(*) FILTER (WHERE initially_partially_denied) AS claims_partially_denied,
        count(*) FILTER (WHERE overturned) AS claims_overturned,
        sum(charge_amount) AS charges_adjudicated,
        coalesce(sum(charge_amount) FILTER (WHERE initially_denied), 0) AS charges_denied,
        coalesce(sum(initial_denied_amount), 0) AS denied_amount
    FROM facts
    GROUP BY GROUPING SETS (
        (week_start, iso_week),
        (week_start, iso_week, payer_id),
        (week_start, iso_week, payer_type),
        (week_start, iso_week, department),
        (week_start, iso_week, location),
        (week_start, iso_week, provider_npi),
        (week_start, iso_week, category),
        (week_start, iso_week, reason),
        (week_start, iso_week, procedure_code)
    )
),
windows AS (
    SELECT week_start, iso_week, 1 AS window_weeks, dimension, member, member_name, claims_adjudicated, claims_denied,
           claims_fully_denied, claims_partially_denied, claims_overturned, charges_adjudicated, charges_denied,
           denied_amount
    FROM weekly
    UNION ALL
    SELECT
        c.week_start,
        c.iso_week,
        13 AS window_weeks,
        w.dimension,
        w.member,
        any_value(w.member_name) AS member_name,
        sum(w.claims_adjudicated)::BIGINT,
        sum(w.claims_denied)::BIGINT,
        sum(w.claims_fully_denied)::BIGINT,
        sum(w.claims_partially_denied)::BIGINT,
        sum(w.claims_overturned)::BIGINT,
        sum(w.charges_adjudicated),
        sum(w.charges_denied),
        sum(w.denied_amount)
    FROM {{ ref('int_calendar_weeks') }} AS c
    JOIN weekly AS w ON w.week_start > c.week_start - 91 AND w.week_start <= c.week_start
    WHERE w.dimension IN ('all', 'payer', 'department', 'provider')
    GROUP BY c.week_start, c.iso_week, w.dimension, w.member
)
SELECT
    *,
    claims_denied / claims_adjudicated AS initial_denial_rate,
    CASE WHEN charges_adjudicated <> 0 THEN CAST(charges_denied AS DOUBLE) / charges_adjudicated END AS initial_denial_rate_dollars,
    CASE WHEN charges_adjudicated <> 0 THEN CAST(denied_amount AS DOUBLE) / charges_adjudicated END AS denied_dollar_rate,
    claims_overturned / nullif(claims_denied, 0) AS overturn_rate
FROM windows
ORDER BY week_start, window_weeks, dimension, member
