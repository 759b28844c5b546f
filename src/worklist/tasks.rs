//! The worklist's open tasks: grouped by urgency (overdue, due within 24 hours, within seven
//! days, later), and
//! worked in bulk (complete, move the due date, or, for a manager, reassign to another CSM).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use super::db::{self, TaskRow};
use crate::auth::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::countdown::Countdown;
use crate::web::format::{count, parse_date};

pub struct TaskView {
    pub id: i64,
    pub account_id: Uuid,
    pub account_name: String,
    pub title: String,
    pub kind: String,
    pub reason: String,
    pub countdown: Countdown,
}

/// Tasks that share an urgency.
pub struct TaskGroup {
    pub label: &'static str,
    pub tasks: Vec<TaskView>,
}

/// The viewed CSM's open tasks and what the viewer may do with them.
pub struct TaskSection {
    pub csm: Uuid,
    pub groups: Vec<TaskGroup>,
    pub total: String,
    pub can_act: bool,
    /// For a manager: the CSMs tasks can be handed to.
    pub team: Vec<(Uuid, String)>,
    pub notice: Option<String>,
    pub today: String,
}

/// Which group a task due at `due` falls in, seen at `now`: overdue, due within 24 hours,
/// within seven days, later (spans of time, so no time zone can put a task in the wrong one).
fn urgency(due: OffsetDateTime, now: OffsetDateTime) -> usize {
    let left = due - now;
    match left {
        l if l.is_negative() => 0,
        l if l <= time::Duration::hours(24) => 1,
        l if l <= time::Duration::days(7) => 2,
        _ => 3,
    }
}

const LABELS: [&str; 4] = [
    "Overdue",
    "Due within 24 hours",
    "Due within 7 days",
    "Later",
];

/// Tasks (in due order) in their urgency groups; empty groups left out.
fn group(tasks: Vec<TaskRow>, now: OffsetDateTime) -> Vec<TaskGroup> {
    let mut groups: Vec<TaskGroup> = LABELS
        .iter()
        .map(|label| TaskGroup {
            label,
            tasks: Vec::new(),
        })
        .collect();
    for t in tasks {
        groups[urgency(t.due_at, now)].tasks.push(TaskView {
            id: t.id,
            account_id: t.account_id,
            account_name: t.account_name,
            title: t.title,
            kind: super::act::kind_label(&t.kind).to_owned(),
            reason: t.reason,
            countdown: Countdown::new(t.due_at, now),
        });
    }
    groups.retain(|g| !g.tasks.is_empty());
    groups
}

impl TaskSection {
    pub async fn load(
        state: &AppState,
        user: &CurrentUser,
        csm: Uuid,
        notice: Option<String>,
    ) -> Result<TaskSection> {
        let now = state.clock.now();
        let tasks = db::open_tasks(&state.db, csm).await?;
        let total = count(tasks.len() as i64, "open task", "open tasks");
        let team = match user.role {
            Role::Manager => crate::auth::db::csms(&state.db, Some(user.id)).await?,
            _ => Vec::new(),
        };
        Ok(TaskSection {
            csm,
            groups: group(tasks, now),
            total,
            can_act: matches!(user.role, Role::Csm | Role::Manager),
            team,
            notice,
            today: now.date().to_string(),
        })
    }
}

/// The ticked tasks and what to do with them.
#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    task: Vec<i64>,
    /// complete, due or reassign
    #[serde(default)]
    action: String,
    /// For `due`: the new due date (YYYY-MM-DD), due at the end of that day (UTC).
    #[serde(default)]
    due: String,
    /// For `reassign`: the CSM to hand them to.
    #[serde(default)]
    assignee: String,
    /// The CSM whose list the form was on, to show again.
    csm: Uuid,
}

enum Bulk {
    Complete,
    Due(OffsetDateTime),
    Reassign(Uuid),
}

/// Checks the form into one action, or says what is wrong with it.
async fn validate(pool: &PgPool, user: &CurrentUser, f: &BulkForm, today: Date) -> Result<Bulk> {
    if f.task.is_empty() {
        return Err(AppError::BadRequest("Tick the tasks first.".into()));
    }
    Ok(match f.action.as_str() {
        "complete" => Bulk::Complete,
        "due" => {
            let day = parse_date(f.due.trim(), "new due date")?;
            if day < today {
                return Err(AppError::BadRequest(format!(
                    "new due date: {day} has passed; choose today or later"
                )));
            }
            Bulk::Due(
                day.with_time(Time::from_hms(23, 59, 0).unwrap_or(Time::MIDNIGHT))
                    .assume_utc(),
            )
        }
        "reassign" => {
            if user.role != Role::Manager {
                return Err(AppError::BadRequest(
                    "Only a manager hands tasks to another CSM.".into(),
                ));
            }
            let to: Uuid = f
                .assignee
                .parse()
                .map_err(|_| AppError::BadRequest("reassign to: choose one of your CSMs".into()))?;
            let team = crate::auth::db::csms(pool, Some(user.id)).await?;
            if !team.iter().any(|c| c.0 == to) {
                return Err(AppError::BadRequest(
                    "reassign to: that is not one of your CSMs".into(),
                ));
            }
            Bulk::Reassign(to)
        }
        other => {
            return Err(AppError::BadRequest(format!(
                "action: '{other}' is not complete, due or reassign"
            )));
        }
    })
}

/// Applies one action to every ticked task the user may work (their own, or their team's for
/// a manager), in one transaction with an audit row each; says what was done.
pub async fn bulk(
    pool: &PgPool,
    user: &CurrentUser,
    f: &BulkForm,
    now: OffsetDateTime,
) -> Result<String> {
    let action = validate(pool, user, f, now.date()).await?;
    let mut tx = pool.begin().await?;
    let mut done = 0;
    for &task in &f.task {
        let Some(assignee) = db::task_assignee(&mut *tx, task, user.id).await? else {
            continue;
        };
        let (changed, name, details) = match action {
            Bulk::Complete => (
                db::complete_task(&mut *tx, task, assignee, user.id)
                    .await?
                    .is_some(),
                "task.complete",
                json!({"bulk": true}),
            ),
            Bulk::Due(due) => (
                db::move_task(&mut *tx, task, Some(due), None).await?,
                "task.due",
                json!({"due_at": due.to_string()}),
            ),
            Bulk::Reassign(to) => (
                db::move_task(&mut *tx, task, None, Some(to)).await?,
                "task.reassign",
                json!({"from": assignee, "to": to}),
            ),
        };
        if changed {
            audit::record(
                &mut *tx,
                &Actor::from(user),
                name,
                Some(format!("task:{task}")),
                details,
            )
            .await?;
            done += 1;
        }
    }
    tx.commit().await?;
    let tasks = count(done, "task", "tasks");
    Ok(match action {
        Bulk::Complete => format!("Completed {tasks}."),
        Bulk::Due(due) => format!("Moved {tasks} to {}.", due.date()),
        Bulk::Reassign(_) => format!("Handed {tasks} over."),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/_tasks.html")]
pub struct TasksFragment {
    tasks: TaskSection,
}

/// The bulk form's target: the task list again, with what was done.
pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    axum_extra::extract::Form(form): axum_extra::extract::Form<BulkForm>,
) -> Result<TasksFragment> {
    let said = bulk(&state.db, &user, &form, state.clock.now()).await?;
    Ok(TasksFragment {
        tasks: TaskSection::load(&state, &user, form.csm, Some(said)).await?,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn tasks_fall_in_urgency_groups() {
        let now = datetime!(2026-11-30 10:00 UTC);
        assert_eq!(urgency(datetime!(2026-11-30 09:59 UTC), now), 0, "overdue");
        assert_eq!(urgency(datetime!(2026-11-30 23:00 UTC), now), 1, "today");
        assert_eq!(
            urgency(datetime!(2026-12-07 08:00 UTC), now),
            2,
            "within a week"
        );
        assert_eq!(urgency(datetime!(2026-12-08 08:00 UTC), now), 3, "later");
    }
}
