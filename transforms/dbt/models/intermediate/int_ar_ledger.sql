-- The accounts-receivable ledger: one row per event that moves a claim's insurance balance.
--   charge            + billed charge of a claim's first bill (frequency 1) at the bill date
--   rebill            + billed charge of a replacement (frequency 7, or a later version of the
--                       same claim id); voids (frequency 8) bill nothing. A rebill is not new
--                       revenue: days in A/R and collection rates count 'charge' only.
--   payment           - payer paid (CLP04) at the payment date; reversals (negative) add back
--   contractual       - non-denial CO/PI/OA/CR adjustments (e.g. CO-45) at the payment date
--   patient_transfer  - patient responsibility (PR) leaves insurance A/R, except when the payer
--                       forwarded the claim to the next payer (CLP02 19/20/21)
--   patient_reopen    + when a later payer (secondary, tertiary) adjudicates, the patient share
--                       transferred out by earlier payers comes back: the later payer works it
--   write_off         - provider write-offs (denial, bad debt, small balance ...)
--   replaced          - a replacement (7) or void (8) closes the balance of the claim it replaces;
--                       later remittance events of a claim replaced by another claim id (the
--                       payer reversing the old claim's payment) no longer move A/R: the
--                       replacement's own adjudication settles the account
-- Denied amounts are NOT ledger events: a denial leaves the balance open until it is paid on
-- appeal or written off. OA-23 (prior payer) moves nothing. Remittances that match no billed
-- claim are left out (they are counted in the unmatched reports). Self-pay claims are owed by
-- patients, not payers: they are not insurance A/R.
{{ config(materialized=scoped_materialization(), unique_key='claim_id', incremental_strategy='scoped') }}
WITH subs AS (
    SELECT * FROM {{ scoped(ref('stg_claim_submissions'), 'claim_id') }}
    WHERE claim_id NOT IN (SELECT claim_id FROM {{ scoped(ref('stg_claims'), 'claim_id') }} WHERE payer_type = 'self_pay')
),
adj AS (
    SELECT *,
        CASE payer_role WHEN 'primary' THEN 1 WHEN 'secondary' THEN 2 ELSE 3 END AS role_rank
    FROM {{ scoped(ref('int_adjudications'), 'remit_claim_id') }}
    WHERE is_matched AND claim_id IN (SELECT claim_id FROM subs)
),
base AS (
    SELECT claim_id, submission_date AS event_date,
           CASE WHEN frequency_code = '1' AND original_claim_id IS NULL AND submission_seq = 1
                THEN 'charge' ELSE 'rebill' END AS event_type,
           total_charge AS amount, file_id, source_row
    FROM subs WHERE frequency_code <> '8'
    UNION ALL
    SELECT claim_id, payment_date, 'payment', -paid_amount, file_id, source_row
    FROM adj WHERE paid_amount <> 0
    UNION ALL
    SELECT claim_id, payment_date, 'contractual', -contractual_amount, file_id, source_row
    FROM adj WHERE contractual_amount <> 0
    UNION ALL
    SELECT claim_id, payment_date, 'patient_transfer', -patient_amount, file_id, source_row
    FROM adj WHERE patient_amount <> 0 AND status_code NOT IN ('19', '20', '21')
    UNION ALL
    SELECT a.claim_id, a.payment_date, 'patient_reopen',  -- the sign as an integer: Spark's sign() is a DOUBLE
           (CASE WHEN a.charge_amount > 0 THEN 1 WHEN a.charge_amount < 0 THEN -1 ELSE 0 END) * sum(b.patient_amount), a.file_id, a.source_row
    FROM adj AS a
    JOIN adj AS b
      ON b.claim_id = a.claim_id
     AND b.role_rank < a.role_rank
     AND b.status_code NOT IN ('19', '20', '21')
     AND b.payment_date <= a.payment_date
    WHERE a.role_rank > 1
    GROUP BY a.claim_id, a.payment_date, a.file_id, a.source_row, a.charge_amount
    HAVING sum(b.patient_amount) <> 0
    UNION ALL
    SELECT w.claim_id, w.writeoff_date, 'write_off', -w.amount, w.file_id, w.source_row
    FROM {{ scoped(ref('stg_write_offs'), 'claim_id') }} AS w
    WHERE w.claim_id IN (SELECT claim_id FROM subs)
),
replacements AS (
    SELECT
        s.claim_id AS replacing_claim_id,
        coalesce(s.original_claim_id, s.claim_id) AS target_claim_id,
        s.submission_date,
        s.submission_seq,
        s.file_id,
        s.source_row,
        lag(s.submission_date) OVER (
            PARTITION BY coalesce(s.original_claim_id, s.claim_id) ORDER BY s.submission_date, s.loaded_at, s.source_row
        ) AS previous_replacement_date
    FROM subs AS s
    WHERE s.frequency_code IN ('7', '8') AND (s.original_claim_id IS NOT NULL OR s.submission_seq > 1)
),
-- the version a replacement replaces: the target claim's latest other submission up to it
replaced_version AS (
    SELECT r.file_id, r.source_row, p.total_charge, p.frequency_code,
           row_number() OVER (PARTITION BY r.file_id, r.source_row
                              ORDER BY p.submission_date DESC, p.submission_seq DESC, p.loaded_at DESC, p.source_row DESC) AS k
    FROM replacements AS r
    JOIN subs AS p
      ON p.claim_id = r.target_claim_id
     AND NOT (p.file_id = r.file_id AND p.source_row = r.source_row)
     AND p.submission_date <= r.submission_date
     AND (p.claim_id <> r.replacing_claim_id OR p.submission_seq < r.submission_seq)
),
-- the target claim's non-billing events since the previous replacement, up to this one
replaced_events AS (
    SELECT r.file_id, r.source_row, sum(b.amount) AS amount
    FROM replacements AS r
    JOIN base AS b
      ON b.claim_id = r.target_claim_id
     AND b.event_type NOT IN ('charge', 'rebill')
     AND b.event_date <= r.submission_date
     AND (r.previous_replacement_date IS NULL OR b.event_date > r.previous_replacement_date)
    GROUP BY r.file_id, r.source_row
),
-- the balance a replacement closes: the replaced version's charge (nothing for a void) and the
-- events since (joins, not correlated subqueries: Spark runs those row by row)
replaced_balance AS (
    SELECT
        r.target_claim_id AS claim_id,
        r.submission_date AS event_date,
        -(coalesce(v.total_charge, 0) * CASE WHEN v.frequency_code = '8' THEN 0 ELSE 1 END
          + coalesce(e.amount, 0)) AS amount,
        r.file_id,
        r.source_row
    FROM replacements AS r
    LEFT JOIN replaced_version AS v ON v.file_id = r.file_id AND v.source_row = r.source_row AND v.k = 1
    LEFT JOIN replaced_events AS e ON e.file_id = r.file_id AND e.source_row = r.source_row
),
-- the events of a claim after another claim id first replaced it are dropped (the earliest such
-- replacement: an event after it is after at least one; one join instead of a NOT EXISTS per event)
first_replaced AS (
    SELECT target_claim_id, min(submission_date) AS replaced_date
    FROM replacements
    WHERE replacing_claim_id <> target_claim_id
    GROUP BY target_claim_id
)
-- per-row money as DECIMAL(18,2) (docs/data-formats.md): a wider DECIMAL(38,2), the type of a
-- sum, is stored as 128-bit integers that DuckDB scans about 30 times slower
SELECT b.claim_id, b.event_date, b.event_type, b.amount::DECIMAL(18,2) AS amount, b.file_id, b.source_row
FROM base AS b
LEFT JOIN first_replaced AS f ON f.target_claim_id = b.claim_id
WHERE f.replaced_date IS NULL OR b.event_date IS NULL OR b.event_date <= f.replaced_date
UNION ALL
SELECT claim_id, event_date, 'replaced', amount::DECIMAL(18,2), file_id, source_row FROM replaced_balance WHERE amount <> 0
