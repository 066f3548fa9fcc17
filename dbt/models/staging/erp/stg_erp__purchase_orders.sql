with

source as (

    select * from {{ source('erp', 'purchase_orders') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='purchase_orders') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('po_id') }} as po_id,
        {{ clean_string('item_id') }} as item_id,
        {{ clean_string('depot_id') }} as depot_id,
        {{ clean_string('supplier_id') }} as supplier_id,
        {{ clean_string('external_ref') }} as external_ref,

        ---------- text
        lower({{ clean_string('status') }}) as status,

        ---------- numerics
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,

        ---------- dates and timestamps
        cast(order_date as date) as order_date,
        cast(expected_date as date) as expected_date,
        cast(received_date as date) as received_date,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

-- a purchase order changes status over its life (open -> received or cancelled): each
-- change is a new bronze version, and the latest one is the order's state
latest as (

    {{ latest_per_key('renamed', ['po_id']) }}

),

final as (

    select
        po_id,
        item_id,
        depot_id,
        supplier_id,
        quantity,
        order_date,
        expected_date,
        received_date,
        status,
        external_ref,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
