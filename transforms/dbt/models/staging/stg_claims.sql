-- One row per claim_id: its latest submission, with the first submission date, the number of
-- submissions, and the claim family (the first claim of a chain of replacements linked by
-- original_claim_id), so that a resubmission and its original are counted as one claim.
{{ config(materialized=scoped_materialization(), unique_key='claim_id', incremental_strategy='scoped') }}
WITH latest AS (
    SELECT *
    FROM {{ scoped(ref('stg_claim_submissions'), 'claim_id') }}
    QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY submission_seq DESC) = 1
),
firsts AS (
    SELECT claim_id, min(submission_date) AS first_submission_date, count(*) AS n_submissions
    FROM {{ scoped(ref('stg_claim_submissions'), 'claim_id') }}
    GROUP BY claim_id
),
family AS (
    WITH RECURSIVE chain(claim_id, family_id, depth) AS (
        SELECT claim_id, claim_id, 0
        FROM latest
        WHERE original_claim_id IS NULL
           OR original_claim_id NOT IN (SELECT claim_id FROM latest)
        UNION ALL  -- each claim has one original: no row is reached twice (Spark has no UNION here)
        SELECT l.claim_id, ch.family_id, ch.depth + 1
        FROM latest AS l
        JOIN chain AS ch ON l.original_claim_id = ch.claim_id
        WHERE ch.depth < 50
    )
    SELECT claim_id, min(family_id) AS claim_family_id, max(depth) AS resubmission_depth
    FROM chain
    GROUP BY claim_id
),
-- NPI check digit: Luhn over '80840' || the first 9 digits (CMS NPI standard), once per NPI
npis AS (
    SELECT npi, {{ npi_ok('npi') }} AS ok
    FROM (SELECT billing_npi AS npi FROM latest UNION SELECT rendering_npi FROM latest)
    WHERE npi IS NOT NULL
)
SELECT
    {{ star_except('l', 'submission_seq') }},
    f.first_submission_date,
    f.n_submissions,
    coalesce(fa.claim_family_id, l.claim_id) AS claim_family_id,
    coalesce(fa.resubmission_depth, 0) AS resubmission_depth,
    l.frequency_code = '8' AS is_void,
    (l.billing_npi IS NULL OR nb.ok) AND (l.rendering_npi IS NULL OR nr.ok) AS npi_check_digit_ok
FROM latest AS l
JOIN firsts AS f USING (claim_id)
LEFT JOIN family AS fa USING (claim_id)
LEFT JOIN npis AS nb ON nb.npi = l.billing_npi
LEFT JOIN npis AS nr ON nr.npi = l.rendering_npi
