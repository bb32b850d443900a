//! Eligibility proofs name the criterion that made a person eligible (RSA, AAH, prison release…):
//! DOMAIN.md section 9 protects it. The table stays append-only, with one exception: the proofs
//! of an anonymized person may be deleted (by `anonymizeParticipant`, in its transaction), so
//! that nothing ties a criterion to a file once its retention has run out. UPDATE stays refused.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A proof whose person has been anonymized.
const ERASABLE: &str = "EXISTS (SELECT 1 FROM eligibility e JOIN participant p ON p.id = e.participant_id \
     WHERE e.id = OLD.eligibility_id AND p.anonymized_at IS NOT NULL)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The old trigger goes and the new one comes on one connection, in one transaction: no
    /// delete slips through the gap, and SQLite's pooled connections never see it half done.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql: Vec<String> = match manager.get_database_backend() {
            DatabaseBackend::Postgres => vec![
                "DROP TRIGGER eligibility_proof_append_only ON eligibility_proof".into(),
                "CREATE TRIGGER eligibility_proof_append_only BEFORE UPDATE ON eligibility_proof \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()"
                    .into(),
                format!(
                    "CREATE OR REPLACE FUNCTION passerelle_proof_erasable() RETURNS trigger AS $$ \
                     BEGIN IF {ERASABLE} THEN RETURN OLD; END IF; \
                     RAISE EXCEPTION 'append-only table: %', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
                ),
                "CREATE TRIGGER eligibility_proof_erasable BEFORE DELETE ON eligibility_proof \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_proof_erasable()"
                    .into(),
            ],
            _ => vec![
                "DROP TRIGGER eligibility_proof_no_delete".into(),
                format!(
                    "CREATE TRIGGER eligibility_proof_no_delete BEFORE DELETE ON eligibility_proof \
                     WHEN NOT {ERASABLE} \
                     BEGIN SELECT RAISE(ABORT, 'append-only table: eligibility_proof'); END"
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
        let sql: Vec<&str> = match manager.get_database_backend() {
            DatabaseBackend::Postgres => vec![
                "DROP TRIGGER eligibility_proof_erasable ON eligibility_proof",
                "DROP FUNCTION passerelle_proof_erasable()",
                "DROP TRIGGER eligibility_proof_append_only ON eligibility_proof",
                "CREATE TRIGGER eligibility_proof_append_only BEFORE UPDATE OR DELETE ON eligibility_proof \
                 FOR EACH ROW EXECUTE FUNCTION passerelle_append_only()",
            ],
            _ => vec![
                "DROP TRIGGER eligibility_proof_no_delete",
                "CREATE TRIGGER eligibility_proof_no_delete BEFORE DELETE ON eligibility_proof \
                 BEGIN SELECT RAISE(ABORT, 'append-only table: eligibility_proof'); END",
            ],
        };
        for s in sql {
            db.execute_unprepared(s).await?;
        }
        Ok(())
    }
}
