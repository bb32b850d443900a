//! What each actor may see, as query conditions. Lists, `node(id:)` and mutations all load
//! through these, so an object out of scope answers exactly like a missing one.

use entity::{
    chantier, chantier_supervisor, commission, commission_member, convention, convention_party,
    deadline, funding_line, hour_entry, immersion, lot, market, operation, organization,
    participant, placement, territory,
};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::auth::{Actor, Role};
use crate::error::{AppError, AppResult};

fn territories(actor: &Actor) -> Vec<Uuid> {
    actor.territories.iter().copied().collect()
}

/// Markets in the actor's territories.
fn markets_of_territories(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(market::Column::Id)
        .from(market::Entity)
        .and_where(market::Column::TerritoryId.is_in(territories(actor)))
        .to_owned()
}

/// Chantiers in the actor's territories.
fn chantiers_of_territories(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(chantier::Column::Id)
        .from(chantier::Entity)
        .and_where(chantier::Column::TerritoryId.is_in(territories(actor)))
        .to_owned()
}

/// Placements a facilitator follows: on a market or a chantier of their territories.
fn placements_of_territories(actor: &Actor) -> Condition {
    Condition::any()
        .add(placement::Column::MarketId.in_subquery(markets_of_territories(actor)))
        .add(placement::Column::ChantierId.in_subquery(chantiers_of_territories(actor)))
}

/// Lots awarded to the actor's organization.
fn lots_awarded(org: Uuid) -> SelectStatement {
    Query::select()
        .column(lot::Column::Id)
        .from(lot::Entity)
        .and_where(lot::Column::AwardeeId.eq(org))
        .to_owned()
}

/// Placements the organization employs, or hosts as awardee of the lot.
fn placements_of_org(org: Uuid) -> SelectStatement {
    Query::select()
        .column(placement::Column::Id)
        .from(placement::Entity)
        .cond_where(
            Condition::any()
                .add(placement::Column::EmployerId.eq(org))
                .add(placement::Column::LotId.in_subquery(lots_awarded(org))),
        )
        .to_owned()
}

fn org(actor: &Actor) -> AppResult<Uuid> {
    actor.organization_id.ok_or(AppError::Forbidden)
}

fn everything() -> Condition {
    Condition::all()
}

/// Organizations: an administrator sees all; anyone else sees their own, and those related to
/// an object they may see (buyer, awardee, employer, carrier, owner, funder, party, member,
/// host, prescriber); a facilitator also sees every organization of their territories and the
/// national ones (no territory). Nothing of another territory otherwise.
pub fn organizations(actor: &Actor) -> AppResult<Condition> {
    if actor.role.is_none() || actor.is(Role::Admin) {
        return Ok(everything());
    }
    let mut visible = Condition::any();
    if let Some(own) = actor.organization_id {
        visible = visible.add(organization::Column::Id.eq(own));
    }
    if actor.is(Role::Facilitator) {
        visible = visible
            .add(organization::Column::TerritoryId.is_in(territories(actor)))
            .add(organization::Column::TerritoryId.is_null());
    }
    for related in counterparties(actor) {
        visible = visible.add(organization::Column::Id.in_subquery(related));
    }
    Ok(visible)
}

/// `SELECT <org> FROM <table> WHERE <scope>`, when the actor has that scope at all.
fn related_orgs<C: sea_orm::ColumnTrait>(
    column: C,
    scope: AppResult<Condition>,
) -> Option<SelectStatement> {
    let scope = scope.ok()?;
    Some(
        Query::select()
            .column(column)
            .from(column.entity_name())
            .cond_where(scope)
            .and_where(column.is_not_null())
            .to_owned(),
    )
}

/// Rows of a child table whose parent (by `parent_column`) the actor may see.
fn child_of<C: sea_orm::ColumnTrait, P: sea_orm::ColumnTrait>(
    parent_column: C,
    parent_id: P,
    parent_scope: AppResult<Condition>,
) -> AppResult<Condition> {
    let parents = Query::select()
        .column(parent_id)
        .from(parent_id.entity_name())
        .cond_where(parent_scope?)
        .to_owned();
    Ok(Condition::all().add(parent_column.in_subquery(parents)))
}

/// The organizations related to what the actor may see, one subquery per relation.
fn counterparties(actor: &Actor) -> Vec<SelectStatement> {
    [
        related_orgs(market::Column::BuyerId, markets(actor)),
        related_orgs(lot::Column::AwardeeId, lots(actor)),
        related_orgs(operation::Column::OwnerId, operations(actor)),
        related_orgs(placement::Column::EmployerId, placements(actor)),
        related_orgs(participant::Column::PrescriberId, participants(actor)),
        related_orgs(chantier::Column::CarrierId, chantiers(actor)),
        related_orgs(chantier::Column::OwnerId, chantiers(actor)),
        related_orgs(
            funding_line::Column::FunderId,
            child_of(
                funding_line::Column::ChantierId,
                chantier::Column::Id,
                chantiers(actor),
            ),
        ),
        related_orgs(
            chantier_supervisor::Column::OrganizationId,
            child_of(
                chantier_supervisor::Column::ChantierId,
                chantier::Column::Id,
                chantiers(actor),
            ),
        ),
        related_orgs(
            immersion::Column::HostId,
            child_of(
                immersion::Column::PlacementId,
                placement::Column::Id,
                placements(actor),
            ),
        ),
        related_orgs(
            convention_party::Column::OrganizationId,
            child_of(
                convention_party::Column::ConventionId,
                convention::Column::Id,
                conventions(actor),
            ),
        ),
        related_orgs(
            commission_member::Column::OrganizationId,
            child_of(
                commission_member::Column::CommissionId,
                commission::Column::Id,
                commissions(actor),
            ),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub fn operations(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(operation::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(Role::Buyer) => Ok(Condition::all().add(operation::Column::OwnerId.eq(org(actor)?))),
        _ => Err(AppError::Forbidden),
    }
}

pub fn markets(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(market::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(Role::Buyer) => Ok(Condition::all().add(market::Column::BuyerId.eq(org(actor)?))),
        Some(Role::Company | Role::Siae) => {
            let org = org(actor)?;
            let awarded = Query::select()
                .column(lot::Column::MarketId)
                .from(lot::Entity)
                .and_where(lot::Column::AwardeeId.eq(org))
                .to_owned();
            let employing = Query::select()
                .column(placement::Column::MarketId)
                .from(placement::Entity)
                .and_where(placement::Column::EmployerId.eq(org))
                .to_owned();
            Ok(Condition::any()
                .add(market::Column::Id.in_subquery(awarded))
                .add(market::Column::Id.in_subquery(employing)))
        }
        Some(Role::Funder) => Err(AppError::Forbidden),
    }
}

/// Lots follow their market.
pub fn lots(actor: &Actor) -> AppResult<Condition> {
    let visible = Query::select()
        .column(market::Column::Id)
        .from(market::Entity)
        .cond_where(markets(actor)?)
        .to_owned();
    Ok(Condition::all().add(lot::Column::MarketId.in_subquery(visible)))
}

/// People: facilitators of their territory, and employers or hosts for their own employees.
pub fn participants(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(participant::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(Role::Company | Role::Siae) => {
            let people = Query::select()
                .column(placement::Column::ParticipantId)
                .from(placement::Entity)
                .and_where(placement::Column::Id.in_subquery(placements_of_org(org(actor)?)))
                .to_owned();
            Ok(Condition::all().add(participant::Column::Id.in_subquery(people)))
        }
        _ => Err(AppError::Forbidden),
    }
}

/// People whose identity the actor may read (DOMAIN.md section 9): facilitators those of their
/// territories, an employer the people it employs (on any placement), the system everyone.
/// A host company, a buyer, a funder identifies nobody. The one rule behind `identity`, name
/// search and the import's name column.
pub fn identifiable_participants(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(participant::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(Role::Company | Role::Siae) => {
            let employed = Query::select()
                .column(placement::Column::ParticipantId)
                .from(placement::Entity)
                .and_where(placement::Column::EmployerId.eq(org(actor)?))
                .to_owned();
            Ok(Condition::all().add(participant::Column::Id.in_subquery(employed)))
        }
        _ => Err(AppError::Forbidden),
    }
}

pub fn placements(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None => Ok(everything()),
        Some(Role::Facilitator) => Ok(placements_of_territories(actor)),
        Some(Role::Company | Role::Siae) => {
            Ok(Condition::all()
                .add(placement::Column::Id.in_subquery(placements_of_org(org(actor)?))))
        }
        _ => Err(AppError::Forbidden),
    }
}

pub fn hour_entries(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None => Ok(everything()),
        Some(Role::Facilitator) => {
            let followed = Query::select()
                .column(placement::Column::Id)
                .from(placement::Entity)
                .cond_where(placements_of_territories(actor))
                .to_owned();
            Ok(Condition::all().add(hour_entry::Column::PlacementId.in_subquery(followed)))
        }
        Some(Role::Company | Role::Siae) => Ok(Condition::all()
            .add(hour_entry::Column::PlacementId.in_subquery(placements_of_org(org(actor)?)))),
        _ => Err(AppError::Forbidden),
    }
}

/// Chantiers: facilitators of the territory, the carrier, the maître d'ouvrage, and funders
/// of one of its lines.
pub fn chantiers(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(chantier::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(Role::Buyer) => Ok(Condition::all().add(chantier::Column::OwnerId.eq(org(actor)?))),
        Some(Role::Siae) => Ok(Condition::all().add(chantier::Column::CarrierId.eq(org(actor)?))),
        Some(Role::Funder) => {
            let funded = Query::select()
                .column(funding_line::Column::ChantierId)
                .from(funding_line::Entity)
                .and_where(funding_line::Column::FunderId.eq(org(actor)?))
                .to_owned();
            Ok(Condition::all().add(chantier::Column::Id.in_subquery(funded)))
        }
        Some(Role::Company) => Err(AppError::Forbidden),
    }
}

/// Conventions: facilitators of the territory, and the organizations party to them.
pub fn conventions(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(convention::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(_) => {
            let party = Query::select()
                .column(convention_party::Column::ConventionId)
                .from(convention_party::Entity)
                .and_where(convention_party::Column::OrganizationId.eq(org(actor)?))
                .to_owned();
            Ok(Condition::all().add(convention::Column::Id.in_subquery(party)))
        }
    }
}

/// Commissions: facilitators of the territory, and the organizations invited to them.
pub fn commissions(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(commission::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(_) => {
            let invited = Query::select()
                .column(commission_member::Column::CommissionId)
                .from(commission_member::Entity)
                .and_where(commission_member::Column::OrganizationId.eq(org(actor)?))
                .to_owned();
            Ok(Condition::all().add(commission::Column::Id.in_subquery(invited)))
        }
    }
}

/// Deadlines: facilitators of the territory; others, those they are to be reminded of.
pub fn deadlines(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(everything()),
        Some(Role::Facilitator) => {
            Ok(Condition::all().add(deadline::Column::TerritoryId.is_in(territories(actor))))
        }
        Some(_) => {
            // Recipients are stored as JSON; an organization is named by its id.
            let needle = format!("%\"organizationId\":\"{}\"%", org(actor)?);
            Ok(Condition::all().add(deadline::Column::Recipients.like(needle)))
        }
    }
}

/// Loads one row within a scope; out of scope is NOT_FOUND, like a missing row.
pub async fn load<E, C>(
    conn: &C,
    cond: Condition,
    pk: E::Column,
    id: Uuid,
    what: &str,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    E::find()
        .filter(cond)
        .filter(pk.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(what.to_string()))
}

/// [`load`], locked for the caller's transaction (`FOR UPDATE` on PostgreSQL; SQLite's write
/// transactions are serial): the row an edit checks its version and rules against.
pub async fn lock<E, C>(
    conn: &C,
    cond: Condition,
    pk: E::Column,
    id: Uuid,
    what: &str,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    E::find()
        .filter(cond)
        .filter(pk.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(what.to_string()))
}

/// An entity the API returns: the rows a caller may see, as a query condition. Every object the
/// API gives, at any depth, is loaded through this (`graphql::loaders`), so a relation out of
/// scope answers like a missing one.
pub trait Scoped: EntityTrait {
    fn visible(actor: &Actor) -> AppResult<Condition>;
    fn id_column() -> Self::Column;
}

macro_rules! scoped {
    ($($m:ident => $f:expr),* $(,)?) => {$(
        impl Scoped for $m::Entity {
            fn visible(actor: &Actor) -> AppResult<Condition> {
                $f(actor)
            }
            fn id_column() -> Self::Column {
                $m::Column::Id
            }
        }
    )*};
}

/// Territories (code, name, time zone) are public metadata: every signed-in caller may read them.
fn any_territory(_: &Actor) -> AppResult<Condition> {
    Ok(everything())
}

scoped!(
    territory => any_territory,
    organization => organizations,
    operation => operations,
    market => markets,
    lot => lots,
    participant => participants,
    placement => placements,
    hour_entry => hour_entries,
    chantier => chantiers,
    convention => conventions,
    commission => commissions,
);

/// What the actor may read of a person's file (DOMAIN.md section 9).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Identifiable {
    /// Names, birth date, publics, profile, path: facilitators of the territory and employers.
    pub identity: bool,
    /// Eligibility criteria, PASS IAE, who read the file: facilitators of the territory only.
    pub facilitator: bool,
}

/// For each of these people, what the actor may read of them, in one query (absent: nothing).
/// Identity follows [`identifiable_participants`], the one rule; the facilitator-only fields
/// need the person's territory among the actor's.
pub async fn identifiable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    people: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Identifiable>> {
    let Ok(visible) = identifiable_participants(actor) else {
        return Ok(Default::default());
    };
    let rows: Vec<(Uuid, Uuid)> = participant::Entity::find()
        .select_only()
        .column(participant::Column::Id)
        .column(participant::Column::TerritoryId)
        .filter(participant::Column::Id.is_in(people.iter().copied()))
        .filter(visible)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, territory)| {
            let facilitator = actor.facilitates(territory);
            (
                id,
                Identifiable {
                    identity: true,
                    facilitator,
                },
            )
        })
        .collect())
}
