//! Reports, traces, exports and the import of monthly statements, on a small data set whose
//! every expected figure is worked out by hand in the comments.

mod common;

use std::time::Duration;

use common::{
    CORRECT, CREATE_MARKET, CREATE_PARTICIPANT, CREATE_PLACEMENT, NOW, RECORD, REJECT, TestApp,
    VALIDATE, World,
};
use passerelle::config::Config;
use passerelle::domain::auth::{Actor, Role};
use serde_json::{Value, json};

db_tests!(
    market_report_figures_by_hand,
    figures_as_at_past_dates_after_corrections,
    traces_expand_figures_to_their_entries,
    operation_report_for_the_anru,
    chantier_evaluation_fiche_aci,
    territory_report_and_refusals,
    exports_over_http,
    import_records_a_good_file_once,
    import_refuses_a_bad_file_whole,
    new_hours_meet_statements_as_a_full_rederivation_would,
    one_engine_where_training_does_not_count,
    pending_corrections_never_make_a_figure_negative,
);

const MARKET_REPORT: &str = "query($id: ID!, $asAt: NaiveDate) { marketReport(marketId: $id, asAt: $asAt) {
  asAt
  market { targetMinutes completionBp hours { validated { minutes entries trace } pending { minutes entries trace } rejected { minutes entries } counted { minutes } }
           forecast { minutesAtEnd pace behindBelowBp atRiskBelowBp } }
  byModality { modality hours { validated { minutes } pending { minutes } rejected { minutes } } }
  lots { number hours { validated { minutes } } completionBp }
  people { band women men total trace }
  contracts { contractType count qpvResidents }
  etp { hundredths divisorMinutes }
  export { csv xlsx } } }";

const H: i64 = 60;

fn at(day: &str) -> chrono::DateTime<chrono::Utc> {
    format!("{day}T06:00:00Z").parse().unwrap()
}

/// The hand-checked set, on the test world (Réunion, market 2026-01-01 – 2027-12-31, target
/// 1 000 h). P1 is Hoarau (woman, born 1990-05-01, level 3, QPV, RSA; CDD from 2026-02-01,
/// direct hire); P2 a man born 2001-01-15 (below level 3, not QPV, AAH, unemployed since
/// 2023-06-01), made available by the ETTI from 2026-03-01 (insertion interim).
///
/// | day        | what                                                                  |
/// |------------|-----------------------------------------------------------------------|
/// | 2026-03-05 | P1 February 100 h declared                                            |
/// | 2026-03-10 | validated                                                             |
/// | 2026-04-05 | P1 March 120 h, P2 March 80 h declared                                |
/// | 2026-04-10 | P1 March validated, P2 March rejected                                 |
/// | 2026-05-05 | P2 March declared again, 70 h; P1 April 110 h                         |
/// | 2026-06-15 | P1 March corrected to 90 h (−30); correction, P2 March, P1 April validated |
/// | 2026-11-22 | P1 October 50 h declared (pending)                                    |
struct Set {
    w: World,
    p2: String,
    p1_march: String,
}

async fn hand_checked(app: &TestApp) -> Set {
    let w = app.world().await;
    app.ok(
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }",
        json!({"i": {"marketId": w.market, "labourShareBp": 5000, "overrideHours": "1000"}}),
    )
    .await;
    let person = app
        .ok(
            CREATE_PARTICIPANT,
            json!({"i": {"territoryId": w.territory, "firstName": "Jean", "lastName": "Payet",
                "birthDate": "2001-01-15", "sex": "MALE", "educationLevel": "BELOW_LEVEL_3",
                "qpvResident": false, "publics": ["AAH"], "unemployedSince": "2023-06-01"}}),
        )
        .await["createParticipant"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.set(at("2026-02-20"));
    let p2 = app
        .ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": person, "marketId": w.market, "lotId": w.lot,
                "modality": "MADE_AVAILABLE", "employerId": w.etti, "contractType": "INSERTION_INTERIM",
                "startDate": "2026-03-01", "endDate": "2026-12-31", "weeklyHours": "26"}}),
        )
        .await["createPlacement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let validate = |ids: Vec<String>| async move {
        app.ok(VALIDATE, json!({"i": {"entryIds": ids}})).await;
    };
    app.clock.set(at("2026-03-05"));
    let feb = app.record_ok(&w.placement, "2026-02", "100").await;
    app.clock.set(at("2026-03-10"));
    validate(vec![feb]).await;
    app.clock.set(at("2026-04-05"));
    let p1_march = app.record_ok(&w.placement, "2026-03", "120").await;
    let p2_march = app.record_ok(&p2, "2026-03", "80").await;
    app.clock.set(at("2026-04-10"));
    validate(vec![p1_march.clone()]).await;
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [p2_march], "reason": "feuilles d'heures absentes"}}),
    )
    .await;
    app.clock.set(at("2026-05-05"));
    let p2_again = app.record_ok(&p2, "2026-03", "70").await;
    let april = app.record_ok(&w.placement, "2026-04", "110").await;
    app.clock.set(at("2026-06-15"));
    // The facilitator's correction is validated as it is entered.
    app.ok(
        CORRECT,
        json!({"i": {"entryId": p1_march, "hours": "90", "reason": "double saisie"}}),
    )
    .await;
    validate(vec![p2_again, april]).await;
    app.clock.set(common::NOW.parse().unwrap());
    app.record_ok(&w.placement, "2026-10", "50").await;
    Set { w, p2, p1_march }
}

async fn market_report(app: &TestApp, market: &str, as_at: Option<&str>) -> Value {
    app.ok(MARKET_REPORT, json!({"id": market, "asAt": as_at}))
        .await["marketReport"]
        .clone()
}

fn band<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["band"] == code)
        .unwrap_or_else(|| panic!("no band {code}"))
}

async fn market_report_figures_by_hand(app: &TestApp) {
    let s = hand_checked(app).await;
    let r = market_report(app, &s.w.market, None).await;
    let m = &r["market"];
    assert_eq!(r["asAt"], "2026-11-22");
    // Validated: 100 + 120 − 30 + 110 (P1) + 70 (P2) = 370 h, from 5 entries.
    assert_eq!(m["hours"]["validated"]["minutes"], 370 * H);
    assert_eq!(m["hours"]["validated"]["entries"], 5);
    // Pending: P1 October 50 h. Rejected: P2's first March, 80 h.
    assert_eq!(m["hours"]["pending"]["minutes"], 50 * H);
    assert_eq!(m["hours"]["rejected"]["minutes"], 80 * H);
    assert_eq!(m["hours"]["counted"]["minutes"], 370 * H);
    assert_eq!(m["targetMinutes"], 1000 * H);
    // 370 / 1000 = 37 %.
    assert_eq!(m["completionBp"], 3700);
    // 2026-01-01 → 2026-11-22 is 326 of 730 days: 22 200 min × 730 ÷ 326 = 49 711 min
    // (828.5 h): not under 80 % of 1 000 h (behind), but under 100 % (at risk).
    assert_eq!(m["forecast"]["minutesAtEnd"], 49_711);
    assert_eq!(m["forecast"]["pace"], "AT_RISK");
    assert_eq!(m["forecast"]["behindBelowBp"], 8000);
    assert_eq!(m["forecast"]["atRiskBelowBp"], 10_000);
    // By modality: direct hire 100 + 90 + 110 = 300 validated, 50 pending; made available
    // 70 validated, 80 rejected.
    let modality = |name: &str| {
        r["byModality"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["modality"] == name)
            .unwrap()["hours"]
            .clone()
    };
    assert_eq!(modality("DIRECT_HIRE")["validated"]["minutes"], 300 * H);
    assert_eq!(modality("DIRECT_HIRE")["pending"]["minutes"], 50 * H);
    assert_eq!(modality("MADE_AVAILABLE")["validated"]["minutes"], 70 * H);
    assert_eq!(modality("MADE_AVAILABLE")["rejected"]["minutes"], 80 * H);
    assert_eq!(r["lots"][0]["hours"]["validated"]["minutes"], 370 * H);
    // People: Hoarau (35 at recruitment, 26–50), Payet (25 at 2026-03-01: under 26).
    assert_eq!(band(&r, "ALL")["women"], 1);
    assert_eq!(band(&r, "ALL")["men"], 1);
    assert_eq!(band(&r, "AGE:UNDER_26")["men"], 1);
    assert_eq!(band(&r, "AGE:UNDER_26")["women"], 0);
    assert_eq!(band(&r, "AGE:FROM_26_TO_50")["women"], 1);
    assert_eq!(band(&r, "AGE:OVER_50")["total"], 0);
    assert_eq!(band(&r, "EDU:BELOW_LEVEL_3")["men"], 1);
    assert_eq!(band(&r, "EDU:LEVEL_3")["women"], 1);
    // Payet: unemployed 2023-06-01 → 2026-03-01, 2 years 9 months; Hoarau not registered.
    assert_eq!(band(&r, "UNEMP:OVER_TWO_YEARS")["men"], 1);
    assert_eq!(band(&r, "UNEMP:NOT_REGISTERED")["women"], 1);
    assert_eq!(band(&r, "PUBLIC:RSA")["total"], 1);
    assert_eq!(band(&r, "PUBLIC:AAH")["men"], 1);
    assert_eq!(band(&r, "QPV:true")["women"], 1);
    assert_eq!(band(&r, "QPV:false")["men"], 1);
    // Contracts: one CDD (a QPV resident), one insertion interim.
    assert_eq!(
        r["contracts"],
        json!([{"contractType": "CDD", "count": 1, "qpvResidents": 1},
               {"contractType": "INSERTION_INTERIM", "count": 1, "qpvResidents": 0}])
    );
    // ETP: 370 h ÷ 1 607 h = 0.2302… → 23 hundredths.
    assert_eq!(
        r["etp"],
        json!({"hundredths": 23, "divisorMinutes": 1607 * H})
    );
    let csv = r["export"]["csv"].as_str().unwrap();
    assert!(
        csv.starts_with("/reports/market/") && csv.contains(".csv?asAt=2026-11-22"),
        "{csv}"
    );
}

async fn figures_as_at_past_dates_after_corrections(app: &TestApp) {
    let s = hand_checked(app).await;
    let hours = |r: &Value, what: &str| r["market"]["hours"][what]["minutes"].as_i64().unwrap() / H;
    // End of 30 April: February 100 and March 120 validated; P2's 80 rejected on 10 April.
    let april = market_report(app, &s.w.market, Some("2026-04-30")).await;
    assert_eq!(hours(&april, "validated"), 220);
    assert_eq!(hours(&april, "pending"), 0);
    assert_eq!(hours(&april, "rejected"), 80);
    // End of 9 April: the rejection and the March validation had not happened yet.
    let before = market_report(app, &s.w.market, Some("2026-04-09")).await;
    assert_eq!(hours(&before, "validated"), 100);
    assert_eq!(hours(&before, "pending"), 200);
    assert_eq!(hours(&before, "rejected"), 0);
    // End of 14 June: the correction (15 June) is not known; the May declarations pend.
    let june14 = market_report(app, &s.w.market, Some("2026-06-14")).await;
    assert_eq!(hours(&june14, "validated"), 220);
    assert_eq!(hours(&june14, "pending"), 180);
    // End of 15 June: the correction counts, validated at once.
    let june15 = market_report(app, &s.w.market, Some("2026-06-15")).await;
    assert_eq!(hours(&june15, "validated"), 370);
    assert_eq!(hours(&june15, "pending"), 0);
    // ANRU date: the same, and Payet was already there.
    let survey = market_report(app, &s.w.market, Some("2026-06-30")).await;
    assert_eq!(hours(&survey, "validated"), 370);
    assert_eq!(band(&survey, "ALL")["total"], 2);
    // 15 February: only Hoarau had started.
    let feb = market_report(app, &s.w.market, Some("2026-02-15")).await;
    assert_eq!(band(&feb, "ALL")["total"], 1);
    assert_eq!(hours(&feb, "validated"), 0);
    // The future is refused, naming the field.
    let (code, field) = app
        .err(
            MARKET_REPORT,
            json!({"id": s.w.market, "asAt": "2026-11-23"}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("asAt"))
    );
    let _ = (&s.p2, &s.p1_march);
}

const TRACE: &str =
    "query($t: String!, $after: String) { traceEntries(trace: $t, first: 100, after: $after) {
  edges { node { id minutes status placementReference reason } } pageInfo { hasNextPage } } }";

async fn traced(app: &TestApp, token: &str) -> Vec<Value> {
    let data = app.ok(TRACE, json!({"t": token})).await;
    assert_eq!(data["traceEntries"]["pageInfo"]["hasNextPage"], false);
    data["traceEntries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn traces_expand_figures_to_their_entries(app: &TestApp) {
    let s = hand_checked(app).await;
    let r = market_report(app, &s.w.market, None).await;
    let validated = traced(
        app,
        r["market"]["hours"]["validated"]["trace"].as_str().unwrap(),
    )
    .await;
    assert_eq!(validated.len(), 5);
    let sum: i64 = validated
        .iter()
        .map(|e| e["minutes"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 370 * H);
    assert!(validated.iter().all(|e| e["status"] == "VALIDATED"));
    assert!(
        validated
            .iter()
            .any(|e| e["minutes"] == -30 * H && e["reason"] == "double saisie")
    );
    // A people figure: the under-26 band is Payet, whose entries are his two March ones.
    let young = traced(app, band(&r, "AGE:UNDER_26")["trace"].as_str().unwrap()).await;
    let mut minutes: Vec<i64> = young
        .iter()
        .map(|e| e["minutes"].as_i64().unwrap())
        .collect();
    minutes.sort();
    assert_eq!(minutes, vec![70 * H, 80 * H]);
    // As at 9 April, the validated trace holds only February, and March shows as it was then.
    let past = market_report(app, &s.w.market, Some("2026-04-09")).await;
    let then = traced(
        app,
        past["market"]["hours"]["validated"]["trace"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(then.len(), 1);
    assert_eq!(then[0]["minutes"], 100 * H);
    let pending = traced(
        app,
        past["market"]["hours"]["pending"]["trace"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|e| e["status"] == "DECLARED"));
    // A trace of a market the caller may not see answers NOT_FOUND; garbage is BAD_USER_INPUT.
    let other = app.org("Bailleur Sud", "BUYER", None, &s.w.territory).await;
    let stranger = app.user("b@sud.fr", Role::Buyer, Some(&other), &[]).await;
    let token = r["market"]["hours"]["validated"]["trace"].as_str().unwrap();
    let resp = app.run_as(Some(stranger), TRACE, json!({"t": token})).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let (code, field) = app.err(TRACE, json!({"t": "not-a-trace"})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("trace"))
    );
    // The buyer of the market traces its figures (no identities in a trace entry).
    let buyer = app
        .user("achat@port.fr", Role::Buyer, Some(&s.w.buyer), &[])
        .await;
    let resp = app.run_as(Some(buyer), TRACE, json!({"t": token})).await;
    assert_eq!(
        resp["data"]["traceEntries"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        5,
        "{resp}"
    );
}

async fn operation_report_for_the_anru(app: &TestApp) {
    let w = app.world().await;
    let op = app
        .ok(
            "mutation($i: CreateOperationInput!) { createOperation(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "name": "NPNRU Rivière des Galets", "kind": "NPNRU"}}),
        )
        .await["createOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let market = |reference: &str, category: &str, amount: i64| {
        let (op, w) = (op.clone(), &w);
        let reference = reference.to_string();
        let category = category.to_string();
        async move {
            let data = app
                .ok(
                    CREATE_MARKET,
                    json!({"i": {"buyerId": w.buyer, "operationId": op, "reference": reference, "title": "Travaux",
                        "clauseKind": "EXECUTION_CONDITION", "anruCategory": category, "amountCents": amount,
                        "startDate": "2026-01-01", "endDate": "2026-12-31",
                        "lots": [{"number": 1, "title": "Lot unique", "awardeeId": w.company}]}}),
                )
                .await;
            let id = data["createMarket"]["id"].as_str().unwrap().to_string();
            let lot = data["createMarket"]["lots"][0]["id"]
                .as_str()
                .unwrap()
                .to_string();
            for to in ["PUBLISHED", "AWARDED", "IN_PROGRESS"] {
                app.ok(common::TRANSITION, json!({"i": {"marketId": id, "to": to}}))
                    .await;
            }
            (id, lot)
        }
    };
    // Works: 1 000 000 € × 50 % ÷ 30 €/h = 16 666.67 h worked (1 000 000 min); 5 % owed = 50 000 min.
    let (works, works_lot) = market("NPNRU-T1", "WORKS_ENGINEERING", 100_000_000).await;
    app.ok(
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }",
        json!({"i": {"marketId": works, "labourShareBp": 5000, "insertionRateBp": 500, "hourlyCostCents": 3000}}),
    )
    .await;
    // Local management: 200 000 € × 70 % ÷ 25 €/h = 5 600 h (336 000 min); 10 % owed = 33 600 min.
    let (gup, _) = market("NPNRU-GUP", "LOCAL_MANAGEMENT", 20_000_000).await;
    app.ok(
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }",
        json!({"i": {"marketId": gup, "labourShareBp": 7000, "insertionRateBp": 1000, "hourlyCostCents": 2500}}),
    )
    .await;
    let boyer = app.participant(&w.territory, "Boyer").await;
    let p = app
        .placement(&boyer, &works, &works_lot, &w.company, "DIRECT_HIRE")
        .await;
    app.clock.set(at("2026-06-05"));
    let may = app.record_ok(&p, "2026-05", "151.5").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [may]}})).await;
    app.clock.set(at("2026-07-05"));
    let june = app.record_ok(&p, "2026-06", "140").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [june]}})).await;
    app.clock.set(common::NOW.parse().unwrap());
    let q = "query($id: ID!, $asAt: NaiveDate) { operationReport(operationId: $id, asAt: $asAt) {
        hours { validated { minutes } } hires qpvHires markets { reference completionBp }
        commitments { category rateBp insertion { counted { minutes trace } } workedMinutes owedMinutes achievedBp met marketsWithoutEstimate }
        people { band total } exits { total } export { xlsx } } }";
    // As at the ANRU's 30 June: May only (151.5 h = 9 090 min; June recorded 5 July).
    let r = app.ok(q, json!({"id": op, "asAt": "2026-06-30"})).await["operationReport"].clone();
    assert_eq!(r["hours"]["validated"]["minutes"], 9_090);
    let works_line = &r["commitments"][0];
    assert_eq!(works_line["category"], "WORKS_ENGINEERING");
    assert_eq!(works_line["rateBp"], 500);
    assert_eq!(works_line["workedMinutes"], 1_000_000);
    assert_eq!(works_line["owedMinutes"], 50_000);
    assert_eq!(works_line["insertion"]["counted"]["minutes"], 9_090);
    // 9 090 ÷ 1 000 000 = 0.909 %, rounded down to 90 bp.
    assert_eq!(works_line["achievedBp"], 90);
    assert_eq!(works_line["met"], false);
    let gup_line = &r["commitments"][1];
    assert_eq!(gup_line["category"], "LOCAL_MANAGEMENT");
    assert_eq!(gup_line["workedMinutes"], 336_000);
    assert_eq!(gup_line["owedMinutes"], 33_600);
    assert_eq!(gup_line["achievedBp"], 0);
    // Hoarau, QPV resident, hired on the works market.
    assert_eq!(r["hires"], 1);
    assert_eq!(r["qpvHires"], 1);
    assert_eq!(band(&r, "QPV:true")["total"], 1);
    // Today: May and June, 151.5 + 140 = 291.5 h = 17 490 min.
    let now = app.ok(q, json!({"id": op})).await["operationReport"].clone();
    assert_eq!(
        now["commitments"][0]["insertion"]["counted"]["minutes"],
        17_490
    );
    let traced_now = traced(
        app,
        now["commitments"][0]["insertion"]["counted"]["trace"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(traced_now.len(), 2);
    // A buyer of the operation's owner sees it only if it owns it: the world's buyer does not.
    let buyer = app
        .user("achat@port.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    let resp = app.run_as(Some(buyer), q, json!({"id": op})).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

async fn chantier_evaluation_fiche_aci(app: &TestApp) {
    let w = app.world().await;
    let funder = app.org("DDETS 974", "FUNDER", None, &w.territory).await;
    let c = app
        .ok(
            "mutation($i: CreateChantierInput!) { createChantier(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "title": "Parc du 20 décembre", "kind": "ACI",
                "carrierId": w.aci, "ownerId": w.buyer, "place": "Le Port", "startDate": "2026-01-01",
                "endDate": "2026-12-31", "capacity": 12, "activities": "Espaces verts"}}),
        )
        .await["createChantier"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($i: AddSupervisorInput!) { addChantierSupervisor(input: $i) { id } }",
        json!({"i": {"chantierId": c, "name": "Paul Técher", "organizationId": w.aci, "technicalHours": "800", "socioProfessionalHours": "200", "theoryTrainingHours": "0"}}),
    )
    .await;
    app.ok(
        "mutation($i: AddFundingLineInput!) { addFundingLine(input: $i) { id } }",
        json!({"i": {"chantierId": c, "funderId": funder, "funderCategory": "STATE", "purpose": "ACCOMPANIMENT", "year": 2026, "amountCents": 1_500_000}}),
    )
    .await;
    app.ok(
        "mutation($i: EvaluationNotesInput!) { setChantierEvaluationNotes(input: $i) { id } }",
        json!({"i": {"chantierId": c, "coordination": "TCO", "objectives": "Remettre au travail", "economicPartners": "Pépinière du Port", "qualitativeNotes": "Bonne dynamique"}}),
    )
    .await;
    let r = app
        .ok(
            "query($id: ID!) { chantierEvaluation(chantierId: $id) { title place carrier owner coordination objectives
                economicPartners qualitativeNotes activities headcount partners supervision { kind minutes structure }
                funding { funder amountCents } fundingTotalCents totalCostCents costPerPersonCents
                exits { total dynamicRateBp targetBp meetsTarget abandonments } export { csv } } }",
            json!({"id": c}),
        )
        .await["chantierEvaluation"]
        .clone();
    assert_eq!(r["title"], "Parc du 20 décembre");
    assert_eq!(r["carrier"], "ACI Ti Kaz");
    assert_eq!(r["owner"], "Commune du Port");
    assert_eq!(r["coordination"], "TCO");
    assert_eq!(r["economicPartners"], "Pépinière du Port");
    assert_eq!(r["headcount"], 0);
    assert_eq!(r["partners"], json!(["DDETS 974"]));
    assert_eq!(
        r["supervision"],
        json!([{"kind": "Formation technique", "minutes": 800 * H, "structure": "ACI Ti Kaz"},
               {"kind": "Socio-professionnel", "minutes": 200 * H, "structure": "ACI Ti Kaz"}])
    );
    assert_eq!(
        r["funding"],
        json!([{"funder": "DDETS 974", "amountCents": 1_500_000}])
    );
    assert_eq!(r["fundingTotalCents"], 1_500_000);
    // No people, no exits: no rate, no cost per person; the target is La Réunion's 30 %.
    assert_eq!(r["costPerPersonCents"], Value::Null);
    assert_eq!(r["exits"]["dynamicRateBp"], Value::Null);
    assert_eq!(r["exits"]["targetBp"], 3000);
    // Blank clears a note; bad ids name the field.
    app.ok(
        "mutation($i: EvaluationNotesInput!) { setChantierEvaluationNotes(input: $i) { id } }",
        json!({"i": {"chantierId": c, "coordination": "  "}}),
    )
    .await;
    let again = app
        .ok(
            "query($id: ID!) { chantierEvaluation(chantierId: $id) { coordination objectives } }",
            json!({"id": c}),
        )
        .await;
    assert_eq!(
        again["chantierEvaluation"],
        json!({"coordination": null, "objectives": "Remettre au travail"})
    );
    let (code, field) = app
        .err(
            "query($id: ID!) { chantierEvaluation(chantierId: $id) { title } }",
            json!({"id": w.market}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("chantierId"))
    );
}

async fn territory_report_and_refusals(app: &TestApp) {
    let s = hand_checked(app).await;
    let q = "query($id: ID!, $from: NaiveDate, $to: NaiveDate, $asAt: NaiveDate) { territoryReport(territoryId: $id, from: $from, to: $to, asAt: $asAt) {
        hours { validated { minutes } pending { minutes } } markets { reference } people { band total } exits { total } } }";
    // Periods of March and April only: 120 − 30 + 70 (March) + 110 (April) = 270 h validated.
    let r = app
        .ok(
            q,
            json!({"id": s.w.territory, "from": "2026-03-01", "to": "2026-04-30"}),
        )
        .await["territoryReport"]
        .clone();
    assert_eq!(r["hours"]["validated"]["minutes"], 270 * H);
    assert_eq!(r["hours"]["pending"]["minutes"], 0);
    assert_eq!(r["markets"], json!([{"reference": "LP-2026-001"}]));
    assert_eq!(band(&r, "ALL")["total"], 2);
    let (code, field) = app
        .err(
            q,
            json!({"id": s.w.territory, "from": "2026-05-01", "to": "2026-04-30"}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("to"))
    );
    // A facilitator of another territory does not see it.
    let elsewhere = app.territory("976-AUTRE").await;
    let f = app
        .user("f@autre.fr", Role::Facilitator, None, &[&elsewhere])
        .await;
    let resp = app.run_as(Some(f), q, json!({"id": s.w.territory})).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

async fn token(app: &TestApp, email: &str) -> String {
    let resp = app
        .run_as(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({"e": email, "p": common::PASSWORD}),
        )
        .await;
    resp["data"]["login"]["token"].as_str().unwrap().to_string()
}

async fn exports_over_http(app: &TestApp) {
    let s = hand_checked(app).await;
    app.user("fac@port.fr", Role::Facilitator, None, &[&s.w.territory])
        .await;
    let other = app.org("Bailleur Sud", "BUYER", None, &s.w.territory).await;
    app.user("b@sud.fr", Role::Buyer, Some(&other), &[]).await;
    let fac = token(app, "fac@port.fr").await;
    let stranger = token(app, "b@sud.fr").await;
    let router = passerelle::app(app.ctx.clone(), &Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(passerelle::http::serve(
        listener,
        router,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));
    let link = market_report(app, &s.w.market, Some("2026-06-30")).await["export"].clone();
    let client = reqwest::Client::new();
    let get = |path: String, token: Option<String>| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let mut req = client.get(format!("{base}{path}"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap()
        }
    };
    let resp = get(link["csv"].as_str().unwrap().into(), Some(fac.clone())).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("marche-lp-2026-001-2026-06-30.csv")
    );
    let body = resp.text().await.unwrap();
    assert!(body.starts_with('\u{feff}'), "a BOM for Excel");
    // 370 h validated as at 30 June, written with a decimal comma and `;` between columns.
    assert!(body.contains("Heures validées;370,00"), "{body}");
    assert!(body.contains("Taux de réalisation;37,00"), "{body}");
    assert!(
        body.contains("Tranche d'âge;Moins de 26 ans;0;1;1"),
        "{body}"
    );
    // As asked: comma-separated, decimal point.
    let resp = get(
        format!("{}&sep=,&decimal=.", link["csv"].as_str().unwrap()),
        Some(fac.clone()),
    )
    .await;
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Heures validées,370.00")
    );
    let resp = get(
        format!("{}&sep=,&decimal=,", link["csv"].as_str().unwrap()),
        Some(fac.clone()),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["errors"][0]["extensions"]["field"], "decimal");
    // The workbook is a zip (xlsx), one sheet per section.
    let resp = get(link["xlsx"].as_str().unwrap().into(), Some(fac.clone())).await;
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    // Same authentication and scopes as the API.
    assert_eq!(
        get(link["csv"].as_str().unwrap().into(), None)
            .await
            .status(),
        401
    );
    assert_eq!(
        get(link["csv"].as_str().unwrap().into(), Some(stranger))
            .await
            .status(),
        404
    );
    let territory = format!("/reports/territory/{}.csv", s.w.territory);
    let resp = get(territory, Some(fac.clone())).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Rapport d'activité"));
    assert_eq!(
        get(format!("/reports/market/{}.pdf", s.w.market), Some(fac))
            .await
            .status(),
        400
    );
    stop.send(()).ok();
}

async fn upload(app: &TestApp, actor: Actor, csv: impl AsRef<[u8]>) -> Value {
    app.upload_hours(actor, csv).await
}

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

async fn ledger_size(app: &TestApp) -> i64 {
    app.count("hour_entry").await
}

/// The test world, the company's payroll account that uploads, and a second person on the lot.
async fn importer(app: &TestApp) -> (World, Actor, String) {
    let w = app.world().await;
    let company = app
        .user("paie@btp.fr", Role::Company, Some(&w.company), &[])
        .await;
    let other = app.participant(&w.territory, "Grondin").await;
    let p2 = app
        .placement(&other, &w.market, &w.lot, &w.company, "DIRECT_HIRE")
        .await;
    (w, company, p2)
}

async fn import_records_a_good_file_once(app: &TestApp) {
    let (w, company, p2) = importer(app).await;
    let (r1, r2) = (
        reference(app, &w.placement).await,
        reference(app, &p2).await,
    );
    assert!(r1.starts_with("MS-") && r1.len() == 13, "{r1}");
    // French spreadsheet: `;`, decimal comma, BOM, a name column, lower-case reference.
    let csv = format!(
        "\u{feff}Référence;Nom;Mois;Heures;Nature\n{r1};Hoarau;2026-09;151,5;travail\n{};grondin;10/2026;120;\n{r1};Hoarau;2026-10;7,5;formation\n",
        r2.to_lowercase()
    );
    let before = ledger_size(app).await;
    let first = upload(app, company.clone(), &csv).await;
    assert!(first.get("errors").is_none(), "{first}");
    let done = &first["data"]["importHourStatements"];
    assert_eq!(done["lineCount"], 3);
    assert_eq!(done["recordedCount"], 3);
    assert_eq!(done["unchangedCount"], 0);
    assert_eq!(ledger_size(app).await, before + 3);
    // 151.5 + 120 + 7.5 h declared (9 090 + 7 200 + 450 min), nothing validated yet.
    let r = market_report(app, &w.market, None).await;
    assert_eq!(r["market"]["hours"]["pending"]["minutes"], 16_740);
    assert_eq!(r["market"]["hours"]["validated"]["minutes"], 0);
    // The same file again records nothing.
    let again = upload(app, company.clone(), &csv).await;
    let again = &again["data"]["importHourStatements"];
    assert_eq!(again["recordedCount"], 0);
    assert_eq!(again["unchangedCount"], 3);
    assert_eq!(again["sha256"], done["sha256"]);
    assert_eq!(ledger_size(app).await, before + 3);
    assert_eq!(app.count("hour_import").await, 2);
    // The entries came from the import, are declared, and carry its id.
    let entries = app
        .ok("query($id: ID!) { hourEntries(filter: {marketId: $id}) { edges { node { source status } } } }", json!({"id": w.market}))
        .await;
    let edges = entries["hourEntries"]["edges"].as_array().unwrap();
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["source"] == "IMPORT" && e["node"]["status"] == "DECLARED")
    );
}

async fn import_refuses_a_bad_file_whole(app: &TestApp) {
    let w = app.world().await;
    let company = app
        .user("paie@btp.fr", Role::Company, Some(&w.company), &[])
        .await;
    let r1 = reference(app, &w.placement).await;
    // A placement of another company: its reference is unknown to this one.
    let rival = app.org("Rival BTP", "COMPANY", None, &w.territory).await;
    let (m2, l2) = app
        .market_in_progress(&w.buyer, "LP-2026-099", &rival)
        .await;
    let stranger = app.participant(&w.territory, "Nativel").await;
    let theirs = reference(
        app,
        &app.placement(&stranger, &m2, &l2, &rival, "DIRECT_HIRE")
            .await,
    )
    .await;
    let csv = format!(
        "reference;mois;heures\n\
         {r1};2026-09;151,5\n\
         MS-NOPE;2026-09;10\n\
         {r1};2026-13;10\n\
         {r1};2026-08;abc\n\
         {r1};2026-12;10\n\
         {r1};2026-09;12\n\
         {theirs};2026-09;10\n\
         {r1};2026-07;900\n\
         ;2026-06;10\n"
    );
    let before = ledger_size(app).await;
    let resp = upload(app, company.clone(), &csv).await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(ext["code"], "FILE_REFUSED", "{resp}");
    assert_eq!(ext["field"], "file");
    let errors: Vec<(i64, String)> = ext["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |line: i64, column: &str| {
        assert!(
            errors.contains(&(line, column.to_string())),
            "line {line} {column} in {errors:?}"
        );
    };
    expect(3, "reference"); // unknown reference
    expect(4, "mois"); // month 13
    expect(5, "heures"); // not a number
    expect(6, "mois"); // December 2026 is still to come (today 22 November)
    expect(7, "reference"); // same person and month as line 2
    expect(8, "reference"); // another company's placement
    expect(9, "heures"); // 900 h in July is more than the month can hold
    expect(10, "reference"); // empty reference
    assert_eq!(ext["errorCount"], 8);
    // Line 2 alone was good, yet no hour was written; the refusal alone stays, in the import
    // history (issue 20, tests/imports.rs).
    assert_eq!(ledger_size(app).await, before);
    assert_eq!(
        app.count("hour_import WHERE status = 'REFUSED' AND recorded_count = 0")
            .await,
        1
    );
    assert_eq!(app.count("hour_import").await, 1);
    // A header without the hours column is refused at line 1; an empty file too.
    let resp = upload(app, company.clone(), "reference;mois\nX;2026-09\n").await;
    assert_eq!(resp["errors"][0]["extensions"]["errors"][0]["line"], 1);
    assert_eq!(
        resp["errors"][0]["extensions"]["errors"][0]["column"],
        "heures"
    );
    let resp = upload(app, company.clone(), "").await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "FILE_REFUSED");
    // Not UTF-8 (a Windows-1252 "é"): the message says how to save it.
    let resp = upload(app, company.clone(), b"r\xe9f;mois;heures\n".as_slice()).await;
    assert_eq!(
        resp["errors"][0]["extensions"]["errors"][0]["column"],
        "fichier"
    );
    // A line changing hours already declared is refused: corrections go through the facilitator.
    let ok = upload(
        app,
        company.clone(),
        &format!("reference;mois;heures\n{r1};2026-09;100\n"),
    )
    .await;
    assert!(ok.get("errors").is_none(), "{ok}");
    let changed = upload(
        app,
        company.clone(),
        &format!("reference;mois;heures\n{r1};2026-09;110\n"),
    )
    .await;
    assert_eq!(
        changed["errors"][0]["extensions"]["errors"][0]["column"],
        "heures"
    );
    // A buyer may not import.
    let buyer = app
        .user("achat@port.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    let resp = upload(
        app,
        buyer,
        &format!("reference;mois;heures\n{r1};2026-08;10\n"),
    )
    .await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

/// The market's deadlines as stored: key, status, met on, due on, revision.
async fn stored_deadlines(
    app: &TestApp,
    market: &str,
) -> Vec<(
    String,
    String,
    Option<chrono::NaiveDate>,
    chrono::NaiveDate,
    i32,
)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let id = passerelle::ids::parse(market).unwrap().1;
    entity::deadline::Entity::find()
        .filter(entity::deadline::Column::SubjectId.eq(id))
        .order_by_asc(entity::deadline::Column::Key)
        .all(&app.ctx.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.key, d.status, d.met_on, d.due_on, d.revision))
        .collect()
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// Recording and importing update only the month's statement deadline (one UPDATE, no
/// re-derivation of the market): the result must be what the full re-derivation gives.
/// Cases: a month met before today stays; met after today (a clock that lagged) moves back to
/// today; an open month is met today; a month without hours stays open.
async fn new_hours_meet_statements_as_a_full_rederivation_would(app: &TestApp) {
    let (w, company, p2) = importer(app).await;
    // August arrived on 5 September; July "on 30 November" by a clock running ahead.
    app.clock.set(at("2026-09-05"));
    app.record_ok(&w.placement, "2026-08", "10").await;
    app.clock.set(at("2026-11-30"));
    app.record_ok(&w.placement, "2026-07", "10").await;
    app.clock.set(NOW.parse().unwrap());
    let key = |month: &str| {
        let lot = passerelle::ids::parse(&w.lot).unwrap().1;
        format!("{lot}:{month}")
    };
    let met = |rows: &[(
        String,
        String,
        Option<chrono::NaiveDate>,
        chrono::NaiveDate,
        i32,
    )],
               month: &str| {
        let row = rows.iter().find(|r| r.0 == key(month)).unwrap();
        (row.1.clone(), row.2)
    };
    let before = stored_deadlines(app, &w.market).await;
    assert_eq!(
        met(&before, "2026-08"),
        ("MET".into(), Some(day("2026-09-05")))
    );
    assert_eq!(
        met(&before, "2026-07"),
        ("MET".into(), Some(day("2026-11-30")))
    );
    assert_eq!(met(&before, "2026-10").0, "OPEN");
    // A recording and a file, each landing on the three cases.
    app.record_ok(&w.placement, "2026-09", "10").await;
    let (r1, r2) = (
        reference(app, &w.placement).await,
        reference(app, &p2).await,
    );
    let csv = format!(
        "reference;mois;heures\n{r2};2026-08;20\n{r2};2026-07;20\n{r2};2026-10;20\n{r1};2026-10;5\n"
    );
    let done = upload(app, company, &csv).await;
    assert_eq!(
        done["data"]["importHourStatements"]["recordedCount"], 4,
        "{done}"
    );
    let after = stored_deadlines(app, &w.market).await;
    let today = Some(day("2026-11-22"));
    assert_eq!(
        met(&after, "2026-08"),
        ("MET".into(), Some(day("2026-09-05")))
    );
    assert_eq!(met(&after, "2026-07"), ("MET".into(), today));
    assert_eq!(met(&after, "2026-09"), ("MET".into(), today));
    assert_eq!(met(&after, "2026-10"), ("MET".into(), today));
    assert_eq!(met(&after, "2026-11").0, "OPEN");
    // Reminders see each change: the revision moved for July, September and October only.
    let moved: Vec<&str> = after
        .iter()
        .zip(&before)
        .filter(|(a, b)| a.4 != b.4)
        .map(|(a, _)| a.0.rsplit(':').next().unwrap())
        .collect();
    assert_eq!(moved, ["2026-07", "2026-09", "2026-10"]);
    // The full re-derivation finds nothing left to do.
    let txn = app.ctx.db.begin_write().await.unwrap();
    let market = passerelle::ids::parse(&w.market).unwrap().1;
    passerelle::service::deadlines::sync(
        &txn.txn,
        &app.ctx,
        passerelle::service::deadlines::SubjectRef::Market(market),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(stored_deadlines(app, &w.market).await, after);
}

const GLANCE: &str = "query($id: ID!) { node(id: $id) { ... on Market { hoursDelivered hoursValidated hoursPending hoursPendingDeductions completionRate
  byModality { modality hoursDelivered hoursValidated hoursPending hoursPendingDeductions }
  lots { hoursDelivered hoursValidated hoursPending hoursPendingDeductions completionRate } } } }";
const FIGURES: &str = "query($id: ID!) { marketReport(marketId: $id) {
  market { completionBp hours { validated { minutes } counted { minutes } pending { minutes } pendingDeductions { minutes trace } }
           forecast { minutesAtEnd pace } }
  lots { hours { counted { minutes } } completionBp } } }";
const BEHIND: &str =
    "query($id: ID!) { workflow(id: $id) { deadlines { rule title dueOn status } } }";

async fn market_behind(app: &TestApp, market: &str) -> Option<Value> {
    app.ok(BEHIND, json!({"id": market})).await["workflow"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "MARKET_BEHIND")
        .cloned()
}

/// One definition of "delivered": on a market where training does not count, the market's
/// fields, its report and its MARKET_BEHIND forecast say the same; when training counts, the
/// same three count it. (On the old code the fields and the forecast counted the training
/// hours whatever the parameter: 40 h delivered against the report's 30 h, and no deadline
/// while the report said BEHIND.)
async fn one_engine_where_training_does_not_count(app: &TestApp) {
    let w = app.world().await;
    let set_training = |value: &str| json!({"i": {"key": "TRAINING_HOURS_COUNT", "marketId": w.market, "value": value, "reason": "clause du marché"}});
    const SET: &str = "mutation($i: SetParameterInput!) { setParameter(input: $i) { id } }";
    // Set before anything is recorded: the recordings re-derive the market's deadlines.
    app.ok(SET, set_training("false")).await;
    // 2026-01-01 to 2027-12-31, 326 of 730 days gone on 22 Nov 2026; target 100 h: behind
    // under 80 h at the end, i.e. under 35.7 h counted so far.
    app.ok(
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }",
        json!({"i": {"marketId": w.market, "labourShareBp": 5000, "overrideHours": "100"}}),
    )
    .await;
    let work = app.record_ok(&w.placement, "2026-10", "30").await;
    let training = app
        .ok(
            RECORD,
            json!({"i": {"placementId": w.placement, "month": "2026-09", "kind": "TRAINING", "hours": "10"}}),
        )
        .await["recordHours"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(VALIDATE, json!({"i": {"entryIds": [work, training]}}))
        .await;

    let glance = app.ok(GLANCE, json!({"id": w.market})).await["node"].clone();
    let report = app.ok(FIGURES, json!({"id": w.market})).await["marketReport"].clone();
    let m = &report["market"];
    assert_eq!(m["hours"]["counted"]["minutes"], 30 * H);
    assert_eq!(m["hours"]["validated"]["minutes"], 40 * H);
    assert_eq!(
        glance["hoursDelivered"].as_f64().unwrap() * 60.0,
        30.0 * 60.0
    );
    assert_eq!(glance["hoursValidated"], 40.0);
    assert_eq!(
        glance["completionRate"].as_f64().unwrap(),
        m["completionBp"].as_i64().unwrap() as f64 / 10_000.0
    );
    assert_eq!(glance["completionRate"], 0.3);
    assert_eq!(glance["lots"][0]["hoursDelivered"], 30.0);
    // 30 h × 730 / 326 = 67.2 h at the end: behind, in the report and in the deadline alike.
    assert_eq!(m["forecast"]["pace"], "BEHIND");
    let at_end = m["forecast"]["minutesAtEnd"].as_i64().unwrap();
    assert_eq!(at_end / 60, 67);
    let behind = market_behind(app, &w.market).await.expect("MARKET_BEHIND");
    assert_eq!(behind["status"], "OPEN");
    let title = behind["title"].as_str().unwrap();
    assert!(
        title.contains(&format!("prévision {} h", at_end / 60)),
        "{title}"
    );

    // Boundary: training counts. The parameter's reflow of the territory may run later
    // (asynchronously): re-derive the market's deadlines directly.
    app.ok(SET, set_training("true")).await;
    let id = passerelle::ids::decode(
        passerelle::ids::Kind::Market,
        &async_graphql::ID(w.market.clone()),
        "marketId",
    )
    .unwrap();
    passerelle::service::deadlines::sync(
        &app.ctx.db.conn,
        &app.ctx,
        passerelle::service::deadlines::SubjectRef::Market(id),
    )
    .await
    .unwrap();
    let glance = app.ok(GLANCE, json!({"id": w.market})).await["node"].clone();
    let report = app.ok(FIGURES, json!({"id": w.market})).await["marketReport"].clone();
    assert_eq!(report["market"]["hours"]["counted"]["minutes"], 40 * H);
    assert_eq!(glance["hoursDelivered"], 40.0);
    assert_eq!(glance["completionRate"], 0.4);
    assert_eq!(report["market"]["completionBp"], 4000);
    // 40 h × 730 / 326 = 89.6 h: no longer behind, and the deadline says so.
    assert_ne!(report["market"]["forecast"]["pace"], "BEHIND");
    assert_eq!(
        market_behind(app, &w.market).await.unwrap()["status"],
        "MET"
    );
}

/// A downward correction awaiting validation is shown apart: `hoursPending` never goes below
/// zero (on the old code: -10 h), the hours it would take away are `hoursPendingDeductions`,
/// and the report's figures and traces say the same.
async fn pending_corrections_never_make_a_figure_negative(app: &TestApp) {
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "10").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    let c = app
        .ok(
            CORRECT,
            json!({"i": {"entryId": e, "hours": "0", "reason": "heures d'un autre chantier"}}),
        )
        .await["correctHours"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let status = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on HourEntry { status } } }",
            json!({"id": c}),
        )
        .await["node"]["status"]
        .clone();
    let glance = app.ok(GLANCE, json!({"id": w.market})).await["node"].clone();
    let report = app.ok(FIGURES, json!({"id": w.market})).await["marketReport"].clone();
    let hours = &report["market"]["hours"];
    for v in [
        &glance["hoursPending"],
        &glance["hoursPendingDeductions"],
        &glance["hoursDelivered"],
        &glance["byModality"][0]["hoursPending"],
        &glance["lots"][0]["hoursPending"],
    ] {
        assert!(v.as_f64().unwrap() >= 0.0, "{glance}");
    }
    assert_eq!(glance["hoursPending"], 0.0);
    assert_eq!(hours["pending"]["minutes"], 0);
    if status == "DECLARED" {
        // Awaiting validation: the 10 h stay delivered, the deduction is shown apart.
        assert_eq!(glance["hoursDelivered"], 10.0);
        assert_eq!(glance["hoursPendingDeductions"], 10.0);
        assert_eq!(glance["lots"][0]["hoursPendingDeductions"], 10.0);
        assert_eq!(glance["byModality"][0]["hoursPendingDeductions"], 10.0);
        assert_eq!(hours["pendingDeductions"]["minutes"], 10 * H);
        let entries = traced(app, hours["pendingDeductions"]["trace"].as_str().unwrap()).await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["id"], c);
        assert_eq!(entries[0]["minutes"], -10 * H);
        app.ok(VALIDATE, json!({"i": {"entryIds": [c]}})).await;
    }
    // Validated (at once, or now): nothing pending, nothing delivered.
    let glance = app.ok(GLANCE, json!({"id": w.market})).await["node"].clone();
    assert_eq!(
        (
            glance["hoursDelivered"].clone(),
            glance["hoursPending"].clone(),
            glance["hoursPendingDeductions"].clone()
        ),
        (json!(0.0), json!(0.0), json!(0.0))
    );
}
