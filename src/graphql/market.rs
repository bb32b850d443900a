//! Markets, lots, the hour target and the market's life cycle.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{lot, market, operation, organization, status_change, territory};

use super::access::{Subject, actor, guard};
use super::connection::{self, Conn, app};
use super::ledger::{HourEntry, Placement};
use super::loaders::{ById, FinalReportOf, LotsOf, TotalsOf, loader, one, opt, territory_of};
use super::party::{Operation, Organization, Territory};
use crate::domain::calibration::{self, CalibrationInput};
use crate::domain::figures::{Tally, completion_bp};
use crate::domain::hours::format_hours;
use crate::domain::params::{ParamKey, default_value};
use crate::domain::{AnruCategory, ClauseKind, MarketStatus, Modality, TargetSource};
use crate::ids::{self, Kind};
use crate::service;
use crate::service::ledger::HourEntryFilter;
use crate::service::market::{
    AddLotInput, CreateMarketInput, MarketFilter, SetHourTargetInput, TransitionMarketInput,
    UpdateLotInput, UpdateMarketInput,
};
use crate::service::placement::PlacementFilter;
use crate::service::stats::{Scope, Totals};

/// Minutes shown as hours, rounded to the hundredth (display only; storage is exact minutes).
pub fn hours(minutes: i64) -> f64 {
    format_hours(minutes).parse().unwrap_or(0.0)
}

/// Counted hours over the target (the reports' `completionBp` ÷ 10 000); null without a target.
fn rate(done: i64, target: Option<i64>) -> Option<f64> {
    completion_bp(done, target).map(|bp| bp as f64 / 10_000.0)
}

/// The insertion clause and its legal basis, with the old article number users still say.
#[derive(SimpleObject)]
pub struct Clause {
    kind: ClauseKind,
    /// Article of the Code de la commande publique.
    legal_basis: &'static str,
    /// Article of the former Code des marchés publics (art. 14, 30, 53, 15).
    former_article: &'static str,
    /// `considerationsSociales` label of the national open data (DECP).
    decp_label: &'static str,
}

impl From<ClauseKind> for Clause {
    fn from(kind: ClauseKind) -> Self {
        Clause {
            kind,
            legal_basis: kind.legal_basis(),
            former_article: kind.former_article(),
            decp_label: kind.decp_label(),
        }
    }
}

/// Calibrage: the proposal of the formula and the inputs it used.
#[derive(SimpleObject)]
pub struct Calibration {
    amount_cents: i64,
    labour_share_bp: i32,
    insertion_rate_bp: i32,
    hourly_cost_cents: i64,
    proposed_hours: f64,
}

/// Hours of one modality (the same rule as the market's fields).
#[derive(SimpleObject)]
pub struct ModalityHours {
    modality: Modality,
    /// Validated hours that count towards the clause.
    hours_delivered: f64,
    /// Every validated hour, training included.
    hours_validated: f64,
    hours_pending: f64,
    hours_pending_deductions: f64,
}

/// One move of a life cycle: who, when, from, to, why.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct StatusChange {
    from: String,
    to: String,
    reason: Option<String>,
    changed_at: DateTime<Utc>,
    #[graphql(skip)]
    changed_by: Option<String>,
}

#[async_graphql::ComplexObject]
impl StatusChange {
    /// Who made the move (an e-mail address): administrators and facilitators.
    async fn changed_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(self.changed_by.as_deref())
    }
}

impl From<status_change::Model> for StatusChange {
    fn from(m: status_change::Model) -> Self {
        StatusChange {
            from: m.from_status,
            to: m.to_status,
            reason: m.reason,
            changed_at: m.changed_at,
            changed_by: m.changed_by,
        }
    }
}

async fn totals(ctx: &Context<'_>, scope: Scope, id: uuid::Uuid) -> Result<Totals> {
    Ok(loader(ctx)
        .load_one(TotalsOf(scope, id))
        .await?
        .unwrap_or_default())
}

async fn figures(ctx: &Context<'_>, scope: Scope, id: uuid::Uuid) -> Result<Tally> {
    Ok(totals(ctx, scope, id).await?.all)
}

fn by_modality(t: &Totals) -> Vec<ModalityHours> {
    t.by_modality
        .iter()
        .map(|(modality, m)| ModalityHours {
            modality: *modality,
            hours_delivered: hours(m.counted.minutes),
            hours_validated: hours(m.validated.minutes),
            hours_pending: hours(m.pending.minutes),
            hours_pending_deductions: hours(m.pending_deductions.minutes),
        })
        .collect()
}

/// The final report of a market as produced (DOMAIN.md section 3): the figures as they stood.
pub struct MarketFinalReport {
    r: entity::market_final_report::Model,
    current: bool,
}

/// Hours of one kind or modality in a final report.
#[derive(SimpleObject)]
pub struct FinalReportLine {
    /// The kind (WORK, TRAINING, IMMERSION) or the modality.
    key: String,
    hours_delivered: f64,
    hours_validated: f64,
}

fn final_lines(figures: &serde_json::Value, part: &str, key: &str) -> Vec<FinalReportLine> {
    figures[part]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| FinalReportLine {
            key: l[key].as_str().unwrap_or_default().to_string(),
            hours_delivered: hours(l["countedMinutes"].as_i64().unwrap_or(0)),
            hours_validated: hours(l["validatedMinutes"].as_i64().unwrap_or(0)),
        })
        .collect()
}

#[Object]
impl MarketFinalReport {
    /// 1 for the first one; producing it again adds a version.
    async fn version(&self) -> i32 {
        self.r.version
    }
    /// The figures are as at the end of this day (the territory's).
    async fn as_at(&self) -> NaiveDate {
        self.r.as_at
    }
    async fn produced_at(&self) -> DateTime<Utc> {
        self.r.produced_at
    }
    /// Who produced it (an e-mail address): administrators and facilitators.
    async fn produced_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(Some(&self.r.produced_by))
    }
    /// Whether no hour was recorded or decided on the market since: closing needs it.
    async fn current(&self) -> bool {
        self.current
    }
    async fn hours_target(&self) -> Option<f64> {
        self.r.target_minutes.map(hours)
    }
    /// Counted hours (training as TRAINING_HOURS_COUNT said on `asAt`).
    async fn hours_delivered(&self) -> f64 {
        hours(self.r.counted_minutes)
    }
    async fn hours_validated(&self) -> f64 {
        hours(self.r.validated_minutes)
    }
    async fn hours_pending(&self) -> f64 {
        hours(self.r.pending_minutes)
    }
    async fn hours_pending_deductions(&self) -> f64 {
        hours(self.r.pending_deductions_minutes)
    }
    async fn hours_rejected(&self) -> f64 {
        hours(self.r.rejected_minutes)
    }
    async fn completion_rate(&self) -> Option<f64> {
        self.r.completion_bp.map(|bp| bp as f64 / 10_000.0)
    }
    /// TRAINING_HOURS_COUNT in force on `asAt`.
    async fn training_hours_count(&self) -> bool {
        self.r.training_counts
    }
    async fn by_kind(&self) -> Vec<FinalReportLine> {
        final_lines(&self.figures(), "byKind", "kind")
    }
    async fn by_modality(&self) -> Vec<FinalReportLine> {
        final_lines(&self.figures(), "byModality", "modality")
    }
}

impl MarketFinalReport {
    fn figures(&self) -> serde_json::Value {
        serde_json::from_str(&self.r.figures).unwrap_or_default()
    }
}

/// Marché public with its insertion clause.
pub struct Market(pub market::Model);

#[Object]
impl Market {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Market, self.0.id)
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn status(&self) -> MarketStatus {
        MarketStatus::from_db(&self.0.status)
    }
    async fn clause(&self) -> Clause {
        ClauseKind::from_db(&self.0.clause_kind).into()
    }
    async fn anru_category(&self) -> Option<AnruCategory> {
        self.0
            .anru_category
            .as_deref()
            .and_then(AnruCategory::parse)
    }
    /// Amount excluding tax, in cents.
    async fn amount_cents(&self) -> i64 {
        self.0.amount_cents
    }
    async fn notification_date(&self) -> Option<NaiveDate> {
        self.0.notification_date
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> NaiveDate {
        self.0.end_date
    }
    /// Maître d'ouvrage / acheteur.
    async fn buyer(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(one::<organization::Entity>(ctx, self.0.buyer_id)
            .await?
            .map(Organization))
    }
    async fn operation(&self, ctx: &Context<'_>) -> Result<Option<Operation>> {
        Ok(opt::<operation::Entity>(ctx, self.0.operation_id)
            .await?
            .map(Operation))
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.territory_id).await?))
    }
    async fn lots(&self, ctx: &Context<'_>) -> Result<Vec<Lot>> {
        let lots = loader(ctx)
            .load_one(LotsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(lots.into_iter().map(Lot).collect())
    }
    /// The calibrage proposal and its inputs, once computed.
    async fn calibration(&self) -> Option<Calibration> {
        let m = &self.0;
        Some(Calibration {
            amount_cents: m.amount_cents,
            labour_share_bp: m.calib_labour_share_bp?,
            insertion_rate_bp: m.calib_insertion_rate_bp?,
            hourly_cost_cents: m.calib_hourly_cost_cents?,
            proposed_hours: hours(m.calib_proposed_minutes?),
        })
    }
    /// Objectif d'heures d'insertion.
    async fn hours_target(&self) -> Option<f64> {
        self.0.target_minutes.map(hours)
    }
    async fn hours_target_source(&self) -> Option<TargetSource> {
        self.0
            .target_source
            .as_deref()
            .and_then(TargetSource::parse)
    }
    /// Validated hours that count towards the clause: training hours only where
    /// TRAINING_HOURS_COUNT (in force today for this market) says so. The market report's
    /// `counted` hours, and what the forecast is made of.
    async fn hours_delivered(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Market, self.0.id)
                .await?
                .counted
                .minutes,
        ))
    }
    /// Every validated hour, training included.
    async fn hours_validated(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Market, self.0.id)
                .await?
                .validated
                .minutes,
        ))
    }
    /// Hours awaiting validation that would add to the total: declarations and upward
    /// corrections. Never negative.
    async fn hours_pending(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Market, self.0.id)
                .await?
                .pending
                .minutes,
        ))
    }
    /// Hours that downward corrections awaiting validation would take away, as a positive
    /// number (shown apart so that no figure is ever negative).
    async fn hours_pending_deductions(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Market, self.0.id)
                .await?
                .pending_deductions
                .minutes,
        ))
    }
    /// `hoursDelivered` ÷ target (1.0 = 100 %); null without a target.
    async fn completion_rate(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let t = figures(ctx, Scope::Market, self.0.id).await?;
        Ok(rate(t.counted.minutes, self.0.target_minutes))
    }
    /// People with a placement on the market (cancelled placements excluded).
    async fn participant_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(totals(ctx, Scope::Market, self.0.id)
            .await?
            .participant_count)
    }
    async fn by_modality(&self, ctx: &Context<'_>) -> Result<Vec<ModalityHours>> {
        Ok(by_modality(&totals(ctx, Scope::Market, self.0.id).await?))
    }
    /// The last version of the market's final report (null: not produced yet). Closing needs
    /// it, made from the ledger as it is.
    async fn final_report(&self, ctx: &Context<'_>) -> Result<Option<MarketFinalReport>> {
        Ok(loader(ctx)
            .load_one(FinalReportOf(self.0.id))
            .await?
            .map(|(r, current)| MarketFinalReport { r, current }))
    }
    /// Moves open now (guards checked), for the front end's buttons.
    async fn available_transitions(&self, ctx: &Context<'_>) -> Result<Vec<MarketStatus>> {
        Ok(service::market::available_transitions(app(ctx), actor(ctx)?, &self.0).await?)
    }
    /// Every move of the market's life cycle, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        Ok(service::market::history(app(ctx), self.0.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn placements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Placement>> {
        let filter = PlacementFilter {
            market_id: Some(ids::encode(Kind::Market, self.0.id)),
            ..Default::default()
        };
        super::ledger::list_placements(ctx, filter, first, after).await
    }
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn hour_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<HourEntry>> {
        let filter = HourEntryFilter {
            market_id: Some(ids::encode(Kind::Market, self.0.id)),
            ..Default::default()
        };
        super::ledger::list_entries(ctx, filter, first, after).await
    }
}

/// Lot of a market, with its awardee (titulaire).
pub struct Lot(pub lot::Model);

#[Object]
impl Lot {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Lot, self.0.id)
    }
    async fn number(&self) -> i32 {
        self.0.number
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn amount_cents(&self) -> Option<i64> {
        self.0.amount_cents
    }
    async fn market(&self, ctx: &Context<'_>) -> Result<Option<Market>> {
        Ok(one::<market::Entity>(ctx, self.0.market_id)
            .await?
            .map(Market))
    }
    /// Titulaire.
    async fn awardee(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.awardee_id)
            .await?
            .map(Organization))
    }
    async fn hours_target(&self) -> Option<f64> {
        self.0.target_minutes.map(hours)
    }
    /// As the market's fields, for this lot.
    async fn hours_delivered(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Lot, self.0.id).await?.counted.minutes,
        ))
    }
    async fn hours_validated(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Lot, self.0.id).await?.validated.minutes,
        ))
    }
    async fn hours_pending(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Lot, self.0.id).await?.pending.minutes,
        ))
    }
    async fn hours_pending_deductions(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(hours(
            figures(ctx, Scope::Lot, self.0.id)
                .await?
                .pending_deductions
                .minutes,
        ))
    }
    async fn completion_rate(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let t = figures(ctx, Scope::Lot, self.0.id).await?;
        Ok(rate(t.counted.minutes, self.0.target_minutes))
    }
    async fn participant_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(totals(ctx, Scope::Lot, self.0.id).await?.participant_count)
    }
    async fn by_modality(&self, ctx: &Context<'_>) -> Result<Vec<ModalityHours>> {
        Ok(by_modality(&totals(ctx, Scope::Lot, self.0.id).await?))
    }
}

pub async fn list_markets(
    ctx: &Context<'_>,
    filter: MarketFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Conn<Market>> {
    let had = after.is_some();
    let args = connection::args(after, first)?;
    let page = service::market::list(app(ctx), actor(ctx)?, filter, args).await?;
    prefetch(ctx, &page.items).await?;
    Ok(connection::connection(page, had, |m| m.id, Market))
}

/// Fields that read the ledger totals.
const TOTAL_FIELDS: [&str; 7] = [
    "hoursDelivered",
    "hoursValidated",
    "hoursPending",
    "hoursPendingDeductions",
    "completionRate",
    "participantCount",
    "byModality",
];

/// Loads, in one batch each, what the query asks of a page of markets (and of their lots),
/// into the request's loader cache: the count of queries then does not depend on timing.
async fn prefetch(ctx: &Context<'_>, markets: &[market::Model]) -> Result<()> {
    // A page's markets are asked for as `edges { node }` or as `nodes`: either way, prefetch.
    let look = ctx.look_ahead();
    let node = Asked([look.field("edges").field("node"), look.field("nodes")]);
    let l = loader(ctx);
    if node.field("buyer").exists() {
        l.load_many(
            markets
                .iter()
                .map(|m| ById::<organization::Entity>::new(m.buyer_id)),
        )
        .await?;
    }
    if node.field("territory").exists() {
        l.load_many(
            markets
                .iter()
                .map(|m| ById::<territory::Entity>::new(m.territory_id)),
        )
        .await?;
    }
    if TOTAL_FIELDS.iter().any(|f| node.field(f).exists()) {
        l.load_many(markets.iter().map(|m| TotalsOf(Scope::Market, m.id)))
            .await?;
    }
    let lots_field = node.field("lots");
    if lots_field.exists() {
        let lots: Vec<lot::Model> = l
            .load_many(markets.iter().map(|m| LotsOf(m.id)))
            .await?
            .into_values()
            .flatten()
            .collect();
        if lots_field.field("awardee").exists() {
            l.load_many(
                lots.iter()
                    .filter_map(|x| x.awardee_id)
                    .map(ById::<organization::Entity>::new),
            )
            .await?;
        }
        if TOTAL_FIELDS.iter().any(|f| lots_field.field(f).exists()) {
            l.load_many(lots.iter().map(|x| TotalsOf(Scope::Lot, x.id)))
                .await?;
        }
    }
    Ok(())
}

/// The same selection reached by two paths (`edges { node }` and `nodes`).
struct Asked<'a>([async_graphql::Lookahead<'a>; 2]);

impl<'a> Asked<'a> {
    fn field(&self, name: &str) -> Asked<'a> {
        Asked([self.0[0].field(name), self.0[1].field(name)])
    }

    fn exists(&self) -> bool {
        self.0.iter().any(|l| l.exists())
    }
}

#[derive(Default)]
pub struct MarketQuery;

#[Object]
impl MarketQuery {
    /// Markets, filtered; ordered by creation.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn markets(
        &self,
        ctx: &Context<'_>,
        filter: Option<MarketFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Market>> {
        list_markets(ctx, filter.unwrap_or_default(), first, after).await
    }

    /// The kinds of insertion clause with their legal bases.
    async fn clause_kinds(&self) -> Vec<Clause> {
        ClauseKind::ALL.iter().map(|k| (*k).into()).collect()
    }

    /// What the calibrage formula proposes, without saving anything.
    async fn calibration_proposal(
        &self,
        amount_cents: i64,
        labour_share_bp: i32,
        insertion_rate_bp: Option<i32>,
        hourly_cost_cents: Option<i64>,
    ) -> Result<Calibration> {
        let input = CalibrationInput {
            amount_cents,
            labour_share_bp,
            // National defaults: a market's own values apply when its target is set.
            insertion_rate_bp: insertion_rate_bp
                .unwrap_or(default_value(ParamKey::CalibrationInsertionRate).int() as i32),
            hourly_cost_cents: hourly_cost_cents
                .unwrap_or(default_value(ParamKey::CalibrationHourlyCost).int()),
        };
        let proposed = calibration::propose(input).map_err(crate::error::AppError::from)?;
        Ok(Calibration {
            amount_cents,
            labour_share_bp: input.labour_share_bp,
            insertion_rate_bp: input.insertion_rate_bp,
            hourly_cost_cents: input.hourly_cost_cents,
            proposed_hours: hours(proposed),
        })
    }
}

#[derive(Default)]
pub struct MarketMutation;

#[Object]
impl MarketMutation {
    /// Registers a market (status DRAFT), with its lots.
    async fn create_market(&self, ctx: &Context<'_>, input: CreateMarketInput) -> Result<Market> {
        Ok(Market(
            service::market::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn add_lot(&self, ctx: &Context<'_>, input: AddLotInput) -> Result<Lot> {
        Ok(Lot(
            service::market::add_lot(app(ctx), actor(ctx)?, input).await?
        ))
    }

    async fn set_lot_awardee(&self, ctx: &Context<'_>, lot_id: ID, awardee_id: ID) -> Result<Lot> {
        Ok(Lot(service::market::set_lot_awardee(
            app(ctx),
            actor(ctx)?,
            &lot_id,
            &awardee_id,
        )
        .await?))
    }

    /// Computes the calibrage proposal and sets the target: the proposal, or `overrideHours`.
    async fn set_market_hour_target(
        &self,
        ctx: &Context<'_>,
        input: SetHourTargetInput,
    ) -> Result<Market> {
        Ok(Market(
            service::market::set_hour_target(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Produces the final report of a COMPLETED market (a new version each time): the market
    /// report's figures as they stand today, recorded with who produced it and when.
    async fn produce_market_final_report(
        &self,
        ctx: &Context<'_>,
        market_id: ID,
    ) -> Result<MarketFinalReport> {
        let r = service::final_report::produce(app(ctx), actor(ctx)?, &market_id).await?;
        Ok(MarketFinalReport { r, current: true })
    }

    /// Moves the market along its life cycle; refused moves say why.
    async fn transition_market(
        &self,
        ctx: &Context<'_>,
        input: TransitionMarketInput,
    ) -> Result<Market> {
        Ok(Market(
            service::market::transition(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects a market: reference, title, clause, amount, dates (deadlines follow), buyer
    /// while a draft; refused once it is closed or cancelled.
    async fn update_market(&self, ctx: &Context<'_>, input: UpdateMarketInput) -> Result<Market> {
        Ok(Market(
            service::market::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects a lot: title, awardee, amount, own target.
    async fn update_lot(&self, ctx: &Context<'_>, input: UpdateLotInput) -> Result<Lot> {
        Ok(Lot(service::market::update_lot(
            app(ctx),
            actor(ctx)?,
            input,
        )
        .await?))
    }

    /// Deletes a market nothing depends on yet (no contract, hours, chantier, commission,
    /// final report); its lots and deadlines go with it. Returns its ID.
    async fn delete_market(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::market::delete(app(ctx), actor(ctx)?, &id, version).await?)
    }

    /// Deletes a lot nothing depends on yet (no contract, hours). Returns its ID.
    async fn delete_lot(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::market::delete_lot(app(ctx), actor(ctx)?, &id, version).await?)
    }
}
