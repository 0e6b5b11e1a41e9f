-- One row per payment (835 transaction set / CSV trace number). A payment whose trace number
-- and payer arrived before in another file is a duplicate remittance: it is flagged, and its
-- claims are left out of everything downstream (the first copy loaded counts).
SELECT
    p.file_id,
    p.source_row,
    p.payment_id,
    p.source_format,
    p.x12_version,
    p.handling_code,
    p.payment_amount,
    p.payment_method,
    p.payment_date,
    p.trace_number,
    coalesce(p.payer_id, p.payer_name, 'unknown') AS payer_id,
    coalesce(p.payer_name, p.payer_id, 'unknown') AS payer_name,
    m.file_name,
    m.loaded_at,
    p.trace_number IS NOT NULL
        AND row_number() OVER (
            PARTITION BY p.trace_number, coalesce(p.payer_id, p.payer_name), p.payment_amount
            ORDER BY m.loaded_at, p.file_id, p.source_row
        ) > 1 AS is_duplicate
FROM raw.remit_payments AS p
JOIN audit.file_manifest AS m USING (file_id)
