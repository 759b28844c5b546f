-- An account's timeline in one statement: tickets (20), NPS answers (12), CRM notes (10),
-- interventions (50), tasks (50), prediction feedback (20), and plays, emails, snoozes,
-- escalations and expansion opportunities (100), each source newest first; only `p_kind`'s
-- entries unless it is ''. The words are built here; `moment`, when there is one, is shown
-- in the viewer's own time zone between `before` and `after`.
--
-- It lives in a function so that its plan is kept per connection: sent as a statement, the
-- planner planned the twelve-branch union afresh on every call (0.7 ms, three times its
-- execution), because its estimate for one account's rows never favoured the kept plan.
create function account_timeline(p_account uuid, p_kind text)
returns table (at timestamptz, kind text, title text, before text, moment timestamptz, after text)
language plpgsql stable set plan_cache_mode = force_generic_plan as $$
#variable_conflict use_column
begin
    return query
    (select t.opened_at as at, 'ticket' as kind, t.priority::text || ' ticket: ' || t.subject as title,
            t.external_id || ' · ' || case when t.resolved_at is null then 'open' else 'resolved ' end as before,
            t.resolved_at as moment, coalesce(', CSAT ' || t.csat::text, '') as after
     from tickets t where t.account_id = p_account and p_kind in ('', 'ticket')
     order by t.opened_at desc limit 20)
    union all
    (select n.responded_at, 'nps', 'NPS ' || n.score::text, coalesce(n.comment, ''), null, ''
     from nps_responses n where n.account_id = p_account and p_kind in ('', 'nps')
     order by n.responded_at desc limit 12)
    union all
    (select n.noted_at, 'note', 'Note by ' || n.author, n.body, null, ''
     from crm_notes n where n.account_id = p_account and p_kind in ('', 'note')
     order by n.noted_at desc limit 10)
    union all
    (select case when (i.created_at at time zone 'UTC')::date = i.happened_on then i.created_at
                 else (i.happened_on + time '12:00') at time zone 'UTC' end,
            'intervention',
            replace(i.kind::text, '_', ' ') || ' by ' || u.name || ': ' || replace(i.outcome::text, '_', ' '),
            i.notes, null, ''
     from interventions i join users u on u.id = i.user_id
     where i.account_id = p_account and p_kind in ('', 'intervention')
     order by i.happened_on desc, i.id desc limit 50)
    union all
    (select coalesce(t.completed_at, t.created_at), 'task',
            case when t.completed_at is null then 'Task opened: ' || t.title
                 else 'Task done: ' || t.title || coalesce(' (' || replace(t.outcome::text, '_', ' ') || ')', '') end,
            case when t.completed_at is null then t.status::text || ', due ' else 'opened ' end,
            case when t.completed_at is null then t.due_at else t.created_at end,
            ' · ' || t.reason
     from tasks t where t.account_id = p_account and p_kind in ('', 'task')
     order by t.created_at desc limit 50)
    union all
    (select f.created_at, 'feedback',
            'Feedback by ' || u.name || ': ' || replace(f.verdict::text, '_', ' ')
              || coalesce(' on a churn probability of ' || round(f.churn_probability * 100)::text || ' %', ''),
            r.label || ' ' || f.note, null, ''
     from prediction_feedback f join users u on u.id = f.user_id join reason_codes r on r.code = f.reason_code
     where f.account_id = p_account and p_kind in ('', 'feedback')
     order by f.created_at desc limit 20)
    union all
    (select at, kind, title, detail, null, '' from (
         select p.opened_at as at, 'play' as kind, 'Play opened: ' || b.name as title, p.reason as detail
         from plays p join playbooks b on b.id = p.playbook_id where p.account_id = p_account
         union all
         select coalesce(o.sent_at, o.created_at), 'email', 'Email to ' || o.recipient || ': ' || o.subject,
                case when o.sent_at is null then o.status::text || ' (queued ' || to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC)' else 'sent' end
         from outbox o where o.account_id = p_account
         union all
         select s.created_at, 'snooze', 'Snoozed until ' || s.until::text || ' by ' || u.name,
                r.label || case when s.note = '' then '' else ': ' || s.note end
         from snoozes s join users u on u.id = s.user_id join reason_codes r on r.code = s.reason_code
         where s.account_id = p_account
         union all
         select e.created_at, 'escalation', 'Escalated (' || replace(e.kind, '_', ' ') || '): ' || t.title, 'notified ' || e.notified
         from escalations e join tasks t on t.id = e.task_id where t.account_id = p_account
         union all
         select e.at, 'opportunity', 'Expansion opportunity ' || e.step::text || ' (' || replace(o.kind::text, '_', ' ') || ')', e.actor || case when e.note = '' then '' else ': ' || e.note end
         from opportunity_events e join opportunities o on o.id = e.opportunity_id where o.account_id = p_account
     ) w where p_kind in ('', w.kind) order by at desc limit 100);
end $$;
