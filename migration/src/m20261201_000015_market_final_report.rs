//! The final report of a market (DOMAIN.md section 3: closing needs it produced): who produced
//! it, when, and the figures as they stood, with the size of the ledger they were made from so
//! that a later entry or decision shows the report is no longer the last word. Versions: a
//! facilitator may produce it again after a late correction; the close reads the last one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261122_000001_first_slice::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("market_final_report")
                    .col(pk_uuid("id"))
                    .col(uuid("market_id"))
                    .col(integer("version"))
                    .col(date("as_at"))
                    .col(timestamp_with_time_zone("produced_at"))
                    .col(string("produced_by"))
                    .col(big_integer_null("target_minutes"))
                    .col(big_integer("counted_minutes"))
                    .col(big_integer("validated_minutes"))
                    .col(big_integer("pending_minutes"))
                    .col(big_integer("pending_deductions_minutes"))
                    .col(big_integer("rejected_minutes"))
                    .col(big_integer_null("completion_bp"))
                    .col(boolean("training_counts"))
                    // The ledger the figures were made from (it only grows).
                    .col(big_integer("entry_count"))
                    .col(big_integer("review_count"))
                    // By kind and by modality, as the report showed them (JSON).
                    .col(text("figures"))
                    .foreign_key(&mut fk("market_final_report", "market_id", "market"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "market_final_report",
                &["market_id", "version"],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("market_final_report").to_owned())
            .await
    }
}
