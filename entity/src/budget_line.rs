use sea_orm::entity::prelude::*;

/// A line of a budget version.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "budget_line")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub budget_id: Uuid,
    pub position: i32,
    pub category: String,
    pub label: Option<String>,
    pub amount_cents: i64,
    pub funder_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
