//! The people's rights (RGPD, DOMAIN.md section 9). Access (art. 15): a person's whole file,
//! as a typed object and as a workbook, for facilitators of the person's territory only, each
//! read logged (`participant_access`) in the transaction that makes it. Rectification (art. 16)
//! is the participant's edit; erasure (art. 17) is `participant::anonymize`.
//!
//! The file is put together in a fixed number of statements, one per section, whatever the
//! number of placements, hours or reads it holds.

pub mod link;
pub mod sheet;

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{
    chantier, convention, eligibility, eligibility_proof, exit_follow_up, hour_entry,
    hour_entry_review, immersion, lot, market, organization, participant, participant_access,
    pass_iae, pass_iae_extension, placement, placement_exit, status_change, territory,
};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;
use uuid::Uuid;

use super::participant::decode_publics;
use super::report::{File, export};
use super::{Ctx, get, scope};
use crate::domain::auth::{Actor, Role};
use crate::domain::hours::format_hours;
use crate::domain::{
    AttesterKind, CddiDerogation, ContractType, ConventionKind, ConventionStatus, Criterion,
    EducationLevel, EligibilityScheme, ExitCategory, ExitOutcome, HourKind, HourSource, HourStatus,
    Modality, PeriodKind, PlacementStatus, ProofKind, Public, Sex, SiaeSubtype,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};
use crate::service::ledger::status_of;

/// A person's whole file (RGPD art. 15): every section the store holds about them. Reached only
/// through `participantFile`, whose root rule and service both require a facilitator of the
/// person's territory, so its fields need no rule of their own (it is not in `SENSITIVE_TYPES`).
#[derive(Debug, Clone, SimpleObject)]
pub struct ParticipantFile {
    pub participant_id: ID,
    /// The person's territory (its name).
    pub territory: String,
    /// When this file was put together (this read, logged in `accesses`).
    pub produced_at: DateTime<Utc>,
    /// Set once the identity was cleared (erasure): `identity` is then null, the rest is what
    /// the store still keeps (counts and hours, no name).
    pub anonymized_at: Option<DateTime<Utc>>,
    /// Names, birth date and publics; null once anonymized (nothing left to give).
    pub identity: Option<FileIdentity>,
    pub profile: FileProfile,
    /// Eligibility decisions with their criteria and proofs (cleared by anonymization).
    pub eligibilities: Vec<FileEligibility>,
    pub passes_iae: Vec<FilePass>,
    /// Placements with their contract terms, oldest first.
    pub placements: Vec<FilePlacement>,
    /// Every ledger entry of the person's placements (corrections included), by period.
    pub hours: Vec<FileHours>,
    /// Life-cycle moves of the placements (the path).
    pub status_changes: Vec<FileStatusChange>,
    pub immersions: Vec<FileImmersion>,
    pub exits: Vec<FileExit>,
    /// The situation a year after an exit.
    pub follow_ups: Vec<FileExit>,
    /// Conventions about one of the person's placements (individual aid, immersion).
    pub conventions: Vec<FileConvention>,
    /// Who read the file and when, newest first; this read included.
    pub accesses: Vec<FileAccess>,
    /// The same file as a workbook, through a signed link for this caller, valid a short while.
    pub download: FileDownload,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileIdentity")]
pub struct FileIdentity {
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub publics: Vec<Public>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileProfile")]
pub struct FileProfile {
    /// Kept after anonymization (age bands).
    pub birth_year: i32,
    pub sex: Sex,
    pub education_level: EducationLevel,
    pub unemployed_since: Option<NaiveDate>,
    pub qpv_resident: bool,
    /// The prescriber's name.
    pub prescriber: Option<String>,
    pub registered_at: DateTime<Utc>,
    /// The version a rectification names.
    pub version: i32,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileEligibility")]
pub struct FileEligibility {
    pub eligibility_id: ID,
    pub scheme: EligibilityScheme,
    pub attester_kind: AttesterKind,
    /// The attesting organization's name.
    pub attester: Option<String>,
    pub structure_kind: Option<SiaeSubtype>,
    pub checked_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub criteria: Vec<FileCriterion>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileCriterion")]
pub struct FileCriterion {
    pub criterion: Criterion,
    pub proof_kind: ProofKind,
    pub proof_date: NaiveDate,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFilePass")]
pub struct FilePass {
    pub number: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    pub extensions: Vec<FilePassExtension>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFilePassExtension")]
pub struct FilePassExtension {
    pub previous_end: NaiveDate,
    pub new_end: NaiveDate,
    pub reason: String,
    pub extended_at: DateTime<Utc>,
    pub extended_by: String,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFilePlacement")]
pub struct FilePlacement {
    pub placement_id: ID,
    pub reference: String,
    /// The market's reference and title.
    pub market: Option<String>,
    /// The lot's number and title.
    pub lot: Option<String>,
    pub chantier: Option<String>,
    pub modality: Modality,
    /// The employer's name.
    pub employer: Option<String>,
    pub contract_type: ContractType,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub weekly_minutes: i32,
    pub weekly_hours: f64,
    pub status: PlacementStatus,
    pub derogation: Option<CddiDerogation>,
    pub training_end_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileHours")]
pub struct FileHours {
    pub entry_id: ID,
    pub placement_reference: String,
    /// `YYYY-MM` of the period.
    pub month: String,
    pub period_kind: PeriodKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub kind: HourKind,
    /// Signed minutes (a correction holds the difference it makes).
    pub minutes: i64,
    pub hours: f64,
    pub status: HourStatus,
    pub source: HourSource,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<String>,
    pub review_reason: Option<String>,
    /// The entry this one corrects.
    pub corrects_id: Option<ID>,
    /// Why the correction was made.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileStatusChange")]
pub struct FileStatusChange {
    pub placement_reference: String,
    pub from: String,
    pub to: String,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<String>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileImmersion")]
pub struct FileImmersion {
    pub placement_reference: String,
    pub host_name: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileExit")]
pub struct FileExit {
    pub placement_reference: String,
    pub date: NaiveDate,
    pub outcome: ExitOutcome,
    pub category: ExitCategory,
    /// Durable, transition or positive: a sortie dynamique.
    pub dynamic: bool,
    pub detail: Option<String>,
    /// Cleared by anonymization.
    pub justification: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileConvention")]
pub struct FileConvention {
    pub convention_id: ID,
    pub reference: String,
    pub kind: ConventionKind,
    pub title: String,
    pub status: ConventionStatus,
    pub placement_reference: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub signed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileAccess")]
pub struct FileAccess {
    pub actor_label: String,
    pub at: DateTime<Utc>,
}

/// Where to download the file as a workbook.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ParticipantFileDownload")]
pub struct FileDownload {
    /// `GET` with the caller's own bearer token; refused to anyone else and after `expiresAt`.
    pub xlsx: String,
    pub expires_at: DateTime<Utc>,
}

/// The file of the person `id`, for a facilitator of their territory; logs the read.
pub async fn file(ctx: &Ctx, actor: &Actor, id: &ID) -> AppResult<ParticipantFile> {
    let id = ids::decode(Kind::Participant, id, "id")?;
    Ok(read(ctx, actor, id, |_| Ok(())).await?.0)
}

/// The workbook behind a link `participantFile` gave (`<id>.xlsx`), checked against its
/// signature, its caller and its expiry before anything is read; the download is a read, logged.
pub async fn download(
    ctx: &Ctx,
    actor: &Actor,
    file_name: &str,
    expires: Option<&str>,
    signature: Option<&str>,
) -> AppResult<File> {
    let Some(id) = file_name.strip_suffix(".xlsx") else {
        return Err(AppError::bad_input(
            "format",
            "format : le dossier se télécharge en .xlsx (xlsx only)",
        ));
    };
    let id = ids::decode(Kind::Participant, &ID(id.to_string()), "id")?;
    link::check(ctx, actor, id, expires, signature)?;
    let (f, bytes) = read(ctx, actor, id, |f| export::xlsx(&sheet::document(f))).await?;
    Ok(File {
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        file_name: format!("dossier-personnel-{}.xlsx", f.produced_at.date_naive()),
        bytes,
    })
}

/// Reads the file in one write transaction: the person through the caller's scope, the
/// facilitator rule, the access row, every section, then `render` (a workbook) before the commit,
/// so that a refused or failed read leaves no trace and a logged one was delivered.
async fn read<T>(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    render: impl FnOnce(&ParticipantFile) -> AppResult<T>,
) -> AppResult<(ParticipantFile, T)> {
    // Facilitators only: not an administrator, not the employer, not the system.
    if !actor.is(Role::Facilitator) {
        return Err(AppError::Forbidden);
    }
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let p = scope::load::<participant::Entity, _>(
        conn,
        scope::participants(actor)?,
        participant::Column::Id,
        id,
        "participant",
    )
    .await?;
    if !actor.facilitates(p.territory_id) {
        return Err(AppError::Forbidden);
    }
    let now = ctx.clock.now();
    participant_access::Entity::insert(participant_access::ActiveModel {
        id: Set(ctx.clock.new_id()),
        participant_id: Set(p.id),
        user_id: Set(actor.user_id),
        actor_label: Set(actor.label.clone()),
        at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    let file = sections(ctx, conn, actor, p, now).await?;
    let rendered = render(&file)?;
    txn.commit().await?;
    Ok((file, rendered))
}

/// `SELECT id FROM placement WHERE participant_id = ?` within the caller's scope.
fn placements_of(actor: &Actor, person: Uuid) -> AppResult<SelectStatement> {
    Ok(Query::select()
        .column(placement::Column::Id)
        .from(placement::Entity)
        .and_where(placement::Column::ParticipantId.eq(person))
        .cond_where(scope::placements(actor)?)
        .to_owned())
}

fn by_id<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|r| (key(&r), r)).collect()
}

/// Every section, one statement each.
async fn sections<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    actor: &Actor,
    p: participant::Model,
    now: DateTime<Utc>,
) -> AppResult<ParticipantFile> {
    let territory = get::<territory::Entity, _>(conn, p.territory_id, "territoire").await?;
    let eligibilities = eligibility::Entity::find()
        .filter(eligibility::Column::ParticipantId.eq(p.id))
        .order_by_asc(eligibility::Column::CheckedOn)
        .order_by_asc(eligibility::Column::Id)
        .all(conn)
        .await?;
    let decisions = Query::select()
        .column(eligibility::Column::Id)
        .from(eligibility::Entity)
        .and_where(eligibility::Column::ParticipantId.eq(p.id))
        .to_owned();
    let proofs = eligibility_proof::Entity::find()
        .filter(eligibility_proof::Column::EligibilityId.in_subquery(decisions))
        .order_by_asc(eligibility_proof::Column::Id)
        .all(conn)
        .await?;
    let passes = pass_iae::Entity::find()
        .filter(pass_iae::Column::ParticipantId.eq(p.id))
        .order_by_asc(pass_iae::Column::StartDate)
        .order_by_asc(pass_iae::Column::Id)
        .all(conn)
        .await?;
    let theirs = Query::select()
        .column(pass_iae::Column::Id)
        .from(pass_iae::Entity)
        .and_where(pass_iae::Column::ParticipantId.eq(p.id))
        .to_owned();
    let extensions = pass_iae_extension::Entity::find()
        .filter(pass_iae_extension::Column::PassId.in_subquery(theirs))
        .order_by_asc(pass_iae_extension::Column::CreatedAt)
        .order_by_asc(pass_iae_extension::Column::Id)
        .all(conn)
        .await?;
    let placements = placement::Entity::find()
        .filter(placement::Column::ParticipantId.eq(p.id))
        .filter(scope::placements(actor)?)
        .order_by_asc(placement::Column::StartDate)
        .order_by_asc(placement::Column::Id)
        .all(conn)
        .await?;
    let entries = hour_entry::Entity::find()
        .find_also_related(hour_entry_review::Entity)
        .filter(hour_entry::Column::PlacementId.in_subquery(placements_of(actor, p.id)?))
        .order_by_asc(hour_entry::Column::PeriodStart)
        .order_by_asc(hour_entry::Column::RecordedAt)
        .order_by_asc(hour_entry::Column::Id)
        .all(conn)
        .await?;
    let changes = status_change::Entity::find()
        .filter(status_change::Column::ObjectType.eq(Kind::Placement.name()))
        .filter(status_change::Column::ObjectId.in_subquery(placements_of(actor, p.id)?))
        .order_by_asc(status_change::Column::ChangedAt)
        .order_by_asc(status_change::Column::Id)
        .all(conn)
        .await?;
    let immersions = immersion::Entity::find()
        .filter(immersion::Column::PlacementId.in_subquery(placements_of(actor, p.id)?))
        .order_by_asc(immersion::Column::StartDate)
        .order_by_asc(immersion::Column::Id)
        .all(conn)
        .await?;
    let exits = placement_exit::Entity::find()
        .filter(placement_exit::Column::PlacementId.in_subquery(placements_of(actor, p.id)?))
        .order_by_asc(placement_exit::Column::ExitDate)
        .order_by_asc(placement_exit::Column::Id)
        .all(conn)
        .await?;
    let follow_ups = exit_follow_up::Entity::find()
        .filter(exit_follow_up::Column::PlacementId.in_subquery(placements_of(actor, p.id)?))
        .order_by_asc(exit_follow_up::Column::ObservedOn)
        .order_by_asc(exit_follow_up::Column::Id)
        .all(conn)
        .await?;
    let conventions = convention::Entity::find()
        .filter(convention::Column::PlacementId.in_subquery(placements_of(actor, p.id)?))
        .filter(scope::conventions(actor)?)
        .order_by_asc(convention::Column::CreatedAt)
        .order_by_asc(convention::Column::Id)
        .all(conn)
        .await?;
    let accesses = participant_access::Entity::find()
        .filter(participant_access::Column::ParticipantId.eq(p.id))
        .order_by_desc(participant_access::Column::At)
        .order_by_desc(participant_access::Column::Id)
        .all(conn)
        .await?;

    // The names the sections refer to, one statement per kind, each through the caller's scope.
    let org_ids: Vec<Uuid> = p
        .prescriber_id
        .into_iter()
        .chain(eligibilities.iter().filter_map(|e| e.attester_id))
        .chain(placements.iter().map(|pl| pl.employer_id))
        .collect();
    let orgs = by_id(
        organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .filter(scope::organizations(actor)?)
            .all(conn)
            .await?,
        |o| o.id,
    );
    let markets = by_id(
        market::Entity::find()
            .filter(market::Column::Id.is_in(placements.iter().filter_map(|pl| pl.market_id)))
            .filter(scope::markets(actor)?)
            .all(conn)
            .await?,
        |m| m.id,
    );
    let lots = by_id(
        lot::Entity::find()
            .filter(lot::Column::Id.is_in(placements.iter().filter_map(|pl| pl.lot_id)))
            .filter(scope::lots(actor)?)
            .all(conn)
            .await?,
        |l| l.id,
    );
    let chantiers = by_id(
        chantier::Entity::find()
            .filter(chantier::Column::Id.is_in(placements.iter().filter_map(|pl| pl.chantier_id)))
            .filter(scope::chantiers(actor)?)
            .all(conn)
            .await?,
        |c| c.id,
    );

    let org_name = |id: Option<Uuid>| id.and_then(|o| orgs.get(&o)).map(|o| o.name.clone());
    let reference: HashMap<Uuid, String> = placements
        .iter()
        .map(|pl| (pl.id, pl.reference.clone()))
        .collect();
    let reference_of = |id: Uuid| reference.get(&id).cloned().unwrap_or_default();
    let mut criteria: HashMap<Uuid, Vec<FileCriterion>> = HashMap::new();
    for pr in proofs {
        criteria
            .entry(pr.eligibility_id)
            .or_default()
            .push(FileCriterion {
                criterion: Criterion::from_db(&pr.criterion),
                proof_kind: ProofKind::from_db(&pr.proof_kind),
                proof_date: pr.proof_date,
                reference: pr.reference,
            });
    }
    let mut extended: HashMap<Uuid, Vec<FilePassExtension>> = HashMap::new();
    for x in extensions {
        extended
            .entry(x.pass_id)
            .or_default()
            .push(FilePassExtension {
                previous_end: x.previous_end,
                new_end: x.new_end,
                reason: x.reason,
                extended_at: x.created_at,
                extended_by: x.created_by,
            });
    }

    let identity = p.anonymized_at.is_none().then(|| FileIdentity {
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        birth_date: p.birth_date,
        publics: decode_publics(&p.publics),
    });
    let participant_id = ids::encode(Kind::Participant, p.id);
    Ok(ParticipantFile {
        download: link::issue(ctx, actor, p.id, &participant_id, now),
        participant_id,
        territory: territory.name,
        produced_at: now,
        anonymized_at: p.anonymized_at,
        identity,
        profile: FileProfile {
            birth_year: p.birth_date.year(),
            sex: Sex::from_db(&p.sex),
            education_level: EducationLevel::from_db(&p.education_level),
            unemployed_since: p.unemployed_since,
            qpv_resident: p.qpv_resident,
            prescriber: org_name(p.prescriber_id),
            registered_at: p.created_at,
            version: p.version,
        },
        eligibilities: eligibilities
            .into_iter()
            .map(|e| FileEligibility {
                eligibility_id: ids::encode(Kind::Eligibility, e.id),
                scheme: EligibilityScheme::from_db(&e.scheme),
                attester_kind: AttesterKind::from_db(&e.attester_kind),
                attester: org_name(e.attester_id),
                structure_kind: e.structure_kind.as_deref().and_then(SiaeSubtype::parse),
                checked_on: e.checked_on,
                valid_until: e.valid_until,
                recorded_at: e.created_at,
                recorded_by: e.created_by,
                criteria: criteria.remove(&e.id).unwrap_or_default(),
            })
            .collect(),
        passes_iae: passes
            .into_iter()
            .map(|x| FilePass {
                extensions: extended.remove(&x.id).unwrap_or_default(),
                number: x.number,
                start_date: x.start_date,
                end_date: x.end_date,
                issued_at: x.created_at,
                issued_by: x.created_by,
            })
            .collect(),
        hours: entries
            .into_iter()
            .map(|(e, review)| FileHours {
                entry_id: ids::encode(Kind::HourEntry, e.id),
                placement_reference: reference_of(e.placement_id),
                month: e.period_start.format("%Y-%m").to_string(),
                period_kind: PeriodKind::from_db(&e.period_kind),
                period_start: e.period_start,
                period_end: e.period_end,
                kind: HourKind::from_db(&e.kind),
                minutes: e.minutes,
                hours: format_hours(e.minutes).parse().unwrap_or(0.0),
                status: status_of(review.as_ref()),
                source: HourSource::from_db(&e.source),
                recorded_at: e.recorded_at,
                recorded_by: e.recorded_by,
                reviewed_at: review.as_ref().map(|r| r.decided_at),
                reviewed_by: review.as_ref().and_then(|r| r.decided_by.clone()),
                review_reason: review.and_then(|r| r.reason),
                corrects_id: e.corrects_id.map(|c| ids::encode(Kind::HourEntry, c)),
                reason: e.reason,
            })
            .collect(),
        status_changes: changes
            .into_iter()
            .map(|c| FileStatusChange {
                placement_reference: reference_of(c.object_id),
                from: c.from_status,
                to: c.to_status,
                reason: c.reason,
                changed_at: c.changed_at,
                changed_by: c.changed_by,
            })
            .collect(),
        immersions: immersions
            .into_iter()
            .map(|i| FileImmersion {
                placement_reference: reference_of(i.placement_id),
                host_name: i.host_name,
                start_date: i.start_date,
                end_date: i.end_date,
            })
            .collect(),
        exits: exits
            .into_iter()
            .map(|e| {
                let outcome = ExitOutcome::from_db(&e.outcome);
                exit_line(
                    reference_of(e.placement_id),
                    e.exit_date,
                    outcome,
                    e.detail,
                    e.justification,
                    e.created_at,
                    e.created_by,
                )
            })
            .collect(),
        follow_ups: follow_ups
            .into_iter()
            .map(|f| {
                let outcome = ExitOutcome::from_db(&f.outcome);
                exit_line(
                    reference_of(f.placement_id),
                    f.observed_on,
                    outcome,
                    f.detail,
                    None,
                    f.created_at,
                    f.created_by,
                )
            })
            .collect(),
        conventions: conventions
            .into_iter()
            .map(|c| FileConvention {
                convention_id: ids::encode(Kind::Convention, c.id),
                placement_reference: c.placement_id.map(&reference_of).unwrap_or_default(),
                reference: c.reference,
                kind: ConventionKind::from_db(&c.kind),
                title: c.title,
                status: ConventionStatus::from_db(&c.status),
                start_date: c.start_date,
                end_date: c.end_date,
                signed_on: c.signed_on,
            })
            .collect(),
        accesses: accesses
            .into_iter()
            .map(|a| FileAccess {
                actor_label: a.actor_label,
                at: a.at,
            })
            .collect(),
        placements: placements
            .into_iter()
            .map(|pl| FilePlacement {
                placement_id: ids::encode(Kind::Placement, pl.id),
                market: pl
                    .market_id
                    .and_then(|m| markets.get(&m))
                    .map(|m| format!("{} — {}", m.reference, m.title)),
                lot: pl
                    .lot_id
                    .and_then(|l| lots.get(&l))
                    .map(|l| format!("{} — {}", l.number, l.title)),
                chantier: pl
                    .chantier_id
                    .and_then(|c| chantiers.get(&c))
                    .map(|c| c.title.clone()),
                modality: Modality::from_db(&pl.modality),
                employer: org_name(Some(pl.employer_id)),
                contract_type: ContractType::from_db(&pl.contract_type),
                start_date: pl.start_date,
                end_date: pl.end_date,
                weekly_minutes: pl.weekly_minutes,
                weekly_hours: format_hours(i64::from(pl.weekly_minutes))
                    .parse()
                    .unwrap_or(0.0),
                status: PlacementStatus::from_db(&pl.status),
                derogation: pl.derogation.as_deref().and_then(CddiDerogation::parse),
                training_end_date: pl.training_end_date,
                created_at: pl.created_at,
                reference: pl.reference,
            })
            .collect(),
    })
}

fn exit_line(
    placement_reference: String,
    date: NaiveDate,
    outcome: ExitOutcome,
    detail: Option<String>,
    justification: Option<String>,
    recorded_at: DateTime<Utc>,
    recorded_by: String,
) -> FileExit {
    let category = crate::domain::exits::category(outcome);
    FileExit {
        placement_reference,
        date,
        outcome,
        category,
        dynamic: crate::domain::exits::is_dynamic(category),
        detail,
        justification,
        recorded_at,
        recorded_by,
    }
}
