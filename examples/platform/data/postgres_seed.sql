-- The PostgreSQL table the optional `ingest_postgres` component replicates.
create table if not exists public.store_regions (country text primary key, region text not null);
insert into public.store_regions values
  ('PT', 'south'), ('ES', 'south'), ('FR', 'west'), ('DE', 'central'), ('NL', 'north')
on conflict (country) do nothing;
