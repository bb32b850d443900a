//! Accounts, credentials (sessions and API keys), login throttling, the audit trail, reads of
//! participants' files, and anonymization.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::m20261122_000001_first_slice::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("app_user")
                .col(pk_uuid("id"))
                .col(string_uniq("email"))
                .col(string("password_hash"))
                .col(string("role"))
                .col(uuid_null("organization_id"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("app_user", "organization_id", "organization"))
                .to_owned(),
            Table::create()
                .table("user_territory")
                .col(uuid("user_id"))
                .col(uuid("territory_id"))
                .primary_key(Index::create().col("user_id").col("territory_id"))
                .foreign_key(&mut fk("user_territory", "user_id", "app_user"))
                .foreign_key(&mut fk("user_territory", "territory_id", "territory"))
                .to_owned(),
            Table::create()
                .table("credential")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("kind"))
                .col(string_uniq("token_hash"))
                .col(string_null("label"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("credential", "user_id", "app_user"))
                .to_owned(),
            Table::create()
                .table("login_failure")
                .col(pk_uuid("id"))
                .col(string("email"))
                .col(string("address"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
            Table::create()
                .table("audit_event")
                .col(pk_uuid("id"))
                .col(uuid_null("actor_id"))
                .col(string("actor_label"))
                .col(string("action"))
                .col(string("object_type"))
                .col(uuid("object_id"))
                .col(uuid_null("territory_id"))
                .col(text_null("before"))
                .col(text_null("after"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
            Table::create()
                .table("participant_access")
                .col(pk_uuid("id"))
                .col(uuid("participant_id"))
                .col(uuid_null("user_id"))
                .col(string("actor_label"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk(
                    "participant_access",
                    "participant_id",
                    "participant",
                ))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("participant")
                    .add_column(timestamp_with_time_zone_null("anonymized_at"))
                    .to_owned(),
            )
            .await?;
        for (table, cols) in [
            ("credential", vec!["user_id"]),
            ("login_failure", vec!["email", "at"]),
            ("login_failure", vec!["address", "at"]),
            ("audit_event", vec!["object_id"]),
            ("audit_event", vec!["actor_id", "at"]),
            ("participant_access", vec!["participant_id"]),
        ] {
            let mut idx = Index::create();
            idx.name(format!("ix_{table}_{}", cols.join("_")))
                .table(table);
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }
        // The audit trail and the reads of personal files may only grow.
        let db = manager.get_connection();
        for table in ["audit_event", "participant_access"] {
            let sqls = crate::m20261122_000001_first_slice::append_only_sql(
                manager.get_database_backend(),
                table,
            );
            for sql in sqls {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "participant_access",
            "audit_event",
            "login_failure",
            "credential",
            "user_territory",
            "app_user",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("participant")
                    .drop_column("anonymized_at")
                    .to_owned(),
            )
            .await
    }
}
