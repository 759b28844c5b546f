//! What a day's scores carry from the usage history beside the score itself: a usage anomaly
//! this week against the account's own eight-week baseline (beyond three standard deviations
//! and a 40 % / 50 % change), and champion watch (a champion or a power user — 20+ active
//! days in a month — now active at under 30 % of their former pace). Neither reads a score,
//! so the daily run finds them while it scores and writes the scores, then writes them onto
//! the day's scores in that same transaction.

use std::collections::BTreeMap;

use sqlx::{PgConnection, PgPool};
use time::Date;
use uuid::Uuid;

/// Per account with either, its anomaly and its champion-watch text.
pub struct Notes(BTreeMap<Uuid, (Option<String>, Option<String>)>);

/// The day's notes of every account, or of `accounts` only: the anomalies and champion watch
/// read at once, each on a connection of its own (champion watch once the months are caught
/// up).
pub async fn find(pool: &PgPool, day: Date, accounts: Option<&[Uuid]>) -> sqlx::Result<Notes> {
    let champions = async {
        crate::features::months::catch_up(pool).await?;
        read(pool, CHAMPIONS, day, accounts).await
    };
    let (anomalies, champions) = tokio::try_join!(read(pool, ANOMALIES, day, accounts), champions)?;
    let mut notes = BTreeMap::<Uuid, (Option<String>, Option<String>)>::new();
    for (account, text) in anomalies {
        notes.entry(account).or_default().0 = Some(text);
    }
    for (account, text) in champions {
        notes.entry(account).or_default().1 = Some(text);
    }
    Ok(Notes(notes))
}

/// One of the notes' queries, binding the day and the accounts (null for all).
async fn read(
    pool: &PgPool,
    sql: &'static str,
    day: Date,
    accounts: Option<&[Uuid]>,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    let mut tx = pool.begin().await?;
    // The windows aggregate millions of days for a whole book: give the transaction room to
    // hash them in memory rather than spill to disk, and skip JIT compilation, which costs
    // more than it saves here.
    sqlx::query("set local work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("set local jit = off").execute(&mut *tx).await?;
    let rows = sqlx::query_as(sql)
        .bind(day)
        .bind(accounts)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Usage this week against the account's own eight weeks before.
const ANOMALIES: &str = r#"with weeks as (
               select account_id, ($1::date - day) / 7 as w, sum(active_users)::float8 as au
               from usage_daily
               where day > $1::date - 63 and day <= $1 and ($2::uuid[] is null or account_id = any($2))
               group by 1, 2
           ), stats as (
               select account_id,
                      coalesce(sum(au) filter (where w = 0), 0) as this_week,
                      coalesce(sum(au) filter (where w > 0), 0) / 8 as mean,
                      coalesce(sum(au * au) filter (where w > 0), 0) / 8 as sq
               from weeks group by account_id
           ), flagged as (
               select account_id, this_week, mean,
                      greatest(sqrt(greatest(sq - mean * mean, 0)), 0.1 * mean) as sd
               from stats where mean >= 3
           ), anomalous as (
               select account_id, case
               when this_week < mean - 3 * sd and this_week < 0.6 * mean then
                   format('usage drop: %s active user-days this week against %s ± %s a week over the previous 8 weeks',
                          this_week, round(mean::numeric, 1), round(sd::numeric, 1))
               when this_week > mean + 3 * sd and this_week > 1.5 * mean then
                   format('usage spike: %s active user-days this week against %s ± %s a week over the previous 8 weeks',
                          this_week, round(mean::numeric, 1), round(sd::numeric, 1))
               end as text
               from flagged
           )
           select f.account_id, f.text
           from anomalous f join accounts a on a.id = f.account_id
           where f.text is not null and a.customer_since <= $1::date - 63"#;

/// Champions and power users whose active days of the last 14 fell under 30 % of their pace
/// in the 30 before.
const CHAMPIONS: &str = r#"with users as (
               select account_id, user_ref,
                      sum(bit_count((active & month_day_bits(month, $1::date - 43, $1::date - 14))::bit(32))) as before,
                      sum(bit_count((active & month_day_bits(month, $1::date - 13, $1))::bit(32))) as recent
               from usage_user_months
               where month between date_trunc('month', $1::date - 43)::date and $1
                 and ($2::uuid[] is null or account_id = any($2))
               group by 1, 2
           ), watched as (
               select u.account_id, u.user_ref, u.before, u.recent, c.name,
                      coalesce(c.is_champion, false) as champion
               from users u
               left join contacts c on c.account_id = u.account_id and c.user_ref = u.user_ref and c.erased_at is null
               where (u.before >= 20 or (c.is_champion and u.before >= 6))
                 and u.recent::float8 / 14 < 0.3 * u.before::float8 / 30
           )
           select account_id,
                  string_agg(format('%s %s active %s of the last 14 days, %s of the 30 before',
                                    case when champion then 'champion' else 'power user' end,
                                    coalesce(name, user_ref), recent, before),
                             '; ' order by champion desc, before desc)
           from watched group by account_id"#;

/// Writes the notes onto the day's scores, in the caller's transaction: each noted score is
/// updated once, and an account not scored that day is left out.
pub async fn write(conn: &mut PgConnection, day: Date, notes: &Notes) -> sqlx::Result<()> {
    let accounts: Vec<Uuid> = notes.0.keys().copied().collect();
    let (anomalies, champions): (Vec<Option<&str>>, Vec<Option<&str>>) = notes
        .0
        .values()
        .map(|(a, c)| (a.as_deref(), c.as_deref()))
        .unzip();
    sqlx::query(
        "update scores s set anomaly = x.anomaly, champion_loss = x.champion
         from unnest($2::uuid[], $3::text[], $4::text[]) x(account_id, anomaly, champion)
         where s.account_id = x.account_id and s.day = $1",
    )
    .bind(day)
    .bind(&accounts)
    .bind(&anomalies)
    .bind(&champions)
    .execute(conn)
    .await?;
    Ok(())
}
