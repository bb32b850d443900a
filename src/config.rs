//! Every setting, with a default that needs nothing installed, from flags or environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "passerelle",
    version,
    about = "Passerelle: the workflow engine of insertion clauses (clauses sociales d'insertion)"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://passerelle.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// Largest number of pooled database connections.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,
    /// Address the HTTP server listens on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Log filter, e.g. `info`, `passerelle=debug,sqlx=warn`.
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Serve GraphiQL on `GET /graphql`.
    #[arg(long, env = "GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub graphiql: bool,
    /// Answer GraphQL introspection (switch off in production if the schema is private).
    #[arg(long, env = "INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,
    /// Browser origins allowed to call the API (comma-separated); empty: CORS closed.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// Seconds that in-flight requests get to finish after SIGINT or SIGTERM.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Write the GraphQL schema (SDL) to stdout or a file.
    PrintSchema {
        /// File to write; stdout when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Compare with this file instead of writing; exit 1 when they differ.
        #[arg(long)]
        check: Option<PathBuf>,
    },
    /// Create an administrator account (to bootstrap a new installation), then exit.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// Read from the environment rather than the command line, so it stays out of shell history.
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Serve on a fresh database filled with a realistic sample (La Réunion and Mayotte).
    Demo {
        /// SQLite file of the demo, deleted and recreated at each start.
        #[arg(long, default_value = "passerelle-demo.db")]
        file: PathBuf,
    },
}

impl Default for Config {
    fn default() -> Self {
        Cli::parse_from(["passerelle"]).config
    }
}
