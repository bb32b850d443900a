//! Conventions: kinds, parties, amounts by year, referenced documents (DOMAIN.md section 2).
//! Their life cycle goes through `workflow`; what can still change depends on it.

use async_graphql::{ID, InputObject};
use chrono::{Datelike, NaiveDate};
use entity::{
    convention, convention_amount, convention_document, convention_party, organization, placement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::deadlines::{self, SubjectRef};
use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::Actor;
use crate::domain::dates::add_months;
use crate::domain::deadlines as due_rules;
use crate::domain::{
    ContractType, ConventionKind, ConventionStatus, DocumentKind, PartyRole, text,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// An SIAE's State agreement lasts at most three years (Code du travail, art. R5132-1 ff.).
pub const STATE_AGREEMENT_MAX_MONTHS: i64 = 36;

/// The day from which a convention may be marked as due for renewal.
pub fn renewal_opens(kind: ConventionKind, end: NaiveDate) -> NaiveDate {
    match kind {
        ConventionKind::StateAgreement => due_rules::renewal_opens(end),
        _ => add_months(end, -3),
    }
}

#[derive(Debug, InputObject)]
pub struct PartyInput {
    pub organization_id: ID,
    pub role: PartyRole,
}

#[derive(Debug, InputObject)]
pub struct AmountInput {
    pub year: i32,
    /// In cents, like every amount of Passerelle (50 000 € is 5000000).
    pub amount_cents: i64,
}

#[derive(Debug, InputObject)]
pub struct CreateConventionInput {
    pub territory_id: ID,
    pub kind: ConventionKind,
    /// The reference people use (numéro de convention), unique in the territory.
    pub reference: String,
    pub title: String,
    pub chantier_id: Option<ID>,
    /// The subsidised contract of an individual aid agreement, or the contract of an immersion.
    pub placement_id: Option<ID>,
    pub operation_id: Option<ID>,
    /// The convention this one renews.
    pub renews_id: Option<ID>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    #[graphql(default)]
    pub parties: Vec<PartyInput>,
    #[graphql(default)]
    pub amounts: Vec<AmountInput>,
}

#[derive(Debug, InputObject)]
pub struct UpdateConventionInput {
    pub convention_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub title: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// The day the complete file was filed, when it was not the day of the move to SUBMITTED.
    pub filed_on: Option<NaiveDate>,
    /// The signing day, when it was not the day of the move to SIGNED.
    pub signed_on: Option<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct AddConventionDocumentInput {
    pub convention_id: ID,
    pub name: String,
    pub kind: DocumentKind,
    pub dated_on: NaiveDate,
    /// Where to find it (a file name, a GED reference, a URL).
    pub reference: Option<String>,
}

#[derive(Debug, Default, InputObject)]
pub struct ConventionFilter {
    pub territory_id: Option<ID>,
    pub chantier_id: Option<ID>,
    pub placement_id: Option<ID>,
    pub kind: Option<ConventionKind>,
    pub status: Option<ConventionStatus>,
}

fn check_dates(
    kind: ConventionKind,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> AppResult<()> {
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            return Err(AppError::bad_input(
                "endDate",
                format!("endDate : la fin ({e}) précède le début ({s})"),
            ));
        }
        if kind == ConventionKind::StateAgreement && e >= add_months(s, STATE_AGREEMENT_MAX_MONTHS)
        {
            return Err(AppError::bad_input(
                "endDate",
                format!(
                    "endDate : un conventionnement dure au plus {} mois ; fin au plus tard le {} (agreement too long)",
                    STATE_AGREEMENT_MAX_MONTHS,
                    crate::domain::dates::add_days(add_months(s, STATE_AGREEMENT_MAX_MONTHS), -1)
                ),
            ));
        }
    }
    Ok(())
}

fn parse_amount(a: &AmountInput) -> AppResult<i64> {
    if !(2000..=2100).contains(&a.year) {
        return Err(AppError::bad_input(
            "amounts.year",
            format!("amounts.year : année invalide {}", a.year),
        ));
    }
    if a.amount_cents <= 0 {
        return Err(AppError::bad_input(
            "amounts.amountCents",
            format!(
                "amounts.amountCents : un montant positif, reçu {} (positive amount)",
                a.amount_cents
            ),
        ));
    }
    Ok(a.amount_cents)
}

/// Loads a convention the caller may see, for update; only facilitators of its territory act.
async fn for_update<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
) -> AppResult<convention::Model> {
    let id = ids::decode(Kind::Convention, id, "conventionId")?;
    let c = scope::lock::<convention::Entity, _>(
        conn,
        scope::conventions(actor)?,
        convention::Column::Id,
        id,
        "convention",
    )
    .await?;
    if !actor.facilitates(c.territory_id) {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

/// Parties and amounts are the file's content: they change until it is signed.
fn still_open(c: &convention::Model) -> AppResult<()> {
    match ConventionStatus::from_db(&c.status) {
        ConventionStatus::Draft | ConventionStatus::Submitted => Ok(()),
        s => Err(AppError::Conflict(format!(
            "la convention {} est {s} : elle ne change plus ; un avenant ou un renouvellement fait une nouvelle convention (convention is {s})",
            c.reference
        ))),
    }
}

async fn add_party_row<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    convention_id: Uuid,
    p: &PartyInput,
) -> AppResult<()> {
    let org = ids::decode(
        Kind::Organization,
        &p.organization_id,
        "parties.organizationId",
    )?;
    get::<organization::Entity, _>(conn, org, "organisation").await?;
    let dup = convention_party::Entity::find()
        .filter(convention_party::Column::ConventionId.eq(convention_id))
        .filter(convention_party::Column::OrganizationId.eq(org))
        .filter(convention_party::Column::Role.eq(p.role.as_str()))
        .count(conn)
        .await?;
    if dup > 0 {
        return Err(AppError::Conflict(format!(
            "parties : cette organisation est déjà {} de la convention (already a party)",
            p.role
        )));
    }
    convention_party::ActiveModel {
        id: Set(ctx.clock.new_id()),
        convention_id: Set(convention_id),
        organization_id: Set(org),
        role: Set(p.role.as_str().into()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

async fn set_amount_row<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    c: &convention::Model,
    a: &AmountInput,
) -> AppResult<()> {
    let cents = parse_amount(a)?;
    let years = (c.start_date.map(|d| d.year()), c.end_date.map(|d| d.year()));
    if let (Some(from), Some(to)) = years
        && !(from..=to).contains(&a.year)
    {
        return Err(AppError::bad_input(
            "amounts.year",
            format!(
                "amounts.year : {} hors de la durée de la convention ({from}–{to})",
                a.year
            ),
        ));
    }
    let existing = convention_amount::Entity::find()
        .filter(convention_amount::Column::ConventionId.eq(c.id))
        .filter(convention_amount::Column::Year.eq(a.year))
        .one(conn)
        .await?;
    match existing {
        Some(row) => {
            let mut am: convention_amount::ActiveModel = row.into();
            am.amount_cents = Set(cents);
            am.update(conn).await?;
        }
        None => {
            convention_amount::ActiveModel {
                id: Set(ctx.clock.new_id()),
                convention_id: Set(c.id),
                year: Set(a.year),
                amount_cents: Set(cents),
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateConventionInput,
) -> AppResult<convention::Model> {
    let territory = ids::decode(Kind::Territory, &input.territory_id, "territoryId")?;
    let chantier_id = ids::decode_opt(Kind::Chantier, input.chantier_id.as_ref(), "chantierId")?;
    let placement_id =
        ids::decode_opt(Kind::Placement, input.placement_id.as_ref(), "placementId")?;
    let operation_id =
        ids::decode_opt(Kind::Operation, input.operation_id.as_ref(), "operationId")?;
    let renews_id = ids::decode_opt(Kind::Convention, input.renews_id.as_ref(), "renewsId")?;
    let reference = text::required("reference", &input.reference)?;
    let title = text::required("title", &input.title)?;
    check_dates(input.kind, input.start_date, input.end_date)?;
    if input.kind == ConventionKind::IndividualAid && placement_id.is_none() {
        return Err(AppError::bad_input(
            "placementId",
            "placementId : une convention individuelle porte sur un contrat aidé (contract required)",
        ));
    }
    if !actor.facilitates(territory) {
        return Err(AppError::NotFound("territoire".into()));
    }
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let taken = convention::Entity::find()
        .filter(convention::Column::TerritoryId.eq(territory))
        .filter(convention::Column::Reference.eq(reference.as_str()))
        .count(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "reference : une convention « {reference} » existe déjà dans ce territoire (duplicate reference)"
        )));
    }
    if let Some(ch) = chantier_id {
        let c = super::chantier::load(conn, actor, ch, false).await?;
        if c.territory_id != territory {
            return Err(AppError::bad_input(
                "chantierId",
                "chantierId : chantier d'un autre territoire",
            ));
        }
    }
    if let Some(p) = placement_id {
        let p = scope::load::<placement::Entity, _>(
            conn,
            scope::placements(actor)?,
            placement::Column::Id,
            p,
            "contrat",
        )
        .await?;
        let contract = ContractType::from_db(&p.contract_type);
        if input.kind == ConventionKind::IndividualAid
            && !matches!(contract, ContractType::CuiCae | ContractType::CuiCie)
        {
            return Err(AppError::bad_input(
                "placementId",
                format!(
                    "placementId : un {contract} n'est pas un contrat aidé ; une convention individuelle porte sur un CUI-CAE ou un CUI-CIE"
                ),
            ));
        }
    }
    if let Some(r) = renews_id {
        let old = scope::load::<convention::Entity, _>(
            conn,
            scope::conventions(actor)?,
            convention::Column::Id,
            r,
            "convention renouvelée",
        )
        .await?;
        if old.kind != input.kind.as_str() || old.territory_id != territory {
            return Err(AppError::bad_input(
                "renewsId",
                "renewsId : un renouvellement est du même type et du même territoire",
            ));
        }
    }
    let now = ctx.clock.now();
    let row = convention::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        territory_id: Set(territory),
        kind: Set(input.kind.as_str().into()),
        reference: Set(reference),
        title: Set(title),
        status: Set(ConventionStatus::Draft.as_str().into()),
        chantier_id: Set(chantier_id),
        placement_id: Set(placement_id),
        operation_id: Set(operation_id),
        renews_id: Set(renews_id),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        filed_on: Set(None),
        signed_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    for p in &input.parties {
        add_party_row(conn, ctx, row.id, p).await?;
    }
    for a in &input.amounts {
        set_amount_row(conn, ctx, &row, a).await?;
    }
    deadlines::sync(conn, ctx, SubjectRef::Convention(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "createConvention",
        Kind::Convention,
        row.id,
        Some(territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateConventionInput,
) -> AppResult<convention::Model> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &input.convention_id).await?;
    super::edit::expect_version(
        conn,
        actor,
        Kind::Convention,
        c.id,
        c.version,
        input.version,
    )
    .await?;
    let status = ConventionStatus::from_db(&c.status);
    let dates_change = input.start_date.is_some() || input.end_date.is_some();
    if dates_change {
        still_open(&c)?;
    }
    let kind = ConventionKind::from_db(&c.kind);
    let start = input.start_date.or(c.start_date);
    let end = input.end_date.or(c.end_date);
    check_dates(kind, start, end)?;
    let today = super::territory::today(ctx, conn, c.territory_id).await?;
    for (field, day) in [("filedOn", input.filed_on), ("signedOn", input.signed_on)] {
        if day.is_some_and(|d| d > today) {
            return Err(AppError::bad_input(
                field,
                format!("{field} : une date passée ou aujourd'hui ({today})"),
            ));
        }
    }
    if input.filed_on.is_some() && status == ConventionStatus::Draft {
        return Err(AppError::bad_input(
            "filedOn",
            "filedOn : le dépôt se fait par la transition SUBMITTED (file it first)",
        ));
    }
    if input.signed_on.is_some()
        && matches!(
            status,
            ConventionStatus::Draft | ConventionStatus::Submitted
        )
    {
        return Err(AppError::bad_input(
            "signedOn",
            "signedOn : la signature se fait par la transition SIGNED (sign it first)",
        ));
    }
    if let (Some(f), Some(s)) = (
        input.filed_on.or(c.filed_on),
        input.signed_on.or(c.signed_on),
    ) && s < f
    {
        return Err(AppError::bad_input(
            "signedOn",
            format!("signedOn : la signature ({s}) précède le dépôt ({f})"),
        ));
    }
    let before = audit::json(&c);
    let mut am: convention::ActiveModel = c.clone().into();
    if let Some(t) = &input.title {
        am.title = Set(text::required("title", t)?);
    }
    am.start_date = Set(start);
    am.end_date = Set(end);
    if input.filed_on.is_some() {
        am.filed_on = Set(input.filed_on);
    }
    if input.signed_on.is_some() {
        am.signed_on = Set(input.signed_on);
    }
    am.updated_at = Set(ctx.clock.now());
    let row = am.update(conn).await?;
    deadlines::sync(conn, ctx, SubjectRef::Convention(row.id)).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateConvention",
        Kind::Convention,
        row.id,
        Some(row.territory_id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn add_party(
    ctx: &Ctx,
    actor: &Actor,
    convention_id: ID,
    party: PartyInput,
) -> AppResult<convention::Model> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &convention_id).await?;
    still_open(&c)?;
    add_party_row(conn, ctx, c.id, &party).await?;
    deadlines::sync(conn, ctx, SubjectRef::Convention(c.id)).await?;
    let after = serde_json::json!({"organizationId": party.organization_id.as_str(), "role": party.role.as_str()});
    audit::record(
        ctx,
        conn,
        actor,
        "addConventionParty",
        Kind::Convention,
        c.id,
        Some(c.territory_id),
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// Saves the convention so its version moves with a change of its parties.
async fn touch<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    c: convention::Model,
) -> AppResult<convention::Model> {
    let mut am: convention::ActiveModel = c.into();
    am.updated_at = Set(ctx.clock.now());
    Ok(am.update(conn).await?)
}

/// Removes a party added by mistake, while the file is open (DRAFT or SUBMITTED).
pub async fn remove_party(
    ctx: &Ctx,
    actor: &Actor,
    convention_id: ID,
    version: i32,
    party: PartyInput,
) -> AppResult<convention::Model> {
    let org = ids::decode(
        Kind::Organization,
        &party.organization_id,
        "party.organizationId",
    )?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &convention_id).await?;
    super::edit::expect_version(conn, actor, Kind::Convention, c.id, c.version, version).await?;
    still_open(&c)?;
    let gone = convention_party::Entity::delete_many()
        .filter(convention_party::Column::ConventionId.eq(c.id))
        .filter(convention_party::Column::OrganizationId.eq(org))
        .filter(convention_party::Column::Role.eq(party.role.as_str()))
        .exec(conn)
        .await?;
    if gone.rows_affected == 0 {
        return Err(AppError::NotFound("partie de la convention".into()));
    }
    let c = touch(conn, ctx, c).await?;
    deadlines::sync(conn, ctx, SubjectRef::Convention(c.id)).await?;
    let before = serde_json::json!({"organizationId": party.organization_id.as_str(), "role": party.role.as_str()});
    audit::record(
        ctx,
        conn,
        actor,
        "removeConventionParty",
        Kind::Convention,
        c.id,
        Some(c.territory_id),
        Some(&before),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

pub async fn set_amount(
    ctx: &Ctx,
    actor: &Actor,
    convention_id: ID,
    amount: AmountInput,
) -> AppResult<convention::Model> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &convention_id).await?;
    still_open(&c)?;
    set_amount_row(conn, ctx, &c, &amount).await?;
    let after = serde_json::json!({"year": amount.year, "amountCents": amount.amount_cents});
    audit::record(
        ctx,
        conn,
        actor,
        "setConventionAmount",
        Kind::Convention,
        c.id,
        Some(c.territory_id),
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

pub async fn add_document(
    ctx: &Ctx,
    actor: &Actor,
    input: AddConventionDocumentInput,
) -> AppResult<convention_document::Model> {
    let name = text::required("name", &input.name)?;
    let reference = text::optional("reference", input.reference.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let c = for_update(conn, actor, &input.convention_id).await?;
    let today = super::territory::today(ctx, conn, c.territory_id).await?;
    if input.dated_on > today {
        return Err(AppError::bad_input(
            "datedOn",
            format!("datedOn : un document daté d'aujourd'hui ({today}) au plus tard"),
        ));
    }
    let row = convention_document::ActiveModel {
        id: Set(ctx.clock.new_id()),
        convention_id: Set(c.id),
        name: Set(name),
        kind: Set(input.kind.as_str().into()),
        dated_on: Set(input.dated_on),
        reference: Set(reference),
        added_at: Set(ctx.clock.now()),
        added_by: Set(actor.label.clone()),
    }
    .insert(conn)
    .await?;
    audit::record(
        ctx,
        conn,
        actor,
        "addConventionDocument",
        Kind::Convention,
        c.id,
        Some(c.territory_id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: ConventionFilter,
    args: PageArgs,
) -> AppResult<Page<convention::Model>> {
    let mut q = convention::Entity::find().filter(scope::conventions(actor)?);
    q = page::by_id(
        q,
        convention::Column::TerritoryId,
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )?;
    q = page::by_id(
        q,
        convention::Column::ChantierId,
        Kind::Chantier,
        filter.chantier_id.as_ref(),
        "filter.chantierId",
    )?;
    q = page::by_id(
        q,
        convention::Column::PlacementId,
        Kind::Placement,
        filter.placement_id.as_ref(),
        "filter.placementId",
    )?;
    if let Some(k) = filter.kind {
        q = q.filter(convention::Column::Kind.eq(k.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(convention::Column::Status.eq(s.as_str()));
    }
    page::fetch(&ctx.db.conn, q, convention::Column::Id, &args).await
}

pub async fn parties(ctx: &Ctx, id: Uuid) -> AppResult<Vec<convention_party::Model>> {
    super::children::<convention_party::Entity, _>(
        &ctx.db.conn,
        convention_party::Column::ConventionId,
        id,
        convention_party::Column::Id,
    )
    .await
}

pub async fn amounts(ctx: &Ctx, id: Uuid) -> AppResult<Vec<convention_amount::Model>> {
    super::children::<convention_amount::Entity, _>(
        &ctx.db.conn,
        convention_amount::Column::ConventionId,
        id,
        convention_amount::Column::Year,
    )
    .await
}

pub async fn documents(ctx: &Ctx, id: Uuid) -> AppResult<Vec<convention_document::Model>> {
    super::children::<convention_document::Entity, _>(
        &ctx.db.conn,
        convention_document::Column::ConventionId,
        id,
        convention_document::Column::Id,
    )
    .await
}
