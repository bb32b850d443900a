use sea_orm::entity::prelude::*;

/// Opération / programme, above all an urban-renewal project (PRU, NPNRU) with its ANRU commitments.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "operation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    /// Porteur de projet (town, EPCI, social landlord).
    pub owner_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    /// ANRU commitment on works and engineering, in basis points of hours worked (500 = 5 %).
    pub works_rate_bp: i32,
    /// ANRU commitment on local-management (GUP) markets, in basis points (1000 = 10 %).
    pub gup_rate_bp: i32,
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
