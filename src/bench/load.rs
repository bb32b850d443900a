//! `passerelle bench`: on a generated database, against real `passerelle serve` processes over
//! loopback HTTP, each figure next to the same work done by raw SQL in the same run:
//! the facilitator's morning page, hour recording, the operation report, a day's reminders
//! (through a loopback SMTP server), start-up time and peak memory; on PostgreSQL also the
//! morning page with 1, 2 and 3 instances.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, Duration as Days, NaiveDate, NaiveTime, Utc};
use entity::{deadline, hour_entry, market, operation, placement, reminder, territory};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::generate::{BENCH_PASSWORD, facilitator_email};
use super::smtp_sink::SmtpSink;
use super::{median_of, ms, percentile, ph, ratio, scratch_table};
use crate::clock::ManualClock;
use crate::config::Config;
use crate::domain::PlacementStatus;
use crate::domain::auth::Actor;
use crate::ids::{Kind, encode};
use crate::service::Ctx;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Seconds of load per measure.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Hour-recording mutations in all.
    #[arg(long, default_value_t = 5_000)]
    pub mutations: usize,
    /// Most `passerelle serve` instances measured together (PostgreSQL only).
    #[arg(long, default_value_t = 3)]
    pub instances: usize,
    /// The `passerelle` binary to serve with (default: this one).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// First port of the servers.
    #[arg(long, default_value_t = 18_080)]
    pub port: u16,
}

/// The facilitator's morning page: their markets in progress with lots, buyer and totals,
/// and the deadlines of the coming fortnight.
pub const MORNING_PAGE: &str = r#"query Morning($first: Int!) {
  markets(first: $first, filter: { status: IN_PROGRESS }) {
    nodes {
      id reference title status endDate
      buyer { name }
      hoursTarget hoursDelivered hoursPending completionRate participantCount
      lots { number title awardee { name } hoursDelivered hoursPending }
    }
  }
  deadlines(first: 50, filter: { dueWithinDays: 14 }) {
    nodes { id rule title dueOn status }
  }
}"#;

const RECORD: &str = r#"mutation Record($input: RecordHoursInput!) {
  recordHours(input: $input) { id minutes }
}"#;

/// A `passerelle serve` child process, killed when dropped.
pub struct Server {
    child: std::process::Child,
    pub url: String,
    pub started_in: Duration,
}

impl Server {
    /// Starts a server and waits for `/readyz`; the time includes migrations' check and pool.
    pub async fn start(
        bin: &std::path::Path,
        database_url: &str,
        port: u16,
        envs: &[(&str, String)],
    ) -> Result<Self, String> {
        let started = Instant::now();
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("LOG_LEVEL", "warn")
            .env("SCHEDULER", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let mut server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            started_in: Duration::ZERO,
        };
        let client = reqwest::Client::new();
        for _ in 0..3000 {
            if let Ok(r) = client.get(format!("{}/readyz", server.url)).send().await
                && r.status().is_success()
            {
                server.started_in = started.elapsed();
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!("server on port {port} not ready after 30 s"))
    }

    /// Peak resident memory (VmHWM) of the process, in MB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Logs in over HTTP; the bearer token.
pub async fn login(client: &reqwest::Client, url: &str, email: &str) -> Result<String, String> {
    let v = graphql(
        client,
        url,
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({ "e": email, "p": BENCH_PASSWORD }),
    )
    .await?;
    v["data"]["login"]["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("login refused: {v}"))
}

/// One GraphQL request; an answer with `errors` is an error.
pub async fn graphql(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value, String> {
    let mut req = client
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let v: Value = req
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if v.get("errors").is_some() {
        return Err(v["errors"].to_string());
    }
    Ok(v)
}

/// Latencies of a load run.
#[derive(Debug, Clone)]
pub struct Stats {
    pub done: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub first_error: Option<String>,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0}/s, p50 {}, p99 {} ({} done, {} errors)",
            self.per_second(),
            ms(self.p50),
            ms(self.p99),
            self.done,
            self.errors
        )
    }
}

/// Runs `clients` loops of `op(client_index, iteration)` until `until` says stop; latencies of
/// every call. `op` returning an error counts as an error, not a stop.
pub async fn drive<F, Fut>(clients: usize, until: Until, op: F) -> Stats
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (op, counter) = (op.clone(), counter.clone());
        set.spawn(async move {
            let mut lat = Vec::new();
            let (mut errors, mut first_error) = (0, None);
            let mut i = 0;
            loop {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let stop = match until {
                    Until::Count(total) => n >= total,
                    Until::Time(d) => started.elapsed() >= d,
                };
                if stop {
                    break;
                }
                let t = Instant::now();
                match op(c, i).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
                i += 1;
            }
            (lat, errors, first_error)
        });
    }
    let (mut all, mut errors, mut first_error) = (Vec::new(), 0, None);
    while let Some(Ok((lat, e, fe))) = set.join_next().await {
        all.extend(lat);
        errors += e;
        if first_error.is_none() {
            first_error = fe;
        }
    }
    let elapsed = started.elapsed();
    all.sort();
    Stats {
        done: all.len(),
        errors,
        elapsed,
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
        first_error,
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Until {
    Count(usize),
    Time(Duration),
}

/// The morning page by hand-written SQL: five statements, rows turned into JSON.
async fn morning_raw(ctx: &Ctx, territory: Uuid, first: usize) -> Result<usize, String> {
    let b = ctx.db.backend();
    let conn = &ctx.db.conn;
    let db = |e: sea_orm::DbErr| e.to_string();
    let p = |n| ph(b, n);
    let markets = conn
        .query_all_raw(Statement::from_sql_and_values(
            b,
            format!(
                "SELECT m.id, m.reference, m.title, m.status, m.end_date, m.target_minutes, o.name \
                 FROM market m JOIN organization o ON o.id = m.buyer_id \
                 WHERE m.territory_id = {} AND m.status = 'IN_PROGRESS' ORDER BY m.id LIMIT {first}",
                p(1)
            ),
            [territory.into()],
        ))
        .await
        .map_err(db)?;
    let ids: Vec<Uuid> = markets
        .iter()
        .filter_map(|r| r.try_get_by_index::<Uuid>(0).ok())
        .collect();
    let list = (1..=ids.len()).map(p).collect::<Vec<_>>().join(",");
    let values: Vec<sea_orm::Value> = ids.iter().map(|i| (*i).into()).collect();
    let in_ids = |sql: String| Statement::from_sql_and_values(b, sql, values.clone());
    let mut out = Vec::new();
    if !ids.is_empty() {
        for sql in [
            format!(
                "SELECT l.market_id, l.number, l.title, a.name FROM lot l \
                 LEFT JOIN organization a ON a.id = l.awardee_id WHERE l.market_id IN ({list})"
            ),
            format!(
                "SELECT e.market_id, e.lot_id, COALESCE(r.decision, 'DECLARED') AS st, \
                 CAST(SUM(e.minutes) AS BIGINT) FROM hour_entry e \
                 LEFT JOIN hour_entry_review r ON r.hour_entry_id = e.id \
                 WHERE e.market_id IN ({list}) GROUP BY e.market_id, e.lot_id, st"
            ),
            format!(
                "SELECT market_id, CAST(COUNT(DISTINCT participant_id) AS BIGINT) FROM placement \
                 WHERE market_id IN ({list}) AND status <> 'CANCELLED' GROUP BY market_id"
            ),
        ] {
            out.push(conn.query_all_raw(in_ids(sql)).await.map_err(db)?);
        }
    }
    let today = ctx.clock.now().date_naive();
    out.push(
        conn.query_all_raw(Statement::from_sql_and_values(
            b,
            format!(
                "SELECT id, rule, title, due_on, status FROM deadline \
                 WHERE territory_id = {} AND status = 'OPEN' AND due_on <= {} \
                 ORDER BY due_on, id LIMIT 50",
                p(1),
                p(2)
            ),
            [territory.into(), (today + Days::days(14)).into()],
        ))
        .await
        .map_err(db)?,
    );
    // Rows to JSON, as the API would answer.
    let json: Vec<Value> = markets
        .iter()
        .map(|r| {
            json!({
                "reference": r.try_get_by_index::<String>(1).unwrap_or_default(),
                "title": r.try_get_by_index::<String>(2).unwrap_or_default(),
                "buyer": r.try_get_by_index::<String>(6).unwrap_or_default(),
            })
        })
        .collect();
    Ok(serde_json::to_string(&json)
        .map_err(|e| e.to_string())?
        .len()
        + out.len())
}

/// Statements one morning page costs in-process, for `first` markets.
async fn statements_per_page(
    config: &Config,
    ctx: &Ctx,
    actor: &Actor,
    first: usize,
) -> Result<usize, String> {
    let mut db = crate::db::Db::connect(&config.database_url, 2)
        .await
        .map_err(|e| e.to_string())?;
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let show = std::env::var_os("BENCH_SHOW_SQL").is_some();
    db.conn.set_metric_callback(move |info| {
        c.fetch_add(1, Ordering::SeqCst);
        if show {
            eprintln!(
                "SQL {:>6} µs: {}",
                info.elapsed.as_micros(),
                info.statement.sql.chars().take(160).collect::<String>()
            );
        }
    });
    let counted = Ctx { db, ..ctx.clone() };
    let schema = crate::graphql::build_schema(Some(counted.clone()));
    let req = crate::graphql::prepare(
        async_graphql::Request::new(MORNING_PAGE).variables(async_graphql::Variables::from_json(
            json!({ "first": first }),
        )),
        &counted,
        Some(actor.clone()),
    );
    let res = schema.execute(req).await;
    if !res.errors.is_empty() {
        return Err(format!("{:?}", res.errors));
    }
    Ok(counter.load(Ordering::SeqCst))
}

pub async fn run(config: &Config, ctx: &Ctx, args: &BenchArgs) -> Result<String, String> {
    let db = |e: sea_orm::DbErr| e.to_string();
    let err = |e: crate::error::AppError| e.message();
    let conn = &ctx.db.conn;
    let backend = ctx.db.backend();
    let mut out = String::new();
    let mut line = |s: String| {
        println!("{s}");
        out.push_str(&s);
        out.push('\n');
    };
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe().map_err(|e| e.to_string())?,
    };
    // The busiest territory: the first generated one.
    let t = territory::Entity::find()
        .filter(territory::Column::Code.starts_with("G"))
        .order_by_asc(territory::Column::Code)
        .one(conn)
        .await
        .map_err(db)?
        .ok_or("no generated territory: run `passerelle generate` first")?;
    let sizes = format!(
        "{} markets, {} placements, {} ledger entries, {} deadlines in {} territories",
        market::Entity::find().count(conn).await.map_err(db)?,
        placement::Entity::find().count(conn).await.map_err(db)?,
        hour_entry::Entity::find().count(conn).await.map_err(db)?,
        deadline::Entity::find().count(conn).await.map_err(db)?,
        territory::Entity::find().count(conn).await.map_err(db)?,
    );
    line(format!("store: {backend:?}; data: {sizes}"));
    line(format!(
        "clients: {}, {} s per measure; server: {}",
        args.clients,
        args.seconds,
        bin.display()
    ));

    // Start-up on the existing database.
    let server = Server::start(&bin, &config.database_url, args.port, &[]).await?;
    line(format!(
        "start-up on the existing database: {}",
        ms(server.started_in)
    ));
    let client = reqwest::Client::new();
    let email = facilitator_email(&t.code);
    let token = Arc::new(login(&client, &server.url, &email).await?);

    // Flat query count: the page costs as many statements for 10 markets as for 50.
    let user = entity::app_user::Entity::find()
        .filter(entity::app_user::Column::Email.eq(&email))
        .one(conn)
        .await
        .map_err(db)?
        .ok_or("facilitator account missing")?;
    let actor = crate::service::auth::actor_of(ctx, &user, None)
        .await
        .map_err(err)?;
    let (s10, s50) = (
        statements_per_page(config, ctx, &actor, 10).await?,
        statements_per_page(config, ctx, &actor, 50).await?,
    );
    line(format!(
        "morning page SQL statements (in-process, bearer check excluded): {s10} for 10 markets, {s50} for 50"
    ));

    // The morning page over HTTP, then the same data by raw SQL, same concurrency.
    let seconds = Duration::from_secs(args.seconds);
    let page = {
        let (client, url, token) = (client.clone(), server.url.clone(), token.clone());
        drive(args.clients, Until::Time(seconds), move |_, _| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            async move {
                graphql(
                    &client,
                    &url,
                    Some(&token),
                    MORNING_PAGE,
                    json!({ "first": 50 }),
                )
                .await
                .map(|_| ())
            }
        })
        .await
    };
    let raw_page = {
        let (ctx, tid) = (ctx.clone(), t.id);
        drive(args.clients, Until::Time(seconds), move |_, _| {
            let ctx = ctx.clone();
            async move { morning_raw(&ctx, tid, 50).await.map(|_| ()) }
        })
        .await
    };
    line(format!(
        "morning page (50 markets) over HTTP: {page} — raw SQL: {raw_page} — p50 ratio {:.2}",
        ratio(page.p50, raw_page.p50)
    ));
    if let Some(e) = &page.first_error {
        line(format!("  first error: {e}"));
    }

    // Hour recording: one day of hours per mutation on live placements, this month, weekdays.
    let today = ctx.clock.now().date_naive();
    let placements: Vec<(Uuid, NaiveDate)> = placement::Entity::find()
        .select_only()
        .column(placement::Column::Id)
        .column(placement::Column::StartDate)
        .filter(placement::Column::Status.eq(PlacementStatus::Active.as_str()))
        .filter(
            placement::Column::MarketId.in_subquery(sea_orm::QueryTrait::into_query(
                market::Entity::find()
                    .select_only()
                    .column(market::Column::Id)
                    .filter(market::Column::TerritoryId.eq(t.id)),
            )),
        )
        .into_tuple()
        .all(conn)
        .await
        .map_err(db)?;
    let first_of_month = today.with_day(1).expect("first of month");
    // Today included (a day may be declared on the day): on the 1st of a month there is no
    // other; a month starting on a weekend has only weekend days until its first Monday.
    let month_so_far: Vec<NaiveDate> = first_of_month
        .iter_days()
        .take_while(|d| *d <= today)
        .collect();
    let weekdays: Vec<NaiveDate> = month_so_far
        .iter()
        .copied()
        .filter(|d| d.weekday().number_from_monday() <= 5)
        .collect();
    let days = if weekdays.is_empty() {
        month_so_far
    } else {
        weekdays
    };
    // Days an earlier run already recorded would be refused as duplicates: skip them, so the
    // bench can run again on the same database.
    // A placement whose month is declared as a month takes no day entries (month or days).
    let recorded: Vec<(Uuid, NaiveDate, String)> = hour_entry::Entity::find()
        .select_only()
        .column(hour_entry::Column::PlacementId)
        .column(hour_entry::Column::PeriodStart)
        .column(hour_entry::Column::PeriodKind)
        .filter(hour_entry::Column::PeriodStart.gte(first_of_month))
        .into_tuple()
        .all(conn)
        .await
        .map_err(db)?;
    let by_month_set: std::collections::HashSet<Uuid> = recorded
        .iter()
        .filter(|(_, _, kind)| kind == "MONTH")
        .map(|(p, _, _)| *p)
        .collect();
    let taken: std::collections::HashSet<(Uuid, NaiveDate)> = recorded
        .into_iter()
        .filter(|(_, _, kind)| kind == "DAY")
        .map(|(p, d, _)| (p, d))
        .collect();
    let by_month = &by_month_set;
    let slots: Vec<(Uuid, NaiveDate)> = days
        .iter()
        .flat_map(|d| {
            placements
                .iter()
                .filter(move |(p, s)| s <= d && !by_month.contains(p))
                .map(move |(p, _)| (*p, *d))
        })
        .filter(|slot| !taken.contains(slot))
        .collect();
    let n = args.mutations.min(slots.len());
    let before = day_minutes(ctx, first_of_month).await?;
    let slots = Arc::new(slots);
    let next = Arc::new(AtomicUsize::new(0));
    let rec = {
        let (client, url, token, slots, next) = (
            client.clone(),
            server.url.clone(),
            token.clone(),
            slots.clone(),
            next.clone(),
        );
        drive(args.clients, Until::Count(n), move |_, _| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            let (p, d) = slots[next.fetch_add(1, Ordering::SeqCst)];
            async move {
                graphql(
                    &client,
                    &url,
                    Some(&token),
                    RECORD,
                    json!({ "input": { "placementId": encode(Kind::Placement, p).to_string(), "day": d, "hours": "7" } }),
                )
                .await
                .map(|_| ())
            }
        })
        .await
    };
    let after = day_minutes(ctx, first_of_month).await?;
    let check = if after - before == rec.done as i64 * 420 {
        "totals check: ledger grew by exactly 7 h × mutations accepted".to_string()
    } else {
        format!(
            "TOTALS MISMATCH: ledger grew by {} min for {} mutations",
            after - before,
            rec.done
        )
    };
    // The same mutations through the service in this process, on slots the HTTP run left: what
    // HTTP and GraphQL add, and what the recording's own transaction costs.
    let m = (slots.len() - n).min(n);
    let actor = Arc::new(
        crate::service::auth::authenticate(ctx, &token)
            .await
            .map_err(|e| e.message())?,
    );
    let service = {
        let (ctx, slots, next) = (ctx.clone(), slots.clone(), next.clone());
        drive(args.clients, Until::Count(m), move |_, _| {
            let (ctx, actor) = (ctx.clone(), actor.clone());
            let (p, d) = slots[next.fetch_add(1, Ordering::SeqCst)];
            async move {
                let input = crate::service::ledger::RecordHoursInput {
                    placement_id: encode(Kind::Placement, p),
                    month: None,
                    day: Some(d),
                    kind: crate::domain::HourKind::Work,
                    hours: "7".into(),
                    source: crate::domain::HourSource::CompanyDeclaration,
                };
                crate::service::ledger::record(&ctx, &actor, input)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.message())
            }
        })
        .await
    };
    let raw_rec = raw_inserts(ctx, args.clients, n).await?;
    let throughput = if rec.done == 0 {
        "n/a (nothing recorded)".to_string()
    } else {
        format!("{:.2}", raw_rec.per_second() / rec.per_second())
    };
    line(format!(
        "hour recording ({n} mutations) over HTTP: {rec} — raw SQL insert, one per transaction: {raw_rec} — throughput ratio {throughput}; {check}"
    ));
    if let Some(e) = &rec.first_error {
        line(format!("  first error: {e}"));
    }
    line(format!(
        "  the same recording in process (service call, no HTTP or GraphQL; {m} more slots): {service}"
    ));
    line(format!(
        "peak RSS of the server after the morning page and the mutations: {:.0} MB",
        server.peak_rss_mb().unwrap_or(0.0)
    ));
    drop(server);

    // Hour recording while the territory's deadlines are reflowed, on the slots left.
    let left: Vec<(Uuid, NaiveDate)> =
        slots[next.load(Ordering::SeqCst).min(slots.len())..].to_vec();
    line(recording_during_reflow(ctx, &token, t.id, left, args.clients).await?);

    // The operation report on the territory's busiest operation.
    let op = operation::Entity::find()
        .filter(operation::Column::TerritoryId.eq(t.id))
        .order_by_asc(operation::Column::Name)
        .one(conn)
        .await
        .map_err(db)?
        .ok_or("no operation")?;
    let w = crate::service::report::window(ctx, conn, t.id, Default::default())
        .await
        .map_err(err)?;
    let (report, validated) = median_of(5, || async {
        let r = crate::service::report::operation::build(conn, &op, w)
            .await
            .map_err(err)?;
        Ok(r.hours.validated.minutes)
    })
    .await?;
    let (raw_report, raw_validated) = median_of(5, || async {
        super::reports::raw_operation_validated(ctx, op.id, w.cutoff).await
    })
    .await?;
    let agree = if raw_validated == validated {
        "agree"
    } else {
        "DISAGREE"
    };
    let op_markets = market::Entity::find()
        .filter(market::Column::OperationId.eq(op.id))
        .count(conn)
        .await
        .map_err(db)?;
    line(format!(
        "operation report ({op_markets} markets), median of 5: {} — raw SQL aggregate: {} — ratio {:.2} (validated hours {agree})",
        ms(report),
        ms(raw_report),
        ratio(report, raw_report)
    ));

    line(reminders_of_a_day(config, ctx, t.id).await?);

    if backend == DatabaseBackend::Postgres && args.instances > 1 {
        for n in 1..=args.instances {
            let mut servers = Vec::new();
            for i in 0..n {
                servers.push(
                    Server::start(&bin, &config.database_url, args.port + 1 + i as u16, &[])
                        .await?,
                );
            }
            let urls: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.url.clone()).collect());
            let (client, token) = (client.clone(), token.clone());
            let stats = drive(args.clients, Until::Time(seconds), move |c, _| {
                let (client, token, urls) = (client.clone(), token.clone(), urls.clone());
                async move {
                    graphql(
                        &client,
                        &urls[c % urls.len()],
                        Some(&token),
                        MORNING_PAGE,
                        json!({ "first": 50 }),
                    )
                    .await
                    .map(|_| ())
                }
            })
            .await;
            let rss: Vec<String> = servers
                .iter()
                .map(|s| format!("{:.0}", s.peak_rss_mb().unwrap_or(0.0)))
                .collect();
            line(format!(
                "morning page with {n} instance(s): {stats}; peak RSS per instance {} MB",
                rss.join(" / ")
            ));
        }
    }
    Ok(out)
}

/// The territory is marked as a parameter change marks it, and the reflow job runs (chunks of
/// `reflow::CHUNK` subjects, each its own transaction) while `clients` tasks record hours in
/// process, one day at a time, until the reflow is over: their latencies, and the reflow's.
async fn recording_during_reflow(
    ctx: &Ctx,
    token: &str,
    territory: Uuid,
    slots: Vec<(Uuid, NaiveDate)>,
    clients: usize,
) -> Result<String, String> {
    use crate::service::reflow;
    let err = |e: crate::error::AppError| e.message();
    let actor = Arc::new(
        crate::service::auth::authenticate(ctx, token)
            .await
            .map_err(err)?,
    );
    let txn = ctx.db.begin_write().await.map_err(|e| e.to_string())?;
    reflow::mark(&txn.txn, ctx, territory).await.map_err(err)?;
    txn.commit().await.map_err(|e| e.to_string())?;
    let job = {
        let ctx = ctx.clone();
        tokio::spawn(async move { reflow::run(&ctx).await })
    };
    let (slots, next) = (Arc::new(slots), Arc::new(AtomicUsize::new(0)));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let (ctx, actor, slots, next) = (ctx.clone(), actor.clone(), slots.clone(), next.clone());
        let running = job.abort_handle();
        set.spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            while !running.is_finished() {
                let Some(&(p, d)) = slots.get(next.fetch_add(1, Ordering::SeqCst)) else {
                    break;
                };
                let input = crate::service::ledger::RecordHoursInput {
                    placement_id: encode(Kind::Placement, p),
                    month: None,
                    day: Some(d),
                    kind: crate::domain::HourKind::Work,
                    hours: "7".into(),
                    source: crate::domain::HourSource::CompanyDeclaration,
                };
                let t = Instant::now();
                match crate::service::ledger::record(&ctx, &actor, input).await {
                    Ok(_) => lat.push(t.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        });
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    while let Some(Ok((l, e))) = set.join_next().await {
        lat.extend(l);
        errors += e;
    }
    let done = job
        .await
        .map_err(|e| e.to_string())?
        .map_err(err)?
        .unwrap_or_default();
    lat.sort();
    let reflowed = match done.iter().find(|d| d.territory == territory) {
        Some(d) => format!(
            "{} subjects in {} chunks of {} in {}",
            d.subjects,
            d.chunks,
            reflow::CHUNK,
            ms(d.took)
        ),
        None => "not run here (another instance held the reflow lock)".into(),
    };
    Ok(format!(
        "hour recording during a territory reflow ({reflowed}), {clients} clients in process: \
         {} recorded, {errors} errors, p50 {}, p95 {}, max {}",
        lat.len(),
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 95.0)),
        ms(lat.last().copied().unwrap_or_default())
    ))
}

/// Minutes of day entries recorded from `since` on (what the recording bench adds).
async fn day_minutes(ctx: &Ctx, since: NaiveDate) -> Result<i64, String> {
    let b = ctx.db.backend();
    let row = ctx
        .db
        .conn
        .query_one_raw(Statement::from_sql_and_values(
            b,
            format!(
                "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) FROM hour_entry \
                 WHERE period_kind = 'DAY' AND period_start >= {}",
                ph(b, 1)
            ),
            [since.into()],
        ))
        .await
        .map_err(|e| e.to_string())?;
    Ok(row
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0))
}

/// The baseline of hour recording: single-row inserts into a scratch table of the ledger's
/// shape, each in its own transaction, from as many concurrent tasks.
async fn raw_inserts(ctx: &Ctx, clients: usize, n: usize) -> Result<Stats, String> {
    let conn = &ctx.db.conn;
    let db = |e: sea_orm::DbErr| e.to_string();
    scratch_table(conn, "bench_record").await?;
    let ctx2 = ctx.clone();
    let stats = drive(clients, Until::Count(n), move |_, _| {
        let ctx = ctx2.clone();
        async move {
            let b = ctx.db.backend();
            let txn = ctx.db.begin_write().await.map_err(|e| e.to_string())?;
            txn.txn
                .execute_raw(Statement::from_sql_and_values(
                    b,
                    format!(
                        "INSERT INTO bench_record VALUES ({}, {}, {}, {}, {})",
                        ph(b, 1),
                        ph(b, 2),
                        ph(b, 3),
                        ph(b, 4),
                        ph(b, 5)
                    ),
                    [
                        Uuid::now_v7().to_string().into(),
                        Uuid::now_v7().to_string().into(),
                        Utc::now().date_naive().into(),
                        420i64.into(),
                        Utc::now().to_rfc3339().into(),
                    ],
                ))
                .await
                .map_err(|e| e.to_string())?;
            txn.commit().await.map_err(|e| e.to_string())
        }
    })
    .await;
    conn.execute_unprepared("DROP TABLE bench_record")
        .await
        .map_err(db)?;
    Ok(stats)
}

/// Plans the reminders of the deadlines due in the coming week (as if they had just been made)
/// and sends what is due on the next working day, through a loopback SMTP server.
async fn reminders_of_a_day(config: &Config, ctx: &Ctx, territory: Uuid) -> Result<String, String> {
    let db = |e: sea_orm::DbErr| e.to_string();
    let err = |e: crate::error::AppError| e.message();
    let sink = SmtpSink::start().await.map_err(|e| e.to_string())?;
    let mut day = ctx.clock.now().date_naive() + Days::days(1);
    while day.weekday().number_from_monday() > 5 {
        day += Days::days(1);
    }
    // 07:00 UTC: before any territory's send time; 16:00 UTC: every mail of the day is due.
    let clock = Arc::new(ManualClock::new(
        day.and_time(NaiveTime::from_hms_opt(7, 0, 0).unwrap())
            .and_utc(),
    ));
    let day_ctx = Ctx {
        clock: clock.clone(),
        ..ctx.clone()
    };
    let conn = &ctx.db.conn;
    let week = [day, day + Days::days(7)];
    let ids: Vec<Uuid> = deadline::Entity::find()
        .select_only()
        .column(deadline::Column::Id)
        .filter(deadline::Column::TerritoryId.eq(territory))
        .filter(deadline::Column::Status.eq("OPEN"))
        .filter(deadline::Column::DueOn.between(week[0], week[1]))
        .into_tuple()
        .all(conn)
        .await
        .map_err(db)?;
    reminder::Entity::delete_many()
        .filter(reminder::Column::DeadlineId.is_in(ids.clone()))
        .exec(conn)
        .await
        .map_err(db)?;
    deadline::Entity::update_many()
        .col_expr(
            deadline::Column::PlannedRevision,
            Expr::value(Option::<i32>::None),
        )
        .filter(deadline::Column::Id.is_in(ids.clone()))
        .exec(conn)
        .await
        .map_err(db)?;
    let started = Instant::now();
    let planned = crate::service::reminders::plan::run(&day_ctx)
        .await
        .map_err(err)?;
    let plan = started.elapsed();
    let raw_plan = super::reports::raw_insert_rows(ctx, planned.max(1)).await?;

    let mut mail = config.mail.clone();
    mail.smtp_url = Some(sink.url());
    mail.batch = 200;
    let scheduler = crate::service::reminders::scheduler::Scheduler::new(day_ctx.clone(), &mail)?;
    clock.set(
        day.and_time(NaiveTime::from_hms_opt(16, 0, 0).unwrap())
            .and_utc(),
    );
    let started = Instant::now();
    let report = scheduler.send().await.map_err(err)?;
    let send = started.elapsed();
    let sent = report.sent as usize;
    // Baseline: the same number of mails through lettre straight, one SMTP session each.
    let started = Instant::now();
    for i in 0..sent {
        let message = lettre::Message::builder()
            .from(
                "Passerelle <rappels@passerelle.localhost>"
                    .parse()
                    .map_err(|e| format!("{e}"))?,
            )
            .to(format!("bench{i}@example.fr")
                .parse()
                .map_err(|e| format!("{e}"))?)
            .subject("Rappel")
            .body("Rappel d'échéance".to_string())
            .map_err(|e| e.to_string())?;
        scheduler
            .mailer
            .send("baseline", &message)
            .await
            .map_err(|e| e.message)?;
    }
    let raw_send = started.elapsed();
    let received = sink.count();
    Ok(format!(
        "reminders of a day ({} deadlines due {}..{}): planning {planned} mails {} — raw SQL insert of as many rows {} — ratio {:.2}; \
         sending {sent} mails {} — lettre alone {} — ratio {:.2}; SMTP server received {received} ({} duplicates)",
        ids.len(),
        week[0],
        week[1],
        ms(plan),
        ms(raw_plan),
        ratio(plan, raw_plan),
        ms(send),
        ms(raw_send),
        ratio(send, raw_send),
        sink.duplicates()
    ))
}
