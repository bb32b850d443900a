//! Invariants over several rows under concurrent requests: each test drives two mutations at
//! once (a barrier, many iterations) and checks the invariant after every round. On SQLite
//! writers are serial anyway; on PostgreSQL (READ COMMITTED) the row locks are what holds.

mod common;

use std::sync::Arc;

use async_graphql::Request;
use common::*;
use serde_json::{Value, json};
use tokio::sync::Barrier;

db_tests!(
    recording_and_close_of_a_market_serialise,
    import_and_close_of_a_market_serialise,
    two_placements_of_one_person_at_once_keep_the_weekly_cap,
    two_cddi_of_one_person_at_once_keep_the_24_month_cap,
);

const ROUNDS: usize = 30;
const STATE: &str = "query($id: ID!) { node(id: $id) { ... on Market { status hoursPending } } }";

/// Runs two requests at once (released together by a barrier); their answers as JSON.
async fn race(app: &TestApp, a: Request, b: Request) -> (Value, Value) {
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |req: Request| {
        let schema = app.schema.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            serde_json::to_value(schema.execute(req).await).unwrap()
        })
    };
    let (ta, tb) = (spawn(a), spawn(b));
    (ta.await.unwrap(), tb.await.unwrap())
}

fn failed(v: &Value) -> bool {
    v.get("errors").is_some()
}

/// A fresh market in COMPLETED with one ACTIVE placement of a new person, no hours yet.
async fn completed_market(app: &TestApp, w: &World, round: usize) -> (String, String) {
    let (market, lot) = app
        .market_in_progress(&w.buyer, &format!("RACE-{round:03}"), &w.company)
        .await;
    let person = app.participant(&w.territory, &format!("Race{round}")).await;
    let placement = app
        .placement(&person, &market, &lot, &w.company, "DIRECT_HIRE")
        .await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": market, "to": "COMPLETED"}}),
    )
    .await;
    // Closing needs the final report; hours landing after it also make it out of date.
    app.ok(
        "mutation($m: ID!) { produceMarketFinalReport(marketId: $m) { version } }",
        json!({"m": market}),
    )
    .await;
    (market, placement)
}

fn close(app: &TestApp, market: &str) -> Request {
    app.request(
        TRANSITION,
        json!({"i": {"marketId": market, "to": "CLOSED"}}),
    )
}

/// Checks one round: never DECLARED hours on a CLOSED market; a refused close was refused
/// for those hours (not for another reason, which would make the round say nothing).
async fn judge(app: &TestApp, market: &str, write: &Value, closed: &Value) -> bool {
    let state = app.ok(STATE, json!({"id": market})).await["node"].clone();
    if failed(closed) {
        let msg = closed["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            msg.contains("attendent encore validation") || msg.contains("rapport final"),
            "close refused for another reason: {closed:#}"
        );
        assert!(!failed(write), "both refused: {write:#}");
    }
    state["status"] == "CLOSED" && state["hoursPending"].as_f64() != Some(0.0)
}

async fn recording_and_close_of_a_market_serialise(app: &TestApp) {
    let w = app.world().await;
    let mut broken = 0;
    for round in 0..ROUNDS {
        let (market, placement) = completed_market(app, &w, round).await;
        let record = app.request(
            RECORD,
            json!({"i": {"placementId": placement, "month": "2026-10", "hours": "10"}}),
        );
        let (write, closed) = race(app, record, close(app, &market)).await;
        if judge(app, &market, &write, &closed).await {
            broken += 1;
        }
    }
    assert_eq!(
        broken, 0,
        "{broken} of {ROUNDS} rounds left DECLARED hours on a CLOSED market"
    );
}

/// `importHourStatements` as the system actor, as a request that can be spawned.
fn upload(app: &TestApp, dir: &tempfile::TempDir, csv: &str) -> Request {
    let path = dir.path().join("heures.csv");
    std::fs::write(&path, csv).unwrap();
    let mut req = app.request(IMPORT, json!({"file": null}));
    req.set_upload(
        "variables.file",
        async_graphql::UploadValue {
            filename: "heures.csv".into(),
            content_type: Some("text/csv".into()),
            content: std::fs::File::open(&path).unwrap(),
        },
    );
    req
}

async fn import_and_close_of_a_market_serialise(app: &TestApp) {
    let w = app.world().await;
    let dir = tempfile::tempdir().unwrap();
    let mut broken = 0;
    for round in 0..ROUNDS {
        let (market, placement) = completed_market(app, &w, round).await;
        let reference = app
            .ok(
                "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
                json!({"id": placement}),
            )
            .await["node"]["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let csv = format!("reference;mois;heures\n{reference};2026-10;12\n");
        let (write, closed) = race(app, upload(app, &dir, &csv), close(app, &market)).await;
        if judge(app, &market, &write, &closed).await {
            broken += 1;
        }
    }
    assert_eq!(
        broken, 0,
        "{broken} of {ROUNDS} rounds left imported DECLARED hours on a CLOSED market"
    );
}

fn create_placement(app: &TestApp, i: Value) -> Request {
    app.request(CREATE_PLACEMENT, json!({ "i": i }))
}

async fn two_placements_of_one_person_at_once_keep_the_weekly_cap(app: &TestApp) {
    let w = app.world().await;
    let (other, other_lot) = app
        .market_in_progress(&w.buyer, "LP-2026-002", &w.company)
        .await;
    let mut broken = 0;
    for round in 0..ROUNDS {
        let person = app.participant(&w.territory, &format!("Cap{round}")).await;
        // 30 h + 30 h a week over the same months: each alone fits 48 h, together not.
        let on = |market: &str, lot: &str| {
            create_placement(
                app,
                json!({"participantId": person, "marketId": market, "lotId": lot,
                    "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CDD",
                    "startDate": "2026-03-01", "endDate": "2026-09-30", "weeklyHours": "30"}),
            )
        };
        let (a, b) = race(app, on(&w.market, &w.lot), on(&other, &other_lot)).await;
        match (failed(&a), failed(&b)) {
            (false, false) => broken += 1,
            (true, true) => panic!("both refused: {a:#} {b:#}"),
            (true, false) | (false, true) => {
                let e = if failed(&a) { &a } else { &b };
                assert_eq!(
                    e["errors"][0]["extensions"]["field"], "weeklyHours",
                    "{e:#}"
                );
            }
        }
    }
    assert_eq!(
        broken, 0,
        "{broken} of {ROUNDS} rounds gave one person 60 h a week"
    );
}

async fn two_cddi_of_one_person_at_once_keep_the_24_month_cap(app: &TestApp) {
    let w = app.world().await;
    let (other, other_lot) = app
        .market_in_progress(&w.buyer, "LP-2026-003", &w.aci)
        .await;
    let (third, third_lot) = app
        .market_in_progress(&w.buyer, "LP-2026-004", &w.aci)
        .await;
    let mut broken = 0;
    for round in 0..ROUNDS / 2 {
        let person = app.participant(&w.territory, &format!("Cddi{round}")).await;
        // The ACI's own diagnostic before each contract (it lasts 92 days).
        for (checked, proof) in [("2024-12-15", "2024-12-01"), ("2026-02-20", "2026-02-10")] {
            let proofs: Vec<Value> = ["YOUNG_UNDER_26", "QPV_RESIDENT", "LOW_QUALIFICATION"]
                .iter()
                .map(
                    |c| json!({"criterion": c, "proofKind": "SWORN_STATEMENT", "proofDate": proof}),
                )
                .collect();
            app.ok(
                "mutation($i: RecordEligibilityInput!) { recordEligibility(input: $i) { id } }",
                json!({"i": {"participantId": person, "scheme": "IAE", "attesterKind": "EMPLOYER",
                    "attesterId": w.aci, "structureKind": "ACI", "checkedOn": checked,
                    "proofs": proofs}}),
            )
            .await;
        }
        // Two CDDI with one ACI, 14 months each, one after the other: 28 months together,
        // over the cap of 24; each alone is within it.
        let cddi = |market: &str, lot: &str, start: &str, end: &str| {
            create_placement(
                app,
                json!({"participantId": person, "marketId": market, "lotId": lot,
                    "modality": "DIRECT_HIRE", "employerId": w.aci, "contractType": "CDDI",
                    "startDate": start, "endDate": end, "weeklyHours": "26"}),
            )
        };
        let (a, b) = race(
            app,
            cddi(&other, &other_lot, "2025-01-01", "2026-02-28"),
            cddi(&third, &third_lot, "2026-03-01", "2027-04-30"),
        )
        .await;
        match (failed(&a), failed(&b)) {
            (false, false) => broken += 1,
            (true, true) => panic!("both refused: {a:#} {b:#}"),
            _ => {}
        }
    }
    assert_eq!(
        broken,
        0,
        "{broken} of {} rounds gave one person 28 months of CDDI",
        ROUNDS / 2
    );
}
