{#- The median of an expression over a group (aggregate), halfway between the two middle
    values for an even count, as numpy.median: DuckDB's median, Spark's exact percentile. -#}
{% macro median_of(expr) -%}
    {{ return(adapter.dispatch('median_of')(expr)) }}
{%- endmacro %}

{% macro default__median_of(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__median_of(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}
