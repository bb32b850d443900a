//! The scheduler: jobs on cron expressions (planning and digests, sending, the nightly refresh),
//! run inside `passerelle serve` or alone with `passerelle scheduler`. Several may run on one
//! PostgreSQL: planning is idempotent, sending claims rows, digests have unique keys.
//! Time is the injected clock's (when a mail is due); leases alone are the database's clock
//! (`outbox`). Tests call `tick` (or one job) directly.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use entity::territory;
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::compose::{Composed, compose};
use super::mailer::Mailer;
use super::outbox::{self, Outcome};
use super::{Settings, digest, plan};
use crate::config::MailConfig;
use crate::domain::reminders::{OfficeHours, ReminderStatus, backoff};
use crate::error::AppResult;
use crate::service::Ctx;
use crate::service::params::{Place, set_at};
use crate::service::reflow;

/// The cron expressions of the jobs (with seconds: `0 30 7 * * Mon-Fri`).
#[derive(Debug, Clone)]
pub struct Crons {
    pub plan: cron::Schedule,
    pub send: cron::Schedule,
    /// Read in each territory's local time.
    pub digest: cron::Schedule,
    pub weekly_digest: cron::Schedule,
    pub refresh: cron::Schedule,
    pub reflow: cron::Schedule,
}

impl Crons {
    pub fn from_config(c: &MailConfig) -> Result<Self, String> {
        let parse = |name: &str, raw: &str| {
            cron::Schedule::from_str(raw).map_err(|e| {
                format!("{name} : « {raw} » n'est pas une expression cron (sec min h jour mois jour-de-semaine) : {e}")
            })
        };
        Ok(Crons {
            plan: parse("PLAN_CRON", &c.plan_cron)?,
            send: parse("SEND_CRON", &c.send_cron)?,
            digest: parse("DIGEST_CRON", &c.digest_cron)?,
            weekly_digest: parse("WEEKLY_DIGEST_CRON", &c.weekly_digest_cron)?,
            refresh: parse("REFRESH_CRON", &c.refresh_cron)?,
            reflow: parse("REFLOW_CRON", &c.reflow_cron)?,
        })
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub planned: usize,
    pub digests: usize,
    /// Claims of dead instances taken back.
    pub released: u64,
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
    /// Claimed but no longer wanted (deadline met or moved meanwhile).
    pub dropped: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "planned {}, digests {}, taken back {}, sent {}, failed {}, dead {}, dropped {}",
            self.planned,
            self.digests,
            self.released,
            self.sent,
            self.failed,
            self.dead,
            self.dropped
        )
    }
}

/// Counts a settled row in the pass's report.
fn tally(
    report: &mut Report,
    row: &entity::reminder::Model,
    status: Option<ReminderStatus>,
    released: bool,
) {
    match status {
        Some(ReminderStatus::Sent) => report.sent += 1,
        Some(ReminderStatus::Cancelled) => report.dropped += 1,
        Some(ReminderStatus::Dead) => report.dead += 1,
        Some(ReminderStatus::Failed) if !released => report.failed += 1,
        Some(_) => {}
        None => tracing::warn!(
            reminder = %row.id,
            "claim lost before the mail was settled (lease ran out): it may go out twice"
        ),
    }
}

/// A settlement the database did not take yet (it was down or cut off).
struct Mark {
    row: entity::reminder::Model,
    outcome: Outcome,
}

#[derive(Clone)]
pub struct Scheduler {
    pub ctx: Ctx,
    pub settings: Settings,
    pub mailer: Mailer,
    pub crons: Crons,
    /// Cancelled on the stop signal; `send` looks at it before each mail.
    pub stop: CancellationToken,
    /// Marks kept until the database takes them (shared by the clones of one scheduler).
    marks: Arc<Mutex<Vec<Mark>>>,
}

#[derive(Debug, Clone, Copy)]
enum Job {
    /// Plan reminders from deadlines, then make the digests whose time has come.
    Plan,
    Send,
    Refresh,
    /// Reflow the territories marked by a parameter change (service::reflow).
    Reflow,
}

impl Scheduler {
    /// Refuses settings it cannot send with: a bad cron, `SMTP_URL` or `APP_URL`.
    pub fn new(ctx: Ctx, c: &MailConfig) -> Result<Self, String> {
        let app_url = crate::config::app_url(&c.app_url)?;
        let smtp = c.smtp_url.as_deref().is_some_and(|u| !u.trim().is_empty());
        let loopback = ["://127.", "://localhost", "://[::1]"]
            .iter()
            .any(|l| app_url.contains(l));
        if smtp && loopback {
            tracing::warn!(
                app_url,
                "APP_URL points at this machine while mails go to an SMTP server: their links will not open elsewhere"
            );
        }
        Ok(Scheduler {
            ctx,
            settings: Settings::from_config(c),
            mailer: Mailer::from_config(c)?,
            crons: Crons::from_config(c)?,
            stop: CancellationToken::new(),
            marks: Arc::default(),
        })
    }

    /// One pass of every job but the refresh: plan, digest, send.
    pub async fn tick(&self) -> AppResult<Report> {
        let before = self.send().await?;
        let planned = self.plan().await?;
        let digests = self.digest().await?;
        // Sending after planning too, so a pass sends what it planned.
        let after = self.send().await?;
        Ok(Report {
            planned,
            digests,
            released: before.released + after.released,
            sent: before.sent + after.sent,
            failed: before.failed + after.failed,
            dead: before.dead + after.dead,
            dropped: before.dropped + after.dropped,
        })
    }

    pub async fn plan(&self) -> AppResult<usize> {
        plan::run(&self.ctx).await
    }

    pub async fn digest(&self) -> AppResult<usize> {
        digest::run(&self.ctx, &self.crons.digest, &self.crons.weekly_digest).await
    }

    /// Re-derives the deadlines that move with time alone (a market falling behind its
    /// target) and plans them again (new accounts, changed addresses): every territory is
    /// marked and reflowed as after a parameter change, by whichever instance has the reflow
    /// lock. Returns how many objects this instance re-derived.
    pub async fn refresh(&self) -> AppResult<usize> {
        reflow::mark_all(&self.ctx).await?;
        Ok(self
            .reflow()
            .await?
            .map_or(0, |done| done.iter().map(|d| d.subjects).sum()))
    }

    /// Reflows the marked territories, unless another instance is at it (`None`).
    pub async fn reflow(&self) -> AppResult<Option<Vec<reflow::Done>>> {
        reflow::run(&self.ctx).await
    }

    /// Deletes what can never count again: expired sessions and login failures out of the
    /// throttle's window (a step of the nightly job, beside the refresh).
    pub async fn purge(&self) -> AppResult<crate::service::auth::Purged> {
        crate::service::auth::purge(&self.ctx, crate::service::auth::PURGE_BATCH).await
    }

    /// Territories whose office is open now.
    async fn open_territories(&self) -> AppResult<Vec<Uuid>> {
        let conn = &self.ctx.db.conn;
        let now = self.ctx.clock.now();
        let mut open = Vec::new();
        for t in territory::Entity::find().all(conn).await? {
            let tz = crate::service::territory::time_zone(&t);
            let params = set_at(conn, Place::territory(t.id), self.ctx.clock.today_in(tz)).await?;
            if OfficeHours::of(&params).open_at(now, tz) {
                open.push(t.id);
            }
        }
        Ok(open)
    }

    /// Applies the marks kept from earlier passes, takes back dead claims, then claims and
    /// sends due mails batch after batch until none is left or the scheduler is stopped.
    ///
    /// Once the SMTP server has accepted a mail, its SENT mark is kept in memory until the
    /// database takes it: retried with back-off, and nothing more is claimed or sent
    /// meanwhile. On the stop signal, the mail in hand is finished and the rest of the batch
    /// is released at once (due again, no attempt counted).
    pub async fn send(&self) -> AppResult<Report> {
        let (ctx, s) = (&self.ctx, &self.settings);
        let mut report = Report::default();
        if !self.flush(&mut report).await {
            return Ok(report);
        }
        report.released = outbox::sweep(ctx, s).await?;
        let open = self.open_territories().await?;
        let margin = s.lease / 10;
        while !self.stop.is_cancelled() {
            let rows = outbox::claim(ctx, s, &open).await?;
            let full = rows.len() as u64 == s.batch;
            // After a failure of the server itself, the rest of the batch waits as long as the
            // mail that failed; when the lease runs short, the database cannot take a mark,
            // or the scheduler stops, the rest goes back at once.
            let mut broken: Option<(String, DateTime<Utc>)> = None;
            for row in &rows {
                let now = ctx.clock.now();
                let release = |why: &str| Outcome::Released {
                    why: why.to_string(),
                    retry_at: now,
                };
                let outcome = if let Some((why, retry_at)) = &broken {
                    Outcome::Released {
                        why: why.clone(),
                        retry_at: *retry_at,
                    }
                } else if self.stop.is_cancelled() {
                    release("non tenté : arrêt de l'instance (not tried: the instance stopped)")
                } else if self.marks_pending() {
                    release(
                        "non tenté : la base n'a pas pris un envoi (not tried: a mark is pending)",
                    )
                } else {
                    match outbox::renew(ctx, s, row, margin).await {
                        Ok(true) => self.attempt(row, &mut broken).await,
                        Ok(false) => {
                            let why = "bail presque écoulé (lease nearly over)";
                            broken = Some((why.to_string(), now));
                            release(why)
                        }
                        Err(e) => {
                            tracing::warn!(reminder = %row.id, "renewing a lease: {e:?}");
                            release(
                                "non tenté : base injoignable (not tried: database unreachable)",
                            )
                        }
                    }
                };
                self.settle(row, outcome, &mut report).await;
            }
            if !self.flush(&mut report).await || !full || broken.is_some() {
                break;
            }
        }
        Ok(report)
    }

    /// One mail: composed, handed to the SMTP server; how it ended.
    async fn attempt(
        &self,
        row: &entity::reminder::Model,
        broken: &mut Option<(String, DateTime<Utc>)>,
    ) -> Outcome {
        let (ctx, s) = (&self.ctx, &self.settings);
        match compose(ctx, s, row).await {
            Ok(Composed::Mail(m)) => match self.mailer.send(&row.id.to_string(), &m).await {
                Ok(()) => Outcome::Sent,
                Err(e) => {
                    if !e.permanent {
                        let wait = backoff(row.attempts, s.retry_base, s.retry_max);
                        *broken =
                            Some((format!("non tenté : {}", e.message), ctx.clock.now() + wait));
                    }
                    Outcome::Failed {
                        error: e.message,
                        permanent: e.permanent,
                    }
                }
            },
            Ok(Composed::Drop(why)) => Outcome::Dropped(why),
            Ok(Composed::Invalid(why)) => Outcome::Failed {
                error: why,
                permanent: true,
            },
            Err(e) => {
                tracing::error!(reminder = %row.id, "composing a reminder: {e:?}");
                Outcome::Failed {
                    error: e.message(),
                    permanent: false,
                }
            }
        }
    }

    /// Settles a row; when the database does not take it, the mark is kept to be retried.
    async fn settle(&self, row: &entity::reminder::Model, outcome: Outcome, report: &mut Report) {
        let released = matches!(outcome, Outcome::Released { .. });
        match outbox::settle(&self.ctx, &self.settings, row, outcome.clone()).await {
            Ok(status) => tally(report, row, status, released),
            Err(e) => {
                tracing::warn!(reminder = %row.id, ?outcome, "the database did not take a mark; kept to retry: {e:?}");
                self.lock_marks().push(Mark {
                    row: row.clone(),
                    outcome,
                });
            }
        }
    }

    fn lock_marks(&self) -> std::sync::MutexGuard<'_, Vec<Mark>> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn marks_pending(&self) -> bool {
        !self.lock_marks().is_empty()
    }

    /// Applies the kept marks, retrying with back-off (0.2 s doubling up to 5 s) until the
    /// database takes them all; on the stop signal, one last try. `false` while any is left.
    async fn flush(&self, report: &mut Report) -> bool {
        let mut wait = std::time::Duration::from_millis(200);
        loop {
            let marks = std::mem::take(&mut *self.lock_marks());
            if marks.is_empty() {
                return true;
            }
            for Mark { row, outcome } in marks {
                self.settle(&row, outcome, report).await;
            }
            if !self.marks_pending() {
                return true;
            }
            if self.stop.is_cancelled() {
                let left = self.lock_marks();
                tracing::error!(
                    reminders = ?left.iter().map(|m| m.row.id).collect::<Vec<_>>(),
                    "stopping with marks the database did not take: a mail SENT but unmarked goes out again once its lease has run out"
                );
                return false;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.stop.cancelled() => {}
            }
            wait = (wait * 2).min(std::time::Duration::from_secs(5));
        }
    }

    async fn run_job(&self, job: Job) {
        let result = match job {
            Job::Plan => {
                async {
                    let planned = self.plan().await?;
                    let digests = self.digest().await?;
                    Ok::<_, crate::error::AppError>(format!("planned {planned}, digests {digests}"))
                }
                .await
            }
            Job::Send => self.send().await.map(|r| r.to_string()),
            Job::Refresh => {
                // Its own step: a failed refresh does not keep the purge from running.
                let purged = self.purge().await.map(|p| {
                    format!(
                        "purged {} expired sessions, {} old login failures",
                        p.sessions, p.login_failures
                    )
                });
                match purged {
                    Ok(what) => tracing::info!(?job, "{what}"),
                    Err(e) => tracing::error!(?job, "nightly purge failed: {e:?}"),
                }
                self.refresh()
                    .await
                    .map(|n| format!("{n} objects re-derived"))
            }
            Job::Reflow => self.reflow().await.map(|done| match done {
                None => "another instance is reflowing".into(),
                Some(done) => format!("{} territories reflowed", done.len()),
            }),
        };
        match result {
            Ok(what) => tracing::debug!(?job, "{what}"),
            Err(e) => tracing::error!(?job, "scheduler job failed: {e:?}"),
        }
    }

    /// Runs the jobs on their cron expressions until `stop` resolves. A pass of planning and
    /// sending runs at start, so a first run does not wait for the next minute. The stop
    /// reaches the job running then: a send pass finishes the mail in hand, releases the rest
    /// of its batch and returns.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let token = self.stop.clone();
        tokio::select! {
            _ = self.run_jobs() => {}
            _ = async {
                stop.await;
                token.cancel();
                std::future::pending::<()>().await
            } => {}
        }
    }

    async fn run_jobs(&self) {
        tracing::info!(
            "reminder scheduler started; mails go to {}",
            self.mailer.describe()
        );
        self.run_job(Job::Plan).await;
        self.run_job(Job::Send).await;
        let jobs = [
            (Job::Plan, &self.crons.plan),
            (Job::Send, &self.crons.send),
            (Job::Refresh, &self.crons.refresh),
            (Job::Reflow, &self.crons.reflow),
        ];
        let next = |s: &cron::Schedule, after: DateTime<Utc>| s.after(&after).next();
        let mut due: Vec<Option<DateTime<Utc>>> = jobs
            .iter()
            .map(|(_, s)| next(s, self.ctx.clock.now()))
            .collect();
        while let Some((i, at)) = due
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .min_by_key(|(_, d)| *d)
        {
            let wait = (at - self.ctx.clock.now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.stop.cancelled() => break,
            }
            self.run_job(jobs[i].0).await;
            due[i] = next(jobs[i].1, self.ctx.clock.now().max(at));
        }
        tracing::info!("reminder scheduler stopped");
    }
}
