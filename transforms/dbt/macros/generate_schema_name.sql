{#- A model's schema is its layer (staging, intermediate, marts) as named, not prefixed with the
    target's schema: the reports, checks and tests read marts.mart_*, whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
