with

stock_movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

daily_movements as (

    select
        item_id,
        depot_id,
        movement_date,

        cast(sum(
            case when movement_type = 'consumption' then quantity else 0 end
        ) as {{ dbt.type_bigint() }}) as demand_qty,

        cast(sum(
            case when movement_type = 'receipt' then quantity else 0 end
        ) as {{ dbt.type_bigint() }}) as receipts_qty,

        cast(sum(
            case when movement_type = 'adjustment' then quantity else 0 end
        ) as {{ dbt.type_bigint() }}) as adjustments_qty,

        cast(count(*) as {{ dbt.type_bigint() }}) as movement_count

    from stock_movements

    group by
        item_id,
        depot_id,
        movement_date

),

final as (

    select * from daily_movements

)

select * from final
