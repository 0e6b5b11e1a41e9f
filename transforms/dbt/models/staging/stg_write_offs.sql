-- One row per write-off posted by the provider.
{{ config(materialized=scoped_materialization(), unique_key='claim_id', incremental_strategy='scoped') }}
SELECT file_id, source_row, claim_id, writeoff_date, amount, reason, upper(carc) AS carc
FROM {{ scoped(source('raw', 'write_offs'), 'claim_id') }}
