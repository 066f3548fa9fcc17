{#-
    Reorder policy per item x depot as of the run date D, from D's forecasts:

      L   = lead time (days, item master), sigma_L = supplier's lead-time std (days)
      d   = mean daily forecast over the lead time (the horizon's days up to L)
      s_d = daily forecast error std, from the 80% conformal band: (hi_80 - yhat) / 1.2816
      demand_std_lead_time = sqrt(L * s_d^2 + d^2 * sigma_L^2)
      service_level = the target: the highest of the levels of the SLA tiers of the towers
                      the pair serves (int_pair_sla_exposure, seed sla_service_levels) and
                      of the item's category (seed service_levels, the floor)
      cycle_days    = the economic order cycle sqrt(2 K / (h / 365 * c * d)) within
                      [order_cycle_min_days, order_cycle_max_days] (vars order_cost K,
                      holding_rate h; c unit cost; the maximum when d = 0)
      value_weight  = c * cycle_days / its median over the pairs of the run (1 if that is 0)
      applied_service_level = 1 - k * (1 - service_level) * value_weight within
                      [service_level_min, service_level_max] (vars; k = var
                      service_risk_scale, 1 by default), on the 1/2000 grid
                      (floor(level * 2000 + 0.5)): the stockout risk per cycle scaled by the
                      value a unit of safety stock ties up, the allocation that minimises
                      inventory value for a fill rate (docs/replenishment.md)
      z             = normal quantile of applied_service_level (seed normal_quantiles)
      safety_stock  = z * demand_std_lead_time
      reorder_point = d * L + safety_stock
      lead_time_model = 'bootstrap' for the pairs of the classes in var
                      lead_time_bootstrap_classes (intermittent, lumpy: the classes
                      benchmarks/inventory_policy.py's backtest chose) with quantiles in
                      stg_ml__lead_time_quantiles for D at a level at or above the applied
                      one: reorder_point = the lead-time demand quantile at the smallest
                      such stored level, safety_stock = reorder_point - d * L. Else
                      'normal' (the formulas above), also when the forecast step wrote no
                      quantiles for the pair.
      order_up_to   = reorder_point + greatest(d * cycle_days, min order quantity)
      suggested_order_qty = order_up_to - (on_hand + on_order), rounded up to a multiple
                            of the minimum order quantity, when the position is at or
                            below the reorder point; else 0.
    ml/inventory.py implements the same formulas (tested against hand-computed cases);
    value_aware_service_levels is the level rule benchmarks/inventory_policy.py replays.
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

sla_service_levels as (

    select * from {{ ref('sla_service_levels') }}

),

normal_quantiles as (

    select * from {{ ref('normal_quantiles') }}

),

lead_time_quantiles as (

    select * from {{ ref('stg_ml__lead_time_quantiles') }}

),

exposure as (

    select * from {{ ref('int_pair_sla_exposure') }}

),

-- one row per pair and SLA tier it serves, with that tier's level for its tower count
exposure_by_tier as (

    select item_id, depot_id, 'platinum' as sla_tier, platinum_towers as towers from exposure where platinum_towers > 0
    union all
    select item_id, depot_id, 'gold' as sla_tier, gold_towers as towers from exposure where gold_towers > 0
    union all
    select item_id, depot_id, 'silver' as sla_tier, silver_towers as towers from exposure where silver_towers > 0

),

tier_levels as (

    select
        exposure_by_tier.item_id,
        exposure_by_tier.depot_id,
        exposure_by_tier.sla_tier,
        exposure_by_tier.towers,
        case
            when exposure_by_tier.towers >= sla_service_levels.many_towers then sla_service_levels.service_level_many
            else sla_service_levels.service_level
        end as service_level,
        case
            when exposure_by_tier.towers >= sla_service_levels.many_towers then sla_service_levels.z_score_many
            else sla_service_levels.z_score
        end as z_score,
        sla_service_levels.tier_rank

    from exposure_by_tier

    inner join sla_service_levels
        on exposure_by_tier.sla_tier = sla_service_levels.sla_tier

),

best_tier_levels as (

    select *
    from (
        select
            tier_levels.*,
            row_number() over (
                partition by item_id, depot_id order by service_level desc, tier_rank
            ) as preference
        from tier_levels
    ) as ranked
    where preference = 1

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

category_policy_inputs as (

    select distinct
        latest_forecasts.forecast_date,
        latest_forecasts.item_id,
        latest_forecasts.depot_id,
        latest_forecasts.demand_class,
        cast(items.lead_time_days as {{ type_double() }}) as lead_time_days,
        cast(coalesce(suppliers.lead_time_std_days, 0) as {{ type_double() }}) as lead_time_std_days,
        cast(greatest(coalesce(items.min_order_qty, 1), 1) as {{ type_double() }}) as min_order_qty,
        cast(items.unit_cost as {{ type_double() }}) as unit_cost,
        coalesce(category_levels.service_level, default_levels.service_level) as category_service_level,
        coalesce(category_levels.z_score, default_levels.z_score) as category_z_score,
        coalesce(items.category, 'default') as category

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

pair_policy_inputs as (

    select
        category_policy_inputs.*,
        case
            when best_tier_levels.service_level > category_policy_inputs.category_service_level
                then best_tier_levels.service_level
            else category_policy_inputs.category_service_level
        end as service_level,
        case
            when best_tier_levels.service_level > category_policy_inputs.category_service_level
                then best_tier_levels.z_score
            else category_policy_inputs.category_z_score
        end as z_score,
        case
            when best_tier_levels.service_level > category_policy_inputs.category_service_level
                then best_tier_levels.sla_tier
            else 'category'
        end as service_level_source,
        case
            when best_tier_levels.service_level > category_policy_inputs.category_service_level
                then best_tier_levels.sla_tier || ': ' || cast(best_tier_levels.towers as {{ dbt.type_string() }})
                    || ' tower(s) served in the last 365 days'
            when best_tier_levels.sla_tier is not null
                then 'category ' || category_policy_inputs.category || ' floor (above the '
                    || best_tier_levels.sla_tier || ' level of its towers)'
            else 'category ' || category_policy_inputs.category || ' floor (no tower served in the last 365 days)'
        end as service_level_reason,
        coalesce(exposure.towers_exposed, 0) as towers_exposed,
        coalesce(exposure.platinum_towers, 0) as platinum_towers,
        exposure.sla_tier_max

    from category_policy_inputs

    left join best_tier_levels
        on category_policy_inputs.item_id = best_tier_levels.item_id
        and category_policy_inputs.depot_id = best_tier_levels.depot_id

    left join exposure
        on category_policy_inputs.item_id = exposure.item_id
        and category_policy_inputs.depot_id = exposure.depot_id

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
        pair_policy_inputs.category_service_level,
        pair_policy_inputs.service_level_source,
        pair_policy_inputs.service_level_reason,
        pair_policy_inputs.towers_exposed,
        pair_policy_inputs.platinum_towers,
        pair_policy_inputs.sla_tier_max,
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

cycles as (

    select
        policy.*,
        case
            when policy.avg_daily_demand * policy.unit_cost > 0
                then least(
                    greatest(
                        sqrt(
                            -- doubles: Spark would divide the literals as decimals (rounded)
                            2 * cast({{ var('order_cost') }} as {{ type_double() }})
                            / (cast({{ var('holding_rate') }} as {{ type_double() }}) / 365
                                * policy.avg_daily_demand * policy.unit_cost)
                        ),
                        {{ var('order_cycle_min_days') }}
                    ),
                    {{ var('order_cycle_max_days') }}
                )
            else {{ var('order_cycle_max_days') }}
        end as order_cycle_days

    from policy

),

-- the value a unit of safety stock ties up for a cycle, of the median pair of the run
value_reference as (

    select {{ median_of('unit_cost * order_cycle_days') }} as median_cycle_value

    from cycles

),

value_levels as (

    select
        cycles.*,
        -- a pair without a unit cost keeps its target (and the median skips it)
        case
            when value_reference.median_cycle_value > 0
                then coalesce(cycles.unit_cost * cycles.order_cycle_days / value_reference.median_cycle_value, 1.0)
            else 1.0
        end as value_weight

    from cycles

    cross join value_reference

),

applied_levels as (

    select
        value_levels.*,
        cast(floor(
            least(
                greatest(
                    1 - {{ var('service_risk_scale') }} * (1 - value_levels.service_level) * value_levels.value_weight,
                    {{ var('service_level_min') }}
                ),
                {{ var('service_level_max') }}
            ) * 2000 + 0.5
        ) as integer) as level_key

    from value_levels

),

safety_stocks as (

    select
        applied_levels.*,
        normal_quantiles.service_level as applied_service_level,
        normal_quantiles.z_score as applied_z_score,
        normal_quantiles.z_score * applied_levels.demand_std_lead_time as normal_safety_stock

    from applied_levels

    inner join normal_quantiles
        on applied_levels.level_key = normal_quantiles.level_key

),

-- the smallest stored level at or above the applied one (keys: integers, exact compare)
bootstrap_levels as (

    select
        safety_stocks.item_id,
        safety_stocks.depot_id,
        safety_stocks.as_of_date,
        min(lead_time_quantiles.level_key) as level_key

    from safety_stocks

    inner join lead_time_quantiles
        on safety_stocks.item_id = lead_time_quantiles.item_id
        and safety_stocks.depot_id = lead_time_quantiles.depot_id
        and safety_stocks.as_of_date = lead_time_quantiles.forecast_date
        and lead_time_quantiles.level_key >= safety_stocks.level_key

    where safety_stocks.demand_class in (
        {%- for demand_class in var('lead_time_bootstrap_classes') %}
        '{{ demand_class }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

    group by safety_stocks.item_id, safety_stocks.depot_id, safety_stocks.as_of_date

),

bootstrap_reorder_points as (

    select
        bootstrap_levels.item_id,
        bootstrap_levels.depot_id,
        lead_time_quantiles.lead_time_demand

    from bootstrap_levels

    inner join lead_time_quantiles
        on bootstrap_levels.item_id = lead_time_quantiles.item_id
        and bootstrap_levels.depot_id = lead_time_quantiles.depot_id
        and bootstrap_levels.as_of_date = lead_time_quantiles.forecast_date
        and bootstrap_levels.level_key = lead_time_quantiles.level_key

),

reorder_levels as (

    select
        safety_stocks.*,
        case
            when bootstrap_reorder_points.lead_time_demand is not null then 'bootstrap'
            else 'normal'
        end as lead_time_model,
        coalesce(
            bootstrap_reorder_points.lead_time_demand,
            safety_stocks.avg_daily_demand * safety_stocks.lead_time_days
            + safety_stocks.normal_safety_stock
        ) as reorder_point,
        coalesce(
            bootstrap_reorder_points.lead_time_demand
            - safety_stocks.avg_daily_demand * safety_stocks.lead_time_days,
            safety_stocks.normal_safety_stock
        ) as safety_stock

    from safety_stocks

    left join bootstrap_reorder_points
        on safety_stocks.item_id = bootstrap_reorder_points.item_id
        and safety_stocks.depot_id = bootstrap_reorder_points.depot_id

),

levels as (

    select
        reorder_levels.*,
        reorder_levels.reorder_point
        + greatest(reorder_levels.avg_daily_demand * reorder_levels.order_cycle_days, reorder_levels.min_order_qty)
        as order_up_to

    from reorder_levels

),

final as (

    select
        as_of_date,
        item_id,
        depot_id,
        demand_class,
        cast(service_level as {{ type_double() }}) as service_level,
        cast(category_service_level as {{ type_double() }}) as category_service_level,
        service_level_source,
        service_level_reason,
        cast(towers_exposed as integer) as towers_exposed,
        cast(platinum_towers as integer) as platinum_towers,
        sla_tier_max,
        cast(order_cycle_days as {{ type_double() }}) as order_cycle_days,
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
        unit_cost,
        cast(value_weight as {{ type_double() }}) as value_weight,
        cast(applied_service_level as {{ type_double() }}) as applied_service_level,
        cast(applied_z_score as {{ type_double() }}) as applied_z_score,
        lead_time_model

    from levels

)

select * from final
