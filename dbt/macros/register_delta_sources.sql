{#
    On a Spark cluster with the Delta jars, bronze is read in place: each lake source
    becomes a catalog table over its Delta directory (`erp.items` -> <lake>/bronze/erp/items),
    named as source() renders it. Run by on-run-start on such a target; the local session
    (no Delta jars) gets bronze from backend/lake/spark.py instead.

    `dry_run=true` only logs the statements (`dbt run-operation register_delta_sources
    --args '{dry_run: true}'` shows what a cluster would run).
#}
{% macro register_delta_sources(dry_run=false) %}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set statements = [] -%}
  {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
    {%- set location = (source.config.meta or source.meta or {}).get('external_location', '') -%}
    {%- set match = modules.re.fullmatch("delta_scan\\('(.*)'\\)", location) -%}
    {%- if match -%}
      {%- set path = match.group(1).replace('{name}', source.name).replace('s3://', 's3a://') -%}
      {%- do statements.append("create schema if not exists " ~ source.schema) -%}
      {%- do statements.append(
          "create table if not exists " ~ source.schema ~ "." ~ source.identifier
          ~ " using delta location '" ~ path.replace("'", "\\'") ~ "'") -%}
    {%- endif -%}
  {%- endfor -%}
  {%- for statement in statements | unique -%}
    {%- if dry_run -%}
      {{ log(statement, info=true) }}
    {%- else -%}
      {% do run_query(statement) %}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
