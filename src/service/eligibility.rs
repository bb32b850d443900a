//! Eligibility of participants and their PASS IAE (DOMAIN.md sections 2 and 4).

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{eligibility, eligibility_proof, participant, pass_iae, pass_iae_extension};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::organization::expect_kind;
use super::params::{Place, set_at};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::Actor;
use crate::domain::dates::{add_days, add_months};
use crate::domain::eligibility::{self as rules, Claim, Pass, Proof};
use crate::domain::params::ParamKey;
use crate::domain::{
    AttesterKind, Criterion, EligibilityScheme, OrganizationKind, ProofKind, SiaeSubtype, text,
};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct ProofInput {
    pub criterion: Criterion,
    pub proof_kind: ProofKind,
    /// Date on the document.
    pub proof_date: NaiveDate,
    /// The document's reference, e.g. its number or file name.
    pub reference: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct RecordEligibilityInput {
    pub participant_id: ID,
    pub scheme: EligibilityScheme,
    pub attester_kind: AttesterKind,
    /// The prescriber or the insertion structure that attested it.
    pub attester_id: Option<ID>,
    /// For IAE: the kind of structure that hires (ACI, EI, ETTI, AI).
    pub structure_kind: Option<SiaeSubtype>,
    /// Default: today in the participant's territory.
    pub checked_on: Option<NaiveDate>,
    pub proofs: Vec<ProofInput>,
}

/// A participant the caller follows as facilitator; others look missing.
async fn followed<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<participant::Model> {
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
    Ok(p)
}

pub async fn record(
    ctx: &Ctx,
    actor: &Actor,
    input: RecordEligibilityInput,
) -> AppResult<eligibility::Model> {
    let participant_id = ids::decode(Kind::Participant, &input.participant_id, "participantId")?;
    let attester = ids::decode_opt(Kind::Organization, input.attester_id.as_ref(), "attesterId")?;
    if input.proofs.len() > 30 {
        return Err(AppError::bad_input(
            "proofs",
            "proofs : 30 justificatifs au plus",
        ));
    }
    let txn = ctx.db.begin_write().await?;
    let person = followed(&txn.txn, actor, participant_id).await?;
    let today = super::territory::today(ctx, &txn.txn, person.territory_id).await?;
    let expected = match input.attester_kind {
        AttesterKind::Prescriber => Some(OrganizationKind::Prescriber),
        AttesterKind::Employer => Some(OrganizationKind::Siae),
        AttesterKind::Facilitator => None,
    };
    match (expected, attester) {
        (Some(kind), Some(org)) => {
            expect_kind(&txn.txn, org, "attesterId", &[kind]).await?;
        }
        (Some(_), None) => {
            return Err(AppError::bad_input(
                "attesterId",
                "attesterId : quelle structure a attesté l'éligibilité ? (required)",
            ));
        }
        _ => {}
    }
    let checked_on = input.checked_on.unwrap_or(today);
    let claim = Claim {
        scheme: input.scheme,
        attester: input.attester_kind,
        structure: input.structure_kind,
        checked_on,
        proofs: input
            .proofs
            .iter()
            .map(|p| Proof {
                criterion: p.criterion,
                date: p.proof_date,
            })
            .collect(),
    };
    let params = set_at(&txn.txn, Place::territory(person.territory_id), checked_on).await?;
    let valid_until = rules::check(&claim, today, &params)?;
    let row = eligibility::ActiveModel {
        version: Set(1),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
        withdrawal_reason: Set(None),
        id: Set(ctx.clock.new_id()),
        participant_id: Set(participant_id),
        scheme: Set(input.scheme.as_str().to_string()),
        attester_kind: Set(input.attester_kind.as_str().to_string()),
        attester_id: Set(attester),
        structure_kind: Set(input.structure_kind.map(|s| s.as_str().to_string())),
        checked_on: Set(checked_on),
        valid_until: Set(valid_until),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    let mut proofs = Vec::new();
    for p in &input.proofs {
        proofs.push(eligibility_proof::ActiveModel {
            id: Set(ctx.clock.new_id()),
            eligibility_id: Set(row.id),
            criterion: Set(p.criterion.as_str().to_string()),
            proof_kind: Set(p.proof_kind.as_str().to_string()),
            proof_date: Set(p.proof_date),
            reference: Set(text::optional("reference", p.reference.as_deref())?),
        });
    }
    if !proofs.is_empty() {
        eligibility_proof::Entity::insert_many(proofs)
            .exec(&txn.txn)
            .await?;
    }
    // Criteria are sensitive (income support, disability): the trail keeps the decision only.
    let trail = serde_json::json!({"scheme": row.scheme, "checkedOn": row.checked_on, "validUntil": row.valid_until});
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "recordEligibility",
        Kind::Eligibility,
        row.id,
        Some(person.territory_id),
        None,
        Some(&trail),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Participant(person.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The person's IAE eligibility valid on `day`, if any (a withdrawn decision is none).
pub async fn iae_valid_on<C: ConnectionTrait>(
    conn: &C,
    participant: Uuid,
    day: NaiveDate,
) -> AppResult<Option<eligibility::Model>> {
    Ok(eligibility::Entity::find()
        .filter(eligibility::Column::ParticipantId.eq(participant))
        .filter(eligibility::Column::Scheme.eq(EligibilityScheme::Iae.as_str()))
        .filter(eligibility::Column::CheckedOn.lte(day))
        .filter(eligibility::Column::ValidUntil.gte(day))
        .filter(eligibility::Column::WithdrawnAt.is_null())
        .order_by_desc(eligibility::Column::Id)
        .one(conn)
        .await?)
}

/// The person's PASS IAE covering `day`, if any.
pub async fn pass_on<C: ConnectionTrait>(
    conn: &C,
    participant: Uuid,
    day: NaiveDate,
) -> AppResult<Option<pass_iae::Model>> {
    Ok(pass_iae::Entity::find()
        .filter(pass_iae::Column::ParticipantId.eq(participant))
        .filter(pass_iae::Column::StartDate.lte(day))
        .filter(pass_iae::Column::EndDate.gte(day))
        .one(conn)
        .await?)
}

#[derive(Debug, InputObject)]
pub struct IssuePassInput {
    pub participant_id: ID,
    pub start_date: NaiveDate,
    /// The number given by the Plateforme de l'inclusion; one is made up when absent.
    pub number: Option<String>,
}

pub async fn issue_pass(
    ctx: &Ctx,
    actor: &Actor,
    input: IssuePassInput,
) -> AppResult<pass_iae::Model> {
    let participant_id = ids::decode(Kind::Participant, &input.participant_id, "participantId")?;
    let txn = ctx.db.begin_write().await?;
    let person = followed(&txn.txn, actor, participant_id).await?;
    let Some(eligible) = iae_valid_on(&txn.txn, participant_id, input.start_date).await? else {
        return Err(AppError::bad_input(
            "startDate",
            format!(
                "startDate : aucune éligibilité IAE valable le {} ; l'enregistrer d'abord (no IAE eligibility)",
                input.start_date
            ),
        ));
    };
    let earlier: Vec<Pass> = pass_iae::Entity::find()
        .filter(pass_iae::Column::ParticipantId.eq(participant_id))
        .all(&txn.txn)
        .await?
        .iter()
        .map(|p| Pass {
            start: p.start_date,
            end: p.end_date,
        })
        .collect();
    let params = set_at(
        &txn.txn,
        Place::territory(person.territory_id),
        input.start_date,
    )
    .await?;
    let end = rules::check_new_pass(input.start_date, &earlier, &params)?;
    let id = ctx.clock.new_id();
    let number = match text::optional("number", input.number.as_deref())? {
        Some(n) => n,
        None => format!("PASS-{}", &id.simple().to_string()[..12].to_uppercase()),
    };
    let row = pass_iae::ActiveModel {
        id: Set(id),
        participant_id: Set(participant_id),
        number: Set(number),
        eligibility_id: Set(eligible.id),
        start_date: Set(input.start_date),
        end_date: Set(end),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "issuePassIae",
        Kind::PassIae,
        row.id,
        Some(person.territory_id),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Participant(person.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Extends a PASS IAE by the parameter's months, with the reason (kept as its own row).
pub async fn extend_pass(
    ctx: &Ctx,
    actor: &Actor,
    pass_id: &ID,
    reason: &str,
) -> AppResult<pass_iae::Model> {
    let id = ids::decode(Kind::PassIae, pass_id, "passId")?;
    let reason = text::required("reason", reason)?;
    let txn = ctx.db.begin_write().await?;
    let pass = get::<pass_iae::Entity, _>(&txn.txn, id, "PASS IAE").await?;
    let person = followed(&txn.txn, actor, pass.participant_id).await?;
    let today = super::territory::today(ctx, &txn.txn, person.territory_id).await?;
    if pass.end_date < today {
        return Err(AppError::Conflict(format!(
            "le PASS IAE a pris fin le {} ; on prolonge un PASS en cours (already ended)",
            pass.end_date
        )));
    }
    let params = set_at(&txn.txn, Place::territory(person.territory_id), today).await?;
    let new_end = add_days(
        add_months(
            add_days(pass.end_date, 1),
            params.int(ParamKey::PassIaeExtensionMonths),
        ),
        -1,
    );
    pass_iae_extension::ActiveModel {
        id: Set(ctx.clock.new_id()),
        pass_id: Set(pass.id),
        previous_end: Set(pass.end_date),
        new_end: Set(new_end),
        reason: Set(reason),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    let mut active: pass_iae::ActiveModel = pass.clone().into();
    active.end_date = Set(new_end);
    let row = active.update(&txn.txn).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "extendPassIae",
        Kind::PassIae,
        row.id,
        Some(person.territory_id),
        Some(&audit::json(&pass)),
        Some(&audit::json(&row)),
    )
    .await?;
    super::deadlines::sync(
        &txn.txn,
        ctx,
        super::deadlines::SubjectRef::Participant(person.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Withdraws a decision found wrong (a proof that was not one, a criterion misread), with why:
/// it stays in the file, marked, and no longer counts anywhere eligibility is checked (CDDI,
/// PASS IAE, deadlines). Once: a withdrawal is not undone (record a new decision instead).
pub async fn withdraw(
    ctx: &Ctx,
    actor: &Actor,
    id: &ID,
    version: i32,
    reason: &str,
) -> AppResult<eligibility::Model> {
    let id = ids::decode(Kind::Eligibility, id, "id")?;
    let reason = text::required("reason", reason)?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // Through the caller's scope first: another territory's decision answers like a missing one.
    let in_scope = sea_orm::sea_query::Query::select()
        .column(participant::Column::Id)
        .from(participant::Entity)
        .cond_where(scope::participants(actor)?)
        .to_owned();
    let e = eligibility::Entity::find_by_id(id)
        .filter(eligibility::Column::ParticipantId.in_subquery(in_scope))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("éligibilité".into()))?;
    let person = followed(conn, actor, e.participant_id).await?;
    super::participant::not_anonymized(&person)?;
    super::edit::expect_version(conn, actor, Kind::Eligibility, e.id, e.version, version).await?;
    if let Some(at) = e.withdrawn_at {
        return Err(AppError::Conflict(format!(
            "cette décision d'éligibilité a déjà été retirée le {} par {} (already withdrawn)",
            at.format("%d/%m/%Y"),
            e.withdrawn_by.as_deref().unwrap_or("inconnu")
        )));
    }
    let before = trail(&e);
    let mut am: eligibility::ActiveModel = e.into();
    am.withdrawn_at = Set(Some(ctx.clock.now()));
    am.withdrawn_by = Set(Some(actor.label.clone()));
    am.withdrawal_reason = Set(Some(reason));
    let row = am.update(conn).await?;
    super::deadlines::sync(
        conn,
        ctx,
        super::deadlines::SubjectRef::Participant(person.id),
    )
    .await?;
    audit::record(
        ctx,
        conn,
        actor,
        "withdrawEligibility",
        Kind::Eligibility,
        row.id,
        Some(person.territory_id),
        Some(&before),
        Some(&trail(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// What the trail keeps of a decision: never its criteria.
fn trail(e: &eligibility::Model) -> serde_json::Value {
    serde_json::json!({
        "scheme": e.scheme,
        "checkedOn": e.checked_on,
        "validUntil": e.valid_until,
        "version": e.version,
        "withdrawnAt": e.withdrawn_at,
        "withdrawnBy": e.withdrawn_by,
        "withdrawalReason": e.withdrawal_reason,
    })
}
