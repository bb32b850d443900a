//! Reminders by e-mail through an outbox (ARCHITECTURE.md): `plan` turns deadlines into rows
//! planned ahead, `digest` gathers the rows of users who chose a digest, `outbox` claims, leases
//! and settles rows, `compose` writes the French mails, `mailer` sends them (SMTP or `.eml`
//! files), `scheduler` runs it all on cron expressions. This module is what the API reads.

pub mod compose;
pub mod digest;
pub mod mailer;
pub mod outbox;
pub mod plan;
pub mod scheduler;

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::Duration;
use entity::{deadline, reminder, reminder_preference};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, scope};
use crate::config::MailConfig;
use crate::domain::auth::{Actor, Role};
use crate::domain::deadlines::DeadlineRule;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::reminders::{Delivery, ReminderKind, ReminderStatus};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// How the outbox behaves: leases, retries, batch size, sender, links.
#[derive(Debug, Clone)]
pub struct Settings {
    pub lease: Duration,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub batch: u64,
    /// Who claims rows: unique per process, so a late sender cannot settle another's claim.
    pub instance: String,
    pub from: String,
    pub app_url: String,
}

impl Settings {
    pub fn from_config(c: &MailConfig) -> Self {
        Settings {
            lease: Duration::seconds(c.lease_seconds.max(1)),
            max_attempts: c.max_attempts.max(1),
            retry_base: Duration::seconds(c.retry_seconds.max(1)),
            retry_max: Duration::seconds(c.retry_max_seconds.max(1)),
            batch: c.batch.max(1),
            instance: format!("{}-{}", std::process::id(), Uuid::new_v4().simple()),
            from: c.mail_from.clone(),
            app_url: crate::config::app_url(&c.app_url)
                .unwrap_or_else(|_| c.app_url.trim().trim_end_matches('/').to_string()),
        }
    }
}

/// A new outbox row to `email`, planned at `send_at`; callers set what else they know. An
/// account mail (`territory` `None`) waits for no office hours.
pub fn new_row(
    ctx: &Ctx,
    kind: ReminderKind,
    key: String,
    territory: Option<Uuid>,
    email: String,
    send_at: chrono::DateTime<chrono::Utc>,
) -> reminder::ActiveModel {
    let now = ctx.clock.now();
    let id = ctx.clock.new_id();
    reminder::ActiveModel {
        id: Set(id),
        dedupe_key: Set(key),
        kind: Set(kind.as_str().into()),
        territory_id: Set(territory),
        deadline_id: Set(None),
        commission_id: Set(None),
        sequence: Set(None),
        offset_days: Set(None),
        due_on: Set(None),
        user_id: Set(None),
        recipient_email: Set(email),
        recipient_name: Set(None),
        recipient_role: Set(None),
        via_digest: Set(false),
        digest_id: Set(None),
        send_at: Set(send_at),
        status: Set(ReminderStatus::Planned.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(send_at),
        lease_until: Set(None),
        claimed_by: Set(None),
        message_id: Set(message_id(id)),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Rows still to go out, by themselves or in a digest.
pub fn pending() -> Condition {
    Condition::all()
        .add(reminder::Column::Status.is_in(ReminderStatus::PENDING.map(|s| s.as_str())))
}

/// A stable Message-ID (without its angle brackets): the same on every attempt.
pub fn message_id(id: Uuid) -> String {
    format!("rappel-{id}@passerelle")
}

/// A user's choices; someone without an account gets one mail per reminder, every rule.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(name = "ReminderPreferences")]
pub struct Preferences {
    pub delivery: Delivery,
    /// Rules the user gets no reminder of.
    pub muted: Vec<DeadlineRule>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            delivery: Delivery::Single,
            muted: Vec::new(),
        }
    }
}

impl Preferences {
    pub fn of(row: &reminder_preference::Model) -> Self {
        Preferences {
            delivery: Delivery::parse(&row.delivery).unwrap_or(Delivery::Single),
            muted: row
                .muted_rules
                .split(',')
                .filter_map(|r| DeadlineRule::parse(r.trim()))
                .collect(),
        }
    }
}

/// Marks deadlines to be planned again (after a parameter or a preference changed).
pub async fn replan<C: ConnectionTrait>(conn: &C, which: Condition) -> AppResult<u64> {
    Ok(deadline::Entity::update_many()
        .col_expr(
            deadline::Column::PlannedRevision,
            Expr::value(Option::<i32>::None),
        )
        .filter(which)
        .exec(conn)
        .await?
        .rows_affected)
}

/// Reminders an actor may see: administrators all, facilitators their territories, others
/// their own. Account mails (reset and invitation links, no territory) are no one's to list:
/// `outboxHealth` counts them.
fn visible(actor: &Actor) -> AppResult<Condition> {
    let reminders = Condition::all().add(reminder::Column::TerritoryId.is_not_null());
    match actor.role {
        None | Some(Role::Admin) => Ok(reminders),
        Some(Role::Facilitator) => {
            Ok(reminders
                .add(reminder::Column::TerritoryId.is_in(actor.territories.iter().copied())))
        }
        Some(_) => {
            let me = actor.user_id.ok_or(AppError::Forbidden)?;
            Ok(reminders.add(reminder::Column::UserId.eq(me)))
        }
    }
}

#[derive(Debug, Default, InputObject)]
pub struct ReminderFilter {
    pub deadline_id: Option<ID>,
    pub user_id: Option<ID>,
    pub status: Option<ReminderStatus>,
}

/// Reminders in scope, in planning order, paged.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: ReminderFilter,
    args: PageArgs,
) -> AppResult<Page<reminder::Model>> {
    let mut q = reminder::Entity::find().filter(visible(actor)?);
    q = page::by_id(
        q,
        reminder::Column::DeadlineId,
        Kind::Deadline,
        filter.deadline_id.as_ref(),
        "filter.deadlineId",
    )?;
    q = page::by_id(
        q,
        reminder::Column::UserId,
        Kind::User,
        filter.user_id.as_ref(),
        "filter.userId",
    )?;
    if let Some(s) = filter.status {
        q = q.filter(reminder::Column::Status.eq(s.as_str()));
    }
    page::fetch(&ctx.db.conn, q, reminder::Column::Id, &args).await
}

/// The reminders of one deadline the caller already sees.
pub async fn of_deadline(ctx: &Ctx, actor: &Actor, id: Uuid) -> AppResult<Vec<reminder::Model>> {
    Ok(reminder::Entity::find()
        .filter(visible(actor)?)
        .filter(reminder::Column::DeadlineId.eq(id))
        .all(&ctx.db.conn)
        .await?)
}

fn me(actor: &Actor) -> AppResult<Uuid> {
    actor.user_id.ok_or_else(AppError::unauthenticated)
}

pub async fn preferences(ctx: &Ctx, actor: &Actor) -> AppResult<Preferences> {
    let row = reminder_preference::Entity::find_by_id(me(actor)?)
        .one(&ctx.db.conn)
        .await?;
    Ok(row.as_ref().map(Preferences::of).unwrap_or_default())
}

#[derive(Debug, InputObject)]
pub struct ReminderPreferencesInput {
    pub delivery: Delivery,
    /// Rules to get no reminder of; empty for all.
    #[graphql(default)]
    pub muted: Vec<DeadlineRule>,
}

/// Sets the caller's choices; their pending reminders are planned again to follow them.
pub async fn set_preferences(
    ctx: &Ctx,
    actor: &Actor,
    input: ReminderPreferencesInput,
) -> AppResult<Preferences> {
    let user = me(actor)?;
    let mut muted = input.muted;
    muted.sort();
    muted.dedup();
    let stored = muted
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let txn = ctx.db.begin_write().await?;
    let before = reminder_preference::Entity::find_by_id(user)
        .one(&txn.txn)
        .await?;
    let row = reminder_preference::ActiveModel {
        user_id: Set(user),
        delivery: Set(input.delivery.as_str().into()),
        muted_rules: Set(stored),
        updated_at: Set(ctx.clock.now()),
    };
    let row = if before.is_some() {
        sea_orm::ActiveModelTrait::update(row, &txn.txn).await?
    } else {
        sea_orm::ActiveModelTrait::insert(row, &txn.txn).await?
    };
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "setReminderPreferences",
        Kind::User,
        user,
        None,
        before.as_ref().map(audit::json).as_ref(),
        Some(&audit::json(&row)),
    )
    .await?;
    // The deadlines this user is reminded of, planned again with the new choice: those of
    // their role (territory, organization), those naming their address, those already
    // reminding them.
    let mut theirs = Condition::any()
        .add(deadline::Column::Recipients.like(format!(
            "%\"email\":\"{}\"%",
            actor.label.replace(['%', '_'], "")
        )))
        .add(
            deadline::Column::Id.in_subquery(
                reminder::Entity::find()
                    .select_only()
                    .column(reminder::Column::DeadlineId)
                    .filter(reminder::Column::UserId.eq(user))
                    .into_query(),
            ),
        );
    if !actor.is(Role::Admin) {
        theirs = theirs.add(scope::deadlines(actor)?);
    }
    replan(
        &txn.txn,
        Condition::all()
            .add(deadline::Column::Status.eq(DeadlineStatus::Open.as_str()))
            .add(theirs),
    )
    .await?;
    txn.commit().await?;
    Ok(Preferences::of(&row))
}

/// Puts a dead (or failing) reminder back in the queue, to go out at the next pass.
pub async fn resend(ctx: &Ctx, actor: &Actor, id: &ID) -> AppResult<reminder::Model> {
    if !actor.any_of(&[Role::Admin, Role::Facilitator]) {
        return Err(AppError::Forbidden);
    }
    let id = ids::decode(Kind::Reminder, id, "id")?;
    let txn = ctx.db.begin_write().await?;
    let row = scope::load::<reminder::Entity, _>(
        &txn.txn,
        visible(actor)?,
        reminder::Column::Id,
        id,
        "rappel",
    )
    .await?;
    let status = ReminderStatus::from_db(&row.status);
    if !matches!(status, ReminderStatus::Dead | ReminderStatus::Failed) {
        return Err(AppError::Conflict(format!(
            "id : seul un rappel en échec (DEAD ou FAILED) se renvoie ; celui-ci est {status} \
             (only a dead or failed reminder can be resent)"
        )));
    }
    let now = ctx.clock.now();
    let updated = sea_orm::ActiveModelTrait::update(
        reminder::ActiveModel {
            id: Set(row.id),
            status: Set(ReminderStatus::Planned.as_str().into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_until: Set(None),
            claimed_by: Set(None),
            updated_at: Set(now),
            ..Default::default()
        },
        &txn.txn,
    )
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "resendReminder",
        Kind::Reminder,
        row.id,
        row.territory_id,
        Some(&audit::json(&row)),
        Some(&audit::json(&updated)),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// The outbox at a glance, for operators.
#[derive(Debug, SimpleObject)]
pub struct OutboxHealth {
    /// Waiting for their time (alone or for a digest).
    pub planned: u64,
    /// Their time has come: the next pass sends them (if the office is open).
    pub due: u64,
    /// Due for more than an hour: senders are down, or every office is closed.
    pub late: u64,
    /// Claimed by a sender now.
    pub sending: u64,
    /// Failed at least once; tried again after a back-off.
    pub failed: u64,
    /// Given up on: to look at, then resend.
    pub dead: u64,
    /// Sent in the last 24 hours.
    pub sent_last_day: u64,
    /// The oldest planned time among those still to go out.
    pub oldest_due_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn health(ctx: &Ctx, actor: &Actor) -> AppResult<OutboxHealth> {
    if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    let conn = &ctx.db.conn;
    let now = ctx.clock.now();
    let waiting = || reminder::Entity::find().filter(pending());
    let status = |s: ReminderStatus| {
        reminder::Entity::find().filter(reminder::Column::Status.eq(s.as_str()))
    };
    let due = || {
        waiting()
            .filter(reminder::Column::ViaDigest.eq(false))
            .filter(reminder::Column::NextAttemptAt.lte(now))
    };
    let oldest = {
        use sea_orm::QueryOrder;
        waiting()
            .select_only()
            .column(reminder::Column::NextAttemptAt)
            .filter(reminder::Column::ViaDigest.eq(false))
            .order_by_asc(reminder::Column::NextAttemptAt)
            .into_tuple::<chrono::DateTime<chrono::Utc>>()
            .one(conn)
            .await?
    };
    Ok(OutboxHealth {
        planned: waiting().count(conn).await?,
        due: due().count(conn).await?,
        late: due()
            .filter(reminder::Column::NextAttemptAt.lt(now - Duration::hours(1)))
            .count(conn)
            .await?,
        sending: status(ReminderStatus::Sending).count(conn).await?,
        failed: status(ReminderStatus::Failed).count(conn).await?,
        dead: status(ReminderStatus::Dead).count(conn).await?,
        sent_last_day: status(ReminderStatus::Sent)
            .filter(reminder::Column::SentAt.gte(now - Duration::days(1)))
            .count(conn)
            .await?,
        oldest_due_at: oldest,
    })
}
