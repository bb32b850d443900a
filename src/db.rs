//! Connecting to SQLite or PostgreSQL, migrating, and opening write transactions that neither
//! deadlock nor fail with "database is locked".

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use uuid::Uuid;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a territory's time zone read from the store is trusted (see `Db::known_zone`).
pub const ZONE_TTL: Duration = Duration::from_secs(60);

/// A key for `pg_advisory_xact_lock`, so that instances starting together migrate one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x7061_7373_6572_656c; // "passerel"

#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
    /// On SQLite, writers of this process queue here instead of spinning on the file lock.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// Territories' time zones as read, and when: every deadline, recording and reminder asks
    /// for one. A zone changes only while nothing is dated in its territory; this process
    /// learns its own changes at once, another instance's within [`ZONE_TTL`].
    zones: Arc<RwLock<HashMap<Uuid, (Tz, Instant)>>>,
    /// On SQLite, the background jobs of this process that run one at a time (`try_job_lock`).
    sqlite_jobs: Arc<Mutex<()>>,
}

/// A background job's exclusive turn across instances, released when dropped: on PostgreSQL a
/// transaction holding a transaction-scoped advisory lock (a crashed instance's connection
/// closes and frees it), on SQLite this process's slot (one process owns a SQLite file).
pub enum JobLock {
    Postgres(DatabaseTransaction),
    Sqlite(OwnedMutexGuard<()>),
}

impl JobLock {
    /// Gives the turn back now (dropping it does too, later on PostgreSQL).
    pub async fn release(self) -> Result<(), DbErr> {
        match self {
            JobLock::Postgres(txn) => txn.rollback().await,
            JobLock::Sqlite(_) => Ok(()),
        }
    }
}

/// A write transaction; on SQLite it also holds the process's writer slot.
pub struct WriteTxn {
    pub txn: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// Serialises this transaction with every other one that names one of the same `keys`,
    /// until it ends: on PostgreSQL, transaction-scoped advisory locks taken in one order (so
    /// two transactions naming the same pair never deadlock); on SQLite, writers are one at a
    /// time already.
    pub async fn serialise_on(&self, keys: &[&str]) -> Result<(), DbErr> {
        if self.txn.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let mut ids: Vec<i64> = keys.iter().map(|k| lock_id(k)).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            self.txn
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_advisory_xact_lock($1)",
                    [id.into()],
                ))
                .await?;
        }
        Ok(())
    }
}

/// A lock key stable across processes and versions: the first 8 bytes of the key's SHA-256.
fn lock_id(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with(url, max_connections, None).await
    }

    /// Connects with an optional Postgres schema (tests give each its own).
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        pg_schema: Option<&str>,
    ) -> Result<Self, DbErr> {
        let mut opts = ConnectOptions::new(url.to_string());
        opts.max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        if let Some(schema) = pg_schema {
            opts.set_schema_search_path(schema.to_string());
        }
        let conn = Database::connect(opts).await?;
        let sqlite_writer = (conn.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            conn,
            sqlite_writer,
            zones: Arc::default(),
            sqlite_jobs: Arc::default(),
        })
    }

    /// A territory's time zone if this process has read it in the last [`ZONE_TTL`].
    pub fn known_zone(&self, territory: Uuid) -> Option<Tz> {
        let zones = self.zones.read().ok()?;
        let (tz, at) = zones.get(&territory)?;
        (at.elapsed() < ZONE_TTL).then_some(*tz)
    }

    pub fn remember_zone(&self, territory: Uuid, tz: Tz) {
        if let Ok(mut zones) = self.zones.write() {
            zones.insert(territory, (tz, Instant::now()));
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Applies pending migrations; on PostgreSQL inside one transaction under an advisory lock.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        match self.backend() {
            DatabaseBackend::Postgres => {
                let txn = self.conn.begin().await?;
                txn.execute_unprepared(&format!(
                    "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                ))
                .await?;
                Migrator::up(&txn, None).await?;
                txn.commit().await
            }
            _ => {
                let _writer = self.writer().await;
                Migrator::up(&self.conn, None).await
            }
        }
    }

    async fn writer(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        }
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite (so a read-then-write never
    /// fails on upgrade), after this process's other writers.
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let writer = self.writer().await;
        let txn = match self.backend() {
            DatabaseBackend::Sqlite => {
                self.conn
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?
            }
            _ => self.conn.begin().await?,
        };
        Ok(WriteTxn {
            txn,
            _writer: writer,
        })
    }

    /// The job named `key`'s turn if no other instance (or task) holds it; `None` otherwise,
    /// without waiting.
    pub async fn try_job_lock(&self, key: &str) -> Result<Option<JobLock>, DbErr> {
        if self.backend() != DatabaseBackend::Postgres {
            return Ok(self
                .sqlite_jobs
                .clone()
                .try_lock_owned()
                .ok()
                .map(JobLock::Sqlite));
        }
        let txn = self.conn.begin().await?;
        // Keyed by schema too: advisory locks are per database, and stores that share one
        // database in separate schemas (tests) do not exclude each other.
        let got = txn
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock(\
                 ('x' || substr(md5(current_schema() || ':' || $1), 1, 16))::bit(64)::bigint) AS got",
                [key.into()],
            ))
            .await?
            .map(|r| r.try_get::<bool>("", "got"))
            .transpose()?
            .unwrap_or(false);
        if got {
            Ok(Some(JobLock::Postgres(txn)))
        } else {
            txn.rollback().await?;
            Ok(None)
        }
    }

    /// `SELECT 1`, for readiness.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}
