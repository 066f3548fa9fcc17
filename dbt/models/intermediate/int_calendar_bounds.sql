{#- One row: the span of the demand history and of the calendar for this run. -#}

with

item_depot_pairs as (

    select * from {{ ref('int_item_depot_pairs') }}

),

daily_movements as (

    select * from {{ ref('int_daily_movements') }}

),

first_demand as (

    select min(first_stocked_date) as first_demand_date

    from item_depot_pairs

),

last_movement as (

    select max(movement_date) as last_movement_date

    from daily_movements

),

bounds as (

    select
        first_demand.first_demand_date,
        {{ run_date('last_movement.last_movement_date') }} as run_date

    from first_demand

    cross join last_movement

),

final as (

    select
        first_demand_date,
        run_date,
        cast({{ dbt.dateadd('day', 365, 'run_date') }} as date) as calendar_end_date

    from bounds

)

select * from final
