//! The hours ledger: record, validate or reject, correct. Rows are only ever inserted
//! (the database refuses UPDATE and DELETE on these tables).

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::{hour_entry, hour_entry_review, market, placement, status_change};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get, scope};
use crate::domain::auth::{Actor, Role};
use crate::domain::ledger::{self as rules, ExistingEntry, Period, Worked};
use crate::domain::{HourKind, HourSource, HourStatus, PeriodKind, PlacementStatus, hours, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, InputObject)]
pub struct RecordHoursInput {
    pub placement_id: ID,
    /// A calendar month `YYYY-MM` (the monthly statement) ...
    pub month: Option<String>,
    /// ... or one day. Give exactly one of the two.
    pub day: Option<NaiveDate>,
    #[graphql(default_with = "HourKind::Work")]
    pub kind: HourKind,
    /// Hours, e.g. "151.5", "151,5" or "151:30"; converted to whole minutes exactly.
    pub hours: String,
    #[graphql(default_with = "HourSource::CompanyDeclaration")]
    pub source: HourSource,
}

#[derive(Debug, InputObject)]
pub struct CorrectHoursInput {
    /// The entry to correct (or one of its corrections).
    pub entry_id: ID,
    /// The value the entry should have had, in hours.
    pub hours: String,
    /// Why: kept with the correction for ever.
    pub reason: String,
}

#[derive(Debug, InputObject)]
pub struct ReviewHoursInput {
    pub entry_ids: Vec<ID>,
    /// Required when rejecting.
    pub reason: Option<String>,
}

#[derive(Debug, Default, InputObject)]
pub struct HourEntryFilter {
    pub market_id: Option<ID>,
    pub lot_id: Option<ID>,
    pub placement_id: Option<ID>,
    pub status: Option<HourStatus>,
}

/// Most entries reviewed in one call.
pub const MAX_REVIEW_BATCH: usize = 500;

pub fn status_of(review: Option<&hour_entry_review::Model>) -> HourStatus {
    review.map_or(HourStatus::Declared, |r| HourStatus::from_db(&r.decision))
}

/// Periods starting after `day` in which the placement still holds hours (net of corrections, rejected
/// entries left out), oldest first: a placement cannot end before them.
pub async fn months_with_hours_after<C: ConnectionTrait>(
    conn: &C,
    placement_id: Uuid,
    day: NaiveDate,
) -> AppResult<Vec<NaiveDate>> {
    let mut net = std::collections::BTreeMap::<NaiveDate, i64>::new();
    for (e, r) in hour_entry::Entity::find()
        .find_also_related(hour_entry_review::Entity)
        .filter(hour_entry::Column::PlacementId.eq(placement_id))
        .filter(hour_entry::Column::PeriodStart.gt(day))
        .all(conn)
        .await?
    {
        if status_of(r.as_ref()) != HourStatus::Rejected {
            *net.entry(Period::month_of(e.period_start).start)
                .or_default() += e.minutes;
        }
    }
    Ok(net
        .into_iter()
        .filter(|(_, m)| *m != 0)
        .map(|(month, _)| month)
        .collect())
}

/// Locks the placement row for this transaction (PostgreSQL; SQLite writes are already serial),
/// so that concurrent declarations on one placement are checked one after the other.
async fn lock_placement<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<placement::Model> {
    placement::Entity::find()
        .filter(scope::placements(actor)?)
        .filter(placement::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("mise en situation (placement)".into()))
}

/// Locks markets' rows for this transaction, in one order (PostgreSQL; SQLite writes are
/// serial): a recording or an import checks the market's status under the same lock as the
/// close (`COMPLETED → CLOSED`) that counts the entries awaiting review, so no DECLARED entry
/// lands on a CLOSED market.
pub(crate) async fn lock_markets<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<Vec<market::Model>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(5_000) {
        out.extend(
            market::Entity::find()
                .filter(market::Column::Id.is_in(chunk.to_vec()))
                .order_by_asc(market::Column::Id)
                .lock_exclusive()
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// The days each placement can have worked: its dates less its suspensions, read from its
/// history of moves (the local day of each move, in its territory's zone `tz`).
pub(crate) async fn worked<'a, C: ConnectionTrait>(
    conn: &C,
    placements: impl IntoIterator<Item = (&'a placement::Model, Tz)>,
) -> AppResult<std::collections::HashMap<Uuid, Worked>> {
    let placements: Vec<(&placement::Model, Tz)> = placements.into_iter().collect();
    let mut moves: std::collections::HashMap<Uuid, Vec<status_change::Model>> =
        std::collections::HashMap::new();
    let ids: Vec<Uuid> = placements.iter().map(|(p, _)| p.id).collect();
    for chunk in ids.chunks(5_000) {
        for m in status_change::Entity::find()
            .filter(status_change::Column::ObjectType.eq(Kind::Placement.name()))
            .filter(status_change::Column::ObjectId.is_in(chunk.to_vec()))
            .order_by_asc(status_change::Column::ChangedAt)
            .order_by_asc(status_change::Column::Id)
            .all(conn)
            .await?
        {
            moves.entry(m.object_id).or_default().push(m);
        }
    }
    Ok(placements
        .into_iter()
        .map(|(p, tz)| {
            let history: Vec<_> = moves
                .get(&p.id)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|m| {
                    (
                        PlacementStatus::from_db(&m.from_status),
                        PlacementStatus::from_db(&m.to_status),
                        m.changed_at.with_timezone(&tz).date_naive(),
                    )
                })
                .collect();
            let worked = Worked {
                suspended: rules::suspensions(&history),
                ..Worked::new(p.start_date, p.end_date)
            };
            (p.id, worked)
        })
        .collect())
}

/// Entries of the placement inside the month of `period`, with their status.
async fn month_entries<C: ConnectionTrait>(
    conn: &C,
    placement_id: Uuid,
    period: Period,
) -> AppResult<Vec<(hour_entry::Model, HourStatus)>> {
    let month = Period::month_of(period.start);
    let rows = hour_entry::Entity::find()
        .find_also_related(hour_entry_review::Entity)
        .filter(hour_entry::Column::PlacementId.eq(placement_id))
        .filter(hour_entry::Column::PeriodStart.gte(month.start))
        .filter(hour_entry::Column::PeriodEnd.lte(month.end))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(e, r)| {
            let s = status_of(r.as_ref());
            (e, s)
        })
        .collect())
}

/// A stored entry as the ledger's rules read it (recording here, imports in `report::import`).
pub(crate) fn existing_entry(e: &hour_entry::Model, status: HourStatus) -> ExistingEntry {
    ExistingEntry {
        period: Period {
            kind: PeriodKind::from_db(&e.period_kind),
            start: e.period_start,
            end: e.period_end,
        },
        kind: HourKind::from_db(&e.kind),
        minutes: e.minutes,
        status,
    }
}

fn existing(rows: &[(hour_entry::Model, HourStatus)]) -> Vec<ExistingEntry> {
    rows.iter().map(|(e, s)| existing_entry(e, *s)).collect()
}

/// Where the placement stands for the ledger, its market locked: the market must still take
/// hours; a declaration needs a placement that takes hours (a correction only a live one).
/// Returns the territory's today, the territory, and the days the placement worked.
async fn context<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    placement: &placement::Model,
    declaring: bool,
) -> AppResult<(NaiveDate, Uuid, Worked)> {
    // Chantier placements without a market: the placement's own lock suffices.
    let site = match lock_markets(conn, placement.market_id).await?.pop() {
        Some(m) if placement.chantier_id.is_none() => super::placement::Site {
            territory: m.territory_id,
            market: Some(m),
            chantier: None,
        },
        _ => super::placement::site_of(conn, placement).await?,
    };
    site.check_accepts_work()?;
    let status = PlacementStatus::from_db(&placement.status);
    if status == PlacementStatus::Cancelled || (declaring && !rules::takes_hours(status)) {
        return Err(AppError::Conflict(format!(
            "la mise en situation est {status} : elle ne reçoit pas d'heures ; seules les mises en situation actives, ou terminées pour les jours de leur contrat, en reçoivent (placement is {status})"
        )));
    }
    let tz = super::territory::zone_of(ctx, conn, site.territory).await?;
    let mut worked = worked(conn, [(placement, tz)]).await?;
    Ok((
        super::territory::today(ctx, conn, site.territory).await?,
        site.territory,
        worked.remove(&placement.id).unwrap_or_default(),
    ))
}

pub async fn record(
    ctx: &Ctx,
    actor: &Actor,
    input: RecordHoursInput,
) -> AppResult<hour_entry::Model> {
    // Companies and insertion structures declare; only facilitators enter hours as such.
    let source = match actor.role {
        Some(Role::Company | Role::Siae) => HourSource::CompanyDeclaration,
        None | Some(Role::Facilitator) => input.source,
        _ => return Err(AppError::Forbidden),
    };
    let placement_id = ids::decode(Kind::Placement, &input.placement_id, "placementId")?;
    let period = match (input.month.as_deref(), input.day) {
        (Some(m), None) => Period::parse_month("month", m)?,
        (None, Some(d)) => Period::day(d),
        _ => {
            return Err(AppError::bad_input(
                "month",
                "month / day : donner soit un mois (AAAA-MM), soit un jour, pas les deux (give exactly one)",
            ));
        }
    };
    let minutes = hours::parse_hours("hours", &input.hours)?;
    rules::check_declared_minutes(minutes)?;

    let txn = ctx.db.begin_write().await?;
    let placement = lock_placement(&txn.txn, actor, placement_id).await?;
    let (today, territory, worked) = context(ctx, &txn.txn, &placement, true).await?;
    let rows = month_entries(&txn.txn, placement_id, period).await?;
    let duplicate = rows.iter().any(|(e, s)| {
        e.corrects_id.is_none()
            && *s != HourStatus::Rejected
            && e.period_kind == period.kind.as_str()
            && e.period_start == period.start
            && e.kind == input.kind.as_str()
    });
    if duplicate {
        return Err(AppError::Conflict(format!(
            "des heures {} sont déjà déclarées pour cette période ({} – {}) ; corriger l'entrée existante (already declared: correct it instead)",
            input.kind, period.start, period.end
        )));
    }
    let known = existing(&rows);
    rules::check_one_granularity(period, input.kind, &known)?;
    rules::check_record(period, minutes, &worked, today, &known)?;
    let row = insert(
        ctx, actor, &txn.txn, &placement, period, input.kind, minutes, source, None, None,
    )
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "recordHours",
        Kind::HourEntry,
        row.id,
        Some(territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    super::deadlines::entries_recorded(&txn.txn, ctx, [(&row, today)]).await?;
    txn.commit().await?;
    Ok(row)
}

/// The territory of each placement (through its market or chantier), in two queries.
async fn territories_of<C: ConnectionTrait>(
    conn: &C,
    placements: impl Iterator<Item = Uuid>,
) -> AppResult<std::collections::HashMap<Uuid, Uuid>> {
    let rows = placement::Entity::find()
        .filter(placement::Column::Id.is_in(placements))
        .all(conn)
        .await?;
    let markets: std::collections::HashMap<Uuid, Uuid> = market::Entity::find()
        .filter(market::Column::Id.is_in(rows.iter().filter_map(|p| p.market_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m.territory_id))
        .collect();
    let chantiers: std::collections::HashMap<Uuid, Uuid> = entity::chantier::Entity::find()
        .filter(entity::chantier::Column::Id.is_in(rows.iter().filter_map(|p| p.chantier_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.territory_id))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|p| {
            let t = p
                .market_id
                .and_then(|m| markets.get(&m))
                .or(p.chantier_id.and_then(|c| chantiers.get(&c)));
            t.map(|t| (p.id, *t))
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn insert<C: ConnectionTrait>(
    ctx: &Ctx,
    actor: &Actor,
    conn: &C,
    placement: &placement::Model,
    period: Period,
    kind: HourKind,
    minutes: i64,
    source: HourSource,
    corrects: Option<Uuid>,
    reason: Option<String>,
) -> AppResult<hour_entry::Model> {
    Ok(hour_entry::ActiveModel {
        id: Set(ctx.clock.new_id()),
        placement_id: Set(placement.id),
        market_id: Set(placement.market_id),
        lot_id: Set(placement.lot_id),
        modality: Set(placement.modality.clone()),
        period_kind: Set(period.kind.as_str().to_string()),
        period_start: Set(period.start),
        period_end: Set(period.end),
        kind: Set(kind.as_str().to_string()),
        minutes: Set(minutes),
        source: Set(source.as_str().to_string()),
        corrects_id: Set(corrects),
        reason: Set(reason),
        recorded_at: Set(ctx.clock.now()),
        recorded_by: Set(Some(actor.label.clone())),
        import_id: Set(None),
    }
    .insert(conn)
    .await?)
}

pub async fn correct(
    ctx: &Ctx,
    actor: &Actor,
    input: CorrectHoursInput,
) -> AppResult<hour_entry::Model> {
    if !actor.any_of(&[Role::Facilitator]) {
        return Err(AppError::Forbidden);
    }
    let entry_id = ids::decode(Kind::HourEntry, &input.entry_id, "entryId")?;
    let reason = text::required("reason", &input.reason)?;
    let corrected = hours::parse_hours("hours", &input.hours)?;

    let txn = ctx.db.begin_write().await?;
    let entry = scope::load::<hour_entry::Entity, _>(
        &txn.txn,
        scope::hour_entries(actor)?,
        hour_entry::Column::Id,
        entry_id,
        "entrée d'heures",
    )
    .await?;
    let root_id = entry.corrects_id.unwrap_or(entry.id);
    let placement = lock_placement(&txn.txn, actor, entry.placement_id).await?;
    let (today, territory, worked) = context(ctx, &txn.txn, &placement, false).await?;
    let root = get::<hour_entry::Entity, _>(&txn.txn, root_id, "entrée d'heures").await?;
    let period = Period {
        kind: PeriodKind::from_db(&root.period_kind),
        start: root.period_start,
        end: root.period_end,
    };
    let rows = month_entries(&txn.txn, placement.id, period).await?;
    let status = |id: Uuid| rows.iter().find(|(e, _)| e.id == id).map(|(_, s)| *s);
    if status(root_id) == Some(HourStatus::Rejected) {
        return Err(AppError::Conflict(
            "cette déclaration a été rejetée ; en déclarer une nouvelle plutôt que la corriger (entry was rejected)".into(),
        ));
    }
    let current: i64 = rows
        .iter()
        .filter(|(e, s)| {
            (e.id == root_id || e.corrects_id == Some(root_id)) && *s != HourStatus::Rejected
        })
        .map(|(e, _)| e.minutes)
        .sum();
    let delta = rules::correction_delta(current, corrected)?;
    rules::check_record(period, delta, &worked, today, &existing(&rows))?;
    let row = insert(
        ctx,
        actor,
        &txn.txn,
        &placement,
        period,
        HourKind::from_db(&root.kind),
        delta,
        HourSource::Facilitator,
        Some(root_id),
        Some(reason),
    )
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "correctHours",
        Kind::HourEntry,
        row.id,
        Some(territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    // A facilitator of the territory is the validator: their correction counts at once, and
    // with it the entry it corrects if still unreviewed (validating only the correction would
    // count a negative change against nothing). Anyone else's awaits review.
    if actor.facilitates(territory) {
        let unreviewed = rows
            .iter()
            .filter(|(e, s)| {
                (e.id == root_id || e.corrects_id == Some(root_id)) && *s == HourStatus::Declared
            })
            .map(|(e, _)| e.id);
        for id in unreviewed.chain([row.id]) {
            insert_review(
                ctx,
                &txn.txn,
                actor,
                id,
                HourStatus::Validated,
                None,
                Some(territory),
            )
            .await?;
        }
    }
    if let Some(m) = row.market_id {
        super::deadlines::sync(&txn.txn, ctx, super::deadlines::SubjectRef::Market(m)).await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// Appends one review (and its audit entry): the ledger's only way to decide an entry.
async fn insert_review<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    actor: &Actor,
    entry_id: Uuid,
    decision: HourStatus,
    reason: Option<String>,
    territory: Option<Uuid>,
) -> AppResult<()> {
    hour_entry_review::ActiveModel {
        id: Set(ctx.clock.new_id()),
        hour_entry_id: Set(entry_id),
        decision: Set(decision.as_str().to_string()),
        reason: Set(reason.clone()),
        decided_at: Set(ctx.clock.now()),
        decided_by: Set(Some(actor.label.clone())),
    }
    .insert(conn)
    .await?;
    let action = if decision == HourStatus::Validated {
        "validateHours"
    } else {
        "rejectHours"
    };
    let after = serde_json::json!({"decision": decision.as_str(), "reason": reason});
    audit::record(
        ctx,
        conn,
        actor,
        action,
        Kind::HourEntry,
        entry_id,
        territory,
        None,
        Some(&after),
    )
    .await
}

/// Validates or rejects entries, all or none.
pub async fn review(
    ctx: &Ctx,
    actor: &Actor,
    input: ReviewHoursInput,
    decision: HourStatus,
) -> AppResult<Vec<hour_entry::Model>> {
    if !actor.any_of(&[Role::Facilitator]) {
        return Err(AppError::Forbidden);
    }
    if input.entry_ids.is_empty() || input.entry_ids.len() > MAX_REVIEW_BATCH {
        return Err(AppError::bad_input(
            "entryIds",
            format!(
                "entryIds : de 1 à {MAX_REVIEW_BATCH} entrées par appel, reçu {}",
                input.entry_ids.len()
            ),
        ));
    }
    let reason = text::optional("reason", input.reason.as_deref())?;
    if decision == HourStatus::Rejected && reason.is_none() {
        return Err(AppError::bad_input(
            "reason",
            "reason : un rejet doit être motivé (a rejection needs a reason)",
        ));
    }
    let mut ids_in = Vec::with_capacity(input.entry_ids.len());
    for id in &input.entry_ids {
        let id = ids::decode(Kind::HourEntry, id, "entryIds")?;
        if ids_in.contains(&id) {
            return Err(AppError::bad_input(
                "entryIds",
                "entryIds : une entrée figure deux fois",
            ));
        }
        ids_in.push(id);
    }
    let txn = ctx.db.begin_write().await?;
    let rows = hour_entry::Entity::find()
        .find_also_related(hour_entry_review::Entity)
        .filter(scope::hour_entries(actor)?)
        .filter(hour_entry::Column::Id.is_in(ids_in.clone()))
        .all(&txn.txn)
        .await?;
    if rows.len() != ids_in.len() {
        return Err(AppError::NotFound("entrée d'heures".into()));
    }
    if let Some((_, Some(r))) = rows.iter().find(|(_, r)| r.is_some()) {
        return Err(AppError::Conflict(format!(
            "une des entrées est déjà {} ; une décision ne se change pas, corriger par une nouvelle entrée (already reviewed)",
            r.decision
        )));
    }
    if decision == HourStatus::Rejected {
        // Rejecting an entry whose corrections still count would leave them orphaned.
        let roots: Vec<Uuid> = rows
            .iter()
            .filter(|(e, _)| e.corrects_id.is_none())
            .map(|(e, _)| e.id)
            .collect();
        let live_corrections = hour_entry::Entity::find()
            .left_join(hour_entry_review::Entity)
            .filter(hour_entry::Column::CorrectsId.is_in(roots))
            .filter(hour_entry::Column::Id.is_not_in(ids_in.clone()))
            .filter(
                hour_entry_review::Column::Decision
                    .is_null()
                    .or(hour_entry_review::Column::Decision.ne(HourStatus::Rejected.as_str())),
            )
            .count(&txn.txn)
            .await?;
        if live_corrections > 0 {
            return Err(AppError::Conflict(
                "une entrée à rejeter a des corrections en cours ; les rejeter aussi dans le même appel (entry has live corrections)".into(),
            ));
        }
    }
    let territories = territories_of(&txn.txn, rows.iter().map(|(e, _)| e.placement_id)).await?;
    for (entry, _) in &rows {
        let territory = territories.get(&entry.placement_id).copied();
        insert_review(
            ctx,
            &txn.txn,
            actor,
            entry.id,
            decision,
            reason.clone(),
            territory,
        )
        .await?;
    }
    let mut markets: Vec<Uuid> = rows.iter().filter_map(|(e, _)| e.market_id).collect();
    markets.sort();
    markets.dedup();
    for m in markets {
        super::deadlines::sync(&txn.txn, ctx, super::deadlines::SubjectRef::Market(m)).await?;
    }
    txn.commit().await?;
    Ok(rows.into_iter().map(|(e, _)| e).collect())
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: HourEntryFilter,
    args: PageArgs,
) -> AppResult<Page<hour_entry::Model>> {
    let mut select = hour_entry::Entity::find().filter(scope::hour_entries(actor)?);
    if let Some(m) = ids::decode_opt(Kind::Market, filter.market_id.as_ref(), "filter.marketId")? {
        select = select.filter(hour_entry::Column::MarketId.eq(m));
    }
    if let Some(l) = ids::decode_opt(Kind::Lot, filter.lot_id.as_ref(), "filter.lotId")? {
        select = select.filter(hour_entry::Column::LotId.eq(l));
    }
    if let Some(p) = ids::decode_opt(
        Kind::Placement,
        filter.placement_id.as_ref(),
        "filter.placementId",
    )? {
        select = select.filter(hour_entry::Column::PlacementId.eq(p));
    }
    if let Some(status) = filter.status {
        select = select.left_join(hour_entry_review::Entity);
        select = match status {
            HourStatus::Declared => select.filter(hour_entry_review::Column::Id.is_null()),
            s => select.filter(hour_entry_review::Column::Decision.eq(s.as_str())),
        };
    }
    page::fetch(&ctx.db.conn, select, hour_entry::Column::Id, &args).await
}
