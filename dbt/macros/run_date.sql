{#
    The run date D as a SQL date expression.

    The pipeline sets the env var NOVA_RUN_DATE (a changed var would force dbt to re-parse
    the whole project every day; a changed env var re-parses only what uses it). An analyst
    may pass `--vars '{run_date: "YYYY-MM-DD"}'` instead, or nothing: then `fallback` (a SQL
    expression, e.g. the last movement date) is used.
#}
{% macro run_date(fallback) -%}
    {%- set value = env_var('NOVA_RUN_DATE', '') or var('run_date', none) -%}
    {%- if value is none or value == '' -%}
        {{ fallback }}
    {%- else -%}
        {%- set value = value | string -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
            {{ exceptions.raise_compiler_error("var run_date must be 'YYYY-MM-DD', got '" ~ value ~ "'") }}
        {%- endif -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}
