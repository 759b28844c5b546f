-- SLA adherence counts each CSM's tasks due in a period, open or done: without this index
-- every CSM's figures scanned the whole tasks table, which only grows.
create index tasks_assignee_due_idx on tasks (assignee_id, due_at);
