{{ config(tags=['forecast']) }}
-- No row of the work list tells a planner to order, transfer or expedite nothing: every
-- action but watch carries a positive quantity, and an order is a multiple of the MOQ.
select *
from {{ ref('fct_actions') }}
where (action <> 'watch' and (quantity is null or quantity <= 0))
    or (action = 'order' and abs(quantity / min_order_qty - round(quantity / min_order_qty)) > 1e-9)
    or (action = 'expedite' and expedite_po_id is null)
    or (action = 'transfer' and transfer_from_depot_id is null)
