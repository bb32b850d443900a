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
    /// Référence de la mise en situation, quoted in imported statements; see `reference_for`.
    pub reference: String,
    pub created_at: DateTimeUtc,
    pub chantier_id: Option<Uuid>,
    /// Why a CDDI runs beyond its usual cap (`CddiDerogation`).
    pub derogation: Option<String>,
    pub training_end_date: Option<Date>,
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

/// The reference a company quotes for this placement in its monthly statement ("MS-" and ten
/// Crockford base-32 characters of the id's random bits: short, readable, no I/L/O/U to misread).
pub fn reference_for(id: Uuid) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bits = id.as_u128() & ((1u128 << 50) - 1);
    let code: String = (0..10)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("MS-{code}")
}
