use sea_orm::entity::prelude::*;

/// A decision taken by a commission; with a due date it becomes a deadline for its owner.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "decision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub commission_id: Uuid,
    pub subject: String,
    pub outcome: String,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    pub due_on: Option<Date>,
    pub done_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
