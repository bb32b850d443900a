//! The real server on port 0, over HTTP.

mod common;

use std::time::Duration;

use common::{TestApp, post_gql};
use passerelle::config::Config;
use serde_json::json;

db_tests!(server_speaks_graphql_over_http, hardening_switches);

async fn server_speaks_graphql_over_http(app: &TestApp) {
    let config = Config::default();
    let router = passerelle::app(app.ctx.clone(), &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(passerelle::http::serve(
        listener,
        router,
        async {
            let _ = stop_rx.await;
        },
        Duration::from_secs(5),
    ));
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let page = client.get(format!("{base}/graphql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
    let post_with = |token: Option<String>, body: serde_json::Value| {
        let (client, base) = (client.clone(), base.clone());
        async move { post_gql(&client, &base, token.as_deref(), body).await }
    };
    // Anonymous: only `login` answers.
    let (_, anon) = post_with(
        None,
        json!({"query": "{ territories { edges { cursor } } }"}),
    )
    .await;
    assert_eq!(anon["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    // A wrong token is refused outright with 401.
    let (status, bad_token) = post_with(
        Some("pst_nope".into()),
        json!({"query": "{ me { email } }"}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        bad_token["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    app.user(
        "admin@test.fr",
        passerelle::domain::auth::Role::Admin,
        None,
        &[],
    )
    .await;
    let (_, session) = post_with(
        None,
        json!({"query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { role } } }",
            "variables": {"e": "ADMIN@test.fr", "p": common::PASSWORD}}),
    )
    .await;
    assert_eq!(session["data"]["login"]["user"]["role"], "ADMIN");
    let token = session["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let post = |body: serde_json::Value| {
        let f = post_with(Some(token.clone()), body);
        async move { f.await.1 }
    };
    let created = post(json!({"operationName": "T", "query": "mutation T { createTerritory(input: {code: \"974\", name: \"Ouest\", timeZone: \"Indian/Reunion\"}) { code timeZone } }"})).await;
    assert_eq!(
        created["data"]["createTerritory"]["timeZone"],
        "Indian/Reunion"
    );

    let bad = post(json!({"query": "mutation { createTerritory(input: {code: \"\", name: \"x\", timeZone: \"Europe/Paris\"}) { code } }"})).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "code");

    // A 10 MB body is refused from its announced length, before it is read.
    let status = post_raw(addr, 10 * 1024 * 1024).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // Just under the 1 MiB limit is read (and then judged as GraphQL).
    let status = post_raw(addr, 1024 * 1024 - 1).await;
    assert!(
        status.starts_with("HTTP/1.1 400") || status.starts_with("HTTP/1.1 200"),
        "{status}"
    );

    // Graceful stop: a request sent before the stop still gets its answer.
    let inflight = {
        let client = client.clone();
        let url = format!("{base}/graphql");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"query": "{ territories { edges { node { code } } } }"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    stop_tx.send(()).unwrap();
    assert_eq!(inflight.await.unwrap().unwrap(), 200);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        client.get(format!("{base}/healthz")).send().await.is_err(),
        "no longer listening"
    );
}

/// Sends a POST announcing `len` bytes of body, writes them as long as the server reads,
/// and returns the response's status line.
async fn post_raw(addr: std::net::SocketAddr, len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let body = vec![b' '; len];
    // The server may answer and close before taking it all: that is the point.
    let _ = stream.write_all(&body).await;
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn hardening_switches(app: &TestApp) {
    let client = reqwest::Client::new();
    let preflight = |base: String, origin: &'static str| {
        let client = client.clone();
        async move {
            let resp = client
                .request(reqwest::Method::OPTIONS, format!("{base}/graphql"))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization, content-type",
                )
                .send()
                .await
                .unwrap();
            resp.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_string())
        }
    };
    app.user(
        "admin@h.fr",
        passerelle::domain::auth::Role::Admin,
        None,
        &[],
    )
    .await;
    let (issued, _) =
        passerelle::service::auth::login(&app.ctx, "admin@h.fr", common::PASSWORD, "t")
            .await
            .map_err(|e| e.message())
            .unwrap();
    let introspect = |base: String| {
        let (client, token) = (client.clone(), issued.secret.clone());
        async move {
            let query = json!({"query": "{ __schema { queryType { name } } }"});
            let (_, resp) = post_gql(&client, &base, Some(&token), query).await;
            resp["data"]["__schema"]["queryType"]["name"]
                .as_str()
                .map(String::from)
        }
    };
    // Defaults: CORS closed, GraphiQL and introspection on.
    let (base, stop) = app.serve(&Config::default()).await;
    assert_eq!(introspect(base.clone()).await.as_deref(), Some("QueryRoot"));
    assert_eq!(preflight(base.clone(), "https://evil.example").await, None);
    assert_eq!(
        client
            .get(format!("{base}/graphql"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    stop.send(()).unwrap();

    let config = Config {
        cors_origins: vec!["https://clauses.exemple.fr".into()],
        graphiql: false,
        introspection: false,
        ..Config::default()
    };
    let (base, stop) = app.serve(&config).await;
    assert_eq!(
        preflight(base.clone(), "https://clauses.exemple.fr")
            .await
            .as_deref(),
        Some("https://clauses.exemple.fr")
    );
    assert_eq!(preflight(base.clone(), "https://evil.example").await, None);
    assert_eq!(
        client
            .get(format!("{base}/graphql"))
            .send()
            .await
            .unwrap()
            .status(),
        405,
        "GraphiQL off"
    );
    assert_eq!(introspect(base.clone()).await, None, "introspection off");
    let (_, ok) = post_gql(
        &client,
        &base,
        Some(&issued.secret),
        json!({"query": "{ me { role } }"}),
    )
    .await;
    assert_eq!(ok["data"]["me"]["role"], "ADMIN");
    stop.send(()).unwrap();
}
