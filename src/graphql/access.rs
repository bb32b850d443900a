//! Who may call each root field: one table, enforced by an extension before any resolver runs.
//! A field missing from the table is refused (deny by default), and a test checks the table
//! against `schema.graphql`. Services then narrow every read and write to the caller's scope.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{Context, ErrorExtensions, ServerError, ServerResult, Value};

use entity::organization;
use uuid::Uuid;

use super::loaders::{Identifiable, IdentifiableKey, loader};
use crate::domain::auth::{Actor, Role};
use crate::error::AppError;

/// Who may call a root field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (`login`, and the password links).
    Public,
    /// Any signed-in user; the service scopes what they get.
    Authenticated,
    /// Only these roles.
    Roles(&'static [Role]),
}

use Access::*;
use Role::*;

/// `(parent type, field, access)` for every root field of the schema.
pub const RULES: &[(&str, &str, Access)] = &[
    ("QueryRoot", "node", Authenticated),
    ("QueryRoot", "me", Authenticated),
    ("QueryRoot", "territories", Authenticated),
    ("QueryRoot", "organizations", Authenticated),
    ("QueryRoot", "clauseKinds", Authenticated),
    ("QueryRoot", "apiKeys", Authenticated),
    (
        "QueryRoot",
        "calibrationProposal",
        Roles(&[Admin, Facilitator, Buyer]),
    ),
    (
        "QueryRoot",
        "operations",
        Roles(&[Admin, Facilitator, Buyer]),
    ),
    (
        "QueryRoot",
        "markets",
        Roles(&[Admin, Facilitator, Buyer, Company, Siae]),
    ),
    (
        "QueryRoot",
        "participants",
        Roles(&[Facilitator, Company, Siae]),
    ),
    (
        "QueryRoot",
        "placements",
        Roles(&[Facilitator, Company, Siae]),
    ),
    (
        "QueryRoot",
        "hourEntries",
        Roles(&[Facilitator, Company, Siae]),
    ),
    (
        "QueryRoot",
        "hourImports",
        Roles(&[Admin, Facilitator, Company, Siae]),
    ),
    (
        "QueryRoot",
        "participantsDueForAnonymization",
        Roles(&[Facilitator]),
    ),
    // A person's whole file (RGPD art. 15): facilitators of the person's territory (the service
    // checks the territory); not the employer, not an administrator.
    ("QueryRoot", "participantFile", Roles(&[Facilitator])),
    ("QueryRoot", "auditEvents", Roles(&[Admin, Facilitator])),
    ("QueryRoot", "users", Roles(&[Admin, Facilitator])),
    ("QueryRoot", "parameters", Roles(&[Admin, Facilitator])),
    (
        "QueryRoot",
        "parameterChanges",
        Roles(&[Admin, Facilitator]),
    ),
    (
        "QueryRoot",
        "chantiers",
        Roles(&[Admin, Facilitator, Buyer, Siae, Funder]),
    ),
    ("QueryRoot", "workflow", Authenticated),
    ("QueryRoot", "deadlines", Authenticated),
    ("QueryRoot", "conventions", Authenticated),
    ("QueryRoot", "commissions", Authenticated),
    ("QueryRoot", "reminders", Authenticated),
    (
        "QueryRoot",
        "marketReport",
        Roles(&[Admin, Facilitator, Buyer, Company, Siae]),
    ),
    (
        "QueryRoot",
        "operationReport",
        Roles(&[Admin, Facilitator, Buyer]),
    ),
    (
        "QueryRoot",
        "chantierEvaluation",
        Roles(&[Admin, Facilitator, Buyer, Siae, Funder]),
    ),
    ("QueryRoot", "territoryReport", Roles(&[Admin, Facilitator])),
    ("QueryRoot", "traceEntries", Authenticated),
    ("QueryRoot", "myReminderPreferences", Authenticated),
    ("QueryRoot", "outboxHealth", Roles(&[Admin])),
    (
        "QueryRoot",
        "exitStatistics",
        Roles(&[Admin, Facilitator, Buyer, Siae, Funder]),
    ),
    ("MutationRoot", "login", Public),
    ("MutationRoot", "logout", Authenticated),
    ("MutationRoot", "createApiKey", Authenticated),
    ("MutationRoot", "revokeApiKey", Authenticated),
    ("MutationRoot", "createUser", Roles(&[Admin])),
    ("MutationRoot", "updateUser", Roles(&[Admin])),
    ("MutationRoot", "deactivateUser", Roles(&[Admin])),
    ("MutationRoot", "reactivateUser", Roles(&[Admin])),
    ("MutationRoot", "changePassword", Authenticated),
    // Anyone: the answer never tells whether an account exists.
    ("MutationRoot", "requestPasswordReset", Public),
    // Anyone holding a link the mail gave.
    ("MutationRoot", "resetPassword", Public),
    ("MutationRoot", "acceptInvitation", Public),
    ("MutationRoot", "createTerritory", Roles(&[Admin])),
    (
        "MutationRoot",
        "createOrganization",
        Roles(&[Admin, Facilitator]),
    ),
    ("MutationRoot", "createOperation", Roles(&[Facilitator])),
    ("MutationRoot", "updateTerritory", Roles(&[Admin])),
    (
        "MutationRoot",
        "updateOrganization",
        Roles(&[Admin, Facilitator]),
    ),
    ("MutationRoot", "updateOperation", Roles(&[Facilitator])),
    ("MutationRoot", "deleteOperation", Roles(&[Facilitator])),
    ("MutationRoot", "createParticipant", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "anonymizeParticipant",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "createMarket", Roles(&[Facilitator])),
    ("MutationRoot", "addLot", Roles(&[Facilitator])),
    ("MutationRoot", "setLotAwardee", Roles(&[Facilitator])),
    ("MutationRoot", "updateMarket", Roles(&[Facilitator])),
    ("MutationRoot", "updateLot", Roles(&[Facilitator])),
    ("MutationRoot", "deleteMarket", Roles(&[Facilitator])),
    ("MutationRoot", "deleteLot", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "setMarketHourTarget",
        Roles(&[Facilitator, Buyer]),
    ),
    ("MutationRoot", "transitionMarket", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "produceMarketFinalReport",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "createPlacement", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "recordHours",
        Roles(&[Facilitator, Company, Siae]),
    ),
    ("MutationRoot", "validateHours", Roles(&[Facilitator])),
    ("MutationRoot", "rejectHours", Roles(&[Facilitator])),
    ("MutationRoot", "correctHours", Roles(&[Facilitator])),
    ("MutationRoot", "setParameter", Roles(&[Admin])),
    ("MutationRoot", "createChantier", Roles(&[Facilitator])),
    ("MutationRoot", "updateChantier", Roles(&[Facilitator])),
    ("MutationRoot", "deleteChantier", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "grantCommercialDerogation",
        Roles(&[Facilitator]),
    ),
    (
        "MutationRoot",
        "addChantierSupervisor",
        Roles(&[Facilitator, Siae]),
    ),
    (
        "MutationRoot",
        "updateChantierSupervisor",
        Roles(&[Facilitator, Siae]),
    ),
    (
        "MutationRoot",
        "removeChantierSupervisor",
        Roles(&[Facilitator, Siae]),
    ),
    (
        "MutationRoot",
        "setChantierBudget",
        Roles(&[Facilitator, Siae]),
    ),
    ("MutationRoot", "addFundingLine", Roles(&[Facilitator])),
    ("MutationRoot", "cancelFundingLine", Roles(&[Facilitator])),
    ("MutationRoot", "recordEligibility", Roles(&[Facilitator])),
    ("MutationRoot", "issuePassIae", Roles(&[Facilitator])),
    ("MutationRoot", "extendPassIae", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "recordImmersion",
        Roles(&[Facilitator, Siae]),
    ),
    ("MutationRoot", "extendPlacement", Roles(&[Facilitator])),
    ("MutationRoot", "endPlacement", Roles(&[Facilitator, Siae])),
    (
        "MutationRoot",
        "recordExitFollowUp",
        Roles(&[Facilitator, Siae]),
    ),
    // Who records a path's record corrects it (the employer only its own employees').
    ("MutationRoot", "correctExit", Roles(&[Facilitator, Siae])),
    (
        "MutationRoot",
        "correctExitFollowUp",
        Roles(&[Facilitator, Siae]),
    ),
    (
        "MutationRoot",
        "updateImmersion",
        Roles(&[Facilitator, Siae]),
    ),
    (
        "MutationRoot",
        "deleteImmersion",
        Roles(&[Facilitator, Siae]),
    ),
    // Life cycles are driven by facilitators; others read what concerns them.
    ("MutationRoot", "transition", Roles(&[Facilitator])),
    ("MutationRoot", "createConvention", Roles(&[Facilitator])),
    ("MutationRoot", "updateConvention", Roles(&[Facilitator])),
    ("MutationRoot", "updatePlacement", Roles(&[Facilitator])),
    ("MutationRoot", "deletePlacement", Roles(&[Facilitator])),
    ("MutationRoot", "rectifyParticipant", Roles(&[Facilitator])),
    ("MutationRoot", "deleteParticipant", Roles(&[Facilitator])),
    ("MutationRoot", "withdrawEligibility", Roles(&[Facilitator])),
    ("MutationRoot", "addConventionParty", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "removeConventionParty",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "setConventionAmount", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "addConventionDocument",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "planCommission", Roles(&[Facilitator])),
    ("MutationRoot", "replanCommission", Roles(&[Facilitator])),
    ("MutationRoot", "addCommissionMember", Roles(&[Facilitator])),
    ("MutationRoot", "updateCommission", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "removeCommissionMember",
        Roles(&[Facilitator]),
    ),
    (
        "MutationRoot",
        "recordCommissionMinutes",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "recordDecision", Roles(&[Facilitator])),
    ("MutationRoot", "completeDecision", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "refreshDeadlines",
        Roles(&[Admin, Facilitator]),
    ),
    ("MutationRoot", "setReminderPreferences", Authenticated),
    (
        "MutationRoot",
        "importHourStatements",
        Roles(&[Facilitator, Company, Siae]),
    ),
    (
        "MutationRoot",
        "setChantierEvaluationNotes",
        Roles(&[Facilitator, Siae]),
    ),
    (
        "MutationRoot",
        "resendReminder",
        Roles(&[Admin, Facilitator]),
    ),
];

/// Who may read a field of an object the caller already sees (its scope was checked when it
/// was loaded). A field listed here with a rule other than `Open` must call [`guard`]: the
/// extension refuses its value otherwise, so a forgotten check fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAccess {
    /// Whoever sees the object.
    Open,
    /// Those who may identify the person (DOMAIN.md section 9): facilitators of the person's
    /// territory and the person's employer.
    Identity,
    /// Facilitators of the person's territory only (eligibility criteria, PASS IAE, file reads).
    Facilitator,
    /// Administrators and facilitators: people's e-mail addresses in histories and mail logs.
    Staff,
    /// An organization's contact details: administrators, facilitators of its territory (or of
    /// any territory for a national one), and its own members.
    Contact,
}

use FieldAccess::{Contact, Identity, Open, Staff};

/// Types that carry personal or partner data: every field of each has a rule below (a test
/// checks it against the schema), so a new field needs a decision.
pub const SENSITIVE_TYPES: &[&str] = &[
    "Participant",
    "Placement",
    "Organization",
    "StatusChange",
    "CommissionMember",
    "Decision",
    "DeadlineRecipient",
    "ConventionDocument",
    "Budget",
    "MarketFinalReport",
];

/// `(type, field, access)` for every field of the sensitive types.
pub const FIELD_RULES: &[(&str, &str, FieldAccess)] = &[
    ("Participant", "id", Open),
    ("Participant", "identity", Identity),
    ("Participant", "anonymizedAt", Open),
    ("Participant", "version", Open),
    ("Participant", "accesses", FieldAccess::Facilitator),
    ("Participant", "sex", Identity),
    ("Participant", "educationLevel", Identity),
    ("Participant", "unemployedSince", Identity),
    ("Participant", "qpvResident", Identity),
    ("Participant", "territory", Open),
    ("Participant", "prescriber", Identity),
    ("Participant", "eligibilities", FieldAccess::Facilitator),
    ("Participant", "passesIae", FieldAccess::Facilitator),
    ("Participant", "placements", Open),
    ("Placement", "id", Open),
    ("Placement", "reference", Open),
    ("Placement", "participant", Open),
    ("Placement", "market", Open),
    ("Placement", "lot", Open),
    ("Placement", "modality", Open),
    ("Placement", "employer", Open),
    ("Placement", "contractType", Open),
    ("Placement", "startDate", Open),
    ("Placement", "endDate", Open),
    ("Placement", "weeklyHours", Open),
    ("Placement", "status", Open),
    ("Placement", "chantier", Open),
    ("Placement", "version", Open),
    // A derogation names a disability or a training; immersions and exits tell a person's path.
    ("Placement", "derogation", Identity),
    ("Placement", "trainingEndDate", Identity),
    ("Placement", "immersions", Identity),
    ("Placement", "exit", Identity),
    ("Placement", "followUp", Identity),
    ("Placement", "hourEntries", Open),
    ("Organization", "id", Open),
    ("Organization", "version", Open),
    ("Organization", "name", Open),
    ("Organization", "kind", Open),
    ("Organization", "siaeSubtype", Open),
    // SIRET is public (SIRENE); address and e-mail are contact details.
    ("Organization", "siret", Open),
    ("Organization", "address", Contact),
    ("Organization", "email", Contact),
    ("Organization", "territory", Open),
    ("StatusChange", "from", Open),
    ("StatusChange", "to", Open),
    ("StatusChange", "reason", Open),
    ("StatusChange", "changedAt", Open),
    ("StatusChange", "changedBy", Staff),
    ("CommissionMember", "id", Open),
    ("CommissionMember", "name", Open),
    ("CommissionMember", "email", Staff),
    ("CommissionMember", "organization", Open),
    ("Decision", "id", Open),
    ("Decision", "subject", Open),
    ("Decision", "outcome", Open),
    ("Decision", "ownerName", Open),
    ("Decision", "ownerEmail", Staff),
    ("Decision", "dueOn", Open),
    ("Decision", "doneOn", Open),
    ("DeadlineRecipient", "role", Open),
    ("DeadlineRecipient", "name", Open),
    ("DeadlineRecipient", "email", Staff),
    ("DeadlineRecipient", "organization", Open),
    ("ConventionDocument", "id", Open),
    ("ConventionDocument", "name", Open),
    ("ConventionDocument", "kind", Open),
    ("ConventionDocument", "datedOn", Open),
    ("ConventionDocument", "reference", Open),
    ("ConventionDocument", "addedAt", Open),
    ("ConventionDocument", "addedBy", Staff),
    ("Budget", "id", Open),
    ("Budget", "year", Open),
    ("Budget", "version", Open),
    ("Budget", "chargesCents", Open),
    ("Budget", "productsCents", Open),
    ("Budget", "commercialShareBp", Open),
    ("Budget", "unforeseenShareBp", Open),
    ("Budget", "warnings", Open),
    ("Budget", "createdAt", Open),
    ("Budget", "createdBy", Staff),
    ("Budget", "lines", Open),
    // Figures are the market's; who produced it is an account's e-mail, like `createdBy`.
    ("MarketFinalReport", "version", Open),
    ("MarketFinalReport", "asAt", Open),
    ("MarketFinalReport", "producedAt", Open),
    ("MarketFinalReport", "producedBy", Staff),
    ("MarketFinalReport", "current", Open),
    ("MarketFinalReport", "hoursTarget", Open),
    ("MarketFinalReport", "hoursDelivered", Open),
    ("MarketFinalReport", "hoursValidated", Open),
    ("MarketFinalReport", "hoursPending", Open),
    ("MarketFinalReport", "hoursPendingDeductions", Open),
    ("MarketFinalReport", "hoursRejected", Open),
    ("MarketFinalReport", "completionRate", Open),
    ("MarketFinalReport", "trainingHoursCount", Open),
    ("MarketFinalReport", "byKind", Open),
    ("MarketFinalReport", "byModality", Open),
];

pub fn field_rule(parent: &str, field: &str) -> Option<FieldAccess> {
    FIELD_RULES
        .iter()
        .find(|(p, f, _)| *p == parent && *f == field)
        .map(|(_, _, a)| *a)
}

/// What a guarded field is about.
pub enum Subject<'a> {
    /// A person, by participant ID.
    Person(Uuid),
    Organization(&'a organization::Model),
    /// Nothing beyond the role (staff-only fields).
    Caller,
}

/// The guarded fields being resolved in this request, by response path: the rule the extension
/// found for each, and whether the resolver applied it.
#[derive(Default)]
pub struct Guarded(std::sync::Mutex<std::collections::HashMap<String, (FieldAccess, bool)>>);

impl Guarded {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (FieldAccess, bool)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Applies the rule of the field being resolved (the extension looked it up from the table, so
/// a resolver cannot name the wrong one) to `subject`: `FORBIDDEN` when the caller may not read
/// it. A field with no rule in the table is refused.
pub async fn guard(ctx: &Context<'_>, subject: Subject<'_>) -> async_graphql::Result<()> {
    let path = ctx.path_node.map(|p| p.to_string()).unwrap_or_default();
    let rule = ctx.data_opt::<Guarded>().and_then(|g| {
        let mut map = g.lock();
        map.get_mut(&path).map(|(rule, checked)| {
            *checked = true;
            *rule
        })
    });
    let actor = actor(ctx)?;
    let allowed = match (rule, subject) {
        (None, _) => false,
        (Some(Open), _) => true,
        (Some(Staff), _) => actor.any_of(&[Role::Admin, Role::Facilitator]),
        (Some(Contact), Subject::Organization(o)) => {
            actor.is(Role::Admin)
                || actor.of_org(Some(o.id))
                || (actor.is(Role::Facilitator)
                    && o.territory_id
                        .is_none_or(|t| actor.territories.contains(&t)))
        }
        (Some(Identity), Subject::Person(id)) => identifiable(ctx, id).await?.identity,
        (Some(FieldAccess::Facilitator), Subject::Person(id)) => {
            identifiable(ctx, id).await?.facilitator
        }
        // A rule applied to the wrong kind of subject: refuse.
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden.extend())
    }
}

async fn identifiable(ctx: &Context<'_>, person: Uuid) -> async_graphql::Result<Identifiable> {
    Ok(loader(ctx)
        .load_one(IdentifiableKey(person))
        .await?
        .unwrap_or_default())
}

pub fn rule(parent: &str, field: &str) -> Option<Access> {
    RULES
        .iter()
        .find(|(p, f, _)| *p == parent && *f == field)
        .map(|(_, _, a)| *a)
}

/// The verdict for an actor (or nobody) on a root field.
pub fn check(parent: &str, field: &str, actor: Option<&Actor>) -> Result<(), AppError> {
    match (rule(parent, field), actor) {
        (None, _) => Err(AppError::Forbidden),
        (Some(Public), _) => Ok(()),
        (Some(_), None) => Err(AppError::unauthenticated()),
        (Some(Authenticated), Some(_)) => Ok(()),
        (Some(Roles(roles)), Some(a)) if a.any_of(roles) => Ok(()),
        (Some(Roles(_)), Some(_)) => Err(AppError::Forbidden),
    }
}

/// The request's caller, put in the request data by the HTTP handler.
#[derive(Clone)]
pub struct Caller(pub Option<Actor>);

pub fn actor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Actor> {
    ctx.data_opt::<Caller>()
        .and_then(|c| c.0.as_ref())
        .ok_or_else(|| AppError::unauthenticated().extend())
}

pub struct AccessControl;

impl ExtensionFactory for AccessControl {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AccessControlExtension)
    }
}

struct AccessControlExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for AccessControlExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        if !root {
            return guarded(ctx, info, next).await;
        }
        if !info.is_for_introspection && !info.name.starts_with("__") {
            let actor = ctx.data_opt::<Caller>().and_then(|c| c.0.as_ref());
            if let Err(e) = check(info.parent_type, info.name, actor) {
                let err = e.extend();
                let mut server = ServerError::new(err.message, Some(info.field.name.pos));
                server.extensions = err.extensions;
                server.path = vec![async_graphql::PathSegment::Field(info.name.to_string())];
                return Err(server);
            }
        }
        next.run(ctx, info).await
    }
}

/// Resolves a nested field; one whose rule is not `Open` must have called [`guard`], or its value
/// is refused (fail closed: a resolver that forgot its check leaks nothing).
async fn guarded(
    ctx: &ExtensionContext<'_>,
    info: ResolveInfo<'_>,
    next: NextResolve<'_>,
) -> ServerResult<Option<Value>> {
    let rule = if SENSITIVE_TYPES.contains(&info.parent_type) {
        field_rule(info.parent_type, info.name)
    } else {
        None
    };
    let (Some(rule), Some(guards)) = (rule.filter(|r| *r != Open), ctx.data_opt::<Guarded>())
    else {
        return next.run(ctx, info).await;
    };
    let path = info.path_node.to_string();
    let pos = info.field.name.pos;
    guards.lock().insert(path.clone(), (rule, false));
    let value = next.run(ctx, info).await;
    let checked = guards.lock().remove(&path).is_some_and(|(_, c)| c);
    match value {
        Ok(Some(v)) if !checked && v != Value::Null => {
            tracing::error!(path, "a guarded field answered without applying its rule");
            let err = AppError::Forbidden.extend();
            let mut server = ServerError::new(err.message, Some(pos));
            server.extensions = err.extensions;
            Err(server)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    /// A type named like a sensitive one, whose `sex` forgets its rule and whose
    /// `educationLevel` applies it to the wrong kind of subject.
    struct Participant;

    #[Object]
    impl Participant {
        async fn id(&self) -> &str {
            "p"
        }
        async fn sex(&self) -> Option<&str> {
            Some("FEMALE")
        }
        async fn education_level(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
            guard(ctx, Subject::Caller).await?;
            Ok(Some("LEVEL_3"))
        }
    }

    struct Query;

    #[Object(name = "QueryRoot")]
    impl Query {
        async fn node(&self) -> Participant {
            Participant
        }
    }

    #[tokio::test]
    async fn a_field_that_skips_its_rule_answers_nothing() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(AccessControl)
            .finish();
        let req = async_graphql::Request::new("{ node { id sex educationLevel } }")
            .data(Caller(Some(Actor::system())))
            .data(Guarded::default());
        let resp = serde_json::to_value(schema.execute(req).await).unwrap();
        assert_eq!(resp["data"]["node"]["id"], "p", "{resp}");
        assert!(resp["data"]["node"]["sex"].is_null(), "{resp}");
        assert!(resp["data"]["node"]["educationLevel"].is_null(), "{resp}");
        let codes: Vec<&str> = resp["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["extensions"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["FORBIDDEN", "FORBIDDEN"], "{resp}");
    }
}
