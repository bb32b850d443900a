//! Deadlines kept up to date from the objects: each mutation that can change a deadline calls
//! `sync` for its subject inside its own transaction, so deadlines never lag their objects.
//! `sync` asks the rules (domain::deadlines) what should exist now and reconciles the stored
//! rows: new ones inserted, moved ones moved, met ones closed, unwanted open ones cancelled.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_graphql::{ID, InputObject};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{
    chantier, commission, commission_member, convention, convention_party, deadline, decision,
    eligibility, hour_entry, immersion, lot, market, participant, pass_iae, placement,
    placement_exit, reminder, territory,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable, PrimaryKeyToColumn,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::page::PageArgs;
use super::params::{Place, set_at};
use super::{Ctx, get, scope};
use crate::domain::auth::Actor;
use crate::domain::dates::{add_months, last_day_of};
use crate::domain::deadlines::{
    self as rules, Change, DeadlineRule as R, DeadlineStatus, Due, Pace, RecipientEntry, Roles,
    Stored,
};
use crate::domain::params::{ParamKey, ParamSet};
use crate::domain::{
    ChantierStatus, CommissionKind, CommissionStatus, ContractType, ConventionKind,
    ConventionStatus, MarketStatus, PlacementStatus,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// The object whose deadlines to bring up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectRef {
    Market(Uuid),
    Chantier(Uuid),
    Convention(Uuid),
    Commission(Uuid),
    Placement(Uuid),
    Participant(Uuid),
    None,
}

/// What the rules want for one subject.
struct Plan {
    territory: Uuid,
    kind: Kind,
    id: Uuid,
    market: Option<Uuid>,
    chantier: Option<Uuid>,
    operation: Option<Uuid>,
    wanted: Vec<Due>,
    /// Objects whose deadlines read this one's state (a steering committee's chantier, an
    /// aid convention's placement, a placement's participant): synced after it.
    then: Vec<SubjectRef>,
}

impl Plan {
    fn new(territory: Uuid, kind: Kind, id: Uuid) -> Self {
        Plan {
            territory,
            kind,
            id,
            market: None,
            chantier: None,
            operation: None,
            wanted: Vec::new(),
            then: Vec::new(),
        }
    }

    /// A plan for an object of `place`, with the zone and the parameters in force today there.
    async fn start<C: ConnectionTrait>(
        conn: &C,
        ctx: &Ctx,
        place: Place,
        kind: Kind,
        id: Uuid,
    ) -> AppResult<(Self, Tz, ParamSet)> {
        let tz = super::territory::zone_of(ctx, conn, place.territory).await?;
        let params = set_at(conn, place, ctx.clock.today_in(tz)).await?;
        Ok((Plan::new(place.territory, kind, id), tz, params))
    }

    fn want(&mut self, due: Due, params: &ParamSet, roles: &Roles) {
        let recipients = rules::recipients(params, due.rule, roles);
        self.wanted.push(due.to(recipients));
    }
}

fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// Brings the deadlines of one subject up to date, then those of the objects that depend on it.
pub async fn sync<C: ConnectionTrait>(conn: &C, ctx: &Ctx, subject: SubjectRef) -> AppResult<()> {
    let mut todo = vec![subject];
    let mut done = Vec::new();
    while let Some(s) = todo.pop() {
        if done.contains(&s) {
            continue;
        }
        done.push(s);
        if let Some(mut plan) = plan(conn, ctx, s).await? {
            todo.append(&mut plan.then);
            write(conn, ctx, plan).await?;
        }
    }
    Ok(())
}

async fn plan<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    subject: SubjectRef,
) -> AppResult<Option<Plan>> {
    Ok(Some(match subject {
        SubjectRef::Market(id) => plan_market(conn, ctx, id).await?,
        SubjectRef::Chantier(id) => plan_chantier(conn, ctx, id).await?,
        SubjectRef::Convention(id) => plan_convention(conn, ctx, id).await?,
        SubjectRef::Commission(id) => plan_commission(conn, ctx, id).await?,
        SubjectRef::Placement(id) => plan_placement(conn, ctx, id).await?,
        SubjectRef::Participant(id) => plan_participant(conn, ctx, id).await?,
        SubjectRef::None => return Ok(None),
    }))
}

async fn write<C: ConnectionTrait>(conn: &C, ctx: &Ctx, plan: Plan) -> AppResult<()> {
    let rows = deadline::Entity::find()
        .filter(deadline::Column::SubjectId.eq(plan.id))
        .all(conn)
        .await?;
    let stored: Vec<Stored> = rows
        .iter()
        .map(|r| Stored {
            id: r.id,
            rule: R::from_db(&r.rule),
            key: r.key.clone(),
            due_on: r.due_on,
            status: DeadlineStatus::from_db(&r.status),
            met_on: r.met_on,
            title: r.title.clone(),
            recipients: serde_json::from_str(&r.recipients).unwrap_or_default(),
        })
        .collect();
    let now = ctx.clock.now();
    for change in rules::reconcile(&stored, plan.wanted) {
        match change {
            Change::Insert(due) => {
                let row = deadline::ActiveModel {
                    id: Set(ctx.clock.new_id()),
                    territory_id: Set(plan.territory),
                    rule: Set(due.rule.as_str().into()),
                    subject_kind: Set(plan.kind.name().into()),
                    subject_id: Set(plan.id),
                    key: Set(due.key.clone()),
                    due_on: Set(due.due_on),
                    status: Set(if due.met_on.is_some() {
                        DeadlineStatus::Met
                    } else {
                        DeadlineStatus::Open
                    }
                    .as_str()
                    .into()),
                    title: Set(due.title.clone()),
                    recipients: Set(json(&due.recipients)),
                    met_on: Set(due.met_on),
                    market_id: Set(plan.market),
                    chantier_id: Set(plan.chantier),
                    operation_id: Set(plan.operation),
                    revision: Set(0),
                    planned_revision: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                };
                // Another transaction re-deriving the same subject may have inserted this
                // deadline since we read: take its row over (a change, so its revision moves)
                // instead of failing the caller's mutation on the unique key.
                deadline::Entity::insert(row)
                    .on_conflict(
                        OnConflict::columns([
                            deadline::Column::SubjectId,
                            deadline::Column::Rule,
                            deadline::Column::Key,
                        ])
                        .update_columns([
                            deadline::Column::DueOn,
                            deadline::Column::Status,
                            deadline::Column::Title,
                            deadline::Column::Recipients,
                            deadline::Column::MetOn,
                            deadline::Column::MarketId,
                            deadline::Column::ChantierId,
                            deadline::Column::OperationId,
                            deadline::Column::UpdatedAt,
                        ])
                        .value(
                            deadline::Column::Revision,
                            Expr::col((deadline::Entity, deadline::Column::Revision)).add(1),
                        )
                        .to_owned(),
                    )
                    .exec_without_returning(conn)
                    .await?;
            }
            Change::Update { id, due, status } => {
                bump(
                    conn,
                    id,
                    deadline::ActiveModel {
                        due_on: Set(due.due_on),
                        status: Set(status.as_str().into()),
                        title: Set(due.title.clone()),
                        recipients: Set(json(&due.recipients)),
                        met_on: Set(due.met_on),
                        updated_at: Set(now),
                        ..Default::default()
                    },
                )
                .await?;
            }
            Change::Cancel(id) => {
                bump(
                    conn,
                    id,
                    deadline::ActiveModel {
                        status: Set(DeadlineStatus::Cancelled.as_str().into()),
                        updated_at: Set(now),
                        ..Default::default()
                    },
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Writes a change and bumps the revision in the same statement, so the reminder planner sees
/// every change even when two land together.
async fn bump<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    change: deadline::ActiveModel,
) -> AppResult<()> {
    bump_where(
        conn,
        Condition::all().add(deadline::Column::Id.eq(id)),
        change,
    )
    .await?;
    Ok(())
}

/// `bump` for every deadline matching `which`; how many it changed.
async fn bump_where<C: ConnectionTrait>(
    conn: &C,
    which: Condition,
    change: deadline::ActiveModel,
) -> AppResult<u64> {
    Ok(deadline::Entity::update_many()
        .set(change)
        .col_expr(
            deadline::Column::Revision,
            sea_orm::sea_query::ExprTrait::add(
                sea_orm::sea_query::Expr::col(deadline::Column::Revision),
                1,
            ),
        )
        .filter(which)
        .exec(conn)
        .await?
        .rows_affected)
}

fn json(r: &[RecipientEntry]) -> String {
    serde_json::to_string(r).unwrap_or_else(|_| "[]".into())
}

/// Hours of a lot's month recorded today, in a territory where it is `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Arrival {
    market: Uuid,
    lot: Uuid,
    /// Any day of the month the hours are for.
    month: NaiveDate,
    today: NaiveDate,
}

/// What new hours change in their markets' deadlines, in one UPDATE per market instead of its
/// re-derivation: the month's statement, if still open (or met after today, under a clock that
/// lagged), is met today. Nothing else moves: the other market
/// deadlines read validated hours (changed by reviews, never by a recording) or the date
/// (refreshed daily), and an arrival never makes a statement wanted or unwanted. Agrees with
/// `sync` (tested: a full re-derivation after an import changes nothing).
async fn statements_arrived<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    arrivals: &[Arrival],
) -> AppResult<u64> {
    // One UPDATE per market and day: exact probes of the (subject, rule, key) index. An OR of
    // per-market terms, or `subject IN (…) AND key IN (…)`, measured slower on both stores.
    let mut keys: HashMap<(Uuid, NaiveDate), Vec<String>> = HashMap::new();
    for a in arrivals {
        keys.entry((a.market, a.today))
            .or_default()
            .push(statement_key(a.lot, a.month));
    }
    let now = ctx.clock.now();
    let mut changed = 0;
    for ((market, today), keys) in keys {
        let which = Condition::all()
            .add(deadline::Column::SubjectId.eq(market))
            .add(deadline::Column::Rule.eq(R::MonthlyStatement.as_str()))
            .add(deadline::Column::Key.is_in(keys))
            .add(
                Condition::any()
                    .add(deadline::Column::Status.eq(DeadlineStatus::Open.as_str()))
                    .add(
                        Condition::all()
                            .add(deadline::Column::Status.eq(DeadlineStatus::Met.as_str()))
                            .add(deadline::Column::MetOn.gt(today)),
                    ),
            );
        changed += bump_where(
            conn,
            which,
            deadline::ActiveModel {
                status: Set(DeadlineStatus::Met.as_str().into()),
                met_on: Set(Some(today)),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(changed)
}

/// What newly recorded entries change in their markets' deadlines, `today` being each entry's
/// territory's day: entries on a lot meet their month's statement (`statements_arrived`); hours
/// on no lot (a single-lot market's old entries) re-derive their market. Returns how many
/// markets were touched.
pub async fn entries_recorded<'a, C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    entries: impl IntoIterator<Item = (&'a hour_entry::Model, NaiveDate)>,
) -> AppResult<usize> {
    let mut arrivals = HashSet::new();
    let mut whole = BTreeSet::new();
    for (e, today) in entries {
        match (e.market_id, e.lot_id) {
            (Some(market), Some(lot)) => {
                arrivals.insert(Arrival {
                    market,
                    lot,
                    month: e.period_start,
                    today,
                });
            }
            (Some(market), None) => {
                whole.insert(market);
            }
            (None, _) => {}
        }
    }
    let mut markets: HashSet<Uuid> = arrivals.iter().map(|a| a.market).collect();
    markets.extend(whole.iter().copied());
    let arrivals: Vec<Arrival> = arrivals.into_iter().collect();
    statements_arrived(conn, ctx, &arrivals).await?;
    for m in whole {
        sync(conn, ctx, SubjectRef::Market(m)).await?;
    }
    Ok(markets.len())
}

/// The key of a lot's monthly statement deadline.
fn statement_key(lot: Uuid, month: NaiveDate) -> String {
    format!("{lot}:{}", month.format("%Y-%m"))
}

async fn plan_market<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: Uuid) -> AppResult<Plan> {
    let m = get::<market::Entity, _>(conn, id, "marché").await?;
    let (mut plan, tz, params) =
        Plan::start(conn, ctx, Place::of_market(&m), Kind::Market, id).await?;
    let today = ctx.clock.today_in(tz);
    plan.market = Some(id);
    plan.operation = m.operation_id;
    let status = MarketStatus::from_db(&m.status);
    if matches!(status, MarketStatus::InProgress | MarketStatus::Completed) {
        let lots = lot::Entity::find()
            .filter(lot::Column::MarketId.eq(id))
            .order_by_asc(lot::Column::Number)
            .all(conn)
            .await?;
        // First recording of each (lot, period start): when a month's statement arrived. A
        // rejected entry is no statement: its month stays owed.
        let arrived: Vec<(Option<Uuid>, NaiveDate, DateTime<Utc>)> = hour_entry::Entity::find()
            .select_only()
            .column(hour_entry::Column::LotId)
            .column(hour_entry::Column::PeriodStart)
            .column_as(hour_entry::Column::RecordedAt.min(), "first")
            .left_join(entity::hour_entry_review::Entity)
            .filter(hour_entry::Column::MarketId.eq(id))
            .filter(
                Condition::any()
                    .add(entity::hour_entry_review::Column::Decision.is_null())
                    .add(
                        entity::hour_entry_review::Column::Decision
                            .ne(crate::domain::HourStatus::Rejected.as_str()),
                    ),
            )
            .group_by(hour_entry::Column::LotId)
            .group_by(hour_entry::Column::PeriodStart)
            .into_tuple()
            .all(conn)
            .await?;
        let single = lots.len() == 1;
        let day = params.int(ParamKey::StatementDayOfMonth);
        for l in lots.iter() {
            let Some(awardee) = l.awardee_id else {
                continue;
            };
            let roles = Roles {
                awardees: vec![awardee],
                ..Default::default()
            };
            for month in rules::months_between(m.start_date, m.end_date) {
                let next = add_months(month, 1);
                let met = arrived
                    .iter()
                    .filter(|(lot, start, _)| {
                        (*lot == Some(l.id) || (lot.is_none() && single))
                            && *start >= month
                            && *start < next
                    })
                    .map(|(_, _, at)| local_day(*at, tz))
                    .min();
                let what = format!(
                    "heures de {} du lot {} « {} », marché {}",
                    rules::month_name(month),
                    l.number,
                    l.title,
                    m.reference
                );
                let due = Due::new(
                    R::MonthlyStatement,
                    statement_key(l.id, month),
                    rules::statement_due(month, day),
                    &what,
                );
                plan.want(due.met(met), &params, &roles);
            }
        }
    }
    if status == MarketStatus::InProgress
        && let Some(target) = m.target_minutes
    {
        let delivered = super::stats::counted_minutes(ctx, conn, id).await?;
        let f = rules::forecast(target, delivered, m.start_date, m.end_date, today, &params);
        let open = deadline::Entity::find()
            .filter(deadline::Column::SubjectId.eq(id))
            .filter(deadline::Column::Rule.eq(R::MarketBehind.as_str()))
            .filter(deadline::Column::Status.eq(DeadlineStatus::Open.as_str()))
            .one(conn)
            .await?;
        let what = format!(
            "marché {} : prévision {} h pour un objectif de {} h",
            m.reference,
            f.minutes_at_end / 60,
            target / 60
        );
        let roles = Roles {
            buyer: Some(m.buyer_id),
            ..Default::default()
        };
        match (f.pace == Pace::Behind, open) {
            (true, Some(o)) => plan.want(
                Due::new(R::MarketBehind, o.key, o.due_on, &what),
                &params,
                &roles,
            ),
            (true, None) => plan.want(
                Due::new(R::MarketBehind, today.to_string(), today, &what),
                &params,
                &roles,
            ),
            // Back on track: the deadline is met today.
            (false, Some(o)) => plan.want(
                Due::new(R::MarketBehind, o.key, o.due_on, &what).met(Some(today)),
                &params,
                &roles,
            ),
            (false, None) => {}
        }
    }
    // Met "behind" deadlines stay as they are; keep them out of cancellation.
    Ok(plan)
}

async fn plan_chantier<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: Uuid) -> AppResult<Plan> {
    let c = get::<chantier::Entity, _>(conn, id, "chantier").await?;
    let (mut plan, tz, params) =
        Plan::start(conn, ctx, super::chantier::place(&c), Kind::Chantier, id).await?;
    plan.chantier = Some(id);
    plan.market = c.market_id;
    plan.operation = c.operation_id;
    if ChantierStatus::from_db(&c.status) == ChantierStatus::Evaluated {
        return Ok(plan);
    }
    let held = commission::Entity::find()
        .filter(commission::Column::ChantierId.eq(id))
        .filter(commission::Column::Status.eq(CommissionStatus::Held.as_str()))
        .all(conn)
        .await?;
    let roles = Roles {
        carrier: Some(c.carrier_id),
        owner: Some(c.owner_id),
        ..Default::default()
    };
    for (kind, day) in rules::steering_dates(c.start_date, c.end_date) {
        let met = held
            .iter()
            .filter(|h| h.kind == kind)
            .map(|h| local_day(h.starts_at, tz))
            .min();
        let label = match CommissionKind::from_db(kind) {
            CommissionKind::SteeringStart => "de démarrage",
            CommissionKind::SteeringMidterm => "à mi-parcours",
            _ => "final",
        };
        let what = format!("comité {label} du chantier « {} »", c.title);
        plan.want(
            Due::new(R::SteeringCommittee, kind, day, &what).met(met),
            &params,
            &roles,
        );
    }
    Ok(plan)
}

async fn plan_convention<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: Uuid) -> AppResult<Plan> {
    use ConventionStatus as S;
    let c = get::<convention::Entity, _>(conn, id, "convention").await?;
    let (mut plan, _, params) = Plan::start(
        conn,
        ctx,
        Place::territory(c.territory_id),
        Kind::Convention,
        id,
    )
    .await?;
    // An aid agreement's filing meets its contract's deadline; a renewal meets the old one's.
    plan.then.extend(c.placement_id.map(SubjectRef::Placement));
    plan.then.extend(c.renews_id.map(SubjectRef::Convention));
    plan.chantier = c.chantier_id;
    plan.operation = c.operation_id;
    let kind = ConventionKind::from_db(&c.kind);
    let status = S::from_db(&c.status);
    let parties: Vec<Uuid> = convention_party::Entity::find()
        .filter(convention_party::Column::ConventionId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.organization_id)
        .collect();
    let roles = Roles {
        parties,
        ..Default::default()
    };
    let what = format!("{} « {} »", c.reference, c.title);
    if kind.state_answers()
        && let Some(filed) = c.filed_on
        && status != S::Draft
        && (status != S::Terminated || c.signed_on.is_some())
    {
        let due = Due::new(
            R::StateAnswer,
            "answer",
            rules::state_answer_due(filed, &params),
            &what,
        );
        plan.want(due.met(c.signed_on), &params, &roles);
    }
    let live = matches!(status, S::Signed | S::Active | S::RenewalDue | S::Expired);
    if let (true, Some(end)) = (live, c.end_date) {
        let renewal = convention::Entity::find()
            .filter(convention::Column::RenewsId.eq(id))
            .filter(convention::Column::FiledOn.is_not_null())
            .filter(convention::Column::Status.ne(S::Terminated.as_str()))
            .order_by_asc(convention::Column::FiledOn)
            .one(conn)
            .await?;
        let renewed_on = renewal.and_then(|r| r.filed_on);
        let ended = (status == S::Expired).then_some(end);
        plan.want(
            Due::new(R::ConventionEnd, "end", end, &what).met(renewed_on.or(ended)),
            &params,
            &roles,
        );
        if kind == ConventionKind::StateAgreement {
            plan.want(
                Due::new(
                    R::ConventionRenewal,
                    "renewal",
                    rules::renewal_due(end),
                    &what,
                )
                .met(renewed_on),
                &params,
                &roles,
            );
        }
    }
    Ok(plan)
}

async fn plan_commission<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: Uuid) -> AppResult<Plan> {
    let c = get::<commission::Entity, _>(conn, id, "commission").await?;
    let (mut plan, tz, params) = Plan::start(
        conn,
        ctx,
        Place::territory(c.territory_id),
        Kind::Commission,
        id,
    )
    .await?;
    // A steering committee held meets its chantier's deadline.
    plan.then.extend(c.chantier_id.map(SubjectRef::Chantier));
    plan.chantier = c.chantier_id;
    plan.market = c.market_id;
    plan.operation = c.operation_id;
    let status = CommissionStatus::from_db(&c.status);
    if status == CommissionStatus::Cancelled {
        return Ok(plan);
    }
    let members = commission_member::Entity::find()
        .filter(commission_member::Column::CommissionId.eq(id))
        .all(conn)
        .await?;
    let roles = Roles {
        members: members.into_iter().map(|m| (m.name, m.email)).collect(),
        ..Default::default()
    };
    let local = c.starts_at.with_timezone(&tz);
    let what = format!(
        "« {} » le {} à {}, {}",
        c.title,
        local.format("%d/%m/%Y"),
        local.format("%H:%M"),
        c.place
    );
    let day = local.date_naive();
    let held = (status == CommissionStatus::Held).then_some(day);
    plan.want(
        Due::new(R::Commission, "meeting", day, &what).met(held),
        &params,
        &roles,
    );
    let decisions = decision::Entity::find()
        .filter(decision::Column::CommissionId.eq(id))
        .all(conn)
        .await?;
    for d in decisions {
        let Some(due_on) = d.due_on else { continue };
        let roles = Roles {
            decision_owner: d.owner_name.clone().map(|n| (n, d.owner_email.clone())),
            ..Default::default()
        };
        let what = format!("{} (commission « {} »)", d.subject, c.title);
        plan.want(
            Due::new(R::DecisionFollowUp, d.id.to_string(), due_on, &what).met(d.done_on),
            &params,
            &roles,
        );
    }
    Ok(plan)
}

async fn plan_placement<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: Uuid) -> AppResult<Plan> {
    use PlacementStatus as S;
    let p = get::<placement::Entity, _>(conn, id, "placement").await?;
    let site = super::placement::site_of(conn, &p).await?;
    let (mut plan, _, params) = Plan::start(conn, ctx, site.place(), Kind::Placement, id).await?;
    plan.then.push(SubjectRef::Participant(p.participant_id));
    plan.market = p.market_id;
    plan.chantier = p.chantier_id;
    let status = S::from_db(&p.status);
    if status == S::Cancelled {
        return Ok(plan);
    }
    let roles = Roles {
        employer: Some(p.employer_id),
        ..Default::default()
    };
    let contract = ContractType::from_db(&p.contract_type);
    let what = format!("{} du {}", contract, p.start_date.format("%d/%m/%Y"));
    let ended = if status == S::Ended {
        placement_exit::Entity::find()
            .filter(placement_exit::Column::PlacementId.eq(id))
            .one(conn)
            .await?
            .map(|e| e.exit_date)
            .or(p.end_date)
    } else {
        None
    };
    if let Some(end) = p.end_date {
        plan.want(
            Due::new(R::PlacementEnd, "end", end, &what).met(ended),
            &params,
            &roles,
        );
    }
    if contract == ContractType::Cddi {
        let first = placement::Entity::find()
            .filter(placement::Column::ParticipantId.eq(p.participant_id))
            .filter(placement::Column::EmployerId.eq(p.employer_id))
            .filter(placement::Column::ContractType.eq(ContractType::Cddi.as_str()))
            .filter(placement::Column::Status.ne(S::Cancelled.as_str()))
            .order_by_asc(placement::Column::StartDate)
            .one(conn)
            .await?
            .map_or(p.start_date, |f| f.start_date);
        let months = if p.derogation.is_some() {
            params.int(ParamKey::CddiDerogationMaxMonths)
        } else {
            params.int(ParamKey::CddiMaxMonths)
        };
        plan.want(
            Due::new(R::CddiCap, "cap", last_day_of(first, months), &what).met(ended),
            &params,
            &roles,
        );
    }
    let immersions = immersion::Entity::find()
        .filter(immersion::Column::PlacementId.eq(id))
        .all(conn)
        .await?;
    for i in immersions {
        let w = format!("immersion chez {} ({what})", i.host_name);
        plan.want(
            Due::new(R::ImmersionEnd, i.id.to_string(), i.end_date, &w),
            &params,
            &roles,
        );
    }
    if matches!(contract, ContractType::CuiCae | ContractType::CuiCie) {
        let filed = convention::Entity::find()
            .filter(convention::Column::PlacementId.eq(id))
            .filter(convention::Column::Kind.eq(ConventionKind::IndividualAid.as_str()))
            .filter(convention::Column::FiledOn.is_not_null())
            .order_by_asc(convention::Column::FiledOn)
            .one(conn)
            .await?
            .and_then(|c| c.filed_on);
        plan.want(
            Due::new(
                R::AidAgreementFiling,
                "filing",
                rules::aid_filing_due(p.start_date, &params),
                &what,
            )
            .met(filed),
            &params,
            &roles,
        );
    }
    Ok(plan)
}

async fn plan_participant<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: Uuid) -> AppResult<Plan> {
    let person = get::<participant::Entity, _>(conn, id, "participant").await?;
    let (mut plan, _, params) = Plan::start(
        conn,
        ctx,
        Place::territory(person.territory_id),
        Kind::Participant,
        id,
    )
    .await?;
    // Validity matters while the person is on a path; otherwise nobody is to be reminded.
    let on_path = placement::Entity::find()
        .filter(placement::Column::ParticipantId.eq(id))
        .filter(
            placement::Column::Status.is_in(
                [
                    PlacementStatus::Proposed,
                    PlacementStatus::Active,
                    PlacementStatus::Suspended,
                ]
                .map(|s| s.as_str()),
            ),
        )
        .one(conn)
        .await?;
    if on_path.is_none() || person.anonymized_at.is_some() {
        return Ok(plan);
    }
    let roles = Roles::default();
    // A withdrawn decision is due nowhere: its deadline is cancelled.
    let mut records = eligibility::Entity::find()
        .filter(eligibility::Column::ParticipantId.eq(id))
        .filter(eligibility::Column::WithdrawnAt.is_null())
        .all(conn)
        .await?;
    records.sort_by_key(|e| (e.scheme.clone(), e.valid_until));
    for (i, e) in records.iter().enumerate() {
        // Met when a later check of the same scheme carries it further.
        let renewed = records[i + 1..]
            .iter()
            .filter(|n| n.scheme == e.scheme && n.valid_until > e.valid_until)
            .map(|n| n.checked_on)
            .min();
        let what = format!(
            "éligibilité {} vérifiée le {}",
            e.scheme,
            e.checked_on.format("%d/%m/%Y")
        );
        plan.want(
            Due::new(R::EligibilityEnd, e.id.to_string(), e.valid_until, &what).met(renewed),
            &params,
            &roles,
        );
    }
    let passes = pass_iae::Entity::find()
        .filter(pass_iae::Column::ParticipantId.eq(id))
        .all(conn)
        .await?;
    for pass in passes {
        let what = format!("PASS IAE {}", pass.number);
        plan.want(
            Due::new(R::PassIaeEnd, pass.id.to_string(), pass.end_date, &what),
            &params,
            &roles,
        );
    }
    Ok(plan)
}

/// Primary keys of the rows of a territory.
async fn ids_in<E, C>(conn: &C, territory_col: E::Column, territory: Uuid) -> AppResult<Vec<Uuid>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let pk = E::PrimaryKey::iter()
        .next()
        .expect("a primary key")
        .into_column();
    Ok(E::find()
        .select_only()
        .column(pk)
        .filter(territory_col.eq(territory))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Every object of a territory that has deadlines, in the order a reflow re-derives them
/// (service::reflow: after a parameter change, or as the daily pass that judges markets' pace
/// as days go by).
pub async fn subjects_of<C: ConnectionTrait>(
    conn: &C,
    territory_id: Uuid,
) -> AppResult<Vec<SubjectRef>> {
    let markets =
        ids_in::<market::Entity, _>(conn, market::Column::TerritoryId, territory_id).await?;
    let chantiers =
        ids_in::<chantier::Entity, _>(conn, chantier::Column::TerritoryId, territory_id).await?;
    let mut subjects: Vec<SubjectRef> = markets.iter().map(|id| SubjectRef::Market(*id)).collect();
    subjects.extend(chantiers.iter().map(|id| SubjectRef::Chantier(*id)));
    subjects.extend(
        ids_in::<convention::Entity, _>(conn, convention::Column::TerritoryId, territory_id)
            .await?
            .into_iter()
            .map(SubjectRef::Convention),
    );
    subjects.extend(
        ids_in::<commission::Entity, _>(conn, commission::Column::TerritoryId, territory_id)
            .await?
            .into_iter()
            .map(SubjectRef::Commission),
    );
    let placements: Vec<Uuid> = placement::Entity::find()
        .select_only()
        .column(placement::Column::Id)
        .filter(
            Condition::any()
                .add(placement::Column::MarketId.is_in(markets))
                .add(placement::Column::ChantierId.is_in(chantiers)),
        )
        .into_tuple()
        .all(conn)
        .await?;
    subjects.extend(placements.into_iter().map(SubjectRef::Placement));
    subjects.extend(
        ids_in::<participant::Entity, _>(conn, participant::Column::TerritoryId, territory_id)
            .await?
            .into_iter()
            .map(SubjectRef::Participant),
    );
    Ok(subjects)
}

/// A deadline as read on a day in its territory.
#[derive(Debug, Clone)]
pub struct View {
    pub row: deadline::Model,
    pub status: DeadlineStatus,
    /// Its territory's reflow is pending or running: it may still move.
    pub refreshing: bool,
}

#[derive(Debug, Default, InputObject)]
pub struct DeadlineFilter {
    pub territory_id: Option<ID>,
    /// Open deadlines due within this many days from today, overdue ones included (default 30).
    pub due_within_days: Option<i32>,
    /// Only open deadlines whose day has passed.
    pub overdue: Option<bool>,
    /// MET or CANCELLED ones instead of open ones (MISSED is the same as `overdue`).
    pub status: Option<DeadlineStatus>,
    pub rule: Option<R>,
    /// The deadlines of one object (a market, chantier, convention, commission, placement or
    /// participant), whatever their status.
    pub subject_id: Option<ID>,
}

/// Deadlines the caller may see.
pub fn visible(actor: &Actor) -> AppResult<Condition> {
    scope::deadlines(actor)
}

/// Keyset cursor over (due day, id): the list is sorted by day.
pub fn cursor(row: &deadline::Model) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{}", row.due_on, row.id))
}

fn parse_cursor(raw: &str) -> AppResult<(NaiveDate, Uuid)> {
    use base64::Engine;
    let bad = || AppError::bad_input("after", "after : curseur illisible (malformed cursor)");
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (d, id) = text.split_once('|').ok_or_else(bad)?;
    Ok((
        d.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

/// The facilitator's morning list: deadlines in scope, by due day, paged.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: DeadlineFilter,
    after: Option<String>,
    first: Option<i32>,
) -> AppResult<(Vec<View>, bool)> {
    let args = PageArgs::new(None, first)?;
    let conn = &ctx.db.conn;
    let mut q = deadline::Entity::find().filter(visible(actor)?);
    let territory = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )?;
    if let Some(t) = territory {
        q = q.filter(deadline::Column::TerritoryId.eq(t));
    }
    let tz = match territory.or_else(|| actor.territories.iter().next().copied()) {
        Some(t) => super::territory::zone_of(ctx, conn, t).await?,
        None => chrono_tz::Europe::Paris,
    };
    let today = ctx.clock.today_in(tz);
    if let Some(r) = filter.rule {
        q = q.filter(deadline::Column::Rule.eq(r.as_str()));
    }
    if let Some(s) = &filter.subject_id {
        let (_, id) = ids::parse(s).ok_or_else(|| {
            AppError::bad_input(
                "filter.subjectId",
                "filter.subjectId : identifiant illisible",
            )
        })?;
        q = q.filter(deadline::Column::SubjectId.eq(id));
    } else {
        let overdue = filter.overdue == Some(true) || filter.status == Some(DeadlineStatus::Missed);
        // Rules met by their day passing are never overdue.
        let lapsing: Vec<&str> = R::ALL
            .iter()
            .filter(|r| rules::rule_def(**r).lapses)
            .map(|r| r.as_str())
            .collect();
        match filter.status {
            Some(s @ (DeadlineStatus::Met | DeadlineStatus::Cancelled)) => {
                q = q.filter(deadline::Column::Status.eq(s.as_str()));
            }
            _ if overdue => {
                q = q
                    .filter(deadline::Column::Status.eq(DeadlineStatus::Open.as_str()))
                    .filter(deadline::Column::DueOn.lt(today))
                    .filter(deadline::Column::Rule.is_not_in(lapsing));
            }
            _ => {
                let days = filter.due_within_days.unwrap_or(30);
                if !(0..=3660).contains(&days) {
                    return Err(AppError::bad_input(
                        "filter.dueWithinDays",
                        format!("filter.dueWithinDays : entre 0 et 3660 jours, reçu {days}"),
                    ));
                }
                q = q
                    .filter(deadline::Column::Status.eq(DeadlineStatus::Open.as_str()))
                    .filter(
                        deadline::Column::DueOn
                            .lte(crate::domain::dates::add_days(today, i64::from(days))),
                    );
            }
        }
    }
    if let Some(raw) = after {
        let (d, id) = parse_cursor(&raw)?;
        q = q.filter(
            Condition::any().add(deadline::Column::DueOn.gt(d)).add(
                Condition::all()
                    .add(deadline::Column::DueOn.eq(d))
                    .add(deadline::Column::Id.gt(id)),
            ),
        );
    }
    let mut rows = q
        .order_by_asc(deadline::Column::DueOn)
        .order_by_asc(deadline::Column::Id)
        .limit(args.first + 1)
        .all(conn)
        .await?;
    let has_next = rows.len() as u64 > args.first;
    rows.truncate(args.first as usize);
    Ok((views(ctx, rows).await?, has_next))
}

/// Reads rows with their status on today in each one's territory.
pub async fn views(ctx: &Ctx, rows: Vec<deadline::Model>) -> AppResult<Vec<View>> {
    let mut territories: Vec<Uuid> = rows.iter().map(|r| r.territory_id).collect();
    territories.sort();
    territories.dedup();
    let zones: HashMap<Uuid, Tz> = territory::Entity::find()
        .filter(territory::Column::Id.is_in(territories))
        .all(&ctx.db.conn)
        .await?
        .iter()
        .map(|t| (t.id, super::territory::time_zone(t)))
        .collect();
    let refreshing = super::reflow::pending_among(&ctx.db.conn, zones.keys().copied()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let tz = zones
                .get(&row.territory_id)
                .copied()
                .unwrap_or(chrono_tz::Europe::Paris);
            let status = rules::status_on(
                R::from_db(&row.rule),
                DeadlineStatus::from_db(&row.status),
                row.due_on,
                ctx.clock.today_in(tz),
            );
            View {
                refreshing: refreshing.contains(&row.territory_id),
                row,
                status,
            }
        })
        .collect())
}

/// The deadlines among `ids` that the actor sees.
pub async fn visible_views(ctx: &Ctx, actor: &Actor, ids: &[Uuid]) -> AppResult<Vec<View>> {
    let rows = deadline::Entity::find()
        .filter(visible(actor)?)
        .filter(deadline::Column::Id.is_in(ids.to_vec()))
        .all(&ctx.db.conn)
        .await?;
    views(ctx, rows).await
}

/// Every deadline of one object, by due day.
pub async fn of_subject(ctx: &Ctx, subject_id: Uuid) -> AppResult<Vec<View>> {
    let rows = deadline::Entity::find()
        .filter(deadline::Column::SubjectId.eq(subject_id))
        .order_by_asc(deadline::Column::DueOn)
        .order_by_asc(deadline::Column::Id)
        .all(&ctx.db.conn)
        .await?;
    views(ctx, rows).await
}

/// A facilitator asks for their territory's deadlines to be re-derived: the territory is
/// marked, and the scheduler reflows it within a minute (service::reflow). Returns how many
/// objects the reflow will look at.
pub async fn refresh(ctx: &Ctx, actor: &Actor, territory_id: ID) -> AppResult<usize> {
    let territory = ids::decode(Kind::Territory, &territory_id, "territoryId")?;
    if !actor.facilitates(territory) {
        return Err(AppError::NotFound("territoire".into()));
    }
    let txn = ctx.db.begin_write().await?;
    super::reflow::mark(&txn.txn, ctx, territory).await?;
    txn.commit().await?;
    Ok(subjects_of(&ctx.db.conn, territory).await?.len())
}

/// The deadlines of one subject (a chantier, a convention…).
pub fn of_one(subject: Uuid) -> Condition {
    Condition::all().add(deadline::Column::SubjectId.eq(subject))
}

/// The deadlines of a market: its own, and any other that names it.
pub fn of_market(market: Uuid) -> Condition {
    Condition::any()
        .add(deadline::Column::SubjectId.eq(market))
        .add(deadline::Column::MarketId.eq(market))
}

/// The deadlines of one lot: its monthly statements (their subject is the lot's market).
pub fn of_lot(market: Uuid, lot: Uuid) -> Condition {
    Condition::all()
        .add(deadline::Column::SubjectId.eq(market))
        .add(deadline::Column::Rule.eq(R::MonthlyStatement.as_str()))
        .add(deadline::Column::Key.starts_with(format!("{lot}:")))
}

fn ids_where(which: Condition) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(deadline::Column::Id)
        .from(deadline::Entity)
        .cond_where(which)
        .to_owned()
}

/// How many reminders of the deadlines matching `which` went out (sent, in a digest, or being
/// sent now), their rows locked so that no sender claims one meanwhile. A mail that went out is
/// a record: a delete that would drop it refuses instead.
pub async fn reminders_sent<C: ConnectionTrait>(conn: &C, which: Condition) -> AppResult<u64> {
    use crate::domain::reminders::ReminderStatus as S;
    let rows = entity::reminder::Entity::find()
        .filter(entity::reminder::Column::DeadlineId.in_subquery(ids_where(which)))
        .order_by_asc(entity::reminder::Column::Id)
        .lock_exclusive()
        .all(conn)
        .await?;
    Ok(rows
        .iter()
        .filter(|r| matches!(S::from_db(&r.status), S::Sent | S::Sending | S::Digested))
        .count() as u64)
}

/// Deletes the deadlines matching `which` with their reminders (none went out: see
/// [`reminders_sent`]): rows with nothing of their own once their subject is gone. How many
/// deadlines went.
pub async fn delete_where<C: ConnectionTrait>(conn: &C, which: Condition) -> AppResult<u64> {
    entity::reminder::Entity::delete_many()
        .filter(entity::reminder::Column::DeadlineId.in_subquery(ids_where(which.clone())))
        .exec(conn)
        .await?;
    Ok(deadline::Entity::delete_many()
        .filter(which)
        .exec(conn)
        .await?
        .rows_affected)
}

/// For a subject being deleted: its deadlines go with the reminders not sent yet; a deadline
/// some mail already went out for stays, cancelled, since the outbox keeps what it sent.
pub async fn forget<C: ConnectionTrait>(conn: &C, ctx: &Ctx, subject: Uuid) -> AppResult<()> {
    use crate::domain::reminders::ReminderStatus as S;
    let theirs = || {
        sea_orm::sea_query::Query::select()
            .column(deadline::Column::Id)
            .from(deadline::Entity)
            .and_where(deadline::Column::SubjectId.eq(subject))
            .to_owned()
    };
    reminder::Entity::delete_many()
        .filter(reminder::Column::DeadlineId.in_subquery(theirs()))
        .filter(
            reminder::Column::Status
                .is_in([S::Planned, S::Failed, S::Dead, S::Cancelled].map(|s| s.as_str())),
        )
        .exec(conn)
        .await?;
    let kept = sea_orm::sea_query::Query::select()
        .column(reminder::Column::DeadlineId)
        .from(reminder::Entity)
        .and_where(reminder::Column::DeadlineId.in_subquery(theirs()))
        .to_owned();
    deadline::Entity::delete_many()
        .filter(deadline::Column::SubjectId.eq(subject))
        .filter(deadline::Column::Id.not_in_subquery(kept))
        .exec(conn)
        .await?;
    bump_where(
        conn,
        Condition::all()
            .add(deadline::Column::SubjectId.eq(subject))
            .add(deadline::Column::Status.ne(DeadlineStatus::Cancelled.as_str())),
        deadline::ActiveModel {
            status: Set(DeadlineStatus::Cancelled.as_str().into()),
            updated_at: Set(ctx.clock.now()),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
