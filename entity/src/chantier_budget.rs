use sea_orm::entity::prelude::*;

/// One version of a chantier's budget for a year (append-only; the highest version is current).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "chantier_budget")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chantier_id: Uuid,
    pub year: i32,
    pub version: i32,
    pub charges_cents: i64,
    pub products_cents: i64,
    pub equipment_cents: i64,
    pub commercial_share_bp: i32,
    pub unforeseen_share_bp: i32,
    pub warnings: String,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
