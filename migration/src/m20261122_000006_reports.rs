//! Reports and imports: a readable reference on each placement (quoted in imported statements),
//! the record of each accepted import, and the link from a ledger entry to its import.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::m20261122_000001_first_slice::{fk, index};

const EVALUATION_NOTES: [&str; 4] = [
    "coordination",
    "objectives",
    "economic_partners",
    "qualitative_notes",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("placement")
                    .add_column(string_null("reference"))
                    .to_owned(),
            )
            .await?;
        // Existing placements get their reference here, in Rust, so both stores compute it alike.
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(backend, "SELECT id FROM placement"))
            .await?;
        for row in rows {
            let id: uuid::Uuid = row.try_get("", "id")?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                        "UPDATE placement SET reference = $1 WHERE id = $2"
                    }
                    _ => "UPDATE placement SET reference = ? WHERE id = ?",
                },
                [entity::placement::reference_for(id).into(), id.into()],
            ))
            .await?;
        }
        // The free-text fields of the fiche évaluation ACI (SQLite adds one column per statement).
        for col in EVALUATION_NOTES {
            manager
                .alter_table(
                    Table::alter()
                        .table("chantier")
                        .add_column(text_null(col))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(index("placement", &["reference"], true))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("hour_import")
                    .col(pk_uuid("id"))
                    .col(uuid_null("organization_id"))
                    .col(string_null("file_name"))
                    .col(string("sha256"))
                    .col(integer("line_count"))
                    .col(integer("recorded_count"))
                    .col(integer("unchanged_count"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string("created_by"))
                    .foreign_key(&mut fk("hour_import", "organization_id", "organization"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("hour_entry")
                    .add_column(uuid_null("import_id"))
                    .to_owned(),
            )
            .await?;
        for i in [
            index("hour_entry", &["import_id"], false),
            index("hour_import", &["sha256"], false),
            // Reports group a market's entries by when they were recorded (as at a date).
            index("hour_entry", &["market_id", "recorded_at"], false),
        ] {
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("hour_import").to_owned())
            .await?;
        for col in EVALUATION_NOTES {
            manager
                .alter_table(Table::alter().table("chantier").drop_column(col).to_owned())
                .await?;
        }
        for (table, col) in [("hour_entry", "import_id"), ("placement", "reference")] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
