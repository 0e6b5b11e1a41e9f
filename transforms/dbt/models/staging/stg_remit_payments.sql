-- One row per payment (835 transaction set / CSV trace number), every payment of every loaded file.
-- Resent ERAs (docs/x12.md "Resent and corrected ERAs"): a payment is identified by its payer and
-- trace number (TRN02). When a later file (loaded later) carries the same payer and trace number,
-- it is the same payment sent again (a resend or a correction): the latest file's copy counts and
-- the earlier copies are superseded (is_duplicate, superseded_by_file_id), never added twice.
-- Within one file a trace number may repeat (several transactions of one check, or a de-identified
-- export): those payments all count, and int_remit_findings reports them.
WITH p AS (
    SELECT
        p.*,
        coalesce(p.payer_id, p.payer_name, 'unknown') AS payer_key,
        m.file_name,
        m.loaded_at,
        m.received_at
    FROM {{ source('raw', 'remit_payments') }} AS p
    JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
),
ranked AS (
    SELECT
        p.*,
        CASE WHEN p.trace_number IS NOT NULL THEN
            last_value(p.file_id) OVER (
                PARTITION BY p.trace_number, p.payer_key
                ORDER BY p.interchange_created NULLS FIRST, p.loaded_at, p.received_at, p.file_name, p.file_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        END AS latest_file_id,
        CASE WHEN p.trace_number IS NOT NULL THEN
            count(*) OVER (PARTITION BY p.trace_number, p.payer_key, p.file_id)
        ELSE 1 END AS copies_in_file
    FROM p
)
SELECT
    r.file_id,
    r.source_row,
    r.payment_id,
    r.source_format,
    r.x12_version,
    r.handling_code,
    r.payment_amount,
    r.payment_method,
    r.payment_date,
    r.trace_number,
    coalesce(r.payer_id, r.payer_name, 'unknown') AS payer_id,
    coalesce(r.payer_name, r.payer_id, 'unknown') AS payer_name,
    r.file_name,
    r.loaded_at,
    r.received_at,
    r.interchange_created,
    coalesce(r.file_id <> r.latest_file_id, false) AS is_duplicate,
    CASE WHEN r.file_id <> r.latest_file_id THEN r.latest_file_id END AS superseded_by_file_id,
    r.copies_in_file
FROM ranked AS r
