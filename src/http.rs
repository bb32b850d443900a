//! The HTTP face: GraphQL (POST) and GraphiQL (GET) on `/graphql`, health and readiness,
//! a body limit, a time limit, one log line per request, graceful shutdown.

use std::future::Future;
use std::time::{Duration, Instant};

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{Extension, Router};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::graphql::AppSchema;
use crate::graphql::account::ClientAddress;
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
    /// Origins allowed to call from a browser; empty: no CORS headers (closed).
    pub cors_origins: Vec<String>,
    /// Longest time a request may take, its body's reading included.
    pub request_timeout: Duration,
}

pub fn router(schema: AppSchema, ctx: Ctx, opts: &HttpOptions) -> Router {
    let graphql = if opts.graphiql {
        get(graphiql).post(graphql)
    } else {
        axum::routing::post(graphql)
    };
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/reports/{kind}/{file}", get(report_file))
        .layer(RequestBodyLimitLayer::new(opts.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            opts.request_timeout,
            time_limit,
        ));
    let origins: Vec<HeaderValue> = opts
        .cors_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    router
        .layer(middleware::from_fn(log_request))
        .with_state(AppState { schema, ctx })
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: Option<Extension<ClientAddress>>,
    req: GraphQLRequest,
) -> Response {
    // No header: anonymous (only `login` will answer). A header that does not authenticate is
    // refused outright, so a stale token never silently degrades to anonymous.
    let caller = match bearer(&headers) {
        None => None,
        Some(secret) => match crate::service::auth::authenticate(&state.ctx, secret).await {
            Ok(actor) => Some(actor),
            Err(e) => return unauthenticated(e),
        },
    };
    let address = addr.map_or_else(|| ClientAddress("unknown".into()), |a| a.0);
    let req = crate::graphql::prepare(req.into_inner(), &state.ctx, caller).data(address);
    let name = req
        .operation_name
        .clone()
        .unwrap_or_else(|| "-".to_string());
    let resp: GraphQLResponse = state.schema.execute(req).await.into();
    let mut resp = resp.into_response();
    resp.extensions_mut().insert(OperationName(name));
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(secret.trim())
}

fn unauthenticated(e: crate::error::AppError) -> Response {
    refused(StatusCode::UNAUTHORIZED, e)
}

/// An error outside GraphQL execution, shaped like the API's own.
fn refused(status: StatusCode, e: crate::error::AppError) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{"message": e.message(), "extensions": {"code": e.code()}}],
    });
    (status, axum::Json(body)).into_response()
}

/// Drops a request that runs past `limit` and answers 503 TIMEOUT, like the rest of the API
/// (tower-http's `TimeoutLayer` answers with an empty body). Dropping the work rolls back an
/// open transaction. Only time spent waiting can be cut: CPU work between two awaits runs to
/// its end, which is why the cost of a query is bounded before it runs (`graphql::limits`).
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                crate::error::AppError::Timeout,
            )
        }
    }
}

#[derive(serde::Deserialize)]
struct ReportParams {
    #[serde(rename = "asAt")]
    as_at: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sep: Option<String>,
    decimal: Option<String>,
    /// A person's file (`participant`): the link's expiry and signature.
    expires: Option<String>,
    signature: Option<String>,
}

/// `GET /reports/{market|operation|chantier|territory}/{id}.{csv|xlsx}`: a report as a file,
/// with the same bearer authentication and scopes as the API. `GET
/// /reports/participant/{id}.xlsx?expires=…&signature=…`: a person's file, through the signed link
/// `participantFile` gave the same caller.
async fn report_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path((kind, file)): axum::extract::Path<(String, String)>,
    axum::extract::Query(params): axum::extract::Query<ReportParams>,
) -> Response {
    let Some(secret) = bearer(&headers) else {
        return unauthenticated(crate::error::AppError::unauthenticated());
    };
    let actor = match crate::service::auth::authenticate(&state.ctx, secret).await {
        Ok(actor) => actor,
        Err(e) => return unauthenticated(e),
    };
    let file = if kind == "participant" {
        crate::service::rights::download(
            &state.ctx,
            &actor,
            &file,
            params.expires.as_deref(),
            params.signature.as_deref(),
        )
        .await
    } else {
        crate::service::report::download(
            &state.ctx,
            &actor,
            &kind,
            &file,
            params.as_at.as_deref(),
            params.from.as_deref(),
            params.to.as_deref(),
            params.sep.as_deref(),
            params.decimal.as_deref(),
        )
        .await
    };
    match file {
        Ok(f) => (
            [
                (header::CONTENT_TYPE, f.content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", f.file_name),
                ),
            ],
            f.bytes,
        )
            .into_response(),
        Err(e) => {
            let status = match &e {
                crate::error::AppError::NotFound(_) => StatusCode::NOT_FOUND,
                crate::error::AppError::Forbidden | crate::error::AppError::ForbiddenBecause(_) => {
                    StatusCode::FORBIDDEN
                }
                crate::error::AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut ext = serde_json::json!({"code": e.code()});
            if let crate::error::AppError::BadInput { field, .. } = &e {
                ext["field"] = serde_json::json!(field);
            }
            if let crate::error::AppError::Internal(detail) = &e {
                tracing::error!(%detail, "report export");
            }
            let body = serde_json::json!({"errors": [{"message": e.message(), "extensions": ext}]});
            (status, axum::Json(body)).into_response()
        }
    }
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

async fn log_request(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().cloned() {
        req.extensions_mut()
            .insert(ClientAddress(addr.ip().to_string()));
    }
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
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
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
