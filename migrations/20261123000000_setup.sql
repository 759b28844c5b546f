-- Shared helpers every later table uses.
create or replace function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

create or replace function manage_updated_at(_tbl regclass) returns void
language plpgsql as $$
begin
    execute format('create trigger set_updated_at before update on %s
                    for each row execute procedure set_updated_at()', _tbl);
end;
$$;
