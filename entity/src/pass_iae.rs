use sea_orm::entity::prelude::*;

/// PASS IAE of a participant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "pass_iae")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub participant_id: Uuid,
    pub number: String,
    pub eligibility_id: Uuid,
    pub start_date: Date,
    pub end_date: Date,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
