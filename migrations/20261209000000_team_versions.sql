-- A version per manager's team page (SLA adherence, open and breached tasks, escalations,
-- the plays funnel): every statement that changes what the page counts bumps the versions of
-- the managers whose teams it touched, in its own transaction, as book_versions does for a
-- CSM's book. A web server keeps a team's figures beside the version it read first.
create table team_versions (
    manager_id uuid primary key references users (id) on delete cascade,
    version bigint not null default 1
);

-- Bumps the given managers' teams, in one lock order for every writer.
create function bump_teams(managers uuid[]) returns void language sql as $$
    insert into team_versions as v (manager_id)
    select distinct m from unnest(managers) m where m is not null
    order by 1
    on conflict (manager_id) do update set version = v.version + 1;
$$;

-- The managers of these accounts' owners, and of these users.
create function managers_of_accounts(ids uuid[]) returns uuid[] language sql stable as $$
    select array(select u.manager_id from (select distinct i from unnest(ids) i) a
                 join accounts on accounts.id = a.i join users u on u.id = accounts.owner_id)
$$;
create function managers_of_users(ids uuid[]) returns uuid[] language sql stable as $$
    select array(select u.manager_id from (select distinct i from unnest(ids) i) m
                 join users u on u.id = m.i)
$$;

-- Plays and interventions count on the team of the account's owner.
create function bump_teams_of_accounts() returns trigger language plpgsql as $$
begin
    perform bump_teams(managers_of_accounts(array(select account_id from changed)));
    return null;
end $$;

-- Tasks count on the assignee's team (adherence) and the account owner's (the funnel).
create function bump_teams_of_tasks() returns trigger language plpgsql as $$
begin
    perform bump_teams(managers_of_users(array(select assignee_id from changed))
                       || managers_of_accounts(array(select account_id from changed)));
    return null;
end $$;

-- Escalations count on the team of the late task's assignee.
create function bump_teams_of_escalations() returns trigger language plpgsql as $$
begin
    perform bump_teams(managers_of_users(array(
        select t.assignee_id from changed c join tasks t on t.id = c.task_id)));
    return null;
end $$;

-- On insert the new rows, on delete the old, on update both (a task handed to another CSM
-- leaves one team and joins another).
do $$
declare
    t record;
    e record;
begin
    for t in select * from (values ('plays', 'bump_teams_of_accounts'),
                                   ('interventions', 'bump_teams_of_accounts'),
                                   ('tasks', 'bump_teams_of_tasks'),
                                   ('escalations', 'bump_teams_of_escalations')) v (tab, fn) loop
        for e in select * from (values ('insert', 'new'), ('delete', 'old'),
                                       ('update', 'old'), ('update', 'new')) v (op, rows) loop
            execute format(
                'create trigger %I after %s on %I referencing %s table as changed
                 for each statement execute function %I()',
                t.tab || '_' || e.op || '_' || e.rows || '_bumps_teams', e.op, t.tab, e.rows, t.fn);
        end loop;
    end loop;
end $$;

-- A CSM joining, leaving or moving between teams (or renamed: the page lists them by name)
-- changes both teams; an account handed to another CSM moves its plays between teams.
create function bump_teams_of_users() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform bump_teams(array(select manager_id from new_rows));
    else
        perform bump_teams(array(
            select m from old_rows o join new_rows n on n.id = o.id,
                 lateral (values (o.manager_id), (n.manager_id)) managers (m)
            where (o.manager_id, o.role, o.active, o.name)
                  is distinct from (n.manager_id, n.role, n.active, n.name)));
    end if;
    return null;
end $$;

create function bump_teams_of_owners() returns trigger language plpgsql as $$
begin
    perform bump_teams(managers_of_users(array(
        select owner from old_rows o join new_rows n on n.id = o.id,
             lateral (values (o.owner_id), (n.owner_id)) owners (owner)
        where o.owner_id is distinct from n.owner_id)));
    return null;
end $$;

create trigger users_insert_bumps_teams after insert on users
    referencing new table as new_rows for each statement execute function bump_teams_of_users();
create trigger users_update_bumps_teams after update on users
    referencing old table as old_rows new table as new_rows
    for each statement execute function bump_teams_of_users();
create trigger accounts_update_bumps_teams after update on accounts
    referencing old table as old_rows new table as new_rows
    for each statement execute function bump_teams_of_owners();
