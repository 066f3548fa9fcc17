with

source as (

    select * from {{ source('inmet', 'observations') }}
    {{ incremental_window_filter() }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='observations') }}

),

renamed as (

    select
        {{ clean_string('CD_ESTACAO') }} as station_id,
        cast(DT_MEDICAO as date) as observation_date,
        cast(substr(HR_MEDICAO, 1, 2) as {{ dbt.type_int() }}) as observation_hour_utc,
        {{ text_to_double('CHUVA') }} as precipitation_mm,
        {{ text_to_double('TEM_INS') }} as temperature_c,
        {{ text_to_double('TEM_MAX') }} as temperature_max_c,
        {{ text_to_double('TEM_MIN') }} as temperature_min_c,
        {{ text_to_double('UMD_INS') }} as humidity_pct,
        {{ text_to_double('UMD_MAX') }} as humidity_max_pct,
        {{ text_to_double('UMD_MIN') }} as humidity_min_pct,
        {{ text_to_double('VEN_VEL') }} as wind_speed_ms,
        {{ text_to_double('VEN_RAJ') }} as wind_gust_ms,
        _ingest_date,
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

-- A run replaces whole days: bronze partitions hold the records of their own date
-- (requests are by date), so a day's rows all come from one partition.
dated as (

    select * from renamed

    where observation_date = _ingest_date

),

latest as (

    {{ latest_per_key('dated', ['station_id', 'observation_date', 'observation_hour_utc'], order_by=['_ingested_at desc', '_row_id desc']) }}

),

final as (

    select
        station_id,
        observation_date,
        observation_hour_utc,
        precipitation_mm,
        temperature_c,
        temperature_max_c,
        temperature_min_c,
        humidity_pct,
        humidity_max_pct,
        humidity_min_pct,
        wind_speed_ms,
        wind_gust_ms,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
