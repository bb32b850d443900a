//! Correcting a path's records (issue 20): an exit, the situation a year later, an immersion.
//! They belong to their placement: each correction names the placement's version, locks the
//! placement, re-checks the rules of the record's creation on the corrected values, moves the
//! placement's version and keeps the reason in the audit trail.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{exit_follow_up, immersion, participant, placement, placement_exit};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::deadlines::{self, SubjectRef};
use super::params::set_at;
use super::path::{check_exit_date, locked_placement};
use super::placement::{Planned, Site, check_contract};
use super::{Ctx, audit, edit, get};
use crate::domain::auth::Actor;
use crate::domain::contract::check_immersion;
use crate::domain::{CddiDerogation, ContractType, ExitOutcome, exits, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct CorrectExitInput {
    pub placement_id: ID,
    /// The placement's version: an exit and its follow-up are versioned with their placement.
    pub version: i32,
    pub exit_date: Option<NaiveDate>,
    pub outcome: Option<ExitOutcome>,
    /// Absent: unchanged; empty: cleared.
    pub detail: Option<String>,
    /// Absent: unchanged; empty: cleared (required for OTHER_POSITIVE).
    pub justification: Option<String>,
    /// What was wrong (kept in the audit trail).
    pub reason: String,
}

#[derive(Debug, InputObject)]
pub struct CorrectFollowUpInput {
    pub placement_id: ID,
    /// The placement's version.
    pub version: i32,
    pub observed_on: Option<NaiveDate>,
    pub outcome: Option<ExitOutcome>,
    /// Absent: unchanged; empty: cleared.
    pub detail: Option<String>,
    pub reason: String,
}

#[derive(Debug, InputObject)]
pub struct UpdateImmersionInput {
    pub immersion_id: ID,
    /// The version of the immersion's placement.
    pub version: i32,
    pub host_name: Option<String>,
    pub host_id: Option<ID>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A corrected free text: absent keeps `old`, blank clears it.
fn corrected(
    field: &'static str,
    new: Option<&str>,
    old: Option<String>,
) -> AppResult<Option<String>> {
    match new {
        None => Ok(old),
        Some(v) => Ok(text::optional(field, Some(v))?),
    }
}

/// The placement of a correction, locked, at the version the caller read.
async fn placement_at<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> AppResult<(placement::Model, Site)> {
    let (p, site) = locked_placement(conn, actor, id, true).await?;
    edit::expect_version(conn, actor, Kind::Placement, p.id, p.version, version).await?;
    not_erased(conn, &p).await?;
    Ok((p, site))
}

/// Refuses a correction about a person whose file was erased.
async fn not_erased<C: ConnectionTrait>(conn: &C, p: &placement::Model) -> AppResult<()> {
    let person = get::<participant::Entity, _>(conn, p.participant_id, "participant").await?;
    super::participant::not_anonymized(&person)
}

/// Saves the placement so its version moves with the record corrected under it.
async fn touch<C: ConnectionTrait>(
    conn: &C,
    p: placement::Model,
    end: Option<NaiveDate>,
) -> AppResult<placement::Model> {
    let mut am: placement::ActiveModel = p.into();
    if let Some(end) = end {
        am.end_date = Set(Some(end));
    }
    Ok(am.update(conn).await?)
}

#[allow(clippy::too_many_arguments)]
async fn record<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    actor: &Actor,
    action: &str,
    site: &Site,
    p: &placement::Model,
    before: serde_json::Value,
    mut after: serde_json::Value,
    reason: Option<String>,
) -> AppResult<()> {
    if let Some(r) = reason {
        after["reason"] = r.into();
    }
    audit::record(
        ctx,
        conn,
        actor,
        action,
        Kind::Placement,
        p.id,
        Some(site.territory),
        Some(&before),
        Some(&after),
    )
    .await
}

/// Corrects the exit of an ended placement: its date (the placement's end moves with it, and
/// every contract rule is checked again on a later one), its outcome, detail and justification.
pub async fn correct_exit(
    ctx: &Ctx,
    actor: &Actor,
    input: CorrectExitInput,
) -> AppResult<placement_exit::Model> {
    let reason = text::required("reason", &input.reason)?;
    let id = ids::decode(Kind::Placement, &input.placement_id, "placementId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (p, site) = placement_at(conn, actor, id, input.version).await?;
    let exit = placement_exit::Entity::find()
        .filter(placement_exit::Column::PlacementId.eq(p.id))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "la mise en situation n'a pas de sortie enregistrée (no exit to correct)".into(),
            )
        })?;
    let date = input.exit_date.unwrap_or(exit.exit_date);
    let outcome = input
        .outcome
        .unwrap_or_else(|| ExitOutcome::from_db(&exit.outcome));
    let detail = corrected("detail", input.detail.as_deref(), exit.detail.clone())?;
    let justification = corrected(
        "justification",
        input.justification.as_deref(),
        exit.justification.clone(),
    )?;
    exits::check_justification(outcome, justification.as_deref())?;
    let today = super::territory::today(ctx, conn, site.territory).await?;
    check_exit_date(&p, date, today)?;
    if date > exit.exit_date {
        // A later exit lengthens the contract: its rules hold on the longer one.
        let person = super::placement::lock_participant(conn, p.participant_id).await?;
        let site = super::placement::lock_site(conn, &p).await?;
        check_contract(
            conn,
            &site,
            &Planned {
                id: Some(p.id),
                participant: &person,
                employer: p.employer_id,
                contract: ContractType::from_db(&p.contract_type),
                start: p.start_date,
                end: Some(date),
                weekly_minutes: i64::from(p.weekly_minutes),
                derogation: p.derogation.as_deref().and_then(CddiDerogation::parse),
                training_end: p.training_end_date,
            },
        )
        .await?;
    }
    let after_exit = super::ledger::months_with_hours_after(conn, p.id, date).await?;
    if let Some(first) = after_exit.first() {
        return Err(AppError::bad_input(
            "exitDate",
            format!(
                "exitDate : des heures sont enregistrées après le {date} (période du {first}) ; les corriger d'abord (hours recorded after the exit)",
            ),
        ));
    }
    if let Some(f) = exit_follow_up::Entity::find()
        .filter(exit_follow_up::Column::PlacementId.eq(p.id))
        .one(conn)
        .await?
    {
        let params = set_at(conn, site.place(), date).await?;
        if exits::check_follow_up(date, f.observed_on, today, &params).is_err() {
            return Err(AppError::bad_input(
                "exitDate",
                format!(
                    "exitDate : la situation à un an, observée le {}, ne serait plus un an après une sortie le {date} ; corriger d'abord la situation (follow-up would come too early)",
                    f.observed_on
                ),
            ));
        }
    }
    let before = audit::json(&exit);
    let mut am: placement_exit::ActiveModel = exit.into();
    am.exit_date = Set(date);
    am.outcome = Set(outcome.as_str().to_string());
    am.category = Set(exits::category(outcome).as_str().to_string());
    am.detail = Set(detail);
    am.justification = Set(justification);
    let row = am.update(conn).await?;
    let p = touch(conn, p, Some(date)).await?;
    record(
        ctx,
        conn,
        actor,
        "correctExit",
        &site,
        &p,
        before,
        audit::json(&row),
        Some(reason),
    )
    .await?;
    // The CDDI caps span the person's placements: their deadlines move with this end.
    super::placement::sync_person(conn, ctx, p.participant_id).await?;
    txn.commit().await?;
    Ok(row)
}

/// Corrects the situation observed a year after the exit.
pub async fn correct_follow_up(
    ctx: &Ctx,
    actor: &Actor,
    input: CorrectFollowUpInput,
) -> AppResult<exit_follow_up::Model> {
    let reason = text::required("reason", &input.reason)?;
    let id = ids::decode(Kind::Placement, &input.placement_id, "placementId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (p, site) = placement_at(conn, actor, id, input.version).await?;
    let missing = || {
        AppError::Conflict(
            "la mise en situation n'a pas de situation à un an enregistrée (no follow-up to correct)"
                .into(),
        )
    };
    let f = exit_follow_up::Entity::find()
        .filter(exit_follow_up::Column::PlacementId.eq(p.id))
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    let exit = placement_exit::Entity::find()
        .filter(placement_exit::Column::PlacementId.eq(p.id))
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    let observed = input.observed_on.unwrap_or(f.observed_on);
    let outcome = input
        .outcome
        .unwrap_or_else(|| ExitOutcome::from_db(&f.outcome));
    let detail = corrected("detail", input.detail.as_deref(), f.detail.clone())?;
    let today = super::territory::today(ctx, conn, site.territory).await?;
    let params = set_at(conn, site.place(), exit.exit_date).await?;
    exits::check_follow_up(exit.exit_date, observed, today, &params)?;
    let before = audit::json(&f);
    let mut am: exit_follow_up::ActiveModel = f.into();
    am.observed_on = Set(observed);
    am.outcome = Set(outcome.as_str().to_string());
    am.category = Set(exits::category(outcome).as_str().to_string());
    am.detail = Set(detail);
    let row = am.update(conn).await?;
    let p = touch(conn, p, None).await?;
    record(
        ctx,
        conn,
        actor,
        "correctExitFollowUp",
        &site,
        &p,
        before,
        audit::json(&row),
        Some(reason),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The immersion and its placement, locked at the placement's version the caller read.
async fn immersion_at<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
    version: i32,
) -> AppResult<(immersion::Model, placement::Model, Site)> {
    let id = ids::decode(Kind::Immersion, id, "immersionId")?;
    let not_found = || AppError::NotFound("immersion".into());
    let i = immersion::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    // Out of the caller's scope answers like a missing immersion.
    let (p, site) = match locked_placement(conn, actor, i.placement_id, true).await {
        Err(AppError::NotFound(_)) => return Err(not_found()),
        other => other?,
    };
    edit::expect_version(conn, actor, Kind::Placement, p.id, p.version, version).await?;
    not_erased(conn, &p).await?;
    Ok((i, p, site))
}

/// Corrects an immersion's host or dates; the immersion rules hold on the corrected dates.
pub async fn update_immersion(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateImmersionInput,
) -> AppResult<immersion::Model> {
    let host_name = input
        .host_name
        .as_deref()
        .map(|h| text::required("hostName", h))
        .transpose()?;
    let host_id = ids::decode_opt(Kind::Organization, input.host_id.as_ref(), "hostId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (i, p, site) = immersion_at(conn, actor, &input.immersion_id, input.version).await?;
    if let Some(h) = host_id {
        // Only an organization the caller may see (as everywhere a relation is set).
        super::scope::load::<entity::organization::Entity, _>(
            conn,
            super::scope::organizations(actor)?,
            entity::organization::Column::Id,
            h,
            "organisation",
        )
        .await?;
    }
    let start = input.start_date.unwrap_or(i.start_date);
    let end = input.end_date.unwrap_or(i.end_date);
    let others: Vec<(NaiveDate, NaiveDate)> = immersion::Entity::find()
        .filter(immersion::Column::PlacementId.eq(p.id))
        .filter(immersion::Column::Id.ne(i.id))
        .all(conn)
        .await?
        .iter()
        .map(|o| (o.start_date, o.end_date))
        .collect();
    let params = set_at(conn, site.place(), start).await?;
    check_immersion((p.start_date, p.end_date), (start, end), &others, &params)?;
    let before = audit::json(&i);
    let mut am: immersion::ActiveModel = i.into();
    if let Some(h) = host_name {
        am.host_name = Set(h);
    }
    if host_id.is_some() {
        am.host_id = Set(host_id);
    }
    am.start_date = Set(start);
    am.end_date = Set(end);
    let row = am.update(conn).await?;
    let p = touch(conn, p, None).await?;
    record(
        ctx,
        conn,
        actor,
        "updateImmersion",
        &site,
        &p,
        before,
        audit::json(&row),
        None,
    )
    .await?;
    deadlines::sync(conn, ctx, SubjectRef::Placement(p.id)).await?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes an immersion recorded by mistake (nothing depends on an immersion).
pub async fn delete_immersion(ctx: &Ctx, actor: &Actor, id: ID, version: i32) -> AppResult<ID> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (i, p, site) = immersion_at(conn, actor, &id, version).await?;
    let before = audit::json(&i);
    immersion::Entity::delete_by_id(i.id).exec(conn).await?;
    let p = touch(conn, p, None).await?;
    record(
        ctx,
        conn,
        actor,
        "deleteImmersion",
        &site,
        &p,
        before,
        serde_json::json!({"deleted": ids::encode(Kind::Immersion, i.id).to_string()}),
        None,
    )
    .await?;
    deadlines::sync(conn, ctx, SubjectRef::Placement(p.id)).await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Immersion, i.id))
}
