select
    _dlt_parent_id as event_row_id,
    sku,
    product,
    quantity,
    unit_price,
    quantity * unit_price as line_total
from {{ source('raw', 'events__items') }}
