{#-
    Which weather stations describe a depot's region: the `weather_stations_per_depot`
    nearest operating INMET stations of the depot's state (haversine distance). The
    extractor downloads the same stations (backend/ingest/inmet.py).
-#}

with

depots as (

    select * from {{ ref('stg_erp__depots') }}

),

stations as (

    select * from {{ ref('stg_inmet__stations') }}

),

distances as (

    select
        depots.depot_id,
        stations.station_id,
        {{ haversine_km('depots.latitude', 'depots.longitude', 'stations.latitude', 'stations.longitude') }} as distance_km

    from depots

    inner join stations
        on stations.state = depots.state
        and stations.is_operating

),

ranked as (

    select
        depot_id,
        station_id,
        distance_km,
        row_number() over (partition by depot_id order by distance_km, station_id) as station_rank

    from distances

),

final as (

    select
        depot_id,
        station_id,
        distance_km,
        station_rank

    from ranked

    where station_rank <= {{ var('weather_stations_per_depot', 2) }}

)

select * from final
