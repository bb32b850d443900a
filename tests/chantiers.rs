//! Chantiers and participants' paths (issue 4): parameters, set-up, budget, funding caps,
//! eligibility and PASS IAE, contract rules, immersions, supervision, exits. Every rule is
//! tried just under, at and just over its limit, on SQLite and PostgreSQL.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

db_tests!(
    parameters_are_dated_scoped_and_validated,
    renovation_chantier_from_set_up_to_exit,
    budget_balances_and_caps_commercial_revenue,
    derogation_granted_after_creation,
    funding_lines_stay_within_their_caps,
    eligibility_proofs_levels_and_pass_iae,
    cddi_length_hours_and_derogations,
    supervision_ratio_and_immersions,
    a_supervisor_is_corrected_while_the_placements_stay_covered,
    chantiers_are_seen_by_those_who_run_own_or_fund_them,
);

const SET_PARAM: &str = "mutation($i: SetParameterInput!) { setParameter(input: $i) { id key level value effectiveFrom } }";
const PARAMS: &str = "query($t: ID, $m: ID, $on: NaiveDate) { parameters(territoryId: $t, marketId: $m, on: $on) { key value level since } }";
const CREATE_CHANTIER: &str =
    "mutation($i: CreateChantierInput!) { createChantier(input: $i) { id status kind } }";
const SUPERVISOR: &str =
    "mutation($i: AddSupervisorInput!) { addChantierSupervisor(input: $i) { id } }";
const BUDGET: &str = "mutation($i: SetBudgetInput!) { setChantierBudget(input: $i) { id version warnings commercialShareBp unforeseenShareBp lines { category charge amountCents } } }";
const FUNDING: &str =
    "mutation($i: AddFundingLineInput!) { addFundingLine(input: $i) { id amountCents } }";
const ELIGIBILITY: &str = "mutation($i: RecordEligibilityInput!) { recordEligibility(input: $i) { id validUntil proofs { criterion level } } }";
const IMMERSION: &str = "mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }";
const EXTEND: &str =
    "mutation($i: ExtendPlacementInput!) { extendPlacement(input: $i) { id endDate derogation } }";
const END: &str =
    "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome category dynamic } }";
const FOLLOW_UP: &str =
    "mutation($i: ExitFollowUpInput!) { recordExitFollowUp(input: $i) { outcome category } }";
const EXIT_STATS: &str = "query($i: ExitStatisticsInput!) { exitStatistics(input: $i) { targetBp followUpsMissing atExit { total durableEmployment transitionEmployment positiveExit other abandonments dynamic dynamicRateBp meetsTarget } atOneYear { total dynamic dynamicRateBp } parametersUsed { key value level } } }";

fn param_of<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .unwrap_or_else(|| panic!("no {key}"))
}

/// A chantier d'insertion rénovation on an art. 30 market of a PRU, with one supervisor.
struct Site {
    w: World,
    chantier: String,
    market: String,
}

async fn site(app: &TestApp, capacity: i32) -> Site {
    let w = app.world().await;
    let op = app
        .ok(
            "mutation($i: CreateOperationInput!) { createOperation(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "name": "PRU Ariste Bolon", "kind": "PRU"}}),
        )
        .await["createOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let market = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": w.buyer, "reference": "ART30-1", "title": "Chantier d'insertion rénovation",
                "clauseKind": "INSERTION_SERVICE_MARKET", "amountCents": 30_000_000i64, "operationId": op,
                "startDate": "2026-01-01", "endDate": "2028-12-31"}}),
        )
        .await["createMarket"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut input = json!({"territoryId": w.territory, "title": "Rénovation des halls", "kind": "RENOVATION",
        "carrierId": w.aci, "ownerId": w.buyer, "marketId": market, "place": "Le Port, Ariste Bolon",
        "startDate": "2026-05-01", "endDate": "2028-06-30", "capacity": capacity,
        "activities": "Peinture, maçonnerie légère"});
    // A rénovation chantier belongs to its urban-renewal operation.
    let (code, field) = app.err(CREATE_CHANTIER, json!({"i": input})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("operationId"))
    );
    // A company cannot carry an ACI.
    input["operationId"] = json!(op);
    let mut bad = input.clone();
    bad["carrierId"] = json!(w.company);
    let (_, field) = app.err(CREATE_CHANTIER, json!({"i": bad})).await;
    assert_eq!(field.as_deref(), Some("carrierId"));
    let data = app.ok(CREATE_CHANTIER, json!({"i": input})).await;
    assert_eq!(data["createChantier"]["status"], "PROJECT");
    let chantier = data["createChantier"]["id"].as_str().unwrap().to_string();
    app.ok(
        SUPERVISOR,
        json!({"i": {"chantierId": chantier, "name": "Jean-Paul Hoarau", "organizationId": w.aci,
            "technicalHours": "1200", "socioProfessionalHours": "300", "theoryTrainingHours": "80"}}),
    )
    .await;
    Site {
        w,
        chantier,
        market,
    }
}

async fn person(app: &TestApp, territory: &str, last: &str, born: &str, publics: Value) -> String {
    app.ok(
        CREATE_PARTICIPANT,
        json!({"i": {"territoryId": territory, "firstName": "Paul", "lastName": last, "birthDate": born,
            "sex": "MALE", "educationLevel": "BELOW_LEVEL_3", "qpvResident": true, "publics": publics}}),
    )
    .await["createParticipant"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An IAE eligibility attested by the ACI itself (three level-2 criteria) on `checked`.
async fn eligible(app: &TestApp, s: &Site, participant: &str, checked: &str, proof: &str) -> Value {
    let proofs: Vec<Value> = ["YOUNG_UNDER_26", "QPV_RESIDENT", "LOW_QUALIFICATION"]
        .iter()
        .map(|c| json!({"criterion": c, "proofKind": "SWORN_STATEMENT", "proofDate": proof}))
        .collect();
    app.ok(
        ELIGIBILITY,
        json!({"i": {"participantId": participant, "scheme": "IAE", "attesterKind": "EMPLOYER",
            "attesterId": s.w.aci, "structureKind": "ACI", "checkedOn": checked, "proofs": proofs}}),
    )
    .await["recordEligibility"]
        .clone()
}

fn cddi(s: &Site, participant: &str, start: &str, end: &str, weekly: &str) -> Value {
    json!({"i": {"participantId": participant, "chantierId": s.chantier, "modality": "SUBCONTRACTING",
        "employerId": s.w.aci, "contractType": "CDDI", "startDate": start, "endDate": end, "weeklyHours": weekly}})
}

fn id(v: &Value, field: &str) -> String {
    v[field]["id"].as_str().unwrap().to_string()
}

async fn parameters_are_dated_scoped_and_validated(app: &TestApp) {
    let w = app.world().await;
    let before = app.count("parameter_value").await;
    let set = |extra: Value| {
        let mut i = json!({"key": "SUPERVISION_RATIO", "territoryId": w.territory, "value": "10", "reason": "charte qualité"});
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({"i": i})
    };
    // Refused, and nothing written: a past date, a bad value, a key that is territory-only.
    let (code, field) = app
        .err(SET_PARAM, set(json!({"effectiveFrom": "2026-11-21"})))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("effectiveFrom"))
    );
    let (_, rule, limit, value) = app.breach(SET_PARAM, set(json!({"value": "0"}))).await;
    assert_eq!(
        (rule.as_str(), limit.as_str(), value.as_str()),
        ("SUPERVISION_RATIO", "1 – 100", "0")
    );
    let (_, field) = app.err(SET_PARAM, set(json!({"value": "douze"}))).await;
    assert_eq!(field.as_deref(), Some("value"));
    let (_, field) = app
        .err(
            SET_PARAM,
            set(json!({"territoryId": null, "marketId": w.market})),
        )
        .await;
    assert_eq!(field.as_deref(), Some("key"));
    let (_, field) = app.err(SET_PARAM, set(json!({"reason": " "}))).await;
    assert_eq!(field.as_deref(), Some("reason"));
    assert_eq!(app.count("parameter_value").await, before);

    // Today: in force at once. From 1 January: only from then.
    let today = app.ok(SET_PARAM, set(json!({}))).await;
    assert_eq!(today["setParameter"]["effectiveFrom"], "2026-11-22");
    app.ok(
        SET_PARAM,
        set(json!({"value": "8", "effectiveFrom": "2027-01-01"})),
    )
    .await;
    let at = |on: &'static str| {
        let t = w.territory.clone();
        async move {
            let data = app.ok(PARAMS, json!({"t": t, "on": on})).await;
            param_of(&data["parameters"], "SUPERVISION_RATIO").clone()
        }
    };
    assert_eq!(at("2026-11-21").await["level"], "NATIONAL");
    assert_eq!(at("2026-11-21").await["value"], "12");
    assert_eq!(at("2026-11-22").await["value"], "10");
    assert_eq!(at("2026-12-31").await["value"], "10");
    assert_eq!(at("2027-01-01").await["value"], "8");
    assert_eq!(at("2027-01-01").await["since"], "2027-01-01");

    // A market overrides what the guide allows (insertion rate), and a reset brings back the
    // territory's value.
    app.ok(SET_PARAM, json!({"i": {"key": "CALIBRATION_INSERTION_RATE", "territoryId": w.territory, "value": "7", "reason": "PLIE"}})).await;
    app.ok(SET_PARAM, json!({"i": {"key": "CALIBRATION_INSERTION_RATE", "marketId": w.market, "value": "12.5", "reason": "marché pilote"}})).await;
    let rate = |data: &Value| param_of(&data["parameters"], "CALIBRATION_INSERTION_RATE").clone();
    let on_market = app.ok(PARAMS, json!({"m": w.market})).await;
    assert_eq!(
        (
            rate(&on_market)["value"].as_str(),
            rate(&on_market)["level"].as_str()
        ),
        (Some("12.5"), Some("MARKET"))
    );
    // The calibrage proposal takes the rate in force for the market when none is given:
    // 1 000 000 € × 50 % × 12.5 % ÷ 30 €/h = 2 083 h.
    let market = w.market.clone();
    let target = |expected: f64| {
        let market = market.clone();
        async move {
            let data = app
            .ok(
                "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { hoursTarget } }",
                json!({"i": {"marketId": market, "labourShareBp": 5000}}),
            )
            .await;
            assert_eq!(data["setMarketHourTarget"]["hoursTarget"], expected);
        }
    };
    target(2083.0).await;
    app.ok(SET_PARAM, json!({"i": {"key": "CALIBRATION_INSERTION_RATE", "marketId": w.market, "value": null, "reason": "fin du pilote"}})).await;
    let on_market = app.ok(PARAMS, json!({"m": w.market})).await;
    assert_eq!(
        (
            rate(&on_market)["value"].as_str(),
            rate(&on_market)["level"].as_str()
        ),
        (Some("7"), Some("TERRITORY"))
    );
    // Back to the territory's 7 %: 1 167 h.
    target(1167.0).await;
    // Every change stays, with who and why.
    let changes = app
        .ok(
            "query($t: ID!) { parameterChanges(territoryId: $t, first: 100) { edges { node { key level value reason changedBy } } } }",
            json!({"t": w.territory}),
        )
        .await;
    let edges = changes["parameterChanges"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 5);
    assert_eq!(edges[4]["node"]["value"], Value::Null);
    assert_eq!(edges[4]["node"]["reason"], "fin du pilote");
    // The ledger of parameters refuses edits like the hours ledger.
    let sql = "UPDATE parameter_value SET value = '1'";
    let raw = sea_orm::ConnectionTrait::execute_unprepared(&app.ctx.db.conn, sql).await;
    assert!(raw.is_err(), "parameter changes are append-only");
}

async fn renovation_chantier_from_set_up_to_exit(app: &TestApp) {
    let s = site(app, 12).await;
    // Funded within the ACSé caps: 50 000 € the first year.
    let acse = |year: i32, cents: i64| json!({"i": {"chantierId": s.chantier, "funderCategory": "ACSE", "purpose": "ACSE_RENOVATION", "year": year, "amountCents": cents}});
    app.ok(FUNDING, acse(2026, 5_000_000)).await;
    let (field, rule, limit, value) = app.breach(FUNDING, acse(2026, 1)).await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("amountCents", "ACSE_RENOVATION_YEAR1_CAP")
    );
    assert_eq!(
        (limit.as_str(), value.as_str()),
        ("50\u{202f}000,00 €", "50\u{202f}000,01 €")
    );
    app.ok(FUNDING, acse(2027, 3_000_000)).await;

    // A young person of the QPV, eligible by the ACI's own diagnostic, on a 6-month CDDI.
    let p = person(app, &s.w.territory, "Grondin", "2003-02-01", json!([])).await;
    let e = eligible(app, &s, &p, "2026-05-01", "2026-04-15").await;
    assert_eq!(e["validUntil"], "2026-07-31", "92 days from the check");
    let placement = app
        .ok(
            CREATE_PLACEMENT,
            cddi(&s, &p, "2026-06-01", "2026-11-30", "26"),
        )
        .await;
    let pl = id(&placement, "createPlacement");
    let detail = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Placement { chantier { title } market { reference } } } }",
            json!({"id": pl}),
        )
        .await;
    assert_eq!(detail["node"]["chantier"]["title"], "Rénovation des halls");
    assert_eq!(
        detail["node"]["market"]["reference"], "ART30-1",
        "the chantier's market by default"
    );

    // Exit: a CDI, then the situation a year later.
    let (_, field) = app
        .err(
            END,
            json!({"i": {"placementId": pl, "exitDate": "2026-11-23", "outcome": "CDI"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("exitDate"), "not in the future");
    let (_, field) = app
        .err(END, json!({"i": {"placementId": pl, "exitDate": "2026-11-20", "outcome": "OTHER_POSITIVE"}}))
        .await;
    assert_eq!(field.as_deref(), Some("justification"));
    let exit = app
        .ok(END, json!({"i": {"placementId": pl, "exitDate": "2026-11-20", "outcome": "CDI", "detail": "BTP Ouest"}}))
        .await;
    assert_eq!(exit["endPlacement"]["category"], "DURABLE_EMPLOYMENT");
    assert_eq!(exit["endPlacement"]["dynamic"], true);
    let (code, _) = app
        .err(
            END,
            json!({"i": {"placementId": pl, "exitDate": "2026-11-20", "outcome": "CDI"}}),
        )
        .await;
    assert_eq!(code, "CONFLICT", "a path ends once");
    // Hours after the exit are refused by the ledger.
    let (code, field) = app
        .err(
            RECORD,
            json!({"i": {"placementId": pl, "day": "2026-11-21", "hours": "7"}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("period"))
    );

    // Two more exits: a training (positive) and an abandonment.
    for (last, outcome) in [("Payet", "QUALIFYING_TRAINING"), ("Técher", "ABANDONMENT")] {
        let q = person(app, &s.w.territory, last, "2002-01-01", json!([])).await;
        eligible(app, &s, &q, "2026-05-01", "2026-04-15").await;
        let pl = id(
            &app.ok(
                CREATE_PLACEMENT,
                cddi(&s, &q, "2026-06-01", "2026-11-30", "26"),
            )
            .await,
            "createPlacement",
        );
        app.ok(
            END,
            json!({"i": {"placementId": pl, "exitDate": "2026-11-10", "outcome": outcome}}),
        )
        .await;
    }
    let stats = app
        .ok(
            EXIT_STATS,
            json!({"i": {"chantierId": s.chantier, "from": "2026-01-01", "to": "2026-12-31"}}),
        )
        .await["exitStatistics"]
        .clone();
    assert_eq!(stats["atExit"]["total"], 3);
    assert_eq!(stats["atExit"]["durableEmployment"], 1);
    assert_eq!(stats["atExit"]["positiveExit"], 1);
    assert_eq!(stats["atExit"]["abandonments"], 1);
    assert_eq!(stats["atExit"]["dynamicRateBp"], 6666);
    assert_eq!(stats["atExit"]["meetsTarget"], true);
    assert_eq!(stats["targetBp"], 3000);
    assert_eq!(
        param_of(&stats["parametersUsed"], "DYNAMIC_EXIT_TARGET")["level"],
        "NATIONAL"
    );
    // The same exits seen from the art. 30 market, and from the territory.
    for scope in [
        json!({"marketId": s.market}),
        json!({"territoryId": s.w.territory}),
    ] {
        let mut i = scope.clone();
        i["from"] = json!("2026-01-01");
        i["to"] = json!("2026-12-31");
        let by = app.ok(EXIT_STATS, json!({"i": i})).await;
        assert_eq!(by["exitStatistics"]["atExit"]["total"], 3, "{scope}");
    }
    // The territory raises its target to the PACA level: the same exits now miss it.
    app.ok(SET_PARAM, json!({"i": {"key": "DYNAMIC_EXIT_TARGET", "territoryId": s.w.territory, "value": "66.67", "reason": "objectif régional"}})).await;
    let stats = app
        .ok(
            EXIT_STATS,
            json!({"i": {"chantierId": s.chantier, "from": "2026-01-01", "to": "2026-12-31"}}),
        )
        .await["exitStatistics"]
        .clone();
    assert_eq!(stats["atExit"]["meetsTarget"], false);
    assert_eq!(
        param_of(&stats["parametersUsed"], "DYNAMIC_EXIT_TARGET")["value"],
        "66.67"
    );

    // One year later, not a day before.
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 11, 25, 10, 0, 0).unwrap());
    let follow = |on: &str| json!({"i": {"placementId": pl, "observedOn": on, "outcome": "CDI"}});
    let (field, rule, _, _) = app.breach(FOLLOW_UP, follow("2027-11-19")).await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("observedOn", "EXIT_FOLLOW_UP_MONTHS")
    );
    let f = app.ok(FOLLOW_UP, follow("2027-11-20")).await;
    assert_eq!(f["recordExitFollowUp"]["category"], "DURABLE_EMPLOYMENT");
    let stats = app
        .ok(
            EXIT_STATS,
            json!({"i": {"chantierId": s.chantier, "from": "2026-01-01", "to": "2026-12-31"}}),
        )
        .await["exitStatistics"]
        .clone();
    assert_eq!(stats["atOneYear"]["total"], 1);
    assert_eq!(stats["atOneYear"]["dynamicRateBp"], 10000);
    assert_eq!(
        stats["followUpsMissing"], 2,
        "the two others are due and missing"
    );
}

async fn budget_balances_and_caps_commercial_revenue(app: &TestApp) {
    let s = site(app, 12).await;
    // 100 000 € of charges with 5 000 € unforeseen, balanced by `commercial` of sales.
    let budget = |commercial: i64, unforeseen: i64, extra_charge: i64| {
        let mut lines = vec![
            json!({"category": "INSERTION_PAY", "amountCents": 6_000_000 - unforeseen + extra_charge}),
            json!({"category": "SUPERVISOR_PAY", "amountCents": 4_000_000}),
            json!({"category": "UNFORESEEN", "amountCents": unforeseen}),
            json!({"category": "CONTRACT_LEGAL_AID", "label": "ASP", "amountCents": 10_000_000 - commercial}),
        ];
        if commercial > 0 {
            lines.push(json!({"category": "COMMERCIAL_REVENUE", "amountCents": commercial}));
        }
        json!({"i": {"chantierId": s.chantier, "year": 2026, "lines": lines}})
    };
    let (field, rule, _, value) = app.breach(BUDGET, budget(0, 500_000, 1)).await;
    assert_eq!((field.as_str(), rule.as_str()), ("lines", "BUDGET_BALANCE"));
    assert!(value.contains("écart -0,01 €"), "{value}");
    // D5132-34: "une part inférieure à 30 % des charges": 29.99 % passes, 30 % does not.
    let ok = app.ok(BUDGET, budget(2_999_000, 500_000, 0)).await;
    assert_eq!(ok["setChantierBudget"]["commercialShareBp"], 2999);
    assert_eq!(ok["setChantierBudget"]["version"], 1);
    assert_eq!(ok["setChantierBudget"]["warnings"], json!([]));
    assert_eq!(ok["setChantierBudget"]["lines"][0]["charge"], true);
    assert_eq!(ok["setChantierBudget"]["lines"][3]["charge"], false);
    let (_, rule, limit, _) = app.breach(BUDGET, budget(3_000_000, 500_000, 0)).await;
    assert_eq!(
        (rule.as_str(), limit.as_str()),
        ("COMMERCIAL_REVENUE_MAX_SHARE", "moins de 30 % des charges")
    );
    // Unforeseen at 3.99 %: recorded, with a warning.
    let warned = app.ok(BUDGET, budget(0, 399_999, 0)).await;
    assert_eq!(warned["setChantierBudget"]["version"], 2);
    let warnings = warned["setChantierBudget"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("UNFORESEEN_SHARE")
    );
    let year = |y: i32| json!({"i": {"chantierId": s.chantier, "year": y, "lines": [{"category": "TAXES", "amountCents": 1}, {"category": "OTHER_PRODUCT", "amountCents": 1}]}});
    let (_, field) = app.err(BUDGET, year(2025)).await;
    assert_eq!(field.as_deref(), Some("year"));
    let (_, field) = app.err(BUDGET, json!({"i": {"chantierId": s.chantier, "year": 2026, "lines": [{"category": "TAXES", "amountCents": -5}]}})).await;
    assert_eq!(field.as_deref(), Some("lines"));
    // With a derogation recorded on the chantier, up to 50 %.
    let derogated = app
        .ok(
            CREATE_CHANTIER,
            json!({"i": {"territoryId": s.w.territory, "title": "Atelier bois", "kind": "ACI", "carrierId": s.w.aci,
                "ownerId": s.w.buyer, "place": "Le Port", "startDate": "2026-01-01", "endDate": "2026-12-31",
                "capacity": 10, "activities": "Mobilier de palettes", "commercialDerogation": "DDETS 2026-014",
                "commercialDerogationDecidedOn": "2025-12-15"}}),
        )
        .await;
    let c2 = id(&derogated, "createChantier");
    let on = |commercial: i64| {
        json!({"i": {"chantierId": c2, "year": 2026, "lines": [
            {"category": "INSERTION_PAY", "amountCents": 9_500_000}, {"category": "UNFORESEEN", "amountCents": 500_000},
            {"category": "CONTRACT_LEGAL_AID", "amountCents": 10_000_000 - commercial},
            {"category": "COMMERCIAL_REVENUE", "amountCents": commercial}]}})
    };
    // With the derogation: 30 % passes, under 50 % too; 50 % is "dans la limite de 50 %" read
    // as the raised "part inférieure à", so refused, and over it of course.
    app.ok(BUDGET, on(3_000_000)).await;
    app.ok(BUDGET, on(4_999_999)).await;
    for over in [5_000_000, 5_000_001] {
        let (_, rule, _, _) = app.breach(BUDGET, on(over)).await;
        assert_eq!(rule, "COMMERCIAL_REVENUE_DEROGATION_SHARE");
    }
    assert_eq!(app.count("chantier_budget").await, 4);
    // A reference without its decision's date is refused, naming the field.
    let (_, field) = app
        .err(
            CREATE_CHANTIER,
            json!({"i": {"territoryId": s.w.territory, "title": "Atelier fer", "kind": "ACI", "carrierId": s.w.aci,
                "ownerId": s.w.buyer, "place": "Le Port", "startDate": "2026-01-01", "endDate": "2026-12-31",
                "capacity": 10, "activities": "Ferronnerie", "commercialDerogation": "DDETS 2026-015"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("commercialDerogationDecidedOn"));
}

const GRANT: &str = "mutation($i: GrantCommercialDerogationInput!) { grantCommercialDerogation(input: $i) { reference decidedOn shareBp } }";

/// A derogation granted after the chantier's creation: a budget that needed it is refused
/// before, accepted after; the grant is checked (share, date, who) and audited.
async fn derogation_granted_after_creation(app: &TestApp) {
    let s = site(app, 12).await;
    let budget = |commercial: i64| {
        json!({"i": {"chantierId": s.chantier, "year": 2026, "lines": [
            {"category": "INSERTION_PAY", "amountCents": 9_500_000}, {"category": "UNFORESEEN", "amountCents": 500_000},
            {"category": "CONTRACT_LEGAL_AID", "amountCents": 10_000_000 - commercial},
            {"category": "COMMERCIAL_REVENUE", "amountCents": commercial}]}})
    };
    let (_, rule, _, _) = app.breach(BUDGET, budget(4_000_000)).await;
    assert_eq!(rule, "COMMERCIAL_REVENUE_MAX_SHARE");
    let grant = |share: Option<i32>, on: &str| json!({"i": {"chantierId": s.chantier, "reference": "Arrêté DDETS 2026-031", "decidedOn": on, "shareBp": share}});
    // Out of range: at most 50 %, and above 30 % (it raises the cap).
    for share in [5_001, 3_000] {
        let (_, field) = app.err(GRANT, grant(Some(share), "2026-03-01")).await;
        assert_eq!(field.as_deref(), Some("shareBp"));
    }
    let (_, field) = app.err(GRANT, grant(None, "2099-01-01")).await;
    assert_eq!(field.as_deref(), Some("decidedOn"));
    assert_eq!(app.count("commercial_derogation").await, 0);
    let g = app.ok(GRANT, grant(None, "2026-03-01")).await;
    assert_eq!(g["grantCommercialDerogation"]["shareBp"], 5000);
    assert_eq!(g["grantCommercialDerogation"]["decidedOn"], "2026-03-01");
    app.ok(BUDGET, budget(4_000_000)).await;
    let (_, rule, _, _) = app.breach(BUDGET, budget(5_000_000)).await;
    assert_eq!(rule, "COMMERCIAL_REVENUE_DEROGATION_SHARE");
    // A later decision at 40 %: in force from then on.
    app.ok(GRANT, grant(Some(4_000), "2026-04-01")).await;
    app.breach(BUDGET, budget(4_000_000)).await;
    app.ok(BUDGET, budget(3_999_999)).await;
    let c = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Chantier { commercialDerogation commercialDerogationDecision { reference shareBp } } } }",
            json!({"id": s.chantier}),
        )
        .await;
    assert_eq!(c["node"]["commercialDerogationDecision"]["shareBp"], 4000);
    assert_eq!(c["node"]["commercialDerogation"], "Arrêté DDETS 2026-031");
    assert_eq!(app.count("commercial_derogation").await, 2);
    assert_eq!(
        app.count("audit_event WHERE action = 'grantCommercialDerogation'")
            .await,
        2
    );
}

async fn funding_lines_stay_within_their_caps(app: &TestApp) {
    let s = site(app, 12).await;
    let line = |chantier: &str, category: &str, purpose: &str, year: i32, cents: i64| json!({"i": {"chantierId": chantier, "funderCategory": category, "purpose": purpose, "year": year, "amountCents": cents}});
    // Accompaniment: 15 000 € a year per ACI.
    app.ok(
        FUNDING,
        line(&s.chantier, "STATE", "ACCOMPANIMENT", 2026, 1_499_999),
    )
    .await;
    app.ok(
        FUNDING,
        line(&s.chantier, "STATE", "ACCOMPANIMENT", 2026, 1),
    )
    .await;
    let (_, rule, _, _) = app
        .breach(
            FUNDING,
            line(&s.chantier, "STATE", "ACCOMPANIMENT", 2026, 1),
        )
        .await;
    assert_eq!(rule, "ACCOMPANIMENT_CAP_PER_ACI");
    // … and 45 000 € per carrier across its ACI.
    let mut others = Vec::new();
    for n in 0..3 {
        let c = app
            .ok(
                CREATE_CHANTIER,
                json!({"i": {"territoryId": s.w.territory, "title": format!("ACI {n}"), "kind": "ACI", "carrierId": s.w.aci,
                    "ownerId": s.w.buyer, "place": "Le Port", "startDate": "2026-01-01", "endDate": "2027-12-31",
                    "capacity": 12, "activities": "Espaces verts"}}),
            )
            .await;
        others.push(id(&c, "createChantier"));
    }
    app.ok(
        FUNDING,
        line(&others[0], "STATE", "ACCOMPANIMENT", 2026, 1_500_000),
    )
    .await;
    let third = app
        .ok(
            FUNDING,
            line(&others[1], "STATE", "ACCOMPANIMENT", 2026, 1_500_000),
        )
        .await;
    let (_, rule, limit, value) = app
        .breach(FUNDING, line(&others[2], "STATE", "ACCOMPANIMENT", 2026, 1))
        .await;
    assert_eq!(rule, "ACCOMPANIMENT_CAP_PER_CARRIER");
    assert_eq!(
        (limit.as_str(), value.as_str()),
        ("45\u{202f}000,00 €", "45\u{202f}000,01 €")
    );
    // Cancelling a line frees its amount; it stays on record.
    app.ok(
        "mutation($l: ID!) { cancelFundingLine(fundingLineId: $l, reason: \"erreur de saisie\") { status cancelReason } }",
        json!({"l": id(&third, "addFundingLine")}),
    )
    .await;
    app.ok(
        FUNDING,
        line(&others[2], "STATE", "ACCOMPANIMENT", 2026, 1_500_000),
    )
    .await;
    app.ok(
        FUNDING,
        line(&others[2], "STATE", "ACCOMPANIMENT", 2027, 1_500_000),
    )
    .await;
    // Start-up aid: 15 000 € in all.
    app.ok(
        FUNDING,
        line(&s.chantier, "STATE", "STARTUP_AID", 2026, 1_000_000),
    )
    .await;
    let (_, rule, _, _) = app
        .breach(
            FUNDING,
            line(&s.chantier, "STATE", "STARTUP_AID", 2027, 500_001),
        )
        .await;
    assert_eq!(rule, "STARTUP_AID_CAP");
    app.ok(
        FUNDING,
        line(&s.chantier, "STATE", "STARTUP_AID", 2027, 500_000),
    )
    .await;
    // Département call: 30 000 € + 1 000 € × 12 places.
    let (_, rule, limit, _) = app
        .breach(
            FUNDING,
            line(
                &s.chantier,
                "DEPARTEMENT",
                "DEPARTEMENT_CALL",
                2026,
                4_200_001,
            ),
        )
        .await;
    assert_eq!(rule, "DEPARTEMENT_CALL_CAP");
    assert!(limit.ends_with("= 42\u{202f}000,00 €"), "{limit}");
    app.ok(
        FUNDING,
        line(
            &s.chantier,
            "DEPARTEMENT",
            "DEPARTEMENT_CALL",
            2026,
            4_200_000,
        ),
    )
    .await;
    let (_, field) = app
        .err(
            FUNDING,
            line(&s.chantier, "STATE", "DEPARTEMENT_CALL", 2026, 1),
        )
        .await;
    assert_eq!(field.as_deref(), Some("funderCategory"));
    // Equipment: collectivités pay at most half of the budget's equipment.
    let (_, rule, _, _) = app
        .breach(FUNDING, line(&s.chantier, "COMMUNE", "EQUIPMENT", 2026, 1))
        .await;
    assert_eq!(
        rule, "EQUIPMENT_COLLECTIVITE_MAX_SHARE",
        "no equipment budgeted yet"
    );
    app.ok(BUDGET, json!({"i": {"chantierId": s.chantier, "year": 2026, "lines": [
        {"category": "EQUIPMENT", "amountCents": 2_000_000}, {"category": "INSERTION_PAY", "amountCents": 7_500_000},
        {"category": "UNFORESEEN", "amountCents": 500_000}, {"category": "PUBLIC_SUBSIDY", "amountCents": 10_000_000}]}})).await;
    app.ok(
        FUNDING,
        line(&s.chantier, "COMMUNE", "EQUIPMENT", 2026, 600_000),
    )
    .await;
    app.ok(
        FUNDING,
        line(&s.chantier, "REGION", "EQUIPMENT", 2026, 400_000),
    )
    .await;
    let (_, rule, _, _) = app
        .breach(FUNDING, line(&s.chantier, "EPCI", "EQUIPMENT", 2026, 1))
        .await;
    assert_eq!(rule, "EQUIPMENT_COLLECTIVITE_MAX_SHARE");
    app.ok(
        FUNDING,
        line(&s.chantier, "EUROPE", "EQUIPMENT", 2026, 1_000_000),
    )
    .await;
    // ACSé: only a rénovation chantier, three years at most, the right funder.
    let (_, field) = app
        .err(
            FUNDING,
            line(&others[0], "ACSE", "ACSE_RENOVATION", 2026, 1),
        )
        .await;
    assert_eq!(field.as_deref(), Some("purpose"));
    let (_, rule, _, _) = app
        .breach(
            FUNDING,
            line(&s.chantier, "ACSE", "ACSE_RENOVATION", 2028, 3_000_001),
        )
        .await;
    assert_eq!(rule, "ACSE_RENOVATION_LATER_CAP");
    let (_, field) = app
        .err(
            FUNDING,
            line(&s.chantier, "ACSE", "ACSE_RENOVATION", 2029, 1),
        )
        .await;
    assert_eq!(field.as_deref(), Some("year"));
    let lines = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Chantier { fundingLines { status } } } }",
            json!({"id": others[1]}),
        )
        .await;
    assert_eq!(lines["node"]["fundingLines"][0]["status"], "CANCELLED");
}

async fn eligibility_proofs_levels_and_pass_iae(app: &TestApp) {
    let s = site(app, 12).await;
    let p = person(app, &s.w.territory, "Hoarau", "2003-02-01", json!([])).await;
    let claim = |structure: &str, criteria: &[&str], proof: &str| {
        let proofs: Vec<Value> = criteria
            .iter()
            .map(|c| json!({"criterion": c, "proofKind": "SWORN_STATEMENT", "proofDate": proof}))
            .collect();
        json!({"i": {"participantId": p, "scheme": "IAE", "attesterKind": "EMPLOYER", "attesterId": s.w.aci,
            "structureKind": structure, "proofs": proofs}})
    };
    let three = ["YOUNG_UNDER_26", "QPV_RESIDENT", "LOW_QUALIFICATION"];
    // Today is 22 November: a proof of 22 August is three months old.
    let (field, rule, _, _) = app
        .breach(ELIGIBILITY, claim("ACI", &three, "2026-08-22"))
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("proofs", "PROOF_MAX_AGE_MONTHS")
    );
    let (_, rule, limit, value) = app
        .breach(ELIGIBILITY, claim("ACI", &three[..2], "2026-08-23"))
        .await;
    assert_eq!(rule, "IAE_LEVEL2_ACI");
    assert_eq!(
        (limit.as_str(), value.as_str()),
        (
            "1 critère de niveau 1 ou 3 de niveau 2 en ACI",
            "2 critère(s) de niveau 2"
        )
    );
    app.ok(ELIGIBILITY, claim("ETTI", &three[..2], "2026-08-23"))
        .await;
    let e = app
        .ok(ELIGIBILITY, claim("ACI", &three, "2026-08-23"))
        .await;
    assert_eq!(e["recordEligibility"]["validUntil"], "2027-02-21");
    assert_eq!(e["recordEligibility"]["proofs"][0]["level"], 2);
    let level1 = app
        .ok(ELIGIBILITY, claim("EI", &["RSA"], "2026-11-01"))
        .await;
    assert_eq!(level1["recordEligibility"]["proofs"][0]["level"], 1);
    let (_, field) = app
        .err(ELIGIBILITY, claim("EA", &["RSA"], "2026-11-01"))
        .await;
    assert_eq!(field.as_deref(), Some("structureKind"));
    // A prescriber's diagnostic lasts 6 months; the clause eligibility needs a criterion.
    let prescriber = app
        .org("France Travail Le Port", "PRESCRIBER", None, &s.w.territory)
        .await;
    let diag = app
        .ok(
            ELIGIBILITY,
            json!({"i": {"participantId": p, "scheme": "IAE", "attesterKind": "PRESCRIBER",
            "attesterId": prescriber, "structureKind": "ACI", "proofs": []}}),
        )
        .await;
    assert_eq!(diag["recordEligibility"]["validUntil"], "2027-05-21");
    let (_, field) = app
        .err(ELIGIBILITY, json!({"i": {"participantId": p, "scheme": "CLAUSE", "attesterKind": "FACILITATOR", "proofs": []}}))
        .await;
    assert_eq!(field.as_deref(), Some("proofs"));
    let listed = app
        .ok("query($id: ID!) { node(id: $id) { ... on Participant { eligibilities { scheme validUntil } } } }", json!({"id": p}))
        .await;
    assert_eq!(listed["node"]["eligibilities"].as_array().unwrap().len(), 4);

    // PASS IAE: two years; a running one is extended, not doubled; two years' wait after.
    const ISSUE: &str =
        "mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id number endDate } }";
    let nobody = person(app, &s.w.territory, "Sans", "1990-01-01", json!([])).await;
    let (_, field) = app
        .err(
            ISSUE,
            json!({"i": {"participantId": nobody, "startDate": "2026-12-01"}}),
        )
        .await;
    assert_eq!(
        field.as_deref(),
        Some("startDate"),
        "no eligibility, no pass"
    );
    let pass = app
        .ok(
            ISSUE,
            json!({"i": {"participantId": p, "startDate": "2026-12-01", "number": "999992612345"}}),
        )
        .await;
    assert_eq!(pass["issuePassIae"]["endDate"], "2028-11-30");
    let (_, field) = app
        .err(
            ISSUE,
            json!({"i": {"participantId": p, "startDate": "2027-01-01"}}),
        )
        .await;
    assert_eq!(field.as_deref(), Some("startDate"));
    let ext = app
        .ok("mutation($p: ID!) { extendPassIae(passId: $p, reason: \"formation CAP en cours\") { endDate } }", json!({"p": id(&pass, "issuePassIae")}))
        .await;
    assert_eq!(ext["extendPassIae"]["endDate"], "2029-11-30");
    assert_eq!(app.count("pass_iae_extension").await, 1);
}

async fn cddi_length_hours_and_derogations(app: &TestApp) {
    let s = site(app, 30).await;
    let young = person(app, &s.w.territory, "Jeune", "2003-02-01", json!([])).await;
    // No eligibility yet: refused.
    let (_, field) = app
        .err(
            CREATE_PLACEMENT,
            cddi(&s, &young, "2026-12-01", "2027-05-31", "26"),
        )
        .await;
    assert_eq!(field.as_deref(), Some("participantId"));
    eligible(app, &s, &young, "2026-11-22", "2026-11-01").await;
    // Weekly hours 20 to 35.
    for (weekly, rule) in [
        ("19:59", "CDDI_MIN_WEEKLY_HOURS"),
        ("35:01", "CDDI_MAX_WEEKLY_HOURS"),
    ] {
        let (field, r, limit, _) = app
            .breach(
                CREATE_PLACEMENT,
                cddi(&s, &young, "2026-12-01", "2027-05-31", weekly),
            )
            .await;
        assert_eq!(
            (field.as_str(), r.as_str(), limit.as_str()),
            ("weeklyHours", rule, "20 h à 35 h par semaine")
        );
    }
    // Four months at least: 1 December – 31 March.
    let (field, rule, limit, value) = app
        .breach(
            CREATE_PLACEMENT,
            cddi(&s, &young, "2026-12-01", "2027-03-30", "26"),
        )
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("endDate", "CDDI_MIN_MONTHS")
    );
    assert_eq!(
        (limit.as_str(), value.as_str()),
        ("4 mois, fin au plus tôt le 2027-03-31", "fin le 2027-03-30")
    );
    let (_, field) = app.err(CREATE_PLACEMENT, json!({"i": {"participantId": young, "chantierId": s.chantier, "modality": "SUBCONTRACTING",
        "employerId": s.w.aci, "contractType": "CDDI", "startDate": "2026-12-01", "weeklyHours": "26"}})).await;
    assert_eq!(field.as_deref(), Some("endDate"), "a CDDI has an end");
    let pl = id(
        &app.ok(
            CREATE_PLACEMENT,
            cddi(&s, &young, "2026-12-01", "2027-03-31", "20"),
        )
        .await,
        "createPlacement",
    );
    // Renewed up to 24 months (30 November 2028), not a day more without a derogation.
    let extend = |end: &str, derogation: Value| json!({"i": {"placementId": pl, "endDate": end, "reason": "renouvellement", "derogation": derogation}});
    app.ok(EXTEND, extend("2028-11-30", Value::Null)).await;
    let (_, rule, _, _) = app.breach(EXTEND, extend("2028-12-01", Value::Null)).await;
    assert_eq!(rule, "CDDI_MAX_MONTHS");
    // The SENIOR derogation is for people of 50 on the usual cap date.
    let (field, rule, _, _) = app
        .breach(EXTEND, extend("2028-12-01", json!("SENIOR")))
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("derogation", "CDDI_SENIOR_AGE")
    );
    let senior = person(
        app,
        &s.w.territory,
        "Ancien",
        "1978-11-30",
        json!(["DISABLED_WORKER"]),
    )
    .await;
    let proofs = json!([{"criterion": "SENIOR_50", "proofKind": "IDENTITY_DOCUMENT", "proofDate": "2026-11-01"}, {"criterion": "DISABLED_WORKER", "proofKind": "DISABILITY_DECISION", "proofDate": "2026-11-01"}, {"criterion": "QPV_RESIDENT", "proofKind": "RESIDENCE_PROOF", "proofDate": "2026-11-01"}]);
    app.ok(ELIGIBILITY, json!({"i": {"participantId": senior, "scheme": "IAE", "attesterKind": "EMPLOYER", "attesterId": s.w.aci, "structureKind": "ACI", "proofs": proofs}})).await;
    let pl2 = id(
        &app.ok(
            CREATE_PLACEMENT,
            cddi(&s, &senior, "2026-12-01", "2028-11-30", "26"),
        )
        .await,
        "createPlacement",
    );
    let ext = app
        .ok(EXTEND, json!({"i": {"placementId": pl2, "endDate": "2031-11-30", "reason": "fin de parcours", "derogation": "SENIOR"}}))
        .await;
    assert_eq!(ext["extendPlacement"]["derogation"], "SENIOR");
    let (_, rule, _, _) = app
        .breach(EXTEND, json!({"i": {"placementId": pl2, "endDate": "2031-12-01", "reason": "x", "derogation": "DISABLED_WORKER"}}))
        .await;
    assert_eq!(rule, "CDDI_DEROGATION_MAX_MONTHS");
    // 48 hours a week across one person's placements: 20 h CDDI + 28 h elsewhere, not 28:01.
    let other = |weekly: &str| {
        json!({"i": {"participantId": young, "marketId": s.w.market, "lotId": s.w.lot, "modality": "DIRECT_HIRE",
        "employerId": s.w.company, "contractType": "CDD", "startDate": "2027-01-01", "endDate": "2027-02-28", "weeklyHours": weekly}})
    };
    let (_, rule, limit, value) = app.breach(CREATE_PLACEMENT, other("28:01")).await;
    assert_eq!(
        (rule.as_str(), limit.as_str(), value.as_str()),
        (
            "MAX_WEEKLY_HOURS_ALL_PLACEMENTS",
            "48 h par semaine",
            "48:01 h le 2027-01-01"
        )
    );
    app.ok(CREATE_PLACEMENT, other("28")).await;
    // Nothing written by the refusals.
    assert_eq!(app.count("placement").await, 4);
}

async fn supervision_ratio_and_immersions(app: &TestApp) {
    let s = site(app, 3).await;
    // Two per supervisor on this territory, from today.
    app.ok(SET_PARAM, json!({"i": {"key": "SUPERVISION_RATIO", "territoryId": s.w.territory, "value": "2", "reason": "chantier très encadré"}})).await;
    let mut people = Vec::new();
    for n in 0..5 {
        let p = person(
            app,
            &s.w.territory,
            &format!("P{n}"),
            "2003-02-01",
            json!([]),
        )
        .await;
        eligible(app, &s, &p, "2026-11-22", "2026-11-01").await;
        people.push(p);
    }
    let pl = id(
        &app.ok(
            CREATE_PLACEMENT,
            cddi(&s, &people[0], "2026-12-01", "2027-03-31", "26"),
        )
        .await,
        "createPlacement",
    );
    app.ok(
        CREATE_PLACEMENT,
        cddi(&s, &people[1], "2026-12-01", "2027-03-31", "26"),
    )
    .await;
    let (field, rule, limit, value) = app
        .breach(
            CREATE_PLACEMENT,
            cddi(&s, &people[2], "2027-01-04", "2027-05-31", "26"),
        )
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("chantierId", "SUPERVISION_RATIO")
    );
    assert_eq!(
        (limit.as_str(), value.as_str()),
        (
            "2 participants par encadrant × 1 encadrant(s) = 2",
            "3 participants le 2027-01-04"
        )
    );
    // After the first two leave, the place is free again (the PASS IAE outlasts the diagnostic).
    app.ok(
        "mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id } }",
        json!({"i": {"participantId": people[2], "startDate": "2026-12-01"}}),
    )
    .await;
    app.ok(
        CREATE_PLACEMENT,
        cddi(&s, &people[2], "2027-04-01", "2027-07-31", "26"),
    )
    .await;
    app.ok(
        SUPERVISOR,
        json!({"i": {"chantierId": s.chantier, "name": "Marie Técher", "technicalHours": "600",
        "socioProfessionalHours": "0", "theoryTrainingHours": "0", "startDate": "2027-01-01"}}),
    )
    .await;
    app.ok(
        CREATE_PLACEMENT,
        cddi(&s, &people[3], "2027-01-04", "2027-05-03", "20"),
    )
    .await;
    // Capacity 3: the fourth at once is refused whatever the staff.
    let (_, rule, _, _) = app
        .breach(
            CREATE_PLACEMENT,
            cddi(&s, &people[4], "2027-01-04", "2027-05-31", "26"),
        )
        .await;
    assert_eq!(rule, "CHANTIER_CAPACITY");

    // Immersions of the first contract: 1 December – 31 March is 121 days, so 30 days in all.
    let im = |start: &str, end: &str| json!({"i": {"placementId": pl, "hostName": "Menuiserie Hoarau", "startDate": start, "endDate": end}});
    let (_, rule, _, _) = app.breach(IMMERSION, im("2027-01-04", "2027-02-04")).await;
    assert_eq!(rule, "IMMERSION_MAX_MONTHS");
    app.ok(IMMERSION, im("2027-01-04", "2027-01-23")).await; // 20 days
    let (_, field) = app.err(IMMERSION, im("2027-01-20", "2027-01-25")).await;
    assert_eq!(field.as_deref(), Some("startDate"), "overlap");
    let (_, rule, limit, value) = app.breach(IMMERSION, im("2027-02-01", "2027-02-11")).await;
    assert_eq!(rule, "IMMERSION_MAX_SHARE");
    assert_eq!(
        (limit.as_str(), value.as_str()),
        (
            "25 % de 121 jours de contrat = 30 jours",
            "31 jours d'immersion"
        )
    );
    app.ok(IMMERSION, im("2027-02-01", "2027-02-10")).await;
    let (_, field) = app.err(IMMERSION, im("2027-03-30", "2027-04-02")).await;
    assert_eq!(field.as_deref(), Some("startDate"), "outside the contract");
    let listed = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Placement { immersions { startDate } } } }",
            json!({"id": pl}),
        )
        .await;
    assert_eq!(listed["node"]["immersions"].as_array().unwrap().len(), 2);
    // A page of the chantier's placements with immersions and exits costs a bounded number of
    // SQL statements, not three per placement (loaders). A batch may split in two across the
    // loader's 1 ms window in a debug build, hence the slack of two.
    let page = "query($c: ID!, $n: Int) { placements(filter: {chantierId: $c}, first: $n) { edges { node { immersions { startDate } exit { outcome } followUp { outcome } } } } }";
    let mut counts = Vec::new();
    for n in [1, 10] {
        app.reset_statements();
        let data = app.ok(page, json!({"c": s.chantier, "n": n})).await;
        assert_eq!(
            data["placements"]["edges"].as_array().unwrap().len(),
            if n == 1 { 1 } else { 4 }
        );
        counts.push(app.statements());
    }
    assert!(
        counts[1] <= counts[0] + 2,
        "statements for 1 and for 4 placements: {counts:?}"
    );
    // Time passes: the clock is what rules read.
    app.clock.advance(Duration::days(1));
}

async fn chantiers_are_seen_by_those_who_run_own_or_fund_them(app: &TestApp) {
    use passerelle::domain::auth::Role;
    let s = site(app, 12).await;
    let funder = app.org("DDETS 974", "FUNDER", None, &s.w.territory).await;
    let other_funder = app.org("Région", "FUNDER", None, &s.w.territory).await;
    app.ok(
        FUNDING,
        json!({"i": {"chantierId": s.chantier, "funderId": funder, "funderCategory": "STATE",
        "purpose": "ACCOMPANIMENT", "year": 2026, "amountCents": 1_000_000}}),
    )
    .await;
    let elsewhere = app.territory("976-X").await;
    let fac = app
        .user("fac@t.fr", Role::Facilitator, None, &[&s.w.territory])
        .await;
    let fac_far = app
        .user("far@t.fr", Role::Facilitator, None, &[&elsewhere])
        .await;
    let carrier = app.user("aci@t.fr", Role::Siae, Some(&s.w.aci), &[]).await;
    let owner = app
        .user("ville@t.fr", Role::Buyer, Some(&s.w.buyer), &[])
        .await;
    let funds = app
        .user("ddets@t.fr", Role::Funder, Some(&funder), &[])
        .await;
    let not_funds = app
        .user("region@t.fr", Role::Funder, Some(&other_funder), &[])
        .await;
    let node = "query($id: ID!) { node(id: $id) { ... on Chantier { title } } }";
    for (who, sees) in [
        (&fac, true),
        (&fac_far, false),
        (&carrier, true),
        (&owner, true),
        (&funds, true),
        (&not_funds, false),
    ] {
        let resp = app
            .run_as(Some(who.clone()), node, json!({"id": s.chantier}))
            .await;
        assert_eq!(
            resp["data"]["node"].is_null(),
            !sees,
            "{}: {resp}",
            who.label
        );
        let list = app
            .run_as(
                Some(who.clone()),
                "{ chantiers { edges { cursor } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            list["data"]["chantiers"]["edges"].as_array().unwrap().len(),
            usize::from(sees),
            "{}",
            who.label
        );
    }
    // The carrier staffs and budgets its chantier; another structure cannot even see it.
    let sup = json!({"i": {"chantierId": s.chantier, "name": "Lucie", "technicalHours": "100",
        "socioProfessionalHours": "0", "theoryTrainingHours": "0"}});
    let resp = app
        .run_as(Some(carrier.clone()), SUPERVISOR, sup.clone())
        .await;
    assert!(resp.get("errors").is_none(), "{resp}");
    let other_aci = app
        .org("ACI Lontan", "SIAE", Some("ACI"), &s.w.territory)
        .await;
    let stranger = app
        .user("lontan@t.fr", Role::Siae, Some(&other_aci), &[])
        .await;
    let resp = app.run_as(Some(stranger), SUPERVISOR, sup.clone()).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let resp = app.run_as(Some(fac_far), SUPERVISOR, sup).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "NOT_FOUND");
    // Eligibility criteria are for facilitators of the territory only.
    let p = person(
        app,
        &s.w.territory,
        "Sensible",
        "2000-01-01",
        json!(["RSA"]),
    )
    .await;
    let q = "query($id: ID!) { node(id: $id) { ... on Participant { eligibilities { scheme } } } }";
    let resp = app.run_as(Some(fac), q, json!({"id": p})).await;
    assert!(resp.get("errors").is_none(), "{resp}");
}

/// Issue 20: a supervisor is corrected or removed at the chantier's version, only while the
/// supervision still covers the placements on the chantier.
async fn a_supervisor_is_corrected_while_the_placements_stay_covered(app: &TestApp) {
    const READ: &str = "query($id: ID!) { node(id: $id) { ... on Chantier { version supervisors { id name endDate } } } }";
    const UPDATE: &str = "mutation($i: UpdateSupervisorInput!) { updateChantierSupervisor(input: $i) { id endDate } }";
    const REMOVE: &str =
        "mutation($id: ID!, $v: Int!) { removeChantierSupervisor(id: $id, version: $v) }";
    let s = site(app, 3).await;
    app.ok(SET_PARAM, json!({"i": {"key": "SUPERVISION_RATIO", "territoryId": s.w.territory, "value": "2", "reason": "chantier très encadré"}})).await;
    for n in 0..2 {
        let p = person(
            app,
            &s.w.territory,
            &format!("P{n}"),
            "2003-02-01",
            json!([]),
        )
        .await;
        eligible(app, &s, &p, "2026-11-22", "2026-11-01").await;
        app.ok(
            CREATE_PLACEMENT,
            cddi(&s, &p, "2026-12-01", "2027-03-31", "26"),
        )
        .await;
    }
    let read = app.ok(READ, json!({"id": s.chantier})).await["node"].clone();
    let v = read["version"].as_i64().unwrap();
    let jp = read["supervisors"][0]["id"].as_str().unwrap().to_string();
    let leave = |end: &str, version: i64| json!({"i": {"supervisorId": jp, "version": version, "endDate": end}});
    // The only supervisor leaving the day before the contracts end: two people uncovered.
    let (field, rule, _, value) = app.breach(UPDATE, leave("2027-03-30", v)).await;
    assert_eq!(
        (field.as_str(), rule.as_str(), value.as_str()),
        (
            "supervisorId",
            "SUPERVISION_RATIO",
            "2 participants le 2027-03-31"
        )
    );
    // Stale version; another territory's facilitator.
    let (code, field) = app.err(UPDATE, leave("2027-03-31", v - 1)).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("CONFLICT", Some("version"))
    );
    let other = app.territory("976-AUTRE").await;
    let stranger = app
        .user(
            "x@ailleurs.fr",
            passerelle::domain::auth::Role::Facilitator,
            None,
            &[&other],
        )
        .await;
    let r = app
        .run_as(Some(stranger), REMOVE, json!({"id": jp, "v": v}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
    // The carrier may correct its supervisors too, but a conflict does not give it the
    // e-mail address of whoever changed the chantier (staff data): only when.
    let carrier = app
        .user(
            "rh@aci.re",
            passerelle::domain::auth::Role::Siae,
            Some(&s.w.aci),
            &[],
        )
        .await;
    app.ok(
        "mutation($i: UpdateChantierInput!) { updateChantier(input: $i) { id } }",
        json!({"i": {"chantierId": s.chantier, "version": v, "title": "Rénovation des halls A et B"}}),
    )
    .await;
    let r = app
        .run_as(Some(carrier), UPDATE, leave("2027-03-31", v))
        .await;
    let ext = &r["errors"][0]["extensions"];
    assert_eq!(
        (ext["code"].as_str(), ext["field"].as_str()),
        (Some("CONFLICT"), Some("version")),
        "{r}"
    );
    assert_eq!(ext["changedBy"], "un autre utilisateur");
    assert!(!r.to_string().contains('@'), "{r}");
    let v = v + 1;
    // Leaving on the last day of the contracts is fine.
    let d = app.ok(UPDATE, leave("2027-03-31", v)).await;
    assert_eq!(d["updateChantierSupervisor"]["endDate"], "2027-03-31");
    // Removing the only supervisor is refused; with a second one from the start, allowed.
    let (code, field) = app.err(REMOVE, json!({"id": jp, "v": v + 1})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("supervisorId"))
    );
    app.ok(
        SUPERVISOR,
        json!({"i": {"chantierId": s.chantier, "name": "Marie Técher", "technicalHours": "600",
        "socioProfessionalHours": "0", "theoryTrainingHours": "0"}}),
    )
    .await;
    let d = app.ok(REMOVE, json!({"id": jp, "v": v + 1})).await;
    assert_eq!(d["removeChantierSupervisor"], json!(jp));
    let read = app.ok(READ, json!({"id": s.chantier})).await["node"].clone();
    assert_eq!(read["version"].as_i64(), Some(v + 2));
    assert_eq!(read["supervisors"].as_array().unwrap().len(), 1);
    assert_eq!(read["supervisors"][0]["name"], "Marie Técher");
}
