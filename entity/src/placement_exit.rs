use sea_orm::entity::prelude::*;

/// How a placement ended (sortie).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "placement_exit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub placement_id: Uuid,
    pub exit_date: Date,
    pub outcome: String,
    pub category: String,
    pub detail: Option<String>,
    pub justification: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
