-- One row per claim submission: every version of every claim as billed (canonical CSV, 837P, 837I).
-- submission_seq orders the versions of one claim_id (1 = first sent).
-- incremental: claim_id
SELECT
    c.file_id,
    c.source_row,
    c.source_format,
    c.claim_id,
    c.claim_type,
    c.frequency_code,
    nullif(c.original_claim_id, c.claim_id) AS original_claim_id,
    c.submission_date,
    c.service_from,
    coalesce(c.service_to, c.service_from) AS service_to,
    c.total_charge,
    c.payer_id,
    c.payer_name,
    coalesce(c.payer_type, 'unknown') AS payer_type,
    coalesce(c.payer_sequence, 'P') AS payer_sequence,
    c.billing_npi,
    c.rendering_npi,
    coalesce(c.department, 'unassigned') AS department,
    coalesce(c.location, 'unassigned') AS location,
    c.place_of_service,
    c.prior_auth_number,
    c.principal_diagnosis,
    c.member_id_hash,
    m.loaded_at,
    row_number() OVER (
        PARTITION BY c.claim_id
        ORDER BY c.submission_date, m.loaded_at, c.file_id, c.source_row
    ) AS submission_seq
FROM raw.claims AS c
JOIN audit.file_manifest AS m USING (file_id)
