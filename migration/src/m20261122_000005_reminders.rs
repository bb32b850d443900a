//! Reminders: the outbox of e-mails planned from deadlines, and each user's preferences.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261122_000001_first_slice::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table("reminder")
            .col(pk_uuid("id"))
            // One row per (deadline, due date, offset, recipient), or per digest, or per notice.
            .col(string_uniq("dedupe_key"))
            .col(string("kind"))
            .col(uuid("territory_id"))
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
            .foreign_key(&mut fk("reminder", "territory_id", "territory"))
            .foreign_key(&mut fk("reminder", "deadline_id", "deadline"))
            .foreign_key(&mut fk("reminder", "commission_id", "commission"))
            .foreign_key(&mut fk("reminder", "user_id", "app_user"))
            .foreign_key(&mut fk("reminder", "digest_id", "reminder"))
            .to_owned(),
        Table::create()
            .table("reminder_preference")
            .col(pk_uuid("user_id"))
            .col(string("delivery"))
            .col(string("muted_rules"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("reminder_preference", "user_id", "app_user"))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("reminder", &["status", "next_attempt_at"], false),
        index("reminder", &["deadline_id"], false),
        index("reminder", &["user_id"], false),
        index("reminder", &["digest_id"], false),
        index("deadline", &["planned_revision"], false),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A deadline's reminders are planned when `planned_revision` lags `revision`.
        for col in [
            ColumnDef::new("revision")
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new("planned_revision")
                .integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("deadline")
                        .add_column(col.to_owned())
                        .to_owned(),
                )
                .await?;
        }
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["reminder_preference", "reminder"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for col in ["planned_revision", "revision"] {
            manager
                .alter_table(Table::alter().table("deadline").drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
