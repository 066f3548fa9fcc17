with

inventory_snapshots as (

    select * from {{ ref('stg_erp__inventory_snapshots') }}

),

items as (

    select * from {{ ref('stg_erp__items') }}

),

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

-- snapshots after the run date belong to a later run
as_of_run_date as (

    select inventory_snapshots.*

    from inventory_snapshots

    cross join calendar_bounds

    where inventory_snapshots.snapshot_date <= calendar_bounds.run_date

),

final as (

    select
        {{ surrogate_key([
            'as_of_run_date.item_id',
            'as_of_run_date.depot_id',
            'as_of_run_date.snapshot_date',
        ]) }} as inventory_snapshot_key,
        as_of_run_date.item_id,
        as_of_run_date.depot_id,
        as_of_run_date.snapshot_date,
        as_of_run_date.on_hand,
        as_of_run_date.on_order,
        items.unit_cost,
        as_of_run_date.on_hand * items.unit_cost as stock_value

    from as_of_run_date

    left join items
        on as_of_run_date.item_id = items.item_id

)

select * from final
