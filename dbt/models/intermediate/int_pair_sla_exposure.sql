{#-
    The towers each item x depot protects: the depot's towers that consumed the item in
    the 365 days up to the run date D (ERP consumption movements with a tower), counted by
    SLA tier. fct_reorder_points sets the pair's service level from it (seed
    sla_service_levels); fct_stock_alerts and fct_actions carry it for the people (and the
    notifications) who act on a critical alert.
-#}

with

stock_movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

towers as (

    select * from {{ ref('dim_towers') }}

),

bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

towers_used as (

    select distinct
        stock_movements.item_id,
        stock_movements.depot_id,
        stock_movements.tower_id

    from stock_movements

    cross join bounds

    where stock_movements.movement_type = 'consumption'
        and stock_movements.tower_id is not null
        and stock_movements.movement_date <= bounds.run_date
        and {{ dbt.datediff('stock_movements.movement_date', 'bounds.run_date', 'day') }} < 365

),

final as (

    select
        towers_used.item_id,
        towers_used.depot_id,
        cast(count(*) as integer) as towers_exposed,
        cast(sum(case when towers.sla_tier = 'platinum' then 1 else 0 end) as integer) as platinum_towers,
        cast(sum(case when towers.sla_tier = 'gold' then 1 else 0 end) as integer) as gold_towers,
        cast(sum(case when towers.sla_tier = 'silver' then 1 else 0 end) as integer) as silver_towers,
        case
            when max(case when towers.sla_tier = 'platinum' then 1 else 0 end) = 1 then 'platinum'
            when max(case when towers.sla_tier = 'gold' then 1 else 0 end) = 1 then 'gold'
            when max(case when towers.sla_tier = 'silver' then 1 else 0 end) = 1 then 'silver'
        end as sla_tier_max

    from towers_used

    left join towers
        on towers_used.tower_id = towers.tower_id

    group by towers_used.item_id, towers_used.depot_id

)

select * from final
