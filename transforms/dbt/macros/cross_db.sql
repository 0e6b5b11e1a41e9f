{#- What differs between the engines the models run on, in one place. Each macro dispatches on the
    target (duckdb__*, spark__*; default__* when all agree), as dbt's own cross-database macros do;
    the pipeline's runner (transforms/models.py) calls the duckdb__ / default__ variants. -#}

{#- The ISO week label 'YYYY-Www' of a date (ISO year: the week of 31 December may be week 1). -#}
{% macro iso_week(d) %}{{ return(adapter.dispatch('iso_week', 'denials')(d)) }}{% endmacro %}
{% macro duckdb__iso_week(d) %}strftime({{ d }}, '%G-W%V'){% endmacro %}
{% macro spark__iso_week(d) -%}
concat(cast(extract(YEAROFWEEK FROM {{ d }}) AS STRING), '-W', lpad(cast(weekofyear({{ d }}) AS STRING), 2, '0'))
{%- endmacro %}

{#- Days from date a to date b (b - a), an integer. -#}
{% macro days_between(a, b) %}{{ return(adapter.dispatch('days_between', 'denials')(a, b)) }}{% endmacro %}
{% macro duckdb__days_between(a, b) %}({{ b }} - {{ a }}){% endmacro %}
{% macro spark__days_between(a, b) %}datediff({{ b }}, {{ a }}){% endmacro %}

{#- The Mondays from the week of `first` to the week of `last`, as the FROM item `alias(col)`
    following another FROM item that `first` and `last` read (a lateral series). -#}
{% macro weeks_from(first, last, alias, col) %}{{ return(adapter.dispatch('weeks_from', 'denials')(first, last, alias, col)) }}{% endmacro %}
{% macro duckdb__weeks_from(first, last, alias, col) -%}
, generate_series(date_trunc('week', {{ first }}), date_trunc('week', {{ last }}), INTERVAL 7 DAY) AS {{ alias }}({{ col }})
{%- endmacro %}
{% macro spark__weeks_from(first, last, alias, col) -%}
LATERAL VIEW explode(sequence(cast(date_trunc('WEEK', {{ first }}) AS DATE), cast(date_trunc('WEEK', {{ last }}) AS DATE), INTERVAL 7 DAY)) {{ alias }} AS {{ col }}
{%- endmacro %}

{#- The values of `expr` joined with `sep`, in the order of `order_by` (`distinct`: each value once,
    then `order_by` must be `expr`). -#}
{% macro string_agg_ordered(expr, sep, order_by, distinct=false) %}{{ return(adapter.dispatch('string_agg_ordered', 'denials')(expr, sep, order_by, distinct)) }}{% endmacro %}
{% macro duckdb__string_agg_ordered(expr, sep, order_by, distinct=false) -%}
string_agg({{ 'DISTINCT ' if distinct }}{{ expr }}, {{ sep }} ORDER BY {{ order_by }})
{%- endmacro %}
{% macro spark__string_agg_ordered(expr, sep, order_by, distinct=false) -%}
{#- string_agg ... WITHIN GROUP fails in Spark 4.3 beside other aggregates (a ClassCastException
    in ListAgg): the values are collected, sorted and joined instead; NULL when there is none. -#}
CASE WHEN count({{ expr }}) > 0 THEN
{%- if distinct %} array_join(array_sort(collect_set({{ expr }})), {{ sep }})
{%- else %} array_join(transform(array_sort(collect_list(struct({{ order_by }} AS k, {{ expr }} AS v))), x -> x.v), {{ sep }})
{%- endif %} END
{%- endmacro %}

{#- NPI check digit (CMS): Luhn over '80840' || the 10-digit NPI. The prefix 80840 adds 24; of the
    NPI's own digits the 1st, 3rd, 5th, 7th and 9th are doubled (a doubled digit counts as the sum
    of its digits: 2d, less 9 from d = 5). Written out digit by digit, in SQL both engines read. -#}
{% macro npi_ok(npi) %}{{ return(adapter.dispatch('npi_ok', 'denials')(npi)) }}{% endmacro %}
{% macro default__npi_ok(npi) -%}
{%- set ns = namespace(terms=[]) -%}
{%- for i in range(1, 11) -%}
  {%- set d = "(ascii(substr(" ~ npi ~ ", " ~ i ~ ", 1)) - 48)" -%}
  {%- if i % 2 == 1 -%}
    {%- set ns.terms = ns.terms + ["(CASE WHEN " ~ d ~ " >= 5 THEN 2 * " ~ d ~ " - 9 ELSE 2 * " ~ d ~ " END)"] -%}
  {%- else -%}
    {%- set ns.terms = ns.terms + [d] -%}
  {%- endif -%}
{%- endfor -%}
coalesce(length({{ npi }}) = 10 AND translate({{ npi }}, '0123456789', '') = ''
         AND (24 + {{ ns.terms | join(' + ') }}) % 10 = 0, false)
{%- endmacro %}

{#- Every column of `rel` but `cols` (a comma-separated list): rel.* EXCLUDE (...) on DuckDB. -#}
{% macro star_except(rel, cols) %}{{ return(adapter.dispatch('star_except', 'denials')(rel, cols)) }}{% endmacro %}
{% macro duckdb__star_except(rel, cols) %}{{ rel }}.* EXCLUDE ({{ cols }}){% endmacro %}
{% macro spark__star_except(rel, cols) %}{{ rel }}.* EXCEPT ({{ cols }}){% endmacro %}
