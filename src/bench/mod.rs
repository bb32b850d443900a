//! Benchmarks and the data they run on. Figures, not assertions: `BENCHMARKS.md` says how to
//! read them. Every measure is printed next to the same work done by raw SQL in the same run.
//!
//! - `generate`: `passerelle generate --scale S`, realistic data from one territory for a year
//!   (S = 1) to national scale for ten years (S = 100);
//! - `load`: `passerelle bench`, the morning page and hour recording over HTTP against
//!   `passerelle serve` processes, reminders of a day, the operation report and the import;
//! - `reports`: `passerelle bench-reports`, the reports issue's bench on one large operation.

pub mod generate;
pub mod load;
pub mod reports;
pub mod smtp_sink;

use std::time::{Duration, Instant};

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait};

pub use reports::{Scale, run};

/// Rows per multi-row `INSERT`.
pub(crate) const CHUNK: usize = 1_000;

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The `p`-th percentile (0–100) of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p / 100.0).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// The median time of `runs` calls, and what the last one answered.
pub(crate) async fn median_of<F, Fut, T>(runs: usize, mut f: F) -> Result<(Duration, T), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut out = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = Some(f().await?);
        out.push(start.elapsed());
    }
    Ok((median(out), last.expect("at least one run")))
}

/// Inserts rows with multi-row `INSERT`s of `CHUNK` rows.
pub(crate) async fn insert_all<A, C>(conn: &C, rows: Vec<A>) -> Result<(), String>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(CHUNK));
        <A::Entity as EntityTrait>::insert_many(rows)
            .exec_without_returning(conn)
            .await
            .map_err(|e| e.to_string())?;
        rows = rest;
    }
    Ok(())
}

/// The `n`-th bind placeholder of raw SQL on this store.
pub(crate) fn ph(backend: sea_orm::DatabaseBackend, n: usize) -> String {
    if backend == sea_orm::DatabaseBackend::Postgres {
        format!("${n}")
    } else {
        "?".into()
    }
}

/// (Re)creates a scratch table of the ledger's shape: where raw-SQL baselines write.
pub(crate) async fn scratch_table<C: ConnectionTrait>(conn: &C, name: &str) -> Result<(), String> {
    conn.execute_unprepared(&format!("DROP TABLE IF EXISTS {name}"))
        .await
        .map_err(|e| e.to_string())?;
    conn.execute_unprepared(&format!(
        "CREATE TABLE {name} (id VARCHAR(36) PRIMARY KEY, placement_id VARCHAR(36), \
         period_start DATE, minutes BIGINT, recorded_at VARCHAR(40))"
    ))
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// A small deterministic generator (SplitMix64): the same seed gives the same data.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`, each with its weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut pick = self.next_u64() % total;
        for (item, w) in items {
            if pick < *w {
                return *item;
            }
            pick -= w;
        }
        items[items.len() - 1].0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}
