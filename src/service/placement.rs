//! Placements: one participant on one market (or lot) through one modality and employer.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{lot, market, participant, placement};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, organization::expect_kind};
use crate::domain::auth::Actor;
use crate::domain::placement as rules;
use crate::domain::{
    ContractType, MarketStatus, Modality, OrganizationKind, PlacementStatus, SiaeSubtype, hours,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct CreatePlacementInput {
    pub participant_id: ID,
    pub market_id: ID,
    /// A lot of that market, when the market has lots.
    pub lot_id: Option<ID>,
    pub modality: Modality,
    pub employer_id: ID,
    pub contract_type: ContractType,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// Weekly hours, e.g. "35" or "26:30".
    pub weekly_hours: String,
}

#[derive(Debug, Default, InputObject)]
pub struct PlacementFilter {
    pub market_id: Option<ID>,
    pub participant_id: Option<ID>,
    pub status: Option<PlacementStatus>,
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreatePlacementInput,
) -> AppResult<placement::Model> {
    let participant_id = ids::decode(Kind::Participant, &input.participant_id, "participantId")?;
    let market_id = ids::decode(Kind::Market, &input.market_id, "marketId")?;
    let lot_id = ids::decode_opt(Kind::Lot, input.lot_id.as_ref(), "lotId")?;
    let employer_id = ids::decode(Kind::Organization, &input.employer_id, "employerId")?;
    rules::check_dates(input.start_date, input.end_date)?;
    let weekly = hours::parse_hours("weeklyHours", &input.weekly_hours)?;
    let weekly = i32::try_from(weekly)
        .map_err(|_| AppError::bad_input("weeklyHours", "weeklyHours : valeur hors limites"))?;
    rules::check_weekly_minutes(weekly)?;

    let txn = ctx.db.begin_write().await?;
    let participant =
        get::<participant::Entity, _>(&txn.txn, participant_id, "participant").await?;
    let market = get::<market::Entity, _>(&txn.txn, market_id, "marché").await?;
    if !actor.facilitates(market.territory_id) || !actor.facilitates(participant.territory_id) {
        // Out of scope looks like missing, as everywhere.
        return Err(AppError::NotFound("marché ou participant".into()));
    }
    let status = MarketStatus::from_db(&market.status);
    if !rules::market_accepts_work(status) {
        return Err(AppError::Conflict(format!(
            "marketId : le marché {} est {status} ; on n'y place plus personne (market is {status})",
            market.reference
        )));
    }
    if participant.territory_id != market.territory_id {
        return Err(AppError::bad_input(
            "participantId",
            "participantId : le participant et le marché ne sont pas sur le même territoire",
        ));
    }
    if let Some(lot_id) = lot_id {
        let lot = get::<lot::Entity, _>(&txn.txn, lot_id, "lot").await?;
        if lot.market_id != market_id {
            return Err(AppError::bad_input(
                "lotId",
                "lotId : ce lot n'appartient pas à ce marché (lot of another market)",
            ));
        }
    }
    if input.start_date > market.end_date {
        return Err(AppError::bad_input(
            "startDate",
            format!(
                "startDate : {} est après la fin du marché ({}) (after the market ends)",
                input.start_date, market.end_date
            ),
        ));
    }
    let employer = expect_kind(
        &txn.txn,
        employer_id,
        "employerId",
        &[OrganizationKind::Company, OrganizationKind::Siae],
    )
    .await?;
    let subtype = employer
        .siae_subtype
        .as_deref()
        .and_then(SiaeSubtype::parse);
    rules::check_employer(
        input.modality,
        OrganizationKind::from_db(&employer.kind),
        subtype,
    )?;
    let row = placement::ActiveModel {
        id: Set(ctx.clock.new_id()),
        participant_id: Set(participant_id),
        market_id: Set(market_id),
        lot_id: Set(lot_id),
        modality: Set(input.modality.as_str().to_string()),
        employer_id: Set(employer_id),
        contract_type: Set(input.contract_type.as_str().to_string()),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        weekly_minutes: Set(weekly),
        status: Set(PlacementStatus::Active.as_str().to_string()),
        created_at: Set(ctx.clock.now()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createPlacement",
        Kind::Placement,
        row.id,
        Some(market.territory_id),
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
    filter: PlacementFilter,
    args: PageArgs,
) -> AppResult<Page<placement::Model>> {
    let mut select = placement::Entity::find().filter(super::scope::placements(actor)?);
    if let Some(m) = ids::decode_opt(Kind::Market, filter.market_id.as_ref(), "filter.marketId")? {
        select = select.filter(placement::Column::MarketId.eq(m));
    }
    if let Some(p) = ids::decode_opt(
        Kind::Participant,
        filter.participant_id.as_ref(),
        "filter.participantId",
    )? {
        select = select.filter(placement::Column::ParticipantId.eq(p));
    }
    if let Some(s) = filter.status {
        select = select.filter(placement::Column::Status.eq(s.as_str()));
    }
    page::fetch(&ctx.db.conn, select, placement::Column::Id, &args).await
}
