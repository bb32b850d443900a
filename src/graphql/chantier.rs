//! Chantiers: set-up, supervisors, budgets and funding lines.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::{
    budget_line, chantier, chantier_budget, chantier_supervisor, funding_line, market, operation,
    organization,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::access::{Subject, actor, guard};
use super::connection::{self, Conn, app};
use super::ledger::{Placement, list_placements};
use super::loaders::{children, one, opt, territory_of};
use super::market::{Market, hours};
use super::party::{Operation, Organization, Territory};
use crate::domain::{
    BudgetCategory, ChantierKind, ChantierStatus, FunderCategory, FundingPurpose, FundingStatus,
};
use crate::error::AppError;
use crate::ids::{self, Kind};
use crate::service;
use crate::service::chantier::{
    AddFundingLineInput, AddSupervisorInput, ChantierFilter, CreateChantierInput, SetBudgetInput,
    UpdateChantierInput,
};
use crate::service::placement::PlacementFilter;

/// Chantier d'insertion, chantier-école or chantier de formation.
pub struct Chantier(pub chantier::Model);

#[Object]
impl Chantier {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Chantier, self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn kind(&self) -> ChantierKind {
        ChantierKind::from_db(&self.0.kind)
    }
    async fn status(&self) -> ChantierStatus {
        ChantierStatus::from_db(&self.0.status)
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.territory_id).await?))
    }
    /// Structure porteuse.
    async fn carrier(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(one::<organization::Entity>(ctx, self.0.carrier_id)
            .await?
            .map(Organization))
    }
    /// Maître d'ouvrage.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(one::<organization::Entity>(ctx, self.0.owner_id)
            .await?
            .map(Organization))
    }
    async fn operation(&self, ctx: &Context<'_>) -> Result<Option<Operation>> {
        Ok(opt::<operation::Entity>(ctx, self.0.operation_id)
            .await?
            .map(Operation))
    }
    async fn market(&self, ctx: &Context<'_>) -> Result<Option<Market>> {
        Ok(opt::<market::Entity>(ctx, self.0.market_id)
            .await?
            .map(Market))
    }
    async fn place(&self) -> &str {
        &self.0.place
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> NaiveDate {
        self.0.end_date
    }
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    async fn activities(&self) -> &str {
        &self.0.activities
    }
    /// Reference of the derogation allowing more commercial revenue, if any.
    async fn commercial_derogation(&self) -> Option<&str> {
        self.0.commercial_derogation.as_deref()
    }
    /// The derogation in force on commercial revenue (the last one recorded), if any.
    async fn commercial_derogation_decision(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<CommercialDerogation>> {
        // Newest first: the first is the one in force.
        let rows = children::<entity::commercial_derogation::Entity>(ctx, self.0.id).await?;
        Ok(rows.into_iter().next().map(CommercialDerogation::from))
    }
    async fn supervisors(&self, ctx: &Context<'_>) -> Result<Vec<Supervisor>> {
        let rows = children::<chantier_supervisor::Entity>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Supervisor).collect())
    }
    /// The current budget of a year (its latest version).
    async fn budget(&self, ctx: &Context<'_>, year: i32) -> Result<Option<Budget>> {
        Ok(
            service::chantier::current_budget(&app(ctx).db.conn, self.0.id, year)
                .await?
                .map(Budget),
        )
    }
    /// Every funding line, cancelled ones included.
    async fn funding_lines(&self, ctx: &Context<'_>) -> Result<Vec<FundingLine>> {
        let rows = children::<funding_line::Entity>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(FundingLine).collect())
    }
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn placements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Placement>> {
        let filter = PlacementFilter {
            chantier_id: Some(ids::encode(Kind::Chantier, self.0.id)),
            ..Default::default()
        };
        list_placements(ctx, filter, first, after).await
    }
}

/// Encadrant, with hours by kind of supervision (fiche évaluation ACI).
pub struct Supervisor(pub chantier_supervisor::Model);

#[Object]
impl Supervisor {
    async fn id(&self) -> ID {
        ids::encode(Kind::Supervisor, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization))
    }
    async fn technical_hours(&self) -> f64 {
        hours(self.0.technical_minutes)
    }
    async fn socio_professional_hours(&self) -> f64 {
        hours(self.0.socio_professional_minutes)
    }
    async fn theory_training_hours(&self) -> f64 {
        hours(self.0.theory_training_minutes)
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
}

/// One version of a chantier's budget for a year.
pub struct Budget(pub chantier_budget::Model);

#[Object]
impl Budget {
    async fn id(&self) -> ID {
        ids::encode(Kind::Budget, self.0.id)
    }
    async fn year(&self) -> i32 {
        self.0.year
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn charges_cents(&self) -> i64 {
        self.0.charges_cents
    }
    async fn products_cents(&self) -> i64 {
        self.0.products_cents
    }
    /// Commercial revenue over all products, in basis points (3000 = 30 %).
    async fn commercial_share_bp(&self) -> i32 {
        self.0.commercial_share_bp
    }
    /// Unforeseen line over all charges, in basis points.
    async fn unforeseen_share_bp(&self) -> i32 {
        self.0.unforeseen_share_bp
    }
    /// Rules that warn without refusing (e.g. the unforeseen line far from 5 %).
    async fn warnings(&self) -> Vec<String> {
        self.0.warnings.lines().map(String::from).collect()
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// Who filed this version (an e-mail address): administrators and facilitators.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(Some(&self.0.created_by))
    }
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<BudgetLine>> {
        let rows = budget_line::Entity::find()
            .filter(budget_line::Column::BudgetId.eq(self.0.id))
            .order_by_asc(budget_line::Column::Position)
            .all(&app(ctx).db.conn)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(BudgetLine).collect())
    }
}

pub struct BudgetLine(pub budget_line::Model);

#[Object]
impl BudgetLine {
    async fn category(&self) -> BudgetCategory {
        BudgetCategory::from_db(&self.0.category)
    }
    /// Whether the line is a charge (else a product).
    async fn charge(&self) -> bool {
        crate::domain::chantier::is_charge(BudgetCategory::from_db(&self.0.category))
    }
    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }
    async fn amount_cents(&self) -> i64 {
        self.0.amount_cents
    }
    async fn funder(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.funder_id)
            .await?
            .map(Organization))
    }
}

/// Money from one funder, for one purpose and year.
pub struct FundingLine(pub funding_line::Model);

#[Object]
impl FundingLine {
    async fn id(&self) -> ID {
        ids::encode(Kind::FundingLine, self.0.id)
    }
    async fn funder(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.funder_id)
            .await?
            .map(Organization))
    }
    async fn funder_category(&self) -> FunderCategory {
        FunderCategory::from_db(&self.0.funder_category)
    }
    async fn purpose(&self) -> FundingPurpose {
        FundingPurpose::from_db(&self.0.purpose)
    }
    async fn year(&self) -> i32 {
        self.0.year
    }
    async fn amount_cents(&self) -> i64 {
        self.0.amount_cents
    }
    async fn status(&self) -> FundingStatus {
        FundingStatus::from_db(&self.0.status)
    }
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
}

#[derive(Default)]
pub struct ChantierQuery;

#[Object]
impl ChantierQuery {
    /// Chantiers the caller may see: facilitators of the territory, the carrier, the maître
    /// d'ouvrage, funders of one of its lines.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn chantiers(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChantierFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Chantier>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page = service::chantier::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
            .await?;
        Ok(connection::connection(page, had, |m| m.id, Chantier))
    }
}

/// A préfet's decision raising an ACI's commercial revenue cap (Code du travail art. D5132-34).
#[derive(async_graphql::SimpleObject)]
pub struct CommercialDerogation {
    pub reference: String,
    /// Null for a derogation recorded before its date was asked for.
    pub decided_on: Option<NaiveDate>,
    /// Receipts stay strictly under this share of the charges (basis points).
    pub share_bp: i32,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::commercial_derogation::Model> for CommercialDerogation {
    fn from(d: entity::commercial_derogation::Model) -> Self {
        CommercialDerogation {
            reference: d.reference,
            decided_on: d.decided_on,
            share_bp: d.share_bp,
            recorded_at: d.recorded_at,
        }
    }
}

#[derive(Default)]
pub struct ChantierMutation;

#[Object]
impl ChantierMutation {
    async fn create_chantier(
        &self,
        ctx: &Context<'_>,
        input: CreateChantierInput,
    ) -> Result<Chantier> {
        Ok(Chantier(
            service::chantier::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Title, place, dates, capacity and activities, until the chantier has ended: the creation's
    /// rules are checked again, the dates and capacity against what the chantier already holds
    /// (its contracts, supervisors, budgets, funding lines, hours); its deadlines follow.
    async fn update_chantier(
        &self,
        ctx: &Context<'_>,
        input: UpdateChantierInput,
    ) -> Result<Chantier> {
        Ok(Chantier(
            service::chantier::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Deletes a chantier nothing depends on yet (CONFLICT naming what does); the deleted ID.
    async fn delete_chantier(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::chantier::delete(app(ctx), actor(ctx)?, &id, version).await?)
    }

    async fn add_chantier_supervisor(
        &self,
        ctx: &Context<'_>,
        input: AddSupervisorInput,
    ) -> Result<Supervisor> {
        Ok(Supervisor(
            service::chantier::add_supervisor(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects a supervisor (the supervision must still cover the chantier's placements);
    /// names the chantier's version.
    async fn update_chantier_supervisor(
        &self,
        ctx: &Context<'_>,
        input: service::supervision::UpdateSupervisorInput,
    ) -> Result<Supervisor> {
        Ok(Supervisor(
            service::supervision::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Removes a supervisor recorded by mistake, while the others still cover the chantier's
    /// placements; names the chantier's version.
    async fn remove_chantier_supervisor(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> Result<ID> {
        Ok(service::supervision::remove(app(ctx), actor(ctx)?, id, version).await?)
    }

    /// Records the préfet's derogation on an ACI's commercial revenue (after the CDIAE's
    /// favourable opinion), at any time; budgets set from then on may go up to its share.
    async fn grant_commercial_derogation(
        &self,
        ctx: &Context<'_>,
        input: service::chantier::GrantCommercialDerogationInput,
    ) -> Result<CommercialDerogation> {
        Ok(
            service::chantier::grant_derogation(app(ctx), actor(ctx)?, input)
                .await?
                .into(),
        )
    }

    /// Records a new version of a year's budget: it must balance and keep commercial revenue
    /// strictly under 30 % of its charges (under the derogation's share with one, D5132-34);
    /// an unforeseen line far from 5 % is only a warning.
    async fn set_chantier_budget(
        &self,
        ctx: &Context<'_>,
        input: SetBudgetInput,
    ) -> Result<Budget> {
        Ok(Budget(
            service::chantier::set_budget(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Adds a funding line within the caps of its purpose.
    async fn add_funding_line(
        &self,
        ctx: &Context<'_>,
        input: AddFundingLineInput,
    ) -> Result<FundingLine> {
        Ok(FundingLine(
            service::chantier::add_funding(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Cancels a funding line; it stays with its reason.
    async fn cancel_funding_line(
        &self,
        ctx: &Context<'_>,
        funding_line_id: ID,
        reason: String,
    ) -> Result<FundingLine> {
        Ok(FundingLine(
            service::chantier::cancel_funding(app(ctx), actor(ctx)?, &funding_line_id, &reason)
                .await?,
        ))
    }
}
