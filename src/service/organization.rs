//! Organizations: buyers, companies, insertion structures, funders, prescribers.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{
    app_user, budget_line, chantier, chantier_supervisor, commission_member, convention_party,
    eligibility, funding_line, hour_import, immersion, lot, market, operation, organization,
    participant, placement, territory,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::{Actor, Role};
use crate::domain::{OrganizationKind, SiaeSubtype, siret, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct CreateOrganizationInput {
    pub name: String,
    pub kind: OrganizationKind,
    /// Required for an insertion structure (SIAE), refused otherwise.
    pub siae_subtype: Option<SiaeSubtype>,
    /// 14 digits with a valid checksum; spaces are ignored.
    pub siret: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub territory_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct UpdateOrganizationInput {
    pub organization_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub name: Option<String>,
    /// Changes only while nothing refers to the organization (no user, market, lot, contract,
    /// chantier, convention...): what it may be in those depends on its kind.
    pub kind: Option<OrganizationKind>,
    /// As `kind`. Absent: kept (dropped when the kind stops being SIAE); null clears it.
    pub siae_subtype: MaybeUndefined<SiaeSubtype>,
    /// 14 digits with a valid checksum; null or blank clears it.
    pub siret: MaybeUndefined<String>,
    pub address: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
}

#[derive(Debug, Default, InputObject)]
pub struct OrganizationFilter {
    pub kind: Option<OrganizationKind>,
    pub territory_id: Option<ID>,
    /// Part of the name or the SIRET.
    pub search: Option<String>,
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateOrganizationInput,
) -> AppResult<organization::Model> {
    let name = text::required("name", &input.name)?;
    check_subtype(input.kind, input.siae_subtype)?;
    let siret = parse_siret(input.siret.as_deref())?;
    let address = text::optional("address", input.address.as_deref())?;
    let email = text::email("email", input.email.as_deref())?;
    let territory_id =
        ids::decode_opt(Kind::Territory, input.territory_id.as_ref(), "territoryId")?;
    // Admins register any organization; facilitators those of their own territories.
    if !actor.any_of(&[Role::Admin]) {
        match territory_id {
            Some(t) if actor.facilitates(t) => {}
            None if actor.is(Role::Facilitator) => {
                return Err(AppError::bad_input(
                    "territoryId",
                    "territoryId : préciser un de vos territoires (required)",
                ));
            }
            _ => return Err(AppError::Forbidden),
        }
    }

    let txn = ctx.db.begin_write().await?;
    if let Some(t) = territory_id {
        get::<territory::Entity, _>(&txn.txn, t, "territoire").await?;
    }
    if let Some(s) = &siret {
        siret_free(&txn.txn, s, None).await?;
    }
    let row = organization::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        search_text: Set(text::search_key(&[&name, siret.as_deref().unwrap_or("")])),
        name: Set(name),
        kind: Set(input.kind.as_str().to_string()),
        siae_subtype: Set(input.siae_subtype.map(|s| s.as_str().to_string())),
        siret: Set(siret),
        address: Set(address),
        email: Set(email),
        territory_id: Set(territory_id),
        created_at: Set(ctx.clock.now()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createOrganization",
        Kind::Organization,
        row.id,
        row.territory_id,
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The SIAE subtype goes with the kind: required for an SIAE, refused otherwise.
fn check_subtype(kind: OrganizationKind, subtype: Option<SiaeSubtype>) -> AppResult<()> {
    match (kind, subtype) {
        (OrganizationKind::Siae, None) => Err(AppError::bad_input(
            "siaeSubtype",
            "siaeSubtype : préciser le type de structure d'insertion (ACI, EI, ETTI, AI, GEIQ, EA, ESAT, REGIE) (required for an SIAE)",
        )),
        (kind, Some(_)) if kind != OrganizationKind::Siae => Err(AppError::bad_input(
            "siaeSubtype",
            "siaeSubtype : seulement pour une structure d'insertion (only for kind SIAE)",
        )),
        _ => Ok(()),
    }
}

/// A SIRET as typed (spaces ignored; blank is none), checked.
fn parse_siret(raw: Option<&str>) -> AppResult<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => Ok(Some(siret::check("siret", raw)?)),
    }
}

/// Refuses a SIRET that an organization other than `except` already carries.
async fn siret_free<C: ConnectionTrait>(
    conn: &C,
    siret: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let mut q = organization::Entity::find().filter(organization::Column::Siret.eq(siret));
    if let Some(id) = except {
        q = q.filter(organization::Column::Id.ne(id));
    }
    if q.count(conn).await? > 0 {
        return Err(AppError::Conflict(format!(
            "siret : une organisation porte déjà le SIRET {siret} (SIRET already registered)"
        )));
    }
    Ok(())
}

/// Rows that refer to the organization in a role its kind decides, as (what, how many).
async fn references<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<Vec<(&'static str, u64)>> {
    macro_rules! count {
        ($e:ident, $col:ident) => {
            $e::Entity::find()
                .filter($e::Column::$col.eq(id))
                .count(conn)
                .await?
        };
    }
    Ok(vec![
        ("compte(s) utilisateur", count!(app_user, OrganizationId)),
        ("marché(s) comme acheteur", count!(market, BuyerId)),
        ("lot(s) comme titulaire", count!(lot, AwardeeId)),
        (
            "opération(s) comme porteur de projet",
            count!(operation, OwnerId),
        ),
        ("contrat(s) comme employeur", count!(placement, EmployerId)),
        (
            "participant(s) comme prescripteur",
            count!(participant, PrescriberId),
        ),
        ("chantier(s) comme porteur", count!(chantier, CarrierId)),
        (
            "chantier(s) comme maître d'ouvrage",
            count!(chantier, OwnerId),
        ),
        (
            "encadrant(s) de chantier",
            count!(chantier_supervisor, OrganizationId),
        ),
        ("ligne(s) de financement", count!(funding_line, FunderId)),
        ("ligne(s) de budget", count!(budget_line, FunderId)),
        (
            "éligibilité(s) comme attestataire",
            count!(eligibility, AttesterId),
        ),
        ("immersion(s) comme accueil", count!(immersion, HostId)),
        (
            "convention(s) comme partie",
            count!(convention_party, OrganizationId),
        ),
        (
            "commission(s) comme membre",
            count!(commission_member, OrganizationId),
        ),
        ("import(s) d'heures", count!(hour_import, OrganizationId)),
    ])
}

/// Corrects an organization: administrators any, facilitators those of their territories
/// (as they create them). Name, SIRET and contact details always; the kind (and SIAE subtype)
/// only while nothing refers to the organization.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateOrganizationInput,
) -> AppResult<organization::Model> {
    let id = ids::decode(Kind::Organization, &input.organization_id, "organizationId")?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let org = organization::Entity::find()
        .filter(scope::organizations(actor)?)
        .filter(organization::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("organisation".into()))?;
    let may =
        actor.any_of(&[Role::Admin]) || org.territory_id.is_some_and(|t| actor.facilitates(t));
    if !may {
        return Err(AppError::Forbidden);
    }
    super::edit::expect_version(
        conn,
        actor,
        Kind::Organization,
        org.id,
        org.version,
        input.version,
    )
    .await?;
    let name = match &input.name {
        Some(n) => text::required("name", n)?,
        None => org.name.clone(),
    };
    let old_kind = OrganizationKind::from_db(&org.kind);
    let old_subtype = org.siae_subtype.as_deref().and_then(SiaeSubtype::parse);
    let kind = input.kind.unwrap_or(old_kind);
    let subtype = match input.siae_subtype {
        MaybeUndefined::Undefined if kind == OrganizationKind::Siae => old_subtype,
        MaybeUndefined::Undefined | MaybeUndefined::Null => None,
        MaybeUndefined::Value(s) => Some(s),
    };
    check_subtype(kind, subtype)?;
    let siret = match input.siret.as_opt_deref() {
        None => org.siret.clone(),
        Some(raw) => parse_siret(raw)?,
    };
    let address = match input.address.as_opt_deref() {
        None => org.address.clone(),
        Some(raw) => text::optional("address", raw)?,
    };
    let email = match input.email.as_opt_deref() {
        None => org.email.clone(),
        Some(raw) => text::email("email", raw)?,
    };
    if (kind, subtype) != (old_kind, old_subtype) {
        let named = super::edit::named(&references(conn, org.id).await?);
        if !named.is_empty() {
            return Err(AppError::Conflict(format!(
                "kind : le type de « {} » ne change plus, {} en dépend(ent) ; créer plutôt une autre organisation (kind is fixed once referenced: {})",
                org.name,
                named.join(", "),
                named.join(", ")
            )));
        }
    }
    if let Some(s) = &siret
        && org.siret.as_ref() != Some(s)
    {
        siret_free(conn, s, Some(org.id)).await?;
    }
    let before = audit::json(&org);
    let territory = org.territory_id;
    let mut am = org.into_active_model();
    am.search_text = Set(text::search_key(&[&name, siret.as_deref().unwrap_or("")]));
    am.name = Set(name);
    am.kind = Set(kind.as_str().to_string());
    am.siae_subtype = Set(subtype.map(|s| s.as_str().to_string()));
    am.siret = Set(siret);
    am.address = Set(address);
    am.email = Set(email);
    let row = am.update(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateOrganization",
        Kind::Organization,
        row.id,
        territory,
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: OrganizationFilter,
    args: PageArgs,
) -> AppResult<Page<organization::Model>> {
    let mut select = organization::Entity::find().filter(super::scope::organizations(actor)?);
    if let Some(kind) = filter.kind {
        select = select.filter(organization::Column::Kind.eq(kind.as_str()));
    }
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        select = select.filter(organization::Column::TerritoryId.eq(t));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        select = select.filter(page::matches(organization::Column::SearchText, search));
    }
    page::fetch(&ctx.db.conn, select, organization::Column::Id, &args).await
}

/// Loads an organization and checks its kind, naming the input field when it is wrong. The row
/// is share-locked until the caller's transaction ends: `update`, which changes a kind only
/// while nothing refers to the organization, waits for the row that will refer to it (or this
/// check waits for the change and reads the new kind).
pub async fn expect_kind<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: uuid::Uuid,
    field: &str,
    allowed: &[OrganizationKind],
) -> AppResult<organization::Model> {
    let org = organization::Entity::find_by_id(id)
        .lock_shared()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("organisation".into()))?;
    let kind = OrganizationKind::from_db(&org.kind);
    if !allowed.contains(&kind) {
        let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
        return Err(AppError::bad_input(
            field,
            format!(
                "{field} : « {} » est de type {kind}, attendu {} (wrong organization kind)",
                org.name,
                names.join(" ou ")
            ),
        ));
    }
    Ok(org)
}

/// [`expect_kind`] for an organization the actor may see: one out of scope answers like a
/// missing one (an edit names its counterparts among those it knows).
pub async fn expect_kind_in_scope<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: uuid::Uuid,
    field: &str,
    allowed: &[OrganizationKind],
) -> AppResult<organization::Model> {
    scope::load::<organization::Entity, _>(
        conn,
        scope::organizations(actor)?,
        organization::Column::Id,
        id,
        "organisation",
    )
    .await?;
    expect_kind(conn, id, field, allowed).await
}
