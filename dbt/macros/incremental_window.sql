{#
    The bronze partitions a run must (re)process, for incremental staging models.

    The pipeline sets NOVA_RUN_START to the first date of its window; on an incremental
    build only bronze partitions from that date on are read (a daily run reads one day,
    not three years). Without it (an analyst's build, a full refresh) every partition is.
#}
{% macro incremental_window_filter(column='_ingest_date') -%}
    {%- set start = env_var('NOVA_RUN_START', '') -%}
    {%- if is_incremental() and start -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', start) -%}
            {{ exceptions.raise_compiler_error("NOVA_RUN_START must be 'YYYY-MM-DD', got '" ~ start ~ "'") }}
        {%- endif -%}
        where {{ column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}
