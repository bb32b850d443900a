//! The Relay `Node` interface: every object is reachable by its global ID.

use async_graphql::{Context, ID, Interface, Object, Result};
use entity::{
    chantier, commission, convention, hour_entry, lot, market, operation, organization,
    participant, placement, territory,
};
use sea_orm::EntityTrait;

use super::access::actor;
use super::chantier::Chantier;
use super::connection::app;
use super::ledger::{HourEntry, Placement};
use super::market::{Lot, Market};
use super::party::{Operation, Organization, Participant, Territory};
use super::workflow::{Commission, Convention};
use crate::error::AppError;
use crate::ids::{self, Kind};
use crate::service::scope;

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
        let conn = &app(ctx).db.conn;
        let a = actor(ctx)?;
        Ok(match kind {
            Kind::Territory => territory::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(AppError::from)?
                .map(|m| Node::Territory(Territory(m))),
            Kind::Organization => scope::find::<organization::Entity, _>(
                conn,
                scope::organizations(a),
                organization::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::Organization(Organization(m))),
            Kind::Operation => scope::find::<operation::Entity, _>(
                conn,
                scope::operations(a),
                operation::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::Operation(Operation(m))),
            Kind::Market => {
                scope::find::<market::Entity, _>(conn, scope::markets(a), market::Column::Id, uuid)
                    .await?
                    .map(|m| Node::Market(Market(m)))
            }
            Kind::Lot => scope::find::<lot::Entity, _>(conn, scope::lots(a), lot::Column::Id, uuid)
                .await?
                .map(|m| Node::Lot(Lot(m))),
            Kind::Participant => scope::find::<participant::Entity, _>(
                conn,
                scope::participants(a),
                participant::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::Participant(Participant(m))),
            Kind::Placement => scope::find::<placement::Entity, _>(
                conn,
                scope::placements(a),
                placement::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::Placement(Placement(m))),
            Kind::HourEntry => scope::find::<hour_entry::Entity, _>(
                conn,
                scope::hour_entries(a),
                hour_entry::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::HourEntry(HourEntry(m))),
            Kind::Chantier => scope::find::<chantier::Entity, _>(
                conn,
                scope::chantiers(a),
                chantier::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::Chantier(Chantier(m))),
            Kind::Convention => scope::find::<convention::Entity, _>(
                conn,
                scope::conventions(a),
                convention::Column::Id,
                uuid,
            )
            .await?
            .map(|m| Node::Convention(Convention(m))),
            Kind::Commission => scope::find::<commission::Entity, _>(
                conn,
                scope::commissions(a),
                commission::Column::Id,
                uuid,
            )
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
            | Kind::HourImport => None,
        })
    }
}
