with

source as (

    select * from {{ source('erp', 'suppliers') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='suppliers') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('supplier_id') }} as supplier_id,

        ---------- text
        {{ clean_string('name') }} as supplier_name,
        upper({{ clean_string('state') }}) as state,

        ---------- numerics
        cast(lead_time_mean_days as {{ type_double() }}) as lead_time_mean_days,
        cast(lead_time_std_days as {{ type_double() }}) as lead_time_std_days,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['supplier_id']) }}

),

final as (

    select
        supplier_id,
        supplier_name,
        state,
        lead_time_mean_days,
        lead_time_std_days,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
