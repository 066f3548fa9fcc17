{#- One row per holiday date; a date with several holidays keeps every name. -#}

with

holidays as (

    select * from {{ ref('br_ba_holidays') }}

),

ranked as (

    select
        holiday_date,
        holiday_name,
        holiday_scope,
        case holiday_scope
            when 'national' then 1
            when 'state' then 2
            else 3
        end as scope_rank

    from holidays

),

by_date as (

    select
        holiday_date,
        {{ join_sorted('holiday_name', "' / '") }} as holiday_name,
        min(scope_rank) as scope_rank

    from ranked

    group by holiday_date

),

final as (

    select
        holiday_date,
        holiday_name,
        case scope_rank
            when 1 then 'national'
            when 2 then 'state'
            else 'optional'
        end as holiday_scope,
        scope_rank <= 2 as is_public_holiday

    from by_date

)

select * from final
