use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One upload of monthly hour statements (CSV), accepted or refused. An accepted file's entries
/// carry its id; a refused one wrote no hour and keeps its errors.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "hour_import")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub file_name: Option<String>,
    /// SHA-256 of the file as uploaded, hex.
    pub sha256: String,
    pub line_count: i32,
    pub recorded_count: i32,
    /// Lines already in the ledger with the same hours (a re-upload).
    pub unchanged_count: i32,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    /// ACCEPTED or REFUSED.
    pub status: String,
    /// Errors found in a refused file (the stored list is capped, this is the full count).
    pub error_count: i32,
    /// The refused file's errors as JSON `[{line, column, message}]`, capped like the answer.
    pub errors: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
