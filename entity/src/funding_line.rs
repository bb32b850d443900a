use sea_orm::entity::prelude::*;

/// Money from one funder, for one purpose and year, to a chantier.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "funding_line")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chantier_id: Uuid,
    pub funder_id: Option<Uuid>,
    pub funder_category: String,
    pub purpose: String,
    pub year: i32,
    pub amount_cents: i64,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
