select
    event_id,
    customer_id,
    kind,
    occurred_at,
    _dlt_id as event_row_id
from {{ source('raw', 'events') }}
