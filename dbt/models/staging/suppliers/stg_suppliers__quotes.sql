with

source as (

    select * from {{ source('suppliers', 'quotes') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='quotes') }}

),

renamed as (

    select
        {{ clean_string('quote_id') }} as quote_id,
        {{ clean_string('supplier_id') }} as supplier_id,
        {{ clean_string('item_id') }} as item_id,
        {{ text_to_double('unit_price') }} as unit_price,
        upper({{ clean_string('currency') }}) as currency,
        {{ dbt.safe_cast('lead_time_days', dbt.type_int()) }} as lead_time_days,
        {{ dbt.safe_cast('min_order_qty', dbt.type_int()) }} as min_order_qty,
        cast(valid_until as date) as valid_until,
        cast(substr(quoted_at, 1, 10) as date) as quote_date,
        _ingest_date,
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['quote_id'], order_by=['_ingested_at desc', '_row_id desc']) }}

),

final as (

    select
        quote_id,
        supplier_id,
        item_id,
        unit_price,
        currency,
        lead_time_days,
        min_order_qty,
        quote_date,
        valid_until,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
