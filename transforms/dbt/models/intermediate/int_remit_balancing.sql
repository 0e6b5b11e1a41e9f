-- 835 balancing of the loaded remittances (DOMAIN.md), one row per remittance claim id in the raw
-- tables (duplicates included: it checks what was loaded): its service lines checked
-- (SVC02 - line CAS = SVC03), how many do not balance and their net difference, and the same for
-- the claim (CLP03 - all CAS = CLP04). The data-quality report's "Does it balance?" sums it.
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
WITH line AS (
    SELECT l.remit_claim_id, l.charge_amount - coalesce(sum(a.amount), 0) - l.paid_amount AS diff
    FROM {{ scoped(source('raw', 'remit_lines'), 'remit_claim_id') }} AS l
    LEFT JOIN {{ scoped(source('raw', 'remit_adjustments'), 'remit_claim_id') }} AS a USING (remit_line_id)
    GROUP BY l.remit_claim_id, l.remit_line_id, l.charge_amount, l.paid_amount
),
clm AS (
    SELECT c.remit_claim_id, c.charge_amount - coalesce(sum(a.amount), 0) - c.paid_amount AS diff
    FROM {{ scoped(source('raw', 'remit_claims'), 'remit_claim_id') }} AS c
    LEFT JOIN {{ scoped(source('raw', 'remit_adjustments'), 'remit_claim_id') }} AS a USING (remit_claim_id)
    GROUP BY c.remit_claim_id, c.charge_amount, c.paid_amount
),
by_line AS (
    SELECT remit_claim_id, count(*) AS lines_checked, count(*) FILTER (WHERE diff <> 0) AS lines_unbalanced,
           sum(diff) AS line_difference
    FROM line
    GROUP BY remit_claim_id
),
by_claim AS (
    SELECT remit_claim_id, count(*) AS claims_checked, count(*) FILTER (WHERE diff <> 0) AS claims_unbalanced,
           sum(diff) AS claim_difference
    FROM clm
    GROUP BY remit_claim_id
)
SELECT
    remit_claim_id,
    coalesce(l.lines_checked, 0) AS lines_checked,
    coalesce(l.lines_unbalanced, 0) AS lines_unbalanced,
    coalesce(l.line_difference, 0)::DECIMAL(18,2) AS line_difference,
    coalesce(c.claims_checked, 0) AS claims_checked,
    coalesce(c.claims_unbalanced, 0) AS claims_unbalanced,
    coalesce(c.claim_difference, 0)::DECIMAL(18,2) AS claim_difference
FROM by_line AS l
FULL OUTER JOIN by_claim AS c USING (remit_claim_id)
