use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One accepted upload of monthly hour statements (CSV). Its entries carry its id.
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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
