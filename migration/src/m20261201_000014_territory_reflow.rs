//! Territory reflows leave user requests: `setParameter` and `refreshDeadlines` only mark the
//! territory here (in their own transaction), and the scheduler re-derives its deadlines in
//! chunks, one instance at a time. Marks are counted, not timed: a reflow remembers the count
//! it started from, so a mark made while it runs leaves the territory pending.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261122_000001_first_slice::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("territory_reflow")
                    .col(pk_uuid("territory_id"))
                    // Marks made; pending while it exceeds `reflowed`.
                    .col(big_integer("requested").default(0).to_owned())
                    // The `requested` count the last finished reflow started from.
                    .col(big_integer("reflowed").default(0).to_owned())
                    .col(timestamp_with_time_zone_null("requested_at"))
                    // The day (UTC) of the last nightly mark: one nightly pass a day, however
                    // many instances ask.
                    .col(date_null("daily_on"))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("reflowed_at"))
                    .col(big_integer("reflows").default(0).to_owned())
                    .col(big_integer("last_subjects").default(0).to_owned())
                    .col(integer("last_chunks").default(0).to_owned())
                    .foreign_key(&mut fk("territory_reflow", "territory_id", "territory"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("territory_reflow").to_owned())
            .await
    }
}
