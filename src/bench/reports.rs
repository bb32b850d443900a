//! `passerelle bench-reports`: the operation report and the import of monthly statements on a
//! generated operation, each next to the same work done by raw SQL on the same data in the
//! same run. Figures, not assertions: `BENCHMARKS.md` says how to read them.

use std::time::{Duration, Instant};

use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::{hour_entry, hour_entry_review, lot, market, participant, placement};
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement};
use uuid::Uuid;

use super::{CHUNK, median_of as time, ms, ph, scratch_table};
use crate::domain::auth::Actor;
use crate::domain::{
    HourKind, HourSource, HourStatus, Modality, OperationKind, OrganizationKind, PeriodKind,
};
use crate::service::report::{self, Dates};
use crate::service::{Ctx, operation, organization, territory};

/// Sizes of the generated operation.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Scale {
    /// Markets of the operation.
    #[arg(long, default_value_t = 1_000)]
    pub markets: usize,
    /// People (placements) per market.
    #[arg(long, default_value_t = 20)]
    pub people_per_market: usize,
    /// Months of ledger per placement (markets × people × months entries).
    #[arg(long, default_value_t = 50)]
    pub months: usize,
    /// Months of the imported file (markets × people × months lines).
    #[arg(long, default_value_t = 5)]
    pub import_months: usize,
    /// Runs of each measure (the median is shown).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

const FIRST_MONTH: (i32, u32) = (2021, 1);

fn month(i: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST_MONTH.0, FIRST_MONTH.1, 1).unwrap() + Months::new(i as u32)
}

pub async fn run(ctx: &Ctx, scale: Scale) -> Result<String, String> {
    let err = |e: crate::error::AppError| e.message();
    let db = |e: sea_orm::DbErr| e.to_string();
    let system = Actor::system();
    let suffix = Uuid::now_v7().simple().to_string()[20..].to_string();
    let t = territory::create(
        ctx,
        &system,
        territory::CreateTerritoryInput {
            code: format!("BENCH-{suffix}"),
            name: "Banc d'essai".into(),
            time_zone: "Europe/Paris".into(),
        },
    )
    .await
    .map_err(err)?;
    let org = |name: &str, kind| organization::CreateOrganizationInput {
        name: format!("{name} {suffix}"),
        kind,
        siae_subtype: None,
        siret: None,
        address: None,
        email: None,
        territory_id: Some(crate::ids::encode(crate::ids::Kind::Territory, t.id)),
    };
    let buyer = organization::create(ctx, &system, org("Ville", OrganizationKind::Buyer))
        .await
        .map_err(err)?;
    let company = organization::create(ctx, &system, org("BTP", OrganizationKind::Company))
        .await
        .map_err(err)?;
    let op = operation::create(
        ctx,
        &system,
        operation::CreateOperationInput {
            territory_id: crate::ids::encode(crate::ids::Kind::Territory, t.id),
            owner_id: None,
            name: format!("NPNRU {suffix}"),
            kind: OperationKind::Npnru,
            start_date: None,
            end_date: None,
            works_rate_bp: None,
            gup_rate_bp: None,
        },
    )
    .await
    .map_err(err)?;

    // Generated straight into the tables (the services would check every rule 1 M times).
    let conn = &ctx.db.conn;
    let now = Utc::now();
    let started = Instant::now();
    let mut markets = Vec::new();
    let mut lots = Vec::new();
    for i in 0..scale.markets {
        let (m, l) = (Uuid::now_v7(), Uuid::now_v7());
        markets.push(market::ActiveModel {
            version: Set(1),
            id: Set(m),
            territory_id: Set(t.id),
            buyer_id: Set(buyer.id),
            operation_id: Set(Some(op.id)),
            reference: Set(format!("B-{suffix}-{i:05}")),
            title: Set(format!("Marché {i}")),
            search_text: Set(format!("marche {i}")),
            clause_kind: Set("EXECUTION_CONDITION".into()),
            anru_category: Set(Some(
                if i % 5 == 0 {
                    "LOCAL_MANAGEMENT"
                } else {
                    "WORKS_ENGINEERING"
                }
                .into(),
            )),
            amount_cents: Set(100_000_000),
            notification_date: Set(None),
            start_date: Set(month(0)),
            end_date: Set(month(scale.months + scale.import_months + 12)),
            status: Set("IN_PROGRESS".into()),
            target_minutes: Set(Some(833 * 60)),
            target_source: Set(Some("CALIBRATION".into())),
            calib_labour_share_bp: Set(Some(5000)),
            calib_insertion_rate_bp: Set(Some(500)),
            calib_hourly_cost_cents: Set(Some(3000)),
            calib_proposed_minutes: Set(Some(833 * 60)),
            created_at: Set(now),
            updated_at: Set(now),
        });
        lots.push(lot::ActiveModel {
            version: Set(1),
            id: Set(l),
            market_id: Set(m),
            number: Set(1),
            title: Set("Lot unique".into()),
            awardee_id: Set(Some(company.id)),
            amount_cents: Set(None),
            target_minutes: Set(None),
            created_at: Set(now),
        });
    }
    let market_lots: Vec<(Uuid, Uuid)> = markets
        .iter()
        .zip(&lots)
        .map(|(m, l)| (*m.id.as_ref(), *l.id.as_ref()))
        .collect();
    for c in markets.chunks(CHUNK) {
        market::Entity::insert_many(c.to_vec())
            .exec_without_returning(conn)
            .await
            .map_err(db)?;
    }
    for c in lots.chunks(CHUNK) {
        lot::Entity::insert_many(c.to_vec())
            .exec_without_returning(conn)
            .await
            .map_err(db)?;
    }
    let mut people = Vec::new();
    let mut placements = Vec::new();
    for (i, (m, l)) in market_lots.iter().enumerate() {
        for j in 0..scale.people_per_market {
            let (pa, pl) = (Uuid::now_v7(), Uuid::now_v7());
            people.push(participant::ActiveModel {
                version: Set(1),
                id: Set(pa),
                territory_id: Set(t.id),
                first_name: Set("Prénom".into()),
                last_name: Set(format!("Nom{i}x{j}")),
                search_text: Set(format!("nom{i}x{j}")),
                birth_date: Set(NaiveDate::from_ymd_opt(
                    1970 + (j as i32 % 35),
                    1 + (i as u32 % 12),
                    1,
                )
                .unwrap()),
                sex: Set(if j % 2 == 0 { "FEMALE" } else { "MALE" }.into()),
                education_level: Set(["BELOW_LEVEL_3", "LEVEL_3", "LEVEL_4"][j % 3].into()),
                unemployed_since: Set(Some(
                    NaiveDate::from_ymd_opt(2018 + (j as i32 % 3), 6, 1).unwrap(),
                )),
                qpv_resident: Set(j % 3 == 0),
                publics: Set(["RSA", "AAH", "ASS"][j % 3].into()),
                prescriber_id: Set(None),
                anonymized_at: Set(None),
                created_at: Set(now),
            });
            placements.push(placement::ActiveModel {
                version: Set(1),
                id: Set(pl),
                reference: Set(entity::placement::reference_for(pl)),
                participant_id: Set(pa),
                market_id: Set(Some(*m)),
                lot_id: Set(Some(*l)),
                modality: Set(Modality::DirectHire.as_str().into()),
                employer_id: Set(company.id),
                contract_type: Set("CDD".into()),
                start_date: Set(month(0)),
                end_date: Set(None),
                weekly_minutes: Set(35 * 60),
                status: Set("ACTIVE".into()),
                created_at: Set(now),
                chantier_id: Set(None),
                derogation: Set(None),
                training_end_date: Set(None),
            });
        }
    }
    for c in people.chunks(CHUNK) {
        participant::Entity::insert_many(c.to_vec())
            .exec_without_returning(conn)
            .await
            .map_err(db)?;
    }
    for c in placements.chunks(CHUNK) {
        placement::Entity::insert_many(c.to_vec())
            .exec_without_returning(conn)
            .await
            .map_err(db)?;
    }
    let refs: Vec<(Uuid, Uuid, Uuid, String)> = placements
        .iter()
        .map(|p| {
            (
                *p.id.as_ref(),
                p.market_id.as_ref().unwrap(),
                p.lot_id.as_ref().unwrap(),
                p.reference.as_ref().clone(),
            )
        })
        .collect();
    let mut entries = Vec::with_capacity(CHUNK);
    let mut reviews = Vec::with_capacity(CHUNK);
    let mut count = 0usize;
    for (k, (pl, m, l, _)) in refs.iter().enumerate() {
        for i in 0..scale.months {
            let id = Uuid::now_v7();
            let start = month(i);
            entries.push(hour_entry::ActiveModel {
                id: Set(id),
                placement_id: Set(*pl),
                market_id: Set(Some(*m)),
                lot_id: Set(Some(*l)),
                modality: Set(Modality::DirectHire.as_str().into()),
                period_kind: Set(PeriodKind::Month.as_str().into()),
                period_start: Set(start),
                period_end: Set(crate::domain::ledger::last_day_of_month(start)),
                kind: Set(HourKind::Work.as_str().into()),
                minutes: Set(((100 + (k + i) % 50) * 60) as i64),
                source: Set(HourSource::CompanyDeclaration.as_str().into()),
                corrects_id: Set(None),
                reason: Set(None),
                recorded_at: Set(now - chrono::Duration::days(((scale.months - i) * 30) as i64)),
                recorded_by: Set(Some("bench".into())),
                import_id: Set(None),
            });
            // Four entries in five validated; the last months still pending.
            if i + 2 < scale.months && (k + i) % 5 != 0 {
                reviews.push(hour_entry_review::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    hour_entry_id: Set(id),
                    decision: Set(HourStatus::Validated.as_str().into()),
                    reason: Set(None),
                    decided_at: Set(
                        now - chrono::Duration::days(((scale.months - i) * 30 - 10) as i64)
                    ),
                    decided_by: Set(Some("bench".into())),
                });
            }
            count += 1;
            // Entries first: a review refers to its entry.
            if entries.len() == CHUNK {
                hour_entry::Entity::insert_many(std::mem::take(&mut entries))
                    .exec_without_returning(conn)
                    .await
                    .map_err(db)?;
                if !reviews.is_empty() {
                    hour_entry_review::Entity::insert_many(std::mem::take(&mut reviews))
                        .exec_without_returning(conn)
                        .await
                        .map_err(db)?;
                }
            }
        }
    }
    if !entries.is_empty() {
        hour_entry::Entity::insert_many(entries)
            .exec_without_returning(conn)
            .await
            .map_err(db)?;
    }
    if !reviews.is_empty() {
        hour_entry_review::Entity::insert_many(reviews)
            .exec_without_returning(conn)
            .await
            .map_err(db)?;
    }
    let generated = started.elapsed();
    if ctx.db.backend() == sea_orm::DatabaseBackend::Postgres {
        conn.execute_unprepared("ANALYZE").await.map_err(db)?;
    }

    // The operation report, then the same aggregate in one raw statement.
    let w = report::window(ctx, conn, t.id, Dates::default())
        .await
        .map_err(err)?;
    let (service, validated) = time(scale.runs, || async {
        let r = report::operation::build(conn, &op, w).await.map_err(err)?;
        Ok(r.hours.validated.minutes)
    })
    .await?;
    let (raw, raw_validated) = time(scale.runs, || async {
        raw_operation_validated(ctx, op.id, w.cutoff).await
    })
    .await?;
    if raw_validated != validated {
        return Err(format!(
            "the report ({validated} min) and raw SQL ({raw_validated} min) disagree"
        ));
    }

    // The import of a file of markets × people × months lines.
    let mut csv = String::from("reference;mois;heures\n");
    for (_, _, _, r) in &refs {
        for i in 0..scale.import_months {
            let m = month(scale.months + i);
            csv.push_str(&format!("{r};{}-{:02};120,5\n", m.year(), m.month()));
        }
    }
    let lines = refs.len() * scale.import_months;
    let actor = Actor::system();
    let start = Instant::now();
    let done = report::import::import(ctx, &actor, Some("bench.csv".into()), csv.as_bytes())
        .await
        .map_err(err)?;
    let import = start.elapsed();
    if done.entries.len() != lines {
        return Err(format!(
            "import recorded {} of {lines} lines",
            done.entries.len()
        ));
    }
    // Raw SQL: as many rows straight into a scratch table of the ledger's shape, one transaction.
    let raw_import = raw_insert_rows(ctx, lines).await?;
    let backend = ctx.db.backend();

    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    Ok(format!(
        "store: {backend:?}\n\
         data: {markets} markets, {placements} placements, {count} ledger entries (generated in {gen:.1} s)\n\
         operation report ({markets} markets, {count} entries), median of {runs}: {service} — raw SQL aggregate: {raw} — ratio {r1:.2}\n\
         import of {lines} lines: {import} ({per:.0} lines/s) — raw SQL insert of the same rows: {raw_import} — ratio {r2:.2}\n",
        markets = scale.markets,
        placements = refs.len(),
        gen = generated.as_secs_f64(),
        runs = scale.runs,
        service = ms(service),
        raw = ms(raw),
        r1 = ratio(service, raw),
        import = ms(import),
        per = lines as f64 / import.as_secs_f64().max(1e-9),
        raw_import = ms(raw_import),
        r2 = ratio(import, raw_import),
    ))
}

/// Validated minutes of an operation as at `cutoff`, in one grouped raw statement (the
/// baseline of the operation report; same grouping as the report's own query).
pub async fn raw_operation_validated(
    ctx: &Ctx,
    operation: Uuid,
    cutoff: chrono::DateTime<Utc>,
) -> Result<i64, String> {
    let backend = ctx.db.backend();
    let raw_sql = format!(
        "SELECT e.market_id, e.lot_id, e.modality, e.kind, \
         CASE WHEN r.decided_at < {c1} THEN r.decision ELSE 'DECLARED' END AS st, \
         CAST(SUM(e.minutes) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM hour_entry e LEFT JOIN hour_entry_review r ON r.hour_entry_id = e.id \
         WHERE e.market_id IN (SELECT id FROM market WHERE operation_id = {c2}) AND e.recorded_at < {c3} \
         GROUP BY e.market_id, e.lot_id, e.modality, e.kind, st",
        c1 = ph(backend, 1),
        c2 = ph(backend, 2),
        c3 = ph(backend, 3)
    );
    let rows = ctx
        .db
        .conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            &raw_sql,
            [cutoff.into(), operation.into(), cutoff.into()],
        ))
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows
        .iter()
        .filter(|r| {
            r.try_get_by_index::<String>(4)
                .is_ok_and(|s| s == "VALIDATED")
        })
        .map(|r| r.try_get_by_index::<i64>(5).unwrap_or(0))
        .sum::<i64>())
}

/// Time to insert `n` rows of the ledger's shape into a scratch table with multi-row
/// `INSERT`s in one transaction, without any check: the baseline of bulk writes.
pub async fn raw_insert_rows(ctx: &Ctx, n: usize) -> Result<Duration, String> {
    let db = |e: sea_orm::DbErr| e.to_string();
    let (conn, backend) = (&ctx.db.conn, ctx.db.backend());
    scratch_table(conn, "bench_import").await?;
    let now = Utc::now();
    let rows: Vec<(String, String)> = (0..n)
        .map(|_| (Uuid::now_v7().to_string(), Uuid::now_v7().to_string()))
        .collect();
    let start = Instant::now();
    let txn = ctx.db.begin_write().await.map_err(db)?;
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::from("INSERT INTO bench_import VALUES ");
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 5);
        for (i, (id, pl)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let n = i * 5;
            sql.push_str(&format!(
                "({},{},{},{},{})",
                ph(backend, n + 1),
                ph(backend, n + 2),
                ph(backend, n + 3),
                ph(backend, n + 4),
                ph(backend, n + 5)
            ));
            values.extend([
                id.clone().into(),
                pl.clone().into(),
                now.date_naive().into(),
                7230i64.into(),
                now.to_rfc3339().into(),
            ]);
        }
        txn.txn
            .execute_raw(Statement::from_sql_and_values(backend, &sql, values))
            .await
            .map_err(db)?;
    }
    txn.commit().await.map_err(db)?;
    let took = start.elapsed();
    conn.execute_unprepared("DROP TABLE bench_import")
        .await
        .map_err(db)?;
    Ok(took)
}
