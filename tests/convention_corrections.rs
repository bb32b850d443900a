//! Correcting a convention's file (issue 20): a party added by mistake is removed
//! while the file is open, at the convention's version, by a facilitator of its territory; once
//! signed the file no longer changes. On SQLite and PostgreSQL.

mod common;

use common::*;
use passerelle::domain::auth::{Actor, Role};
use serde_json::{Value, json};

db_tests!(parties_are_removed_while_the_file_is_open);

const READ: &str = "query($id: ID!) { node(id: $id) { ... on Convention { version status parties { role organization { name } } } } }";
const REMOVE_PARTY: &str = "mutation($c: ID!, $v: Int!, $o: ID!, $r: PartyRole!) { removeConventionParty(conventionId: $c, version: $v, party: {organizationId: $o, role: $r}) { version } }";
const MOVE: &str = "mutation($i: TransitionInput!) { transition(input: $i) { state } }";

async fn as_(app: &TestApp, who: &Actor, q: &str, vars: Value) -> Value {
    app.run_as(Some(who.clone()), q, vars).await
}

async fn read(app: &TestApp, fac: &Actor, c: &str) -> Value {
    as_(app, fac, READ, json!({"id": c})).await["data"]["node"].clone()
}

fn code(r: &Value) -> &str {
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

async fn parties_are_removed_while_the_file_is_open(app: &TestApp) {
    let w = app.world().await;
    let fac = app
        .user("lea@ville.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let c = app
        .ok(
            "mutation($i: CreateConventionInput!) { createConvention(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "kind": "PARTNERSHIP", "reference": "C-1", "title": "Charte",
                "startDate": "2026-01-01", "endDate": "2027-12-31",
                "parties": [{"organizationId": w.aci, "role": "BENEFICIARY"},
                            {"organizationId": w.buyer, "role": "SIGNATORY"},
                            {"organizationId": w.company, "role": "SIGNATORY"}],
                "amounts": [{"year": 2026, "amountCents": 1_000_000i64}]}}),
        )
        .await["createConvention"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = read(app, &fac, &c).await["version"].as_i64().unwrap();
    let wrong = json!({"c": c, "v": v, "o": w.company, "r": "SIGNATORY"});
    // A stale version, a party the file does not have, a stranger: refused, nothing removed.
    let mut stale = wrong.clone();
    stale["v"] = json!(v - 1);
    let r = as_(app, &fac, REMOVE_PARTY, stale).await;
    assert_eq!(
        (code(&r), r["errors"][0]["extensions"]["field"].as_str()),
        ("CONFLICT", Some("version"))
    );
    let mut absent = wrong.clone();
    absent["r"] = json!("BENEFICIARY");
    assert_eq!(
        code(&as_(app, &fac, REMOVE_PARTY, absent).await),
        "NOT_FOUND"
    );
    let other_t = app.territory("976-AUTRE").await;
    let stranger = app
        .user("x@ailleurs.fr", Role::Facilitator, None, &[&other_t])
        .await;
    assert_eq!(
        code(&as_(app, &stranger, REMOVE_PARTY, wrong.clone()).await),
        "NOT_FOUND"
    );
    assert_eq!(
        read(app, &fac, &c).await["parties"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The facilitator removes the wrong party.
    let r = as_(app, &fac, REMOVE_PARTY, wrong).await;
    assert_eq!(r["data"]["removeConventionParty"]["version"], v + 1, "{r}");
    let now = read(app, &fac, &c).await;
    assert_eq!(now["parties"].as_array().unwrap().len(), 2);
    // Signed, the file no longer changes: the refusal names the state.
    for to in ["SUBMITTED", "SIGNED"] {
        app.ok(MOVE, json!({"i": {"id": c, "to": to}})).await;
    }
    let v = read(app, &fac, &c).await["version"].as_i64().unwrap();
    let r = as_(
        app,
        &fac,
        REMOVE_PARTY,
        json!({"c": c, "v": v, "o": w.buyer, "r": "SIGNATORY"}),
    )
    .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SIGNED"),
        "{r}"
    );
    assert_eq!(
        read(app, &fac, &c).await["parties"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
