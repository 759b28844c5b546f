//! SQL for what the team did on an account: interventions, tasks, prediction feedback, and
//! the workflow (plays, emails, snoozes, escalations, opportunities) the timeline shows.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::statuses::{InterventionKind, Outcome, TaskStatus, Verdict};

pub struct Intervention {
    pub kind: InterventionKind,
    pub happened_on: Date,
    pub outcome: Outcome,
    pub notes: String,
    pub by: String,
    /// When it was logged.
    pub created_at: OffsetDateTime,
}

pub async fn interventions(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Vec<Intervention>> {
    sqlx::query_as!(
        Intervention,
        r#"select i.kind as "kind: InterventionKind", i.happened_on,
                  i.outcome as "outcome: Outcome", i.notes, u.name as by, i.created_at
           from interventions i join users u on u.id = i.user_id
           where i.account_id = $1 order by i.happened_on desc, i.id desc limit 50"#,
        id
    )
    .fetch_all(db)
    .await
}

pub struct Task {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub due_at: OffsetDateTime,
    pub status: TaskStatus,
    pub created_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
    pub reason: String,
    /// How it went, if the CSM said on completing it.
    pub outcome: Option<Outcome>,
}

pub async fn tasks(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Vec<Task>> {
    sqlx::query_as!(
        Task,
        r#"select id, title, kind, due_at, status as "status: TaskStatus", created_at, completed_at, reason,
                  outcome as "outcome: Outcome"
           from tasks where account_id = $1 order by created_at desc limit 50"#,
        id
    )
    .fetch_all(db)
    .await
}

/// The account's open tasks (id, title), for the "answers task" picker.
pub async fn open_tasks(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Vec<(i64, String)>> {
    Ok(tasks(db, id)
        .await?
        .into_iter()
        .filter(|t| t.status == TaskStatus::Open)
        .map(|t| (t.id, t.title))
        .collect())
}

pub struct Feedback {
    pub verdict: Verdict,
    pub reason: String,
    pub note: String,
    pub by: String,
    pub created_at: OffsetDateTime,
    pub churn_probability: Option<f32>,
}

pub async fn feedback(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Vec<Feedback>> {
    sqlx::query_as!(
        Feedback,
        r#"select f.verdict as "verdict: Verdict", r.label as reason, f.note, u.name as by, f.created_at, f.churn_probability
           from prediction_feedback f join users u on u.id = f.user_id join reason_codes r on r.code = f.reason_code
           where f.account_id = $1 order by f.created_at desc limit 20"#,
        id
    )
    .fetch_all(db)
    .await
}

/// Plays, emails, escalations and expansion opportunities on the account, as timeline entries: (when, kind, title, detail).
pub async fn workflow_events(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Vec<(OffsetDateTime, String, String, String)>> {
    let rows = sqlx::query!(
        r#"select at as "at!", kind as "kind!", title as "title!", detail as "detail!" from (
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
           ) w order by at desc limit 100"#,
        id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.at, r.kind, r.title, r.detail))
        .collect())
}
