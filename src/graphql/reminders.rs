//! Reminders in the API: their state per deadline and per user, resending a dead one, each
//! user's preferences, and the outbox's health for administrators.

use async_graphql::{Context, ErrorExtensions, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::reminder;

use super::access::actor;
use super::connection::{self, Conn, app};
use super::loaders::territory_of;
use super::party::Territory;
use super::workflow::Deadline;
use crate::domain::deadlines::Recipient;
use crate::domain::reminders::{ReminderKind, ReminderStatus};
use crate::ids::{self, Kind};
use crate::service;
use crate::service::reminders::{
    OutboxHealth, Preferences, ReminderFilter, ReminderPreferencesInput,
};

/// Rappel: one mail of the outbox and where it stands.
pub struct Reminder(pub reminder::Model);

impl Reminder {
    /// Listed reminders all have one (`visible` leaves account mails out).
    fn territory_id(&self) -> async_graphql::Result<uuid::Uuid> {
        self.0.territory_id.ok_or_else(|| {
            crate::error::AppError::Internal(format!("account mail {} listed", self.0.id)).extend()
        })
    }
}

#[Object]
impl Reminder {
    async fn id(&self) -> ID {
        ids::encode(Kind::Reminder, self.0.id)
    }
    async fn kind(&self) -> ReminderKind {
        ReminderKind::from_db(&self.0.kind)
    }
    /// PLANNED, SENDING, SENT, FAILED (tried again later), DEAD, CANCELLED, DIGESTED.
    async fn status(&self) -> ReminderStatus {
        ReminderStatus::from_db(&self.0.status)
    }
    /// The deadline it reminds of, when the caller may see it.
    async fn deadline(&self, ctx: &Context<'_>) -> Result<Option<Deadline>> {
        let Some(id) = self.0.deadline_id else {
            return Ok(None);
        };
        let views = service::deadlines::visible_views(app(ctx), actor(ctx)?, &[id]).await?;
        Ok(views.into_iter().next().map(Deadline))
    }
    /// Days before the due date (negative: after); for a digest, the days it covers.
    async fn offset_days(&self) -> Option<i32> {
        self.0.offset_days
    }
    async fn due_on(&self) -> Option<NaiveDate> {
        self.0.due_on
    }
    async fn recipient_email(&self) -> &str {
        &self.0.recipient_email
    }
    async fn recipient_name(&self) -> Option<&str> {
        self.0.recipient_name.as_deref()
    }
    async fn recipient_role(&self) -> Option<Recipient> {
        self.0.recipient_role.as_deref().and_then(Recipient::parse)
    }
    /// The account it goes to, when the address is one.
    async fn user_id(&self) -> Option<ID> {
        self.0.user_id.map(|u| ids::encode(Kind::User, u))
    }
    /// Goes out inside the recipient's digest.
    async fn via_digest(&self) -> bool {
        self.0.via_digest
    }
    /// When it is planned to go out (UTC).
    async fn send_at(&self) -> DateTime<Utc> {
        self.0.send_at
    }
    /// The same, on the territory's clock (`2026-12-01T09:00:00+04:00`).
    async fn local_send_at(&self, ctx: &Context<'_>) -> Result<String> {
        let t = territory_of(ctx, self.territory_id()?).await?;
        let tz = service::territory::time_zone(&t);
        Ok(self.0.send_at.with_timezone(&tz).to_rfc3339())
    }
    async fn territory(&self, ctx: &Context<'_>) -> Result<Territory> {
        Ok(Territory(territory_of(ctx, self.territory_id()?).await?))
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt may be made.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    /// The Message-ID the mail carries, the same on every attempt.
    async fn message_id(&self) -> String {
        format!("<{}>", self.0.message_id)
    }
}

#[derive(Default)]
pub struct ReminderQuery;

#[Object]
impl ReminderQuery {
    /// Reminders in the caller's scope (administrators: all; facilitators: their territories;
    /// others: their own), in planning order.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn reminders(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReminderFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Reminder>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::reminders::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
                .await?;
        Ok(connection::connection(page, had, |m| m.id, Reminder))
    }

    /// How the caller wants reminders.
    async fn my_reminder_preferences(&self, ctx: &Context<'_>) -> Result<Preferences> {
        Ok(service::reminders::preferences(app(ctx), actor(ctx)?).await?)
    }

    /// The outbox at a glance (administrators).
    async fn outbox_health(&self, ctx: &Context<'_>) -> Result<OutboxHealth> {
        Ok(service::reminders::health(app(ctx), actor(ctx)?).await?)
    }
}

#[derive(Default)]
pub struct ReminderMutation;

#[Object]
impl ReminderMutation {
    /// One mail per reminder, or a daily or weekly digest; rules to be left out of.
    async fn set_reminder_preferences(
        &self,
        ctx: &Context<'_>,
        input: ReminderPreferencesInput,
    ) -> Result<Preferences> {
        Ok(service::reminders::set_preferences(app(ctx), actor(ctx)?, input).await?)
    }

    /// Puts a dead or failed reminder back in the queue; it goes out at the next pass.
    async fn resend_reminder(&self, ctx: &Context<'_>, id: ID) -> Result<Reminder> {
        Ok(Reminder(
            service::reminders::resend(app(ctx), actor(ctx)?, &id).await?,
        ))
    }
}
