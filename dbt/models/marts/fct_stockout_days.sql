{#-
    The days an item x depot had no stock to issue, or ran out during the day: where its
    recorded consumption (fct_daily_demand) is censored by stock, so the demand was
    higher than recorded. Stock is rebuilt from the ledger: end-of-day on hand = the latest
    snapshot's on hand + the net movements (receipts - consumption + adjustments) since
    (or - before) it; the stock available on a day = the previous day's end + its
    receipts (receipts come before issues, adjustments after).

      out: available <= 0: nothing could be issued; the day's demand is unknown (missing,
           not zero);
      cut: 0 < available <= recorded consumption: the stock ran out that day; the demand
           was at least the recorded consumption (right-censored).

    Only those days have a row. ml/data.py (load_gold_demand, censored=...) and
    ml/censoring.py read it; the policy's demand estimates and the forecasts' training
    history then treat them as missing or censored instead of as low demand.
-#}

with

daily_demand as (

    select * from {{ ref('fct_daily_demand') }}

),

snapshots as (

    select * from {{ ref('fct_inventory_snapshot') }}

),

ledger as (

    select
        item_id,
        depot_id,
        demand_date,
        cast(demand_qty as {{ type_double() }}) as demand_qty,
        cast(receipts_qty as {{ type_double() }}) as receipts_qty,
        cast(adjustments_qty as {{ type_double() }}) as adjustments_qty,
        sum(cast(receipts_qty - demand_qty + adjustments_qty as {{ type_double() }})) over (
            partition by item_id, depot_id
            order by demand_date
            rows between unbounded preceding and current row
        ) as cumulative_net

    from daily_demand

),

latest_snapshots as (

    select item_id, depot_id, snapshot_date, on_hand
    from (
        select
            item_id,
            depot_id,
            snapshot_date,
            cast(on_hand as {{ type_double() }}) as on_hand,
            row_number() over (partition by item_id, depot_id order by snapshot_date desc) as recency
        from snapshots
    ) as ranked
    where recency = 1

),

anchors as (

    select
        latest_snapshots.item_id,
        latest_snapshots.depot_id,
        -- end-of-day stock = anchor + cumulative net movements
        latest_snapshots.on_hand - ledger.cumulative_net as anchor

    from latest_snapshots

    inner join ledger
        on latest_snapshots.item_id = ledger.item_id
        and latest_snapshots.depot_id = ledger.depot_id
        and latest_snapshots.snapshot_date = ledger.demand_date

),

stock as (

    select
        ledger.item_id,
        ledger.depot_id,
        ledger.demand_date,
        ledger.demand_qty,
        anchors.anchor + ledger.cumulative_net + ledger.demand_qty - ledger.adjustments_qty as available_qty

    from ledger

    inner join anchors
        on ledger.item_id = anchors.item_id
        and ledger.depot_id = anchors.depot_id

),

final as (

    select
        item_id,
        depot_id,
        demand_date as stock_date,
        case when available_qty <= 0 then 'out' else 'cut' end as stock_state,
        available_qty,
        demand_qty as recorded_qty

    from stock

    where available_qty <= 0
        or demand_qty >= available_qty

)

select * from final
