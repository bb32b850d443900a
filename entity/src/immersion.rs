use sea_orm::entity::prelude::*;

/// Période de mise en situation en milieu professionnel (PMSMP) during a contract.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "immersion")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub placement_id: Uuid,
    pub host_name: String,
    pub host_id: Option<Uuid>,
    pub start_date: Date,
    pub end_date: Date,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
