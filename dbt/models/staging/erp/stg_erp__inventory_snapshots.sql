with

source as (

    select * from {{ source('erp', 'inventory_snapshots') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='inventory_snapshots') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('item_id') }} as item_id,
        {{ clean_string('depot_id') }} as depot_id,

        ---------- numerics
        cast(on_hand as {{ dbt.type_bigint() }}) as on_hand,
        cast(on_order as {{ dbt.type_bigint() }}) as on_order,

        ---------- dates and timestamps
        cast(snapshot_date as date) as snapshot_date,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['item_id', 'depot_id', 'snapshot_date']) }}

),

final as (

    select
        item_id,
        depot_id,
        snapshot_date,
        on_hand,
        on_order,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
