{#
    Values the external APIs send as text (bronze keeps them as sent). Staging reads only
    rows that passed their contract, but casts stay safe so a bad value is a null, never
    a failed build.
#}

{#- A decimal number written with a dot: '24.3'. -#}
{% macro text_to_double(column) -%}
    {{ dbt.safe_cast(column, type_double()) }}
{%- endmacro %}

{#- A Brazilian number: '1.842,500' -> 1842.5 (dot for thousands, comma for decimals). -#}
{% macro br_text_to_double(column) -%}
    {{ dbt.safe_cast("replace(replace(" ~ column ~ ", '.', ''), ',', '.')", type_double()) }}
{%- endmacro %}

{#- A Brazilian date 'dd/MM/yyyy' as a date. -#}
{% macro br_text_to_date(column) -%}
    {{ dbt.safe_cast(
        "substr(" ~ column ~ ", 7, 4) || '-' || substr(" ~ column ~ ", 4, 2) || '-' || substr(" ~ column ~ ", 1, 2)",
        "date"
    ) }}
{%- endmacro %}

{#- The last non-null value of `expr` in the window frame (forward fill). -#}
{% macro last_non_null(expr) -%}
    {{ return(adapter.dispatch('last_non_null')(expr)) }}
{%- endmacro %}

{% macro default__last_non_null(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{% macro spark__last_non_null(expr) -%}
    last({{ expr }}, true)
{%- endmacro %}

{#- Great-circle distance in km between two points given in decimal degrees. -#}
{% macro haversine_km(lat1, lon1, lat2, lon2) -%}
    2 * 6371.0088 * asin(sqrt(
        power(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
        * power(sin(radians({{ lon2 }} - {{ lon1 }}) / 2), 2)
    ))
{%- endmacro %}
