//! Redacts the audit trail: rows written before issue 18 copied into `before` / `after` what
//! DOMAIN.md section 9 protects — a participant's publics (RSA, AAH, prison release...) on
//! every createParticipant / anonymizeParticipant, a contract's derogation (DISABLED_WORKER
//! tells a disability, SENIOR an age) on every placement change — where administrators read
//! it and where it outlived anonymization. This migration removes those keys (and, should an
//! older row hold them, names, birth date, search text, eligibility criteria and an exit's
//! justification) from the JSON.
//!
//! THE ONE SANCTIONED EXCEPTION TO APPEND-ONLY. The trail refuses UPDATE by trigger on both
//! stores; to rewrite it, this migration lifts the UPDATE trigger, rewrites only the rows that
//! hold a protected key, and puts the trigger back, all in one transaction (on SQLite too, see
//! `use_transaction`), so no other write can slip through the gap. DELETE stays refused
//! throughout. No other code path may lift these triggers; a later redaction needs its own
//! migration, reviewed as this one was. The trail records the redaction itself: one event
//! `redactAuditTrail` (actor `migration m20261201_000011_redact_audit`, no territory, so only
//! administrators read it) with the number of rows rewritten and the keys removed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::ChronoUtc;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261122_000001_first_slice::append_only_sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Keys that must not stay in `before` / `after`, whatever the object: the spellings the app
/// writes (camelCase in hand-made JSON, snake_case in serialised rows). The same list as
/// `service::audit`'s at the time of this migration; that one may grow, this one is frozen.
const PROTECTED_KEYS: &[&str] = &[
    "publics",
    // The profile (sex, education, unemployment, QPV, prescriber): identity-level too.
    "sex",
    "educationLevel",
    "education_level",
    "qpvResident",
    "qpv_resident",
    "unemployedSince",
    "unemployed_since",
    "prescriberId",
    "prescriber_id",
    "trainingEndDate",
    "training_end_date",
    "derogation",
    "justification",
    "firstName",
    "lastName",
    "birthDate",
    "searchText",
    "first_name",
    "last_name",
    "birth_date",
    "search_text",
    "criteria",
    "criterion",
    "proofs",
    "identity",
];

/// Rows holding one of the keys, by its quoted spelling (`"publics"`), before or after.
fn holding_a_key() -> String {
    PROTECTED_KEYS
        .iter()
        .flat_map(|k| ["before", "after"].map(move |col| format!("{col} LIKE '%\"{k}\"%'")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn redact_sql(backend: DatabaseBackend) -> String {
    let rewrite = |col: &str| match backend {
        DatabaseBackend::Postgres => {
            let keys = PROTECTED_KEYS
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{col} = CASE WHEN {col} IS NOT NULL AND jsonb_typeof({col}::jsonb) = 'object' \
                 THEN ({col}::jsonb - ARRAY[{keys}]::text[])::text ELSE {col} END"
            )
        }
        _ => {
            let paths = PROTECTED_KEYS
                .iter()
                .map(|k| format!("'$.{k}'"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{col} = CASE WHEN json_valid({col}) AND json_type({col}) = 'object' \
                 THEN json_remove({col}, {paths}) ELSE {col} END"
            )
        }
    };
    format!(
        "UPDATE audit_event SET {}, {} WHERE {}",
        rewrite("before"),
        rewrite("after"),
        holding_a_key()
    )
}

/// The statements that lift, then restore, the trail's refusal of UPDATE.
fn update_guard(backend: DatabaseBackend) -> (Vec<String>, Vec<String>) {
    match backend {
        DatabaseBackend::Postgres => (
            vec!["ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only".into()],
            vec!["ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only".into()],
        ),
        _ => (
            vec!["DROP TRIGGER audit_event_no_update".into()],
            append_only_sql(backend, "audit_event")
                .into_iter()
                .filter(|sql| sql.contains("BEFORE UPDATE"))
                .collect(),
        ),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let (lift, restore) = update_guard(backend);
        for sql in &lift {
            db.execute_unprepared(sql).await?;
        }
        let redacted = db
            .execute_unprepared(&redact_sql(backend))
            .await?
            .rows_affected();
        for sql in &restore {
            db.execute_unprepared(sql).await?;
        }
        if redacted > 0 {
            let id = uuid::Uuid::now_v7();
            let after = format!(
                "{{\"migration\":\"m20261201_000011_redact_audit\",\"rowsRedacted\":{redacted},\"keysRemoved\":[{}]}}",
                PROTECTED_KEYS
                    .iter()
                    .map(|k| format!("\"{k}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let insert = Query::insert()
                .into_table("audit_event")
                .columns([
                    "id",
                    "actor_label",
                    "action",
                    "object_type",
                    "object_id",
                    "after",
                    "at",
                ])
                .values_panic([
                    id.into(),
                    "migration m20261201_000011_redact_audit".into(),
                    "redactAuditTrail".into(),
                    "AuditEvent".into(),
                    id.into(),
                    after.into(),
                    ChronoUtc::now().into(),
                ])
                .to_owned();
            db.execute(&insert).await?;
        }
        Ok(())
    }

    /// Nothing to undo: what was removed is gone, which is the point.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    /// Lifting the trigger and putting it back must not be separable, on SQLite as well.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
