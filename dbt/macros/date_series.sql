{#
    One row per day, `date_day`, from `start_date` to `end_date` (both included).

    `start_date` and `end_date` are date expressions over the columns of `relation`, which
    has one row (e.g. a bounds model). Engines generate series differently, hence dispatch.
#}
{% macro date_series(relation, start_date, end_date) -%}
    {{ return(adapter.dispatch('date_series')(relation, start_date, end_date)) }}
{%- endmacro %}

{#- Portable: day offsets 0..99999 from a cross join of digits (about 270 years). -#}
{% macro default__date_series(relation, start_date, end_date) -%}
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'bounds.series_start') }} as date) as date_day
    from (
        select
            cast({{ start_date }} as date) as series_start,
            cast({{ end_date }} as date) as series_end
        from {{ relation }}
    ) as bounds
    cross join (
        select
            ones.digit + 10 * tens.digit + 100 * hundreds.digit
            + 1000 * thousands.digit + 10000 * ten_thousands.digit as day_offset
        from {{ date_series_digits() }} as ones
        cross join {{ date_series_digits() }} as tens
        cross join {{ date_series_digits() }} as hundreds
        cross join {{ date_series_digits() }} as thousands
        cross join {{ date_series_digits() }} as ten_thousands
    ) as day_offsets
    where day_offsets.day_offset <= {{ dbt.datediff('bounds.series_start', 'bounds.series_end', 'day') }}
{%- endmacro %}

{% macro duckdb__date_series(relation, start_date, end_date) -%}
    select cast(series.date_day as date) as date_day
    from {{ relation }}
    cross join unnest(
        generate_series(
            cast({{ start_date }} as timestamp),
            cast({{ end_date }} as timestamp),
            interval 1 day
        )
    ) as series (date_day)
{%- endmacro %}

{% macro date_series_digits() -%}
    (
        select 0 as digit union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    )
{%- endmacro %}
