//! What a figure is made of: a subject (market, lot, operation, chantier, territory), a window
//! (as at a date, over a period) and facets (modality, status, band of people...). The same
//! conditions feed the aggregate queries of the reports and the listing of the ledger entries
//! behind a figure, so a figure and its trace cannot disagree.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    chantier, hour_entry, hour_entry_review, market, participant, placement, placement_exit,
};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationTrait, Select,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::figures::{self, Group};
use crate::domain::report::{Band, Person};
use crate::domain::{
    ContractType, EducationLevel, ExitOutcome, HourKind, HourStatus, Modality, PlacementStatus,
    Public, Sex,
};
use crate::error::{AppError, AppResult};
use crate::service::stats::Counting;

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Market(Uuid),
    Lot(Uuid),
    Operation(Uuid),
    Chantier(Uuid),
    Territory(Uuid),
}

/// When: figures as known at the end of `as_at` (local day of the territory), for entries whose
/// period starts within `from..=to` and people whose placements overlap it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub as_at: NaiveDate,
    /// First instant after `as_at` in the territory's zone: what was recorded before counts.
    pub cutoff: DateTime<Utc>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Narrows a figure to part of its subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub market: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lot: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub operation: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chantier: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub modality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    /// Only the hours that count towards the clause (training excluded where it does not count).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub counted: bool,
    /// Only entries that take hours away (true) or only the others (false).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deductions: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anru: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub contract: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub band: Option<String>,
}

/// A figure's recipe, handed to clients as a signed token (`trace::token`): the subject is
/// the report's kind and object, the window its dates, the facets the part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub subject: Subject,
    pub window: Window,
    pub facets: Facets,
}

impl Facets {
    /// Whether the facet picks people by who they are: a band of the people breakdown (age,
    /// education, unemployment, public, QPV; not the whole headcount) or an exit category. Its
    /// entries would tell which placements belong to someone on AAH, out of prison, over 50...
    pub fn singles_out_people(&self) -> bool {
        self.exit.is_some() || self.band.as_deref().is_some_and(|b| b != Band::All.code())
    }
}

fn ids_of(
    col: impl ColumnTrait,
    table: impl sea_orm::Iden + 'static,
    cond: Condition,
) -> SelectStatement {
    Query::select()
        .column(col)
        .from(table)
        .cond_where(cond)
        .to_owned()
}

fn markets_of_operation(op: Uuid) -> SelectStatement {
    ids_of(
        market::Column::Id,
        market::Entity,
        Condition::all().add(market::Column::OperationId.eq(op)),
    )
}

fn markets_of_territory(t: Uuid) -> SelectStatement {
    ids_of(
        market::Column::Id,
        market::Entity,
        Condition::all().add(market::Column::TerritoryId.eq(t)),
    )
}

fn chantiers_of_territory(t: Uuid) -> SelectStatement {
    ids_of(
        chantier::Column::Id,
        chantier::Entity,
        Condition::all().add(chantier::Column::TerritoryId.eq(t)),
    )
}

/// Placements of the subject (on its markets, lots or chantiers).
pub fn placements_of(subject: Subject) -> Condition {
    use placement::Column as P;
    match subject {
        Subject::Market(id) => Condition::all().add(P::MarketId.eq(id)),
        Subject::Lot(id) => Condition::all().add(P::LotId.eq(id)),
        Subject::Operation(id) => {
            Condition::all().add(P::MarketId.in_subquery(markets_of_operation(id)))
        }
        Subject::Chantier(id) => Condition::all().add(P::ChantierId.eq(id)),
        Subject::Territory(t) => Condition::any()
            .add(P::MarketId.in_subquery(markets_of_territory(t)))
            .add(P::ChantierId.in_subquery(chantiers_of_territory(t))),
    }
}

/// Placements that count for people figures in the window: not cancelled, started by the
/// report's date, and overlapping its period.
pub fn live_placements(subject: Subject, w: &Window) -> Condition {
    use placement::Column as P;
    let mut c = placements_of(subject)
        .add(P::Status.ne(PlacementStatus::Cancelled.as_str()))
        .add(P::StartDate.lte(w.to.map_or(w.as_at, |t| std::cmp::Ord::min(t, w.as_at))));
    if let Some(from) = w.from {
        c = c.add(
            Condition::any()
                .add(P::EndDate.is_null())
                .add(P::EndDate.gte(from)),
        );
    }
    c
}

/// Ledger entries of the subject, known at the cutoff, in the period.
fn entries_of(subject: Subject, w: &Window) -> Condition {
    use hour_entry::Column as E;
    let mut c = match subject {
        Subject::Market(id) => Condition::all().add(E::MarketId.eq(id)),
        Subject::Lot(id) => Condition::all().add(E::LotId.eq(id)),
        Subject::Operation(id) => {
            Condition::all().add(E::MarketId.in_subquery(markets_of_operation(id)))
        }
        Subject::Chantier(_) | Subject::Territory(_) => {
            Condition::all().add(E::PlacementId.in_subquery(ids_of(
                placement::Column::Id,
                placement::Entity,
                placements_of(subject),
            )))
        }
    }
    .add(E::RecordedAt.lt(w.cutoff));
    if let Some(from) = w.from {
        c = c.add(E::PeriodStart.gte(from));
    }
    if let Some(to) = w.to {
        c = c.add(E::PeriodStart.lte(to));
    }
    c
}

/// The status an entry had at the cutoff (a decision taken later did not exist yet); without
/// a cutoff, its status now.
pub fn status_at(cutoff: Option<DateTime<Utc>>) -> SimpleExpr {
    let decided = Expr::col((
        hour_entry_review::Entity,
        hour_entry_review::Column::DecidedAt,
    ));
    CaseStatement::new()
        .case(
            match cutoff {
                Some(c) => decided.lt(c),
                None => decided.is_not_null(),
            },
            Expr::col((
                hour_entry_review::Entity,
                hour_entry_review::Column::Decision,
            )),
        )
        .finally(Expr::val(HourStatus::Declared.as_str()))
        .into()
}

/// The condition "had this status at the cutoff".
fn status_is(w: &Window, status: HourStatus) -> Condition {
    use hour_entry_review::Column as R;
    match status {
        HourStatus::Declared => Condition::any()
            .add(R::Id.is_null())
            .add(R::DecidedAt.gte(w.cutoff)),
        s => Condition::all()
            .add(R::Decision.eq(s.as_str()))
            .add(R::DecidedAt.lt(w.cutoff)),
    }
}

/// Training entries (`domain::figures::is_training` in SQL).
fn training() -> Condition {
    Condition::any()
        .add(hour_entry::Column::Kind.eq(figures::TRAINING_KIND.as_str()))
        .add(hour_entry::Column::Modality.eq(figures::TRAINING_MODALITY.as_str()))
}

/// Entries that do not count towards their clause under `counting` (training where
/// TRAINING_HOURS_COUNT is false for the entry's market); `None` when every entry counts.
fn not_counted(counting: &Counting) -> Option<Condition> {
    let markets = counting.markets_without_training();
    let mut whose = Condition::any();
    if !markets.is_empty() {
        whose = whose.add(hour_entry::Column::MarketId.is_in(markets));
    }
    if !counting.training_counts(None) {
        whose = whose.add(hour_entry::Column::MarketId.is_null());
    }
    (!whose.is_empty()).then(|| Condition::all().add(training()).add(whose))
}

/// The ledger entries behind a trace: the very rows its figure sums.
pub async fn entries<C: ConnectionTrait>(
    conn: &C,
    trace: &Trace,
    counting: &Counting,
) -> AppResult<Select<hour_entry::Entity>> {
    let (w, f) = (&trace.window, &trace.facets);
    let mut select = hour_entry::Entity::find()
        .join(JoinType::LeftJoin, hour_entry::Relation::Review.def())
        .filter(entries_of(trace.subject, w));
    if let Some(m) = f.market {
        select = select.filter(hour_entry::Column::MarketId.eq(m));
    }
    if let Some(l) = f.lot {
        select = select.filter(hour_entry::Column::LotId.eq(l));
    }
    if let Some(op) = f.operation {
        select = select.filter(hour_entry::Column::MarketId.in_subquery(markets_of_operation(op)));
    }
    if let Some(m) = &f.modality {
        select = select.filter(hour_entry::Column::Modality.eq(m.as_str()));
    }
    if let Some(k) = &f.kind {
        select = select.filter(hour_entry::Column::Kind.eq(k.as_str()));
    }
    if let Some(s) = f.status.as_deref().and_then(HourStatus::parse) {
        select = select.filter(status_is(w, s));
    }
    if f.counted
        && let Some(c) = not_counted(counting)
    {
        select = select.filter(c.not());
    }
    if let Some(d) = f.deductions {
        let minutes = hour_entry::Column::Minutes;
        select = select.filter(if d { minutes.lt(0) } else { minutes.gte(0) });
    }
    if let Some(a) = &f.anru {
        let markets = ids_of(
            market::Column::Id,
            market::Entity,
            Condition::all().add(market::Column::AnruCategory.eq(a.as_str())),
        );
        select = select.filter(hour_entry::Column::MarketId.in_subquery(markets));
    }
    let mut placements = Condition::all();
    let mut narrowed = false;
    if let Some(c) = f.chantier {
        placements = placements.add(placement::Column::ChantierId.eq(c));
        narrowed = true;
    }
    if let Some(c) = &f.contract {
        placements = placements
            .add(live_placements(trace.subject, w))
            .add(placement::Column::ContractType.eq(c.as_str()));
        narrowed = true;
    }
    if let Some(category) = &f.exit {
        let exited = ids_of(
            placement_exit::Column::PlacementId,
            placement_exit::Entity,
            exits_in(w).add(placement_exit::Column::Category.eq(category.as_str())),
        );
        placements = placements.add(placement::Column::Id.in_subquery(exited));
        narrowed = true;
    }
    if let Some(band) = f.band.as_deref() {
        let band = Band::parse(band).ok_or_else(|| {
            AppError::bad_input("trace", "trace : tranche inconnue (unknown band)")
        })?;
        let who: Vec<Uuid> = people(conn, trace.subject, w)
            .await?
            .into_iter()
            .filter(|(_, p)| band.holds(p))
            .map(|(id, _)| id)
            .collect();
        placements = placements
            .add(live_placements(trace.subject, w))
            .add(placement::Column::ParticipantId.is_in(who));
        narrowed = true;
    }
    if narrowed {
        select = select.filter(hour_entry::Column::PlacementId.in_subquery(ids_of(
            placement::Column::Id,
            placement::Entity,
            placements,
        )));
    }
    Ok(select)
}

/// Exits known at the report's date and inside its period.
pub fn exits_in(w: &Window) -> Condition {
    use placement_exit::Column as X;
    let mut c = Condition::all()
        .add(X::ExitDate.lte(w.as_at))
        .add(X::CreatedAt.lt(w.cutoff));
    if let Some(from) = w.from {
        c = c.add(X::ExitDate.gte(from));
    }
    if let Some(to) = w.to {
        c = c.add(X::ExitDate.lte(to));
    }
    c
}

/// One group of ledger minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourRow {
    pub market: Option<Uuid>,
    pub lot: Option<Uuid>,
    pub modality: Modality,
    pub kind: HourKind,
    pub status: HourStatus,
    /// Negative minutes (corrections taking hours away), grouped apart.
    pub deduction: bool,
    pub minutes: i64,
    pub entries: i64,
    /// Filled by `hours_by_chantier` only.
    pub chantier: Option<Uuid>,
}

impl HourRow {
    /// The row as the figures' rule reads it.
    pub fn group(&self) -> Group {
        Group {
            kind: self.kind,
            modality: self.modality,
            status: self.status,
            deduction: self.deduction,
            minutes: self.minutes,
            entries: self.entries,
        }
    }
}

/// `SUM(expr)` as a BIGINT on both stores (PostgreSQL's SUM(bigint) is numeric).
fn bigint_sum(sql: &str) -> SimpleExpr {
    Expr::cust(format!("CAST(COALESCE(SUM({sql}), 0) AS BIGINT)"))
}

/// `COUNT(*)` as a BIGINT on both stores.
fn count() -> SimpleExpr {
    Expr::cust("CAST(COUNT(*) AS BIGINT)")
}

/// Minutes and entry counts of the subject, by market, lot, modality, kind and status at the
/// cutoff: one grouped query, rows bounded by markets × a few, whatever the ledger's size.
pub async fn hours<C: ConnectionTrait>(
    conn: &C,
    subject: Subject,
    w: &Window,
) -> AppResult<Vec<HourRow>> {
    grouped(conn, entries_of(subject, w), Some(w.cutoff), false).await
}

/// The same grouped by chantier as well (one join with the placements more).
pub async fn hours_by_chantier<C: ConnectionTrait>(
    conn: &C,
    subject: Subject,
    w: &Window,
) -> AppResult<Vec<HourRow>> {
    grouped(conn, entries_of(subject, w), Some(w.cutoff), true).await
}

/// The grouped rows of the entries `which` (already known at `cutoff`), by status at `cutoff`
/// (`None`: as they are now). Every hour figure is summed from these rows.
pub async fn grouped<C: ConnectionTrait>(
    conn: &C,
    which: Condition,
    cutoff: Option<DateTime<Utc>>,
    by_chantier: bool,
) -> AppResult<Vec<HourRow>> {
    use hour_entry::Column as E;
    let mut select = hour_entry::Entity::find()
        .select_only()
        .column(E::MarketId)
        .column(E::LotId)
        .column(E::Modality)
        .column(E::Kind)
        .column_as(status_at(cutoff), "st")
        .column_as(
            Expr::cust("CASE WHEN \"hour_entry\".\"minutes\" < 0 THEN 1 ELSE 0 END"),
            "neg",
        )
        .column_as(bigint_sum("\"hour_entry\".\"minutes\""), "minutes")
        .column_as(count(), "entries")
        .join(JoinType::LeftJoin, hour_entry::Relation::Review.def())
        .filter(which)
        .group_by(E::MarketId)
        .group_by(E::LotId)
        .group_by(E::Modality)
        .group_by(E::Kind)
        .group_by(Expr::cust("st"))
        .group_by(Expr::cust("neg"));
    if by_chantier {
        select = select
            .join(
                JoinType::InnerJoin,
                hour_entry::Entity::belongs_to(placement::Entity)
                    .from(E::PlacementId)
                    .to(placement::Column::Id)
                    .into(),
            )
            .column(placement::Column::ChantierId)
            .group_by(placement::Column::ChantierId);
    } else {
        select = select.column_as(Expr::cust("NULL"), "chantier_id");
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        Option<Uuid>,
        Option<Uuid>,
        String,
        String,
        String,
        i32,
        i64,
        i64,
        Option<Uuid>,
    )> = select.into_tuple().all(conn).await?;
    Ok(rows
        .into_iter()
        .map(
            |(market, lot, modality, kind, status, neg, minutes, entries, chantier)| HourRow {
                market,
                lot,
                modality: Modality::from_db(&modality),
                kind: HourKind::from_db(&kind),
                status: HourStatus::from_db(&status),
                deduction: neg != 0,
                minutes,
                entries,
                chantier,
            },
        )
        .collect())
}

fn to_participant() -> sea_orm::RelationDef {
    placement::Entity::belongs_to(participant::Entity)
        .from(placement::Column::ParticipantId)
        .to(participant::Column::Id)
        .into()
}

/// The people of the subject in the window, one row each (their situation at their first
/// start in the subject). Bounded by people, not by ledger entries.
pub async fn people<C: ConnectionTrait>(
    conn: &C,
    subject: Subject,
    w: &Window,
) -> AppResult<Vec<(Uuid, Person)>> {
    use participant::Column as Pa;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        Uuid,
        String,
        NaiveDate,
        String,
        Option<NaiveDate>,
        bool,
        String,
        NaiveDate,
    )> = placement::Entity::find()
        .select_only()
        .column(placement::Column::ParticipantId)
        .column(Pa::Sex)
        .column(Pa::BirthDate)
        .column(Pa::EducationLevel)
        .column(Pa::UnemployedSince)
        .column(Pa::QpvResident)
        .column(Pa::Publics)
        .column_as(
            Expr::col((placement::Entity, placement::Column::StartDate)).min(),
            "recruited_on",
        )
        .join(JoinType::InnerJoin, to_participant())
        .filter(live_placements(subject, w))
        .group_by(placement::Column::ParticipantId)
        .group_by(Pa::Sex)
        .group_by(Pa::BirthDate)
        .group_by(Pa::EducationLevel)
        .group_by(Pa::UnemployedSince)
        .group_by(Pa::QpvResident)
        .group_by(Pa::Publics)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, sex, birth, edu, since, qpv, publics, recruited_on)| {
            (
                id,
                Person {
                    sex: Sex::from_db(&sex),
                    birth_date: birth,
                    education: EducationLevel::from_db(&edu),
                    unemployed_since: since,
                    qpv_resident: qpv,
                    publics: publics.split(',').filter_map(Public::parse).collect(),
                    recruited_on,
                },
            )
        })
        .collect())
}

/// Placements by contract type, and how many of them hired a resident of a QPV.
pub async fn contracts<C: ConnectionTrait>(
    conn: &C,
    subject: Subject,
    w: &Window,
) -> AppResult<Vec<(ContractType, i64, i64)>> {
    let rows: Vec<(String, i64, i64)> = placement::Entity::find()
        .select_only()
        .column(placement::Column::ContractType)
        .column_as(count(), "n")
        .column_as(
            bigint_sum("CASE WHEN \"participant\".\"qpv_resident\" THEN 1 ELSE 0 END"),
            "qpv",
        )
        .join(JoinType::InnerJoin, to_participant())
        .filter(live_placements(subject, w))
        .group_by(placement::Column::ContractType)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: Vec<(ContractType, i64, i64)> = rows
        .into_iter()
        .map(|(c, n, q)| (ContractType::from_db(&c), n, q))
        .collect();
    out.sort_by_key(|(c, _, _)| *c);
    Ok(out)
}

/// Exits of the subject's placements in the window, by chantier and outcome.
pub async fn exits<C: ConnectionTrait>(
    conn: &C,
    subject: Subject,
    w: &Window,
) -> AppResult<Vec<(Option<Uuid>, ExitOutcome, i64)>> {
    let rows: Vec<(Option<Uuid>, String, i64)> = placement_exit::Entity::find()
        .select_only()
        .column(placement::Column::ChantierId)
        .column(placement_exit::Column::Outcome)
        .column_as(count(), "n")
        .join(
            JoinType::InnerJoin,
            placement_exit::Entity::belongs_to(placement::Entity)
                .from(placement_exit::Column::PlacementId)
                .to(placement::Column::Id)
                .into(),
        )
        .filter(placements_of(subject))
        .filter(exits_in(w))
        .group_by(placement::Column::ChantierId)
        .group_by(placement_exit::Column::Outcome)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(c, o, n)| (c, ExitOutcome::from_db(&o), n))
        .collect())
}
