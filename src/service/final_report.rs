//! The final report of a market (DOMAIN.md section 3: "closing needs every hour entry of the
//! market validated or rejected and the final report produced"). Producing it records the
//! market report's figures as they stand, who produced it and when, and how many ledger entries
//! and decisions it was made from. The ledger only grows, so a later entry or decision makes the
//! counts differ: the report is then out of date and the close asks for a new version.

use std::collections::HashMap;

use async_graphql::ID;
use entity::{hour_entry, market, market_final_report};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use super::params::{Place, set_at};
use super::report::{Dates, market as market_report, window};
use super::{Ctx, audit, scope};
use crate::domain::MarketStatus;
use crate::domain::auth::{Actor, Role};
use crate::domain::params::ParamKey;
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// Entries and decisions in a market's ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerSize {
    pub entries: i64,
    pub reviews: i64,
}

/// The ledger size of each market, in one query.
pub async fn ledger_sizes<C: ConnectionTrait>(
    conn: &C,
    markets: &[Uuid],
) -> AppResult<HashMap<Uuid, LedgerSize>> {
    let rows: Vec<(Uuid, i64, i64)> = hour_entry::Entity::find()
        .select_only()
        .column(hour_entry::Column::MarketId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "entries")
        .column_as(
            Expr::cust("CAST(COUNT(\"hour_entry_review\".\"id\") AS BIGINT)"),
            "reviews",
        )
        .join(JoinType::LeftJoin, hour_entry::Relation::Review.def())
        .filter(hour_entry::Column::MarketId.is_in(markets.to_vec()))
        .group_by(hour_entry::Column::MarketId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(m, entries, reviews)| (m, LedgerSize { entries, reviews }))
        .collect())
}

/// Whether `r` was made from the ledger as it is now.
pub fn is_current(r: &market_final_report::Model, now: LedgerSize) -> bool {
    r.entry_count == now.entries && r.review_count == now.reviews
}

/// The last version of each market's final report, in one query.
pub async fn latest<C: ConnectionTrait>(
    conn: &C,
    markets: &[Uuid],
) -> AppResult<HashMap<Uuid, market_final_report::Model>> {
    let rows = market_final_report::Entity::find()
        .filter(market_final_report::Column::MarketId.is_in(markets.to_vec()))
        .order_by_asc(market_final_report::Column::Version)
        .all(conn)
        .await?;
    // Ascending: the last one per market stays.
    Ok(rows.into_iter().map(|r| (r.market_id, r)).collect())
}

/// The close's view of the final report: its version and whether it is still current.
pub async fn state<C: ConnectionTrait>(conn: &C, market: Uuid) -> AppResult<Option<(i32, bool)>> {
    let Some(r) = latest(conn, &[market]).await?.remove(&market) else {
        return Ok(None);
    };
    let now = ledger_sizes(conn, &[market])
        .await?
        .remove(&market)
        .unwrap_or_default();
    Ok(Some((r.version, is_current(&r, now))))
}

/// Produces a new version of the final report of a COMPLETED market (facilitators of its
/// territory), as at today in the territory.
pub async fn produce(
    ctx: &Ctx,
    actor: &Actor,
    market_id: &ID,
) -> AppResult<market_final_report::Model> {
    if !actor.any_of(&[Role::Facilitator]) {
        return Err(AppError::Forbidden);
    }
    let id = ids::decode(Kind::Market, market_id, "marketId")?;
    let txn = ctx.db.begin_write().await?;
    // Locked: two productions at once would take the same version number (the unique index
    // would refuse the second with a generic conflict).
    let m = market::Entity::find()
        .filter(scope::markets(actor)?)
        .filter(market::Column::Id.eq(id))
        .lock_exclusive()
        .one(&txn.txn)
        .await?
        .ok_or_else(|| AppError::NotFound("marché".into()))?;
    if !actor.facilitates(m.territory_id) {
        return Err(AppError::Forbidden);
    }
    let status = MarketStatus::from_db(&m.status);
    if status != MarketStatus::Completed {
        return Err(AppError::Conflict(format!(
            "le rapport final se produit quand le marché est terminé (COMPLETED) ; celui-ci est {status} (market not completed)"
        )));
    }
    // The ledger's size first: under READ COMMITTED an entry landing while the report is built
    // then makes it look out of date (safe), never up to date without that entry.
    let size = ledger_sizes(&txn.txn, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    let w = window(ctx, &txn.txn, m.territory_id, Dates::default()).await?;
    let report = market_report::build(&txn.txn, &m, w).await?;
    let params = set_at(&txn.txn, Place::of_market(&m), w.as_at).await?;
    let version = latest(&txn.txn, &[m.id])
        .await?
        .get(&m.id)
        .map_or(1, |r| r.version + 1);
    let h = &report.market.hours;
    let figures = serde_json::json!({
        "byKind": report.by_kind.iter().map(|k| serde_json::json!({
            "kind": k.kind.as_str(),
            "countedMinutes": k.hours.counted.minutes,
            "validatedMinutes": k.hours.validated.minutes,
        })).collect::<Vec<_>>(),
        "byModality": report.by_modality.iter().map(|k| serde_json::json!({
            "modality": k.modality.as_str(),
            "countedMinutes": k.hours.counted.minutes,
            "validatedMinutes": k.hours.validated.minutes,
        })).collect::<Vec<_>>(),
    });
    let row = market_final_report::ActiveModel {
        id: Set(ctx.clock.new_id()),
        market_id: Set(m.id),
        version: Set(version),
        as_at: Set(w.as_at),
        produced_at: Set(ctx.clock.now()),
        produced_by: Set(actor.label.clone()),
        target_minutes: Set(m.target_minutes),
        counted_minutes: Set(h.counted.minutes),
        validated_minutes: Set(h.validated.minutes),
        pending_minutes: Set(h.pending.minutes),
        pending_deductions_minutes: Set(h.pending_deductions.minutes),
        rejected_minutes: Set(h.rejected.minutes),
        completion_bp: Set(report.market.completion_bp),
        training_counts: Set(params.flag(ParamKey::TrainingHoursCount)),
        entry_count: Set(size.entries),
        review_count: Set(size.reviews),
        figures: Set(figures.to_string()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "produceMarketFinalReport",
        Kind::Market,
        m.id,
        Some(m.territory_id),
        None,
        Some(&serde_json::json!({"version": version, "countedMinutes": row.counted_minutes})),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}
