{#-
    The ERP purchase orders still open (ordered, not received, not cancelled): what makes
    up a pair's on_order, one row per order with the date the supplier promised.
-#}

with

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

final as (

    select
        po_id,
        item_id,
        depot_id,
        supplier_id,
        cast(quantity as {{ type_double() }}) as quantity,
        order_date,
        expected_date,
        external_ref

    from purchase_orders

    where status = 'open'

)

select * from final
