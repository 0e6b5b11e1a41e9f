-- One row per adjudicated service line (835 SVC / CSV remittance line) of a kept adjudication.
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
-- A CSV export's lines and adjustments are files of their own: when a remittance claim's rows
-- arrive again in a later file (a resent export), the latest file's rows count (never both).
WITH superseded AS (
    SELECT remit_claim_id, file_id
    FROM (SELECT DISTINCT x.remit_claim_id, x.file_id, m.loaded_at, m.received_at, m.file_name
          FROM {{ scoped(source('raw', 'remit_lines'), 'remit_claim_id') }} AS x
          JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
          WHERE m.file_kind <> 'x12_835')
    QUALIFY row_number() OVER (PARTITION BY remit_claim_id ORDER BY loaded_at DESC, received_at DESC, file_name DESC, file_id DESC) > 1
)
SELECT
    l.file_id,
    l.source_row,
    l.remit_claim_id,
    l.remit_line_id,
    l.line_number,
    l.procedure_code,
    l.modifiers,
    l.charge_amount,
    l.paid_amount,
    l.units,
    l.service_date,
    l.line_control_number,
    l.allowed_amount,
    l.remark_codes
FROM {{ scoped(source('raw', 'remit_lines'), 'remit_claim_id') }} AS l
WHERE l.remit_claim_id IN (SELECT remit_claim_id FROM {{ scoped(ref('stg_remit_claims'), 'remit_claim_id') }})
  AND NOT EXISTS (SELECT 1 FROM superseded AS s WHERE s.remit_claim_id = l.remit_claim_id AND s.file_id = l.file_id)
