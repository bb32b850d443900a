//! The workflow engine (issue 5): life cycles with guards, conventions, commissions with
//! decisions, and the deadlines they make, moved by an injected clock, on SQLite and PostgreSQL.
//! The test clock starts on 2026-11-22 at 10:00 UTC (14:00 in La Réunion, the test territory).

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use passerelle::domain::auth::Role;
use serde_json::{Value, json};

db_tests!(
    market_from_draft_to_closed_with_its_statements,
    chantier_from_project_to_evaluated,
    convention_from_draft_to_renewal,
    commission_replanned_held_with_decisions_or_cancelled,
    placement_moves_and_contract_deadlines,
    a_rule_change_reflows_open_deadlines,
    a_market_behind_its_target_makes_a_deadline_until_back_on_track,
    deadlines_are_scoped_sorted_and_paged,
    later_statements_of_a_month_leave_its_met_deadline_alone,
);

const MOVE: &str = "mutation($i: TransitionInput!) { transition(input: $i) { state } }";
const FLOW: &str = "query($id: ID!) { workflow(id: $id) { state availableTransitions { to allowed refusal needsReason } history { from to reason changedBy } deadlines { rule title dueOn status metOn refreshing recipients { role name email organization { name } } } } }";
const LIST: &str = "query($f: DeadlineFilter, $first: Int, $after: String) { deadlines(filter: $f, first: $first, after: $after) { edges { cursor node { rule dueOn status title subjectKind } } pageInfo { hasNextPage } } }";
const CONVENTION: &str =
    "mutation($i: CreateConventionInput!) { createConvention(input: $i) { id status } }";
const PLAN: &str =
    "mutation($i: PlanCommissionInput!) { planCommission(input: $i) { id sequence localStart } }";
const MINUTES: &str = "mutation($c: ID!, $m: String!) { recordCommissionMinutes(commissionId: $c, minutes: $m) { id } }";

async fn flow(app: &TestApp, id: &str) -> Value {
    app.ok(FLOW, json!({"id": id})).await["workflow"].clone()
}

async fn go(app: &TestApp, id: &str, to: &str) -> Value {
    app.ok(MOVE, json!({"i": {"id": id, "to": to}})).await
}

async fn go_why(app: &TestApp, id: &str, to: &str, reason: &str) -> Value {
    app.ok(MOVE, json!({"i": {"id": id, "to": to, "reason": reason}}))
        .await
}

/// A refused move: its field and message.
async fn refused(app: &TestApp, id: &str, to: &str) -> String {
    let resp = app
        .run(MOVE, json!({"i": {"id": id, "to": to, "reason": "motif"}}))
        .await;
    let e = &resp["errors"][0];
    assert!(e.is_object(), "{id} → {to} should be refused: {resp}");
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{resp}");
    e["message"].as_str().unwrap().to_string()
}

fn option<'a>(f: &'a Value, to: &str) -> &'a Value {
    f["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["to"] == to)
        .unwrap_or_else(|| panic!("no option {to} in {f}"))
}

fn deadlines<'a>(f: &'a Value, rule: &str) -> Vec<&'a Value> {
    f["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .collect()
}

fn due<'a>(f: &'a Value, rule: &str, on: &str) -> &'a Value {
    deadlines(f, rule)
        .into_iter()
        .find(|d| d["dueOn"] == on)
        .unwrap_or_else(|| panic!("no {rule} due {on} in {:#}", f["deadlines"]))
}

fn id(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("no id at {path:?}"))
        .to_string()
}

/// Local time in La Réunion (UTC+4) to the clock's UTC.
fn reunion(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap() - Duration::hours(4)
}

async fn market_from_draft_to_closed_with_its_statements(app: &TestApp) {
    let w = app.world().await;
    let data = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": w.buyer, "reference": "LP-2026-009", "title": "Voirie",
                "clauseKind": "EXECUTION_CONDITION", "amountCents": 50_000_000i64,
                "startDate": "2026-01-01", "endDate": "2026-12-31",
                "lots": [{"number": 1, "title": "Terrassement"}]}}),
        )
        .await;
    let market = id(&data, &["createMarket", "id"]);
    let lot = data["createMarket"]["lots"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let f = flow(app, &market).await;
    assert_eq!(f["state"], "DRAFT");
    assert_eq!(option(&f, "PUBLISHED")["allowed"], true);
    assert_eq!(option(&f, "CANCELLED")["needsReason"], true);
    // A move the life cycle does not have, with what is possible instead.
    let msg = refused(app, &market, "CLOSED").await;
    assert!(msg.contains("possibles : PUBLISHED, CANCELLED"), "{msg}");
    go(app, &market, "PUBLISHED").await;
    // The button is there, greyed, with its reason.
    let f = flow(app, &market).await;
    let award = option(&f, "AWARDED");
    assert_eq!(award["allowed"], false);
    assert!(
        award["refusal"]
            .as_str()
            .unwrap()
            .contains("sans titulaire"),
        "{award}"
    );
    assert!(
        refused(app, &market, "AWARDED")
            .await
            .contains("sans titulaire")
    );
    app.ok(
        "mutation($l: ID!, $a: ID!) { setLotAwardee(lotId: $l, awardeeId: $a) { id } }",
        json!({"l": lot, "a": w.company}),
    )
    .await;
    go(app, &market, "AWARDED").await;
    // No statement is owed before the works start.
    assert!(deadlines(&flow(app, &market).await, "MONTHLY_STATEMENT").is_empty());
    go(app, &market, "IN_PROGRESS").await;
    let f = flow(app, &market).await;
    let statements = deadlines(&f, "MONTHLY_STATEMENT");
    assert_eq!(statements.len(), 12, "one per month of the market");
    let oct = due(&f, "MONTHLY_STATEMENT", "2026-11-05");
    assert_eq!(oct["status"], "MISSED", "due on the 5th, today is the 22nd");
    assert!(oct["title"].as_str().unwrap().contains("octobre 2026"));
    let roles: Vec<&str> = oct["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["FACILITATOR", "AWARDEE"]);
    assert_eq!(oct["recipients"][1]["organization"]["name"], "BTP Ouest");
    assert_eq!(due(&f, "MONTHLY_STATEMENT", "2026-12-05")["status"], "OPEN");
    // The statement arrives: the deadline closes itself, late.
    let person = app.participant(&w.territory, "Payet").await;
    let placement = app
        .placement(&person, &market, &lot, &w.company, "DIRECT_HIRE")
        .await;
    let entry = app.record_ok(&placement, "2026-10", "40").await;
    let f = flow(app, &market).await;
    let oct = due(&f, "MONTHLY_STATEMENT", "2026-11-05");
    assert_eq!(
        (&oct["status"], &oct["metOn"]),
        (&json!("MET"), &json!("2026-11-22"))
    );
    // Time passes: the November statement is missed the day after its due day, not on it.
    app.clock.set(reunion(2026, 12, 5, 23));
    let f = flow(app, &market).await;
    assert_eq!(due(&f, "MONTHLY_STATEMENT", "2026-12-05")["status"], "OPEN");
    app.clock.set(reunion(2026, 12, 6, 1));
    let f = flow(app, &market).await;
    assert_eq!(
        due(&f, "MONTHLY_STATEMENT", "2026-12-05")["status"],
        "MISSED"
    );
    go(app, &market, "COMPLETED").await;
    let msg = refused(app, &market, "CLOSED").await;
    assert!(msg.contains("attendent encore validation"), "{msg}");
    // Hour entries move through the same mutation (their review).
    let e = flow(app, &entry).await;
    assert_eq!(e["state"], "DECLARED");
    go(app, &entry, "VALIDATED").await;
    let e = flow(app, &entry).await;
    assert_eq!(e["state"], "VALIDATED");
    assert_eq!(e["history"][0]["to"], "VALIDATED");
    let msg = refused(app, &market, "CLOSED").await;
    assert!(msg.contains("rapport final"), "{msg}");
    app.ok(
        "mutation($m: ID!) { produceMarketFinalReport(marketId: $m) { version } }",
        json!({"m": market}),
    )
    .await;
    go(app, &market, "CLOSED").await;
    let f = flow(app, &market).await;
    assert!(f["availableTransitions"].as_array().unwrap().is_empty());
    // Closed: what was met stays met, what was still owed is cancelled.
    assert_eq!(due(&f, "MONTHLY_STATEMENT", "2026-11-05")["status"], "MET");
    assert_eq!(
        due(&f, "MONTHLY_STATEMENT", "2027-01-05")["status"],
        "CANCELLED"
    );
    let moves: Vec<(&str, &str)> = f["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from"].as_str().unwrap(), h["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        moves,
        [
            ("DRAFT", "PUBLISHED"),
            ("PUBLISHED", "AWARDED"),
            ("AWARDED", "IN_PROGRESS"),
            ("IN_PROGRESS", "COMPLETED"),
            ("COMPLETED", "CLOSED")
        ]
    );
    assert!(f["history"][0]["changedBy"].is_string());
}

struct Aci {
    w: World,
    funder: String,
    chantier: String,
}

async fn aci(app: &TestApp) -> Aci {
    let w = app.world().await;
    let funder = app.org("DDETS 974", "FUNDER", None, &w.territory).await;
    let data = app
        .ok(
            "mutation($i: CreateChantierInput!) { createChantier(input: $i) { id status } }",
            json!({"i": {"territoryId": w.territory, "title": "Jardins du Port", "kind": "ACI",
                "carrierId": w.aci, "ownerId": w.buyer, "place": "Le Port",
                "startDate": "2026-12-01", "endDate": "2027-11-30", "capacity": 12,
                "activities": "Maraîchage"}}),
        )
        .await;
    Aci {
        chantier: id(&data, &["createChantier", "id"]),
        w,
        funder,
    }
}

async fn agreement(app: &TestApp, a: &Aci, reference: &str, end: &str) -> String {
    let data = app
        .ok(
            CONVENTION,
            json!({"i": {"territoryId": a.w.territory, "kind": "STATE_AGREEMENT", "reference": reference,
                "title": "Conventionnement ACI", "chantierId": a.chantier,
                "startDate": "2026-01-01", "endDate": end,
                "parties": [{"organizationId": a.w.aci, "role": "BENEFICIARY"},
                            {"organizationId": a.funder, "role": "SIGNATORY"}],
                "amounts": [{"year": 2026, "amountCents": 15_000_000i64}]}}),
        )
        .await;
    assert_eq!(data["createConvention"]["status"], "DRAFT");
    id(&data, &["createConvention", "id"])
}

async fn steering(app: &TestApp, a: &Aci, kind: &str, at: &str) -> String {
    let data = app
        .ok(
            PLAN,
            json!({"i": {"kind": kind, "title": "Comité de pilotage", "chantierId": a.chantier,
                "startsAt": at, "place": "Mairie du Port",
                "members": [{"name": "Marie Técher", "email": "m.techer@ddets.example", "organizationId": a.funder}]}}),
        )
        .await;
    id(&data, &["planCommission", "id"])
}

async fn chantier_from_project_to_evaluated(app: &TestApp) {
    let a = aci(app).await;
    let c = &a.chantier;
    let f = flow(app, c).await;
    assert_eq!(f["state"], "PROJECT");
    // Its three steering committees are deadlines from the start, for carrier and owner.
    let s = deadlines(&f, "STEERING_COMMITTEE");
    let days: Vec<&str> = s.iter().map(|d| d["dueOn"].as_str().unwrap()).collect();
    assert_eq!(days, ["2026-12-01", "2027-06-01", "2027-11-30"]);
    let roles: Vec<&str> = s[0]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["CARRIER", "OWNER"]);
    assert!(
        refused(app, c, "AGREED")
            .await
            .contains("conventionnement signé")
    );
    let conv = agreement(app, &a, "CONV-ACI-1", "2027-12-31").await;
    go(app, &conv, "SUBMITTED").await;
    // Filed: the State answers 1.5 months later (22 Nov + 1 month + 15 days).
    let cf = flow(app, &conv).await;
    assert_eq!(due(&cf, "STATE_ANSWER", "2027-01-06")["status"], "OPEN");
    assert!(
        refused(app, c, "AGREED")
            .await
            .contains("conventionnement signé")
    );
    go(app, &conv, "SIGNED").await;
    let cf = flow(app, &conv).await;
    assert_eq!(due(&cf, "STATE_ANSWER", "2027-01-06")["status"], "MET");
    go(app, c, "AGREED").await;
    assert!(refused(app, c, "RUNNING").await.contains("démarrage"));
    let start = steering(app, &a, "STEERING_START", "2026-11-30T10:00:00").await;
    let sf = flow(app, &start).await;
    let meeting = due(&sf, "COMMISSION", "2026-11-30");
    assert_eq!(meeting["recipients"][0]["email"], "m.techer@ddets.example");
    // Not before its day, and not without minutes.
    app.clock.set(reunion(2026, 11, 29, 18));
    assert!(
        refused(app, &start, "HELD")
            .await
            .contains("prévue le 30/11/2026")
    );
    app.clock.set(reunion(2026, 11, 30, 12));
    assert!(refused(app, &start, "HELD").await.contains("compte rendu"));
    app.ok(
        MINUTES,
        json!({"c": start, "m": "Démarrage validé ; 8 recrutements."}),
    )
    .await;
    go(app, &start, "HELD").await;
    assert_eq!(
        due(&flow(app, &start).await, "COMMISSION", "2026-11-30")["status"],
        "MET"
    );
    go(app, c, "RUNNING").await;
    let f = flow(app, c).await;
    assert_eq!(
        due(&f, "STEERING_COMMITTEE", "2026-12-01")["metOn"],
        "2026-11-30"
    );
    go(app, c, "ENDED").await;
    assert!(refused(app, c, "EVALUATED").await.contains("final"));
    let fin = steering(app, &a, "STEERING_FINAL", "2026-12-02T09:30:00").await;
    app.clock.set(reunion(2026, 12, 2, 11));
    app.ok(
        MINUTES,
        json!({"c": fin, "m": "Bilan : 5 sorties dynamiques."}),
    )
    .await;
    go(app, &fin, "HELD").await;
    go(app, c, "EVALUATED").await;
    let f = flow(app, c).await;
    assert_eq!(f["state"], "EVALUATED");
    assert_eq!(due(&f, "STEERING_COMMITTEE", "2027-11-30")["status"], "MET");
    // The mid-term committee that never took place is no longer owed.
    assert_eq!(
        due(&f, "STEERING_COMMITTEE", "2027-06-01")["status"],
        "CANCELLED"
    );
}

async fn convention_from_draft_to_renewal(app: &TestApp) {
    let a = aci(app).await;
    let base = json!({"territoryId": a.w.territory, "kind": "STATE_AGREEMENT", "title": "Conventionnement",
        "startDate": "2026-01-01"});
    // At most three years: the last day of the 36th month passes, the day after does not.
    let mut too_long = base.clone();
    too_long["reference"] = json!("C-LONG");
    too_long["endDate"] = json!("2029-01-01");
    let (code, field) = app.err(CONVENTION, json!({"i": too_long})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("endDate"))
    );
    let mut three = base.clone();
    three["reference"] = json!("C-3Y");
    three["endDate"] = json!("2028-12-31");
    let three = id(
        &app.ok(CONVENTION, json!({"i": three})).await,
        &["createConvention", "id"],
    );
    // Same reference twice in a territory: refused.
    let mut dup = base.clone();
    dup["reference"] = json!("C-3Y");
    assert_eq!(app.err(CONVENTION, json!({"i": dup})).await.0, "CONFLICT");

    // Signing needs two parties and the amounts.
    assert!(
        refused(app, &three, "SUBMITTED")
            .await
            .contains("deux parties")
    );
    for (org, role) in [(&a.w.aci, "BENEFICIARY"), (&a.funder, "SIGNATORY")] {
        app.ok(
            "mutation($c: ID!, $o: ID!, $r: PartyRole!) { addConventionParty(conventionId: $c, party: {organizationId: $o, role: $r}) { id } }",
            json!({"c": three, "o": org, "r": role}),
        )
        .await;
    }
    assert!(refused(app, &three, "SUBMITTED").await.contains("montants"));
    let amount = "mutation($c: ID!, $y: Int!, $a: Int!) { setConventionAmount(conventionId: $c, amount: {year: $y, amountCents: $a}) { amounts { year amount } } }";
    let (_, field) = app
        .err(amount, json!({"c": three, "y": 2030, "a": 100}))
        .await;
    assert_eq!(field.as_deref(), Some("amounts.year"));
    let (_, field) = app
        .err(amount, json!({"c": three, "y": 2026, "a": 0}))
        .await;
    assert_eq!(field.as_deref(), Some("amounts.amountCents"));
    let data = app
        .ok(amount, json!({"c": three, "y": 2026, "a": 4_500_000}))
        .await;
    assert_eq!(data["setConventionAmount"]["amounts"][0]["year"], 2026);
    go(app, &three, "SUBMITTED").await;
    go(app, &three, "SIGNED").await;
    // Signed: its content no longer changes.
    assert_eq!(
        app.err(amount, json!({"c": three, "y": 2027, "a": 100}))
            .await
            .0,
        "CONFLICT"
    );
    go(app, &three, "ACTIVE").await;
    // The renewal window of an agreement ending in 2028 opens on 1 October 2027.
    assert!(
        refused(app, &three, "RENEWAL_DUE")
            .await
            .contains("01/10/2027")
    );
    assert!(refused(app, &three, "EXPIRED").await.contains("31/12/2028"));

    // An agreement ending in 2027: its renewal is asked by 31 December 2026.
    let conv = agreement(app, &a, "C-2027", "2027-12-31").await;
    for to in ["SUBMITTED", "SIGNED", "ACTIVE", "RENEWAL_DUE"] {
        go(app, &conv, to).await;
    }
    let f = flow(app, &conv).await;
    assert_eq!(f["state"], "RENEWAL_DUE");
    assert_eq!(
        due(&f, "CONVENTION_RENEWAL", "2026-12-31")["status"],
        "OPEN"
    );
    let end = due(&f, "CONVENTION_END", "2027-12-31");
    assert_eq!(end["status"], "OPEN");
    assert_eq!(
        end["recipients"].as_array().unwrap().len(),
        2,
        "both parties"
    );
    // The renewal is filed: both deadlines are met that day.
    let data = app
        .ok(
            CONVENTION,
            json!({"i": {"territoryId": a.w.territory, "kind": "STATE_AGREEMENT", "reference": "C-2028",
                "title": "Renouvellement", "renewsId": conv, "startDate": "2028-01-01", "endDate": "2030-12-31",
                "parties": [{"organizationId": a.w.aci, "role": "BENEFICIARY"},
                            {"organizationId": a.funder, "role": "SIGNATORY"}],
                "amounts": [{"year": 2028, "amountCents": 15_000_000i64}]}}),
        )
        .await;
    let renewal = id(&data, &["createConvention", "id"]);
    go(app, &renewal, "SUBMITTED").await;
    let f = flow(app, &conv).await;
    assert_eq!(
        due(&f, "CONVENTION_RENEWAL", "2026-12-31")["metOn"],
        "2026-11-22"
    );
    assert_eq!(due(&f, "CONVENTION_END", "2027-12-31")["status"], "MET");
    // Ending early needs a reason.
    let resp = app
        .run(MOVE, json!({"i": {"id": three, "to": "TERMINATED"}}))
        .await;
    assert_eq!(resp["errors"][0]["extensions"]["field"], "reason");
    go_why(app, &three, "TERMINATED", "Liquidation de la structure").await;
    let f = flow(app, &three).await;
    assert_eq!(f["history"].as_array().unwrap().len(), 4);
    assert_eq!(f["history"][3]["reason"], "Liquidation de la structure");
    assert_eq!(
        due(&f, "CONVENTION_END", "2028-12-31")["status"],
        "CANCELLED"
    );
}

async fn commission_replanned_held_with_decisions_or_cancelled(app: &TestApp) {
    let w = app.world().await;
    let op = app
        .ok(
            "mutation($i: CreateOperationInput!) { createOperation(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "name": "NPNRU Ariste Bolon", "kind": "NPNRU"}}),
        )
        .await["createOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let input = json!({"kind": "INSERTION_COMMISSION", "title": "Commission d'insertion", "operationId": op,
        "startsAt": "2026-12-10T14:00:00", "place": "Mairie du Port", "agenda": "Candidats ; heures ; difficultés",
        "members": [{"name": "Jeanne Grondin", "email": "j.grondin@leport.example", "organizationId": w.buyer},
                    {"name": "Paul Hoarau", "email": "p.hoarau@btp.example"}]});
    // Bad inputs name their field and write nothing.
    let before = app.count("commission").await;
    for (patch, field) in [
        (json!({"startsAt": "2026-11-22T13:59:00"}), "startsAt"),
        (json!({"marketId": w.market}), "operationId"),
        (
            json!({"members": [{"name": "X", "email": "pas-un-mail"}]}),
            "members.email",
        ),
        (json!({"durationMinutes": 14}), "durationMinutes"),
        (json!({"kind": "STEERING_START"}), "chantierId"),
    ] {
        let mut bad = input.clone();
        for (k, v) in patch.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let (code, f) = app.err(PLAN, json!({"i": bad})).await;
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field))
        );
    }
    assert_eq!(app.count("commission").await, before);
    let data = app.ok(PLAN, json!({"i": input})).await;
    assert_eq!(data["planCommission"]["localStart"], "2026-12-10T14:00:00");
    let c = id(&data, &["planCommission", "id"]);
    let f = flow(app, &c).await;
    let meeting = due(&f, "COMMISSION", "2026-12-10");
    let emails: Vec<&str> = meeting["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["j.grondin@leport.example", "p.hoarau@btp.example"]);
    // Re-planning needs a reason, moves the deadline and is a recorded move.
    let replan = "mutation($i: ReplanCommissionInput!) { replanCommission(input: $i) { sequence localStart } }";
    let (_, field) = app
        .err(
            replan,
            json!({"i": {"commissionId": c, "startsAt": "2026-12-15T09:00:00", "reason": " "}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("reason"));
    let data = app
        .ok(replan, json!({"i": {"commissionId": c, "startsAt": "2026-12-15T09:00:00", "reason": "Salle indisponible"}}))
        .await;
    assert_eq!(data["replanCommission"]["sequence"], 1);
    let f = flow(app, &c).await;
    let meetings = deadlines(&f, "COMMISSION");
    assert_eq!(meetings.len(), 1);
    assert_eq!(meetings[0]["dueOn"], "2026-12-15");
    let h = &f["history"][0];
    assert_eq!(
        (&h["from"], &h["to"]),
        (&json!("PLANNED"), &json!("PLANNED"))
    );
    assert!(h["reason"].as_str().unwrap().contains("Salle indisponible"));
    // Decisions are recorded once the day has come.
    let decide = "mutation($i: RecordDecisionInput!) { recordDecision(input: $i) { id dueOn } }";
    let decision = json!({"i": {"commissionId": c, "subject": "Relance de BTP Ouest", "outcome": "Courrier de relance",
        "ownerName": "Jeanne Grondin", "ownerEmail": "j.grondin@leport.example", "dueOn": "2027-01-15"}});
    assert_eq!(app.err(decide, decision.clone()).await.0, "CONFLICT");
    app.clock.set(reunion(2026, 12, 15, 12));
    let mut no_owner = decision.clone();
    no_owner["i"]["ownerName"] = Value::Null;
    assert_eq!(
        app.err(decide, no_owner).await.1.as_deref(),
        Some("ownerName")
    );
    let d = id(&app.ok(decide, decision).await, &["recordDecision", "id"]);
    app.ok(MINUTES, json!({"c": c, "m": "Trois candidats retenus."}))
        .await;
    go(app, &c, "HELD").await;
    let f = flow(app, &c).await;
    let follow = due(&f, "DECISION_FOLLOW_UP", "2027-01-15");
    assert_eq!(follow["status"], "OPEN");
    assert_eq!(follow["recipients"][0]["role"], "DECISION_OWNER");
    assert_eq!(follow["recipients"][0]["email"], "j.grondin@leport.example");
    app.ok(
        "mutation($d: ID!) { completeDecision(decisionId: $d) { doneOn } }",
        json!({"d": d}),
    )
    .await;
    let f = flow(app, &c).await;
    assert_eq!(
        due(&f, "DECISION_FOLLOW_UP", "2027-01-15")["metOn"],
        "2026-12-15"
    );
    assert_eq!(due(&f, "COMMISSION", "2026-12-15")["status"], "MET");
    // Another one, cancelled: nothing more is owed and invitations change.
    let mut second = input.clone();
    second["startsAt"] = json!("2027-02-10T14:00:00");
    let c2 = id(
        &app.ok(PLAN, json!({"i": second})).await,
        &["planCommission", "id"],
    );
    go_why(app, &c2, "CANCELLED", "Ordre du jour vide").await;
    let f = flow(app, &c2).await;
    assert_eq!(due(&f, "COMMISSION", "2027-02-10")["status"], "CANCELLED");
    let seq = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Commission { sequence status } } }",
            json!({"id": c2}),
        )
        .await;
    assert_eq!(seq["node"]["sequence"], 1);
    assert_eq!(seq["node"]["status"], "CANCELLED");
}

async fn placement_moves_and_contract_deadlines(app: &TestApp) {
    let w = app.world().await;
    let person = app.participant(&w.territory, "Lebon").await;
    let data = app
        .ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": person, "marketId": w.market, "lotId": w.lot,
                "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CUI_CAE",
                "startDate": "2027-01-15", "endDate": "2027-07-14", "weeklyHours": "20", "proposed": true}}),
        )
        .await;
    let p = id(&data, &["createPlacement", "id"]);
    let f = flow(app, &p).await;
    assert_eq!(f["state"], "PROPOSED");
    // The individual aid agreement is due two months before the contract starts.
    let filing = due(&f, "AID_AGREEMENT_FILING", "2026-11-15");
    assert_eq!(filing["status"], "MISSED");
    assert_eq!(filing["recipients"][0]["role"], "EMPLOYER");
    assert_eq!(due(&f, "PLACEMENT_END", "2027-07-14")["status"], "OPEN");
    let aid = app
        .ok(
            CONVENTION,
            json!({"i": {"territoryId": w.territory, "kind": "INDIVIDUAL_AID", "reference": "CUI-1",
                "title": "Convention CUI-CAE", "placementId": p, "startDate": "2027-01-15", "endDate": "2027-07-14",
                "parties": [{"organizationId": w.company, "role": "BENEFICIARY"},
                            {"organizationId": w.buyer, "role": "FUNDER"}],
                "amounts": [{"year": 2027, "amountCents": 400_000}]}}),
        )
        .await;
    let aid = id(&aid, &["createConvention", "id"]);
    go(app, &aid, "SUBMITTED").await;
    let f = flow(app, &p).await;
    assert_eq!(
        due(&f, "AID_AGREEMENT_FILING", "2026-11-15")["metOn"],
        "2026-11-22"
    );
    // An aid agreement is for an aided contract only.
    let (_, field) = app
        .err(
            CONVENTION,
            json!({"i": {"territoryId": w.territory, "kind": "INDIVIDUAL_AID", "reference": "CUI-2",
                "title": "x", "placementId": w.placement}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("placementId"));
    go(app, &p, "ACTIVE").await;
    let resp = app
        .run(MOVE, json!({"i": {"id": p, "to": "SUSPENDED"}}))
        .await;
    assert_eq!(resp["errors"][0]["extensions"]["field"], "reason");
    go_why(app, &p, "SUSPENDED", "Arrêt maladie").await;
    go(app, &p, "ACTIVE").await;
    assert!(refused(app, &p, "ENDED").await.contains("endPlacement"));
    // With hours recorded, a placement ends with an exit rather than being cancelled.
    app.record_ok(&w.placement, "2026-10", "20").await;
    assert!(
        refused(app, &w.placement, "CANCELLED")
            .await
            .contains("déclaration(s) d'heures existent")
    );
    go_why(app, &p, "CANCELLED", "Embauche annulée").await;
    // Contract rules are judged again on activation: a proposal that fitted when made is
    // refused once the territory lowers the weekly cap (26 h + 20 h = 46 h > 45 h).
    let data = app
        .ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": w.participant, "marketId": w.market, "lotId": w.lot,
                "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CDD",
                "startDate": "2026-12-01", "endDate": "2027-02-28", "weeklyHours": "20", "proposed": true}}),
        )
        .await;
    let second = id(&data, &["createPlacement", "id"]);
    app.ok(
        "mutation($i: SetParameterInput!) { setParameter(input: $i) { id } }",
        json!({"i": {"key": "MAX_WEEKLY_HOURS_ALL_PLACEMENTS", "territoryId": w.territory, "value": "45",
            "reason": "Accord local"}}),
    )
    .await;
    let f = flow(app, &second).await;
    assert_eq!(option(&f, "ACTIVE")["allowed"], false);
    let (_, rule, limit, value) = app
        .breach(MOVE, json!({"i": {"id": second, "to": "ACTIVE"}}))
        .await;
    assert_eq!(
        (rule.as_str(), limit.as_str(), value.as_str()),
        (
            "MAX_WEEKLY_HOURS_ALL_PLACEMENTS",
            "45 h par semaine",
            "46 h le 2026-12-01"
        )
    );
    // An exit is a move of the history too.
    app.ok(
        "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome } }",
        json!({"i": {"placementId": w.placement, "exitDate": "2026-11-20", "outcome": "CDI"}}),
    )
    .await;
    let f = flow(app, &w.placement).await;
    let last = f["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["from"], &last["to"]),
        (&json!("ACTIVE"), &json!("ENDED"))
    );
    assert_eq!(
        due(&f, "PLACEMENT_END", "2026-11-20")["metOn"],
        "2026-11-20"
    );
    let f = flow(app, &p).await;
    assert_eq!(
        due(&f, "PLACEMENT_END", "2027-07-14")["status"],
        "CANCELLED"
    );
    let moves: Vec<&str> = f["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(moves, ["ACTIVE", "SUSPENDED", "ACTIVE", "CANCELLED"]);
}

async fn a_rule_change_reflows_open_deadlines(app: &TestApp) {
    let w = app.world().await;
    let month = |f: &Value, on: &str| due(f, "MONTHLY_STATEMENT", on).clone();
    app.record_ok(&w.placement, "2026-10", "20").await;
    let f = flow(app, &w.market).await;
    assert_eq!(month(&f, "2026-11-05")["status"], "MET");
    assert_eq!(month(&f, "2026-12-05")["status"], "OPEN");
    let set = "mutation($i: SetParameterInput!) { setParameter(input: $i) { id } }";
    app.ok(
        set,
        json!({"i": {"key": "STATEMENT_DAY_OF_MONTH", "territoryId": w.territory, "value": "10",
            "reason": "Délibération du comité de pilotage"}}),
    )
    .await;
    app.ok(
        set,
        json!({"i": {"key": "RECIPIENTS_STATEMENT", "territoryId": w.territory, "value": "AWARDEE",
            "reason": "Le facilitateur suit par le tableau de bord"}}),
    )
    .await;
    // The requests only marked the territory: its deadlines are as they were, and say that
    // they are being refreshed.
    let f = flow(app, &w.market).await;
    assert_eq!(month(&f, "2026-12-05")["status"], "OPEN");
    assert!(
        deadlines(&f, "MONTHLY_STATEMENT")
            .iter()
            .all(|d| d["refreshing"] == true && d["dueOn"] != "2026-12-10"),
        "{f}"
    );
    // The scheduler's reflow: one pass serves both marks.
    let done = app.reflow().await;
    assert_eq!(done.len(), 1, "{done:?}");
    let f = flow(app, &w.market).await;
    assert!(
        f["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["refreshing"] == false),
        "{f}"
    );
    // Open ones moved to the 10th with their new recipients; the met one stays as it was.
    let dec = month(&f, "2026-12-10");
    assert_eq!(dec["status"], "OPEN");
    assert_eq!(dec["recipients"].as_array().unwrap().len(), 1);
    assert_eq!(dec["recipients"][0]["role"], "AWARDEE");
    assert!(
        deadlines(&f, "MONTHLY_STATEMENT")
            .iter()
            .all(|d| d["dueOn"] != "2026-12-05")
    );
    let oct = deadlines(&f, "MONTHLY_STATEMENT")
        .into_iter()
        .find(|d| d["title"].as_str().unwrap().contains("octobre 2026"))
        .unwrap()
        .clone();
    assert_eq!(oct["status"], "MET");
    // A value outside what the rule allows is refused with its field.
    let (_, field) = app
        .err(
            set,
            json!({"i": {"key": "RECIPIENTS_STATEMENT", "territoryId": w.territory, "value": "VOISINS", "reason": "x"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("value"));
}

async fn a_market_behind_its_target_makes_a_deadline_until_back_on_track(app: &TestApp) {
    let w = app.world().await;
    let target = "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }";
    // 2026-01-01 to 2027-12-31 is 730 days; on 22 Nov 2026, 326 have passed (44.7 %).
    // Target 100 h: behind under 80 h at the end, i.e. under 80 × 326 / 730 = 35.7 h so far.
    app.ok(
        target,
        json!({"i": {"marketId": w.market, "labourShareBp": 5000, "overrideHours": "100"}}),
    )
    .await;
    let f = flow(app, &w.market).await;
    let behind = due(&f, "MARKET_BEHIND", "2026-11-22");
    assert_eq!(behind["status"], "OPEN");
    let roles: Vec<&str> = behind["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["FACILITATOR", "BUYER"]);
    // 35 h validated: still behind (35 × 730 / 326 = 78.4 h at the end).
    let e = app.record_ok(&w.placement, "2026-10", "35").await;
    go(app, &e, "VALIDATED").await;
    let f = flow(app, &w.market).await;
    assert_eq!(deadlines(&f, "MARKET_BEHIND").len(), 1);
    assert_eq!(due(&f, "MARKET_BEHIND", "2026-11-22")["status"], "OPEN");
    // 36 h: 80.6 h at the end, at risk but no longer behind: the deadline is met.
    let e = app.record_ok(&w.placement, "2026-09", "1").await;
    go(app, &e, "VALIDATED").await;
    let f = flow(app, &w.market).await;
    assert_eq!(due(&f, "MARKET_BEHIND", "2026-11-22")["status"], "MET");
    assert_eq!(deadlines(&f, "MARKET_BEHIND").len(), 1);
}

async fn deadlines_are_scoped_sorted_and_paged(app: &TestApp) {
    let w = app.world().await;
    app.ok(
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }",
        json!({"i": {"marketId": w.market, "labourShareBp": 5000, "overrideHours": "100"}}),
    )
    .await;
    // Overdue only: open deadlines whose day has passed, oldest first.
    let data = app
        .ok(LIST, json!({"f": {"overdue": true}, "first": 100}))
        .await;
    let edges = data["deadlines"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty());
    let days: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["dueOn"].as_str().unwrap())
        .collect();
    let mut sorted = days.clone();
    sorted.sort();
    assert_eq!(days, sorted);
    assert!(days.iter().all(|d| *d < "2026-11-22"));
    assert!(edges.iter().all(|e| e["node"]["status"] == "MISSED"));
    // The next 30 days include the overdue ones and what falls due by 22 December.
    let all = app
        .ok(LIST, json!({"f": {"dueWithinDays": 30}, "first": 100}))
        .await;
    let all = all["deadlines"]["edges"].as_array().unwrap();
    assert!(all.len() > edges.len());
    assert!(
        all.iter()
            .all(|e| e["node"]["dueOn"].as_str().unwrap() <= "2026-12-22")
    );
    assert!(all.iter().any(|e| e["node"]["dueOn"] == "2026-12-05"));
    // Paged by two, the pages put together are the whole list, in order.
    let mut after: Option<String> = None;
    let mut paged = Vec::new();
    loop {
        let page = app
            .ok(
                LIST,
                json!({"f": {"dueWithinDays": 30}, "first": 2, "after": after}),
            )
            .await;
        let edges = page["deadlines"]["edges"].as_array().unwrap().clone();
        paged.extend(edges.iter().map(|e| e["node"].clone()));
        if page["deadlines"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = edges
            .last()
            .map(|e| e["cursor"].as_str().unwrap().to_string());
    }
    let whole: Vec<Value> = all.iter().map(|e| e["node"].clone()).collect();
    assert_eq!(paged, whole);
    // Out-of-range window: refused with its field.
    let (_, field) = app.err(LIST, json!({"f": {"dueWithinDays": -1}})).await;
    assert_eq!(field.as_deref(), Some("filter.dueWithinDays"));
    // The buyer sees what it is reminded of (its market behind), not the awardee's statements.
    let u = app
        .user("acheteur@leport.example", Role::Buyer, Some(&w.buyer), &[])
        .await;
    let seen = app
        .run_as(Some(u.clone()), LIST, json!({"first": 100}))
        .await;
    let rules: Vec<&str> = seen["data"]["deadlines"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["MARKET_BEHIND"]);
    let company = app
        .user("rh@btp.example", Role::Company, Some(&w.company), &[])
        .await;
    let seen = app
        .run_as(Some(company.clone()), LIST, json!({"first": 100}))
        .await;
    let edges = seen["data"]["deadlines"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty());
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["rule"] == "MONTHLY_STATEMENT"
                || e["node"]["rule"] == "PLACEMENT_END")
    );
    // Neither may move anything.
    let resp = app
        .run_as(
            Some(u),
            MOVE,
            json!({"i": {"id": w.market, "to": "COMPLETED"}}),
        )
        .await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

/// Hours recorded for a month whose statement is already met skip the market's re-derivation
/// (a fast path of recordHours), except when they would move the day it was met.
async fn later_statements_of_a_month_leave_its_met_deadline_alone(app: &TestApp) {
    let w = app.world().await;
    let mut placements = Vec::new();
    for name in ["Hoarau", "Grondin", "Técher", "Fontaine"] {
        let p = app.participant(&w.territory, name).await;
        placements.push(
            app.placement(&p, &w.market, &w.lot, &w.company, "DIRECT_HIRE")
                .await,
        );
    }
    let oct = |f: &Value| due(f, "MONTHLY_STATEMENT", "2026-11-05").clone();
    let mut counts = Vec::new();
    // The first statement of October meets its deadline today.
    app.reset_statements();
    app.record_ok(&placements[0], "2026-10", "10").await;
    counts.push(app.statements());
    let f = flow(app, &w.market).await;
    assert_eq!(
        (oct(&f)["status"].clone(), oct(&f)["metOn"].clone()),
        (json!("MET"), json!("2026-11-22"))
    );
    // Met today, another statement today: the deadline keeps its day.
    app.reset_statements();
    app.record_ok(&placements[1], "2026-10", "10").await;
    counts.push(app.statements());
    assert_eq!(oct(&flow(app, &w.market).await)["metOn"], "2026-11-22");
    // A clock one day behind (another instance's, say): this entry is the first arrival now.
    app.clock.set(reunion(2026, 11, 21, 14));
    app.reset_statements();
    app.record_ok(&placements[2], "2026-10", "10").await;
    counts.push(app.statements());
    assert_eq!(oct(&flow(app, &w.market).await)["metOn"], "2026-11-21");
    // Met yesterday, a statement the day after: the deadline keeps its first day.
    app.clock.set(reunion(2026, 11, 23, 14));
    app.reset_statements();
    app.record_ok(&placements[3], "2026-10", "10").await;
    counts.push(app.statements());
    assert_eq!(oct(&flow(app, &w.market).await)["metOn"], "2026-11-21");
    // One conditional UPDATE, whichever case: no re-derivation of the market.
    assert!(counts.windows(2).all(|c| c[0] == c[1]), "{counts:?}");
}
