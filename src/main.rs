use clap::Parser;

use quorum::cli::{Cli, run};
use quorum::config::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quorum::telemetry::init();
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("配置错误 / configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(cli, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
