{#-
    Stock alerts of every daily run, one per item x depot and date at most (the worse
    severity), with the episode each belongs to:
      critical: a stockout is projected before any open order or transfer can arrive: the
                projection (on hand + open ERP orders on their expected dates + approved
                workbench lines one lead time after approval - the cumulative daily
                forecast) reaches zero on day s within the lead time (an order placed
                today would arrive too late), and no other depot holds stock above its
                order-up-to that a transfer (var transfer_days) would land before s;
      warning:  the same stockout within the lead time that a transfer can prevent, or the
                projected position = on_hand + on_order - forecast demand over the lead
                time is below the reorder point.
    days_to_stockout is s (0 when nothing is on hand; null when the stock lasts the
    horizon), the same projection as fct_actions.
    An episode is the consecutive daily runs in which the pair has an alert of any
    severity: it starts on the run date D unless the pair had an alert in the previous run
    (the latest alert_date < D in this history), whose episode it then continues.
    alert_id is the surrogate key of (item_id, depot_id, episode_start_date): the same
    problem keeps its id from day to day, also when it worsens (warning -> critical).

    Incremental: a run computes D's rows only (from D's forecasts and policy) and replaces
    D's rows in the history (delete+insert by alert_date on DuckDB, merge on Spark), so
    re-running D gives the same rows.
-#}

with

reorder_points as (

    select * from {{ ref('fct_reorder_points') }}

),

forecasts as (

    select * from {{ ref('stg_ml__forecasts') }}

),

open_purchase_orders as (

    select * from {{ ref('int_open_purchase_orders') }}

),

approved_order_lines as (

    select * from {{ ref('int_approved_order_lines') }}

),

run_date as (

    select max(as_of_date) as alert_date from reorder_points

),

latest_forecasts as (

    select forecasts.*

    from forecasts

    inner join reorder_points
        on forecasts.forecast_date = reorder_points.as_of_date
        and forecasts.item_id = reorder_points.item_id
        and forecasts.depot_id = reorder_points.depot_id

),

cumulative_demand as (

    select
        item_id,
        depot_id,
        horizon_day,
        yhat,
        sum(yhat) over (
            partition by item_id, depot_id
            order by horizon_day
            rows between unbounded preceding and current row
        ) as cumulative_yhat

    from latest_forecasts

),

lead_time_demand as (

    select
        reorder_points.item_id,
        reorder_points.depot_id,
        -- the horizon's days up to L, scaled to L when L exceeds the horizon
        reorder_points.avg_daily_demand * reorder_points.lead_time_days as demand_over_lead_time

    from reorder_points

),

-- every unit on its way, on the day of D's horizon it is expected (an overdue order: day 1)
purchase_order_arrivals as (

    select
        open_purchase_orders.item_id,
        open_purchase_orders.depot_id,
        open_purchase_orders.quantity,
        greatest(
            {{ dbt.datediff('run_date.alert_date', 'open_purchase_orders.expected_date', 'day') }}, 1
        ) as arrival_day

    from open_purchase_orders

    cross join run_date

),

-- an approved workbench line is expected one lead time after its approval
approved_arrivals as (

    select
        approved_order_lines.item_id,
        approved_order_lines.depot_id,
        approved_order_lines.quantity,
        greatest(
            greatest(ceil(reorder_points.lead_time_days), 1)
            - {{ dbt.datediff('approved_order_lines.approved_date', 'reorder_points.as_of_date', 'day') }},
            1
        ) as arrival_day

    from approved_order_lines

    inner join reorder_points
        on approved_order_lines.item_id = reorder_points.item_id
        and approved_order_lines.depot_id = reorder_points.depot_id

),

arrivals as (

    select item_id, depot_id, arrival_day, quantity from purchase_order_arrivals

    union all

    select item_id, depot_id, arrival_day, quantity from approved_arrivals

),

projection as (

    select
        cumulative_demand.item_id,
        cumulative_demand.depot_id,
        cumulative_demand.horizon_day,
        max(reorder_points.on_hand) + coalesce(sum(arrivals.quantity), 0)
        - max(cumulative_demand.cumulative_yhat) as projected_stock

    from cumulative_demand

    inner join reorder_points
        on cumulative_demand.item_id = reorder_points.item_id
        and cumulative_demand.depot_id = reorder_points.depot_id

    left join arrivals
        on cumulative_demand.item_id = arrivals.item_id
        and cumulative_demand.depot_id = arrivals.depot_id
        and arrivals.arrival_day <= cumulative_demand.horizon_day

    group by cumulative_demand.item_id, cumulative_demand.depot_id, cumulative_demand.horizon_day

),

stockouts as (

    select
        reorder_points.item_id,
        reorder_points.depot_id,
        case
            when reorder_points.on_hand <= 0 then 0
            else min(projection.horizon_day)
        end as days_to_stockout

    from reorder_points

    left join projection
        on reorder_points.item_id = projection.item_id
        and reorder_points.depot_id = projection.depot_id
        and projection.projected_stock <= 0

    group by reorder_points.item_id, reorder_points.depot_id, reorder_points.on_hand

),

-- depots holding an item above their order-up-to level: a transfer could come from them
transfer_sources as (

    select distinct
        item_id,
        depot_id as source_depot_id

    from reorder_points

    where on_hand - order_up_to >= 1

),

transfer_help as (

    select distinct
        reorder_points.item_id,
        reorder_points.depot_id

    from reorder_points

    inner join transfer_sources
        on reorder_points.item_id = transfer_sources.item_id
        and reorder_points.depot_id <> transfer_sources.source_depot_id

),

assessed as (

    select
        reorder_points.as_of_date as alert_date,
        reorder_points.item_id,
        reorder_points.depot_id,
        reorder_points.on_hand,
        reorder_points.on_order,
        reorder_points.on_hand + reorder_points.on_order
        - lead_time_demand.demand_over_lead_time as projected_position,
        reorder_points.reorder_point,
        reorder_points.safety_stock,
        reorder_points.suggested_order_qty,
        reorder_points.lead_time_days,
        cast(stockouts.days_to_stockout as integer) as days_to_stockout,
        -- a transfer lands in time: before the stockout and before the supplier could
        transfer_help.item_id is not null
        and {{ var('transfer_days') }} < stockouts.days_to_stockout
        and {{ var('transfer_days') }} < reorder_points.lead_time_days as transfer_in_time

    from reorder_points

    inner join lead_time_demand
        on reorder_points.item_id = lead_time_demand.item_id
        and reorder_points.depot_id = lead_time_demand.depot_id

    inner join stockouts
        on reorder_points.item_id = stockouts.item_id
        and reorder_points.depot_id = stockouts.depot_id

    left join transfer_help
        on reorder_points.item_id = transfer_help.item_id
        and reorder_points.depot_id = transfer_help.depot_id

),

classified as (

    select
        assessed.*,
        case
            when days_to_stockout is not null and days_to_stockout <= lead_time_days
                and not coalesce(transfer_in_time, false)
                then 'critical'
            when days_to_stockout is not null and days_to_stockout <= lead_time_days
                then 'warning'
            when projected_position < reorder_point
                then 'warning'
        end as severity

    from assessed

),

todays_alerts as (

    select * from classified where severity is not null

),

{% if is_incremental() %}

previous_run as (

    select max(history.alert_date) as alert_date

    from {{ this }} as history

    cross join run_date

    where history.alert_date < run_date.alert_date

),

previous_alerts as (

    select
        history.item_id,
        history.depot_id,
        history.episode_start_date

    from {{ this }} as history

    inner join previous_run
        on history.alert_date = previous_run.alert_date

),

{% else %}

-- the first build has no history: every alert opens its episode
previous_alerts as (

    select
        cast(null as {{ dbt.type_string() }}) as item_id,
        cast(null as {{ dbt.type_string() }}) as depot_id,
        cast(null as date) as episode_start_date

    from run_date

    where 1 = 0

),

{% endif %}

episodes as (

    select
        todays_alerts.*,
        coalesce(previous_alerts.episode_start_date, todays_alerts.alert_date) as episode_start_date

    from todays_alerts

    left join previous_alerts
        on todays_alerts.item_id = previous_alerts.item_id
        and todays_alerts.depot_id = previous_alerts.depot_id

),

final as (

    select
        cast({{ surrogate_key(['item_id', 'depot_id', 'episode_start_date']) }} as {{ dbt.type_string() }}) as alert_id,
        alert_date,
        episode_start_date,
        item_id,
        depot_id,
        severity,
        on_hand,
        on_order,
        projected_position,
        reorder_point,
        safety_stock,
        suggested_order_qty,
        days_to_stockout,
        {{ dbt.concat([
            "severity",
            "': item '",
            "item_id",
            "' at depot '",
            "depot_id",
            "case when days_to_stockout is not null then ' runs out in ' || cast(days_to_stockout as " ~ dbt.type_string() ~ ") || ' days' else '' end",
            "'; position '",
            "cast(round(on_hand + on_order, 1) as " ~ dbt.type_string() ~ ")",
            "' vs reorder point '",
            "cast(round(reorder_point, 1) as " ~ dbt.type_string() ~ ")",
            "case when severity = 'critical' then '; it runs out before any open order or transfer can arrive: expedite or order now (see the work list)' when suggested_order_qty > 0 then '; order ' || cast(suggested_order_qty as " ~ dbt.type_string() ~ ") else '; no new order: ' || cast(round(on_order, 1) as " ~ dbt.type_string() ~ ") || ' on order covers the position (see the work list)' end",
        ]) }} as message

    from episodes

)

select * from final
