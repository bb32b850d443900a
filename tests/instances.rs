//! Several `passerelle serve` processes on one PostgreSQL database, sharing nothing but it:
//! they migrate together, hours recorded through all of them add up (a period raced on three
//! instances at once is recorded once), and every reminder their three schedulers plan and
//! send reaches the SMTP server exactly once.
//!
//! PostgreSQL only: it is the store for more than one instance (SQLite is one process's file).
//! Under CI, a missing `TEST_DATABASE_URL` fails the test.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveTime, Utc};
use passerelle::bench::generate::facilitator_email;
use passerelle::bench::load::{Server, graphql, login};
use passerelle::bench::smtp_sink::SmtpSink;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_passerelle");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database of its own, dropped at the end.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Option<Self> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but TEST_DATABASE_URL is not: the multi-instance test must run"
            );
            eprintln!("TEST_DATABASE_URL not set: multi-instance test skipped");
            return None;
        };
        let name = format!("inst_{}", uuid::Uuid::new_v4().simple());
        let root = base.rsplit_once('/').unwrap().0.to_string();
        let admin = format!("{root}/postgres");
        let conn = sea_orm::Database::connect(&admin).await.unwrap();
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        conn.close().await.ok();
        Some(Self {
            url: format!("{root}/{name}"),
            admin,
            name,
        })
    }

    async fn drop_it(&self) {
        let conn = sea_orm::Database::connect(&self.admin).await.unwrap();
        conn.execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await
        .ok();
    }
}

async fn scalar(conn: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_share_one_postgres() {
    let Some(db) = Database::create().await else {
        return;
    };
    // The next working day at 15:00 UTC: offices open in Paris; everyone runs on that clock.
    let mut day = Utc::now().date_naive() + chrono::Duration::days(1);
    while day.weekday().number_from_monday() > 5 {
        day += chrono::Duration::days(1);
    }
    let at = day
        .and_time(NaiveTime::from_hms_opt(15, 0, 0).unwrap())
        .and_utc()
        .to_rfc3339();
    let generated = std::process::Command::new(BIN)
        .args(["generate", "--scale", "1"])
        .env("DATABASE_URL", &db.url)
        .env("CLOCK_START", &at)
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let code: String = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT code FROM territory ORDER BY code LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    // The coming week's deadlines as if just made: the schedulers have their reminders to plan.
    conn.execute_unprepared(&format!(
        "UPDATE deadline SET planned_revision = NULL WHERE status = 'OPEN' \
         AND due_on BETWEEN '{day}' AND '{}'",
        day + chrono::Duration::days(7)
    ))
    .await
    .unwrap();

    let sink = SmtpSink::start().await.unwrap();
    let envs = [
        ("CLOCK_START", at.clone()),
        ("SCHEDULER", "true".to_string()),
        ("SMTP_URL", sink.url()),
        ("PLAN_CRON", "* * * * * *".to_string()),
        ("SEND_CRON", "* * * * * *".to_string()),
        ("REMINDER_BATCH", "5".to_string()),
    ];
    // Started together: they race to migrate (nothing to do here) and to plan.
    let bin = std::path::Path::new(BIN);
    let (a, b, c) = tokio::join!(
        Server::start(bin, &db.url, free_port(), &envs),
        Server::start(bin, &db.url, free_port(), &envs),
        Server::start(bin, &db.url, free_port(), &envs),
    );
    let servers = [a.unwrap(), b.unwrap(), c.unwrap()];

    // Writes from all three: each slot sent to every instance at once; one wins.
    let client = reqwest::Client::new();
    let token = Arc::new(
        login(&client, &servers[0].url, &facilitator_email(&code))
            .await
            .unwrap(),
    );
    let placements: Vec<String> = {
        let rows = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                format!(
                    "SELECT p.id FROM placement p JOIN market m ON m.id = p.market_id \
                     WHERE p.status = 'ACTIVE' AND p.start_date < '{}' ORDER BY p.id LIMIT 10",
                    day.with_day(1).unwrap()
                ),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                let id: uuid::Uuid = r.try_get_by_index(0).unwrap();
                passerelle::ids::encode(passerelle::ids::Kind::Placement, id).to_string()
            })
            .collect()
    };
    assert!(placements.len() >= 5, "generated live placements");
    let first = day.with_day(1).unwrap();
    let days: Vec<_> = first
        .iter_days()
        .take_while(|d| *d < day)
        .filter(|d| d.weekday().number_from_monday() <= 5)
        .take(4)
        .collect();
    assert!(!days.is_empty());
    let before = scalar(
        &conn,
        "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) FROM hour_entry WHERE period_kind = 'DAY'",
    )
    .await;
    let mut tasks = Vec::new();
    for p in &placements {
        for d in &days {
            for s in &servers {
                let (client, url, token, p, d) =
                    (client.clone(), s.url.clone(), token.clone(), p.clone(), *d);
                tasks.push(tokio::spawn(async move {
                    graphql(
                        &client,
                        &url,
                        Some(&token),
                        "mutation($i: RecordHoursInput!) { recordHours(input: $i) { id } }",
                        json!({ "i": { "placementId": p, "day": d, "hours": "7" } }),
                    )
                    .await
                    .is_ok()
                }));
            }
        }
    }
    let mut accepted = 0i64;
    for t in tasks {
        if t.await.unwrap() {
            accepted += 1;
        }
    }
    let slots = (placements.len() * days.len()) as i64;
    assert_eq!(
        accepted, slots,
        "each (placement, day) recorded exactly once"
    );
    let after = scalar(
        &conn,
        "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) FROM hour_entry WHERE period_kind = 'DAY'",
    )
    .await;
    assert_eq!(
        after - before,
        slots * 420,
        "the ledger holds what was accepted"
    );

    // Reminders: wait until nothing due is left to plan or send.
    let due_left = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM reminder WHERE status IN ('PLANNED', 'SENDING', 'FAILED') \
         AND via_digest = false AND send_at <= '{}'",
        day.and_time(NaiveTime::from_hms_opt(15, 0, 0).unwrap())
    );
    let unplanned = "SELECT CAST(COUNT(*) AS BIGINT) FROM deadline WHERE planned_revision IS NULL";
    let mut settled = false;
    let waited = std::time::Instant::now();
    // Two minutes at most: the machine may be shared (a 2-core box under load took 61 s).
    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if scalar(&conn, unplanned).await == 0 && scalar(&conn, &due_left).await == 0 {
            settled = true;
            break;
        }
    }
    eprintln!(
        "reminders planned and sent in {:.1} s",
        waited.elapsed().as_secs_f64()
    );
    assert!(settled, "the schedulers planned and sent everything due");
    // Let any straggler mail land before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = scalar(
        &conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM reminder WHERE status = 'SENT'",
    )
    .await;
    assert!(sent > 0, "some reminders were due today");
    assert_eq!(sink.count() as i64, sent, "one mail per reminder sent");
    assert_eq!(sink.duplicates(), 0, "no reminder went out twice");
    assert_eq!(
        scalar(
            &conn,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM reminder WHERE status = 'SENT' AND attempts <> 1",
        )
        .await,
        0,
        "each sent reminder was claimed once"
    );
    drop(servers);
    conn.close().await.ok();
    db.drop_it().await;
}
