-- One row per customer: what they bought (orders from Sling) and how they browse (events from dlt).
with orders as (
    select
        customer_id,
        count(*) as orders,
        sum(case when status = 'completed' then amount else 0 end) as revenue,
        max(order_date) as last_order_date
    from {{ ref('stg_orders') }}
    group by customer_id
),

carts as (
    select
        e.customer_id,
        count(distinct e.event_id) as cart_events,
        sum(i.line_total) as cart_value
    from {{ ref('stg_events') }} as e
    join {{ ref('stg_event_items') }} as i on i.event_row_id = e.event_row_id
    group by e.customer_id
)

select
    c.customer_id,
    c.name,
    c.country,
    coalesce(o.orders, 0) as orders,
    coalesce(o.revenue, 0) as revenue,
    o.last_order_date,
    coalesce(k.cart_events, 0) as cart_events,
    coalesce(k.cart_value, 0) as cart_value
from {{ ref('stg_customers') }} as c
left join orders as o using (customer_id)
left join carts as k using (customer_id)
