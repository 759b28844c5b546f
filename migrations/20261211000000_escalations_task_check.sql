-- An escalation's task must exist: checked once per statement over the rows it wrote, not
-- once per row. As a foreign key, each of the 200,000 rows a sweep over 100,000 late tasks
-- records ran its own lookup (with a row lock on the task), about a third of the sweep.
-- Tasks are kept, not deleted, and their ids never change (generated always); a statement
-- that deletes one still cannot orphan its escalations. Same error code as the key it
-- replaces.
alter table escalations drop constraint escalations_task_fk;

create function escalations_check_tasks() returns trigger language plpgsql as $$
begin
    if exists (select 1 from changed c where not exists (select 1 from tasks t where t.id = c.task_id)) then
        raise foreign_key_violation using message = 'an escalation names a task that does not exist';
    end if;
    return null;
end $$;

create function tasks_check_escalations() returns trigger language plpgsql as $$
begin
    if exists (select 1 from gone g join escalations e on e.task_id = g.id) then
        raise foreign_key_violation using message = 'a task with escalations cannot be deleted';
    end if;
    return null;
end $$;

create trigger escalations_insert_checks_tasks after insert on escalations
    referencing new table as changed for each statement execute function escalations_check_tasks();
create trigger escalations_update_checks_tasks after update on escalations
    referencing new table as changed for each statement execute function escalations_check_tasks();
create trigger tasks_delete_checks_escalations after delete on tasks
    referencing old table as gone for each statement execute function tasks_check_escalations();
