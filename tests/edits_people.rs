//! Issue 20, people: rectifying a participant (RGPD art. 16), correcting a placement's contract
//! (every contract rule again, under the person's lock), withdrawing an eligibility decision,
//! and deleting a participant or a placement entered by mistake.

mod common;

use std::sync::Arc;

use async_graphql::Request;
use common::*;
use passerelle::domain::auth::Role;
use serde_json::{Value, json};
use tokio::sync::Barrier;

db_tests!(
    update_placement_weekly_cap_at_its_boundary,
    update_placement_version_conflict_names_who,
    update_placement_dates_keep_recorded_hours,
    update_placement_refused_by_its_state,
    update_placement_keeps_its_immersions_inside,
    update_placement_cddi_rules_and_withdrawn_eligibility,
    update_placement_out_of_scope_changes_nothing,
    two_updates_at_once_keep_the_weekly_cap,
    rectify_participant_rechecks_and_keeps_no_values,
    rectify_participant_boundaries_and_refusals,
    withdraw_eligibility_once_with_reason,
    the_store_allows_a_withdrawal_and_nothing_else,
    rectify_participant_rechecks_running_cddi,
    delete_participant_only_while_nothing_depends,
    delete_placement_only_while_nothing_depends,
);

const UPDATE: &str = "mutation($i: UpdatePlacementInput!) { updatePlacement(input: $i) { id version weeklyHours startDate endDate contractType derogation employer { id } } }";
const DELETE_PLACEMENT: &str =
    "mutation($id: ID!, $v: Int!) { deletePlacement(id: $id, version: $v) }";
const DELETE_PARTICIPANT: &str =
    "mutation($id: ID!, $v: Int!) { deleteParticipant(id: $id, version: $v) }";
const RECTIFY: &str = "mutation($i: RectifyParticipantInput!) { rectifyParticipant(input: $i) { id version identity { firstName lastName birthDate publics } unemployedSince qpvResident } }";
const WITHDRAW: &str = "mutation($id: ID!, $v: Int!, $r: String!) { withdrawEligibility(id: $id, version: $v, reason: $r) { id version withdrawnAt withdrawnBy withdrawalReason } }";
const ELIGIBILITY: &str = "mutation($i: RecordEligibilityInput!) { recordEligibility(input: $i) { id version validUntil } }";
const PLACEMENT: &str = "query($id: ID!) { node(id: $id) { ... on Placement { version weeklyHours startDate endDate contractType } } }";
const PERSON: &str = "query($id: ID!) { node(id: $id) { ... on Participant { version identity { firstName lastName birthDate publics } } } }";

fn id(v: &Value, field: &str) -> String {
    v[field]["id"].as_str().unwrap().to_string()
}

async fn placement_state(app: &TestApp, id: &str) -> Value {
    app.ok(PLACEMENT, json!({"id": id})).await["node"].clone()
}

async fn version_of(app: &TestApp, id: &str) -> i64 {
    app.ok(
        "query($id: ID!) { node(id: $id) { ... on Placement { version } ... on Participant { version } } }",
        json!({"id": id}),
    )
    .await["node"]["version"]
        .as_i64()
        .unwrap()
}

/// The message of the first error.
fn message(v: &Value) -> String {
    v["errors"][0]["message"].as_str().unwrap_or("").to_string()
}

/// A second placement of `person` on a second market, `weekly` hours over 2026.
async fn second_placement(app: &TestApp, w: &World, person: &str, weekly: &str, r: &str) -> String {
    let (market, lot) = app
        .market_in_progress(&w.buyer, &format!("LP-2026-{r}"), &w.company)
        .await;
    id(
        &app.ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": person, "marketId": market, "lotId": lot,
                "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CDD",
                "startDate": "2026-02-01", "endDate": "2026-12-31", "weeklyHours": weekly}}),
        )
        .await,
        "createPlacement",
    )
}

async fn update_placement_weekly_cap_at_its_boundary(app: &TestApp) {
    let w = app.world().await;
    // 26 h on the first placement, 20 h on a second: 46 h a week.
    let second = second_placement(app, &w, &w.participant, "20", "101").await;
    let upd = |weekly: &str, v: i64| json!({"i": {"placementId": second, "version": v, "weeklyHours": weekly}});
    // 22 h: 48 h together, at the cap.
    let ok = app.ok(UPDATE, upd("22", 1)).await;
    assert_eq!(ok["updatePlacement"]["weeklyHours"], 22.0);
    assert_eq!(ok["updatePlacement"]["version"], 2);
    // One minute more: over it, named on weeklyHours, nothing written.
    let (field, rule, _, _) = app.breach(UPDATE, upd("22:01", 2)).await;
    assert_eq!(field, "weeklyHours");
    assert!(rule.contains("WEEKLY"), "{rule}");
    let state = placement_state(app, &second).await;
    assert_eq!(
        (state["weeklyHours"].clone(), state["version"].clone()),
        (json!(22.0), json!(2))
    );
    // Back under it: 21:59.
    let ok = app.ok(UPDATE, upd("21:59", 2)).await;
    assert_eq!(ok["updatePlacement"]["version"], 3);
    // A placement alone: 0 and over 48 h are bad input on weeklyHours.
    for bad in ["0", "48:01", "douze"] {
        let (code, field) = app.err(UPDATE, upd(bad, 3)).await;
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("BAD_USER_INPUT", Some("weeklyHours")),
            "{bad}"
        );
    }
    assert_eq!(version_of(app, &second).await, 3);
}

async fn update_placement_version_conflict_names_who(app: &TestApp) {
    let w = app.world().await;
    let read = placement_state(app, &w.placement).await["version"]
        .as_i64()
        .unwrap();
    let ok = app
        .ok(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": read, "weeklyHours": "30"}}),
        )
        .await;
    assert_eq!(ok["updatePlacement"]["version"].as_i64(), Some(read + 1));
    let resp = app
        .run(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": read, "weeklyHours": "20"}}),
        )
        .await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(ext["code"], "CONFLICT", "{resp:#}");
    assert_eq!(ext["field"], "version");
    assert!(
        ext["changedBy"].as_str().is_some_and(|s| !s.is_empty()),
        "{resp:#}"
    );
    assert_eq!(ext["currentVersion"].as_i64(), Some(read + 1));
    assert_eq!(
        placement_state(app, &w.placement).await["weeklyHours"],
        30.0
    );
}

async fn update_placement_dates_keep_recorded_hours(app: &TestApp) {
    let w = app.world().await;
    app.record_ok(&w.placement, "2026-02", "80").await;
    app.record_ok(&w.placement, "2026-05", "80").await;
    let upd = |v: i64, start: Value, end: Value| {
        let mut i = json!({"placementId": w.placement, "version": v});
        if !start.is_null() {
            i["startDate"] = start;
        }
        if !end.is_null() {
            i["endDate"] = end;
        }
        json!({"i": i})
    };
    // February's hours stand before a start on 1 March: refused, the month named.
    let resp = app
        .run(UPDATE, upd(1, json!("2026-03-01"), Value::Null))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "startDate",
        "{resp:#}"
    );
    assert!(message(&resp).contains("2026-02"), "{resp:#}");
    // A start on 28 February keeps February inside: accepted.
    let ok = app
        .ok(UPDATE, upd(1, json!("2026-02-28"), Value::Null))
        .await;
    assert_eq!(ok["updatePlacement"]["startDate"], "2026-02-28");
    // May's hours stand after an end on 30 April.
    let resp = app
        .run(UPDATE, upd(2, Value::Null, json!("2026-04-30")))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "endDate",
        "{resp:#}"
    );
    assert!(
        message(&resp).contains("2026-05") && !message(&resp).contains("2026-02"),
        "{resp:#}"
    );
    // An end on 1 May keeps May.
    app.ok(UPDATE, upd(2, Value::Null, json!("2026-05-01")))
        .await;
    // End before start.
    let (code, field) = app
        .err(UPDATE, upd(3, Value::Null, json!("2026-02-27")))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("endDate"))
    );
    // Open-ended (null clears the end).
    let ok = app.ok(UPDATE, upd(3, Value::Null, Value::Null)).await;
    assert_eq!(
        ok["updatePlacement"]["endDate"], "2026-05-01",
        "absent leaves it"
    );
    let ok = app
        .ok(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 4, "endDate": null}}),
        )
        .await;
    assert_eq!(
        ok["updatePlacement"]["endDate"],
        Value::Null,
        "null clears it"
    );
    // A start after the market's end (31 December 2027) is refused.
    let (_, field) = app
        .err(UPDATE, upd(5, json!("2028-01-01"), Value::Null))
        .await;
    assert_eq!(field.as_deref(), Some("startDate"));
}

async fn update_placement_refused_by_its_state(app: &TestApp) {
    let w = app.world().await;
    // An employer that cannot carry the modality, a buyer as employer: refused on employerId.
    let (code, field) = app
        .err(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 1, "employerId": w.buyer}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("employerId"))
    );
    // The ETTI may hire directly: accepted, the employer changes.
    let ok = app
        .ok(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 1, "employerId": w.etti}}),
        )
        .await;
    assert_eq!(ok["updatePlacement"]["employer"]["id"], json!(w.etti));
    // An ended placement (with its exit) is not corrected: the state is named.
    app.ok(
        "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome } }",
        json!({"i": {"placementId": w.placement, "exitDate": "2026-10-31", "outcome": "CDI"}}),
    )
    .await;
    let v = version_of(app, &w.placement).await;
    let resp = app
        .run(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": v, "weeklyHours": "20"}}),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "CONFLICT",
        "{resp:#}"
    );
    assert!(message(&resp).contains("ENDED"), "{resp:#}");
    // A placement on a cancelled market: the market's state is named.
    let person = app.participant(&w.territory, "Payet").await;
    let (market, lot) = app
        .market_in_progress(&w.buyer, "LP-2026-201", &w.company)
        .await;
    let pl = app
        .placement(&person, &market, &lot, &w.company, "DIRECT_HIRE")
        .await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": market, "to": "CANCELLED", "reason": "infructueux"}}),
    )
    .await;
    let resp = app
        .run(
            UPDATE,
            json!({"i": {"placementId": pl, "version": 1, "weeklyHours": "20"}}),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "CONFLICT",
        "{resp:#}"
    );
    assert!(message(&resp).contains("CANCELLED"), "{resp:#}");
    assert_eq!(placement_state(app, &pl).await["weeklyHours"], 26.0);
}

/// An IAE decision by the ACI's own diagnostic (valid 92 days from `checked`).
async fn eligible(app: &TestApp, w: &World, person: &str, checked: &str, proof: &str) -> Value {
    let proofs: Vec<Value> = ["YOUNG_UNDER_26", "QPV_RESIDENT", "LOW_QUALIFICATION"]
        .iter()
        .map(|c| json!({"criterion": c, "proofKind": "SWORN_STATEMENT", "proofDate": proof}))
        .collect();
    app.ok(
        ELIGIBILITY,
        json!({"i": {"participantId": person, "scheme": "IAE", "attesterKind": "EMPLOYER",
            "attesterId": w.aci, "structureKind": "ACI", "checkedOn": checked, "proofs": proofs}}),
    )
    .await["recordEligibility"]
        .clone()
}

async fn update_placement_cddi_rules_and_withdrawn_eligibility(app: &TestApp) {
    let w = app.world().await;
    let (market, lot) = app
        .market_in_progress(&w.buyer, "LP-2026-301", &w.aci)
        .await;
    let young = app.participant(&w.territory, "Grondin").await;
    let decision = eligible(app, &w, &young, "2026-11-01", "2026-10-20").await;
    let pl = id(
        &app.ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": young, "marketId": market, "lotId": lot,
                "modality": "DIRECT_HIRE", "employerId": w.aci, "contractType": "CDD",
                "startDate": "2026-12-01", "endDate": "2027-05-31", "weeklyHours": "26"}}),
        )
        .await,
        "createPlacement",
    );
    // Into a CDDI: a company cannot carry one.
    let (_, field) = app
        .err(UPDATE, json!({"i": {"placementId": pl, "version": 1, "contractType": "CDDI", "employerId": w.company}}))
        .await;
    assert_eq!(field.as_deref(), Some("contractType"));
    // With the ACI: weekly hours 20 to 35 for a CDDI.
    let (field, rule, _, _) = app
        .breach(UPDATE, json!({"i": {"placementId": pl, "version": 1, "contractType": "CDDI", "weeklyHours": "35:01"}}))
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("weeklyHours", "CDDI_MAX_WEEKLY_HOURS")
    );
    let ok = app
        .ok(UPDATE, json!({"i": {"placementId": pl, "version": 1, "contractType": "CDDI", "weeklyHours": "35"}}))
        .await;
    assert_eq!(ok["updatePlacement"]["contractType"], "CDDI");
    // 24 months at most: 30 November 2028 is the last day, 1 December one too many.
    app.ok(
        UPDATE,
        json!({"i": {"placementId": pl, "version": 2, "endDate": "2028-11-30"}}),
    )
    .await;
    let (field, rule, _, _) = app
        .breach(
            UPDATE,
            json!({"i": {"placementId": pl, "version": 3, "endDate": "2028-12-01"}}),
        )
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("endDate", "CDDI_MAX_MONTHS")
    );
    // Four months at least: 1 December – 31 March.
    let (_, rule, _, _) = app
        .breach(
            UPDATE,
            json!({"i": {"placementId": pl, "version": 3, "endDate": "2027-03-30"}}),
        )
        .await;
    assert_eq!(rule, "CDDI_MIN_MONTHS");
    // The decision withdrawn, it no longer counts: the CDDI cannot be corrected any more.
    let resp = app
        .ok(WITHDRAW, json!({"id": decision["id"], "v": decision["version"], "r": "Diagnostic saisi sur la mauvaise personne"}))
        .await;
    assert!(resp["withdrawEligibility"]["withdrawnAt"].is_string());
    let (_, field) = app
        .err(
            UPDATE,
            json!({"i": {"placementId": pl, "version": 3, "weeklyHours": "30"}}),
        )
        .await;
    assert_eq!(
        field.as_deref(),
        Some("participantId"),
        "no IAE eligibility once withdrawn"
    );
    assert_eq!(placement_state(app, &pl).await["weeklyHours"], 35.0);
}

async fn update_placement_out_of_scope_changes_nothing(app: &TestApp) {
    let w = app.world().await;
    let elsewhere = app.territory("976-AUTRE").await;
    let stranger = app
        .user("autre@example.org", Role::Facilitator, None, &[&elsewhere])
        .await;
    let company = app
        .user("btp@example.org", Role::Company, Some(&w.company), &[])
        .await;
    let vars = json!({"i": {"placementId": w.placement, "version": 1, "weeklyHours": "30"}});
    for caller in [Some(stranger.clone()), Some(company.clone()), None] {
        let resp = app.run_as(caller, UPDATE, vars.clone()).await;
        let code = resp["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        assert!(
            matches!(code, "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED"),
            "{resp:#}"
        );
    }
    for caller in [Some(stranger), Some(company), None] {
        let resp = app
            .run_as(caller, DELETE_PLACEMENT, json!({"id": w.placement, "v": 1}))
            .await;
        assert!(
            resp["errors"][0]["extensions"]["code"].is_string(),
            "{resp:#}"
        );
    }
    let state = placement_state(app, &w.placement).await;
    assert_eq!(
        (state["weeklyHours"].clone(), state["version"].clone()),
        (json!(26.0), json!(1))
    );
}

const ROUNDS: usize = 20;

/// Runs two requests at once (released together by a barrier).
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

/// Two placements of one person, 20 h each; both raised to 26 h at once: each alone fits
/// 48 h a week (46), together not (52). The person's lock lets exactly one through.
async fn two_updates_at_once_keep_the_weekly_cap(app: &TestApp) {
    let w = app.world().await;
    let (other, other_lot) = app
        .market_in_progress(&w.buyer, "LP-2026-401", &w.company)
        .await;
    let mut broken = 0;
    for round in 0..ROUNDS {
        let person = app.participant(&w.territory, &format!("Cap{round}")).await;
        let on = |market: &str, lot: &str| {
            let (p, m, l) = (person.clone(), market.to_string(), lot.to_string());
            let (company,) = (w.company.clone(),);
            async move {
                id(
                    &app.ok(
                        CREATE_PLACEMENT,
                        json!({"i": {"participantId": p, "marketId": m, "lotId": l,
                            "modality": "DIRECT_HIRE", "employerId": company, "contractType": "CDD",
                            "startDate": "2026-03-01", "endDate": "2026-09-30", "weeklyHours": "20"}}),
                    )
                    .await,
                    "createPlacement",
                )
            }
        };
        let a = on(&w.market, &w.lot).await;
        let b = on(&other, &other_lot).await;
        let raise = |pl: &str| {
            app.request(
                UPDATE,
                json!({"i": {"placementId": pl, "version": 1, "weeklyHours": "26"}}),
            )
        };
        let (ra, rb) = race(app, raise(&a), raise(&b)).await;
        let failed = |v: &Value| v.get("errors").is_some();
        match (failed(&ra), failed(&rb)) {
            (false, false) => broken += 1,
            (true, true) => panic!("both refused: {ra:#} {rb:#}"),
            _ => {
                let e = if failed(&ra) { &ra } else { &rb };
                assert_eq!(
                    e["errors"][0]["extensions"]["field"], "weeklyHours",
                    "{e:#}"
                );
            }
        }
        let total = placement_state(app, &a).await["weeklyHours"]
            .as_f64()
            .unwrap()
            + placement_state(app, &b).await["weeklyHours"]
                .as_f64()
                .unwrap();
        assert_eq!(total, 46.0, "one raised, the other not");
    }
    assert_eq!(
        broken, 0,
        "{broken} of {ROUNDS} rounds gave one person 52 h a week"
    );
}

async fn rectify_participant_rechecks_and_keeps_no_values(app: &TestApp) {
    let w = app.world().await;
    let reason = "Demande de l'intéressée (courrier du 20/11), erreur de saisie";
    let ok = app
        .ok(
            RECTIFY,
            json!({"i": {"participantId": w.participant, "version": 1, "reason": reason,
                "firstName": "Marie-Josée", "lastName": "Hoareau", "birthDate": "1991-06-02",
                "publics": ["RSA", "ASS"], "unemployedSince": "2025-01-15", "qpvResident": false}}),
        )
        .await["rectifyParticipant"]
        .clone();
    assert_eq!(ok["version"], 2);
    assert_eq!(ok["identity"]["lastName"], "Hoareau");
    assert_eq!(ok["identity"]["birthDate"], "1991-06-02");
    let publics = ok["identity"]["publics"].as_array().unwrap();
    assert!(
        publics.len() == 2 && publics.contains(&json!("ASS")) && publics.contains(&json!("RSA")),
        "{ok}"
    );
    assert_eq!(ok["unemployedSince"], "2025-01-15");
    assert_eq!(ok["qpvResident"], false);
    // The search follows the new name, not the old one.
    let search = |term: &str| {
        app.ok(
            "query($s: String!) { participants(filter: {search: $s}) { nodes { id } } }",
            json!({"s": term}),
        )
    };
    let found = search("hoareau").await;
    assert_eq!(
        found["participants"]["nodes"][0]["id"],
        json!(w.participant),
        "{found}"
    );
    let stale = search("marie hoarau").await;
    assert!(
        stale["participants"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{stale}"
    );
    // The trail keeps the reason and the names of the fields, never a value, old or new.
    let trail = app
        .ok(
            "query($o: ID!) { auditEvents(filter: {objectId: $o}) { nodes { action before after } } }",
            json!({"o": w.participant}),
        )
        .await;
    let events = trail["auditEvents"]["nodes"].as_array().unwrap();
    let ev = events
        .iter()
        .find(|e| e["action"] == "rectifyParticipant")
        .unwrap_or_else(|| panic!("{trail}"));
    let text = format!("{} {}", ev["before"], ev["after"]);
    assert!(
        text.contains("Demande de l")
            && text.contains("lastName")
            && text.contains("birthDate")
            && text.contains("publics"),
        "{text}"
    );
    for value in [
        "Hoarau",
        "Hoareau",
        "Marie",
        "1990-05-01",
        "1991-06-02",
        "RSA",
        "ASS",
        "2025-01-15",
    ] {
        assert!(
            !text.contains(value),
            "{value} copied into the trail: {text}"
        );
    }
    // Only what changed is named.
    assert!(
        !text.contains("sex") && !text.contains("educationLevel"),
        "{text}"
    );
}

async fn rectify_participant_boundaries_and_refusals(app: &TestApp) {
    let w = app.world().await;
    let p = &w.participant;
    let rectify = |v: i64, extra: Value| {
        let mut i = json!({"participantId": p, "version": v, "reason": "Erreur de saisie"});
        for (k, val) in extra.as_object().unwrap() {
            i[k] = val.clone();
        }
        json!({"i": i})
    };
    // Today is 22 November 2026 in the territory: 14 years old today is the youngest.
    let (code, field) = app
        .err(RECTIFY, rectify(1, json!({"birthDate": "2012-11-23"})))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("birthDate"))
    );
    app.ok(RECTIFY, rectify(1, json!({"birthDate": "2012-11-22"})))
        .await;
    // 99 is the oldest; 100 refused.
    let (_, field) = app
        .err(RECTIFY, rectify(2, json!({"birthDate": "1926-11-22"})))
        .await;
    assert_eq!(field.as_deref(), Some("birthDate"));
    app.ok(RECTIFY, rectify(2, json!({"birthDate": "1927-11-23"})))
        .await;
    // Jobseeker since: not tomorrow, today yes; null clears it.
    let (_, field) = app
        .err(
            RECTIFY,
            rectify(3, json!({"unemployedSince": "2026-11-23"})),
        )
        .await;
    assert_eq!(field.as_deref(), Some("unemployedSince"));
    app.ok(
        RECTIFY,
        rectify(3, json!({"unemployedSince": "2026-11-22"})),
    )
    .await;
    let cleared = app
        .ok(RECTIFY, rectify(4, json!({"unemployedSince": null})))
        .await;
    assert_eq!(
        cleared["rectifyParticipant"]["unemployedSince"],
        Value::Null
    );
    // The reason: required, 300 characters at most.
    for (reason, ok) in [
        ("", false),
        ("   ", false),
        (&"x".repeat(301)[..], false),
        (&"x".repeat(300)[..], true),
    ] {
        let vars = json!({"i": {"participantId": p, "version": 5, "reason": reason, "lastName": format!("N{}", reason.len())}});
        if ok {
            app.ok(RECTIFY, vars).await;
        } else {
            let (code, field) = app.err(RECTIFY, vars).await;
            assert_eq!(
                (code.as_str(), field.as_deref()),
                ("BAD_USER_INPUT", Some("reason")),
                "{}",
                reason.len()
            );
        }
    }
    // A blank name, a prescriber that is not one: refused, nothing written.
    let (_, field) = app.err(RECTIFY, rectify(6, json!({"lastName": " "}))).await;
    assert_eq!(field.as_deref(), Some("lastName"));
    let (_, field) = app
        .err(RECTIFY, rectify(6, json!({"prescriberId": w.company})))
        .await;
    assert_eq!(field.as_deref(), Some("prescriberId"));
    // Nothing to change is refused too.
    let (code, _) = app
        .err(RECTIFY, rectify(6, json!({"lastName": "N300"})))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(version_of(app, p).await, 6);
    // The version read: an old one is a CONFLICT naming who changed it.
    let resp = app
        .run(RECTIFY, rectify(5, json!({"lastName": "Técher"})))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp:#}"
    );
    assert!(resp["errors"][0]["extensions"]["changedBy"].is_string());
    // Other territory, a company, nobody: refused, nothing changes.
    let elsewhere = app.territory("976-AUTRE").await;
    let stranger = app
        .user("autre@example.org", Role::Facilitator, None, &[&elsewhere])
        .await;
    let company = app
        .user("btp@example.org", Role::Company, Some(&w.company), &[])
        .await;
    for caller in [Some(stranger), Some(company), None] {
        let resp = app
            .run_as(caller, RECTIFY, rectify(6, json!({"lastName": "Técher"})))
            .await;
        assert!(
            resp["errors"][0]["extensions"]["code"].is_string(),
            "{resp:#}"
        );
    }
    let person = app.ok(PERSON, json!({"id": p})).await;
    assert_eq!(person["node"]["identity"]["lastName"], "N300");
    // An anonymized person has no identity left to rectify.
    app.ok(
        "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { id } }",
        json!({"p": p}),
    )
    .await;
    let v = version_of(app, p).await;
    let resp = app
        .run(RECTIFY, rectify(v, json!({"lastName": "Técher"})))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "CONFLICT",
        "{resp:#}"
    );
    assert!(message(&resp).contains("anonymisé"), "{resp:#}");
}

async fn withdraw_eligibility_once_with_reason(app: &TestApp) {
    let w = app.world().await;
    let young = app.participant(&w.territory, "Grondin").await;
    let d = eligible(app, &w, &young, "2026-11-01", "2026-10-20").await;
    let (did, v) = (d["id"].clone(), d["version"].as_i64().unwrap());
    // A reason is required.
    let (code, field) = app
        .err(WITHDRAW, json!({"id": did, "v": v, "r": "  "}))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("reason"))
    );
    // Other territory, a company, nobody: refused.
    let elsewhere = app.territory("976-AUTRE").await;
    let stranger = app
        .user("autre@example.org", Role::Facilitator, None, &[&elsewhere])
        .await;
    let company = app
        .user("btp@example.org", Role::Company, Some(&w.company), &[])
        .await;
    for caller in [Some(stranger), Some(company), None] {
        let resp = app
            .run_as(caller, WITHDRAW, json!({"id": did, "v": v, "r": "erreur"}))
            .await;
        assert!(
            resp["errors"][0]["extensions"]["code"].is_string(),
            "{resp:#}"
        );
    }
    let done = app
        .ok(
            WITHDRAW,
            json!({"id": did, "v": v, "r": "Justificatif d'une autre personne"}),
        )
        .await["withdrawEligibility"]
        .clone();
    assert_eq!(done["version"].as_i64(), Some(v + 1));
    assert_eq!(
        done["withdrawalReason"],
        "Justificatif d'une autre personne"
    );
    assert!(done["withdrawnBy"].as_str().is_some_and(|s| !s.is_empty()));
    // The old version: CONFLICT on version; the new one: CONFLICT, already withdrawn.
    let resp = app
        .run(WITHDRAW, json!({"id": did, "v": v, "r": "encore"}))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp:#}"
    );
    let resp = app
        .run(WITHDRAW, json!({"id": did, "v": v + 1, "r": "encore"}))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "CONFLICT",
        "{resp:#}"
    );
    assert!(message(&resp).contains("déjà"), "{resp:#}");
    // It no longer counts: no PASS IAE, no CDDI on it.
    let (_, field) = app
        .err(
            "mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id } }",
            json!({"i": {"participantId": young, "startDate": "2026-11-15"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("startDate"));
    // Shown on the decision, in the person's file.
    let file = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Participant { eligibilities { id withdrawnAt withdrawalReason } } } }",
            json!({"id": young}),
        )
        .await;
    assert_eq!(
        file["node"]["eligibilities"][0]["withdrawalReason"],
        "Justificatif d'une autre personne"
    );
    // A new decision counts again.
    eligible(app, &w, &young, "2026-11-10", "2026-11-05").await;
    app.ok(
        "mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id } }",
        json!({"i": {"participantId": young, "startDate": "2026-11-15"}}),
    )
    .await;
    app.ok(
        "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { id } }",
        json!({"p": young}),
    )
    .await;
    let file = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Participant { eligibilities { id withdrawnAt withdrawalReason } } } }",
            json!({"id": young}),
        )
        .await;
    let withdrawn = file["node"]["eligibilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == did)
        .unwrap_or_else(|| panic!("{file}"))
        .clone();
    assert!(withdrawn["withdrawnAt"].is_string(), "{file}");
    assert_eq!(withdrawn["withdrawalReason"], Value::Null, "{file}");
}

async fn delete_participant_only_while_nothing_depends(app: &TestApp) {
    let w = app.world().await;
    // With a placement: refused, what depends named.
    let resp = app
        .run(DELETE_PARTICIPANT, json!({"id": w.participant, "v": 1}))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "CONFLICT",
        "{resp:#}"
    );
    assert!(
        message(&resp).contains("1 mise(s) en situation"),
        "{resp:#}"
    );
    // With an eligibility decision only: refused, named.
    let decided = app.participant(&w.territory, "Grondin").await;
    eligible(app, &w, &decided, "2026-11-01", "2026-10-20").await;
    let resp = app
        .run(DELETE_PARTICIPANT, json!({"id": decided, "v": 1}))
        .await;
    assert!(
        message(&resp).contains("1 décision(s) d'éligibilité"),
        "{resp:#}"
    );
    // Entered by mistake, read once: deleted with the log of its reads.
    let people = app.count("participant").await;
    let reads = app.count("participant_access").await;
    let mistake = app.participant(&w.territory, "Doublon").await;
    app.ok(PERSON, json!({"id": mistake})).await;
    assert!(
        app.count("participant_access").await > reads,
        "the read is logged"
    );
    // Others may not, nor with an old version.
    let elsewhere = app.territory("976-AUTRE").await;
    let stranger = app
        .user("autre@example.org", Role::Facilitator, None, &[&elsewhere])
        .await;
    let company = app
        .user("btp@example.org", Role::Company, Some(&w.company), &[])
        .await;
    for caller in [Some(stranger), Some(company), None] {
        let resp = app
            .run_as(caller, DELETE_PARTICIPANT, json!({"id": mistake, "v": 1}))
            .await;
        assert!(
            resp["errors"][0]["extensions"]["code"].is_string(),
            "{resp:#}"
        );
    }
    let resp = app
        .run(DELETE_PARTICIPANT, json!({"id": mistake, "v": 7}))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp:#}"
    );
    assert_eq!(app.count("participant").await, people + 1);
    let gone = app
        .ok(DELETE_PARTICIPANT, json!({"id": mistake, "v": 1}))
        .await;
    assert_eq!(gone["deleteParticipant"], json!(mistake));
    assert_eq!(app.count("participant").await, people);
    assert_eq!(
        app.count("participant_access").await,
        reads,
        "its reads went with it"
    );
    let node = app.run(PERSON, json!({"id": mistake})).await;
    assert!(
        node["data"]["node"].is_null() || node.get("errors").is_some(),
        "{node}"
    );
    // The trail says it was deleted, without the identity.
    let trail = app
        .ok(
            "query($o: ID!) { auditEvents(filter: {objectId: $o}) { nodes { action before after } } }",
            json!({"o": mistake}),
        )
        .await;
    let text = trail.to_string();
    assert!(text.contains("deleteParticipant"), "{text}");
    assert!(
        !text.contains("Doublon") && !text.contains("1990-05-01"),
        "{text}"
    );
}

async fn delete_placement_only_while_nothing_depends(app: &TestApp) {
    let w = app.world().await;
    // With hours: refused, the hours named.
    app.record_ok(&w.placement, "2026-03", "80").await;
    let resp = app
        .run(DELETE_PLACEMENT, json!({"id": w.placement, "v": 1}))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "CONFLICT",
        "{resp:#}"
    );
    assert!(message(&resp).contains("1 ligne(s) d'heures"), "{resp:#}");
    // Entered by mistake: deleted, with its deadlines (its end date).
    let deadlines = app.count("deadline").await;
    let placements = app.count("placement").await;
    let person = app.participant(&w.territory, "Erreur").await;
    let pl = app
        .placement(&person, &w.market, &w.lot, &w.company, "DIRECT_HIRE")
        .await;
    assert!(
        app.count("deadline").await > deadlines,
        "its end is a deadline"
    );
    let resp = app.run(DELETE_PLACEMENT, json!({"id": pl, "v": 2})).await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp:#}"
    );
    let gone = app.ok(DELETE_PLACEMENT, json!({"id": pl, "v": 1})).await;
    assert_eq!(gone["deletePlacement"], json!(pl));
    assert_eq!(app.count("placement").await, placements);
    assert_eq!(
        app.count("deadline").await,
        deadlines,
        "its deadlines went with it"
    );
    // The person now has nothing: they may go too.
    app.ok(DELETE_PARTICIPANT, json!({"id": person, "v": 1}))
        .await;
}

/// Migration 000021 lets the store take one UPDATE of a decision: the withdrawal. Straight SQL
/// that changes anything else, or withdraws twice, is refused by the database itself.
async fn the_store_allows_a_withdrawal_and_nothing_else(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let w = app.world().await;
    let young = app.participant(&w.territory, "Grondin").await;
    let d = eligible(app, &w, &young, "2026-11-01", "2026-10-20").await;
    // The store of this test holds this one decision: statements need no WHERE.
    let conn = &app.ctx.db.conn;
    // Refused by the trigger (not for a table it cannot find): the error says append-only.
    let refused = |s: &'static str| async move {
        let e = conn.execute_unprepared(s).await.expect_err(s);
        assert!(e.to_string().contains("append-only"), "{s}: {e}");
    };
    // The validity moved by hand: refused.
    refused("UPDATE eligibility SET valid_until = '2030-01-01'").await;
    // A withdrawal that moves the validity too: refused.
    refused("UPDATE eligibility SET withdrawn_at = CURRENT_TIMESTAMP, withdrawal_reason = 'x', valid_until = '2030-01-01'").await;
    // Delete: refused.
    refused("DELETE FROM eligibility").await;
    // Through the API: accepted; a second withdrawal in SQL: refused.
    app.ok(
        WITHDRAW,
        json!({"id": d["id"], "v": d["version"], "r": "erreur"}),
    )
    .await;
    refused("UPDATE eligibility SET withdrawn_at = CURRENT_TIMESTAMP, withdrawal_reason = 'y'")
        .await;
    // Its reason is cleared only once the person is anonymized.
    refused("UPDATE eligibility SET withdrawal_reason = NULL").await;
    let file = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Participant { eligibilities { validUntil withdrawalReason } } } }",
            json!({"id": young}),
        )
        .await;
    assert_eq!(
        file["node"]["eligibilities"][0]["validUntil"],
        d["validUntil"]
    );
    assert_eq!(
        file["node"]["eligibilities"][0]["withdrawalReason"],
        "erreur"
    );
}

/// A CDDI beyond 24 months on the DISABLED_WORKER derogation: rectifying the publics so that
/// the person is no longer a disabled worker would leave it outside its rules: refused on
/// `publics`, naming the placement; adding a public keeps it: accepted.
async fn rectify_participant_rechecks_running_cddi(app: &TestApp) {
    let w = app.world().await;
    let (market, lot) = app
        .market_in_progress(&w.buyer, "LP-2026-501", &w.aci)
        .await;
    let person = id(
        &app.ok(
            CREATE_PARTICIPANT,
            json!({"i": {"territoryId": w.territory, "firstName": "Jean", "lastName": "Técher",
                "birthDate": "2003-02-01", "sex": "MALE", "educationLevel": "LEVEL_3",
                "qpvResident": true, "publics": ["DISABLED_WORKER"]}}),
        )
        .await,
        "createParticipant",
    );
    eligible(app, &w, &person, "2026-11-01", "2026-10-20").await;
    let pl = id(
        &app.ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": person, "marketId": market, "lotId": lot,
                "modality": "DIRECT_HIRE", "employerId": w.aci, "contractType": "CDDI",
                "startDate": "2026-12-01", "endDate": "2029-05-31", "weeklyHours": "26",
                "derogation": "DISABLED_WORKER"}}),
        )
        .await,
        "createPlacement",
    );
    let reference = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
            json!({"id": pl}),
        )
        .await["node"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = app
        .run(
            RECTIFY,
            json!({"i": {"participantId": person, "version": 1, "reason": "Erreur de saisie", "publics": []}}),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "publics",
        "{resp:#}"
    );
    assert!(message(&resp).contains(&reference), "{resp:#}");
    let read = app.ok(PERSON, json!({"id": person})).await;
    assert_eq!(
        read["node"]["identity"]["publics"],
        json!(["DISABLED_WORKER"])
    );
    let ok = app
        .ok(
            RECTIFY,
            json!({"i": {"participantId": person, "version": 1, "reason": "Erreur de saisie", "publics": ["DISABLED_WORKER", "RSA"]}}),
        )
        .await;
    assert_eq!(ok["rectifyParticipant"]["version"], 2);
}

/// The person's immersions stay inside the edited contract and within their share of it
/// (25 % of its length by default).
async fn update_placement_keeps_its_immersions_inside(app: &TestApp) {
    let w = app.world().await;
    app.ok(
        "mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }",
        json!({"i": {"placementId": w.placement, "hostName": "Boulangerie du Port",
            "startDate": "2026-06-01", "endDate": "2026-06-12"}}),
    )
    .await;
    // An end before the immersion's: refused.
    let (code, field) = app
        .err(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 1, "endDate": "2026-06-11"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("endDate"))
    );
    // A contract of June only: 12 days of 30 is over a quarter: refused.
    let (code, _) = app
        .err(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 1, "startDate": "2026-06-01", "endDate": "2026-06-30"}}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    // June and July: 12 days of 61, under a quarter: accepted.
    let ok = app
        .ok(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 1, "startDate": "2026-06-01", "endDate": "2026-07-31"}}),
        )
        .await;
    assert_eq!(ok["updatePlacement"]["endDate"], "2026-07-31");
    // Ending on the immersion's last day keeps it inside, but 12 days of 12 is over a
    // quarter: refused.
    let (field, rule, _, _) = app
        .breach(
            UPDATE,
            json!({"i": {"placementId": w.placement, "version": 2, "endDate": "2026-06-12"}}),
        )
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("endDate", "IMMERSION_MAX_SHARE")
    );
    let state = placement_state(app, &w.placement).await;
    assert_eq!(
        (state["startDate"].clone(), state["endDate"].clone()),
        (json!("2026-06-01"), json!("2026-07-31"))
    );
}
