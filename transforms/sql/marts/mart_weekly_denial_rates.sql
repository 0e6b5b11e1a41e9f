-- Initial denial rate by week and payer (HFMA Claim Integrity Task Force): claims whose initial
-- adjudication (first primary, non-reversal remittance of the claim family) fell in the week,
-- and of those the claims denied in full or in part.
--   denial_rate         = claims_denied / claims_adjudicated
--   denial_rate_dollars = charges_denied / charges_adjudicated (billed charges of those claims)
-- The denominator is claims adjudicated (not submitted): see docs/metrics.md.
SELECT
    o.initial_adjudication_week AS week_start,
    c.iso_week,
    o.payer_id,
    any_value(o.payer_name) AS payer_name,
    count(*) AS claims_adjudicated,
    count(*) FILTER (WHERE o.initially_denied) AS claims_denied,
    count(*) FILTER (WHERE o.initially_fully_denied) AS claims_fully_denied,
    count(*) FILTER (WHERE o.initially_partially_denied) AS claims_partially_denied,
    sum(o.charge_amount) AS charges_adjudicated,
    coalesce(sum(o.charge_amount) FILTER (WHERE o.initially_denied), 0) AS charges_denied,
    coalesce(sum(o.initial_denied_amount), 0) AS denied_amount,
    count(*) FILTER (WHERE o.initially_denied) / count(*) AS denial_rate,
    CASE WHEN sum(o.charge_amount) <> 0 THEN
        coalesce(sum(o.charge_amount) FILTER (WHERE o.initially_denied), 0) / sum(o.charge_amount)
    END AS denial_rate_dollars
FROM intermediate.int_claim_outcomes AS o
JOIN intermediate.int_calendar_weeks AS c ON c.week_start = o.initial_adjudication_week
GROUP BY o.initial_adjudication_week, c.iso_week, o.payer_id
ORDER BY week_start, payer_id
