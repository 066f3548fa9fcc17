with

source as (

    select * from {{ source('appdb', 'order_lines') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='order_lines') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('line_id') }} as line_id,
        {{ clean_string('order_id') }} as order_id,
        {{ clean_string('supplier_id') }} as supplier_id,
        {{ clean_string('item_id') }} as item_id,
        {{ clean_string('depot_id') }} as depot_id,

        ---------- text
        lower({{ clean_string('order_status') }}) as order_status,

        ---------- numerics
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,

        ---------- dates and timestamps
        cast(approved_at as {{ dbt.type_timestamp() }}) as approved_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

-- every run snapshots the lines again: the latest snapshot holds the order's status now
-- (an approved line later cancelled comes back as cancelled)
latest as (

    {{ latest_per_key('renamed', ['line_id'], ['_ingested_at desc nulls last', 'updated_at desc nulls last', '_row_id desc']) }}

),

final as (

    select
        line_id,
        order_id,
        supplier_id,
        order_status,
        item_id,
        depot_id,
        quantity,
        approved_at,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
