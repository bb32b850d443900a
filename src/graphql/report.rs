//! Reports in the API: market, operation (ANRU), chantier evaluation and facilitator reports,
//! the entries behind any figure, the import of monthly statements and the evaluation notes.

use async_graphql::{Context, ID, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, NaiveDate, Utc};
use entity::hour_import;

use super::access::actor;
use super::chantier::Chantier;
use super::connection::{self, Conn, app};
use super::loaders::opt;
use super::party::Organization;
use crate::domain::auth::Role;
use crate::domain::{HourImportStatus, HourKind, HourSource, HourStatus, Modality, PeriodKind};
use crate::error::AppError;
use crate::ids::{self, Kind};
use crate::service;
use crate::service::chantier::EvaluationNotesInput;
use crate::service::report::chantier::ChantierEvaluation;
use crate::service::report::import::HourImportFilter;
use crate::service::report::market::MarketReport;
use crate::service::report::operation::OperationReport;
use crate::service::report::territory::TerritoryReport;
use crate::service::report::trace::TracedEntry;
use crate::service::report::{self as reports, Dates};

/// A ledger entry behind a figure, as it stood at the report's date (no identity shown).
pub struct TraceEntry(pub TracedEntry);

#[Object]
impl TraceEntry {
    /// The entry itself (`node(id:)` opens it for those who may see the placement).
    async fn id(&self) -> ID {
        ids::encode(Kind::HourEntry, self.0.entry.id)
    }
    async fn placement_reference(&self) -> &str {
        &self.0.placement_reference
    }
    async fn market_id(&self) -> Option<ID> {
        self.0.entry.market_id.map(|m| ids::encode(Kind::Market, m))
    }
    async fn lot_id(&self) -> Option<ID> {
        self.0.entry.lot_id.map(|l| ids::encode(Kind::Lot, l))
    }
    async fn period_kind(&self) -> PeriodKind {
        PeriodKind::from_db(&self.0.entry.period_kind)
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.entry.period_start
    }
    async fn period_end(&self) -> NaiveDate {
        self.0.entry.period_end
    }
    async fn kind(&self) -> HourKind {
        HourKind::from_db(&self.0.entry.kind)
    }
    async fn modality(&self) -> Modality {
        Modality::from_db(&self.0.entry.modality)
    }
    /// Signed minutes (a correction holds the difference it makes).
    async fn minutes(&self) -> i64 {
        self.0.entry.minutes
    }
    /// Status at the report's date (a later decision is not shown).
    async fn status(&self) -> HourStatus {
        self.0.status
    }
    async fn source(&self) -> HourSource {
        HourSource::from_db(&self.0.entry.source)
    }
    async fn corrects_id(&self) -> Option<ID> {
        self.0
            .entry
            .corrects_id
            .map(|c| ids::encode(Kind::HourEntry, c))
    }
    async fn reason(&self) -> Option<&str> {
        self.0.entry.reason.as_deref()
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.entry.recorded_at
    }
    /// The imported file it came from, if any.
    async fn import_id(&self) -> Option<ID> {
        self.0
            .entry
            .import_id
            .map(|i| ids::encode(Kind::HourImport, i))
    }
}

/// An upload of monthly statements, accepted or refused (a refused one recorded no hour).
pub struct HourImport(pub hour_import::Model);

/// One error of a refused file, as it stays in the history.
#[derive(SimpleObject)]
pub struct HourImportError {
    /// 1 is the header line (0: the file as a whole).
    pub line: i32,
    pub column: String,
    pub message: String,
}

#[Object]
impl HourImport {
    async fn id(&self) -> ID {
        ids::encode(Kind::HourImport, self.0.id)
    }
    async fn file_name(&self) -> Option<&str> {
        self.0.file_name.as_deref()
    }
    /// SHA-256 of the file, hex.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    async fn line_count(&self) -> i32 {
        self.0.line_count
    }
    /// New entries recorded (declared, to be validated).
    async fn recorded_count(&self) -> i32 {
        self.0.recorded_count
    }
    /// Lines already in the ledger with the same hours (a file uploaded again).
    async fn unchanged_count(&self) -> i32 {
        self.0.unchanged_count
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The account that uploaded it.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    /// The uploader's organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(
            opt::<entity::organization::Entity>(ctx, self.0.organization_id)
                .await?
                .map(Organization),
        )
    }
    async fn status(&self) -> HourImportStatus {
        HourImportStatus::from_db(&self.0.status)
    }
    /// Errors a refused file had (all of them; `errors` lists the first 1 000).
    async fn error_count(&self) -> i32 {
        self.0.error_count
    }
    /// A refused file's errors: line, column, message (a name given in the file is not kept).
    /// For the uploader's organization and the facilitators of the territories it touched; an
    /// administrator, who sees no placement, gets FORBIDDEN.
    async fn errors(&self, ctx: &Context<'_>) -> Result<Vec<HourImportError>> {
        if actor(ctx)?.is(Role::Admin) {
            return Err(AppError::Forbidden.into());
        }
        Ok(service::report::import::stored_errors(&self.0)
            .into_iter()
            .map(|e| HourImportError {
                line: i32::try_from(e.line).unwrap_or(i32::MAX),
                column: e.column,
                message: e.message,
            })
            .collect())
    }
}

fn dates(as_at: Option<NaiveDate>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Dates {
    Dates { as_at, from, to }
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Market report: hours against the target, by lot, modality, kind; people; contracts;
    /// ETP; forecast. `asAt`: figures as known at the end of that day (default today).
    async fn market_report(
        &self,
        ctx: &Context<'_>,
        market_id: ID,
        as_at: Option<NaiveDate>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<MarketReport> {
        Ok(
            reports::market::report(app(ctx), actor(ctx)?, &market_id, dates(as_at, from, to))
                .await?,
        )
    }
    /// Operation report for the ANRU: markets, the 5 % and 10 % commitments, QPV hires, people.
    async fn operation_report(
        &self,
        ctx: &Context<'_>,
        operation_id: ID,
        as_at: Option<NaiveDate>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<OperationReport> {
        Ok(
            reports::operation::report(
                app(ctx),
                actor(ctx)?,
                &operation_id,
                dates(as_at, from, to),
            )
            .await?,
        )
    }
    /// Fiche évaluation ACI of a chantier.
    async fn chantier_evaluation(
        &self,
        ctx: &Context<'_>,
        chantier_id: ID,
        as_at: Option<NaiveDate>,
    ) -> Result<ChantierEvaluation> {
        Ok(reports::chantier::report(
            app(ctx),
            actor(ctx)?,
            &chantier_id,
            dates(as_at, None, None),
        )
        .await?)
    }
    /// Facilitator report: a territory over a period, for the annual review.
    async fn territory_report(
        &self,
        ctx: &Context<'_>,
        territory_id: ID,
        as_at: Option<NaiveDate>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<TerritoryReport> {
        Ok(
            reports::territory::report(
                app(ctx),
                actor(ctx)?,
                &territory_id,
                dates(as_at, from, to),
            )
            .await?,
        )
    }
    /// Past uploads of monthly statements, accepted and refused, oldest first: an
    /// administrator's all, a company's or an SIAE's those of its organization, a facilitator's
    /// those that named a placement of its territories (and its own uploads).
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn hour_imports(
        &self,
        ctx: &Context<'_>,
        filter: Option<HourImportFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<HourImport>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            reports::import::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args).await?;
        Ok(connection::connection(page, had, |m| m.id, HourImport))
    }
    /// The ledger entries behind a figure: pass the figure's `trace` (signed by the server and
    /// bound to its report; anything else is BAD_USER_INPUT). A figure that picks people by who
    /// they are (a band of people, an exit category) opens for facilitators of the territory
    /// only; others get FORBIDDEN and keep the report's count.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn trace_entries(
        &self,
        ctx: &Context<'_>,
        trace: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<TraceEntry>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page = reports::trace::entries(app(ctx), actor(ctx)?, &trace, args).await?;
        Ok(connection::connection(
            page,
            had,
            |t| t.entry.id,
            TraceEntry,
        ))
    }
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// Uploads a month of hours (CSV: `reference;mois;heures`, optional `nature` and `nom`;
    /// `nom` is checked for the people the uploader may identify, its employees, and ignored
    /// for the others, whose name it may not test).
    /// All or nothing: a bad line refuses the file (FILE_REFUSED, every error in
    /// `extensions.errors`); lines already recorded with the same hours are skipped.
    async fn import_hour_statements(&self, ctx: &Context<'_>, file: Upload) -> Result<HourImport> {
        let upload = file.value(ctx)?;
        // The file's name is stored: the same rules as every string input (no NUL, length).
        super::limits::check_string("file", &upload.filename)?;
        let name = Some(upload.filename.clone());
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut upload.into_read(), &mut bytes)?;
        let done = reports::import::import(app(ctx), actor(ctx)?, name, &bytes).await?;
        Ok(HourImport(done.import))
    }
    /// The free-text fields of the fiche évaluation ACI.
    async fn set_chantier_evaluation_notes(
        &self,
        ctx: &Context<'_>,
        input: EvaluationNotesInput,
    ) -> Result<Chantier> {
        Ok(Chantier(
            service::chantier::set_evaluation_notes(app(ctx), actor(ctx)?, input).await?,
        ))
    }
}
