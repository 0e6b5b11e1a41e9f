-- Every adjustment of a kept adjudication, classified (DOMAIN.md "What counts as a denial").
-- The CARC decides whether an adjustment is a denial, not the group (docs/metrics.md):
--   is_denial   : the CARC is marked is_denial in ref.carc_categories, in ANY group (CO, PI, OA,
--                 CR, and PR: PR-27/31/32/96/204 ... are the payer refusing coverage and shifting
--                 the bill to the patient, an eligibility or benefit denial). OA-23 (prior payer)
--                 never is; cost sharing (PR-1/2/3 ...) is marked is_denial=false in the table.
--                 A CARC not in the table is a denial in group CO, PI, OA or CR when the setting
--                 unmapped_carc_is_denial is true (category 'unmapped', a data-quality warning);
--                 an unmapped PR code is patient responsibility.
-- adjustment_class says where the money goes (the A/R ledger and the collection rate use it):
--   patient     : group PR (cost sharing, and coverage denials billed to the patient: they leave
--                 insurance A/R like any patient share, and are counted as denials by is_denial)
--   prior_payer : OA-23, the amount a prior payer already adjudicated
--   denial      : a denial in any other group (stays in A/R until paid, corrected or written off)
--   contractual : everything else (e.g. CO-45, CO-253)
-- The remark code (RARC) is the first LQ*HE code of the line, else the first claim-level code.
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
WITH a AS (
    SELECT
        adj.*,
        r.claim_id,
        r.payment_date,
        r.payer_id,
        r.status_code,
        coalesce(l.remark_codes, r.remark_codes) AS remark_codes,
        l.procedure_code
    FROM {{ scoped(ref('stg_remit_adjustments'), 'remit_claim_id') }} AS adj
    JOIN {{ scoped(ref('stg_remit_claims'), 'remit_claim_id') }} AS r USING (remit_claim_id)
    LEFT JOIN {{ scoped(ref('stg_remit_lines'), 'remit_claim_id') }} AS l USING (remit_line_id)
)
SELECT
    a.*,
    nullif(split_part(a.remark_codes, ';', 1), '') AS rarc,
    coalesce(c.category, 'unmapped') AS category,
    c.carc IS NULL AS is_unmapped,
    coalesce(c.preventable, false) AS preventable,
    coalesce(c.owner, 'unassigned') AS owner,
    CASE
        WHEN a.group_code = 'OA' AND a.carc = '23' THEN false
        WHEN c.carc IS NOT NULL THEN c.is_denial
        WHEN a.group_code = 'PR' THEN false
        ELSE (SELECT unmapped_carc_is_denial FROM {{ source('ref', 'settings') }})
    END AS is_denial,
    CASE
        WHEN a.group_code = 'PR' THEN 'patient'
        WHEN a.group_code = 'OA' AND a.carc = '23' THEN 'prior_payer'
        WHEN coalesce(c.is_denial, (SELECT unmapped_carc_is_denial FROM {{ source('ref', 'settings') }})) THEN 'denial'
        ELSE 'contractual'
    END AS adjustment_class
FROM a
LEFT JOIN {{ source('ref', 'carc_categories') }} AS c ON c.carc = a.carc
