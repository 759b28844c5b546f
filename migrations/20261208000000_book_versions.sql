-- A version per CSM's book (their live accounts with latest scores, expansion propensity and
-- snoozes): every statement that changes what a worklist shows bumps the versions of the books
-- it touched, in its own transaction. A web server keeps the book it read beside the version
-- it read first, and one indexed read tells it whether the book still holds, whichever
-- process (web, worker, CLI, a hand-written statement) wrote.
create table book_versions (
    owner_id uuid primary key references users (id) on delete cascade,
    version bigint not null default 1
);

-- Books of the accounts in the transition table `changed` (rows with an account_id).
create function bump_books() returns trigger language plpgsql as $$
begin
    insert into book_versions as v (owner_id)
    select distinct a.owner_id from changed c join accounts a on a.id = c.account_id
    where a.owner_id is not null
    order by 1 -- the same lock order in every writer
    on conflict (owner_id) do update set version = v.version + 1;
    return null;
end $$;

-- On insert, update and delete of each table whose rows carry an account_id.
do $$
declare
    t text;
    e text;
begin
    foreach t in array array['scores', 'expansion_scores', 'snoozes'] loop
        foreach e in array array['insert', 'update', 'delete'] loop
            execute format(
                'create trigger %I after %s on %I referencing %s table as changed
                 for each statement execute function bump_books()',
                t || '_' || e || '_bumps_books', e, t,
                case e when 'delete' then 'old' else 'new' end);
        end loop;
    end loop;
end $$;

-- Accounts: a new account's book, and on a change of what a book row shows, the books before
-- and after (an account handed to another CSM leaves one book and joins another).
create function bump_books_of_accounts() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into book_versions as v (owner_id)
        select distinct owner_id from new_rows where owner_id is not null order by 1
        on conflict (owner_id) do update set version = v.version + 1;
    else
        insert into book_versions as v (owner_id)
        select distinct owner from (
            select o.owner_id, n.owner_id
            from old_rows o join new_rows n on n.id = o.id
            where (o.owner_id, o.name, o.segment, o.mrr_cents, o.renewal_date, o.churned_on)
                  is distinct from (n.owner_id, n.name, n.segment, n.mrr_cents, n.renewal_date, n.churned_on)
        ) moved (before, after), lateral (values (before), (after)) owners (owner)
        where owner is not null
        order by 1
        on conflict (owner_id) do update set version = v.version + 1;
    end if;
    return null;
end $$;

create trigger accounts_insert_bumps_books after insert on accounts
    referencing new table as new_rows for each statement execute function bump_books_of_accounts();
create trigger accounts_update_bumps_books after update on accounts
    referencing old table as old_rows new table as new_rows
    for each statement execute function bump_books_of_accounts();
