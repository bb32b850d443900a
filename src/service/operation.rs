//! Operations: urban-renewal projects (PRU, NPNRU) with their ANRU commitments.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{operation, territory};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, organization::expect_kind};
use crate::domain::auth::Actor;
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

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateOperationInput,
) -> AppResult<operation::Model> {
    let name = text::required("name", &input.name)?;
    let territory_id = ids::decode(Kind::Territory, &input.territory_id, "territoryId")?;
    let owner_id = ids::decode_opt(Kind::Organization, input.owner_id.as_ref(), "ownerId")?;
    if let Some(start) = input.start_date {
        placement::check_dates(start, input.end_date)?;
    }
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
