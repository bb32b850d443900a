//! Territory reflows, out of user requests. A parameter change (or `refreshDeadlines`) only
//! marks its territory, in its own transaction; the scheduler's reflow job re-derives every
//! deadline of the marked territories, one instance at a time (`Db::try_job_lock`), in chunks of
//! subjects each committed in its own short write transaction, so that recordings are answered
//! meanwhile (on SQLite they wait for one chunk, not for the territory).
//!
//! Marks are counted: a reflow remembers the count it started from and records only that one
//! as done, so a mark made while it runs (a parameter it may have read too early) leaves the
//! territory pending, and it is reflowed again. Until then its deadlines say `refreshing`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use entity::{deadline, territory, territory_reflow as tr};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::Ctx;
use super::deadlines::{self, SubjectRef};
use crate::domain::deadlines::DeadlineStatus;
use crate::error::{AppError, AppResult};

/// Subjects re-derived per write transaction: a few hundred milliseconds of writing at most.
pub const CHUNK: usize = 200;

/// The advisory lock's name: one reflowing instance at a time.
const LOCK: &str = "territory-reflow";

/// Passes over the pending territories per job, so a mark made during a reflow is served by
/// the same job; marks that keep coming wait for the next one.
const PASSES: usize = 3;

/// What one territory's reflow did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub territory: Uuid,
    pub subjects: usize,
    pub chunks: usize,
    pub took: Duration,
}

/// Marks a territory's deadlines to be re-derived, in the caller's transaction (it commits with
/// the change that asked for it).
pub async fn mark<C: ConnectionTrait>(conn: &C, ctx: &Ctx, territory: Uuid) -> AppResult<()> {
    upsert(conn, ctx, territory, None).await
}

/// The nightly mark of every territory (a market's pace is judged as days go by): once a UTC
/// day per territory, however many instances ask (a later mark of the same day is a no-op, so
/// two schedulers starting the nightly job together cause one reflow).
pub async fn mark_all(ctx: &Ctx) -> AppResult<usize> {
    let ids: Vec<Uuid> = territory::Entity::find()
        .all(&ctx.db.conn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let today = ctx.clock.now().date_naive();
    let txn = ctx.db.begin_write().await?;
    for t in &ids {
        upsert(&txn.txn, ctx, *t, Some(today)).await?;
    }
    txn.commit().await?;
    Ok(ids.len())
}

/// One more mark; with `daily`, only if that day's nightly mark is not made yet.
async fn upsert<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    territory: Uuid,
    daily: Option<chrono::NaiveDate>,
) -> AppResult<()> {
    let mut on_conflict = OnConflict::column(tr::Column::TerritoryId);
    on_conflict.update_column(tr::Column::RequestedAt).value(
        tr::Column::Requested,
        Expr::col((tr::Entity, tr::Column::Requested)).add(1),
    );
    if let Some(day) = daily {
        on_conflict
            .update_column(tr::Column::DailyOn)
            .action_and_where(
                Expr::col((tr::Entity, tr::Column::DailyOn))
                    .is_null()
                    .or(Expr::col((tr::Entity, tr::Column::DailyOn)).lt(day)),
            );
    }
    tr::Entity::insert(tr::ActiveModel {
        territory_id: Set(territory),
        requested: Set(1),
        reflowed: Set(0),
        requested_at: Set(Some(ctx.clock.now())),
        daily_on: Set(daily),
        started_at: Set(None),
        reflowed_at: Set(None),
        reflows: Set(0),
        last_subjects: Set(0),
        last_chunks: Set(0),
    })
    .on_conflict(on_conflict)
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

fn pending() -> Condition {
    Condition::all().add(Expr::col(tr::Column::Requested).gt(Expr::col(tr::Column::Reflowed)))
}

/// Which of these territories have a reflow pending or running.
pub async fn pending_among<C: ConnectionTrait>(
    conn: &C,
    territories: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashSet<Uuid>> {
    let ids: Vec<Uuid> = territories.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(tr::Entity::find()
        .filter(tr::Column::TerritoryId.is_in(ids))
        .filter(pending())
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.territory_id)
        .collect())
}

/// Reflows every marked territory, unless another instance is at it: `None` then (it will
/// see the marks too).
pub async fn run(ctx: &Ctx) -> AppResult<Option<Vec<Done>>> {
    run_chunked(ctx, CHUNK).await
}

/// `run` with `chunk` subjects per transaction (tests and the bench make more chunks of a small
/// territory).
pub async fn run_chunked(ctx: &Ctx, chunk: usize) -> AppResult<Option<Vec<Done>>> {
    let Some(lock) = ctx.db.try_job_lock(LOCK).await? else {
        return Ok(None);
    };
    let mut done = Vec::new();
    for _ in 0..PASSES {
        let marked = tr::Entity::find()
            .filter(pending())
            .order_by_asc(tr::Column::RequestedAt)
            .all(&ctx.db.conn)
            .await?;
        if marked.is_empty() {
            break;
        }
        for t in marked {
            done.push(reflow(ctx, &t, chunk.max(1)).await?);
        }
    }
    lock.release().await?;
    Ok(Some(done))
}

/// Re-derives a marked territory's deadlines chunk by chunk, then plans the reminders of its open
/// deadlines again (offsets, recipients and hours are parameters too) and records the marks served.
async fn reflow(ctx: &Ctx, mark: &tr::Model, chunk: usize) -> AppResult<Done> {
    let clock = Instant::now();
    let territory = mark.territory_id;
    let txn = ctx.db.begin_write().await?;
    tr::Entity::update_many()
        .col_expr(tr::Column::StartedAt, Expr::value(Some(ctx.clock.now())))
        .filter(tr::Column::TerritoryId.eq(territory))
        .exec(&txn.txn)
        .await?;
    txn.commit().await?;
    let subjects = deadlines::subjects_of(&ctx.db.conn, territory).await?;
    let mut chunks = 0;
    for part in subjects.chunks(chunk) {
        sync_chunk(ctx, part).await?;
        chunks += 1;
    }
    let txn = ctx.db.begin_write().await?;
    // Open ones only, as the nightly pass always did: a closed deadline's reminders are
    // settled, and one closed by this reflow had its revision moved already.
    super::reminders::replan(
        &txn.txn,
        Condition::all()
            .add(deadline::Column::TerritoryId.eq(territory))
            .add(deadline::Column::Status.eq(DeadlineStatus::Open.as_str())),
    )
    .await?;
    // Only the marks read before the first chunk are served; later ones stay pending.
    tr::Entity::update_many()
        .col_expr(tr::Column::Reflowed, Expr::value(mark.requested))
        .col_expr(tr::Column::ReflowedAt, Expr::value(Some(ctx.clock.now())))
        .col_expr(tr::Column::Reflows, Expr::col(tr::Column::Reflows).add(1))
        .col_expr(tr::Column::LastSubjects, Expr::value(subjects.len() as i64))
        .col_expr(tr::Column::LastChunks, Expr::value(chunks as i32))
        .filter(tr::Column::TerritoryId.eq(territory))
        .filter(tr::Column::Reflowed.lt(mark.requested))
        .exec(&txn.txn)
        .await?;
    txn.commit().await?;
    let done = Done {
        territory,
        subjects: subjects.len(),
        chunks,
        took: clock.elapsed(),
    };
    tracing::info!(
        %territory,
        subjects = done.subjects,
        chunks = done.chunks,
        ms = done.took.as_millis() as u64,
        "territory reflowed"
    );
    Ok(done)
}

/// One chunk in one write transaction. A subject gone meanwhile is skipped.
async fn sync_chunk(ctx: &Ctx, chunk: &[SubjectRef]) -> AppResult<()> {
    let txn = ctx.db.begin_write().await?;
    for s in chunk {
        match deadlines::sync(&txn.txn, ctx, *s).await {
            Ok(()) | Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    txn.commit().await?;
    Ok(())
}
