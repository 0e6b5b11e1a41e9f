-- One row per claim submission: every version of every claim as billed (canonical CSV, 837P, 837I).
-- submission_seq orders the versions of one claim_id (1 = first sent).
-- original_claim_id: the CSV's. An 837 replacement or void (frequency 7/8) names the claim it
-- corrects by the payer's claim number (REF*F8 = CLP07 of that claim's adjudication), kept as
-- original_payer_claim_number; it is resolved to the claim id (CLP01) of the remittance claims
-- carrying that CLP07 from the claim's payer, else from any payer, when they name exactly one
-- claim id (otherwise it stays unresolved: NULL).
{{ config(materialized=scoped_materialization(), unique_key='claim_id', incremental_strategy='scoped') }}
WITH remits AS (
    -- raw, not staging.stg_remit_claims: a duplicate remittance names the same claims
    SELECT p.payer_id, r.payer_claim_number, r.claim_id
    FROM {{ source('raw', 'remit_claims') }} AS r
    JOIN {{ source('raw', 'remit_payments') }} AS p USING (payment_id)
    WHERE r.payer_claim_number IS NOT NULL
      -- only the claim numbers some claim here names (the scope's claims, in an incremental build)
      AND r.payer_claim_number IN (SELECT original_payer_claim_number FROM {{ scoped(source('raw', 'claims'), 'claim_id') }})
),
by_pcn AS (
    SELECT payer_id, payer_claim_number, min(claim_id) AS claim_id, count(DISTINCT claim_id) AS n_claims
    FROM remits
    GROUP BY payer_id, payer_claim_number
),
by_pcn_any AS (
    SELECT payer_claim_number, min(claim_id) AS claim_id
    FROM remits
    GROUP BY payer_claim_number
    HAVING count(DISTINCT claim_id) = 1
),
resolved AS (
    SELECT
        c.file_id,
        c.source_row,
        CASE WHEN p.claim_id IS NOT NULL THEN CASE WHEN p.n_claims = 1 THEN p.claim_id END ELSE a.claim_id END AS claim_id
    FROM {{ scoped(source('raw', 'claims'), 'claim_id') }} AS c
    LEFT JOIN by_pcn AS p ON p.payer_id = c.payer_id AND p.payer_claim_number = c.original_payer_claim_number
    LEFT JOIN by_pcn_any AS a ON a.payer_claim_number = c.original_payer_claim_number
    WHERE c.original_payer_claim_number IS NOT NULL AND c.original_claim_id IS NULL AND c.frequency_code IN ('7', '8')
)
SELECT
    c.file_id,
    c.source_row,
    c.source_format,
    c.claim_id,
    c.claim_type,
    c.frequency_code,
    nullif(coalesce(c.original_claim_id, r.claim_id), c.claim_id) AS original_claim_id,
    c.original_payer_claim_number,
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
FROM {{ scoped(source('raw', 'claims'), 'claim_id') }} AS c
JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
LEFT JOIN resolved AS r USING (file_id, source_row)
