//! Every Rust enum mapped to a Postgres enum lists the same values in the same order, so a
//! value added on one side only fails here rather than at some insert.

use sqlx::PgPool;

use crate::helpers::migrate;

async fn labels(pool: &PgPool, pg_type: &str) -> Vec<String> {
    sqlx::query_scalar(&format!("select unnest(enum_range(null::{pg_type}))::text"))
        .fetch_all(pool)
        .await
        .unwrap()
}

macro_rules! same_values {
    ($pool:expr, $($ty:ty),+ $(,)?) => {
        $(
            let rust: Vec<&str> = <$ty>::ALL.iter().map(|v| v.as_str()).collect();
            assert_eq!(labels($pool, <$ty>::PG_TYPE).await, rust, "{}", <$ty>::PG_TYPE);
        )+
    };
}

#[sqlx::test]
async fn rust_and_postgres_enums_list_the_same_values(pool: PgPool) {
    migrate(&pool).await;
    use keel::statuses::*;
    same_values!(
        &pool,
        TaskStatus,
        InterventionKind,
        Outcome,
        Verdict,
        PlayStatus,
        OutboxStatus,
        Audience,
        RunStatus,
        BatchStatus,
    );
    // A value the database does not know is refused on insert, naming it.
    let err = sqlx::query("select 'finished'::task_status")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid input value for enum task_status"),
        "{err}"
    );
}
