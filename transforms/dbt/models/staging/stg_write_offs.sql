-- One row per write-off posted by the provider.
-- incremental: claim_id
SELECT file_id, source_row, claim_id, writeoff_date, amount, reason, upper(carc) AS carc
FROM {{ source('raw', 'write_offs') }}
