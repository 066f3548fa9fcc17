{#-
    The work list of the run date D: one row per item x depot that needs attention, with
    one action and the reason in one sentence (pt-BR). The rules are documented in
    fct_actions.yml; in short, with L the lead time and the projection

        projected(h) = on_hand + open orders and approved workbench lines arriving by day h
                       - cumulative daily forecast up to day h          (h = 1 .. horizon)
        stockout day s = first h with projected(h) <= 0 (0 when nothing is on hand)

    the first rule that applies wins:
      expedite  s <= L and an open ERP order expected after s would, arriving now, keep the
                projection above zero until its expected date (the earliest such order);
      transfer  s <= L and another depot holds more of the item than its order-up-to:
                min(its excess, the units short over the lead time) units;
      order     position (on hand + on order + approved) <= reorder point and below the
                order-up-to: order-up-to - position rounded up to the MOQ; or s <= L with
                nothing above to help: at least the units short, rounded up to the MOQ;
      watch     the pair has an alert, or its position is within watch_margin above the
                reorder point.
-#}

with

reorder_points as (

    select * from {{ ref('fct_reorder_points') }}

),

forecasts as (

    select * from {{ ref('stg_ml__forecasts') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

suppliers as (

    select * from {{ ref('dim_suppliers') }}

),

towers as (

    select * from {{ ref('dim_towers') }}

),

stock_movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

open_purchase_orders as (

    select * from {{ ref('int_open_purchase_orders') }}

),

approved_order_lines as (

    select * from {{ ref('int_approved_order_lines') }}

),

alerts as (

    select * from {{ ref('fct_stock_alerts') }}

),

run_date as (

    select max(as_of_date) as as_of_date from reorder_points

),

pairs as (

    select
        reorder_points.as_of_date,
        reorder_points.item_id,
        reorder_points.depot_id,
        reorder_points.lead_time_days,
        -- the projection's days that fall within the lead time (at least day 1)
        greatest(ceil(reorder_points.lead_time_days), 1) as lead_time_horizon,
        reorder_points.avg_daily_demand,
        reorder_points.safety_stock,
        reorder_points.reorder_point,
        reorder_points.order_up_to,
        reorder_points.on_hand,
        reorder_points.on_order,
        reorder_points.unit_cost,
        cast(greatest(coalesce(items.min_order_qty, 1), 1) as {{ type_double() }}) as min_order_qty

    from reorder_points

    inner join run_date
        on reorder_points.as_of_date = run_date.as_of_date

    left join items
        on reorder_points.item_id = items.item_id

),

daily_forecasts as (

    select
        forecasts.item_id,
        forecasts.depot_id,
        forecasts.horizon_day,
        sum(forecasts.yhat) over (
            partition by forecasts.item_id, forecasts.depot_id
            order by forecasts.horizon_day
            rows between unbounded preceding and current row
        ) as cumulative_demand

    from forecasts

    inner join run_date
        on forecasts.forecast_date = run_date.as_of_date

),

-- every unit on its way, on the day of D's horizon it is expected (an overdue order: day 1)
purchase_order_arrivals as (

    select
        open_purchase_orders.po_id,
        open_purchase_orders.item_id,
        open_purchase_orders.depot_id,
        open_purchase_orders.quantity,
        open_purchase_orders.expected_date,
        greatest(
            {{ dbt.datediff('run_date.as_of_date', 'open_purchase_orders.expected_date', 'day') }}, 1
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
            pairs.lead_time_horizon
            - {{ dbt.datediff('approved_order_lines.approved_date', 'pairs.as_of_date', 'day') }},
            1
        ) as arrival_day

    from approved_order_lines

    inner join pairs
        on approved_order_lines.item_id = pairs.item_id
        and approved_order_lines.depot_id = pairs.depot_id

),

arrivals as (

    select item_id, depot_id, arrival_day, quantity from purchase_order_arrivals

    union all

    select item_id, depot_id, arrival_day, quantity from approved_arrivals

),

approved_on_order as (

    select
        item_id,
        depot_id,
        sum(quantity) as approved_on_order

    from approved_order_lines

    group by item_id, depot_id

),

arrived_by_day as (

    select
        daily_forecasts.item_id,
        daily_forecasts.depot_id,
        daily_forecasts.horizon_day,
        coalesce(sum(arrivals.quantity), 0) as arrived

    from daily_forecasts

    left join arrivals
        on daily_forecasts.item_id = arrivals.item_id
        and daily_forecasts.depot_id = arrivals.depot_id
        and arrivals.arrival_day <= daily_forecasts.horizon_day

    group by daily_forecasts.item_id, daily_forecasts.depot_id, daily_forecasts.horizon_day

),

projection as (

    select
        pairs.item_id,
        pairs.depot_id,
        daily_forecasts.horizon_day,
        pairs.lead_time_horizon,
        pairs.on_hand + arrived_by_day.arrived - daily_forecasts.cumulative_demand as projected_stock

    from pairs

    inner join daily_forecasts
        on pairs.item_id = daily_forecasts.item_id
        and pairs.depot_id = daily_forecasts.depot_id

    inner join arrived_by_day
        on daily_forecasts.item_id = arrived_by_day.item_id
        and daily_forecasts.depot_id = arrived_by_day.depot_id
        and daily_forecasts.horizon_day = arrived_by_day.horizon_day

),

projected_risk as (

    select
        item_id,
        depot_id,
        min(case when projected_stock <= 0 then horizon_day end) as first_day_without_stock,
        -- units short at the worst point of the lead time (0 when the stock lasts)
        greatest(-min(case when horizon_day <= lead_time_horizon then projected_stock end), 0) as shortfall_lead_time

    from projection

    group by item_id, depot_id

),

stockouts as (

    select
        pairs.item_id,
        pairs.depot_id,
        case
            when pairs.on_hand <= 0 then 0
            else projected_risk.first_day_without_stock
        end as days_to_stockout,
        coalesce(projected_risk.shortfall_lead_time, 0) as shortfall_lead_time

    from pairs

    left join projected_risk
        on pairs.item_id = projected_risk.item_id
        and pairs.depot_id = projected_risk.depot_id

),

-- an open order expected after the stockout covers it when, arriving now instead, it
-- keeps the projection above zero every day until its expected date
expedite_candidates as (

    select
        purchase_order_arrivals.item_id,
        purchase_order_arrivals.depot_id,
        purchase_order_arrivals.po_id,
        purchase_order_arrivals.quantity,
        purchase_order_arrivals.expected_date,
        purchase_order_arrivals.arrival_day

    from purchase_order_arrivals

    inner join stockouts
        on purchase_order_arrivals.item_id = stockouts.item_id
        and purchase_order_arrivals.depot_id = stockouts.depot_id

    inner join pairs
        on stockouts.item_id = pairs.item_id
        and stockouts.depot_id = pairs.depot_id

    left join projection
        on purchase_order_arrivals.item_id = projection.item_id
        and purchase_order_arrivals.depot_id = projection.depot_id
        and projection.horizon_day >= stockouts.days_to_stockout
        and projection.horizon_day < purchase_order_arrivals.arrival_day

    where stockouts.days_to_stockout <= pairs.lead_time_days
        and purchase_order_arrivals.arrival_day > stockouts.days_to_stockout

    group by
        purchase_order_arrivals.item_id,
        purchase_order_arrivals.depot_id,
        purchase_order_arrivals.po_id,
        purchase_order_arrivals.quantity,
        purchase_order_arrivals.expected_date,
        purchase_order_arrivals.arrival_day

    having purchase_order_arrivals.quantity + coalesce(min(projection.projected_stock), 0) > 0

),

expedite_choice as (

    select *
    from (
        select
            expedite_candidates.*,
            row_number() over (
                partition by item_id, depot_id
                order by arrival_day, expected_date, po_id
            ) as preference
        from expedite_candidates
    ) as ranked
    where preference = 1

),

transfer_sources as (

    select
        item_id,
        depot_id as source_depot_id,
        -- whole units; floor is a double on DuckDB, a bigint on Spark: one type for both
        cast(floor(on_hand - order_up_to) as {{ type_double() }}) as excess

    from pairs

    where on_hand - order_up_to >= 1

),

transfer_choice as (

    select *
    from (
        select
            pairs.item_id,
            pairs.depot_id,
            transfer_sources.source_depot_id,
            transfer_sources.excess,
            row_number() over (
                partition by pairs.item_id, pairs.depot_id
                order by transfer_sources.excess desc, transfer_sources.source_depot_id
            ) as preference
        from pairs
        inner join transfer_sources
            on pairs.item_id = transfer_sources.item_id
            and pairs.depot_id <> transfer_sources.source_depot_id
    ) as ranked
    where preference = 1

),

towers_used as (

    select distinct
        stock_movements.item_id,
        stock_movements.depot_id,
        stock_movements.tower_id

    from stock_movements

    cross join run_date

    where stock_movements.movement_type = 'consumption'
        and stock_movements.tower_id is not null
        and stock_movements.movement_date <= run_date.as_of_date
        and {{ dbt.datediff('stock_movements.movement_date', 'run_date.as_of_date', 'day') }} < 365

),

exposure as (

    select
        towers_used.item_id,
        towers_used.depot_id,
        count(*) as towers_exposed,
        sum(case when towers.sla_tier = 'platinum' then 1 else 0 end) as platinum_towers,
        max(case when towers.sla_tier = 'platinum' then 1 else 0 end) as has_platinum,
        max(case when towers.sla_tier = 'gold' then 1 else 0 end) as has_gold,
        max(case when towers.sla_tier = 'silver' then 1 else 0 end) as has_silver

    from towers_used

    left join towers
        on towers_used.tower_id = towers.tower_id

    group by towers_used.item_id, towers_used.depot_id

),

assessed as (

    select
        pairs.*,
        coalesce(approved_on_order.approved_on_order, 0) as approved_on_order,
        pairs.on_hand + pairs.on_order + coalesce(approved_on_order.approved_on_order, 0) as stock_position,
        stockouts.days_to_stockout,
        stockouts.shortfall_lead_time,
        -- units that keep the projection above zero through the lead time
        case
            when stockouts.days_to_stockout <= pairs.lead_time_days
                then cast(floor(stockouts.shortfall_lead_time) + 1 as {{ type_double() }})
        end as units_short,
        alerts.severity,
        alerts.alert_id,
        expedite_choice.po_id as expedite_po_id,
        expedite_choice.expected_date as expedite_expected_date,
        expedite_choice.quantity as expedite_quantity,
        transfer_choice.source_depot_id,
        transfer_choice.excess as source_excess

    from pairs

    inner join stockouts
        on pairs.item_id = stockouts.item_id
        and pairs.depot_id = stockouts.depot_id

    left join approved_on_order
        on pairs.item_id = approved_on_order.item_id
        and pairs.depot_id = approved_on_order.depot_id

    left join alerts
        on pairs.item_id = alerts.item_id
        and pairs.depot_id = alerts.depot_id

    left join expedite_choice
        on pairs.item_id = expedite_choice.item_id
        and pairs.depot_id = expedite_choice.depot_id

    left join transfer_choice
        on pairs.item_id = transfer_choice.item_id
        and pairs.depot_id = transfer_choice.depot_id
        -- a transfer helps only when it lands before the supplier's next delivery could
        and {{ var('transfer_days') }} < pairs.lead_time_days

),

decided as (

    select
        assessed.*,
        case
            when expedite_po_id is not null then 'expedite'
            when units_short is not null and source_depot_id is not null then 'transfer'
            when stock_position <= reorder_point and order_up_to > stock_position then 'order'
            when units_short is not null then 'order'
            when severity is not null then 'watch'
            when stock_position <= reorder_point * (1 + {{ var('watch_margin') }}) then 'watch'
        end as action

    from assessed

),

quantified as (

    select
        decided.*,
        case action
            when 'expedite' then expedite_quantity
            when 'transfer' then least(source_excess, units_short)
            when 'order' then
                -- the MOQ multiple that restores the order-up-to level and covers the
                -- shortfall; round(.., 9) keeps an exact multiple from rounding up
                greatest(
                    ceil(round(greatest(order_up_to - stock_position, coalesce(units_short, 0), 0) / min_order_qty, 9)),
                    1
                ) * min_order_qty
        end as quantity,
        case
            when action = 'expedite' then 'stockout_before_arrival'
            when action = 'transfer' then 'excess_elsewhere'
            when action = 'order' and stock_position <= reorder_point then 'below_reorder_point'
            when action = 'order' then 'stockout_within_lead_time'
            when severity is not null and on_order + approved_on_order > 0 then 'covered_by_open_orders'
            when severity is not null then 'alert_open'
            else 'near_reorder_point'
        end as reason_code

    from decided

    where action is not null

),

valued as (

    select
        quantified.*,
        unit_cost * shortfall_lead_time as value_at_risk,
        case when action <> 'watch' then unit_cost * quantity end as order_value,
        -- urgency: 1 when the stock is already out, 1/2 when it runs out at the lead time,
        -- 0 when it lasts the horizon; a small floor keeps value ordering among those
        (
            case
                when days_to_stockout is null then 0
                else greatest(lead_time_days, 1) / (greatest(lead_time_days, 1) + days_to_stockout)
            end
            + 0.01
        ) * greatest(unit_cost * shortfall_lead_time, unit_cost * avg_daily_demand * lead_time_days) as priority

    from quantified

),

{#- numbers with one decimal and a decimal comma (pt-BR), dates as ISO text -#}
{%- set n = "replace(cast(round(%s, 1) as " ~ dbt.type_string() ~ "), '.', ',')" %}
{%- set d = "cast(%s as " ~ dbt.type_string() ~ ")" %}
{#- A date as dd/mm/yyyy, as planners read it: cut from its ISO text, the same on every engine. -#}
{%- set iso = "cast(@ as " ~ dbt.type_string() ~ ")" %}
{%- set dmy = "(substr(" ~ iso ~ ", 9, 2) || '/' || substr(" ~ iso ~ ", 6, 2) || '/' || substr(" ~ iso ~ ", 1, 4))" %}
{%- set stockout = "case when valued.days_to_stockout = 0 then 'Sem estoque hoje' else 'Ruptura prevista em ' || cast(valued.days_to_stockout as " ~ dbt.type_string() ~ ") || ' dia(s)' end" %}
{%- set alert = "case valued.severity when 'critical' then 'Alerta crítico' else 'Alerta de atenção' end" %}

final as (

    select
        cast({{ surrogate_key(['valued.as_of_date', 'valued.item_id', 'valued.depot_id']) }} as {{ dbt.type_string() }}) as action_id,
        valued.as_of_date,
        valued.item_id,
        items.item_name,
        items.category,
        valued.depot_id,
        items.supplier_id,
        coalesce(suppliers.supplier_name, items.supplier_name) as supplier_name,
        valued.action,
        cast(valued.quantity as {{ type_double() }}) as quantity,
        valued.severity,
        valued.alert_id,
        valued.reason_code,
        case valued.reason_code
            when 'stockout_before_arrival' then
                {{ stockout }} || ', antes da chegada do pedido '
                || valued.expedite_po_id || ' (previsto para ' || {{ dmy.replace('@', 'valued.expedite_expected_date') }}
                || case when valued.expedite_expected_date <= valued.as_of_date then ', já atrasado' else '' end
                || '): antecipar a entrega de ' || {{ n % 'valued.quantity' }} || ' un.'
            when 'excess_elsewhere' then
                {{ stockout }} || ', dentro do prazo de reposição de '
                || {{ n % 'valued.lead_time_days' }} || ' dias: transferir ' || {{ n % 'valued.quantity' }}
                || ' un. do depósito ' || valued.source_depot_id || ', que tem ' || {{ n % 'valued.source_excess' }}
                || ' un. acima do seu nível máximo.'
            when 'below_reorder_point' then
                'Posição de ' || {{ n % 'valued.stock_position' }} || ' un. (estoque ' || {{ n % 'valued.on_hand' }}
                || ' + pedidos ' || {{ n % '(valued.on_order + valued.approved_on_order)' }}
                || ') no ou abaixo do ponto de pedido de ' || {{ n % 'valued.reorder_point' }}
                || ': pedir ' || {{ n % 'valued.quantity' }} || ' un. (lote mínimo ' || {{ n % 'valued.min_order_qty' }}
                || ') para repor até ' || {{ n % 'valued.order_up_to' }} || ' un.'
            when 'stockout_within_lead_time' then
                {{ stockout }} || ', dentro do prazo de reposição de '
                || {{ n % 'valued.lead_time_days' }} || ' dias, sem pedido ou transferência que chegue a tempo: pedir '
                || {{ n % 'valued.quantity' }} || ' un. (lote mínimo ' || {{ n % 'valued.min_order_qty' }} || ').'
            when 'near_reorder_point' then
                'Posição de ' || {{ n % 'valued.stock_position' }} || ' un. a menos de '
                || {{ d % ('cast(' ~ var('watch_margin') ~ ' * 100 as integer)') }} || '% acima do ponto de pedido de '
                || {{ n % 'valued.reorder_point' }} || ' un.: acompanhar.'
            when 'covered_by_open_orders' then
                {{ alert }} || ' em aberto, mas os pedidos em aberto ('
                || {{ n % '(valued.on_order + valued.approved_on_order)' }}
                || ' un.) chegam antes da ruptura dentro do prazo de reposição: acompanhar.'
            else
                {{ alert }} || ' em aberto; a posição de ' || {{ n % 'valued.stock_position' }}
                || ' un. ainda cobre o prazo de reposição: acompanhar.'
        end as reason,
        cast(valued.days_to_stockout as integer) as days_to_stockout,
        case
            when valued.days_to_stockout is not null
                then cast({{ dbt.dateadd('day', 'cast(valued.days_to_stockout as integer)', 'valued.as_of_date') }} as date)
        end as stockout_date,
        valued.on_hand,
        valued.on_order,
        cast(valued.approved_on_order as {{ type_double() }}) as approved_on_order,
        valued.reorder_point,
        valued.safety_stock,
        valued.order_up_to,
        valued.min_order_qty,
        valued.unit_cost,
        case when valued.action = 'expedite' then valued.expedite_po_id end as expedite_po_id,
        case when valued.action = 'expedite' then valued.expedite_expected_date end as expedite_expected_date,
        case when valued.action = 'transfer' then valued.source_depot_id end as transfer_from_depot_id,
        cast(coalesce(exposure.towers_exposed, 0) as integer) as towers_exposed,
        nullif(
            concat_ws(
                ',',
                case when exposure.has_platinum = 1 then 'platinum' end,
                case when exposure.has_gold = 1 then 'gold' end,
                case when exposure.has_silver = 1 then 'silver' end
            ),
            ''
        ) as sla_tiers,
        case
            when exposure.has_platinum = 1 then 'platinum'
            when exposure.has_gold = 1 then 'gold'
            when exposure.has_silver = 1 then 'silver'
        end as worst_sla_tier,
        cast(coalesce(exposure.platinum_towers, 0) as integer) as platinum_towers,
        -- the same as worst_sla_tier, under the name fct_stock_alerts uses
        case
            when exposure.has_platinum = 1 then 'platinum'
            when exposure.has_gold = 1 then 'gold'
            when exposure.has_silver = 1 then 'silver'
        end as sla_tier_max,
        cast(valued.value_at_risk as {{ type_double() }}) as value_at_risk,
        cast(valued.order_value as {{ type_double() }}) as order_value,
        cast(valued.priority as {{ type_double() }}) as priority,
        cast(valued.units_short as {{ type_double() }}) as units_short,
        valued.lead_time_days

    from valued

    left join items
        on valued.item_id = items.item_id

    left join suppliers
        on items.supplier_id = suppliers.supplier_id

    left join exposure
        on valued.item_id = exposure.item_id
        and valued.depot_id = exposure.depot_id

)

select * from final
