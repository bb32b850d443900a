//! Placements and the hours ledger.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{chantier, hour_entry, lot, market, organization, participant, placement};

use super::chantier::Chantier;
use super::path::{ExitRecord, Immersion};

use super::access::{Subject, actor, guard};
use super::connection::{self, Conn, app};
use super::loaders::{CorrectionsOf, ExitOf, ImmersionsOf, ReviewOf, loader, one, opt};
use super::market::{Lot, Market, hours};
use super::party::{Organization, Participant};
use crate::domain::{
    CddiDerogation, ContractType, HourKind, HourSource, HourStatus, Modality, PeriodKind,
    PlacementStatus,
};
use crate::ids::{self, Kind};
use crate::service;
use crate::service::ledger::{
    CorrectHoursInput, HourEntryFilter, RecordHoursInput, ReviewHoursInput, status_of,
};
use crate::service::placement::{CreatePlacementInput, PlacementFilter, UpdatePlacementInput};

/// Mise en situation: one participant on one market (or lot) through one modality.
pub struct Placement(pub placement::Model);

#[Object]
impl Placement {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Placement, self.0.id)
    }
    /// The reference a company quotes in its monthly statement (import).
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn participant(&self, ctx: &Context<'_>) -> Result<Option<Participant>> {
        Ok(one::<participant::Entity>(ctx, self.0.participant_id)
            .await?
            .map(Participant))
    }
    /// The market worked on (none for a chantier without a market).
    async fn market(&self, ctx: &Context<'_>) -> Result<Option<Market>> {
        Ok(opt::<market::Entity>(ctx, self.0.market_id)
            .await?
            .map(Market))
    }
    async fn lot(&self, ctx: &Context<'_>) -> Result<Option<Lot>> {
        Ok(opt::<lot::Entity>(ctx, self.0.lot_id).await?.map(Lot))
    }
    async fn modality(&self) -> Modality {
        Modality::from_db(&self.0.modality)
    }
    async fn employer(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(one::<organization::Entity>(ctx, self.0.employer_id)
            .await?
            .map(Organization))
    }
    async fn contract_type(&self) -> ContractType {
        ContractType::from_db(&self.0.contract_type)
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
    async fn weekly_hours(&self) -> f64 {
        hours(self.0.weekly_minutes as i64)
    }
    async fn status(&self) -> PlacementStatus {
        PlacementStatus::from_db(&self.0.status)
    }
    async fn chantier(&self, ctx: &Context<'_>) -> Result<Option<Chantier>> {
        Ok(opt::<chantier::Entity>(ctx, self.0.chantier_id)
            .await?
            .map(Chantier))
    }
    /// Why a CDDI runs beyond its usual cap.
    async fn derogation(&self, ctx: &Context<'_>) -> Result<Option<CddiDerogation>> {
        self.person(ctx).await?;
        Ok(self.0.derogation.as_deref().and_then(CddiDerogation::parse))
    }
    async fn training_end_date(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        self.person(ctx).await?;
        Ok(self.0.training_end_date)
    }
    /// Immersions (PMSMP) during the contract.
    async fn immersions(&self, ctx: &Context<'_>) -> Result<Option<Vec<Immersion>>> {
        self.person(ctx).await?;
        let rows = loader(ctx).load_one(ImmersionsOf(self.0.id)).await?;
        Ok(Some(
            rows.unwrap_or_default()
                .into_iter()
                .map(Immersion)
                .collect(),
        ))
    }
    /// How the placement ended.
    async fn exit(&self, ctx: &Context<'_>) -> Result<Option<ExitRecord>> {
        self.person(ctx).await?;
        let found = loader(ctx).load_one(ExitOf(self.0.id)).await?;
        Ok(found.and_then(|(e, _)| e).map(ExitRecord::of_exit))
    }
    /// The situation a year after the exit.
    async fn follow_up(&self, ctx: &Context<'_>) -> Result<Option<ExitRecord>> {
        self.person(ctx).await?;
        let found = loader(ctx).load_one(ExitOf(self.0.id)).await?;
        Ok(found.and_then(|(_, f)| f).map(ExitRecord::of_follow_up))
    }
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn hour_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<HourEntry>> {
        let filter = HourEntryFilter {
            placement_id: Some(ids::encode(Kind::Placement, self.0.id)),
            ..Default::default()
        };
        list_entries(ctx, filter, first, after).await
    }
}

impl Placement {
    /// The field rule applied to the placement's person (derogation, path, exit).
    async fn person(&self, ctx: &Context<'_>) -> Result<()> {
        guard(ctx, Subject::Person(self.0.participant_id)).await
    }
}

/// One line of the hours ledger. Never changed: a correction is a new entry pointing here.
pub struct HourEntry(pub hour_entry::Model);

#[Object]
impl HourEntry {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::HourEntry, self.0.id)
    }
    async fn placement(&self, ctx: &Context<'_>) -> Result<Option<Placement>> {
        Ok(one::<placement::Entity>(ctx, self.0.placement_id)
            .await?
            .map(Placement))
    }
    async fn period_kind(&self) -> PeriodKind {
        PeriodKind::from_db(&self.0.period_kind)
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    async fn kind(&self) -> HourKind {
        HourKind::from_db(&self.0.kind)
    }
    async fn modality(&self) -> Modality {
        Modality::from_db(&self.0.modality)
    }
    /// Exact signed minutes of this entry (a correction holds the difference it makes).
    async fn minutes(&self) -> i64 {
        self.0.minutes
    }
    async fn hours(&self) -> f64 {
        hours(self.0.minutes)
    }
    async fn source(&self) -> HourSource {
        HourSource::from_db(&self.0.source)
    }
    async fn status(&self, ctx: &Context<'_>) -> Result<HourStatus> {
        Ok(status_of(
            loader(ctx).load_one(ReviewOf(self.0.id)).await?.as_ref(),
        ))
    }
    async fn reviewed_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(loader(ctx)
            .load_one(ReviewOf(self.0.id))
            .await?
            .map(|r| r.decided_at))
    }
    async fn review_reason(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(loader(ctx)
            .load_one(ReviewOf(self.0.id))
            .await?
            .and_then(|r| r.reason))
    }
    /// The entry this one corrects.
    async fn corrects(&self, ctx: &Context<'_>) -> Result<Option<HourEntry>> {
        Ok(opt::<hour_entry::Entity>(ctx, self.0.corrects_id)
            .await?
            .map(HourEntry))
    }
    /// Why this correction was made.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// Corrections of this entry, oldest first.
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<HourEntry>> {
        let rows = loader(ctx)
            .load_one(CorrectionsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(HourEntry).collect())
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

pub async fn list_placements(
    ctx: &Context<'_>,
    filter: PlacementFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Conn<Placement>> {
    let had = after.is_some();
    let args = connection::args(after, first)?;
    let page = service::placement::list(app(ctx), actor(ctx)?, filter, args).await?;
    Ok(connection::connection(page, had, |m| m.id, Placement))
}

pub async fn list_entries(
    ctx: &Context<'_>,
    filter: HourEntryFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Conn<HourEntry>> {
    let had = after.is_some();
    let args = connection::args(after, first)?;
    let page = service::ledger::list(app(ctx), actor(ctx)?, filter, args).await?;
    Ok(connection::connection(page, had, |m| m.id, HourEntry))
}

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn placements(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlacementFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Placement>> {
        list_placements(ctx, filter.unwrap_or_default(), first, after).await
    }

    /// The ledger, oldest first: declarations, corrections, with their status.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn hour_entries(
        &self,
        ctx: &Context<'_>,
        filter: Option<HourEntryFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<HourEntry>> {
        list_entries(ctx, filter.unwrap_or_default(), first, after).await
    }
}

#[derive(Default)]
pub struct LedgerMutation;

#[Object]
impl LedgerMutation {
    async fn create_placement(
        &self,
        ctx: &Context<'_>,
        input: CreatePlacementInput,
    ) -> Result<Placement> {
        Ok(Placement(
            service::placement::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects a placement's contract (weekly hours, dates, employer, contract type, CDDI
    /// derogation): every rule of `createPlacement` is checked again on the edited contract;
    /// refused once the placement has ended or its market is closed. Facilitators of its
    /// territory; `version` is the one read.
    async fn update_placement(
        &self,
        ctx: &Context<'_>,
        input: UpdatePlacementInput,
    ) -> Result<Placement> {
        Ok(Placement(
            service::placement::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Deletes a placement entered by mistake while nothing depends on it (hours, exit,
    /// immersion, convention); the refusal names what does. Returns the deleted ID.
    async fn delete_placement(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::placement::delete(app(ctx), actor(ctx)?, &id, version).await?)
    }

    /// Records hours of a placement for a month or a day (status DECLARED).
    async fn record_hours(&self, ctx: &Context<'_>, input: RecordHoursInput) -> Result<HourEntry> {
        Ok(HourEntry(
            service::ledger::record(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Validates entries, all or none.
    async fn validate_hours(
        &self,
        ctx: &Context<'_>,
        input: ReviewHoursInput,
    ) -> Result<Vec<HourEntry>> {
        let rows =
            service::ledger::review(app(ctx), actor(ctx)?, input, HourStatus::Validated).await?;
        Ok(rows.into_iter().map(HourEntry).collect())
    }

    /// Rejects entries with a reason, all or none.
    async fn reject_hours(
        &self,
        ctx: &Context<'_>,
        input: ReviewHoursInput,
    ) -> Result<Vec<HourEntry>> {
        let rows =
            service::ledger::review(app(ctx), actor(ctx)?, input, HourStatus::Rejected).await?;
        Ok(rows.into_iter().map(HourEntry).collect())
    }

    /// Corrects an entry: records a new entry with the difference and the reason.
    async fn correct_hours(
        &self,
        ctx: &Context<'_>,
        input: CorrectHoursInput,
    ) -> Result<HourEntry> {
        Ok(HourEntry(
            service::ledger::correct(app(ctx), actor(ctx)?, input).await?,
        ))
    }
}
