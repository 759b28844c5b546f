//! Experiments over HTTP and through the daily run: what a design can detect, stratified
//! assignment once and for good, the stand-aside rules for plays, a playbook's holdout,
//! results against hand-computed definitions, the decision, and who may do what.

use std::collections::HashMap;

use keel::auth::Role;
use keel::clock::Clock;
use keel::ingest::Entity;
use reqwest::StatusCode;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::{Client, TestApp, TestUser, location};

pub struct Lab {
    pub app: TestApp,
    pub analyst: Client,
    pub analyst_user: TestUser,
    pub csm: Client,
    pub today: Date,
}

const MRR: [u32; 4] = [6000, 2000, 500, 100];

/// `n` accounts of one CSM, the four segments in turn, scored today: tiers high, medium,
/// low in turn by groups of four; high and medium flagged at risk.
pub async fn lab(pool: sqlx::PgPool, n: usize) -> Lab {
    let app = TestApp::spawn(pool).await;
    let (analyst, analyst_user) = app.login_as(Role::Analyst).await;
    let (csm, csm_user) = app.login_as(Role::Csm).await;
    let mut csv =
        String::from("external_id,name,plan,seats,mrr,customer_since,renewal_date,owner_email\n");
    for i in 0..n {
        csv.push_str(&format!(
            "E{i:03},Lab {i},team,10,{},2024-01-01,2027-06-01,{}\n",
            MRR[i % 4],
            csm_user.email
        ));
    }
    app.load_csv(Entity::Accounts, csv).await;
    let today = app.clock.now().date();
    score(&app, today, |i| ["high", "medium", "low"][(i / 4) % 3]).await;
    Lab {
        app,
        analyst,
        analyst_user,
        csm,
        today,
    }
}

/// Scores every lab account on `day` with the tier `tier(i)`.
async fn score(app: &TestApp, day: Date, tier: impl Fn(usize) -> &'static str) {
    let run = app.test_run(day).await;
    let ids: Vec<(Uuid, String)> =
        sqlx::query_as("select id, external_id from accounts order by external_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    for (id, ext) in ids {
        let i: usize = ext[1..].parse().unwrap();
        let t = tier(i);
        sqlx::query(
            "insert into scores (account_id, day, health_score, band, signals, churn_probability, risk_tier, at_risk, run_id)
             values ($1, $2, 50, 'yellow', '[]', 0.3, $3, $4, $5)",
        )
        .bind(id)
        .bind(day)
        .bind(t)
        .bind(t != "low")
        .bind(run)
        .execute(&app.db)
        .await
        .unwrap();
    }
}

/// The form's fields for a design: variants as (name, allocation, playbook id or "").
fn form<'a>(
    name: &'a str,
    rule: &'a str,
    minimum: &'a str,
    variants: &'a [(&'a str, &'a str, String)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", name),
        ("hypothesis", "It helps"),
        ("rule", rule),
        ("duration", "60"),
        ("minimum", minimum),
    ];
    for (n, a, p) in variants {
        f.extend([
            ("variant_name", *n),
            ("variant_description", ""),
            ("variant_allocation", *a),
            ("variant_playbook", p.as_str()),
        ]);
    }
    f
}

/// Designs and starts an experiment as the analyst; its id.
pub async fn started(lab: &Lab, name: &str, rule: &str, variants: &[(&str, &str, String)]) -> i64 {
    let resp = lab
        .analyst
        .post_form("/experiments", &form(name, rule, "10", variants))
        .await;
    let status = resp.status();
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id: i64 = location(&resp).rsplit('/').next().unwrap().parse().unwrap();
    let resp = lab
        .analyst
        .post_form(&format!("/experiments/{id}/start"), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    id
}

pub async fn run_day(lab: &Lab, day: Date) {
    let mut tx = lab.app.db.begin().await.unwrap();
    keel::pipeline::open_plays(&lab.app.db, &mut tx, day, OffsetDateTime::now_utc())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// (account, variant position, stratum, slot) of an experiment's assignments.
async fn assignments(lab: &Lab, id: i64) -> Vec<(Uuid, i16, String, i32)> {
    sqlx::query_as(
        "select x.account_id, v.position, x.stratum, x.slot from experiment_assignments x
         join experiment_variants v on v.id = x.variant_id where x.experiment_id = $1 order by x.account_id",
    )
    .bind(id)
    .fetch_all(&lab.app.db)
    .await
    .unwrap()
}

pub async fn playbook(lab: &Lab, name: &str) -> i64 {
    sqlx::query_scalar(
        "insert into playbooks (name, description, enabled, rule, steps, created_by)
         values ($1, '', false, '{}', '[{\"title\": \"Call\", \"kind\": \"call\", \"owner_role\": \"csm\", \"sla_hours\": 24}]', 'test')
         returning id",
    )
    .bind(name)
    .fetch_one(&lab.app.db)
    .await
    .unwrap()
}

/// The playbooks whose plays are open on each account.
async fn plays(lab: &Lab) -> HashMap<Uuid, Vec<i64>> {
    let rows: Vec<(Uuid, i64)> = sqlx::query_as("select account_id, playbook_id from plays")
        .fetch_all(&lab.app.db)
        .await
        .unwrap();
    let mut out: HashMap<Uuid, Vec<i64>> = HashMap::new();
    for (a, p) in rows {
        out.entry(a).or_default().push(p);
    }
    out
}

#[sqlx::test]
async fn a_design_shows_what_it_can_detect_and_says_when_it_falls_short(pool: sqlx::PgPool) {
    let lab = lab(pool, 116).await;
    let two = [
        ("Control", "50", String::new()),
        ("Call", "50", String::new()),
    ];
    let html = lab
        .analyst
        .hx_post("/experiments/preview", &form("Calls", "{}", "50", &two))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("116 accounts match today"), "{html}");
    // 58 per arm from a 50 % baseline: power.prop.test(n = 58, p1 = .5, power = .8) finds
    // p2 = 0.749, a rise of 24.9 points.
    assert!(html.contains("24.9 percentage points"), "{html}");
    assert!(html.contains("No scores 90 days old yet"));
    assert!(html.contains("Every variant reaches its minimum sample"));
    let html = lab
        .analyst
        .hx_post("/experiments/preview", &form("Calls", "{}", "100", &two))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("cannot reach its minimum sample of 100"),
        "{html}"
    );
    let bad = [
        ("Control", "50", String::new()),
        ("Call", "30", String::new()),
    ];
    let resp = lab
        .analyst
        .post_form("/experiments", &form("Calls", "{\"tier\": 1}", "50", &bad))
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("eligibility: unknown field `tier`"), "{html}");
    assert_eq!(lab.app.audit_count("experiment.create").await, 0);
    // A saved draft's page says the same.
    let resp = lab
        .analyst
        .post_form("/experiments", &form("Calls", "{}", "50", &two))
        .await;
    let draft = lab
        .analyst
        .get(&location(&resp))
        .await
        .text()
        .await
        .unwrap();
    assert!(draft.contains("24.9 percentage points"), "{draft}");
}

#[sqlx::test]
async fn each_account_is_assigned_once_stratified_and_reproducibly(pool: sqlx::PgPool) {
    let lab = lab(pool, 120).await;
    let three = [
        ("Control", "33", String::new()),
        ("A", "34", String::new()),
        ("B", "33", String::new()),
    ];
    let id = started(
        &lab,
        "Three ways",
        r#"{"tiers": ["high", "medium"]}"#,
        &three,
    )
    .await;
    run_day(&lab, lab.today).await;
    let first = assignments(&lab, id).await;
    assert_eq!(first.len(), 80, "every high and medium account, once");
    // Within each stratum (segment × tier, ten accounts each) the three variants hold 3 or
    // 4 accounts: whole blocks of three, plus at most one open block.
    let mut per: HashMap<&str, [usize; 3]> = HashMap::new();
    for (_, v, s, _) in &first {
        per.entry(s.as_str()).or_default()[*v as usize] += 1;
    }
    assert_eq!(per.len(), 8, "{per:?}");
    for (s, c) in &per {
        assert!(c.iter().all(|n| (3..=4).contains(n)), "{s}: {c:?}");
    }
    // Reproducible: the stored seed, stratum and slot give the same variant.
    let seed: i64 = sqlx::query_scalar("select seed from experiments where id = $1")
        .bind(id)
        .fetch_one(&lab.app.db)
        .await
        .unwrap();
    for (_, v, s, slot) in &first {
        assert_eq!(
            keel::stats::randomise::variant(seed as u64, s, *slot as u64, &[33, 34, 33]),
            Some(*v as usize)
        );
    }
    // The next run changes nothing; tomorrow, the low accounts that turn medium join and
    // nobody moves.
    run_day(&lab, lab.today).await;
    assert_eq!(assignments(&lab, id).await, first);
    let tomorrow = lab.today + Duration::days(1);
    score(&lab.app, tomorrow, |i| {
        if i < 24 {
            "medium"
        } else {
            ["high", "medium", "low"][(i / 4) % 3]
        }
    })
    .await;
    run_day(&lab, tomorrow).await;
    let later = assignments(&lab, id).await;
    assert_eq!(later.len(), 80 + 8, "E008–E011 and E020–E023 turned medium");
    for a in &first {
        assert!(later.contains(a), "{a:?} moved");
    }
}

#[sqlx::test]
async fn control_never_gets_the_treatment_and_default_plays_stand_aside(pool: sqlx::PgPool) {
    let lab = lab(pool, 48).await;
    let treatment = playbook(&lab, "Treatment call").await;
    let two = [
        ("Control", "50", String::new()),
        ("Call", "50", treatment.to_string()),
    ];
    let id = started(&lab, "Calls", r#"{"tiers": ["high"]}"#, &two).await;
    run_day(&lab, lab.today).await;
    run_day(&lab, lab.today + Duration::days(1)).await;
    let assigned = assignments(&lab, id).await;
    assert_eq!(assigned.len(), 16);
    let plays = plays(&lab).await;
    let in_experiment: HashMap<Uuid, i16> = assigned.iter().map(|a| (a.0, a.1)).collect();
    for (account, v) in &in_experiment {
        let got = plays.get(account).cloned().unwrap_or_default();
        match v {
            0 => assert!(got.is_empty(), "a control account got plays {got:?}"),
            _ => assert_eq!(
                got,
                vec![treatment],
                "a treated account gets its variant's play only"
            ),
        }
    }
    // The default at-risk SMB playbook still opens on the medium-risk SMB accounts.
    let smb: i64 = sqlx::query_scalar("select id from playbooks where name = 'At-risk SMB'")
        .fetch_one(&lab.app.db)
        .await
        .unwrap();
    let outside = plays
        .iter()
        .filter(|(a, p)| !in_experiment.contains_key(a) && p.contains(&smb))
        .count();
    assert_eq!(outside, 8, "medium-risk SMB and self-serve accounts");
    // The CSM sees that an account is under test, and not the results.
    let (account, _) = in_experiment.iter().next().unwrap();
    let note = lab
        .csm
        .hx_get(&format!("/accounts/{account}/experiments"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        note.contains("under test") && note.contains("Calls"),
        "{note}"
    );
    assert_eq!(
        lab.csm.get(&format!("/experiments/{id}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        lab.csm.get("/experiments").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test]
async fn a_held_out_account_never_gets_the_play(pool: sqlx::PgPool) {
    let lab = lab(pool, 96).await;
    let smb: i64 = sqlx::query_scalar(
        "update playbooks set holdout_pct = 50 where name = 'At-risk SMB' returning id",
    )
    .fetch_one(&lab.app.db)
    .await
    .unwrap();
    run_day(&lab, lab.today).await;
    sqlx::query("update plays set status = 'closed', closed_at = now()")
        .execute(&lab.app.db)
        .await
        .unwrap();
    run_day(&lab, lab.today).await;
    let holdout: i64 = sqlx::query_scalar("select id from experiments where holdout_of = $1")
        .bind(smb)
        .fetch_one(&lab.app.db)
        .await
        .unwrap();
    let assigned = assignments(&lab, holdout).await;
    // SMB and self-serve accounts at high or medium risk: half of 96, two thirds of those.
    assert_eq!(assigned.len(), 32);
    let plays = plays(&lab).await;
    let held: Vec<_> = assigned.iter().filter(|a| a.1 == 0).collect();
    assert_eq!(held.len(), 16, "50 % in blocks of two");
    for (account, v, _, _) in &assigned {
        let n = plays
            .get(account)
            .map_or(0, |p| p.iter().filter(|x| **x == smb).count());
        assert_eq!(
            n,
            if *v == 0 { 0 } else { 2 },
            "held out: none; played: one a day"
        );
    }
    let (manager, _) = lab.app.login_as(Role::Manager).await;
    let html = manager
        .hx_get(&format!("/playbooks/{smb}/uplift"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Measured uplift") && html.contains("Held out"),
        "{html}"
    );
    assert!(
        html.contains("No account has reached 90 days yet"),
        "{html}"
    );
}
