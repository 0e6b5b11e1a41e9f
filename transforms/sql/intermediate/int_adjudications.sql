-- One row per claim adjudication (kept remittance claim), matched to its billed claim and placed
-- in order. payer_role follows CLP02 (1/19 primary, 2/20 secondary, 3/21 tertiary); for 4, 22,
-- 23 and 25 it is the billed claim's payer sequence when the payer is the billed payer.
-- The initial adjudication of a claim family is its first primary, non-reversal adjudication.
-- Matching: CLP01 = the billed claim id; when CLP01 matches no billed claim, the REF*6R line
-- control numbers of its lines (= the billed lines' REF*6R), then the payer claim number (CLP07)
-- of an earlier adjudication that did match. match_method says which; unmatched ones are kept.
-- (An 837 replacement's REF*F8 names the CLP07 of the claim it replaces: stg_claim_submissions
-- uses it to link the two claims into one family; it gives no further remittance match.)
-- incremental: remit_claim_id
WITH by_line AS (
    SELECT l.remit_claim_id, min(b.claim_id) AS claim_id
    FROM staging.stg_remit_lines AS l
    JOIN staging.stg_claim_lines AS b ON b.line_control_number = l.line_control_number
    WHERE l.line_control_number IS NOT NULL
    GROUP BY l.remit_claim_id
),
by_pcn AS (
    SELECT payer_id, payer_claim_number, min(claim_id) AS claim_id
    FROM staging.stg_remit_claims
    WHERE payer_claim_number IS NOT NULL AND claim_id IN (SELECT claim_id FROM staging.stg_claims)
    GROUP BY payer_id, payer_claim_number
),
remits AS (
    SELECT
        r.* EXCLUDE (claim_id),
        r.claim_id AS clp01,
        CASE
            WHEN r.claim_id IN (SELECT claim_id FROM staging.stg_claims) THEN r.claim_id
            ELSE coalesce(bl.claim_id, bp.claim_id, r.claim_id)
        END AS claim_id,
        CASE
            WHEN r.claim_id IN (SELECT claim_id FROM staging.stg_claims) THEN 'claim_id'
            WHEN bl.claim_id IS NOT NULL THEN 'line_control_number'
            WHEN bp.claim_id IS NOT NULL THEN 'payer_claim_number'
            ELSE 'unmatched'
        END AS match_method
    FROM staging.stg_remit_claims AS r
    LEFT JOIN by_line AS bl USING (remit_claim_id)
    LEFT JOIN by_pcn AS bp ON bp.payer_id = r.payer_id AND bp.payer_claim_number = r.payer_claim_number
),
adj AS (
    SELECT
        remit_claim_id,
        sum(amount) FILTER (WHERE adjustment_class = 'denial') AS denied_amount,
        count(*) FILTER (WHERE adjustment_class = 'denial') AS n_denial_adjustments,
        count(DISTINCT remit_line_id) FILTER (WHERE adjustment_class = 'denial') AS n_denied_lines,
        sum(amount) FILTER (WHERE adjustment_class = 'contractual') AS contractual_amount,
        sum(amount) FILTER (WHERE adjustment_class = 'patient') AS patient_amount,
        sum(amount) FILTER (WHERE adjustment_class = 'prior_payer') AS prior_payer_amount,
        sum(amount) AS adjustment_amount
    FROM intermediate.int_adjustments
    GROUP BY remit_claim_id
),
matched AS (
    SELECT
        r.*,
        c.claim_id IS NOT NULL AS is_matched,
        coalesce(c.claim_family_id, r.claim_id) AS claim_family_id,
        c.payer_id AS billed_payer_id,
        c.total_charge AS billed_charge,
        c.department,
        c.location,
        c.rendering_npi,
        c.payer_type,
        c.service_from,
        c.first_submission_date,
        CASE
            WHEN r.status_code IN ('1', '19') THEN 'primary'
            WHEN r.status_code IN ('2', '20') THEN 'secondary'
            WHEN r.status_code IN ('3', '21') THEN 'tertiary'
            WHEN c.claim_id IS NULL OR c.payer_id IS NULL OR c.payer_id = r.payer_id THEN
                CASE coalesce(c.payer_sequence, 'P') WHEN 'S' THEN 'secondary' WHEN 'T' THEN 'tertiary' ELSE 'primary' END
            ELSE 'secondary'
        END AS payer_role,
        r.status_code = '22' AS is_reversal,
        coalesce(a.denied_amount, 0)::DECIMAL(18,2) AS denied_amount,
        coalesce(a.n_denial_adjustments, 0) AS n_denial_adjustments,
        coalesce(a.n_denied_lines, 0) AS n_denied_lines,
        coalesce(a.contractual_amount, 0)::DECIMAL(18,2) AS contractual_amount,
        coalesce(a.patient_amount, 0)::DECIMAL(18,2) AS patient_amount,
        coalesce(a.prior_payer_amount, 0)::DECIMAL(18,2) AS prior_payer_amount,
        coalesce(a.adjustment_amount, 0)::DECIMAL(18,2) AS adjustment_amount
    FROM remits AS r
    LEFT JOIN staging.stg_claims AS c USING (claim_id)
    LEFT JOIN adj AS a USING (remit_claim_id)
)
SELECT
    m.*,
    NOT m.is_reversal AND m.status_code NOT IN ('23', '25')
        AND (m.n_denial_adjustments > 0 OR m.status_code = '4') AS is_denied,
    NOT m.is_reversal AND m.status_code NOT IN ('23', '25')
        AND (m.n_denial_adjustments > 0 OR m.status_code = '4') AND m.paid_amount = 0 AS is_full_denial,
    -- the order of this claim family's primary, non-reversal adjudications (NULL for the others)
    CASE WHEN m.payer_role = 'primary' AND NOT m.is_reversal AND m.status_code NOT IN ('23', '25') THEN
        row_number() OVER (
            PARTITION BY m.claim_family_id,
                         (m.payer_role = 'primary' AND NOT m.is_reversal AND m.status_code NOT IN ('23', '25'))
            ORDER BY m.payment_date, m.loaded_at, m.file_id, m.source_row
        )
    END AS primary_seq,
    date_trunc('week', m.payment_date)::DATE AS payment_week,
    -- 835 claim balancing (DOMAIN.md): CLP03 - all CAS of the claim = CLP04
    m.charge_amount - m.adjustment_amount = m.paid_amount AS is_balanced
FROM matched AS m
