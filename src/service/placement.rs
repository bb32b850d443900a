//! Placements: one participant on one market (or lot) through one modality and employer.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{chantier, chantier_supervisor, lot, market, participant, placement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::params::{Place, set_at};
use super::{Ctx, audit, get, organization::expect_kind};
use crate::domain::auth::Actor;
use crate::domain::contract::{
    CddiCase, Span, WeeklyLoad, check_cddi, check_supervision, check_weekly_total,
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
    let weekly = hours::parse_hours("weeklyHours", &input.weekly_hours)?;
    let weekly = i32::try_from(weekly)
        .map_err(|_| AppError::bad_input("weeklyHours", "weeklyHours : valeur hors limites"))?;
    rules::check_weekly_minutes(weekly)?;
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
    if let Some(market) = &site.market
        && input.start_date > market.end_date
    {
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
    if input.contract_type == ContractType::Cddi
        && OrganizationKind::from_db(&employer.kind) != OrganizationKind::Siae
    {
        return Err(AppError::bad_input(
            "contractType",
            "contractType : un CDDI est un contrat de structure d'insertion (employer is not an SIAE)",
        ));
    }
    check_contract(
        &txn.txn,
        &site,
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
