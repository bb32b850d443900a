//! Import history (issue 20, point 6): an upload of monthly statements leaves a row whether it
//! is accepted or refused. A refused file keeps its hash, its counts and its errors (capped like
//! the answer), written in a short transaction of its own after the refusal rolled back; it
//! writes no hour. Each import names the territories of the placements it touched, which is
//! what a facilitator's view of the history goes by.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261122_000001_first_slice::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            ColumnDef::new(Alias::new("status"))
                .string()
                .not_null()
                .default("ACCEPTED")
                .to_owned(),
            ColumnDef::new(Alias::new("error_count"))
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Alias::new("errors"))
                .text()
                .null()
                .to_owned(),
        ];
        for mut col in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("hour_import"))
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("hour_import_territory")
                    .col(uuid("import_id"))
                    .col(uuid("territory_id"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("import_id"))
                            .col(Alias::new("territory_id")),
                    )
                    .foreign_key(&mut fk("hour_import_territory", "import_id", "hour_import"))
                    .foreign_key(&mut fk(
                        "hour_import_territory",
                        "territory_id",
                        "territory",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("hour_import_territory", &["territory_id"], false))
            .await?;
        manager
            .create_index(index("hour_import", &["organization_id"], false))
            .await?;
        // Existing imports were all accepted; their territories are those of their entries.
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO hour_import_territory (import_id, territory_id) \
             SELECT DISTINCT e.import_id, COALESCE(m.territory_id, c.territory_id) \
             FROM hour_entry e JOIN placement p ON p.id = e.placement_id \
             LEFT JOIN market m ON m.id = p.market_id \
             LEFT JOIN chantier c ON c.id = p.chantier_id \
             WHERE e.import_id IS NOT NULL AND COALESCE(m.territory_id, c.territory_id) IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("hour_import_territory").to_owned())
            .await?;
        for col in ["errors", "error_count", "status"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("hour_import"))
                        .drop_column(Alias::new(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
