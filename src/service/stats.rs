//! The hour figures of markets and lots: the engine behind the at-a-glance fields, the forecast
//! (and so the MARKET_BEHIND deadline) and the reports. Every one sums the grouped ledger rows
//! of `report::slice::grouped` through `domain::figures::Tally`, with TRAINING_HOURS_COUNT as in
//! force for each entry's market (`Counting`): a market's `hoursDelivered` is its report's
//! counted hours. Batched: a page of 50 markets costs the same few queries as a page of 1.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{hour_entry, lot, market, placement};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Ctx;
use super::params::{Place, sets_at};
use super::report::slice::{self, HourRow};
use crate::domain::figures::Tally;
use crate::domain::params::ParamKey;
use crate::domain::{Modality, PlacementStatus};
use crate::error::AppResult;

/// Whether training hours count, per market, as in force on the figure's date: a market or its
/// operation may override its territory (DOMAIN.md section 6).
#[derive(Debug, Clone, Default)]
pub struct Counting {
    /// For hours outside any market (chantiers), or of a market not listed.
    pub elsewhere: bool,
    pub by_market: HashMap<Uuid, bool>,
}

impl Counting {
    pub fn training_counts(&self, market: Option<Uuid>) -> bool {
        market
            .and_then(|m| self.by_market.get(&m).copied())
            .unwrap_or(self.elsewhere)
    }

    /// Markets where training does not count.
    pub fn markets_without_training(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self
            .by_market
            .iter()
            .filter(|(_, c)| !**c)
            .map(|(m, _)| *m)
            .collect();
        v.sort();
        v
    }

    /// Training counts everywhere (figures that do not depend on the parameter).
    pub fn everything() -> Self {
        Counting {
            elsewhere: true,
            by_market: HashMap::new(),
        }
    }

    /// The figures of `rows`.
    pub fn tally<'a>(&self, rows: impl IntoIterator<Item = &'a HourRow>) -> Tally {
        let mut t = Tally::default();
        for r in rows {
            t.add(&r.group(), self.training_counts(r.market));
        }
        t
    }
}

/// TRAINING_HOURS_COUNT for `markets` (each with the date to judge it on), and `elsewhere` for
/// the rest: one query.
pub async fn counting<C: ConnectionTrait>(
    conn: &C,
    elsewhere: (Place, NaiveDate),
    markets: &[(Place, NaiveDate)],
) -> AppResult<Counting> {
    let places: Vec<(Place, NaiveDate)> = std::iter::once(elsewhere)
        .chain(markets.iter().copied())
        .collect();
    let sets = sets_at(conn, &places).await?;
    let flag = |i: usize| sets[i].flag(ParamKey::TrainingHoursCount);
    Ok(Counting {
        elsewhere: flag(0),
        by_market: markets
            .iter()
            .enumerate()
            .filter_map(|(i, (p, _))| p.market.map(|m| (m, flag(i + 1))))
            .collect(),
    })
}

/// TRAINING_HOURS_COUNT on `on` for each of `markets`, `elsewhere` for the rest.
pub async fn counting_on<C: ConnectionTrait>(
    conn: &C,
    elsewhere: Place,
    markets: impl IntoIterator<Item = Place>,
    on: NaiveDate,
) -> AppResult<Counting> {
    let markets: Vec<(Place, NaiveDate)> = markets.into_iter().map(|p| (p, on)).collect();
    counting(conn, (elsewhere, on), &markets).await
}

/// The places of the markets of a report (id, territory, operation), in one query.
pub async fn market_places<C: ConnectionTrait>(
    conn: &C,
    which: Condition,
) -> AppResult<Vec<Place>> {
    let rows: Vec<(Uuid, Uuid, Option<Uuid>)> = market::Entity::find()
        .select_only()
        .column(market::Column::Id)
        .column(market::Column::TerritoryId)
        .column(market::Column::OperationId)
        .filter(which)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, territory, operation)| Place {
            territory,
            operation,
            market: Some(id),
        })
        .collect())
}

/// At-a-glance figures of a market or a lot, as they stand now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub all: Tally,
    pub by_modality: Vec<(Modality, Tally)>,
    pub participant_count: i64,
}

/// Whether totals are grouped by market or by lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Market,
    Lot,
}

impl Scope {
    fn entry_col(self) -> hour_entry::Column {
        match self {
            Scope::Market => hour_entry::Column::MarketId,
            Scope::Lot => hour_entry::Column::LotId,
        }
    }

    fn placement_col(self) -> placement::Column {
        match self {
            Scope::Market => placement::Column::MarketId,
            Scope::Lot => placement::Column::LotId,
        }
    }

    fn key_of(self, r: &HourRow) -> Option<Uuid> {
        match self {
            Scope::Market => r.market,
            Scope::Lot => r.lot,
        }
    }
}

/// The figures of `keys` (markets or lots) now, TRAINING_HOURS_COUNT as in force today in each
/// market's territory. Four queries for any number of keys (plus a territory's zone the first
/// time the process meets it).
pub async fn totals<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    scope: Scope,
    keys: &[Uuid],
) -> AppResult<HashMap<Uuid, Totals>> {
    let mut out: HashMap<Uuid, Totals> = keys.iter().map(|k| (*k, Totals::default())).collect();
    if keys.is_empty() {
        return Ok(out);
    }
    let markets = match scope {
        Scope::Market => {
            market_places(conn, market::Column::Id.is_in(keys.to_vec()).into()).await?
        }
        Scope::Lot => {
            let of_lots = sea_orm::sea_query::Query::select()
                .column(lot::Column::MarketId)
                .from(lot::Entity)
                .and_where(lot::Column::Id.is_in(keys.to_vec()))
                .to_owned();
            market_places(conn, market::Column::Id.in_subquery(of_lots).into()).await?
        }
    };
    let mut dated = Vec::with_capacity(markets.len());
    for p in &markets {
        dated.push((*p, super::territory::today(ctx, conn, p.territory).await?));
    }
    let counting = match dated.first() {
        Some(first) => counting(conn, *first, &dated).await?,
        None => Counting::default(),
    };
    let rows = slice::grouped(
        conn,
        Condition::all().add(scope.entry_col().is_in(keys.to_vec())),
        None,
        false,
    )
    .await?;
    let mut groups: HashMap<(Uuid, Modality), Vec<&HourRow>> = HashMap::new();
    for r in &rows {
        if let Some(k) = scope.key_of(r) {
            groups.entry((k, r.modality)).or_default().push(r);
        }
    }
    for ((key, modality), rows) in groups {
        let t = out.entry(key).or_default();
        t.by_modality
            .push((modality, counting.tally(rows.iter().copied())));
    }
    for t in out.values_mut() {
        t.by_modality.sort_by_key(|(m, _)| *m);
        t.all = t
            .by_modality
            .iter()
            .fold(Tally::default(), |a, (_, m)| a.plus(m));
    }
    let people: Vec<(Uuid, i64)> = placement::Entity::find()
        .select_only()
        .column(scope.placement_col())
        .column_as(
            Expr::cust("CAST(COUNT(DISTINCT \"placement\".\"participant_id\") AS BIGINT)"),
            "people",
        )
        .filter(scope.placement_col().is_in(keys.to_vec()))
        .filter(placement::Column::Status.ne(PlacementStatus::Cancelled.as_str()))
        .group_by(scope.placement_col())
        .into_tuple()
        .all(conn)
        .await?;
    for (key, n) in people {
        out.entry(key).or_default().participant_count = n;
    }
    Ok(out)
}

/// Counted minutes of one market now: what its forecast is made of.
pub async fn counted_minutes<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    market: Uuid,
) -> AppResult<i64> {
    Ok(totals(ctx, conn, Scope::Market, &[market])
        .await?
        .get(&market)
        .map_or(0, |t| t.all.counted.minutes))
}
