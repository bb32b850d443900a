//! Keys the deployment draws for itself: when TRACE_SECRET is not configured, the first
//! instance to start draws the key that signs trace tokens and keeps it here, so that every
//! instance on one store signs and checks alike (racing instances insert-if-absent, then read
//! back the one row that won).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("server_secret")
                    .col(string("name").primary_key())
                    .col(text("value"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("server_secret").to_owned())
            .await
    }
}
