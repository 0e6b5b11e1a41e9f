-- Initial denial rate by week and payer (HFMA Claim Integrity Task Force): claims whose initial
-- adjudication (first primary, non-reversal remittance of the claim family) fell in the week,
-- and of those the claims denied in full or in part. The payer rows of one week of
-- marts.mart_claim_kpis, where the counts and the rates are defined (docs/metrics.md):
--   denial_rate         = claims_denied / claims_adjudicated
--   denial_rate_dollars = charges_denied / charges_adjudicated (billed charges of those claims)
-- The denominator is claims adjudicated (not submitted): see docs/metrics.md.
SELECT
    week_start,
    iso_week,
    member AS payer_id,
    member_name AS payer_name,
    claims_adjudicated,
    claims_denied,
    claims_fully_denied,
    claims_partially_denied,
    charges_adjudicated,
    charges_denied,
    denied_amount,
    initial_denial_rate AS denial_rate,
    initial_denial_rate_dollars AS denial_rate_dollars
FROM {{ ref('mart_claim_kpis') }}
WHERE window_weeks = 1 AND dimension = 'payer'
ORDER BY week_start, payer_id
