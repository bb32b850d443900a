//! Participants (bénéficiaires): identity and the profile the reports count.

use async_graphql::{ID, InputObject};
use chrono::Datelike;
use chrono::NaiveDate;
use entity::{
    eligibility, eligibility_proof, participant, participant_access, placement, placement_exit,
    territory,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, organization::expect_kind, scope};
use crate::domain::auth::{Actor, Role};
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

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateParticipantInput,
) -> AppResult<participant::Model> {
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
    if !actor.facilitates(territory_id) {
        return Err(AppError::Forbidden);
    }
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
        version: Set(1),
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
        anonymized_at: Set(None),
        created_at: Set(ctx.clock.now()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createParticipant",
        Kind::Participant,
        row.id,
        Some(territory_id),
        None,
        Some(&profile(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: ParticipantFilter,
    args: PageArgs,
) -> AppResult<Page<participant::Model>> {
    let mut select = participant::Entity::find().filter(scope::participants(actor)?);
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        select = select.filter(participant::Column::TerritoryId.eq(t));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        // A name matches only people the caller may identify; the others (those a company
        // hosts, say) are left out whatever the term, or trying names would tell who they are.
        select = select
            .filter(page::matches(participant::Column::SearchText, search))
            .filter(scope::identifiable_participants(actor)?);
    }
    page::fetch(&ctx.db.conn, select, participant::Column::Id, &args).await
}

/// What the audit trail keeps of a participant: the profile reports count, never the identity
/// (names, birth date, publics), so that anonymization leaves no copy of it behind.
fn profile(p: &participant::Model) -> serde_json::Value {
    serde_json::json!({
        "territoryId": p.territory_id,
        "sex": p.sex,
        "educationLevel": p.education_level,
        "qpvResident": p.qpv_resident,
        "prescriberId": p.prescriber_id,
        "anonymizedAt": p.anonymized_at,
    })
}

/// Records that the actor read these people's identity (who, when, which), in one write.
pub async fn record_accesses(ctx: &Ctx, actor: &Actor, participant_ids: &[Uuid]) -> AppResult<()> {
    if participant_ids.is_empty() {
        return Ok(());
    }
    let now = ctx.clock.now();
    let rows = participant_ids
        .iter()
        .map(|id| participant_access::ActiveModel {
            id: Set(ctx.clock.new_id()),
            participant_id: Set(*id),
            user_id: Set(actor.user_id),
            actor_label: Set(actor.label.clone()),
            at: Set(now),
        });
    let txn = ctx.db.begin_write().await?;
    participant_access::Entity::insert_many(rows)
        .exec(&txn.txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Who read the file, newest first (facilitators of the territory).
pub async fn accesses(
    ctx: &Ctx,
    actor: &Actor,
    p: &participant::Model,
) -> AppResult<Vec<participant_access::Model>> {
    if !actor.facilitates(p.territory_id) {
        return Err(AppError::Forbidden);
    }
    Ok(participant_access::Entity::find()
        .filter(participant_access::Column::ParticipantId.eq(p.id))
        .order_by_desc(participant_access::Column::Id)
        .all(&ctx.db.conn)
        .await?)
}

/// Clears the identity and keeps the other counts and every hour: the birth date keeps its
/// year (age bands), names, search text and publics are emptied (publics are identity in
/// DOMAIN.md section 9: kept, they would tie "AAH" or "prison release" to a placement its
/// employer knows; the person then no longer counts in the PUBLIC:* lines of reports).
pub async fn anonymize(ctx: &Ctx, actor: &Actor, id: &ID) -> AppResult<participant::Model> {
    let id = ids::decode(Kind::Participant, id, "participantId")?;
    let txn = ctx.db.begin_write().await?;
    let p = scope::load::<participant::Entity, _>(
        &txn.txn,
        scope::participants(actor)?,
        participant::Column::Id,
        id,
        "participant",
    )
    .await?;
    if !actor.facilitates(p.territory_id) {
        return Err(AppError::Forbidden);
    }
    if p.anonymized_at.is_some() {
        return Err(AppError::Conflict(
            "ce participant est déjà anonymisé (already anonymized)".into(),
        ));
    }
    let birth_year =
        chrono::NaiveDate::from_ymd_opt(p.birth_date.year(), 1, 1).unwrap_or(p.birth_date);
    let before = profile(&p);
    let mut am = p.into_active_model();
    am.first_name = Set(String::new());
    am.last_name = Set(ANONYMIZED.to_string());
    am.birth_date = Set(birth_year);
    am.search_text = Set(String::new());
    am.publics = Set(String::new());
    am.anonymized_at = Set(Some(ctx.clock.now()));
    let p = am.update(&txn.txn).await?;
    // What the person's contracts and exits say of them goes too: a derogation tells a
    // disability (DISABLED_WORKER) or an age, an exit's justification is free text about them.
    let theirs = sea_orm::sea_query::Query::select()
        .column(placement::Column::Id)
        .from(placement::Entity)
        .and_where(placement::Column::ParticipantId.eq(p.id))
        .to_owned();
    placement::Entity::update_many()
        .col_expr(
            placement::Column::Derogation,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            placement::Column::Version,
            sea_orm::sea_query::ExprTrait::add(
                sea_orm::sea_query::Expr::col(placement::Column::Version),
                1,
            ),
        )
        .filter(placement::Column::ParticipantId.eq(p.id))
        .exec(&txn.txn)
        .await?;
    placement_exit::Entity::update_many()
        .col_expr(
            placement_exit::Column::Justification,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(placement_exit::Column::PlacementId.in_subquery(theirs))
        .exec(&txn.txn)
        .await?;
    // The criteria that proved eligibility (RSA, AAH…) go with the file; the decisions and their
    // validity stay. The store allows deleting proofs of an anonymized person only.
    let decisions = sea_orm::sea_query::Query::select()
        .column(eligibility::Column::Id)
        .from(eligibility::Entity)
        .and_where(eligibility::Column::ParticipantId.eq(p.id))
        .to_owned();
    eligibility_proof::Entity::delete_many()
        .filter(eligibility_proof::Column::EligibilityId.in_subquery(decisions))
        .exec(&txn.txn)
        .await?;
    // Deadlines about the person (eligibility, PASS IAE) end with the file: no more reminders.
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Participant(p.id),
    )
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "anonymizeParticipant",
        Kind::Participant,
        p.id,
        Some(p.territory_id),
        Some(&before),
        Some(&profile(&p)),
    )
    .await?;
    txn.commit().await?;
    Ok(p)
}

/// Shown instead of a name after anonymization.
pub const ANONYMIZED: &str = "ANONYMISÉ";

/// People of the actor's territories whose last placement ended more than `years` ago (or who
/// never had one and were registered that long ago), not yet anonymized.
pub async fn due_for_anonymization(
    ctx: &Ctx,
    actor: &Actor,
    years: Option<i32>,
) -> AppResult<Vec<participant::Model>> {
    if !actor.any_of(&[Role::Facilitator]) {
        return Err(AppError::Forbidden);
    }
    if years.is_some_and(|y| !(1..=50).contains(&y)) {
        return Err(AppError::bad_input(
            "retentionYears",
            "retentionYears : entre 1 et 50 ans",
        ));
    }
    let today = ctx.clock.now().date_naive();
    // Each territory keeps data for its own RETENTION_YEARS unless the caller asks otherwise.
    let mut cutoffs = std::collections::HashMap::new();
    for t in &actor.territories {
        let y = match years {
            Some(y) => i64::from(y),
            None => super::params::set_at(&ctx.db.conn, super::params::Place::territory(*t), today)
                .await?
                .int(crate::domain::params::ParamKey::RetentionYears),
        };
        cutoffs.insert(*t, crate::domain::dates::add_months(today, -12 * y));
    }
    let people = participant::Entity::find()
        .filter(scope::participants(actor)?)
        .filter(participant::Column::AnonymizedAt.is_null())
        .order_by_asc(participant::Column::Id)
        .all(&ctx.db.conn)
        .await?;
    let placements = placement::Entity::find()
        .filter(placement::Column::ParticipantId.is_in(people.iter().map(|p| p.id)))
        .all(&ctx.db.conn)
        .await?;
    Ok(people
        .into_iter()
        .filter(|p| {
            let Some(&cutoff) = cutoffs.get(&p.territory_id) else {
                return false;
            };
            let mine: Vec<&placement::Model> = placements
                .iter()
                .filter(|pl| pl.participant_id == p.id)
                .collect();
            if mine.is_empty() {
                return p.created_at.date_naive() < cutoff;
            }
            // Every placement over, the last one before the cutoff.
            mine.iter()
                .all(|pl| pl.end_date.is_some_and(|e| e < cutoff))
        })
        .collect())
}
