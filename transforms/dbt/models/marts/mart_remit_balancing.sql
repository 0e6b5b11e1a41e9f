-- 835 balancing of the loaded remittances (DOMAIN.md), the data-quality report's "Does it
-- balance?": one row per check (check_order), with how many were checked, how many do not
-- balance and their net difference. Service lines (SVC02 - CAS = SVC03) and claims
-- (CLP03 - CAS = CLP04) add up intermediate.int_remit_balancing; 835 payments
-- (sum CLP04 - PLB = BPR02) are checked here from the raw tables, every payment as loaded
-- (resent copies too: it checks the files, not what counts).
WITH claims_paid AS (
    SELECT payment_id, sum(paid_amount) AS paid
    FROM {{ source('raw', 'remit_claims') }}
    GROUP BY payment_id
),
provider_adjusted AS (
    SELECT payment_id, sum(amount) AS amount
    FROM {{ source('raw', 'provider_adjustments') }}
    GROUP BY payment_id
),
payments AS (
    SELECT coalesce(c.paid, 0) - coalesce(a.amount, 0) - p.payment_amount AS diff
    FROM {{ source('raw', 'remit_payments') }} AS p
    LEFT JOIN claims_paid AS c USING (payment_id)
    LEFT JOIN provider_adjusted AS a USING (payment_id)
    WHERE p.source_format = '835'
)
SELECT 1 AS check_order, 'service lines (SVC02 - CAS = SVC03)' AS balancing_check,
       coalesce(sum(lines_checked), 0)::BIGINT AS checked, coalesce(sum(lines_unbalanced), 0)::BIGINT AS unbalanced,
       coalesce(sum(line_difference), 0) AS difference
FROM {{ ref('int_remit_balancing') }}
UNION ALL
SELECT 2, 'claims (CLP03 - CAS = CLP04)', coalesce(sum(claims_checked), 0)::BIGINT,
       coalesce(sum(claims_unbalanced), 0)::BIGINT, coalesce(sum(claim_difference), 0)
FROM {{ ref('int_remit_balancing') }}
UNION ALL
SELECT 3, '835 payments (sum CLP04 - PLB = BPR02)', count(*), count(*) FILTER (WHERE diff <> 0), coalesce(sum(diff), 0)
FROM payments
ORDER BY check_order
