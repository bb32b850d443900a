//! Territories and their time zone.

use async_graphql::InputObject;
use chrono_tz::Tz;
use entity::territory;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{Ctx, audit};
use crate::domain::auth::{Actor, Role};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::ids::Kind;

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

/// The time zone of a territory, by id; read from the store once per process (zones never
/// change), so a recording or a deadline's re-derivation does not fetch the territory again.
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
