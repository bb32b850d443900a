//! Participants (bénéficiaires): identity and the profile the reports count.

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::Datelike;
use chrono::NaiveDate;
use entity::{
    eligibility, eligibility_proof, participant, participant_access, pass_iae, placement,
    placement_exit, territory,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, organization::expect_kind, scope};
use crate::domain::auth::{Actor, Role};
use crate::domain::{
    CddiDerogation, ContractType, EducationLevel, OrganizationKind, PlacementStatus, Public, Sex,
    text,
};
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
    check_dates(today, input.birth_date, input.unemployed_since)?;
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

/// The create-time rules on a person's dates, in the territory's `today`: an age between 14 and
/// 99, registered as a jobseeker neither in the future nor before birth.
fn check_dates(
    today: NaiveDate,
    birth_date: NaiveDate,
    unemployed_since: Option<NaiveDate>,
) -> AppResult<()> {
    if !matches!(today.years_since(birth_date), Some(14..=99)) {
        return Err(AppError::bad_input(
            "birthDate",
            format!(
                "birthDate : date de naissance invraisemblable ({birth_date}) (implausible birth date)"
            ),
        ));
    }
    if let Some(since) = unemployed_since
        && (since > today || since < birth_date)
    {
        return Err(AppError::bad_input(
            "unemployedSince",
            format!(
                "unemployedSince : {since} est dans le futur ou avant la naissance (implausible date)"
            ),
        ));
    }
    Ok(())
}

/// Longest reason of a rectification.
pub const MAX_REASON_LEN: usize = text::MAX_TEXT_LEN;

/// Refuses to write about a person whose file was erased: anonymization runs once, so what an
/// edit put back (a derogation, a justification, a reason) would stay for good.
pub fn not_anonymized(p: &participant::Model) -> AppResult<()> {
    if p.anonymized_at.is_some() {
        return Err(AppError::Conflict(
            "ce participant est anonymisé : son dossier ne se modifie plus (participant is anonymized)"
                .into(),
        ));
    }
    Ok(())
}

#[derive(Debug, InputObject)]
pub struct RectifyParticipantInput {
    pub participant_id: ID,
    /// The version the rectification was made on (CONFLICT if another change landed since).
    pub version: i32,
    /// Why (the person's request, a typing error...): kept in the audit trail with the names of
    /// the fields changed, never their values. Do not copy the old values into it.
    pub reason: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub education_level: Option<EducationLevel>,
    /// `null` clears it.
    pub unemployed_since: MaybeUndefined<NaiveDate>,
    pub qpv_resident: Option<bool>,
    /// The whole list (replaces the stored one).
    pub publics: Option<Vec<Public>>,
    /// `null` clears it.
    pub prescriber_id: MaybeUndefined<ID>,
}

/// A participant a facilitator of its territory acts on, locked; others look missing or are
/// refused.
async fn for_update<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: &ID,
    field: &'static str,
) -> AppResult<participant::Model> {
    let id = ids::decode(Kind::Participant, id, field)?;
    let p = participant::Entity::find()
        .filter(scope::participants(actor)?)
        .filter(participant::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("participant".into()))?;
    if !actor.facilitates(p.territory_id) {
        return Err(AppError::Forbidden);
    }
    Ok(p)
}

/// Rectification (RGPD art. 16): identity and profile corrected, every rule of the creation
/// checked again, the trail keeping the reason and the names of the fields changed.
pub async fn rectify(
    ctx: &Ctx,
    actor: &Actor,
    input: RectifyParticipantInput,
) -> AppResult<participant::Model> {
    let reason = text::required("reason", &input.reason)?;
    let first_name = input
        .first_name
        .as_deref()
        .map(|v| text::required("firstName", v))
        .transpose()?;
    let last_name = input
        .last_name
        .as_deref()
        .map(|v| text::required("lastName", v))
        .transpose()?;
    let prescriber = match &input.prescriber_id {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => {
            Some(Some(ids::decode(Kind::Organization, id, "prescriberId")?))
        }
    };
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let p = for_update(conn, actor, &input.participant_id, "participantId").await?;
    super::edit::expect_version(
        conn,
        actor,
        Kind::Participant,
        p.id,
        p.version,
        input.version,
    )
    .await?;
    if p.anonymized_at.is_some() {
        return Err(AppError::Conflict(
            "ce participant est anonymisé : il n'y a plus d'identité à rectifier (participant is anonymized)".into(),
        ));
    }
    let mut new = p.clone();
    if let Some(v) = first_name {
        new.first_name = v;
    }
    if let Some(v) = last_name {
        new.last_name = v;
    }
    if let Some(v) = input.birth_date {
        new.birth_date = v;
    }
    if let Some(v) = input.sex {
        new.sex = v.as_str().to_string();
    }
    if let Some(v) = input.education_level {
        new.education_level = v.as_str().to_string();
    }
    match input.unemployed_since {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => new.unemployed_since = None,
        MaybeUndefined::Value(v) => new.unemployed_since = Some(v),
    }
    if let Some(v) = input.qpv_resident {
        new.qpv_resident = v;
    }
    if let Some(v) = &input.publics {
        new.publics = encode_publics(v);
    }
    if let Some(v) = prescriber {
        new.prescriber_id = v;
    }
    new.search_text = text::search_key(&[&new.first_name, &new.last_name]);
    let changed: Vec<&str> = [
        ("firstName", p.first_name != new.first_name),
        ("lastName", p.last_name != new.last_name),
        ("birthDate", p.birth_date != new.birth_date),
        ("sex", p.sex != new.sex),
        ("educationLevel", p.education_level != new.education_level),
        (
            "unemployedSince",
            p.unemployed_since != new.unemployed_since,
        ),
        ("qpvResident", p.qpv_resident != new.qpv_resident),
        ("publics", p.publics != new.publics),
        ("prescriberId", p.prescriber_id != new.prescriber_id),
    ]
    .into_iter()
    .filter(|(_, c)| *c)
    .map(|(f, _)| f)
    .collect();
    if changed.is_empty() {
        return Err(AppError::bad_input(
            "participantId",
            "participantId : aucun champ ne change ; rien à rectifier (nothing to rectify)",
        ));
    }
    let today = super::territory::today(ctx, conn, p.territory_id).await?;
    check_dates(today, new.birth_date, new.unemployed_since)?;
    if let Some(Some(org)) = prescriber {
        expect_kind(conn, org, "prescriberId", &[OrganizationKind::Prescriber]).await?;
    }
    // The CDDI rules read the age (over 50) and the publics (disabled worker): the person's
    // running CDDI are checked again as the rectified person.
    if changed
        .iter()
        .any(|f| matches!(*f, "birthDate" | "publics"))
    {
        let running = placement::Entity::find()
            .filter(placement::Column::ParticipantId.eq(p.id))
            .filter(placement::Column::ContractType.eq(ContractType::Cddi.as_str()))
            .filter(
                placement::Column::Status.is_in(
                    [
                        PlacementStatus::Proposed,
                        PlacementStatus::Active,
                        PlacementStatus::Suspended,
                    ]
                    .map(|s| s.as_str()),
                ),
            )
            .all(conn)
            .await?;
        for pl in running {
            let site = super::placement::site_of(conn, &pl).await?;
            super::placement::check_contract(
                conn,
                &site,
                &super::placement::Planned {
                    id: Some(pl.id),
                    participant: &new,
                    employer: pl.employer_id,
                    contract: ContractType::Cddi,
                    start: pl.start_date,
                    end: pl.end_date,
                    weekly_minutes: i64::from(pl.weekly_minutes),
                    derogation: pl.derogation.as_deref().and_then(CddiDerogation::parse),
                    training_end: pl.training_end_date,
                },
            )
            .await
            .map_err(|e| match e {
                AppError::BadInput { message, .. } | AppError::Conflict(message) => {
                    AppError::bad_input(
                        if changed.contains(&"birthDate") {
                            "birthDate"
                        } else {
                            "publics"
                        },
                        format!(
                            "la mise en situation {} ne tiendrait plus ses règles : {message}",
                            pl.reference
                        ),
                    )
                }
                e => e,
            })?;
        }
    }
    let mut am = p.clone().into_active_model();
    am.first_name = Set(new.first_name.clone());
    am.last_name = Set(new.last_name.clone());
    am.search_text = Set(new.search_text.clone());
    am.birth_date = Set(new.birth_date);
    am.sex = Set(new.sex.clone());
    am.education_level = Set(new.education_level.clone());
    am.unemployed_since = Set(new.unemployed_since);
    am.qpv_resident = Set(new.qpv_resident);
    am.publics = Set(new.publics.clone());
    am.prescriber_id = Set(new.prescriber_id);
    let row = am.update(conn).await?;
    super::deadlines::sync(conn, ctx, super::deadlines::SubjectRef::Participant(row.id)).await?;
    // What was rectified and why, never the values (old or new): the trail outlives erasure.
    audit::record(
        ctx,
        conn,
        actor,
        "rectifyParticipant",
        Kind::Participant,
        row.id,
        Some(row.territory_id),
        Some(&serde_json::json!({"version": p.version})),
        Some(&serde_json::json!({
            "version": row.version,
            "reason": reason,
            "fieldsChanged": changed,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes a person entered by mistake while nothing depends on them (placements, eligibility
/// decisions, PASS IAE): their deadlines and the log of who read the file go too, in the same
/// transaction, since nothing is to be kept about someone who should never have been recorded;
/// the audit event of the delete (no identity in it) remains.
pub async fn delete(ctx: &Ctx, actor: &Actor, id: &ID, version: i32) -> AppResult<ID> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let p = for_update(conn, actor, id, "id").await?;
    super::edit::expect_version(conn, actor, Kind::Participant, p.id, p.version, version).await?;
    let placements = placement::Entity::find()
        .filter(placement::Column::ParticipantId.eq(p.id))
        .count(conn)
        .await?;
    let decisions = eligibility::Entity::find()
        .filter(eligibility::Column::ParticipantId.eq(p.id))
        .count(conn)
        .await?;
    let passes = pass_iae::Entity::find()
        .filter(pass_iae::Column::ParticipantId.eq(p.id))
        .count(conn)
        .await?;
    super::edit::nothing_depends(
        "ce participant",
        &[
            ("mise(s) en situation", placements),
            ("décision(s) d'éligibilité", decisions),
            ("PASS IAE", passes),
        ],
    )?;
    super::deadlines::forget(conn, ctx, p.id).await?;
    // The reads of the file may be erased once the identity is (see migration 000021): clear
    // it first, then the reads, then the row.
    let mut am = p.clone().into_active_model();
    am.first_name = Set(String::new());
    am.last_name = Set(ANONYMIZED.to_string());
    am.search_text = Set(String::new());
    am.publics = Set(String::new());
    am.anonymized_at = Set(Some(ctx.clock.now()));
    am.update(conn).await?;
    participant_access::Entity::delete_many()
        .filter(participant_access::Column::ParticipantId.eq(p.id))
        .exec(conn)
        .await?;
    participant::Entity::delete_by_id(p.id).exec(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "deleteParticipant",
        Kind::Participant,
        p.id,
        Some(p.territory_id),
        Some(&profile(&p)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(ids::encode(Kind::Participant, p.id))
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
    // Locked: a rectification landing meanwhile would otherwise be overwritten from this read.
    let p = scope::lock::<participant::Entity, _>(
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
    // Why a decision was withdrawn is free text about the person: it goes too (the store
    // allows this one change once the person is anonymized, migration 000021).
    eligibility::Entity::update_many()
        .col_expr(
            eligibility::Column::WithdrawalReason,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            eligibility::Column::Version,
            sea_orm::sea_query::ExprTrait::add(
                sea_orm::sea_query::Expr::col(eligibility::Column::Version),
                1,
            ),
        )
        .filter(eligibility::Column::ParticipantId.eq(p.id))
        .filter(eligibility::Column::WithdrawalReason.is_not_null())
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
