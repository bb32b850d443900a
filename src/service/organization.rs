//! Organizations: buyers, companies, insertion structures, funders, prescribers.

use async_graphql::{ID, InputObject};
use entity::{organization, territory};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get};
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
    match (input.kind, input.siae_subtype) {
        (OrganizationKind::Siae, None) => {
            return Err(AppError::bad_input(
                "siaeSubtype",
                "siaeSubtype : préciser le type de structure d'insertion (ACI, EI, ETTI, AI, GEIQ, EA, ESAT, REGIE) (required for an SIAE)",
            ));
        }
        (kind, Some(_)) if kind != OrganizationKind::Siae => {
            return Err(AppError::bad_input(
                "siaeSubtype",
                "siaeSubtype : seulement pour une structure d'insertion (only for kind SIAE)",
            ));
        }
        _ => {}
    }
    let siret = match input.siret.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(siret::check("siret", raw)?),
    };
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
    if let Some(s) = &siret
        && organization::Entity::find()
            .filter(organization::Column::Siret.eq(s))
            .one(&txn.txn)
            .await?
            .is_some()
    {
        return Err(AppError::Conflict(format!(
            "siret : une organisation porte déjà le SIRET {s} (SIRET already registered)"
        )));
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

/// Loads an organization and checks its kind, naming the input field when it is wrong.
pub async fn expect_kind<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: uuid::Uuid,
    field: &str,
    allowed: &[OrganizationKind],
) -> AppResult<organization::Model> {
    let org = get::<organization::Entity, _>(conn, id, "organisation").await?;
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
