{#
    Aggregate: the values of `expr` in a group, sorted, joined with
    `delimiter` (a SQL string literal). Sorted so that the result is deterministic; the
    default uses dbt.listagg with an order by; dbt-spark's listagg ignores the order, so
    Spark sorts the collected values itself.
#}
{% macro join_sorted(expr, delimiter) -%}
    {{ return(adapter.dispatch('join_sorted')(expr, delimiter)) }}
{%- endmacro %}

{% macro default__join_sorted(expr, delimiter) -%}
    {{ dbt.listagg(expr, delimiter, 'order by ' ~ expr) }}
{%- endmacro %}

{% macro spark__join_sorted(expr, delimiter) -%}
    array_join(array_sort(collect_list({{ expr }})), {{ delimiter }})
{%- endmacro %}
