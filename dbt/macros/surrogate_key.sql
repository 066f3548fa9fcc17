{#
    A stable BIGINT surrogate key for a row identified by `columns`.

    The key is the first `bits` (a multiple of 4, at most 60) bits of
    md5(col1 | col2 | ...), every column cast to a string, with a marker for nulls. It
    depends only on the key columns, so it is the same on every run, and every engine
    computes the same value (the hex-to-integer step is dispatched). A BIGINT rather than
    the usual 32-character md5 string: on the large facts the string key was most of the
    table's bytes, written three times per run (DuckDB, parquet, Delta) and read by every
    consumer.
#}
{% macro surrogate_key(columns, bits=60) -%}
    {%- if bits % 4 != 0 or bits < 4 or bits > 60 -%}
        {{ exceptions.raise_compiler_error("surrogate_key: bits must be a multiple of 4 in 4..60") }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'|'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ hex_prefix_to_bigint(dbt.hash(dbt.concat(parts)), (bits / 4) | int) }}
{%- endmacro %}

{#- The integer value of the first `digits` (at most 15) hex digits of a hex string. -#}
{% macro hex_prefix_to_bigint(hex_expr, digits) -%}
    {{ return(adapter.dispatch('hex_prefix_to_bigint')(hex_expr, digits)) }}
{%- endmacro %}

{% macro default__hex_prefix_to_bigint(hex_expr, digits) -%}
    cast(conv(substr({{ hex_expr }}, 1, {{ digits }}), 16, 10) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__hex_prefix_to_bigint(hex_expr, digits) -%}
    cast(('0x' || substr({{ hex_expr }}, 1, {{ digits }})) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#
    A BIGINT key for one day of a series identified by `series_key` (a key of at most 40
    bits, see surrogate_key): series_key * 2^23 + days since 1970-01-01. Unique when the
    series keys are unique, cheap on tens of millions of rows (one multiply-add instead of
    a hash per row), and it grows with the date inside a series, so it compresses well.
#}
{% macro series_day_key(series_key, date_expr) -%}
    ({{ series_key }} * 8388608 + {{ dbt.datediff("cast('1970-01-01' as date)", date_expr, 'day') }})
{%- endmacro %}
