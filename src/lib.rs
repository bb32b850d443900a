//! Passerelle: the workflow engine behind the facilitators of insertion clauses.
//! Data flows resolver (`graphql`) → service (`service`) → rules (`domain`) → `entity`.

pub mod bench;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod service;

use std::sync::Arc;

use clock::{SharedClock, ShiftedClock, SystemClock};
use config::Config;
use db::Db;
use service::Ctx;

/// Connects, migrates, and builds the service context for the configured store.
pub async fn start(config: &Config, clock: Option<SharedClock>) -> Result<Ctx, sea_orm::DbErr> {
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    db.migrate().await?;
    let clock: SharedClock = clock.unwrap_or_else(|| match config.clock_start {
        Some(at) => Arc::new(ShiftedClock::starting_at(at)),
        None => Arc::new(SystemClock),
    });
    let trace_key = service::secret::TraceKey::load(
        &db.conn,
        config.trace_secret.as_ref().map(config::Secret::expose),
        clock.now(),
    )
    .await?;
    Ok(Ctx {
        db,
        clock,
        trace_key,
        passwords: service::passwords::Passwords::new(
            config.password_hash_concurrency,
            config.password_hash_queue,
        ),
    })
}

/// The HTTP application over a context.
pub fn app(ctx: Ctx, config: &Config) -> axum::Router {
    let schema = graphql::build_schema_with(Some(ctx.clone()), config.introspection);
    http::router(
        schema,
        ctx,
        &http::HttpOptions {
            max_body_bytes: config.max_body_bytes,
            graphiql: config.graphiql,
            cors_origins: config.cors_origins.clone(),
            request_timeout: config.request_timeout,
        },
    )
}
