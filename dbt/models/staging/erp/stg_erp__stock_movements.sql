with

source as (

    select * from {{ source('erp', 'stock_movements') }}
    {{ incremental_window_filter() }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='stock_movements') }}

),

renamed as (

    select
        ---------- ids
        cast(movement_id as {{ dbt.type_bigint() }}) as movement_id,
        {{ clean_string('item_id') }} as item_id,
        {{ clean_string('depot_id') }} as depot_id,
        {{ clean_string('tower_id') }} as tower_id,

        ---------- text
        lower({{ clean_string('movement_type') }}) as movement_type,

        ---------- numerics
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,

        ---------- dates and timestamps
        cast(movement_date as date) as movement_date,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

-- on an incremental run, the window's rows compete with the versions already kept for
-- the same movement ids, so the latest version wins whatever order batches arrive in
candidates as (

    select * from renamed

    {% if is_incremental() %}
    union all

    select
        movement_id,
        item_id,
        depot_id,
        tower_id,
        movement_type,
        quantity,
        movement_date,
        updated_at,
        _row_id,
        _batch_id,
        _ingested_at

    from {{ this }}

    where movement_id in (select movement_id from renamed)
    {% endif %}

),

-- exact double postings share the movement_id and collapse here; a corrected
-- posting (same movement_id, later updated_at) replaces the earlier one
latest as (

    {{ latest_per_key('candidates', ['movement_id']) }}

),

final as (

    select
        movement_id,
        item_id,
        depot_id,
        tower_id,
        movement_type,
        quantity,
        movement_date,
        updated_at,
        _row_id,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
