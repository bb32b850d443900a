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
    a_month_is_declared_by_month_or_by_days_not_both,
    an_import_keeps_months_and_days_apart,
    a_rejected_statement_reopens_its_deadline,
    hours_only_on_active_or_ended_placements,
    no_hours_for_days_a_placement_was_suspended,
    a_facilitators_correction_counts_at_once,
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

    // Correct the validated March entry from 100 h to 90 h: a new entry of −10 h, validated
    // at once by its author, who facilitates the territory.
    let c = app
        .ok(
            CORRECT,
            json!({"i": {"entryId": march, "hours": "90", "reason": "double saisie"}}),
        )
        .await;
    assert_eq!(c["correctHours"]["minutes"], -600);
    let t = app.totals(&w.market).await;
    assert_eq!(t["hoursDelivered"], 90.0);
    assert_eq!(t["hoursPending"], 80.5);
    // The facilitator's correction counted at once: nothing is shown apart.
    let d = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Market { hoursPendingDeductions } } }",
            json!({"id": w.market}),
        )
        .await;
    assert_eq!(d["node"]["hoursPendingDeductions"], 0.0);
    let cid = c["correctHours"]["id"].as_str().unwrap();
    let (code, _) = app.err(VALIDATE, json!({"i": {"entryIds": [cid]}})).await;
    assert_eq!(code, "CONFLICT", "already validated");
    app.ok(VALIDATE, json!({"i": {"entryIds": [april]}})).await;
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
    // Rejected: it cannot be corrected any more (declare anew instead).
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [e], "reason": "hors marché"}}),
    )
    .await;
    let (code, _) = app
        .err(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "80", "reason": "x"}}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    // A facilitator's correction is validated with the entry it corrects: no longer rejectable.
    let e = app.record_ok(&w.placement, "2026-04", "100").await;
    app.ok(
        CORRECT,
        json!({"i": {"entryId": e, "hours": "90", "reason": "erreur"}}),
    )
    .await;
    let (code, _) = app
        .err(REJECT, json!({"i": {"entryIds": [e], "reason": "x"}}))
        .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(app.count("hour_entry").await, 3);
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
    // A facilitator's correction is their review of the entry: both are validated.
    assert_eq!(node["status"], "VALIDATED");
    assert_eq!(node["corrections"][0]["status"], "VALIDATED");
    for (status, n) in [("DECLARED", 0), ("VALIDATED", 2)] {
        let q = format!(
            "query($p: ID!) {{ hourEntries(filter: {{placementId: $p, status: {status}}}) {{ edges {{ node {{ minutes }} }} }} }}"
        );
        let listed = app.ok(&q, json!({"p": w.placement})).await;
        assert_eq!(
            listed["hourEntries"]["edges"].as_array().unwrap().len(),
            n,
            "{status}"
        );
    }
}

const MOVE: &str = "mutation($i: TransitionInput!) { transition(input: $i) { state } }";

fn day_entry(placement: &str, day: &str, hours: &str, kind: &str) -> serde_json::Value {
    json!({"i": {"placementId": placement, "day": day, "hours": hours, "kind": kind}})
}

fn month_entry(placement: &str, month: &str, hours: &str, kind: &str) -> serde_json::Value {
    json!({"i": {"placementId": placement, "month": month, "hours": hours, "kind": kind}})
}

async fn a_month_is_declared_by_month_or_by_days_not_both(app: &TestApp) {
    let w = app.world().await;
    let p = &w.placement;
    let day = app
        .ok(RECORD, day_entry(p, "2026-03-10", "7", "WORK"))
        .await["recordHours"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Days of work declared in March: the month of work is refused, naming `month`.
    let (code, field) = app
        .err(RECORD, month_entry(p, "2026-03", "140", "WORK"))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("month"))
    );
    // Per kind: training of March can still come as a month ...
    app.ok(RECORD, month_entry(p, "2026-03", "10", "TRAINING"))
        .await;
    // ... and then no training day of March, naming `day`.
    let (code, field) = app
        .err(RECORD, day_entry(p, "2026-03-11", "1", "TRAINING"))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("day"))
    );
    // Another month is free; a day of April then blocks April as a month too.
    app.ok(RECORD, day_entry(p, "2026-04-01", "7", "TRAINING"))
        .await;
    // A rejected day no longer blocks its month.
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [day], "reason": "doublon"}}),
    )
    .await;
    app.ok(RECORD, month_entry(p, "2026-03", "140", "WORK"))
        .await;
    // And now the month blocks new days of work.
    let (_, field) = app
        .err(RECORD, day_entry(p, "2026-03-12", "7", "WORK"))
        .await;
    assert_eq!(field.as_deref(), Some("day"));
    assert_eq!(app.count("hour_entry").await, 4);
}

async fn an_import_keeps_months_and_days_apart(app: &TestApp) {
    let w = app.world().await;
    app.ok(RECORD, day_entry(&w.placement, "2026-09-03", "7", "WORK"))
        .await;
    let reference = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
            json!({"id": w.placement}),
        )
        .await["node"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = app
        .upload_hours(
            passerelle::domain::auth::Actor::system(),
            format!("reference;mois;heures;nature\n{reference};2026-09;120;travail\n"),
        )
        .await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(ext["code"], "FILE_REFUSED", "{resp:#}");
    assert_eq!(ext["errors"][0]["column"], "mois", "{resp:#}");
    assert_eq!(app.count("hour_entry").await, 1);
    // Training of September has no days: its month imports.
    let resp = app
        .upload_hours(
            passerelle::domain::auth::Actor::system(),
            format!("reference;mois;heures;nature\n{reference};2026-09;12;formation\n"),
        )
        .await;
    assert!(resp.get("errors").is_none(), "{resp:#}");
    assert_eq!(app.count("hour_entry").await, 2);
}

const FLOW_DEADLINES: &str =
    "query($id: ID!) { workflow(id: $id) { deadlines { rule dueOn status metOn } } }";

async fn statement_of(app: &TestApp, market: &str, due: &str) -> serde_json::Value {
    let f = app.ok(FLOW_DEADLINES, json!({"id": market})).await;
    f["workflow"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "MONTHLY_STATEMENT" && d["dueOn"] == due)
        .unwrap_or_else(|| panic!("no statement due {due}: {f:#}"))
        .clone()
}

async fn a_rejected_statement_reopens_its_deadline(app: &TestApp) {
    let w = app.world().await;
    // November's statement is due on 5 December; today is 22 November.
    let before = statement_of(app, &w.market, "2026-12-05").await;
    assert_eq!(before["status"], "OPEN");
    let e = app.record_ok(&w.placement, "2026-11", "40").await;
    let met = statement_of(app, &w.market, "2026-12-05").await;
    assert_eq!(
        (&met["status"], &met["metOn"]),
        (&json!("MET"), &json!("2026-11-22"))
    );
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [e], "reason": "mauvais mois"}}),
    )
    .await;
    let reopened = statement_of(app, &w.market, "2026-12-05").await;
    assert_eq!(
        (&reopened["status"], &reopened["metOn"]),
        (&json!("OPEN"), &json!(null)),
        "a rejected statement does not meet its deadline"
    );
    // Open again, as if the month had never been declared.
    // A new declaration meets it again.
    app.record_ok(&w.placement, "2026-11", "38").await;
    assert_eq!(
        statement_of(app, &w.market, "2026-12-05").await["status"],
        "MET"
    );
}

async fn hours_only_on_active_or_ended_placements(app: &TestApp) {
    let w = app.world().await;
    let person = app.participant(&w.territory, "Grondin").await;
    let proposed = app
        .ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": person, "marketId": w.market, "lotId": w.lot,
                "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CDD",
                "startDate": "2026-02-01", "endDate": "2026-12-31", "weeklyHours": "20",
                "proposed": true}}),
        )
        .await["createPlacement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, field) = app
        .err(RECORD, month_entry(&proposed, "2026-03", "10", "WORK"))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("CONFLICT", None),
        "hours on a PROPOSED placement"
    );
    app.ok(MOVE, json!({"i": {"id": proposed, "to": "ACTIVE"}}))
        .await;
    app.ok(RECORD, month_entry(&proposed, "2026-03", "10", "WORK"))
        .await;
    // Currently suspended: refused, whatever the day.
    app.ok(
        MOVE,
        json!({"i": {"id": proposed, "to": "SUSPENDED", "reason": "arrêt maladie"}}),
    )
    .await;
    let (code, _) = app
        .err(RECORD, month_entry(&proposed, "2026-04", "10", "WORK"))
        .await;
    assert_eq!(code, "CONFLICT", "hours on a SUSPENDED placement");
    // Ended on 15 October: statements still come, for days up to the exit.
    app.ok(
        "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome } }",
        json!({"i": {"placementId": w.placement, "exitDate": "2026-10-15", "outcome": "CDI"}}),
    )
    .await;
    app.ok(RECORD, day_entry(&w.placement, "2026-10-15", "7", "WORK"))
        .await;
    let (_, field) = app
        .err(RECORD, day_entry(&w.placement, "2026-10-16", "7", "WORK"))
        .await;
    assert_eq!(field.as_deref(), Some("period"));
    assert_eq!(app.count("hour_entry").await, 2);
}

/// Local time in La Réunion (UTC+4) to the clock's UTC.
fn reunion(day: &str, hour: u32) -> chrono::DateTime<chrono::Utc> {
    format!("{day}T{hour:02}:00:00+04:00").parse().unwrap()
}

async fn no_hours_for_days_a_placement_was_suspended(app: &TestApp) {
    let w = app.world().await;
    let p = &w.placement;
    // Suspended on 10 June (late in the day, local time), resumed on 20 June (early).
    app.clock.set(reunion("2026-06-10", 23));
    app.ok(
        MOVE,
        json!({"i": {"id": p, "to": "SUSPENDED", "reason": "arrêt maladie"}}),
    )
    .await;
    app.clock.set(reunion("2026-06-20", 1));
    app.ok(MOVE, json!({"i": {"id": p, "to": "ACTIVE"}})).await;
    app.clock.set(NOW.parse().unwrap());
    // The day before: fine; the first suspended day and the last: refused; resumption: fine.
    app.ok(RECORD, day_entry(p, "2026-06-09", "1", "WORK"))
        .await;
    for d in ["2026-06-10", "2026-06-19"] {
        let (code, field) = app.err(RECORD, day_entry(p, d, "1", "WORK")).await;
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("BAD_USER_INPUT", Some("day")),
            "{d} was suspended"
        );
    }
    app.ok(RECORD, day_entry(p, "2026-06-20", "1", "WORK"))
        .await;
    // June as a month (training): 20 days not suspended, 480 h at most, 2 h already there.
    let (_, field) = app
        .err(RECORD, month_entry(p, "2026-06", "478:01", "TRAINING"))
        .await;
    assert_eq!(field.as_deref(), Some("hours"));
    app.ok(RECORD, month_entry(p, "2026-06", "478", "TRAINING"))
        .await;
    assert_eq!(app.count("hour_entry").await, 3);
}

async fn a_facilitators_correction_counts_at_once(app: &TestApp) {
    use passerelle::domain::auth::Role;
    let w = app.world().await;
    let fac = app
        .user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let march = app.record_ok(&w.placement, "2026-03", "100").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [march]}})).await;
    let resp = app
        .run_as(
            Some(fac.clone()),
            CORRECT,
            json!({"i": {"entryId": march, "hours": "90", "reason": "double saisie"}}),
        )
        .await;
    assert!(resp.get("errors").is_none(), "{resp:#}");
    let c = resp["data"]["correctHours"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = app.totals(&w.market).await;
    assert_eq!(
        (&t["hoursDelivered"], &t["hoursPending"]),
        (&json!(90.0), &json!(0.0)),
        "the correction counts at once, nothing negative pending"
    );
    // Who validated it: the history (its review) and the audit.
    let h = app
        .ok(
            "query($id: ID!) { workflow(id: $id) { state history { to changedBy } } }",
            json!({"id": c}),
        )
        .await;
    assert_eq!(h["workflow"]["state"], "VALIDATED");
    assert_eq!(h["workflow"]["history"][0]["changedBy"], fac.label.as_str());
    let audited = app
        .ctx
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            app.ctx.db.backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_event WHERE action = 'validateHours'"
                .to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(audited, 2, "the first validation and the correction's");
    // A correction of an entry still DECLARED is the facilitator's review of it: both count.
    let april = app.record_ok(&w.placement, "2026-04", "50").await;
    app.run_as(
        Some(fac),
        CORRECT,
        json!({"i": {"entryId": april, "hours": "45", "reason": "relevé"}}),
    )
    .await;
    let t = app.totals(&w.market).await;
    assert_eq!(
        (&t["hoursDelivered"], &t["hoursPending"]),
        (&json!(135.0), &json!(0.0))
    );
}
