//! The outbox's claims. A sender claims due rows for a lease, sends outside any transaction,
//! then settles each row; only the claimant can settle it. On PostgreSQL the claim skips rows
//! another instance has locked (`FOR UPDATE SKIP LOCKED`); on SQLite the claim runs in a
//! `BEGIN IMMEDIATE` transaction, the single writer. (SeaQuery drops `FOR UPDATE` on SQLite
//! without a word, so the two paths are chosen here explicitly.)
//!
//! Two clocks: whether a row is due (`next_attempt_at`) is the injected clock's, like every
//! planned time; a lease (`lease_until`) is set and judged by the database's clock alone, so
//! instances whose clocks disagree never take each other's live claims.

use chrono::{DateTime, Utc};
use entity::reminder;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set,
};
use uuid::Uuid;

use super::Settings;
use crate::domain::reminders::{ReminderStatus, backoff};
use crate::error::AppResult;
use crate::service::Ctx;

/// Claims up to a batch of rows due now in territories whose office is open, and account mails
/// (no territory), which wait for no office.
pub async fn claim(ctx: &Ctx, s: &Settings, open: &[Uuid]) -> AppResult<Vec<reminder::Model>> {
    let now = ctx.clock.now();
    let mut due = reminder::Entity::find()
        .select_only()
        .column(reminder::Column::Id)
        .filter(super::pending())
        .filter(reminder::Column::ViaDigest.eq(false))
        .filter(reminder::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(reminder::Column::TerritoryId.is_null())
                .add(reminder::Column::TerritoryId.is_in(open.to_vec())),
        )
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
            claimed_by: Set(Some(s.instance.clone())),
            updated_at: Set(now),
            ..Default::default()
        })
        .col_expr(
            reminder::Column::LeaseUntil,
            db_now(ctx.db.backend(), s.lease),
        )
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
            .filter(
                Expr::col(reminder::Column::LeaseUntil)
                    .lt(db_now(ctx.db.backend(), chrono::Duration::zero())),
            )
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
#[derive(Debug, Clone)]
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
/// mail can go out twice. No clock is read to settle: the claim (SENDING, claimed by this
/// instance) is what entitles it, and the sweep takes a row back only out of SENDING, so a
/// settle and a sweep of one row exclude each other; a lease run out but not yet swept may
/// still be settled, nobody else having the row.
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

/// Just before its mail goes to the SMTP server: whether the claim on `row` still has `margin`
/// left by the database's clock and, if so, its lease renewed to a whole `s.lease` from now
/// (by the same clock), in one statement. The SENT mark then has a whole lease to reach the
/// database before any sweep can take the row back. `false`: the lease is (nearly) over, or
/// the row was taken back; the mail must not go out.
pub async fn renew(
    ctx: &Ctx,
    s: &Settings,
    row: &reminder::Model,
    margin: chrono::Duration,
) -> AppResult<bool> {
    let backend = ctx.db.backend();
    let renew = reminder::Entity::update_many()
        .col_expr(reminder::Column::LeaseUntil, db_now(backend, s.lease))
        .filter(reminder::Column::Id.eq(row.id))
        .filter(reminder::Column::Status.eq(ReminderStatus::Sending.as_str()))
        .filter(reminder::Column::ClaimedBy.eq(s.instance.as_str()))
        .filter(Expr::col(reminder::Column::LeaseUntil).gt(db_now(backend, margin)));
    // One statement, atomic by itself: on PostgreSQL one round trip per mail; on SQLite it
    // takes the process's writer slot like every write.
    let done = if backend == DatabaseBackend::Postgres {
        renew.exec(&ctx.db.conn).await?
    } else {
        let txn = ctx.db.begin_write().await?;
        let done = renew.exec(&*txn).await?;
        txn.commit().await?;
        done
    };
    Ok(done.rows_affected == 1)
}

/// The database's clock, `ahead` from now, as the store keeps `lease_until`: `timestamptz` on
/// PostgreSQL; on SQLite, text in RFC 3339 (`2026-11-26T05:00:00.000+00:00`, as sqlx writes a
/// UTC instant), so that text comparisons order instants.
fn db_now(backend: DatabaseBackend, ahead: chrono::Duration) -> SimpleExpr {
    let ms = ahead.num_milliseconds();
    match backend {
        DatabaseBackend::Postgres => {
            Expr::cust(format!("clock_timestamp() + interval '{ms} milliseconds'"))
        }
        _ => Expr::cust(format!(
            "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '{:+.3} seconds')",
            ms as f64 / 1000.0
        )),
    }
}
