with

items as (

    select * from {{ ref('stg_erp__items') }}

),

suppliers as (

    select * from {{ ref('stg_erp__suppliers') }}

),

final as (

    select
        items.item_id,
        items.item_name,
        items.category,
        items.family,
        items.technology,
        items.supplier_id,
        suppliers.supplier_name,
        items.unit_cost,
        items.lead_time_days,
        items.min_order_qty,
        items.min_stock,
        items.max_stock,
        items.created_at,
        items.updated_at

    from items

    left join suppliers
        on items.supplier_id = suppliers.supplier_id

)

select * from final
