use clap::Parser;

/// mimalloc, not glibc's malloc: a page allocates hundreds of small strings, and under load
/// glibc's malloc and free were 18 % of the server's samples (`perf`, account page).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = keel::cli::Cli::parse();
    keel::telemetry::init(cli.default_log_filter());
    keel::cli::run(cli).await
}
