use sea_orm::entity::prelude::*;

/// The situation of a person again, a year after the exit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "exit_follow_up")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub placement_id: Uuid,
    pub observed_on: Date,
    pub outcome: String,
    pub category: String,
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
