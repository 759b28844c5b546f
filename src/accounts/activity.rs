//! SQL for what happened on an account, as its timeline shows it (what it sent, what the team
//! did, and the workflow: plays, emails, snoozes, escalations, opportunities), and its open
//! tasks.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// The account's open tasks (id, title), newest first, for the "answers task" picker.
pub async fn open_tasks(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "select id, title from tasks where account_id = $1 and status = 'open'
         order by created_at desc limit 50",
        id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
}

/// One timeline entry as read: when, its kind, its title, and its detail as text around an
/// optional moment the page shows in the viewer's own time zone.
pub struct Happening {
    pub at: OffsetDateTime,
    pub kind: String,
    pub title: String,
    pub before: String,
    pub moment: Option<OffsetDateTime>,
    pub after: String,
}

/// Everything that happened on the account, newest of each source first, in one read:
/// tickets (20), NPS answers (12), CRM notes (10), interventions (50), tasks (50), prediction
/// feedback (20), and plays, emails, snoozes, escalations and expansion opportunities (100).
/// Only entries of `kind` when one is given ("" for every kind). An intervention sits at the
/// moment it was logged if that was the day it happened, else at noon of that day; a task
/// where it last changed: done when it was completed, else when opened.
pub async fn happenings(
    db: impl PgExecutor<'_>,
    id: Uuid,
    kind: &str,
) -> sqlx::Result<Vec<Happening>> {
    sqlx::query_as!(
        Happening,
        r#"select at as "at!", kind as "kind!", title as "title!", before as "before!",
                  moment as "moment?", after as "after!" from (
               (select t.opened_at as at, 'ticket' as kind, t.priority::text || ' ticket: ' || t.subject as title,
                       t.external_id || ' · ' || case when t.resolved_at is null then 'open' else 'resolved ' end as before,
                       t.resolved_at as moment, coalesce(', CSAT ' || t.csat::text, '') as after
                from tickets t where t.account_id = $1 and $2 in ('', 'ticket')
                order by t.opened_at desc limit 20)
               union all
               (select n.responded_at, 'nps', 'NPS ' || n.score::text, coalesce(n.comment, ''), null, ''
                from nps_responses n where n.account_id = $1 and $2 in ('', 'nps')
                order by n.responded_at desc limit 12)
               union all
               (select n.noted_at, 'note', 'Note by ' || n.author, n.body, null, ''
                from crm_notes n where n.account_id = $1 and $2 in ('', 'note')
                order by n.noted_at desc limit 10)
               union all
               (select case when (i.created_at at time zone 'UTC')::date = i.happened_on then i.created_at
                            else (i.happened_on + time '12:00') at time zone 'UTC' end,
                       'intervention',
                       replace(i.kind::text, '_', ' ') || ' by ' || u.name || ': ' || replace(i.outcome::text, '_', ' '),
                       i.notes, null, ''
                from interventions i join users u on u.id = i.user_id
                where i.account_id = $1 and $2 in ('', 'intervention')
                order by i.happened_on desc, i.id desc limit 50)
               union all
               (select coalesce(t.completed_at, t.created_at), 'task',
                       case when t.completed_at is null then 'Task opened: ' || t.title
                            else 'Task done: ' || t.title || coalesce(' (' || replace(t.outcome::text, '_', ' ') || ')', '') end,
                       case when t.completed_at is null then t.status::text || ', due ' else 'opened ' end,
                       case when t.completed_at is null then t.due_at else t.created_at end,
                       ' · ' || t.reason
                from tasks t where t.account_id = $1 and $2 in ('', 'task')
                order by t.created_at desc limit 50)
               union all
               (select f.created_at, 'feedback',
                       'Feedback by ' || u.name || ': ' || replace(f.verdict::text, '_', ' ')
                         || coalesce(' on a churn probability of ' || round(f.churn_probability * 100)::text || ' %', ''),
                       r.label || ' ' || f.note, null, ''
                from prediction_feedback f join users u on u.id = f.user_id join reason_codes r on r.code = f.reason_code
                where f.account_id = $1 and $2 in ('', 'feedback')
                order by f.created_at desc limit 20)
               union all
               (select at, kind, title, detail, null, '' from (
                    select p.opened_at as at, 'play' as kind, 'Play opened: ' || b.name as title, p.reason as detail
                    from plays p join playbooks b on b.id = p.playbook_id where p.account_id = $1
                    union all
                    select coalesce(o.sent_at, o.created_at), 'email', 'Email to ' || o.recipient || ': ' || o.subject,
                           case when o.sent_at is null then o.status::text || ' (queued ' || to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC)' else 'sent' end
                    from outbox o where o.account_id = $1
                    union all
                    select s.created_at, 'snooze', 'Snoozed until ' || s.until::text || ' by ' || u.name,
                           r.label || case when s.note = '' then '' else ': ' || s.note end
                    from snoozes s join users u on u.id = s.user_id join reason_codes r on r.code = s.reason_code
                    where s.account_id = $1
                    union all
                    select e.created_at, 'escalation', 'Escalated (' || replace(e.kind, '_', ' ') || '): ' || t.title, 'notified ' || e.notified
                    from escalations e join tasks t on t.id = e.task_id where t.account_id = $1
                    union all
                    select e.at, 'opportunity', 'Expansion opportunity ' || e.step::text || ' (' || replace(o.kind::text, '_', ' ') || ')', e.actor || case when e.note = '' then '' else ': ' || e.note end
                    from opportunity_events e join opportunities o on o.id = e.opportunity_id where o.account_id = $1
                ) w where $2 in ('', w.kind) order by at desc limit 100)
           ) e"#,
        id,
        kind
    )
    .fetch_all(db)
    .await
}
