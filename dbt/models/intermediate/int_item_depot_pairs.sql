with

inventory_snapshots as (

    select * from {{ ref('stg_erp__inventory_snapshots') }}

),

daily_movements as (

    select * from {{ ref('int_daily_movements') }}

),

-- a pair is stocked from its first snapshot or its first movement, whichever is first
stocked_evidence as (

    select
        item_id,
        depot_id,
        snapshot_date as stocked_date,
        'snapshot' as evidence

    from inventory_snapshots

    union all

    select
        item_id,
        depot_id,
        movement_date as stocked_date,
        'movement' as evidence

    from daily_movements

),

pairs as (

    select
        item_id,
        depot_id,
        min(stocked_date) as first_stocked_date,
        min(case when evidence = 'snapshot' then stocked_date end) as first_snapshot_date,
        min(case when evidence = 'movement' then stocked_date end) as first_movement_date

    from stocked_evidence

    group by
        item_id,
        depot_id

),

final as (

    select
        -- 40 bits, so that fct_daily_demand can add the day number to it
        {{ surrogate_key(['item_id', 'depot_id'], bits=40) }} as pair_key,
        item_id,
        depot_id,
        first_stocked_date,
        first_snapshot_date,
        first_movement_date

    from pairs

)

select * from final
