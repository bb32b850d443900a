//! The scheduler: jobs on cron expressions (planning and digests, sending, the nightly refresh),
//! run inside `passerelle serve` or alone with `passerelle scheduler`. Several may run on one
//! PostgreSQL: planning is idempotent, sending claims rows, digests have unique keys.
//! Time is the injected clock's; tests call `tick` (or one job) directly.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::territory;
use sea_orm::EntityTrait;
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

#[derive(Clone)]
pub struct Scheduler {
    pub ctx: Ctx,
    pub settings: Settings,
    pub mailer: Mailer,
    pub crons: Crons,
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
    pub fn new(ctx: Ctx, c: &MailConfig) -> Result<Self, String> {
        Ok(Scheduler {
            ctx,
            settings: Settings::from_config(c),
            mailer: Mailer::from_config(c)?,
            crons: Crons::from_config(c)?,
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

    /// Takes back dead claims, then claims and sends due mails batch after batch.
    pub async fn send(&self) -> AppResult<Report> {
        let (ctx, s) = (&self.ctx, &self.settings);
        let mut report = Report {
            released: outbox::sweep(ctx, s).await?,
            ..Default::default()
        };
        let open = self.open_territories().await?;
        let margin = s.lease / 10;
        loop {
            let rows = outbox::claim(ctx, s, &open).await?;
            let full = rows.len() as u64 == s.batch;
            // After a failure of the server itself, the rest of the batch waits as long as the
            // mail that failed; when the lease runs short, the rest goes back at once.
            let mut broken: Option<(String, DateTime<Utc>)> = None;
            for row in &rows {
                let now = ctx.clock.now();
                let outcome = if let Some((why, retry_at)) = &broken {
                    Outcome::Released {
                        why: why.clone(),
                        retry_at: *retry_at,
                    }
                } else if !outbox::lease_left(row, now, margin) {
                    let why = "bail presque écoulé (lease nearly over)".to_string();
                    broken = Some((why.clone(), now));
                    Outcome::Released { why, retry_at: now }
                } else {
                    match compose(ctx, s, row).await {
                        Ok(Composed::Mail(m)) => {
                            match self.mailer.send(&row.id.to_string(), &m).await {
                                Ok(()) => Outcome::Sent,
                                Err(e) => {
                                    if !e.permanent {
                                        let wait = backoff(row.attempts, s.retry_base, s.retry_max);
                                        broken = Some((
                                            format!("non tenté : {}", e.message),
                                            ctx.clock.now() + wait,
                                        ));
                                    }
                                    Outcome::Failed {
                                        error: e.message,
                                        permanent: e.permanent,
                                    }
                                }
                            }
                        }
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
                };
                let released = matches!(outcome, Outcome::Released { .. });
                match outbox::settle(ctx, s, row, outcome).await? {
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
            if !full || broken.is_some() {
                break;
            }
        }
        Ok(report)
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
    /// sending runs at start, so a first run does not wait for the next minute.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
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
        tokio::pin!(stop);
        while let Some((i, at)) = due
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .min_by_key(|(_, d)| *d)
        {
            let wait = (at - self.ctx.clock.now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut stop => break,
            }
            self.run_job(jobs[i].0).await;
            due[i] = next(jobs[i].1, self.ctx.clock.now().max(at));
        }
        tracing::info!("reminder scheduler stopped");
    }
}
