//! One way to move any object through its life cycle: load it in the caller's scope, gather
//! the facts its guards read, ask `domain::workflow` for the verdict, write the new state, its
//! effects and its history, and bring its deadlines up to date, all in one transaction.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::NaiveDate;
use entity::{
    chantier, commission, convention, convention_amount, convention_party, hour_entry,
    hour_entry_review, lot, market, participant, placement, placement_exit, status_change,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::deadlines::{self, SubjectRef};
use super::placement::{Planned, check_contract, site_of};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::Actor;
use crate::domain::workflow::{self, Effect, Facts, Machine};
use crate::domain::{
    CommissionKind, CommissionStatus, ContractType, ConventionKind, ConventionStatus, HourStatus,
    RuleViolation, text,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// An object with a life cycle, as the workflow sees it.
#[derive(Debug, Clone)]
pub struct Subject {
    pub machine: Machine,
    pub kind: Kind,
    pub id: Uuid,
    pub territory: Uuid,
    pub status: String,
}

fn machine_of(kind: Kind) -> Option<Machine> {
    Some(match kind {
        Kind::Market => Machine::Market,
        Kind::Chantier => Machine::Chantier,
        Kind::Convention => Machine::Convention,
        Kind::Placement => Machine::Placement,
        Kind::HourEntry => Machine::HourEntry,
        Kind::Commission => Machine::Commission,
        _ => return None,
    })
}

/// Reads a global ID of an object with a life cycle.
pub fn parse_id(id: &ID, field: &str) -> AppResult<(Kind, Uuid)> {
    match ids::parse(id) {
        Some((kind, uuid)) if machine_of(kind).is_some() => Ok((kind, uuid)),
        Some((kind, _)) => Err(AppError::bad_input(
            field,
            format!(
                "{field} : un(e) {} n'a pas de cycle de vie (no life cycle)",
                kind.name()
            ),
        )),
        None => Err(AppError::bad_input(
            field,
            format!("{field} : identifiant illisible (malformed ID)"),
        )),
    }
}

/// Loads the object in the caller's scope (out of scope reads as missing); `lock` takes it for
/// update.
pub async fn subject<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    kind: Kind,
    id: Uuid,
    lock: bool,
) -> AppResult<Subject> {
    let machine = machine_of(kind).ok_or_else(|| AppError::NotFound(kind.name().into()))?;
    let missing = || AppError::NotFound(kind.name().to_string());
    macro_rules! load {
        ($entity:ident, $cond:expr) => {{
            // A role with no scope for this kind reads it as missing, like `node`.
            let cond = $cond.map_err(|_| missing())?;
            let mut q = $entity::Entity::find()
                .filter(cond)
                .filter($entity::Column::Id.eq(id));
            if lock {
                q = q.lock_exclusive();
            }
            q.one(conn).await?.ok_or_else(missing)?
        }};
    }
    let (territory, status) = match kind {
        Kind::Market => {
            let m = load!(market, scope::markets(actor));
            (m.territory_id, m.status)
        }
        Kind::Chantier => {
            let c = load!(chantier, scope::chantiers(actor));
            (c.territory_id, c.status)
        }
        Kind::Convention => {
            let c = load!(convention, scope::conventions(actor));
            (c.territory_id, c.status)
        }
        Kind::Commission => {
            let c = load!(commission, scope::commissions(actor));
            (c.territory_id, c.status)
        }
        Kind::Placement => {
            let p = load!(placement, scope::placements(actor));
            (site_of(conn, &p).await?.territory, p.status)
        }
        _ => {
            let e = load!(hour_entry, scope::hour_entries(actor));
            let p = get::<placement::Entity, _>(conn, e.placement_id, "placement").await?;
            let review = hour_entry_review::Entity::find()
                .filter(hour_entry_review::Column::HourEntryId.eq(id))
                .one(conn)
                .await?;
            let status = super::ledger::status_of(review.as_ref());
            (
                site_of(conn, &p).await?.territory,
                status.as_str().to_string(),
            )
        }
    };
    Ok(Subject {
        machine,
        kind,
        id,
        territory,
        status,
    })
}

/// The facts the guards of `s`'s moves read.
pub async fn facts<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    s: &Subject,
    today: NaiveDate,
    reason: Option<String>,
) -> AppResult<Facts> {
    let mut f = Facts {
        today: Some(today),
        reason,
        ..Default::default()
    };
    match s.machine {
        Machine::Market => {
            let lots = lot::Entity::find()
                .filter(lot::Column::MarketId.eq(s.id))
                .all(conn)
                .await?;
            f.lot_count = lots.len();
            f.lots_without_awardee = lots.iter().filter(|l| l.awardee_id.is_none()).count();
            f.entries_awaiting_review = hour_entry::Entity::find()
                .left_join(hour_entry_review::Entity)
                .filter(hour_entry::Column::MarketId.eq(s.id))
                .filter(hour_entry_review::Column::Id.is_null())
                .count(conn)
                .await? as usize;
            f.final_report = super::final_report::state(conn, s.id).await?;
        }
        Machine::Chantier => {
            f.signed_agreement = convention::Entity::find()
                .filter(convention::Column::ChantierId.eq(s.id))
                .filter(convention::Column::Kind.eq(ConventionKind::StateAgreement.as_str()))
                .filter(
                    convention::Column::Status.is_in(
                        [
                            ConventionStatus::Signed,
                            ConventionStatus::Active,
                            ConventionStatus::RenewalDue,
                        ]
                        .map(|s| s.as_str()),
                    ),
                )
                .count(conn)
                .await?
                > 0;
            let held = |kind: CommissionKind| {
                commission::Entity::find()
                    .filter(commission::Column::ChantierId.eq(s.id))
                    .filter(commission::Column::Kind.eq(kind.as_str()))
                    .filter(commission::Column::Status.eq(CommissionStatus::Held.as_str()))
                    .count(conn)
            };
            f.start_committee_held = held(CommissionKind::SteeringStart).await? > 0;
            f.final_committee_held = held(CommissionKind::SteeringFinal).await? > 0;
        }
        Machine::Convention => {
            let c = get::<convention::Entity, _>(conn, s.id, "convention").await?;
            f.party_count = convention_party::Entity::find()
                .filter(convention_party::Column::ConventionId.eq(s.id))
                .count(conn)
                .await? as usize;
            f.amount_count = convention_amount::Entity::find()
                .filter(convention_amount::Column::ConventionId.eq(s.id))
                .count(conn)
                .await? as usize;
            let kind = ConventionKind::from_db(&c.kind);
            f.needs_amounts = kind.has_amounts();
            f.start_date = c.start_date;
            f.end_date = c.end_date;
            f.renewal_opens = c
                .end_date
                .map(|end| super::convention::renewal_opens(kind, end));
        }
        Machine::Placement => {
            let p = get::<placement::Entity, _>(conn, s.id, "placement").await?;
            f.exit_recorded = placement_exit::Entity::find()
                .filter(placement_exit::Column::PlacementId.eq(s.id))
                .count(conn)
                .await?
                > 0;
            f.hours_recorded = hour_entry::Entity::find()
                .filter(hour_entry::Column::PlacementId.eq(s.id))
                .count(conn)
                .await? as usize;
            f.contract = contract_verdict(conn, &p).await?;
        }
        Machine::Commission => {
            let c = get::<commission::Entity, _>(conn, s.id, "commission").await?;
            let tz = super::territory::zone_of(ctx, conn, c.territory_id).await?;
            f.meeting_day = Some(c.starts_at.with_timezone(&tz).date_naive());
            f.has_minutes = c.minutes.as_deref().is_some_and(|m| !m.trim().is_empty());
        }
        Machine::HourEntry => {}
    }
    Ok(f)
}

/// The contract rules on the placement as it stands; a broken rule is a refusal, not an error.
async fn contract_verdict<C: ConnectionTrait>(
    conn: &C,
    p: &placement::Model,
) -> AppResult<Option<RuleViolation>> {
    let site = site_of(conn, p).await?;
    let person = get::<participant::Entity, _>(conn, p.participant_id, "participant").await?;
    let verdict = check_contract(
        conn,
        &site,
        &Planned {
            id: Some(p.id),
            participant: &person,
            employer: p.employer_id,
            contract: ContractType::from_db(&p.contract_type),
            start: p.start_date,
            end: p.end_date,
            weekly_minutes: i64::from(p.weekly_minutes),
            derogation: p
                .derogation
                .as_deref()
                .and_then(crate::domain::CddiDerogation::parse),
            training_end: p.training_end_date,
        },
    )
    .await;
    match verdict {
        Ok(()) => Ok(None),
        Err(AppError::BadInput {
            message, breach, ..
        }) => Ok(Some(RuleViolation {
            field: "to",
            message,
            breach,
        })),
        Err(AppError::Conflict(message)) => Ok(Some(RuleViolation::new("to", message))),
        Err(e) => Err(e),
    }
}

/// A move the front end may offer, and why it is refused when it is.
#[derive(Debug, Clone, SimpleObject)]
pub struct TransitionOption {
    pub to: String,
    /// Whether the move would pass now (a reason, when asked, is not judged here).
    pub allowed: bool,
    /// Why it would be refused, in the words of the refusal.
    pub refusal: Option<String>,
    pub needs_reason: bool,
}

/// Every move out of the current state, for the caller: facilitators of the territory drive
/// life cycles; others see none.
pub async fn options(ctx: &Ctx, actor: &Actor, s: &Subject) -> AppResult<Vec<TransitionOption>> {
    if !actor.facilitates(s.territory) {
        return Ok(Vec::new());
    }
    let conn = &ctx.db.conn;
    let today = super::territory::today(ctx, conn, s.territory).await?;
    let f = facts(ctx, conn, s, today, Some("-".into())).await?;
    Ok(workflow::moves(s.machine)
        .iter()
        .filter(|m| m.from == s.status)
        .map(|m| {
            let verdict = workflow::check(s.machine, m.from, m.to, &f);
            TransitionOption {
                to: m.to.to_string(),
                allowed: verdict.is_ok(),
                refusal: verdict.err().map(|v| v.message),
                needs_reason: m.guards.contains(&workflow::Guard::Reason),
            }
        })
        .collect())
}

#[derive(Debug, InputObject)]
pub struct TransitionInput {
    /// The object: a market, chantier, convention, placement, hour entry or commission.
    pub id: ID,
    /// The state to move to (see `availableTransitions`).
    pub to: String,
    pub reason: Option<String>,
}

/// Moves an object, checking its guards; the history, effects and deadlines follow in the same
/// transaction.
pub async fn transition(ctx: &Ctx, actor: &Actor, input: TransitionInput) -> AppResult<Subject> {
    let (kind, id) = parse_id(&input.id, "id")?;
    let reason = text::optional("reason", input.reason.as_deref())?;
    let to = input.to.trim().to_uppercase();
    if kind == Kind::HourEntry {
        return review_entry(ctx, actor, &input.id, &to, reason).await;
    }
    let txn = ctx.db.begin_write().await?;
    let s = subject(&txn.txn, actor, kind, id, true).await?;
    if !actor.facilitates(s.territory) {
        return Err(AppError::Forbidden);
    }
    if kind == Kind::Placement {
        // Activation re-checks the contract rules across the person's placements.
        let p = get::<placement::Entity, _>(&txn.txn, id, "placement").await?;
        super::placement::lock_participant(&txn.txn, p.participant_id).await?;
    }
    let today = super::territory::today(ctx, &txn.txn, s.territory).await?;
    let f = facts(ctx, &txn.txn, &s, today, reason.clone()).await?;
    let mv = workflow::check(s.machine, &s.status, &to, &f)?;
    apply(&txn.txn, ctx, &s, mv.to, mv.effects, today).await?;
    record_move(
        &txn.txn,
        ctx,
        actor,
        kind,
        id,
        &s.status,
        mv.to,
        reason.clone(),
    )
    .await?;
    deadlines::sync(&txn.txn, ctx, subject_ref(kind, id)).await?;
    let mut after = serde_json::json!({"from": s.status, "to": mv.to, "reason": reason});
    if let Some((version, _)) = f.final_report.filter(|_| mv.to == "CLOSED") {
        // The close names the final report it rests on.
        after["finalReportVersion"] = version.into();
    }
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "transition",
        kind,
        id,
        Some(s.territory),
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(Subject {
        status: mv.to.to_string(),
        ..s
    })
}

pub fn subject_ref(kind: Kind, id: Uuid) -> SubjectRef {
    match kind {
        Kind::Market => SubjectRef::Market(id),
        Kind::Chantier => SubjectRef::Chantier(id),
        Kind::Convention => SubjectRef::Convention(id),
        Kind::Commission => SubjectRef::Commission(id),
        Kind::Placement => SubjectRef::Placement(id),
        _ => SubjectRef::None,
    }
}

/// Hour entries move through the ledger's review, which holds their rules.
async fn review_entry(
    ctx: &Ctx,
    actor: &Actor,
    id: &ID,
    to: &str,
    reason: Option<String>,
) -> AppResult<Subject> {
    let (_, uuid) = parse_id(id, "id")?;
    let before = subject(&ctx.db.conn, actor, Kind::HourEntry, uuid, false).await?;
    // The table says which moves exist; the ledger's review holds their rules.
    let decision = HourStatus::from_db(workflow::find(Machine::HourEntry, &before.status, to)?.to);
    super::ledger::review(
        ctx,
        actor,
        super::ledger::ReviewHoursInput {
            entry_ids: vec![id.clone()],
            reason,
        },
        decision,
    )
    .await?;
    Ok(Subject {
        status: to.to_string(),
        ..before
    })
}

/// Writes the new state and the move's effects on the object's own row.
async fn apply<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    s: &Subject,
    to: &str,
    effects: &[Effect],
    today: NaiveDate,
) -> AppResult<()> {
    let now = ctx.clock.now();
    let to = to.to_string();
    match s.machine {
        Machine::Market => {
            let m = get::<market::Entity, _>(conn, s.id, "marché").await?;
            let mut am: market::ActiveModel = m.into();
            am.status = Set(to);
            am.updated_at = Set(now);
            am.update(conn).await?;
        }
        Machine::Chantier => {
            let c = get::<chantier::Entity, _>(conn, s.id, "chantier").await?;
            let mut am: chantier::ActiveModel = c.into();
            am.status = Set(to);
            am.update(conn).await?;
        }
        Machine::Convention => {
            let c = get::<convention::Entity, _>(conn, s.id, "convention").await?;
            let mut am: convention::ActiveModel = c.clone().into();
            if effects.contains(&Effect::StampFiled) && c.filed_on.is_none() {
                am.filed_on = Set(Some(today));
            }
            if effects.contains(&Effect::StampSigned) && c.signed_on.is_none() {
                am.signed_on = Set(Some(today));
            }
            am.status = Set(to);
            am.updated_at = Set(now);
            am.update(conn).await?;
        }
        Machine::Placement => {
            let p = get::<placement::Entity, _>(conn, s.id, "placement").await?;
            let mut am: placement::ActiveModel = p.into();
            am.status = Set(to);
            am.update(conn).await?;
        }
        Machine::Commission => {
            let c = get::<commission::Entity, _>(conn, s.id, "commission").await?;
            let mut am: commission::ActiveModel = c.clone().into();
            if effects.contains(&Effect::BumpSequence) {
                am.sequence = Set(c.sequence + 1);
            }
            am.status = Set(to);
            am.updated_at = Set(now);
            am.update(conn).await?;
        }
        Machine::HourEntry => {}
    }
    Ok(())
}

/// Appends one move to the history.
#[allow(clippy::too_many_arguments)]
pub async fn record_move<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    actor: &Actor,
    kind: Kind,
    id: Uuid,
    from: &str,
    to: &str,
    reason: Option<String>,
) -> AppResult<()> {
    status_change::ActiveModel {
        id: Set(ctx.clock.new_id()),
        object_type: Set(kind.name().to_string()),
        object_id: Set(id),
        from_status: Set(from.to_string()),
        to_status: Set(to.to_string()),
        reason: Set(reason),
        changed_at: Set(ctx.clock.now()),
        changed_by: Set(Some(actor.label.clone())),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Every move of an object, oldest first. Hour entries' moves are their reviews.
pub async fn history(ctx: &Ctx, kind: Kind, id: Uuid) -> AppResult<Vec<status_change::Model>> {
    if kind == Kind::HourEntry {
        let reviews = hour_entry_review::Entity::find()
            .filter(hour_entry_review::Column::HourEntryId.eq(id))
            .all(&ctx.db.conn)
            .await?;
        return Ok(reviews
            .into_iter()
            .map(|r| status_change::Model {
                id: r.id,
                object_type: kind.name().into(),
                object_id: id,
                from_status: HourStatus::Declared.as_str().into(),
                to_status: r.decision,
                reason: r.reason,
                changed_at: r.decided_at,
                changed_by: r.decided_by,
            })
            .collect());
    }
    Ok(status_change::Entity::find()
        .filter(status_change::Column::ObjectId.eq(id))
        .order_by_asc(status_change::Column::Id)
        .all(&ctx.db.conn)
        .await?)
}
