//! The API as a whole: served schema, limits, query counts, node lookup, demo data.

mod common;

use common::*;
use serde_json::json;

db_tests!(
    page_of_markets_costs_a_fixed_number_of_queries,
    node_finds_every_type_and_hides_nothing_else,
    abusive_queries_are_refused,
    demo_sample_is_complete,
    migrations_race_safely,
    recording_hours_costs_a_fixed_number_of_queries,
    recordings_read_the_territory_zone_once,
);

#[test]
fn schema_file_matches_served_schema() {
    let served = passerelle::graphql::sdl();
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        served == file,
        "schema.graphql is stale: run `cargo run -- print-schema -o schema.graphql`"
    );
}

const PAGE: &str = "query($n: Int) { markets(first: $n) { edges { node { reference buyer { name } territory { code }
    lots { number awardee { name } hoursDelivered hoursPending participantCount }
    hoursTarget hoursDelivered hoursPending completionRate participantCount byModality { modality hoursDelivered } } } } }";

async fn page_of_markets_costs_a_fixed_number_of_queries(app: &TestApp) {
    let t = app.territory("974").await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    for i in 0..50 {
        let buyer = app.org(&format!("Ville {i}"), "BUYER", None, &t).await;
        let (m, lot) = app
            .market_in_progress(&buyer, &format!("R-{i}"), &company)
            .await;
        if i % 5 == 0 {
            // One person each: together they would pass the 48-hour week.
            let p = app.participant(&t, &format!("Payet {i}")).await;
            let pl = app.placement(&p, &m, &lot, &company, "DIRECT_HIRE").await;
            app.record_ok(&pl, "2026-03", "10").await;
        }
    }
    // The same page asked for as `edges { node }` and as `nodes` (the bench's morning page
    // used `nodes`, which once escaped the prefetch and cost one batch per wave of resolvers).
    let nodes = PAGE
        .replace("edges { node {", "nodes {")
        .replace("} } } } }", "} } } }");
    for (query, list) in [(PAGE, "edges"), (nodes.as_str(), "nodes")] {
        let mut counts = Vec::new();
        for n in [5, 50] {
            app.reset_statements();
            let d = app.ok(query, json!({"n": n})).await;
            assert_eq!(d["markets"][list].as_array().unwrap().len(), n);
            counts.push(app.statements());
        }
        assert_eq!(
            counts[0], counts[1],
            "{list}: queries must not grow with the page size: {counts:?}"
        );
        // markets, buyers, territories, market totals (the markets' places, the parameters in
        // force there for TRAINING_HOURS_COUNT, hours, people), lots, awardees, lot totals (the
        // same four).
        assert_eq!(counts[1], 13, "{list}: statements for one page");
    }
}

async fn node_finds_every_type_and_hides_nothing_else(app: &TestApp) {
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "10").await;
    for (id, typename) in [
        (&w.territory, "Territory"),
        (&w.buyer, "Organization"),
        (&w.market, "Market"),
        (&w.lot, "Lot"),
        (&w.participant, "Participant"),
        (&w.placement, "Placement"),
        (&e, "HourEntry"),
    ] {
        let d = app
            .ok(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(d["node"]["__typename"], typename);
        assert_eq!(d["node"]["id"], *id);
    }
    let ghost = passerelle::ids::encode(passerelle::ids::Kind::Market, uuid::Uuid::now_v7());
    let d = app
        .ok(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": ghost}),
        )
        .await;
    assert!(d["node"].is_null());
    for bad in ["", "x", "TWFya2V0Om5vdC1hLXV1aWQ", "Zm9vOmJhcg"] {
        let (code, field) = app
            .err(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": bad}),
            )
            .await;
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("BAD_USER_INPUT", Some("id")),
            "{bad}"
        );
    }
}

async fn abusive_queries_are_refused(app: &TestApp) {
    app.world().await;
    // Depth: market → lots → market → lots → ... beyond the limit.
    let mut deep = String::from("reference");
    for _ in 0..8 {
        deep = format!("lots {{ market {{ {deep} }} }}");
    }
    let resp = app
        .run(
            &format!("{{ markets(first: 1) {{ edges {{ node {{ {deep} }} }} }} }}"),
            json!({}),
        )
        .await;
    let msg = resp["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(msg.contains("nested") || msg.contains("depth"), "{resp}");
    // Complexity: wide pages of pages.
    let wide = "{ markets(first: 100) { edges { node { placements(first: 100) { edges { node { hourEntries(first: 100) { edges { node { id } } } } } } } } } }";
    let resp = app.run(wide, json!({})).await;
    let msg = resp["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(msg.contains("complex"), "{resp}");
    // A normal page is fine.
    app.ok(PAGE, json!({"n": 50})).await;
}

async fn demo_sample_is_complete(app: &TestApp) {
    let summary = passerelle::service::demo::seed(&app.ctx)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert!(summary.contains("6 markets"), "{summary}");
    let d = app
        .ok(
            "{ territories { edges { node { timeZone } } }
               operations { edges { node { name kind } } }
               markets(first: 50) { edges { node { clause { kind } status lots { awardee { id } } hoursDelivered hoursPending } } }
               rejected: hourEntries(filter: {status: REJECTED}) { edges { node { id } } }
               pending: hourEntries(filter: {status: DECLARED}, first: 100) { edges { node { id corrects { id } } } }
               validated: hourEntries(filter: {status: VALIDATED}, first: 100) { edges { node { corrects { id } reason } } } }",
            json!({}),
        )
        .await;
    let zones: Vec<&str> = d["territories"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["timeZone"].as_str().unwrap())
        .collect();
    assert_eq!(zones, ["Indian/Reunion", "Indian/Mayotte"]);
    assert_eq!(d["operations"]["edges"][0]["node"]["kind"], "PRU");
    // A chantier d'insertion rénovation of the PRU, staffed, budgeted and funded.
    let c = app
        .ok(
            "{ chantiers { edges { node { kind market { clause { kind } } supervisors { name } fundingLines { purpose amountCents } } } } }",
            json!({}),
        )
        .await;
    let chantier = &c["chantiers"]["edges"][0]["node"];
    assert_eq!(chantier["kind"], "RENOVATION");
    assert_eq!(
        chantier["market"]["clause"]["kind"],
        "INSERTION_SERVICE_MARKET"
    );
    assert_eq!(chantier["supervisors"].as_array().unwrap().len(), 1);
    assert_eq!(chantier["fundingLines"].as_array().unwrap().len(), 4);
    assert_eq!(app.count("chantier_budget").await, 1);
    let markets = d["markets"]["edges"].as_array().unwrap();
    let mut kinds: Vec<&str> = markets
        .iter()
        .map(|m| m["node"]["clause"]["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 5, "every clause kind: {kinds:?}");
    assert!(markets.iter().all(|m| m["node"]["status"] == "IN_PROGRESS"));
    assert!(
        markets
            .iter()
            .all(|m| m["node"]["hoursDelivered"].as_f64().unwrap() > 0.0)
    );
    assert!(markets.iter().all(|m| {
        m["node"]["lots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| !l["awardee"]["id"].is_null())
    }));
    assert_eq!(d["rejected"]["edges"].as_array().unwrap().len(), 1);
    assert!(d["pending"]["edges"].as_array().unwrap().len() >= 10);
    let corrections: Vec<_> = d["validated"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["node"]["corrects"].is_null())
        .collect();
    assert_eq!(corrections.len(), 1);
    assert!(
        corrections[0]["node"]["reason"]
            .as_str()
            .unwrap()
            .contains("Erreur")
    );
}

async fn migrations_race_safely(app: &TestApp) {
    // Two more "instances" migrate the same store at once: both succeed, nothing is applied twice.
    let url = app.url.clone();
    let schema = app.pg_schema.clone();
    let a = {
        let (url, schema) = (url.clone(), schema.clone());
        tokio::spawn(async move {
            let db = passerelle::db::Db::connect_with(&url, 2, schema.as_deref())
                .await
                .unwrap();
            db.migrate().await
        })
    };
    let b = tokio::spawn(async move {
        let db = passerelle::db::Db::connect_with(&url, 2, schema.as_deref())
            .await
            .unwrap();
        db.migrate().await
    });
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    use migration::MigratorTrait;
    let expected = migration::Migrator::migrations().len() as i64;
    assert_eq!(app.count("seaql_migrations").await, expected);
}

/// Each recordHours is one transaction whose statements must not grow with the market's
/// ledger (the deadlines it re-derives read the ledger by aggregates, not row by row).
async fn recording_hours_costs_a_fixed_number_of_queries(app: &TestApp) {
    let w = app.world().await;
    let months = [
        "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07",
    ];
    let mut counts = Vec::new();
    for month in months {
        app.reset_statements();
        app.record_ok(&w.placement, month, "10").await;
        counts.push(app.statements());
    }
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "statements grow with the ledger: {counts:?}"
    );
    // Lock, the market locked (its site), the placement's moves (its suspensions), the
    // month's entries, insert, audit, the month's statement met (the territory's zone is read
    // once per process), then the answer's status.
    assert!(counts[0] <= 8, "{counts:?}");
}

/// A territory's time zone never changes: recordings read it from the store once per process,
/// not once per mutation (the mutation's "today" depends on it).
async fn recordings_read_the_territory_zone_once(app: &TestApp) {
    let w = app.world().await;
    app.reset_statements();
    for month in ["2026-02", "2026-03", "2026-04"] {
        app.record_ok(&w.placement, month, "10").await;
    }
    let reads = app.statements_on("territory");
    assert!(
        reads <= 1,
        "three recordings read the territory {reads} times"
    );
    // Control: the log does see a territory read when there is one.
    app.reset_statements();
    use sea_orm::EntityTrait;
    entity::territory::Entity::find()
        .all(&app.ctx.db.conn)
        .await
        .unwrap();
    assert_eq!(app.statements_on("territory"), 1);
}
