//! Commissions and steering committees: planning, members, minutes and decisions. Planned
//! times are local to the territory; re-planning is a recorded move.

use async_graphql::{ID, InputObject};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use entity::{commission, commission_member, decision, market, operation};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::deadlines::{self, SubjectRef};
use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, exactly_one, get, scope};
use crate::domain::auth::Actor;
use crate::domain::{CommissionKind, CommissionStatus, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct MemberInput {
    pub name: String,
    pub email: Option<String>,
    /// The organization the person represents.
    pub organization_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct PlanCommissionInput {
    pub kind: CommissionKind,
    pub title: String,
    /// One of operationId, marketId, chantierId: what the commission is about.
    pub operation_id: Option<ID>,
    pub market_id: Option<ID>,
    pub chantier_id: Option<ID>,
    /// Local date and time in the territory, e.g. "2026-12-03T14:00:00".
    pub starts_at: NaiveDateTime,
    #[graphql(default = 120)]
    pub duration_minutes: i32,
    pub place: String,
    pub agenda: Option<String>,
    #[graphql(default)]
    pub members: Vec<MemberInput>,
}

#[derive(Debug, InputObject)]
pub struct ReplanCommissionInput {
    pub commission_id: ID,
    /// New local date and time.
    pub starts_at: NaiveDateTime,
    pub place: Option<String>,
    pub reason: String,
}

#[derive(Debug, InputObject)]
pub struct RecordDecisionInput {
    pub commission_id: ID,
    pub subject: String,
    pub outcome: String,
    /// Who must act on it (required with a due date).
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Default, InputObject)]
pub struct CommissionFilter {
    pub territory_id: Option<ID>,
    pub chantier_id: Option<ID>,
    pub operation_id: Option<ID>,
    pub market_id: Option<ID>,
    pub kind: Option<CommissionKind>,
    pub status: Option<CommissionStatus>,
}

/// The instant of a local time in a zone; a time skipped by a clock change is refused.
fn instant(
    tz: chrono_tz::Tz,
    local: NaiveDateTime,
    field: &'static str,
) -> AppResult<chrono::DateTime<chrono::Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                format!("{field} : {local} n'existe pas à l'heure locale ({tz}) (skipped by a clock change)"),
            )
        })
}

async fn for_update<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
) -> AppResult<commission::Model> {
    let id = ids::decode(Kind::Commission, id, "commissionId")?;
    let c = scope::lock::<commission::Entity, _>(
        conn,
        scope::commissions(actor)?,
        commission::Column::Id,
        id,
        "commission",
    )
    .await?;
    if !actor.facilitates(c.territory_id) {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

fn planned(c: &commission::Model) -> AppResult<()> {
    match CommissionStatus::from_db(&c.status) {
        CommissionStatus::Planned => Ok(()),
        s => Err(AppError::Conflict(format!(
            "la commission « {} » est {s} (commission is {s})",
            c.title
        ))),
    }
}

async fn add_member_row<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    commission_id: Uuid,
    m: &MemberInput,
) -> AppResult<()> {
    let name = text::required("members.name", &m.name)?;
    let email = text::email("members.email", m.email.as_deref())?;
    let org = ids::decode_opt(
        Kind::Organization,
        m.organization_id.as_ref(),
        "members.organizationId",
    )?;
    if let Some(o) = org {
        get::<entity::organization::Entity, _>(conn, o, "organisation").await?;
    }
    commission_member::ActiveModel {
        id: Set(ctx.clock.new_id()),
        commission_id: Set(commission_id),
        organization_id: Set(org),
        name: Set(name),
        email: Set(email),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn plan(
    ctx: &Ctx,
    actor: &Actor,
    input: PlanCommissionInput,
) -> AppResult<commission::Model> {
    exactly_one(
        &["operationId", "marketId", "chantierId"],
        &[
            input.operation_id.is_some(),
            input.market_id.is_some(),
            input.chantier_id.is_some(),
        ],
    )?;
    let operation_id =
        ids::decode_opt(Kind::Operation, input.operation_id.as_ref(), "operationId")?;
    let market_id = ids::decode_opt(Kind::Market, input.market_id.as_ref(), "marketId")?;
    let chantier_id = ids::decode_opt(Kind::Chantier, input.chantier_id.as_ref(), "chantierId")?;
    if input.kind.is_steering() && chantier_id.is_none() {
        return Err(AppError::bad_input(
            "chantierId",
            "chantierId : un comité de pilotage est celui d'un chantier (chantier required)",
        ));
    }
    if input.kind == CommissionKind::InsertionCommission && operation_id.is_none() {
        return Err(AppError::bad_input(
            "operationId",
            "operationId : la commission d'insertion est celle d'une opération (operation required)",
        ));
    }
    let title = text::required("title", &input.title)?;
    let place = text::required("place", &input.place)?;
    let agenda = text::long("agenda", input.agenda.as_deref())?.unwrap_or_default();
    check_duration(input.duration_minutes)?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let territory = match (operation_id, market_id, chantier_id) {
        (Some(o), _, _) => {
            scope::load::<operation::Entity, _>(
                conn,
                scope::operations(actor)?,
                operation::Column::Id,
                o,
                "opération",
            )
            .await?
            .territory_id
        }
        (_, Some(m), _) => {
            scope::load::<market::Entity, _>(
                conn,
                scope::markets(actor)?,
                market::Column::Id,
                m,
                "marché",
            )
            .await?
            .territory_id
        }
        (_, _, Some(c)) => {
            super::chantier::load(conn, actor, c, false)
                .await?
                .territory_id
        }
        _ => return Err(AppError::Internal("commission without scope".into())),
    };
    if !actor.facilitates(territory) {
        return Err(AppError::Forbidden);
    }
    let tz = super::territory::zone_of(ctx, conn, territory).await?;
    let starts_at = instant(tz, input.starts_at, "startsAt")?;
    if starts_at < ctx.clock.now() {
        return Err(AppError::bad_input(
            "startsAt",
            format!(
                "startsAt : {} est passé ; une commission se planifie à l'avance (in the past)",
                input.starts_at
            ),
        ));
    }
    let now = ctx.clock.now();
    let row = commission::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        territory_id: Set(territory),
        kind: Set(input.kind.as_str().into()),
        title: Set(title),
        operation_id: Set(operation_id),
        market_id: Set(market_id),
        chantier_id: Set(chantier_id),
        starts_at: Set(starts_at),
        duration_minutes: Set(input.duration_minutes),
        place: Set(place),
        agenda: Set(agenda),
        minutes: Set(None),
        status: Set(CommissionStatus::Planned.as_str().into()),
        sequence: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    for m in &input.members {
        add_member_row(conn, ctx, row.id, m).await?;
    }
    deadlines::sync(conn, ctx, SubjectRef::Commission(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "planCommission",
        Kind::Commission,
        row.id,
        Some(territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A new date (and maybe place): recorded as a move PLANNED → PLANNED with its reason; the
/// invitations' sequence goes up so calendars update.
pub async fn replan(
    ctx: &Ctx,
    actor: &Actor,
    input: ReplanCommissionInput,
) -> AppResult<commission::Model> {
    let reason = text::required("reason", &input.reason)?;
    let place = text::optional("place", input.place.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &input.commission_id).await?;
    planned(&c)?;
    let tz = super::territory::zone_of(ctx, conn, c.territory_id).await?;
    let starts_at = instant(tz, input.starts_at, "startsAt")?;
    if starts_at < ctx.clock.now() {
        return Err(AppError::bad_input(
            "startsAt",
            format!("startsAt : {} est passé (in the past)", input.starts_at),
        ));
    }
    let before = audit::json(&c);
    let old_local = c
        .starts_at
        .with_timezone(&tz)
        .format("%d/%m/%Y %H:%M")
        .to_string();
    let mut am: commission::ActiveModel = c.clone().into();
    am.starts_at = Set(starts_at);
    if let Some(p) = place {
        am.place = Set(p);
    }
    am.sequence = Set(c.sequence + 1);
    am.updated_at = Set(ctx.clock.now());
    let row = am.update(conn).await?;
    let why = format!(
        "reprogrammée du {old_local} au {} : {reason}",
        input.starts_at.format("%d/%m/%Y %H:%M")
    );
    super::workflow::record_move(
        conn,
        ctx,
        actor,
        Kind::Commission,
        c.id,
        &c.status,
        &c.status,
        Some(why),
    )
    .await?;
    deadlines::sync(conn, ctx, SubjectRef::Commission(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "replanCommission",
        Kind::Commission,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Debug, InputObject)]
pub struct UpdateCommissionInput {
    pub commission_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub title: Option<String>,
    /// Ordre du jour (an empty string clears it).
    pub agenda: Option<String>,
    pub place: Option<String>,
    pub duration_minutes: Option<i32>,
}

fn check_duration(minutes: i32) -> AppResult<()> {
    if !(15..=24 * 60).contains(&minutes) {
        return Err(AppError::bad_input(
            "durationMinutes",
            format!("durationMinutes : de 15 à 1440 minutes, reçu {minutes}"),
        ));
    }
    Ok(())
}

/// Title, agenda, place and length of a planned commission (its date moves by
/// `replanCommission`, with a reason). A new place or length is a change of the invitation: its
/// sequence goes up so calendars update.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateCommissionInput,
) -> AppResult<commission::Model> {
    let title = input
        .title
        .as_deref()
        .map(|t| text::required("title", t))
        .transpose()?;
    let agenda = match &input.agenda {
        Some(a) => Some(text::long("agenda", Some(a))?.unwrap_or_default()),
        None => None,
    };
    let place = input
        .place
        .as_deref()
        .map(|p| text::required("place", p))
        .transpose()?;
    if let Some(d) = input.duration_minutes {
        check_duration(d)?;
    }
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &input.commission_id).await?;
    super::edit::expect_version(
        conn,
        actor,
        Kind::Commission,
        c.id,
        c.version,
        input.version,
    )
    .await?;
    planned(&c)?;
    let before = audit::json(&c);
    let invitation_changes = place.as_ref().is_some_and(|p| *p != c.place)
        || input
            .duration_minutes
            .is_some_and(|d| d != c.duration_minutes);
    let mut am: commission::ActiveModel = c.clone().into();
    if let Some(t) = title {
        am.title = Set(t);
    }
    if let Some(a) = agenda {
        am.agenda = Set(a);
    }
    if let Some(p) = place {
        am.place = Set(p);
    }
    if let Some(d) = input.duration_minutes {
        am.duration_minutes = Set(d);
    }
    if invitation_changes {
        am.sequence = Set(c.sequence + 1);
    }
    am.updated_at = Set(ctx.clock.now());
    let row = am.update(conn).await?;
    deadlines::sync(conn, ctx, SubjectRef::Commission(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateCommission",
        Kind::Commission,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Removes a member from a planned commission that has taken no decision yet (once it has
/// decided, who sat on it is part of the record). The commission's version goes up.
pub async fn remove_member(
    ctx: &Ctx,
    actor: &Actor,
    commission_id: ID,
    member_id: ID,
    version: i32,
) -> AppResult<commission::Model> {
    let member_id = ids::decode(Kind::CommissionMember, &member_id, "memberId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &commission_id).await?;
    super::edit::expect_version(conn, actor, Kind::Commission, c.id, c.version, version).await?;
    planned(&c)?;
    let member = commission_member::Entity::find_by_id(member_id)
        .filter(commission_member::Column::CommissionId.eq(c.id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("membre de la commission".into()))?;
    let decided = decision::Entity::find()
        .filter(decision::Column::CommissionId.eq(c.id))
        .count(conn)
        .await?;
    if decided > 0 {
        return Err(AppError::Conflict(format!(
            "la commission « {} » a pris {decided} décision(s) : ses membres font partie du compte rendu (decisions taken)",
            c.title
        )));
    }
    commission_member::Entity::delete_by_id(member.id)
        .exec(conn)
        .await?;
    // The member list is the commission's: its version moves with it.
    let mut am: commission::ActiveModel = c.clone().into();
    am.updated_at = Set(ctx.clock.now());
    let row = am.update(conn).await?;
    deadlines::sync(conn, ctx, SubjectRef::Commission(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "removeCommissionMember",
        Kind::Commission,
        row.id,
        Some(row.territory_id),
        Some(&audit::json(&member)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn add_member(
    ctx: &Ctx,
    actor: &Actor,
    commission_id: ID,
    member: MemberInput,
) -> AppResult<commission::Model> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &commission_id).await?;
    planned(&c)?;
    add_member_row(conn, ctx, c.id, &member).await?;
    deadlines::sync(conn, ctx, SubjectRef::Commission(c.id)).await?;
    let after = serde_json::json!({"name": member.name, "email": member.email});
    audit::record(
        ctx,
        conn,
        actor,
        "addCommissionMember",
        Kind::Commission,
        c.id,
        Some(c.territory_id),
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// Minutes (compte rendu), before or after the move to HELD.
pub async fn record_minutes(
    ctx: &Ctx,
    actor: &Actor,
    commission_id: ID,
    minutes: String,
) -> AppResult<commission::Model> {
    let minutes = text::long("minutes", Some(&minutes))?.ok_or_else(|| {
        AppError::bad_input(
            "minutes",
            "minutes : le compte rendu est vide (empty minutes)",
        )
    })?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &commission_id).await?;
    if CommissionStatus::from_db(&c.status) == CommissionStatus::Cancelled {
        return Err(AppError::Conflict(
            "une commission annulée n'a pas de compte rendu (commission cancelled)".into(),
        ));
    }
    let before = audit::json(&c);
    let mut am: commission::ActiveModel = c.into();
    am.minutes = Set(Some(minutes));
    am.updated_at = Set(ctx.clock.now());
    let row = am.update(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "recordCommissionMinutes",
        Kind::Commission,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A decision of a commission whose day has come; with a due date it becomes a deadline.
pub async fn record_decision(
    ctx: &Ctx,
    actor: &Actor,
    input: RecordDecisionInput,
) -> AppResult<decision::Model> {
    let subject = text::required("subject", &input.subject)?;
    let outcome = text::long("outcome", Some(&input.outcome))?.ok_or_else(|| {
        AppError::bad_input(
            "outcome",
            "outcome : ce champ est obligatoire (field is required)",
        )
    })?;
    let owner_name = text::optional("ownerName", input.owner_name.as_deref())?;
    let owner_email = text::email("ownerEmail", input.owner_email.as_deref())?;
    if input.due_on.is_some() && owner_name.is_none() {
        return Err(AppError::bad_input(
            "ownerName",
            "ownerName : une décision à échéance a un responsable (owner required with a due date)",
        ));
    }
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &input.commission_id).await?;
    if CommissionStatus::from_db(&c.status) == CommissionStatus::Cancelled {
        return Err(AppError::Conflict(
            "une commission annulée ne décide rien (commission cancelled)".into(),
        ));
    }
    let tz = super::territory::zone_of(ctx, conn, c.territory_id).await?;
    let meeting = c.starts_at.with_timezone(&tz).date_naive();
    let today = ctx.clock.today_in(tz);
    if meeting > today {
        return Err(AppError::Conflict(format!(
            "la commission se tient le {} ; ses décisions s'enregistrent ensuite (not held yet)",
            meeting.format("%d/%m/%Y")
        )));
    }
    if let Some(due) = input.due_on
        && due < meeting
    {
        return Err(AppError::bad_input(
            "dueOn",
            format!("dueOn : avant la commission ({meeting})"),
        ));
    }
    let row = decision::ActiveModel {
        id: Set(ctx.clock.new_id()),
        commission_id: Set(c.id),
        subject: Set(subject),
        outcome: Set(outcome),
        owner_name: Set(owner_name),
        owner_email: Set(owner_email),
        due_on: Set(input.due_on),
        done_on: Set(None),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(conn)
    .await?;
    deadlines::sync(conn, ctx, SubjectRef::Commission(c.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "recordDecision",
        Kind::Decision,
        row.id,
        Some(c.territory_id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Marks a decision done (its deadline is met that day).
pub async fn complete_decision(
    ctx: &Ctx,
    actor: &Actor,
    decision_id: ID,
    done_on: Option<NaiveDate>,
) -> AppResult<decision::Model> {
    let id = ids::decode(Kind::Decision, &decision_id, "decisionId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let d = get::<decision::Entity, _>(conn, id, "décision").await?;
    let c = for_update(conn, actor, &ids::encode(Kind::Commission, d.commission_id)).await?;
    if d.done_on.is_some() {
        return Err(AppError::Conflict(
            "cette décision est déjà réalisée (already done)".into(),
        ));
    }
    let today = super::territory::today(ctx, conn, c.territory_id).await?;
    let day = done_on.unwrap_or(today);
    let meeting = c
        .starts_at
        .with_timezone(&super::territory::zone_of(ctx, conn, c.territory_id).await?)
        .date_naive();
    if day > today || day < meeting {
        return Err(AppError::bad_input(
            "doneOn",
            format!("doneOn : entre la commission ({meeting}) et aujourd'hui ({today})"),
        ));
    }
    let before = audit::json(&d);
    let mut am: decision::ActiveModel = d.into();
    am.done_on = Set(Some(day));
    let row = am.update(conn).await?;
    deadlines::sync(conn, ctx, SubjectRef::Commission(c.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "completeDecision",
        Kind::Decision,
        row.id,
        Some(c.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: CommissionFilter,
    args: PageArgs,
) -> AppResult<Page<commission::Model>> {
    let mut q = commission::Entity::find().filter(scope::commissions(actor)?);
    q = page::by_id(
        q,
        commission::Column::TerritoryId,
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )?;
    q = page::by_id(
        q,
        commission::Column::ChantierId,
        Kind::Chantier,
        filter.chantier_id.as_ref(),
        "filter.chantierId",
    )?;
    q = page::by_id(
        q,
        commission::Column::OperationId,
        Kind::Operation,
        filter.operation_id.as_ref(),
        "filter.operationId",
    )?;
    q = page::by_id(
        q,
        commission::Column::MarketId,
        Kind::Market,
        filter.market_id.as_ref(),
        "filter.marketId",
    )?;
    if let Some(k) = filter.kind {
        q = q.filter(commission::Column::Kind.eq(k.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(commission::Column::Status.eq(s.as_str()));
    }
    page::fetch(&ctx.db.conn, q, commission::Column::Id, &args).await
}

pub async fn members(ctx: &Ctx, id: Uuid) -> AppResult<Vec<commission_member::Model>> {
    super::children::<commission_member::Entity, _>(
        &ctx.db.conn,
        commission_member::Column::CommissionId,
        id,
        commission_member::Column::Id,
    )
    .await
}

pub async fn decisions(ctx: &Ctx, id: Uuid) -> AppResult<Vec<decision::Model>> {
    super::children::<decision::Entity, _>(
        &ctx.db.conn,
        decision::Column::CommissionId,
        id,
        decision::Column::Id,
    )
    .await
}
