//! The hours ledger: recording, caps at their boundaries, validation, correction, append-only,
//! and totals under concurrent writers.

mod common;

use common::*;
use sea_orm::ConnectionTrait;
use serde_json::json;

db_tests!(
    totals_follow_every_ledger_operation,
    month_cap_boundary_744_hours,
    day_cap_boundary_24_hours,
    hours_outside_placement_dates_are_refused,
    future_period_is_refused,
    absurd_or_malformed_hours_are_refused,
    duplicate_declaration_is_a_conflict,
    review_is_final_and_rejection_needs_reason,
    correction_of_rejected_entry_is_refused,
    ledger_refuses_update_and_delete_in_sql,
    hours_on_cancelled_market_are_refused,
    concurrent_recording_keeps_totals_exact,
    history_lists_corrections,
);

async fn totals_follow_every_ledger_operation(app: &TestApp) {
    let w = app.world().await;
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursDelivered"], 0.0);
    assert_eq!(t["participantCount"], 1);

    let march = app.record_ok(&w.placement, "2026-03", "100").await;
    let april = app.record_ok(&w.placement, "2026-04", "80:30").await;
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursPending"], 180.5);
    assert_eq!(t["hoursDelivered"], 0.0);

    app.ok(VALIDATE, json!({"i": {"entryIds": [march]}})).await;
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursDelivered"], 100.0);
    assert_eq!(t["hoursPending"], 80.5);
    assert_eq!(t["lots"][0]["hoursDelivered"], 100.0);
    assert_eq!(
        t["byModality"],
        json!([{"modality": "DIRECT_HIRE", "hoursDelivered": 100.0, "hoursPending": 80.5}])
    );

    // Correct the validated March entry from 100 h to 90 h: a new entry of −10 h, pending.
    let c = app
        .ok(
            CORRECT,
            json!({"i": {"entryId": march, "hours": "90", "reason": "double saisie"}}),
        )
        .await;
    assert_eq!(c["correctHours"]["minutes"], -600);
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursDelivered"], 100.0);
    // Pending hours never net a deduction: April's 80.5 h, and the 10 h shown apart.
    assert_eq!(t["hoursPending"], 80.5);
    let d = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Market { hoursPendingDeductions } } }",
            json!({"id": w.market}),
        )
        .await;
    assert_eq!(d["node"]["hoursPendingDeductions"], 10.0);
    let cid = c["correctHours"]["id"].as_str().unwrap();
    app.ok(VALIDATE, json!({"i": {"entryIds": [cid, april]}}))
        .await;
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursDelivered"], 170.5);
    assert_eq!(t["hoursPending"], 0.0);

    // Target: 1 000 000 € × 50 % × 5 % ÷ 30 €/h = 833 h.
    app.ok(
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { hoursTarget } }",
        json!({"i": {"marketId": w.market, "labourShareBp": 5000}}),
    )
    .await;
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursTarget"], 833.0);
    assert_eq!(t["completionRate"], 0.2046); // 170.5 / 833, rounded down as the reports do
    // Nothing was updated: 3 entries, 3 reviews.
    assert_eq!(app.count("hour_entry").await, 3);
    assert_eq!(app.count("hour_entry_review").await, 3);
}

async fn month_cap_boundary_744_hours(app: &TestApp) {
    let w = app.world().await;
    // The placement runs from 1 Feb; March has 31 days: 744 h at most.
    let resp = app.record(&w.placement, "2026-03", "744:01").await;
    assert_eq!(resp["errors"][0]["extensions"]["field"], "hours");
    let id = app.record_ok(&w.placement, "2026-03", "744").await;
    assert!(!id.is_empty());
    // A day entry in the same month cannot add one minute more.
    let day = app
        .run(RECORD, json!({"i": {"placementId": w.placement, "day": "2026-03-10", "hours": "0:01", "kind": "TRAINING"}}))
        .await;
    assert_eq!(day["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // April has 30 days: 720 h is the cap, 720:01 is over.
    assert_eq!(
        app.record(&w.placement, "2026-04", "720:01").await["errors"][0]["extensions"]["field"],
        "hours"
    );
    app.record_ok(&w.placement, "2026-04", "719:59").await;
    assert_eq!(app.count("hour_entry").await, 2);
}

async fn day_cap_boundary_24_hours(app: &TestApp) {
    let w = app.world().await;
    let day = |d: &str, h: &str, kind: &str| json!({"i": {"placementId": w.placement, "day": d, "hours": h, "kind": kind}});
    let (code, field) = app.err(RECORD, day("2026-05-04", "24:01", "WORK")).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("hours"))
    );
    app.ok(RECORD, day("2026-05-04", "23:59", "WORK")).await;
    app.ok(RECORD, day("2026-05-04", "0:01", "TRAINING")).await; // exactly 24 h
    let (code, _) = app
        .err(RECORD, day("2026-05-04", "0:01", "IMMERSION"))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

async fn hours_outside_placement_dates_are_refused(app: &TestApp) {
    let w = app.world().await;
    // Placement: 2026-02-01 to 2026-12-31.
    let day = |d: &str| json!({"i": {"placementId": w.placement, "day": d, "hours": "7"}});
    let (_, field) = app.err(RECORD, day("2026-01-31")).await;
    assert_eq!(field.as_deref(), Some("period"));
    app.ok(RECORD, day("2026-02-01")).await;
    assert_eq!(
        app.record(&w.placement, "2026-01", "7").await["errors"][0]["extensions"]["field"],
        "period"
    );
}

async fn future_period_is_refused(app: &TestApp) {
    let w = app.world().await;
    // Today is 2026-11-22 (10:00 UTC, 14:00 at La Réunion).
    let day = |d: &str| json!({"i": {"placementId": w.placement, "day": d, "hours": "7"}});
    app.ok(RECORD, day("2026-11-22")).await;
    let (_, field) = app.err(RECORD, day("2026-11-23")).await;
    assert_eq!(field.as_deref(), Some("period"));
    // At 21:00 UTC it is already the 23rd at La Réunion (UTC+4): the territory's date counts.
    app.clock.set("2026-11-22T21:00:00Z".parse().unwrap());
    app.ok(RECORD, day("2026-11-23")).await;
}

async fn absurd_or_malformed_hours_are_refused(app: &TestApp) {
    let w = app.world().await;
    for (hours, field) in [
        ("-5", "hours"),
        ("0", "hours"),
        ("abc", "hours"),
        ("7.3333", "hours"),
        ("99999999", "hours"),
    ] {
        let resp = app.record(&w.placement, "2026-03", hours).await;
        assert_eq!(
            resp["errors"][0]["extensions"]["field"], field,
            "{hours}: {resp}"
        );
    }
    // Month and day together, or neither.
    let both = app
        .run(RECORD, json!({"i": {"placementId": w.placement, "month": "2026-03", "day": "2026-03-02", "hours": "7"}}))
        .await;
    assert_eq!(both["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let neither = app
        .run(
            RECORD,
            json!({"i": {"placementId": w.placement, "hours": "7"}}),
        )
        .await;
    assert_eq!(neither["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        app.record(&w.placement, "2026-13", "7").await["errors"][0]["extensions"]["field"],
        "month"
    );
    // Unknown and malformed placement IDs.
    let (code, field) = app
        .err(
            RECORD,
            json!({"i": {"placementId": "bm9wZQ", "month": "2026-03", "hours": "7"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("placementId"))
    );
    let (code, field) = app
        .err(
            RECORD,
            json!({"i": {"placementId": w.market, "month": "2026-03", "hours": "7"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("placementId"))
    );
    let ghost = passerelle::ids::encode(passerelle::ids::Kind::Placement, uuid::Uuid::now_v7());
    let (code, _) = app
        .err(
            RECORD,
            json!({"i": {"placementId": ghost, "month": "2026-03", "hours": "7"}}),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(app.count("hour_entry").await, 0);
}

async fn duplicate_declaration_is_a_conflict(app: &TestApp) {
    let w = app.world().await;
    let first = app.record_ok(&w.placement, "2026-03", "100").await;
    assert_eq!(
        app.record(&w.placement, "2026-03", "100").await["errors"][0]["extensions"]["code"],
        "CONFLICT"
    );
    // Once rejected, the month can be declared again.
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [first], "reason": "mauvais chantier"}}),
    )
    .await;
    app.record_ok(&w.placement, "2026-03", "90").await;
}

async fn review_is_final_and_rejection_needs_reason(app: &TestApp) {
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "100").await;
    let (code, field) = app.err(REJECT, json!({"i": {"entryIds": [e]}})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("reason"))
    );
    let (code, _) = app
        .err(REJECT, json!({"i": {"entryIds": [e], "reason": "   "}}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    let (code, _) = app.err(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = app
        .err(REJECT, json!({"i": {"entryIds": [e], "reason": "x"}}))
        .await;
    assert_eq!(code, "CONFLICT");
    // A batch with one bad entry writes nothing.
    let e2 = app.record_ok(&w.placement, "2026-04", "10").await;
    let (code, _) = app.err(VALIDATE, json!({"i": {"entryIds": [e2, e]}})).await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = app.err(VALIDATE, json!({"i": {"entryIds": []}})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(app.count("hour_entry_review").await, 1);
}

async fn correction_of_rejected_entry_is_refused(app: &TestApp) {
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "100").await;
    let (code, field) = app
        .err(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "100", "reason": "rien"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("hours"))
    );
    let (code, field) = app
        .err(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "90", "reason": " "}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("reason"))
    );
    // A correction that would exceed the month's cap is refused like a declaration.
    let (_, field) = app
        .err(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "744:01", "reason": "x"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("hours"));
    // Rejecting an entry with a live correction must reject both together.
    let c = app
        .ok(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "90", "reason": "erreur"}}),
        )
        .await;
    let cid = c["correctHours"]["id"].as_str().unwrap().to_string();
    let (code, _) = app
        .err(REJECT, json!({"i": {"entryIds": [e], "reason": "x"}}))
        .await;
    assert_eq!(code, "CONFLICT");
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [e, cid], "reason": "hors marché"}}),
    )
    .await;
    let (code, _) = app
        .err(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "80", "reason": "x"}}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(app.count("hour_entry").await, 2);
}

async fn ledger_refuses_update_and_delete_in_sql(app: &TestApp) {
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "100").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    let conn = &app.ctx.db.conn;
    for sql in [
        "UPDATE hour_entry SET minutes = 1",
        "DELETE FROM hour_entry",
        "UPDATE hour_entry_review SET decision = 'REJECTED'",
        "DELETE FROM hour_entry_review",
    ] {
        let err = conn.execute_unprepared(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(app.totals(&w.market).await["hoursDelivered"], 100.0);
}

async fn hours_on_cancelled_market_are_refused(app: &TestApp) {
    let w = app.world().await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "CANCELLED", "reason": "infructueux"}}),
    )
    .await;
    assert_eq!(
        app.record(&w.placement, "2026-03", "7").await["errors"][0]["extensions"]["code"],
        "CONFLICT"
    );
    assert_eq!(app.count("hour_entry").await, 0);
}

async fn concurrent_recording_keeps_totals_exact(app: &TestApp) {
    let w = app.world().await;
    // 6 placements; 6 tasks each record 8 months at once (48 concurrent writers in all),
    // and 6 more race to declare the same month on the same placement: exactly one wins.
    let mut placements = vec![w.placement.clone()];
    for i in 0..5 {
        let p = app.participant(&w.territory, &format!("P{i}")).await;
        placements.push(
            app.placement(&p, &w.market, &w.lot, &w.company, "DIRECT_HIRE")
                .await,
        );
    }
    let schema = app.schema.clone();
    let mut tasks = Vec::new();
    for p in &placements {
        for month in 3..=10 {
            let schema = schema.clone();
            let req = app.request(
                RECORD,
                json!({"i": {"placementId": p, "month": format!("2026-{month:02}"), "hours": "10:30"}}),
            );
            tasks.push(tokio::spawn(async move {
                schema.execute(req).await.errors.len()
            }));
        }
    }
    let mut racers = Vec::new();
    for _ in 0..6 {
        let schema = schema.clone();
        let req = app.request(
            RECORD,
            json!({"i": {"placementId": placements[0], "month": "2026-02", "hours": "5"}}),
        );
        racers.push(tokio::spawn(async move {
            schema.execute(req).await.errors.len()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 0, "a concurrent write failed");
    }
    let mut winners = 0;
    for r in racers {
        if r.await.unwrap() == 0 {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "one declaration per placement and month");
    let t = app.totals(&w.market).await;
    // 48 × 10.5 h + 5 h.
    assert_eq!(t["hoursPending"], 509.0);
    assert_eq!(t["participantCount"], 6);
    assert_eq!(app.count("hour_entry").await, 49);
}

async fn history_lists_corrections(app: &TestApp) {
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "100").await;
    app.ok(
        CORRECT,
        json!({"i": {"entryId": e, "hours": "95", "reason": "relevé corrigé"}}),
    )
    .await;
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on HourEntry { hours status corrections { hours reason status corrects { id } } } } }",
            json!({"id": e}),
        )
        .await;
    let node = &data["node"];
    assert_eq!(node["hours"], 100.0);
    assert_eq!(node["corrections"][0]["hours"], -5.0);
    assert_eq!(node["corrections"][0]["reason"], "relevé corrigé");
    assert_eq!(node["corrections"][0]["corrects"]["id"], e);
    let listed = app
        .ok(
            "query($p: ID!) { hourEntries(filter: {placementId: $p, status: DECLARED}) { edges { node { minutes } } } }",
            json!({"p": w.placement}),
        )
        .await;
    assert_eq!(listed["hourEntries"]["edges"].as_array().unwrap().len(), 2);
}
