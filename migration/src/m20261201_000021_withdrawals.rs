//! Issue 20, people: an eligibility decision can be withdrawn (with who, when and why), and the
//! reads of a participant's file can be erased with the participant.
//!
//! `eligibility` stays append-only except for one UPDATE: the withdrawal, once, which sets the
//! three new columns (and bumps `version`) and changes nothing else; and the reason of a
//! withdrawal (free text about the person) may be cleared once the person is anonymized. `participant_access` stays
//! append-only except that the reads of an anonymized person may be deleted (as the proofs
//! since 000012): `deleteParticipant` anonymizes, deletes the reads, then the row, in one
//! transaction, so that a person entered by mistake leaves no trace but the audit event.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns a withdrawal may not touch.
const FROZEN: &[&str] = &[
    "id",
    "participant_id",
    "scheme",
    "attester_kind",
    "attester_id",
    "structure_kind",
    "checked_on",
    "valid_until",
    "created_at",
    "created_by",
];

/// A withdrawal: not withdrawn before, withdrawn now, nothing else moved.
fn withdrawal_only() -> String {
    let same: Vec<String> = FROZEN
        .iter()
        .map(|c| format!("NEW.{c} IS NOT DISTINCT FROM OLD.{c}"))
        .collect();
    format!(
        "OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL AND NEW.withdrawal_reason IS NOT NULL AND {}",
        same.join(" AND ")
    )
}

/// The reason of a withdrawal (free text about the person) cleared when the person is
/// anonymized, nothing else moved.
fn reason_erased() -> String {
    let same: Vec<String> = FROZEN
        .iter()
        .chain(["withdrawn_at", "withdrawn_by"].iter())
        .map(|c| format!("NEW.{c} IS NOT DISTINCT FROM OLD.{c}"))
        .collect();
    format!(
        "OLD.withdrawal_reason IS NOT NULL AND NEW.withdrawal_reason IS NULL AND {} AND EXISTS (SELECT 1 FROM participant p WHERE p.id = OLD.participant_id AND p.anonymized_at IS NOT NULL)",
        same.join(" AND ")
    )
}

/// What an UPDATE of a decision may be: a withdrawal, or the erasure of its reason.
fn allowed_update() -> String {
    format!("({}) OR ({})", withdrawal_only(), reason_erased())
}

/// The same in SQLite, where `IS` compares NULLs.
fn allowed_update_sqlite() -> String {
    allowed_update().replace(" IS NOT DISTINCT FROM ", " IS ")
}

const ACCESS_ERASABLE: &str = "EXISTS (SELECT 1 FROM participant p WHERE p.id = OLD.participant_id AND p.anonymized_at IS NOT NULL)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Old triggers go and new ones come in one transaction: nothing slips through the gap.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            ColumnDef::new(Alias::new("withdrawn_at"))
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("withdrawn_by"))
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("withdrawal_reason"))
                .text()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("eligibility"))
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let sql: Vec<String> = match manager.get_database_backend() {
            DatabaseBackend::Postgres => vec![
                "DROP TRIGGER eligibility_append_only ON eligibility".into(),
                "CREATE TRIGGER eligibility_append_only BEFORE DELETE ON eligibility \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()"
                    .into(),
                format!(
                    "CREATE OR REPLACE FUNCTION passerelle_eligibility_withdrawal() RETURNS trigger AS $$ \
                     BEGIN IF {} THEN RETURN NEW; END IF; \
                     RAISE EXCEPTION 'append-only table: % (only a withdrawal, once)', TG_TABLE_NAME; END $$ LANGUAGE plpgsql",
                    allowed_update()
                ),
                "CREATE TRIGGER eligibility_withdrawal BEFORE UPDATE ON eligibility \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_eligibility_withdrawal()"
                    .into(),
                "DROP TRIGGER participant_access_append_only ON participant_access".into(),
                "CREATE TRIGGER participant_access_append_only BEFORE UPDATE ON participant_access \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()"
                    .into(),
                format!(
                    "CREATE OR REPLACE FUNCTION passerelle_access_erasable() RETURNS trigger AS $$ \
                     BEGIN IF {ACCESS_ERASABLE} THEN RETURN OLD; END IF; \
                     RAISE EXCEPTION 'append-only table: %', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
                ),
                "CREATE TRIGGER participant_access_erasable BEFORE DELETE ON participant_access \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_access_erasable()"
                    .into(),
            ],
            _ => vec![
                "DROP TRIGGER eligibility_no_update".into(),
                format!(
                    "CREATE TRIGGER eligibility_no_update BEFORE UPDATE ON eligibility \
                     WHEN NOT ({}) \
                     BEGIN SELECT RAISE(ABORT, 'append-only table: eligibility'); END",
                    allowed_update_sqlite()
                ),
                "DROP TRIGGER participant_access_no_delete".into(),
                format!(
                    "CREATE TRIGGER participant_access_no_delete BEFORE DELETE ON participant_access \
                     WHEN NOT {ACCESS_ERASABLE} \
                     BEGIN SELECT RAISE(ABORT, 'append-only table: participant_access'); END"
                ),
            ],
        };
        for s in sql {
            db.execute_unprepared(&s).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql: Vec<String> = match manager.get_database_backend() {
            DatabaseBackend::Postgres => vec![
                "DROP TRIGGER eligibility_withdrawal ON eligibility".into(),
                "DROP FUNCTION passerelle_eligibility_withdrawal()".into(),
                "DROP TRIGGER eligibility_append_only ON eligibility".into(),
                "CREATE TRIGGER eligibility_append_only BEFORE UPDATE OR DELETE ON eligibility \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()"
                    .into(),
                "DROP TRIGGER participant_access_erasable ON participant_access".into(),
                "DROP FUNCTION passerelle_access_erasable()".into(),
                "DROP TRIGGER participant_access_append_only ON participant_access".into(),
                "CREATE TRIGGER participant_access_append_only BEFORE UPDATE OR DELETE ON participant_access \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()"
                    .into(),
            ],
            _ => vec![
                "DROP TRIGGER eligibility_no_update".into(),
                "CREATE TRIGGER eligibility_no_update BEFORE UPDATE ON eligibility \
                 BEGIN SELECT RAISE(ABORT, 'append-only table: eligibility'); END"
                    .into(),
                "DROP TRIGGER participant_access_no_delete".into(),
                "CREATE TRIGGER participant_access_no_delete BEFORE DELETE ON participant_access \
                 BEGIN SELECT RAISE(ABORT, 'append-only table: participant_access'); END"
                    .into(),
            ],
        };
        for s in sql {
            db.execute_unprepared(&s).await?;
        }
        for col in ["withdrawn_at", "withdrawn_by", "withdrawal_reason"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("eligibility"))
                        .drop_column(Alias::new(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
