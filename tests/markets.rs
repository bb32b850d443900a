//! Organizations, operations, markets and lots: validation, calibrage, life cycle, filters,
//! pagination. Every refused input writes nothing.

mod common;

use common::*;
use serde_json::json;

db_tests!(
    organization_input_is_checked,
    territory_time_zone_is_checked,
    operation_carries_anru_commitments,
    market_input_is_checked,
    calibration_proposal_and_override,
    market_life_cycle_guards_and_history,
    close_needs_a_current_final_report,
    placement_rules,
    filters_and_search,
    pagination_is_keyset_and_capped,
    participant_input_is_checked,
);

async fn organization_input_is_checked(app: &TestApp) {
    let t = app.territory("974").await;
    let bad = [
        (
            json!({"name": "   ", "kind": "BUYER"}),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            json!({"name": "X", "kind": "BUYER", "siret": "21750001600018"}),
            "BAD_USER_INPUT",
            Some("siret"),
        ),
        (
            json!({"name": "X", "kind": "BUYER", "siret": "2175000160001"}),
            "BAD_USER_INPUT",
            Some("siret"),
        ),
        (
            json!({"name": "X", "kind": "SIAE"}),
            "BAD_USER_INPUT",
            Some("siaeSubtype"),
        ),
        (
            json!({"name": "X", "kind": "COMPANY", "siaeSubtype": "ACI"}),
            "BAD_USER_INPUT",
            Some("siaeSubtype"),
        ),
        (
            json!({"name": "X", "kind": "COMPANY", "email": "pas-un-mail"}),
            "BAD_USER_INPUT",
            Some("email"),
        ),
        (
            json!({"name": "X", "kind": "COMPANY", "territoryId": "%%%"}),
            "BAD_USER_INPUT",
            Some("territoryId"),
        ),
    ];
    for (input, code, field) in bad {
        let (c, f) = app.err(CREATE_ORG, json!({"i": input})).await;
        assert_eq!((c.as_str(), f.as_deref()), (code, field), "{input}");
    }
    assert_eq!(app.count("organization").await, 0);
    let ok = app
        .ok(
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { siret name kind siaeSubtype territory { code } } }",
            json!({"i": {"name": "  Ville de Paris ", "kind": "BUYER", "siret": "217 500 016 00019", "territoryId": t}}),
        )
        .await;
    assert_eq!(ok["createOrganization"]["siret"], "21750001600019");
    assert_eq!(ok["createOrganization"]["name"], "Ville de Paris");
    let (code, _) = app
        .err(
            CREATE_ORG,
            json!({"i": {"name": "Doublon", "kind": "BUYER", "siret": "21750001600019"}}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(app.count("organization").await, 1);
}

async fn territory_time_zone_is_checked(app: &TestApp) {
    let q = "mutation($i: CreateTerritoryInput!) { createTerritory(input: $i) { timeZone } }";
    for tz in ["Mars/Olympus", "America/New_York", ""] {
        let (code, field) = app
            .err(q, json!({"i": {"code": "X", "name": "X", "timeZone": tz}}))
            .await;
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("BAD_USER_INPUT", Some("timeZone")),
            "{tz}"
        );
    }
    for (i, tz) in [
        "Europe/Paris",
        "Indian/Reunion",
        "Indian/Mayotte",
        "America/Martinique",
        "America/Cayenne",
    ]
    .iter()
    .enumerate()
    {
        let d = app
            .ok(
                q,
                json!({"i": {"code": format!("T{i}"), "name": "X", "timeZone": tz}}),
            )
            .await;
        assert_eq!(d["createTerritory"]["timeZone"], *tz);
    }
    let (code, _) = app
        .err(
            q,
            json!({"i": {"code": "T0", "name": "X", "timeZone": "Europe/Paris"}}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
}

async fn operation_carries_anru_commitments(app: &TestApp) {
    let t = app.territory("976").await;
    let owner = app.org("Commune de Mamoudzou", "BUYER", None, &t).await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    let q = "mutation($i: CreateOperationInput!) { createOperation(input: $i) { id name worksRateBp gupRateBp owner { name } } }";
    let d = app.ok(q, json!({"i": {"territoryId": t, "ownerId": owner, "name": "PRU de M'Gombani", "kind": "PRU"}})).await;
    assert_eq!(d["createOperation"]["worksRateBp"], 500);
    assert_eq!(d["createOperation"]["gupRateBp"], 1000);
    let (_, field) = app
        .err(
            q,
            json!({"i": {"territoryId": t, "ownerId": company, "name": "X", "kind": "PRU"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("ownerId"));
    let (_, field) = app
        .err(
            q,
            json!({"i": {"territoryId": t, "name": "X", "kind": "NPNRU", "worksRateBp": 10001}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("worksRateBp"));
    let (_, field) = app
        .err(q, json!({"i": {"territoryId": t, "name": "X", "kind": "NPNRU", "startDate": "2026-05-01", "endDate": "2026-04-30"}}))
        .await;
    assert_eq!(field.as_deref(), Some("endDate"));
    // A market of the operation inherits its territory.
    let op = d["createOperation"]["id"].as_str().unwrap();
    let m = app
        .ok(
            "mutation($i: CreateMarketInput!) { createMarket(input: $i) { territory { code } operation { name } } }",
            json!({"i": {"buyerId": owner, "operationId": op, "reference": "R1", "title": "T", "clauseKind": "INSERTION_SERVICE_MARKET",
                "anruCategory": "WORKS_ENGINEERING", "amountCents": 1000, "startDate": "2026-01-01", "endDate": "2026-12-31"}}),
        )
        .await;
    assert_eq!(m["createMarket"]["territory"]["code"], "976");
    // Outside the operation, another market of the same buyer.
    app.ok(CREATE_MARKET, json!({"i": {"buyerId": owner, "reference": "R2", "title": "Hors PRU", "clauseKind": "EXECUTION_CONDITION",
        "amountCents": 1000, "startDate": "2026-01-01", "endDate": "2026-12-31"}})).await;
    let by_op = app
        .ok("query($o: ID!) { markets(filter: {operationId: $o}) { edges { node { reference } } } }", json!({"o": op}))
        .await;
    assert_eq!(
        by_op["markets"]["edges"],
        json!([{"node": {"reference": "R1"}}])
    );
    let nested = app
        .ok("query($o: ID!) { node(id: $o) { ... on Operation { markets { edges { node { reference } } } } } }", json!({"o": op}))
        .await;
    assert_eq!(
        nested["node"]["markets"]["edges"].as_array().unwrap().len(),
        1
    );
    assert_eq!(app.count("operation").await, 1);
}

async fn market_input_is_checked(app: &TestApp) {
    let t = app.territory("974").await;
    let buyer = app.org("Ville", "BUYER", None, &t).await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    let base = json!({"buyerId": buyer, "reference": "R-1", "title": "Travaux", "clauseKind": "EXECUTION_CONDITION",
        "amountCents": 100000, "startDate": "2026-01-01", "endDate": "2026-12-31"});
    let with = |k: &str, v: serde_json::Value| {
        let mut i = base.clone();
        i[k] = v;
        json!({"i": i})
    };
    let cases = [
        (with("title", json!("")), "title"),
        (with("reference", json!("  ")), "reference"),
        (with("endDate", json!("2025-12-31")), "endDate"),
        (with("amountCents", json!(-1)), "amountCents"),
        (
            with("notificationDate", json!("2026-02-01")),
            "notificationDate",
        ),
        (with("buyerId", json!(company)), "buyerId"),
        (
            with("lots", json!([{"number": 0, "title": "Lot"}])),
            "lot.number",
        ),
        (
            with("lots", json!([{"number": 1, "title": " "}])),
            "lot.title",
        ),
        (
            with(
                "lots",
                json!([{"number": 1, "title": "L", "awardeeId": buyer}]),
            ),
            "lot.awardeeId",
        ),
        (
            with(
                "lots",
                json!([{"number": 1, "title": "L", "targetHours": "-3"}]),
            ),
            "lot.targetHours",
        ),
    ];
    for (vars, field) in cases {
        let (code, f) = app.err(CREATE_MARKET, vars.clone()).await;
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field)),
            "{vars}"
        );
    }
    // Two lots numbered 1: the market is not created either (one transaction).
    let (code, _) = app
        .err(
            CREATE_MARKET,
            with(
                "lots",
                json!([{"number": 1, "title": "A"}, {"number": 1, "title": "B"}]),
            ),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(app.count("market").await, 0);
    assert_eq!(app.count("lot").await, 0);
    app.ok(
        CREATE_MARKET,
        with(
            "lots",
            json!([{"number": 1, "title": "A", "targetHours": "120:30"}]),
        ),
    )
    .await;
    let (code, _) = app.err(CREATE_MARKET, json!({"i": base})).await;
    assert_eq!(code, "CONFLICT", "same reference for the same buyer");
    assert_eq!(app.count("market").await, 1);
}

async fn calibration_proposal_and_override(app: &TestApp) {
    let d = app
        .ok("{ calibrationProposal(amountCents: 100000000, labourShareBp: 5000) { proposedHours insertionRateBp hourlyCostCents } }", json!({}))
        .await;
    assert_eq!(d["calibrationProposal"]["proposedHours"], 833.0);
    assert_eq!(d["calibrationProposal"]["hourlyCostCents"], 3000);
    let (code, field) = app
        .err(
            "{ calibrationProposal(amountCents: 1000, labourShareBp: 10001) { proposedHours } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("labourShareBp"))
    );

    let w = app.world().await;
    let q = "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { hoursTarget hoursTargetSource calibration { proposedHours labourShareBp insertionRateBp hourlyCostCents amountCents } } }";
    let d = app.ok(q, json!({"i": {"marketId": w.market, "labourShareBp": 7000, "insertionRateBp": 700, "hourlyCostCents": 2500}})).await;
    // 1 000 000 € × 70 % × 7 % ÷ 25 €/h = 1 960 h.
    assert_eq!(d["setMarketHourTarget"]["hoursTarget"], 1960.0);
    assert_eq!(d["setMarketHourTarget"]["hoursTargetSource"], "PROPOSAL");
    let d = app
        .ok(
            q,
            json!({"i": {"marketId": w.market, "labourShareBp": 5000, "overrideHours": "1000"}}),
        )
        .await;
    assert_eq!(d["setMarketHourTarget"]["hoursTarget"], 1000.0);
    assert_eq!(d["setMarketHourTarget"]["hoursTargetSource"], "OVERRIDE");
    assert_eq!(
        d["setMarketHourTarget"]["calibration"]["proposedHours"], 833.0,
        "the proposal stays visible"
    );
    let (_, field) = app
        .err(
            q,
            json!({"i": {"marketId": w.market, "labourShareBp": 5000, "overrideHours": "0"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("overrideHours"));
}

async fn market_life_cycle_guards_and_history(app: &TestApp) {
    let t = app.territory("974").await;
    let buyer = app.org("Ville", "BUYER", None, &t).await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    let d = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": buyer, "reference": "R", "title": "T", "clauseKind": "AWARD_CRITERION", "amountCents": 1,
                "startDate": "2026-01-01", "endDate": "2026-12-31", "lots": [{"number": 1, "title": "A"}]}}),
        )
        .await;
    let m = d["createMarket"]["id"].as_str().unwrap().to_string();
    let lot = d["createMarket"]["lots"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, field) = app
        .err(
            TRANSITION,
            json!({"i": {"marketId": m, "to": "IN_PROGRESS"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("to"))
    );
    app.ok(TRANSITION, json!({"i": {"marketId": m, "to": "PUBLISHED"}}))
        .await;
    let avail = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Market { availableTransitions } } }",
            json!({"id": m}),
        )
        .await;
    assert_eq!(
        avail["node"]["availableTransitions"],
        json!(["CANCELLED"]),
        "award hidden while a lot has no awardee"
    );
    let (_, field) = app
        .err(TRANSITION, json!({"i": {"marketId": m, "to": "AWARDED"}}))
        .await;
    assert_eq!(field.as_deref(), Some("to"));
    app.ok(
        "mutation($l: ID!, $a: ID!) { setLotAwardee(lotId: $l, awardeeId: $a) { awardee { name } } }",
        json!({"l": lot, "a": company}),
    )
    .await;
    app.ok(TRANSITION, json!({"i": {"marketId": m, "to": "AWARDED"}}))
        .await;
    let (code, _) = app
        .err(
            "mutation($i: AddLotInput!) { addLot(input: $i) { id } }",
            json!({"i": {"marketId": m, "lot": {"number": 2, "title": "B"}}}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": m, "to": "IN_PROGRESS"}}),
    )
    .await;
    // Closing needs every hour reviewed.
    let p = app.participant(&t, "Payet").await;
    let pl = app.placement(&p, &m, &lot, &company, "DIRECT_HIRE").await;
    let e = app.record_ok(&pl, "2026-03", "35").await;
    app.ok(TRANSITION, json!({"i": {"marketId": m, "to": "COMPLETED"}}))
        .await;
    let (_, field) = app
        .err(TRANSITION, json!({"i": {"marketId": m, "to": "CLOSED"}}))
        .await;
    assert_eq!(field.as_deref(), Some("to"));
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    app.ok(FINAL_REPORT, json!({"m": m})).await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": m, "to": "CLOSED", "reason": "bilan remis"}}),
    )
    .await;
    let (_, field) = app
        .err(
            TRANSITION,
            json!({"i": {"marketId": m, "to": "CANCELLED", "reason": "x"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("to"));
    let h = app.ok("query($id: ID!) { node(id: $id) { ... on Market { status history { from to reason } } } }", json!({"id": m})).await;
    let history = h["node"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(
        history[4],
        json!({"from": "COMPLETED", "to": "CLOSED", "reason": "bilan remis"})
    );
    assert_eq!(h["node"]["status"], "CLOSED");
}

const FINAL_REPORT: &str = "mutation($m: ID!) { produceMarketFinalReport(marketId: $m) { version current hoursDelivered hoursValidated hoursPending completionRate producedBy byKind { key hoursDelivered } } }";

/// DOMAIN.md section 3: closing needs the final report produced, and made from the ledger as it
/// is (a later recording or decision asks for a new version).
async fn close_needs_a_current_final_report(app: &TestApp) {
    let w = app.world().await;
    let e1 = app.record_ok(&w.placement, "2026-03", "35").await;
    // Not before the market is completed.
    let (code, _) = app.err(FINAL_REPORT, json!({"m": w.market})).await;
    assert_eq!(code, "CONFLICT");
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "COMPLETED"}}),
    )
    .await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e1]}})).await;
    let close = json!({"i": {"marketId": w.market, "to": "CLOSED"}});
    let refusal = |resp: serde_json::Value| {
        assert_eq!(resp["errors"][0]["extensions"]["field"], "to", "{resp}");
        resp["errors"][0]["message"].as_str().unwrap().to_string()
    };
    let msg = refusal(app.run(TRANSITION, close.clone()).await);
    assert!(
        msg.contains("rapport final") && msg.contains("produceMarketFinalReport"),
        "{msg}"
    );
    let r = app.ok(FINAL_REPORT, json!({"m": w.market})).await["produceMarketFinalReport"].clone();
    assert_eq!(r["version"], 1);
    assert_eq!(r["hoursDelivered"], 35.0);
    assert_eq!(r["producedBy"], "system");
    // A late correction (a new ledger entry, validated): the report no longer says what is.
    app.ok(
        "mutation($i: CorrectHoursInput!) { correctHours(input: $i) { id } }",
        json!({"i": {"entryId": e1, "hours": "30", "reason": "double saisie"}}),
    )
    .await;
    let pending: Vec<String> = app
        .ok(
            "query($m: ID!) { node(id: $m) { ... on Market { hourEntries { edges { node { id status } } } } } }",
            json!({"m": w.market}),
        )
        .await["node"]["hourEntries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["status"] == "DECLARED")
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    if !pending.is_empty() {
        app.ok(VALIDATE, json!({"i": {"entryIds": pending}})).await;
    }
    let seen = app
        .ok(
            "query($m: ID!) { node(id: $m) { ... on Market { finalReport { version current hoursDelivered } } } }",
            json!({"m": w.market}),
        )
        .await;
    assert_eq!(
        seen["node"]["finalReport"],
        json!({"version": 1, "current": false, "hoursDelivered": 35.0})
    );
    let msg = refusal(app.run(TRANSITION, close.clone()).await);
    assert!(msg.contains("version 1"), "{msg}");
    assert_eq!(
        app.count("status_change WHERE to_status = 'CLOSED'").await,
        0
    );
    let r = app.ok(FINAL_REPORT, json!({"m": w.market})).await["produceMarketFinalReport"].clone();
    assert_eq!(
        (r["version"].clone(), r["current"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(r["hoursDelivered"], 30.0);
    app.ok(TRANSITION, close).await;
    // The close names the report it rests on.
    assert_eq!(
        app.count(
            "audit_event WHERE action = 'transition' AND after LIKE '%\"finalReportVersion\":2%'"
        )
        .await,
        1
    );
    assert_eq!(app.count("market_final_report").await, 2);
}

async fn placement_rules(app: &TestApp) {
    let w = app.world().await;
    let p = app.participant(&w.territory, "Grondin").await;
    let base = json!({"participantId": p, "marketId": w.market, "lotId": w.lot, "modality": "DIRECT_HIRE",
        "employerId": w.company, "contractType": "CDD", "startDate": "2026-03-01", "endDate": "2026-09-30", "weeklyHours": "35"});
    let with = |k: &str, v: serde_json::Value| {
        let mut i = base.clone();
        i[k] = v;
        json!({"i": i})
    };
    for (vars, field) in [
        (with("endDate", json!("2026-02-28")), "endDate"),
        (with("weeklyHours", json!("0")), "weeklyHours"),
        (with("weeklyHours", json!("48:01")), "weeklyHours"),
        (with("modality", json!("SUBCONTRACTING")), "employerId"),
        (with("employerId", json!(w.buyer)), "employerId"),
        (
            json!({"i": {"participantId": p, "marketId": w.market, "modality": "DIRECT_HIRE", "employerId": w.company,
            "contractType": "CDD", "startDate": "2028-01-01", "weeklyHours": "35"}}),
            "startDate",
        ),
        (with("lotId", json!(w.market)), "lotId"),
    ] {
        let (code, f) = app.err(CREATE_PLACEMENT, vars.clone()).await;
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field)),
            "{vars}"
        );
    }
    app.ok(CREATE_PLACEMENT, with("weeklyHours", json!("48")))
        .await;
    // Others: the first already works 48 hours a week.
    let p2 = app.participant(&w.territory, "Hoarau").await;
    let p3 = app.participant(&w.territory, "Técher").await;
    app.ok(CREATE_PLACEMENT, json!({"i": {"participantId": p2, "marketId": w.market, "modality": "SUBCONTRACTING",
        "employerId": w.aci, "contractType": "CDD", "startDate": "2026-03-01", "weeklyHours": "26"}})).await;
    app.ok(CREATE_PLACEMENT, json!({"i": {"participantId": p3, "marketId": w.market, "modality": "MADE_AVAILABLE",
        "employerId": w.etti, "contractType": "INSERTION_INTERIM", "startDate": "2026-03-01", "weeklyHours": "20"}})).await;
    // A cancelled market takes nobody.
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "CANCELLED", "reason": "abandon du projet"}}),
    )
    .await;
    let (code, _) = app
        .err(CREATE_PLACEMENT, with("weeklyHours", json!("20")))
        .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(app.count("placement").await, 4);
}

async fn filters_and_search(app: &TestApp) {
    let t = app.territory("974").await;
    let b1 = app.org("Ville A", "BUYER", None, &t).await;
    let b2 = app.org("Ville B", "BUYER", None, &t).await;
    let mk = |buyer: &str, reference: &str, title: &str, kind: &str| {
        json!({"i": {"buyerId": buyer, "reference": reference, "title": title, "clauseKind": kind,
            "amountCents": 100, "startDate": "2026-01-01", "endDate": "2026-12-31"}})
    };
    app.ok(
        CREATE_MARKET,
        mk(&b1, "EV-2026-01", "Espaces verts", "AWARD_CRITERION"),
    )
    .await;
    app.ok(
        CREATE_MARKET,
        mk(
            &b1,
            "BAT-100%",
            "Réhabilitation École",
            "EXECUTION_CONDITION",
        ),
    )
    .await;
    let d = app
        .ok(
            CREATE_MARKET,
            mk(&b2, "NET_07", "Nettoyage GUP", "RESERVED_SIAE"),
        )
        .await;
    let m3 = d["createMarket"]["id"].as_str().unwrap();
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": m3, "to": "PUBLISHED"}}),
    )
    .await;
    let refs = |filter: serde_json::Value| async move {
        let d = app
            .ok(
                "query($f: MarketFilter) { markets(filter: $f) { edges { node { reference } } } }",
                json!({"f": filter}),
            )
            .await;
        d["markets"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["reference"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        refs(json!({"buyerId": b1})).await,
        ["EV-2026-01", "BAT-100%"]
    );
    assert_eq!(refs(json!({"status": "PUBLISHED"})).await, ["NET_07"]);
    assert_eq!(
        refs(json!({"clauseKind": "AWARD_CRITERION"})).await,
        ["EV-2026-01"]
    );
    assert_eq!(
        refs(json!({"territoryId": t, "search": "espaces"})).await,
        ["EV-2026-01"]
    );
    // Case and accents are ignored the same way on both stores.
    for search in ["école", "ÉCOLE", "ecole", "rehabilitation ecole"] {
        assert_eq!(
            refs(json!({"search": search})).await,
            ["BAT-100%"],
            "{search}"
        );
    }
    // % and _ are literal characters, not wildcards.
    assert_eq!(refs(json!({"search": "%"})).await, ["BAT-100%"]);
    assert_eq!(refs(json!({"search": "_"})).await, ["NET_07"]);
    assert_eq!(
        refs(json!({"search": "net_07", "buyerId": b1})).await.len(),
        0
    );
    let (_, field) = app
        .err(
            "{ markets(filter: {buyerId: \"zz\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("filter.buyerId"));
}

async fn pagination_is_keyset_and_capped(app: &TestApp) {
    let t = app.territory("974").await;
    for i in 0..5 {
        app.org(&format!("Org {i}"), "COMPANY", None, &t).await;
    }
    let q = "query($a: String, $f: Int) { organizations(first: $f, after: $a) { pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { name } } } }";
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let d = app.ok(q, json!({"a": after, "f": 2})).await;
        let c = &d["organizations"];
        for e in c["edges"].as_array().unwrap() {
            names.push(e["node"]["name"].as_str().unwrap().to_string());
        }
        pages += 1;
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(c["pageInfo"]["endCursor"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["Org 0", "Org 1", "Org 2", "Org 3", "Org 4"]);
    let (code, field) = app.err(q, json!({"f": 101})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("first"))
    );
    app.ok(q, json!({"f": 100})).await;
    let (_, field) = app.err(q, json!({"f": -1})).await;
    assert_eq!(field.as_deref(), Some("first"));
    let (_, field) = app.err(q, json!({"a": "not a cursor!"})).await;
    assert_eq!(field.as_deref(), Some("after"));
}

async fn participant_input_is_checked(app: &TestApp) {
    let t = app.territory("974").await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    let base = json!({"territoryId": t, "firstName": "Anli", "lastName": "Madi", "birthDate": "1998-03-12",
        "sex": "MALE", "educationLevel": "BELOW_LEVEL_3", "qpvResident": true});
    let with = |k: &str, v: serde_json::Value| {
        let mut i = base.clone();
        i[k] = v;
        json!({"i": i})
    };
    for (vars, field) in [
        (with("firstName", json!("")), "firstName"),
        (with("lastName", json!(" ")), "lastName"),
        (with("birthDate", json!("2020-01-01")), "birthDate"),
        (with("birthDate", json!("1900-01-01")), "birthDate"),
        (
            with("unemployedSince", json!("2027-01-01")),
            "unemployedSince",
        ),
        (with("prescriberId", json!(company)), "prescriberId"),
    ] {
        let (code, f) = app.err(CREATE_PARTICIPANT, vars.clone()).await;
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field)),
            "{vars}"
        );
    }
    assert_eq!(app.count("participant").await, 0);
    let d = app
        .ok(
            "mutation($i: CreateParticipantInput!) { createParticipant(input: $i) { qpvResident identity { publics } } }",
            with("publics", json!(["RSA", "AAH", "RSA"])),
        )
        .await;
    assert_eq!(
        d["createParticipant"]["identity"]["publics"],
        json!(["RSA", "AAH"])
    );
}
