{#- Incremental models in dbt's terms, on the scope the pipeline's plan computes.

    Before the models run, transforms/incremental.py (make_plan) writes the keys a new batch of files
    touches to audit.scope_claims, audit.scope_remits and audit.scope_families (closed under the
    links between claims and remittances: every row of a scoped model depends only on the rows of
    its keys). A scoped model:

        {{ config(materialized=scoped_materialization(), unique_key='claim_id',
                  incremental_strategy='scoped') }}
        ... FROM {{ scoped(ref('stg_claims'), 'claim_id') }} AS c ...

    reads its keyed inputs restricted to the scope when dbt builds it incrementally
    (is_incremental(): the table exists and the run is not --full-refresh), and the `scoped`
    strategy deletes every row of the keys in scope and inserts the rows just computed for them
    (delete+insert on the scope rather than on the new rows' keys: a key whose rows are gone, such
    as a claim family merged into another, loses its old rows). On a full refresh, a first build, or
    an engine without the scope tables (the spark target builds every model as a table), the same
    SQL reads its inputs whole. -#}

{% macro scoped_materialization() -%}
  {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#- The source holding the keys in scope (declared in sources.yml: the models that read it depend
    on the plan that writes it). -#}
{% macro scope_table(key) -%}
  {%- set tables = {'claim_id': 'scope_claims', 'remit_claim_id': 'scope_remits', 'claim_family_id': 'scope_families'} -%}
  {%- if key not in tables -%}
    {{ exceptions.raise_compiler_error("scope key " ~ key ~ " is not one of " ~ (tables.keys() | list)) }}
  {%- endif -%}
  {{ return(source('audit', tables[key])) }}
{%- endmacro %}

{#- A keyed input, restricted to the keys in scope in an incremental build. -#}
{% macro scoped(relation, key) -%}
  {%- set scope = scope_table(key) -%}  {#- called always: dbt records the dependency at parse time -#}
  {%- if is_incremental() -%}
    (SELECT * FROM {{ relation }} WHERE {{ key }} IN (SELECT {{ key }} FROM {{ scope }}))
  {%- else -%}
    {{ relation }}
  {%- endif -%}
{%- endmacro %}

{#- The `scoped` incremental strategy (dbt-duckdb's incremental materialization calls it with the
    rows computed into a temporary table). A model with config scoped_calendar=true (its rows are
    (key, week) snapshots) also replaces the weeks in audit.changed_weeks for every key (see
    changed_weeks()). -#}
{% macro get_incremental_scoped_sql(arg_dict) -%}
  {%- set target = arg_dict['target_relation'] -%}
  {%- set source = arg_dict['temp_relation'] -%}
  {%- set key = arg_dict['unique_key'] -%}
  {%- set cols = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
  {%- set in_scope = key ~ ' IN (SELECT ' ~ key ~ ' FROM ' ~ scope_table(key) ~ ')' -%}
  {%- if config.get('scoped_calendar') -%}
    {%- set in_scope = '(' ~ in_scope ~ ' OR week_start IN (SELECT week_start FROM audit.changed_weeks))' -%}
  {%- endif %}
  DELETE FROM {{ target }} WHERE {{ in_scope }};
  INSERT INTO {{ target }} ({{ cols }})
  SELECT {{ cols }} FROM {{ source }} WHERE {{ in_scope }}
{%- endmacro %}

{#- pre_hook of a model keyed by claim family: the families of the claims and remittances in scope,
    as the models just rebuilt them, join the scope (a claim may have moved into a family). -#}
{% macro extend_family_scope() -%}
  {%- if is_incremental() -%}
    INSERT INTO audit.scope_families
    SELECT claim_family_id FROM {{ ref('stg_claims') }} WHERE claim_id IN (SELECT claim_id FROM audit.scope_claims)
    UNION SELECT claim_family_id FROM {{ ref('int_adjudications') }}
          WHERE remit_claim_id IN (SELECT remit_claim_id FROM audit.scope_remits)
    EXCEPT SELECT claim_family_id FROM audit.scope_families
  {%- endif -%}
{%- endmacro %}

{#- pre_hook of a calendar model (rows per key and weekly snapshot): the weeks whose snapshot is not
    the one the table was built with (a new week; the as-of date moved inside the current week),
    and weeks gone from the calendar. Their rows are rebuilt for every key. -#}
{% macro changed_weeks() -%}
  {%- if is_incremental() -%}
    CREATE OR REPLACE TABLE audit.changed_weeks AS
    SELECT week_start FROM {{ ref('int_calendar_weeks') }}
    EXCEPT SELECT week_start FROM (SELECT DISTINCT week_start, snapshot_date FROM {{ this }}) AS t
           JOIN {{ ref('int_calendar_weeks') }} USING (week_start, snapshot_date)
    UNION SELECT DISTINCT week_start FROM {{ this }}
          WHERE week_start NOT IN (SELECT week_start FROM {{ ref('int_calendar_weeks') }})
  {%- endif -%}
{%- endmacro %}

{#- post_hook of every model on the warehouse: the latest plan (audit.model_plans) built it, in the
    same transaction as the build (a run killed between two models leaves the others pending). -#}
{% macro record_model_state() -%}
  {%- if target.type == 'duckdb' -%}
    INSERT OR REPLACE INTO audit.model_state
    SELECT '{{ this.schema }}.{{ this.identifier }}', p.plan_id,
           CASE WHEN {{ 'true' if config.get('materialized') == 'incremental' and not should_full_refresh() else 'false' }}
                     AND p.mode <> 'full' THEN 'incremental' ELSE 'full' END,
           now()::TIMESTAMP, (SELECT count(*) FROM {{ this }})
    FROM (SELECT plan_id, mode FROM audit.model_plans ORDER BY plan_id DESC LIMIT 1) AS p
  {%- endif -%}
{%- endmacro %}
