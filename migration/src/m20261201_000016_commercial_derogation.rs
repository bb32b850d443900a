//! Derogations to the cap on an ACI's commercial revenue (Code du travail art. D5132-34: the
//! préfet's decision, after the CDIAE's favourable opinion, raises the share up to 50 %), each
//! with its decision's reference and date and the share it allows; granted at the chantier's
//! creation or later. A reference given at creation before this migration is carried over
//! without a date (null: unknown).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::m20261122_000001_first_slice::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("commercial_derogation")
                    .col(pk_uuid("id"))
                    .col(uuid("chantier_id"))
                    .col(string("reference"))
                    .col(date_null("decided_on"))
                    .col(integer("share_bp"))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .col(string("recorded_by"))
                    .foreign_key(&mut fk("commercial_derogation", "chantier_id", "chantier"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("commercial_derogation", &["chantier_id"], false))
            .await?;
        // Existing derogations: the share was the national default (50 %).
        let db = manager.get_connection();
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            "INSERT INTO commercial_derogation (id, chantier_id, reference, decided_on, share_bp, recorded_at, recorded_by) \
             SELECT id, id, commercial_derogation, NULL, 5000, created_at, created_by FROM chantier \
             WHERE commercial_derogation IS NOT NULL",
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("commercial_derogation").to_owned())
            .await
    }
}
