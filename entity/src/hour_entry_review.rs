use sea_orm::entity::prelude::*;

/// The one decision (validated or rejected) on a ledger entry; unique per entry, append-only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "hour_entry_review")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub hour_entry_id: Uuid,
    pub decision: String,
    pub reason: Option<String>,
    pub decided_at: DateTimeUtc,
    pub decided_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::hour_entry::Entity",
        from = "Column::HourEntryId",
        to = "super::hour_entry::Column::Id"
    )]
    HourEntry,
}

impl Related<super::hour_entry::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::HourEntry.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
