use sea_orm::entity::prelude::*;

/// An eligibility check of a participant (append-only; a newer one supersedes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "eligibility")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub participant_id: Uuid,
    pub scheme: String,
    pub attester_kind: String,
    pub attester_id: Option<Uuid>,
    pub structure_kind: Option<String>,
    pub checked_on: Date,
    pub valid_until: Date,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
