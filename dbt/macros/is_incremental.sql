{#
    `is_incremental()` for the project's `delta` materialization too.

    dbt's own macro answers true only for `materialized: incremental` over an existing
    table; a `delta` model's relation is a view over its published Delta table. A `delta`
    model with `incremental_strategy: replace_partitions` builds incrementally when:
      - its relation exists (it was published before) and this is not a full refresh;
      - the run is one day: the pipeline's NOVA_RUN_START equals NOVA_RUN_DATE. A
        backfill (a window of days) and an analyst's build without the pipeline's dates
        rebuild the model whole.
    Every other model gets dbt's answer; unit tests may override this macro as usual.
#}
{% macro is_incremental() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if model.config.materialized != 'delta' -%}
        {{ return(dbt.is_incremental()) }}
    {%- endif -%}
    {%- if model.config.get('incremental_strategy') != 'replace_partitions' or should_full_refresh() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set start = env_var('NOVA_RUN_START', '') -%}
    {%- if not start or start != env_var('NOVA_RUN_DATE', '') -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {{ return(relation is not none) }}
{% endmacro %}
