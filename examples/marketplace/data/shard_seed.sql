-- One shard of the marketplace: run against each shard database, with :'currency' and
-- :'first_id' set (psql -v currency=EUR -v first_id=1 -f data/shard_seed.sql).
create schema if not exists shop;
drop table if exists shop.orders;
drop table if exists shop.customers;
create table shop.customers (id int primary key, name text not null);
create table shop.orders (
    id int primary key,
    customer_id int not null references shop.customers (id),
    ordered_at timestamp not null,
    amount numeric(10, 2) not null,
    currency text not null
);
insert into shop.customers values (1, 'Ada'), (2, 'Grace'), (3, 'Linus');
-- five orders an hour from 2026-12-02 20:00 to 23:59
insert into shop.orders
select :first_id + g, 1 + g % 3, timestamp '2026-12-02 20:00' + g * interval '12 minutes',
       10 + g, :'currency'
from generate_series(0, 19) g;
