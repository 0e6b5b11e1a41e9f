-- Denied claims to work, as of the as-of date: claim families whose latest primary adjudication
-- is a denial, that are not paid since, not written off, and still carry an A/R balance.
-- The appeal deadline is the denial date plus the payer's appeal window (ref.payer_settings,
-- else the setting default_appeal_window_days). Ranked: first the claims whose deadline is
-- near (14 days or less), then 15-30 days, then the rest, expired last; within each, by dollars.
-- An adjudication of several CLP loops (a split claim) is one row, its charge and denied dollars
-- summed.
WITH latest_denial AS (
    SELECT {{ star_except('a', 'charge_amount, denied_amount') }},
        sum(a.charge_amount) OVER (PARTITION BY a.adjudication_id) AS charge_amount,
        sum(a.denied_amount) OVER (PARTITION BY a.adjudication_id) AS denied_amount
    FROM {{ ref('int_adjudications') }} AS a
    WHERE primary_seq IS NOT NULL
    QUALIFY primary_seq = max(primary_seq) OVER (PARTITION BY claim_family_id) AND remit_claim_id = adjudication_id
),
open_denials AS (
    SELECT d.*
    FROM latest_denial AS d
    WHERE d.is_denied
),
top_reason AS (
    SELECT adjudication_id, category, carc, group_code, rarc, owner, preventable
    FROM {{ ref('int_denial_events') }}
    QUALIFY row_number() OVER (PARTITION BY adjudication_id ORDER BY denied_amount DESC, carc NULLS LAST, remit_claim_id, triple_index) = 1
),
balances AS (
    SELECT claim_id, balance
    FROM {{ ref('mart_ar_claim_balances') }}
    WHERE snapshot_date = (SELECT max(snapshot_date) FROM {{ ref('int_calendar_weeks') }})
),
as_of AS (SELECT max(as_of_date) AS as_of_date FROM {{ ref('int_calendar_weeks') }}),
worklist AS (
    SELECT
        d.claim_id,
        d.claim_family_id,
        d.payer_id,
        d.payer_name,
        coalesce(d.department, 'unassigned') AS department,
        coalesce(d.location, 'unassigned') AS location,
        d.service_from,
        d.payment_date AS denial_date,
        d.primary_seq AS adjudication_number,
        CASE WHEN d.primary_seq = 1 THEN 'initial' ELSE 'repeat' END AS denial_kind,
        d.is_full_denial,
        t.category,
        CASE WHEN t.category = 'payer_denied_unspecified' THEN 'CLP02=4' ELSE t.group_code || '-' || t.carc END AS reason,
        t.rarc,
        t.owner,
        t.preventable,
        d.charge_amount,
        d.denied_amount,
        b.balance AS open_balance,
        coalesce(ps.appeal_window_days, (SELECT default_appeal_window_days FROM {{ source('ref', 'settings') }})) AS appeal_window_days,
        (d.payment_date + coalesce(ps.appeal_window_days, (SELECT default_appeal_window_days FROM {{ source('ref', 'settings') }})))::DATE AS appeal_deadline,
        {{ days_between('a.as_of_date', "(d.payment_date + coalesce(ps.appeal_window_days, (SELECT default_appeal_window_days FROM " ~ source('ref', 'settings') ~ ")))::DATE") }} AS days_left,
        a.as_of_date
    FROM open_denials AS d
    CROSS JOIN as_of AS a
    JOIN balances AS b ON b.claim_id = d.claim_id
    LEFT JOIN top_reason AS t USING (adjudication_id)
    LEFT JOIN {{ source('ref', 'payer_settings') }} AS ps ON ps.payer_id = d.payer_id
    WHERE b.balance > 0
      AND d.claim_family_id NOT IN (SELECT claim_family_id FROM {{ ref('int_claim_outcomes') }} WHERE written_off > 0)
)
SELECT
    row_number() OVER (
        ORDER BY CASE WHEN days_left < 0 THEN 4 WHEN days_left <= 14 THEN 1 WHEN days_left <= 30 THEN 2 ELSE 3 END,
                 open_balance DESC, claim_id
    ) AS priority,
    *
FROM worklist
ORDER BY priority
