//! The Relay `Node` interface: every object is reachable by its global ID.

use async_graphql::{Context, ID, Interface, Object, Result};
use entity::{hour_entry, lot, market, operation, organization, participant, placement, territory};
use sea_orm::EntityTrait;

use super::connection::app;
use super::ledger::{HourEntry, Placement};
use super::market::{Lot, Market};
use super::party::{Operation, Organization, Participant, Territory};
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
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when there is none.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some((kind, uuid)) = ids::parse(&id) else {
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
        let db = |e: sea_orm::DbErr| async_graphql::Error::from(AppError::from(e));
        Ok(match kind {
            Kind::Territory => territory::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Territory(Territory(m))),
            Kind::Organization => organization::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Organization(Organization(m))),
            Kind::Operation => operation::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Operation(Operation(m))),
            Kind::Market => market::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Market(Market(m))),
            Kind::Lot => lot::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Lot(Lot(m))),
            Kind::Participant => participant::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Participant(Participant(m))),
            Kind::Placement => placement::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::Placement(Placement(m))),
            Kind::HourEntry => hour_entry::Entity::find_by_id(uuid)
                .one(conn)
                .await
                .map_err(db)?
                .map(|m| Node::HourEntry(HourEntry(m))),
            Kind::StatusChange => None,
        })
    }
}
