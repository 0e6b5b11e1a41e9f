-- Every adjustment of a kept adjudication, classified (DOMAIN.md "What counts as a denial"):
--   denial      : group CO, PI or OA with a CARC marked is_denial in ref.carc_categories
--                 (a CARC not in the table counts as a denial when the setting
--                 unmapped_carc_is_denial is true, and is reported as category 'unmapped');
--                 OA-23 (prior payer's adjudication) and group PR are never denials.
--   contractual : group CO, PI, OA or CR that is not a denial and not OA-23 (e.g. CO-45).
--   patient     : group PR (deductible, coinsurance, copay ...).
--   prior_payer : OA-23, the amount a prior payer already adjudicated.
-- The remark code (RARC) is the first LQ*HE code of the line, else the first claim-level code.
-- incremental: remit_claim_id
WITH a AS (
    SELECT
        adj.*,
        r.claim_id,
        r.payment_date,
        r.payer_id,
        r.status_code,
        coalesce(l.remark_codes, r.remark_codes) AS remark_codes,
        l.procedure_code
    FROM staging.stg_remit_adjustments AS adj
    JOIN staging.stg_remit_claims AS r USING (remit_claim_id)
    LEFT JOIN staging.stg_remit_lines AS l USING (remit_line_id)
)
SELECT
    a.*,
    nullif(split_part(a.remark_codes, ';', 1), '') AS rarc,
    coalesce(c.category, 'unmapped') AS category,
    c.carc IS NULL AS is_unmapped,
    coalesce(c.preventable, false) AS preventable,
    coalesce(c.owner, 'unassigned') AS owner,
    CASE
        WHEN a.group_code = 'PR' THEN 'patient'
        WHEN a.group_code = 'OA' AND a.carc = '23' THEN 'prior_payer'
        WHEN a.group_code IN ('CO', 'PI', 'OA')
             AND coalesce(c.is_denial, getvariable('unmapped_carc_is_denial')) THEN 'denial'
        ELSE 'contractual'
    END AS adjustment_class
FROM a
LEFT JOIN ref.carc_categories AS c ON c.carc = a.carc
