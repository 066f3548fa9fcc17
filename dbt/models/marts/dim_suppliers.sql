with

suppliers as (

    select * from {{ ref('stg_erp__suppliers') }}

),

final as (

    select
        supplier_id,
        supplier_name,
        state,
        lead_time_mean_days,
        lead_time_std_days,
        updated_at

    from suppliers

)

select * from final
