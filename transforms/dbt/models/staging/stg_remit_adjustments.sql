-- One row per adjustment (CAS reason/amount/quantity triple, claim or line level) of a kept adjudication.
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
-- A CSV export's lines and adjustments are files of their own: when a remittance claim's rows
-- arrive again in a later file (a resent export), the latest file's rows count (never both).
WITH superseded AS (
    SELECT remit_claim_id, file_id
    FROM (SELECT DISTINCT x.remit_claim_id, x.file_id, m.loaded_at, m.received_at, m.file_name
          FROM {{ scoped(source('raw', 'remit_adjustments'), 'remit_claim_id') }} AS x
          JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
          WHERE m.file_kind <> 'x12_835')
    QUALIFY row_number() OVER (PARTITION BY remit_claim_id ORDER BY loaded_at DESC, received_at DESC, file_name DESC, file_id DESC) > 1
)
SELECT
    a.file_id,
    a.source_row,
    a.triple_index,
    a.remit_claim_id,
    a.remit_line_id,
    a.adjustment_level,
    upper(a.group_code) AS group_code,
    upper(a.carc) AS carc,
    a.amount,
    a.quantity
FROM {{ scoped(source('raw', 'remit_adjustments'), 'remit_claim_id') }} AS a
WHERE a.remit_claim_id IN (SELECT remit_claim_id FROM {{ scoped(ref('stg_remit_claims'), 'remit_claim_id') }})
  AND NOT EXISTS (SELECT 1 FROM superseded AS s WHERE s.remit_claim_id = a.remit_claim_id AND s.file_id = a.file_id)
