//! Correcting a chantier's supervisors (issue 20). A supervisor belongs to its chantier: a
//! correction names the chantier's version, locks the chantier (the lock placement creation
//! takes to count supervision), checks that the supervision as corrected still covers every
//! placement on it, moves the chantier's version and is audited.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{chantier, chantier_supervisor, placement};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::chantier::{
    hours_field, load, may_run, place, still_editable, supervisor_starts_within,
};
use super::params::set_at;
use super::{Ctx, audit, edit};
use crate::domain::auth::Actor;
use crate::domain::contract::{Span, check_supervision_holds};
use crate::domain::{PlacementStatus, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct UpdateSupervisorInput {
    pub supervisor_id: ID,
    /// The chantier's version: supervisors are versioned with their chantier.
    pub version: i32,
    pub name: Option<String>,
    pub organization_id: Option<ID>,
    pub technical_hours: Option<String>,
    pub socio_professional_hours: Option<String>,
    pub theory_training_hours: Option<String>,
    pub start_date: Option<NaiveDate>,
    /// The supervisor's last day (a supervisor who left); absent: unchanged.
    pub end_date: Option<NaiveDate>,
}

/// The supervisor and its chantier, locked, at the chantier's version the caller read.
async fn supervisor_at<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
    version: i32,
) -> AppResult<(chantier_supervisor::Model, chantier::Model)> {
    let id = ids::decode(Kind::Supervisor, id, "supervisorId")?;
    let not_found = || AppError::NotFound("encadrant".into());
    let s = chantier_supervisor::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    // Out of the caller's scope answers like a missing supervisor.
    let c = match load(conn, actor, s.chantier_id, true).await {
        Err(AppError::NotFound(_)) => return Err(not_found()),
        other => other?,
    };
    may_run(actor, &c, true)?;
    // An ended or evaluated chantier's supervision is what its evaluation reported.
    still_editable(&c)?;
    edit::expect_version(conn, actor, Kind::Chantier, c.id, c.version, version).await?;
    Ok((s, c))
}

/// Refuses unless `staff` still covers the chantier's live placements.
async fn still_covered<C: ConnectionTrait>(
    conn: &C,
    c: &chantier::Model,
    staff: &[Span],
) -> AppResult<()> {
    let on_site: Vec<Span> = placement::Entity::find()
        .filter(placement::Column::ChantierId.eq(c.id))
        .filter(placement::Column::Status.ne(PlacementStatus::Cancelled.as_str()))
        .all(conn)
        .await?
        .iter()
        .map(|p| (p.start_date, p.end_date))
        .collect();
    let params = set_at(conn, place(c), c.start_date).await?;
    Ok(check_supervision_holds(&on_site, staff, &params)?)
}

/// The other supervisors of the chantier, as spans.
async fn others<C: ConnectionTrait>(
    conn: &C,
    c: &chantier::Model,
    but: Uuid,
) -> AppResult<Vec<Span>> {
    Ok(chantier_supervisor::Entity::find()
        .filter(chantier_supervisor::Column::ChantierId.eq(c.id))
        .filter(chantier_supervisor::Column::Id.ne(but))
        .all(conn)
        .await?
        .iter()
        .map(|s| (s.start_date, s.end_date))
        .collect())
}

/// Saves the chantier so its version moves with its supervisors.
async fn touch<C: ConnectionTrait>(conn: &C, c: chantier::Model) -> AppResult<chantier::Model> {
    let am: chantier::ActiveModel = c.into();
    Ok(am.update(conn).await?)
}

/// Corrects a supervisor: name, structure, hours, dates (a supervisor who left gets an end).
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateSupervisorInput,
) -> AppResult<chantier_supervisor::Model> {
    let name = input
        .name
        .as_deref()
        .map(|n| text::required("name", n))
        .transpose()?;
    let org = ids::decode_opt(
        Kind::Organization,
        input.organization_id.as_ref(),
        "organizationId",
    )?;
    let hours =
        |field, raw: &Option<String>| raw.as_deref().map(|r| hours_field(field, r)).transpose();
    let technical = hours("technicalHours", &input.technical_hours)?;
    let social = hours("socioProfessionalHours", &input.socio_professional_hours)?;
    let theory = hours("theoryTrainingHours", &input.theory_training_hours)?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (s, c) = supervisor_at(conn, actor, &input.supervisor_id, input.version).await?;
    let start = input.start_date.unwrap_or(s.start_date);
    let end = input.end_date.or(s.end_date);
    crate::domain::placement::check_dates(start, end)?;
    supervisor_starts_within(&c, start)?;
    if let Some(o) = org {
        // Only an organization the caller may see (as everywhere a relation is set).
        super::scope::load::<entity::organization::Entity, _>(
            conn,
            super::scope::organizations(actor)?,
            entity::organization::Column::Id,
            o,
            "organisation",
        )
        .await?;
    }
    let mut staff = others(conn, &c, s.id).await?;
    staff.push((start, end));
    still_covered(conn, &c, &staff).await?;
    let before = audit::json(&s);
    let mut am: chantier_supervisor::ActiveModel = s.into();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if org.is_some() {
        am.organization_id = Set(org);
    }
    if let Some(m) = technical {
        am.technical_minutes = Set(m);
    }
    if let Some(m) = social {
        am.socio_professional_minutes = Set(m);
    }
    if let Some(m) = theory {
        am.theory_training_minutes = Set(m);
    }
    am.start_date = Set(start);
    am.end_date = Set(end);
    let row = am.update(conn).await?;
    let c = touch(conn, c).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateChantierSupervisor",
        Kind::Supervisor,
        row.id,
        Some(c.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Removes a supervisor recorded by mistake, while the others still cover the placements.
pub async fn remove(ctx: &Ctx, actor: &Actor, id: ID, version: i32) -> AppResult<ID> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let (s, c) = supervisor_at(conn, actor, &id, version).await?;
    let staff = others(conn, &c, s.id).await?;
    still_covered(conn, &c, &staff).await?;
    chantier_supervisor::Entity::delete_by_id(s.id)
        .exec(conn)
        .await?;
    let c = touch(conn, c).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "removeChantierSupervisor",
        Kind::Supervisor,
        s.id,
        Some(c.territory_id),
        Some(&audit::json(&s)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Supervisor, s.id))
}
