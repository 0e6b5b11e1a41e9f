-- What the remittance rules decided that an auditor must be able to see (docs/x12.md), one row
-- per finding, each naming its file: no dollar is left out or combined without a row here.
--   superseded_payment      warning  a payment (payer + trace number) sent again in a later file:
--                                    the later file's copy counts, this one is left out
--   repeated_trace_in_file  warning  one file holds several payments with the same payer and trace
--                                    number: all of them count (not taken as duplicates)
--   split_claim             info     several CLP loops of one payment for one billed claim: one
--                                    adjudication, their amounts summed
--   ambiguous_clp01         warning  a CLP01 that matches no billed claim repeats in one payment
--                                    with different payer claim numbers: taken as different claims
--   denied_without_carc     info     CLP02=4 whose adjustments carry no denial CARC: denied, its
--                                    unpaid charge categorised 'payer_denied_unspecified'
-- Claim ids, trace numbers, payer ids and amounts only: no patient data. A CSV remittance has no
-- payment total (amount NULL): its messages say so instead of coming out empty.
WITH pay AS (
    SELECT * FROM {{ ref('stg_remit_payments') }}
),
superseded AS (
    SELECT
        'superseded_payment' AS code,
        'warning' AS severity,
        p.file_id,
        p.file_name,
        p.payment_id,
        p.payer_id,
        p.trace_number,
        NULL AS claim_id,
        p.payment_amount AS amount,
        n.file_name AS related_file_name,
        'payment ' || p.trace_number || ' from ' || p.payer_id || ' (' || coalesce(p.payment_amount::STRING, 'no total in the file')
            || ') was sent again in ' || n.file_name || ' (' || coalesce((
                SELECT {{ string_agg_ordered("coalesce(q.payment_amount::STRING, 'no total in the file')", "' + '", "q.source_row") }} FROM pay AS q
                WHERE q.file_id = p.superseded_by_file_id AND q.trace_number = p.trace_number
                  AND q.payer_id = p.payer_id), '?')
            || '): the later file counts, this copy is left out' AS message
    FROM pay AS p
    JOIN {{ source('audit', 'file_manifest') }} AS n ON n.file_id = p.superseded_by_file_id
    WHERE p.is_duplicate
),
repeated AS (
    SELECT
        'repeated_trace_in_file', 'warning', p.file_id, any_value(p.file_name), NULL, p.payer_id, p.trace_number,
        NULL, sum(p.payment_amount), NULL,
        count(*)::STRING || ' payments with trace number ' || p.trace_number || ' from ' || p.payer_id
            || ' in one file (transactions at rows ' || {{ string_agg_ordered("p.source_row::STRING", "', '", "p.source_row") }}
            || '): each counts as a payment of its own'
    FROM pay AS p
    WHERE p.copies_in_file > 1
    GROUP BY p.file_id, p.payer_id, p.trace_number
),
parts AS (
    SELECT a.*, m.file_name
    FROM {{ ref('int_adjudications') }} AS a
    JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
    WHERE a.adjudication_parts > 1
),
split AS (
    SELECT
        'split_claim', 'info', any_value(file_id), any_value(file_name), payment_id, any_value(payer_id),
        any_value(trace_number), claim_id, sum(charge_amount), NULL,
        count(*)::STRING || ' claim payments (CLP at rows ' || {{ string_agg_ordered("source_row::STRING", "', '", "source_row") }}
            || ') for claim ' || claim_id || ' in one payment: one adjudication, charge ' || sum(charge_amount)::STRING
            || ', paid ' || sum(paid_amount)::STRING
    FROM parts
    GROUP BY payment_id, claim_id, adjudication_id
),
ambiguous AS (
    SELECT
        'ambiguous_clp01', 'warning', any_value(a.file_id), any_value(m.file_name), a.payment_id, any_value(a.payer_id),
        any_value(a.trace_number), a.clp01, sum(a.charge_amount), NULL,
        'CLP01 ' || a.clp01 || ' matches no billed claim and repeats ' || count(*)::STRING
            || ' times in one payment with different payer claim numbers (CLP07 '
            || {{ string_agg_ordered("a.payer_claim_number", "', '", "a.payer_claim_number", distinct=true) }}
            || '): counted as ' || count(DISTINCT a.claim_id)::STRING || ' different claims'
    FROM {{ ref('int_adjudications') }} AS a
    JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
    WHERE a.claim_id <> a.clp01 AND a.match_method = 'unmatched'
    GROUP BY a.payment_id, a.clp01
),
unspecified AS (
    SELECT
        'denied_without_carc', 'info', a.file_id, m.file_name, a.payment_id, a.payer_id, a.trace_number,
        a.claim_id, a.unspecified_denied_amount, NULL,
        'CLP02=4 for claim ' || a.claim_id || ' (CLP at row ' || a.source_row::STRING
            || ') carries no denial CARC for ' || a.unspecified_denied_amount::STRING
            || ' of its unpaid charge: counted as denied, reason payer_denied_unspecified'
    FROM {{ ref('int_adjudications') }} AS a
    JOIN {{ source('audit', 'file_manifest') }} AS m USING (file_id)
    WHERE a.status_code = '4' AND NOT a.is_reversal
      AND (a.unspecified_denied_amount > 0 OR a.n_denial_adjustments = 0)
)
SELECT * FROM superseded
UNION ALL SELECT * FROM repeated
UNION ALL SELECT * FROM split
UNION ALL SELECT * FROM ambiguous
UNION ALL SELECT * FROM unspecified
