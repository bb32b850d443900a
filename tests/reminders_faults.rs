//! Reminders under faults, with a real SMTP server on loopback: the database cut off between the
//! SMTP server's acceptance and the SENT mark, an instance whose clock lags, and SIGTERM to a
//! real `passerelle scheduler` process mid-batch. Every test runs on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestApp;
use common::smtp::{OnMail, SmtpServer};
use passerelle::clock::ManualClock;
use passerelle::config::MailConfig;
use passerelle::db::Db;
use passerelle::service::Ctx;
use passerelle::service::reminders::compose::{Composed, compose};
use passerelle::service::reminders::outbox;
use passerelle::service::reminders::scheduler::Scheduler;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

db_tests!(
    a_mark_cut_off_from_the_database_is_retried_and_each_mail_goes_out_once,
    a_lagging_clock_cannot_take_a_live_claim,
    sigterm_mid_batch_exits_at_once_and_loses_no_mail,
);

const BIN: &str = env!("CARGO_BIN_EXE_passerelle");
const PLAN: &str = "mutation($i: PlanCommissionInput!) { planCommission(input: $i) { id } }";

/// A local hour in La Réunion (UTC+4, the test territory).
fn reunion(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(4)
}

fn members(n: usize) -> Value {
    json!((0..n)
        .map(|i| json!({"name": format!("Membre {i}"), "email": format!("membre{i}@jury.example")}))
        .collect::<Vec<_>>())
}

/// A recruitment jury on 10 December 2026 with `n` members: each gets a reminder due on
/// 26 November at 09:00 local.
async fn jury(app: &TestApp, n: usize) -> uuid::Uuid {
    let w = app.world().await;
    app.ok(
        PLAN,
        json!({"i": {"kind": "RECRUITMENT_JURY", "title": "Jury de recrutement", "marketId": w.market,
            "startsAt": "2026-12-10T14:00:00", "place": "Mairie du Port", "members": members(n)}}),
    )
    .await;
    passerelle::ids::parse(&w.territory).unwrap().1
}

/// Another process's view of the store: its own pool (named `name` on PostgreSQL, so a test
/// can find its connections), its own clock, its own instance name.
async fn instance(app: &TestApp, name: &str, clock: Arc<ManualClock>, smtp: &str) -> Scheduler {
    let url = if app.is_postgres() {
        let sep = if app.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}application_name={name}", app.url)
    } else {
        app.url.clone()
    };
    let db = Db::connect_with(&url, 3, app.pg_schema.as_deref())
        .await
        .unwrap();
    let ctx = Ctx {
        db,
        clock,
        ..app.ctx.clone()
    };
    let config = MailConfig {
        smtp_url: Some(smtp.to_string()),
        ..MailConfig::default()
    };
    let mut s = Scheduler::new(ctx, &config).expect("valid settings");
    s.settings.batch = 7;
    s
}

/// How many mails each address received.
fn per_recipient(mails: &[common::smtp::Received]) -> std::collections::BTreeMap<String, usize> {
    let mut n = std::collections::BTreeMap::new();
    for m in mails {
        for to in &m.to {
            *n.entry(to.clone()).or_default() += 1;
        }
    }
    n
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = &app.ctx.db.conn;
    conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// Makes the database refuse the next write of instance `name` at the moment it is called:
/// on PostgreSQL the reminder table is locked and the instance's backend, once it waits on
/// that lock (the SENT mark), is terminated (a killed connection); on SQLite another
/// connection holds the file's write lock for longer than the busy timeout (10 s), so the
/// mark fails with "database is locked". Fires once; `hit` tells that a mark was cut off.
async fn fault_on_first_mail(app: &TestApp, name: &str, hit: Arc<AtomicBool>) -> OnMail {
    let handle = tokio::runtime::Handle::current();
    let fired = Arc::new(AtomicBool::new(false));
    let name = name.to_string();
    let postgres = app.is_postgres();
    let locker = if postgres {
        app.ctx.db.clone()
    } else {
        Db::connect(&app.url, 1).await.unwrap()
    };
    Arc::new(move |_mail| {
        if fired.swap(true, Ordering::SeqCst) {
            return;
        }
        let (locker, name, hit) = (locker.clone(), name.clone(), hit.clone());
        handle.block_on(async move {
            let conn = locker.conn.clone();
            if postgres {
                use sea_orm::TransactionTrait;
                let txn = conn.begin().await.unwrap();
                txn.execute_unprepared("LOCK TABLE reminder IN EXCLUSIVE MODE")
                    .await
                    .unwrap();
                tokio::spawn(async move {
                    let kill = format!(
                        "SELECT CAST(COUNT(pg_terminate_backend(pid)) AS BIGINT) FROM pg_stat_activity \
                         WHERE application_name = '{name}' AND wait_event_type = 'Lock'"
                    );
                    for _ in 0..200 {
                        tokio::time::sleep(StdDuration::from_millis(25)).await;
                        let killed = conn
                            .query_one_raw(Statement::from_string(
                                sea_orm::DatabaseBackend::Postgres,
                                kill.clone(),
                            ))
                            .await
                            .unwrap()
                            .unwrap()
                            .try_get_by_index::<i64>(0)
                            .unwrap();
                        if killed > 0 {
                            hit.store(true, Ordering::SeqCst);
                            break;
                        }
                    }
                    txn.rollback().await.unwrap();
                });
            } else {
                conn.execute_unprepared("BEGIN EXCLUSIVE").await.unwrap();
                hit.store(true, Ordering::SeqCst);
                tokio::spawn(async move {
                    tokio::time::sleep(StdDuration::from_secs(11)).await;
                    conn.execute_unprepared("ROLLBACK").await.unwrap();
                });
            }
        });
    })
}

/// The database cut off between the SMTP server's acceptance and the SENT mark; once it is
/// back, a second instance runs send passes after the lease ran out: one mail per reminder.
async fn a_mark_cut_off_from_the_database_is_retried_and_each_mail_goes_out_once(app: &TestApp) {
    jury(app, 3).await;
    let name = format!("doomed_{}", uuid::Uuid::new_v4().simple());
    let hit = Arc::new(AtomicBool::new(false));
    let smtp = SmtpServer::start_with(
        StdDuration::ZERO,
        Some(fault_on_first_mail(app, &name, hit.clone()).await),
    );
    let mut doomed = instance(app, &name, app.clock.clone(), &smtp.url()).await;
    // Longer than the outage (SQLite's lock outlasts the 10 s busy timeout).
    let lease = if app.is_postgres() { 3 } else { 13 };
    doomed.settings.lease = Duration::seconds(lease);
    let survivor = instance(app, "survivor", app.clock.clone(), &smtp.url()).await;
    doomed.plan().await.unwrap();
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    let started = Instant::now();
    let first = doomed.send().await;
    eprintln!(
        "first pass: {:?} in {:.1} s",
        first
            .as_ref()
            .map(|r| r.to_string())
            .map_err(|e| e.message()),
        started.elapsed().as_secs_f64()
    );
    assert!(hit.load(Ordering::SeqCst), "the fault cut off a mark");
    if !app.is_postgres() {
        assert!(
            started.elapsed() > StdDuration::from_secs(10),
            "the mark outlasted the busy timeout"
        );
    }
    assert_eq!(smtp.mails().len(), 1, "the fault came with the first mail");
    // Past the lease, by every clock (the old code judged it by the instance's).
    tokio::time::sleep(StdDuration::from_secs(lease as u64 + 1)).await;
    app.clock.advance(Duration::seconds(lease + 1));
    for _ in 0..2 {
        let r = survivor.tick().await.unwrap();
        eprintln!("survivor: {r}");
    }
    let got = per_recipient(&smtp.mails());
    eprintln!("mails per recipient: {got:?}");
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.values().all(|n| *n == 1),
        "a mail went out twice: {got:?}"
    );
    let sent = "SELECT CAST(COUNT(*) AS BIGINT) FROM reminder WHERE status = 'SENT'";
    assert_eq!(count(app, sent).await, 3, "each due reminder marked SENT");
    assert_eq!(
        count(app, &format!("{sent} AND attempts <> 1")).await,
        0,
        "each after one attempt"
    );
}

/// One instance's clock lags an hour behind the other's: the other one neither takes back nor
/// sends what the first has claimed, whatever its own clock says.
async fn a_lagging_clock_cannot_take_a_live_claim(app: &TestApp) {
    let territory = jury(app, 10).await;
    let smtp = SmtpServer::start();
    let at = reunion(2026, 11, 26, 9, 0);
    let lagging_clock = Arc::new(ManualClock::new(at));
    let lagging = instance(app, "lagging", lagging_clock.clone(), &smtp.url()).await;
    let on_time = instance(app, "on_time", app.clock.clone(), &smtp.url()).await;
    lagging.plan().await.unwrap();
    app.clock.set(at + Duration::hours(1));
    let claimed = outbox::claim(&lagging.ctx, &lagging.settings, &[territory])
        .await
        .unwrap();
    assert_eq!(claimed.len(), 7);
    // The on-time instance passes while the lagging one holds its claim (a 300 s lease).
    let r = on_time.tick().await.unwrap();
    assert_eq!((r.released, r.sent), (0, 3), "{r}");
    // The lagging instance sends what it claimed and settles it.
    for row in &claimed {
        let Composed::Mail(m) = compose(&lagging.ctx, &lagging.settings, row).await.unwrap() else {
            panic!("a mail")
        };
        lagging.mailer.send(&row.id.to_string(), &m).await.unwrap();
        let settled = outbox::settle(&lagging.ctx, &lagging.settings, row, outbox::Outcome::Sent)
            .await
            .unwrap();
        assert!(
            settled.is_some(),
            "the claim was taken from the lagging instance"
        );
    }
    let got = per_recipient(&smtp.mails());
    assert_eq!(got.len(), 10, "{got:?}");
    assert!(
        got.values().all(|n| *n == 1),
        "a mail went out twice: {got:?}"
    );
}

/// SIGTERM to a real `passerelle scheduler` mid-batch, with an SMTP server taking 1 s per mail:
/// the process exits within a grace period; the mails it did not send are due again with no
/// attempt counted, and a later pass sends each exactly once.
async fn sigterm_mid_batch_exits_at_once_and_loses_no_mail(app: &TestApp) {
    const DUE: usize = 12;
    jury(app, DUE).await;
    let plan = Scheduler::new(app.ctx.clone(), &MailConfig::default()).unwrap();
    plan.plan().await.unwrap();
    let at = reunion(2026, 11, 26, 9, 0);
    let slow = SmtpServer::start_with(StdDuration::from_secs(1), None);
    let url = match &app.pg_schema {
        Some(schema) => format!("{}?options=-c%20search_path%3D{schema}", app.url),
        None => app.url.clone(),
    };
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = std::process::Command::new(BIN)
        .arg("scheduler")
        .env("DATABASE_URL", &url)
        .env("SMTP_URL", slow.url())
        // Two seconds before the office opens: the first pass finds nothing, the signal
        // handler is in place when the mails go out.
        .env("CLOCK_START", (at - Duration::seconds(2)).to_rfc3339())
        .env("PLAN_CRON", "0 0 0 1 1 *")
        .env("SEND_CRON", "* * * * * *")
        .env("REMINDER_BATCH", "5")
        .env("LOG_LEVEL", "info")
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while slow.mails().len() < 2 {
        assert!(
            started.elapsed() < StdDuration::from_secs(60),
            "the scheduler sent nothing: {}",
            std::fs::read_to_string(log.path()).unwrap()
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if signalled.elapsed() > StdDuration::from_secs(60) {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    };
    let took = signalled.elapsed();
    let sent_before = slow.mails().len();
    eprintln!(
        "exit {:.2} s after SIGTERM ({status:?}), {sent_before} mails sent by then",
        took.as_secs_f64()
    );
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        took < StdDuration::from_secs(5),
        "still running {:.1} s after SIGTERM: {logged}",
        took.as_secs_f64()
    );
    assert!(status.is_some_and(|s| s.success()), "{logged}");
    assert!(sent_before < DUE, "the test stopped it mid-batch");
    // Nothing left claimed; what was not sent is due again, no attempt counted.
    let due_by = "send_at < '2026-11-27'";
    let sql = |what: &str| format!("SELECT CAST(COUNT(*) AS BIGINT) FROM reminder WHERE {what}");
    assert_eq!(count(app, &sql("status = 'SENDING'")).await, 0, "{logged}");
    assert_eq!(
        count(app, &sql("status = 'SENT'")).await,
        sent_before as i64,
        "every mail the server accepted is marked SENT"
    );
    assert_eq!(
        count(
            app,
            &sql(&format!(
                "status IN ('PLANNED', 'FAILED') AND attempts = 0 AND {due_by}"
            ))
        )
        .await,
        (DUE - sent_before) as i64,
        "the rest is due again, no attempt counted"
    );
    // A later pass sends the rest, each once.
    let fast = SmtpServer::start();
    app.clock.set(at + Duration::minutes(5));
    let later = Scheduler::new(
        app.ctx.clone(),
        &MailConfig {
            smtp_url: Some(fast.url()),
            ..MailConfig::default()
        },
    )
    .unwrap();
    let r = later.send().await.unwrap();
    assert_eq!(r.sent, DUE - sent_before, "{r}");
    let mut all = slow.mails();
    all.extend(fast.mails());
    let got = per_recipient(&all);
    assert_eq!(got.len(), DUE, "{got:?}");
    assert!(
        got.values().all(|n| *n == 1),
        "a mail went out twice: {got:?}"
    );
}
