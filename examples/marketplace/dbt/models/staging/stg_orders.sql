-- Both shards' orders in one relation, amounts converted to EUR.
with orders as (
    select 'eu' as shard, * from {{ source('shard_eu', 'orders') }}
    union all
    select 'us' as shard, * from {{ source('shard_us', 'orders') }}
)
select
    o.shard,
    o.id as order_id,
    o.customer_id,
    o.ordered_at,
    date_trunc('hour', o.ordered_at) as hour,
    o.amount * fx.rate_to_eur as amount_eur
from orders o
join {{ source('reference', 'fx_rates') }} fx on fx.currency = o.currency
