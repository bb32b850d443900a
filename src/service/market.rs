//! Markets, their lots, the hour target (calibrage) and the market's life cycle.

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{
    chantier, commission, hour_entry, lot, market, market_final_report, operation, placement,
    status_change, territory,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::deadlines::{self, SubjectRef};
use super::organization::{expect_kind, expect_kind_in_scope};
use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, scope, workflow};
use crate::domain::auth::{Actor, Role};
use crate::domain::calibration::{self, CalibrationInput};
use crate::domain::params::{ParamKey, ParamLevel};
use crate::domain::{
    AnruCategory, ClauseKind, MarketStatus, OrganizationKind, PlacementStatus, TargetSource, hours,
    text,
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
pub struct UpdateMarketInput {
    pub market_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    /// Unique among the buyer's markets.
    pub reference: Option<String>,
    pub title: Option<String>,
    pub clause_kind: Option<ClauseKind>,
    /// Null clears it.
    pub anru_category: MaybeUndefined<AnruCategory>,
    /// Amount excluding tax, in cents. A target that is the calibrage proposal follows it.
    pub amount_cents: Option<i64>,
    /// Null clears it.
    pub notification_date: MaybeUndefined<NaiveDate>,
    /// Refused if hours or contracts of the market would fall outside the new dates.
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Only while the market is a DRAFT.
    pub buyer_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct UpdateLotInput {
    pub lot_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub title: Option<String>,
    /// A company or an insertion structure; null clears it (not once the market is awarded).
    pub awardee_id: MaybeUndefined<ID>,
    /// Null clears it.
    pub amount_cents: MaybeUndefined<i64>,
    /// This lot's share of the target, in hours (e.g. "120" or "120:30"); null clears it.
    pub target_hours: MaybeUndefined<String>,
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

/// Who may be a lot's awardee (titulaire).
const AWARDEE_KINDS: &[OrganizationKind] = &[OrganizationKind::Company, OrganizationKind::Siae];

/// A market's dates: the end does not precede the start, nor the start its notification.
fn check_dates(start: NaiveDate, end: NaiveDate, notification: Option<NaiveDate>) -> AppResult<()> {
    if end < start {
        return Err(AppError::bad_input(
            "endDate",
            format!("endDate : la fin ({end}) précède le début ({start}) (end before start)"),
        ));
    }
    if let Some(n) = notification
        && n > start
    {
        return Err(AppError::bad_input(
            "notificationDate",
            format!(
                "notificationDate : la notification ({n}) suit le début d'exécution ({start}) (notified after start)"
            ),
        ));
    }
    Ok(())
}

/// Refuses a reference the buyer already gives to another market than `except`.
async fn reference_free<C: ConnectionTrait>(
    conn: &C,
    buyer: &entity::organization::Model,
    reference: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let mut q = market::Entity::find()
        .filter(market::Column::BuyerId.eq(buyer.id))
        .filter(market::Column::Reference.eq(reference));
    if let Some(id) = except {
        q = q.filter(market::Column::Id.ne(id));
    }
    if q.count(conn).await? > 0 {
        return Err(AppError::Conflict(format!(
            "reference : {} a déjà un marché de référence {reference} (reference already used by this buyer)",
            buyer.name
        )));
    }
    Ok(())
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
        expect_kind(conn, a, "lot.awardeeId", AWARDEE_KINDS).await?;
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
    check_dates(input.start_date, input.end_date, input.notification_date)?;
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
    reference_free(&txn.txn, &buyer, &reference, None).await?;
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
    expect_kind(&txn.txn, awardee, "awardeeId", AWARDEE_KINDS).await?;
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

/// The market's state allows no change once it is closed or cancelled.
fn still_editable(m: &market::Model) -> AppResult<MarketStatus> {
    let status = MarketStatus::from_db(&m.status);
    if matches!(status, MarketStatus::Closed | MarketStatus::Cancelled) {
        return Err(AppError::Conflict(format!(
            "le marché {} est {status} : il ne se modifie plus (market is {status})",
            m.reference
        )));
    }
    Ok(status)
}

/// Whether an awardee is on every lot from now on (the award checked it).
fn awarded(status: MarketStatus) -> bool {
    matches!(
        status,
        MarketStatus::Awarded | MarketStatus::InProgress | MarketStatus::Completed
    )
}

/// Refuses new dates that would leave hours or contracts of the market outside them: an hour
/// line whose whole period is before the start or after the end, a live contract that ends
/// before the start or starts after the end (a contract may start before the market, as at
/// its creation). Names them.
async fn check_inside<C: ConnectionTrait>(
    conn: &C,
    m: &market::Model,
    start: NaiveDate,
    end: NaiveDate,
) -> AppResult<()> {
    let entries = |c: Condition| {
        hour_entry::Entity::find()
            .filter(hour_entry::Column::MarketId.eq(m.id))
            .filter(c)
            .order_by_asc(hour_entry::Column::PeriodStart)
    };
    let placements = |c: Condition| {
        placement::Entity::find()
            .filter(placement::Column::MarketId.eq(m.id))
            .filter(placement::Column::Status.ne(PlacementStatus::Cancelled.as_str()))
            .filter(c)
            .order_by_asc(placement::Column::Reference)
    };
    let sides = [
        (
            "startDate",
            format!("avant le {start}"),
            Condition::all().add(hour_entry::Column::PeriodEnd.lt(start)),
            Condition::all().add(placement::Column::EndDate.lt(start)),
        ),
        (
            "endDate",
            format!("après le {end}"),
            Condition::all().add(hour_entry::Column::PeriodStart.gt(end)),
            Condition::all().add(placement::Column::StartDate.gt(end)),
        ),
    ];
    for (field, when, hours_c, placements_c) in sides {
        let n_hours = entries(hours_c.clone()).count(conn).await?;
        let first = entries(hours_c).one(conn).await?;
        let refs: Vec<String> = placements(placements_c)
            .all(conn)
            .await?
            .into_iter()
            .map(|p| p.reference)
            .collect();
        let mut named = Vec::new();
        if !refs.is_empty() {
            let shown: Vec<&str> = refs.iter().take(5).map(String::as_str).collect();
            let more = if refs.len() > 5 { ", …" } else { "" };
            named.push(format!(
                "{} contrat(s) ({}{more})",
                refs.len(),
                shown.join(", ")
            ));
        }
        if let Some(e) = first {
            named.push(format!(
                "{n_hours} ligne(s) d'heures (dont la période du {} au {})",
                e.period_start, e.period_end
            ));
        }
        if !named.is_empty() {
            return Err(AppError::bad_input(
                field,
                format!(
                    "{field} : le marché {} irait du {start} au {end}, mais {} tomberai(en)t {when} ; corriger d'abord ces contrats ou ces heures (hours or contracts outside the new dates)",
                    m.reference,
                    named.join(" et ")
                ),
            ));
        }
    }
    Ok(())
}

/// Corrects a market: reference, title, clause, ANRU category, amount, dates (the deadlines
/// follow), and the buyer while it is a draft; refused once it is closed or cancelled.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateMarketInput,
) -> AppResult<market::Model> {
    let market_id = ids::decode(Kind::Market, &input.market_id, "marketId")?;
    let buyer_arg = ids::decode_opt(Kind::Organization, input.buyer_id.as_ref(), "buyerId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let m = load_for_write(conn, actor, market_id, false).await?;
    super::edit::expect_version(conn, actor, Kind::Market, m.id, m.version, input.version).await?;
    let status = still_editable(&m)?;
    let reference = match &input.reference {
        Some(r) => text::required("reference", r)?,
        None => m.reference.clone(),
    };
    let title = match &input.title {
        Some(t) => text::required("title", t)?,
        None => m.title.clone(),
    };
    let amount = match input.amount_cents {
        Some(c) => check_amount("amountCents", c)?,
        None => m.amount_cents,
    };
    let start = input.start_date.unwrap_or(m.start_date);
    let end = input.end_date.unwrap_or(m.end_date);
    let notification = match input.notification_date {
        MaybeUndefined::Undefined => m.notification_date,
        other => other.take(),
    };
    check_dates(start, end, notification)?;
    let buyer_id = buyer_arg.unwrap_or(m.buyer_id);
    let buyer = if buyer_id == m.buyer_id {
        get::<entity::organization::Entity, _>(conn, buyer_id, "organisation").await?
    } else {
        if status != MarketStatus::Draft {
            return Err(AppError::Conflict(format!(
                "buyerId : l'acheteur ne change que tant que le marché est DRAFT ; le marché {} est {status} (buyer is fixed once published)",
                m.reference
            )));
        }
        expect_kind_in_scope(conn, actor, buyer_id, "buyerId", &[OrganizationKind::Buyer]).await?
    };
    if buyer_id != m.buyer_id || reference != m.reference {
        reference_free(conn, &buyer, &reference, Some(m.id)).await?;
    }
    if (start, end) != (m.start_date, m.end_date) {
        check_inside(conn, &m, start, end).await?;
    }
    // The calibrage proposal follows the amount; so does a target that is the proposal.
    let proposed = match (
        amount != m.amount_cents,
        m.calib_labour_share_bp,
        m.calib_insertion_rate_bp,
        m.calib_hourly_cost_cents,
    ) {
        (true, Some(labour), Some(rate), Some(cost)) => {
            Some(calibration::propose(CalibrationInput {
                amount_cents: amount,
                labour_share_bp: labour,
                insertion_rate_bp: rate,
                hourly_cost_cents: cost,
            })?)
        }
        _ => None,
    };
    let target_is_proposal =
        m.target_source.as_deref().and_then(TargetSource::parse) == Some(TargetSource::Proposal);
    let before = audit::json(&m);
    let mut am = m.into_active_model();
    am.search_text = Set(text::search_key(&[&reference, &title]));
    am.reference = Set(reference);
    am.title = Set(title);
    if let Some(kind) = input.clause_kind {
        am.clause_kind = Set(kind.as_str().to_string());
    }
    if !input.anru_category.is_undefined() {
        am.anru_category = Set(input.anru_category.take().map(|c| c.as_str().to_string()));
    }
    am.amount_cents = Set(amount);
    am.notification_date = Set(notification);
    am.start_date = Set(start);
    am.end_date = Set(end);
    am.buyer_id = Set(buyer_id);
    if let Some(p) = proposed {
        am.calib_proposed_minutes = Set(Some(p));
        if target_is_proposal {
            am.target_minutes = Set(Some(p));
        }
    }
    am.updated_at = Set(ctx.clock.now());
    let row = am.update(conn).await?;
    deadlines::sync(conn, ctx, SubjectRef::Market(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateMarket",
        Kind::Market,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A lot the actor may change, with its market: the market locked first (as every path that
/// changes a market's lots), then the lot, read again under the lock.
async fn lot_for_write<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    lot_id: Uuid,
) -> AppResult<(market::Model, lot::Model)> {
    let seen =
        scope::load::<lot::Entity, _>(conn, scope::lots(actor)?, lot::Column::Id, lot_id, "lot")
            .await?;
    let market = load_for_write(conn, actor, seen.market_id, false).await?;
    let lot = lot::Entity::find_by_id(lot_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("lot".into()))?;
    Ok((market, lot))
}

/// Corrects a lot: title, awardee, amount, own target; refused once its market is closed or
/// cancelled, and an awarded market's lot keeps an awardee.
pub async fn update_lot(ctx: &Ctx, actor: &Actor, input: UpdateLotInput) -> AppResult<lot::Model> {
    let lot_id = ids::decode(Kind::Lot, &input.lot_id, "lotId")?;
    let title = input
        .title
        .as_deref()
        .map(|t| text::required("title", t))
        .transpose()?;
    let awardee = match &input.awardee_id {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => Some(Some(ids::decode(Kind::Organization, id, "awardeeId")?)),
    };
    let amount = match input.amount_cents {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(c) => Some(Some(check_amount("amountCents", c)?)),
    };
    let target = match input.target_hours.as_opt_deref() {
        None => None,
        Some(raw) => Some(optional_hours("targetHours", raw)?),
    };
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (market, lot) = lot_for_write(conn, actor, lot_id).await?;
    super::edit::expect_version(conn, actor, Kind::Lot, lot.id, lot.version, input.version).await?;
    let status = still_editable(&market)?;
    match awardee {
        Some(None) if lot.awardee_id.is_some() && awarded(status) => {
            return Err(AppError::Conflict(format!(
                "awardeeId : le marché {} est {status} : chaque lot garde un titulaire ; en désigner un autre plutôt (an awarded market keeps an awardee on every lot)",
                market.reference
            )));
        }
        Some(Some(a)) if lot.awardee_id != Some(a) => {
            expect_kind_in_scope(conn, actor, a, "awardeeId", AWARDEE_KINDS).await?;
        }
        _ => {}
    }
    let before = audit::json(&lot);
    let mut am = lot.into_active_model();
    if let Some(t) = title {
        am.title = Set(t);
    }
    if let Some(a) = awardee {
        am.awardee_id = Set(a);
    }
    if let Some(a) = amount {
        am.amount_cents = Set(a);
    }
    if let Some(t) = target {
        am.target_minutes = Set(t);
    }
    let lot = am.update(conn).await?;
    // The lot's title and awardee are in its statements' deadlines.
    deadlines::sync(conn, ctx, SubjectRef::Market(market.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateLot",
        Kind::Lot,
        lot.id,
        Some(market.territory_id),
        Some(&before),
        Some(&audit::json(&lot)),
    )
    .await?;
    txn.commit().await?;
    Ok(lot)
}

/// Deletes a market nothing depends on yet (no contract, hours, chantier, commission, final
/// report, parameter of its own, reminder sent); its lots, deadlines and unsent reminders go
/// with it. Its life-cycle history stays (append-only), like its audit trail.
pub async fn delete(ctx: &Ctx, actor: &Actor, id: &ID, version: i32) -> AppResult<ID> {
    let market_id = ids::decode(Kind::Market, id, "id")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let m = load_for_write(conn, actor, market_id, false).await?;
    super::edit::expect_version(conn, actor, Kind::Market, m.id, m.version, version).await?;
    macro_rules! count {
        ($e:ident) => {
            $e::Entity::find()
                .filter($e::Column::MarketId.eq(m.id))
                .count(conn)
                .await?
        };
    }
    let params = super::params::values_of(conn, ParamLevel::Market, m.id).await?;
    let sent = deadlines::reminders_sent(conn, deadlines::of_market(m.id)).await?;
    super::edit::nothing_depends(
        &format!("le marché {}", m.reference),
        &[
            ("contrat(s)", count!(placement)),
            ("ligne(s) d'heures", count!(hour_entry)),
            ("chantier(s)", count!(chantier)),
            ("commission(s)", count!(commission)),
            ("bilan(s) final(aux)", count!(market_final_report)),
            ("valeur(s) de paramètre propre(s)", params),
            ("rappel(s) déjà envoyé(s)", sent),
        ],
    )?;
    let lots = lot::Entity::find()
        .filter(lot::Column::MarketId.eq(m.id))
        .order_by_asc(lot::Column::Number)
        .all(conn)
        .await?;
    let before = serde_json::json!({
        "market": audit::json(&m),
        "lots": lots.iter().map(audit::json).collect::<Vec<_>>(),
    });
    let territory = m.territory_id;
    deadlines::delete_where(conn, deadlines::of_market(m.id)).await?;
    lot::Entity::delete_many()
        .filter(lot::Column::MarketId.eq(m.id))
        .exec(conn)
        .await?;
    m.delete(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "deleteMarket",
        Kind::Market,
        market_id,
        Some(territory),
        Some(&before),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Market, market_id))
}

/// Deletes a lot nothing depends on yet (no contract, hours, reminder sent), with its
/// deadlines; refused once its market is closed or cancelled, and for the only lot of an
/// awarded market.
pub async fn delete_lot(ctx: &Ctx, actor: &Actor, id: &ID, version: i32) -> AppResult<ID> {
    let lot_id = ids::decode(Kind::Lot, id, "id")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (market, lot) = lot_for_write(conn, actor, lot_id).await?;
    super::edit::expect_version(conn, actor, Kind::Lot, lot.id, lot.version, version).await?;
    let status = still_editable(&market)?;
    macro_rules! count {
        ($e:ident) => {
            $e::Entity::find()
                .filter($e::Column::LotId.eq(lot.id))
                .count(conn)
                .await?
        };
    }
    let sent = deadlines::reminders_sent(conn, deadlines::of_lot(market.id, lot.id)).await?;
    super::edit::nothing_depends(
        &format!("le lot {} du marché {}", lot.number, market.reference),
        &[
            ("contrat(s)", count!(placement)),
            ("ligne(s) d'heures", count!(hour_entry)),
            ("rappel(s) déjà envoyé(s)", sent),
        ],
    )?;
    if awarded(status) {
        let others = lot::Entity::find()
            .filter(lot::Column::MarketId.eq(market.id))
            .filter(lot::Column::Id.ne(lot.id))
            .count(conn)
            .await?;
        if others == 0 {
            return Err(AppError::Conflict(format!(
                "le lot {} est le seul du marché {}, qui est {status} : un marché attribué garde au moins un lot (an awarded market keeps a lot)",
                lot.number, market.reference
            )));
        }
    }
    let before = audit::json(&lot);
    deadlines::delete_where(conn, deadlines::of_lot(market.id, lot.id)).await?;
    lot.delete(conn).await?;
    deadlines::sync(conn, ctx, SubjectRef::Market(market.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "deleteLot",
        Kind::Lot,
        lot_id,
        Some(market.territory_id),
        Some(&before),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Lot, lot_id))
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
