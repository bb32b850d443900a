//! The workflow: conventions (parties, amounts, documents), commissions (members, decisions)
//! and the deadlines that rules derive from every object.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::m20261122_000001_first_slice::{append_only_sql, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Documents of a convention are only ever added.
const APPEND_ONLY: [&str; 1] = ["convention_document"];

fn stamped(t: &mut TableCreateStatement) -> TableCreateStatement {
    t.col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        stamped(
            Table::create()
                .table("convention")
                .col(pk_uuid("id"))
                .col(uuid("territory_id"))
                .col(string("kind"))
                .col(string("reference"))
                .col(string("title"))
                .col(string("status"))
                .col(uuid_null("chantier_id"))
                .col(uuid_null("placement_id"))
                .col(uuid_null("operation_id"))
                .col(uuid_null("renews_id"))
                .col(date_null("start_date"))
                .col(date_null("end_date"))
                .col(date_null("filed_on"))
                .col(date_null("signed_on"))
                .foreign_key(&mut fk("convention", "territory_id", "territory"))
                .foreign_key(&mut fk("convention", "chantier_id", "chantier"))
                .foreign_key(&mut fk("convention", "placement_id", "placement"))
                .foreign_key(&mut fk("convention", "operation_id", "operation"))
                .foreign_key(&mut fk("convention", "renews_id", "convention")),
        ),
        Table::create()
            .table("convention_party")
            .col(pk_uuid("id"))
            .col(uuid("convention_id"))
            .col(uuid("organization_id"))
            .col(string("role"))
            .foreign_key(&mut fk("convention_party", "convention_id", "convention"))
            .foreign_key(&mut fk(
                "convention_party",
                "organization_id",
                "organization",
            ))
            .to_owned(),
        Table::create()
            .table("convention_amount")
            .col(pk_uuid("id"))
            .col(uuid("convention_id"))
            .col(integer("year"))
            .col(big_integer("amount_cents"))
            .foreign_key(&mut fk("convention_amount", "convention_id", "convention"))
            .to_owned(),
        Table::create()
            .table("convention_document")
            .col(pk_uuid("id"))
            .col(uuid("convention_id"))
            .col(string("name"))
            .col(string("kind"))
            .col(date("dated_on"))
            .col(string_null("reference"))
            .col(timestamp_with_time_zone("added_at"))
            .col(string("added_by"))
            .foreign_key(&mut fk(
                "convention_document",
                "convention_id",
                "convention",
            ))
            .to_owned(),
        stamped(
            Table::create()
                .table("commission")
                .col(pk_uuid("id"))
                .col(uuid("territory_id"))
                .col(string("kind"))
                .col(string("title"))
                .col(uuid_null("operation_id"))
                .col(uuid_null("market_id"))
                .col(uuid_null("chantier_id"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(integer("duration_minutes"))
                .col(string("place"))
                .col(text("agenda"))
                .col(text_null("minutes"))
                .col(string("status"))
                .col(integer("sequence"))
                .foreign_key(&mut fk("commission", "territory_id", "territory"))
                .foreign_key(&mut fk("commission", "operation_id", "operation"))
                .foreign_key(&mut fk("commission", "market_id", "market"))
                .foreign_key(&mut fk("commission", "chantier_id", "chantier")),
        ),
        Table::create()
            .table("commission_member")
            .col(pk_uuid("id"))
            .col(uuid("commission_id"))
            .col(uuid_null("organization_id"))
            .col(string("name"))
            .col(string_null("email"))
            .foreign_key(&mut fk("commission_member", "commission_id", "commission"))
            .foreign_key(&mut fk(
                "commission_member",
                "organization_id",
                "organization",
            ))
            .to_owned(),
        Table::create()
            .table("decision")
            .col(pk_uuid("id"))
            .col(uuid("commission_id"))
            .col(text("subject"))
            .col(text("outcome"))
            .col(string_null("owner_name"))
            .col(string_null("owner_email"))
            .col(date_null("due_on"))
            .col(date_null("done_on"))
            .col(timestamp_with_time_zone("created_at"))
            .col(string("created_by"))
            .foreign_key(&mut fk("decision", "commission_id", "commission"))
            .to_owned(),
        stamped(
            Table::create()
                .table("deadline")
                .col(pk_uuid("id"))
                .col(uuid("territory_id"))
                .col(string("rule"))
                .col(string("subject_kind"))
                .col(uuid("subject_id"))
                .col(string("key"))
                .col(date("due_on"))
                .col(string("status"))
                .col(text("title"))
                .col(text("recipients"))
                .col(date_null("met_on"))
                .col(uuid_null("market_id"))
                .col(uuid_null("chantier_id"))
                .col(uuid_null("operation_id"))
                .foreign_key(&mut fk("deadline", "territory_id", "territory")),
        ),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("convention", &["territory_id"], false),
        index("convention", &["chantier_id"], false),
        index("convention", &["placement_id"], false),
        index(
            "convention_party",
            &["convention_id", "organization_id", "role"],
            true,
        ),
        index("convention_amount", &["convention_id", "year"], true),
        index("convention_document", &["convention_id"], false),
        index("commission", &["territory_id", "starts_at"], false),
        index("commission", &["chantier_id"], false),
        index("commission_member", &["commission_id"], false),
        index("decision", &["commission_id"], false),
        index("deadline", &["subject_id", "rule", "key"], true),
        index("deadline", &["territory_id", "status", "due_on"], false),
        index("deadline", &["market_id"], false),
        index("deadline", &["chantier_id"], false),
    ]
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
        for table in APPEND_ONLY {
            for sql in append_only_sql(manager.get_database_backend(), table) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "deadline",
            "decision",
            "commission_member",
            "commission",
            "convention_document",
            "convention_amount",
            "convention_party",
            "convention",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
