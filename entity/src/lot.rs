use sea_orm::entity::prelude::*;

/// Lot of a market, with its awardee (titulaire) and its own share of the target.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "lot")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub market_id: Uuid,
    pub number: i32,
    pub title: String,
    pub awardee_id: Option<Uuid>,
    pub amount_cents: Option<i64>,
    pub target_minutes: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Bumped by every change (see `ActiveModelBehavior`); an edit names the version it read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::market::Entity",
        from = "Column::MarketId",
        to = "super::market::Column::Id"
    )]
    Market,
}

impl Related<super::market::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Market.def()
    }
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
