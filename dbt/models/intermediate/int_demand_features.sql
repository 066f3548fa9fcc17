{#-
    Drivers of demand per depot and day, from the first demand date to the run date.

    Grain: depot x day (a few thousand rows), not item x depot x day: every driver here is
    the same for all the items of a depot on a day, so the forecaster joins this model to
    fct_daily_demand on (depot_id, demand_date) instead of the run writing ~13M copies.

    Joins: the depot's own daily demand (int_daily_movements, summed over items); its
    region's weather (int_depot_daily_weather: its nearest INMET stations), a missing day
    filled forward from the last observed one, with lags and rolling rain over the
    filled series; the BACEN series (int_economic_daily, forward-filled); the licensed
    4G/5G stations in its region in the day's month (int_depot_station_counts_monthly);
    holidays (int_holidays_by_date).
-#}

with

depots as (

    select * from {{ ref('stg_erp__depots') }}

),

calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

calendar_bounds as (

    select * from {{ ref('int_calendar_bounds') }}

),

daily_movements as (

    select * from {{ ref('int_daily_movements') }}

),

weather as (

    select * from {{ ref('int_depot_daily_weather') }}

),

economics as (

    select * from {{ ref('int_economic_daily') }}

),

station_counts as (

    select * from {{ ref('int_depot_station_counts_monthly') }}

),

holidays as (

    select * from {{ ref('int_holidays_by_date') }}

),

depot_days as (

    select
        depots.depot_id,
        calendar_days.date_day

    from depots

    cross join calendar_days

    cross join calendar_bounds

    where calendar_days.date_day between calendar_bounds.first_demand_date and calendar_bounds.run_date

),

depot_demand as (

    select
        depot_id,
        movement_date,
        sum(demand_qty) as demand_qty

    from daily_movements

    group by
        depot_id,
        movement_date

),

weather_filled as (

    select
        depot_days.depot_id,
        depot_days.date_day,
        weather.precipitation_mm is null as weather_imputed,
        {% for column in ['precipitation_mm', 'temperature_max_c', 'temperature_min_c', 'humidity_pct', 'wind_speed_ms'] %}
        {{ last_non_null('weather.' ~ column) }} over (
            partition by depot_days.depot_id
            order by depot_days.date_day
            rows between unbounded preceding and current row
        ) as {{ column }}{{ ',' if not loop.last }}
        {% endfor %}

    from depot_days

    left join weather
        on weather.depot_id = depot_days.depot_id
        and weather.weather_date = depot_days.date_day

),

weather_features as (

    select
        depot_id,
        date_day,
        weather_imputed,
        precipitation_mm,
        temperature_max_c,
        temperature_min_c,
        humidity_pct,
        wind_speed_ms,
        lag(precipitation_mm, 1) over (partition by depot_id order by date_day) as precipitation_lag_1d_mm,
        lag(precipitation_mm, 7) over (partition by depot_id order by date_day) as precipitation_lag_7d_mm,
        lag(temperature_max_c, 1) over (partition by depot_id order by date_day) as temperature_max_lag_1d_c,
        sum(precipitation_mm) over (
            partition by depot_id order by date_day rows between 6 preceding and current row
        ) as rain_7d_mm,
        sum(precipitation_mm) over (
            partition by depot_id order by date_day rows between 29 preceding and current row
        ) as rain_30d_mm,
        sum(case when precipitation_mm >= 1 then 1 else 0 end) over (
            partition by depot_id order by date_day rows between 6 preceding and current row
        ) as rainy_days_7d

    from weather_filled

),

final as (

    select
        weather_features.depot_id,
        weather_features.date_day,
        cast(coalesce(depot_demand.demand_qty, 0) as {{ dbt.type_bigint() }}) as depot_demand_qty,
        weather_features.precipitation_mm,
        weather_features.temperature_max_c,
        weather_features.temperature_min_c,
        weather_features.humidity_pct,
        weather_features.wind_speed_ms,
        weather_features.weather_imputed,
        weather_features.precipitation_lag_1d_mm,
        weather_features.precipitation_lag_7d_mm,
        weather_features.temperature_max_lag_1d_c,
        weather_features.rain_7d_mm,
        weather_features.rain_30d_mm,
        cast(weather_features.rainy_days_7d as {{ dbt.type_int() }}) as rainy_days_7d,
        economics.usd_brl,
        economics.selic_target_pct,
        economics.ipca_monthly_pct,
        coalesce(station_counts.stations_5g, 0) as stations_5g,
        coalesce(station_counts.stations_4g, 0) as stations_4g,
        coalesce(station_counts.new_stations_5g, 0) as new_stations_5g,
        holidays.holiday_date is not null as is_holiday,
        coalesce(holidays.is_public_holiday, false) as is_public_holiday

    from weather_features

    left join depot_demand
        on depot_demand.depot_id = weather_features.depot_id
        and depot_demand.movement_date = weather_features.date_day

    left join economics
        on economics.date_day = weather_features.date_day

    left join station_counts
        on station_counts.depot_id = weather_features.depot_id
        and station_counts.month_start_date = cast({{ dbt.date_trunc('month', 'weather_features.date_day') }} as date)

    left join holidays
        on holidays.holiday_date = weather_features.date_day

)

select * from final
