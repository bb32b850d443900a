use sea_orm::entity::prelude::*;

/// Marché public with its insertion clause and hour target (calibrage).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "market")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    /// Maître d'ouvrage / acheteur.
    pub buyer_id: Uuid,
    pub operation_id: Option<Uuid>,
    pub reference: String,
    pub title: String,
    /// Folded text for search (lower case, no accents); see `domain::text::search_key`.
    pub search_text: String,
    pub clause_kind: String,
    /// Which ANRU commitment the market's hours count towards, if any.
    pub anru_category: Option<String>,
    pub amount_cents: i64,
    pub notification_date: Option<Date>,
    pub start_date: Date,
    pub end_date: Date,
    pub status: String,
    pub target_minutes: Option<i64>,
    pub target_source: Option<String>,
    pub calib_labour_share_bp: Option<i32>,
    pub calib_insertion_rate_bp: Option<i32>,
    pub calib_hourly_cost_cents: Option<i64>,
    pub calib_proposed_minutes: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Bumped by every change (see `ActiveModelBehavior`); an edit names the version it read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::lot::Entity")]
    Lot,
}

impl Related<super::lot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Lot.def()
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
