//! The building blocks every report shares: hour figures with their trace, people by band,
//! contracts and exits, each made from the grouped rows of `slice`.

use async_graphql::SimpleObject;

use super::slice::{Facets, HourRow, Trace};
use super::trace::TraceToken;
use crate::domain::exits::ExitCounts;
use crate::domain::figures::Sum;
use crate::domain::report::{self, Band, BySex, Person};
use crate::domain::{ContractType, ExitCategory, ExitOutcome, HourKind, HourStatus, Modality};
use crate::service::stats::Counting;

/// One number of a report, with the token that lists the ledger entries behind it.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Figure {
    /// Exact minutes (hours × 60).
    pub minutes: i64,
    /// Ledger entries summed (corrections included).
    pub entries: i64,
    /// Pass to `traceEntries(trace:)` to list those entries.
    pub trace: TraceToken,
}

/// Hours of a part of a report, by status as at the report's date (`domain::figures::Tally`,
/// the same rule as the markets' at-a-glance fields).
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct HourFigures {
    /// Validated hours (réalisées), training included.
    pub validated: Figure,
    /// Awaiting validation and adding hours: declarations and upward corrections (never negative).
    pub pending: Figure,
    /// Hours that downward corrections awaiting validation would take away (a positive number).
    pub pending_deductions: Figure,
    pub rejected: Figure,
    /// Validated hours that count towards the clause (training excluded where the parameter
    /// TRAINING_HOURS_COUNT in force for the entry's market says so).
    pub counted: Figure,
}

/// Sums the rows a filter keeps into figures traced by `base` narrowed with `facets`.
pub fn hour_figures(
    rows: &[HourRow],
    keep: impl Fn(&HourRow) -> bool,
    counting: &Counting,
    base: &Trace,
    facets: Facets,
) -> HourFigures {
    let t = counting.tally(rows.iter().filter(|r| keep(r)));
    let figure = |sum: Sum, status: HourStatus, counted: bool, deductions: Option<bool>| {
        let mut trace = base.clone();
        trace.facets = Facets {
            status: Some(status.as_str().into()),
            counted,
            deductions,
            ..facets.clone()
        };
        Figure {
            minutes: sum.minutes,
            entries: sum.entries,
            trace: TraceToken(trace),
        }
    };
    HourFigures {
        validated: figure(t.validated, HourStatus::Validated, false, None),
        pending: figure(t.pending, HourStatus::Declared, false, Some(false)),
        pending_deductions: figure(
            t.pending_deductions,
            HourStatus::Declared,
            false,
            Some(true),
        ),
        rejected: figure(t.rejected, HourStatus::Rejected, false, None),
        counted: figure(t.counted, HourStatus::Validated, true, None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(name = "ReportModalityHours")]
pub struct ModalityHours {
    pub modality: Modality,
    pub hours: HourFigures,
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct KindHours {
    pub kind: HourKind,
    pub hours: HourFigures,
}

pub fn by_modality(
    rows: &[HourRow],
    counting: &Counting,
    base: &Trace,
    facets: &Facets,
) -> Vec<ModalityHours> {
    let mut present: Vec<Modality> = rows.iter().map(|r| r.modality).collect();
    present.sort();
    present.dedup();
    present
        .into_iter()
        .map(|m| ModalityHours {
            modality: m,
            hours: hour_figures(
                rows,
                |r| r.modality == m,
                counting,
                base,
                Facets {
                    modality: Some(m.as_str().into()),
                    ..facets.clone()
                },
            ),
        })
        .collect()
}

pub fn by_kind(
    rows: &[HourRow],
    counting: &Counting,
    base: &Trace,
    facets: &Facets,
) -> Vec<KindHours> {
    let mut present: Vec<HourKind> = rows.iter().map(|r| r.kind).collect();
    present.sort();
    present.dedup();
    present
        .into_iter()
        .map(|k| KindHours {
            kind: k,
            hours: hour_figures(
                rows,
                |r| r.kind == k,
                counting,
                base,
                Facets {
                    kind: Some(k.as_str().into()),
                    ..facets.clone()
                },
            ),
        })
        .collect()
}

/// People in one band of one breakdown (sex, age, education, unemployment, public, QPV).
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct PeopleLine {
    /// The breakdown, in French ("Tranche d'âge", ...).
    pub breakdown: String,
    /// The band's code (`AGE:UNDER_26`, `PUBLIC:RSA`, `QPV:true`, ...).
    pub band: String,
    pub label: String,
    pub women: i64,
    pub men: i64,
    pub total: i64,
    /// The ledger entries of these people's placements in the report's scope (facilitators
    /// of the territory only: others get FORBIDDEN, the counts above being theirs).
    pub trace: TraceToken,
}

pub fn people_lines(people: &[Person], base: &Trace) -> Vec<PeopleLine> {
    report::breakdown(people)
        .into_iter()
        .map(|(band, n): (Band, BySex)| {
            let (breakdown, label) = band.label();
            let mut trace = base.clone();
            trace.facets = Facets {
                band: Some(band.code()),
                ..Default::default()
            };
            PeopleLine {
                breakdown: breakdown.into(),
                band: band.code(),
                label,
                women: n.women,
                men: n.men,
                total: n.total(),
                trace: TraceToken(trace),
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ContractLine {
    pub contract_type: ContractType,
    pub count: i64,
    /// Of which residents of a priority neighbourhood (QPV).
    pub qpv_residents: i64,
    pub trace: TraceToken,
}

pub fn contract_lines(rows: &[(ContractType, i64, i64)], base: &Trace) -> Vec<ContractLine> {
    rows.iter()
        .map(|(c, n, q)| {
            let mut trace = base.clone();
            trace.facets = Facets {
                contract: Some(c.as_str().into()),
                ..Default::default()
            };
            ContractLine {
                contract_type: *c,
                count: *n,
                qpv_residents: *q,
                trace: TraceToken(trace),
            }
        })
        .collect()
}

/// Exits by category with their rates, against the dynamic-exit target.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ExitFigures {
    pub total: i64,
    pub lines: Vec<ExitLine>,
    /// Sorties dynamiques (durable + transition + positive), in basis points of all exits.
    pub dynamic_rate_bp: Option<i64>,
    /// DYNAMIC_EXIT_TARGET in force at the report's date.
    pub target_bp: i64,
    pub meets_target: Option<bool>,
    /// Abandonments during the path (abandons en cours).
    pub abandonments: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ExitLine {
    pub category: ExitCategory,
    pub count: i64,
    /// Share of all exits, basis points.
    pub rate_bp: i64,
    /// The entries of the people who left so (facilitators of the territory only).
    pub trace: TraceToken,
}

/// `facets` narrows the lines' traces (a chantier of a territory report, say).
pub fn exit_figures(
    outcomes: &[(ExitOutcome, i64)],
    target_bp: i64,
    base: &Trace,
    facets: &Facets,
) -> ExitFigures {
    let mut counts = ExitCounts::default();
    for (o, n) in outcomes {
        for _ in 0..*n {
            counts.add(*o);
        }
    }
    let lines = [
        (ExitCategory::DurableEmployment, counts.durable),
        (ExitCategory::TransitionEmployment, counts.transition),
        (ExitCategory::PositiveExit, counts.positive),
        (ExitCategory::Other, counts.other),
    ]
    .into_iter()
    .map(|(category, count)| {
        let mut trace = base.clone();
        trace.facets = Facets {
            exit: Some(category.as_str().into()),
            ..facets.clone()
        };
        ExitLine {
            category,
            count,
            rate_bp: crate::domain::chantier::share_bp(count, counts.total),
            trace: TraceToken(trace),
        }
    })
    .collect();
    ExitFigures {
        total: counts.total,
        lines,
        dynamic_rate_bp: counts.dynamic_rate_bp(),
        target_bp,
        meets_target: counts.meets(target_bp),
        abandonments: counts.abandonments,
    }
}

/// ETP with the divisor used (DOMAIN.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, SimpleObject)]
pub struct Etp {
    /// ETP × 100, rounded down.
    pub hundredths: i64,
    /// Hours of one ETP used, in minutes.
    pub divisor_minutes: i64,
}

pub fn etp(minutes: i64, divisor_minutes: i64) -> Etp {
    Etp {
        hundredths: report::etp_hundredths(minutes, divisor_minutes),
        divisor_minutes,
    }
}
