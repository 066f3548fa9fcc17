{#- The lead-time demand quantiles of recent run dates (at most `forecast_history_days` before D). -#}

with

source as (

    select * from {{ source('ml', 'lead_time_quantiles') }}

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
        source.demand_class,
        cast(source.level_key as integer) as level_key,
        cast(source.service_level as {{ type_double() }}) as service_level,
        cast(source.lead_time_demand as {{ type_double() }}) as lead_time_demand,
        cast(source.draws as integer) as draws

    from source

    cross join bounds

    where source.forecast_date <= bounds.run_date
        and source.forecast_date > {{ dbt.dateadd('day', -var('forecast_history_days'), 'bounds.run_date') }}

)

select * from final
