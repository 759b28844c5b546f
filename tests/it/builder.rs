//! The playbook editor's form builder: a manager builds a rule and its steps from fields,
//! sees each mistake next to its field with what they typed kept, and power users can still
//! save JSON.

use keel::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, location};

/// The text between the field named `name` and the end of its label.
fn around(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no field {name}"));
    let rest = &page[at..];
    rest[..rest.find("</label>").unwrap_or(rest.len())].to_owned()
}

const STEP_BLANK: [(&str, &str); 6] = [
    ("step_title", ""),
    ("step_kind", "call"),
    ("step_owner", "csm"),
    ("step_sla", "24"),
    ("step_subject", ""),
    ("step_body", ""),
];

#[sqlx::test]
async fn a_manager_builds_a_playbook_from_fields_and_mistakes_sit_by_their_field(
    pool: sqlx::PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let (manager, _) = app.login_as(Role::Manager).await;
    let blank = manager.get("/playbooks/new").await.text().await.unwrap();
    for field in [
        "name=\"tiers\"",
        "name=\"min_arr\"",
        "name=\"step_title\"",
        "id=\"step-template\"",
    ] {
        assert!(blank.contains(field), "the builder has {field}");
    }

    // Two mistakes: a word for a number, and an email without a body.
    let mut form = vec![
        ("builder", "1"),
        ("name", "Rescue large accounts"),
        ("tiers", "high"),
        ("at_risk", "yes"),
        ("min_arr", "fifty thousand"),
        ("step_title", "Call the champion"),
        ("step_kind", "call"),
        ("step_owner", "csm"),
        ("step_sla", "24"),
        ("step_subject", "Checking in"),
        ("step_body", ""),
        ("rule", "{}"),
        ("steps", "[]"),
    ];
    form.extend(STEP_BLANK);
    let refused = manager.post_form("/playbooks", &form).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    let arr = around(&page, "min_arr");
    assert!(
        arr.contains("value=\"fifty thousand\"") && arr.contains("is not a number"),
        "the error sits by ARR, with what was typed: {arr}"
    );
    assert!(page.contains("step 1: an email needs both a subject and a body"));
    assert!(
        page.contains("value=\"high\" checked"),
        "the ticked tier stays ticked"
    );
    assert_eq!(app.audit_count("playbook.save").await, 0);

    // Mended, it saves; the blank second step is left out.
    let mut mended = form.clone();
    mended[4] = ("min_arr", "50,000");
    mended[10] = ("step_body", "Hello {{contact}}");
    let saved = manager.post_form("/playbooks", &mended).await;
    assert_eq!(
        saved.status(),
        303,
        "{}",
        saved.text().await.unwrap_or_default()
    );
    let (id, rule, steps): (i64, Value, Value) = sqlx::query_as(
        "select id, rule, steps from playbooks where name = 'Rescue large accounts'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rule,
        json!({"tiers": ["high"], "at_risk": true, "min_arr": 50000.0})
    );
    assert_eq!(steps.as_array().unwrap().len(), 1);
    assert_eq!(steps[0]["email"]["subject"], "Checking in");
    assert_eq!(app.audit_count("playbook.save").await, 1);

    // Its page shows the same rule in the builder.
    let page = manager
        .get(&format!("/playbooks/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"high\" checked"));
    assert!(around(&page, "min_arr").contains("value=\"50000\""));
    assert!(around(&page, "at_risk").contains("value=\"yes\" selected"));

    // A power user saves JSON instead.
    let json_form = [
        ("builder", "1"),
        ("use_json", "1"),
        ("name", "Rescue large accounts"),
        ("rule", r#"{"bands": ["red"]}"#),
        (
            "steps",
            r#"[{"title": "Call", "kind": "call", "owner_role": "csm", "sla_hours": 8}]"#,
        ),
        ("min_arr", "ignored"),
    ];
    let saved = manager
        .post_form(&format!("/playbooks/{id}"), &json_form)
        .await;
    assert_eq!(location(&saved).split('?').next(), Some("/playbooks"));
    let rule: Value = sqlx::query_scalar("select rule from playbooks where id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rule, json!({"bands": ["red"]}));
}
