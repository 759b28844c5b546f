//! The statuses, kinds, outcomes and verdicts stored as Postgres enums, each mapped to one
//! Rust enum (`db_enum!`). A leaf module, so every domain that reads a column can name its
//! values without importing the domain that owns the table.

crate::db_enum! {
    /// Where a task stands.
    pub enum TaskStatus as "task_status" { Open = "open", Done = "done", Cancelled = "cancelled" }
}

crate::db_enum! {
    /// What a CSM did for an account.
    pub enum InterventionKind as "intervention_kind" {
        Call = "call",
        Email = "email",
        Meeting = "meeting",
        InApp = "in_app",
        Qbr = "qbr",
        Remediation = "remediation",
        Other = "other",
    }
}

crate::db_enum! {
    /// How an intervention went.
    pub enum Outcome as "intervention_outcome" {
        Positive = "positive",
        Neutral = "neutral",
        Negative = "negative",
        NoResponse = "no_response",
    }
}

impl Outcome {
    /// How the outcome reads: "no response".
    pub fn label(self) -> &'static str {
        match self {
            Outcome::NoResponse => "no response",
            other => other.as_str(),
        }
    }
}

crate::db_enum! {
    /// A CSM's verdict on a prediction.
    pub enum Verdict as "feedback_verdict" {
        Agree = "agree",
        FalsePositive = "false_positive",
        MissedChurn = "missed_churn",
    }
}

crate::db_enum! {
    /// Whether a play is still running on its account.
    pub enum PlayStatus as "play_status" { Open = "open", Closed = "closed" }
}

crate::db_enum! {
    /// Where an outbox message stands.
    pub enum OutboxStatus as "outbox_status" {
        Review = "review",
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
        Discarded = "discarded",
    }
}

crate::db_enum! {
    /// Who an outbox message is for.
    pub enum Audience as "outbox_audience" { Internal = "internal", Customer = "customer" }
}

crate::db_enum! {
    /// Where a daily run stands.
    pub enum RunStatus as "run_status" { Running = "running", Succeeded = "succeeded", Failed = "failed" }
}

crate::db_enum! {
    /// What became of an ingested batch.
    pub enum BatchStatus as "batch_status" {
        Accepted = "accepted",
        Rejected = "rejected",
        Unchanged = "unchanged",
    }
}
