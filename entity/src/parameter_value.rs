use sea_orm::entity::prelude::*;

/// Parameter change (append-only): a value for one key at one level from a date; `None` puts the level above back.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "parameter_value")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key: String,
    pub level: String,
    pub scope_id: Uuid,
    pub territory_id: Uuid,
    pub value: Option<String>,
    pub effective_from: Date,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
