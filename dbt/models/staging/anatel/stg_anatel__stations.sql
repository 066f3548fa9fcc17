with

source as (

    select * from {{ source('anatel', 'stations') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='stations') }}

),

renamed as (

    select
        {{ clean_string('NumEstacao') }} as station_number,
        {{ br_text_to_double('FreqTxMHz') }} as tx_frequency_mhz,
        {{ clean_string('NomeEntidade') }} as operator_name,
        upper({{ clean_string('SiglaUf') }}) as state,
        {{ clean_string('CodMunicipio') }} as municipality_code,
        {{ clean_string('NomeMunicipio') }} as municipality,
        {{ clean_string('Tecnologia') }} as technology_code,
        case {{ clean_string('Tecnologia') }}
            when 'NR' then '5G'
            when 'LTE' then '4G'
            when 'WCDMA' then '3G'
            when 'GSM' then '2G'
        end as technology,
        {{ br_text_to_double('Latitude') }} as latitude,
        {{ br_text_to_double('Longitude') }} as longitude,
        cast(DataLicenciamento as date) as licensed_date,
        cast(DataPrimeiroLicenciamento as date) as first_licensed_date,
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['station_number', 'tx_frequency_mhz'], order_by=['licensed_date desc', '_ingested_at desc', '_row_id desc']) }}

),

final as (

    select
        station_number,
        tx_frequency_mhz,
        operator_name,
        state,
        municipality_code,
        municipality,
        technology_code,
        technology,
        latitude,
        longitude,
        licensed_date,
        first_licensed_date,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
