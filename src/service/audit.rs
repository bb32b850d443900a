//! The audit trail: every mutation writes who did what to which object, before and after,
//! in the same transaction as the change.

use async_graphql::{ID, InputObject};
use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use super::Ctx;
use super::page::{self, Page, PageArgs};
use crate::domain::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, Default, InputObject)]
pub struct AuditFilter {
    /// Any object's global ID.
    pub object_id: Option<ID>,
    /// A user's global ID.
    pub actor_id: Option<ID>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// An entity's fields as JSON, for `before` / `after`.
pub fn json<T: serde::Serialize>(model: &T) -> Value {
    serde_json::to_value(model).unwrap_or(Value::Null)
}

#[allow(clippy::too_many_arguments)]
pub async fn record<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    actor: &Actor,
    action: &str,
    kind: Kind,
    object_id: Uuid,
    territory_id: Option<Uuid>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> AppResult<()> {
    audit_event::ActiveModel {
        id: Set(ctx.clock.new_id()),
        actor_id: Set(actor.user_id),
        actor_label: Set(actor.label.clone()),
        action: Set(action.to_string()),
        object_type: Set(kind.name().to_string()),
        object_id: Set(object_id),
        territory_id: Set(territory_id),
        before: Set(before.map(Value::to_string)),
        after: Set(after.map(Value::to_string)),
        at: Set(ctx.clock.now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Admins read everything; facilitators what happened in their territories.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: AuditFilter,
    args: PageArgs,
) -> AppResult<Page<audit_event::Model>> {
    let mut select = audit_event::Entity::find();
    if actor.is(Role::Facilitator) {
        select = select
            .filter(audit_event::Column::TerritoryId.is_in(actor.territories.iter().copied()));
    } else if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    if let Some(id) = &filter.object_id {
        let (_, uuid) = ids::parse(id).ok_or_else(|| {
            AppError::bad_input("filter.objectId", "filter.objectId : identifiant illisible")
        })?;
        select = select.filter(audit_event::Column::ObjectId.eq(uuid));
    }
    if let Some(a) = ids::decode_opt(Kind::User, filter.actor_id.as_ref(), "filter.actorId")? {
        select = select.filter(audit_event::Column::ActorId.eq(a));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit_event::Column::At.lt(to));
    }
    page::fetch(&ctx.db.conn, select, audit_event::Column::Id, &args).await
}
