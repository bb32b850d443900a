//! Placements: one participant on one market (or lot) through one modality and employer.

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{
    chantier, chantier_supervisor, convention, exit_follow_up, hour_entry, immersion, lot, market,
    participant, placement, placement_exit,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::params::{Place, set_at};
use super::{Ctx, audit, get, organization::expect_kind};
use crate::domain::RuleViolation;
use crate::domain::auth::Actor;
use crate::domain::contract::{
    CddiCase, Span, WeeklyLoad, check_cddi, check_immersion, check_supervision, check_weekly_total,
};
use crate::domain::dates::days_inclusive;
use crate::domain::placement as rules;
use crate::domain::{
    CddiDerogation, ContractType, MarketStatus, Modality, OrganizationKind, PlacementStatus,
    Public, SiaeSubtype, hours,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct CreatePlacementInput {
    pub participant_id: ID,
    /// The market worked on; for a chantier, its market by default. One of marketId, chantierId.
    pub market_id: Option<ID>,
    /// A lot of that market, when the market has lots.
    pub lot_id: Option<ID>,
    /// The chantier worked on (supervision ratio and capacity apply).
    pub chantier_id: Option<ID>,
    pub modality: Modality,
    pub employer_id: ID,
    pub contract_type: ContractType,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// Weekly hours, e.g. "35" or "26:30".
    pub weekly_hours: String,
    /// Why a CDDI may go beyond its usual cap.
    pub derogation: Option<CddiDerogation>,
    /// End of the training a CDDI is extended to finish.
    pub training_end_date: Option<NaiveDate>,
    /// Only proposed (PROPOSED): it becomes ACTIVE through `transition` once signed, and the
    /// contract rules are checked again then.
    #[graphql(default)]
    pub proposed: bool,
}

#[derive(Debug, Default, InputObject)]
pub struct PlacementFilter {
    pub market_id: Option<ID>,
    pub chantier_id: Option<ID>,
    pub participant_id: Option<ID>,
    pub status: Option<PlacementStatus>,
}

/// Where a placement works: its market and/or chantier, and so its territory.
pub struct Site {
    pub territory: Uuid,
    pub market: Option<market::Model>,
    pub chantier: Option<chantier::Model>,
}

impl Site {
    pub fn place(&self) -> Place {
        match (&self.market, &self.chantier) {
            (Some(m), _) => Place::of_market(m),
            (None, Some(c)) => super::chantier::place(c),
            (None, None) => Place::territory(self.territory),
        }
    }

    /// Closed and cancelled markets take no more work.
    pub fn check_accepts_work(&self) -> AppResult<()> {
        if let Some(m) = &self.market {
            let status = MarketStatus::from_db(&m.status);
            if !rules::market_accepts_work(status) {
                return Err(AppError::Conflict(format!(
                    "marketId : le marché {} est {status} ; il ne reçoit plus de travail (market is {status})",
                    m.reference
                )));
            }
        }
        Ok(())
    }
}

/// The site of an existing placement.
pub async fn site_of<C: ConnectionTrait>(conn: &C, p: &placement::Model) -> AppResult<Site> {
    let market = match p.market_id {
        Some(id) => Some(get::<market::Entity, _>(conn, id, "marché").await?),
        None => None,
    };
    let chantier = match p.chantier_id {
        Some(id) => Some(get::<chantier::Entity, _>(conn, id, "chantier").await?),
        None => None,
    };
    let territory = market
        .as_ref()
        .map(|m| m.territory_id)
        .or(chantier.as_ref().map(|c| c.territory_id))
        .ok_or_else(|| AppError::Internal(format!("placement {} has no site", p.id)))?;
    Ok(Site {
        territory,
        market,
        chantier,
    })
}

/// The site read again under lock, once the person is locked: the chantier exclusively (its
/// capacity and supervision count its placements, as at creation), the market shared (its
/// dates and state hold until this edit commits).
pub(super) async fn lock_site<C: ConnectionTrait>(
    conn: &C,
    p: &placement::Model,
) -> AppResult<Site> {
    let market = match p.market_id {
        Some(id) => Some(
            market::Entity::find_by_id(id)
                .lock_shared()
                .one(conn)
                .await?
                .ok_or_else(|| AppError::NotFound("marché".into()))?,
        ),
        None => None,
    };
    let chantier = match p.chantier_id {
        Some(id) => Some(
            chantier::Entity::find_by_id(id)
                .lock_exclusive()
                .one(conn)
                .await?
                .ok_or_else(|| AppError::NotFound("chantier".into()))?,
        ),
        None => None,
    };
    let territory = market
        .as_ref()
        .map(|m| m.territory_id)
        .or(chantier.as_ref().map(|c| c.territory_id))
        .ok_or_else(|| AppError::Internal(format!("placement {} has no site", p.id)))?;
    Ok(Site {
        territory,
        market,
        chantier,
    })
}

/// What the contract rules of a new or extended placement need to look at.
pub struct Planned<'a> {
    pub id: Option<Uuid>,
    pub participant: &'a participant::Model,
    pub employer: Uuid,
    pub contract: ContractType,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub weekly_minutes: i64,
    pub derogation: Option<CddiDerogation>,
    pub training_end: Option<NaiveDate>,
}

/// Locks a person's row for this transaction (PostgreSQL; SQLite writes are serial): the
/// contract rules read every placement of the person (48 h a week, CDDI caps), so creating,
/// extending or activating one placement waits for any other on the same person.
pub async fn lock_participant<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<participant::Model> {
    participant::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("participant".into()))
}

fn span(p: &placement::Model) -> Span {
    (p.start_date, p.end_date)
}

/// CDDI rules, one person's weekly total and a chantier's supervision, on the rows as they are.
pub async fn check_contract<C: ConnectionTrait>(
    conn: &C,
    site: &Site,
    plan: &Planned<'_>,
) -> AppResult<()> {
    let params = set_at(conn, site.place(), plan.start).await?;
    let live = |q: sea_orm::Select<placement::Entity>| {
        let q = q.filter(placement::Column::Status.ne(PlacementStatus::Cancelled.as_str()));
        match plan.id {
            Some(id) => q.filter(placement::Column::Id.ne(id)),
            None => q,
        }
    };
    let theirs = live(placement::Entity::find())
        .filter(placement::Column::ParticipantId.eq(plan.participant.id))
        .all(conn)
        .await?;
    if plan.contract == ContractType::Cddi {
        let iae = super::eligibility::iae_valid_on(conn, plan.participant.id, plan.start).await?;
        let pass = super::eligibility::pass_on(conn, plan.participant.id, plan.start).await?;
        if iae.is_none() && pass.is_none() {
            return Err(AppError::bad_input(
                "participantId",
                format!(
                    "participantId : un CDDI demande une éligibilité IAE valable ou un PASS IAE le {} (no IAE eligibility on that day)",
                    plan.start
                ),
            ));
        }
        let cddi_here = theirs.iter().filter(|p| {
            p.contract_type == ContractType::Cddi.as_str() && p.employer_id == plan.employer
        });
        let prior_days = cddi_here
            .clone()
            .filter(|p| p.start_date < plan.start)
            .map(|p| {
                days_inclusive(
                    p.start_date,
                    p.end_date
                        .unwrap_or(p.start_date)
                        .min(plan.start.pred_opt().unwrap_or(plan.start)),
                )
            })
            .sum();
        // Later ones count too, or the order contracts are entered in would decide the cap.
        let later_days = cddi_here
            .filter(|p| p.start_date > plan.start)
            .map(|p| days_inclusive(p.start_date, p.end_date.unwrap_or(p.start_date)))
            .sum();
        let disabled_worker = super::participant::decode_publics(&plan.participant.publics)
            .contains(&Public::DisabledWorker);
        check_cddi(
            &CddiCase {
                start: plan.start,
                end: plan.end,
                weekly_minutes: plan.weekly_minutes,
                prior_days,
                later_days,
                birth_date: plan.participant.birth_date,
                disabled_worker,
                derogation: plan.derogation,
                training_end: plan.training_end,
            },
            &params,
        )?;
    }
    let others: Vec<WeeklyLoad> = theirs
        .iter()
        .map(|p| WeeklyLoad {
            span: span(p),
            minutes: i64::from(p.weekly_minutes),
        })
        .collect();
    check_weekly_total(
        WeeklyLoad {
            span: (plan.start, plan.end),
            minutes: plan.weekly_minutes,
        },
        &others,
        &params,
    )?;
    if let Some(c) = &site.chantier {
        if plan.start < c.start_date || plan.start > c.end_date {
            return Err(AppError::bad_input(
                "startDate",
                format!(
                    "startDate : le chantier court du {} au {} (outside the chantier)",
                    c.start_date, c.end_date
                ),
            ));
        }
        let on_site: Vec<Span> = live(placement::Entity::find())
            .filter(placement::Column::ChantierId.eq(c.id))
            .all(conn)
            .await?
            .iter()
            .map(span)
            .collect();
        let staff: Vec<Span> = chantier_supervisor::Entity::find()
            .filter(chantier_supervisor::Column::ChantierId.eq(c.id))
            .all(conn)
            .await?
            .iter()
            .map(|s| (s.start_date, s.end_date))
            .collect();
        // Bounded by the chantier's end when the contract is open-ended.
        let end = Some(plan.end.unwrap_or(c.end_date).min(c.end_date));
        check_supervision(
            (plan.start, end),
            &on_site,
            &staff,
            i64::from(c.capacity),
            &params,
        )?;
    }
    Ok(())
}

/// Weekly hours as typed ("35", "26:30"), in minutes, within the one-placement bounds.
fn parse_weekly(raw: &str) -> AppResult<i32> {
    let weekly = hours::parse_hours("weeklyHours", raw)?;
    let weekly = i32::try_from(weekly)
        .map_err(|_| AppError::bad_input("weeklyHours", "weeklyHours : valeur hors limites"))?;
    rules::check_weekly_minutes(weekly)?;
    Ok(weekly)
}

/// Every rule on a contract's terms, for a new placement and an edited one alike: dates, weekly
/// hours, the start inside the market, the employer for the modality (an SIAE for a CDDI), then
/// the rules across the person's placements (`check_contract`). The caller holds the person's
/// row lock (`lock_participant`) so that no other write on the person's contracts interleaves.
pub async fn check_terms<C: ConnectionTrait>(
    conn: &C,
    site: &Site,
    modality: Modality,
    plan: &Planned<'_>,
) -> AppResult<()> {
    rules::check_dates(plan.start, plan.end)?;
    let weekly = i32::try_from(plan.weekly_minutes)
        .map_err(|_| AppError::bad_input("weeklyHours", "weeklyHours : valeur hors limites"))?;
    rules::check_weekly_minutes(weekly)?;
    if let Some(market) = &site.market
        && plan.start > market.end_date
    {
        return Err(AppError::bad_input(
            "startDate",
            format!(
                "startDate : {} est après la fin du marché ({}) (after the market ends)",
                plan.start, market.end_date
            ),
        ));
    }
    let employer = expect_kind(
        conn,
        plan.employer,
        "employerId",
        &[OrganizationKind::Company, OrganizationKind::Siae],
    )
    .await?;
    let kind = OrganizationKind::from_db(&employer.kind);
    let subtype = employer
        .siae_subtype
        .as_deref()
        .and_then(SiaeSubtype::parse);
    rules::check_employer(modality, kind, subtype)?;
    if plan.contract == ContractType::Cddi && kind != OrganizationKind::Siae {
        return Err(AppError::bad_input(
            "contractType",
            "contractType : un CDDI est un contrat de structure d'insertion (employer is not an SIAE)",
        ));
    }
    check_contract(conn, site, plan).await
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreatePlacementInput,
) -> AppResult<placement::Model> {
    let participant_id = ids::decode(Kind::Participant, &input.participant_id, "participantId")?;
    let market_id = ids::decode_opt(Kind::Market, input.market_id.as_ref(), "marketId")?;
    let chantier_id = ids::decode_opt(Kind::Chantier, input.chantier_id.as_ref(), "chantierId")?;
    let lot_id = ids::decode_opt(Kind::Lot, input.lot_id.as_ref(), "lotId")?;
    let employer_id = ids::decode(Kind::Organization, &input.employer_id, "employerId")?;
    rules::check_dates(input.start_date, input.end_date)?;
    let weekly = parse_weekly(&input.weekly_hours)?;
    if market_id.is_none() && chantier_id.is_none() {
        return Err(AppError::bad_input(
            "marketId",
            "marketId / chantierId : sur quel marché ou quel chantier ? (give one)",
        ));
    }

    let txn = ctx.db.begin_write().await?;
    // First, before the chantier: the contract rules span the person's placements.
    let participant = lock_participant(&txn.txn, participant_id).await?;
    let chantier = match chantier_id {
        // Taken for update: the supervision ratio counts the chantier's placements.
        Some(id) => Some(super::chantier::load(&txn.txn, actor, id, true).await?),
        None => None,
    };
    let market_id = market_id.or(chantier.as_ref().and_then(|c| c.market_id));
    let market = match market_id {
        Some(id) => Some(get::<market::Entity, _>(&txn.txn, id, "marché").await?),
        None => None,
    };
    if let (Some(c), Some(m)) = (&chantier, &market)
        && c.market_id.is_some_and(|cm| cm != m.id)
    {
        return Err(AppError::bad_input(
            "marketId",
            "marketId : le chantier relève d'un autre marché",
        ));
    }
    let territory = market
        .as_ref()
        .map(|m| m.territory_id)
        .or(chantier.as_ref().map(|c| c.territory_id))
        .expect("one site");
    if !actor.facilitates(territory) || !actor.facilitates(participant.territory_id) {
        // Out of scope looks like missing, as everywhere.
        return Err(AppError::NotFound("marché ou participant".into()));
    }
    let site = Site {
        territory,
        market,
        chantier,
    };
    site.check_accepts_work()?;
    if participant.territory_id != territory {
        return Err(AppError::bad_input(
            "participantId",
            "participantId : le participant et le marché ne sont pas sur le même territoire",
        ));
    }
    if let Some(lot_id) = lot_id {
        let lot = get::<lot::Entity, _>(&txn.txn, lot_id, "lot").await?;
        if Some(lot.market_id) != market_id {
            return Err(AppError::bad_input(
                "lotId",
                "lotId : ce lot n'appartient pas à ce marché (lot of another market)",
            ));
        }
    }
    check_terms(
        &txn.txn,
        &site,
        input.modality,
        &Planned {
            id: None,
            participant: &participant,
            employer: employer_id,
            contract: input.contract_type,
            start: input.start_date,
            end: input.end_date,
            weekly_minutes: i64::from(weekly),
            derogation: input.derogation,
            training_end: input.training_end_date,
        },
    )
    .await?;
    let id = ctx.clock.new_id();
    let row = placement::ActiveModel {
        version: Set(1),
        id: Set(id),
        reference: Set(placement::reference_for(id)),
        participant_id: Set(participant_id),
        market_id: Set(market_id),
        lot_id: Set(lot_id),
        modality: Set(input.modality.as_str().to_string()),
        employer_id: Set(employer_id),
        contract_type: Set(input.contract_type.as_str().to_string()),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        weekly_minutes: Set(weekly),
        status: Set(if input.proposed {
            PlacementStatus::Proposed
        } else {
            PlacementStatus::Active
        }
        .as_str()
        .to_string()),
        created_at: Set(ctx.clock.now()),
        chantier_id: Set(site.chantier.as_ref().map(|c| c.id)),
        derogation: Set(input.derogation.map(|d| d.as_str().to_string())),
        training_end_date: Set(input.training_end_date),
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
        Some(territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Placement(row.id),
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
    if let Some(c) = ids::decode_opt(
        Kind::Chantier,
        filter.chantier_id.as_ref(),
        "filter.chantierId",
    )? {
        select = select.filter(placement::Column::ChantierId.eq(c));
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

#[derive(Debug, InputObject)]
pub struct UpdatePlacementInput {
    pub placement_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    /// Weekly hours, e.g. "35" or "26:30".
    pub weekly_hours: Option<String>,
    pub start_date: Option<NaiveDate>,
    /// `null` makes the contract open-ended.
    pub end_date: MaybeUndefined<NaiveDate>,
    pub employer_id: Option<ID>,
    pub contract_type: Option<ContractType>,
    /// Why a CDDI may go beyond its usual cap; `null` removes it.
    pub derogation: MaybeUndefined<CddiDerogation>,
    /// End of the training a CDDI is extended to finish; `null` removes it.
    pub training_end_date: MaybeUndefined<NaiveDate>,
}

/// A placement a facilitator of its territory edits or deletes, locked, with its site; others
/// are refused (out of scope: NOT_FOUND, in scope but not facilitator: FORBIDDEN).
async fn for_update<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
    field: &'static str,
) -> AppResult<(placement::Model, Site)> {
    let id = ids::decode(Kind::Placement, id, field)?;
    let p = placement::Entity::find()
        .filter(super::scope::placements(actor)?)
        .filter(placement::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("mise en situation (placement)".into()))?;
    let site = site_of(conn, &p).await?;
    if !actor.facilitates(site.territory) {
        return Err(AppError::Forbidden);
    }
    Ok((p, site))
}

/// The months ("2026-02") of hours recorded on the placement before `start`, and after `end`.
async fn months_outside<C: ConnectionTrait>(
    conn: &C,
    placement_id: Uuid,
    (start, end): Span,
) -> AppResult<(Vec<String>, Vec<String>)> {
    let mut outside = sea_orm::Condition::any().add(hour_entry::Column::PeriodEnd.lt(start));
    if let Some(end) = end {
        outside = outside.add(hour_entry::Column::PeriodStart.gt(end));
    }
    let rows = hour_entry::Entity::find()
        .filter(hour_entry::Column::PlacementId.eq(placement_id))
        .filter(outside)
        .all(conn)
        .await?;
    let months = |before: bool| {
        let mut m: Vec<String> = rows
            .iter()
            .filter(|e| (e.period_end < start) == before)
            .map(|e| e.period_start.format("%Y-%m").to_string())
            .collect();
        m.sort();
        m.dedup();
        m
    };
    Ok((months(true), months(false)))
}

/// Re-derives the deadlines of every placement of the person (the CDDI cap counts from their
/// first CDDI with one employer, so an edit of one moves the others') and of the person.
pub(super) async fn sync_person<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    participant: Uuid,
) -> AppResult<()> {
    let theirs = placement::Entity::find()
        .filter(placement::Column::ParticipantId.eq(participant))
        .all(conn)
        .await?;
    for p in theirs {
        super::deadlines::sync(conn, ctx, super::deadlines::SubjectRef::Placement(p.id)).await?;
    }
    super::deadlines::sync(
        conn,
        ctx,
        super::deadlines::SubjectRef::Participant(participant),
    )
    .await
}

/// An optional field of an edit: absent keeps `old`, `null` clears it.
fn keep_or<T>(v: MaybeUndefined<T>, old: Option<T>) -> Option<T> {
    match v {
        MaybeUndefined::Undefined => old,
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(v) => Some(v),
    }
}

/// Corrects a contract's terms: every rule of `createPlacement` is checked again on the edited
/// contract, under the person's lock, and the deadlines follow.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdatePlacementInput,
) -> AppResult<placement::Model> {
    let weekly = input
        .weekly_hours
        .as_deref()
        .map(parse_weekly)
        .transpose()?;
    let employer = ids::decode_opt(Kind::Organization, input.employer_id.as_ref(), "employerId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (p, site) = for_update(conn, actor, &input.placement_id, "placementId").await?;
    super::edit::expect_version(conn, actor, Kind::Placement, p.id, p.version, input.version)
        .await?;
    let status = PlacementStatus::from_db(&p.status);
    if matches!(status, PlacementStatus::Ended | PlacementStatus::Cancelled) {
        return Err(AppError::Conflict(format!(
            "la mise en situation {} est {status} : son contrat ne se corrige plus (placement is {status})",
            p.reference
        )));
    }
    site.check_accepts_work()?;
    // Same order as every writer on a person's contracts: the placement, then the person.
    let person = lock_participant(conn, p.participant_id).await?;
    super::participant::not_anonymized(&person)?;
    let site = lock_site(conn, &p).await?;
    site.check_accepts_work()?;
    let start = input.start_date.unwrap_or(p.start_date);
    let end = keep_or(input.end_date, p.end_date);
    let contract = input
        .contract_type
        .unwrap_or_else(|| ContractType::from_db(&p.contract_type));
    let employer = employer.unwrap_or(p.employer_id);
    let weekly = weekly.unwrap_or(p.weekly_minutes);
    let derogation = keep_or(
        input.derogation,
        p.derogation.as_deref().and_then(CddiDerogation::parse),
    );
    let training_end = keep_or(input.training_end_date, p.training_end_date);
    check_terms(
        conn,
        &site,
        Modality::from_db(&p.modality),
        &Planned {
            id: Some(p.id),
            participant: &person,
            employer,
            contract,
            start,
            end,
            weekly_minutes: i64::from(weekly),
            derogation,
            training_end,
        },
    )
    .await?;
    let (before, after) = months_outside(conn, p.id, (start, end)).await?;
    for (field, months) in [("startDate", before), ("endDate", after)] {
        if !months.is_empty() {
            return Err(AppError::bad_input(
                field,
                format!(
                    "{field} : des heures sont enregistrées hors des nouvelles dates (mois {}) ; les corriger d'abord (hours recorded outside the new dates)",
                    months.join(", ")
                ),
            ));
        }
    }
    // Immersions stay inside the contract and within their share of it.
    let immersions: Vec<(NaiveDate, NaiveDate)> = immersion::Entity::find()
        .filter(immersion::Column::PlacementId.eq(p.id))
        .all(conn)
        .await?
        .iter()
        .map(|i| (i.start_date, i.end_date))
        .collect();
    if !immersions.is_empty() {
        let params = set_at(conn, site.place(), start).await?;
        for (i, one) in immersions.iter().enumerate() {
            let others: Vec<_> = immersions
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| *o)
                .collect();
            check_immersion((start, end), *one, &others, &params).map_err(|v| {
                // The rule speaks of the immersion's dates; the edit moved the contract's.
                let field = if end != p.end_date { "endDate" } else { "startDate" };
                AppError::from(RuleViolation {
                    field,
                    message: format!(
                        "{field} : l'immersion du {} au {} ne tiendrait plus dans le contrat : {} (immersion outside the edited contract)",
                        one.0, one.1, v.message
                    ),
                    breach: v.breach,
                })
            })?;
        }
    }
    let before = audit::json(&p);
    let mut am: placement::ActiveModel = p.clone().into();
    am.start_date = Set(start);
    am.end_date = Set(end);
    am.contract_type = Set(contract.as_str().to_string());
    am.employer_id = Set(employer);
    am.weekly_minutes = Set(weekly);
    am.derogation = Set(derogation.map(|d| d.as_str().to_string()));
    am.training_end_date = Set(training_end);
    let row = am.update(conn).await?;
    sync_person(conn, ctx, row.participant_id).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updatePlacement",
        Kind::Placement,
        row.id,
        Some(site.territory),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes a placement entered by mistake, while nothing depends on it: no hours, exit,
/// follow-up, immersion or convention. Its deadlines and their unsent reminders go with it.
pub async fn delete(ctx: &Ctx, actor: &Actor, id: &ID, version: i32) -> AppResult<ID> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (p, site) = for_update(conn, actor, id, "id").await?;
    super::edit::expect_version(conn, actor, Kind::Placement, p.id, p.version, version).await?;
    let hours = hour_entry::Entity::find()
        .filter(hour_entry::Column::PlacementId.eq(p.id))
        .count(conn)
        .await?;
    let exits = placement_exit::Entity::find()
        .filter(placement_exit::Column::PlacementId.eq(p.id))
        .count(conn)
        .await?;
    let follow_ups = exit_follow_up::Entity::find()
        .filter(exit_follow_up::Column::PlacementId.eq(p.id))
        .count(conn)
        .await?;
    let immersions = immersion::Entity::find()
        .filter(immersion::Column::PlacementId.eq(p.id))
        .count(conn)
        .await?;
    let conventions = convention::Entity::find()
        .filter(convention::Column::PlacementId.eq(p.id))
        .count(conn)
        .await?;
    super::edit::nothing_depends(
        &format!("la mise en situation {}", p.reference),
        &[
            ("ligne(s) d'heures", hours),
            ("sortie(s)", exits),
            ("suivi(s) à un an", follow_ups),
            ("immersion(s)", immersions),
            ("convention(s)", conventions),
        ],
    )?;
    // The person's row too: the contract rules of their other placements read this one.
    lock_participant(conn, p.participant_id).await?;
    super::deadlines::forget(conn, ctx, p.id).await?;
    placement::Entity::delete_by_id(p.id).exec(conn).await?;
    sync_person(conn, ctx, p.participant_id).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "deletePlacement",
        Kind::Placement,
        p.id,
        Some(site.territory),
        Some(&audit::json(&p)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Placement, p.id))
}
