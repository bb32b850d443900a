//! Shared test harness: a fresh store per test (a SQLite file, or a PostgreSQL schema when
//! `TEST_DATABASE_URL` is set), the schema over it, a manual clock, and a SQL statement counter.
#![allow(dead_code)]

pub mod smtp;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Request, Variables};
use chrono::{DateTime, Utc};
use passerelle::clock::{Clock, ManualClock};
use passerelle::db::Db;
use passerelle::domain::auth::{Actor, Role};
use passerelle::graphql::{AppSchema, build_schema};
use passerelle::service::Ctx;
use passerelle::service::secret::TraceKey;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// Runs each named `async fn name(app: &TestApp)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::sqlite().await;
                    super::$name(&app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::postgres().await {
                        super::$name(&app).await;
                        app.cleanup().await;
                    }
                }
            )*
        }
    };
}

pub const NOW: &str = "2026-11-22T10:00:00Z";
/// Password of every test account.
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub ctx: Ctx,
    pub schema: AppSchema,
    pub clock: Arc<ManualClock>,
    pub statements: Arc<AtomicUsize>,
    /// The SQL of the statements counted since the last reset.
    pub sql: Arc<Mutex<Vec<String>>>,
    pub url: String,
    pub pg_schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Self::build(url, None, Some(dir)).await
    }

    /// `None` (test passes as skipped) without `TEST_DATABASE_URL`, except under CI where
    /// PostgreSQL is required and its absence fails the test.
    pub async fn postgres() -> Option<Self> {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but TEST_DATABASE_URL is not: PostgreSQL tests must run in CI");
            }
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
            return None;
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(&url, 1)
            .await
            .expect("PostgreSQL reachable at TEST_DATABASE_URL");
        admin
            .conn
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        admin.conn.close().await.ok();
        Some(Self::build(url, Some(schema), None).await)
    }

    async fn build(url: String, pg_schema: Option<String>, dir: Option<tempfile::TempDir>) -> Self {
        let mut db = Db::connect_with(&url, 5, pg_schema.as_deref())
            .await
            .expect("connect");
        db.migrate().await.expect("migrate");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let sql = Arc::new(Mutex::new(Vec::new()));
        let log = sql.clone();
        db.conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            log.lock()
                .expect("sql log")
                .push(info.statement.sql.clone());
        });
        let clock = Arc::new(ManualClock::new(NOW.parse::<DateTime<Utc>>().unwrap()));
        let trace_key = TraceKey::load(&db.conn, None, clock.now())
            .await
            .expect("trace key");
        let ctx = Ctx::new(db, clock.clone(), trace_key);
        let schema = build_schema(Some(ctx.clone()));
        Self {
            ctx,
            schema,
            clock,
            statements,
            sql,
            url,
            pg_schema,
            _dir: dir,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_schema.is_some()
    }

    pub async fn cleanup(&self) {
        if let Some(schema) = &self.pg_schema {
            self.ctx
                .db
                .conn
                .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .ok();
        }
    }
    /// A request carrying its own DataLoader, as the HTTP handler builds it, made by the system
    /// actor (in-process only: over HTTP every caller is a user).
    pub fn request(&self, query: &str, vars: Value) -> Request {
        self.request_as(Some(Actor::system()), query, vars)
    }

    pub fn request_as(&self, caller: Option<Actor>, query: &str, vars: Value) -> Request {
        passerelle::graphql::prepare(
            Request::new(query).variables(Variables::from_json(vars)),
            &self.ctx,
            caller,
        )
    }

    /// Runs a query as `caller` (`None`: nobody signed in).
    pub async fn run_as(&self, caller: Option<Actor>, query: &str, vars: Value) -> Value {
        serde_json::to_value(
            self.schema
                .execute(self.request_as(caller, query, vars))
                .await,
        )
        .unwrap()
    }

    /// Creates a user through the service and returns the actor a token of theirs would give.
    pub async fn user(
        &self,
        email: &str,
        role: Role,
        org: Option<&str>,
        territories: &[&str],
    ) -> Actor {
        let user = passerelle::service::auth::create_user(
            &self.ctx,
            &Actor::system(),
            passerelle::service::auth::CreateUserInput {
                email: email.into(),
                password: Some(PASSWORD.into()),
                role,
                organization_id: org.map(|o| async_graphql::ID(o.to_string())),
                territory_ids: territories
                    .iter()
                    .map(|t| async_graphql::ID(t.to_string()))
                    .collect(),
            },
        )
        .await
        .map_err(|e| e.message())
        .unwrap();
        passerelle::service::auth::actor_of(&self.ctx, &user, None)
            .await
            .unwrap()
    }

    /// Runs the scheduler's reflow job (what follows a parameter change or `refreshDeadlines`
    /// within a minute); panics if another instance held the lock. Returns what it did.
    pub async fn reflow(&self) -> Vec<passerelle::service::reflow::Done> {
        passerelle::service::reflow::run(&self.ctx)
            .await
            .map_err(|e| e.message())
            .unwrap()
            .expect("nobody else reflowing")
    }

    /// Runs a query; the raw response as JSON (`data` and `errors`).
    pub async fn run(&self, query: &str, vars: Value) -> Value {
        serde_json::to_value(self.schema.execute(self.request(query, vars)).await).unwrap()
    }

    /// Runs a query that must succeed; its `data`.
    pub async fn ok(&self, query: &str, vars: Value) -> Value {
        let resp = self.run(query, vars).await;
        assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
        resp["data"].clone()
    }

    /// Runs a query that must fail; `(extensions.code, extensions.field)` of the first error.
    pub async fn err(&self, query: &str, vars: Value) -> (String, Option<String>) {
        let resp = self.run(query, vars).await;
        let e = &resp["errors"][0];
        assert!(!e.is_null(), "expected an error, got {resp:#}");
        let code = e["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_string();
        let field = e["extensions"]["field"].as_str().map(String::from);
        (code, field)
    }

    /// Runs an edit as `who` that must be refused for naming a replaced version (CONFLICT on
    /// `version`); its `extensions` (`changedBy`, `changedAt`, `currentVersion`).
    pub async fn stale(&self, who: &Actor, query: &str, vars: Value) -> Value {
        let resp = self.run_as(Some(who.clone()), query, vars).await;
        let e = resp["errors"][0]["extensions"].clone();
        assert_eq!(
            (e["code"].as_str(), e["field"].as_str()),
            (Some("CONFLICT"), Some("version")),
            "{resp}"
        );
        e
    }

    /// Runs a query that must be refused by a numeric rule; `(field, rule, limit, value)`.
    pub async fn breach(&self, query: &str, vars: Value) -> (String, String, String, String) {
        let resp = self.run(query, vars).await;
        let ext = &resp["errors"][0]["extensions"];
        assert_eq!(
            ext["code"], "BAD_USER_INPUT",
            "expected a refusal, got {resp:#}"
        );
        let s = |k: &str| {
            ext[k]
                .as_str()
                .unwrap_or_else(|| panic!("no {k} in {resp:#}"))
                .to_string()
        };
        (s("field"), s("rule"), s("limit"), s("value"))
    }

    /// Serves the real HTTP application with `config` on port 0; the base URL and the stop switch.
    pub async fn serve(
        &self,
        config: &passerelle::config::Config,
    ) -> (String, tokio::sync::oneshot::Sender<()>) {
        let router = passerelle::app(self.ctx.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(passerelle::http::serve(
            listener,
            router,
            async {
                let _ = stop_rx.await;
            },
            std::time::Duration::from_secs(5),
        ));
        (format!("http://{addr}"), stop_tx)
    }

    pub fn reset_statements(&self) {
        self.statements.store(0, Ordering::SeqCst);
        self.sql.lock().expect("sql log").clear();
    }

    /// How many statements since the last reset read or wrote `table` (quoted name).
    pub fn statements_on(&self, table: &str) -> usize {
        let quoted = format!("\"{table}\"");
        self.sql
            .lock()
            .expect("sql log")
            .iter()
            .filter(|s| s.contains(&quoted))
            .count()
    }

    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    /// Counts rows of a table straight from SQL (to prove that nothing was written).
    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .ctx
            .db
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                self.ctx.db.backend(),
                format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// IDs of a small world every test can start from.
pub struct World {
    pub territory: String,
    pub buyer: String,
    pub company: String,
    pub aci: String,
    pub etti: String,
    pub market: String,
    pub lot: String,
    pub participant: String,
    pub placement: String,
}

pub const CREATE_ORG: &str =
    "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }";
pub const CREATE_MARKET: &str =
    "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id lots { id } } }";
pub const TRANSITION: &str =
    "mutation($i: TransitionMarketInput!) { transitionMarket(input: $i) { status } }";
pub const CREATE_PARTICIPANT: &str =
    "mutation($i: CreateParticipantInput!) { createParticipant(input: $i) { id } }";
pub const CREATE_PLACEMENT: &str =
    "mutation($i: CreatePlacementInput!) { createPlacement(input: $i) { id } }";
pub const RECORD: &str =
    "mutation($i: RecordHoursInput!) { recordHours(input: $i) { id minutes status } }";
pub const VALIDATE: &str =
    "mutation($i: ReviewHoursInput!) { validateHours(input: $i) { id status } }";
pub const REJECT: &str = "mutation($i: ReviewHoursInput!) { rejectHours(input: $i) { id status } }";
pub const CORRECT: &str =
    "mutation($i: CorrectHoursInput!) { correctHours(input: $i) { id minutes reason } }";
pub const IMPORT: &str = "mutation($file: Upload!) { importHourStatements(file: $file) { id lineCount recordedCount unchangedCount sha256 } }";
pub const MARKET_TOTALS: &str = "query($id: ID!) { node(id: $id) { ... on Market { hoursTarget hoursDelivered hoursPending completionRate participantCount byModality { modality hoursDelivered hoursPending } lots { hoursDelivered hoursPending } } } }";

impl TestApp {
    pub async fn org(
        &self,
        name: &str,
        kind: &str,
        subtype: Option<&str>,
        territory: &str,
    ) -> String {
        let data = self
            .ok(
                CREATE_ORG,
                json!({"i": {"name": name, "kind": kind, "siaeSubtype": subtype, "territoryId": territory}}),
            )
            .await;
        data["createOrganization"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn territory(&self, code: &str) -> String {
        let data = self
            .ok(
                "mutation($i: CreateTerritoryInput!) { createTerritory(input: $i) { id } }",
                json!({"i": {"code": code, "name": format!("Territoire {code}"), "timeZone": "Indian/Reunion"}}),
            )
            .await;
        data["createTerritory"]["id"].as_str().unwrap().to_string()
    }

    /// A market through its life cycle to IN_PROGRESS, one lot awarded to `awardee`.
    pub async fn market_in_progress(
        &self,
        buyer: &str,
        reference: &str,
        awardee: &str,
    ) -> (String, String) {
        let data = self
            .ok(
                CREATE_MARKET,
                json!({"i": {
                    "buyerId": buyer, "reference": reference, "title": "Réhabilitation de logements",
                    "clauseKind": "EXECUTION_CONDITION", "amountCents": 100_000_000i64,
                    "startDate": "2026-01-01", "endDate": "2027-12-31",
                    "lots": [{"number": 1, "title": "Gros œuvre", "awardeeId": awardee}]
                }}),
            )
            .await;
        let market = data["createMarket"]["id"].as_str().unwrap().to_string();
        let lot = data["createMarket"]["lots"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        for to in ["PUBLISHED", "AWARDED", "IN_PROGRESS"] {
            self.ok(TRANSITION, json!({"i": {"marketId": market, "to": to}}))
                .await;
        }
        (market, lot)
    }

    pub async fn participant(&self, territory: &str, last: &str) -> String {
        let data = self
            .ok(
                CREATE_PARTICIPANT,
                json!({"i": {"territoryId": territory, "firstName": "Marie", "lastName": last,
                    "birthDate": "1990-05-01", "sex": "FEMALE", "educationLevel": "LEVEL_3",
                    "qpvResident": true, "publics": ["RSA"]}}),
            )
            .await;
        data["createParticipant"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn placement(
        &self,
        participant: &str,
        market: &str,
        lot: &str,
        employer: &str,
        modality: &str,
    ) -> String {
        let data = self
            .ok(
                CREATE_PLACEMENT,
                json!({"i": {"participantId": participant, "marketId": market, "lotId": lot,
                    "modality": modality, "employerId": employer, "contractType": "CDD",
                    "startDate": "2026-02-01", "endDate": "2026-12-31", "weeklyHours": "26"}}),
            )
            .await;
        data["createPlacement"]["id"].as_str().unwrap().to_string()
    }

    pub async fn world(&self) -> World {
        let territory = self.territory("974-TEST").await;
        let buyer = self.org("Commune du Port", "BUYER", None, &territory).await;
        let company = self.org("BTP Ouest", "COMPANY", None, &territory).await;
        let aci = self
            .org("ACI Ti Kaz", "SIAE", Some("ACI"), &territory)
            .await;
        let etti = self
            .org("ETTI Océan", "SIAE", Some("ETTI"), &territory)
            .await;
        let (market, lot) = self
            .market_in_progress(&buyer, "LP-2026-001", &company)
            .await;
        let participant = self.participant(&territory, "Hoarau").await;
        let placement = self
            .placement(&participant, &market, &lot, &company, "DIRECT_HIRE")
            .await;
        World {
            territory,
            buyer,
            company,
            aci,
            etti,
            market,
            lot,
            participant,
            placement,
        }
    }

    pub async fn record(&self, placement: &str, month: &str, hours: &str) -> Value {
        self.run(
            RECORD,
            json!({"i": {"placementId": placement, "month": month, "hours": hours}}),
        )
        .await
    }

    pub async fn record_ok(&self, placement: &str, month: &str, hours: &str) -> String {
        let resp = self.record(placement, month, hours).await;
        assert!(resp.get("errors").is_none(), "{resp:#}");
        resp["data"]["recordHours"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Uploads a CSV of monthly statements as `actor` (`importHourStatements`); the raw response.
    pub async fn upload_hours(&self, actor: Actor, csv: impl AsRef<[u8]>) -> Value {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heures.csv");
        std::fs::write(&path, csv).unwrap();
        let mut req: Request = passerelle::graphql::prepare(
            Request::new(IMPORT).variables(Variables::from_json(json!({"file": null}))),
            &self.ctx,
            Some(actor),
        );
        req.set_upload(
            "variables.file",
            async_graphql::UploadValue {
                filename: "heures-octobre.csv".into(),
                content_type: Some("text/csv".into()),
                content: std::fs::File::open(&path).unwrap(),
            },
        );
        serde_json::to_value(self.schema.execute(req).await).unwrap()
    }

    pub async fn totals(&self, market: &str) -> Value {
        self.ok(MARKET_TOTALS, json!({"id": market})).await["node"].clone()
    }
}

/// POSTs a GraphQL body, with a bearer token if given; the status and the JSON answer.
pub async fn post_gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = client.post(format!("{base}/graphql")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}
