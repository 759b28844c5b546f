//! A product that is not the demo: its own event names, mapped in the browser's form, and
//! the features recomputed for all history from the roll-ups without re-sending an event.

use keel::features::{FEATURES, FeatureTable, compute};
use keel::ingest::Entity;
use reqwest::StatusCode;
use time::macros::date;

use crate::helpers::TestApp;

fn value(t: &FeatureTable, name: &str) -> f64 {
    t.rows[0][FEATURES.iter().position(|f| *f == name).unwrap()]
}

/// A CRM: salespeople create opportunities, email leads, post and like posts, invite
/// colleagues; a sync client sends heartbeats nobody should count.
const EVENTS: &str = "account_id,user_id,event_type,timestamp,count\n\
C,ana,create_opportunity,2026-11-10T09:00:00Z,3\n\
C,ana,email_lead,2026-11-10T09:30:00Z,5\n\
C,ben,Post Liked,2026-11-09T11:00:00Z,2\n\
C,ben,comment_posted,2026-11-09T11:05:00Z,1\n\
C,ana,create_opportunity,2026-10-25T09:00:00Z,2\n\
C,cy,invite_user,2026-10-30T09:00:00Z,4\n\
C,bot,sync_heartbeat,2026-11-10T00:00:00Z,40\n\
C,bot,sync_heartbeat,2026-11-08T00:00:00Z,40\n";

const MAPPING: &str = "create_opportunity = core\n\
email_* = core, module:email\n\
post_* = module:social\n\
comment_posted = core, collaboration, module:social\n\
invite_user = invite\n\
sync_* = ignored\n";

#[sqlx::test]
async fn a_new_mapping_recomputes_the_features_of_all_history(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    app.load_csv(
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since\nC,Crm Co,pro,5,300,2026-01-01\n".into(),
    )
    .await;
    app.load_csv(Entity::Events, EVENTS.into()).await;
    let day = date!(2026 - 11 - 10);

    // Under the demo's taxonomy none of these names means anything: every type is activity
    // only, so no core actions, no feature areas, nobody commenting, no invites.
    let before = compute(&app.db, day, &[]).await.unwrap();
    assert!(value(&before, "action_trend_ratio").is_nan());
    assert_eq!(value(&before, "features_adopted"), 0.0);
    assert_eq!(value(&before, "users_commenting"), 0.0);
    assert_eq!(value(&before, "invites_sent_30d"), 0.0);
    // ana, ben, cy and the bot were active: 4 of 5 seats.
    assert_eq!(value(&before, "seat_utilization"), 4.0 / 5.0);

    let (client, _) = app.login_as(keel::auth::Role::Analyst).await;
    let refreshed = client.post_form("/event-types/refresh", &[]).await;
    assert_eq!(refreshed.status(), StatusCode::SEE_OTHER);
    let page = client.get("/event-types").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("6 event types seen; 6 types count as activity only"),
        "{html}"
    );
    // create_opportunity: 5 events in 30 days (3 + 2), 3 in the last 7, one account, one person.
    let row = html.split("id=\"type-create_opportunity\"").nth(1).unwrap();
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("3 / 5 / 5"), "{row}");
    assert!(row.contains("1 / 1 / 1"), "{row}");
    assert!(
        row.contains("2026-10-25") && row.contains("2026-11-10"),
        "{row}"
    );

    // The preview shows what changes before anything is saved.
    let preview = client
        .hx_post("/event-types/preview", &[("rules", MAPPING), ("note", "")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains("<code>create_opportunity</code>: activity only → <strong>core</strong>"),
        "{preview}"
    );
    assert!(
        preview.contains("<code>sync_heartbeat</code>: activity only → <strong>ignored</strong>")
    );
    assert_eq!(
        format!("{:?}", compute(&app.db, day, &[]).await.unwrap()),
        format!("{before:?}"),
        "a preview saves nothing"
    );

    // A mistake is refused by line, and nothing changes.
    let refused = client
        .post_form(
            "/event-types",
            &[
                (
                    "rules",
                    "create_opportunity = core\npost_* = modul:social\n",
                ),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("line 2: unknown part"), "{refused}");
    assert!(refused.contains("modul:social"));

    let saves = app.audit_count("event_mapping.save").await;
    let saved = client
        .post_form(
            "/event-types",
            &[("rules", MAPPING), ("note", "The CRM's own names")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let shown = client
        .get(&crate::helpers::location(&saved))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("all history was recomputed"), "{shown}");
    assert_eq!(app.audit_count("event_mapping.save").await, saves + 1);

    // The same roll-ups, now read under the CRM's mapping, with no event sent again.
    let after = compute(&app.db, day, &[]).await.unwrap();
    // Core: create_opportunity 3 + email_lead 5 on 11-10, comment_posted 1 on 11-09 (7 days:
    // 9), create_opportunity 2 on 10-25 (30 days: 11).
    let trend = (9.0 / 7.0) / (11.0 / 30.0);
    assert!((value(&after, "action_trend_ratio") - trend).abs() < 1e-9);
    assert_eq!(value(&after, "features_adopted"), 2.0, "email and social");
    assert_eq!(value(&after, "users_commenting"), 1.0, "ben");
    assert_eq!(value(&after, "invites_sent_30d"), 4.0);
    // The bot's heartbeats are ignored: it is no longer an active person.
    assert_eq!(value(&after, "seat_utilization"), 3.0 / 5.0);
    // Daily active users in the last 7 days: 11-09 ben, 11-10 ana (the bot not counted).
    assert!((value(&after, "avg_dau_7d") - 2.0 / 7.0).abs() < 1e-9);

    // The preview's measures are the features' own definitions.
    let usage = keel::taxonomy::preview::usage(&app.db, day).await.unwrap();
    let mapping = keel::taxonomy::current(&app.db).await.unwrap();
    let measured = usage.measure(&mapping)[&after.accounts[0]];
    assert!((measured[1] - value(&after, "action_trend_ratio")).abs() < 1e-9);
    assert_eq!(measured[2], value(&after, "features_adopted"));
    assert_eq!(measured[3], value(&after, "invites_sent_30d"));
    assert_eq!(measured[4], value(&after, "users_commenting"));
    assert_eq!(measured[5], 3.0);

    // Events arriving after the change are rolled up under the new mapping.
    app.load_csv(
        Entity::Events,
        "account_id,user_id,event_type,timestamp\nC,dee,post_shared,2026-11-10T12:00:00Z\n".into(),
    )
    .await;
    let html = client
        .get("/event-types?sort=name")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("7 event types seen; 0 types count as activity only"),
        "{html}"
    );
    assert!(html.contains("Version 1") && html.contains("Version 2"));
    assert!(html.contains("s own names"), "the version keeps its note");
    let after = compute(&app.db, day, &[]).await.unwrap();
    assert_eq!(value(&after, "seat_utilization"), 4.0 / 5.0, "dee counted");
}

/// (events, accounts, people) of `deal_created` over 7 / 30 / 90 days, as the catalogue has them.
async fn deal_figures(app: &TestApp, day: time::Date) -> [[i64; 3]; 3] {
    keel::taxonomy::catalog::refresh(&app.db, day)
        .await
        .unwrap();
    let (profiles, as_of) = keel::taxonomy::catalog::profiles(&app.db).await.unwrap();
    assert_eq!(as_of, Some(day));
    let p = profiles.iter().find(|p| p.name == "deal_created").unwrap();
    [
        [p.events_7d, p.events_30d, p.events_90d],
        [p.accounts_7d, p.accounts_30d, p.accounts_90d],
        [p.users_7d, p.users_30d, p.users_90d],
    ]
}

#[sqlx::test]
async fn the_catalogue_counts_each_days_batches_once_late_days_erasure_and_retention_included(
    pool: sqlx::PgPool,
) {
    let app = TestApp::spawn(pool).await;
    app.load_csv(
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since\n\
         A,Acme,pro,5,300,2026-01-01\nB,Beta,pro,5,300,2026-01-01\n"
            .into(),
    )
    .await;
    app.load_csv(
        Entity::Contacts,
        "account_id,external_id,name,email,title,champion,user_id\nA,C-1,Ben Ode,ben@acme.example,Ops,false,ben\n"
            .into(),
    )
    .await;
    let header = "account_id,user_id,event_type,timestamp,count\n";
    app.load_csv(
        Entity::Events,
        format!(
            "{header}A,ana,deal_created,2026-11-20T09:00:00Z,2\nA,ben,deal_created,2026-11-01T09:00:00Z,1\n\
             B,cy,deal_created,2026-09-15T09:00:00Z,4\nB,fay,deal_created,2026-08-23T09:00:00Z,1\n\
             B,eve,deal_created,2026-08-22T09:00:00Z,5\n"
        ),
    )
    .await;
    // A later batch: an earlier day of ana's (her last day stays the 20th) and more of a
    // user-day already counted.
    app.load_csv(
        Entity::Events,
        format!(
            "{header}A,ana,deal_created,2026-11-05T09:00:00Z,3\nA,ben,deal_created,2026-11-01T15:00:00Z,1\n"
        ),
    )
    .await;
    assert_eq!(
        keel::features::db::usage_span(&app.db).await.unwrap(),
        Some((date!(2026 - 08 - 22), date!(2026 - 11 - 20))),
        "the first and last day with usage"
    );
    let day = date!(2026 - 11 - 20);
    // Events: 2 in the 7 days to the 20th; 2 + 3 + 1 + 1 in 30; and cy's 4 and fay's 1 in
    // 90 (23 August is the window's first day; eve's 22 August is outside it). Accounts:
    // Acme within 7 and 30 days, Beta only within 90. People: ana within 7, ana and ben
    // within 30, and cy and fay within 90.
    assert_eq!(
        deal_figures(&app, day).await,
        [[2, 7, 12], [1, 1, 2], [1, 2, 4]]
    );
    // A day no window can reach is not counted at all: the first count after a bulk load
    // of years reads its last 90 days.
    let counted: i64 =
        sqlx::query_scalar("select count(*) from event_type_days where day < '2026-08-23'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(counted, 0, "eve's day is older than every window");

    // Erasing ben keeps him counted, under no name of his.
    let acme = crate::worklist::id_of(&app, "A").await;
    keel::accounts::privacy::erase(&app.db, &keel::auth::audit::Actor::Cli, acme, "C-1")
        .await
        .unwrap();
    assert_eq!(
        deal_figures(&app, day).await,
        [[2, 7, 12], [1, 1, 2], [1, 2, 4]]
    );
    let named: i64 =
        sqlx::query_scalar("select count(*) from event_type_people where user_ref = 'ben'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(named, 0);

    // A batch after that count: dee joins Beta's deals on the 19th, and ana uses another
    // type (her deals' last day stays the 20th).
    app.load_csv(
        Entity::Events,
        format!(
            "{header}B,dee,deal_created,2026-11-19T09:00:00Z,1
A,ana,deal_won,2026-11-18T09:00:00Z,1
"
        ),
    )
    .await;
    assert_eq!(
        deal_figures(&app, day).await,
        [[3, 8, 13], [2, 2, 2], [2, 3, 5]]
    );

    // Retention from 1 October takes cy's and fay's only user-days; the account roll-ups stay.
    let now = time::macros::datetime!(2026-11-21 00:00 UTC);
    keel::ingest::retention::prune(&app.db, now, time::Duration::days(51))
        .await
        .unwrap();
    assert_eq!(
        deal_figures(&app, day).await,
        [[3, 8, 13], [2, 2, 2], [2, 3, 3]]
    );
    let people: i64 = sqlx::query_scalar("select count(*) from event_type_people")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        people, 3,
        "ana, the erased ben and dee stay; cy and fay are gone"
    );
}
