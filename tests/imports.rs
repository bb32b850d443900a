//! Import history (issue 20, point 6): every upload of monthly statements, accepted or refused,
//! stays listed (`hourImports`) in its uploader's and its territories' view, with who, when, the
//! file's name and hash, its counts, and a refused file's errors; a refusal writes no hour.

mod common;

use chrono::Duration;
use common::*;
use passerelle::domain::auth::{Actor, Role};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

db_tests!(
    a_refused_file_is_recorded_with_its_errors_and_no_hour,
    history_filters_by_status_dates_and_organization_and_pages,
    stored_errors_keep_no_name_and_are_capped,
    history_is_scoped_to_uploader_and_territories,
);

const HISTORY: &str = "query($f: HourImportFilter, $n: Int, $a: String) { hourImports(filter: $f, first: $n, after: $a) { edges { cursor node { id status fileName sha256 lineCount recordedCount unchangedCount errorCount createdBy createdAt organization { id } } } pageInfo { hasNextPage endCursor } } }";
const ERRORS: &str =
    "query { hourImports { edges { node { status errors { line column message } } } } }";

async fn reference(app: &TestApp, placement: &str) -> String {
    app.ok(
        "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
        json!({"id": placement}),
    )
    .await["node"]["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn history(app: &TestApp, who: &Actor, filter: Value) -> Value {
    let resp = app
        .run_as(Some(who.clone()), HISTORY, json!({"f": filter}))
        .await;
    assert!(resp.get("errors").is_none(), "{resp:#}");
    resp["data"]["hourImports"]["edges"].clone()
}

fn nodes(edges: &Value) -> Vec<Value> {
    edges
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

struct Cast {
    w: World,
    company: Actor,
    reference: String,
}

async fn cast(app: &TestApp) -> Cast {
    let w = app.world().await;
    let company = app
        .user("paie@btp-ouest.re", Role::Company, Some(&w.company), &[])
        .await;
    let reference = reference(app, &w.placement).await;
    Cast {
        w,
        company,
        reference,
    }
}

async fn a_refused_file_is_recorded_with_its_errors_and_no_hour(app: &TestApp) {
    let c = cast(app).await;
    let r = &c.reference;
    // Line 2 is good, line 3 has a bad month, line 4 an unknown reference.
    let bad =
        format!("reference;mois;heures\n{r};2026-03;70\n{r};2026-13;70\nP-INCONNU;2026-04;10\n");
    let resp = app.upload_hours(c.company.clone(), &bad).await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "FILE_REFUSED",
        "{resp:#}"
    );
    // The refusal wrote no hour.
    assert_eq!(app.count("hour_entry").await, 0);
    assert_eq!(app.count("hour_import").await, 1);
    // The same file refused again is answered the same and not stored twice.
    let resp = app.upload_hours(c.company.clone(), &bad).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "FILE_REFUSED");
    assert_eq!(app.count("hour_import").await, 1);
    let listed = nodes(&history(app, &c.company, json!(null)).await);
    assert_eq!(listed.len(), 1);
    let refused = &listed[0];
    assert_eq!(refused["status"], "REFUSED");
    assert_eq!(refused["fileName"], "heures-octobre.csv");
    assert_eq!(refused["sha256"], hex(bad.as_bytes()));
    assert_eq!(refused["lineCount"], 3);
    assert_eq!(refused["recordedCount"], 0);
    assert_eq!(refused["unchangedCount"], 0);
    assert_eq!(refused["errorCount"], 2);
    assert_eq!(refused["createdBy"], "paie@btp-ouest.re");
    assert_eq!(refused["createdAt"], "2026-11-22T10:00:00+00:00");
    assert_eq!(refused["organization"]["id"], c.w.company.as_str());
    // Its errors are readable afterwards, as they were answered.
    let answered: Vec<(Value, Value)> = resp["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].clone(), e["column"].clone()))
        .collect();
    let read = app.run_as(Some(c.company.clone()), ERRORS, json!({})).await;
    let stored = &read["data"]["hourImports"]["edges"][0]["node"]["errors"];
    let stored_at: Vec<(Value, Value)> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].clone(), e["column"].clone()))
        .collect();
    assert_eq!(stored_at, answered);
    assert_eq!(
        stored_at,
        vec![(json!(3), json!("mois")), (json!(4), json!("reference"))]
    );
    assert!(
        stored[1]["message"].as_str().unwrap().contains("P-INCONNU"),
        "{stored}"
    );
    // A good file is accepted; the same again records nothing twice and says so.
    let good = format!("reference;mois;heures\n{r};2026-03;70\n");
    let ok = app.upload_hours(c.company.clone(), &good).await;
    assert!(ok.get("errors").is_none(), "{ok:#}");
    let again = app.upload_hours(c.company.clone(), &good).await;
    assert!(again.get("errors").is_none(), "{again:#}");
    assert_eq!(app.count("hour_entry").await, 1);
    let listed = nodes(&history(app, &c.company, json!(null)).await);
    let summary: Vec<(Value, Value, Value, Value)> = listed
        .iter()
        .map(|n| {
            (
                n["status"].clone(),
                n["recordedCount"].clone(),
                n["unchangedCount"].clone(),
                n["errorCount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("REFUSED"), json!(0), json!(0), json!(2)),
            (json!("ACCEPTED"), json!(1), json!(0), json!(0)),
            (json!("ACCEPTED"), json!(0), json!(1), json!(0)),
        ]
    );
    assert_eq!(listed[1]["sha256"], hex(good.as_bytes()));
    // A refused re-upload of an accepted line counts what it would have skipped.
    let mixed = format!("reference;mois;heures\n{r};2026-03;70\n{r};2026-13;70\n");
    app.upload_hours(c.company.clone(), &mixed).await;
    let last = nodes(&history(app, &c.company, json!({"status": "REFUSED"})).await);
    assert_eq!(last.len(), 2);
    assert_eq!(
        (
            last[1]["lineCount"].clone(),
            last[1]["unchangedCount"].clone(),
            last[1]["errorCount"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(app.count("hour_entry").await, 1);
}

async fn history_filters_by_status_dates_and_organization_and_pages(app: &TestApp) {
    let c = cast(app).await;
    let r = &c.reference;
    app.upload_hours(
        c.company.clone(),
        format!("reference;mois;heures\n{r};2026-03;70\n"),
    )
    .await;
    app.clock.advance(Duration::days(2));
    app.upload_hours(c.company.clone(), "reference;mois;heures\nX;2026-13;1\n")
        .await;
    app.upload_hours(
        c.company.clone(),
        format!("reference;mois;heures\n{r};2026-04;70\n"),
    )
    .await;
    let company = &c.company;
    let count = |v: Value| async move { nodes(&history(app, company, v).await).len() };
    assert_eq!(count(json!(null)).await, 3);
    assert_eq!(count(json!({"status": "ACCEPTED"})).await, 2);
    assert_eq!(count(json!({"status": "REFUSED"})).await, 1);
    // Days are UTC days, both ends included: the first upload was on the 22nd, the others the 24th.
    assert_eq!(
        count(json!({"from": "2026-11-22", "to": "2026-11-22"})).await,
        1
    );
    assert_eq!(count(json!({"from": "2026-11-23"})).await, 2);
    assert_eq!(count(json!({"to": "2026-11-23"})).await, 1);
    assert_eq!(count(json!({"from": "2026-11-24"})).await, 2);
    assert_eq!(count(json!({"from": "2026-11-25"})).await, 0);
    assert_eq!(count(json!({"to": "2026-11-21"})).await, 0);
    assert_eq!(
        count(json!({"organizationId": c.w.company, "status": "ACCEPTED"})).await,
        2
    );
    assert_eq!(count(json!({"organizationId": c.w.buyer})).await, 0);
    // A range that ends before it starts names the field.
    let bad = app
        .run_as(
            Some(c.company.clone()),
            HISTORY,
            json!({"f": {"from": "2026-11-24", "to": "2026-11-23"}}),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "filter.to");
    // Paged like every list: two pages of two and one, in upload order, nothing twice.
    let page = |after: Value| {
        let company = c.company.clone();
        async move {
            let resp = app
                .run_as(Some(company), HISTORY, json!({"n": 2, "a": after}))
                .await;
            resp["data"]["hourImports"].clone()
        }
    };
    let first = page(json!(null)).await;
    assert_eq!(first["edges"].as_array().unwrap().len(), 2);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = page(first["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(second["edges"].as_array().unwrap().len(), 1);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["edges"][0]["node"]["status"], "ACCEPTED");
    assert_ne!(
        second["edges"][0]["node"]["id"],
        first["edges"][1]["node"]["id"]
    );
}

async fn stored_errors_keep_no_name_and_are_capped(app: &TestApp) {
    let c = cast(app).await;
    let r = &c.reference;
    // A wrong name for the company's own employee: the answer quotes it, the history does not.
    let resp = app
        .upload_hours(
            c.company.clone(),
            format!("reference;nom;mois;heures\n{r};Hoaru;2026-03;70\n"),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["errors"][0]["column"],
        "nom"
    );
    assert!(resp.to_string().contains("Hoaru"), "{resp}");
    let read = app.run_as(Some(c.company.clone()), ERRORS, json!({})).await;
    let stored = &read["data"]["hourImports"]["edges"][0]["node"]["errors"];
    assert_eq!(stored[0]["column"], "nom");
    assert_eq!(stored[0]["line"], 2);
    assert!(!read.to_string().contains("Hoaru"), "{read}");
    use sea_orm::ConnectionTrait;
    let row = app
        .ctx
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            app.ctx.db.backend(),
            "SELECT errors FROM hour_import",
        ))
        .await
        .unwrap()
        .unwrap();
    let raw: String = row.try_get("", "errors").unwrap();
    assert!(!raw.contains("Hoaru") && raw.contains("nom"), "{raw}");
    // Errors are kept as the answer caps them: 1 000 listed, all counted.
    for (n, listed) in [(1_000usize, 1_000usize), (1_001, 1_000)] {
        let mut csv = String::from("reference;mois;heures\n");
        for _ in 0..n {
            csv.push_str("X;2026-13;1\n");
        }
        app.upload_hours(c.company.clone(), &csv).await;
        let read = app
            .run_as(
                Some(c.company.clone()),
                "query { hourImports(first: 100) { edges { node { lineCount errorCount errors { line } } } } }",
                json!({}),
            )
            .await;
        let last = read["data"]["hourImports"]["edges"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["node"]
            .clone();
        assert_eq!(last["errorCount"], n as i64);
        assert_eq!(last["lineCount"], n as i64);
        assert_eq!(last["errors"].as_array().unwrap().len(), listed);
    }
    assert_eq!(app.count("hour_entry").await, 0);
}

async fn history_is_scoped_to_uploader_and_territories(app: &TestApp) {
    let c = cast(app).await;
    let r = &c.reference;
    let facilitator = app
        .user("anim@t.re", Role::Facilitator, None, &[&c.w.territory])
        .await;
    let t2 = app.territory("976-B").await;
    let other_fac = app.user("anim@b.yt", Role::Facilitator, None, &[&t2]).await;
    let colleague = app
        .user("rh@btp-ouest.re", Role::Company, Some(&c.w.company), &[])
        .await;
    let other_company = app
        .user("paie@etti.re", Role::Siae, Some(&c.w.etti), &[])
        .await;
    let admin = app.user("admin@t.re", Role::Admin, None, &[]).await;
    let buyer = app
        .user("achat@port.re", Role::Buyer, Some(&c.w.buyer), &[])
        .await;
    // A refusal that names a placement of the territory, an accepted file, and a file refused
    // before any placement was looked at (no territory).
    app.upload_hours(
        c.company.clone(),
        format!("reference;mois;heures\n{r};2026-13;70\n"),
    )
    .await;
    app.upload_hours(
        c.company.clone(),
        format!("reference;mois;heures\n{r};2026-03;70\n"),
    )
    .await;
    app.upload_hours(c.company.clone(), "nom;heures\nX;1\n")
        .await;
    let seen = |who: Actor| async move {
        nodes(&history(app, &who, json!(null)).await)
            .iter()
            .map(|n| n["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let all = vec!["REFUSED", "ACCEPTED", "REFUSED"];
    assert_eq!(seen(c.company.clone()).await, all);
    assert_eq!(seen(colleague).await, all, "the uploader's organization");
    assert_eq!(seen(admin.clone()).await, all);
    assert_eq!(
        seen(facilitator.clone()).await,
        vec!["REFUSED", "ACCEPTED"],
        "those that touched the territory"
    );
    assert!(seen(other_fac).await.is_empty());
    assert!(seen(other_company).await.is_empty());
    // The facilitator of the territory reads a refusal's errors; the administrator, who sees
    // no placement, does not.
    let read = app.run_as(Some(facilitator), ERRORS, json!({})).await;
    assert_eq!(
        read["data"]["hourImports"]["edges"][0]["node"]["errors"][0]["column"], "mois",
        "{read}"
    );
    let read = app.run_as(Some(admin), ERRORS, json!({})).await;
    assert_eq!(
        read["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{read}"
    );
    assert!(!read.to_string().contains("2026-13"), "{read}");
    // A buyer and nobody signed in are refused.
    let resp = app.run_as(Some(buyer), HISTORY, json!({})).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let resp = app.run_as(None, HISTORY, json!({})).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}
