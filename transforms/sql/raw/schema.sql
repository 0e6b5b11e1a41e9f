-- Warehouse DDL for the landed (raw) and audit layers. Idempotent: run at every start.
-- Raw tables hold what the source files said, typed, one row per source record, with lineage:
-- every row names the file it came from (file_id = first 16 hex digits of the file's sha256)
-- and its place in that file (source_row: CSV line number, or X12 segment number, 1-based,
-- counting from the first segment of the file).
-- No PHI: patient names and birth dates are dropped at parse time; member ids are kept only as
-- a keyed hash (member_id_hash).

CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS audit;
CREATE SCHEMA IF NOT EXISTS ref;

CREATE TABLE IF NOT EXISTS audit.file_manifest (
    file_id           VARCHAR PRIMARY KEY,   -- first 16 hex digits of sha256
    sha256            VARCHAR NOT NULL UNIQUE,
    file_name         VARCHAR NOT NULL,      -- base name
    file_path         VARCHAR NOT NULL,      -- path as received
    file_kind         VARCHAR NOT NULL,      -- claims_csv, claim_lines_csv, remit_claims_csv, remit_lines_csv, remit_adjustments_csv, write_offs_csv, x12_835, x12_837p, x12_837i, mapped_csv:<name>, unknown
    size_bytes        BIGINT NOT NULL,
    received_at       TIMESTAMP NOT NULL,    -- file modification time
    loaded_at         TIMESTAMP NOT NULL,    -- when this batch committed
    batch_id          VARCHAR NOT NULL,
    rows_read         BIGINT NOT NULL,       -- records read (CSV data rows, X12 segments)
    rows_loaded       BIGINT NOT NULL,       -- rows written to raw tables
    rows_quarantined  BIGINT NOT NULL,       -- records not loaded (all of them, for a quarantined file)
    status            VARCHAR NOT NULL,      -- loaded | quarantined | released
    error_count       INTEGER NOT NULL DEFAULT 0,
    warning_count     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS audit.quarantine (
    file_id        VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL,
    batch_id       VARCHAR NOT NULL,
    error_code     VARCHAR NOT NULL,   -- e.g. missing_column, bad_value, malformed_segment
    location       VARCHAR,            -- "line 12, column total_charge" / "segment 57 (CLP), element CLP03"
    message        VARCHAR NOT NULL    -- never carries PHI values
);

-- Problems that did not stop a file from loading (envelope mismatches, unbalanced claims ...).
CREATE TABLE IF NOT EXISTS audit.load_findings (
    file_id    VARCHAR NOT NULL,
    batch_id   VARCHAR NOT NULL,
    severity   VARCHAR NOT NULL,       -- warning | info
    code       VARCHAR NOT NULL,       -- e.g. se01_count, st02_se02, gs_ge_control, duplicate_trace, unknown_column
    location   VARCHAR,
    message    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS audit.load_batches (
    batch_id      VARCHAR PRIMARY KEY,
    started_at    TIMESTAMP NOT NULL,
    committed_at  TIMESTAMP NOT NULL,
    files_seen    INTEGER NOT NULL,
    files_loaded  INTEGER NOT NULL,
    files_skipped INTEGER NOT NULL,    -- already loaded (same sha256)
    files_quarantined INTEGER NOT NULL
);

-- Paths in the landing folder that a run passed over, and why (never read): links leading outside
-- the folder, dangling links, FIFOs, sockets and devices, folders named like data files.
CREATE TABLE IF NOT EXISTS audit.skipped_paths (
    path       VARCHAR NOT NULL,   -- relative to the landing folder
    reason     VARCHAR NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    batch_id   VARCHAR,
    PRIMARY KEY (path, reason)
);

-- Data-quality results of every run, kept as history.
CREATE TABLE IF NOT EXISTS audit.dq_results (
    run_id          VARCHAR NOT NULL,
    validated_at    TIMESTAMP NOT NULL,
    suite           VARCHAR NOT NULL,
    table_name      VARCHAR NOT NULL,
    expectation     VARCHAR NOT NULL,  -- expectation type
    column_name     VARCHAR,
    severity        VARCHAR NOT NULL,  -- error | warning
    success         BOOLEAN NOT NULL,
    element_count   BIGINT,
    unexpected_count BIGINT,
    unexpected_percent DOUBLE,
    description     VARCHAR NOT NULL   -- plain words; never a PHI value
);

------------------------------------------------------------------------------------------
-- Claims (canonical CSV, 837P, 837I)
------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS raw.claims (
    file_id             VARCHAR NOT NULL,
    source_row          BIGINT NOT NULL,     -- CSV line / CLM segment number
    source_format       VARCHAR NOT NULL,    -- csv | 837P | 837I
    claim_id            VARCHAR NOT NULL,    -- CLM01
    claim_type          VARCHAR NOT NULL,    -- professional | institutional
    frequency_code      VARCHAR NOT NULL,    -- CLM05-3: 1, 7, 8
    original_claim_id   VARCHAR,             -- claim_id of the claim replaced/voided (CSV; 837: none, see below)
    submission_date     DATE,                -- BHT04
    service_from        DATE,
    service_to          DATE,
    total_charge        DECIMAL(18,2) NOT NULL,
    payer_id            VARCHAR,
    payer_name          VARCHAR,
    payer_type          VARCHAR,
    payer_sequence      VARCHAR,             -- SBR01 P/S/T
    billing_npi         VARCHAR,
    rendering_npi       VARCHAR,
    department          VARCHAR,
    location            VARCHAR,
    place_of_service    VARCHAR,
    prior_auth_number   VARCHAR,
    principal_diagnosis VARCHAR,
    diagnosis_codes     VARCHAR,             -- ';' separated
    member_id_hash      VARCHAR,
    -- REF*F8 (837) on a replacement (7) or void (8): the payer's claim number (CLP07) of the
    -- adjudication of the claim it replaces; stg_claim_submissions resolves it to a claim_id
    original_payer_claim_number VARCHAR
);
-- warehouses created before original_payer_claim_number existed: the column, and the REF*F8 of
-- 837 claims loaded then (kept in original_claim_id) moved to it (no row matches afterwards)
ALTER TABLE raw.claims ADD COLUMN IF NOT EXISTS original_payer_claim_number VARCHAR;
UPDATE raw.claims
SET original_payer_claim_number = original_claim_id, original_claim_id = NULL
WHERE source_format IN ('837P', '837I') AND original_claim_id IS NOT NULL AND original_payer_claim_number IS NULL;

CREATE TABLE IF NOT EXISTS raw.claim_lines (
    file_id          VARCHAR NOT NULL,
    source_row       BIGINT NOT NULL,
    claim_id         VARCHAR NOT NULL,
    claim_source_row BIGINT,                 -- 837: segment number of the CLM this line belongs to; NULL for CSV
    line_number      INTEGER NOT NULL,
    procedure_code   VARCHAR,
    modifiers        VARCHAR,                -- ':' separated
    revenue_code     VARCHAR,
    units            DECIMAL(18,3),
    line_charge      DECIMAL(18,2) NOT NULL,
    service_date     DATE,
    place_of_service VARCHAR,
    line_control_number VARCHAR              -- REF*6R (837)
);

------------------------------------------------------------------------------------------
-- Remittances (canonical CSV, 835)
------------------------------------------------------------------------------------------
-- One row per payment (835 transaction set, or distinct trace_number of a CSV export).
CREATE TABLE IF NOT EXISTS raw.remit_payments (
    file_id            VARCHAR NOT NULL,
    source_row         BIGINT NOT NULL,      -- ST segment number / first CSV line
    payment_id         VARCHAR NOT NULL,     -- file_id || '-' || source_row (835) ; 'csv-' || trace_number (CSV)
    source_format      VARCHAR NOT NULL,     -- csv | 835
    x12_version        VARCHAR,              -- GS08 / ST03
    st_control_number  VARCHAR,              -- ST02
    handling_code      VARCHAR,              -- BPR01
    payment_amount     DECIMAL(18,2),        -- BPR02
    credit_debit       VARCHAR,              -- BPR03
    payment_method     VARCHAR,              -- BPR04
    payment_date       DATE,                 -- BPR16
    trace_number       VARCHAR,              -- TRN02
    payer_id           VARCHAR,              -- N1*PR N104 / REF*2U / TRN03
    payer_name         VARCHAR,
    payee_name         VARCHAR,
    payee_npi          VARCHAR,
    interchange_created VARCHAR             -- GS04 || GS05 (CCYYMMDDHHMM): when the sender made the file
);
-- warehouses made before the column existed
ALTER TABLE raw.remit_payments ADD COLUMN IF NOT EXISTS interchange_created VARCHAR;

CREATE TABLE IF NOT EXISTS raw.remit_claims (
    file_id                VARCHAR NOT NULL,
    source_row             BIGINT NOT NULL,  -- CLP segment number / CSV line
    payment_id             VARCHAR NOT NULL,
    remit_claim_id         VARCHAR NOT NULL, -- file_id || '-' || source_row (835) ; adjudication_id (CSV)
    claim_id               VARCHAR NOT NULL, -- CLP01
    status_code            VARCHAR NOT NULL, -- CLP02
    charge_amount          DECIMAL(18,2) NOT NULL,
    paid_amount            DECIMAL(18,2) NOT NULL,
    patient_responsibility DECIMAL(18,2),
    claim_filing_indicator VARCHAR,          -- CLP06
    payer_claim_number     VARCHAR,          -- CLP07
    facility_type_code     VARCHAR,          -- CLP08
    claim_frequency_code   VARCHAR,          -- CLP09
    statement_from         DATE,             -- DTM*232
    statement_to           DATE,             -- DTM*233
    claim_received_date    DATE,             -- DTM*050
    remark_codes           VARCHAR,          -- MOA/MIA remark codes, ';' separated
    member_id_hash         VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.remit_lines (
    file_id             VARCHAR NOT NULL,
    source_row          BIGINT NOT NULL,     -- SVC segment number / CSV line
    remit_claim_id      VARCHAR NOT NULL,
    remit_line_id       VARCHAR NOT NULL,    -- remit_claim_id || '-' || line_number
    line_number         INTEGER NOT NULL,    -- 1.. within the remittance claim
    procedure_qualifier VARCHAR,             -- SVC01-1 (HC, NU, ...)
    procedure_code      VARCHAR,
    modifiers           VARCHAR,
    charge_amount       DECIMAL(18,2) NOT NULL,
    paid_amount         DECIMAL(18,2) NOT NULL,
    revenue_code        VARCHAR,             -- SVC04
    units               DECIMAL(18,3),       -- SVC05
    service_date        DATE,                -- DTM*472 (or DTM*150)
    line_control_number VARCHAR,             -- REF*6R
    allowed_amount      DECIMAL(18,2),       -- AMT*B6
    remark_codes        VARCHAR              -- LQ*HE, ';' separated
);

CREATE TABLE IF NOT EXISTS raw.remit_adjustments (
    file_id        VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,          -- CAS segment number / CSV line
    remit_claim_id VARCHAR NOT NULL,
    remit_line_id  VARCHAR,                  -- NULL: claim-level CAS
    adjustment_level VARCHAR NOT NULL,       -- claim | line
    group_code     VARCHAR NOT NULL,         -- CO PR OA PI CR
    carc           VARCHAR NOT NULL,
    amount         DECIMAL(18,2) NOT NULL,
    quantity       DECIMAL(18,3),
    triple_index   INTEGER NOT NULL          -- 1..6: which reason/amount/quantity triple of the CAS
);

CREATE TABLE IF NOT EXISTS raw.provider_adjustments (
    file_id        VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,          -- PLB segment number
    payment_id     VARCHAR NOT NULL,
    provider_id    VARCHAR,                  -- PLB01
    fiscal_period_date DATE,                 -- PLB02
    reason_code    VARCHAR NOT NULL,         -- PLB03-1 / 05-1 ...
    reference_id   VARCHAR,                  -- PLB03-2
    amount         DECIMAL(18,2) NOT NULL,   -- as sent: positive reduces the payment
    pair_index     INTEGER NOT NULL          -- 1..6
);

CREATE TABLE IF NOT EXISTS raw.write_offs (
    file_id       VARCHAR NOT NULL,
    source_row    BIGINT NOT NULL,
    claim_id      VARCHAR NOT NULL,
    writeoff_date DATE NOT NULL,
    amount        DECIMAL(18,2) NOT NULL,
    reason        VARCHAR NOT NULL,
    carc          VARCHAR
);

-- (The NPI check digit the models use is the npi_ok macro of the dbt project: transforms/dbt/macros.)

-- Quarantined files released by an operator (`denials release`) so that the next run tries them again.
CREATE TABLE IF NOT EXISTS audit.released_files (
    file_id     VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    file_name   VARCHAR NOT NULL,
    released_at TIMESTAMP NOT NULL,
    reason      VARCHAR
);

-- Incremental model builds (transforms/incremental.py). A plan is made once per run, before the
-- models: 'full' (rebuild every model), 'incremental' (rebuild the rows of the claims and
-- remittances in scope, and the small aggregate models whole) or 'none' (nothing new).
CREATE TABLE IF NOT EXISTS audit.model_plans (
    plan_id       INTEGER PRIMARY KEY,
    created_at    TIMESTAMP NOT NULL,
    mode          VARCHAR NOT NULL,          -- full | incremental | none
    reason        VARCHAR NOT NULL,
    fingerprint   VARCHAR NOT NULL,          -- settings, reference tables and model SQL
    new_files     INTEGER NOT NULL,
    scope_claims  BIGINT,
    scope_remits  BIGINT
);
-- The loaded files the models have taken in, and by which plan.
CREATE TABLE IF NOT EXISTS audit.model_files (
    file_id  VARCHAR PRIMARY KEY,
    plan_id  INTEGER NOT NULL
);
-- Each model's last build: a plan is complete when every model has built it.
CREATE TABLE IF NOT EXISTS audit.model_state (
    model     VARCHAR PRIMARY KEY,
    plan_id   INTEGER NOT NULL,
    mode      VARCHAR NOT NULL,              -- full | incremental | unchanged
    built_at  TIMESTAMP NOT NULL,
    rows      BIGINT NOT NULL
);
-- The keys in scope of the latest incremental plan.
CREATE TABLE IF NOT EXISTS audit.scope_claims (claim_id VARCHAR);
CREATE TABLE IF NOT EXISTS audit.scope_remits (remit_claim_id VARCHAR);
CREATE TABLE IF NOT EXISTS audit.scope_families (claim_family_id VARCHAR);
