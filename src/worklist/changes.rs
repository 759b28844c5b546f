//! What changed in a CSM's book since the scores before the latest: accounts newly flagged
//! at risk, health bands that fell (or recovered), tasks opened, urgent tickets and
//! detractor NPS answers, and sales' answers to the CSM's hand-offs. The worklist shows it
//! first; the daily digest emails the same.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// One account whose standing moved between the two latest scores.
#[derive(Debug)]
pub struct Moved {
    pub account: Uuid,
    pub name: String,
    pub band: String,
    pub previous_band: String,
    pub health: f32,
    pub previous_health: f32,
    pub newly_at_risk: bool,
}

/// Something new in the book (or a line of a group): an account and what happened to it.
#[derive(Clone, Debug)]
pub struct Item {
    pub account: Uuid,
    pub name: String,
    pub text: String,
}

/// What changed in a book between `since` (the scores before the latest) and `latest`.
#[derive(Debug)]
pub struct Changes {
    pub since: Date,
    pub latest: Date,
    /// Newly at risk or a band lower, worst first.
    pub worse: Vec<Moved>,
    /// A band higher.
    pub better: Vec<Moved>,
    pub tasks: Vec<Item>,
    pub signals: Vec<Item>,
    pub replies: Vec<Item>,
}

/// A group ("Needs attention", …) with its first lines and how many more.
pub struct Group {
    pub label: &'static str,
    pub total: usize,
    pub lines: Vec<Item>,
    pub more: usize,
}

impl Changes {
    /// The non-empty groups, most urgent first, each showing its first `shown` lines.
    pub fn groups(self, shown: usize) -> Vec<Group> {
        let moved = |ms: Vec<Moved>| -> Vec<Item> {
            ms.into_iter()
                .map(|m| Item {
                    account: m.account,
                    text: m.in_words(),
                    name: m.name,
                })
                .collect()
        };
        [
            ("Needs attention", moved(self.worse)),
            ("Recovered", moved(self.better)),
            ("New tasks", self.tasks),
            ("Customer signals", self.signals),
            ("Sales answered your hand-offs", self.replies),
        ]
        .into_iter()
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(label, mut lines)| {
            let total = lines.len();
            lines.truncate(shown);
            Group {
                label,
                total,
                more: total - lines.len(),
                lines,
            }
        })
        .collect()
    }
}

impl Moved {
    /// How the account's standing moved: "newly flagged at risk; health 62 → 48, yellow → red".
    fn in_words(&self) -> String {
        let health = format!("health {:.0} → {:.0}", self.previous_health, self.health);
        let moved = if self.band == self.previous_band {
            health
        } else {
            format!("{health}, {} → {}", self.previous_band, self.band)
        };
        if self.newly_at_risk {
            format!("newly flagged at risk; {moved}")
        } else {
            moved
        }
    }
}

/// The two latest scored days, if there are two.
pub async fn scored_days(db: impl PgExecutor<'_>) -> sqlx::Result<Option<(Date, Date)>> {
    let row = sqlx::query!(
        r#"select max(day) as latest, (select max(day) from scores
               where day < (select max(day) from scores)) as "previous"
           from scores"#
    )
    .fetch_one(db)
    .await?;
    Ok(row.latest.zip(row.previous).map(|(l, p)| (p, l)))
}

/// The live accounts of `csm` whose band or at-risk flag moved from `since` to `latest`.
pub async fn moved(
    db: impl PgExecutor<'_>,
    csm: Uuid,
    since: Date,
    latest: Date,
) -> sqlx::Result<Vec<Moved>> {
    sqlx::query_as!(
        Moved,
        r#"select a.id as account, a.name, n.band, p.band as previous_band,
                  n.health_score as health, p.health_score as previous_health,
                  (n.at_risk and not p.at_risk) as "newly_at_risk!"
           from accounts a
           join scores n on n.account_id = a.id and n.day = $3
           join scores p on p.account_id = a.id and p.day = $2
           where a.owner_id = $1 and a.status <> 'churned'
             and (n.band <> p.band or (n.at_risk and not p.at_risk))
           order by n.health_score - p.health_score, a.name"#,
        csm,
        since,
        latest
    )
    .fetch_all(db)
    .await
}

/// What is new in `csm`'s book after `after`, by kind: tasks opened for them and still
/// open (`task`), urgent or high-priority tickets opened and detractor NPS answers (0–6)
/// given (`signal`), and sales' answers to their hand-offs (`reply`); newest first.
async fn news(
    db: impl PgExecutor<'_>,
    csm: Uuid,
    after: OffsetDateTime,
) -> sqlx::Result<Vec<(String, Item)>> {
    let rows = sqlx::query!(
        r#"select kind as "kind!", account as "account!", name as "name!", text as "text!" from (
               select 'task' as kind, t.account_id as account, a.name, t.created_at as at, t.title as text
               from tasks t join accounts a on a.id = t.account_id
               where t.assignee_id = $1 and t.status = 'open' and t.created_at > $2
               union all
               select 'signal', a.id, a.name, t.opened_at,
                      t.priority::text || ' ticket: ' || t.subject
               from tickets t join accounts a on a.id = t.account_id
               where a.owner_id = $1 and t.opened_at > $2 and t.priority in ('urgent', 'high')
               union all
               select 'signal', a.id, a.name, r.responded_at,
                      'NPS ' || r.score || coalesce(': “' || left(r.comment, 120) || '”', '')
               from nps_responses r join accounts a on a.id = r.account_id
               where a.owner_id = $1 and r.responded_at > $2 and r.score <= 6
               union all
               select 'reply', a.id, a.name, e.at,
                      e.actor || ' marked the hand-off ' || e.step::text
                      || case when e.note = '' then '' else ': ' || coalesce(rc.label, e.note) end
               from opportunity_events e
               join opportunities o on o.id = e.opportunity_id
               join accounts a on a.id = o.account_id
               left join reason_codes rc on rc.code = e.note
               where a.owner_id = $1 and e.at > $2 and e.step <> 'handed'
           ) s order by at desc limit 300"#,
        csm,
        after
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let item = Item {
                account: r.account,
                name: r.name,
                text: r.text,
            };
            (r.kind, item)
        })
        .collect())
}

/// Everything that changed in `csm`'s book since the scores before the latest; none before
/// there are two scored days.
pub async fn load(
    pool: &sqlx::PgPool,
    csm: Uuid,
    now: OffsetDateTime,
) -> sqlx::Result<Option<Changes>> {
    let Some((since, latest)) = scored_days(pool).await? else {
        return Ok(None);
    };
    // New work and customer signals over the same span as the scores, at least a day.
    let after = (since.midnight().assume_utc() + time::Duration::days(1))
        .min(now - time::Duration::days(1));
    let (moved, news) = tokio::try_join!(moved(pool, csm, since, latest), news(pool, csm, after))?;
    let of = |kind: &str| -> Vec<Item> {
        news.iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, i)| i.clone())
            .collect()
    };
    let (tasks, signals, replies) = (of("task"), of("signal"), of("reply"));
    // Worst falls first (the query's order); the biggest recoveries first.
    let (worse, mut better): (Vec<Moved>, Vec<Moved>) = moved
        .into_iter()
        .partition(|m| m.newly_at_risk || rank(&m.band) < rank(&m.previous_band));
    better.reverse();
    Ok(Some(Changes {
        since,
        latest,
        worse,
        better,
        tasks,
        signals,
        replies,
    }))
}

/// Bands from worst to best.
fn rank(band: &str) -> u8 {
    match band {
        "red" => 0,
        "yellow" => 1,
        _ => 2,
    }
}
