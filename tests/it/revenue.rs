//! The executive's dashboard on a hand-built book whose every figure is worked out in the
//! test: NRR, GRR, logo churn, the movements that reconcile, and who may read what.

use keel::auth::Role;
use keel::auth::audit::Actor;
use keel::ingest::{Entity, Payload, Status};
use reqwest::StatusCode;
use sqlx::PgPool;
use time::macros::date;

use crate::helpers::{Client, TestApp};

async fn load(pool: &PgPool, entity: Entity, body: String) {
    let out = keel::ingest::ingest(
        pool,
        entity,
        Payload::Csv(body.into_bytes()),
        None,
        "test",
        &Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(out.status, Status::Accepted, "{entity}: {:?}", out.errors);
}

/// Four accounts over a year to 15 June 2026, two per team:
/// A $100 → $150 in June (expansion), B $200 → $150 in March (contraction), C $100 churns
/// in April, D new at $500 in February (outside NRR). T12M from July 2025: starting $400,
/// expansion $50, contraction $50, churn $100 → NRR 75.0 %, GRR 62.5 %, logo churn 1 of 3.
pub struct Book {
    pub app: TestApp,
    manager_one: Client,
}

pub async fn book(pool: PgPool) -> Book {
    let app = TestApp::spawn(pool.clone()).await;
    let (manager_one, m1) = app.login_as(Role::Manager).await;
    let m2 = app.create_user(Role::Manager).await;
    let csm1 = app.create_user(Role::Csm).await;
    let csm2 = app.create_user(Role::Csm).await;
    for (csm, manager) in [(&csm1, &m1), (&csm2, &m2)] {
        sqlx::query("update users set manager_id = $1 where id = $2")
            .bind(manager.id)
            .bind(csm.id)
            .execute(&pool)
            .await
            .unwrap();
    }
    load(
        &pool,
        Entity::Accounts,
        format!(
            "external_id,name,plan,seats,mrr,customer_since,owner_email\n\
             A,Acme,team,5,150,2025-06-01,{c1}\nB,Beta,team,5,150,2025-06-01,{c1}\n\
             C,Core,team,5,100,2025-06-01,{c2}\nD,Dyn,team,5,500,2026-02-10,{c2}\n",
            c1 = csm1.email,
            c2 = csm2.email
        ),
    )
    .await;
    load(
        &pool,
        Entity::Subscriptions,
        "account_id,period_start,period_end,plan,seats,mrr\n\
         A,2025-06-01,2026-06-01,team,5,100\nA,2026-06-01,2026-07-01,team,8,150\n\
         B,2025-06-01,2026-03-01,team,5,200\nB,2026-03-01,2026-07-01,team,4,150\n\
         C,2025-06-01,2026-04-01,team,5,100\n\
         D,2026-02-10,2026-07-01,team,20,500\n"
            .into(),
    )
    .await;
    keel::revenue::facts::refresh(&pool, date!(2026 - 06 - 15))
        .await
        .unwrap();
    Book { app, manager_one }
}

#[sqlx::test]
async fn the_executive_reads_retention_worked_out_by_hand(pool: PgPool) {
    let b = book(pool).await;
    let (exec, _) = b.app.login_as(Role::Executive).await;
    let page = exec.get("/dashboard").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let kpis = html.split("id=\"kpis\"").nth(1).unwrap();
    for figure in ["75.0 %", "62.5 %", "33.3 %", "$600", "$1.2K"] {
        assert!(
            kpis.contains(figure),
            "{figure} missing from the headline: {kpis}"
        );
    }
    assert!(
        html.contains("2025-07-01 to 2026-06-15"),
        "the window is stated"
    );
    // Movements reconcile: June starts at $750 (A 100, B 150, D 500), A expands by $50.
    let csv = exec
        .get("/dashboard/movements.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("month,start,new,expansion,reactivation,contraction,churn,end\n"));
    assert!(csv.contains("Jun 2026,$750,$0,$50,$0,$0,$0,$800"), "{csv}");
    assert!(csv.contains("Feb 2026,$400,$500,$0,$0,$0,$0,$900"), "{csv}");
    assert!(csv.contains("Mar 2026,$900,$0,$0,$0,$50,$0,$850"), "{csv}");
    assert!(csv.contains("Apr 2026,$850,$0,$0,$0,$0,$100,$750"), "{csv}");
    // By segment at the window's start: C and A self-serve ($100), B SMB ($200).
    let segments = exec
        .get("/dashboard/segments.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        segments.contains("Self-serve,2,1,50.0 %,$200,$100,50.0 %,75.0 %,50.0 %"),
        "{segments}"
    );
    assert!(
        segments.contains("SMB,1,0,0.0 %,$200,$0,0.0 %,75.0 %,75.0 %"),
        "{segments}"
    );
    // The quarter: April to June, starting $750 with D: churn $100 in April.
    let quarter = exec
        .get("/dashboard?window=quarter")
        .await
        .text()
        .await
        .unwrap();
    assert!(quarter.contains("2026-04-01 to 2026-06-15"));
    // The ROI card recomputes without saving: $1M at risk, 10 % saved, $50K cost, 80 % margin.
    let roi = exec
        .hx_get("/dashboard/roi?arr_at_risk=1000000&r0=15&r1=10&r2=5&c0=50000&c1=50000&c2=50000&margin=80")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        roi.contains("<td>Likely</td><td>$100.0K</td><td>8 months</td><td>100.0 %</td>"),
        "{roi}"
    );
    let bad = exec
        .hx_get("/dashboard/roi?arr_at_risk=-1&r0=1&r1=1&r2=1&c0=1&c1=1&c2=1&margin=80")
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn a_manager_reads_their_team_and_csms_are_refused(pool: PgPool) {
    let b = book(pool).await;
    // Team one holds A and B: starting $300, expansion $50, contraction $50 → 100.0 %.
    let html = b.manager_one.get("/dashboard").await.text().await.unwrap();
    let kpis = html.split("id=\"kpis\"").nth(1).unwrap();
    assert!(kpis.contains("100.0 %"), "{kpis}");
    assert!(html.contains("Your team's accounts"));
    // Asking for another team changes nothing for a manager.
    let other = b
        .manager_one
        .get(&format!("/dashboard?team={}", uuid::Uuid::new_v4()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        other
            .split("id=\"kpis\"")
            .nth(1)
            .unwrap()
            .contains("100.0 %")
    );
    for role in [Role::Csm, Role::Sales] {
        let (client, _) = b.app.login_as(role).await;
        assert_eq!(
            client.get("/dashboard").await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let (exec, _) = b.app.login_as(Role::Executive).await;
    assert_eq!(
        exec.get("/dashboard?segment=giant").await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[sqlx::test]
async fn a_new_refresh_of_the_facts_shows_at_once(pool: PgPool) {
    let b = book(pool.clone()).await;
    let (exec, _) = b.app.login_as(Role::Executive).await;
    let nrr = || async {
        let html = exec.get("/dashboard").await.text().await.unwrap();
        let after = html
            .split("Net revenue retention</span><span class=\"big\">")
            .nth(1)
            .unwrap()
            .to_owned();
        after[..after.find('<').unwrap()].to_owned()
    };
    assert_eq!(nrr().await, "75.0 %");
    assert_eq!(nrr().await, "75.0 %", "again, from what the page kept");
    // A's June upgrade is corrected away and the facts refreshed (the daily run, elsewhere):
    // no expansion, so NRR falls to (400 − 50 − 100) ÷ 400 = 62.5 %.
    sqlx::query(
        "update subscription_periods set mrr_cents = 10000
         where account_id = (select id from accounts where external_id = 'A') and period_start = '2026-06-01'",
    )
    .execute(&pool)
    .await
    .unwrap();
    // D's billing is withdrawn too (outside NRR): its months must go, not linger.
    sqlx::query(
        "delete from subscription_periods where account_id = (select id from accounts where external_id = 'D')",
    )
    .execute(&pool)
    .await
    .unwrap();
    keel::revenue::facts::refresh(&pool, date!(2026 - 06 - 15))
        .await
        .unwrap();
    assert_eq!(nrr().await, "62.5 %", "the new facts, not the kept page");
    let months: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select a.external_id, m.start_cents, m.expansion_cents, m.end_cents
         from revenue_months m join accounts a on a.id = m.account_id
         where m.month = '2026-06-01' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        months,
        [("A".into(), 10000, 0, 10000), ("B".into(), 15000, 0, 15000)],
        "A's June without its upgrade, and no month left for D"
    );
}

#[sqlx::test]
async fn a_refresh_past_the_billing_export_reads_its_last_billed_day(pool: PgPool) {
    let b = book(pool.clone()).await;
    // Every line ends on 1 July (exclusive): a daily run on 1 July or later knows billing only
    // through 30 June, and must not read the day after as every customer churning.
    keel::revenue::facts::refresh(&pool, date!(2026 - 07 - 03))
        .await
        .unwrap();
    let (exec, _) = b.app.login_as(Role::Executive).await;
    let html = exec.get("/dashboard").await.text().await.unwrap();
    let kpis = html.split("id=\"kpis\"").nth(1).unwrap();
    assert!(
        kpis.contains("75.0 %") && kpis.contains("33.3 %"),
        "NRR and logo churn as of 30 June: {kpis}"
    );
    assert!(
        html.contains("2025-07-01 to 2026-06-30"),
        "the window is stated"
    );
    let csv = exec
        .get("/dashboard/movements.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(!csv.contains("Jul 2026"), "no July yet: {csv}");
}

#[sqlx::test]
async fn the_roi_card_starts_from_each_views_expected_loss(pool: PgPool) {
    let b = book(pool.clone()).await;
    // Today's scores: A (team one, smb) 50 %, B (team one, smb) 10 %, D (team two,
    // mid-market) 20 %. Expected loss = ARR × probability: A $1,800 × 0.5 = $900, B $1,800 ×
    // 0.1 = $180, D $6,000 × 0.2 = $1,200.
    sqlx::query(
        "with run as (insert into pipeline_runs (day, trigger, status) values ('2026-06-15', 'test', 'succeeded')
                      returning id)
         insert into scores (account_id, day, segment, health_score, band, signals, churn_probability, run_id)
         select a.id, '2026-06-15', x.segment, 50, 'yellow', '{}', x.p, (select id from run)
         from (values ('A', 'smb', 0.5::real), ('B', 'smb', 0.1), ('D', 'mid_market', 0.2)) x(ext, segment, p)
         join accounts a on a.external_id = x.ext",
    )
    .execute(&pool)
    .await
    .unwrap();
    keel::revenue::facts::refresh(&pool, date!(2026 - 06 - 15))
        .await
        .unwrap();
    let team_two: uuid::Uuid = sqlx::query_scalar(
        "select u.manager_id from accounts a join users u on u.id = a.owner_id where a.external_id = 'D'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let (exec, _) = b.app.login_as(Role::Executive).await;
    for (query, dollars) in [
        (String::new(), 2280),
        ("?segment=smb".into(), 1080),
        ("?segment=mid_market".into(), 1200),
        (format!("?team={team_two}"), 1200),
        (format!("?team={team_two}&segment=smb"), 0),
    ] {
        let html = exec
            .get(&format!("/dashboard{query}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(
                "name=\"arr_at_risk\" min=\"0\" step=\"1000\" value=\"{dollars}\""
            )),
            "{query}: ${dollars} expected in the ROI card"
        );
    }
    let html = b.manager_one.get("/dashboard").await.text().await.unwrap();
    assert!(
        html.contains("value=\"1080\""),
        "team one's manager: A and B"
    );
}

/// The save rate of each team and of everyone, from its definition: flagged at risk 60 to
/// 240 days back, contacted within 14 days of the flag, still a customer 60 days after it.
#[sqlx::test]
async fn each_team_reads_its_own_save_rate(pool: PgPool) {
    let b = book(pool.clone()).await;
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(q).execute(&pool).await.unwrap() }
    };
    // C left when its billing ended; A (team one) and C (team two) were flagged on 7 March,
    // 100 days back; A's CSM called four days later. B, never flagged, counts nowhere.
    sql(
        "update accounts set status = 'churned', churned_on = '2026-04-01' where external_id = 'C'",
    )
    .await;
    let run = b.app.test_run(date!(2026 - 03 - 07)).await;
    sqlx::query(
        "insert into scores (account_id, day, health_score, band, signals, at_risk, run_id)
         select id, '2026-03-07', 20, 'red', '[]', external_id <> 'B', $1 from accounts
         where external_id in ('A', 'B', 'C')",
    )
    .bind(run)
    .execute(&pool)
    .await
    .unwrap();
    sql("insert into interventions (account_id, user_id, kind, happened_on, outcome)
         select a.id, a.owner_id, 'call', '2026-03-11', 'positive' from accounts a where external_id = 'A'")
    .await;
    keel::revenue::facts::refresh(&pool, date!(2026 - 06 - 15))
        .await
        .unwrap();
    // (kept of flagged, contacted), from the sentence under the survival curves.
    let rate = |html: String| {
        let at = html.find("Save rate: ").expect("a save rate") + "Save rate: ".len();
        let sentence = &html[at..at + html[at..].find(" were contacted").unwrap()];
        let kept = &sentence[..sentence.find(" accounts flagged").unwrap()];
        let contacted = sentence.rsplit("; ").next().unwrap();
        (kept.to_owned(), contacted.to_owned())
    };
    let team_one = b.manager_one.text("/dashboard").await;
    assert_eq!(
        rate(team_one),
        ("1 of 1".into(), "1".into()),
        "A kept, and contacted"
    );
    let (exec, _) = b.app.login_as(Role::Executive).await;
    assert_eq!(
        rate(exec.text("/dashboard").await),
        ("1 of 2".into(), "1".into()),
        "everyone: A kept, C lost; one contacted"
    );
    let team_two: uuid::Uuid = sqlx::query_scalar(
        "select u.manager_id from accounts a join users u on u.id = a.owner_id where a.external_id = 'C'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let html = exec.text(&format!("/dashboard?team={team_two}")).await;
    assert_eq!(
        rate(html),
        ("0 of 1".into(), "0".into()),
        "C lost, never contacted"
    );
}
