use sea_orm::entity::prelude::*;

/// Convention: a signed agreement with dates and money (State agreement of an SIAE, individual
/// aid agreement, funding, immersion, partnership or charter).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "convention")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    pub kind: String,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub chantier_id: Option<Uuid>,
    pub placement_id: Option<Uuid>,
    pub operation_id: Option<Uuid>,
    /// The convention this one renews.
    pub renews_id: Option<Uuid>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    /// Day the complete file was filed (dépôt du dossier complet).
    pub filed_on: Option<Date>,
    pub signed_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
