//! Chantiers: set-up, supervisors, budgets and funding lines (DOMAIN.md sections 2, 4, 7).

use async_graphql::{ID, InputObject};
use chrono::{Datelike, NaiveDate};
use entity::{
    budget_line, chantier, chantier_budget, chantier_supervisor, commercial_derogation, commission,
    convention, funding_line, hour_entry, market, operation, organization, placement,
    status_change,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::organization::expect_kind;
use super::page::{self, Page, PageArgs};
use super::params::{Place, set_at};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::{Actor, Role};
use crate::domain::chantier::{self as rules, FundedChantier, Line};
use crate::domain::contract::{Span, check_capacity_holds};
use crate::domain::params::ParamKey;
use crate::domain::{
    BudgetCategory, ChantierKind, ChantierStatus, FunderCategory, FundingPurpose, FundingStatus,
    OperationKind, OrganizationKind, PlacementStatus, SiaeSubtype, hours, text,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// The chantier's parameters on a day (its market, operation and territory).
pub fn place(c: &chantier::Model) -> Place {
    Place {
        territory: c.territory_id,
        operation: c.operation_id,
        market: c.market_id,
    }
}

/// Loads a chantier the caller may see; `lock` takes it for update (PostgreSQL).
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> AppResult<chantier::Model> {
    let mut q = chantier::Entity::find()
        .filter(scope::chantiers(actor)?)
        .filter(chantier::Column::Id.eq(id));
    if lock {
        q = q.lock_exclusive();
    }
    q.one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("chantier".into()))
}

/// Facilitators of the territory, or the carrier for what it runs itself.
pub(super) fn may_run(actor: &Actor, c: &chantier::Model, carrier_too: bool) -> AppResult<()> {
    if actor.facilitates(c.territory_id)
        || (carrier_too && actor.is(Role::Siae) && actor.of_org(Some(c.carrier_id)))
    {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Debug, InputObject)]
pub struct CreateChantierInput {
    pub territory_id: ID,
    pub title: String,
    pub kind: ChantierKind,
    /// Structure porteuse: an insertion structure, or a public body (commune, CCAS).
    pub carrier_id: ID,
    /// Maître d'ouvrage.
    pub owner_id: ID,
    /// The urban-renewal operation (required for a chantier d'insertion rénovation).
    pub operation_id: Option<ID>,
    /// The market it is bought through (often an art. 30 market).
    pub market_id: Option<ID>,
    pub place: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Places for participants at once.
    pub capacity: i32,
    /// Nature des activités, travaux-supports.
    pub activities: String,
    /// Reference of the préfet's decision allowing commercial revenue up to the derogation's
    /// share (COMMERCIAL_REVENUE_DEROGATION_SHARE); `grantCommercialDerogation` records one later.
    pub commercial_derogation: Option<String>,
    /// Date of that decision: required with it.
    pub commercial_derogation_decided_on: Option<NaiveDate>,
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateChantierInput,
) -> AppResult<chantier::Model> {
    let territory = ids::decode(Kind::Territory, &input.territory_id, "territoryId")?;
    let carrier_id = ids::decode(Kind::Organization, &input.carrier_id, "carrierId")?;
    let owner_id = ids::decode(Kind::Organization, &input.owner_id, "ownerId")?;
    let operation_id =
        ids::decode_opt(Kind::Operation, input.operation_id.as_ref(), "operationId")?;
    let market_id = ids::decode_opt(Kind::Market, input.market_id.as_ref(), "marketId")?;
    let title = text::required("title", &input.title)?;
    let place_name = text::required("place", &input.place)?;
    let activities = text::required("activities", &input.activities)?;
    let derogation = text::optional(
        "commercialDerogation",
        input.commercial_derogation.as_deref(),
    )?;
    if derogation.is_some() && input.commercial_derogation_decided_on.is_none() {
        return Err(AppError::bad_input(
            "commercialDerogationDecidedOn",
            "commercialDerogationDecidedOn : la date de la décision du préfet accompagne sa référence (required with commercialDerogation)",
        ));
    }
    crate::domain::placement::check_dates(input.start_date, Some(input.end_date))?;
    rules::check_capacity(input.capacity)?;
    if !actor.facilitates(territory) {
        return Err(AppError::NotFound("territoire".into()));
    }
    let txn = ctx.db.begin_write().await?;
    let carrier =
        get::<organization::Entity, _>(&txn.txn, carrier_id, "structure porteuse").await?;
    let carrier_kind = OrganizationKind::from_db(&carrier.kind);
    let subtype = carrier.siae_subtype.as_deref().and_then(SiaeSubtype::parse);
    let carrier_ok = match input.kind {
        ChantierKind::Aci | ChantierKind::Renovation => {
            carrier_kind == OrganizationKind::Buyer || subtype == Some(SiaeSubtype::Aci)
        }
        ChantierKind::ChantierEcole | ChantierKind::TrainingSite => matches!(
            carrier_kind,
            OrganizationKind::Siae | OrganizationKind::Buyer | OrganizationKind::Company
        ),
    };
    if !carrier_ok {
        return Err(AppError::bad_input(
            "carrierId",
            format!(
                "carrierId : « {} » ne peut pas porter un chantier {} ; un ACI est porté par une structure conventionnée ACI ou une collectivité (wrong carrier)",
                carrier.name, input.kind
            ),
        ));
    }
    expect_kind(&txn.txn, owner_id, "ownerId", &[OrganizationKind::Buyer]).await?;
    if let Some(op) = operation_id {
        let op = get::<operation::Entity, _>(&txn.txn, op, "opération").await?;
        if op.territory_id != territory {
            return Err(AppError::bad_input(
                "operationId",
                "operationId : l'opération est sur un autre territoire",
            ));
        }
        let urban = matches!(
            OperationKind::from_db(&op.kind),
            OperationKind::Pru | OperationKind::Npnru
        );
        if input.kind == ChantierKind::Renovation && !urban {
            return Err(AppError::bad_input(
                "operationId",
                "operationId : un chantier d'insertion rénovation se tient sur une opération de renouvellement urbain (PRU ou NPNRU)",
            ));
        }
    } else if input.kind == ChantierKind::Renovation {
        return Err(AppError::bad_input(
            "operationId",
            "operationId : un chantier d'insertion rénovation se rattache à son opération de renouvellement urbain (required)",
        ));
    }
    if let Some(m) = market_id {
        let m = get::<market::Entity, _>(&txn.txn, m, "marché").await?;
        if m.territory_id != territory {
            return Err(AppError::bad_input(
                "marketId",
                "marketId : le marché est sur un autre territoire",
            ));
        }
        if let (Some(op), Some(mop)) = (operation_id, m.operation_id)
            && op != mop
        {
            return Err(AppError::bad_input(
                "marketId",
                "marketId : le marché relève d'une autre opération",
            ));
        }
    }
    let row = chantier::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        territory_id: Set(territory),
        search_text: Set(text::search_key(&[&title, &place_name])),
        title: Set(title),
        kind: Set(input.kind.as_str().to_string()),
        carrier_id: Set(carrier_id),
        owner_id: Set(owner_id),
        operation_id: Set(operation_id),
        market_id: Set(market_id),
        place: Set(place_name),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        capacity: Set(input.capacity),
        activities: Set(activities),
        status: Set(ChantierStatus::Project.as_str().to_string()),
        commercial_derogation: Set(derogation.clone()),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
        coordination: Set(None),
        objectives: Set(None),
        economic_partners: Set(None),
        qualitative_notes: Set(None),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createChantier",
        Kind::Chantier,
        row.id,
        Some(territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    if let (Some(reference), Some(on)) = (derogation, input.commercial_derogation_decided_on) {
        let share = set_at(&txn.txn, place(&row), on)
            .await?
            .int(ParamKey::CommercialRevenueDerogationShare);
        record_derogation(ctx, &txn.txn, actor, &row, reference, on, share).await?;
    }
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Chantier(row.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Debug, InputObject)]
pub struct UpdateChantierInput {
    pub chantier_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub title: Option<String>,
    pub place: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Places for participants at once (1 to 500); not under the people on it on any day.
    pub capacity: Option<i32>,
    pub activities: Option<String>,
}

/// An ended or evaluated chantier is history: its fiche évaluation was made on it as it stood.
pub(super) fn still_editable(c: &chantier::Model) -> AppResult<()> {
    match ChantierStatus::from_db(&c.status) {
        ChantierStatus::Project | ChantierStatus::Agreed | ChantierStatus::Running => Ok(()),
        s => Err(AppError::Conflict(format!(
            "le chantier « {} » est {s} : il ne se modifie plus (chantier is {s})",
            c.title
        ))),
    }
}

/// What already hangs on a chantier's dates, for an edit of them.
async fn dated_dependents<C: ConnectionTrait>(
    conn: &C,
    c: &chantier::Model,
) -> AppResult<rules::DatedDependents> {
    let placements: Vec<(String, NaiveDate)> = placement::Entity::find()
        .filter(placement::Column::ChantierId.eq(c.id))
        .filter(placement::Column::Status.ne(PlacementStatus::Cancelled.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.reference, p.start_date))
        .collect();
    let supervisors: Vec<(String, NaiveDate)> = chantier_supervisor::Entity::find()
        .filter(chantier_supervisor::Column::ChantierId.eq(c.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.name, s.start_date))
        .collect();
    let mut years: Vec<i32> = chantier_budget::Entity::find()
        .select_only()
        .column(chantier_budget::Column::Year)
        .filter(chantier_budget::Column::ChantierId.eq(c.id))
        .into_tuple()
        .all(conn)
        .await?;
    years.extend(
        funding_line::Entity::find()
            .select_only()
            .column(funding_line::Column::Year)
            .filter(funding_line::Column::ChantierId.eq(c.id))
            .filter(funding_line::Column::Status.eq(FundingStatus::Active.as_str()))
            .into_tuple::<i32>()
            .all(conn)
            .await?,
    );
    let on_site = sea_orm::sea_query::Query::select()
        .column(placement::Column::Id)
        .from(placement::Entity)
        .and_where(placement::Column::ChantierId.eq(c.id))
        .to_owned();
    let hours: Option<(Option<NaiveDate>, Option<NaiveDate>)> = hour_entry::Entity::find()
        .select_only()
        .column_as(hour_entry::Column::PeriodStart.min(), "first")
        .column_as(hour_entry::Column::PeriodEnd.max(), "last")
        .filter(hour_entry::Column::PlacementId.in_subquery(on_site))
        .into_tuple()
        .one(conn)
        .await?;
    let (first_hour, last_hour) = hours.unwrap_or((None, None));
    Ok(rules::DatedDependents {
        placements,
        supervisors,
        years,
        first_hour,
        last_hour,
    })
}

/// Title, place, dates, capacity and activities; every rule of the creation is checked again on
/// the values as edited, and the dates and capacity against what the chantier already holds.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateChantierInput,
) -> AppResult<chantier::Model> {
    let id = ids::decode(Kind::Chantier, &input.chantier_id, "chantierId")?;
    let title = input
        .title
        .as_deref()
        .map(|t| text::required("title", t))
        .transpose()?;
    let place_name = input
        .place
        .as_deref()
        .map(|p| text::required("place", p))
        .transpose()?;
    let activities = input
        .activities
        .as_deref()
        .map(|a| text::required("activities", a))
        .transpose()?;
    if let Some(cap) = input.capacity {
        rules::check_capacity(cap)?;
    }
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // Locked: a placement created meanwhile counts against the capacity, or waits.
    let c = load(conn, actor, id, true).await?;
    may_run(actor, &c, false)?;
    super::edit::expect_version(conn, actor, Kind::Chantier, c.id, c.version, input.version)
        .await?;
    still_editable(&c)?;
    let start = input.start_date.unwrap_or(c.start_date);
    let end = input.end_date.unwrap_or(c.end_date);
    crate::domain::placement::check_dates(start, Some(end))?;
    let capacity = input.capacity.unwrap_or(c.capacity);
    let dates_change = start != c.start_date || end != c.end_date;
    if dates_change {
        rules::check_dates_hold(start, end, &dated_dependents(conn, &c).await?)?;
    }
    if dates_change || capacity < c.capacity {
        let spans: Vec<Span> = placement::Entity::find()
            .filter(placement::Column::ChantierId.eq(c.id))
            .filter(placement::Column::Status.ne(PlacementStatus::Cancelled.as_str()))
            .all(conn)
            .await?
            .iter()
            .map(|p| (p.start_date, p.end_date))
            .collect();
        check_capacity_holds(&spans, i64::from(capacity))?;
    }
    let before = audit::json(&c);
    let mut am: chantier::ActiveModel = c.clone().into();
    let title = title.unwrap_or_else(|| c.title.clone());
    let place_name = place_name.unwrap_or_else(|| c.place.clone());
    am.search_text = Set(text::search_key(&[&title, &place_name]));
    am.title = Set(title);
    am.place = Set(place_name);
    if let Some(a) = activities {
        am.activities = Set(a);
    }
    am.start_date = Set(start);
    am.end_date = Set(end);
    am.capacity = Set(capacity);
    let row = am.update(conn).await?;
    super::deadlines::sync(conn, ctx, super::deadlines::SubjectRef::Chantier(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateChantier",
        Kind::Chantier,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes a chantier created by mistake, while nothing depends on it (placements,
/// supervisors, budgets, funding lines, derogations, conventions, commissions, moves of its life
/// cycle); its deadlines, derived from it, and their reminders go with it.
pub async fn delete(ctx: &Ctx, actor: &Actor, chantier_id: &ID, version: i32) -> AppResult<ID> {
    let id = ids::decode(Kind::Chantier, chantier_id, "id")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = load(conn, actor, id, true).await?;
    may_run(actor, &c, false)?;
    super::edit::expect_version(conn, actor, Kind::Chantier, c.id, c.version, version).await?;
    let placements = placement::Entity::find()
        .filter(placement::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let supervisors = chantier_supervisor::Entity::find()
        .filter(chantier_supervisor::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let budgets = chantier_budget::Entity::find()
        .filter(chantier_budget::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let funding = funding_line::Entity::find()
        .filter(funding_line::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let derogations = commercial_derogation::Entity::find()
        .filter(commercial_derogation::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let conventions = convention::Entity::find()
        .filter(convention::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let commissions = commission::Entity::find()
        .filter(commission::Column::ChantierId.eq(c.id))
        .count(conn)
        .await?;
    let sent = super::deadlines::reminders_sent(conn, super::deadlines::of_one(c.id)).await?;
    let moves = status_change::Entity::find()
        .filter(status_change::Column::ObjectId.eq(c.id))
        .count(conn)
        .await?;
    super::edit::nothing_depends(
        &format!("le chantier « {} »", c.title),
        &[
            ("mise(s) en situation", placements),
            ("encadrant(s)", supervisors),
            ("budget(s)", budgets),
            ("ligne(s) de financement", funding),
            ("dérogation(s)", derogations),
            ("convention(s)", conventions),
            ("commission(s)", commissions),
            ("changement(s) d'état", moves),
            ("rappel(s) déjà envoyé(s)", sent),
        ],
    )?;
    super::deadlines::delete_where(conn, super::deadlines::of_one(c.id)).await?;
    chantier::Entity::delete_by_id(c.id).exec(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "deleteChantier",
        Kind::Chantier,
        c.id,
        Some(c.territory_id),
        Some(&audit::json(&c)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Chantier, c.id))
}

#[derive(Debug, InputObject)]
pub struct AddSupervisorInput {
    pub chantier_id: ID,
    pub name: String,
    /// Structure the supervisor belongs to.
    pub organization_id: Option<ID>,
    /// Hours of technical supervision (formation technique), e.g. "1200".
    pub technical_hours: String,
    /// Hours of socio-professional accompaniment.
    pub socio_professional_hours: String,
    /// Hours of theoretical training.
    pub theory_training_hours: String,
    /// Default: the chantier's start.
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A supervisor starts within the chantier's dates.
pub(super) fn supervisor_starts_within(c: &chantier::Model, start: NaiveDate) -> AppResult<()> {
    if start < c.start_date || start > c.end_date {
        return Err(AppError::bad_input(
            "startDate",
            format!(
                "startDate : hors des dates du chantier ({} – {})",
                c.start_date, c.end_date
            ),
        ));
    }
    Ok(())
}

pub(super) fn hours_field(field: &'static str, raw: &str) -> AppResult<i64> {
    let m = hours::parse_hours(field, raw)?;
    if m < 0 {
        return Err(AppError::bad_input(
            field,
            format!("{field} : des heures positives (must not be negative)"),
        ));
    }
    Ok(m)
}

pub async fn add_supervisor(
    ctx: &Ctx,
    actor: &Actor,
    input: AddSupervisorInput,
) -> AppResult<chantier_supervisor::Model> {
    let chantier_id = ids::decode(Kind::Chantier, &input.chantier_id, "chantierId")?;
    let org = ids::decode_opt(
        Kind::Organization,
        input.organization_id.as_ref(),
        "organizationId",
    )?;
    let name = text::required("name", &input.name)?;
    let technical = hours_field("technicalHours", &input.technical_hours)?;
    let social = hours_field("socioProfessionalHours", &input.socio_professional_hours)?;
    let theory = hours_field("theoryTrainingHours", &input.theory_training_hours)?;
    let txn = ctx.db.begin_write().await?;
    let c = load(&txn.txn, actor, chantier_id, true).await?;
    may_run(actor, &c, true)?;
    let start = input.start_date.unwrap_or(c.start_date);
    crate::domain::placement::check_dates(start, input.end_date)?;
    supervisor_starts_within(&c, start)?;
    if let Some(o) = org {
        get::<organization::Entity, _>(&txn.txn, o, "organisation").await?;
    }
    let row = chantier_supervisor::ActiveModel {
        id: Set(ctx.clock.new_id()),
        chantier_id: Set(c.id),
        name: Set(name),
        organization_id: Set(org),
        technical_minutes: Set(technical),
        socio_professional_minutes: Set(social),
        theory_training_minutes: Set(theory),
        start_date: Set(start),
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
        "addChantierSupervisor",
        Kind::Supervisor,
        row.id,
        Some(c.territory_id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The free-text fields of the fiche évaluation ACI; each given field replaces the stored one
/// (an empty string clears it).
#[derive(Debug, InputObject)]
pub struct EvaluationNotesInput {
    pub chantier_id: ID,
    /// Ingénierie et coordination.
    pub coordination: Option<String>,
    /// Objectifs de l'action.
    pub objectives: Option<String>,
    /// Partenaires économiques.
    pub economic_partners: Option<String>,
    /// Autres renseignements, aspects qualitatifs.
    pub qualitative_notes: Option<String>,
}

pub async fn set_evaluation_notes(
    ctx: &Ctx,
    actor: &Actor,
    input: EvaluationNotesInput,
) -> AppResult<chantier::Model> {
    let chantier_id = ids::decode(Kind::Chantier, &input.chantier_id, "chantierId")?;
    let fields = [
        ("coordination", &input.coordination),
        ("objectives", &input.objectives),
        ("economicPartners", &input.economic_partners),
        ("qualitativeNotes", &input.qualitative_notes),
    ];
    let mut values = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        values.push(match value {
            Some(v) => Some(text::long(name, Some(v))?),
            None => None,
        });
    }
    let txn = ctx.db.begin_write().await?;
    let c = load(&txn.txn, actor, chantier_id, true).await?;
    may_run(actor, &c, true)?;
    let before = audit::json(&c);
    let mut am: chantier::ActiveModel = c.clone().into();
    let [coordination, objectives, economic, notes] = values.try_into().expect("four fields");
    if let Some(v) = coordination {
        am.coordination = Set(v);
    }
    if let Some(v) = objectives {
        am.objectives = Set(v);
    }
    if let Some(v) = economic {
        am.economic_partners = Set(v);
    }
    if let Some(v) = notes {
        am.qualitative_notes = Set(v);
    }
    let row = am.update(&txn.txn).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "setChantierEvaluationNotes",
        Kind::Chantier,
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
pub struct BudgetLineInput {
    pub category: BudgetCategory,
    /// What the model budget asks to state ("Préciser"), e.g. the commune or the fund.
    pub label: Option<String>,
    pub amount_cents: i64,
    /// Who pays, for a product line.
    pub funder_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct SetBudgetInput {
    pub chantier_id: ID,
    pub year: i32,
    pub lines: Vec<BudgetLineInput>,
}

/// Records a new version of the chantier's budget for a year.
pub async fn set_budget(
    ctx: &Ctx,
    actor: &Actor,
    input: SetBudgetInput,
) -> AppResult<chantier_budget::Model> {
    let chantier_id = ids::decode(Kind::Chantier, &input.chantier_id, "chantierId")?;
    if input.lines.len() > 200 {
        return Err(AppError::bad_input("lines", "lines : 200 lignes au plus"));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, l) in input.lines.iter().enumerate() {
        let funder = ids::decode_opt(
            Kind::Organization,
            l.funder_id.as_ref(),
            &format!("lines[{i}].funderId"),
        )?;
        let label = text::optional("label", l.label.as_deref())?;
        lines.push((l.category, label, l.amount_cents, funder));
    }
    let txn = ctx.db.begin_write().await?;
    let c = load(&txn.txn, actor, chantier_id, true).await?;
    may_run(actor, &c, true)?;
    rules::check_year(input.year, c.start_date.year(), c.end_date.year())?;
    let params = set_at(
        &txn.txn,
        place(&c),
        NaiveDate::from_ymd_opt(input.year, 1, 1).unwrap_or(c.start_date),
    )
    .await?;
    let amounts: Vec<(BudgetCategory, i64)> = lines.iter().map(|(c, _, a, _)| (*c, *a)).collect();
    let derogation = derogation_share(&txn.txn, c.id).await?;
    let summary = rules::check_budget(&amounts, derogation, &params)?;
    let version = current_budget(&txn.txn, c.id, input.year)
        .await?
        .map_or(1, |b| b.version + 1);
    let budget = chantier_budget::ActiveModel {
        id: Set(ctx.clock.new_id()),
        chantier_id: Set(c.id),
        year: Set(input.year),
        version: Set(version),
        charges_cents: Set(summary.charges),
        products_cents: Set(summary.products),
        equipment_cents: Set(summary.equipment),
        commercial_share_bp: Set(summary.commercial_share_bp as i32),
        unforeseen_share_bp: Set(summary.unforeseen_share_bp as i32),
        warnings: Set(summary.warnings.join("\n")),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    let rows: Vec<budget_line::ActiveModel> = lines
        .into_iter()
        .enumerate()
        .map(
            |(i, (category, label, amount, funder))| budget_line::ActiveModel {
                id: Set(ctx.clock.new_id()),
                budget_id: Set(budget.id),
                position: Set(i as i32),
                category: Set(category.as_str().to_string()),
                label: Set(label),
                amount_cents: Set(amount),
                funder_id: Set(funder),
            },
        )
        .collect();
    budget_line::Entity::insert_many(rows)
        .exec(&txn.txn)
        .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "setChantierBudget",
        Kind::Budget,
        budget.id,
        Some(c.territory_id),
        None,
        Some(&audit::json(&budget)),
    )
    .await?;
    txn.commit().await?;
    Ok(budget)
}

/// The share of the charges the derogation in force allows (the last one recorded), if any.
pub async fn derogation_share<C: ConnectionTrait>(
    conn: &C,
    chantier: Uuid,
) -> AppResult<Option<i64>> {
    Ok(latest_derogation(conn, chantier)
        .await?
        .map(|d| i64::from(d.share_bp)))
}

pub async fn latest_derogation<C: ConnectionTrait>(
    conn: &C,
    chantier: Uuid,
) -> AppResult<Option<commercial_derogation::Model>> {
    Ok(commercial_derogation::Entity::find()
        .filter(commercial_derogation::Column::ChantierId.eq(chantier))
        .order_by_desc(commercial_derogation::Column::Id)
        .one(conn)
        .await?)
}

async fn record_derogation<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    actor: &Actor,
    c: &chantier::Model,
    reference: String,
    decided_on: NaiveDate,
    share_bp: i64,
) -> AppResult<commercial_derogation::Model> {
    let row = commercial_derogation::ActiveModel {
        id: Set(ctx.clock.new_id()),
        chantier_id: Set(c.id),
        reference: Set(reference),
        decided_on: Set(Some(decided_on)),
        share_bp: Set(share_bp as i32),
        recorded_at: Set(ctx.clock.now()),
        recorded_by: Set(actor.label.clone()),
    }
    .insert(conn)
    .await?;
    audit::record(
        ctx,
        conn,
        actor,
        "grantCommercialDerogation",
        Kind::Chantier,
        c.id,
        Some(c.territory_id),
        None,
        Some(&serde_json::json!({
            "reference": row.reference,
            "decidedOn": decided_on,
            "shareBp": share_bp,
        })),
    )
    .await?;
    Ok(row)
}

#[derive(Debug, InputObject)]
pub struct GrantCommercialDerogationInput {
    pub chantier_id: ID,
    /// Reference of the préfet's decision (arrêté), taken after the CDIAE's favourable opinion.
    pub reference: String,
    /// Date of the decision (not in the future).
    pub decided_on: NaiveDate,
    /// The share of the charges the decision allows, in basis points (default
    /// COMMERCIAL_REVENUE_DEROGATION_SHARE, 50 %); above the ordinary cap, at most that.
    pub share_bp: Option<i32>,
}

/// Records a derogation to the commercial revenue cap of an ACI, at any time of its life
/// (facilitators of its territory). Budgets set from then on are judged with it.
pub async fn grant_derogation(
    ctx: &Ctx,
    actor: &Actor,
    input: GrantCommercialDerogationInput,
) -> AppResult<commercial_derogation::Model> {
    let chantier_id = ids::decode(Kind::Chantier, &input.chantier_id, "chantierId")?;
    let reference = text::required("reference", &input.reference)?;
    let txn = ctx.db.begin_write().await?;
    // Locked like a budget's chantier: a budget set meanwhile sees the derogation or not at all.
    let c = load(&txn.txn, actor, chantier_id, true).await?;
    may_run(actor, &c, false)?;
    let today = super::territory::today(ctx, &txn.txn, c.territory_id).await?;
    if input.decided_on > today {
        return Err(AppError::bad_input(
            "decidedOn",
            format!(
                "decidedOn : {} est à venir ; on enregistre une décision prise (decision in the future)",
                input.decided_on
            ),
        ));
    }
    let params = set_at(&txn.txn, place(&c), today).await?;
    let share = input.share_bp.map_or(
        params.int(ParamKey::CommercialRevenueDerogationShare),
        i64::from,
    );
    rules::check_derogation_share(share, &params)?;
    let row = record_derogation(
        ctx,
        &txn.txn,
        actor,
        &c,
        reference.clone(),
        input.decided_on,
        share,
    )
    .await?;
    // The chantier shows the reference in force.
    let mut am: chantier::ActiveModel = c.into();
    am.commercial_derogation = Set(Some(reference));
    am.update(&txn.txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// The latest version of a year's budget.
pub async fn current_budget<C: ConnectionTrait>(
    conn: &C,
    chantier: Uuid,
    year: i32,
) -> AppResult<Option<chantier_budget::Model>> {
    Ok(chantier_budget::Entity::find()
        .filter(chantier_budget::Column::ChantierId.eq(chantier))
        .filter(chantier_budget::Column::Year.eq(year))
        .order_by_desc(chantier_budget::Column::Version)
        .one(conn)
        .await?)
}

#[derive(Debug, InputObject)]
pub struct AddFundingLineInput {
    pub chantier_id: ID,
    pub funder_id: Option<ID>,
    pub funder_category: FunderCategory,
    pub purpose: FundingPurpose,
    pub year: i32,
    pub amount_cents: i64,
}

fn as_line(l: &funding_line::Model) -> Line {
    Line {
        funder: FunderCategory::from_db(&l.funder_category),
        purpose: FundingPurpose::from_db(&l.purpose),
        year: l.year,
        amount: l.amount_cents,
    }
}

pub async fn add_funding(
    ctx: &Ctx,
    actor: &Actor,
    input: AddFundingLineInput,
) -> AppResult<funding_line::Model> {
    let chantier_id = ids::decode(Kind::Chantier, &input.chantier_id, "chantierId")?;
    let funder = ids::decode_opt(Kind::Organization, input.funder_id.as_ref(), "funderId")?;
    let txn = ctx.db.begin_write().await?;
    let c = load(&txn.txn, actor, chantier_id, true).await?;
    may_run(actor, &c, false)?;
    if let Some(f) = funder {
        expect_kind(
            &txn.txn,
            f,
            "funderId",
            &[OrganizationKind::Funder, OrganizationKind::Buyer],
        )
        .await?;
    }
    // The carrier's cap spans its chantiers: take the carrier too, so two lines cannot race.
    organization::Entity::find_by_id(c.carrier_id)
        .lock_exclusive()
        .one(&txn.txn)
        .await?;
    let active = |q: sea_orm::Select<funding_line::Entity>| {
        q.filter(funding_line::Column::Status.eq(FundingStatus::Active.as_str()))
    };
    let lines: Vec<Line> = active(funding_line::Entity::find())
        .filter(funding_line::Column::ChantierId.eq(c.id))
        .all(&txn.txn)
        .await?
        .iter()
        .map(as_line)
        .collect();
    let siblings = sea_orm::sea_query::Query::select()
        .column(chantier::Column::Id)
        .from(chantier::Entity)
        .and_where(chantier::Column::CarrierId.eq(c.carrier_id))
        .and_where(chantier::Column::Id.ne(c.id))
        .to_owned();
    let carrier_lines: Vec<Line> = active(funding_line::Entity::find())
        .filter(funding_line::Column::ChantierId.in_subquery(siblings))
        .filter(funding_line::Column::Purpose.eq(FundingPurpose::Accompaniment.as_str()))
        .all(&txn.txn)
        .await?
        .iter()
        .map(as_line)
        .collect();
    let equipment = current_budget(&txn.txn, c.id, input.year)
        .await?
        .map_or(0, |b| b.equipment_cents);
    let params = set_at(
        &txn.txn,
        place(&c),
        NaiveDate::from_ymd_opt(input.year, 1, 1).unwrap_or(c.start_date),
    )
    .await?;
    let new = Line {
        funder: input.funder_category,
        purpose: input.purpose,
        year: input.year,
        amount: input.amount_cents,
    };
    let facts = FundedChantier {
        kind: ChantierKind::from_db(&c.kind),
        first_year: c.start_date.year(),
        last_year: c.end_date.year(),
        capacity: i64::from(c.capacity),
        equipment,
    };
    rules::check_funding(new, facts, &lines, &carrier_lines, &params)?;
    let row = funding_line::ActiveModel {
        id: Set(ctx.clock.new_id()),
        chantier_id: Set(c.id),
        funder_id: Set(funder),
        funder_category: Set(input.funder_category.as_str().to_string()),
        purpose: Set(input.purpose.as_str().to_string()),
        year: Set(input.year),
        amount_cents: Set(input.amount_cents),
        status: Set(FundingStatus::Active.as_str().to_string()),
        cancel_reason: Set(None),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "addFundingLine",
        Kind::FundingLine,
        row.id,
        Some(c.territory_id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Cancels a line (it stays, with the reason); a new amount is a new line.
pub async fn cancel_funding(
    ctx: &Ctx,
    actor: &Actor,
    line_id: &ID,
    reason: &str,
) -> AppResult<funding_line::Model> {
    let id = ids::decode(Kind::FundingLine, line_id, "fundingLineId")?;
    let reason = text::required("reason", reason)?;
    let txn = ctx.db.begin_write().await?;
    let line = get::<funding_line::Entity, _>(&txn.txn, id, "ligne de financement").await?;
    let c = load(&txn.txn, actor, line.chantier_id, true).await?;
    may_run(actor, &c, false)?;
    if line.status == FundingStatus::Cancelled.as_str() {
        return Err(AppError::Conflict(
            "cette ligne de financement est déjà annulée (already cancelled)".into(),
        ));
    }
    let mut active: funding_line::ActiveModel = line.clone().into();
    active.status = Set(FundingStatus::Cancelled.as_str().to_string());
    active.cancel_reason = Set(Some(reason));
    let row = active.update(&txn.txn).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "cancelFundingLine",
        Kind::FundingLine,
        row.id,
        Some(c.territory_id),
        Some(&audit::json(&line)),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Debug, Default, InputObject)]
pub struct ChantierFilter {
    pub territory_id: Option<ID>,
    pub kind: Option<ChantierKind>,
    pub status: Option<ChantierStatus>,
    pub operation_id: Option<ID>,
    /// Words of the title or place, accents and case ignored.
    pub search: Option<String>,
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: ChantierFilter,
    args: PageArgs,
) -> AppResult<Page<chantier::Model>> {
    let mut select = chantier::Entity::find().filter(scope::chantiers(actor)?);
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        select = select.filter(chantier::Column::TerritoryId.eq(t));
    }
    if let Some(o) = ids::decode_opt(
        Kind::Operation,
        filter.operation_id.as_ref(),
        "filter.operationId",
    )? {
        select = select.filter(chantier::Column::OperationId.eq(o));
    }
    if let Some(k) = filter.kind {
        select = select.filter(chantier::Column::Kind.eq(k.as_str()));
    }
    if let Some(s) = filter.status {
        select = select.filter(chantier::Column::Status.eq(s.as_str()));
    }
    if let Some(s) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        select = select.filter(page::matches(chantier::Column::SearchText, s));
    }
    page::fetch(&ctx.db.conn, select, chantier::Column::Id, &args).await
}
