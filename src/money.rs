//! Money as Keel counts it: amounts in cents, and ARR = 12 × MRR (the one home of that rule).

/// Annual recurring revenue, in cents, of a monthly recurring revenue in cents.
pub fn arr_cents(mrr_cents: i64) -> i64 {
    mrr_cents * 12
}
