//! At-a-glance totals of markets and lots, derived from the ledger in one grouped query per
//! batch of keys (so a page of 50 markets costs the same few queries as a page of 1).

use std::collections::HashMap;

use entity::{hour_entry, placement};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
};
use uuid::Uuid;

use crate::domain::{HourStatus, Modality, PlacementStatus};
use crate::error::AppResult;

/// Validated and pending minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minutes {
    pub validated: i64,
    pub pending: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub all: Minutes,
    pub by_modality: Vec<(Modality, Minutes)>,
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
}

fn sum_where(decision: &str) -> Expr {
    // CAST: PostgreSQL's SUM(bigint) is numeric.
    Expr::cust(format!(
        "CAST(COALESCE(SUM(CASE WHEN {decision} THEN \"hour_entry\".\"minutes\" ELSE 0 END), 0) AS BIGINT)"
    ))
}

pub async fn totals<C: ConnectionTrait>(
    conn: &C,
    scope: Scope,
    keys: &[Uuid],
) -> AppResult<HashMap<Uuid, Totals>> {
    let validated = format!(
        "\"hour_entry_review\".\"decision\" = '{}'",
        HourStatus::Validated.as_str()
    );
    let rows: Vec<(Uuid, String, i64, i64)> = hour_entry::Entity::find()
        .select_only()
        .column(scope.entry_col())
        .column(hour_entry::Column::Modality)
        .column_as(sum_where(&validated), "validated")
        .column_as(sum_where("\"hour_entry_review\".\"id\" IS NULL"), "pending")
        .join(JoinType::LeftJoin, hour_entry::Relation::Review.def())
        .filter(scope.entry_col().is_in(keys.to_vec()))
        .group_by(scope.entry_col())
        .group_by(hour_entry::Column::Modality)
        .into_tuple()
        .all(conn)
        .await?;
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

    let mut out: HashMap<Uuid, Totals> = keys.iter().map(|k| (*k, Totals::default())).collect();
    for (key, modality, validated, pending) in rows {
        let t = out.entry(key).or_default();
        let m = Minutes { validated, pending };
        t.all.validated += validated;
        t.all.pending += pending;
        t.by_modality.push((Modality::from_db(&modality), m));
    }
    for (key, n) in people {
        out.entry(key).or_default().participant_count = n;
    }
    for t in out.values_mut() {
        t.by_modality.sort_by_key(|(m, _)| *m);
    }
    Ok(out)
}
