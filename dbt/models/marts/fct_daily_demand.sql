{#-
    Every stocked pair x every day from its first stocked date to the run date.

    Built whole on a full refresh, a backfill and the first run. A daily run rebuilds only
    the days it touched (see `touched_days`) and the `delta` materialization replaces
    exactly those date partitions of the published table (incremental_strategy
    replace_partitions): a day is content-identical to a full build once every input of
    it is, so the table equals a full rebuild (tests/unit/dbt/test_incremental_demand.py).
-#}

with

item_depot_pairs as (

    select * from {{ ref('int_item_depot_pairs') }}

),

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

daily_movements as (

    select * from {{ ref('int_daily_movements') }}

),

{% if is_incremental() %}

published as (

    select * from {{ this }}

),

-- the window's bronze versions of movements and every earlier version of the same ids:
-- a corrected movement changes the day it was on and the day it moved to
window_movements as (

    select movement_id

    from {{ source('erp', 'stock_movements') }}

    where _ingest_date >= cast('{{ env_var("NOVA_RUN_START") }}' as date)

),

changed_movement_days as (

    select distinct cast(movement_date as date) as demand_date

    from {{ source('erp', 'stock_movements') }}

    where movement_id in (select movement_id from window_movements)

),

published_bounds as (

    select max(demand_date) as last_published_date

    from published

),

-- each published pair's first day, by its key base (pair_key * 2^23; see series_day_key):
-- one BIGINT column instead of grouping millions of rows by two strings
published_pairs as (

    select
        daily_demand_key - (daily_demand_key % 8388608) as pair_base,
        min(demand_date) as first_published_date

    from published

    group by daily_demand_key - (daily_demand_key % 8388608)

),

current_pairs as (

    select
        item_depot_pairs.pair_key * 8388608 as pair_base,
        item_depot_pairs.first_stocked_date

    from item_depot_pairs

    cross join calendar_bounds

    where item_depot_pairs.first_stocked_date <= calendar_bounds.run_date

),

-- pairs that are new, gone, or start on another day: the days between the old and the
-- new first day change (all of a new or gone pair's days)
changed_pair_spans as (

    select
        case
            when current_pairs.first_stocked_date is null then published_pairs.first_published_date
            when published_pairs.first_published_date is null then current_pairs.first_stocked_date
            when current_pairs.first_stocked_date < published_pairs.first_published_date
                then current_pairs.first_stocked_date
            else published_pairs.first_published_date
        end as span_start,
        case
            when current_pairs.first_stocked_date is null or published_pairs.first_published_date is null
                then calendar_bounds.run_date
            when current_pairs.first_stocked_date < published_pairs.first_published_date
                then published_pairs.first_published_date
            else current_pairs.first_stocked_date
        end as span_end,
        -- the span's last day is included only for a new or gone pair
        case
            when current_pairs.first_stocked_date is null or published_pairs.first_published_date is null
                then 1
            else 0
        end as span_end_included

    from current_pairs

    full outer join published_pairs
        on current_pairs.pair_base = published_pairs.pair_base

    cross join calendar_bounds

    where current_pairs.first_stocked_date is null
        or published_pairs.first_published_date is null
        or current_pairs.first_stocked_date <> published_pairs.first_published_date

),

changed_span_days as (

    select calendar_days.date_day as demand_date

    from calendar_days

    inner join changed_pair_spans
        on calendar_days.date_day >= changed_pair_spans.span_start
        and (
            calendar_days.date_day < changed_pair_spans.span_end
            or (changed_pair_spans.span_end_included = 1
                and calendar_days.date_day = changed_pair_spans.span_end)
        )

),

-- days after the last published one (all of them on a first incremental build)
new_days as (

    select calendar_days.date_day as demand_date

    from calendar_days

    cross join published_bounds

    where published_bounds.last_published_date is null
        or calendar_days.date_day > published_bounds.last_published_date

),

-- the days this run rebuilds, within [first day, run date]: the first and the run date
-- always (they bound the table: the materialization drops published days outside
-- them), new days, days of changed movements and the changed spans of pairs
touched_days as (

    select distinct candidate_days.demand_date

    from (

        select first_demand_date as demand_date from calendar_bounds
        union all
        select run_date as demand_date from calendar_bounds
        union all
        select demand_date from new_days
        union all
        select demand_date from changed_movement_days
        union all
        select demand_date from changed_span_days

    ) as candidate_days

    cross join calendar_bounds

    where candidate_days.demand_date >= calendar_bounds.first_demand_date
        and candidate_days.demand_date <= calendar_bounds.run_date

),

build_days as (

    select
        touched_days.demand_date as date_day

    from touched_days

),

{% else %}

build_days as (

    select calendar_days.date_day

    from calendar_days

    cross join calendar_bounds

    where calendar_days.date_day <= calendar_bounds.run_date

),

{% endif %}

-- every stocked pair gets every (built) day from its first stocked date up to the run date
pair_days as (

    select
        item_depot_pairs.pair_key,
        item_depot_pairs.item_id,
        item_depot_pairs.depot_id,
        build_days.date_day as demand_date

    from item_depot_pairs

    inner join build_days
        on build_days.date_day >= item_depot_pairs.first_stocked_date

),

-- movements keyed by the integer pair_key: the zero-fill join below then runs on
-- (integer, date) instead of (string, string, date) over millions of rows
pair_movements as (

    select
        item_depot_pairs.pair_key,
        daily_movements.movement_date,
        daily_movements.demand_qty,
        daily_movements.movement_count,
        daily_movements.receipts_qty,
        daily_movements.adjustments_qty

    from daily_movements

    inner join item_depot_pairs
        on daily_movements.item_id = item_depot_pairs.item_id
        and daily_movements.depot_id = item_depot_pairs.depot_id

    {% if is_incremental() %}
    where daily_movements.movement_date in (select date_day from build_days)
    {% endif %}

),

zero_filled as (

    select
        pair_days.pair_key,
        pair_days.item_id,
        pair_days.depot_id,
        pair_days.demand_date,
        coalesce(pair_movements.demand_qty, 0) as demand_qty,
        coalesce(pair_movements.movement_count, 0) as movement_count,
        coalesce(pair_movements.receipts_qty, 0) as receipts_qty,
        coalesce(pair_movements.adjustments_qty, 0) as adjustments_qty

    from pair_days

    left join pair_movements
        on pair_days.pair_key = pair_movements.pair_key
        and pair_days.demand_date = pair_movements.movement_date

),

final as (

    select
        {{ series_day_key('pair_key', 'demand_date') }} as daily_demand_key,
        item_id,
        depot_id,
        demand_date,
        demand_qty,
        movement_count,
        receipts_qty,
        adjustments_qty

    from zero_filled

)

select * from final
