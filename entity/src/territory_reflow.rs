use sea_orm::entity::prelude::*;

/// A territory's deadlines to be re-derived: marks counted by `requested`, the count the last
/// finished reflow started from in `reflowed`. Pending (or running) while `requested > reflowed`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "territory_reflow")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub territory_id: Uuid,
    pub requested: i64,
    pub reflowed: i64,
    pub requested_at: Option<DateTimeUtc>,
    /// The day (UTC) of the last nightly mark.
    pub daily_on: Option<Date>,
    /// When the running (or last) reflow started.
    pub started_at: Option<DateTimeUtc>,
    pub reflowed_at: Option<DateTimeUtc>,
    /// Reflows finished, all told.
    pub reflows: i64,
    /// Subjects re-derived and chunks committed by the last reflow.
    pub last_subjects: i64,
    pub last_chunks: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
