use sea_orm::entity::prelude::*;

/// One line of the append-only hours ledger. Never updated, never deleted (a trigger refuses it):
/// a correction is a new row with `corrects_id` and a reason, carrying the signed difference.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "hour_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub placement_id: Uuid,
    /// Copied from the placement (which never changes market) so totals need no join.
    pub market_id: Option<Uuid>,
    pub lot_id: Option<Uuid>,
    pub modality: String,
    pub period_kind: String,
    pub period_start: Date,
    pub period_end: Date,
    pub kind: String,
    /// Signed minutes: positive for a declaration, the difference for a correction.
    pub minutes: i64,
    pub source: String,
    pub corrects_id: Option<Uuid>,
    pub reason: Option<String>,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Option<String>,
    /// The imported file this entry came from.
    pub import_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::hour_entry_review::Entity")]
    Review,
}

impl Related<super::hour_entry_review::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Review.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
