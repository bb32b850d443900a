//! Parameters, chantiers (supervisors, budgets, funding), eligibility and PASS IAE,
//! immersions, exits and their follow-up.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261122_000001_first_slice::{append_only_sql, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows that are only ever added: parameter changes, budget versions, eligibility records.
const APPEND_ONLY: [&str; 6] = [
    "parameter_value",
    "chantier_budget",
    "budget_line",
    "eligibility",
    "eligibility_proof",
    "pass_iae_extension",
];

fn created(t: &mut TableCreateStatement) -> TableCreateStatement {
    t.col(timestamp_with_time_zone("created_at"))
        .col(string("created_by"))
        .to_owned()
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        created(
            Table::create()
                .table("parameter_value")
                .col(pk_uuid("id"))
                .col(string("key"))
                .col(string("level"))
                .col(uuid("scope_id"))
                .col(uuid("territory_id"))
                .col(string_null("value"))
                .col(date("effective_from"))
                .col(text_null("reason"))
                .foreign_key(&mut fk("parameter_value", "territory_id", "territory")),
        ),
        created(
            Table::create()
                .table("chantier")
                .col(pk_uuid("id"))
                .col(uuid("territory_id"))
                .col(string("title"))
                .col(text("search_text"))
                .col(string("kind"))
                .col(uuid("carrier_id"))
                .col(uuid("owner_id"))
                .col(uuid_null("operation_id"))
                .col(uuid_null("market_id"))
                .col(string("place"))
                .col(date("start_date"))
                .col(date("end_date"))
                .col(integer("capacity"))
                .col(text("activities"))
                .col(string("status"))
                .col(string_null("commercial_derogation"))
                .foreign_key(&mut fk("chantier", "territory_id", "territory"))
                .foreign_key(&mut fk("chantier", "carrier_id", "organization"))
                .foreign_key(&mut fk("chantier", "owner_id", "organization"))
                .foreign_key(&mut fk("chantier", "operation_id", "operation"))
                .foreign_key(&mut fk("chantier", "market_id", "market")),
        ),
        created(
            Table::create()
                .table("chantier_supervisor")
                .col(pk_uuid("id"))
                .col(uuid("chantier_id"))
                .col(string("name"))
                .col(uuid_null("organization_id"))
                .col(big_integer("technical_minutes"))
                .col(big_integer("socio_professional_minutes"))
                .col(big_integer("theory_training_minutes"))
                .col(date("start_date"))
                .col(date_null("end_date"))
                .foreign_key(&mut fk("chantier_supervisor", "chantier_id", "chantier"))
                .foreign_key(&mut fk(
                    "chantier_supervisor",
                    "organization_id",
                    "organization",
                )),
        ),
        created(
            Table::create()
                .table("chantier_budget")
                .col(pk_uuid("id"))
                .col(uuid("chantier_id"))
                .col(integer("year"))
                .col(integer("version"))
                .col(big_integer("charges_cents"))
                .col(big_integer("products_cents"))
                .col(big_integer("equipment_cents"))
                .col(integer("commercial_share_bp"))
                .col(integer("unforeseen_share_bp"))
                .col(text("warnings"))
                .foreign_key(&mut fk("chantier_budget", "chantier_id", "chantier")),
        ),
        Table::create()
            .table("budget_line")
            .col(pk_uuid("id"))
            .col(uuid("budget_id"))
            .col(integer("position"))
            .col(string("category"))
            .col(string_null("label"))
            .col(big_integer("amount_cents"))
            .col(uuid_null("funder_id"))
            .foreign_key(&mut fk("budget_line", "budget_id", "chantier_budget"))
            .foreign_key(&mut fk("budget_line", "funder_id", "organization"))
            .to_owned(),
        created(
            Table::create()
                .table("funding_line")
                .col(pk_uuid("id"))
                .col(uuid("chantier_id"))
                .col(uuid_null("funder_id"))
                .col(string("funder_category"))
                .col(string("purpose"))
                .col(integer("year"))
                .col(big_integer("amount_cents"))
                .col(string("status"))
                .col(text_null("cancel_reason"))
                .foreign_key(&mut fk("funding_line", "chantier_id", "chantier"))
                .foreign_key(&mut fk("funding_line", "funder_id", "organization")),
        ),
        created(
            Table::create()
                .table("eligibility")
                .col(pk_uuid("id"))
                .col(uuid("participant_id"))
                .col(string("scheme"))
                .col(string("attester_kind"))
                .col(uuid_null("attester_id"))
                .col(string_null("structure_kind"))
                .col(date("checked_on"))
                .col(date("valid_until"))
                .foreign_key(&mut fk("eligibility", "participant_id", "participant"))
                .foreign_key(&mut fk("eligibility", "attester_id", "organization")),
        ),
        Table::create()
            .table("eligibility_proof")
            .col(pk_uuid("id"))
            .col(uuid("eligibility_id"))
            .col(string("criterion"))
            .col(string("proof_kind"))
            .col(date("proof_date"))
            .col(string_null("reference"))
            .foreign_key(&mut fk(
                "eligibility_proof",
                "eligibility_id",
                "eligibility",
            ))
            .to_owned(),
        created(
            Table::create()
                .table("pass_iae")
                .col(pk_uuid("id"))
                .col(uuid("participant_id"))
                .col(string_uniq("number"))
                .col(uuid("eligibility_id"))
                .col(date("start_date"))
                .col(date("end_date"))
                .foreign_key(&mut fk("pass_iae", "participant_id", "participant"))
                .foreign_key(&mut fk("pass_iae", "eligibility_id", "eligibility")),
        ),
        created(
            Table::create()
                .table("pass_iae_extension")
                .col(pk_uuid("id"))
                .col(uuid("pass_id"))
                .col(date("previous_end"))
                .col(date("new_end"))
                .col(text("reason"))
                .foreign_key(&mut fk("pass_iae_extension", "pass_id", "pass_iae")),
        ),
        created(
            Table::create()
                .table("immersion")
                .col(pk_uuid("id"))
                .col(uuid("placement_id"))
                .col(string("host_name"))
                .col(uuid_null("host_id"))
                .col(date("start_date"))
                .col(date("end_date"))
                .foreign_key(&mut fk("immersion", "placement_id", "placement"))
                .foreign_key(&mut fk("immersion", "host_id", "organization")),
        ),
        created(
            Table::create()
                .table("placement_exit")
                .col(pk_uuid("id"))
                .col(uuid_uniq("placement_id"))
                .col(date("exit_date"))
                .col(string("outcome"))
                .col(string("category"))
                .col(text_null("detail"))
                .col(text_null("justification"))
                .foreign_key(&mut fk("placement_exit", "placement_id", "placement")),
        ),
        created(
            Table::create()
                .table("exit_follow_up")
                .col(pk_uuid("id"))
                .col(uuid_uniq("placement_id"))
                .col(date("observed_on"))
                .col(string("outcome"))
                .col(string("category"))
                .col(text_null("detail"))
                .foreign_key(&mut fk("exit_follow_up", "placement_id", "placement")),
        ),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("parameter_value", &["scope_id", "key"], false),
        index("chantier", &["territory_id"], false),
        index("chantier", &["carrier_id"], false),
        index("chantier_supervisor", &["chantier_id"], false),
        index("chantier_budget", &["chantier_id", "year", "version"], true),
        index("budget_line", &["budget_id"], false),
        index("funding_line", &["chantier_id"], false),
        index("eligibility", &["participant_id"], false),
        index("eligibility_proof", &["eligibility_id"], false),
        index("pass_iae", &["participant_id"], false),
        index("immersion", &["placement_id"], false),
        index("placement", &["chantier_id"], false),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // SQLite adds one column per statement; a reference is allowed on a nullable column.
        let (uuid_type, date_type) = match backend {
            DatabaseBackend::Postgres => ("uuid", "date"),
            _ => ("uuid_text", "date_text"),
        };
        for sql in [
            format!(
                "ALTER TABLE placement ADD COLUMN chantier_id {uuid_type} NULL REFERENCES chantier (id) ON DELETE RESTRICT"
            ),
            "ALTER TABLE placement ADD COLUMN derogation varchar NULL".to_string(),
            format!("ALTER TABLE placement ADD COLUMN training_end_date {date_type} NULL"),
        ] {
            db.execute_unprepared(&sql).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        for table in APPEND_ONLY {
            for sql in append_only_sql(backend, table) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in ["training_end_date", "derogation", "chantier_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("placement")
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            "exit_follow_up",
            "placement_exit",
            "immersion",
            "pass_iae_extension",
            "pass_iae",
            "eligibility_proof",
            "eligibility",
            "funding_line",
            "budget_line",
            "chantier_budget",
            "chantier_supervisor",
            "chantier",
            "parameter_value",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
