//! SQL for playbooks, plays, escalations and the outbox.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::rules::Candidate;

pub struct Playbook {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub review_emails: bool,
    pub holdout_pct: i16,
    pub rule: Value,
    pub steps: Value,
}

pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Playbook>> {
    sqlx::query_as!(
        Playbook,
        "select id, name, description, enabled, review_emails, holdout_pct, rule, steps from playbooks order by id"
    )
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Playbook>> {
    sqlx::query_as!(
        Playbook,
        "select id, name, description, enabled, review_emails, holdout_pct, rule, steps from playbooks where id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

pub async fn set_enabled(db: impl PgExecutor<'_>, id: i64, enabled: bool) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update playbooks set enabled = $2, updated_at = now() where id = $1",
        id,
        enabled
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a playbook a default for the cohort `rule` matches: its rule, and enabled.
pub async fn make_default(db: impl PgExecutor<'_>, id: i64, rule: &Value) -> sqlx::Result<()> {
    sqlx::query("update playbooks set rule = $2, enabled = true, updated_at = now() where id = $1")
        .bind(id)
        .bind(rule)
        .execute(db)
        .await?;
    Ok(())
}

/// What an admin or manager writes into a playbook.
pub struct Draft<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub review_emails: bool,
    pub holdout_pct: i16,
    pub rule: &'a Value,
    pub steps: &'a Value,
}

/// Whether a database error is the playbook name's uniqueness.
pub fn name_taken(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.constraint() == Some("playbooks_name_key"))
}

pub async fn create(db: impl PgExecutor<'_>, d: &Draft<'_>, by: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into playbooks (name, description, review_emails, rule, steps, created_by, holdout_pct) values ($1, $2, $3, $4, $5, $6, $7) returning id",
        d.name,
        d.description,
        d.review_emails,
        d.rule,
        d.steps,
        by,
        d.holdout_pct
    )
    .fetch_one(db)
    .await
}

pub async fn update(db: impl PgExecutor<'_>, id: i64, d: &Draft<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update playbooks set name = $2, description = $3, review_emails = $6, rule = $4, steps = $5, holdout_pct = $7, updated_at = now() where id = $1",
        id,
        d.name,
        d.description,
        d.rule,
        d.steps,
        d.review_emails,
        d.holdout_pct
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every account scored on `day`, as the rules see it.
pub async fn candidates(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Vec<Candidate>> {
    let rows = sqlx::query!(
        r#"select a.id, a.name, a.owner_id, u.manager_id, a.segment, a.status::text as "status!",
                  a.mrr_cents, a.renewal_date, s.band, s.decrement, s.churn_probability, s.risk_tier,
                  s.at_risk, s.anomaly, s.champion_loss, s.health_score, s.drivers->0->>'feature' as driver_feature,
                  u.name as "csm_name?", c.name as "contact_name?", c.email as "contact_email?",
                  (select p.band from scores p where p.account_id = s.account_id and p.day < s.day
                   order by p.day desc limit 1) as previous_band
           from scores s join accounts a on a.id = s.account_id left join users u on u.id = a.owner_id
           left join lateral (select coalesce(x.name, x.email) as name, x.email from contacts x
                              where x.account_id = a.id and x.email is not null and x.erased_at is null
                              order by x.is_champion desc, x.name limit 1) c on true
           where s.day = $1"#,
        day
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            account: r.id,
            name: r.name,
            owner: r.owner_id,
            manager: r.manager_id,
            segment: r.segment,
            status: r.status,
            arr: crate::money::arr_cents(r.mrr_cents) as f64 / 100.0,
            renewal: r.renewal_date,
            band: r.band,
            previous_band: r.previous_band,
            decrement: r.decrement.map(f64::from),
            probability: r.churn_probability.map(f64::from),
            tier: r.risk_tier,
            at_risk: r.at_risk,
            anomaly: r.anomaly,
            champion_loss: r.champion_loss,
            health: f64::from(r.health_score),
            topic: super::merge::topic(r.driver_feature.as_deref()),
            csm_name: r.csm_name,
            contact: r
                .contact_email
                .map(|e| (r.contact_name.unwrap_or_else(|| e.clone()), e)),
        })
        .collect())
}

/// Opens plays (skipping accounts with an open play of the same playbook) and their tasks.
/// Returns (plays opened, tasks opened).
pub async fn open_plays(
    conn: &mut PgConnection,
    playbook: i64,
    accounts: &[Uuid],
    reasons: &[String],
    opened_at: OffsetDateTime,
) -> sqlx::Result<Vec<(i64, Uuid)>> {
    let rows = sqlx::query!(
        r#"insert into plays (playbook_id, account_id, reason, opened_at)
           select $1, a, r, $4 from unnest($2::uuid[], $3::text[]) as x(a, r)
           on conflict (playbook_id, account_id) where status = 'open' do nothing
           returning id, account_id"#,
        playbook,
        accounts,
        reasons,
        opened_at
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.account_id)).collect())
}

#[derive(Default)]
pub struct NewTasks {
    pub play: Vec<i64>,
    pub account: Vec<Uuid>,
    pub assignee: Vec<Uuid>,
    pub title: Vec<String>,
    pub kind: Vec<String>,
    pub due_at: Vec<OffsetDateTime>,
    pub reason: Vec<String>,
}

/// Inserts `t`, created at `opened_at`: the play's time, which for a back-filled day is that
/// day, not the moment of the back-fill.
pub async fn insert_tasks(
    conn: &mut PgConnection,
    t: &NewTasks,
    opened_at: OffsetDateTime,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"insert into tasks (play_id, account_id, assignee_id, title, kind, due_at, reason, created_at)
           select *, $8 from unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::text[])"#,
        &t.play,
        &t.account,
        &t.assignee,
        &t.title,
        &t.kind,
        &t.due_at,
        &t.reason,
        opened_at
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// An escalation just recorded, with what its email needs.
pub struct Escalated {
    pub task: i64,
    pub account_id: Uuid,
    pub account: String,
    pub title: String,
    pub due_at: OffsetDateTime,
    pub csm: String,
    /// The manager, or for `no_reply` the customer's executive sponsor.
    pub recipient: String,
    /// `breach`, `unresolved` or `no_reply`.
    pub kind: String,
}

/// Records, once each, escalations of open tasks past due (`breach`) and open tasks older
/// than three days (`unresolved`) to the assignee's manager, in the caller's transaction,
/// which holds the sweep's lock (`escalate::sweep`): no sweep beside it records the same.
pub async fn escalate(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> sqlx::Result<Vec<Escalated>> {
    // Found, then recorded, in two statements. Done in one, the search read `escalations`
    // while the insert wrote it: where the planner took that table for empty (analysed
    // while empty, or nearly so) it scanned it once per task as it grew, and the first
    // sweep over 100,000 late tasks took 7 min 49 s instead of 2 s.
    let due = sqlx::query_as!(
        Escalated,
        r#"select t.id as "task!", a.id as "account_id!", a.name as "account!", t.title as "title!",
                  t.due_at as "due_at!", u.name as "csm!", m.email as "recipient!", k.kind as "kind!"
           from tasks t
           join users u on u.id = t.assignee_id
           join users m on m.id = u.manager_id and m.active
           join accounts a on a.id = t.account_id
           cross join lateral (values ('breach', t.due_at < $1),
                                      ('unresolved', t.created_at < $1 - interval '3 days')) as k(kind, applies)
           where t.status = 'open' and k.applies
             -- What is escalated already is not again (the insert below would refuse it).
             and not exists (select 1 from escalations e where e.task_id = t.id and e.kind = k.kind)"#,
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    if !due.is_empty() {
        sqlx::query!(
            r#"insert into escalations (task_id, kind, notified)
               select * from unnest($1::int8[], $2::text[], $3::text[])"#,
            &due.iter().map(|d| d.task).collect::<Vec<_>>(),
            &due.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>() as &[&str],
            &due.iter().map(|d| d.recipient.as_str()).collect::<Vec<_>>() as &[&str],
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(due)
}

/// Records, once each, the escalation of an email task done three days ago with no customer
/// reply since (an intervention with an answer) to the account's executive sponsor.
pub async fn escalate_no_reply(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> sqlx::Result<Vec<Escalated>> {
    sqlx::query_as!(
        Escalated,
        r#"with quiet as (
               select t.id, t.title, t.due_at, a.id as account_id, a.name as account, a.executive_sponsor as sponsor,
                      u.name as csm
               from tasks t join accounts a on a.id = t.account_id join users u on u.id = t.assignee_id
               where t.kind = 'email' and t.status = 'done'
                 and t.completed_at between $1::timestamptz - interval '30 days' and $1::timestamptz - interval '72 hours'
                 and a.executive_sponsor like '%@%'
                 and not exists (select 1 from interventions i where i.account_id = t.account_id
                                 and i.created_at > t.completed_at and i.outcome <> 'no_response')
           ), escalated as (
               insert into escalations (task_id, kind, notified)
               select id, 'no_reply', sponsor from quiet
               on conflict (task_id, kind) do nothing
               returning task_id
           )
           select q.id as "task!", q.account_id as "account_id!", q.account as "account!", q.title as "title!",
                  q.due_at as "due_at!", q.csm as "csm!", q.sponsor as "recipient!", 'no_reply' as "kind!"
           from escalated e join quiet q on q.id = e.task_id"#,
        now
    )
    .fetch_all(conn)
    .await
}

/// The version of a manager's team figures: migrations/20261209000000_team_versions.sql bumps
/// it in every statement that changes what the team page counts. Read it before the figures,
/// so figures kept with it are never newer than it says.
pub async fn team_version(db: impl PgExecutor<'_>, manager: Uuid) -> sqlx::Result<i64> {
    Ok(sqlx::query_scalar!(
        "select version from team_versions where manager_id = $1",
        manager
    )
    .fetch_optional(db)
    .await?
    .unwrap_or(0))
}

/// SLA figures of one CSM over a period: tasks due in it, done on time, breached (done late
/// or still open past due), open now, and escalations.
pub struct Adherence {
    pub id: Uuid,
    pub name: String,
    pub due: i64,
    pub on_time: i64,
    pub breached: i64,
    pub open: i64,
    pub escalations: i64,
}

pub async fn adherence(
    db: impl PgExecutor<'_>,
    manager: Uuid,
    from: OffsetDateTime,
    now: OffsetDateTime,
) -> sqlx::Result<Vec<Adherence>> {
    sqlx::query_as!(
        Adherence,
        r#"select u.id, u.name,
                  (select count(*) from tasks t where t.assignee_id = u.id and t.due_at between $2 and $3) as "due!",
                  (select count(*) from tasks t where t.assignee_id = u.id and t.due_at between $2 and $3
                     and t.status = 'done' and t.completed_at <= t.due_at) as "on_time!",
                  (select count(*) from tasks t where t.assignee_id = u.id and t.due_at between $2 and $3
                     and ((t.status = 'done' and t.completed_at > t.due_at) or t.status = 'open')) as "breached!",
                  (select count(*) from tasks t where t.assignee_id = u.id and t.status = 'open') as "open!",
                  (select count(*) from escalations e join tasks t on t.id = e.task_id
                     where t.assignee_id = u.id and e.created_at >= $2) as "escalations!"
           from users u
           where u.role = 'csm' and u.active and u.manager_id = $1"#,
        manager,
        from,
        now
    )
    .fetch_all(db)
    .await
    .map(|mut rows| {
        // CSM 3 before CSM 11.
        rows.sort_by(|a, b| natord::compare(&a.name, &b.name));
        rows
    })
}

/// The funnel over plays opened in the period, each stage within the one before: alerts
/// (plays) → with tasks → contacted (an intervention on the account since the play opened)
/// → resolved (every task done).
pub struct Funnel {
    pub alerts: i64,
    pub tasks: i64,
    pub contacted: i64,
    pub resolved: i64,
}

pub async fn funnel(
    db: impl PgExecutor<'_>,
    manager: Uuid,
    from: OffsetDateTime,
) -> sqlx::Result<Funnel> {
    sqlx::query_as!(
        Funnel,
        r#"with team_plays as (
               select p.id, p.account_id, p.opened_at from plays p
               join accounts a on a.id = p.account_id join users u on u.id = a.owner_id
               where p.opened_at >= $2 and u.manager_id = $1
           )
           select count(*) as "alerts!",
                  count(*) filter (where tasked) as "tasks!",
                  count(*) filter (where tasked and contacted) as "contacted!",
                  count(*) filter (where tasked and contacted and not open) as "resolved!"
           from (select p.*,
                        exists (select 1 from tasks t where t.play_id = p.id) as tasked,
                        exists (select 1 from interventions i where i.account_id = p.account_id
                                and i.created_at >= p.opened_at) as contacted,
                        exists (select 1 from tasks t where t.play_id = p.id and t.status = 'open') as open
                 from team_plays p) p"#,
        manager,
        from
    )
    .fetch_one(db)
    .await
}
