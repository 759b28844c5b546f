//! The account page's reads after its header, in one statement: each round trip saved is
//! worth a few % of the page's throughput (a page is about 1 ms of work on two cores, and a
//! statement's round trip a few hundredths of that, on both sides).

use serde::Deserialize;
use sqlx::PgExecutor;
use sqlx::types::Json;
use time::Date;
use uuid::Uuid;

use super::db::{ScorePoint, iso_day};
use crate::reasons::db::{ReasonCode, by_kind};

/// One day of the account's usage.
#[derive(Debug, Deserialize)]
pub struct UsageDay {
    #[serde(with = "iso_day")]
    pub day: Date,
    pub active_users: i32,
    pub core_actions: i32,
    /// Feature areas used.
    pub features: i32,
}

#[derive(Debug, Deserialize)]
pub struct Period {
    #[serde(with = "iso_day")]
    pub period_start: Date,
    #[serde(with = "iso_day")]
    pub period_end: Date,
    pub plan: String,
    pub seats: i32,
    pub mrr_cents: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Contact {
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub is_champion: bool,
    /// The last day the contact used the product (by the pseudonymous id events carry).
    #[serde(with = "iso_day::option")]
    pub last_active: Option<Date>,
}

pub struct Lists {
    pub contacts: Vec<Contact>,
    pub subscriptions: Vec<Period>,
    /// Open tasks (id, title), newest first, for the "answers task" picker.
    pub open_tasks: Vec<(i64, String)>,
    /// Usage since the day asked for, by day.
    pub usage: Vec<UsageDay>,
    /// Scores since the day asked for, by day.
    pub history: Vec<ScorePoint>,
    /// The active reason codes for feedback on a score, and for a snooze.
    pub feedback_reasons: Vec<ReasonCode>,
    pub snooze_reasons: Vec<ReasonCode>,
}

/// The account's first 50 contacts, champions first (`account_contacts`, a function so its
/// plan is kept per connection), its last 12 subscription periods, its open tasks, its
/// usage since `usage_since` and scores since `history_since`, and the reason codes its
/// forms offer.
///
/// The days are read through sub-selects, so the planner sees no value it could estimate
/// with: every plan guesses the same, and the connection's cached plan serves every account
/// rather than one planned again for each request (0.3 ms, a third of the page's database
/// time).
pub async fn lists(
    db: impl PgExecutor<'_>,
    id: Uuid,
    usage_since: Date,
    history_since: Date,
) -> sqlx::Result<Lists> {
    let row = sqlx::query!(
        r#"select
             (select coalesce(json_agg(c order by c.n), '[]')
              from account_contacts($1)
                   with ordinality c(external_id, name, email, title, is_champion, last_active, n))
               as "contacts!: Json<Vec<Contact>>",
             (select coalesce(json_agg(p order by p.period_start desc), '[]')
              from (select period_start, period_end, plan, seats, mrr_cents from subscription_periods
                    where account_id = $1 order by period_start desc limit 12) p)
               as "subscriptions!: Json<Vec<Period>>",
             (select coalesce(json_agg(json_build_array(t.id, t.title) order by t.created_at desc), '[]')
              from (select id, title, created_at from tasks where account_id = $1 and status = 'open'
                    order by created_at desc limit 50) t)
               as "open_tasks!: Json<Vec<(i64, String)>>",
             (select coalesce(json_agg(u order by u.day), '[]')
              from (select day, active_users, core_actions,
                           bit_count(categories::bit(32))::int as features
                    from usage_daily where account_id = $1 and day >= (select $2::date)) u)
               as "usage!: Json<Vec<UsageDay>>",
             (select coalesce(json_agg(h order by h.day), '[]')
              from (select day, health_score, band, churn_probability, health_config_id, anomaly,
                           champion_loss
                    from scores where account_id = $1 and day >= (select $3::date)) h)
               as "history!: Json<Vec<ScorePoint>>",
             (select coalesce(json_agg(json_build_array(kind, code, label) order by label), '[]')
              from reason_codes where kind in ('feedback', 'snooze') and active)
               as "reasons!: Json<Vec<(String, String, String)>>""#,
        id,
        usage_since,
        history_since
    )
    .fetch_one(db)
    .await?;
    let [feedback_reasons, snooze_reasons] = by_kind(["feedback", "snooze"], row.reasons.0);
    Ok(Lists {
        contacts: row.contacts.0,
        subscriptions: row.subscriptions.0,
        open_tasks: row.open_tasks.0,
        usage: row.usage.0,
        history: row.history.0,
        feedback_reasons,
        snooze_reasons,
    })
}
