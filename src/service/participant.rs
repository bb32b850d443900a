//! Participants (bénéficiaires): identity and the profile the reports count.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{participant, territory};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::page::{self, Page, PageArgs};
use super::{Ctx, get, organization::expect_kind};
use crate::domain::{EducationLevel, OrganizationKind, Public, Sex, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct CreateParticipantInput {
    pub territory_id: ID,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub education_level: EducationLevel,
    /// Registered as a jobseeker since (inscrit à France Travail depuis).
    pub unemployed_since: Option<NaiveDate>,
    /// Lives in a priority neighbourhood (QPV).
    pub qpv_resident: bool,
    #[graphql(default)]
    pub publics: Vec<Public>,
    /// Prescripteur who directed the person.
    pub prescriber_id: Option<ID>,
}

#[derive(Debug, Default, InputObject)]
pub struct ParticipantFilter {
    pub territory_id: Option<ID>,
    /// Part of the first or last name.
    pub search: Option<String>,
}

/// Publics are stored sorted and comma-separated.
pub fn encode_publics(publics: &[Public]) -> String {
    let mut v: Vec<Public> = publics.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

pub fn decode_publics(stored: &str) -> Vec<Public> {
    stored.split(',').filter_map(Public::parse).collect()
}

pub async fn create(ctx: &Ctx, input: CreateParticipantInput) -> AppResult<participant::Model> {
    let first_name = text::required("firstName", &input.first_name)?;
    let last_name = text::required("lastName", &input.last_name)?;
    let territory_id = ids::decode(Kind::Territory, &input.territory_id, "territoryId")?;
    let prescriber_id = ids::decode_opt(
        Kind::Organization,
        input.prescriber_id.as_ref(),
        "prescriberId",
    )?;
    let txn = ctx.db.begin_write().await?;
    let territory = get::<territory::Entity, _>(&txn.txn, territory_id, "territoire").await?;
    let today = ctx.clock.today_in(super::territory::time_zone(&territory));
    let age_years = today.years_since(input.birth_date);
    if !matches!(age_years, Some(14..=99)) {
        return Err(AppError::bad_input(
            "birthDate",
            format!(
                "birthDate : date de naissance invraisemblable ({}) (implausible birth date)",
                input.birth_date
            ),
        ));
    }
    if let Some(since) = input.unemployed_since
        && (since > today || since < input.birth_date)
    {
        return Err(AppError::bad_input(
            "unemployedSince",
            format!(
                "unemployedSince : {since} est dans le futur ou avant la naissance (implausible date)"
            ),
        ));
    }
    if let Some(p) = prescriber_id {
        expect_kind(&txn.txn, p, "prescriberId", &[OrganizationKind::Prescriber]).await?;
    }
    let row = participant::ActiveModel {
        id: Set(ctx.clock.new_id()),
        territory_id: Set(territory_id),
        search_text: Set(text::search_key(&[&first_name, &last_name])),
        first_name: Set(first_name),
        last_name: Set(last_name),
        birth_date: Set(input.birth_date),
        sex: Set(input.sex.as_str().to_string()),
        education_level: Set(input.education_level.as_str().to_string()),
        unemployed_since: Set(input.unemployed_since),
        qpv_resident: Set(input.qpv_resident),
        publics: Set(encode_publics(&input.publics)),
        prescriber_id: Set(prescriber_id),
        created_at: Set(ctx.clock.now()),
    }
    .insert(&txn.txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn list(
    ctx: &Ctx,
    filter: ParticipantFilter,
    args: PageArgs,
) -> AppResult<Page<participant::Model>> {
    let mut select = participant::Entity::find();
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        select = select.filter(participant::Column::TerritoryId.eq(t));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        select = select.filter(page::matches(participant::Column::SearchText, search));
    }
    page::fetch(&ctx.db.conn, select, participant::Column::Id, &args).await
}
