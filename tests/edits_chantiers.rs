//! Corrections of chantiers and commissions (issue 20): `updateChantier` re-checks the
//! creation's rules and what the chantier already holds, `deleteChantier` only while nothing
//! depends on it, `updateCommission` and `removeCommissionMember` while the commission is
//! planned. Each edit names the version it read. SQLite and PostgreSQL.

mod common;

use chrono::Duration;
use common::*;
use passerelle::domain::auth::{Actor, Role};
use serde_json::{Value, json};

db_tests!(
    update_chantier_rechecks_the_creation_rules,
    capacity_and_dates_hold_what_the_chantier_already_has,
    chantier_edits_stay_in_scope_and_state,
    delete_chantier_only_while_nothing_depends,
    capacity_edit_and_new_placement_do_not_both_pass,
    commission_agenda_and_members_while_planned,
);

const CREATE_CHANTIER: &str =
    "mutation($i: CreateChantierInput!) { createChantier(input: $i) { id version } }";
const UPDATE: &str = "mutation($i: UpdateChantierInput!) { updateChantier(input: $i) { id version title place startDate endDate capacity activities } }";
const DELETE: &str = "mutation($id: ID!, $v: Int!) { deleteChantier(id: $id, version: $v) }";
const READ: &str = "query($id: ID!) { node(id: $id) { ... on Chantier { version title place startDate endDate capacity activities } } }";
const AUDIT: &str = "query($id: ID) { auditEvents(first: 100, filter: {objectId: $id}) { edges { node { action before after } } } }";
const SUPERVISOR: &str =
    "mutation($i: AddSupervisorInput!) { addChantierSupervisor(input: $i) { id } }";
const PLAN: &str = "mutation($i: PlanCommissionInput!) { planCommission(input: $i) { id version sequence members { id name } } }";
const UPDATE_COMMISSION: &str = "mutation($i: UpdateCommissionInput!) { updateCommission(input: $i) { version title agenda place durationMinutes sequence } }";
const REMOVE_MEMBER: &str = "mutation($c: ID!, $m: ID!, $v: Int!) { removeCommissionMember(commissionId: $c, memberId: $m, version: $v) { version members { name } } }";

/// An ACI chantier of the world's territory, 2026-01-01 – 2027-12-31, `capacity` places.
async fn chantier(app: &TestApp, w: &World, title: &str, capacity: i32) -> String {
    app.ok(
        CREATE_CHANTIER,
        json!({"i": {"territoryId": w.territory, "title": title, "kind": "ACI",
            "carrierId": w.aci, "ownerId": w.buyer, "place": "Le Port",
            "startDate": "2026-01-01", "endDate": "2027-12-31", "capacity": capacity,
            "activities": "Espaces verts"}}),
    )
    .await["createChantier"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn supervisor(app: &TestApp, chantier: &str) {
    app.ok(
        SUPERVISOR,
        json!({"i": {"chantierId": chantier, "name": "Jean-Paul Hoarau", "technicalHours": "1200",
            "socioProfessionalHours": "300", "theoryTrainingHours": "80", "startDate": "2026-01-01"}}),
    )
    .await;
}

/// A CDD on the chantier with the world's company as employer.
async fn on_site(app: &TestApp, w: &World, chantier: &str, last: &str, start: &str) -> Value {
    let person = app.participant(&w.territory, last).await;
    app.run(
        CREATE_PLACEMENT,
        json!({"i": {"participantId": person, "chantierId": chantier, "modality": "DIRECT_HIRE",
            "employerId": w.company, "contractType": "CDD", "startDate": start,
            "endDate": "2027-06-30", "weeklyHours": "26"}}),
    )
    .await
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.ok(READ, json!({"id": id})).await["node"].clone()
}

fn edit(id: &str, version: i64, fields: Value) -> Value {
    let mut i = json!({"chantierId": id, "version": version});
    for (k, v) in fields.as_object().unwrap() {
        i[k] = v.clone();
    }
    json!({"i": i})
}

async fn update_chantier_rechecks_the_creation_rules(app: &TestApp) {
    let w = app.world().await;
    let c = chantier(app, &w, "Espaces vert", 12).await;
    let events = app.count("audit_event").await;
    // Each rule of the creation, on the edited value: nothing is written when one fails.
    for (fields, field) in [
        (json!({"capacity": 0}), "capacity"),
        (json!({"capacity": 501}), "capacity"),
        (json!({"title": "   "}), "title"),
        (json!({"place": ""}), "place"),
        (json!({"activities": " "}), "activities"),
        (json!({"endDate": "2025-12-31"}), "endDate"),
        (json!({"startDate": "2028-01-01"}), "endDate"),
    ] {
        let (code, f) = app.err(UPDATE, edit(&c, 1, fields.clone())).await;
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("BAD_USER_INPUT", Some(field)),
            "{fields}"
        );
    }
    assert_eq!(read(app, &c).await["version"], 1);
    assert_eq!(app.count("audit_event").await, events);
    // At the bounds: 1 and 500 places; a one-day chantier.
    let d = app.ok(UPDATE, edit(&c, 1, json!({"capacity": 500}))).await;
    assert_eq!(d["updateChantier"]["capacity"], 500);
    assert_eq!(d["updateChantier"]["version"], 2);
    let d = app
        .ok(
            UPDATE,
            edit(
                &c,
                2,
                json!({"capacity": 1, "startDate": "2026-06-01", "endDate": "2026-06-01"}),
            ),
        )
        .await;
    assert_eq!(d["updateChantier"]["capacity"], 1);
    assert_eq!(d["updateChantier"]["version"], 3);
    // A correction of the title, place and activities; what is not given stays.
    let d = app
        .ok(
            UPDATE,
            edit(
                &c,
                3,
                json!({"title": "Espaces verts du Port", "place": "Le Port, rivière des Galets",
                    "activities": "Espaces verts, petite maçonnerie", "endDate": "2027-12-31"}),
            ),
        )
        .await["updateChantier"]
        .clone();
    assert_eq!(
        (
            d["title"].clone(),
            d["place"].clone(),
            d["activities"].clone()
        ),
        (
            json!("Espaces verts du Port"),
            json!("Le Port, rivière des Galets"),
            json!("Espaces verts, petite maçonnerie")
        )
    );
    assert_eq!(
        (
            d["startDate"].clone(),
            d["endDate"].clone(),
            d["capacity"].clone()
        ),
        (json!("2026-06-01"), json!("2027-12-31"), json!(1))
    );
    assert_eq!(d["version"], 4);
    // The search follows the new title and place.
    let found = app
        .ok(
            "query { chantiers(filter: {search: \"galets\"}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(found["chantiers"]["edges"][0]["node"]["id"], c.as_str());
    // The audit trail keeps before and after.
    let trail = app.ok(AUDIT, json!({"id": c})).await;
    let last = trail["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["node"]["action"] == "updateChantier")
        .unwrap()["node"]
        .clone();
    assert!(
        last["before"]
            .as_str()
            .unwrap()
            .contains("\"Espaces vert\""),
        "{last}"
    );
    assert!(
        last["after"]
            .as_str()
            .unwrap()
            .contains("\"Espaces verts du Port\""),
        "{last}"
    );
    // An edit on the version read before: CONFLICT naming the version, who and when.
    let resp = app
        .run(UPDATE, edit(&c, 3, json!({"title": "Autre"})))
        .await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(ext["code"], "CONFLICT", "{resp:#}");
    assert_eq!(ext["field"], "version");
    assert_eq!(ext["changedBy"], "system");
    assert_eq!(read(app, &c).await["title"], "Espaces verts du Port");
}

async fn capacity_and_dates_hold_what_the_chantier_already_has(app: &TestApp) {
    let w = app.world().await;
    let c = chantier(app, &w, "Espaces verts", 3).await;
    supervisor(app, &c).await;
    for (last, start) in [("Payet", "2026-03-01"), ("Grondin", "2026-04-01")] {
        let resp = on_site(app, &w, &c, last, start).await;
        assert!(resp.get("errors").is_none(), "{resp:#}");
    }
    let placements: Vec<String> = app
        .ok(
            "query($c: ID!) { placements(filter: {chantierId: $c}) { edges { node { id reference } } } }",
            json!({"c": c}),
        )
        .await["placements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    app.record_ok(&placements[0], "2026-10", "100").await;
    let mut v = 1;
    // Two people on site from April: one place is too few, two are enough.
    let (field, rule, limit, value) = app
        .breach(UPDATE, edit(&c, v, json!({"capacity": 1})))
        .await;
    assert_eq!(
        (field.as_str(), rule.as_str()),
        ("capacity", "CHANTIER_CAPACITY")
    );
    assert_eq!(
        (limit.as_str(), value.as_str()),
        ("1 places", "2 participants le 2026-04-01")
    );
    app.ok(UPDATE, edit(&c, v, json!({"capacity": 2}))).await;
    v += 1;
    // The start cannot pass the first contract's start (1 March); it can reach it.
    let (code, field) = app
        .err(UPDATE, edit(&c, v, json!({"startDate": "2026-03-02"})))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("startDate"))
    );
    // The supervisor started on 1 January: the chantier cannot start after that either.
    let resp = app
        .run(UPDATE, edit(&c, v, json!({"startDate": "2026-01-02"})))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "startDate",
        "{resp:#}"
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("encadrant"),
        "{resp:#}"
    );
    // The end cannot come before hours already declared (October) nor before a contract starts.
    let resp = app
        .run(UPDATE, edit(&c, v, json!({"endDate": "2026-10-30"})))
        .await;
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "endDate",
        "{resp:#}"
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("heures"),
        "{resp:#}"
    );
    let d = app
        .ok(UPDATE, edit(&c, v, json!({"endDate": "2026-10-31"})))
        .await;
    assert_eq!(d["updateChantier"]["endDate"], "2026-10-31");
    v += 1;
    assert_eq!(read(app, &c).await["version"], v);
    // Moving the end re-derives the steering committees' deadlines: the final one on the new
    // end, the midterm one halfway (1 January + 303 days / 2).
    let mut due: Vec<String> = app
        .ok(
            "query($c: ID!) { workflow(id: $c) { deadlines { dueOn status } } }",
            json!({"c": c}),
        )
        .await["workflow"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "CANCELLED")
        .map(|d| d["dueOn"].as_str().unwrap().to_string())
        .collect();
    due.sort();
    assert_eq!(due, vec!["2026-01-01", "2026-06-01", "2026-10-31"]);
    // A cancelled contract no longer holds a place.
    app.ok(
        "mutation($i: TransitionInput!) { transition(input: $i) { state } }",
        json!({"i": {"id": placements[1], "to": "CANCELLED", "reason": "erreur de saisie"}}),
    )
    .await;
    let d = app.ok(UPDATE, edit(&c, v, json!({"capacity": 1}))).await;
    assert_eq!(d["updateChantier"]["capacity"], 1);
}

async fn chantier_edits_stay_in_scope_and_state(app: &TestApp) {
    let w = app.world().await;
    let c = chantier(app, &w, "Espaces verts", 12).await;
    let t2 = app.territory("976-B").await;
    let other = app.user("anim@b.yt", Role::Facilitator, None, &[&t2]).await;
    let carrier = app.user("aci@t.re", Role::Siae, Some(&w.aci), &[]).await;
    let company = app
        .user("paie@btp.re", Role::Company, Some(&w.company), &[])
        .await;
    let code_of = |r: &Value| {
        r["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for (who, code) in [
        (Some(other.clone()), "NOT_FOUND"),
        (Some(carrier.clone()), "FORBIDDEN"),
        (Some(company.clone()), "FORBIDDEN"),
        (None::<Actor>, "UNAUTHENTICATED"),
    ] {
        let r = app
            .run_as(who.clone(), UPDATE, edit(&c, 1, json!({"title": "Piraté"})))
            .await;
        assert_eq!(code_of(&r), code, "{r:#}");
        let r = app.run_as(who, DELETE, json!({"id": c, "v": 1})).await;
        assert_eq!(code_of(&r), code, "{r:#}");
    }
    let now = read(app, &c).await;
    assert_eq!(
        (now["title"].clone(), now["version"].clone()),
        (json!("Espaces verts"), json!(1))
    );
    // An ended chantier is history: the refusal names its state.
    for status in ["ENDED", "EVALUATED"] {
        set_status(app, &c, status).await;
        let r = app
            .run(UPDATE, edit(&c, 1, json!({"title": "Après coup"})))
            .await;
        assert_eq!(code_of(&r), "CONFLICT", "{r:#}");
        assert!(
            r["errors"][0]["message"].as_str().unwrap().contains(status),
            "{r:#}"
        );
    }
    set_status(app, &c, "RUNNING").await;
    app.ok(UPDATE, edit(&c, 1, json!({"title": "En cours"})))
        .await;
}

/// Puts a chantier in a state directly (its life cycle and guards are tested in tests/workflow.rs).
async fn set_status(app: &TestApp, chantier: &str, status: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let (_, id) = passerelle::ids::parse(chantier).unwrap();
    let done = entity::chantier::Entity::update_many()
        .col_expr(entity::chantier::Column::Status, Expr::value(status))
        .filter(entity::chantier::Column::Id.eq(id))
        .exec(&app.ctx.db.conn)
        .await
        .unwrap();
    assert_eq!(done.rows_affected, 1);
}

async fn delete_chantier_only_while_nothing_depends(app: &TestApp) {
    let w = app.world().await;
    let c = chantier(app, &w, "Doublon", 12).await;
    // A stale version is refused like an edit's.
    let r = app.run(DELETE, json!({"id": c, "v": 2})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "CONFLICT", "{r:#}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "version");
    let d = app.ok(DELETE, json!({"id": c, "v": 1})).await;
    assert_eq!(d["deleteChantier"], c.as_str());
    assert!(app.ok(READ, json!({"id": c})).await["node"].is_null());
    assert_eq!(app.count("chantier").await, 0);
    let trail = app.ok(AUDIT, json!({"id": c})).await;
    let gone = trail["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["action"] == "deleteChantier")
        .unwrap()["node"]
        .clone();
    assert!(
        gone["before"].as_str().unwrap().contains("\"Doublon\""),
        "{gone}"
    );
    assert!(gone["after"].is_null(), "{gone}");
    // With a supervisor, then a placement and a commission: each is named.
    let c = chantier(app, &w, "Espaces verts", 12).await;
    supervisor(app, &c).await;
    let r = app.run(DELETE, json!({"id": c, "v": 1})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "CONFLICT", "{r:#}");
    let m = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("1 encadrant(s)") && !m.contains("mise(s)"),
        "{m}"
    );
    let resp = on_site(app, &w, &c, "Payet", "2026-03-01").await;
    assert!(resp.get("errors").is_none(), "{resp:#}");
    app.ok(
        PLAN,
        json!({"i": {"kind": "STEERING_START", "title": "Comité de démarrage", "chantierId": c,
            "startsAt": "2026-12-10T14:00:00", "place": "Mairie"}}),
    )
    .await;
    let r = app.run(DELETE, json!({"id": c, "v": 1})).await;
    let m = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("1 mise(s) en situation")
            && m.contains("1 commission(s)")
            && m.contains("1 encadrant(s)"),
        "{m}"
    );
    assert_eq!(app.count("chantier").await, 1);
}

/// Lowering the capacity and adding a person at once: one waits for the other (the chantier's
/// row lock), so the chantier never ends up with more people than places.
async fn capacity_edit_and_new_placement_do_not_both_pass(app: &TestApp) {
    let w = app.world().await;
    for round in 0..3 {
        let c = chantier(app, &w, &format!("Chantier {round}"), 2).await;
        supervisor(app, &c).await;
        let resp = on_site(app, &w, &c, &format!("Premier{round}"), "2026-03-01").await;
        assert!(resp.get("errors").is_none(), "{resp:#}");
        let person = app
            .participant(&w.territory, &format!("Second{round}"))
            .await;
        let place = json!({"i": {"participantId": person, "chantierId": c, "modality": "DIRECT_HIRE",
            "employerId": w.company, "contractType": "CDD", "startDate": "2026-03-01",
            "endDate": "2027-06-30", "weeklyHours": "26"}});
        let (a, b) = tokio::join!(
            app.run(UPDATE, edit(&c, 1, json!({"capacity": 1}))),
            app.run(CREATE_PLACEMENT, place),
        );
        let passed = [a.get("errors").is_none(), b.get("errors").is_none()];
        assert!(
            passed.iter().filter(|p| **p).count() == 1,
            "both or neither passed: {a:#} {b:#}"
        );
        let now = read(app, &c).await;
        let people = app
            .ok(
                "query($c: ID!) { placements(filter: {chantierId: $c}) { edges { cursor } } }",
                json!({"c": c}),
            )
            .await["placements"]["edges"]
            .as_array()
            .unwrap()
            .len() as i64;
        assert!(
            people <= now["capacity"].as_i64().unwrap(),
            "{people} people, {now}"
        );
    }
}

async fn commission_agenda_and_members_while_planned(app: &TestApp) {
    let w = app.world().await;
    let planned = app
        .ok(
            PLAN,
            json!({"i": {"kind": "RECRUITMENT_JURY", "title": "Jury", "marketId": w.market,
                "startsAt": "2026-12-03T14:00:00", "place": "Mairie", "agenda": "Candidatures",
                "members": [{"name": "Marie Técher", "email": "marie@port.re"}, {"name": "Paul Payet"}]}}),
        )
        .await["planCommission"]
        .clone();
    let id = planned["id"].as_str().unwrap().to_string();
    let sequence = planned["sequence"].as_i64().unwrap();
    let upd = |v: i64, fields: Value| {
        let mut i = json!({"commissionId": id, "version": v});
        for (k, val) in fields.as_object().unwrap() {
            i[k] = val.clone();
        }
        json!({"i": i})
    };
    // Length: 15 minutes to a day.
    for bad in [14, 1441] {
        let (code, field) = app
            .err(UPDATE_COMMISSION, upd(1, json!({"durationMinutes": bad})))
            .await;
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("BAD_USER_INPUT", Some("durationMinutes"))
        );
    }
    let (_, field) = app
        .err(UPDATE_COMMISSION, upd(1, json!({"title": " "})))
        .await;
    assert_eq!(field.as_deref(), Some("title"));
    // The agenda alone: the invitation does not change.
    let d = app
        .ok(
            UPDATE_COMMISSION,
            upd(1, json!({"agenda": "Candidatures, puis calendrier"})),
        )
        .await["updateCommission"]
        .clone();
    assert_eq!(d["agenda"], "Candidatures, puis calendrier");
    assert_eq!(d["version"], 2);
    assert_eq!(d["sequence"], sequence);
    // A new place or length: it does (calendars update).
    let d = app
        .ok(
            UPDATE_COMMISSION,
            upd(
                2,
                json!({"place": "Salle du conseil", "durationMinutes": 15}),
            ),
        )
        .await["updateCommission"]
        .clone();
    assert_eq!(d["sequence"], sequence + 1);
    assert_eq!(d["durationMinutes"], 15);
    let d = app
        .ok(UPDATE_COMMISSION, upd(3, json!({"durationMinutes": 1440})))
        .await["updateCommission"]
        .clone();
    assert_eq!(d["version"], 4);
    let r = app
        .run(UPDATE_COMMISSION, upd(3, json!({"agenda": "x"})))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "CONFLICT");
    assert_eq!(r["errors"][0]["extensions"]["field"], "version");
    // A member leaves: version up, audited; the other stays.
    let members = planned["members"].as_array().unwrap();
    let paul = members.iter().find(|m| m["name"] == "Paul Payet").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let marie = members
        .iter()
        .find(|m| m["name"] == "Marie Técher")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .run(REMOVE_MEMBER, json!({"c": id, "m": paul, "v": 3}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["field"], "version", "{r:#}");
    let d = app
        .ok(REMOVE_MEMBER, json!({"c": id, "m": paul, "v": 4}))
        .await;
    assert_eq!(d["removeCommissionMember"]["version"], 5);
    assert_eq!(
        d["removeCommissionMember"]["members"],
        json!([{"name": "Marie Técher"}])
    );
    let r = app
        .run(REMOVE_MEMBER, json!({"c": id, "m": paul, "v": 5}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r:#}");
    assert_eq!(app.count("commission_member").await, 1);
    // Scope: a facilitator of another territory, a company, nobody signed in.
    let t2 = app.territory("976-B").await;
    let other = app.user("anim@b.yt", Role::Facilitator, None, &[&t2]).await;
    let company = app
        .user("paie@btp.re", Role::Company, Some(&w.company), &[])
        .await;
    for (who, code) in [
        (Some(other), "NOT_FOUND"),
        (Some(company), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let r = app
            .run_as(
                who.clone(),
                UPDATE_COMMISSION,
                upd(5, json!({"agenda": "x"})),
            )
            .await;
        assert_eq!(r["errors"][0]["extensions"]["code"], code, "{r:#}");
        let r = app
            .run_as(who, REMOVE_MEMBER, json!({"c": id, "m": marie, "v": 5}))
            .await;
        assert_eq!(r["errors"][0]["extensions"]["code"], code, "{r:#}");
    }
    assert_eq!(app.count("commission_member").await, 1);
    // Once it has decided, its members are part of the record.
    app.clock.advance(Duration::days(12));
    app.ok(
        "mutation($i: RecordDecisionInput!) { recordDecision(input: $i) { id } }",
        json!({"i": {"commissionId": id, "subject": "Recrutement", "outcome": "Trois candidats retenus"}}),
    )
    .await;
    let r = app
        .run(REMOVE_MEMBER, json!({"c": id, "m": marie, "v": 5}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "CONFLICT", "{r:#}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1 décision"),
        "{r:#}"
    );
    // Held: neither the agenda nor the members change; the refusal names the state.
    app.ok(
        "mutation($c: ID!) { recordCommissionMinutes(commissionId: $c, minutes: \"Compte rendu\") { id } }",
        json!({"c": id}),
    )
    .await;
    app.ok(
        "mutation($i: TransitionInput!) { transition(input: $i) { state } }",
        json!({"i": {"id": id, "to": "HELD"}}),
    )
    .await;
    let v = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Commission { version } } }",
            json!({"id": id}),
        )
        .await["node"]["version"]
        .as_i64()
        .unwrap();
    let r = app
        .run(UPDATE_COMMISSION, upd(v, json!({"agenda": "x"})))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "CONFLICT", "{r:#}");
    assert!(
        r["errors"][0]["message"].as_str().unwrap().contains("HELD"),
        "{r:#}"
    );
    let r = app
        .run(REMOVE_MEMBER, json!({"c": id, "m": marie, "v": v}))
        .await;
    assert!(
        r["errors"][0]["message"].as_str().unwrap().contains("HELD"),
        "{r:#}"
    );
}
