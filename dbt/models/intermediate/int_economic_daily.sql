{#-
    The BACEN series on every calendar day up to the run date, each forward-filled from
    its last known value: USD/BRL has no value on weekends and holidays, IPCA one a month.
    A month's IPCA (dated its first day, published in the next month) is used from the
    first day of the next month, so a day never sees a value that was not out yet.
-#}

with

series as (

    select * from {{ ref('stg_bacen__series') }}

),

calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

available as (

    select
        series_name,
        case
            when series_name = 'ipca_monthly_pct'
                then cast({{ dbt.dateadd('month', 1, 'value_date') }} as date)
            else value_date
        end as available_date,
        value

    from series

),

by_date as (

    select
        available_date as date_day,
        max(case when series_name = 'usd_brl' then value end) as usd_brl,
        max(case when series_name = 'selic_target_pct' then value end) as selic_target_pct,
        max(case when series_name = 'ipca_monthly_pct' then value end) as ipca_monthly_pct

    from available

    group by available_date

),

days as (

    select calendar_days.date_day

    from calendar_days

    cross join calendar_bounds

    where calendar_days.date_day <= calendar_bounds.run_date

),

timeline as (

    select date_day from days

    union

    select date_day from by_date

),

filled as (

    select
        timeline.date_day,
        {{ last_non_null('by_date.usd_brl') }} over (
            order by timeline.date_day rows between unbounded preceding and current row
        ) as usd_brl,
        {{ last_non_null('by_date.selic_target_pct') }} over (
            order by timeline.date_day rows between unbounded preceding and current row
        ) as selic_target_pct,
        {{ last_non_null('by_date.ipca_monthly_pct') }} over (
            order by timeline.date_day rows between unbounded preceding and current row
        ) as ipca_monthly_pct,
        by_date.usd_brl is not null as usd_brl_published

    from timeline

    left join by_date
        on by_date.date_day = timeline.date_day

),

final as (

    select
        filled.date_day,
        filled.usd_brl,
        filled.selic_target_pct,
        filled.ipca_monthly_pct,
        filled.usd_brl_published

    from filled

    inner join days
        on days.date_day = filled.date_day

)

select * from final
