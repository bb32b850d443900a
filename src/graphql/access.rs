//! Who may call each root field: one table, enforced by an extension before any resolver runs.
//! A field missing from the table is refused (deny by default), and a test checks the table
//! against `schema.graphql`. Services then narrow every read and write to the caller's scope.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{Context, ErrorExtensions, ServerError, ServerResult, Value};

use crate::domain::auth::{Actor, Role};
use crate::error::AppError;

/// Who may call a root field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (only `login`).
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
        "participantsDueForAnonymization",
        Roles(&[Facilitator]),
    ),
    ("QueryRoot", "auditEvents", Roles(&[Admin, Facilitator])),
    ("QueryRoot", "users", Roles(&[Admin])),
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
    ("MutationRoot", "createTerritory", Roles(&[Admin])),
    (
        "MutationRoot",
        "createOrganization",
        Roles(&[Admin, Facilitator]),
    ),
    ("MutationRoot", "createOperation", Roles(&[Facilitator])),
    ("MutationRoot", "createParticipant", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "anonymizeParticipant",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "createMarket", Roles(&[Facilitator])),
    ("MutationRoot", "addLot", Roles(&[Facilitator])),
    ("MutationRoot", "setLotAwardee", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "setMarketHourTarget",
        Roles(&[Facilitator, Buyer]),
    ),
    ("MutationRoot", "transitionMarket", Roles(&[Facilitator])),
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
    (
        "MutationRoot",
        "addChantierSupervisor",
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
    // Life cycles are driven by facilitators; others read what concerns them.
    ("MutationRoot", "transition", Roles(&[Facilitator])),
    ("MutationRoot", "createConvention", Roles(&[Facilitator])),
    ("MutationRoot", "updateConvention", Roles(&[Facilitator])),
    ("MutationRoot", "addConventionParty", Roles(&[Facilitator])),
    ("MutationRoot", "setConventionAmount", Roles(&[Facilitator])),
    (
        "MutationRoot",
        "addConventionDocument",
        Roles(&[Facilitator]),
    ),
    ("MutationRoot", "planCommission", Roles(&[Facilitator])),
    ("MutationRoot", "replanCommission", Roles(&[Facilitator])),
    ("MutationRoot", "addCommissionMember", Roles(&[Facilitator])),
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
        if root && !info.is_for_introspection && !info.name.starts_with("__") {
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
