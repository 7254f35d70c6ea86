//! The `clouddocs` binary: parse the command line, set up logging, dispatch.

mod cli;
mod commands;
mod config;

use clap::Parser;

/// mimalloc: per-thread free lists make the many small, short-lived allocations of a
/// request cheaper than glibc's arenas (see BENCHMARKS.md)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest (tests) and sqlx can both enable rustls providers; pick one explicitly.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = cli::Cli::parse();
    if let cli::Command::Policies(cmd) = &cli.command {
        // Offline: no database, no secret, no configuration.
        return commands::policies::run(cmd);
    }
    let serve_args = match &cli.command {
        cli::Command::Serve(args) => Some(args.as_ref()),
        cli::Command::Users(_)
        | cli::Command::Keys(_)
        | cli::Command::Audit(_)
        | cli::Command::Policies(_) => None,
    };
    let config = config::load(&cli.global, serve_args)?;
    // An admin command's report is its standard output; its logs go to standard error.
    init_tracing(config.json_logs, serve_args.is_none());
    match cli.command {
        cli::Command::Serve(_) => commands::serve::run(config).await,
        cli::Command::Users(cmd) => commands::users::run(config, cmd).await,
        cli::Command::Keys(cli::KeysCommand::Rotate) => commands::keys::rotate(config).await,
        cli::Command::Audit(cli::AuditCommand::Verify) => commands::audit::verify(config).await,
        cli::Command::Policies(cmd) => commands::policies::run(&cmd),
    }
}

fn init_tracing(json: bool, to_stderr: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match (json, to_stderr) {
        (true, true) => builder.json().with_writer(std::io::stderr).init(),
        (true, false) => builder.json().init(),
        (false, true) => builder.with_writer(std::io::stderr).init(),
        (false, false) => builder.init(),
    }
}
