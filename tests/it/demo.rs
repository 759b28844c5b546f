use keel::demo::company::Company;
use sqlx::PgPool;
use time::macros::date;

#[test]
fn the_same_seed_gives_the_same_company() {
    let a = Company::simulate(
        7,
        150,
        date!(2026 - 11 - 23),
        3,
        keel::demo::Profile::load(None).unwrap(),
    );
    let b = Company::simulate(
        7,
        150,
        date!(2026 - 11 - 23),
        3,
        keel::demo::Profile::load(None).unwrap(),
    );
    let owners = vec!["x@keel.demo".to_owned(); 3];
    assert_eq!(a.accounts_csv(&owners), b.accounts_csv(&owners));
    assert_eq!(a.tickets_csv(), b.tickets_csv());
    let from = date!(2026 - 11 - 01);
    assert_eq!(
        a.events_csv(from, date!(2026 - 11 - 14)),
        b.events_csv(from, date!(2026 - 11 - 14))
    );
    let c = Company::simulate(
        8,
        150,
        date!(2026 - 11 - 23),
        3,
        keel::demo::Profile::load(None).unwrap(),
    );
    assert_ne!(a.accounts_csv(&owners), c.accounts_csv(&owners));
}

#[test]
fn the_segment_mix_follows_the_spec() {
    let c = Company::simulate(
        7,
        4_200,
        date!(2026 - 11 - 23),
        14,
        keel::demo::Profile::load(None).unwrap(),
    );
    let paying: Vec<_> = c.accounts.iter().filter(|a| !a.trial).collect();
    let per_segment = |s: usize| paying.iter().filter(|a| a.segment == s).count();
    assert_eq!(
        (
            per_segment(0),
            per_segment(1),
            per_segment(2),
            per_segment(3)
        ),
        (120, 480, 1_800, 1_800)
    );
    let trials = c.accounts.len() - paying.len();
    assert!((200..400).contains(&trials), "{trials} trials");
    let churned = paying
        .iter()
        .filter(|a| a.churn_on.is_some_and(|d| d <= c.as_of))
        .count();
    let rate = churned as f64 / paying.len() as f64;
    assert!((0.14..0.22).contains(&rate), "annual logo churn {rate:.3}");
}

#[sqlx::test]
async fn the_demo_loads_through_ingestion(pool: PgPool) {
    keel::db::migrate(&pool).await.unwrap();
    let seeds = keel::demo::Seeds::load(None).unwrap();
    let staff = keel::demo::seed_staff(&pool, 40, &seeds.company)
        .await
        .unwrap();
    assert_eq!(staff.logins.len(), 6, "one login per role");
    let yesterday = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
    let loaded = keel::demo::load(&pool, 7, 40, yesterday, &staff, &seeds, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(loaded.accounts, 42);
    assert!(loaded.events > 10_000);
    let (accounts, owned): (i64, i64) =
        sqlx::query_as("select count(*), count(owner_id) from accounts")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((accounts, owned), (42, 42));
    let not_accepted: i64 =
        sqlx::query_scalar("select count(*) from ingest_batches where status <> 'accepted'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(not_accepted, 0);
    for table in [
        "contacts",
        "subscription_periods",
        "tickets",
        "nps_responses",
        "crm_notes",
        "usage_daily",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(n > 0, "{table} is empty");
    }
    assert!(keel::demo::has_data(&pool).await.unwrap());
}

#[test]
fn the_planted_experiment_has_its_sample_and_its_effects() {
    let c = Company::simulate(
        7,
        4_200,
        date!(2026 - 11 - 23),
        14,
        keel::demo::Profile::load(None).unwrap(),
    );
    let day = c.trial.day.unwrap();
    let mut per = [(0, 0); 3];
    for (i, v, _, _) in &c.trial.assigned {
        let a = &c.accounts[*i];
        per[*v].0 += 1;
        if a.churn_on.is_none_or(|d| (d - day).whole_days() > 90) {
            per[*v].1 += 1;
        }
    }
    assert!(
        per.iter().all(|p| p.0 >= 100),
        "{per:?}: the sources' minimum per variant"
    );
    let retention: Vec<f64> = per
        .iter()
        .map(|p| f64::from(p.1) / f64::from(p.0))
        .collect();
    assert!(
        retention[1] > retention[0] + 0.08 && retention[2] > retention[0] - 0.02,
        "{retention:?}: outreach keeps more than no outreach"
    );
}
