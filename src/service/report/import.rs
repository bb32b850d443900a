//! Import of monthly hour statements (CSV, one line per person and month). The whole file is
//! checked before anything is written; one bad line refuses the file with every error listed;
//! a good file is recorded in one transaction; a line already in the ledger with the same
//! hours is skipped, so uploading the same file again records nothing twice. Every upload
//! leaves its row in the history (`hourImports`): a refused file too, written after the refusal
//! rolled back, with its errors and no hour.

use std::collections::{HashMap, HashSet};

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{
    chantier, hour_entry, hour_entry_review, hour_import, hour_import_territory, market,
    participant, placement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::auth::{Actor, Role};
use crate::domain::ledger::{self as rules, ExistingEntry, Period};
use crate::domain::{
    HourImportStatus, HourKind, HourSource, HourStatus, MarketStatus, PeriodKind, PlacementStatus,
    hours, text,
};
use crate::error::{AppError, AppResult, LineError};
use crate::ids::Kind;
use crate::service::deadlines::entries_recorded;
use crate::service::page::{self, Page, PageArgs};
use crate::service::{Ctx, audit, scope};

/// Most lines in one file.
pub const MAX_LINES: usize = 200_000;
/// Most errors listed (the count says how many there were).
pub const MAX_ERRORS: usize = 1_000;
/// Rows per INSERT (under SQLite's limit of bound values).
const INSERT_CHUNK: usize = 1_000;
/// Keys per IN (...) list.
const KEY_CHUNK: usize = 5_000;

/// An accepted file.
#[derive(Debug, Clone)]
pub struct Imported {
    pub import: hour_import::Model,
    pub entries: Vec<Uuid>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Reference,
    Month,
    Hours,
    Kind,
    Name,
}

fn column_of(header: &str) -> Option<Col> {
    let key = text::search_key(&[header]).replace([' ', '_', '-', '\''], "");
    Some(match key.as_str() {
        "reference" | "ref" | "placement" | "miseensituation" => Col::Reference,
        "mois" | "month" | "periode" => Col::Month,
        "heures" | "hours" | "nombredheures" => Col::Hours,
        "nature" | "kind" | "type" => Col::Kind,
        "nom" | "name" | "lastname" => Col::Name,
        _ => return None,
    })
}

fn name_of(c: Col) -> &'static str {
    match c {
        Col::Reference => "reference",
        Col::Month => "mois",
        Col::Hours => "heures",
        Col::Kind => "nature",
        Col::Name => "nom",
    }
}

fn parse_kind(raw: &str) -> Option<HourKind> {
    match text::search_key(&[raw]).as_str() {
        "" | "work" | "travail" => Some(HourKind::Work),
        "training" | "formation" => Some(HourKind::Training),
        "immersion" => Some(HourKind::Immersion),
        _ => None,
    }
}

/// `AAAA-MM` or `MM/AAAA`.
fn parse_month(raw: &str) -> Option<Period> {
    let raw = raw.trim();
    let iso = match raw.split_once('/') {
        Some((m, y)) if m.len() <= 2 && y.len() == 4 => format!("{y}-{m:0>2}"),
        _ => raw.to_string(),
    };
    Period::parse_month("mois", &iso).ok()
}

/// One line as read.
struct Line {
    number: usize,
    reference: String,
    period: Period,
    kind: HourKind,
    minutes: i64,
    name: Option<String>,
}

struct Errors(Vec<LineError>, usize);

impl Errors {
    fn add(&mut self, line: usize, column: &str, message: impl Into<String>) {
        self.1 += 1;
        if self.0.len() < MAX_ERRORS {
            self.0.push(LineError {
                line,
                column: column.into(),
                message: message.into(),
            });
        }
    }
}

/// Reads the file; every line is checked, errors are gathered, not stopped at. The data lines
/// read (blank ones aside) are counted into `stats.lines`.
fn read(bytes: &[u8], errors: &mut Errors, stats: &mut Seen) -> Vec<Line> {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let Ok(body) = std::str::from_utf8(body) else {
        errors.add(
            0,
            "fichier",
            "le fichier n'est pas en UTF-8 (enregistrer en « CSV UTF-8 ») (file is not UTF-8)",
        );
        return vec![];
    };
    let first = body.lines().next().unwrap_or("");
    let sep = [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|s| first.bytes().filter(|b| b == s).count())
        .unwrap_or(b';');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .has_headers(false)
        .from_reader(body.as_bytes());
    let mut records = reader.records();
    let Some(Ok(header)) = records.next() else {
        errors.add(
            1,
            "fichier",
            "fichier vide : il faut une ligne d'en-tête reference;mois;heures (empty file)",
        );
        return vec![];
    };
    let cols: Vec<Option<Col>> = header.iter().map(column_of).collect();
    for needed in [Col::Reference, Col::Month, Col::Hours] {
        if !cols.contains(&Some(needed)) {
            errors.add(
                1,
                name_of(needed),
                format!(
                    "colonne « {} » absente de l'en-tête (missing column)",
                    name_of(needed)
                ),
            );
        }
    }
    if errors.1 > 0 {
        return vec![];
    }
    let mut lines = Vec::new();
    let mut seen: HashMap<(String, NaiveDate, HourKind), usize> = HashMap::new();
    for (i, record) in records.enumerate() {
        let number = i + 2;
        if number > MAX_LINES + 1 {
            errors.add(
                number,
                "fichier",
                format!("plus de {MAX_LINES} lignes : découper le fichier (too many lines)"),
            );
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                stats.lines += 1;
                errors.add(number, "fichier", format!("ligne illisible : {e}"));
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        stats.lines += 1;
        let get = |c: Col| {
            cols.iter()
                .position(|x| *x == Some(c))
                .and_then(|i| record.get(i))
                .map(str::trim)
                .unwrap_or("")
        };
        let reference = get(Col::Reference).to_uppercase();
        if !reference.is_empty() {
            stats.references.insert(reference.clone());
        }
        if reference.is_empty() {
            errors.add(
                number,
                "reference",
                "référence de la mise en situation manquante",
            );
        }
        let period = parse_month(get(Col::Month));
        if period.is_none() {
            errors.add(
                number,
                "mois",
                format!(
                    "« {} » n'est pas un mois AAAA-MM ou MM/AAAA",
                    get(Col::Month)
                ),
            );
        }
        let minutes = match hours::parse_hours("heures", get(Col::Hours))
            .map_err(|e| e.message)
            .and_then(|m| {
                rules::check_declared_minutes(m)
                    .map(|_| m)
                    .map_err(|e| e.message)
            }) {
            Ok(m) => Some(m),
            Err(message) => {
                errors.add(number, "heures", message);
                None
            }
        };
        let kind = parse_kind(get(Col::Kind));
        if kind.is_none() {
            errors.add(
                number,
                "nature",
                format!("« {} » : travail, formation ou immersion", get(Col::Kind)),
            );
        }
        if let (Some(period), Some(minutes), Some(kind), false) =
            (period, minutes, kind, reference.is_empty())
        {
            if let Some(first) = seen.insert((reference.clone(), period.start, kind), number) {
                errors.add(
                    number,
                    "reference",
                    format!("même personne, même mois et même nature qu'à la ligne {first}"),
                );
                continue;
            }
            let name = Some(get(Col::Name))
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            lines.push(Line {
                number,
                reference,
                period,
                kind,
                minutes,
                name,
            });
        }
    }
    lines
}

/// Where a placement works, and the territory's today.
struct Site {
    market: Option<market::Model>,
    today: NaiveDate,
    territory: Uuid,
}

/// What the checks learnt of a file, kept for the history row of a refusal.
#[derive(Default)]
struct Seen {
    /// Data lines read.
    lines: usize,
    /// Lines already in the ledger with the same hours.
    unchanged: i32,
    /// Territories of the placements the file names (those the uploader may see).
    territories: HashSet<Uuid>,
    /// References the file names, as read (for a file refused before they were looked up).
    references: HashSet<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stored_name(file_name: Option<&String>) -> Option<String> {
    file_name.map(|f| f.chars().take(200).collect())
}

pub async fn import(
    ctx: &Ctx,
    actor: &Actor,
    file_name: Option<String>,
    bytes: &[u8],
) -> AppResult<Imported> {
    if !actor.any_of(&[Role::Company, Role::Siae, Role::Facilitator]) {
        return Err(AppError::Forbidden);
    }
    let mut seen = Seen::default();
    // The checks' transaction is over (rolled back) when they return a refusal.
    match check_and_record(ctx, actor, file_name.as_ref(), bytes, &mut seen).await {
        Err(AppError::FileRefused { errors, total }) => {
            if let Err(e) =
                record_refusal(ctx, actor, file_name.as_ref(), bytes, &seen, &errors, total).await
            {
                // The caller still learns why the file was refused; operators learn the rest.
                tracing::error!(error = %e.message(), "refused import not recorded in the history");
            }
            Err(AppError::FileRefused { errors, total })
        }
        other => other,
    }
}

/// What an error says once stored: a name given in the file is not kept (it may be a person's
/// name, misspelt or not; the line number and reference say where to look).
fn stored_error(e: &LineError) -> LineError {
    let mut kept = e.clone();
    if e.column == "nom" {
        kept.message =
            "le nom donné n'est pas celui de la personne de cette mise en situation (name does not match)"
                .into();
    }
    kept
}

/// The history row of a refused file, in its own short transaction: no hour, its hash, counts
/// and errors (capped like the answer), and the territories it named.
async fn record_refusal(
    ctx: &Ctx,
    actor: &Actor,
    file_name: Option<&String>,
    bytes: &[u8],
    seen: &Seen,
    errors: &[LineError],
    total: usize,
) -> AppResult<()> {
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // The same file refused again for the same uploader is already in the history: a client
    // re-sending it in a loop does not grow the store.
    let again = hour_import::Entity::find()
        .filter(hour_import::Column::Sha256.eq(sha256_hex(bytes)))
        .filter(hour_import::Column::CreatedBy.eq(actor.label.clone()))
        .filter(hour_import::Column::Status.eq(HourImportStatus::Refused.as_str()))
        .one(conn)
        .await?;
    if again.is_some() {
        return Ok(());
    }
    let territories = if seen.territories.is_empty() {
        territories_named(conn, actor, &seen.references).await?
    } else {
        seen.territories.clone()
    };
    let stored: Vec<LineError> = errors.iter().map(stored_error).collect();
    let stored = serde_json::to_string(&stored)
        .map_err(|e| AppError::Internal(format!("import errors: {e}")))?;
    let row = hour_import::ActiveModel {
        id: Set(ctx.clock.new_id()),
        organization_id: Set(actor.organization_id),
        file_name: Set(stored_name(file_name)),
        sha256: Set(sha256_hex(bytes)),
        line_count: Set(seen.lines as i32),
        recorded_count: Set(0),
        unchanged_count: Set(seen.unchanged),
        created_at: Set(chrono::SubsecRound::trunc_subsecs(ctx.clock.now(), 6)),
        created_by: Set(actor.label.clone()),
        status: Set(HourImportStatus::Refused.as_str().into()),
        error_count: Set(i32::try_from(total).unwrap_or(i32::MAX)),
        errors: Set(Some(stored)),
    }
    .insert(conn)
    .await?;
    touched(conn, row.id, &territories).await?;
    let mut after = audit::json(&row);
    if let Some(o) = after.as_object_mut() {
        // The errors stay on the row; the trail says how many.
        o.remove("errors");
    }
    audit::record(
        ctx,
        conn,
        actor,
        "importHoursRefused",
        Kind::HourImport,
        row.id,
        territories.iter().min().copied(),
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Territories of the placements a file refused while being read names (those the uploader
/// may see), so that the facilitators of those territories find the refusal in the history.
async fn territories_named<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    references: &HashSet<String>,
) -> AppResult<HashSet<Uuid>> {
    let refs: Vec<String> = references.iter().cloned().collect();
    let mut markets = HashSet::new();
    let mut chantiers = HashSet::new();
    for chunk in refs.chunks(KEY_CHUNK) {
        let found: Vec<(Option<Uuid>, Option<Uuid>)> = placement::Entity::find()
            .select_only()
            .column(placement::Column::MarketId)
            .column(placement::Column::ChantierId)
            .filter(scope::placements(actor)?)
            .filter(placement::Column::Reference.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        for (m, c) in found {
            match (m, c) {
                (Some(m), _) => markets.insert(m),
                (None, Some(c)) => chantiers.insert(c),
                (None, None) => false,
            };
        }
    }
    let mut out: HashSet<Uuid> = HashSet::new();
    if !markets.is_empty() {
        out.extend(
            market::Entity::find()
                .select_only()
                .column(market::Column::TerritoryId)
                .filter(market::Column::Id.is_in(markets))
                .into_tuple::<Uuid>()
                .all(conn)
                .await?,
        );
    }
    if !chantiers.is_empty() {
        out.extend(
            chantier::Entity::find()
                .select_only()
                .column(chantier::Column::TerritoryId)
                .filter(chantier::Column::Id.is_in(chantiers))
                .into_tuple::<Uuid>()
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// Records which territories an import touched.
async fn touched<C: ConnectionTrait>(
    conn: &C,
    import: Uuid,
    territories: &HashSet<Uuid>,
) -> AppResult<()> {
    if territories.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<Uuid> = territories.iter().copied().collect();
    sorted.sort();
    hour_import_territory::Entity::insert_many(sorted.into_iter().map(|t| {
        hour_import_territory::ActiveModel {
            import_id: Set(import),
            territory_id: Set(t),
        }
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

async fn check_and_record(
    ctx: &Ctx,
    actor: &Actor,
    file_name: Option<&String>,
    bytes: &[u8],
    seen: &mut Seen,
) -> AppResult<Imported> {
    let mut errors = Errors(Vec::new(), 0);
    // Lines that read well go on to the ledger's checks, so every error is listed at once.
    let lines = read(bytes, &mut errors, seen);
    if lines.is_empty() {
        return Err(if errors.1 > 0 {
            refused(errors)
        } else {
            AppError::bad_input(
                "file",
                "file : aucune ligne d'heures dans le fichier (no lines)",
            )
        });
    }
    let started = std::time::Instant::now();
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // The placements, locked so that two uploads of one file are checked one after the other.
    let mut refs: Vec<String> = lines.iter().map(|l| l.reference.clone()).collect();
    refs.sort();
    refs.dedup();
    let mut placements: HashMap<String, placement::Model> = HashMap::new();
    for chunk in refs.chunks(KEY_CHUNK) {
        for p in placement::Entity::find()
            .filter(scope::placements(actor)?)
            .filter(placement::Column::Reference.is_in(chunk.to_vec()))
            // One order for every import (chunks and rows by reference): two overlapping
            // imports wait for each other instead of deadlocking.
            .order_by_asc(placement::Column::Reference)
            .lock_exclusive()
            .all(conn)
            .await?
        {
            placements.insert(p.reference.clone(), p);
        }
    }
    let sites = sites(ctx, conn, placements.values()).await?;
    seen.territories = sites.values().map(|s| s.territory).collect();
    let mut zones = Vec::with_capacity(placements.len());
    for p in placements.values() {
        zones.push((
            p,
            crate::service::territory::zone_of(ctx, conn, sites[&p.id].territory).await?,
        ));
    }
    let worked = crate::service::ledger::worked(conn, zones).await?;
    let names = if lines.iter().any(|l| l.name.is_some()) {
        last_names(conn, actor, placements.values()).await?
    } else {
        HashMap::new()
    };
    let existing = existing(conn, placements.values().map(|p| p.id).collect(), &lines).await?;

    let mut new_rows = Vec::new();
    let mut unchanged = 0;
    for line in &lines {
        let Some(p) = placements.get(&line.reference) else {
            errors.add(
                line.number,
                "reference",
                format!(
                    "{} : mise en situation inconnue ou d'une autre structure (unknown reference)",
                    line.reference
                ),
            );
            continue;
        };
        // `names` holds only people the importer may identify: for the others the column is
        // not read, so the outcome is the same whatever name it gives.
        if let (Some(given), Some(known)) = (&line.name, names.get(&p.participant_id))
            && text::search_key(&[given]) != text::search_key(&[known])
        {
            errors.add(
                line.number,
                "nom",
                format!(
                    "« {given} » n'est pas le nom de la personne de {} (name does not match)",
                    line.reference
                ),
            );
            continue;
        }
        let status = PlacementStatus::from_db(&p.status);
        if !rules::takes_hours(status) {
            errors.add(
                line.number,
                "reference",
                format!(
                    "{} : la mise en situation est {status}, elle ne reçoit pas d'heures (placement is {status})",
                    line.reference
                ),
            );
            continue;
        }
        let site = &sites[&p.id];
        if let Some(m) = &site.market {
            let status = MarketStatus::from_db(&m.status);
            if !crate::domain::placement::market_accepts_work(status) {
                errors.add(
                    line.number,
                    "reference",
                    format!(
                        "le marché {} est {status} ; il ne reçoit plus d'heures",
                        m.reference
                    ),
                );
                continue;
            }
        }
        let month = existing.get(&p.id).map(Vec::as_slice).unwrap_or(&[]);
        let in_month: Vec<ExistingEntry> = month
            .iter()
            .filter(|(e, _)| e.period_start >= line.period.start && e.period_end <= line.period.end)
            .map(|(e, s)| crate::service::ledger::existing_entry(e, *s))
            .collect();
        let declared = month.iter().find(|(e, s)| {
            e.corrects_id.is_none()
                && *s != HourStatus::Rejected
                && e.period_kind == PeriodKind::Month.as_str()
                && e.period_start == line.period.start
                && e.kind == line.kind.as_str()
        });
        if let Some((root, _)) = declared {
            let current: i64 = month
                .iter()
                .filter(|(e, s)| {
                    (e.id == root.id || e.corrects_id == Some(root.id))
                        && *s != HourStatus::Rejected
                })
                .map(|(e, _)| e.minutes)
                .sum();
            if current == line.minutes {
                unchanged += 1;
            } else {
                errors.add(
                    line.number,
                    "heures",
                    format!(
                        "{} h déjà déclarées pour {} ce mois ; demander une correction au facilitateur (already declared)",
                        hours::format_hours(current),
                        line.reference
                    ),
                );
            }
            continue;
        }
        if let Err(e) =
            rules::check_one_granularity(line.period, line.kind, &in_month).and_then(|_| {
                rules::check_record(
                    line.period,
                    line.minutes,
                    &worked[&p.id],
                    site.today,
                    &in_month,
                )
            })
        {
            errors.add(
                line.number,
                if e.field == "hours" { "heures" } else { "mois" },
                e.message,
            );
            continue;
        }
        new_rows.push((line, p));
    }
    seen.unchanged = unchanged;
    if errors.1 > 0 {
        return Err(refused(errors));
    }

    let checked = started.elapsed();
    // To the microsecond, as the store keeps it, whichever insert path writes it.
    let now = chrono::SubsecRound::trunc_subsecs(ctx.clock.now(), 6);
    let import = hour_import::ActiveModel {
        id: Set(ctx.clock.new_id()),
        organization_id: Set(actor.organization_id),
        file_name: Set(stored_name(file_name)),
        sha256: Set(sha256_hex(bytes)),
        line_count: Set(lines.len() as i32),
        recorded_count: Set(new_rows.len() as i32),
        unchanged_count: Set(unchanged),
        created_at: Set(now),
        created_by: Set(actor.label.clone()),
        status: Set(HourImportStatus::Accepted.as_str().into()),
        error_count: Set(0),
        errors: Set(None),
    }
    .insert(conn)
    .await?;
    touched(conn, import.id, &seen.territories).await?;
    let rows: Vec<hour_entry::Model> = new_rows
        .iter()
        .map(|(line, p)| hour_entry::Model {
            id: ctx.clock.new_id(),
            placement_id: p.id,
            market_id: p.market_id,
            lot_id: p.lot_id,
            modality: p.modality.clone(),
            period_kind: line.period.kind.as_str().to_string(),
            period_start: line.period.start,
            period_end: line.period.end,
            kind: line.kind.as_str().to_string(),
            minutes: line.minutes,
            source: HourSource::Import.as_str().to_string(),
            corrects_id: None,
            reason: None,
            recorded_at: now,
            recorded_by: Some(actor.label.clone()),
            import_id: Some(import.id),
        })
        .collect();
    insert_entries(conn, &rows).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let territory = sites.values().next().map(|s| s.territory);
    audit::record(
        ctx,
        conn,
        actor,
        "importHours",
        Kind::HourImport,
        import.id,
        territory,
        None,
        Some(&audit::json(&import)),
    )
    .await?;
    let inserted = started.elapsed();
    let markets = entries_recorded(
        conn,
        ctx,
        rows.iter()
            .zip(&new_rows)
            .map(|(row, (_, p))| (row, sites[&p.id].today)),
    )
    .await?;
    txn.commit().await?;
    // Where an import's time goes, for operators and the bench.
    tracing::info!(
        lines = lines.len(),
        recorded = ids.len(),
        markets,
        checked_ms = checked.as_millis() as u64,
        inserted_ms = (inserted - checked).as_millis() as u64,
        deadlines_ms = (started.elapsed() - inserted).as_millis() as u64,
        "hour statements imported"
    );
    Ok(Imported {
        import,
        entries: ids,
    })
}

/// Rows per statement of PostgreSQL's bulk path (one JSON parameter each).
const BULK_CHUNK: usize = 10_000;

/// Inserts new ledger rows. On PostgreSQL, as one JSON document per 10 000 rows expanded by the
/// server (`json_populate_recordset`): binding 16 parameters a row cost more than the insert
/// itself (6.2 s for 100 000 rows, against 2.8 s for the server's own work of foreign keys and
/// indexes). On SQLite, multi-row INSERTs of bound values, which are cheap there.
async fn insert_entries<C: ConnectionTrait>(conn: &C, rows: &[hour_entry::Model]) -> AppResult<()> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        for chunk in rows.chunks(BULK_CHUNK) {
            let doc = serde_json::to_string(chunk)
                .map_err(|e| AppError::Internal(format!("import rows: {e}")))?;
            conn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "INSERT INTO hour_entry SELECT * FROM json_populate_recordset(NULL::hour_entry, $1::json)",
                [doc.into()],
            ))
            .await?;
        }
        return Ok(());
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models: Vec<hour_entry::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(hour_entry::ActiveModel::from)
            .collect();
        hour_entry::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn refused(errors: Errors) -> AppError {
    AppError::FileRefused {
        errors: errors.0,
        total: errors.1,
    }
}

/// Markets, chantiers and territories' today for the placements, in three queries.
async fn sites<'a, C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    placements: impl Iterator<Item = &'a placement::Model>,
) -> AppResult<HashMap<Uuid, Site>> {
    let placements: Vec<&placement::Model> = placements.collect();
    // Locked: the market's status is read under the lock its close takes.
    let markets: HashMap<Uuid, market::Model> =
        crate::service::ledger::lock_markets(conn, placements.iter().filter_map(|p| p.market_id))
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
    let chantiers: HashMap<Uuid, Uuid> = chantier::Entity::find()
        .filter(
            chantier::Column::Id.is_in(
                placements
                    .iter()
                    .filter_map(|p| p.chantier_id)
                    .collect::<HashSet<_>>(),
            ),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.territory_id))
        .collect();
    let mut today: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut out = HashMap::new();
    for p in placements {
        let market = p.market_id.and_then(|m| markets.get(&m).cloned());
        let territory = market
            .as_ref()
            .map(|m| m.territory_id)
            .or_else(|| p.chantier_id.and_then(|c| chantiers.get(&c).copied()));
        let Some(territory) = territory else {
            return Err(AppError::Internal(format!(
                "placement {} has no site",
                p.id
            )));
        };
        let day = match today.get(&territory) {
            Some(d) => *d,
            None => {
                let d = crate::service::territory::today(ctx, conn, territory).await?;
                today.insert(territory, d);
                d
            }
        };
        out.insert(
            p.id,
            Site {
                market,
                today: day,
                territory,
            },
        );
    }
    Ok(out)
}

/// Last names of the people of these placements whom the importer may identify (a host
/// company identifies nobody it hosts): the `nom` column is checked against those only.
async fn last_names<'a, C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    placements: impl Iterator<Item = &'a placement::Model>,
) -> AppResult<HashMap<Uuid, String>> {
    let ids: HashSet<Uuid> = placements.map(|p| p.participant_id).collect();
    let mut out = HashMap::new();
    for chunk in ids.into_iter().collect::<Vec<_>>().chunks(KEY_CHUNK) {
        for p in participant::Entity::find()
            .filter(scope::identifiable_participants(actor)?)
            .filter(participant::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            out.insert(p.id, p.last_name);
        }
    }
    Ok(out)
}

/// Entries of the placements over the months of the file, with their status.
async fn existing<C: ConnectionTrait>(
    conn: &C,
    placements: Vec<Uuid>,
    lines: &[Line],
) -> AppResult<HashMap<Uuid, Vec<(hour_entry::Model, HourStatus)>>> {
    let (Some(first), Some(last)) = (
        lines.iter().map(|l| l.period.start).min(),
        lines.iter().map(|l| l.period.end).max(),
    ) else {
        return Ok(HashMap::new());
    };
    let mut out: HashMap<Uuid, Vec<(hour_entry::Model, HourStatus)>> = HashMap::new();
    for chunk in placements.chunks(KEY_CHUNK) {
        let rows = hour_entry::Entity::find()
            .find_also_related(hour_entry_review::Entity)
            .filter(hour_entry::Column::PlacementId.is_in(chunk.to_vec()))
            .filter(hour_entry::Column::PeriodStart.gte(first))
            .filter(hour_entry::Column::PeriodEnd.lte(last))
            .all(conn)
            .await?;
        for (e, r) in rows {
            let s = crate::service::ledger::status_of(r.as_ref());
            out.entry(e.placement_id).or_default().push((e, s));
        }
    }
    Ok(out)
}

/// Narrows the import history.
#[derive(Debug, Default, InputObject)]
pub struct HourImportFilter {
    /// The uploader's organization.
    pub organization_id: Option<ID>,
    /// Uploaded on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Uploaded on or before this day (UTC).
    pub to: Option<NaiveDate>,
    pub status: Option<HourImportStatus>,
}

/// The imports a caller may list: an administrator all of them; a company or an SIAE those of
/// its organization; a facilitator those that touched a placement of its territories, and its
/// own uploads. Everyone sees their own uploads.
pub fn visible(actor: &Actor) -> AppResult<sea_orm::Condition> {
    use sea_orm::Condition;
    let own = hour_import::Column::CreatedBy.eq(actor.label.clone());
    match actor.role {
        None | Some(Role::Admin) => Ok(Condition::all()),
        Some(Role::Company | Role::Siae) => {
            let org = actor.organization_id.ok_or(AppError::Forbidden)?;
            Ok(Condition::any()
                .add(hour_import::Column::OrganizationId.eq(org))
                .add(own))
        }
        Some(Role::Facilitator) => {
            let touching = sea_orm::sea_query::Query::select()
                .column(hour_import_territory::Column::ImportId)
                .from(hour_import_territory::Entity)
                .and_where(
                    hour_import_territory::Column::TerritoryId
                        .is_in(actor.territories.iter().copied().collect::<Vec<_>>()),
                )
                .to_owned();
            Ok(Condition::any()
                .add(hour_import::Column::Id.in_subquery(touching))
                .add(own))
        }
        Some(Role::Buyer | Role::Funder) => Err(AppError::Forbidden),
    }
}

/// The import history in the caller's scope, oldest first, paged.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: HourImportFilter,
    args: PageArgs,
) -> AppResult<Page<hour_import::Model>> {
    let mut q = hour_import::Entity::find().filter(visible(actor)?);
    q = page::by_id(
        q,
        hour_import::Column::OrganizationId,
        Kind::Organization,
        filter.organization_id.as_ref(),
        "filter.organizationId",
    )?;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        return Err(AppError::bad_input(
            "filter.to",
            format!("filter.to : la fin ({to}) précède le début ({from}) (end before start)"),
        ));
    }
    if let Some(from) = filter.from {
        q = q.filter(
            hour_import::Column::CreatedAt.gte(from.and_time(chrono::NaiveTime::MIN).and_utc()),
        );
    }
    if let Some(to) = filter.to {
        let next = to
            .succ_opt()
            .ok_or_else(|| AppError::bad_input("filter.to", "filter.to : date hors limites"))?;
        q = q.filter(
            hour_import::Column::CreatedAt.lt(next.and_time(chrono::NaiveTime::MIN).and_utc()),
        );
    }
    if let Some(s) = filter.status {
        q = q.filter(hour_import::Column::Status.eq(s.as_str()));
    }
    page::fetch(&ctx.db.conn, q, hour_import::Column::Id, &args).await
}

/// A refused file's errors as stored (`line`, `column`, `message`).
pub fn stored_errors(row: &hour_import::Model) -> Vec<LineError> {
    row.errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default()
}
