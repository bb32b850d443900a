use sea_orm::entity::prelude::*;

/// Chantier d'insertion, chantier-école or chantier de formation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "chantier")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    pub title: String,
    pub search_text: String,
    pub kind: String,
    pub carrier_id: Uuid,
    pub owner_id: Uuid,
    pub operation_id: Option<Uuid>,
    pub market_id: Option<Uuid>,
    pub place: String,
    pub start_date: Date,
    pub end_date: Date,
    pub capacity: i32,
    pub activities: String,
    pub status: String,
    pub commercial_derogation: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    /// Fiche évaluation ACI, free text: "Ingénierie et coordination".
    pub coordination: Option<String>,
    /// "Objectifs de l'action".
    pub objectives: Option<String>,
    /// "Partenaires économiques".
    pub economic_partners: Option<String>,
    /// "Autres renseignements et indications sur les aspects qualitatifs".
    pub qualitative_notes: Option<String>,
    /// Bumped by every change (see `ActiveModelBehavior`); an edit names the version it read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        Ok(crate::bump_version(self, insert, |m| &mut m.version))
    }
}
