use sea_orm::entity::prelude::*;

/// A market's final report as produced: who, when, the figures as they stood and the size of
/// the ledger they came from. Never updated; producing it again adds a version.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "market_final_report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub market_id: Uuid,
    pub version: i32,
    pub as_at: Date,
    pub produced_at: DateTimeUtc,
    pub produced_by: String,
    pub target_minutes: Option<i64>,
    pub counted_minutes: i64,
    pub validated_minutes: i64,
    pub pending_minutes: i64,
    pub pending_deductions_minutes: i64,
    pub rejected_minutes: i64,
    pub completion_bp: Option<i64>,
    pub training_counts: bool,
    pub entry_count: i64,
    pub review_count: i64,
    /// JSON: minutes by kind and by modality.
    pub figures: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
