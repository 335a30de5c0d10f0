select count(*) as events, sum(amount) as amount from {{ source('raw', 'events') }}
