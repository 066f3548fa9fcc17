{#
    The run date D as a SQL date expression.

    The pipeline passes `--vars '{run_date: "YYYY-MM-DD"}'`; an analyst may leave it out,
    and then `fallback` (a SQL expression, e.g. the last movement date) is used.
#}
{% macro run_date(fallback) -%}
    {%- set value = var('run_date', none) -%}
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
