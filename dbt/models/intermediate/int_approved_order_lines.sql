{#-
    Workbench order lines approved (or sent) that the ERP does not show yet: they count as
    on order in the work list until an ERP purchase order with external_ref = the
    workbench order id exists for the same item x depot (whatever its status: from then on
    the ERP's own on_order and open orders carry it), or until the order is cancelled.
-#}

with

order_lines as (

    select * from {{ ref('stg_appdb__order_lines') }}

),

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

in_erp as (

    select distinct
        external_ref as order_id,
        item_id,
        depot_id

    from purchase_orders

    where external_ref is not null

),

final as (

    select
        order_lines.line_id,
        order_lines.order_id,
        order_lines.supplier_id,
        order_lines.order_status,
        order_lines.item_id,
        order_lines.depot_id,
        cast(order_lines.quantity as {{ type_double() }}) as quantity,
        cast(order_lines.approved_at as date) as approved_date

    from order_lines

    left join in_erp
        on order_lines.order_id = in_erp.order_id
        and order_lines.item_id = in_erp.item_id
        and order_lines.depot_id = in_erp.depot_id

    where order_lines.order_status in ('approved', 'sent')
        and in_erp.order_id is null

)

select * from final
