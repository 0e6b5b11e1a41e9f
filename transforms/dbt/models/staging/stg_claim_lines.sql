-- One row per billed service line of each claim's latest submission. For 837 files the lines
-- are those of the CLM segment they follow; for CSV exports, those of the latest loaded lines
-- file that has lines for the claim.
{{ config(materialized=scoped_materialization(), unique_key='claim_id', incremental_strategy='scoped') }}
WITH ranked AS (
    SELECT
        l.*,
        m.loaded_at,
        dense_rank() OVER (PARTITION BY l.claim_id ORDER BY m.loaded_at DESC, l.file_id DESC) AS file_rank
    FROM {{ scoped(source('raw', 'claim_lines'), 'claim_id') }} AS l
    JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
),
claim_version AS (
    SELECT claim_id, file_id, source_row FROM {{ scoped(ref('stg_claims'), 'claim_id') }}
)
SELECT
    r.file_id,
    r.source_row,
    r.claim_id,
    r.line_number,
    r.procedure_code,
    r.modifiers,
    r.revenue_code,
    coalesce(r.units, 1) AS units,
    r.line_charge,
    r.service_date,
    r.place_of_service,
    r.line_control_number
FROM ranked AS r
LEFT JOIN claim_version AS v ON v.claim_id = r.claim_id
WHERE (r.claim_source_row IS NOT NULL AND r.file_id = v.file_id AND r.claim_source_row = v.source_row)
   OR (r.claim_source_row IS NULL AND r.file_rank = 1)
QUALIFY row_number() OVER (PARTITION BY r.claim_id, r.line_number ORDER BY r.source_row DESC) = 1
