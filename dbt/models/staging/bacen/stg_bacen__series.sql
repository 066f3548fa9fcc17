with

source as (

    select * from {{ source('bacen', 'series') }}

),

quarantine as (

    select * from {{ source('quality', 'quarantine') }}

),

accepted as (

    {{ exclude_quarantined('source', 'quarantine', entity='series') }}

),

renamed as (

    select
        cast(series_code as {{ dbt.type_int() }}) as series_code,
        case cast(series_code as {{ dbt.type_int() }})
            when 433 then 'ipca_monthly_pct'
            when 1 then 'usd_brl'
            when 432 then 'selic_target_pct'
        end as series_name,
        {{ br_text_to_date('data') }} as value_date,
        {{ text_to_double('valor') }} as value,
        _row_id,
        _batch_id,
        _ingested_at

    from accepted

),

latest as (

    {{ latest_per_key('renamed', ['series_code', 'value_date'], order_by=['_ingested_at desc', '_row_id desc']) }}

),

final as (

    select
        series_code,
        series_name,
        value_date,
        value,
        _batch_id,
        _ingested_at

    from latest

)

select * from final
