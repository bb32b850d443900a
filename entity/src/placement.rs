use sea_orm::entity::prelude::*;

/// One participant working on one market (or lot) through one modality, with one employer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "placement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub participant_id: Uuid,
    /// `None` for a chantier without a market.
    pub market_id: Option<Uuid>,
    pub lot_id: Option<Uuid>,
    pub modality: String,
    pub employer_id: Uuid,
    pub contract_type: String,
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub weekly_minutes: i32,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub chantier_id: Option<Uuid>,
    /// Why a CDDI runs beyond its usual cap (`CddiDerogation`).
    pub derogation: Option<String>,
    pub training_end_date: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
