use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use passerelle::config::{Cli, Command, Config};
use passerelle::{graphql, http, service};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&cli.config.log_level).unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await?,
        Command::Migrate => {
            passerelle::start(&config, None).await?;
            tracing::info!("migrations applied");
        }
        Command::PrintSchema { output, check } => {
            let sdl = graphql::sdl();
            if let Some(path) = check {
                let current = std::fs::read_to_string(&path)?;
                if current != sdl {
                    eprintln!(
                        "{} differs from the served schema; run `passerelle print-schema -o {}`",
                        path.display(),
                        path.display()
                    );
                    return Ok(ExitCode::FAILURE);
                }
            } else if let Some(path) = output {
                std::fs::write(path, sdl)?;
            } else {
                print!("{sdl}");
            }
        }
        Command::CreateAdmin { email, password } => {
            let ctx = passerelle::start(&config, None).await?;
            let user = service::auth::create_user(
                &ctx,
                &passerelle::domain::auth::Actor::system(),
                service::auth::CreateUserInput {
                    email,
                    password: Some(password),
                    role: passerelle::domain::auth::Role::Admin,
                    organization_id: None,
                    territory_ids: vec![],
                },
            )
            .await
            .map_err(|e| e.message())?;
            tracing::info!(email = %user.email, "administrator created");
        }
        Command::Scheduler { once } => {
            let ctx = passerelle::start(&config, None).await?;
            let scheduler = service::reminders::scheduler::Scheduler::new(ctx, &config.mail)?;
            if once {
                let report = scheduler.tick().await.map_err(|e| e.message())?;
                println!("{report}");
            } else {
                scheduler.run(http::shutdown_signal()).await;
            }
        }
        Command::BenchReports { scale } => {
            let ctx = passerelle::start(&config, None).await?;
            println!("{}", passerelle::bench::run(&ctx, scale).await?);
        }
        Command::Bench { args } => {
            let ctx = passerelle::start(&config, None).await?;
            passerelle::bench::load::run(&config, &ctx, &args).await?;
        }
        Command::Generate { args } => {
            let ctx = passerelle::start(&config, None).await?;
            let (counts, took) = passerelle::bench::generate::run(&ctx, &args).await?;
            println!(
                "generated in {:.1} s: {counts}\nfacilitator accounts: {} (password {})",
                took.as_secs_f64(),
                counts
                    .codes
                    .first()
                    .map(|c| passerelle::bench::generate::facilitator_email(c))
                    .unwrap_or_default(),
                passerelle::bench::generate::BENCH_PASSWORD
            );
        }
        Command::Demo { file } => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            config.database_url = format!("sqlite://{}?mode=rwc", file.display());
            let ctx = passerelle::start(&config, None).await?;
            let summary = service::demo::seed(&ctx).await.map_err(|e| e.message())?;
            tracing::info!(file = %file.display(), "{summary}");
            serve_ctx(ctx, &config).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let ctx = passerelle::start(config, None).await?;
    serve_ctx(ctx, config).await
}

async fn serve_ctx(ctx: service::Ctx, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    // One signal stops both the HTTP server and the scheduler, at once.
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            http::shutdown_signal().await;
            shutdown.cancel();
        }
    });
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    // Settings are checked before anything listens: a bad cron or SMTP_URL stops the start.
    let scheduler = if config.mail.scheduler {
        let s = service::reminders::scheduler::Scheduler::new(ctx.clone(), &config.mail)?;
        Some(tokio::spawn(s.run(shutdown.clone().cancelled_owned())))
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(
        "Passerelle listening on http://{}/graphql",
        listener.local_addr()?
    );
    let app = passerelle::app(ctx, config);
    http::serve(listener, app, shutdown.clone().cancelled_owned(), grace).await?;
    if let Some(task) = scheduler {
        // The mail in hand finishes (within the SMTP timeout) and the rest of its batch is
        // released; past the grace period, the lease takes back what is left.
        if tokio::time::timeout(grace, task).await.is_err() {
            tracing::warn!(?grace, "the scheduler did not stop within the grace period");
        }
    }
    tracing::info!("stopped");
    Ok(())
}
