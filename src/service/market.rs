//! Markets, their lots, the hour target (calibrage) and the market's life cycle.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{lot, market, operation, status_change, territory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, organization::expect_kind, scope, workflow};
use crate::domain::auth::{Actor, Role};
use crate::domain::calibration::{self, CalibrationInput};
use crate::domain::params::ParamKey;
use crate::domain::{
    AnruCategory, ClauseKind, MarketStatus, OrganizationKind, TargetSource, hours, text,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct LotInput {
    pub number: i32,
    pub title: String,
    /// Titulaire: a company or an insertion structure.
    pub awardee_id: Option<ID>,
    pub amount_cents: Option<i64>,
    /// This lot's share of the target, in hours (e.g. "120" or "120:30").
    pub target_hours: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct CreateMarketInput {
    pub buyer_id: ID,
    /// Defaults to the operation's territory, then the buyer's.
    pub territory_id: Option<ID>,
    pub operation_id: Option<ID>,
    pub reference: String,
    pub title: String,
    pub clause_kind: ClauseKind,
    pub anru_category: Option<AnruCategory>,
    /// Amount excluding tax, in cents.
    pub amount_cents: i64,
    pub notification_date: Option<NaiveDate>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[graphql(default)]
    pub lots: Vec<LotInput>,
}

#[derive(Debug, InputObject)]
pub struct AddLotInput {
    pub market_id: ID,
    pub lot: LotInput,
}

#[derive(Debug, InputObject)]
pub struct SetHourTargetInput {
    pub market_id: ID,
    /// Share of the amount that is labour, in basis points (50 % = 5000).
    pub labour_share_bp: i32,
    /// Insertion rate, in basis points (default: CALIBRATION_INSERTION_RATE in force for the market).
    pub insertion_rate_bp: Option<i32>,
    /// Loaded hourly cost in cents (default: CALIBRATION_HOURLY_COST in force for the market).
    pub hourly_cost_cents: Option<i64>,
    /// Hours that replace the proposal; absent, the proposal is accepted.
    pub override_hours: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct TransitionMarketInput {
    pub market_id: ID,
    pub to: MarketStatus,
    pub reason: Option<String>,
}

#[derive(Debug, Default, InputObject)]
pub struct MarketFilter {
    pub status: Option<MarketStatus>,
    pub buyer_id: Option<ID>,
    pub operation_id: Option<ID>,
    pub territory_id: Option<ID>,
    pub clause_kind: Option<ClauseKind>,
    /// Part of the reference or the title, case-insensitive.
    pub search: Option<String>,
}

fn check_amount(field: &'static str, cents: i64) -> AppResult<i64> {
    // 100 billion euros: beyond any public market, so surely a typing error.
    if !(0..=10_000_000_000_000).contains(&cents) {
        return Err(AppError::bad_input(
            field,
            format!("{field} : montant hors limites ({cents} centimes)"),
        ));
    }
    Ok(cents)
}

fn optional_hours(field: &'static str, raw: Option<&str>) -> AppResult<Option<i64>> {
    let Some(raw) = raw else { return Ok(None) };
    let minutes = hours::parse_hours(field, raw)?;
    if minutes < 0 {
        return Err(AppError::bad_input(
            field,
            format!("{field} : ne peut pas être négatif"),
        ));
    }
    Ok(Some(minutes))
}

async fn insert_lot<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    market_id: Uuid,
    input: &LotInput,
) -> AppResult<lot::Model> {
    if input.number < 1 {
        return Err(AppError::bad_input(
            "lot.number",
            "lot.number : les lots sont numérotés à partir de 1",
        ));
    }
    let title = text::required("lot.title", &input.title)?;
    let awardee = ids::decode_opt(
        Kind::Organization,
        input.awardee_id.as_ref(),
        "lot.awardeeId",
    )?;
    if let Some(a) = awardee {
        expect_kind(
            conn,
            a,
            "lot.awardeeId",
            &[OrganizationKind::Company, OrganizationKind::Siae],
        )
        .await?;
    }
    let amount = input
        .amount_cents
        .map(|c| check_amount("lot.amountCents", c))
        .transpose()?;
    let target = optional_hours("lot.targetHours", input.target_hours.as_deref())?;
    let taken = lot::Entity::find()
        .filter(lot::Column::MarketId.eq(market_id))
        .filter(lot::Column::Number.eq(input.number))
        .count(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "lot.number : le marché a déjà un lot n° {} (lot number already used)",
            input.number
        )));
    }
    Ok(lot::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        market_id: Set(market_id),
        number: Set(input.number),
        title: Set(title),
        awardee_id: Set(awardee),
        amount_cents: Set(amount),
        target_minutes: Set(target),
        created_at: Set(ctx.clock.now()),
    }
    .insert(conn)
    .await?)
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateMarketInput,
) -> AppResult<market::Model> {
    let reference = text::required("reference", &input.reference)?;
    let title = text::required("title", &input.title)?;
    let amount = check_amount("amountCents", input.amount_cents)?;
    if input.end_date < input.start_date {
        return Err(AppError::bad_input(
            "endDate",
            format!(
                "endDate : la fin ({}) précède le début ({}) (end before start)",
                input.end_date, input.start_date
            ),
        ));
    }
    if let Some(n) = input.notification_date
        && n > input.start_date
    {
        return Err(AppError::bad_input(
            "notificationDate",
            format!(
                "notificationDate : la notification ({n}) suit le début d'exécution ({}) (notified after start)",
                input.start_date
            ),
        ));
    }
    let buyer_id = ids::decode(Kind::Organization, &input.buyer_id, "buyerId")?;
    let operation_id =
        ids::decode_opt(Kind::Operation, input.operation_id.as_ref(), "operationId")?;
    let territory_arg =
        ids::decode_opt(Kind::Territory, input.territory_id.as_ref(), "territoryId")?;

    let txn = ctx.db.begin_write().await?;
    let buyer = expect_kind(&txn.txn, buyer_id, "buyerId", &[OrganizationKind::Buyer]).await?;
    let operation = match operation_id {
        Some(id) => Some(get::<operation::Entity, _>(&txn.txn, id, "opération").await?),
        None => None,
    };
    let territory_id = territory_arg
        .or(operation.as_ref().map(|o| o.territory_id))
        .or(buyer.territory_id)
        .ok_or_else(|| {
            AppError::bad_input("territoryId", "territoryId : préciser le territoire du marché (required when neither the operation nor the buyer has one)")
        })?;
    get::<territory::Entity, _>(&txn.txn, territory_id, "territoire").await?;
    if !actor.facilitates(territory_id) {
        return Err(AppError::Forbidden);
    }
    if let Some(op) = &operation
        && op.territory_id != territory_id
    {
        return Err(AppError::bad_input(
            "territoryId",
            "territoryId : le marché doit être sur le territoire de son opération",
        ));
    }
    let taken = market::Entity::find()
        .filter(market::Column::BuyerId.eq(buyer_id))
        .filter(market::Column::Reference.eq(&reference))
        .count(&txn.txn)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "reference : {} a déjà un marché de référence {reference} (reference already used by this buyer)",
            buyer.name
        )));
    }
    let now = ctx.clock.now();
    let row = market::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        territory_id: Set(territory_id),
        buyer_id: Set(buyer_id),
        operation_id: Set(operation_id),
        search_text: Set(text::search_key(&[&reference, &title])),
        reference: Set(reference),
        title: Set(title),
        clause_kind: Set(input.clause_kind.as_str().to_string()),
        anru_category: Set(input.anru_category.map(|c| c.as_str().to_string())),
        amount_cents: Set(amount),
        notification_date: Set(input.notification_date),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        status: Set(MarketStatus::Draft.as_str().to_string()),
        target_minutes: Set(None),
        target_source: Set(None),
        calib_labour_share_bp: Set(None),
        calib_insertion_rate_bp: Set(None),
        calib_hourly_cost_cents: Set(None),
        calib_proposed_minutes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn.txn)
    .await?;
    for lot in &input.lots {
        insert_lot(ctx, &txn.txn, row.id, lot).await?;
    }
    let after = serde_json::json!({"market": audit::json(&row), "lots": input.lots.len()});
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createMarket",
        Kind::Market,
        row.id,
        Some(territory_id),
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn add_lot(ctx: &Ctx, actor: &Actor, input: AddLotInput) -> AppResult<lot::Model> {
    let market_id = ids::decode(Kind::Market, &input.market_id, "marketId")?;
    let txn = ctx.db.begin_write().await?;
    let market = load_for_write(&txn.txn, actor, market_id, false).await?;
    let status = MarketStatus::from_db(&market.status);
    if !matches!(status, MarketStatus::Draft | MarketStatus::Published) {
        return Err(AppError::Conflict(format!(
            "on n'ajoute plus de lot à un marché {status} (lots are added before award)"
        )));
    }
    let lot = insert_lot(ctx, &txn.txn, market_id, &input.lot).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "addLot",
        Kind::Lot,
        lot.id,
        Some(market.territory_id),
        None,
        Some(&audit::json(&lot)),
    )
    .await?;
    txn.commit().await?;
    Ok(lot)
}

pub async fn set_lot_awardee(
    ctx: &Ctx,
    actor: &Actor,
    lot_id: &ID,
    awardee_id: &ID,
) -> AppResult<lot::Model> {
    let lot_id = ids::decode(Kind::Lot, lot_id, "lotId")?;
    let awardee = ids::decode(Kind::Organization, awardee_id, "awardeeId")?;
    let txn = ctx.db.begin_write().await?;
    let lot = scope::load::<lot::Entity, _>(
        &txn.txn,
        scope::lots(actor)?,
        lot::Column::Id,
        lot_id,
        "lot",
    )
    .await?;
    let market = load_for_write(&txn.txn, actor, lot.market_id, false).await?;
    if !matches!(
        MarketStatus::from_db(&market.status),
        MarketStatus::Draft | MarketStatus::Published
    ) {
        return Err(AppError::Conflict(format!(
            "le titulaire d'un lot se fixe avant l'attribution ; le marché est {} (awardee is set before award)",
            market.status
        )));
    }
    expect_kind(
        &txn.txn,
        awardee,
        "awardeeId",
        &[OrganizationKind::Company, OrganizationKind::Siae],
    )
    .await?;
    let before = audit::json(&lot);
    let mut am = lot.into_active_model();
    am.awardee_id = Set(Some(awardee));
    let lot = am.update(&txn.txn).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "setLotAwardee",
        Kind::Lot,
        lot.id,
        Some(market.territory_id),
        Some(&before),
        Some(&audit::json(&lot)),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Market(market.id),
    )
    .await?;
    txn.commit().await?;
    Ok(lot)
}

/// Stores the calibrage inputs and proposal, and the target: the proposal or the override.
pub async fn set_hour_target(
    ctx: &Ctx,
    actor: &Actor,
    input: SetHourTargetInput,
) -> AppResult<market::Model> {
    let market_id = ids::decode(Kind::Market, &input.market_id, "marketId")?;
    let override_minutes = optional_hours("overrideHours", input.override_hours.as_deref())?;
    if override_minutes == Some(0) {
        return Err(AppError::bad_input(
            "overrideHours",
            "overrideHours : un objectif de 0 h n'en est pas un",
        ));
    }
    let txn = ctx.db.begin_write().await?;
    let market = load_for_write(&txn.txn, actor, market_id, true).await?;
    let before = audit::json(&market);
    // Unless given, the rate and cost in force for this market (territory, operation, market).
    let today = super::territory::today(ctx, &txn.txn, market.territory_id).await?;
    let params =
        super::params::set_at(&txn.txn, super::params::Place::of_market(&market), today).await?;
    let calib = CalibrationInput {
        amount_cents: market.amount_cents,
        labour_share_bp: input.labour_share_bp,
        insertion_rate_bp: input
            .insertion_rate_bp
            .unwrap_or(params.int(ParamKey::CalibrationInsertionRate) as i32),
        hourly_cost_cents: input
            .hourly_cost_cents
            .unwrap_or(params.int(ParamKey::CalibrationHourlyCost)),
    };
    let proposed = calibration::propose(calib)?;
    let (target, source) = match override_minutes {
        Some(m) => (m, TargetSource::Override),
        None => (proposed, TargetSource::Proposal),
    };
    let mut am = market.into_active_model();
    am.calib_labour_share_bp = Set(Some(calib.labour_share_bp));
    am.calib_insertion_rate_bp = Set(Some(calib.insertion_rate_bp));
    am.calib_hourly_cost_cents = Set(Some(calib.hourly_cost_cents));
    am.calib_proposed_minutes = Set(Some(proposed));
    am.target_minutes = Set(Some(target));
    am.target_source = Set(Some(source.as_str().to_string()));
    am.updated_at = Set(ctx.clock.now());
    let market = am.update(&txn.txn).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "setMarketHourTarget",
        Kind::Market,
        market.id,
        Some(market.territory_id),
        Some(&before),
        Some(&audit::json(&market)),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Market(market.id),
    )
    .await?;
    txn.commit().await?;
    Ok(market)
}

/// Loads a market the actor may change: out of scope is NOT_FOUND; in scope but read-only is
/// FORBIDDEN. Facilitators of its territory change it; its buyer only where `buyer_may` says so.
async fn load_for_write<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    buyer_may: bool,
) -> AppResult<market::Model> {
    let market = market::Entity::find()
        .filter(scope::markets(actor)?)
        .filter(market::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("marché".into()))?;
    let buyer = buyer_may && actor.is(Role::Buyer) && actor.of_org(Some(market.buyer_id));
    if actor.facilitates(market.territory_id) || buyer {
        Ok(market)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The moves open to the market now (guards included), for the front end's buttons.
pub async fn available_transitions(
    ctx: &Ctx,
    actor: &Actor,
    market: &market::Model,
) -> AppResult<Vec<MarketStatus>> {
    let s = workflow::Subject {
        machine: crate::domain::workflow::Machine::Market,
        kind: Kind::Market,
        id: market.id,
        territory: market.territory_id,
        status: market.status.clone(),
    };
    Ok(workflow::options(ctx, actor, &s)
        .await?
        .into_iter()
        .filter(|o| o.allowed)
        .map(|o| MarketStatus::from_db(&o.to))
        .collect())
}

/// A market's move, through the one workflow every object uses.
pub async fn transition(
    ctx: &Ctx,
    actor: &Actor,
    input: TransitionMarketInput,
) -> AppResult<market::Model> {
    let market_id = ids::decode(Kind::Market, &input.market_id, "marketId")?;
    workflow::transition(
        ctx,
        actor,
        workflow::TransitionInput {
            id: input.market_id,
            to: input.to.as_str().to_string(),
            reason: input.reason,
        },
    )
    .await?;
    super::get::<market::Entity, _>(&ctx.db.conn, market_id, "marché").await
}

pub async fn history(ctx: &Ctx, object_id: Uuid) -> AppResult<Vec<status_change::Model>> {
    workflow::history(ctx, Kind::Market, object_id).await
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: MarketFilter,
    args: PageArgs,
) -> AppResult<Page<market::Model>> {
    let mut select = market::Entity::find().filter(scope::markets(actor)?);
    if let Some(status) = filter.status {
        select = select.filter(market::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.clause_kind {
        select = select.filter(market::Column::ClauseKind.eq(kind.as_str()));
    }
    if let Some(b) = ids::decode_opt(
        Kind::Organization,
        filter.buyer_id.as_ref(),
        "filter.buyerId",
    )? {
        select = select.filter(market::Column::BuyerId.eq(b));
    }
    if let Some(o) = ids::decode_opt(
        Kind::Operation,
        filter.operation_id.as_ref(),
        "filter.operationId",
    )? {
        select = select.filter(market::Column::OperationId.eq(o));
    }
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        select = select.filter(market::Column::TerritoryId.eq(t));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        select = select.filter(page::matches(market::Column::SearchText, search));
    }
    page::fetch(&ctx.db.conn, select, market::Column::Id, &args).await
}

pub async fn lots_of(ctx: &Ctx, market_id: Uuid) -> AppResult<Vec<lot::Model>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::MarketId.eq(market_id))
        .order_by_asc(lot::Column::Number)
        .all(&ctx.db.conn)
        .await?)
}
