{#- On an engine that does not hold the warehouse (the spark target), the sources are the Parquet
    files transforms/parquet_export.py writes under DENIALS_SOURCES_PARQUET: each is registered as
    a table of its schema before the models run (on-run-start in dbt_project.yml). On DuckDB the
    sources are the warehouse's own tables and nothing is done. -#}
{% macro register_parquet_sources() %}
  {%- if target.type != 'duckdb' and execute -%}
    {%- set root = env_var('DENIALS_SOURCES_PARQUET') -%}
    {%- for node in graph.sources.values() -%}
      {%- call statement('schema_' ~ loop.index) -%}
        CREATE SCHEMA IF NOT EXISTS {{ node.schema }}
      {%- endcall -%}
      {%- call statement('source_' ~ loop.index) -%}
        CREATE TABLE IF NOT EXISTS {{ node.schema }}.{{ node.name }}
        USING parquet LOCATION '{{ root }}/{{ node.schema }}/{{ node.name }}'
      {%- endcall -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
