//! Territories, organizations, operations, markets and lots, participants, placements and the
//! append-only hours ledger.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables that may only grow: the ledger, its reviews, and the history of moves.
const APPEND_ONLY: [&str; 3] = ["hour_entry", "hour_entry_review", "status_change"];

pub(crate) fn fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

pub(crate) fn index(
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        stmt.col(*c);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table("territory")
            .col(pk_uuid("id"))
            .col(string_uniq("code"))
            .col(string("name"))
            .col(string("time_zone"))
            .col(timestamp_with_time_zone("created_at"))
            .to_owned(),
        Table::create()
            .table("organization")
            .col(pk_uuid("id"))
            .col(string("name"))
            .col(text("search_text"))
            .col(string("kind"))
            .col(string_null("siae_subtype"))
            .col(string_len_null("siret", 14).unique_key())
            .col(string_null("address"))
            .col(string_null("email"))
            .col(uuid_null("territory_id"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("organization", "territory_id", "territory"))
            .to_owned(),
        Table::create()
            .table("operation")
            .col(pk_uuid("id"))
            .col(uuid("territory_id"))
            .col(uuid_null("owner_id"))
            .col(string("name"))
            .col(string("kind"))
            .col(date_null("start_date"))
            .col(date_null("end_date"))
            .col(integer("works_rate_bp"))
            .col(integer("gup_rate_bp"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("operation", "territory_id", "territory"))
            .foreign_key(&mut fk("operation", "owner_id", "organization"))
            .to_owned(),
        Table::create()
            .table("market")
            .col(pk_uuid("id"))
            .col(uuid("territory_id"))
            .col(uuid("buyer_id"))
            .col(uuid_null("operation_id"))
            .col(string("reference"))
            .col(string("title"))
            .col(text("search_text"))
            .col(string("clause_kind"))
            .col(string_null("anru_category"))
            .col(big_integer("amount_cents"))
            .col(date_null("notification_date"))
            .col(date("start_date"))
            .col(date("end_date"))
            .col(string("status"))
            .col(big_integer_null("target_minutes"))
            .col(string_null("target_source"))
            .col(integer_null("calib_labour_share_bp"))
            .col(integer_null("calib_insertion_rate_bp"))
            .col(big_integer_null("calib_hourly_cost_cents"))
            .col(big_integer_null("calib_proposed_minutes"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("market", "territory_id", "territory"))
            .foreign_key(&mut fk("market", "buyer_id", "organization"))
            .foreign_key(&mut fk("market", "operation_id", "operation"))
            .to_owned(),
        Table::create()
            .table("lot")
            .col(pk_uuid("id"))
            .col(uuid("market_id"))
            .col(integer("number"))
            .col(string("title"))
            .col(uuid_null("awardee_id"))
            .col(big_integer_null("amount_cents"))
            .col(big_integer_null("target_minutes"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("lot", "market_id", "market"))
            .foreign_key(&mut fk("lot", "awardee_id", "organization"))
            .to_owned(),
        Table::create()
            .table("participant")
            .col(pk_uuid("id"))
            .col(uuid("territory_id"))
            .col(string("first_name"))
            .col(string("last_name"))
            .col(text("search_text"))
            .col(date("birth_date"))
            .col(string("sex"))
            .col(string("education_level"))
            .col(date_null("unemployed_since"))
            .col(boolean("qpv_resident"))
            .col(string("publics"))
            .col(uuid_null("prescriber_id"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("participant", "territory_id", "territory"))
            .foreign_key(&mut fk("participant", "prescriber_id", "organization"))
            .to_owned(),
        Table::create()
            .table("placement")
            .col(pk_uuid("id"))
            .col(uuid("participant_id"))
            // A placement on a chantier without a market has none.
            .col(uuid_null("market_id"))
            .col(uuid_null("lot_id"))
            .col(string("modality"))
            .col(uuid("employer_id"))
            .col(string("contract_type"))
            .col(date("start_date"))
            .col(date_null("end_date"))
            .col(integer("weekly_minutes"))
            .col(string("status"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("placement", "participant_id", "participant"))
            .foreign_key(&mut fk("placement", "market_id", "market"))
            .foreign_key(&mut fk("placement", "lot_id", "lot"))
            .foreign_key(&mut fk("placement", "employer_id", "organization"))
            .to_owned(),
        Table::create()
            .table("hour_entry")
            .col(pk_uuid("id"))
            .col(uuid("placement_id"))
            .col(uuid_null("market_id"))
            .col(uuid_null("lot_id"))
            .col(string("modality"))
            .col(string("period_kind"))
            .col(date("period_start"))
            .col(date("period_end"))
            .col(string("kind"))
            .col(big_integer("minutes"))
            .col(string("source"))
            .col(uuid_null("corrects_id"))
            .col(text_null("reason"))
            .col(timestamp_with_time_zone("recorded_at"))
            .col(string_null("recorded_by"))
            .foreign_key(&mut fk("hour_entry", "placement_id", "placement"))
            .foreign_key(&mut fk("hour_entry", "market_id", "market"))
            .foreign_key(&mut fk("hour_entry", "lot_id", "lot"))
            .foreign_key(&mut fk("hour_entry", "corrects_id", "hour_entry"))
            .to_owned(),
        Table::create()
            .table("hour_entry_review")
            .col(pk_uuid("id"))
            .col(uuid_uniq("hour_entry_id"))
            .col(string("decision"))
            .col(text_null("reason"))
            .col(timestamp_with_time_zone("decided_at"))
            .col(string_null("decided_by"))
            .foreign_key(&mut fk("hour_entry_review", "hour_entry_id", "hour_entry"))
            .to_owned(),
        Table::create()
            .table("status_change")
            .col(pk_uuid("id"))
            .col(string("object_type"))
            .col(uuid("object_id"))
            .col(string("from_status"))
            .col(string("to_status"))
            .col(text_null("reason"))
            .col(timestamp_with_time_zone("changed_at"))
            .col(string_null("changed_by"))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("market", &["buyer_id", "reference"], true),
        index("market", &["territory_id"], false),
        index("market", &["operation_id"], false),
        index("lot", &["market_id", "number"], true),
        index("participant", &["territory_id"], false),
        index("placement", &["market_id"], false),
        index("placement", &["participant_id"], false),
        index("hour_entry", &["market_id"], false),
        index("hour_entry", &["lot_id"], false),
        index("hour_entry", &["placement_id", "period_start"], false),
        index("hour_entry", &["corrects_id"], false),
        index("status_change", &["object_id"], false),
    ]
}

/// SQL that makes a table refuse UPDATE and DELETE, in the dialect of the backend.
pub(crate) fn append_only_sql(backend: DatabaseBackend, table: &str) -> Vec<String> {
    match backend {
        DatabaseBackend::Postgres => vec![format!(
            "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()"
        )],
        _ => ["UPDATE", "DELETE"]
            .iter()
            .map(|op| {
                format!(
                    "CREATE TRIGGER {table}_no_{} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, 'append-only table: {table}'); END",
                    op.to_lowercase()
                )
            })
            .collect(),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        if backend == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION passerelle_append_only() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'append-only table: %', TG_TABLE_NAME; END $$ LANGUAGE plpgsql",
            )
            .await?;
        }
        for table in APPEND_ONLY {
            for sql in append_only_sql(backend, table) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "status_change",
            "hour_entry_review",
            "hour_entry",
            "placement",
            "participant",
            "lot",
            "market",
            "operation",
            "organization",
            "territory",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
