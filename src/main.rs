use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = keel::cli::Cli::parse();
    keel::telemetry::init(cli.default_log_filter());
    keel::cli::run(cli).await
}
