use sea_orm::entity::prelude::*;

/// Bénéficiaire / salarié en insertion. Personal data: see DOMAIN.md section 9.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "participant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// Folded text for search (lower case, no accents); see `domain::text::search_key`.
    pub search_text: String,
    pub birth_date: Date,
    pub sex: String,
    pub education_level: String,
    pub unemployed_since: Option<Date>,
    pub qpv_resident: bool,
    /// Comma-separated public codes (RSA, AAH, ...), sorted.
    pub publics: String,
    pub prescriber_id: Option<Uuid>,
    /// Set when identity fields were cleared at the end of retention.
    pub anonymized_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
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
