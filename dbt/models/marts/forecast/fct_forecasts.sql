with

forecasts as (

    select * from {{ ref('stg_ml__forecasts') }}

),

daily_demand as (

    select * from {{ ref('fct_daily_demand') }}

),

-- actuals are known for target days up to the run date (the fact ends there)
final as (

    select
        forecasts.forecast_date,
        forecasts.item_id,
        forecasts.depot_id,
        forecasts.target_date,
        forecasts.horizon_day,
        forecasts.demand_class,
        forecasts.yhat,
        forecasts.yhat_lo_80,
        forecasts.yhat_hi_80,
        forecasts.yhat_lo_95,
        forecasts.yhat_hi_95,
        forecasts.model_version,
        cast(daily_demand.demand_qty as {{ type_double() }}) as actual_qty,
        abs(forecasts.yhat - cast(daily_demand.demand_qty as {{ type_double() }})) as abs_error

    from forecasts

    left join daily_demand
        on forecasts.item_id = daily_demand.item_id
        and forecasts.depot_id = daily_demand.depot_id
        and forecasts.target_date = daily_demand.demand_date

)

select * from final
