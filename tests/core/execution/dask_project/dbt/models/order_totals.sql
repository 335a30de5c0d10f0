-- the post-hook counts invocations (a test checks dbt ran once)
{{ config(post_hook=["create table if not exists main.dbt_invocations (ran_at timestamp)", "insert into main.dbt_invocations values (now())"]) }}
select count(*) as orders, sum(amount) as amount from {{ source('raw', 'orders') }}
