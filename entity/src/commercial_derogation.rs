use sea_orm::entity::prelude::*;

/// A préfet's decision raising an ACI's commercial revenue cap (Code du travail art. D5132-34).
/// Never updated; the latest one recorded for a chantier is in force.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "commercial_derogation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chantier_id: Uuid,
    pub reference: String,
    /// Date of the decision; null for one recorded before its date was asked for.
    pub decided_on: Option<Date>,
    /// Receipts must stay strictly under this share of the charges.
    pub share_bp: i32,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
