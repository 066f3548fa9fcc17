{#- One row per day from the first demand date to run_date + 365 days. -#}

with

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

days as (

    {{ date_series('calendar_bounds', 'first_demand_date', 'calendar_end_date') }}

),

final as (

    select * from days

)

select * from final
