use sea_orm::entity::prelude::*;

/// Any legal body: buyer, company, insertion structure (SIAE), facilitator, funder, prescriber.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Folded text for search (lower case, no accents); see `domain::text::search_key`.
    pub search_text: String,
    pub kind: String,
    pub siae_subtype: Option<String>,
    #[sea_orm(unique)]
    pub siret: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub territory_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// Bumped by every change (see `ActiveModelBehavior`); an edit names the version it read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::territory::Entity",
        from = "Column::TerritoryId",
        to = "super::territory::Column::Id"
    )]
    Territory,
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        Ok(crate::bump_version(self, insert, |m| &mut m.version))
    }
}
