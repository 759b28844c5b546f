// `sqlx::migrate!` embeds the migrations when `src/db.rs` compiles; without this, adding a
// migration alone would not rebuild the binary that should carry it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
