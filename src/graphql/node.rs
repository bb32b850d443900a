//! The Relay `Node` interface: every object is reachable by its global ID.

use async_graphql::{Context, ID, Interface, Object, Result};
use entity::{
    chantier, commission, convention, hour_entry, lot, market, operation, organization,
    participant, placement, territory,
};

use super::access::actor;
use super::chantier::Chantier;
use super::ledger::{HourEntry, Placement};
use super::loaders::one;
use super::market::{Lot, Market};
use super::party::{Operation, Organization, Participant, Territory};
use super::workflow::{Commission, Convention};
use crate::error::AppError;
use crate::ids::{self, Kind};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Territory(Territory),
    Organization(Organization),
    Operation(Operation),
    Market(Market),
    Lot(Lot),
    Participant(Participant),
    Placement(Placement),
    HourEntry(HourEntry),
    Chantier(Chantier),
    Convention(Convention),
    Commission(Commission),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when there is none or when it is outside the caller's
    /// scope (the two cannot be told apart).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        load(ctx, &id).await
    }
}

/// The object behind a global ID, in the caller's scope.
pub async fn load(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    {
        let Some((kind, uuid)) = ids::parse(id) else {
            return Err(AppError::bad_input(
                "id",
                format!(
                    "id : identifiant illisible « {} » (malformed ID)",
                    id.as_str()
                ),
            )
            .into());
        };
        // Through the request's scoped loader, like every relation (one mechanism).
        actor(ctx)?;
        Ok(match kind {
            Kind::Territory => one::<territory::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Territory(Territory(m))),
            Kind::Organization => one::<organization::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Organization(Organization(m))),
            Kind::Operation => one::<operation::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Operation(Operation(m))),
            Kind::Market => one::<market::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Market(Market(m))),
            Kind::Lot => one::<lot::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Lot(Lot(m))),
            Kind::Participant => one::<participant::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Participant(Participant(m))),
            Kind::Placement => one::<placement::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Placement(Placement(m))),
            Kind::HourEntry => one::<hour_entry::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::HourEntry(HourEntry(m))),
            Kind::Chantier => one::<chantier::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Chantier(Chantier(m))),
            Kind::Convention => one::<convention::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Convention(Convention(m))),
            Kind::Commission => one::<commission::Entity>(ctx, uuid)
                .await?
                .map(|m| Node::Commission(Commission(m))),
            // Reached through their parent object.
            Kind::StatusChange
            | Kind::User
            | Kind::ApiKey
            | Kind::AuditEvent
            | Kind::ParameterChange
            | Kind::Supervisor
            | Kind::Budget
            | Kind::FundingLine
            | Kind::Eligibility
            | Kind::PassIae
            | Kind::Immersion
            | Kind::Decision
            | Kind::Deadline
            | Kind::ConventionDocument
            | Kind::Reminder
            | Kind::HourImport
            | Kind::CommissionMember => None,
        })
    }
}
