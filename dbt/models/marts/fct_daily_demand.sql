with

item_depot_pairs as (

    select * from {{ ref('int_item_depot_pairs') }}

),

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

daily_movements as (

    select * from {{ ref('int_daily_movements') }}

),

-- every stocked pair gets every day from its first stocked date up to the run date
pair_days as (

    select
        item_depot_pairs.pair_key,
        item_depot_pairs.item_id,
        item_depot_pairs.depot_id,
        calendar_days.date_day as demand_date

    from item_depot_pairs

    cross join calendar_bounds

    inner join calendar_days
        on calendar_days.date_day >= item_depot_pairs.first_stocked_date
        and calendar_days.date_day <= calendar_bounds.run_date

),

-- movements keyed by the integer pair_key: the zero-fill join below then runs on
-- (integer, date) instead of (string, string, date) over millions of rows
pair_movements as (

    select
        item_depot_pairs.pair_key,
        daily_movements.movement_date,
        daily_movements.demand_qty,
        daily_movements.movement_count,
        daily_movements.receipts_qty,
        daily_movements.adjustments_qty

    from daily_movements

    inner join item_depot_pairs
        on daily_movements.item_id = item_depot_pairs.item_id
        and daily_movements.depot_id = item_depot_pairs.depot_id

),

zero_filled as (

    select
        pair_days.pair_key,
        pair_days.item_id,
        pair_days.depot_id,
        pair_days.demand_date,
        coalesce(pair_movements.demand_qty, 0) as demand_qty,
        coalesce(pair_movements.movement_count, 0) as movement_count,
        coalesce(pair_movements.receipts_qty, 0) as receipts_qty,
        coalesce(pair_movements.adjustments_qty, 0) as adjustments_qty

    from pair_days

    left join pair_movements
        on pair_days.pair_key = pair_movements.pair_key
        and pair_days.demand_date = pair_movements.movement_date

),

final as (

    select
        {{ series_day_key('pair_key', 'demand_date') }} as daily_demand_key,
        item_id,
        depot_id,
        demand_date,
        demand_qty,
        movement_count,
        receipts_qty,
        adjustments_qty

    from zero_filled

)

select * from final
