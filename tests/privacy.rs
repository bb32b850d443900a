//! Personal data at every depth (issue 18, points 2 to 4): the entries behind a report's
//! figures, name search and the import's name column, the audit trail, and what stays of a
//! person after anonymization, searched for in every column of every table.

mod common;

use std::collections::{BTreeSet, HashSet};

use async_graphql::{ID, Request, Variables};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Parser;
use common::*;
use migration::{Migrator, MigratorTrait};
use passerelle::clock::Clock;
use passerelle::config::{Cli, Secret};
use passerelle::db::Db;
use passerelle::domain::auth::{Actor, Role};
use passerelle::graphql::{AppSchema, build_schema};
use passerelle::ids::{self, Kind};
use passerelle::service::Ctx;
use passerelle::service::secret::TraceKey;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

db_tests!(
    people_facets_trace_for_facilitators_only,
    a_token_changed_by_one_byte_is_refused,
    a_token_is_bound_to_its_report,
    a_configured_secret_overrides_the_stored_one,
    instances_on_one_store_agree_on_the_drawn_secret,
    name_search_is_no_oracle_for_a_host_company,
    import_name_column_is_no_oracle_for_a_host_company,
    anonymization_leaves_no_name_or_public_anywhere,
    redaction_migration_rewrites_old_rows_only,
);

const HOSTED_FIRST: &str = "Zebulonne";
const HOSTED_LAST: &str = "Quokkaflint";
const WORKER_FIRST: &str = "Anatolius";
const WORKER_LAST: &str = "Brzeczyszczykiewicz";
const WORKER_BORN: &str = "1979-08-23";
const WORKER_PUBLICS: [&str; 3] = ["AAH", "DISABLED_WORKER", "PRISON_LEAVER"];
/// Free text about him, at his exit.
const WORKER_EXIT_WHY: &str = "Entrée en formation après soins";

const MARKET_REPORT: &str = "query($id: ID!) { marketReport(marketId: $id) {
  people { band total trace } market { hours { validated { entries trace } } } } }";
const CHANTIER_REPORT: &str = "query($id: ID!) { chantierEvaluation(chantierId: $id) {
  people { band total trace } exits { lines { category trace } } hours { validated { entries trace } } } }";
const TRACE: &str = "query($t: String!) { traceEntries(trace: $t, first: 100) {
  edges { node { placementReference minutes } } } }";
const SEARCH: &str =
    "query($s: String!) { participants(filter: {search: $s}) { edges { node { id } } } }";

/// The test world (its company holds the lot), and on it:
/// - `hosted`: a woman on AAH out of prison, employed by the ETTI and made available to the
///   company (the company hosts her, it does not employ her);
/// - `worker`: a man on AAH, disabled worker, out of prison, on a CDDI of the ACI's chantier
///   beyond 24 months (derogation DISABLED_WORKER), with an IAE eligibility proved by his AAH,
///   a PASS IAE, an immersion, hours imported by the ACI with his name, and his file read by
///   the facilitator. The chantier is funded by a funder.
struct Cast {
    w: World,
    hosted: String,
    hosted_placement: String,
    chantier: String,
    worker: String,
    cddi: String,
    facilitator: Actor,
    buyer: Actor,
    host: Actor,
    etti: Actor,
    aci: Actor,
    funder: Actor,
}

fn id_of(data: &Value, field: &str) -> String {
    data[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {field}.id in {data}"))
        .to_string()
}

async fn cast(app: &TestApp) -> Cast {
    let w = app.world().await;
    let funder_org = app.org("DDETS 974", "FUNDER", None, &w.territory).await;
    let facilitator = app
        .user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let buyer = app
        .user("achat@port.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    let host = app
        .user("chef@btp.fr", Role::Company, Some(&w.company), &[])
        .await;
    let etti = app
        .user("paie@etti.fr", Role::Siae, Some(&w.etti), &[])
        .await;
    let aci = app.user("paie@aci.fr", Role::Siae, Some(&w.aci), &[]).await;
    let funder = app
        .user("ddets@etat.fr", Role::Funder, Some(&funder_org), &[])
        .await;

    let hosted = id_of(
        &app.ok(
            CREATE_PARTICIPANT,
            json!({"i": {"territoryId": w.territory, "firstName": HOSTED_FIRST, "lastName": HOSTED_LAST,
                "birthDate": "1987-03-14", "sex": "FEMALE", "educationLevel": "BELOW_LEVEL_3",
                "qpvResident": false, "publics": ["AAH", "PRISON_LEAVER"]}}),
        )
        .await,
        "createParticipant",
    );
    let hosted_placement = id_of(
        &app.ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": hosted, "marketId": w.market, "lotId": w.lot,
                "modality": "MADE_AVAILABLE", "employerId": w.etti, "contractType": "INSERTION_INTERIM",
                "startDate": "2026-03-01", "endDate": "2026-12-31", "weeklyHours": "26"}}),
        )
        .await,
        "createPlacement",
    );
    for (placement, hours) in [(&w.placement, "100"), (&hosted_placement, "80")] {
        let e = app.record_ok(placement, "2026-03", hours).await;
        app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    }

    let chantier = id_of(
        &app.ok(
            "mutation($i: CreateChantierInput!) { createChantier(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "title": "Parc du 20 décembre", "kind": "ACI",
                "carrierId": w.aci, "ownerId": w.buyer, "place": "Le Port", "startDate": "2026-01-01",
                "endDate": "2028-12-31", "capacity": 12, "activities": "Espaces verts"}}),
        )
        .await,
        "createChantier",
    );
    app.ok(
        "mutation($i: AddSupervisorInput!) { addChantierSupervisor(input: $i) { id } }",
        json!({"i": {"chantierId": chantier, "name": "Paul Técher", "organizationId": w.aci,
            "technicalHours": "800", "socioProfessionalHours": "200", "theoryTrainingHours": "0"}}),
    )
    .await;
    app.ok(
        "mutation($i: AddFundingLineInput!) { addFundingLine(input: $i) { id } }",
        json!({"i": {"chantierId": chantier, "funderId": funder_org, "funderCategory": "STATE",
            "purpose": "ACCOMPANIMENT", "year": 2026, "amountCents": 1_500_000}}),
    )
    .await;
    let worker = id_of(
        &app.ok(
            CREATE_PARTICIPANT,
            json!({"i": {"territoryId": w.territory, "firstName": WORKER_FIRST, "lastName": WORKER_LAST,
                "birthDate": WORKER_BORN, "sex": "MALE", "educationLevel": "BELOW_LEVEL_3",
                "qpvResident": true, "publics": WORKER_PUBLICS}}),
        )
        .await,
        "createParticipant",
    );
    app.ok(
        "mutation($i: RecordEligibilityInput!) { recordEligibility(input: $i) { id } }",
        json!({"i": {"participantId": worker, "scheme": "IAE", "attesterKind": "EMPLOYER",
            "attesterId": w.aci, "structureKind": "ACI", "checkedOn": "2026-01-20",
            "proofs": [{"criterion": "AAH", "proofKind": "DISABILITY_DECISION",
                        "proofDate": "2026-01-10", "reference": "MDPH-974-0042"}]}}),
    )
    .await;
    app.ok(
        "mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id } }",
        json!({"i": {"participantId": worker, "startDate": "2026-02-01", "number": "999990000042"}}),
    )
    .await;
    let cddi = id_of(
        &app.ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": worker, "chantierId": chantier, "modality": "SUBCONTRACTING",
                "employerId": w.aci, "contractType": "CDDI", "startDate": "2026-02-01",
                "endDate": "2028-03-31", "weeklyHours": "26", "derogation": "DISABLED_WORKER"}}),
        )
        .await,
        "createPlacement",
    );
    app.ok(
        "mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }",
        json!({"i": {"placementId": cddi, "hostName": "Boulangerie du Port",
            "startDate": "2026-06-01", "endDate": "2026-06-12"}}),
    )
    .await;
    let reference = placement_reference(app, &cddi).await;
    let imported = app
        .upload_hours(
            aci.clone(),
            format!("reference;nom;mois;heures\n{reference};{WORKER_LAST};2026-02;100\n"),
        )
        .await;
    assert!(imported.get("errors").is_none(), "{imported}");
    let e = app.record_ok(&cddi, "2026-03", "120").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    let read = app
        .run_as(
            Some(facilitator.clone()),
            "query($id: ID!) { node(id: $id) { ... on Participant { identity { lastName } } } }",
            json!({"id": worker}),
        )
        .await;
    assert_eq!(
        read["data"]["node"]["identity"]["lastName"], WORKER_LAST,
        "{read}"
    );
    Cast {
        w,
        hosted,
        hosted_placement,
        chantier,
        worker,
        cddi,
        facilitator,
        buyer,
        host,
        etti,
        aci,
        funder,
    }
}

async fn placement_reference(app: &TestApp, placement: &str) -> String {
    app.ok(
        "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
        json!({"id": placement}),
    )
    .await["node"]["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

fn code(resp: &Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["code"].as_str()
}

fn line<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["people"]
        .as_array()
        .unwrap_or_else(|| panic!("no people in {report}"))
        .iter()
        .find(|p| p["band"] == code)
        .unwrap_or_else(|| panic!("no band {code} in {report}"))
}

fn token(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("no token: {v}"))
}

/// The placement references a trace lists, as `who` asks; `Err(code)` when refused.
async fn traced(app: &TestApp, who: &Actor, token: &str) -> Result<Vec<String>, String> {
    let resp = app
        .run_as(Some(who.clone()), TRACE, json!({"t": token}))
        .await;
    if let Some(c) = code(&resp) {
        return Err(c.to_string());
    }
    Ok(resp["data"]["traceEntries"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{resp}"))
        .iter()
        .map(|e| {
            e["node"]["placementReference"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect())
}

async fn report_as(app: &TestApp, who: &Actor, query: &str, id: &str) -> Value {
    let resp = app
        .run_as(Some(who.clone()), query, json!({"id": id}))
        .await;
    assert!(resp.get("errors").is_none(), "{resp}");
    let data = &resp["data"];
    data.get("marketReport")
        .or_else(|| data.get("chantierEvaluation"))
        .unwrap()
        .clone()
}

async fn people_facets_trace_for_facilitators_only(app: &TestApp) {
    let c = cast(app).await;
    let hosted_ref = placement_reference(app, &c.hosted_placement).await;
    let worker_ref = placement_reference(app, &c.cddi).await;
    // A buyer, the host company, the employer and an administrator read the market report; a
    // funder the fiche of the chantier it funds. Each sees the count of people on AAH, none
    // the entries.
    let admin = app.user("admin@t.fr", Role::Admin, None, &[]).await;
    for (who, name) in [
        (&admin, "administrator"),
        (&c.buyer, "buyer"),
        (&c.host, "host"),
        (&c.etti, "employer"),
    ] {
        let r = report_as(app, who, MARKET_REPORT, &c.w.market).await;
        let aah = line(&r, "PUBLIC:AAH");
        assert_eq!(aah["total"], 1, "{name}: the count stays in the report");
        let got = traced(app, who, token(&aah["trace"])).await;
        assert_eq!(
            got,
            Err("FORBIDDEN".into()),
            "{name} listed the placements behind PUBLIC:AAH"
        );
        for band in ["AGE:FROM_26_TO_50", "QPV:false", "EDU:BELOW_LEVEL_3"] {
            assert_eq!(
                traced(app, who, token(&line(&r, band)["trace"])).await,
                Err("FORBIDDEN".into()),
                "{name}: {band}"
            );
        }
        // Just beside: figures that pick no one by who they are still open.
        let all = traced(app, who, token(&line(&r, "ALL")["trace"])).await;
        assert_eq!(all.map(|v| v.len()), Ok(2), "{name}: the whole headcount");
        let hours = traced(app, who, token(&r["market"]["hours"]["validated"]["trace"])).await;
        assert_eq!(hours.map(|v| v.len()), Ok(2), "{name}: validated hours");
    }
    let r = report_as(app, &c.funder, CHANTIER_REPORT, &c.chantier).await;
    let aah = line(&r, "PUBLIC:AAH");
    assert_eq!(aah["total"], 1);
    assert_eq!(
        traced(app, &c.funder, token(&aah["trace"])).await,
        Err("FORBIDDEN".into()),
        "the funder listed the placements behind PUBLIC:AAH"
    );
    for exit in r["exits"]["lines"].as_array().unwrap() {
        assert_eq!(
            traced(app, &c.funder, token(&exit["trace"])).await,
            Err("FORBIDDEN".into()),
            "exits: {exit}"
        );
    }
    assert_eq!(
        traced(app, &c.funder, token(&r["hours"]["validated"]["trace"]))
            .await
            .map(|v| v.len()),
        Ok(1),
        "the chantier's validated hours stay traceable"
    );
    // The message says why and that the count is the report's.
    let refused = app
        .run_as(Some(c.buyer.clone()), TRACE, json!({"t": token(&line(&report_as(app, &c.buyer, MARKET_REPORT, &c.w.market).await, "PUBLIC:AAH")["trace"])}))
        .await;
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("facilitateurs"), "{message}");
    // The facilitator of the territory gets the entries: exactly those people's placements.
    let r = report_as(app, &c.facilitator, MARKET_REPORT, &c.w.market).await;
    assert_eq!(
        traced(app, &c.facilitator, token(&line(&r, "PUBLIC:AAH")["trace"])).await,
        Ok(vec![hosted_ref])
    );
    let r = report_as(app, &c.facilitator, CHANTIER_REPORT, &c.chantier).await;
    let mut entries = traced(app, &c.facilitator, token(&line(&r, "PUBLIC:AAH")["trace"]))
        .await
        .unwrap();
    entries.dedup();
    assert_eq!(entries, vec![worker_ref]);
}

/// A token's two parts; an old unsigned token is all payload.
fn parts(token: &str) -> (String, String) {
    let (p, t) = token.split_once('.').unwrap_or((token, ""));
    (p.to_string(), t.to_string())
}

fn payload_json(token: &str) -> String {
    String::from_utf8(URL_SAFE_NO_PAD.decode(parts(token).0).unwrap()).unwrap()
}

/// The token with its payload replaced by `json` and its signature kept.
fn rewritten(token: &str, json: &str) -> String {
    let (_, tag) = parts(token);
    let payload = URL_SAFE_NO_PAD.encode(json);
    if tag.is_empty() {
        payload
    } else {
        format!("{payload}.{tag}")
    }
}

async fn a_token_changed_by_one_byte_is_refused(app: &TestApp) {
    let c = cast(app).await;
    let r = report_as(app, &c.facilitator, MARKET_REPORT, &c.w.market).await;
    let good = token(&r["market"]["hours"]["validated"]["trace"]).to_string();
    assert_eq!(
        traced(app, &c.facilitator, &good).await.map(|v| v.len()),
        Ok(2)
    );
    let refused = |resp: Value| {
        (
            resp["errors"][0]["extensions"]["code"].clone(),
            resp["errors"][0]["extensions"]["field"].clone(),
        )
    };
    let bad = (json!("BAD_USER_INPUT"), json!("trace"));
    // One byte of the recipe: the report's date a day earlier (a valid recipe, not signed).
    let json = payload_json(&good);
    assert!(json.contains("\"as_at\":\"2026-11-22\""), "{json}");
    let earlier = rewritten(
        &good,
        &json.replacen("\"as_at\":\"2026-11-22\"", "\"as_at\":\"2026-11-21\"", 1),
    );
    let resp = app
        .run_as(Some(c.facilitator.clone()), TRACE, json!({"t": earlier}))
        .await;
    assert_eq!(refused(resp.clone()), bad, "payload changed: {resp}");
    // One character of the signature.
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let resp = app
        .run_as(
            Some(c.facilitator.clone()),
            TRACE,
            json!({"t": String::from_utf8(flipped).unwrap()}),
        )
        .await;
    assert_eq!(refused(resp.clone()), bad, "signature changed: {resp}");
    // The recipe alone (the old unsigned form), a signature alone, garbage.
    for forged in [
        URL_SAFE_NO_PAD.encode(&json),
        format!(".{}", parts(&good).1),
        "not-a-trace".into(),
        format!("{good}x"),
    ] {
        let resp = app
            .run_as(Some(c.facilitator.clone()), TRACE, json!({"t": forged}))
            .await;
        assert_eq!(refused(resp.clone()), bad, "{forged}: {resp}");
    }
}

async fn a_token_is_bound_to_its_report(app: &TestApp) {
    let c = cast(app).await;
    // A second market of the same buyer, the same company on its lot, with hours of its own.
    let (other, other_lot) = app
        .market_in_progress(&c.w.buyer, "LP-2026-002", &c.w.company)
        .await;
    let p = app.participant(&c.w.territory, "Payet").await;
    let pl = app
        .placement(&p, &other, &other_lot, &c.w.company, "DIRECT_HIRE")
        .await;
    let e = app.record_ok(&pl, "2026-04", "35").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    let uuid = |id: &str| {
        ids::decode(Kind::Market, &ID(id.to_string()), "market")
            .unwrap()
            .to_string()
    };
    let a = report_as(app, &c.facilitator, MARKET_REPORT, &c.w.market).await;
    let b = report_as(app, &c.facilitator, MARKET_REPORT, &other).await;
    let from_a = token(&a["market"]["hours"]["validated"]["trace"]).to_string();
    let from_b = token(&b["market"]["hours"]["validated"]["trace"]).to_string();
    assert_eq!(
        traced(app, &c.facilitator, &from_b).await.map(|v| v.len()),
        Ok(1)
    );
    // A's token rewritten to market B, its signature kept: refused, not B's entries.
    let json = payload_json(&from_a);
    assert!(json.contains(&uuid(&c.w.market)), "{json}");
    let replayed = rewritten(&from_a, &json.replace(&uuid(&c.w.market), &uuid(&other)));
    let resp = app
        .run_as(Some(c.facilitator.clone()), TRACE, json!({"t": replayed}))
        .await;
    assert_eq!(
        (
            code(&resp),
            resp["errors"][0]["extensions"]["field"].as_str()
        ),
        (Some("BAD_USER_INPUT"), Some("trace")),
        "A's token replayed on B: {resp}"
    );
    // B's recipe under A's signature, likewise.
    let swapped = format!("{}.{}", parts(&from_b).0, parts(&from_a).1);
    let resp = app
        .run_as(Some(c.facilitator.clone()), TRACE, json!({"t": swapped}))
        .await;
    assert_eq!(code(&resp), Some("BAD_USER_INPUT"), "{resp}");
    // A genuine token is re-checked against its subject: a buyer of another market only
    // gets NOT_FOUND, as for the report itself.
    let rival = app.org("Bailleur Sud", "BUYER", None, &c.w.territory).await;
    let stranger = app.user("b@sud.fr", Role::Buyer, Some(&rival), &[]).await;
    assert_eq!(
        traced(app, &stranger, &from_a).await,
        Err("NOT_FOUND".into())
    );
}

/// A context and schema on the app's store with a trace key of its own.
async fn instance_with(app: &TestApp, configured: Option<&Secret>) -> (Ctx, AppSchema) {
    let ctx = Ctx {
        db: app.ctx.db.clone(),
        clock: app.ctx.clock.clone(),
        trace_key: TraceKey::load(
            &app.ctx.db.conn,
            configured.map(Secret::expose),
            app.clock.now(),
        )
        .await
        .unwrap(),
        ..app.ctx.clone()
    };
    let schema = build_schema(Some(ctx.clone()));
    (ctx, schema)
}

async fn run_on(ctx: &Ctx, schema: &AppSchema, query: &str, vars: Value) -> Value {
    let req = passerelle::graphql::prepare(
        Request::new(query).variables(Variables::from_json(vars)),
        ctx,
        Some(Actor::system()),
    );
    serde_json::to_value(schema.execute(req).await).unwrap()
}

async fn a_configured_secret_overrides_the_stored_one(app: &TestApp) {
    let c = cast(app).await;
    let stored = app.count("server_secret").await;
    assert_eq!(stored, 1, "the store's key, drawn at start");
    // The boundary: 31 bytes are refused, 32 taken, from the command line and the environment.
    let short = "k".repeat(Secret::MIN_BYTES - 1);
    let long = "k".repeat(Secret::MIN_BYTES);
    assert!(Secret::parse(&short).is_err());
    assert!(Secret::parse(&long).is_ok());
    assert!(Cli::try_parse_from(["passerelle", "--trace-secret", &short]).is_err());
    let cli = Cli::try_parse_from(["passerelle", "--trace-secret", &long]).unwrap();
    assert_eq!(cli.config.trace_secret, Secret::parse(&long).ok());
    assert!(
        !format!("{:?}", cli.config).contains(&long),
        "the key never shows in logs"
    );

    let configured = Secret::parse("une clé de 32 octets au moins, configurée").unwrap();
    let (ctx1, s1) = instance_with(app, Some(&configured)).await;
    let (ctx2, s2) = instance_with(app, Some(&configured)).await;
    let query = "query($id: ID!) { marketReport(marketId: $id) { market { hours { validated { trace } } } } }";
    let t = |r: &Value| {
        token(&r["data"]["marketReport"]["market"]["hours"]["validated"]["trace"]).to_string()
    };
    let from_configured = t(&run_on(&ctx1, &s1, query, json!({"id": c.w.market})).await);
    let from_stored = t(&app.run(query, json!({"id": c.w.market})).await);
    assert_ne!(from_configured, from_stored);
    let opens = |resp: Value| resp.get("errors").is_none();
    // Another instance with the same configured key opens it; the stored key does not.
    assert!(opens(
        run_on(&ctx2, &s2, TRACE, json!({"t": from_configured})).await
    ));
    assert_eq!(
        code(&app.run(TRACE, json!({"t": from_configured})).await),
        Some("BAD_USER_INPUT")
    );
    assert_eq!(
        code(&run_on(&ctx2, &s2, TRACE, json!({"t": from_stored})).await),
        Some("BAD_USER_INPUT")
    );
    assert_eq!(
        app.count("server_secret").await,
        1,
        "a configured key is not stored"
    );
}

async fn instances_on_one_store_agree_on_the_drawn_secret(app: &TestApp) {
    let before = app.ctx.trace_key.sign(b"x");
    // A new store: nobody has drawn a key yet. Two instances start at once.
    app.ctx
        .db
        .conn
        .execute_unprepared("DELETE FROM server_secret")
        .await
        .unwrap();
    let start = || async {
        let db = Db::connect_with(&app.url, 2, app.pg_schema.as_deref())
            .await
            .unwrap();
        TraceKey::load(&db.conn, None, app.clock.now())
            .await
            .unwrap()
    };
    let (a, b) = tokio::join!(start(), start());
    assert_eq!(app.count("server_secret").await, 1);
    assert_eq!(a.sign(b"x"), b.sign(b"x"), "both sign alike");
    assert_ne!(a.sign(b"x"), before, "a key drawn anew");
    // A restart keeps it.
    assert_eq!(start().await.sign(b"x"), a.sign(b"x"));
}

async fn name_search_is_no_oracle_for_a_host_company(app: &TestApp) {
    let c = cast(app).await;
    let search = |who: &Actor, term: &str| {
        let who = who.clone();
        let term = term.to_string();
        async move {
            let resp = app.run_as(Some(who), SEARCH, json!({"s": term})).await;
            assert!(resp.get("errors").is_none(), "{resp}");
            let mut found: Vec<String> = resp["data"]["participants"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string())
                .collect();
            found.sort();
            found
        }
    };
    // The host company lists the people it hosts...
    let listed = app
        .run_as(
            Some(c.host.clone()),
            "{ participants { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(
        listed.to_string().contains(&c.hosted),
        "hosted people stay listed: {listed}"
    );
    // ...but her name answers exactly as a name nobody has.
    for term in [HOSTED_LAST, "quokka", HOSTED_FIRST] {
        assert_eq!(
            search(&c.host, term).await,
            search(&c.host, "Wxqzvbtrplk").await,
            "the host company searching « {term} »"
        );
    }
    // Those who may identify her find her: her employer, the facilitator.
    for who in [&c.etti, &c.facilitator] {
        assert_eq!(search(who, HOSTED_LAST).await, vec![c.hosted.clone()]);
        assert_eq!(search(who, "Wxqzvbtrplk").await, Vec::<String>::new());
    }
    // The company still finds its own employee by name.
    assert_eq!(
        search(&c.host, "Hoarau").await,
        vec![c.w.participant.clone()]
    );
}

/// What an import answered: accepted with how many lines recorded, or refused with the columns.
fn outcome(resp: &Value) -> String {
    match code(resp) {
        None => format!(
            "accepted, {} recorded",
            resp["data"]["importHourStatements"]["recordedCount"]
        ),
        Some(c) => format!(
            "{c} on {:?}",
            resp["errors"][0]["extensions"]["errors"]
                .as_array()
                .map(|l| l.iter().map(|e| e["column"].clone()).collect::<Vec<_>>())
        ),
    }
}

async fn import_name_column_is_no_oracle_for_a_host_company(app: &TestApp) {
    let c = cast(app).await;
    let r = placement_reference(app, &c.hosted_placement).await;
    let file =
        |name: &str, month: &str| format!("reference;nom;mois;heures\n{r};{name};{month};70\n");
    let right = app
        .upload_hours(c.host.clone(), file(HOSTED_LAST, "2026-04"))
        .await;
    let wrong = app
        .upload_hours(c.host.clone(), file("Wxqzvbtrplk", "2026-05"))
        .await;
    assert_eq!(
        outcome(&right),
        outcome(&wrong),
        "the host company's right vs wrong name"
    );
    assert_eq!(outcome(&right), "accepted, 1 recorded");
    // Her employer may identify her: a wrong name is still caught, the right one passes.
    let caught = app
        .upload_hours(c.etti.clone(), file("Wxqzvbtrplk", "2026-06"))
        .await;
    assert_eq!(outcome(&caught), "FILE_REFUSED on Some([String(\"nom\")])");
    let passed = app
        .upload_hours(c.etti.clone(), file(HOSTED_LAST, "2026-06"))
        .await;
    assert_eq!(outcome(&passed), "accepted, 1 recorded");
    // And the company checks the names of its own employees.
    let own = placement_reference(app, &c.w.placement).await;
    let caught = app
        .upload_hours(
            c.host.clone(),
            format!("reference;nom;mois;heures\n{own};Wxqzvbtrplk;2026-04;70\n"),
        )
        .await;
    assert_eq!(outcome(&caught), "FILE_REFUSED on Some([String(\"nom\")])");
}

/// Every table with every column read as text (`None` for NULL): (table, rows of (column, text)).
type Dump = Vec<(String, Vec<Vec<(String, Option<String>)>>)>;

async fn dump(app: &TestApp) -> Dump {
    let conn = &app.ctx.db.conn;
    let backend = app.ctx.db.backend();
    let rows = |sql: String| async move {
        conn.query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
    };
    let mut columns: Vec<(String, String)> = Vec::new();
    if app.is_postgres() {
        for r in rows(
            "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             ORDER BY table_name, ordinal_position"
                .into(),
        )
        .await
        {
            columns.push((r.try_get("", "t").unwrap(), r.try_get("", "c").unwrap()));
        }
    } else {
        for t in
            rows("SELECT name AS t FROM sqlite_master WHERE type = 'table' ORDER BY name".into())
                .await
        {
            let table: String = t.try_get("", "t").unwrap();
            for c in rows(format!(
                "SELECT name AS c FROM pragma_table_info('{table}')"
            ))
            .await
            {
                columns.push((table.clone(), c.try_get("", "c").unwrap()));
            }
        }
    }
    let tables: BTreeSet<String> = columns.iter().map(|(t, _)| t.clone()).collect();
    let mut out = Vec::new();
    for table in tables {
        let cols: Vec<&String> = columns
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, c)| c)
            .collect();
        // SQLite keeps UUIDs as blobs: read them as hex, like any other bytes.
        let select: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if app.is_postgres() {
                    format!("CAST(\"{c}\" AS TEXT) AS c{i}")
                } else {
                    format!(
                        "CASE typeof(\"{c}\") WHEN 'blob' THEN lower(hex(\"{c}\")) ELSE CAST(\"{c}\" AS TEXT) END AS c{i}"
                    )
                }
            })
            .collect();
        let mut table_rows = Vec::new();
        for r in rows(format!("SELECT {} FROM \"{table}\"", select.join(", "))).await {
            table_rows.push(
                cols.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        (
                            c.to_string(),
                            r.try_get::<Option<String>>("", &format!("c{i}")).unwrap(),
                        )
                    })
                    .collect(),
            );
        }
        out.push((table, table_rows));
    }
    out
}

/// A UUID in both the forms a store shows it: hyphenated (PostgreSQL, JSON) and bare hex
/// (SQLite blobs).
fn both_forms(raw: &str) -> [String; 2] {
    let bare: String = raw
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_lowercase();
    let dashed = if bare.len() == 32 {
        format!(
            "{}-{}-{}-{}-{}",
            &bare[..8],
            &bare[8..12],
            &bare[12..16],
            &bare[16..20],
            &bare[20..]
        )
    } else {
        raw.to_lowercase()
    };
    [dashed, bare]
}

/// Rows that concern a person: those that hold their id, then those that hold the id of such
/// a row (placements, their entries, reviews, exits, eligibility and its proofs, PASS, deadlines,
/// reminders, audit events, reads of the file...), to a fixed point. As (table, row index).
fn concerning(dump: &Dump, person: &str) -> HashSet<(String, usize)> {
    let uuid = ids::decode(Kind::Participant, &ID(person.to_string()), "person").unwrap();
    let mut ids: HashSet<String> = both_forms(&uuid.to_string()).into_iter().collect();
    let mut rows = HashSet::new();
    loop {
        let mut grew = false;
        for (table, table_rows) in dump {
            for (i, row) in table_rows.iter().enumerate() {
                if rows.contains(&(table.clone(), i)) {
                    continue;
                }
                let holds = row.iter().any(|(_, v)| {
                    v.as_deref().is_some_and(|v| {
                        ids.iter().any(|id| v.to_lowercase().contains(id.as_str()))
                    })
                });
                if holds {
                    rows.insert((table.clone(), i));
                    grew = true;
                    if let Some((_, Some(own))) = row.iter().find(|(c, _)| c == "id") {
                        ids.extend(both_forms(own));
                    }
                }
            }
        }
        if !grew {
            return rows;
        }
    }
}

/// Whether `code` stands in `text` as a whole word (`AAH`, not part of `MAAHX`).
fn has_word(text: &str, code: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == code)
}

/// Where the person's names, birth date and exit justification appear anywhere, and their
/// publics in the rows that concern them: (table, column, what).
fn traces_of(dump: &Dump, person: &str) -> BTreeSet<(String, String, String)> {
    let theirs = concerning(dump, person);
    let mut hits = BTreeSet::new();
    for (table, table_rows) in dump {
        for (i, row) in table_rows.iter().enumerate() {
            for (col, v) in row {
                let Some(v) = v else { continue };
                let lower = v.to_lowercase();
                for needle in [
                    WORKER_FIRST,
                    WORKER_LAST,
                    WORKER_BORN,
                    "23/08/1979",
                    WORKER_EXIT_WHY,
                ] {
                    if lower.contains(&needle.to_lowercase()) {
                        hits.insert((table.clone(), col.clone(), needle.to_string()));
                    }
                }
                if theirs.contains(&(table.clone(), i)) {
                    for public in WORKER_PUBLICS {
                        if has_word(v, public) {
                            hits.insert((table.clone(), col.clone(), public.to_string()));
                        }
                    }
                }
            }
        }
    }
    hits
}

async fn anonymization_leaves_no_name_or_public_anywhere(app: &TestApp) {
    let c = cast(app).await;
    app.ok(
        "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome } }",
        json!({"i": {"placementId": c.cddi, "exitDate": "2026-11-20", "outcome": "OTHER_POSITIVE",
            "detail": "Formation qualifiante", "justification": WORKER_EXIT_WHY}}),
    )
    .await;
    // The search finds what is there: before anonymization, the names in the file.
    let before = dump(app).await;
    assert!(before.len() >= 40, "{} tables", before.len());
    let found = traces_of(&before, &c.worker);
    for expected in [
        ("participant", "last_name", WORKER_LAST),
        ("participant", "first_name", WORKER_FIRST),
        ("participant", "birth_date", WORKER_BORN),
        ("participant", "publics", "AAH"),
        ("placement", "derogation", "DISABLED_WORKER"),
        ("placement_exit", "justification", WORKER_EXIT_WHY),
    ] {
        let e = (
            expected.0.to_string(),
            expected.1.to_string(),
            expected.2.to_string(),
        );
        assert!(found.contains(&e), "{e:?} not found in {found:?}");
    }
    // The trail never held any of it, even before (checked last, so that an old build shows
    // everything it leaves behind first).
    let in_trail: Vec<_> = found.iter().filter(|h| h.0 == "audit_event").collect();

    // Proofs stay append-only while their person is not anonymized: neither changed nor deleted.
    for sql in [
        "UPDATE eligibility_proof SET reference = 'x'",
        "DELETE FROM eligibility_proof",
    ] {
        let refused = app.ctx.db.conn.execute_unprepared(sql).await;
        assert!(refused.is_err(), "{sql} must be refused");
    }
    assert!(app.count("eligibility_proof").await > 0);
    let done = app
        .run_as(
            Some(c.facilitator.clone()),
            "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { anonymizedAt } }",
            json!({"p": c.worker}),
        )
        .await;
    assert!(done.get("errors").is_none(), "{done}");
    let after = dump(app).await;
    let theirs = concerning(&after, &c.worker);
    assert!(
        theirs.len() >= 20,
        "the rows that concern him: {}",
        theirs.len()
    );
    let left = traces_of(&after, &c.worker);
    assert!(left.is_empty(), "left after anonymization: {left:?}");
    assert!(in_trail.is_empty(), "in the audit trail: {in_trail:?}");
    // The hours and the counts stay.
    let hours = app
        .ok(
            "query($id: ID!) { chantierEvaluation(chantierId: $id) { headcount hours { validated { minutes } } } }",
            json!({"id": c.chantier}),
        )
        .await;
    assert_eq!(hours["chantierEvaluation"]["headcount"], 1);
    assert_eq!(
        hours["chantierEvaluation"]["hours"]["validated"]["minutes"],
        120 * 60
    );
    let _ = (&c.hosted, &c.buyer, &c.aci);
}

async fn redaction_migration_rewrites_old_rows_only(app: &TestApp) {
    // A store migrated up to just before the redaction, as a deployment of before issue 18.
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("r_{}", uuid::Uuid::new_v4().simple());
    let db = if app.is_postgres() {
        app.ctx
            .db
            .conn
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        Db::connect_with(&app.url, 2, Some(&schema)).await.unwrap()
    } else {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        Db::connect(&url, 2).await.unwrap()
    };
    let conn = &db.conn;
    let backend = db.backend();
    let before_redaction = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261201_000011_redact_audit")
        .unwrap();
    Migrator::up(conn, Some(before_redaction as u32))
        .await
        .unwrap();
    let participant = r#"{"territoryId":"t","sex":"FEMALE","educationLevel":"LEVEL_3","qpvResident":true,"publics":"AAH,PRISON_LEAVER","prescriberId":null}"#;
    let placement_before =
        r#"{"id":"p","reference":"MS-0001","derogation":null,"end_date":"2027-12-31"}"#;
    let placement_after = r#"{"id":"p","reference":"MS-0001","derogation":"DISABLED_WORKER","end_date":"2028-03-31"}"#;
    let market = r#"{"title":"Marché des publics","reference":"LP-1","derogations":"none"}"#;
    let rows = [
        ("createParticipant", None, Some(participant)),
        ("anonymizeParticipant", Some(participant), Some(participant)),
        (
            "extendPlacement",
            Some(placement_before),
            Some(placement_after),
        ),
        ("createMarket", None, Some(market)),
    ];
    for (i, (action, before, after)) in rows.iter().enumerate() {
        let insert = sea_orm::sea_query::Query::insert()
            .into_table("audit_event")
            .columns([
                "id",
                "actor_label",
                "action",
                "object_type",
                "object_id",
                "before",
                "after",
                "at",
            ])
            .values_panic([
                uuid::Uuid::now_v7().into(),
                "fac@t.fr".into(),
                (*action).into(),
                "Participant".into(),
                uuid::Uuid::from_u128(i as u128 + 1).into(),
                before.map(str::to_string).into(),
                after.map(str::to_string).into(),
                app.clock.now().into(),
            ])
            .to_owned();
        conn.execute(&insert).await.unwrap();
    }
    Migrator::up(conn, None).await.unwrap();
    let read = |sql: &'static str| async move {
        conn.query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
    };
    let trail: Vec<(String, Option<Value>, Option<Value>)> =
        read("SELECT action, before, after FROM audit_event ORDER BY id")
            .await
            .iter()
            .map(|r| {
                let json = |c: &str| {
                    r.try_get::<Option<String>>("", c)
                        .unwrap()
                        .map(|s| serde_json::from_str::<Value>(&s).unwrap())
                };
                (
                    r.try_get("", "action").unwrap(),
                    json("before"),
                    json("after"),
                )
            })
            .collect();
    let of = |action: &str| {
        trail
            .iter()
            .find(|(a, _, _)| a == action)
            .unwrap_or_else(|| panic!("no {action} in {trail:?}"))
            .clone()
    };
    // The profile (sex, education, QPV, prescriber) is identity-level too: only the territory stays.
    let kept = json!({"territoryId": "t"});
    assert_eq!(
        of("createParticipant"),
        ("createParticipant".into(), None, Some(kept.clone()))
    );
    assert_eq!(
        of("anonymizeParticipant"),
        (
            "anonymizeParticipant".into(),
            Some(kept.clone()),
            Some(kept)
        )
    );
    assert_eq!(
        of("extendPlacement"),
        (
            "extendPlacement".into(),
            Some(json!({"id": "p", "reference": "MS-0001", "end_date": "2027-12-31"})),
            Some(json!({"id": "p", "reference": "MS-0001", "end_date": "2028-03-31"}))
        )
    );
    // A row without a protected key is not touched, byte for byte (`derogations` is not one).
    let untouched: Option<String> =
        read("SELECT after FROM audit_event WHERE action = 'createMarket'").await[0]
            .try_get("", "after")
            .unwrap();
    assert_eq!(untouched.as_deref(), Some(market));
    // The redaction is in the trail, for administrators.
    let (_, _, note) = of("redactAuditTrail");
    assert_eq!(note.unwrap()["rowsRedacted"], 3);
    // And the trail refuses changes again, as before.
    for sql in [
        "UPDATE audit_event SET actor_label = 'x'",
        "DELETE FROM audit_event",
    ] {
        assert!(
            conn.execute_unprepared(sql).await.is_err(),
            "{sql} went through"
        );
    }
    if app.is_postgres() {
        app.ctx
            .db
            .conn
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .ok();
    }
}
