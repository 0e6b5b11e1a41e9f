-- The reporting calendar: one row per ISO week (Monday to Sunday) from the first activity in the
-- warehouse to the as-of date (setting as_of_date, else the latest bill, payment or write-off date).
-- snapshot_date is the week's last day, or the as-of date for the current week; history_start is
-- the first activity date (a trailing KPI window is full once it lies wholly after it).
WITH bounds AS (
    SELECT
        coalesce((SELECT as_of_date FROM {{ source('ref', 'settings') }}),
                 greatest((SELECT max(submission_date) FROM {{ ref('stg_claim_submissions') }}),
                          (SELECT max(payment_date) FROM {{ ref('stg_remit_claims') }}),
                          (SELECT max(writeoff_date) FROM {{ ref('stg_write_offs') }}))) AS as_of_date,
        least((SELECT min(submission_date) FROM {{ ref('stg_claim_submissions') }}),
              (SELECT min(payment_date) FROM {{ ref('stg_remit_claims') }})) AS first_date
)
SELECT
    w.week_start::DATE AS week_start,
    (w.week_start + INTERVAL 6 DAY)::DATE AS week_end,
    least((w.week_start + INTERVAL 6 DAY)::DATE, b.as_of_date) AS snapshot_date,
    {{ iso_week('w.week_start') }} AS iso_week,
    (w.week_start + INTERVAL 6 DAY)::DATE <= b.as_of_date AS is_complete,
    b.as_of_date,
    b.first_date AS history_start,
    {{ days_between('b.first_date', 'least((w.week_start + INTERVAL 6 DAY)::DATE, b.as_of_date)') }} + 1 AS history_days
FROM bounds AS b
     {{ weeks_from('b.first_date', 'b.as_of_date', 'w', 'week_start') }}
WHERE b.first_date IS NOT NULL
