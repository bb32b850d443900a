//! Optimistic concurrency (issue 20): every editable object carries a version that every change
//! moves; an edit names the version it read and is refused with CONFLICT, naming who changed the
//! object and when, if another change landed first. Shown on conventions (the first edit); the
//! other edits have their own cases in tests/edits_*.rs.

mod common;

use std::sync::Arc;

use common::*;
use passerelle::domain::auth::Role;
use serde_json::{Value, json};
use tokio::sync::Barrier;

db_tests!(
    every_change_moves_the_version,
    a_stale_edit_is_refused_naming_who_changed_it,
    concurrent_edits_of_one_version_land_once,
);

const EDIT: &str =
    "mutation($i: UpdateConventionInput!) { updateConvention(input: $i) { id version title } }";
const READ: &str = "query($id: ID!) { node(id: $id) { ... on Convention { version title } ... on Market { version status } } }";

async fn convention(app: &TestApp, territory: &str) -> String {
    let d = app
        .ok(
            "mutation($i: CreateConventionInput!) { createConvention(input: $i) { id version } }",
            json!({"i": {"territoryId": territory, "kind": "PARTNERSHIP", "reference": "C-1", "title": "Charte"}}),
        )
        .await;
    assert_eq!(d["createConvention"]["version"], 1);
    d["createConvention"]["id"].as_str().unwrap().to_string()
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.ok(READ, json!({"id": id})).await["node"].clone()
}

async fn every_change_moves_the_version(app: &TestApp) {
    let w = app.world().await;
    // Created, then PUBLISHED, AWARDED, IN_PROGRESS: four saves, through transitions that
    // know nothing of versions.
    assert_eq!(read(app, &w.market).await["version"], 4);
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "COMPLETED"}}),
    )
    .await;
    let m = read(app, &w.market).await;
    assert_eq!(
        (m["status"].as_str(), m["version"].as_i64()),
        (Some("COMPLETED"), Some(5))
    );
}

async fn a_stale_edit_is_refused_naming_who_changed_it(app: &TestApp) {
    let w = app.world().await;
    let id = convention(app, &w.territory).await;
    let fac = app
        .user("lea@ville.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let first = app
        .run_as(
            Some(fac.clone()),
            EDIT,
            json!({"i": {"conventionId": id, "version": 1, "title": "Charte 2027"}}),
        )
        .await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(first["data"]["updateConvention"]["version"], 2);
    // A second reader still holding version 1 loses, and learns who and when.
    let stale = app
        .run_as(
            Some(fac.clone()),
            EDIT,
            json!({"i": {"conventionId": id, "version": 1, "title": "Charte bis"}}),
        )
        .await;
    let ext = &stale["errors"][0]["extensions"];
    assert_eq!(ext["code"], "CONFLICT", "{stale}");
    assert_eq!(ext["field"], "version");
    assert_eq!(ext["changedBy"], "lea@ville.fr");
    assert_eq!(ext["currentVersion"], 2);
    assert_eq!(ext["changedAt"], "2026-11-22T10:00:00+00:00");
    let now = read(app, &id).await;
    assert_eq!(
        (now["title"].as_str(), now["version"].as_i64()),
        (Some("Charte 2027"), Some(2))
    );
    // A version ahead of the row is no better than one behind.
    let (code, field) = app
        .err(
            EDIT,
            json!({"i": {"conventionId": id, "version": 3, "title": "x"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("CONFLICT", Some("version"))
    );
    // The current one goes through.
    let d = app
        .ok(
            EDIT,
            json!({"i": {"conventionId": id, "version": 2, "title": "Charte 2028"}}),
        )
        .await;
    assert_eq!(d["updateConvention"]["version"], 3);
}

async fn concurrent_edits_of_one_version_land_once(app: &TestApp) {
    let w = app.world().await;
    let id = convention(app, &w.territory).await;
    const N: usize = 6;
    let barrier = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let (schema, barrier) = (app.schema.clone(), barrier.clone());
            let req = app.request(
                EDIT,
                json!({"i": {"conventionId": id, "version": 1, "title": format!("Titre {i}")}}),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                serde_json::to_value(schema.execute(req).await).unwrap()
            })
        })
        .collect();
    let mut landed = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.get("errors") {
            None => landed.push(r["data"]["updateConvention"]["title"].clone()),
            Some(e) => assert_eq!(e[0]["extensions"]["code"], "CONFLICT", "{r}"),
        }
    }
    assert_eq!(landed.len(), 1, "exactly one edit of version 1 lands");
    let now = read(app, &id).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["title"], landed[0]);
}
