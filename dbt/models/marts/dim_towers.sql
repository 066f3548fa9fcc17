with

towers as (

    select * from {{ ref('stg_erp__towers') }}

),

final as (

    select
        tower_id,
        depot_id,
        municipality,
        state,
        sla_tier,
        technology,
        latitude,
        longitude,
        commissioned_date,
        updated_at

    from towers

)

select * from final
