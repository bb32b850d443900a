use sea_orm::entity::prelude::*;

/// Commission or steering committee (instance): a meeting with members, agenda, minutes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "commission")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    pub kind: String,
    pub title: String,
    pub operation_id: Option<Uuid>,
    pub market_id: Option<Uuid>,
    pub chantier_id: Option<Uuid>,
    pub starts_at: DateTimeUtc,
    pub duration_minutes: i32,
    pub place: String,
    pub agenda: String,
    pub minutes: Option<String>,
    pub status: String,
    /// Bumped at each re-planning or cancellation (iCalendar SEQUENCE).
    pub sequence: i32,
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
