-- Each claim's A/R balance at every weekly snapshot (week end, or the as-of date) at which it was
-- not zero, with its age. The balance is the running sum of intermediate.int_ar_ledger.
-- Age is counted from the first date of service (AAFP; setting aging_basis = 'service') or from
-- the first bill date (aging_basis = 'bill').
-- Built incrementally (macros/scoped_incremental.sql): the claims in scope at every snapshot, and
-- every other claim at the snapshots that changed (audit.changed_weeks, written by the pre_hook),
-- whose balances are carried from the last unchanged snapshot plus the ledger's later events
-- (the running sum over that equals the running sum over the whole ledger at every later snapshot).
{{ config(materialized=scoped_materialization(), unique_key='claim_id', incremental_strategy='scoped',
          scoped_calendar=true, pre_hook="{{ changed_weeks() }}") }}
{%- if is_incremental() %}
WITH bounds AS (
    SELECT (SELECT max(snapshot_date) FROM {{ this }}
            WHERE week_start NOT IN (SELECT week_start FROM audit.changed_weeks)) AS base_date,
           (SELECT min(snapshot_date) FROM {{ ref('int_calendar_weeks') }}
            WHERE week_start IN (SELECT week_start FROM audit.changed_weeks)) AS first_changed
),
carried AS (
    -- claims outside the scope: their balance at the last unchanged snapshot, then later events;
    -- the whole ledger when no unchanged snapshot comes before every changed one; nothing when no
    -- week changed
    SELECT t.claim_id, b.base_date AS event_date, t.balance AS amount
    FROM {{ this }} AS t, bounds AS b
    WHERE b.base_date < b.first_changed AND t.snapshot_date = b.base_date
      AND t.claim_id NOT IN (SELECT claim_id FROM audit.scope_claims)
    UNION ALL
    SELECT l.claim_id, l.event_date, l.amount
    FROM {{ ref('int_ar_ledger') }} AS l, bounds AS b
    WHERE b.first_changed IS NOT NULL
      AND (b.base_date IS NULL OR b.base_date >= b.first_changed OR l.event_date > b.base_date)
      AND l.claim_id NOT IN (SELECT claim_id FROM audit.scope_claims)
),
changed_calendar AS (
    SELECT * FROM {{ ref('int_calendar_weeks') }} WHERE week_start IN (SELECT week_start FROM audit.changed_weeks)
)
SELECT * FROM (
{{ ar_claim_balances_rows(scoped(ref('int_ar_ledger'), 'claim_id'), ref('int_calendar_weeks'), scoped(ref('stg_claims'), 'claim_id')) }}
) AS in_scope
UNION ALL
SELECT * FROM (
{{ ar_claim_balances_rows('carried', 'changed_calendar', ref('stg_claims')) }}
) AS changed_weeks
{%- else %}
{{ ar_claim_balances_rows(ref('int_ar_ledger'), ref('int_calendar_weeks'), ref('stg_claims')) }}
{%- endif %}
