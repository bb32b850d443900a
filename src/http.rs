//! The HTTP face: GraphQL (POST) and GraphiQL (GET) on `/graphql`, health and readiness,
//! a body limit, one log line per request, graceful shutdown.

use std::future::Future;
use std::time::{Duration, Instant};

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;

use crate::graphql::AppSchema;
use crate::service::Ctx;

#[derive(Clone)]
struct AppState {
    schema: AppSchema,
    ctx: Ctx,
}

/// Set on a response by the GraphQL handler so the log line can name the operation.
#[derive(Clone)]
struct OperationName(String);

pub struct HttpOptions {
    pub max_body_bytes: usize,
    pub graphiql: bool,
}

pub fn router(schema: AppSchema, ctx: Ctx, opts: &HttpOptions) -> Router {
    let graphql = if opts.graphiql {
        get(graphiql).post(graphql)
    } else {
        axum::routing::post(graphql)
    };
    Router::new()
        .route("/graphql", graphql)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(RequestBodyLimitLayer::new(opts.max_body_bytes))
        .layer(middleware::from_fn(log_request))
        .with_state(AppState { schema, ctx })
}

async fn graphql(State(state): State<AppState>, req: GraphQLRequest) -> Response {
    let req = crate::graphql::prepare(req.into_inner(), &state.ctx);
    let name = req
        .operation_name
        .clone()
        .unwrap_or_else(|| "-".to_string());
    let resp: GraphQLResponse = state.schema.execute(req).await.into();
    let mut resp = resp.into_response();
    resp.extensions_mut().insert(OperationName(name));
    resp
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("Passerelle")
            .finish(),
    )
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.ctx.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let op = resp
        .extensions()
        .get::<OperationName>()
        .map(|o| o.0.clone());
    tracing::info!(
        %method,
        %path,
        status = resp.status().as_u16(),
        operation = op.as_deref().unwrap_or("-"),
        duration_ms = start.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    let _ = rx.await;
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined.map_err(std::io::Error::other)?,
        Err(_) => {
            tracing::warn!(
                ?grace,
                "requests still running after the grace period; stopping"
            );
            Ok(())
        }
    }
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
