with

depots as (

    select * from {{ ref('stg_erp__depots') }}

),

final as (

    select
        depot_id,
        depot_name,
        municipality,
        state,
        latitude,
        longitude,
        updated_at

    from depots

)

select * from final
