with

source as (

    select * from {{ source('inmet', 'stations') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='stations') }}

),

renamed as (

    select
        {{ clean_string('CD_ESTACAO') }} as station_id,
        {{ clean_string('DC_NOME') }} as station_name,
        upper({{ clean_string('SG_ESTADO') }}) as state,
        {{ clean_string('CD_SITUACAO') }} as status,
        {{ text_to_double('VL_LATITUDE') }} as latitude,
        {{ text_to_double('VL_LONGITUDE') }} as longitude,
        {{ text_to_double('VL_ALTITUDE') }} as altitude_m,
        _ingest_date as listed_date,
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['station_id'], order_by=['listed_date desc', '_ingested_at desc', '_row_id desc']) }}

),

final as (

    select
        station_id,
        station_name,
        state,
        status,
        status = 'Operante' as is_operating,
        latitude,
        longitude,
        altitude_m,
        listed_date,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
