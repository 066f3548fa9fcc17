{#-
    Daily weather per depot: each station's hourly records summed (rain) or averaged per
    UTC day, then averaged over the depot's stations. A station-day with fewer than 12
    hourly records is left out (a station down most of the day says little).
-#}

with

observations as (

    select * from {{ ref('stg_inmet__observations') }}

),

depot_stations as (

    select * from {{ ref('int_depot_weather_stations') }}

),

station_days as (

    select
        station_id,
        observation_date,
        sum(precipitation_mm) as precipitation_mm,
        max(temperature_max_c) as temperature_max_c,
        min(temperature_min_c) as temperature_min_c,
        avg(humidity_pct) as humidity_pct,
        avg(wind_speed_ms) as wind_speed_ms,
        max(wind_gust_ms) as wind_gust_ms,
        count(temperature_c) as hours_observed

    from observations

    group by
        station_id,
        observation_date

),

complete_days as (

    select * from station_days

    where hours_observed >= 12

),

final as (

    select
        depot_stations.depot_id,
        complete_days.observation_date as weather_date,
        avg(complete_days.precipitation_mm) as precipitation_mm,
        avg(complete_days.temperature_max_c) as temperature_max_c,
        avg(complete_days.temperature_min_c) as temperature_min_c,
        avg(complete_days.humidity_pct) as humidity_pct,
        avg(complete_days.wind_speed_ms) as wind_speed_ms,
        max(complete_days.wind_gust_ms) as wind_gust_ms,
        cast(count(*) as {{ dbt.type_int() }}) as stations_reporting

    from depot_stations

    inner join complete_days
        on complete_days.station_id = depot_stations.station_id

    group by
        depot_stations.depot_id,
        complete_days.observation_date

)

select * from final
