with

calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

holidays as (

    select * from {{ ref('int_holidays_by_date') }}

),

calendar as (

    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as year,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as quarter,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as month,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        {{ week_of_year_iso('date_day') }} as week_of_year,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        {{ day_of_year('date_day') }} as day_of_year,
        {{ day_of_week_iso('date_day') }} as day_of_week

    from calendar_days

),

final as (

    select
        calendar.date_day,
        calendar.year,
        calendar.quarter,
        calendar.month,
        calendar.month_start_date,
        calendar.week_of_year,
        calendar.week_start_date,
        calendar.day_of_month,
        calendar.day_of_year,
        calendar.day_of_week,
        calendar.day_of_week in (6, 7) as is_weekend,
        holidays.holiday_date is not null as is_holiday,
        coalesce(holidays.is_public_holiday, false) as is_public_holiday,
        holidays.holiday_name,
        holidays.holiday_scope,
        -- the rainy season on the Bahia coast: April to July
        calendar.month between 4 and 7 as is_rainy_season

    from calendar

    left join holidays
        on calendar.date_day = holidays.holiday_date

)

select * from final
