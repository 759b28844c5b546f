//! SQL for the worklist and the CSM's actions. Every query a page makes is bounded by one
//! CSM's book, one team or one account, never by the whole database; the one read of
//! everyone is the save rates, for the dashboard's refresh in the daily run.

use std::collections::HashMap;

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::statuses::{InterventionKind, Outcome, Verdict};

/// One account of a book with its latest score and flags.
pub struct BookRow {
    pub id: Uuid,
    pub name: String,
    pub segment: String,
    pub mrr_cents: i64,
    pub renewal_date: Option<Date>,
    pub health_score: Option<f32>,
    pub band: Option<String>,
    pub trajectory: Option<String>,
    pub churn_probability: Option<f32>,
    pub risk_tier: Option<String>,
    pub at_risk: Option<bool>,
    /// What moves the churn probability most, in words.
    pub driver: Option<String>,
    pub anomaly: Option<String>,
    pub champion_loss: Option<String>,
    pub snoozed_until: Option<Date>,
    pub expansion_tier: Option<String>,
    pub propensity: Option<f32>,
}

/// A CSM's live accounts, each with its latest score, its latest expansion propensity and
/// any snooze still running.
pub async fn book(db: impl PgExecutor<'_>, owner: Uuid, today: Date) -> sqlx::Result<Vec<BookRow>> {
    sqlx::query_as!(
        BookRow,
        r#"select a.id, a.name, a.segment, a.mrr_cents, a.renewal_date,
                  s.health_score as "health_score?", s.band as "band?", s.trajectory as "trajectory?",
                  s.churn_probability as "churn_probability?", s.risk_tier as "risk_tier?",
                  s.at_risk as "at_risk?", s.drivers->0->>'text' as "driver?", s.anomaly as "anomaly?",
                  s.champion_loss as "champion_loss?", z.until as "snoozed_until?",
                  e.tier::text as "expansion_tier?", e.propensity as "propensity?"
           from accounts a
           left join lateral (select * from scores x where x.account_id = a.id order by x.day desc limit 1) s on true
           left join lateral (select tier, propensity from expansion_scores x where x.account_id = a.id
                              order by x.day desc limit 1) e on true
           left join lateral (select until from snoozes z where z.account_id = a.id and z.until > $2
                              order by z.until desc limit 1) z on true
           where a.owner_id = $1 and a.churned_on is null"#,
        owner,
        today
    )
    .fetch_all(db)
    .await
}

/// The version of a CSM's book: migrations/20261208000000_book_versions.sql bumps it in every
/// statement that changes what the book shows. Read it before the book, so a book kept with
/// it is never newer than it says.
pub async fn book_version(db: impl PgExecutor<'_>, owner: Uuid) -> sqlx::Result<i64> {
    Ok(sqlx::query_scalar!(
        "select version from book_versions where owner_id = $1",
        owner
    )
    .fetch_optional(db)
    .await?
    .unwrap_or(0))
}

pub struct TaskRow {
    pub id: i64,
    pub account_id: Uuid,
    pub account_name: String,
    pub title: String,
    pub kind: String,
    pub due_at: OffsetDateTime,
    pub reason: String,
}

/// Open tasks of one assignee, soonest due first.
pub async fn open_tasks(db: impl PgExecutor<'_>, assignee: Uuid) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as!(
        TaskRow,
        r#"select t.id, t.account_id, a.name as account_name, t.title, t.kind, t.due_at, t.reason
           from tasks t join accounts a on a.id = t.account_id
           where t.assignee_id = $1 and t.status = 'open'
           order by t.due_at, t.id limit 200"#,
        assignee
    )
    .fetch_all(db)
    .await
}

/// Marks an open task of `assignee` done; false if there is none.
pub async fn complete_task(
    db: impl PgExecutor<'_>,
    id: i64,
    assignee: Uuid,
    by: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "update tasks set status = 'done', completed_at = now(), completed_by = $3
         where id = $1 and assignee_id = $2 and status = 'open' returning account_id",
        id,
        assignee,
        by
    )
    .fetch_optional(db)
    .await
}

/// Records how a done task of `assignee` went; its account, or none if there is no such done
/// task.
pub async fn set_task_outcome(
    db: impl PgExecutor<'_>,
    id: i64,
    assignee: Uuid,
    outcome: Outcome,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "update tasks set outcome = $3
         where id = $1 and assignee_id = $2 and status = 'done' returning account_id",
        id,
        assignee,
        outcome as Outcome
    )
    .fetch_optional(db)
    .await
}

/// Moves an open task to a new due date and/or assignee; whether it was open.
pub async fn move_task(
    db: impl PgExecutor<'_>,
    id: i64,
    due_at: Option<OffsetDateTime>,
    assignee: Option<Uuid>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update tasks set due_at = coalesce($2, due_at), assignee_id = coalesce($3, assignee_id)
         where id = $1 and status = 'open'",
        id,
        due_at,
        assignee
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewTask<'a> {
    pub account: Uuid,
    pub assignee: Uuid,
    pub title: &'a str,
    pub kind: &'a str,
    pub due_at: OffsetDateTime,
    pub reason: &'a str,
}

pub async fn insert_task(db: impl PgExecutor<'_>, t: &NewTask<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into tasks (account_id, assignee_id, title, kind, due_at, reason) values ($1, $2, $3, $4, $5, $6) returning id",
        t.account,
        t.assignee,
        t.title,
        t.kind,
        t.due_at,
        t.reason
    )
    .fetch_one(db)
    .await
}

pub struct NewIntervention<'a> {
    pub account: Uuid,
    pub user: Uuid,
    pub task: Option<i64>,
    pub kind: InterventionKind,
    pub happened_on: Date,
    pub outcome: Outcome,
    /// CSM time spent, for experiments' cost per account.
    pub minutes: Option<i32>,
    pub notes: &'a str,
}

pub async fn insert_intervention(
    db: impl PgExecutor<'_>,
    i: &NewIntervention<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into interventions (account_id, user_id, task_id, kind, happened_on, outcome, notes, minutes_spent)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        i.account,
        i.user,
        i.task,
        i.kind as InterventionKind,
        i.happened_on,
        i.outcome as Outcome,
        i.notes,
        i.minutes
    )
    .fetch_one(db)
    .await
}

/// Closes `task` if it is open on `account` and `by` may close it (their own, or as manager
/// their team's); false otherwise.
pub async fn close_task_on(
    db: impl PgExecutor<'_>,
    task: i64,
    account: Uuid,
    by: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update tasks set status = 'done', completed_at = now(), completed_by = $3
         where id = $1 and account_id = $2 and status = 'open'
           and (assignee_id = $3 or exists (select 1 from users u where u.id = tasks.assignee_id and u.manager_id = $3))",
        task,
        account,
        by
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_snooze(
    db: impl PgExecutor<'_>,
    account: Uuid,
    user: Uuid,
    until: Date,
    reason: &str,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into snoozes (account_id, user_id, until, reason_code, note) values ($1, $2, $3, $4, $5)",
        account,
        user,
        until,
        reason,
        note
    )
    .execute(db)
    .await?;
    Ok(())
}

pub struct NewFeedback<'a> {
    pub account: Uuid,
    pub user: Uuid,
    pub verdict: Verdict,
    pub reason: &'a str,
    pub note: &'a str,
}

/// Records feedback on the account's latest score.
pub async fn insert_feedback(
    db: impl PgExecutor<'_>,
    f: &NewFeedback<'_>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "insert into prediction_feedback (account_id, user_id, score_day, churn_probability, model_id, verdict, reason_code, note)
         select $1, $2, s.day, s.churn_probability, s.model_id, $3, $4, $5
         from scores s where s.account_id = $1 order by s.day desc limit 1
         returning id",
        f.account,
        f.user,
        f.verdict as Verdict,
        f.reason,
        f.note
    )
    .fetch_optional(db)
    .await
}

/// The save rate of flagged accounts whose outcome is known: flagged at-risk between 240 and
/// 60 days ago, contacted (an intervention) within 14 days of the first flag, still a customer
/// 60 days after it. For one CSM's book (`owner`) or a manager's team.
#[derive(Clone, Debug, Default)]
pub struct SaveRate {
    pub flagged: i64,
    pub contacted: i64,
    pub retained: i64,
}

pub async fn save_rate(
    db: impl PgExecutor<'_>,
    owner: Option<Uuid>,
    manager: Option<Uuid>,
    today: Date,
) -> sqlx::Result<SaveRate> {
    Ok(save_rates(db, owner, manager, today).await?.0)
}

/// The save rate of a book, a team or (neither given) everyone, and of each manager's team
/// within it, from one pass over the flags: the dashboard's refresh wants every team's.
pub async fn save_rates(
    db: impl PgExecutor<'_>,
    owner: Option<Uuid>,
    manager: Option<Uuid>,
    today: Date,
) -> sqlx::Result<(SaveRate, HashMap<Uuid, SaveRate>)> {
    let rows = sqlx::query!(
        r#"with book as (
               select a.id, a.churned_on, u.manager_id from accounts a left join users u on u.id = a.owner_id
               where ($1::uuid is null or a.owner_id = $1) and ($2::uuid is null or u.manager_id = $2)
           ), flags as (
               select b.id as account_id, b.churned_on, b.manager_id, f.first_flag
               from book b cross join lateral (
                   select min(s.day) as first_flag from scores s
                   where s.account_id = b.id and s.at_risk and s.day between $3::date - 240 and $3::date - $4::int
               ) f
               where f.first_flag is not null
           )
           select f.manager_id, grouping(f.manager_id) = 1 as "whole!",
                  count(*) as "flagged!",
                  count(*) filter (where exists (select 1 from interventions i where i.account_id = f.account_id
                                   and i.happened_on between f.first_flag and f.first_flag + 14)) as "contacted!",
                  count(*) filter (where f.churned_on is null or f.churned_on > f.first_flag + $4::int) as "retained!"
           from flags f group by grouping sets ((f.manager_id), ())"#,
        owner,
        manager,
        today,
        crate::features::HORIZON_DAYS as i32
    )
    .fetch_all(db)
    .await?;
    let mut whole = SaveRate::default();
    let mut teams = HashMap::new();
    for r in rows {
        let rate = SaveRate {
            flagged: r.flagged,
            contacted: r.contacted,
            retained: r.retained,
        };
        match (r.whole, r.manager_id) {
            (true, _) => whole = rate,
            (false, Some(m)) => {
                teams.insert(m, rate);
            }
            (false, None) => {}
        }
    }
    Ok((whole, teams))
}

/// The assignee of `task`, if `user` may complete it: their own task, or (as manager) one
/// of their team's.
pub async fn task_assignee(
    db: impl PgExecutor<'_>,
    task: i64,
    user: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        r#"select t.assignee_id from tasks t join users u on u.id = t.assignee_id
           where t.id = $1 and (t.assignee_id = $2 or u.manager_id = $2)"#,
        task,
        user
    )
    .fetch_optional(db)
    .await
}
