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

-- fct_daily_demand's days with a movement, read from its inputs rather than from its 12.6M
-- zero-filled rows (scanning those was most of this model's time): a stocked pair's days
-- run from its first stocked date to the run date, and its movements all fall on or after
-- that first date, so these are exactly the fact's rows with a movement
item_depot_pairs as (

    select * from {{ ref('int_item_depot_pairs') }}

),

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

daily_movements as (

    select * from {{ ref('int_daily_movements') }}

),

snapshots as (

    select * from {{ ref('fct_inventory_snapshot') }}

),

-- each pair's days in fct_daily_demand: its first stocked date to the run date. The
-- ledger below runs on the pair's integer key (a window partitioned by two strings over
-- millions of rows was most of this model's time); the ids come back at the end.
pair_spans as (

    select
        item_depot_pairs.pair_key,
        item_depot_pairs.item_id,
        item_depot_pairs.depot_id,
        item_depot_pairs.first_stocked_date as first_day,
        calendar_bounds.run_date as last_day

    from item_depot_pairs

    cross join calendar_bounds

    where item_depot_pairs.first_stocked_date <= calendar_bounds.run_date

),

daily_demand as (

    select
        pair_spans.pair_key,
        daily_movements.movement_date as demand_date,
        daily_movements.demand_qty,
        daily_movements.receipts_qty,
        daily_movements.adjustments_qty

    from daily_movements

    inner join pair_spans
        on daily_movements.item_id = pair_spans.item_id
        and daily_movements.depot_id = pair_spans.depot_id
        and daily_movements.movement_date >= pair_spans.first_day
        and daily_movements.movement_date <= pair_spans.last_day

),

-- Stock only changes on days with a movement: the ledger runs over those days (a few
-- million rows) rather than over every zero-filled day of fct_daily_demand, and the
-- days in between, when stock stays at or below zero, are spelled out at the end.
ledger as (

    select
        pair_key,
        demand_date,
        demand_qty,
        adjustments_qty,
        net_qty,
        sum(net_qty) over (
            partition by pair_key
            order by demand_date
            rows between unbounded preceding and current row
        ) as cumulative_net,
        lead(demand_date) over (
            partition by pair_key
            order by demand_date
        ) as next_moved_date

    from (
        select
            pair_key,
            demand_date,
            cast(demand_qty as {{ type_double() }}) as demand_qty,
            cast(adjustments_qty as {{ type_double() }}) as adjustments_qty,
            cast(receipts_qty - demand_qty + adjustments_qty as {{ type_double() }}) as net_qty
        from daily_demand
        where demand_qty <> 0 or receipts_qty <> 0 or adjustments_qty <> 0
    ) as moved_days

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

-- end-of-day stock = anchor + cumulative net movements; the cumulative net on the
-- snapshot day is the sum of the net movements up to it (integers: exact in doubles)
anchors as (

    select
        pair_spans.pair_key,
        latest_snapshots.on_hand - coalesce(sum(ledger.net_qty), 0) as anchor

    from latest_snapshots

    -- a snapshot outside the pair's days anchors nothing
    inner join pair_spans
        on latest_snapshots.item_id = pair_spans.item_id
        and latest_snapshots.depot_id = pair_spans.depot_id
        and latest_snapshots.snapshot_date >= pair_spans.first_day
        and latest_snapshots.snapshot_date <= pair_spans.last_day

    left join ledger
        on pair_spans.pair_key = ledger.pair_key
        and ledger.demand_date <= latest_snapshots.snapshot_date

    group by
        pair_spans.pair_key,
        latest_snapshots.on_hand

),

moved_stock as (

    select
        ledger.pair_key,
        ledger.demand_date,
        ledger.demand_qty,
        anchors.anchor + ledger.cumulative_net + ledger.demand_qty - ledger.adjustments_qty as available_qty

    from ledger

    inner join anchors
        on ledger.pair_key = anchors.pair_key

),

-- the days without a movement keep the previous day's end of stock: before the first
-- movement the anchor, after each movement day its end, up to the next one (or the last day)
still_spans as (

    select
        pair_spans.pair_key,
        pair_spans.first_day as span_start,
        coalesce(first_moves.first_moved_date, {{ dbt.dateadd('day', 1, 'pair_spans.last_day') }}) as span_end,
        anchors.anchor as available_qty

    from pair_spans

    inner join anchors
        on pair_spans.pair_key = anchors.pair_key

    left join (
        select pair_key, min(demand_date) as first_moved_date
        from ledger
        group by pair_key
    ) as first_moves
        on pair_spans.pair_key = first_moves.pair_key

    union all

    select
        ledger.pair_key,
        {{ dbt.dateadd('day', 1, 'ledger.demand_date') }} as span_start,
        coalesce(ledger.next_moved_date, {{ dbt.dateadd('day', 1, 'pair_spans.last_day') }}) as span_end,
        anchors.anchor + ledger.cumulative_net as available_qty

    from ledger

    inner join anchors
        on ledger.pair_key = anchors.pair_key

    inner join pair_spans
        on ledger.pair_key = pair_spans.pair_key

),

out_spans as (

    select * from still_spans
    where available_qty <= 0 and span_start < span_end

),

day_bounds as (

    select min(span_start) as first_day, max(span_end) as last_day
    from out_spans

),

days as (

    {{ date_series('day_bounds', 'first_day', 'last_day') }}

),

still_stock as (

    select
        out_spans.pair_key,
        cast(days.date_day as date) as demand_date,
        cast(0 as {{ type_double() }}) as demand_qty,
        out_spans.available_qty

    from out_spans

    inner join days
        on days.date_day >= out_spans.span_start
        and days.date_day < out_spans.span_end

),

stock as (

    select * from moved_stock
    union all
    select * from still_stock

),

final as (

    select
        pair_spans.item_id,
        pair_spans.depot_id,
        stock.demand_date as stock_date,
        case when stock.available_qty <= 0 then 'out' else 'cut' end as stock_state,
        stock.available_qty,
        stock.demand_qty as recorded_qty

    from stock

    inner join pair_spans
        on stock.pair_key = pair_spans.pair_key

    where stock.available_qty <= 0
        or stock.demand_qty >= stock.available_qty

)

select * from final
