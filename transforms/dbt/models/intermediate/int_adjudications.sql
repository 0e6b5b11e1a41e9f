-- One row per claim adjudication (kept remittance claim), matched to its billed claim and placed
-- in order. payer_role follows CLP02 (1/19 primary, 2/20 secondary, 3/21 tertiary); for 4, 22,
-- 23 and 25 it is the billed claim's payer sequence when the payer is the billed payer.
-- The initial adjudication of a claim family is its first primary, non-reversal adjudication.
-- One adjudication can span several rows (docs/x12.md "Repeated CLP01"): the CLP loops of one
-- payment with the same claim and no reversal (CLP02=22) between them are one adjudication of
-- that claim (a payer's split claim), identified by adjudication_id (its first remit_claim_id);
-- every row keeps its own dollars. A CLP01 that matches no billed claim and repeats in one
-- payment with different payer claim numbers (CLP07), without a split remark (MA15), is taken
-- as different claims that share a patient control number: claim_id becomes CLP01 + ' #' + CLP07
-- (int_remit_findings reports it as ambiguous).
-- Matching: CLP01 = the billed claim id; when CLP01 matches no billed claim, the REF*6R line
-- control numbers of its lines (= the billed lines' REF*6R), then the payer claim number (CLP07)
-- of an earlier adjudication that did match. match_method says which; unmatched ones are kept.
-- (An 837 replacement's REF*F8 names the CLP07 of the claim it replaces: stg_claim_submissions
-- uses it to link the two claims into one family; it gives no further remittance match.)
{{ config(materialized=scoped_materialization(), unique_key='remit_claim_id', incremental_strategy='scoped') }}
WITH by_line AS (
    SELECT l.remit_claim_id, min(b.claim_id) AS claim_id
    FROM {{ scoped(ref('stg_remit_lines'), 'remit_claim_id') }} AS l
    JOIN {{ scoped(ref('stg_claim_lines'), 'claim_id') }} AS b ON b.line_control_number = l.line_control_number
    WHERE l.line_control_number IS NOT NULL
    GROUP BY l.remit_claim_id
),
by_pcn AS (
    SELECT payer_id, payer_claim_number, min(claim_id) AS claim_id
    FROM {{ scoped(ref('stg_remit_claims'), 'remit_claim_id') }}
    WHERE payer_claim_number IS NOT NULL AND claim_id IN (SELECT claim_id FROM {{ scoped(ref('stg_claims'), 'claim_id') }})
    GROUP BY payer_id, payer_claim_number
),
matched0 AS (
    SELECT
        {{ star_except('r', 'claim_id') }},
        r.claim_id AS clp01,
        CASE
            WHEN r.claim_id IN (SELECT claim_id FROM {{ scoped(ref('stg_claims'), 'claim_id') }}) THEN r.claim_id
            ELSE coalesce(bl.claim_id, bp.claim_id, r.claim_id)
        END AS claim_id,
        CASE
            WHEN r.claim_id IN (SELECT claim_id FROM {{ scoped(ref('stg_claims'), 'claim_id') }}) THEN 'claim_id'
            WHEN bl.claim_id IS NOT NULL THEN 'line_control_number'
            WHEN bp.claim_id IS NOT NULL THEN 'payer_claim_number'
            ELSE 'unmatched'
        END AS match_method,
        r.status_code = '22' AS is_reversal
    FROM {{ scoped(ref('stg_remit_claims'), 'remit_claim_id') }} AS r
    LEFT JOIN by_line AS bl USING (remit_claim_id)
    LEFT JOIN by_pcn AS bp ON bp.payer_id = r.payer_id AND bp.payer_claim_number = r.payer_claim_number
),
remits AS (
    SELECT
        {{ star_except('m', 'claim_id') }},
        CASE
            WHEN m.match_method = 'unmatched' AND NOT m.is_reversal AND m.payer_claim_number IS NOT NULL
                 AND min(m.payer_claim_number) FILTER (WHERE NOT m.is_reversal) OVER w
                     <> max(m.payer_claim_number) FILTER (WHERE NOT m.is_reversal) OVER w
                 AND NOT bool_or(coalesce(m.remark_codes, '') LIKE '%MA15%') OVER w
            THEN m.clp01 || ' #' || m.payer_claim_number
            ELSE m.claim_id
        END AS claim_id
    FROM matched0 AS m
    WINDOW w AS (PARTITION BY m.payment_id, m.clp01)
),
units AS (
    -- reversals before each row among the rows of its payment and claim: a reversal ends an
    -- adjudication, so a reversal and its correction in one payment are two adjudications
    SELECT
        r.*,
        coalesce(count(*) FILTER (WHERE r.is_reversal) OVER (
            PARTITION BY r.payment_id, r.claim_id ORDER BY r.source_row
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS reversals_before
    FROM remits AS r
),
remit_units AS (
    SELECT
        {{ star_except('u', 'reversals_before') }},
        first_value(u.remit_claim_id) OVER (
            PARTITION BY u.payment_id, u.claim_id, u.is_reversal, CASE WHEN u.is_reversal THEN u.remit_claim_id END,
                         u.reversals_before
            ORDER BY u.source_row) AS adjudication_id,
        min(u.source_row) OVER (
            PARTITION BY u.payment_id, u.claim_id, u.is_reversal, CASE WHEN u.is_reversal THEN u.remit_claim_id END,
                         u.reversals_before) AS adjudication_row,
        count(*) OVER (
            PARTITION BY u.payment_id, u.claim_id, u.is_reversal, CASE WHEN u.is_reversal THEN u.remit_claim_id END,
                         u.reversals_before) AS adjudication_parts
    FROM units AS u
),
adj AS (
    SELECT
        remit_claim_id,
        sum(amount) FILTER (WHERE is_denial) AS denial_adjustment_amount,
        count(*) FILTER (WHERE is_denial) AS n_denial_adjustments,
        count(DISTINCT remit_line_id) FILTER (WHERE is_denial) AS n_denied_lines,
        sum(amount) FILTER (WHERE adjustment_class = 'contractual') AS contractual_amount,
        sum(amount) FILTER (WHERE adjustment_class = 'patient') AS patient_amount,
        sum(amount) FILTER (WHERE adjustment_class = 'prior_payer') AS prior_payer_amount,
        sum(amount) AS adjustment_amount
    FROM {{ scoped(ref('int_adjustments'), 'remit_claim_id') }}
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
        coalesce(a.denial_adjustment_amount, 0)::DECIMAL(18,2) AS denial_adjustment_amount,
        -- a CLP02=4 claim is denied whatever its CAS say: the unpaid charge its denial CARCs do
        -- not explain is denied too, as 'payer_denied_unspecified' (int_denial_events)
        CASE WHEN r.status_code = '4' AND NOT r.is_reversal
             THEN greatest(r.charge_amount - r.paid_amount - coalesce(a.denial_adjustment_amount, 0), 0)
             ELSE 0 END::DECIMAL(18,2) AS unspecified_denied_amount,
        coalesce(a.n_denial_adjustments, 0) AS n_denial_adjustments,
        coalesce(a.n_denied_lines, 0) AS n_denied_lines,
        coalesce(a.contractual_amount, 0)::DECIMAL(18,2) AS contractual_amount,
        coalesce(a.patient_amount, 0)::DECIMAL(18,2) AS patient_amount,
        coalesce(a.prior_payer_amount, 0)::DECIMAL(18,2) AS prior_payer_amount,
        coalesce(a.adjustment_amount, 0)::DECIMAL(18,2) AS adjustment_amount
    FROM remit_units AS r
    LEFT JOIN {{ scoped(ref('stg_claims'), 'claim_id') }} AS c USING (claim_id)
    LEFT JOIN adj AS a USING (remit_claim_id)
),
denial_flags AS (
    SELECT
        m.*,
        (m.denial_adjustment_amount + m.unspecified_denied_amount)::DECIMAL(18,2) AS denied_amount,
        NOT m.is_reversal AND m.status_code NOT IN ('23', '25')
            AND (m.n_denial_adjustments > 0 OR m.status_code = '4') AS row_denied,
        m.payer_role = 'primary' AND NOT m.is_reversal AND m.status_code NOT IN ('23', '25') AS is_primary_adjudication
    FROM matched AS m
)
SELECT
    {{ star_except('m', 'row_denied') }},
    -- denied in full or in part: any row of the adjudication; in full: nothing paid on any row
    bool_or(m.row_denied) OVER u AS is_denied,
    bool_or(m.row_denied) OVER u AND sum(m.paid_amount) OVER u = 0 AS is_full_denial,
    -- the order of this claim family's primary, non-reversal adjudications (NULL for the others);
    -- the rows of one adjudication share it
    CASE WHEN m.is_primary_adjudication THEN
        dense_rank() OVER (
            PARTITION BY m.claim_family_id, m.is_primary_adjudication
            ORDER BY m.payment_date, m.loaded_at, m.file_id, m.adjudication_row, m.adjudication_id
        )
    END AS primary_seq,
    date_trunc('week', m.payment_date)::DATE AS payment_week,
    -- 835 claim balancing (DOMAIN.md): CLP03 - all CAS of the claim = CLP04
    m.charge_amount - m.adjustment_amount = m.paid_amount AS is_balanced
FROM denial_flags AS m
WINDOW u AS (PARTITION BY m.adjudication_id)
