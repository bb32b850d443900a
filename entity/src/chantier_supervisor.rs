use sea_orm::entity::prelude::*;

/// Encadrant of a chantier, with hours by kind of supervision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "chantier_supervisor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chantier_id: Uuid,
    pub name: String,
    pub organization_id: Option<Uuid>,
    pub technical_minutes: i64,
    pub socio_professional_minutes: i64,
    pub theory_training_minutes: i64,
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
