//! Issue 20, the market side: correcting organizations, territories, operations, markets and
//! lots (each rule re-checked at its boundary, the version named, the scope kept), and
//! deleting a market, a lot or an operation while nothing depends on it.

mod common;

use common::*;
use passerelle::domain::auth::{Actor, Role};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

db_tests!(
    organization_edit_rechecks_the_create_rules,
    organization_kind_changes_only_while_unreferenced,
    organization_edit_is_scoped,
    territory_zone_changes_only_while_nothing_is_dated,
    operation_edit_rechecks_rates_dates_and_owner,
    operation_delete_refused_while_a_market_depends,
    market_edit_rechecks_reference_amount_and_dates,
    market_buyer_changes_only_in_draft_and_state_forbids_edits,
    market_dates_keep_hours_and_contracts_inside,
    market_edit_names_the_version_and_stays_in_scope,
    amount_moves_a_target_that_is_the_proposal,
    lot_edit_rechecks_awardee_and_target,
    market_delete_takes_lots_deadlines_and_unsent_reminders,
    lot_delete_refused_while_something_depends,
    concurrent_market_edits_one_wins,
);

const UPDATE_ORG: &str = "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { id version name kind siaeSubtype siret address email } }";
/// Without the contact details, which only an administrator, a facilitator or a member reads.
const UPDATE_ORG_BRIEF: &str = "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { id version name kind siaeSubtype siret } }";
const UPDATE_TERRITORY: &str = "mutation($i: UpdateTerritoryInput!) { updateTerritory(input: $i) { id version name timeZone } }";
const UPDATE_OPERATION: &str = "mutation($i: UpdateOperationInput!) { updateOperation(input: $i) { id version name kind startDate endDate worksRateBp gupRateBp owner { name } } }";
const DELETE_OPERATION: &str =
    "mutation($id: ID!, $v: Int!) { deleteOperation(id: $id, version: $v) }";
const UPDATE_MARKET: &str = "mutation($i: UpdateMarketInput!) { updateMarket(input: $i) { id version reference title status amountCents startDate endDate notificationDate clause { kind } anruCategory buyer { name } hoursTarget hoursTargetSource calibration { proposedHours amountCents } } }";
const UPDATE_LOT: &str = "mutation($i: UpdateLotInput!) { updateLot(input: $i) { id version title amountCents hoursTarget awardee { name } } }";
const DELETE_MARKET: &str = "mutation($id: ID!, $v: Int!) { deleteMarket(id: $id, version: $v) }";
const DELETE_LOT: &str = "mutation($id: ID!, $v: Int!) { deleteLot(id: $id, version: $v) }";
const CREATE_OPERATION: &str =
    "mutation($i: CreateOperationInput!) { createOperation(input: $i) { id version } }";
const VERSION: &str = "query($id: ID!) { node(id: $id) { ... on Territory { version } ... on Organization { version } ... on Operation { version } ... on Market { version } ... on Lot { version } } }";

/// `(code, field, message)` of the first error of a response that must have failed.
fn refusal(resp: &Value) -> (String, Option<String>, String) {
    let e = &resp["errors"][0];
    assert!(!e.is_null(), "expected an error, got {resp:#}");
    (
        e["extensions"]["code"].as_str().unwrap_or("<none>").into(),
        e["extensions"]["field"].as_str().map(String::from),
        e["message"].as_str().unwrap_or_default().into(),
    )
}

/// A global ID's UUID as a literal of the store (a blob on SQLite).
fn lit(app: &TestApp, id: &str) -> String {
    let u = passerelle::ids::parse(id).expect("a global ID").1;
    if app.is_postgres() {
        format!("'{u}'")
    } else {
        format!("X'{}'", u.simple())
    }
}

async fn version(app: &TestApp, id: &str) -> i64 {
    let d = app.ok(VERSION, json!({"id": id})).await;
    d["node"]["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no version for {id}: {d}"))
}

async fn ok_as(app: &TestApp, who: &Actor, q: &str, vars: Value) -> Value {
    let resp = app.run_as(Some(who.clone()), q, vars).await;
    assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
    resp["data"].clone()
}

/// How many audit events record `action`.
async fn audited(app: &TestApp, action: &str) -> i64 {
    app.count(&format!("audit_event WHERE action = '{action}'"))
        .await
}

async fn facilitator(app: &TestApp, email: &str, territory: &str) -> Actor {
    app.user(email, Role::Facilitator, None, &[territory]).await
}

async fn draft_market(
    app: &TestApp,
    buyer: &str,
    reference: &str,
    lots: Value,
) -> (String, Vec<String>) {
    let d = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": buyer, "reference": reference, "title": "Travaux", "clauseKind": "EXECUTION_CONDITION",
                "amountCents": 100_000_000i64, "startDate": "2026-01-01", "endDate": "2027-12-31", "lots": lots}}),
        )
        .await;
    let m = d["createMarket"]["id"].as_str().unwrap().to_string();
    let lots = d["createMarket"]["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    (m, lots)
}

// ---------------------------------------------------------------------------------------------
// Organizations
// ---------------------------------------------------------------------------------------------

async fn organization_edit_rechecks_the_create_rules(app: &TestApp) {
    let t = app.territory("974").await;
    let fac = facilitator(app, "fac@974.fr", &t).await;
    let org = app.org("Ville du Port", "BUYER", None, &t).await;
    let other = app.org("Ville de Saint-Paul", "BUYER", None, &t).await;
    app.ok(
        UPDATE_ORG_BRIEF,
        json!({"i": {"organizationId": other, "version": 1, "siret": "21974015700017"}}),
    )
    .await;
    // Bad input names its field and writes nothing.
    for (patch, field) in [
        (json!({"name": "   "}), "name"),
        (json!({"siret": "21750001600018"}), "siret"),
        (json!({"siret": "2175000160001"}), "siret"),
        (json!({"email": "pas-un-mail"}), "email"),
        (json!({"kind": "SIAE"}), "siaeSubtype"),
        (json!({"siaeSubtype": "ACI"}), "siaeSubtype"),
        (json!({"organizationId": "%%%"}), "organizationId"),
    ] {
        let mut i = json!({"organizationId": org, "version": 1});
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        let (code, f, _) = refusal(
            &app.run_as(Some(fac.clone()), UPDATE_ORG, json!({"i": i}))
                .await,
        );
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field)),
            "{patch}"
        );
    }
    assert_eq!(version(app, &org).await, 1, "a refused edit writes nothing");
    // A SIRET another organization carries: CONFLICT.
    let (code, _, msg) = refusal(
        &app.run_as(
            Some(fac.clone()),
            UPDATE_ORG,
            json!({"i": {"organizationId": org, "version": 1, "siret": "219 740 157 00017"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("21974015700017"), "{msg}");
    // The edit: trimmed, checked, the version moves by one, the trail has before and after.
    let d = ok_as(
        app,
        &fac,
        UPDATE_ORG,
        json!({"i": {"organizationId": org, "version": 1, "name": "  Commune du Port ", "siret": "217 500 016 00019",
            "address": "9 rue de Saint-Paul", "email": "marches@leport.re"}}),
    )
    .await;
    assert_eq!(
        d["updateOrganization"],
        json!({"id": org, "version": 2, "name": "Commune du Port", "kind": "BUYER", "siaeSubtype": null,
            "siret": "21750001600019", "address": "9 rue de Saint-Paul", "email": "marches@leport.re"})
    );
    // Its own SIRET again is no duplicate; null clears a field, absent keeps it.
    let d = ok_as(
        app,
        &fac,
        UPDATE_ORG,
        json!({"i": {"organizationId": org, "version": 2, "siret": "21750001600019", "address": null}}),
    )
    .await;
    assert_eq!(d["updateOrganization"]["siret"], "21750001600019");
    assert_eq!(d["updateOrganization"]["address"], Value::Null);
    assert_eq!(d["updateOrganization"]["email"], "marches@leport.re");
    assert_eq!(d["updateOrganization"]["version"], 3);
    // Search follows the new name.
    let found = app
        .ok(
            "{ organizations(filter: {search: \"commune du port\"}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        found["organizations"]["edges"],
        json!([{"node": {"id": org}}])
    );
    assert_eq!(audited(app, "updateOrganization").await, 3);
    let trail = app
        .count("audit_event WHERE action = 'updateOrganization' AND before LIKE '%Ville du Port%' AND after LIKE '%Commune du Port%'")
        .await;
    assert_eq!(trail, 1);
    // The version read is named; an older one is refused with who changed it.
    let e = app
        .stale(
            &fac,
            UPDATE_ORG,
            json!({"i": {"organizationId": org, "version": 2, "name": "Perdu"}}),
        )
        .await;
    assert_eq!(e["changedBy"], "fac@974.fr");
    assert_eq!(e["currentVersion"], 3);
    assert_eq!(version(app, &org).await, 3);
}

async fn organization_kind_changes_only_while_unreferenced(app: &TestApp) {
    let t = app.territory("974").await;
    let org = app.org("Nouvelle structure", "COMPANY", None, &t).await;
    // Nothing refers to it: COMPANY becomes an SIAE (its subtype required), then a subtype change.
    let d = app
        .ok(
            UPDATE_ORG_BRIEF,
            json!({"i": {"organizationId": org, "version": 1, "kind": "SIAE", "siaeSubtype": "EI"}}),
        )
        .await;
    assert_eq!(
        (
            d["updateOrganization"]["kind"].clone(),
            d["updateOrganization"]["siaeSubtype"].clone()
        ),
        (json!("SIAE"), json!("EI"))
    );
    // Back to a company: the subtype goes with the kind.
    let d = app
        .ok(
            UPDATE_ORG_BRIEF,
            json!({"i": {"organizationId": org, "version": 2, "kind": "COMPANY"}}),
        )
        .await;
    assert_eq!(d["updateOrganization"]["siaeSubtype"], Value::Null);
    // Once it is a lot's awardee, its kind is fixed; the refusal says why.
    let buyer = app.org("Ville", "BUYER", None, &t).await;
    draft_market(
        app,
        &buyer,
        "M-1",
        json!([{"number": 1, "title": "Lot", "awardeeId": org}]),
    )
    .await;
    let resp = app
        .run(
            UPDATE_ORG_BRIEF,
            json!({"i": {"organizationId": org, "version": 3, "kind": "SIAE", "siaeSubtype": "ACI"}}),
        )
        .await;
    let (code, _, msg) = refusal(&resp);
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("1 lot(s) comme titulaire"), "{msg}");
    // The buyer too, and a user of it.
    app.user("achat@ville.fr", Role::Buyer, Some(&buyer), &[])
        .await;
    let (code, _, msg) = refusal(
        &app.run(
            UPDATE_ORG_BRIEF,
            json!({"i": {"organizationId": buyer, "version": 1, "kind": "FUNDER"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(
        msg.contains("1 marché(s) comme acheteur") && msg.contains("1 compte(s) utilisateur"),
        "{msg}"
    );
    // The same kind given again is no change of kind: the name still changes.
    let d = app
        .ok(
            UPDATE_ORG_BRIEF,
            json!({"i": {"organizationId": buyer, "version": 1, "kind": "BUYER", "name": "Ville du Port"}}),
        )
        .await;
    assert_eq!(d["updateOrganization"]["name"], "Ville du Port");
    assert_eq!(version(app, &org).await, 3);
}

async fn organization_edit_is_scoped(app: &TestApp) {
    let t = app.territory("974").await;
    let t2 = app.territory("976").await;
    let ours = app.org("BTP Ouest", "COMPANY", None, &t).await;
    let theirs = app.org("BTP Mayotte", "COMPANY", None, &t2).await;
    let national = app
        .ok(
            CREATE_ORG,
            json!({"i": {"name": "France Travail", "kind": "PRESCRIBER"}}),
        )
        .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fac = facilitator(app, "fac@974.fr", &t).await;
    let company = app
        .user("chef@btp.fr", Role::Company, Some(&ours), &[])
        .await;
    let admin = app.user("admin@t.fr", Role::Admin, None, &[]).await;
    let edit = |id: &str| json!({"i": {"organizationId": id, "version": 1, "name": "Renommée"}});
    // Another territory's organization answers like a missing one.
    let (code, _, _) = refusal(
        &app.run_as(Some(fac.clone()), UPDATE_ORG, edit(&theirs))
            .await,
    );
    assert_eq!(code, "NOT_FOUND");
    // A national one is visible to facilitators, but only administrators change it.
    let (code, _, _) = refusal(
        &app.run_as(Some(fac.clone()), UPDATE_ORG, edit(&national))
            .await,
    );
    assert_eq!(code, "FORBIDDEN");
    // A company cannot rename itself; nobody signed in cannot either.
    let (code, _, _) = refusal(&app.run_as(Some(company), UPDATE_ORG, edit(&ours)).await);
    assert_eq!(code, "FORBIDDEN");
    let (code, _, _) = refusal(&app.run_as(None, UPDATE_ORG, edit(&ours)).await);
    assert_eq!(code, "UNAUTHENTICATED");
    for id in [&ours, &theirs, &national] {
        assert_eq!(version(app, id).await, 1, "nothing changed");
    }
    assert_eq!(audited(app, "updateOrganization").await, 0);
    ok_as(app, &fac, UPDATE_ORG, edit(&ours)).await;
    ok_as(app, &admin, UPDATE_ORG, edit(&national)).await;
    ok_as(app, &admin, UPDATE_ORG, edit(&theirs)).await;
    assert_eq!(audited(app, "updateOrganization").await, 3);
}

// ---------------------------------------------------------------------------------------------
// Territories
// ---------------------------------------------------------------------------------------------

async fn territory_zone_changes_only_while_nothing_is_dated(app: &TestApp) {
    let admin = app.user("admin@t.fr", Role::Admin, None, &[]).await;
    let t = app.territory("976").await;
    let tid = passerelle::ids::parse(&t).unwrap().1;
    let fac = facilitator(app, "fac@976.fr", &t).await;
    // Only administrators, who create territories.
    let (code, _, _) = refusal(
        &app.run_as(
            Some(fac.clone()),
            UPDATE_TERRITORY,
            json!({"i": {"territoryId": t, "version": 1, "name": "Mayotte"}}),
        )
        .await,
    );
    assert_eq!(code, "FORBIDDEN");
    let (code, field, _) = refusal(
        &app.run_as(
            Some(admin.clone()),
            UPDATE_TERRITORY,
            json!({"i": {"territoryId": t, "version": 1, "timeZone": "America/New_York"}}),
        )
        .await,
    );
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("timeZone"))
    );
    let (code, _, _) = refusal(
        &app.run_as(
            None,
            UPDATE_TERRITORY,
            json!({"i": {"territoryId": t, "version": 1, "name": "Mayotte"}}),
        )
        .await,
    );
    assert_eq!(code, "UNAUTHENTICATED");
    assert_eq!(version(app, &t).await, 1, "refusals write nothing");
    // The zone was read (and kept) by this process before the change.
    let before = passerelle::service::territory::zone_of(&app.ctx, &app.ctx.db.conn, tid)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert_eq!(before.name(), "Indian/Reunion");
    // Nothing dated yet: the zone changes, and this process reads the new one at once.
    let d = ok_as(
        app,
        &admin,
        UPDATE_TERRITORY,
        json!({"i": {"territoryId": t, "version": 1, "name": " Mayotte ", "timeZone": "Indian/Mayotte"}}),
    )
    .await;
    assert_eq!(
        d["updateTerritory"],
        json!({"id": t, "version": 2, "name": "Mayotte", "timeZone": "Indian/Mayotte"})
    );
    let after = passerelle::service::territory::zone_of(&app.ctx, &app.ctx.db.conn, tid)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert_eq!(after.name(), "Indian/Mayotte");
    // An edit made on the version before: CONFLICT, naming who changed it.
    let e = app
        .stale(
            &admin,
            UPDATE_TERRITORY,
            json!({"i": {"territoryId": t, "version": 1, "name": "Perdu"}}),
        )
        .await;
    assert_eq!(e["changedBy"], "admin@t.fr");
    // An organization dates nothing; an operation does.
    app.org("Ville", "BUYER", None, &t).await;
    ok_as(
        app,
        &admin,
        UPDATE_TERRITORY,
        json!({"i": {"territoryId": t, "version": 2, "timeZone": "Europe/Paris"}}),
    )
    .await;
    app.ok(
        CREATE_OPERATION,
        json!({"i": {"territoryId": t, "name": "NPNRU", "kind": "NPNRU"}}),
    )
    .await;
    let (code, _, msg) = refusal(
        &app.run_as(
            Some(admin.clone()),
            UPDATE_TERRITORY,
            json!({"i": {"territoryId": t, "version": 3, "timeZone": "Indian/Mayotte"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(
        msg.contains("1 opération(s)") && msg.contains("timeZone"),
        "{msg}"
    );
    assert_eq!(version(app, &t).await, 3);
    // The zone it has is no change; the name still changes.
    let d = ok_as(
        app,
        &admin,
        UPDATE_TERRITORY,
        json!({"i": {"territoryId": t, "version": 3, "timeZone": "Europe/Paris", "name": "Mayotte (976)"}}),
    )
    .await;
    assert_eq!(d["updateTerritory"]["version"], 4);
    // A market, its contract and its hours are named too.
    let w = app.world().await;
    app.record_ok(&w.placement, "2026-03", "10").await;
    let (code, _, msg) = refusal(
        &app.run_as(
            Some(admin),
            UPDATE_TERRITORY,
            json!({"i": {"territoryId": w.territory, "version": 1, "timeZone": "Europe/Paris"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    for what in [
        "1 marché(s)",
        "1 participant(s)",
        "1 contrat(s)",
        "1 ligne(s) d'heures",
        "échéance(s)",
    ] {
        assert!(msg.contains(what), "{what} in {msg}");
    }
    assert_eq!(audited(app, "updateTerritory").await, 3);
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

async fn operation_edit_rechecks_rates_dates_and_owner(app: &TestApp) {
    let t = app.territory("974").await;
    let t2 = app.territory("976").await;
    let owner = app.org("Commune", "BUYER", None, &t).await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    let far_owner = app.org("Commune lointaine", "BUYER", None, &t2).await;
    let fac = facilitator(app, "fac@974.fr", &t).await;
    let op = ok_as(
        app,
        &fac,
        CREATE_OPERATION,
        json!({"i": {"territoryId": t, "name": "PRU", "kind": "PRU", "startDate": "2026-01-01", "endDate": "2030-12-31"}}),
    )
    .await["createOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let edit = |patch: Value| {
        let mut i = json!({"operationId": op, "version": 1});
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({"i": i})
    };
    for (patch, code, field) in [
        (
            json!({"worksRateBp": 10_001}),
            "BAD_USER_INPUT",
            Some("worksRateBp"),
        ),
        (
            json!({"gupRateBp": -1}),
            "BAD_USER_INPUT",
            Some("gupRateBp"),
        ),
        (
            json!({"endDate": "2025-12-31"}),
            "BAD_USER_INPUT",
            Some("endDate"),
        ),
        (
            json!({"startDate": "2031-01-01"}),
            "BAD_USER_INPUT",
            Some("endDate"),
        ),
        (json!({"name": ""}), "BAD_USER_INPUT", Some("name")),
        (
            json!({"ownerId": company}),
            "BAD_USER_INPUT",
            Some("ownerId"),
        ),
        // A buyer of another territory is out of the facilitator's sight.
        (json!({"ownerId": far_owner}), "NOT_FOUND", None),
    ] {
        let (c, f, _) = refusal(
            &app.run_as(Some(fac.clone()), UPDATE_OPERATION, edit(patch.clone()))
                .await,
        );
        assert_eq!((c.as_str(), f.as_deref()), (code, field), "{patch}");
    }
    assert_eq!(version(app, &op).await, 1);
    // At the boundaries: 10 000 and 0 points, an end on the start day.
    let d = ok_as(
        app,
        &fac,
        UPDATE_OPERATION,
        edit(
            json!({"worksRateBp": 10_000, "gupRateBp": 0, "endDate": "2026-01-01", "ownerId": owner,
            "name": "NPNRU Ariste Bolon", "kind": "NPNRU"}),
        ),
    )
    .await;
    assert_eq!(
        d["updateOperation"],
        json!({"id": op, "version": 2, "name": "NPNRU Ariste Bolon", "kind": "NPNRU", "startDate": "2026-01-01",
            "endDate": "2026-01-01", "worksRateBp": 10_000, "gupRateBp": 0, "owner": {"name": "Commune"}})
    );
    // Null clears, absent keeps.
    let d = ok_as(
        app,
        &fac,
        UPDATE_OPERATION,
        json!({"i": {"operationId": op, "version": 2, "ownerId": null, "startDate": null, "endDate": null}}),
    )
    .await;
    assert_eq!(d["updateOperation"]["owner"], Value::Null);
    assert_eq!(d["updateOperation"]["startDate"], Value::Null);
    assert_eq!(d["updateOperation"]["worksRateBp"], 10_000);
    // Stale version, another territory's facilitator, a buyer.
    let resp = app
        .run_as(
            Some(fac.clone()),
            UPDATE_OPERATION,
            edit(json!({"name": "X"})),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp}"
    );
    assert_eq!(resp["errors"][0]["extensions"]["changedBy"], "fac@974.fr");
    let other = facilitator(app, "fac@976.fr", &t2).await;
    let (code, _, _) = refusal(
        &app.run_as(
            Some(other),
            UPDATE_OPERATION,
            json!({"i": {"operationId": op, "version": 3, "name": "X"}}),
        )
        .await,
    );
    assert_eq!(code, "NOT_FOUND");
    let buyer = app
        .user("achat@commune.fr", Role::Buyer, Some(&owner), &[])
        .await;
    let (code, _, _) = refusal(
        &app.run_as(
            Some(buyer),
            UPDATE_OPERATION,
            json!({"i": {"operationId": op, "version": 3, "name": "X"}}),
        )
        .await,
    );
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(version(app, &op).await, 3);
    assert_eq!(audited(app, "updateOperation").await, 2);
}

async fn operation_delete_refused_while_a_market_depends(app: &TestApp) {
    let t = app.territory("974").await;
    let t2 = app.territory("976").await;
    let owner = app.org("Commune", "BUYER", None, &t).await;
    let fac = facilitator(app, "fac@974.fr", &t).await;
    let mk = |name: &str| json!({"i": {"territoryId": t, "name": name, "kind": "PRU"}});
    let used = ok_as(app, &fac, CREATE_OPERATION, mk("PRU utilisé")).await["createOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let spare =
        ok_as(app, &fac, CREATE_OPERATION, mk("PRU en trop")).await["createOperation"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    app.ok(
        CREATE_MARKET,
        json!({"i": {"buyerId": owner, "operationId": used, "reference": "R1", "title": "T", "clauseKind": "EXECUTION_CONDITION",
            "amountCents": 1000, "startDate": "2026-01-01", "endDate": "2026-12-31"}}),
    )
    .await;
    let (code, _, msg) = refusal(
        &app.run_as(
            Some(fac.clone()),
            DELETE_OPERATION,
            json!({"id": used, "v": 1}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(
        msg.contains("1 marché(s)") && msg.contains("PRU utilisé"),
        "{msg}"
    );
    // Scope and version first: another territory's facilitator, an old version.
    let other = facilitator(app, "fac@976.fr", &t2).await;
    let (code, _, _) = refusal(
        &app.run_as(Some(other), DELETE_OPERATION, json!({"id": spare, "v": 1}))
            .await,
    );
    assert_eq!(code, "NOT_FOUND");
    let (code, _, _) = refusal(
        &app.run_as(None, DELETE_OPERATION, json!({"id": spare, "v": 1}))
            .await,
    );
    assert_eq!(code, "UNAUTHENTICATED");
    ok_as(
        app,
        &fac,
        UPDATE_OPERATION,
        json!({"i": {"operationId": spare, "version": 1, "gupRateBp": 800}}),
    )
    .await;
    let resp = app
        .run_as(
            Some(fac.clone()),
            DELETE_OPERATION,
            json!({"id": spare, "v": 1}),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp}"
    );
    assert_eq!(app.count("operation").await, 2);
    let d = ok_as(app, &fac, DELETE_OPERATION, json!({"id": spare, "v": 2})).await;
    assert_eq!(d["deleteOperation"], spare.as_str());
    assert_eq!(app.count("operation").await, 1);
    assert_eq!(
        app.ok(VERSION, json!({"id": spare})).await["node"],
        Value::Null
    );
    assert_eq!(
        app.count("audit_event WHERE action = 'deleteOperation' AND after IS NULL AND before LIKE '%PRU en trop%'")
            .await,
        1
    );
}

// ---------------------------------------------------------------------------------------------
// Markets
// ---------------------------------------------------------------------------------------------

async fn market_edit_rechecks_reference_amount_and_dates(app: &TestApp) {
    let t = app.territory("974").await;
    let buyer = app.org("Ville", "BUYER", None, &t).await;
    let buyer2 = app.org("Département", "BUYER", None, &t).await;
    let fac = facilitator(app, "fac@974.fr", &t).await;
    let (m, _) = draft_market(app, &buyer, "R-1", json!([])).await;
    draft_market(app, &buyer, "R-2", json!([])).await;
    draft_market(app, &buyer2, "R-3", json!([])).await;
    let edit = |patch: Value| {
        let mut i = json!({"marketId": m, "version": 1});
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({"i": i})
    };
    for (patch, field) in [
        (json!({"title": " "}), "title"),
        (json!({"reference": ""}), "reference"),
        (json!({"amountCents": -1}), "amountCents"),
        (json!({"amountCents": 10_000_000_000_001i64}), "amountCents"),
        (json!({"endDate": "2025-12-31"}), "endDate"),
        (json!({"startDate": "2028-01-01"}), "endDate"),
        (
            json!({"notificationDate": "2026-01-02"}),
            "notificationDate",
        ),
        (json!({"buyerId": "pas un id"}), "buyerId"),
    ] {
        let (c, f, _) = refusal(
            &app.run_as(Some(fac.clone()), UPDATE_MARKET, edit(patch.clone()))
                .await,
        );
        assert_eq!(
            (c.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field)),
            "{patch}"
        );
    }
    // The buyer's other reference: CONFLICT; another buyer's reference is free.
    let (c, _, msg) = refusal(
        &app.run_as(
            Some(fac.clone()),
            UPDATE_MARKET,
            edit(json!({"reference": "R-2"})),
        )
        .await,
    );
    assert_eq!(c, "CONFLICT");
    assert!(msg.contains("R-2"), "{msg}");
    assert_eq!(version(app, &m).await, 1, "refusals write nothing");
    // At the boundaries: a one-day market notified that day, amount 0 and the ceiling.
    let d = ok_as(
        app,
        &fac,
        UPDATE_MARKET,
        edit(json!({"reference": "R-3", "title": "Espaces verts", "amountCents": 0, "startDate": "2026-03-01",
            "endDate": "2026-03-01", "notificationDate": "2026-03-01", "clauseKind": "RESERVED_SIAE",
            "anruCategory": "LOCAL_MANAGEMENT"})),
    )
    .await;
    let u = &d["updateMarket"];
    assert_eq!(
        (
            u["version"].clone(),
            u["reference"].clone(),
            u["amountCents"].clone(),
            u["startDate"].clone(),
            u["endDate"].clone(),
            u["notificationDate"].clone(),
            u["clause"]["kind"].clone(),
            u["anruCategory"].clone()
        ),
        (
            json!(2),
            json!("R-3"),
            json!(0),
            json!("2026-03-01"),
            json!("2026-03-01"),
            json!("2026-03-01"),
            json!("RESERVED_SIAE"),
            json!("LOCAL_MANAGEMENT")
        )
    );
    let d = ok_as(
        app,
        &fac,
        UPDATE_MARKET,
        json!({"i": {"marketId": m, "version": 2, "amountCents": 10_000_000_000_000i64, "notificationDate": null, "anruCategory": null}}),
    )
    .await;
    assert_eq!(d["updateMarket"]["notificationDate"], Value::Null);
    assert_eq!(d["updateMarket"]["anruCategory"], Value::Null);
    assert_eq!(d["updateMarket"]["title"], "Espaces verts");
    // Search reads the new title and reference.
    let refs = app
        .ok(
            "{ markets(filter: {search: \"espaces verts\"}) { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        refs["markets"]["edges"],
        json!([{"node": {"reference": "R-3"}}])
    );
    assert_eq!(audited(app, "updateMarket").await, 2);
}

async fn market_buyer_changes_only_in_draft_and_state_forbids_edits(app: &TestApp) {
    let t = app.territory("974").await;
    let buyer = app.org("Ville", "BUYER", None, &t).await;
    let buyer2 = app.org("Département", "BUYER", None, &t).await;
    let company = app.org("BTP", "COMPANY", None, &t).await;
    let (m, lots) = draft_market(
        app,
        &buyer,
        "R-1",
        json!([{"number": 1, "title": "A", "awardeeId": company}]),
    )
    .await;
    let (code, field, _) = refusal(
        &app.run(
            UPDATE_MARKET,
            json!({"i": {"marketId": m, "version": 1, "buyerId": company}}),
        )
        .await,
    );
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("buyerId"))
    );
    // The new buyer already gives this reference to a market: the reference rule holds.
    draft_market(app, &buyer2, "R-1", json!([])).await;
    let (code, _, msg) = refusal(
        &app.run(
            UPDATE_MARKET,
            json!({"i": {"marketId": m, "version": 1, "buyerId": buyer2}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("Département") && msg.contains("R-1"), "{msg}");
    let d = app
        .ok(
            UPDATE_MARKET,
            json!({"i": {"marketId": m, "version": 1, "buyerId": buyer2, "reference": "R-1-bis"}}),
        )
        .await;
    assert_eq!(d["updateMarket"]["buyer"]["name"], "Département");
    assert_eq!(d["updateMarket"]["reference"], "R-1-bis");
    app.ok(TRANSITION, json!({"i": {"marketId": m, "to": "PUBLISHED"}}))
        .await;
    let v = version(app, &m).await;
    let (code, _, msg) = refusal(
        &app.run(
            UPDATE_MARKET,
            json!({"i": {"marketId": m, "version": v, "buyerId": buyer}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(
        msg.contains("PUBLISHED") && msg.contains("buyerId"),
        "{msg}"
    );
    // Same buyer given again is no change; the title still changes once published.
    app.ok(
        UPDATE_MARKET,
        json!({"i": {"marketId": m, "version": v, "buyerId": buyer2, "title": "Voirie"}}),
    )
    .await;
    // Cancelled: nothing changes any more, the market nor its lots; the state is named.
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": m, "to": "CANCELLED", "reason": "infructueux"}}),
    )
    .await;
    let v = version(app, &m).await;
    let (code, _, msg) = refusal(
        &app.run(
            UPDATE_MARKET,
            json!({"i": {"marketId": m, "version": v, "title": "X"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("CANCELLED"), "{msg}");
    let (code, _, msg) = refusal(
        &app.run(
            UPDATE_LOT,
            json!({"i": {"lotId": lots[0], "version": 1, "title": "X"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("CANCELLED"), "{msg}");
    assert_eq!(version(app, &m).await, v);
    // Closed: the same.
    let w = app.world().await;
    let e = app.record_ok(&w.placement, "2026-03", "35").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "COMPLETED"}}),
    )
    .await;
    // Completed is not closed: a correction still lands.
    let v = version(app, &w.market).await;
    app.ok(
        UPDATE_MARKET,
        json!({"i": {"marketId": w.market, "version": v, "title": "Réhabilitation (corrigé)"}}),
    )
    .await;
    app.ok(
        "mutation($m: ID!) { produceMarketFinalReport(marketId: $m) { version } }",
        json!({"m": w.market}),
    )
    .await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "CLOSED"}}),
    )
    .await;
    let v = version(app, &w.market).await;
    let (code, _, msg) = refusal(
        &app.run(
            UPDATE_MARKET,
            json!({"i": {"marketId": w.market, "version": v, "title": "X"}}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("CLOSED"), "{msg}");
}

async fn market_dates_keep_hours_and_contracts_inside(app: &TestApp) {
    // Market 2026-01-01 → 2027-12-31; a contract from 2026-02-01 to 2026-12-31; March's hours.
    let w = app.world().await;
    app.record_ok(&w.placement, "2026-03", "35").await;
    let statements = "deadline WHERE rule = 'MONTHLY_STATEMENT' AND status <> 'CANCELLED'";
    assert_eq!(app.count(statements).await, 24);
    let v = version(app, &w.market).await;
    let edit = |v: i64, patch: Value| {
        let mut i = json!({"marketId": w.market, "version": v});
        for (k, val) in patch.as_object().unwrap() {
            i[k] = val.clone();
        }
        json!({"i": i})
    };
    // A start after March: March's hours would fall before it.
    let (code, field, msg) = refusal(
        &app.run(UPDATE_MARKET, edit(v, json!({"startDate": "2026-04-01"})))
            .await,
    );
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("startDate"))
    );
    assert!(
        msg.contains("1 ligne(s) d'heures") && msg.contains("2026-03-01"),
        "{msg}"
    );
    // An end before March: March's hours after it.
    let (code, field, msg) = refusal(
        &app.run(UPDATE_MARKET, edit(v, json!({"endDate": "2026-02-28"})))
            .await,
    );
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("endDate"))
    );
    assert!(msg.contains("ligne(s) d'heures"), "{msg}");
    // An end before the contract starts: the contract is named.
    let reference = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
            json!({"id": w.placement}),
        )
        .await["node"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, field, msg) = refusal(
        &app.run(
            UPDATE_MARKET,
            edit(
                v,
                json!({"startDate": "2026-01-01", "endDate": "2026-01-31"}),
            ),
        )
        .await,
    );
    assert_eq!(field.as_deref(), Some("endDate"));
    assert!(
        msg.contains("1 contrat(s)") && msg.contains(&reference),
        "{msg}"
    );
    assert_eq!(version(app, &w.market).await, v);
    assert_eq!(app.count(statements).await, 24, "refusals move no deadline");
    // At the boundaries: March's last day as start, its first as end.
    let d = app
        .ok(UPDATE_MARKET, edit(v, json!({"startDate": "2026-03-31"})))
        .await;
    assert_eq!(d["updateMarket"]["version"], v + 1);
    assert_eq!(
        app.count(statements).await,
        22,
        "January and February are no longer owed"
    );
    let d = app
        .ok(
            UPDATE_MARKET,
            edit(
                v + 1,
                json!({"startDate": "2026-01-01", "endDate": "2026-03-01"}),
            ),
        )
        .await;
    assert_eq!(d["updateMarket"]["endDate"], "2026-03-01");
    assert_eq!(
        app.count(statements).await,
        3,
        "deadlines follow the new dates"
    );
    // Back to a longer market: the months are owed again.
    app.ok(UPDATE_MARKET, edit(v + 2, json!({"endDate": "2026-06-30"})))
        .await;
    assert_eq!(app.count(statements).await, 6);
}

async fn market_edit_names_the_version_and_stays_in_scope(app: &TestApp) {
    let w = app.world().await;
    let fac = facilitator(app, "fac@974.fr", &w.territory).await;
    let t2 = app.territory("976").await;
    let other = facilitator(app, "fac@976.fr", &t2).await;
    let buyer = app
        .user("achat@ville.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    let company = app
        .user("chef@btp.fr", Role::Company, Some(&w.company), &[])
        .await;
    // Its life cycle moved it already (a transition is a change).
    let v = version(app, &w.market).await;
    assert!(v > 1);
    let edit =
        |v: i64| json!({"i": {"marketId": w.market, "version": v, "title": "Titre corrigé"}});
    let (code, _, _) = refusal(
        &app.run_as(Some(other.clone()), UPDATE_MARKET, edit(v))
            .await,
    );
    assert_eq!(code, "NOT_FOUND");
    for who in [buyer, company] {
        let (code, _, _) = refusal(&app.run_as(Some(who), UPDATE_MARKET, edit(v)).await);
        assert_eq!(code, "FORBIDDEN");
    }
    let (code, _, _) = refusal(&app.run_as(None, UPDATE_MARKET, edit(v)).await);
    assert_eq!(code, "UNAUTHENTICATED");
    let (code, _, _) = refusal(
        &app.run_as(
            Some(other),
            UPDATE_LOT,
            json!({"i": {"lotId": w.lot, "version": 1, "title": "X"}}),
        )
        .await,
    );
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(version(app, &w.market).await, v);
    assert_eq!(audited(app, "updateMarket").await, 0);
    // The version read, then again: CONFLICT naming who changed it.
    let d = ok_as(app, &fac, UPDATE_MARKET, edit(v)).await;
    assert_eq!(d["updateMarket"]["version"], v + 1);
    let resp = app.run_as(Some(fac.clone()), UPDATE_MARKET, edit(v)).await;
    let e = &resp["errors"][0]["extensions"];
    assert_eq!(
        (
            e["code"].as_str(),
            e["field"].as_str(),
            e["changedBy"].as_str(),
            e["currentVersion"].as_i64()
        ),
        (
            Some("CONFLICT"),
            Some("version"),
            Some("fac@974.fr"),
            Some(v + 1)
        ),
        "{resp}"
    );
    assert_eq!(version(app, &w.market).await, v + 1);
    // A transition moves the version too: an edit made before it is stale.
    ok_as(app, &fac, UPDATE_MARKET, edit(v + 1)).await;
    app.ok(
        TRANSITION,
        json!({"i": {"marketId": w.market, "to": "COMPLETED"}}),
    )
    .await;
    let (code, field, _) = refusal(&app.run_as(Some(fac), UPDATE_MARKET, edit(v + 2)).await);
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("CONFLICT", Some("version"))
    );
}

async fn amount_moves_a_target_that_is_the_proposal(app: &TestApp) {
    let w = app.world().await;
    let target = "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { version hoursTarget } }";
    // 1 000 000 € × 70 % × 7 % ÷ 25 €/h = 1 960 h.
    let d = app.ok(target, json!({"i": {"marketId": w.market, "labourShareBp": 7000, "insertionRateBp": 700, "hourlyCostCents": 2500}})).await;
    assert_eq!(d["setMarketHourTarget"]["hoursTarget"], 1960.0);
    let v = d["setMarketHourTarget"]["version"].as_i64().unwrap();
    let d = app
        .ok(
            UPDATE_MARKET,
            json!({"i": {"marketId": w.market, "version": v, "amountCents": 50_000_000i64}}),
        )
        .await;
    assert_eq!(d["updateMarket"]["hoursTarget"], 980.0);
    assert_eq!(d["updateMarket"]["hoursTargetSource"], "PROPOSAL");
    assert_eq!(
        d["updateMarket"]["calibration"],
        json!({"proposedHours": 980.0, "amountCents": 50_000_000i64})
    );
    // Amount 0 cannot be calibrated: refused, nothing written.
    let v = d["updateMarket"]["version"].as_i64().unwrap();
    let (code, field, _) = refusal(
        &app.run(
            UPDATE_MARKET,
            json!({"i": {"marketId": w.market, "version": v, "amountCents": 0}}),
        )
        .await,
    );
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("amountCents"))
    );
    // A target that overrides the proposal stays as it was set.
    let d = app.ok(target, json!({"i": {"marketId": w.market, "labourShareBp": 7000, "insertionRateBp": 700, "hourlyCostCents": 2500, "overrideHours": "1500"}})).await;
    let v = d["setMarketHourTarget"]["version"].as_i64().unwrap();
    let d = app
        .ok(
            UPDATE_MARKET,
            json!({"i": {"marketId": w.market, "version": v, "amountCents": 100_000_000i64}}),
        )
        .await;
    assert_eq!(d["updateMarket"]["hoursTarget"], 1500.0);
    assert_eq!(d["updateMarket"]["calibration"]["proposedHours"], 1960.0);
}

// ---------------------------------------------------------------------------------------------
// Lots
// ---------------------------------------------------------------------------------------------

async fn lot_edit_rechecks_awardee_and_target(app: &TestApp) {
    let w = app.world().await;
    let t2 = app.territory("976").await;
    let far = app.org("BTP Mayotte", "COMPANY", None, &t2).await;
    let fac = facilitator(app, "fac@974.fr", &w.territory).await;
    let edit = |v: i64, patch: Value| {
        let mut i = json!({"lotId": w.lot, "version": v});
        for (k, val) in patch.as_object().unwrap() {
            i[k] = val.clone();
        }
        json!({"i": i})
    };
    for (patch, code, field) in [
        (json!({"title": ""}), "BAD_USER_INPUT", Some("title")),
        (
            json!({"awardeeId": w.buyer}),
            "BAD_USER_INPUT",
            Some("awardeeId"),
        ),
        (
            json!({"targetHours": "-1"}),
            "BAD_USER_INPUT",
            Some("targetHours"),
        ),
        (
            json!({"targetHours": "douze"}),
            "BAD_USER_INPUT",
            Some("targetHours"),
        ),
        (
            json!({"amountCents": -1}),
            "BAD_USER_INPUT",
            Some("amountCents"),
        ),
        // Out of the facilitator's sight: like a missing organization.
        (json!({"awardeeId": far}), "NOT_FOUND", None),
        // The market is in progress: its lot keeps an awardee.
        (json!({"awardeeId": null}), "CONFLICT", None),
    ] {
        let (c, f, _) = refusal(
            &app.run_as(Some(fac.clone()), UPDATE_LOT, edit(1, patch.clone()))
                .await,
        );
        assert_eq!((c.as_str(), f.as_deref()), (code, field), "{patch}");
    }
    assert_eq!(version(app, &w.lot).await, 1);
    let statements = "deadline WHERE rule = 'MONTHLY_STATEMENT' AND status <> 'CANCELLED'";
    let n = app.count(statements).await;
    let d = ok_as(
        app,
        &fac,
        UPDATE_LOT,
        edit(1, json!({"title": "Second œuvre", "awardeeId": w.aci, "targetHours": "0", "amountCents": 0})),
    )
    .await;
    assert_eq!(
        d["updateLot"],
        json!({"id": w.lot, "version": 2, "title": "Second œuvre", "amountCents": 0, "hoursTarget": 0.0,
            "awardee": {"name": "ACI Ti Kaz"}})
    );
    // The statements' deadlines carry the new title and go to the new awardee.
    assert_eq!(
        app.count(&format!("{statements} AND title LIKE '%Second œuvre%'"))
            .await,
        n
    );
    let aci_id = passerelle::ids::parse(&w.aci).unwrap().1;
    assert_eq!(
        app.count(&format!("{statements} AND recipients LIKE '%{aci_id}%'"))
            .await,
        n
    );
    let d = ok_as(
        app,
        &fac,
        UPDATE_LOT,
        edit(2, json!({"targetHours": null, "amountCents": null})),
    )
    .await;
    assert_eq!(
        (
            d["updateLot"]["hoursTarget"].clone(),
            d["updateLot"]["amountCents"].clone()
        ),
        (Value::Null, Value::Null)
    );
    assert_eq!(d["updateLot"]["title"], "Second œuvre");
    // Stale.
    let resp = app
        .run_as(
            Some(fac.clone()),
            UPDATE_LOT,
            edit(2, json!({"title": "X"})),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp}"
    );
    // Before the award, an awardee can be cleared.
    let (_, lots) = draft_market(
        app,
        &w.buyer,
        "D-1",
        json!([{"number": 1, "title": "A", "awardeeId": w.company}]),
    )
    .await;
    let d = ok_as(
        app,
        &fac,
        UPDATE_LOT,
        json!({"i": {"lotId": lots[0], "version": 1, "awardeeId": null}}),
    )
    .await;
    assert_eq!(d["updateLot"]["awardee"], Value::Null);
    assert_eq!(audited(app, "updateLot").await, 3);
}

// ---------------------------------------------------------------------------------------------
// Deletes
// ---------------------------------------------------------------------------------------------

async fn market_delete_takes_lots_deadlines_and_unsent_reminders(app: &TestApp) {
    let w = app.world().await;
    let fac = facilitator(app, "fac@974.fr", &w.territory).await;
    // Someone of the awardee is reminded of the monthly statements.
    app.user("chef@btp.fr", Role::Company, Some(&w.company), &[])
        .await;
    // The world's market has a contract: refused, naming it.
    let v = version(app, &w.market).await;
    let (code, _, msg) = refusal(
        &app.run_as(
            Some(fac.clone()),
            DELETE_MARKET,
            json!({"id": w.market, "v": v}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(
        msg.contains("1 contrat(s)") && msg.contains("LP-2026-001"),
        "{msg}"
    );
    // A market in progress with nothing on it yet: its deadlines and reminders exist.
    let (m, lot) = app
        .market_in_progress(&w.buyer, "ERREUR-1", &w.company)
        .await;
    let mid = lit(app, &m);
    passerelle::service::reminders::plan::run(&app.ctx)
        .await
        .map_err(|e| e.message())
        .unwrap();
    let deadlines = format!("deadline WHERE subject_id = {mid}");
    let reminders = format!("reminder WHERE deadline_id IN (SELECT id FROM {deadlines})");
    assert_eq!(app.count(&deadlines).await, 24);
    assert!(app.count(&reminders).await > 0, "reminders planned");
    let (all_deadlines, all_reminders) = (app.count("deadline").await, app.count("reminder").await);
    let ours = app.count(&reminders).await;
    // One of them went out: that mail is a record, the delete is refused.
    let v = version(app, &m).await;
    app.ctx
        .db
        .conn
        .execute_unprepared(&format!(
            "UPDATE reminder SET status = 'SENT' WHERE id IN (SELECT id FROM {reminders} LIMIT 1)"
        ))
        .await
        .unwrap();
    let (code, _, msg) = refusal(
        &app.run_as(Some(fac.clone()), DELETE_MARKET, json!({"id": m, "v": v}))
            .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("1 rappel(s) déjà envoyé(s)"), "{msg}");
    app.ctx
        .db
        .conn
        .execute_unprepared("UPDATE reminder SET status = 'PLANNED' WHERE status = 'SENT'")
        .await
        .unwrap();
    // Stale version; another territory's facilitator.
    let resp = app
        .run_as(
            Some(fac.clone()),
            DELETE_MARKET,
            json!({"id": m, "v": v - 1}),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp}"
    );
    let t2 = app.territory("976").await;
    let other = facilitator(app, "fac@976.fr", &t2).await;
    let (code, _, _) = refusal(
        &app.run_as(Some(other), DELETE_MARKET, json!({"id": m, "v": v}))
            .await,
    );
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(app.count("market").await, 2);
    // Deleted with its lot, deadlines and reminders; its history stays (append-only).
    let d = ok_as(app, &fac, DELETE_MARKET, json!({"id": m, "v": v})).await;
    assert_eq!(d["deleteMarket"], m.as_str());
    assert_eq!(app.count("market").await, 1);
    assert_eq!(app.count(&deadlines).await, 0);
    assert_eq!(app.count(&reminders).await, 0);
    assert_eq!(
        app.count(&format!("lot WHERE id = {}", lit(app, &lot)))
            .await,
        0
    );
    assert_eq!(
        app.count(&format!("status_change WHERE object_id = {mid}"))
            .await,
        3
    );
    assert_eq!(
        app.count("audit_event WHERE action = 'deleteMarket' AND after IS NULL AND before LIKE '%ERREUR-1%'").await,
        1
    );
    // Nothing else went.
    assert_eq!(app.count("deadline").await, all_deadlines - 24);
    assert_eq!(app.count("reminder").await, all_reminders - ours);
    // A draft market with two lots and nothing else goes too.
    let (d1, _) = draft_market(
        app,
        &w.buyer,
        "ERREUR-2",
        json!([{"number": 1, "title": "A"}, {"number": 2, "title": "B"}]),
    )
    .await;
    ok_as(app, &fac, DELETE_MARKET, json!({"id": d1, "v": 1})).await;
    assert_eq!(app.count("lot").await, 1);
}

async fn lot_delete_refused_while_something_depends(app: &TestApp) {
    let w = app.world().await;
    let fac = facilitator(app, "fac@974.fr", &w.territory).await;
    // The world's lot has a contract.
    let (code, _, msg) = refusal(
        &app.run_as(Some(fac.clone()), DELETE_LOT, json!({"id": w.lot, "v": 1}))
            .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(
        msg.contains("1 contrat(s)") && msg.contains("lot 1"),
        "{msg}"
    );
    // An awarded market with two lots, nothing on them.
    let d = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": w.buyer, "reference": "DEUX-LOTS", "title": "T", "clauseKind": "EXECUTION_CONDITION",
                "amountCents": 1000, "startDate": "2026-01-01", "endDate": "2026-12-31",
                "lots": [{"number": 1, "title": "A", "awardeeId": w.company}, {"number": 2, "title": "B", "awardeeId": w.aci}]}}),
        )
        .await;
    let m = d["createMarket"]["id"].as_str().unwrap().to_string();
    let lots: Vec<String> = d["createMarket"]["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    for to in ["PUBLISHED", "AWARDED", "IN_PROGRESS"] {
        app.ok(TRANSITION, json!({"i": {"marketId": m, "to": to}}))
            .await;
    }
    let mid = lit(app, &m);
    let l2 = passerelle::ids::parse(&lots[1]).unwrap().1;
    let of_lot2 = format!("deadline WHERE subject_id = {mid} AND key LIKE '{l2}:%'");
    assert_eq!(app.count(&of_lot2).await, 12);
    let resp = app
        .run_as(
            Some(fac.clone()),
            DELETE_LOT,
            json!({"id": lots[1], "v": 2}),
        )
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "version",
        "{resp}"
    );
    let d = ok_as(app, &fac, DELETE_LOT, json!({"id": lots[1], "v": 1})).await;
    assert_eq!(d["deleteLot"], lots[1].as_str());
    assert_eq!(app.count(&of_lot2).await, 0);
    assert_eq!(
        app.count(&format!("deadline WHERE subject_id = {mid}"))
            .await,
        12,
        "lot 1's stay"
    );
    // The last lot of an awarded market stays.
    let (code, _, msg) = refusal(
        &app.run_as(
            Some(fac.clone()),
            DELETE_LOT,
            json!({"id": lots[0], "v": 1}),
        )
        .await,
    );
    assert_eq!(code, "CONFLICT");
    assert!(msg.contains("IN_PROGRESS"), "{msg}");
    assert_eq!(app.count(&format!("lot WHERE market_id = {mid}")).await, 1);
    // A draft's only lot can go.
    let (_, draft_lots) =
        draft_market(app, &w.buyer, "D-1", json!([{"number": 1, "title": "A"}])).await;
    ok_as(app, &fac, DELETE_LOT, json!({"id": draft_lots[0], "v": 1})).await;
    assert_eq!(
        app.count("audit_event WHERE action = 'deleteLot' AND after IS NULL")
            .await,
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

/// Two edits made on the same version at once: the row lock makes the second read the first's
/// version, so exactly one lands and the version moves by exactly one (without the lock both
/// would pass the check and the first's change would be lost).
async fn concurrent_market_edits_one_wins(app: &TestApp) {
    let w = app.world().await;
    let fac = facilitator(app, "fac@974.fr", &w.territory).await;
    for round in 0..5 {
        let v = version(app, &w.market).await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = ["Titre A", "Titre B"]
            .into_iter()
            .map(|title| {
                let (schema, barrier) = (app.schema.clone(), barrier.clone());
                let req = app.request_as(
                    Some(fac.clone()),
                    UPDATE_MARKET,
                    json!({"i": {"marketId": w.market, "version": v, "title": format!("{title} {round}")}}),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    serde_json::to_value(schema.execute(req).await).unwrap()
                })
            })
            .collect();
        let mut landed = Vec::new();
        let mut stale = 0;
        for t in tasks {
            let resp = t.await.unwrap();
            if resp.get("errors").is_none() {
                landed.push(
                    resp["data"]["updateMarket"]["title"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            } else {
                assert_eq!(
                    resp["errors"][0]["extensions"]["field"], "version",
                    "{resp}"
                );
                stale += 1;
            }
        }
        assert_eq!((landed.len(), stale), (1, 1), "round {round}");
        assert_eq!(version(app, &w.market).await, v + 1);
        let title = app
            .ok(
                "query($id: ID!) { node(id: $id) { ... on Market { title } } }",
                json!({"id": w.market}),
            )
            .await["node"]["title"]
            .clone();
        assert_eq!(
            title,
            landed[0].as_str(),
            "the one that landed is what is stored"
        );
    }
    assert_eq!(audited(app, "updateMarket").await, 5);
}
