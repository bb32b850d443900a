use sea_orm::entity::prelude::*;

/// A criterion of an eligibility with its proof.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "eligibility_proof")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub eligibility_id: Uuid,
    pub criterion: String,
    pub proof_kind: String,
    pub proof_date: Date,
    pub reference: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
