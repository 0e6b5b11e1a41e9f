{#- Generic data test unique_combination_of_columns (a model-level test: the key of a model whose grain
    is several columns, e.g. (claim_id, snapshot_date)). It returns the duplicate key values with
    their number of rows, so it fails when a combination appears more than once. NULLs are grouped
    like values (GROUP BY): two rows with the same values and NULL in the same column are duplicates.
    Usage (models/*/_<layer>.yml):
        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [claim_id, snapshot_date]
    Written as a test_-prefixed macro (what a {% test %} block defines) because the pipeline's own
    runner (transforms/models.py) loads this folder with plain Jinja, which has no test tag; it binds
    only default__/duckdb__ macros, so this one is dbt's alone. -#}
{% macro test_unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
select {{ columns }}, count(*) as n_records
from {{ model }}
group by {{ columns }}
having count(*) > 1
{% endmacro %}
