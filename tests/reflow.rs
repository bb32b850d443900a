//! Deadline re-derivation under concurrency (issue 19): two transactions re-deriving one
//! subject never fail on the unique key; a parameter change only marks its territory, and the
//! scheduler's reflow job re-derives it in chunks, one instance at a time, while recordings
//! are answered; the nightly refresh run by two schedulers at once re-derives each territory
//! once, without an error; a mark made during a reflow is not lost.

mod common;

use std::sync::Arc;

use chrono::Datelike;
use common::*;
use entity::{deadline, lot, market, territory_reflow};
use passerelle::clock::Clock;
use passerelle::config::MailConfig;
use passerelle::db::Db;
use passerelle::service::Ctx;
use passerelle::service::deadlines::{self, SubjectRef};
use passerelle::service::reflow;
use passerelle::service::reminders::scheduler::Scheduler;
use passerelle::service::secret::TraceKey;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use tokio::sync::Barrier;
use uuid::Uuid;

db_tests!(
    concurrent_syncs_of_one_subject_never_fail,
    two_schedulers_refresh_each_territory_once,
    two_schedulers_reflow_a_parameter_change_once,
    recordings_are_answered_during_a_reflow,
    a_mark_during_a_reflow_leads_to_another,
);

fn uuid(global: &str) -> Uuid {
    passerelle::ids::parse(global).expect("a global id").1
}

/// Another instance on the same store: its own pool on PostgreSQL; on SQLite the same
/// process (one process owns a SQLite file), so the same context.
async fn other_instance(app: &TestApp) -> Ctx {
    if !app.is_postgres() {
        return app.ctx.clone();
    }
    let db = Db::connect_with(&app.url, 5, app.pg_schema.as_deref())
        .await
        .expect("second pool");
    let key = TraceKey::load(&db.conn, None, app.clock.now())
        .await
        .expect("trace key");
    Ctx::new(db, app.clock.clone(), key)
}

async fn deadlines_of(app: &TestApp, subject: Uuid) -> Vec<deadline::Model> {
    deadline::Entity::find()
        .filter(deadline::Column::SubjectId.eq(subject))
        .all(&app.ctx.db.conn)
        .await
        .unwrap()
}

/// Two transactions re-derive a market that has lost its deadlines (so both insert them), at
/// once. Before the upsert, the second to insert failed on (subject, rule, key) with CONFLICT
/// and rolled back the mutation around it.
async fn concurrent_syncs_of_one_subject_never_fail(app: &TestApp) {
    let w = app.world().await;
    let market = uuid(&w.market);
    let wanted = deadlines_of(app, market).await.len();
    assert!(wanted >= 24, "a market in progress has its statements");
    const ROUNDS: usize = 30;
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        deadline::Entity::delete_many()
            .filter(deadline::Column::SubjectId.eq(market))
            .exec(&app.ctx.db.conn)
            .await
            .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|i| {
                let (ctx, barrier) = (app.ctx.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let txn = ctx.db.begin_write().await.unwrap();
                    deadlines::sync(&txn.txn, &ctx, SubjectRef::Market(market)).await?;
                    // The first to insert keeps its transaction open a little, as a mutation
                    // doing more work would.
                    if i == 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    txn.commit().await?;
                    Ok::<_, passerelle::error::AppError>(())
                })
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await.unwrap() {
                failures.push(format!("round {round}: {} ({})", e.message(), e.code()));
            }
        }
        let rows = deadlines_of(app, market).await;
        assert_eq!(rows.len(), wanted, "round {round}: one row per deadline");
    }
    assert!(
        failures.is_empty(),
        "{} of {ROUNDS} rounds failed: {failures:?}",
        failures.len()
    );
}

/// The nightly refresh started by two schedulers on one store at once, night after night:
/// each territory's subjects are re-derived once a night in all (the old code did it on every
/// instance, so twice), and neither fails.
async fn two_schedulers_refresh_each_territory_once(app: &TestApp) {
    app.world().await;
    let other = other_instance(app).await;
    let schedulers = [
        Scheduler::new(app.ctx.clone(), &MailConfig::default()).unwrap(),
        Scheduler::new(other, &MailConfig::default()).unwrap(),
    ];
    // A night with one scheduler: how many objects a pass looks at.
    let subjects = schedulers[0]
        .refresh()
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert!(
        subjects >= 3,
        "a market, a placement, a participant at least"
    );
    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        app.clock.advance(chrono::Duration::days(1));
        let mut total = 0;
        for done in at_once(&schedulers, |s| async move { s.refresh().await }).await {
            total += done.map_err(|e| e.message()).unwrap();
        }
        assert_eq!(total, subjects, "night {round}: re-derived once in all");
    }
}

const SET: &str = "mutation($i: SetParameterInput!) { setParameter(input: $i) { id } }";

/// The territory's statements fall on `day` of the month from now on.
/// Runs `job` on every scheduler at once (released together by a barrier); their results.
async fn at_once<T, F, Fut>(schedulers: &[Scheduler], job: F) -> Vec<T>
where
    F: Fn(Scheduler) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(schedulers.len()));
    let tasks: Vec<_> = schedulers
        .iter()
        .map(|s| {
            let (run, barrier) = (job(s.clone()), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                run.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn statements_on(app: &TestApp, w: &World, day: u32) {
    app.ok(
        SET,
        json!({"i": {"key": "STATEMENT_DAY_OF_MONTH", "territoryId": w.territory,
            "value": day.to_string(), "reason": "Délibération du comité de pilotage"}}),
    )
    .await;
}

async fn reflow_row(app: &TestApp, territory: Uuid) -> territory_reflow::Model {
    territory_reflow::Entity::find_by_id(territory)
        .one(&app.ctx.db.conn)
        .await
        .unwrap()
        .expect("the territory was marked")
}

/// Days of the month of a market's open statements.
async fn open_statement_days(app: &TestApp, market: Uuid) -> Vec<u32> {
    deadlines_of(app, market)
        .await
        .iter()
        .filter(|d| d.rule == "MONTHLY_STATEMENT" && d.status == "OPEN")
        .map(|d| d.due_on.day())
        .collect()
}

/// `n` more markets in progress in the world's territory, copies of its market and lot
/// written straight to the store (their deadlines come with the first reflow).
async fn more_markets(app: &TestApp, w: &World, n: usize) {
    let conn = &app.ctx.db.conn;
    let m = market::Entity::find_by_id(uuid(&w.market))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let l = lot::Entity::find_by_id(uuid(&w.lot))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    for i in 0..n {
        let id = Uuid::new_v4();
        let mut copy = m.clone().into_active_model().reset_all();
        copy.id = Set(id);
        copy.reference = Set(format!("COPIE-{i:04}"));
        copy.insert(conn).await.unwrap();
        let mut lot = l.clone().into_active_model().reset_all();
        lot.id = Set(Uuid::new_v4());
        lot.market_id = Set(id);
        lot.insert(conn).await.unwrap();
    }
}

/// A parameter change, then two schedulers on one store run their reflow job at once, three
/// times: exactly one reflow each time, no error, and the deadlines follow the parameter.
async fn two_schedulers_reflow_a_parameter_change_once(app: &TestApp) {
    let w = app.world().await;
    let (territory, market) = (uuid(&w.territory), uuid(&w.market));
    let other = other_instance(app).await;
    let schedulers = [
        Scheduler::new(app.ctx.clone(), &MailConfig::default()).unwrap(),
        Scheduler::new(other, &MailConfig::default()).unwrap(),
    ];
    assert!(
        open_statement_days(app, market)
            .await
            .iter()
            .all(|d| *d == 5)
    );
    for (round, day) in [10u32, 12, 8].into_iter().enumerate() {
        statements_on(app, &w, day).await;
        let marked = reflow_row(app, territory).await;
        assert!(marked.requested > marked.reflowed, "round {round}: marked");
        let mut reflowed = 0;
        for done in at_once(&schedulers, |s| async move { s.reflow().await }).await {
            let done = done.map_err(|e| e.message()).unwrap();
            reflowed += done.map_or(0, |d| d.len());
        }
        assert_eq!(reflowed, 1, "round {round}: one reflow");
        let row = reflow_row(app, territory).await;
        assert_eq!(row.reflows, round as i64 + 1, "round {round}");
        assert_eq!(
            row.reflowed, row.requested,
            "round {round}: nothing pending"
        );
        let days = open_statement_days(app, market).await;
        assert!(
            !days.is_empty() && days.iter().all(|d| *d == day),
            "round {round}: {days:?}"
        );
    }
}

/// Recordings issued while a territory of 150 markets is reflowed in chunks of 5 subjects are
/// answered, most of them before the reflow is over.
async fn recordings_are_answered_during_a_reflow(app: &TestApp) {
    let w = app.world().await;
    more_markets(app, &w, 150).await;
    let mut placements = vec![w.placement.clone()];
    for name in ["Payet", "Grondin"] {
        let p = app.participant(&w.territory, name).await;
        placements.push(
            app.placement(&p, &w.market, &w.lot, &w.company, "DIRECT_HIRE")
                .await,
        );
    }
    statements_on(app, &w, 10).await;
    let job = {
        let ctx = app.ctx.clone();
        tokio::spawn(async move { reflow::run_chunked(&ctx, 5).await })
    };
    let territory = uuid(&w.territory);
    while reflow_row(app, territory).await.started_at.is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (mut latencies, mut during) = (Vec::new(), 0);
    'all: for month in 2..=11 {
        for p in &placements {
            if job.is_finished() {
                break 'all;
            }
            let t = std::time::Instant::now();
            app.record_ok(p, &format!("2026-{month:02}"), "1").await;
            latencies.push(t.elapsed());
            if !job.is_finished() {
                during += 1;
            }
        }
    }
    let done = job
        .await
        .unwrap()
        .map_err(|e| e.message())
        .unwrap()
        .unwrap();
    assert_eq!(done.len(), 1);
    assert!(done[0].chunks > 30, "{done:?}");
    latencies.sort();
    eprintln!(
        "reflow of {} subjects in {} chunks took {:?}; {during} of {} recordings answered during it, max {:?}",
        done[0].subjects,
        done[0].chunks,
        done[0].took,
        latencies.len(),
        latencies.last()
    );
    assert!(
        during >= 3,
        "recordings answered during the reflow: {during}"
    );
    // The reflow did its work: every market's open statements moved to the 10th.
    for m in market::Entity::find().all(&app.ctx.db.conn).await.unwrap() {
        let days = open_statement_days(app, m.id).await;
        assert!(
            !days.is_empty() && days.iter().all(|d| *d == 10),
            "{days:?}"
        );
    }
}

/// A parameter changed while its territory is being reflowed is not lost: the reflow that was
/// running records only the marks it started from, and the job reflows the territory again.
async fn a_mark_during_a_reflow_leads_to_another(app: &TestApp) {
    let w = app.world().await;
    more_markets(app, &w, 40).await;
    let territory = uuid(&w.territory);
    statements_on(app, &w, 10).await;
    let job = {
        let ctx = app.ctx.clone();
        tokio::spawn(async move { reflow::run_chunked(&ctx, 1).await })
    };
    while reflow_row(app, territory).await.started_at.is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    statements_on(app, &w, 12).await;
    let row = reflow_row(app, territory).await;
    assert_eq!(row.reflows, 0, "the mark landed while the first reflow ran");
    let pending = app
        .ok(
            "query($f: DeadlineFilter) { deadlines(filter: $f, first: 5) { edges { node { refreshing } } } }",
            json!({"f": {"territoryId": w.territory}}),
        )
        .await;
    assert_eq!(
        pending["deadlines"]["edges"][0]["node"]["refreshing"], true,
        "{pending}"
    );
    let done = job
        .await
        .unwrap()
        .map_err(|e| e.message())
        .unwrap()
        .unwrap();
    assert_eq!(done.len(), 2, "reflowed again: {done:?}");
    let row = reflow_row(app, territory).await;
    assert_eq!((row.reflows, row.reflowed, row.requested), (2, 2, 2));
    for m in market::Entity::find().all(&app.ctx.db.conn).await.unwrap() {
        let days = open_statement_days(app, m.id).await;
        assert!(
            !days.is_empty() && days.iter().all(|d| *d == 12),
            "{days:?}"
        );
    }
    let after = app
        .ok(
            "query($f: DeadlineFilter) { deadlines(filter: $f, first: 5) { edges { node { refreshing } } } }",
            json!({"f": {"territoryId": w.territory}}),
        )
        .await;
    assert_eq!(
        after["deadlines"]["edges"][0]["node"]["refreshing"], false,
        "{after}"
    );
}
