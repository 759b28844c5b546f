use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    keel::telemetry::init();
    keel::cli::run(keel::cli::Cli::parse()).await
}
