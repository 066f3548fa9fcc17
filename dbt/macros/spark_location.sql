{#
    Where a Spark table's files go. dbt_project.yml sets `location_root` only for the
    marts on a Delta cluster (<lake>/gold); a config in YAML cannot render to "unset", so
    an empty value means unset here (dbt-spark's own macro would write to '/<model>').
#}
{% macro spark__location_clause() %}
  {%- set location_root = config.get('location_root', validator=validation.any[basestring]) -%}
  {%- if location_root %}
    location '{{ location_root }}/{{ model['alias'] }}'
  {%- endif %}
{%- endmacro -%}
