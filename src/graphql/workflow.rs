//! The workflow in the API: one `transition` for every object, what is allowed now, the
//! history, conventions, commissions with decisions, and the deadlines they make.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use entity::{
    chantier, commission, commission_member, convention, convention_amount, convention_document,
    convention_party, decision, operation, organization, placement,
};
use uuid::Uuid;

use super::access::{Subject, actor, guard};
use super::chantier::Chantier;
use super::connection::{self, Conn, app};
use super::ledger::Placement;
use super::loaders::{children, one, opt, territory_of};
use super::market::StatusChange;
use super::node::{self, Node};
use super::party::{Operation, Organization, Territory};
use crate::domain::deadlines::{DeadlineRule, DeadlineStatus, Recipient, RecipientEntry};
use crate::domain::{
    CommissionKind, CommissionStatus, ConventionKind, ConventionStatus, DocumentKind, PartyRole,
};
use crate::ids::{self, Kind};
use crate::service;
use crate::service::commission::{
    CommissionFilter, MemberInput, PlanCommissionInput, RecordDecisionInput, ReplanCommissionInput,
    UpdateCommissionInput,
};
use crate::service::convention::{
    AddConventionDocumentInput, AmountInput, ConventionFilter, CreateConventionInput, PartyInput,
    UpdateConventionInput,
};
use crate::service::deadlines::{DeadlineFilter, View};
use crate::service::workflow::{TransitionInput, TransitionOption};

/// The life cycle of one object: where it stands, what may happen next, what happened, and
/// the deadlines it makes.
pub struct Workflow {
    kind: Kind,
    id: Uuid,
    /// Loaded (in the caller's scope) once for all the fields asked.
    subject: tokio::sync::OnceCell<service::workflow::Subject>,
}

impl Workflow {
    pub fn of(kind: Kind, id: Uuid) -> Self {
        Workflow {
            kind,
            id,
            subject: tokio::sync::OnceCell::new(),
        }
    }

    async fn subject(&self, ctx: &Context<'_>) -> Result<&service::workflow::Subject> {
        self.subject
            .get_or_try_init(|| async {
                let a = actor(ctx)?;
                service::workflow::subject(&app(ctx).db.conn, a, self.kind, self.id, false)
                    .await
                    .map_err(async_graphql::Error::from)
            })
            .await
    }
}

#[Object]
impl Workflow {
    /// The object's global ID.
    async fn id(&self) -> ID {
        ids::encode(self.kind, self.id)
    }
    async fn object(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        node::load(ctx, &ids::encode(self.kind, self.id)).await
    }
    /// Its current state.
    async fn state(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.subject(ctx).await?.status.clone())
    }
    /// Every move out of the current state for the caller, each with `allowed` and, when
    /// refused, why: a front end shows the buttons and their reasons.
    async fn available_transitions(&self, ctx: &Context<'_>) -> Result<Vec<TransitionOption>> {
        let s = self.subject(ctx).await?;
        Ok(service::workflow::options(app(ctx), actor(ctx)?, s).await?)
    }
    /// Every move, oldest first (re-planning a commission is a move to the same state).
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        self.subject(ctx).await?;
        Ok(service::workflow::history(app(ctx), self.kind, self.id)
            .await?
            .into_iter()
            .map(StatusChange::from)
            .collect())
    }
    /// Its deadlines, by due day, whatever their status.
    async fn deadlines(&self, ctx: &Context<'_>) -> Result<Vec<Deadline>> {
        self.subject(ctx).await?;
        Ok(service::deadlines::of_subject(app(ctx), self.id)
            .await?
            .into_iter()
            .map(Deadline)
            .collect())
    }
}

/// Someone a deadline reminds.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DeadlineRecipient {
    pub role: Recipient,
    #[graphql(skip)]
    pub organization_id: Option<Uuid>,
    pub name: Option<String>,
    #[graphql(skip)]
    pub email: Option<String>,
}

#[async_graphql::ComplexObject]
impl DeadlineRecipient {
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(self.email.as_deref())
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.organization_id)
            .await?
            .map(Organization))
    }
}

/// Échéance: a date by which something must happen, made by a rule from an object.
pub struct Deadline(pub View);

#[Object]
impl Deadline {
    async fn id(&self) -> ID {
        ids::encode(Kind::Deadline, self.0.row.id)
    }
    async fn rule(&self) -> DeadlineRule {
        DeadlineRule::from_db(&self.0.row.rule)
    }
    /// What is due, for what (in French).
    async fn title(&self) -> &str {
        &self.0.row.title
    }
    async fn due_on(&self) -> NaiveDate {
        self.0.row.due_on
    }
    /// OPEN, MET, CANCELLED, or MISSED when open past its day (in its territory's time).
    async fn status(&self) -> DeadlineStatus {
        self.0.status
    }
    async fn met_on(&self) -> Option<NaiveDate> {
        self.0.row.met_on
    }
    /// True while its territory's deadlines are being re-derived (after a parameter change or
    /// `refreshDeadlines`, within a minute): its day, status or recipients may still move.
    async fn refreshing(&self) -> bool {
        self.0.refreshing
    }
    async fn subject_kind(&self) -> &str {
        &self.0.row.subject_kind
    }
    async fn subject_id(&self) -> ID {
        self.subject_global_id()
    }
    /// The object it is about, when the caller may see it.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        node::load(ctx, &self.subject_global_id()).await
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.row.territory_id).await?))
    }
    /// Who is to be reminded (facilitators of the territory are named by their role).
    async fn recipients(&self) -> Vec<DeadlineRecipient> {
        let entries: Vec<RecipientEntry> =
            serde_json::from_str(&self.0.row.recipients).unwrap_or_default();
        entries
            .into_iter()
            .map(|e| DeadlineRecipient {
                role: e.role,
                organization_id: e.organization_id,
                name: e.name,
                email: e.email,
            })
            .collect()
    }
    /// Its reminders (mails planned, sent or failed) that the caller may see.
    async fn reminders(&self, ctx: &Context<'_>) -> Result<Vec<super::reminders::Reminder>> {
        Ok(
            service::reminders::of_deadline(app(ctx), actor(ctx)?, self.0.row.id)
                .await?
                .into_iter()
                .map(super::reminders::Reminder)
                .collect(),
        )
    }
}

impl Deadline {
    fn subject_global_id(&self) -> ID {
        // Subjects are stored under their kind's name, which `Kind` always knows.
        let kind = Kind::from_name(&self.0.row.subject_kind).unwrap_or(Kind::Market);
        ids::encode(kind, self.0.row.subject_id)
    }
}

/// Convention: a signed agreement with dates and money.
pub struct Convention(pub convention::Model);

#[Object]
impl Convention {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Convention, self.0.id)
    }
    async fn kind(&self) -> ConventionKind {
        ConventionKind::from_db(&self.0.kind)
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn status(&self) -> ConventionStatus {
        ConventionStatus::from_db(&self.0.status)
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.territory_id).await?))
    }
    async fn chantier(&self, ctx: &Context<'_>) -> Result<Option<Chantier>> {
        Ok(opt::<chantier::Entity>(ctx, self.0.chantier_id)
            .await?
            .map(Chantier))
    }
    async fn placement(&self, ctx: &Context<'_>) -> Result<Option<Placement>> {
        Ok(opt::<placement::Entity>(ctx, self.0.placement_id)
            .await?
            .map(Placement))
    }
    async fn operation(&self, ctx: &Context<'_>) -> Result<Option<Operation>> {
        Ok(opt::<operation::Entity>(ctx, self.0.operation_id)
            .await?
            .map(Operation))
    }
    /// The convention this one renews.
    async fn renews(&self, ctx: &Context<'_>) -> Result<Option<Convention>> {
        Ok(opt::<convention::Entity>(ctx, self.0.renews_id)
            .await?
            .map(Convention))
    }
    async fn start_date(&self) -> Option<NaiveDate> {
        self.0.start_date
    }
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
    /// Day the complete file was filed.
    async fn filed_on(&self) -> Option<NaiveDate> {
        self.0.filed_on
    }
    async fn signed_on(&self) -> Option<NaiveDate> {
        self.0.signed_on
    }
    async fn parties(&self, ctx: &Context<'_>) -> Result<Vec<ConventionParty>> {
        Ok(children::<convention_party::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(ConventionParty)
            .collect())
    }
    async fn amounts(&self, ctx: &Context<'_>) -> Result<Vec<ConventionAmount>> {
        Ok(children::<convention_amount::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(ConventionAmount)
            .collect())
    }
    async fn documents(&self, ctx: &Context<'_>) -> Result<Vec<ConventionDocument>> {
        Ok(children::<convention_document::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(ConventionDocument)
            .collect())
    }
    async fn workflow(&self) -> Workflow {
        Workflow::of(Kind::Convention, self.0.id)
    }
}

pub struct ConventionParty(convention_party::Model);

#[Object]
impl ConventionParty {
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(one::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization))
    }
    async fn role(&self) -> PartyRole {
        PartyRole::from_db(&self.0.role)
    }
}

pub struct ConventionAmount(convention_amount::Model);

#[Object]
impl ConventionAmount {
    async fn year(&self) -> i32 {
        self.0.year
    }
    async fn amount_cents(&self) -> i64 {
        self.0.amount_cents
    }
    /// "50 000,00 €".
    async fn amount(&self) -> String {
        crate::domain::chantier::euros(self.0.amount_cents)
    }
}

pub struct ConventionDocument(convention_document::Model);

#[Object]
impl ConventionDocument {
    async fn id(&self) -> ID {
        ids::encode(Kind::ConventionDocument, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> DocumentKind {
        DocumentKind::from_db(&self.0.kind)
    }
    async fn dated_on(&self) -> NaiveDate {
        self.0.dated_on
    }
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    async fn added_at(&self) -> DateTime<Utc> {
        self.0.added_at
    }
    async fn added_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(Some(&self.0.added_by))
    }
}

/// Commission or steering committee.
pub struct Commission(pub commission::Model);

#[Object]
impl Commission {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Commission, self.0.id)
    }
    async fn kind(&self) -> CommissionKind {
        CommissionKind::from_db(&self.0.kind)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn status(&self) -> CommissionStatus {
        CommissionStatus::from_db(&self.0.status)
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.territory_id).await?))
    }
    async fn operation(&self, ctx: &Context<'_>) -> Result<Option<Operation>> {
        Ok(opt::<operation::Entity>(ctx, self.0.operation_id)
            .await?
            .map(Operation))
    }
    async fn chantier(&self, ctx: &Context<'_>) -> Result<Option<Chantier>> {
        Ok(opt::<chantier::Entity>(ctx, self.0.chantier_id)
            .await?
            .map(Chantier))
    }
    async fn market_id(&self) -> Option<ID> {
        self.0.market_id.map(|m| ids::encode(Kind::Market, m))
    }
    /// The instant it starts (UTC).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// Its start in the territory's local time, as planned.
    async fn local_start(&self, ctx: &Context<'_>) -> Result<NaiveDateTime> {
        let t = territory_of(ctx, self.0.territory_id).await?;
        let tz = service::territory::time_zone(&t);
        Ok(self.0.starts_at.with_timezone(&tz).naive_local())
    }
    async fn duration_minutes(&self) -> i32 {
        self.0.duration_minutes
    }
    async fn place(&self) -> &str {
        &self.0.place
    }
    async fn agenda(&self) -> &str {
        &self.0.agenda
    }
    /// Compte rendu.
    async fn minutes(&self) -> Option<&str> {
        self.0.minutes.as_deref()
    }
    /// Goes up at each re-planning or cancellation (calendar invitations follow it).
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<CommissionMember>> {
        Ok(children::<commission_member::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(CommissionMember)
            .collect())
    }
    async fn decisions(&self, ctx: &Context<'_>) -> Result<Vec<Decision>> {
        Ok(children::<decision::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(Decision)
            .collect())
    }
    async fn workflow(&self) -> Workflow {
        Workflow::of(Kind::Commission, self.0.id)
    }
}

pub struct CommissionMember(commission_member::Model);

#[Object]
impl CommissionMember {
    /// What `removeCommissionMember` names.
    async fn id(&self) -> ID {
        ids::encode(Kind::CommissionMember, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(self.0.email.as_deref())
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization))
    }
}

/// A decision of a commission.
pub struct Decision(decision::Model);

#[Object]
impl Decision {
    async fn id(&self) -> ID {
        ids::encode(Kind::Decision, self.0.id)
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    async fn owner_name(&self) -> Option<&str> {
        self.0.owner_name.as_deref()
    }
    async fn owner_email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Caller).await?;
        Ok(self.0.owner_email.as_deref())
    }
    async fn due_on(&self) -> Option<NaiveDate> {
        self.0.due_on
    }
    async fn done_on(&self) -> Option<NaiveDate> {
        self.0.done_on
    }
}

#[derive(Default)]
pub struct WorkflowQuery;

#[Object]
impl WorkflowQuery {
    /// The life cycle of any object that has one (market, chantier, convention, placement,
    /// hour entry, commission).
    async fn workflow(&self, ctx: &Context<'_>, id: ID) -> Result<Workflow> {
        let (kind, uuid) = service::workflow::parse_id(&id, "id")?;
        service::workflow::subject(&app(ctx).db.conn, actor(ctx)?, kind, uuid, false).await?;
        Ok(Workflow::of(kind, uuid))
    }

    /// The morning list: open deadlines due within N days (overdue included), or overdue only,
    /// or met/cancelled ones, in the caller's scope, by due day.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn deadlines(
        &self,
        ctx: &Context<'_>,
        filter: Option<DeadlineFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Deadline>> {
        let had = after.is_some();
        let (views, has_next) = service::deadlines::list(
            app(ctx),
            actor(ctx)?,
            filter.unwrap_or_default(),
            after,
            first,
        )
        .await?;
        let mut conn = Connection::new(had, has_next);
        conn.edges.extend(
            views
                .into_iter()
                .map(|v| Edge::new(service::deadlines::cursor(&v.row), Deadline(v))),
        );
        Ok(conn)
    }

    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn conventions(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConventionFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Convention>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::convention::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
                .await?;
        Ok(connection::connection(page, had, |m| m.id, Convention))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn commissions(
        &self,
        ctx: &Context<'_>,
        filter: Option<CommissionFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Commission>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::commission::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
                .await?;
        Ok(connection::connection(page, had, |m| m.id, Commission))
    }
}

#[derive(Default)]
pub struct WorkflowMutation;

#[Object]
impl WorkflowMutation {
    /// Moves any object with a life cycle; refused moves say why (`extensions.field`,
    /// `extensions.code`). The answer shows the new state, the next moves and the deadlines.
    async fn transition(&self, ctx: &Context<'_>, input: TransitionInput) -> Result<Workflow> {
        let s = service::workflow::transition(app(ctx), actor(ctx)?, input).await?;
        Ok(Workflow::of(s.kind, s.id))
    }

    async fn create_convention(
        &self,
        ctx: &Context<'_>,
        input: CreateConventionInput,
    ) -> Result<Convention> {
        Ok(Convention(
            service::convention::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Title and dates (until signed), and the filing or signing day when it was not the day
    /// of the move.
    async fn update_convention(
        &self,
        ctx: &Context<'_>,
        input: UpdateConventionInput,
    ) -> Result<Convention> {
        Ok(Convention(
            service::convention::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn add_convention_party(
        &self,
        ctx: &Context<'_>,
        convention_id: ID,
        party: PartyInput,
    ) -> Result<Convention> {
        Ok(Convention(
            service::convention::add_party(app(ctx), actor(ctx)?, convention_id, party).await?,
        ))
    }

    /// Removes a party added by mistake, while the convention is open; names its version.
    async fn remove_convention_party(
        &self,
        ctx: &Context<'_>,
        convention_id: ID,
        version: i32,
        party: PartyInput,
    ) -> Result<Convention> {
        Ok(Convention(
            service::convention::remove_party(app(ctx), actor(ctx)?, convention_id, version, party)
                .await?,
        ))
    }

    /// Sets the amount of one year (replaces it until the convention is signed).
    async fn set_convention_amount(
        &self,
        ctx: &Context<'_>,
        convention_id: ID,
        amount: AmountInput,
    ) -> Result<Convention> {
        Ok(Convention(
            service::convention::set_amount(app(ctx), actor(ctx)?, convention_id, amount).await?,
        ))
    }

    async fn add_convention_document(
        &self,
        ctx: &Context<'_>,
        input: AddConventionDocumentInput,
    ) -> Result<ConventionDocument> {
        Ok(ConventionDocument(
            service::convention::add_document(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn plan_commission(
        &self,
        ctx: &Context<'_>,
        input: PlanCommissionInput,
    ) -> Result<Commission> {
        Ok(Commission(
            service::commission::plan(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// A new date (and place): recorded in the history with its reason; deadlines move.
    async fn replan_commission(
        &self,
        ctx: &Context<'_>,
        input: ReplanCommissionInput,
    ) -> Result<Commission> {
        Ok(Commission(
            service::commission::replan(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn add_commission_member(
        &self,
        ctx: &Context<'_>,
        commission_id: ID,
        member: MemberInput,
    ) -> Result<Commission> {
        Ok(Commission(
            service::commission::add_member(app(ctx), actor(ctx)?, commission_id, member).await?,
        ))
    }

    /// Title, agenda, place and length of a planned commission (its date moves by
    /// `replanCommission`); a new place or length raises the invitation's `sequence`.
    async fn update_commission(
        &self,
        ctx: &Context<'_>,
        input: UpdateCommissionInput,
    ) -> Result<Commission> {
        Ok(Commission(
            service::commission::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Removes a member from a planned commission that has taken no decision; `version` is the
    /// commission's, which the removal moves.
    async fn remove_commission_member(
        &self,
        ctx: &Context<'_>,
        commission_id: ID,
        member_id: ID,
        version: i32,
    ) -> Result<Commission> {
        Ok(Commission(
            service::commission::remove_member(
                app(ctx),
                actor(ctx)?,
                commission_id,
                member_id,
                version,
            )
            .await?,
        ))
    }

    async fn record_commission_minutes(
        &self,
        ctx: &Context<'_>,
        commission_id: ID,
        minutes: String,
    ) -> Result<Commission> {
        Ok(Commission(
            service::commission::record_minutes(app(ctx), actor(ctx)?, commission_id, minutes)
                .await?,
        ))
    }

    async fn record_decision(
        &self,
        ctx: &Context<'_>,
        input: RecordDecisionInput,
    ) -> Result<Decision> {
        Ok(Decision(
            service::commission::record_decision(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn complete_decision(
        &self,
        ctx: &Context<'_>,
        decision_id: ID,
        done_on: Option<NaiveDate>,
    ) -> Result<Decision> {
        Ok(Decision(
            service::commission::complete_decision(app(ctx), actor(ctx)?, decision_id, done_on)
                .await?,
        ))
    }

    /// Asks for every deadline of a territory to be re-derived (after a rule change; the
    /// scheduler does it daily so markets' pace is judged as days pass). The scheduler does it
    /// within a minute, out of this request; meanwhile the territory's deadlines say
    /// `refreshing`. Returns how many objects the reflow will look at.
    async fn refresh_deadlines(&self, ctx: &Context<'_>, territory_id: ID) -> Result<i32> {
        Ok(service::deadlines::refresh(app(ctx), actor(ctx)?, territory_id).await? as i32)
    }
}
