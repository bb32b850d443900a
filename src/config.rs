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
    /// Longest time a request may take (`30s`, `500ms`; a bare number is seconds); past it the
    /// client gets `503` with `extensions.code` TIMEOUT and the request's work is dropped.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration, global = true)]
    pub request_timeout: std::time::Duration,
    /// Start the clock at this instant (RFC 3339), then let it run: for rehearsals, benchmarks
    /// and tests of several processes. Unset in production: the system clock.
    #[arg(long, env = "CLOCK_START", global = true)]
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Key that signs the trace tokens of report figures (`traceEntries`), at least 32 bytes.
    /// Unset: one is drawn at first start and kept in the database, shared by every instance.
    #[arg(long, env = "TRACE_SECRET", hide_env_values = true, value_parser = Secret::parse, global = true)]
    pub trace_secret: Option<Secret>,
    /// Password hashes (argon2id, about 19 MiB and 50 ms of a core each) computed at once, for
    /// logins and new accounts; the others wait their turn.
    #[arg(
        long,
        env = "PASSWORD_HASH_CONCURRENCY",
        default_value_t = crate::service::passwords::DEFAULT_CONCURRENCY,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub password_hash_concurrency: u32,
    /// Logins allowed to wait for a hash; past them, a login is refused at once with `BUSY`.
    #[arg(
        long,
        env = "PASSWORD_HASH_QUEUE",
        default_value_t = crate::service::passwords::DEFAULT_QUEUE,
        global = true
    )]
    pub password_hash_queue: u32,
    #[command(flatten)]
    pub mail: MailConfig,
}

/// A configured key: never printed (`Debug` hides it), long enough to resist guessing.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const MIN_BYTES: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() < Self::MIN_BYTES {
            return Err(format!(
                "au moins {} octets, reçu {} (at least {} bytes)",
                Self::MIN_BYTES,
                raw.len(),
                Self::MIN_BYTES
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// E-mail and the reminder scheduler.
#[derive(Debug, Clone, clap::Args)]
pub struct MailConfig {
    /// SMTP server, e.g. `smtps://user:password@smtp.example.fr` (implicit TLS, port 465),
    /// `smtp://user:password@smtp.example.fr:587?tls=required` (STARTTLS) or
    /// `smtp://127.0.0.1:2525` (plain, loopback only). Unset: mails are written to `OUTBOX_DIR`.
    #[arg(long, env = "SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,
    /// Sender of every mail.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Passerelle <rappels@passerelle.localhost>",
        global = true
    )]
    pub mail_from: String,
    /// Folder of `.eml` files when no SMTP server is set.
    #[arg(long, env = "OUTBOX_DIR", default_value = "outbox", global = true)]
    pub outbox_dir: PathBuf,
    /// Address of the front end, for the links in mails (reminders, password reset and
    /// invitation links): an absolute `http://` or `https://` address. The scheduler refuses
    /// to start with anything else.
    #[arg(
        long,
        env = "APP_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub app_url: String,
    /// Run the reminder scheduler inside `serve` (turn off on extra instances if you wish).
    #[arg(long, env = "SCHEDULER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub scheduler: bool,
    /// When reminders are planned from deadlines (cron with seconds, UTC).
    #[arg(long, env = "PLAN_CRON", default_value = "0 * * * * *", global = true)]
    pub plan_cron: String,
    /// When due mails are claimed and sent (cron with seconds, UTC).
    #[arg(long, env = "SEND_CRON", default_value = "30 * * * * *", global = true)]
    pub send_cron: String,
    /// When daily digests are made, in each territory's local time.
    #[arg(
        long,
        env = "DIGEST_CRON",
        default_value = "0 30 7 * * Mon-Fri",
        global = true
    )]
    pub digest_cron: String,
    /// When weekly digests are made, in each territory's local time.
    #[arg(
        long,
        env = "WEEKLY_DIGEST_CRON",
        default_value = "0 30 7 * * Mon",
        global = true
    )]
    pub weekly_digest_cron: String,
    /// When deadlines that move with time alone (a market falling behind) are re-derived (UTC).
    #[arg(
        long,
        env = "REFRESH_CRON",
        default_value = "0 15 1 * * *",
        global = true
    )]
    pub refresh_cron: String,
    /// When territories marked by a parameter change (or `refreshDeadlines`) are reflowed (UTC).
    #[arg(
        long,
        env = "REFLOW_CRON",
        default_value = "15 * * * * *",
        global = true
    )]
    pub reflow_cron: String,
    /// How long a sender owns the mails it claimed; past it, another instance takes them.
    #[arg(
        long,
        env = "REMINDER_LEASE_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub lease_seconds: i64,
    /// Attempts before a mail is DEAD.
    #[arg(
        long,
        env = "REMINDER_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub max_attempts: i32,
    /// First wait after a failure; doubled at each attempt.
    #[arg(
        long,
        env = "REMINDER_RETRY_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub retry_seconds: i64,
    /// Longest wait between two attempts.
    #[arg(
        long,
        env = "REMINDER_RETRY_MAX_SECONDS",
        default_value_t = 3600,
        global = true
    )]
    pub retry_max_seconds: i64,
    /// Mails claimed at once by one sender.
    #[arg(long, env = "REMINDER_BATCH", default_value_t = 50, global = true)]
    pub batch: u64,
    /// Timeout of one SMTP exchange.
    #[arg(
        long,
        env = "SMTP_TIMEOUT_SECONDS",
        default_value_t = 20,
        global = true
    )]
    pub smtp_timeout_seconds: u64,
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
    /// Run the reminder scheduler without HTTP (plan, digest, send), until stopped.
    Scheduler {
        /// Run one pass of every job now, print what it did, and exit.
        #[arg(long)]
        once: bool,
    },
    /// Benchmark the operation report and the hours import on a generated operation, each
    /// next to raw SQL on the same data (see BENCHMARKS.md).
    BenchReports {
        #[command(flatten)]
        scale: crate::bench::Scale,
    },
    /// Benchmark a generated database (`passerelle generate` first) against `passerelle serve`
    /// processes over HTTP, each figure next to raw SQL on the same data (see BENCHMARKS.md).
    Bench {
        #[command(flatten)]
        args: crate::bench::load::BenchArgs,
    },
    /// Fill the database with realistic generated data: `--scale 1` is one territory for one
    /// year, `--scale 100` national scale (a hundred départements) for ten years.
    Generate {
        #[command(flatten)]
        args: crate::bench::generate::GenerateArgs,
    },
    /// Serve on a fresh database filled with a realistic sample (La Réunion and Mayotte).
    Demo {
        /// SQLite file of the demo, deleted and recreated at each start.
        #[arg(long, default_value = "passerelle-demo.db")]
        file: PathBuf,
    },
}

/// The front end's address as links start with it (no trailing `/`), or why it cannot be one:
/// an absolute `http://` or `https://` address with a host, no query, fragment or space.
pub fn app_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let refused = |why: &str| {
        Err(format!(
            "APP_URL « {raw} » : {why} ; les liens des courriels (réinitialisation, invitation, rappels) partent de cette adresse, par exemple https://passerelle.exemple.fr (links in mails start with it)"
        ))
    };
    if url.is_empty() {
        return refused("absente (missing)");
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return refused("une adresse http:// ou https:// (must be http or https)");
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') || host.contains('@') {
        return refused("sans hôte (no host)");
    }
    if url.contains(['?', '#']) || url.contains(char::is_whitespace) {
        return refused("sans « ? », « # » ni espace (no query, fragment or space)");
    }
    Ok(url.to_string())
}

/// `30`, `30s` or `500ms`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (number, millis) = match s.strip_suffix("ms") {
        Some(n) => (n, true),
        None => (s.strip_suffix('s').unwrap_or(s), false),
    };
    let n: u64 = number
        .trim()
        .parse()
        .map_err(|_| format!("« {s} » : une durée comme 30s ou 500ms (a duration)"))?;
    let d = if millis {
        std::time::Duration::from_millis(n)
    } else {
        std::time::Duration::from_secs(n)
    };
    if d.is_zero() {
        return Err("une durée non nulle (must not be zero)".into());
    }
    Ok(d)
}

impl Default for Config {
    fn default() -> Self {
        Cli::parse_from(["passerelle"]).config
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Config::default().mail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_url_is_an_http_address() {
        assert_eq!(
            app_url("https://passerelle.example.fr/").unwrap(),
            "https://passerelle.example.fr"
        );
        assert_eq!(
            app_url(" http://127.0.0.1:8080/app ").unwrap(),
            "http://127.0.0.1:8080/app"
        );
        for bad in [
            "",
            "  ",
            "passerelle.example.fr",
            "ftp://passerelle.example.fr",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://user@evil.example",
            "https://a.fr/?x=1",
            "https://a.fr/#top",
            "https://a .fr",
        ] {
            assert!(app_url(bad).is_err(), "{bad:?}");
        }
    }
}
