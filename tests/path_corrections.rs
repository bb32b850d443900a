//! Correcting a path's records (issue 20): an exit, the situation a year later and an immersion,
//! each at its rules' boundaries, at the placement's version, in scope, on SQLite and PostgreSQL.
//! The test clock starts on 2026-11-22 (La Réunion); the world's placement is a CDD from
//! 2026-02-01 to 2026-12-31.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use passerelle::domain::auth::{Actor, Role};
use serde_json::{Value, json};

db_tests!(
    an_exit_is_corrected_within_its_rules,
    a_follow_up_is_corrected_within_its_year,
    an_immersion_is_corrected_or_deleted,
    an_erased_file_takes_no_correction,
);

const END: &str = "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { date outcome } }";
const CORRECT_EXIT: &str = "mutation($i: CorrectExitInput!) { correctExit(input: $i) { date outcome category justification } }";
const FOLLOW_UP: &str =
    "mutation($i: ExitFollowUpInput!) { recordExitFollowUp(input: $i) { date outcome } }";
const CORRECT_FOLLOW_UP: &str =
    "mutation($i: CorrectFollowUpInput!) { correctExitFollowUp(input: $i) { date outcome } }";
const IMMERSION: &str = "mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }";
const UPDATE_IMMERSION: &str = "mutation($i: UpdateImmersionInput!) { updateImmersion(input: $i) { id hostName startDate endDate } }";
const DELETE_IMMERSION: &str =
    "mutation($id: ID!, $v: Int!) { deleteImmersion(id: $id, version: $v) }";
const PLACEMENT: &str = "query($id: ID!) { node(id: $id) { ... on Placement { version status endDate exit { date outcome } followUp { date outcome } immersions { id hostName startDate endDate } } } }";

struct Cast {
    w: World,
    fac: Actor,
}

async fn cast(app: &TestApp) -> Cast {
    let w = app.world().await;
    let fac = app
        .user("lea@ville.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    Cast { w, fac }
}

async fn placement(app: &TestApp, c: &Cast) -> Value {
    let r = app
        .run_as(Some(c.fac.clone()), PLACEMENT, json!({"id": c.w.placement}))
        .await;
    r["data"]["node"].clone()
}

/// Runs as the facilitator; `Ok(data)` or `Err((code, field))`.
async fn call(
    app: &TestApp,
    who: &Actor,
    q: &str,
    vars: Value,
) -> Result<Value, (String, Option<String>)> {
    let r = app.run_as(Some(who.clone()), q, vars).await;
    match r.get("errors") {
        None => Ok(r["data"].clone()),
        Some(e) => Err((
            e[0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            e[0]["extensions"]["field"].as_str().map(String::from),
        )),
    }
}

fn refused(code: &str, field: Option<&str>) -> Result<Value, (String, Option<String>)> {
    Err((code.to_string(), field.map(String::from)))
}

async fn an_exit_is_corrected_within_its_rules(app: &TestApp) {
    let c = cast(app).await;
    let fac = &c.fac;
    app.record_ok(&c.w.placement, "2026-09", "100").await;
    call(
        app,
        fac,
        END,
        json!({"i": {"placementId": c.w.placement, "exitDate": "2026-10-31", "outcome": "CDI"}}),
    )
    .await
    .unwrap();
    let v = placement(app, &c).await["version"].as_i64().unwrap();
    let fix = |date: &str, version: i64| json!({"i": {"placementId": c.w.placement, "version": version, "exitDate": date, "reason": "date mal saisie"}});
    // September holds hours: the exit can move to its first day, not before.
    assert_eq!(
        call(app, fac, CORRECT_EXIT, fix("2026-08-31", v)).await,
        refused("BAD_USER_INPUT", Some("exitDate"))
    );
    // Not after today (2026-11-22 in La Réunion).
    assert_eq!(
        call(app, fac, CORRECT_EXIT, fix("2026-11-23", v)).await,
        refused("BAD_USER_INPUT", Some("exitDate"))
    );
    // A reason is required; an OTHER_POSITIVE outcome needs its justification.
    let mut no_reason = fix("2026-09-01", v);
    no_reason["i"]["reason"] = json!("  ");
    assert_eq!(
        call(app, fac, CORRECT_EXIT, no_reason).await,
        refused("BAD_USER_INPUT", Some("reason"))
    );
    let mut other = fix("2026-10-31", v);
    other["i"]["outcome"] = json!("OTHER_POSITIVE");
    assert_eq!(
        call(app, fac, CORRECT_EXIT, other).await,
        refused("BAD_USER_INPUT", Some("justification"))
    );
    // Nothing written by the refusals.
    let p = placement(app, &c).await;
    assert_eq!(
        (p["version"].as_i64(), p["exit"]["date"].as_str()),
        (Some(v), Some("2026-10-31"))
    );
    // A facilitator of another territory, a company: refused, nothing changes.
    let other_t = app.territory("976-AUTRE").await;
    let stranger = app
        .user("x@ailleurs.fr", Role::Facilitator, None, &[&other_t])
        .await;
    assert_eq!(
        call(app, &stranger, CORRECT_EXIT, fix("2026-09-01", v)).await,
        refused("NOT_FOUND", None)
    );
    let company = app
        .user("rh@btp.fr", Role::Company, Some(&c.w.company), &[])
        .await;
    assert_eq!(
        call(app, &company, CORRECT_EXIT, fix("2026-09-01", v))
            .await
            .unwrap_err()
            .0,
        "FORBIDDEN"
    );
    // At the boundary: the first day of the month that holds hours.
    let d = call(app, fac, CORRECT_EXIT, fix("2026-09-01", v))
        .await
        .unwrap();
    assert_eq!(d["correctExit"]["date"], "2026-09-01");
    let p = placement(app, &c).await;
    assert_eq!(
        p["endDate"], "2026-09-01",
        "the placement ends with its exit"
    );
    assert_eq!(p["version"].as_i64(), Some(v + 1));
    // The version read before is stale now.
    assert_eq!(
        call(app, fac, CORRECT_EXIT, fix("2026-09-02", v)).await,
        refused("CONFLICT", Some("version"))
    );
    // Later again, up to today, with a new outcome and its justification.
    let mut later = fix("2026-11-22", v + 1);
    later["i"]["outcome"] = json!("OTHER_POSITIVE");
    later["i"]["justification"] = json!("création d'entreprise");
    let d = call(app, fac, CORRECT_EXIT, later).await.unwrap();
    assert_eq!(
        (
            d["correctExit"]["date"].as_str(),
            d["correctExit"]["outcome"].as_str()
        ),
        (Some("2026-11-22"), Some("OTHER_POSITIVE"))
    );
    // The trail keeps the reason, not the justification (it may tell about the person).
    let trail = app
        .ok(
            "query($id: ID!) { auditEvents(filter: {objectId: $id}) { edges { node { action after } } } }",
            json!({"id": c.w.placement}),
        )
        .await;
    let fixes: Vec<&Value> = trail["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "correctExit")
        .collect();
    assert_eq!(fixes.len(), 2);
    let after = fixes[1]["node"]["after"]
        .as_str()
        .unwrap_or_default()
        .to_string()
        + fixes[0]["node"]["after"].as_str().unwrap_or_default();
    assert!(after.contains("date mal saisie"), "{after}");
    assert!(!after.contains("création d'entreprise"), "{after}");
}

async fn a_follow_up_is_corrected_within_its_year(app: &TestApp) {
    let c = cast(app).await;
    let fac = &c.fac;
    call(
        app,
        fac,
        END,
        json!({"i": {"placementId": c.w.placement, "exitDate": "2026-10-31", "outcome": "CDI"}}),
    )
    .await
    .unwrap();
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 12, 15, 10, 0, 0).unwrap());
    call(
        app,
        fac,
        FOLLOW_UP,
        json!({"i": {"placementId": c.w.placement, "observedOn": "2027-10-31", "outcome": "CDI"}}),
    )
    .await
    .unwrap();
    let v = placement(app, &c).await["version"].as_i64().unwrap();
    let fix = |on: &str, version: i64| json!({"i": {"placementId": c.w.placement, "version": version, "observedOn": on, "outcome": "CDD_OVER_6_MONTHS", "reason": "mauvaise ligne"}});
    // A year after the exit at the earliest, today (2027-12-15) at the latest.
    assert_eq!(
        call(app, fac, CORRECT_FOLLOW_UP, fix("2027-10-30", v)).await,
        refused("BAD_USER_INPUT", Some("observedOn"))
    );
    assert_eq!(
        call(app, fac, CORRECT_FOLLOW_UP, fix("2027-12-16", v)).await,
        refused("BAD_USER_INPUT", Some("observedOn"))
    );
    let d = call(app, fac, CORRECT_FOLLOW_UP, fix("2027-12-15", v))
        .await
        .unwrap();
    assert_eq!(d["correctExitFollowUp"]["date"], "2027-12-15");
    let p = placement(app, &c).await;
    assert_eq!(p["followUp"]["outcome"], "CDD_OVER_6_MONTHS");
    assert_eq!(p["version"].as_i64(), Some(v + 1));
    // Moving the exit later than a year before the follow-up is refused; exactly a year is not.
    let exit = |date: &str, version: i64| json!({"i": {"placementId": c.w.placement, "version": version, "exitDate": date, "reason": "date"}});
    assert_eq!(
        call(app, fac, CORRECT_EXIT, exit("2026-12-16", v + 1)).await,
        refused("BAD_USER_INPUT", Some("exitDate"))
    );
    let d = call(app, fac, CORRECT_EXIT, exit("2026-12-15", v + 1))
        .await
        .unwrap();
    assert_eq!(d["correctExit"]["date"], "2026-12-15");
}

async fn an_immersion_is_corrected_or_deleted(app: &TestApp) {
    let c = cast(app).await;
    let fac = &c.fac;
    let id = call(app, fac, IMMERSION, json!({"i": {"placementId": c.w.placement, "hostName": "Boulangerie", "startDate": "2026-03-02", "endDate": "2026-03-06"}}))
        .await
        .unwrap()["recordImmersion"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = placement(app, &c).await["version"].as_i64().unwrap();
    let edit = |start: &str, end: &str, version: i64| json!({"i": {"immersionId": id, "version": version, "hostName": "Boulangerie Payet", "startDate": start, "endDate": end}});
    // Within the contract (2026-02-01 – 2026-12-31): just before its start is refused.
    assert_eq!(
        call(
            app,
            fac,
            UPDATE_IMMERSION,
            edit("2026-01-31", "2026-02-03", v)
        )
        .await,
        refused("BAD_USER_INPUT", Some("startDate"))
    );
    assert_eq!(
        call(
            app,
            fac,
            UPDATE_IMMERSION,
            edit("2026-03-06", "2026-03-05", v)
        )
        .await,
        refused("BAD_USER_INPUT", Some("endDate"))
    );
    let d = call(
        app,
        fac,
        UPDATE_IMMERSION,
        edit("2026-02-01", "2026-02-03", v),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            d["updateImmersion"]["startDate"].as_str(),
            d["updateImmersion"]["hostName"].as_str()
        ),
        (Some("2026-02-01"), Some("Boulangerie Payet"))
    );
    // Stale version, stranger, then the delete.
    assert_eq!(
        call(
            app,
            fac,
            UPDATE_IMMERSION,
            edit("2026-02-02", "2026-02-03", v)
        )
        .await,
        refused("CONFLICT", Some("version"))
    );
    let other_t = app.territory("976-AUTRE").await;
    // A host is an organization the facilitator may see: another territory's answers as missing.
    let elsewhere = app
        .org("Boulangerie de Mamoudzou", "COMPANY", None, &other_t)
        .await;
    let mut foreign = edit("2026-02-02", "2026-02-03", v + 1);
    foreign["i"]["hostId"] = json!(elsewhere);
    assert_eq!(
        call(app, fac, UPDATE_IMMERSION, foreign).await,
        refused("NOT_FOUND", None)
    );
    let stranger = app
        .user("x@ailleurs.fr", Role::Facilitator, None, &[&other_t])
        .await;
    assert_eq!(
        call(
            app,
            &stranger,
            DELETE_IMMERSION,
            json!({"id": id, "v": v + 1})
        )
        .await,
        refused("NOT_FOUND", None)
    );
    assert_eq!(
        placement(app, &c).await["immersions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let d = call(app, fac, DELETE_IMMERSION, json!({"id": id, "v": v + 1}))
        .await
        .unwrap();
    assert_eq!(d["deleteImmersion"], json!(id));
    let p = placement(app, &c).await;
    assert_eq!(p["immersions"], json!([]));
    assert_eq!(p["version"].as_i64(), Some(v + 2));
    assert_eq!(
        call(app, fac, DELETE_IMMERSION, json!({"id": id, "v": v + 2})).await,
        refused("NOT_FOUND", None)
    );
}

/// Anonymization runs once: a correction after it would put back for good what it cleared (an
/// exit's justification, a host's name). Found by review; refused since.
async fn an_erased_file_takes_no_correction(app: &TestApp) {
    let c = cast(app).await;
    let fac = &c.fac;
    let immersion = call(app, fac, IMMERSION, json!({"i": {"placementId": c.w.placement, "hostName": "Boulangerie", "startDate": "2026-03-02", "endDate": "2026-03-06"}}))
        .await
        .unwrap()["recordImmersion"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        app,
        fac,
        END,
        json!({"i": {"placementId": c.w.placement, "exitDate": "2026-10-31", "outcome": "CDI"}}),
    )
    .await
    .unwrap();
    call(
        app,
        fac,
        "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { anonymizedAt } }",
        json!({"p": c.w.participant}),
    )
    .await
    .unwrap();
    let v = placement(app, &c).await["version"].as_i64().unwrap();
    let mut other = json!({"i": {"placementId": c.w.placement, "version": v, "outcome": "OTHER_POSITIVE",
        "justification": "Mme Hoarau a ouvert sa boulangerie", "reason": "issue mal saisie"}});
    assert_eq!(
        call(app, fac, CORRECT_EXIT, other.clone()).await,
        refused("CONFLICT", None)
    );
    other["i"]["immersionId"] = json!(immersion);
    assert_eq!(
        call(
            app,
            fac,
            UPDATE_IMMERSION,
            json!({"i": {"immersionId": immersion, "version": v, "hostName": "Boulangerie Hoarau"}})
        )
        .await,
        refused("CONFLICT", None)
    );
    let p = placement(app, &c).await;
    assert_eq!(p["version"].as_i64(), Some(v), "nothing written");
    assert_eq!(p["exit"]["outcome"], "CDI");
}
