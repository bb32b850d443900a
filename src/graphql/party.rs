//! Territories, organizations, operations and participants.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::{eligibility, operation, organization, participant, pass_iae, territory};

use super::access::{Subject, actor, guard};
use super::connection::{self, Conn, app};
use super::ledger::Placement;
use super::loaders::{IdentityRead, children, loader, opt, territory_of};
use super::market::Market;
use super::path::{Eligibility, PassIae};
use crate::domain::{EducationLevel, OperationKind, OrganizationKind, Public, Sex, SiaeSubtype};
use crate::ids::{self, Kind};
use crate::service::market::MarketFilter;
use crate::service::operation::{CreateOperationInput, OperationFilter, UpdateOperationInput};
use crate::service::organization::{
    CreateOrganizationInput, OrganizationFilter, UpdateOrganizationInput,
};
use crate::service::participant::{
    CreateParticipantInput, ParticipantFilter, RectifyParticipantInput, decode_publics,
};
use crate::service::placement::PlacementFilter;
use crate::service::territory::{CreateTerritoryInput, UpdateTerritoryInput};
use crate::service::{self, page::PageArgs};

/// Territoire: where the work happens; its time zone sets local sending hours.
pub struct Territory(pub territory::Model);

#[Object]
impl Territory {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Territory, self.0.id)
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// IANA time zone, e.g. `Indian/Reunion`.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
}

/// Organisation: buyer, company, insertion structure, facilitator, funder or prescriber.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Organization, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> OrganizationKind {
        OrganizationKind::from_db(&self.0.kind)
    }
    async fn siae_subtype(&self) -> Option<SiaeSubtype> {
        self.0.siae_subtype.as_deref().and_then(SiaeSubtype::parse)
    }
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }
    /// Contact details: administrators, facilitators of its territory, its own members.
    async fn address(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Organization(&self.0)).await?;
        Ok(self.0.address.as_deref())
    }
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, Subject::Organization(&self.0)).await?;
        Ok(self.0.email.as_deref())
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        Ok(opt::<territory::Entity>(ctx, self.0.territory_id)
            .await?
            .map(Territory))
    }
}

/// Opération: an urban-renewal project (PRU, NPNRU) and its ANRU commitments.
pub struct Operation(pub operation::Model);

#[Object]
impl Operation {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Operation, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> OperationKind {
        OperationKind::from_db(&self.0.kind)
    }
    async fn start_date(&self) -> Option<NaiveDate> {
        self.0.start_date
    }
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
    /// ANRU commitment on works and engineering, basis points of hours worked (500 = 5 %).
    async fn works_rate_bp(&self) -> i32 {
        self.0.works_rate_bp
    }
    /// ANRU commitment on local-management (GUP) markets, basis points (1000 = 10 %).
    async fn gup_rate_bp(&self) -> i32 {
        self.0.gup_rate_bp
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.territory_id).await?))
    }
    /// Porteur de projet.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.owner_id)
            .await?
            .map(Organization))
    }
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn markets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Market>> {
        let filter = MarketFilter {
            operation_id: Some(ids::encode(Kind::Operation, self.0.id)),
            ..Default::default()
        };
        super::market::list_markets(ctx, filter, first, after).await
    }
}

/// Participant (bénéficiaire): a person far from employment. Never a user.
pub struct Participant(pub participant::Model);

#[Object]
impl Participant {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::Participant, self.0.id)
    }
    /// Name, birth date and publics: for facilitators of the person's territory and for the employer of its
    /// own employees; every read is recorded. Refused (FORBIDDEN) to everyone else.
    async fn identity(&self, ctx: &Context<'_>) -> Result<Option<ParticipantIdentity>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        loader(ctx).load_one(IdentityRead(self.0.id)).await?;
        Ok(Some(ParticipantIdentity {
            first_name: self.0.first_name.clone(),
            last_name: self.0.last_name.clone(),
            birth_date: self.0.birth_date,
            publics: decode_publics(&self.0.publics),
        }))
    }
    /// When the identity was cleared at the end of retention.
    async fn anonymized_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.anonymized_at
    }
    /// Who read this person's identity, newest first (facilitators of the territory).
    async fn accesses(&self, ctx: &Context<'_>) -> Result<Option<Vec<ParticipantAccess>>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        let rows = service::participant::accesses(app(ctx), actor(ctx)?, &self.0).await?;
        Ok(Some(
            rows.into_iter()
                .map(|r| ParticipantAccess {
                    actor_label: r.actor_label,
                    at: r.at,
                })
                .collect(),
        ))
    }
    async fn sex(&self, ctx: &Context<'_>) -> Result<Option<Sex>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        Ok(Some(Sex::from_db(&self.0.sex)))
    }
    async fn education_level(&self, ctx: &Context<'_>) -> Result<Option<EducationLevel>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        Ok(Some(EducationLevel::from_db(&self.0.education_level)))
    }
    async fn unemployed_since(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        Ok(self.0.unemployed_since)
    }
    async fn qpv_resident(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        Ok(Some(self.0.qpv_resident))
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.0.territory_id).await?))
    }
    async fn prescriber(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        Ok(opt::<organization::Entity>(ctx, self.0.prescriber_id)
            .await?
            .map(Organization))
    }
    /// Eligibility checks, newest first. Criteria are sensitive (income support, disability):
    /// facilitators of the person's territory only.
    async fn eligibilities(&self, ctx: &Context<'_>) -> Result<Option<Vec<Eligibility>>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        let rows = children::<eligibility::Entity>(ctx, self.0.id).await?;
        Ok(Some(rows.into_iter().map(Eligibility).collect()))
    }
    /// PASS IAE, newest first (facilitators of the person's territory).
    async fn passes_iae(&self, ctx: &Context<'_>) -> Result<Option<Vec<PassIae>>> {
        guard(ctx, Subject::Person(self.0.id)).await?;
        let rows = children::<pass_iae::Entity>(ctx, self.0.id).await?;
        Ok(Some(rows.into_iter().map(PassIae).collect()))
    }
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn placements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Placement>> {
        let filter = PlacementFilter {
            participant_id: Some(ids::encode(Kind::Participant, self.0.id)),
            ..Default::default()
        };
        super::ledger::list_placements(ctx, filter, first, after).await
    }
}

/// Identity of a participant (personal data).
#[derive(async_graphql::SimpleObject)]
pub struct ParticipantIdentity {
    first_name: String,
    last_name: String,
    birth_date: NaiveDate,
    /// Income support, disability, prison release…: sensitive, hence here.
    publics: Vec<Public>,
}

/// One read of a participant's identity.
#[derive(async_graphql::SimpleObject)]
pub struct ParticipantAccess {
    actor_label: String,
    at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub struct PartyQuery;

#[Object]
impl PartyQuery {
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn territories(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Territory>> {
        use sea_orm::EntityTrait;
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page = service::page::fetch(
            &app(ctx).db.conn,
            territory::Entity::find(),
            territory::Column::Id,
            &args,
        )
        .await?;
        Ok(connection::connection(page, had, |m| m.id, Territory))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganizationFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Organization>> {
        let had = after.is_some();
        let args: PageArgs = connection::args(after, first)?;
        let page =
            service::organization::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
                .await?;
        Ok(connection::connection(page, had, |m| m.id, Organization))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn operations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OperationFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Operation>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::operation::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
                .await?;
        Ok(connection::connection(page, had, |m| m.id, Operation))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        filter: Option<ParticipantFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Participant>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::participant::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
                .await?;
        Ok(connection::connection(page, had, |m| m.id, Participant))
    }
}

#[derive(Default)]
pub struct PartyMutation;

#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// People of the caller's territories whose retention period (default 5 years after the last
    /// exit) is over and who are not anonymized yet.
    async fn participants_due_for_anonymization(
        &self,
        ctx: &Context<'_>,
        retention_years: Option<i32>,
    ) -> Result<Vec<Participant>> {
        let rows =
            service::participant::due_for_anonymization(app(ctx), actor(ctx)?, retention_years)
                .await?;
        Ok(rows.into_iter().map(Participant).collect())
    }

    /// A person's whole file for an access request (RGPD art. 15): identity, profile,
    /// eligibility with its criteria, PASS IAE, placements and their terms, every ledger entry,
    /// path, immersions, exits, conventions, and who read the file. Facilitators of the person's
    /// territory only; each answer is logged as a read of the file (`accesses`), and gives a
    /// signed link to the same file as a workbook. Once anonymized, `identity` is null and the
    /// rest is what the store keeps.
    async fn participant_file(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<service::rights::ParticipantFile> {
        Ok(service::rights::file(app(ctx), actor(ctx)?, &id).await?)
    }
}

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Clears a participant's identity; every count and hour stays.
    async fn anonymize_participant(
        &self,
        ctx: &Context<'_>,
        participant_id: ID,
    ) -> Result<Participant> {
        Ok(Participant(
            service::participant::anonymize(app(ctx), actor(ctx)?, &participant_id).await?,
        ))
    }

    /// Rectification (RGPD art. 16): corrects a person's identity and profile, with the reason;
    /// every rule of `createParticipant` again. The audit trail keeps the reason and the names
    /// of the fields changed, never their values. Facilitators of the person's territory.
    async fn rectify_participant(
        &self,
        ctx: &Context<'_>,
        input: RectifyParticipantInput,
    ) -> Result<Participant> {
        Ok(Participant(
            service::participant::rectify(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Deletes a person entered by mistake while nothing depends on them (placements,
    /// eligibility decisions, PASS IAE), with the log of who read the file. Returns the ID.
    async fn delete_participant(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::participant::delete(app(ctx), actor(ctx)?, &id, version).await?)
    }
}

#[Object]
impl PartyMutation {
    async fn create_territory(
        &self,
        ctx: &Context<'_>,
        input: CreateTerritoryInput,
    ) -> Result<Territory> {
        Ok(Territory(
            service::territory::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<Organization> {
        Ok(Organization(
            service::organization::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn create_operation(
        &self,
        ctx: &Context<'_>,
        input: CreateOperationInput,
    ) -> Result<Operation> {
        Ok(Operation(
            service::operation::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    async fn create_participant(
        &self,
        ctx: &Context<'_>,
        input: CreateParticipantInput,
    ) -> Result<Participant> {
        Ok(Participant(
            service::participant::create(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects a territory (administrators): its name; its time zone only while nothing is
    /// dated in it.
    async fn update_territory(
        &self,
        ctx: &Context<'_>,
        input: UpdateTerritoryInput,
    ) -> Result<Territory> {
        Ok(Territory(
            service::territory::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects an organization (administrators; facilitators those of their territories):
    /// name, SIRET, contact details; its kind only while nothing refers to it.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganizationInput,
    ) -> Result<Organization> {
        Ok(Organization(
            service::organization::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Corrects an operation (facilitators of its territory).
    async fn update_operation(
        &self,
        ctx: &Context<'_>,
        input: UpdateOperationInput,
    ) -> Result<Operation> {
        Ok(Operation(
            service::operation::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Deletes an operation nothing depends on yet (no market, chantier, convention,
    /// commission); returns its ID.
    async fn delete_operation(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<ID> {
        Ok(service::operation::delete(app(ctx), actor(ctx)?, &id, version).await?)
    }
}
