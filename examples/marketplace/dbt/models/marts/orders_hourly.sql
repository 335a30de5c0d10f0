-- Orders and revenue per shard and hour. Incremental and partitioned by hour: catchment
-- passes the run's window as min_ts / max_ts, and delete+insert replaces exactly those hours.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='hour') }}

select
    hour,
    shard,
    count(*) as orders,
    round(sum(amount_eur), 2) as revenue_eur
from {{ ref('stg_orders') }}
where ordered_at >= '{{ var("min_ts") }}' and ordered_at < '{{ var("max_ts") }}'
group by hour, shard
