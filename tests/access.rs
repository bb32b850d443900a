//! Who may do what: the role table over every operation of the schema, scopes and guessed IDs,
//! tokens and API keys, login throttling, personal data, the audit trail.

mod common;

use std::collections::BTreeSet;

use common::*;
use passerelle::domain::auth::{Actor, Role};
use passerelle::graphql::access::{self, Access};
use serde_json::{Value, json};

db_tests!(
    role_table_covers_every_operation,
    guessed_ids_answer_like_missing_ones,
    sessions_expire_and_revoke,
    an_inactive_account_loses_its_tokens,
    api_keys_act_with_their_owner_role,
    login_is_throttled_without_telling_who_exists,
    identity_is_for_facilitators_and_employers_only,
    anonymization_keeps_hours_and_drops_identity,
    audit_trail_is_scoped,
);

/// Root fields of `schema.graphql`, as `(type, field)`.
fn schema_operations() -> BTreeSet<(String, String)> {
    let sdl = passerelle::graphql::sdl();
    let mut ops = BTreeSet::new();
    for root in ["QueryRoot", "MutationRoot"] {
        let start = sdl.find(&format!("type {root} {{")).unwrap();
        let body = &sdl[start..];
        let body = &body[..body.find("\n}").unwrap()];
        let mut depth = 0;
        let mut in_doc = false;
        for line in body.lines().skip(1) {
            let t = line.trim();
            if t.starts_with("\"\"\"") {
                // A block description opens or closes here; a one-line one does neither.
                let one_line = t.len() > 3 && t.ends_with("\"\"\"");
                if !one_line {
                    in_doc = !in_doc;
                }
                continue;
            }
            if in_doc || t.is_empty() {
                continue;
            }
            if depth == 0 {
                let name: String = t
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    ops.insert((root.to_string(), name));
                }
            }
            depth += t.matches('(').count() as i32 - t.matches(')').count() as i32;
        }
    }
    ops
}

/// Signs in through the real path (password → token → `authenticate`).
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

struct Users {
    admin: String,
    facilitator: String,
    buyer: String,
    company: String,
    siae: String,
    funder: String,
}

async fn users(app: &TestApp, w: &World) -> Users {
    let funder_org = app.org("DDETS", "FUNDER", None, &w.territory).await;
    app.user("admin@t.fr", Role::Admin, None, &[]).await;
    app.user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    app.user("buyer@t.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    app.user("siae@t.fr", Role::Siae, Some(&w.aci), &[]).await;
    app.user("funder@t.fr", Role::Funder, Some(&funder_org), &[])
        .await;
    Users {
        admin: "admin@t.fr".into(),
        facilitator: "fac@t.fr".into(),
        buyer: "buyer@t.fr".into(),
        company: "company@t.fr".into(),
        siae: "siae@t.fr".into(),
        funder: "funder@t.fr".into(),
    }
}

/// One call of each root field, valid enough to pass its arguments' parsing.
fn sample(op: &str, w: &World, entry: &str, victim: &str, n: usize) -> Option<(String, Value)> {
    let t = &w.territory;
    let q = |s: &str| s.to_string();
    Some(match op {
        "node" => (
            q("query($id: ID!) { node(id: $id) { id } }"),
            json!({"id": w.market}),
        ),
        "me" => (q("{ me { email } }"), json!({})),
        "marketReport" => (
            q("query($id: ID!) { marketReport(marketId: $id) { asAt } }"),
            json!({"id": w.market}),
        ),
        "operationReport" => (
            q("query($id: ID!) { operationReport(operationId: $id) { asAt } }"),
            json!({"id": ghost(passerelle::ids::Kind::Operation)}),
        ),
        "chantierEvaluation" => (
            q("query($id: ID!) { chantierEvaluation(chantierId: $id) { asAt } }"),
            json!({"id": ghost(passerelle::ids::Kind::Chantier)}),
        ),
        "territoryReport" => (
            q("query($id: ID!) { territoryReport(territoryId: $id) { asAt } }"),
            json!({"id": t}),
        ),
        "traceEntries" => (
            q("query($t: String!) { traceEntries(trace: $t) { edges { cursor } } }"),
            json!({"t": "x"}),
        ),
        // No file attached: the call passes the access check, then finds no upload.
        "importHourStatements" => (
            q("mutation($f: Upload!) { importHourStatements(file: $f) { id } }"),
            json!({"f": "0"}),
        ),
        "setChantierEvaluationNotes" => (
            q(
                "mutation($i: EvaluationNotesInput!) { setChantierEvaluationNotes(input: $i) { id } }",
            ),
            json!({"i": {"chantierId": ghost(passerelle::ids::Kind::Chantier)}}),
        ),
        "territories" | "organizations" | "operations" | "markets" | "participants"
        | "placements" | "hourEntries" | "hourImports" | "auditEvents" => {
            (format!("{{ {op} {{ edges {{ cursor }} }} }}"), json!({}))
        }
        "clauseKinds" => (q("{ clauseKinds { kind } }"), json!({})),
        "apiKeys" => (q("{ apiKeys { id } }"), json!({})),
        "users" => (q("{ users { edges { cursor } } }"), json!({})),
        "updateUser" => (
            q("mutation($i: UpdateUserInput!) { updateUser(input: $i) { id } }"),
            json!({"i": {"userId": ghost(passerelle::ids::Kind::User), "version": 1, "role": "ADMIN"}}),
        ),
        "deactivateUser" => (
            q("mutation($id: ID!) { deactivateUser(id: $id, version: 1) { id } }"),
            json!({"id": ghost(passerelle::ids::Kind::User)}),
        ),
        "reactivateUser" => (
            q("mutation($id: ID!) { reactivateUser(id: $id, version: 1) { id } }"),
            json!({"id": ghost(passerelle::ids::Kind::User)}),
        ),
        // A wrong current password: refused on the field, nothing changes.
        "changePassword" => (
            q(
                "mutation { changePassword(currentPassword: \"not the password\", newPassword: \"another long passphrase\") }",
            ),
            json!({}),
        ),
        // A new address each time: the per-address throttle never answers.
        "requestPasswordReset" => (
            q("mutation($e: String!) { requestPasswordReset(email: $e) }"),
            json!({"e": format!("nobody{n}@t.fr")}),
        ),
        "resetPassword" => (
            q(
                "mutation { resetPassword(token: \"pal_wrong\", newPassword: \"another long passphrase\") }",
            ),
            json!({}),
        ),
        "acceptInvitation" => (
            q(
                "mutation { acceptInvitation(token: \"pal_wrong\", password: \"another long passphrase\") }",
            ),
            json!({}),
        ),
        "calibrationProposal" => (
            q(
                "{ calibrationProposal(amountCents: 100000, labourShareBp: 5000) { proposedHours } }",
            ),
            json!({}),
        ),
        "participantsDueForAnonymization" => {
            (q("{ participantsDueForAnonymization { id } }"), json!({}))
        }
        "participantFile" => (
            q("query($id: ID!) { participantFile(id: $id) { participantId } }"),
            json!({"id": w.participant}),
        ),
        "login" => (
            q(
                "mutation { login(email: \"fac@t.fr\", password: \"correct horse battery\") { token } }",
            ),
            json!({}),
        ),
        "logout" => (q("mutation { logout }"), json!({})),
        "createApiKey" => (
            q("mutation { createApiKey(label: \"paie\") { secret } }"),
            json!({}),
        ),
        "revokeApiKey" => {
            let ghost =
                passerelle::ids::encode(passerelle::ids::Kind::ApiKey, uuid::Uuid::now_v7());
            (
                q("mutation($id: ID!) { revokeApiKey(id: $id) { id } }"),
                json!({"id": ghost}),
            )
        }
        "createUser" => (
            q("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"),
            json!({"i": {"email": format!("new{n}@t.fr"), "password": PASSWORD, "role": "ADMIN"}}),
        ),
        "createTerritory" => (
            q("mutation($i: CreateTerritoryInput!) { createTerritory(input: $i) { id } }"),
            json!({"i": {"code": format!("T{n}"), "name": "X", "timeZone": "Europe/Paris"}}),
        ),
        "createOrganization" => (
            q(CREATE_ORG),
            json!({"i": {"name": format!("Org {n}"), "kind": "COMPANY", "territoryId": t}}),
        ),
        "createOperation" => (
            q("mutation($i: CreateOperationInput!) { createOperation(input: $i) { id } }"),
            json!({"i": {"territoryId": t, "name": "PRU", "kind": "PRU"}}),
        ),
        "createParticipant" => (
            q(CREATE_PARTICIPANT),
            json!({"i": {"territoryId": t, "firstName": "A", "lastName": "B", "birthDate": "1990-01-01", "sex": "MALE", "educationLevel": "LEVEL_3", "qpvResident": false}}),
        ),
        "anonymizeParticipant" => (
            q("mutation($p: ID!) { anonymizeParticipant(participantId: $p) { id } }"),
            json!({"p": victim}),
        ),
        "createMarket" => (
            q(CREATE_MARKET),
            json!({"i": {"buyerId": w.buyer, "reference": format!("M-{n}"), "title": "T", "clauseKind": "EXECUTION_CONDITION", "amountCents": 100, "startDate": "2026-01-01", "endDate": "2026-12-31"}}),
        ),
        "addLot" => (
            q("mutation($i: AddLotInput!) { addLot(input: $i) { id } }"),
            json!({"i": {"marketId": w.market, "lot": {"number": 10 + n, "title": "L"}}}),
        ),
        "setLotAwardee" => (
            q("mutation($l: ID!, $a: ID!) { setLotAwardee(lotId: $l, awardeeId: $a) { id } }"),
            json!({"l": w.lot, "a": w.company}),
        ),
        "setMarketHourTarget" => (
            q("mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }"),
            json!({"i": {"marketId": w.market, "labourShareBp": 5000}}),
        ),
        "transitionMarket" => (
            q(TRANSITION),
            json!({"i": {"marketId": w.market, "to": "DRAFT"}}),
        ),
        "createPlacement" => (
            q(CREATE_PLACEMENT),
            json!({"i": {"participantId": w.participant, "marketId": w.market, "modality": "DIRECT_HIRE", "employerId": w.company, "contractType": "CDD", "startDate": "2026-03-01", "weeklyHours": "10"}}),
        ),
        "recordHours" => (
            q(RECORD),
            json!({"i": {"placementId": w.placement, "day": format!("2026-06-{:02}", n + 1), "hours": "1"}}),
        ),
        "validateHours" => (q(VALIDATE), json!({"i": {"entryIds": [entry]}})),
        "rejectHours" => (
            q(REJECT),
            json!({"i": {"entryIds": [entry], "reason": "x"}}),
        ),
        "correctHours" => (
            q(CORRECT),
            json!({"i": {"entryId": entry, "hours": format!("{}", 20 + n), "reason": "x"}}),
        ),
        "parameters" => (
            q("query($t: ID) { parameters(territoryId: $t) { key value } }"),
            json!({"t": t}),
        ),
        "parameterChanges" => (
            q("query($t: ID!) { parameterChanges(territoryId: $t) { edges { cursor } } }"),
            json!({"t": t}),
        ),
        "chantiers" => (q("{ chantiers { edges { cursor } } }"), json!({})),
        "exitStatistics" => (
            q(
                "query($t: ID) { exitStatistics(input: {territoryId: $t, from: \"2026-01-01\", to: \"2026-12-31\"}) { targetBp } }",
            ),
            json!({"t": t}),
        ),
        "setParameter" => (
            q(
                "mutation($t: ID) { setParameter(input: {key: SUPERVISION_RATIO, territoryId: $t, value: \"10\", reason: \"charte\"}) { id } }",
            ),
            json!({"t": t}),
        ),
        "createChantier" => (
            q("mutation($i: CreateChantierInput!) { createChantier(input: $i) { id } }"),
            json!({"i": {"territoryId": t, "title": format!("Chantier {n}"), "kind": "ACI", "carrierId": w.aci, "ownerId": w.buyer, "place": "Le Port", "startDate": "2026-01-01", "endDate": "2026-12-31", "capacity": 12, "activities": "Maçonnerie"}}),
        ),
        "produceMarketFinalReport" => (
            q("mutation($m: ID!) { produceMarketFinalReport(marketId: $m) { version } }"),
            json!({"m": ghost(passerelle::ids::Kind::Market)}),
        ),
        "grantCommercialDerogation" => (
            q(
                "mutation($i: GrantCommercialDerogationInput!) { grantCommercialDerogation(input: $i) { reference } }",
            ),
            json!({"i": {"chantierId": ghost(passerelle::ids::Kind::Chantier), "reference": "Arrêté 1", "decidedOn": "2026-01-10"}}),
        ),
        "updateChantierSupervisor" => (
            q(
                "mutation($i: UpdateSupervisorInput!) { updateChantierSupervisor(input: $i) { id } }",
            ),
            json!({"i": {"supervisorId": ghost(passerelle::ids::Kind::Supervisor), "version": 1, "name": "Paul"}}),
        ),
        "removeChantierSupervisor" => (
            q("mutation($id: ID!) { removeChantierSupervisor(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Supervisor)}),
        ),
        "addChantierSupervisor" => (
            q("mutation($i: AddSupervisorInput!) { addChantierSupervisor(input: $i) { id } }"),
            json!({"i": {"chantierId": ghost(passerelle::ids::Kind::Chantier), "name": "Paul", "technicalHours": "10", "socioProfessionalHours": "0", "theoryTrainingHours": "0"}}),
        ),
        "setChantierBudget" => (
            q("mutation($i: SetBudgetInput!) { setChantierBudget(input: $i) { id } }"),
            json!({"i": {"chantierId": ghost(passerelle::ids::Kind::Chantier), "year": 2026, "lines": []}}),
        ),
        "addFundingLine" => (
            q("mutation($i: AddFundingLineInput!) { addFundingLine(input: $i) { id } }"),
            json!({"i": {"chantierId": ghost(passerelle::ids::Kind::Chantier), "funderCategory": "STATE", "purpose": "ACCOMPANIMENT", "year": 2026, "amountCents": 100}}),
        ),
        "cancelFundingLine" => (
            q("mutation($l: ID!) { cancelFundingLine(fundingLineId: $l, reason: \"x\") { id } }"),
            json!({"l": ghost(passerelle::ids::Kind::FundingLine)}),
        ),
        "recordEligibility" => (
            q("mutation($i: RecordEligibilityInput!) { recordEligibility(input: $i) { id } }"),
            json!({"i": {"participantId": w.participant, "scheme": "CLAUSE", "attesterKind": "FACILITATOR", "proofs": [{"criterion": "RSA", "proofKind": "BENEFIT_CERTIFICATE", "proofDate": "2026-11-01"}]}}),
        ),
        "issuePassIae" => (
            q("mutation($i: IssuePassInput!) { issuePassIae(input: $i) { id } }"),
            json!({"i": {"participantId": w.participant, "startDate": "2026-11-01"}}),
        ),
        "extendPassIae" => (
            q("mutation($p: ID!) { extendPassIae(passId: $p, reason: \"formation\") { id } }"),
            json!({"p": ghost(passerelle::ids::Kind::PassIae)}),
        ),
        "recordImmersion" => (
            q("mutation($i: RecordImmersionInput!) { recordImmersion(input: $i) { id } }"),
            json!({"i": {"placementId": w.placement, "hostName": "Boulangerie", "startDate": "2026-03-02", "endDate": "2026-03-03"}}),
        ),
        "extendPlacement" => (
            q("mutation($i: ExtendPlacementInput!) { extendPlacement(input: $i) { id } }"),
            json!({"i": {"placementId": ghost(passerelle::ids::Kind::Placement), "endDate": "2027-01-31", "reason": "renouvellement"}}),
        ),
        "endPlacement" => (
            q("mutation($i: EndPlacementInput!) { endPlacement(input: $i) { outcome } }"),
            json!({"i": {"placementId": ghost(passerelle::ids::Kind::Placement), "exitDate": "2026-10-31", "outcome": "CDI"}}),
        ),
        "recordExitFollowUp" => (
            q("mutation($i: ExitFollowUpInput!) { recordExitFollowUp(input: $i) { outcome } }"),
            json!({"i": {"placementId": ghost(passerelle::ids::Kind::Placement), "observedOn": "2026-10-31", "outcome": "CDI"}}),
        ),
        "correctExit" => (
            q("mutation($i: CorrectExitInput!) { correctExit(input: $i) { outcome } }"),
            json!({"i": {"placementId": ghost(passerelle::ids::Kind::Placement), "version": 1, "reason": "date erronée"}}),
        ),
        "correctExitFollowUp" => (
            q("mutation($i: CorrectFollowUpInput!) { correctExitFollowUp(input: $i) { outcome } }"),
            json!({"i": {"placementId": ghost(passerelle::ids::Kind::Placement), "version": 1, "reason": "date erronée"}}),
        ),
        "updateImmersion" => (
            q("mutation($i: UpdateImmersionInput!) { updateImmersion(input: $i) { id } }"),
            json!({"i": {"immersionId": ghost(passerelle::ids::Kind::Immersion), "version": 1}}),
        ),
        "deleteImmersion" => (
            q("mutation($id: ID!) { deleteImmersion(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Immersion)}),
        ),
        "workflow" => (
            q("query($id: ID!) { workflow(id: $id) { state } }"),
            json!({"id": w.market}),
        ),
        "deadlines" | "conventions" | "commissions" | "reminders" => {
            (format!("{{ {op} {{ edges {{ cursor }} }} }}"), json!({}))
        }
        "transition" => (
            q("mutation($i: TransitionInput!) { transition(input: $i) { state } }"),
            json!({"i": {"id": w.market, "to": "DRAFT"}}),
        ),
        "createConvention" => (
            q("mutation($i: CreateConventionInput!) { createConvention(input: $i) { id } }"),
            json!({"i": {"territoryId": t, "kind": "PARTNERSHIP", "reference": format!("C-{n}"), "title": "Charte"}}),
        ),
        "updateTerritory" => (
            q("mutation($i: UpdateTerritoryInput!) { updateTerritory(input: $i) { id } }"),
            json!({"i": {"territoryId": ghost(passerelle::ids::Kind::Territory), "version": 1}}),
        ),
        "updateOrganization" => (
            q("mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { id } }"),
            json!({"i": {"organizationId": ghost(passerelle::ids::Kind::Organization), "version": 1}}),
        ),
        "updateOperation" => (
            q("mutation($i: UpdateOperationInput!) { updateOperation(input: $i) { id } }"),
            json!({"i": {"operationId": ghost(passerelle::ids::Kind::Operation), "version": 1}}),
        ),
        "deleteOperation" => (
            q("mutation($id: ID!) { deleteOperation(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Operation)}),
        ),
        "updateMarket" => (
            q("mutation($i: UpdateMarketInput!) { updateMarket(input: $i) { id } }"),
            json!({"i": {"marketId": ghost(passerelle::ids::Kind::Market), "version": 1}}),
        ),
        "updateLot" => (
            q("mutation($i: UpdateLotInput!) { updateLot(input: $i) { id } }"),
            json!({"i": {"lotId": ghost(passerelle::ids::Kind::Lot), "version": 1}}),
        ),
        "deleteMarket" => (
            q("mutation($id: ID!) { deleteMarket(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Market)}),
        ),
        "deleteLot" => (
            q("mutation($id: ID!) { deleteLot(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Lot)}),
        ),
        "updatePlacement" => (
            q("mutation($i: UpdatePlacementInput!) { updatePlacement(input: $i) { id } }"),
            json!({"i": {"placementId": ghost(passerelle::ids::Kind::Placement), "version": 1}}),
        ),
        "deletePlacement" => (
            q("mutation($id: ID!) { deletePlacement(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Placement)}),
        ),
        "rectifyParticipant" => (
            q("mutation($i: RectifyParticipantInput!) { rectifyParticipant(input: $i) { id } }"),
            json!({"i": {"participantId": ghost(passerelle::ids::Kind::Participant), "version": 1, "reason": "erreur"}}),
        ),
        "deleteParticipant" => (
            q("mutation($id: ID!) { deleteParticipant(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Participant)}),
        ),
        "withdrawEligibility" => (
            q(
                "mutation($id: ID!) { withdrawEligibility(id: $id, version: 1, reason: \"erreur\") { id } }",
            ),
            json!({"id": ghost(passerelle::ids::Kind::Eligibility)}),
        ),
        "updateConvention" => (
            q("mutation($i: UpdateConventionInput!) { updateConvention(input: $i) { id } }"),
            json!({"i": {"conventionId": ghost(passerelle::ids::Kind::Convention), "version": 1}}),
        ),
        "removeConventionParty" => (
            q(
                "mutation($c: ID!, $o: ID!) { removeConventionParty(conventionId: $c, version: 1, party: {organizationId: $o, role: SIGNATORY}) { id } }",
            ),
            json!({"c": ghost(passerelle::ids::Kind::Convention), "o": w.buyer}),
        ),
        "addConventionParty" => (
            q(
                "mutation($c: ID!, $o: ID!) { addConventionParty(conventionId: $c, party: {organizationId: $o, role: SIGNATORY}) { id } }",
            ),
            json!({"c": ghost(passerelle::ids::Kind::Convention), "o": w.company}),
        ),
        "setConventionAmount" => (
            q(
                "mutation($c: ID!) { setConventionAmount(conventionId: $c, amount: {year: 2026, amountCents: 100}) { id } }",
            ),
            json!({"c": ghost(passerelle::ids::Kind::Convention)}),
        ),
        "addConventionDocument" => (
            q(
                "mutation($i: AddConventionDocumentInput!) { addConventionDocument(input: $i) { id } }",
            ),
            json!({"i": {"conventionId": ghost(passerelle::ids::Kind::Convention), "name": "x", "kind": "ANNEX", "datedOn": "2026-01-01"}}),
        ),
        "planCommission" => (
            q("mutation($i: PlanCommissionInput!) { planCommission(input: $i) { id } }"),
            json!({"i": {"kind": "RECRUITMENT_JURY", "title": "Jury", "marketId": w.market, "startsAt": "2030-01-10T10:00:00", "place": "Mairie"}}),
        ),
        "updateCommission" => (
            q("mutation($i: UpdateCommissionInput!) { updateCommission(input: $i) { id } }"),
            json!({"i": {"commissionId": ghost(passerelle::ids::Kind::Commission), "version": 1, "agenda": "x"}}),
        ),
        "removeCommissionMember" => (
            q(
                "mutation($c: ID!, $m: ID!) { removeCommissionMember(commissionId: $c, memberId: $m, version: 1) { id } }",
            ),
            json!({"c": ghost(passerelle::ids::Kind::Commission), "m": ghost(passerelle::ids::Kind::CommissionMember)}),
        ),
        "updateChantier" => (
            q("mutation($i: UpdateChantierInput!) { updateChantier(input: $i) { id } }"),
            json!({"i": {"chantierId": ghost(passerelle::ids::Kind::Chantier), "version": 1, "title": "x"}}),
        ),
        "deleteChantier" => (
            q("mutation($id: ID!) { deleteChantier(id: $id, version: 1) }"),
            json!({"id": ghost(passerelle::ids::Kind::Chantier)}),
        ),
        "replanCommission" => (
            q("mutation($i: ReplanCommissionInput!) { replanCommission(input: $i) { id } }"),
            json!({"i": {"commissionId": ghost(passerelle::ids::Kind::Commission), "startsAt": "2030-01-11T10:00:00", "reason": "x"}}),
        ),
        "addCommissionMember" => (
            q(
                "mutation($c: ID!) { addCommissionMember(commissionId: $c, member: {name: \"A\"}) { id } }",
            ),
            json!({"c": ghost(passerelle::ids::Kind::Commission)}),
        ),
        "recordCommissionMinutes" => (
            q(
                "mutation($c: ID!) { recordCommissionMinutes(commissionId: $c, minutes: \"x\") { id } }",
            ),
            json!({"c": ghost(passerelle::ids::Kind::Commission)}),
        ),
        "recordDecision" => (
            q("mutation($i: RecordDecisionInput!) { recordDecision(input: $i) { id } }"),
            json!({"i": {"commissionId": ghost(passerelle::ids::Kind::Commission), "subject": "s", "outcome": "o"}}),
        ),
        "completeDecision" => (
            q("mutation($d: ID!) { completeDecision(decisionId: $d) { id } }"),
            json!({"d": ghost(passerelle::ids::Kind::Decision)}),
        ),
        "refreshDeadlines" => (
            q("mutation($t: ID!) { refreshDeadlines(territoryId: $t) }"),
            json!({"t": t}),
        ),
        "myReminderPreferences" => (format!("{{ {op} {{ delivery }} }}"), json!({})),
        "outboxHealth" => (format!("{{ {op} {{ dead }} }}"), json!({})),
        "setReminderPreferences" => (
            q(
                "mutation($i: ReminderPreferencesInput!) { setReminderPreferences(input: $i) { delivery } }",
            ),
            json!({"i": {"delivery": "DAILY"}}),
        ),
        "resendReminder" => (
            q("mutation($id: ID!) { resendReminder(id: $id) { status } }"),
            json!({"id": ghost(passerelle::ids::Kind::Reminder)}),
        ),
        _ => return None,
    })
}

fn ghost(kind: passerelle::ids::Kind) -> String {
    passerelle::ids::encode(kind, uuid::Uuid::now_v7()).to_string()
}

fn code(resp: &Value) -> Option<String> {
    resp["errors"][0]["extensions"]["code"]
        .as_str()
        .map(String::from)
}

async fn role_table_covers_every_operation(app: &TestApp) {
    let ops = schema_operations();
    assert!(ops.len() >= 30, "parsed {} operations", ops.len());
    let ruled: BTreeSet<(String, String)> = access::RULES
        .iter()
        .map(|(p, f, _)| (p.to_string(), f.to_string()))
        .collect();
    assert_eq!(
        ops, ruled,
        "every operation of schema.graphql needs a rule, and every rule an operation"
    );

    let w = app.world().await;
    let entry = app.record_ok(&w.placement, "2026-03", "10").await;
    let victim = app.participant(&w.territory, "Anonymisable").await;
    let u = users(app, &w).await;
    let roles = [
        (Role::Admin, &u.admin),
        (Role::Facilitator, &u.facilitator),
        (Role::Buyer, &u.buyer),
        (Role::Company, &u.company),
        (Role::Siae, &u.siae),
        (Role::Funder, &u.funder),
    ];
    let mut n = 0;
    let mut checked = 0;
    for (role, email) in roles {
        let (actor, _) = signed_in(app, email).await;
        // logout last: it revokes the token the others use.
        let mut order: Vec<&(String, String)> = ops.iter().filter(|(_, f)| f != "logout").collect();
        order.extend(ops.iter().filter(|(_, f)| f == "logout"));
        for (parent, field) in order {
            n += 1;
            let (query, vars) = sample(field, &w, &entry, &victim, n)
                .unwrap_or_else(|| panic!("no sample call for {field}: add one"));
            let resp = app.run_as(Some(actor.clone()), &query, vars).await;
            let allowed = match access::rule(parent, field).unwrap() {
                Access::Public | Access::Authenticated => true,
                Access::Roles(rs) => rs.contains(&role),
            };
            let c = code(&resp);
            if allowed {
                assert!(
                    !matches!(c.as_deref(), Some("FORBIDDEN" | "UNAUTHENTICATED")),
                    "{role} must be allowed {field}: {resp}"
                );
            } else {
                assert_eq!(
                    c.as_deref(),
                    Some("FORBIDDEN"),
                    "{role} must be refused {field}: {resp}"
                );
            }
            checked += 1;
        }
    }
    // Nobody signed in: only `login` and the password links (a wrong link is refused as
    // such, not as a caller without rights).
    for (parent, field) in &ops {
        n += 1;
        let (query, vars) = sample(field, &w, &entry, &victim, n).unwrap();
        let resp = app.run_as(None, &query, vars).await;
        if access::rule(parent, field) == Some(Access::Public) {
            if matches!(field.as_str(), "resetPassword" | "acceptInvitation") {
                assert_eq!(
                    (
                        code(&resp).as_deref(),
                        resp["errors"][0]["extensions"]["field"].as_str()
                    ),
                    (Some("BAD_USER_INPUT"), Some("token")),
                    "{field}: {resp}"
                );
            } else {
                assert!(resp.get("errors").is_none(), "{field}: {resp}");
            }
        } else {
            assert_eq!(
                code(&resp).as_deref(),
                Some("UNAUTHENTICATED"),
                "anonymous {field}: {resp}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, ops.len() * 7);
}

async fn guessed_ids_answer_like_missing_ones(app: &TestApp) {
    let w = app.world().await;
    // A second tenant: another territory, buyer, company, market, person, hours.
    let t2 = app.territory("976-B").await;
    let buyer2 = app.org("Ville B", "BUYER", None, &t2).await;
    let company2 = app.org("BTP B", "COMPANY", None, &t2).await;
    let (m2, lot2) = app.market_in_progress(&buyer2, "B-1", &company2).await;
    let p2 = app.participant(&t2, "Autre").await;
    let pl2 = app
        .placement(&p2, &m2, &lot2, &company2, "DIRECT_HIRE")
        .await;
    let e2 = app.record_ok(&pl2, "2026-03", "10").await;
    let u = users(app, &w).await;
    let ghost = |k| passerelle::ids::encode(k, uuid::Uuid::now_v7()).to_string();
    use passerelle::ids::Kind;
    for email in [&u.facilitator, &u.buyer, &u.company] {
        let (actor, _) = signed_in(app, email).await;
        for (id, kind) in [
            (&m2, Kind::Market),
            (&lot2, Kind::Lot),
            (&p2, Kind::Participant),
            (&pl2, Kind::Placement),
            (&e2, Kind::HourEntry),
        ] {
            let theirs = app
                .run_as(
                    Some(actor.clone()),
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({"id": id}),
                )
                .await;
            let missing = app
                .run_as(
                    Some(actor.clone()),
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({"id": ghost(kind)}),
                )
                .await;
            assert_eq!(theirs, missing, "{email} guessing a {kind:?}");
            assert!(theirs["data"]["node"].is_null());
        }
    }
    // Mutations on another tenant's objects: NOT_FOUND, as for an unknown ID.
    let (fac, _) = signed_in(app, &u.facilitator).await;
    for (query, vars, ghost_vars) in [
        (
            RECORD,
            json!({"i": {"placementId": pl2, "month": "2026-04", "hours": "1"}}),
            json!({"i": {"placementId": ghost(Kind::Placement), "month": "2026-04", "hours": "1"}}),
        ),
        (
            VALIDATE,
            json!({"i": {"entryIds": [e2]}}),
            json!({"i": {"entryIds": [ghost(Kind::HourEntry)]}}),
        ),
        (
            TRANSITION,
            json!({"i": {"marketId": m2, "to": "COMPLETED"}}),
            json!({"i": {"marketId": ghost(Kind::Market), "to": "COMPLETED"}}),
        ),
    ] {
        let theirs = app.run_as(Some(fac.clone()), query, vars).await;
        let missing = app.run_as(Some(fac.clone()), query, ghost_vars).await;
        assert_eq!(code(&theirs).as_deref(), Some("NOT_FOUND"), "{theirs}");
        assert_eq!(
            theirs["errors"][0]["message"],
            missing["errors"][0]["message"]
        );
    }
    // Lists hold only one's own.
    let (buyer, _) = signed_in(app, &u.buyer).await;
    let d = app
        .run_as(
            Some(buyer),
            "{ markets { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["data"]["markets"]["edges"],
        json!([{"node": {"reference": "LP-2026-001"}}])
    );
    let (company, _) = signed_in(app, &u.company).await;
    let d = app
        .run_as(
            Some(company),
            "{ hourEntries { edges { node { id } } } placements { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["data"]["hourEntries"]["edges"].as_array().unwrap().len(),
        0
    );
    assert_eq!(
        d["data"]["placements"]["edges"].as_array().unwrap().len(),
        1
    );
    // Nothing was written by the refused attempts.
    assert_eq!(app.count("hour_entry").await, 1);
}

async fn sessions_expire_and_revoke(app: &TestApp) {
    let w = app.world().await;
    let u = users(app, &w).await;
    let (_, token) = signed_in(app, &u.facilitator).await;
    let auth = |t: String| async move {
        passerelle::service::auth::authenticate(&app.ctx, &t)
            .await
            .map(|a| a.label)
    };
    // 12 hours: valid one second before, refused at the second.
    app.clock
        .advance(chrono::Duration::hours(12) - chrono::Duration::seconds(1));
    app.reset_statements();
    assert_eq!(auth(token.clone()).await.unwrap(), "fac@t.fr");
    // Every request pays this: the credential with its account, then the account's territories.
    assert_eq!(app.statements(), 2);
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        auth(token.clone()).await.unwrap_err().code(),
        "UNAUTHENTICATED"
    );
    // Logout revokes at once.
    let (actor, token) = signed_in(app, &u.facilitator).await;
    let resp = app
        .run_as(Some(actor), "mutation { logout }", json!({}))
        .await;
    assert_eq!(resp["data"]["logout"], true);
    assert_eq!(auth(token).await.unwrap_err().code(), "UNAUTHENTICATED");
    // Only the hash is stored.
    let (_, token) = signed_in(app, &u.facilitator).await;
    let stored = app
        .count(&format!(
            "credential WHERE token_hash = '{}'",
            passerelle::domain::auth::secret_hash(&token)
        ))
        .await;
    assert_eq!(stored, 1);
    let plain = app
        .count(&format!("credential WHERE token_hash = '{token}'"))
        .await;
    assert_eq!(plain, 0);
}

async fn api_keys_act_with_their_owner_role(app: &TestApp) {
    let w = app.world().await;
    let u = users(app, &w).await;
    let (company, _) = signed_in(app, &u.company).await;
    let created = app
        .run_as(
            Some(company.clone()),
            "mutation { createApiKey(label: \"export paie\") { secret key { id label } } }",
            json!({}),
        )
        .await;
    let secret = created["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let key_id = created["data"]["createApiKey"]["key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let machine = passerelle::service::auth::authenticate(&app.ctx, &secret)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert_eq!(machine.role, Some(Role::Company));
    // The key declares hours for the company's placement, as a company declaration.
    let resp = app
        .run_as(Some(machine.clone()), "mutation($i: RecordHoursInput!) { recordHours(input: $i) { source } }", json!({"i": {"placementId": w.placement, "month": "2026-05", "hours": "35", "source": "FACILITATOR"}}))
        .await;
    assert_eq!(
        resp["data"]["recordHours"]["source"], "COMPANY_DECLARATION",
        "{resp}"
    );
    // ... but cannot validate them.
    let (c, _) = (
        code(
            &app.run_as(
                Some(machine.clone()),
                VALIDATE,
                json!({"i": {"entryIds": [w.placement]}}),
            )
            .await,
        ),
        (),
    );
    assert_eq!(c.as_deref(), Some("FORBIDDEN"));
    // Another user cannot revoke it: not found.
    let (siae, _) = signed_in(app, &u.siae).await;
    let other = app
        .run_as(
            Some(siae),
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({"id": key_id}),
        )
        .await;
    assert_eq!(code(&other).as_deref(), Some("NOT_FOUND"));
    let revoked = app
        .run_as(
            Some(company),
            "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
            json!({"id": key_id}),
        )
        .await;
    assert!(
        revoked["data"]["revokeApiKey"]["revokedAt"].is_string(),
        "{revoked}"
    );
    assert_eq!(
        passerelle::service::auth::authenticate(&app.ctx, &secret)
            .await
            .unwrap_err()
            .code(),
        "UNAUTHENTICATED"
    );
}

async fn login_is_throttled_without_telling_who_exists(app: &TestApp) {
    let w = app.world().await;
    let u = users(app, &w).await;
    let login = |email: &str, password: &str, address: &str| {
        let (email, password, address) =
            (email.to_string(), password.to_string(), address.to_string());
        async move {
            passerelle::service::auth::login(&app.ctx, &email, &password, &address)
                .await
                .map(|_| ())
                .map_err(|e| e.message())
        }
    };
    let wrong = login(&u.facilitator, "not the password", "1.1.1.1")
        .await
        .unwrap_err();
    let unknown = login("nobody@t.fr", "not the password", "1.1.1.2")
        .await
        .unwrap_err();
    assert_eq!(wrong, unknown, "no hint whether the account exists");
    // 5 failures per account within 15 minutes: the right password is refused too.
    for i in 0..4 {
        login(&u.facilitator, "nope", &format!("2.2.2.{i}"))
            .await
            .unwrap_err();
    }
    let blocked = login(&u.facilitator, PASSWORD, "3.3.3.3")
        .await
        .unwrap_err();
    assert!(blocked.contains("trop de tentatives"), "{blocked}");
    app.clock.advance(chrono::Duration::minutes(15));
    login(&u.facilitator, PASSWORD, "3.3.3.3").await.unwrap();
    // 20 failures from one address block that address for every account.
    for i in 0..20 {
        login(&format!("guess{i}@t.fr"), "nope", "6.6.6.6")
            .await
            .unwrap_err();
    }
    assert!(
        login(&u.buyer, PASSWORD, "6.6.6.6")
            .await
            .unwrap_err()
            .contains("trop de tentatives")
    );
    login(&u.buyer, PASSWORD, "7.7.7.7").await.unwrap();
}

async fn identity_is_for_facilitators_and_employers_only(app: &TestApp) {
    let w = app.world().await;
    let u = users(app, &w).await;
    // A second person lent by the ETTI and hosted by the company (awardee of the lot).
    let lent = app.participant(&w.territory, "Prêté").await;
    app.placement(&lent, &w.market, &w.lot, &w.etti, "MADE_AVAILABLE")
        .await;
    let etti_user = app
        .org("ETTI compte", "SIAE", Some("ETTI"), &w.territory)
        .await;
    let _ = etti_user;
    let q = "query($id: ID!) { node(id: $id) { ... on Participant { identity { lastName publics } } } }";
    let (fac, _) = signed_in(app, &u.facilitator).await;
    let (company, _) = signed_in(app, &u.company).await;
    let (buyer, _) = signed_in(app, &u.buyer).await;
    let d = app
        .run_as(Some(fac.clone()), q, json!({"id": w.participant}))
        .await;
    assert_eq!(d["data"]["node"]["identity"]["lastName"], "Hoarau");
    let d = app
        .run_as(Some(company.clone()), q, json!({"id": w.participant}))
        .await;
    assert_eq!(
        d["data"]["node"]["identity"]["lastName"], "Hoarau",
        "the employer sees its employee"
    );
    let d = app
        .run_as(Some(company.clone()), q, json!({"id": lent}))
        .await;
    assert_eq!(
        code(&d).as_deref(),
        Some("FORBIDDEN"),
        "the host does not see the identity: {d}"
    );
    let d = app
        .run_as(Some(buyer), q, json!({"id": w.participant}))
        .await;
    assert!(
        d["data"]["node"].is_null(),
        "a buyer never reaches a person: {d}"
    );
    // Every read was recorded: the facilitator's and the employer's.
    let d = app
        .run_as(
            Some(fac),
            "query($id: ID!) { node(id: $id) { ... on Participant { accesses { actorLabel } } } }",
            json!({"id": w.participant}),
        )
        .await;
    let who: Vec<&str> = d["data"]["node"]["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["actorLabel"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["company@t.fr", "fac@t.fr"]);
    let d = app
        .run_as(
            Some(company),
            "query($id: ID!) { node(id: $id) { ... on Participant { accesses { actorLabel } } } }",
            json!({"id": w.participant}),
        )
        .await;
    assert_eq!(code(&d).as_deref(), Some("FORBIDDEN"));
    // Reads are logged once per person and request, in one write, however often the file is asked.
    let (fac2, _) = signed_in(app, &u.facilitator).await;
    let before = app.count("participant_access").await;
    let twice = "{ a: participants { edges { node { identity { lastName } } } } b: participants { edges { node { identity { lastName } } } } }";
    let d = app.run_as(Some(fac2), twice, json!({})).await;
    assert_eq!(d["data"]["a"]["edges"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(app.count("participant_access").await - before, 2);
}

async fn anonymization_keeps_hours_and_drops_identity(app: &TestApp) {
    let w = app.world().await;
    let u = users(app, &w).await;
    let e = app.record_ok(&w.placement, "2026-03", "100").await;
    app.ok(VALIDATE, json!({"i": {"entryIds": [e]}})).await;
    let (fac, _) = signed_in(app, &u.facilitator).await;
    // The placement ends 2026-12-31: due five years later, not one day before.
    let due = "{ participantsDueForAnonymization { id } }";
    app.clock.set("2031-12-31T10:00:00Z".parse().unwrap());
    let (fac, _) = (
        passerelle::service::auth::actor_of(
            &app.ctx,
            &passerelle::service::get::<entity::app_user::Entity, _>(
                &app.ctx.db.conn,
                fac.user_id.unwrap(),
                "u",
            )
            .await
            .unwrap(),
            None,
        )
        .await
        .unwrap(),
        (),
    );
    let d = app.run_as(Some(fac.clone()), due, json!({})).await;
    assert_eq!(
        d["data"]["participantsDueForAnonymization"],
        json!([]),
        "{d}"
    );
    app.clock.set("2032-01-01T10:00:00Z".parse().unwrap());
    let d = app.run_as(Some(fac.clone()), due, json!({})).await;
    assert_eq!(
        d["data"]["participantsDueForAnonymization"][0]["id"],
        w.participant
    );
    let d = app
        .run_as(Some(fac.clone()), "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { anonymizedAt identity { firstName lastName birthDate publics } sex } }", json!({"p": w.participant}))
        .await;
    let p = &d["data"]["anonymizeParticipant"];
    assert_eq!(p["identity"]["lastName"], "ANONYMISÉ", "{d}");
    assert_eq!(p["identity"]["firstName"], "");
    assert_eq!(
        p["identity"]["birthDate"], "1990-01-01",
        "the year stays for age bands"
    );
    assert_eq!(p["sex"], "FEMALE");
    assert_eq!(app.totals(&w.market).await["hoursDelivered"], 100.0);
    assert_eq!(app.totals(&w.market).await["participantCount"], 1);
    let again = app
        .run_as(
            Some(fac.clone()),
            "mutation($p: ID!) { anonymizeParticipant(participantId: $p) { id } }",
            json!({"p": w.participant}),
        )
        .await;
    assert_eq!(code(&again).as_deref(), Some("CONFLICT"));
    // No copy of the name anywhere: not in the audit trail, not findable by search.
    assert_eq!(
        app.count("audit_event WHERE before LIKE '%Hoarau%' OR after LIKE '%Hoarau%'")
            .await,
        0
    );
    let s = app
        .run_as(
            Some(fac),
            "{ participants(filter: {search: \"hoarau\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(s["data"]["participants"]["edges"], json!([]));
}

async fn audit_trail_is_scoped(app: &TestApp) {
    let w = app.world().await;
    let u = users(app, &w).await;
    let (fac, _) = signed_in(app, &u.facilitator).await;
    let fac_user_id = fac.user_id.unwrap();
    app.run_as(
        Some(fac.clone()),
        "mutation($i: SetHourTargetInput!) { setMarketHourTarget(input: $i) { id } }",
        json!({"i": {"marketId": w.market, "labourShareBp": 5000}}),
    )
    .await;
    // Another territory's event, made by the system.
    let t2 = app.territory("T2").await;
    app.org("Ailleurs", "COMPANY", None, &t2).await;
    let q = "query($o: ID) { auditEvents(first: 100, filter: {objectId: $o}) { edges { node { action actorLabel before after objectId } } } }";
    let d = app
        .run_as(Some(fac.clone()), q, json!({"o": w.market}))
        .await;
    let events = d["data"]["auditEvents"]["edges"].as_array().unwrap();
    let last = &events.last().unwrap()["node"];
    assert_eq!(last["action"], "setMarketHourTarget");
    assert_eq!(last["actorLabel"], "fac@t.fr");
    assert!(
        last["before"]
            .as_str()
            .unwrap()
            .contains("\"target_minutes\":null")
    );
    assert!(
        last["after"]
            .as_str()
            .unwrap()
            .contains("\"target_minutes\":49980")
    );
    let all_fac = app.run_as(Some(fac), q, json!({"o": null})).await;
    let actions: Vec<&str> = all_fac["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"recordHours") || actions.contains(&"createPlacement"),
        "{actions:?}"
    );
    assert!(
        !all_fac.to_string().contains("Ailleurs"),
        "another territory's events are not shown"
    );
    let (admin, _) = signed_in(app, &u.admin).await;
    // By actor and by period.
    let fac_id = passerelle::ids::encode(passerelle::ids::Kind::User, fac_user_id);
    let by = "query($a: ID, $from: DateTime, $to: DateTime) { auditEvents(first: 100, filter: {actorId: $a, from: $from, to: $to}) { edges { node { actorLabel at } } } }";
    let mine = app
        .run_as(Some(admin.clone()), by, json!({"a": fac_id}))
        .await;
    let labels: Vec<&str> = mine["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["actorLabel"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["fac@t.fr"], "{mine}");
    let now = passerelle::clock::Clock::now(&*app.clock).to_rfc3339();
    let before_now = app
        .run_as(Some(admin.clone()), by, json!({"to": now}))
        .await;
    assert_eq!(
        before_now["data"]["auditEvents"]["edges"],
        json!([]),
        "`to` is exclusive: everything happened at the test's instant"
    );
    let from_now = app
        .run_as(Some(admin.clone()), by, json!({"from": now}))
        .await;
    assert!(
        !from_now["data"]["auditEvents"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = app.run_as(Some(admin), q, json!({"o": null})).await;
    assert!(all.to_string().contains("Ailleurs"));
    let (buyer, _) = signed_in(app, &u.buyer).await;
    assert_eq!(
        code(&app.run_as(Some(buyer), q, json!({"o": null})).await).as_deref(),
        Some("FORBIDDEN")
    );
    // The trail only grows.
    let err =
        sea_orm::ConnectionTrait::execute_unprepared(&app.ctx.db.conn, "DELETE FROM audit_event")
            .await
            .unwrap_err();
    assert!(err.to_string().contains("append-only"));
}

/// The bearer check reads the account with the credential: an account switched off refuses
/// its live tokens at once, and switched on again accepts them.
async fn an_inactive_account_loses_its_tokens(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let w = app.world().await;
    let u = users(app, &w).await;
    let (actor, token) = signed_in(app, &u.facilitator).await;
    let set_active = |on: bool| async move {
        app.ctx
            .db
            .conn
            .execute_unprepared(&format!(
                "UPDATE app_user SET active = {on} WHERE email = 'fac@t.fr'"
            ))
            .await
            .unwrap();
    };
    set_active(false).await;
    let refused = passerelle::service::auth::authenticate(&app.ctx, &token)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "UNAUTHENTICATED");
    set_active(true).await;
    let again = passerelle::service::auth::authenticate(&app.ctx, &token)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert_eq!(again.user_id, actor.user_id);
}
