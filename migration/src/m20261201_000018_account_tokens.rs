//! Accounts managed without SQL: single-use links mailed to reset a password or accept an
//! invitation (`account_token`, the secret kept only as its SHA-256), and account mails in the
//! outbox, which belong to no territory (`reminder.territory_id` becomes nullable).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::m20261122_000001_first_slice::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The outbox table as 000005 made it, under `name`, with `territory_id` nullable or not.
fn reminder_table(name: &'static str, territory_null: bool) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_uuid("id"))
        .col(string_uniq("dedupe_key"))
        .col(string("kind"))
        .col(if territory_null {
            uuid_null("territory_id")
        } else {
            uuid("territory_id")
        })
        .col(uuid_null("deadline_id"))
        .col(uuid_null("commission_id"))
        .col(integer_null("sequence"))
        .col(integer_null("offset_days"))
        .col(date_null("due_on"))
        .col(uuid_null("user_id"))
        .col(string("recipient_email"))
        .col(string_null("recipient_name"))
        .col(string_null("recipient_role"))
        .col(boolean("via_digest"))
        .col(uuid_null("digest_id"))
        .col(timestamp_with_time_zone("send_at"))
        .col(string("status"))
        .col(integer("attempts"))
        .col(timestamp_with_time_zone("next_attempt_at"))
        .col(timestamp_with_time_zone_null("lease_until"))
        .col(string_null("claimed_by"))
        .col(string("message_id"))
        .col(text_null("last_error"))
        .col(timestamp_with_time_zone_null("sent_at"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .foreign_key(&mut fk(name, "territory_id", "territory"))
        .foreign_key(&mut fk(name, "deadline_id", "deadline"))
        .foreign_key(&mut fk(name, "commission_id", "commission"))
        .foreign_key(&mut fk(name, "user_id", "app_user"))
        // Renaming the table renames this reference with it (SQLite ≥ 3.26).
        .foreign_key(&mut fk(name, "digest_id", name))
        .to_owned()
}

const COLUMNS: &str = "id, dedupe_key, kind, territory_id, deadline_id, commission_id, sequence, \
     offset_days, due_on, user_id, recipient_email, recipient_name, recipient_role, via_digest, \
     digest_id, send_at, status, attempts, next_attempt_at, lease_until, claimed_by, message_id, \
     last_error, sent_at, created_at, updated_at";

fn reminder_indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("reminder", &["status", "next_attempt_at"], false),
        index("reminder", &["deadline_id"], false),
        index("reminder", &["user_id"], false),
        index("reminder", &["digest_id"], false),
    ]
}

/// SQLite cannot change a column's nullability: the table is rebuilt (new table, copy, drop,
/// rename, indexes), inside the migration's transaction.
async fn rebuild_reminder(manager: &SchemaManager<'_>, territory_null: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    manager
        .create_table(reminder_table("reminder_new", territory_null))
        .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO reminder_new ({COLUMNS}) SELECT {COLUMNS} FROM reminder"
    ))
    .await?;
    db.execute_unprepared("DROP TABLE reminder").await?;
    db.execute_unprepared("ALTER TABLE reminder_new RENAME TO reminder")
        .await?;
    for i in reminder_indexes() {
        manager.create_index(i).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The rebuild of `reminder` on SQLite is all or nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE reminder ALTER COLUMN territory_id DROP NOT NULL",
                    )
                    .await?;
            }
            _ => rebuild_reminder(manager, true).await?,
        }
        manager
            .create_table(
                Table::create()
                    .table("account_token")
                    .col(pk_uuid("id"))
                    // RESET or INVITE.
                    .col(string("purpose"))
                    .col(uuid("user_id"))
                    // SHA-256 of the secret, hex; the secret itself is never stored.
                    .col(string_uniq("token_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    // The outbox row that mails the link.
                    .col(uuid_null("mail_id"))
                    .foreign_key(&mut fk("account_token", "user_id", "app_user"))
                    .foreign_key(&mut fk("account_token", "mail_id", "reminder"))
                    .to_owned(),
            )
            .await?;
        for i in [
            index("account_token", &["user_id"], false),
            index("account_token", &["mail_id"], false),
        ] {
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("account_token").to_owned())
            .await?;
        let db = manager.get_connection();
        // Account mails have no territory to go back to.
        db.execute_unprepared("DELETE FROM reminder WHERE territory_id IS NULL")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE reminder ALTER COLUMN territory_id SET NOT NULL",
                )
                .await?;
                Ok(())
            }
            _ => rebuild_reminder(manager, false).await,
        }
    }
}
