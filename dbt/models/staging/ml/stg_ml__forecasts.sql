{#- The forecasts of recent run dates (at most `forecast_history_days` before D). -#}

with

source as (

    select * from {{ source('ml', 'ml_forecasts') }}

),

bounds as (

    -- one row: max() also when run_date() is the constant D
    select max({{ run_date('forecast_date') }}) as run_date

    from source

),

final as (

    select
        source.forecast_date,
        source.item_id,
        source.depot_id,
        source.target_date,
        source.horizon_day,
        source.demand_class,
        source.yhat,
        source.yhat_lo_80,
        source.yhat_hi_80,
        source.yhat_lo_95,
        source.yhat_hi_95,
        source.model_name,
        source.model_version

    from source

    cross join bounds

    where source.forecast_date <= bounds.run_date
        and source.forecast_date > {{ dbt.dateadd('day', -var('forecast_history_days'), 'bounds.run_date') }}

)

select * from final
