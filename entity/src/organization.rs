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

impl ActiveModelBehavior for ActiveModel {}
