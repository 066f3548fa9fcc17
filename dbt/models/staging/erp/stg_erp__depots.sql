with

source as (

    select * from {{ source('erp', 'depots') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='depots') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('depot_id') }} as depot_id,

        ---------- text
        {{ clean_string('name') }} as depot_name,
        {{ clean_string('municipality') }} as municipality,
        upper({{ clean_string('state') }}) as state,

        ---------- numerics
        cast(lat as {{ type_double() }}) as latitude,
        cast(lon as {{ type_double() }}) as longitude,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['depot_id']) }}

),

final as (

    select
        depot_id,
        depot_name,
        municipality,
        state,
        latitude,
        longitude,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
