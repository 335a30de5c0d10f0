select
    cast(customer_id as integer) as customer_id,
    name,
    country,
    cast(signup_date as date) as signup_date
from {{ source('raw', 'customers') }}
