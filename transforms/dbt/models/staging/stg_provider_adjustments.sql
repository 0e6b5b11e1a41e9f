-- One row per provider-level adjustment (PLB reason/amount pair) of a payment not superseded by a later file.
SELECT
    a.file_id,
    a.source_row,
    a.pair_index,
    a.payment_id,
    a.provider_id,
    a.fiscal_period_date,
    a.reason_code,
    a.reference_id,
    a.amount,
    p.payment_date,
    p.payer_id
FROM {{ source('raw', 'provider_adjustments') }} AS a
JOIN {{ ref('stg_remit_payments') }} AS p ON p.payment_id = a.payment_id AND p.file_id = a.file_id
WHERE NOT p.is_duplicate
