{#-
    Licensed 4G and 5G stations in each depot's region, per month. A depot's region is
    the municipalities whose towers it serves (each municipality goes to the depot that
    serves most of its towers); Anatel's stations are matched to them by municipality
    name (upper-cased) and state. A station counts from the month it was first licensed.
-#}

with

towers as (

    select * from {{ ref('stg_erp__towers') }}

),

stations as (

    select * from {{ ref('stg_anatel__stations') }}

),

calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

municipality_depots as (

    select
        upper(municipality) as municipality_key,
        state,
        depot_id,
        count(*) as towers,
        row_number() over (
            partition by upper(municipality), state
            order by count(*) desc, depot_id
        ) as depot_rank

    from towers

    group by
        upper(municipality),
        state,
        depot_id

),

station_firsts as (

    select
        upper(municipality) as municipality_key,
        state,
        station_number,
        technology,
        min(first_licensed_date) as first_licensed_date

    from stations

    where technology in ('4G', '5G')

    group by
        upper(municipality),
        state,
        station_number,
        technology

),

months as (

    select distinct
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date

    from calendar_days

),

depot_months as (

    select
        depots.depot_id,
        months.month_start_date,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'months.month_start_date')) }} as date) as month_end_date

    from (select distinct depot_id from municipality_depots) as depots

    cross join months

),

region_stations as (

    select
        municipality_depots.depot_id,
        station_firsts.station_number,
        station_firsts.technology,
        station_firsts.first_licensed_date

    from station_firsts

    inner join municipality_depots
        on municipality_depots.municipality_key = station_firsts.municipality_key
        and municipality_depots.state = station_firsts.state
        and municipality_depots.depot_rank = 1

),

final as (

    select
        depot_months.depot_id,
        depot_months.month_start_date,
        cast(count(distinct case
            when region_stations.technology = '5G' then region_stations.station_number
        end) as {{ dbt.type_int() }}) as stations_5g,
        cast(count(distinct case
            when region_stations.technology = '4G' then region_stations.station_number
        end) as {{ dbt.type_int() }}) as stations_4g,
        cast(count(distinct case
            when region_stations.technology = '5G'
                and region_stations.first_licensed_date >= depot_months.month_start_date
            then region_stations.station_number
        end) as {{ dbt.type_int() }}) as new_stations_5g

    from depot_months

    left join region_stations
        on region_stations.depot_id = depot_months.depot_id
        and region_stations.first_licensed_date <= depot_months.month_end_date

    group by
        depot_months.depot_id,
        depot_months.month_start_date

)

select * from final
