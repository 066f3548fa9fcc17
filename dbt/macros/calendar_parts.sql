{#- Calendar parts that engines name differently. -#}

{#- ISO day of week: 1 = Monday ... 7 = Sunday. -#}
{% macro day_of_week_iso(date_expr) -%}
    {{ return(adapter.dispatch('day_of_week_iso')(date_expr)) }}
{%- endmacro %}

{% macro default__day_of_week_iso(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro duckdb__day_of_week_iso(date_expr) -%}
    cast(isodow({{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__day_of_week_iso(date_expr) -%}
    cast(extract(dayofweek_iso from {{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{#- ISO 8601 week of year (1..53). -#}
{% macro week_of_year_iso(date_expr) -%}
    {{ return(adapter.dispatch('week_of_year_iso')(date_expr)) }}
{%- endmacro %}

{% macro default__week_of_year_iso(date_expr) -%}
    cast(extract(week from {{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro duckdb__week_of_year_iso(date_expr) -%}
    cast(weekofyear({{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__week_of_year_iso(date_expr) -%}
    cast(weekofyear({{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{#- Day of the year (1..366). -#}
{% macro day_of_year(date_expr) -%}
    {{ return(adapter.dispatch('day_of_year')(date_expr)) }}
{%- endmacro %}

{% macro default__day_of_year(date_expr) -%}
    cast(extract(doy from {{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro duckdb__day_of_year(date_expr) -%}
    cast(dayofyear({{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__day_of_year(date_expr) -%}
    cast(dayofyear({{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}
