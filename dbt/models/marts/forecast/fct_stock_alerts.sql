{#-
    Stock alerts of the run date D, one per item x depot at most: D's rows of the alert
    history (fct_alert_history computes them and their episodes). alert_id is the
    episode's id: the same problem keeps it across days and re-runs.
-#}

with

alert_history as (

    select * from {{ ref('fct_alert_history') }}

),

reorder_points as (

    select * from {{ ref('fct_reorder_points') }}

),

exposure as (

    select * from {{ ref('int_pair_sla_exposure') }}

),

run_date as (

    select max(as_of_date) as alert_date from reorder_points

),

final as (

    select
        alert_history.alert_id,
        alert_history.alert_date,
        alert_history.episode_start_date,
        alert_history.item_id,
        alert_history.depot_id,
        alert_history.severity,
        alert_history.on_hand,
        alert_history.on_order,
        alert_history.projected_position,
        alert_history.reorder_point,
        alert_history.safety_stock,
        alert_history.suggested_order_qty,
        alert_history.days_to_stockout,
        alert_history.message,
        cast(coalesce(exposure.towers_exposed, 0) as integer) as towers_exposed,
        cast(coalesce(exposure.platinum_towers, 0) as integer) as platinum_towers,
        exposure.sla_tier_max

    from alert_history

    left join exposure
        on alert_history.item_id = exposure.item_id
        and alert_history.depot_id = exposure.depot_id

    inner join run_date
        on alert_history.alert_date = run_date.alert_date

)

select * from final
