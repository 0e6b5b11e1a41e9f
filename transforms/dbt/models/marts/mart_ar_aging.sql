-- A/R aging by snapshot, payer and bucket (HFMA MAP Key AR-1 / AR-2 by payer): the balance and
-- the number of claims in each bucket of 0-30, 31-60, 61-90, 91-120 and over 120 days.
SELECT
    b.snapshot_date,
    b.week_start,
    b.payer_id,
    any_value(b.payer_name) AS payer_name,
    b.aging_bucket,
    CASE b.aging_bucket WHEN '0-30' THEN 1 WHEN '31-60' THEN 2 WHEN '61-90' THEN 3 WHEN '91-120' THEN 4 ELSE 5 END AS bucket_order,
    count(*) AS claims,
    sum(b.balance) AS ar_balance
FROM {{ ref('mart_ar_claim_balances') }} AS b
GROUP BY ALL
ORDER BY snapshot_date, payer_id, bucket_order
