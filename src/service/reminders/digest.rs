//! Digests: a user who chose a daily or weekly digest gets one mail, at the digest time of the
//! territory's local clock, with every reminder of the period ahead, instead of one mail each.
//! The digest is an outbox row like any other; its reminders point at it as DIGESTED, in the
//! same transaction, so each reminder is in exactly one digest.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use entity::{reminder, reminder_preference, territory};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::Preferences;
use crate::domain::reminders::{Delivery, ReminderKind, ReminderStatus, digest_key, last_fire};
use crate::error::AppResult;
use crate::service::Ctx;

/// Makes the digests whose time has come in each territory; returns how many.
pub async fn run(ctx: &Ctx, daily: &cron::Schedule, weekly: &cron::Schedule) -> AppResult<usize> {
    let now = ctx.clock.now();
    let mut made = 0;
    for t in territory::Entity::find().all(&ctx.db.conn).await? {
        let tz = crate::service::territory::time_zone(&t);
        for (delivery, schedule) in [(Delivery::Daily, daily), (Delivery::Weekly, weekly)] {
            // After an outage, the latest fire of the last week stands for the ones missed.
            let Some(fire) = last_fire(schedule, tz, now, Duration::days(7)) else {
                continue;
            };
            let until = fire.with_timezone(&chrono::Utc) + delivery.horizon();
            let rows = reminder::Entity::find()
                .filter(reminder::Column::TerritoryId.eq(t.id))
                .filter(reminder::Column::ViaDigest.eq(true))
                .filter(reminder::Column::DigestId.is_null())
                .filter(super::pending())
                .filter(reminder::Column::SendAt.lt(until))
                .order_by_asc(reminder::Column::SendAt)
                .all(&ctx.db.conn)
                .await?;
            let mut by_user: BTreeMap<Uuid, Vec<reminder::Model>> = BTreeMap::new();
            for r in rows {
                if let Some(u) = r.user_id {
                    by_user.entry(u).or_default().push(r);
                }
            }
            let prefs: HashMap<Uuid, Preferences> = reminder_preference::Entity::find()
                .filter(reminder_preference::Column::UserId.is_in(by_user.keys().copied()))
                .all(&ctx.db.conn)
                .await?
                .iter()
                .map(|p| (p.user_id, Preferences::of(p)))
                .collect();
            for (user, rows) in by_user {
                if prefs.get(&user).map(|p| p.delivery) != Some(delivery) {
                    continue;
                }
                let key = digest_key(user, t.id, fire.date_naive());
                made += make(
                    ctx,
                    t.id,
                    user,
                    key,
                    fire.with_timezone(&chrono::Utc),
                    delivery,
                    &rows,
                )
                .await?;
            }
        }
    }
    Ok(made)
}

async fn make(
    ctx: &Ctx,
    territory: Uuid,
    user: Uuid,
    key: String,
    at: chrono::DateTime<chrono::Utc>,
    delivery: Delivery,
    rows: &[reminder::Model],
) -> AppResult<usize> {
    let now = ctx.clock.now();
    let txn = ctx.db.begin_write().await?;
    let mut digest = super::new_row(
        ctx,
        ReminderKind::Digest,
        key,
        Some(territory),
        rows[0].recipient_email.clone(),
        at,
    );
    // A digest's offset is the number of days it covers.
    digest.offset_days = Set(Some(delivery.horizon().num_days() as i32));
    digest.user_id = Set(Some(user));
    digest.recipient_name = Set(rows[0].recipient_name.clone());
    digest.next_attempt_at = Set(at.max(now));
    let id = digest.id.clone().unwrap();
    let inserted = reminder::Entity::insert(digest)
        .on_conflict(
            OnConflict::column(reminder::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&*txn)
        .await?;
    if inserted == 0 {
        // Another instance made this digest; its reminders are in it.
        return Ok(0);
    }
    reminder::Entity::update_many()
        .set(reminder::ActiveModel {
            status: Set(ReminderStatus::Digested.as_str().into()),
            digest_id: Set(Some(id)),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(reminder::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .filter(reminder::Column::DigestId.is_null())
        .filter(super::pending())
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(1)
}
