with

source as (

    select * from {{ source('erp', 'items') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='items') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('item_id') }} as item_id,
        {{ clean_string('supplier_id') }} as supplier_id,

        ---------- text
        {{ clean_string('name') }} as item_name,
        {{ clean_string('category') }} as category,
        {{ clean_string('family') }} as family,
        {{ clean_string('technology') }} as technology,

        ---------- numerics
        cast(unit_cost as {{ type_double() }}) as unit_cost,
        cast(lead_time_days as {{ dbt.type_bigint() }}) as lead_time_days,
        cast(min_order_qty as {{ dbt.type_bigint() }}) as min_order_qty,
        cast(min_stock as {{ dbt.type_bigint() }}) as min_stock,
        cast(max_stock as {{ dbt.type_bigint() }}) as max_stock,

        ---------- timestamps
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['item_id']) }}

),

final as (

    select
        item_id,
        supplier_id,
        item_name,
        category,
        family,
        technology,
        unit_cost,
        lead_time_days,
        min_order_qty,
        min_stock,
        max_stock,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
