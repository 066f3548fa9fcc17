with

source as (

    select * from {{ source('erp', 'towers') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='towers') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_string('tower_id') }} as tower_id,
        {{ clean_string('depot_id') }} as depot_id,

        ---------- text
        {{ clean_string('municipality') }} as municipality,
        upper({{ clean_string('state') }}) as state,
        lower({{ clean_string('sla_tier') }}) as sla_tier,
        {{ clean_string('technology') }} as technology,

        ---------- numerics
        cast(lat as {{ type_double() }}) as latitude,
        cast(lon as {{ type_double() }}) as longitude,

        ---------- dates and timestamps
        cast(commissioned_at as date) as commissioned_date,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,

        ---------- audit
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['tower_id']) }}

),

final as (

    select
        tower_id,
        depot_id,
        municipality,
        state,
        sla_tier,
        technology,
        latitude,
        longitude,
        commissioned_date,
        updated_at,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
