//! Services: one module per area. Each mutation runs in one transaction, loads what its rules
//! need, asks `domain` for the verdict, then writes.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod chantier;
pub mod commission;
pub mod convention;
pub mod deadlines;
pub mod demo;
pub mod edit;
pub mod eligibility;
pub mod final_report;
pub mod ledger;
pub mod market;
pub mod operation;
pub mod organization;
pub mod page;
pub mod params;
pub mod participant;
pub mod passwords;
pub mod path;
pub mod path_corrections;
pub mod placement;
pub mod reflow;
pub mod reminders;
pub mod report;
pub mod rights;
pub mod scope;
pub mod secret;
pub mod stats;
pub mod supervision;
pub mod territory;
pub mod workflow;

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait};

use crate::clock::SharedClock;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// What every service call needs: the store, the clock, the key that signs traces, and the one
/// gate of password hashing.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub clock: SharedClock,
    pub trace_key: secret::TraceKey,
    pub passwords: passwords::Passwords,
}

impl Ctx {
    /// A context with the default hashing limits (`lib::start` takes them from the settings).
    pub fn new(db: Db, clock: SharedClock, trace_key: secret::TraceKey) -> Self {
        Self {
            db,
            clock,
            trace_key,
            passwords: passwords::Passwords::default(),
        }
    }
}

/// Refuses unless exactly one of the named inputs is given (`given` in the same order).
pub fn exactly_one(names: &[&str], given: &[bool]) -> AppResult<()> {
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(AppError::bad_input(
            names[0],
            format!(
                "{} : en donner exactement un (give exactly one)",
                names.join(" / ")
            ),
        ));
    }
    Ok(())
}

/// The rows of `E` under one parent (`parent` = `id`), ordered by `order`.
pub async fn children<E, C>(
    conn: &C,
    parent: E::Column,
    id: uuid::Uuid,
    order: E::Column,
) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    Ok(E::find()
        .filter(parent.eq(id))
        .order_by_asc(order)
        .all(conn)
        .await?)
}

/// Loads a row by primary key or answers NOT_FOUND naming what was looked for.
pub async fn get<E, C>(
    conn: &C,
    id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
    what: &str,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(what.to_string()))
}
