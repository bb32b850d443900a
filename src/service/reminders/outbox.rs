//! The outbox's claims. A sender claims due rows for a lease, sends outside any transaction,
//! then settles each row; only the claimant can settle it. On PostgreSQL the claim skips rows
//! another instance has locked (`FOR UPDATE SKIP LOCKED`); on SQLite the claim runs in a
//! `BEGIN IMMEDIATE` transaction, the single writer. (SeaQuery drops `FOR UPDATE` on SQLite
//! without a word, so the two paths are chosen here explicitly.)

use chrono::{DateTime, Utc};
use entity::reminder;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Set,
};
use uuid::Uuid;

use super::Settings;
use crate::domain::reminders::{ReminderStatus, backoff};
use crate::error::AppResult;
use crate::service::Ctx;

/// Claims up to a batch of rows due now in territories whose office is open.
pub async fn claim(ctx: &Ctx, s: &Settings, open: &[Uuid]) -> AppResult<Vec<reminder::Model>> {
    if open.is_empty() {
        return Ok(vec![]);
    }
    let now = ctx.clock.now();
    let mut due = reminder::Entity::find()
        .select_only()
        .column(reminder::Column::Id)
        .filter(super::pending())
        .filter(reminder::Column::ViaDigest.eq(false))
        .filter(reminder::Column::NextAttemptAt.lte(now))
        .filter(reminder::Column::TerritoryId.is_in(open.to_vec()))
        .order_by_asc(reminder::Column::NextAttemptAt)
        .order_by_asc(reminder::Column::Id)
        .limit(s.batch)
        .into_query();
    let txn = ctx.db.begin_write().await?;
    // On SQLite, the write lock taken by `begin_write` (BEGIN IMMEDIATE) makes the claim
    // exclusive; on PostgreSQL, rows locked by another sender are skipped.
    if ctx.db.backend() == DatabaseBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = reminder::Entity::update_many()
        .set(reminder::ActiveModel {
            status: Set(ReminderStatus::Sending.as_str().into()),
            lease_until: Set(Some(now + s.lease)),
            claimed_by: Set(Some(s.instance.clone())),
            updated_at: Set(now),
            ..Default::default()
        })
        .col_expr(
            reminder::Column::Attempts,
            Expr::col(reminder::Column::Attempts).add(1),
        )
        .filter(reminder::Column::Id.in_subquery(due))
        .exec_with_returning(&*txn)
        .await?;
    txn.commit().await?;
    let mut rows = rows;
    rows.sort_by_key(|r| (r.next_attempt_at, r.id));
    Ok(rows)
}

/// Takes back the rows of senders whose lease ran out (an instance died mid-batch): they go out
/// again at the next pass, or are dead if they used up their attempts.
pub async fn sweep(ctx: &Ctx, s: &Settings) -> AppResult<u64> {
    let now = ctx.clock.now();
    let expired = || {
        reminder::Entity::update_many()
            .filter(reminder::Column::Status.eq(ReminderStatus::Sending.as_str()))
            .filter(reminder::Column::LeaseUntil.lt(now))
    };
    let error = "bail expiré : l'instance qui l'envoyait s'est arrêtée (lease expired)";
    let mut n = 0;
    for (status, used_up) in [
        (ReminderStatus::Dead, true),
        (ReminderStatus::Failed, false),
    ] {
        let attempts = reminder::Column::Attempts;
        let q = expired()
            .set(reminder::ActiveModel {
                status: Set(status.as_str().into()),
                lease_until: Set(None),
                claimed_by: Set(None),
                next_attempt_at: Set(now),
                last_error: Set(Some(error.into())),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(if used_up {
                attempts.gte(s.max_attempts)
            } else {
                attempts.lt(s.max_attempts)
            });
        let txn = ctx.db.begin_write().await?;
        n += q.exec(&*txn).await?.rows_affected;
        txn.commit().await?;
    }
    Ok(n)
}

/// How one attempt ended.
#[derive(Debug)]
pub enum Outcome {
    Sent,
    /// Not to be sent any more (deadline met or moved, commission changed again).
    Dropped(String),
    /// Failed; `permanent` when the server refused it for good (no such mailbox).
    Failed {
        error: String,
        permanent: bool,
    },
    /// Not tried (the lease was about to run out, or the server failed earlier in the batch):
    /// the attempt is not counted; tried again from `retry_at`.
    Released {
        why: String,
        retry_at: DateTime<Utc>,
    },
}

/// Settles a claimed row and returns the status it ends in; `None` when the claim was lost
/// (the lease ran out and another sender took the row), which the caller logs: the only way a
/// mail can go out twice.
pub async fn settle(
    ctx: &Ctx,
    s: &Settings,
    row: &reminder::Model,
    outcome: Outcome,
) -> AppResult<Option<ReminderStatus>> {
    let now = ctx.clock.now();
    let mut change = reminder::ActiveModel {
        lease_until: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    let mut attempts = None;
    let status = match outcome {
        Outcome::Sent => {
            change.sent_at = Set(Some(now));
            change.last_error = Set(None);
            ReminderStatus::Sent
        }
        Outcome::Dropped(why) => {
            change.last_error = Set(Some(why));
            ReminderStatus::Cancelled
        }
        Outcome::Failed { error, permanent } => {
            change.next_attempt_at = Set(now + backoff(row.attempts, s.retry_base, s.retry_max));
            change.last_error = Set(Some(error));
            change.claimed_by = Set(None);
            if permanent || row.attempts >= s.max_attempts {
                ReminderStatus::Dead
            } else {
                ReminderStatus::Failed
            }
        }
        Outcome::Released { why, retry_at } => {
            change.next_attempt_at = Set(retry_at);
            change.last_error = Set(Some(why));
            change.claimed_by = Set(None);
            // The attempt counted at the claim was not made.
            attempts = Some(row.attempts - 1);
            ReminderStatus::Failed
        }
    };
    change.status = Set(status.as_str().into());
    if let Some(a) = attempts {
        change.attempts = Set(std::cmp::max(a, 0));
    }
    let txn = ctx.db.begin_write().await?;
    let done = reminder::Entity::update_many()
        .set(change)
        .filter(reminder::Column::Id.eq(row.id))
        .filter(reminder::Column::Status.eq(ReminderStatus::Sending.as_str()))
        .filter(reminder::Column::ClaimedBy.eq(s.instance.as_str()))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok((done.rows_affected == 1).then_some(status))
}

/// Whether the claim on `row` still has `margin` left at `now`.
pub fn lease_left(row: &reminder::Model, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
    row.lease_until.is_some_and(|l| now + margin < l)
}
