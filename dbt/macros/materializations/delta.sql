{#
    Materialization `delta`: publish a model as a Delta table in the lake (gold).

    dbt-duckdb's `external` materialization writes a model three times (a temporary table,
    a parquet file, then the plugin's Delta copy): 9.8 s for the 13M-row fct_daily_demand.
    This one streams the model's query once, straight into Delta (3.5 s), through the
    `gold` plugin (backend/lake/dbt_plugin.py):
      1. check the contract against the compiled SQL (names and data types);
      2. create a view `<model>__dbt_src` with the model's SQL and commit it;
      3. the plugin streams that view into <lake>/gold/<model> (overwrite) and points the
         model's relation at the published table: a view over delta_scan(...), so tests,
         downstream models and analysts read exactly what was published;
      4. drop the source view.

    Incremental (`incremental_strategy: replace_partitions` with `partition_by: <column>`,
    when `is_incremental()` says so): the model's SQL returns only the partitions this run
    rebuilds. They are materialized once in a table `<model>__dbt_src`, and the plugin
    replaces exactly those partitions of the published table in one Delta commit, dropping
    published partitions outside the new rows' span (the table ends where the model says).
    A full build of such a model writes the table partitioned by that column.
#}
{% materialization delta, adapter="duckdb" %}

  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set source_relation = make_intermediate_relation(target_relation, suffix='__dbt_src') -%}
  {%- set plugin_name = config.get('plugin', 'gold') -%}

  {{ drop_relation_if_exists(load_cached_relation(source_relation)) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif -%}

  {%- set incremental = is_incremental() -%}
  {%- if incremental and not config.get('partition_by') -%}
    {{ exceptions.raise_compiler_error("an incremental delta model needs partition_by (the column whose partitions it replaces)") }}
  {%- endif -%}
  {#- An increment is small and read twice by the plugin (its partitions, its rows); a
      model with `stage_as_table: true` is computed into a table before it is streamed
      (fct_stockout_days: fetching its query's result straight from DuckDB 1.5.5 hangs,
      while writing it into a table works). -#}
  {%- set staged = incremental or config.get('stage_as_table', false) -%}
  {%- if staged -%}
    {%- set source_relation = source_relation.incorporate(type='table') -%}
    {{ drop_relation_if_exists(load_cached_relation(source_relation)) }}
  {%- endif -%}

  {% call statement('main') -%}
    create or replace {{ 'table' if staged else 'view' }} {{ source_relation }} as (
      {{ sql }}
    )
  {%- endcall %}
  {{ adapter.commit() }}

  {#- The partitions this build wrote, for the daily tests' `where` (fct_daily_demand.yml):
      an increment's dates, or one `whole` row after a full build (the tests then read the
      whole table). Partitions a run did not rewrite were tested by the run that wrote them. -#}
  {%- if config.get('partition_by') -%}
    {%- set partitions_relation = api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__run_partitions', type='table') -%}
    {% call statement('run_partitions') -%}
      {%- if incremental %}
      create or replace table {{ partitions_relation }} as
        select distinct {{ config.get('partition_by') }} as partition_value, false as whole
        from {{ source_relation }}
      {%- else %}
      create or replace table {{ partitions_relation }} as
        select {{ config.get('partition_by') }} as partition_value, true as whole
        from (select * from {{ source_relation }} limit 0) as no_rows
        union all
        select null, true
      {%- endif %}
    {%- endcall %}
  {%- endif -%}

  {%- set column_list = adapter.get_columns_in_relation(source_relation) -%}
  {%- set mode = 'delta+replace' if incremental else 'delta' -%}
  {% do adapter.store_relation(plugin_name, target_relation, column_list, source_relation.render(), mode, config) %}
  {% do adapter.cache_added(target_relation) %}

  {{ drop_relation_if_exists(source_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
