{#- A raw ERP string without stray whitespace; blank becomes null. -#}
{% macro clean_string(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
