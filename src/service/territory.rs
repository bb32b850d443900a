//! Territories and their time zone.

use async_graphql::{ID, InputObject};
use chrono_tz::Tz;
use entity::{
    chantier, commission, convention, deadline, hour_entry, market, operation, parameter_value,
    participant, placement, reminder, territory,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Ctx, audit};
use crate::domain::auth::{Actor, Role};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// Time zones of the French territories where clauses are run (metropole and overseas).
pub const FRENCH_TIME_ZONES: &[&str] = &[
    "Europe/Paris",
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Martinique",
    "America/Guadeloupe",
    "America/Cayenne",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "America/Miquelon",
];

#[derive(Debug, InputObject)]
pub struct CreateTerritoryInput {
    /// Short unique code, e.g. `974-TCO`.
    pub code: String,
    pub name: String,
    /// IANA time zone; reminders are sent at this zone's office hours.
    pub time_zone: String,
}

#[derive(Debug, InputObject)]
pub struct UpdateTerritoryInput {
    pub territory_id: ID,
    /// The version the edit was made on (CONFLICT if another change landed since).
    pub version: i32,
    pub name: Option<String>,
    /// Changes only while nothing is dated in the territory (no market, operation, chantier,
    /// participant, contract, hours, convention, commission, deadline, reminder or parameter).
    pub time_zone: Option<String>,
}

pub fn parse_time_zone(raw: &str) -> AppResult<Tz> {
    let tz: Tz = raw.trim().parse().map_err(|_| {
        AppError::bad_input(
            "timeZone",
            format!("timeZone : fuseau horaire inconnu « {raw} » ; par ex. Europe/Paris, Indian/Reunion (unknown time zone)"),
        )
    })?;
    if !FRENCH_TIME_ZONES.contains(&tz.name()) {
        return Err(AppError::bad_input(
            "timeZone",
            format!(
                "timeZone : {} n'est pas un fuseau d'un territoire français ; possibles : {} (not a French territory's zone)",
                tz.name(),
                FRENCH_TIME_ZONES.join(", ")
            ),
        ));
    }
    Ok(tz)
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateTerritoryInput,
) -> AppResult<territory::Model> {
    if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    let code = text::required("code", &input.code)?;
    let name = text::required("name", &input.name)?;
    let tz = parse_time_zone(&input.time_zone)?;
    let txn = ctx.db.begin_write().await?;
    if territory::Entity::find()
        .filter(territory::Column::Code.eq(&code))
        .one(&txn.txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "code : un territoire porte déjà le code {code} (code already used)"
        )));
    }
    let row = territory::ActiveModel {
        version: Set(1),
        id: Set(ctx.clock.new_id()),
        code: Set(code),
        name: Set(name),
        time_zone: Set(tz.name().to_string()),
        created_at: Set(ctx.clock.now()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createTerritory",
        Kind::Territory,
        row.id,
        Some(row.id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// What is dated in the territory's time zone (its "today" decides their dates, periods,
/// deadlines and sending hours), as (what, how many).
async fn dated_in<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<Vec<(&'static str, u64)>> {
    macro_rules! count {
        ($e:ident) => {
            $e::Entity::find()
                .filter($e::Column::TerritoryId.eq(id))
                .count(conn)
                .await?
        };
    }
    let sites = Condition::any()
        .add(
            placement::Column::MarketId.in_subquery(
                Query::select()
                    .column(market::Column::Id)
                    .from(market::Entity)
                    .and_where(market::Column::TerritoryId.eq(id))
                    .to_owned(),
            ),
        )
        .add(
            placement::Column::ChantierId.in_subquery(
                Query::select()
                    .column(chantier::Column::Id)
                    .from(chantier::Entity)
                    .and_where(chantier::Column::TerritoryId.eq(id))
                    .to_owned(),
            ),
        );
    let placements = placement::Entity::find()
        .filter(sites.clone())
        .count(conn)
        .await?;
    let hours = hour_entry::Entity::find()
        .filter(
            hour_entry::Column::PlacementId.in_subquery(
                Query::select()
                    .column(placement::Column::Id)
                    .from(placement::Entity)
                    .cond_where(sites)
                    .to_owned(),
            ),
        )
        .count(conn)
        .await?;
    Ok(vec![
        ("marché(s)", count!(market)),
        ("opération(s)", count!(operation)),
        ("chantier(s)", count!(chantier)),
        ("participant(s)", count!(participant)),
        ("contrat(s)", placements),
        ("ligne(s) d'heures", hours),
        ("convention(s)", count!(convention)),
        ("commission(s)", count!(commission)),
        ("échéance(s)", count!(deadline)),
        ("rappel(s)", count!(reminder)),
        ("valeur(s) de paramètre", count!(parameter_value)),
    ])
}

/// Corrects a territory (administrators, who create them): its name; its time zone only while
/// nothing is dated in it, since every "today" of its rules is read in that zone.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateTerritoryInput,
) -> AppResult<territory::Model> {
    if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    let id = ids::decode(Kind::Territory, &input.territory_id, "territoryId")?;
    let name = input
        .name
        .as_deref()
        .map(|n| text::required("name", n))
        .transpose()?;
    let tz = input
        .time_zone
        .as_deref()
        .map(parse_time_zone)
        .transpose()?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // Locked FOR UPDATE: a row inserted meanwhile with this territory (its foreign key takes a
    // KEY SHARE lock on PostgreSQL) waits for this edit, or this edit waits for it and counts it.
    let t = territory::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("territoire".into()))?;
    super::edit::expect_version(conn, actor, Kind::Territory, t.id, t.version, input.version)
        .await?;
    let zone_changes = tz.is_some_and(|tz| tz.name() != t.time_zone);
    if zone_changes {
        let named = super::edit::named(&dated_in(conn, t.id).await?);
        if !named.is_empty() {
            return Err(AppError::Conflict(format!(
                "timeZone : le fuseau de {} ne change plus, des dates y sont déjà prises : {} (time zone is fixed once something is dated in the territory: {})",
                t.code,
                named.join(", "),
                named.join(", ")
            )));
        }
    }
    let before = audit::json(&t);
    let mut am = t.into_active_model();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if let Some(tz) = tz {
        am.time_zone = Set(tz.name().to_string());
    }
    let row = am.update(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "updateTerritory",
        Kind::Territory,
        row.id,
        Some(row.id),
        Some(&before),
        Some(&audit::json(&row)),
    )
    .await?;
    txn.commit().await?;
    if zone_changes {
        ctx.db.remember_zone(row.id, time_zone(&row));
    }
    Ok(row)
}

/// The territory's time zone (stored values are checked on the way in).
pub fn time_zone(t: &territory::Model) -> Tz {
    t.time_zone.parse().unwrap_or(chrono_tz::Europe::Paris)
}

/// Today in the territory's time zone: what "today" means for its rules.
pub async fn today<C: sea_orm::ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    territory_id: uuid::Uuid,
) -> AppResult<chrono::NaiveDate> {
    Ok(ctx.clock.today_in(zone_of(ctx, conn, territory_id).await?))
}

/// The time zone of a territory, by id; read from the store at most once a minute per process
/// (a zone changes only while nothing is dated in its territory), so a recording or a
/// deadline's re-derivation does not fetch the territory again.
pub async fn zone_of<C: sea_orm::ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    territory_id: uuid::Uuid,
) -> AppResult<Tz> {
    if let Some(tz) = ctx.db.known_zone(territory_id) {
        return Ok(tz);
    }
    let t = super::get::<territory::Entity, _>(conn, territory_id, "territoire").await?;
    let tz = time_zone(&t);
    ctx.db.remember_zone(territory_id, tz);
    Ok(tz)
}
