//! Operations: urban-renewal projects (PRU, NPNRU) with their ANRU commitments.

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{chantier, commission, convention, market, operation, territory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait,
    PaginatorTrait, QueryFilter, Set,
};

use super::organization::{expect_kind, expect_kind_in_scope};
use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::Actor;
use crate::domain::params::ParamLevel;
use crate::domain::{OperationKind, OrganizationKind, RuleViolation, placement, text};
use crate::error::AppError;
use crate::error::AppResult;
use crate::ids::{self, Kind};

/// ANRU defaults: 5 % of hours on works and engineering, 10 % on local-management markets.
pub const DEFAULT_WORKS_RATE_BP: i32 = 500;
pub const DEFAULT_GUP_RATE_BP: i32 = 1_000;

#[derive(Debug, InputObject)]
pub struct CreateOperationInput {
    pub territory_id: ID,
    /// Porteur de projet: a buyer (town, EPCI, social landlord).
    pub owner_id: Option<ID>,
    pub name: String,
    pub kind: OperationKind,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Share of hours worked on works and engineering, in basis points (default 500 = 5 %).
    pub works_rate_bp: Option<i32>,
    /// Share of hours on local-management (GUP) markets, in basis points (default 1000 = 10 %).
    pub gup_rate_bp: Option<i32>,
}

#[derive(Debug, InputObject)]
pub struct UpdateOperationInput {
    pub operation_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub name: Option<String>,
    pub kind: Option<OperationKind>,
    /// A buyer; null clears it.
    pub owner_id: MaybeUndefined<ID>,
    pub start_date: MaybeUndefined<NaiveDate>,
    pub end_date: MaybeUndefined<NaiveDate>,
    pub works_rate_bp: Option<i32>,
    pub gup_rate_bp: Option<i32>,
}

#[derive(Debug, Default, InputObject)]
pub struct OperationFilter {
    pub territory_id: Option<ID>,
}

fn check_rate(field: &'static str, bp: i32) -> Result<i32, RuleViolation> {
    if (0..=10_000).contains(&bp) {
        Ok(bp)
    } else {
        Err(RuleViolation::new(
            field,
            format!("{field} : entre 0 et 10 000 points de base, reçu {bp}"),
        ))
    }
}

/// The end does not precede the start (an end alone is not checked).
fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), RuleViolation> {
    match start {
        Some(start) => placement::check_dates(start, end),
        None => Ok(()),
    }
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateOperationInput,
) -> AppResult<operation::Model> {
    let name = text::required("name", &input.name)?;
    let territory_id = ids::decode(Kind::Territory, &input.territory_id, "territoryId")?;
    let owner_id = ids::decode_opt(Kind::Organization, input.owner_id.as_ref(), "ownerId")?;
    check_dates(input.start_date, input.end_date)?;
    let works = check_rate(
        "worksRateBp",
        input.works_rate_bp.unwrap_or(DEFAULT_WORKS_RATE_BP),
    )?;
    let gup = check_rate(
        "gupRateBp",
        input.gup_rate_bp.unwrap_or(DEFAULT_GUP_RATE_BP),
    )?;
    if !actor.facilitates(territory_id) {
        return Err(AppError::Forbidden);
    }
    let txn = ctx.db.begin_write().await?;
    get::<territory::Entity, _>(&txn.txn, territory_id, "territoire").await?;
    if let Some(owner) = owner_id {
        expect_kind(&txn.txn, owner, "ownerId", &[OrganizationKind::Buyer]).await?;
    }
    let row = operation::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        territory_id: Set(territory_id),
        owner_id: Set(owner_id),
        name: Set(name),
        kind: Set(input.kind.as_str().to_string()),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        works_rate_bp: Set(works),
        gup_rate_bp: Set(gup),
        created_at: Set(ctx.clock.now()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createOperation",
        Kind::Operation,
        row.id,
        Some(territory_id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Loads an operation the actor may see, locked; only facilitators of its territory change it.
async fn for_update<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
) -> AppResult<operation::Model> {
    let id = ids::decode(Kind::Operation, id, "operationId")?;
    let op = scope::lock::<operation::Entity, _>(
        conn,
        scope::operations(actor)?,
        operation::Column::Id,
        id,
        "opération",
    )
    .await?;
    if !actor.facilitates(op.territory_id) {
        return Err(AppError::Forbidden);
    }
    Ok(op)
}

/// Corrects an operation: the fields its creation takes, checked by the same rules.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateOperationInput,
) -> AppResult<operation::Model> {
    let owner = match &input.owner_id {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => Some(Some(ids::decode(Kind::Organization, id, "ownerId")?)),
    };
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let op = for_update(conn, actor, &input.operation_id).await?;
    super::edit::expect_version(
        conn,
        actor,
        Kind::Operation,
        op.id,
        op.version,
        input.version,
    )
    .await?;
    let name = match &input.name {
        Some(n) => text::required("name", n)?,
        None => op.name.clone(),
    };
    let start = match input.start_date {
        MaybeUndefined::Undefined => op.start_date,
        other => other.take(),
    };
    let end = match input.end_date {
        MaybeUndefined::Undefined => op.end_date,
        other => other.take(),
    };
    check_dates(start, end)?;
    let works = check_rate(
        "worksRateBp",
        input.works_rate_bp.unwrap_or(op.works_rate_bp),
    )?;
    let gup = check_rate("gupRateBp", input.gup_rate_bp.unwrap_or(op.gup_rate_bp))?;
    if let Some(Some(o)) = owner
        && op.owner_id != Some(o)
    {
        expect_kind_in_scope(conn, actor, o, "ownerId", &[OrganizationKind::Buyer]).await?;
    }
    let before = audit::json(&op);
    let mut am = op.into_active_model();
    am.name = Set(name);
    if let Some(kind) = input.kind {
        am.kind = Set(kind.as_str().to_string());
    }
    if let Some(owner) = owner {
        am.owner_id = Set(owner);
    }
    am.start_date = Set(start);
    am.end_date = Set(end);
    am.works_rate_bp = Set(works);
    am.gup_rate_bp = Set(gup);
    let row = am.update(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateOperation",
        Kind::Operation,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes an operation nothing depends on yet (no market, chantier, convention, commission or
/// parameter of its own); otherwise CONFLICT naming what depends on it.
pub async fn delete(ctx: &Ctx, actor: &Actor, id: &ID, version: i32) -> AppResult<ID> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let op = for_update(conn, actor, id).await?;
    super::edit::expect_version(conn, actor, Kind::Operation, op.id, op.version, version).await?;
    macro_rules! count {
        ($e:ident) => {
            $e::Entity::find()
                .filter($e::Column::OperationId.eq(op.id))
                .count(conn)
                .await?
        };
    }
    let params = super::params::values_of(conn, ParamLevel::Operation, op.id).await?;
    super::edit::nothing_depends(
        &format!("l'opération « {} »", op.name),
        &[
            ("marché(s)", count!(market)),
            ("chantier(s)", count!(chantier)),
            ("convention(s)", count!(convention)),
            ("commission(s)", count!(commission)),
            ("valeur(s) de paramètre propre(s)", params),
        ],
    )?;
    let before = audit::json(&op);
    let (op_id, territory) = (op.id, op.territory_id);
    op.delete(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "deleteOperation",
        Kind::Operation,
        op_id,
        Some(territory),
        Some(&before),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Operation, op_id))
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: OperationFilter,
    args: PageArgs,
) -> AppResult<Page<operation::Model>> {
    let mut select = operation::Entity::find().filter(super::scope::operations(actor)?);
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        select = select.filter(operation::Column::TerritoryId.eq(t));
    }
    page::fetch(&ctx.db.conn, select, operation::Column::Id, &args).await
}
