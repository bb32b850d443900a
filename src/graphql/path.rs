//! Participants' paths: eligibility, PASS IAE, immersions, extension, exits and their rate.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::{
    eligibility, eligibility_proof, exit_follow_up, immersion, organization, pass_iae,
    placement_exit,
};

use super::access::actor;
use super::connection::app;
use super::ledger::Placement;
use super::loaders::{children, opt};
use super::params::ParameterInForce;
use super::party::Organization;
use crate::domain::exits::ExitCounts;
use crate::domain::params::ParamKey;
use crate::domain::{
    AttesterKind, Criterion, EligibilityScheme, ExitCategory, ExitOutcome, ProofKind, SiaeSubtype,
};
use crate::ids::{self, Kind};
use crate::service;
use crate::service::eligibility::{IssuePassInput, RecordEligibilityInput};
use crate::service::path::{
    EndPlacementInput, ExitFollowUpInput, ExitStatisticsInput, ExtendPlacementInput,
    RecordImmersionInput,
};
use crate::service::path_corrections::{
    CorrectExitInput, CorrectFollowUpInput, UpdateImmersionInput,
};

/// An eligibility check, with its criteria and proofs.
pub struct Eligibility(pub eligibility::Model);

#[Object]
impl Eligibility {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn id(&self) -> ID {
        ids::encode(Kind::Eligibility, self.0.id)
    }
    async fn scheme(&self) -> EligibilityScheme {
        EligibilityScheme::from_db(&self.0.scheme)
    }
    async fn attester_kind(&self) -> AttesterKind {
        AttesterKind::from_db(&self.0.attester_kind)
    }
    async fn attester(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.attester_id)
            .await?
            .map(Organization))
    }
    async fn structure_kind(&self) -> Option<SiaeSubtype> {
        self.0
            .structure_kind
            .as_deref()
            .and_then(SiaeSubtype::parse)
    }
    async fn checked_on(&self) -> NaiveDate {
        self.0.checked_on
    }
    /// Last day it is valid (from the parameters in force when checked).
    async fn valid_until(&self) -> NaiveDate {
        self.0.valid_until
    }
    /// When the decision was withdrawn (found wrong); a withdrawn decision counts nowhere.
    async fn withdrawn_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.withdrawn_at
    }
    /// Who withdrew it.
    async fn withdrawn_by(&self) -> Option<&str> {
        self.0.withdrawn_by.as_deref()
    }
    /// Why it was withdrawn.
    async fn withdrawal_reason(&self) -> Option<&str> {
        self.0.withdrawal_reason.as_deref()
    }
    async fn proofs(&self, ctx: &Context<'_>) -> Result<Vec<EligibilityProof>> {
        let rows = children::<eligibility_proof::Entity>(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|p| EligibilityProof {
                criterion: Criterion::from_db(&p.criterion),
                level: crate::domain::eligibility::level(Criterion::from_db(&p.criterion)) as i32,
                proof_kind: ProofKind::from_db(&p.proof_kind),
                proof_date: p.proof_date,
                reference: p.reference,
            })
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct EligibilityProof {
    pub criterion: Criterion,
    /// IAE level of the criterion (1 is enough alone).
    pub level: i32,
    pub proof_kind: ProofKind,
    pub proof_date: NaiveDate,
    pub reference: Option<String>,
}

pub struct PassIae(pub pass_iae::Model);

#[Object]
impl PassIae {
    async fn id(&self) -> ID {
        ids::encode(Kind::PassIae, self.0.id)
    }
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> NaiveDate {
        self.0.end_date
    }
}

pub struct Immersion(pub immersion::Model);

#[Object]
impl Immersion {
    async fn id(&self) -> ID {
        ids::encode(Kind::Immersion, self.0.id)
    }
    async fn host_name(&self) -> &str {
        &self.0.host_name
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> NaiveDate {
        self.0.end_date
    }
}

/// How a placement ended, or the situation a year later.
#[derive(SimpleObject)]
pub struct ExitRecord {
    pub date: NaiveDate,
    pub outcome: ExitOutcome,
    pub category: ExitCategory,
    /// Durable, transition or positive: a sortie dynamique.
    pub dynamic: bool,
    pub detail: Option<String>,
    pub justification: Option<String>,
}

impl ExitRecord {
    pub fn of_exit(e: placement_exit::Model) -> Self {
        let outcome = ExitOutcome::from_db(&e.outcome);
        Self::new(e.exit_date, outcome, e.detail, e.justification)
    }

    pub fn of_follow_up(f: exit_follow_up::Model) -> Self {
        Self::new(
            f.observed_on,
            ExitOutcome::from_db(&f.outcome),
            f.detail,
            None,
        )
    }

    fn new(
        date: NaiveDate,
        outcome: ExitOutcome,
        detail: Option<String>,
        justification: Option<String>,
    ) -> Self {
        let category = crate::domain::exits::category(outcome);
        ExitRecord {
            date,
            outcome,
            category,
            dynamic: crate::domain::exits::is_dynamic(category),
            detail,
            justification,
        }
    }
}

/// Exits counted by category.
#[derive(SimpleObject)]
pub struct ExitCountsView {
    pub total: i64,
    pub durable_employment: i64,
    pub transition_employment: i64,
    pub positive_exit: i64,
    pub other: i64,
    pub abandonments: i64,
    pub dynamic: i64,
    /// Sorties dynamiques over all exits, in basis points (3000 = 30 %); null without exits.
    pub dynamic_rate_bp: Option<i64>,
    /// Whether the rate reaches the target; null without exits.
    pub meets_target: Option<bool>,
}

impl ExitCountsView {
    fn new(c: &ExitCounts, target: i64) -> Self {
        ExitCountsView {
            total: c.total,
            durable_employment: c.durable,
            transition_employment: c.transition,
            positive_exit: c.positive,
            other: c.other,
            abandonments: c.abandonments,
            dynamic: c.dynamic(),
            dynamic_rate_bp: c.dynamic_rate_bp(),
            meets_target: c.meets(target),
        }
    }
}

#[derive(SimpleObject)]
pub struct ExitStatistics {
    pub at_exit: ExitCountsView,
    /// The situation recorded a year after each exit.
    pub at_one_year: ExitCountsView,
    pub follow_ups_missing: i64,
    /// Target of sorties dynamiques, in basis points.
    pub target_bp: i64,
    /// The parameter values these figures used.
    pub parameters_used: Vec<ParameterInForce>,
}

#[derive(Default)]
pub struct PathQuery;

#[Object]
impl PathQuery {
    /// Exits of a chantier, a market or a territory over a period, at exit and one year
    /// later, against the target in force at the period's end.
    async fn exit_statistics(
        &self,
        ctx: &Context<'_>,
        input: ExitStatisticsInput,
    ) -> Result<ExitStatistics> {
        let s = service::path::statistics(app(ctx), actor(ctx)?, input).await?;
        let target = s.params.int(ParamKey::DynamicExitTarget);
        Ok(ExitStatistics {
            at_exit: ExitCountsView::new(&s.at_exit, target),
            at_one_year: ExitCountsView::new(&s.at_one_year, target),
            follow_ups_missing: s.follow_ups_missing,
            target_bp: target,
            parameters_used: ParameterInForce::used(
                &s.params,
                &[ParamKey::DynamicExitTarget, ParamKey::ExitFollowUpMonths],
            ),
        })
    }
}

#[derive(Default)]
pub struct PathMutation;

#[Object]
impl PathMutation {
    /// Records an eligibility check with its proofs; its validity comes from the parameters.
    async fn record_eligibility(
        &self,
        ctx: &Context<'_>,
        input: RecordEligibilityInput,
    ) -> Result<Eligibility> {
        Ok(Eligibility(
            service::eligibility::record(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Withdraws an eligibility decision found wrong, with the reason: it stays in the file,
    /// marked, and no longer counts (CDDI, PASS IAE, deadlines). Once; `version` is the one read.
    async fn withdraw_eligibility(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: String,
    ) -> Result<Eligibility> {
        Ok(Eligibility(
            service::eligibility::withdraw(app(ctx), actor(ctx)?, &id, version, &reason).await?,
        ))
    }

    async fn issue_pass_iae(&self, ctx: &Context<'_>, input: IssuePassInput) -> Result<PassIae> {
        Ok(PassIae(
            service::eligibility::issue_pass(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn extend_pass_iae(
        &self,
        ctx: &Context<'_>,
        pass_id: ID,
        reason: String,
    ) -> Result<PassIae> {
        Ok(PassIae(
            service::eligibility::extend_pass(app(ctx), actor(ctx)?, &pass_id, &reason).await?,
        ))
    }

    /// Records an immersion (PMSMP) during a contract.
    async fn record_immersion(
        &self,
        ctx: &Context<'_>,
        input: RecordImmersionInput,
    ) -> Result<Immersion> {
        Ok(Immersion(
            service::path::record_immersion(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Moves a placement's end (renewal), checking every contract rule again.
    async fn extend_placement(
        &self,
        ctx: &Context<'_>,
        input: ExtendPlacementInput,
    ) -> Result<Placement> {
        Ok(Placement(
            service::path::extend(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Ends a placement with its exit.
    async fn end_placement(
        &self,
        ctx: &Context<'_>,
        input: EndPlacementInput,
    ) -> Result<ExitRecord> {
        Ok(ExitRecord::of_exit(
            service::path::end(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects an exit (date, outcome, detail, justification), with the reason; names the
    /// placement's version.
    async fn correct_exit(&self, ctx: &Context<'_>, input: CorrectExitInput) -> Result<ExitRecord> {
        Ok(ExitRecord::of_exit(
            service::path_corrections::correct_exit(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects the situation recorded a year after the exit, with the reason.
    async fn correct_exit_follow_up(
        &self,
        ctx: &Context<'_>,
        input: CorrectFollowUpInput,
    ) -> Result<ExitRecord> {
        Ok(ExitRecord::of_follow_up(
            service::path_corrections::correct_follow_up(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects an immersion's host or dates; names its placement's version.
    async fn update_immersion(
        &self,
        ctx: &Context<'_>,
        input: UpdateImmersionInput,
    ) -> Result<Immersion> {
        Ok(Immersion(
            service::path_corrections::update_immersion(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Deletes an immersion recorded by mistake; names its placement's version.
    async fn delete_immersion(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::path_corrections::delete_immersion(app(ctx), actor(ctx)?, id, version).await?)
    }

    /// Records the person's situation a year after the exit.
    async fn record_exit_follow_up(
        &self,
        ctx: &Context<'_>,
        input: ExitFollowUpInput,
    ) -> Result<ExitRecord> {
        Ok(ExitRecord::of_follow_up(
            service::path::follow_up(app(ctx), actor(ctx)?, input).await?,
        ))
    }
}
