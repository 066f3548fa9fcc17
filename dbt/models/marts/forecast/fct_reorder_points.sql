{#-
    Reorder policy per item x depot as of the run date D, from D's forecasts:

      L   = lead time (days, item master), sigma_L = supplier's lead-time std (days)
      d   = mean daily forecast over the lead time (the horizon's days up to L)
      s_d = daily forecast error std, from the 80% conformal band: (hi_80 - yhat) / 1.2816
      demand_std_lead_time = sqrt(L * s_d^2 + d^2 * sigma_L^2)
      safety_stock  = z(service level of the item's category) * demand_std_lead_time
      reorder_point = d * L + safety_stock
      order_up_to   = reorder_point + d * order_cycle_days
      suggested_order_qty = order_up_to - (on_hand + on_order), rounded up to a multiple
                            of the minimum order quantity, when the position is at or
                            below the reorder point; else 0.
    ml/inventory.py implements the same formulas (tested against hand-computed cases).
-#}

with

forecasts as (

    select * from {{ ref('stg_ml__forecasts') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

suppliers as (

    select * from {{ ref('dim_suppliers') }}

),

inventory as (

    select * from {{ ref('fct_inventory_snapshot') }}

),

service_levels as (

    select * from {{ ref('service_levels') }}

),

latest_run as (

    select max(forecast_date) as forecast_date

    from forecasts

),

latest_forecasts as (

    select forecasts.*

    from forecasts

    inner join latest_run
        on forecasts.forecast_date = latest_run.forecast_date

),

pair_policy_inputs as (

    select distinct
        latest_forecasts.forecast_date,
        latest_forecasts.item_id,
        latest_forecasts.depot_id,
        latest_forecasts.demand_class,
        cast(items.lead_time_days as {{ type_double() }}) as lead_time_days,
        cast(coalesce(suppliers.lead_time_std_days, 0) as {{ type_double() }}) as lead_time_std_days,
        cast(greatest(coalesce(items.min_order_qty, 1), 1) as {{ type_double() }}) as min_order_qty,
        cast(items.unit_cost as {{ type_double() }}) as unit_cost,
        coalesce(category_levels.service_level, default_levels.service_level) as service_level,
        coalesce(category_levels.z_score, default_levels.z_score) as z_score

    from latest_forecasts

    inner join items
        on latest_forecasts.item_id = items.item_id

    left join suppliers
        on items.supplier_id = suppliers.supplier_id

    left join service_levels as category_levels
        on items.category = category_levels.category

    cross join service_levels as default_levels

    where default_levels.category = 'default'

),

lead_time_forecasts as (

    select
        pair_policy_inputs.item_id,
        pair_policy_inputs.depot_id,
        avg(latest_forecasts.yhat) as avg_daily_demand,
        avg((latest_forecasts.yhat_hi_80 - latest_forecasts.yhat) / 1.2816) as daily_error_std

    from pair_policy_inputs

    inner join latest_forecasts
        on pair_policy_inputs.item_id = latest_forecasts.item_id
        and pair_policy_inputs.depot_id = latest_forecasts.depot_id
        and latest_forecasts.horizon_day <= greatest(ceil(pair_policy_inputs.lead_time_days), 1)

    group by pair_policy_inputs.item_id, pair_policy_inputs.depot_id

),

ranked_positions as (

    select
        item_id,
        depot_id,
        cast(on_hand as {{ type_double() }}) as on_hand,
        cast(on_order as {{ type_double() }}) as on_order,
        row_number() over (
            partition by item_id, depot_id order by snapshot_date desc
        ) as recency

    from inventory

),

positions as (

    select * from ranked_positions where recency = 1

),

policy as (

    select
        pair_policy_inputs.forecast_date as as_of_date,
        pair_policy_inputs.item_id,
        pair_policy_inputs.depot_id,
        pair_policy_inputs.demand_class,
        pair_policy_inputs.service_level,
        pair_policy_inputs.z_score,
        pair_policy_inputs.lead_time_days,
        pair_policy_inputs.lead_time_std_days,
        pair_policy_inputs.min_order_qty,
        pair_policy_inputs.unit_cost,
        lead_time_forecasts.avg_daily_demand,
        sqrt(
            pair_policy_inputs.lead_time_days * power(lead_time_forecasts.daily_error_std, 2)
            + power(lead_time_forecasts.avg_daily_demand, 2)
            * power(pair_policy_inputs.lead_time_std_days, 2)
        ) as demand_std_lead_time,
        coalesce(positions.on_hand, 0) as on_hand,
        coalesce(positions.on_order, 0) as on_order

    from pair_policy_inputs

    inner join lead_time_forecasts
        on pair_policy_inputs.item_id = lead_time_forecasts.item_id
        and pair_policy_inputs.depot_id = lead_time_forecasts.depot_id

    left join positions
        on pair_policy_inputs.item_id = positions.item_id
        and pair_policy_inputs.depot_id = positions.depot_id

),

safety_stocks as (

    select
        policy.*,
        policy.z_score * policy.demand_std_lead_time as safety_stock

    from policy

),

reorder_levels as (

    select
        safety_stocks.*,
        safety_stocks.avg_daily_demand * safety_stocks.lead_time_days
        + safety_stocks.safety_stock as reorder_point

    from safety_stocks

),

levels as (

    select
        reorder_levels.*,
        reorder_levels.reorder_point
        + reorder_levels.avg_daily_demand * {{ var('order_cycle_days') }} as order_up_to

    from reorder_levels

),

final as (

    select
        as_of_date,
        item_id,
        depot_id,
        demand_class,
        cast(service_level as {{ type_double() }}) as service_level,
        lead_time_days,
        avg_daily_demand,
        demand_std_lead_time,
        safety_stock,
        reorder_point,
        order_up_to,
        on_hand,
        on_order,
        case
            when on_hand + on_order <= reorder_point
                then ceil(round(greatest(order_up_to - on_hand - on_order, 0) / min_order_qty, 9)) * min_order_qty
            else 0
        end as suggested_order_qty,
        unit_cost

    from levels

)

select * from final
