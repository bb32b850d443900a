//! A participant's path through a placement: immersions, extension, exit and the situation a
//! year later, and the dynamic-exit rate (DOMAIN.md sections 2 and 4).

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{exit_follow_up, immersion, participant, placement, placement_exit};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::params::{Place, set_at};
use super::placement::{Planned, Site, check_contract, site_of};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::{Actor, Role};
use crate::domain::contract::check_immersion;
use crate::domain::exits::{self, ExitCounts};
use crate::domain::params::ParamSet;
use crate::domain::{CddiDerogation, ContractType, ExitOutcome, PlacementStatus, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// A placement the caller may act on (facilitator of its territory, or its employer), locked.
async fn placement_for_update<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
    employer_too: bool,
) -> AppResult<(placement::Model, Site)> {
    let id = ids::decode(Kind::Placement, id, "placementId")?;
    locked_placement(conn, actor, id, employer_too).await
}

/// [`placement_for_update`] by the placement's own id.
pub(super) async fn locked_placement<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    employer_too: bool,
) -> AppResult<(placement::Model, Site)> {
    let p = placement::Entity::find()
        .filter(scope::placements(actor)?)
        .filter(placement::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("mise en situation (placement)".into()))?;
    let site = site_of(conn, &p).await?;
    let employer = employer_too && actor.is(Role::Siae) && actor.of_org(Some(p.employer_id));
    if !(actor.facilitates(site.territory) || employer) {
        return Err(AppError::Forbidden);
    }
    Ok((p, site))
}

fn running(p: &placement::Model) -> AppResult<()> {
    match PlacementStatus::from_db(&p.status) {
        PlacementStatus::Active | PlacementStatus::Suspended | PlacementStatus::Proposed => Ok(()),
        s => Err(AppError::Conflict(format!(
            "la mise en situation est {s} : plus rien ne s'y ajoute (placement is {s})"
        ))),
    }
}

#[derive(Debug, InputObject)]
pub struct RecordImmersionInput {
    pub placement_id: ID,
    /// The host company or service (PMSMP).
    pub host_name: String,
    pub host_id: Option<ID>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

pub async fn record_immersion(
    ctx: &Ctx,
    actor: &Actor,
    input: RecordImmersionInput,
) -> AppResult<immersion::Model> {
    let host_name = text::required("hostName", &input.host_name)?;
    let host_id = ids::decode_opt(Kind::Organization, input.host_id.as_ref(), "hostId")?;
    let txn = ctx.db.begin_write().await?;
    let (p, site) = placement_for_update(&txn.txn, actor, &input.placement_id, true).await?;
    running(&p)?;
    if let Some(h) = host_id {
        get::<entity::organization::Entity, _>(&txn.txn, h, "organisation").await?;
    }
    let existing: Vec<(NaiveDate, NaiveDate)> = immersion::Entity::find()
        .filter(immersion::Column::PlacementId.eq(p.id))
        .all(&txn.txn)
        .await?
        .iter()
        .map(|i| (i.start_date, i.end_date))
        .collect();
    let params = set_at(&txn.txn, site.place(), input.start_date).await?;
    check_immersion(
        (p.start_date, p.end_date),
        (input.start_date, input.end_date),
        &existing,
        &params,
    )?;
    let row = immersion::ActiveModel {
        id: Set(ctx.clock.new_id()),
        placement_id: Set(p.id),
        host_name: Set(host_name),
        host_id: Set(host_id),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "recordImmersion",
        Kind::Immersion,
        row.id,
        Some(site.territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Placement(row.placement_id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Debug, InputObject)]
pub struct ExtendPlacementInput {
    pub placement_id: ID,
    pub end_date: NaiveDate,
    pub reason: String,
    /// Why a CDDI may go beyond its usual cap.
    pub derogation: Option<CddiDerogation>,
    pub training_end_date: Option<NaiveDate>,
}

/// Moves a placement's end (renewal of a contract); every contract rule is checked again.
pub async fn extend(
    ctx: &Ctx,
    actor: &Actor,
    input: ExtendPlacementInput,
) -> AppResult<placement::Model> {
    let reason = text::required("reason", &input.reason)?;
    let txn = ctx.db.begin_write().await?;
    let (p, site) = placement_for_update(&txn.txn, actor, &input.placement_id, false).await?;
    running(&p)?;
    site.check_accepts_work()?;
    if p.end_date.is_some_and(|e| input.end_date <= e) || input.end_date < p.start_date {
        return Err(AppError::bad_input(
            "endDate",
            format!(
                "endDate : une prolongation va au-delà de la fin actuelle ({}) (not later)",
                p.end_date.map_or("—".into(), |d| d.to_string())
            ),
        ));
    }
    let person = super::placement::lock_participant(&txn.txn, p.participant_id).await?;
    let derogation = input
        .derogation
        .or(p.derogation.as_deref().and_then(CddiDerogation::parse));
    let training_end = input.training_end_date.or(p.training_end_date);
    check_contract(
        &txn.txn,
        &site,
        &Planned {
            id: Some(p.id),
            participant: &person,
            employer: p.employer_id,
            contract: ContractType::from_db(&p.contract_type),
            start: p.start_date,
            end: Some(input.end_date),
            weekly_minutes: i64::from(p.weekly_minutes),
            derogation,
            training_end,
        },
    )
    .await?;
    let mut active: placement::ActiveModel = p.clone().into();
    active.end_date = Set(Some(input.end_date));
    active.derogation = Set(derogation.map(|d| d.as_str().to_string()));
    active.training_end_date = Set(training_end);
    let row = active.update(&txn.txn).await?;
    let mut after = audit::json(&row);
    after["reason"] = reason.into();
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "extendPlacement",
        Kind::Placement,
        row.id,
        Some(site.territory),
        Some(&audit::json(&p)),
        Some(&after),
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

/// An exit falls between the placement's first day and today.
pub(super) fn check_exit_date(
    p: &placement::Model,
    exit: NaiveDate,
    today: NaiveDate,
) -> AppResult<()> {
    if exit < p.start_date || exit > today {
        return Err(AppError::bad_input(
            "exitDate",
            format!(
                "exitDate : entre le début ({}) et aujourd'hui ({today})",
                p.start_date
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, InputObject)]
pub struct EndPlacementInput {
    pub placement_id: ID,
    /// Last day of the path; hours after it are refused.
    pub exit_date: NaiveDate,
    pub outcome: ExitOutcome,
    /// E.g. the employer or the training hired into.
    pub detail: Option<String>,
    /// Required for OTHER_POSITIVE.
    pub justification: Option<String>,
}

/// Ends a placement with its exit (sortie), classified by the State's categories.
pub async fn end(
    ctx: &Ctx,
    actor: &Actor,
    input: EndPlacementInput,
) -> AppResult<placement_exit::Model> {
    exits::check_justification(input.outcome, input.justification.as_deref())?;
    let detail = text::optional("detail", input.detail.as_deref())?;
    let justification = text::optional("justification", input.justification.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let (p, site) = placement_for_update(&txn.txn, actor, &input.placement_id, true).await?;
    if PlacementStatus::from_db(&p.status) == PlacementStatus::Proposed {
        return Err(AppError::Conflict(
            "une mise en situation proposée s'annule, elle ne sort pas (cancel it instead)".into(),
        ));
    }
    running(&p)?;
    let today = super::territory::today(ctx, &txn.txn, site.territory).await?;
    check_exit_date(&p, input.exit_date, today)?;
    if p.end_date.is_some_and(|e| input.exit_date > e) {
        return Err(AppError::bad_input(
            "exitDate",
            format!(
                "exitDate : après la fin du contrat ({}) ; le prolonger d'abord",
                p.end_date.unwrap_or(today)
            ),
        ));
    }
    let row = placement_exit::ActiveModel {
        id: Set(ctx.clock.new_id()),
        placement_id: Set(p.id),
        exit_date: Set(input.exit_date),
        outcome: Set(input.outcome.as_str().to_string()),
        category: Set(exits::category(input.outcome).as_str().to_string()),
        detail: Set(detail),
        justification: Set(justification),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    let mut active: placement::ActiveModel = p.clone().into();
    active.status = Set(PlacementStatus::Ended.as_str().to_string());
    active.end_date = Set(Some(input.exit_date));
    let ended = active.update(&txn.txn).await?;
    // The exit is the guard of this move: it goes into the history like any other.
    super::workflow::record_move(
        &txn.txn,
        ctx,
        actor,
        Kind::Placement,
        p.id,
        &p.status,
        PlacementStatus::Ended.as_str(),
        Some(format!("sortie : {}", input.outcome)),
    )
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "endPlacement",
        Kind::Placement,
        p.id,
        Some(site.territory),
        Some(&audit::json(&p)),
        Some(&audit::json(&ended)),
    )
    .await?;
    super::deadlines::sync(&txn.txn, ctx, super::deadlines::SubjectRef::Placement(p.id)).await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Debug, InputObject)]
pub struct ExitFollowUpInput {
    pub placement_id: ID,
    pub observed_on: NaiveDate,
    pub outcome: ExitOutcome,
    pub detail: Option<String>,
}

/// The person's situation again, a year (parameter) after the exit.
pub async fn follow_up(
    ctx: &Ctx,
    actor: &Actor,
    input: ExitFollowUpInput,
) -> AppResult<exit_follow_up::Model> {
    let detail = text::optional("detail", input.detail.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let (p, site) = placement_for_update(&txn.txn, actor, &input.placement_id, true).await?;
    let exit = placement_exit::Entity::find()
        .filter(placement_exit::Column::PlacementId.eq(p.id))
        .one(&txn.txn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "la mise en situation n'a pas de sortie enregistrée (no exit yet)".into(),
            )
        })?;
    let today = super::territory::today(ctx, &txn.txn, site.territory).await?;
    let params = set_at(&txn.txn, site.place(), exit.exit_date).await?;
    exits::check_follow_up(exit.exit_date, input.observed_on, today, &params)?;
    let row = exit_follow_up::ActiveModel {
        id: Set(ctx.clock.new_id()),
        placement_id: Set(p.id),
        observed_on: Set(input.observed_on),
        outcome: Set(input.outcome.as_str().to_string()),
        category: Set(exits::category(input.outcome).as_str().to_string()),
        detail: Set(detail),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "recordExitFollowUp",
        Kind::Placement,
        p.id,
        Some(site.territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Debug, InputObject)]
pub struct ExitStatisticsInput {
    /// One of chantierId, marketId, territoryId.
    pub chantier_id: Option<ID>,
    pub market_id: Option<ID>,
    pub territory_id: Option<ID>,
    /// Exits from this day…
    pub from: NaiveDate,
    /// …to this one, included.
    pub to: NaiveDate,
}

/// Exits of a period, at exit and one year later, against the target in force at its end.
pub struct ExitStatistics {
    pub at_exit: ExitCounts,
    pub at_one_year: ExitCounts,
    /// Exits whose year has passed without a recorded situation.
    pub follow_ups_missing: i64,
    pub params: ParamSet,
}

pub async fn statistics(
    ctx: &Ctx,
    actor: &Actor,
    input: ExitStatisticsInput,
) -> AppResult<ExitStatistics> {
    if input.to < input.from {
        return Err(AppError::bad_input(
            "to",
            "to : la fin de la période précède son début",
        ));
    }
    let conn = &ctx.db.conn;
    super::exactly_one(
        &["chantierId", "marketId", "territoryId"],
        &[
            input.chantier_id.is_some(),
            input.market_id.is_some(),
            input.territory_id.is_some(),
        ],
    )?;
    let (cond, place): (Condition, Place) = if let Some(id) = &input.chantier_id {
        let c = super::chantier::load(
            conn,
            actor,
            ids::decode(Kind::Chantier, id, "chantierId")?,
            false,
        )
        .await?;
        (
            Condition::all().add(placement::Column::ChantierId.eq(c.id)),
            super::chantier::place(&c),
        )
    } else if let Some(id) = &input.market_id {
        let id = ids::decode(Kind::Market, id, "marketId")?;
        let m = scope::load::<entity::market::Entity, _>(
            conn,
            scope::markets(actor)?,
            entity::market::Column::Id,
            id,
            "marché",
        )
        .await?;
        (
            Condition::all().add(placement::Column::MarketId.eq(m.id)),
            Place::of_market(&m),
        )
    } else {
        let (_, t, place) =
            super::params::place_of(conn, actor, input.territory_id.as_ref(), None, None).await?;
        let people = Query::select()
            .column(participant::Column::Id)
            .from(participant::Entity)
            .and_where(participant::Column::TerritoryId.eq(t))
            .to_owned();
        (
            Condition::all().add(placement::Column::ParticipantId.in_subquery(people)),
            place,
        )
    };
    let placements = Query::select()
        .column(placement::Column::Id)
        .from(placement::Entity)
        .cond_where(cond)
        .to_owned();
    let exits = placement_exit::Entity::find()
        .filter(placement_exit::Column::PlacementId.in_subquery(placements))
        .filter(placement_exit::Column::ExitDate.gte(input.from))
        .filter(placement_exit::Column::ExitDate.lte(input.to))
        .all(conn)
        .await?;
    let follow_ups: std::collections::HashMap<Uuid, exit_follow_up::Model> =
        exit_follow_up::Entity::find()
            .filter(exit_follow_up::Column::PlacementId.is_in(exits.iter().map(|e| e.placement_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|f| (f.placement_id, f))
            .collect();
    let params = set_at(conn, place, input.to).await?;
    let today = super::territory::today(ctx, conn, place.territory).await?;
    let mut out = ExitStatistics {
        at_exit: ExitCounts::default(),
        at_one_year: ExitCounts::default(),
        follow_ups_missing: 0,
        params,
    };
    for exit in exits {
        out.at_exit.add(ExitOutcome::from_db(&exit.outcome));
        match follow_ups.get(&exit.placement_id) {
            Some(f) => out.at_one_year.add(ExitOutcome::from_db(&f.outcome)),
            None if exits::follow_up_due(exit.exit_date, &out.params) <= today => {
                out.follow_ups_missing += 1
            }
            None => {}
        }
    }
    Ok(out)
}
