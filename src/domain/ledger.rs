//! Rules of the hours ledger: periods, plausibility caps, corrections, which placements take
//! hours and for which days, and months declared by month or by days.

use chrono::{Datelike, NaiveDate};

use super::{HourKind, HourStatus, PeriodKind, PlacementStatus, RuleResult, RuleViolation};

/// Most minutes one placement can deliver in one day.
pub const MAX_MINUTES_PER_DAY: i64 = 24 * 60;

/// A ledger period: a calendar month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    pub fn day(day: NaiveDate) -> Self {
        Self {
            kind: PeriodKind::Day,
            start: day,
            end: day,
        }
    }

    /// The month containing `day`.
    pub fn month_of(day: NaiveDate) -> Self {
        let start = day.with_day(1).expect("day 1 exists");
        Self {
            kind: PeriodKind::Month,
            start,
            end: last_day_of_month(start),
        }
    }

    /// Parses `YYYY-MM`.
    pub fn parse_month(field: &'static str, raw: &str) -> RuleResult<Self> {
        let day = NaiveDate::parse_from_str(&format!("{}-01", raw.trim()), "%Y-%m-%d").map_err(|_| {
            RuleViolation::new(field, format!("{field} : mois attendu au format AAAA-MM, reçu « {raw} » (expected YYYY-MM)"))
        })?;
        Ok(Self::month_of(day))
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Most minutes one placement can deliver over this period (24 h a day).
    pub fn cap_minutes(&self) -> i64 {
        self.days() * MAX_MINUTES_PER_DAY
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

pub fn last_day_of_month(day: NaiveDate) -> NaiveDate {
    let (y, m) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .expect("first of month")
        .pred_opt()
        .expect("a day before")
}

/// An entry already in the ledger for the same placement, as the caps need it.
#[derive(Debug, Clone, Copy)]
pub struct ExistingEntry {
    pub period: Period,
    pub kind: HourKind,
    pub minutes: i64,
    pub status: HourStatus,
}

/// Whether a placement in this state takes hours: ACTIVE, or ENDED (statements come after the
/// end; its dates bound the days). Not PROPOSED (not signed), SUSPENDED, nor CANCELLED.
pub fn takes_hours(status: PlacementStatus) -> bool {
    matches!(status, PlacementStatus::Active | PlacementStatus::Ended)
}

/// Days a placement was suspended: from the day of the suspension (local date of the move)
/// up to the day before its resumption; `until` is `None` while it was never resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suspension {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Suspension {
    fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day < u)
    }
}

/// The suspensions in a placement's history of moves `(from, to, local day)`, oldest first.
pub fn suspensions(moves: &[(PlacementStatus, PlacementStatus, NaiveDate)]) -> Vec<Suspension> {
    let mut out: Vec<Suspension> = Vec::new();
    for &(from, to, day) in moves {
        if to == PlacementStatus::Suspended {
            out.push(Suspension {
                from: day,
                until: None,
            });
        } else if from == PlacementStatus::Suspended
            && let Some(open) = out.last_mut().filter(|s| s.until.is_none())
        {
            // Resumed (or ended, or cancelled): the suspension stops that day.
            open.until = Some(day.max(open.from));
        }
    }
    out
}

/// The days a placement can have worked: its dates, less its suspensions.
#[derive(Debug, Clone, Default)]
pub struct Worked {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub suspended: Vec<Suspension>,
}

impl Worked {
    pub fn new(start: NaiveDate, end: Option<NaiveDate>) -> Self {
        Self {
            start,
            end,
            suspended: Vec::new(),
        }
    }

    fn suspended_on(&self, day: NaiveDate) -> bool {
        self.suspended.iter().any(|s| s.contains(day))
    }

    /// Days of `window` within the dates and not suspended.
    fn days_in(&self, window: Period) -> i64 {
        let first = window.start.max(self.start);
        let last = self.end.map_or(window.end, |e| window.end.min(e));
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| !self.suspended_on(*d))
            .count() as i64
    }
}

/// A placement's month of one kind is declared by month or by days, not both: the same days
/// would count twice. Entries rejected, or corrected down to nothing, do not block.
pub fn check_one_granularity(
    period: Period,
    kind: HourKind,
    existing: &[ExistingEntry],
) -> RuleResult {
    let month = Period::month_of(period.start);
    let other = match period.kind {
        PeriodKind::Day => PeriodKind::Month,
        PeriodKind::Month => PeriodKind::Day,
    };
    let declared: i64 = existing
        .iter()
        .filter(|e| {
            e.status != HourStatus::Rejected
                && e.kind == kind
                && e.period.kind == other
                && month.contains(e.period.start)
        })
        .map(|e| e.minutes)
        .sum();
    if declared <= 0 {
        return Ok(());
    }
    Err(match period.kind {
        PeriodKind::Day => RuleViolation::new(
            "day",
            format!(
                "day : les heures « {kind} » de {} sont déjà déclarées au mois ; corriger la déclaration du mois plutôt qu'ajouter des jours (month already declared as a whole)",
                month.start.format("%Y-%m")
            ),
        ),
        PeriodKind::Month => RuleViolation::new(
            "month",
            format!(
                "month : des heures « {kind} » de {} sont déjà déclarées jour par jour ; continuer par jours (month already declared by days)",
                month.start.format("%Y-%m")
            ),
        ),
    })
}

/// Checks that `minutes` more (possibly negative, for a correction) can be recorded over `period`
/// for a placement that worked `worked`, given what it already has. Caps count 24 h per day
/// the placement covers and was not suspended; a day it was suspended takes no hours.
pub fn check_record(
    period: Period,
    minutes: i64,
    worked: &Worked,
    today: NaiveDate,
    existing: &[ExistingEntry],
) -> RuleResult {
    if period.start > today {
        return Err(RuleViolation::new(
            "period",
            format!(
                "period : on ne déclare pas d'heures pour une période à venir ({} est après aujourd'hui, {today}) (period in the future)",
                period.start
            ),
        ));
    }
    let ends_before = worked.end.is_some_and(|end| period.start > end);
    if period.end < worked.start || ends_before {
        let until = worked.end.map_or("…".to_string(), |d| d.to_string());
        return Err(RuleViolation::new(
            "period",
            format!(
                "period : la période du {} au {} est hors des dates de la mise en situation ({} – {until}) (outside the placement's dates)",
                period.start, period.end, worked.start
            ),
        ));
    }
    // A declaration (not a correction down) for a period with no day worked at all.
    if minutes > 0 && worked.days_in(period) == 0 {
        let field = match period.kind {
            PeriodKind::Day => "day",
            PeriodKind::Month => "month",
        };
        return Err(RuleViolation::new(
            field,
            format!(
                "{field} : la mise en situation était suspendue du {} au {} : pas d'heures pour ces jours (placement suspended)",
                period.start, period.end
            ),
        ));
    }
    let counted = |p: &Period| -> i64 {
        existing
            .iter()
            .filter(|e| {
                e.status != HourStatus::Rejected
                    && e.period.start >= p.start
                    && e.period.end <= p.end
            })
            .map(|e| e.minutes)
            .sum()
    };
    // A day entry must also fit its month; a month entry must fit the month.
    let mut windows = vec![period];
    if period.kind == PeriodKind::Day {
        windows.push(Period::month_of(period.start));
    }
    for window in windows {
        let cap = worked.days_in(window) * MAX_MINUTES_PER_DAY;
        let total = counted(&window) + minutes;
        // A correction down never makes a breach worse.
        if total > cap && minutes > 0 {
            return Err(RuleViolation::new(
                "hours",
                format!(
                    "hours : {} h sur la période du {} au {} dépasseraient le maximum possible de {} h (24 h par jour couvert et non suspendu) (more hours than the period holds)",
                    super::hours::format_hours(total),
                    window.start,
                    window.end,
                    super::hours::format_hours(cap)
                ),
            ));
        }
        if total < 0 {
            return Err(RuleViolation::new(
                "hours",
                "hours : le total de la période deviendrait négatif (total would be negative)",
            ));
        }
    }
    Ok(())
}

/// Minutes must be positive for a declaration.
pub fn check_declared_minutes(minutes: i64) -> RuleResult {
    if minutes <= 0 {
        return Err(RuleViolation::new(
            "hours",
            "hours : le nombre d'heures déclarées doit être positif (must be positive)",
        ));
    }
    Ok(())
}

/// The signed difference a correction records, refusing a correction that changes nothing.
pub fn correction_delta(current_minutes: i64, corrected_minutes: i64) -> RuleResult<i64> {
    if corrected_minutes < 0 {
        return Err(RuleViolation::new(
            "hours",
            "hours : la valeur corrigée ne peut pas être négative (must not be negative)",
        ));
    }
    let delta = corrected_minutes - current_minutes;
    if delta == 0 {
        return Err(RuleViolation::new(
            "hours",
            "hours : la correction ne change rien (the entry already has this value)",
        ));
    }
    Ok(delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn existing(period: Period, minutes: i64) -> ExistingEntry {
        ExistingEntry {
            period,
            kind: HourKind::Work,
            minutes,
            status: HourStatus::Declared,
        }
    }

    const TODAY: &str = "2026-11-22";

    #[test]
    fn months_and_last_days() {
        assert_eq!(
            Period::parse_month("month", "2024-02").unwrap().end,
            d("2024-02-29")
        );
        assert_eq!(
            Period::parse_month("month", "2026-12").unwrap().end,
            d("2026-12-31")
        );
        assert_eq!(
            Period::parse_month("month", "2026-13").unwrap_err().field,
            "month"
        );
        assert_eq!(Period::month_of(d("2026-03-17")).cap_minutes(), 744 * 60);
    }

    #[test]
    fn day_cap_boundary() {
        let day = Period::day(d("2026-03-10"));
        let start = d("2026-01-01");
        let today = d(TODAY);
        assert!(check_record(day, 24 * 60 - 1, &Worked::new(start, None), today, &[]).is_ok());
        assert!(check_record(day, 24 * 60, &Worked::new(start, None), today, &[]).is_ok());
        assert_eq!(
            check_record(day, 24 * 60 + 1, &Worked::new(start, None), today, &[])
                .unwrap_err()
                .field,
            "hours"
        );
        // Two entries on the same day add up.
        let prior = [existing(day, 20 * 60)];
        assert!(check_record(day, 4 * 60, &Worked::new(start, None), today, &prior).is_ok());
        assert!(check_record(day, 4 * 60 + 1, &Worked::new(start, None), today, &prior).is_err());
    }

    #[test]
    fn month_cap_boundary_of_744_hours() {
        let march = Period::parse_month("month", "2026-03").unwrap();
        let start = d("2026-01-01");
        let today = d(TODAY);
        assert!(check_record(march, 744 * 60 - 1, &Worked::new(start, None), today, &[]).is_ok());
        assert!(check_record(march, 744 * 60, &Worked::new(start, None), today, &[]).is_ok());
        assert!(check_record(march, 744 * 60 + 1, &Worked::new(start, None), today, &[]).is_err());
        // A rejected entry does not count.
        let rejected = [ExistingEntry {
            period: march,
            kind: HourKind::Work,
            minutes: 744 * 60,
            status: HourStatus::Rejected,
        }];
        assert!(check_record(march, 744 * 60, &Worked::new(start, None), today, &rejected).is_ok());
    }

    #[test]
    fn month_cap_only_counts_days_the_placement_covers() {
        // Placement starting on 30 March: 2 days, 48 h at most.
        let march = Period::parse_month("month", "2026-03").unwrap();
        let today = d(TODAY);
        assert!(
            check_record(
                march,
                48 * 60,
                &Worked::new(d("2026-03-30"), None),
                today,
                &[]
            )
            .is_ok()
        );
        assert!(
            check_record(
                march,
                48 * 60 + 1,
                &Worked::new(d("2026-03-30"), None),
                today,
                &[]
            )
            .is_err()
        );
    }

    #[test]
    fn placement_dates_boundary() {
        let start = d("2026-03-10");
        let end = Some(d("2026-06-30"));
        let today = d(TODAY);
        let ok = |day: &str| {
            check_record(
                Period::day(d(day)),
                60,
                &Worked::new(start, end),
                today,
                &[],
            )
        };
        assert!(ok("2026-03-09").is_err());
        assert!(ok("2026-03-10").is_ok());
        assert!(ok("2026-06-30").is_ok());
        assert_eq!(ok("2026-07-01").unwrap_err().field, "period");
        // A month that overlaps the placement is fine.
        let feb = Period::parse_month("m", "2026-02").unwrap();
        let mar = Period::parse_month("m", "2026-03").unwrap();
        assert!(check_record(feb, 60, &Worked::new(start, end), today, &[]).is_err());
        assert!(check_record(mar, 60, &Worked::new(start, end), today, &[]).is_ok());
    }

    #[test]
    fn future_period_boundary() {
        let today = d(TODAY);
        let check =
            |period| check_record(period, 60, &Worked::new(d("2026-01-01"), None), today, &[]);
        assert!(check(Period::day(today)).is_ok());
        assert!(check(Period::day(d("2026-11-23"))).is_err());
        // The current month may be declared as it runs; next month not.
        assert!(check(Period::month_of(today)).is_ok());
        assert!(check(Period::month_of(d("2026-12-01"))).is_err());
    }

    #[test]
    fn month_or_days_per_kind() {
        let march = Period::month_of(d("2026-03-01"));
        let day = Period::day(d("2026-03-10"));
        let of = |period, kind, minutes, status| ExistingEntry {
            period,
            kind,
            minutes,
            status,
        };
        let (work, training) = (HourKind::Work, HourKind::Training);
        // A day of work blocks the month of work, not the month of training.
        let days = [of(day, work, 420, HourStatus::Declared)];
        assert_eq!(
            check_one_granularity(march, work, &days).unwrap_err().field,
            "month"
        );
        assert!(check_one_granularity(march, training, &days).is_ok());
        // The month blocks its days, and only its own month's.
        let month = [of(march, work, 6000, HourStatus::Validated)];
        assert_eq!(
            check_one_granularity(day, work, &month).unwrap_err().field,
            "day"
        );
        assert!(check_one_granularity(Period::day(d("2026-04-01")), work, &month).is_ok());
        // Rejected, or corrected down to nothing: no longer blocks.
        let rejected = [of(day, work, 420, HourStatus::Rejected)];
        assert!(check_one_granularity(march, work, &rejected).is_ok());
        let zeroed = [
            of(march, work, 6000, HourStatus::Validated),
            of(march, work, -6000, HourStatus::Validated),
        ];
        assert!(check_one_granularity(day, work, &zeroed).is_ok());
    }

    #[test]
    fn which_placements_take_hours() {
        use PlacementStatus::*;
        assert!(takes_hours(Active) && takes_hours(Ended));
        assert!(!takes_hours(Proposed) && !takes_hours(Suspended) && !takes_hours(Cancelled));
    }

    #[test]
    fn suspended_days_boundary() {
        use PlacementStatus::*;
        let s = suspensions(&[
            (Proposed, Active, d("2026-02-01")),
            (Active, Suspended, d("2026-06-10")),
            (Suspended, Active, d("2026-06-20")),
            (Active, Suspended, d("2026-09-01")),
        ]);
        assert_eq!(
            s,
            [
                Suspension {
                    from: d("2026-06-10"),
                    until: Some(d("2026-06-20"))
                },
                Suspension {
                    from: d("2026-09-01"),
                    until: None
                },
            ]
        );
        let worked = Worked {
            start: d("2026-02-01"),
            end: None,
            suspended: s,
        };
        let today = d(TODAY);
        let on = |day: &str| check_record(Period::day(d(day)), 60, &worked, today, &[]);
        assert!(on("2026-06-09").is_ok());
        assert_eq!(on("2026-06-10").unwrap_err().field, "day");
        assert_eq!(on("2026-06-19").unwrap_err().field, "day");
        assert!(on("2026-06-20").is_ok());
        assert_eq!(on("2026-09-01").unwrap_err().field, "day");
        // June as a month: 20 days worked, 480 h at most.
        let june = Period::month_of(d("2026-06-01"));
        assert!(check_record(june, 480 * 60, &worked, today, &[]).is_ok());
        assert_eq!(
            check_record(june, 480 * 60 + 1, &worked, today, &[])
                .unwrap_err()
                .field,
            "hours"
        );
        // September on: suspended every day, no month either; a correction down stays possible.
        let september = Period::month_of(d("2026-09-01"));
        assert_eq!(
            check_record(september, 60, &worked, today, &[])
                .unwrap_err()
                .field,
            "month"
        );
        let prior = [existing(september, 600)];
        assert!(check_record(september, -60, &worked, today, &prior).is_ok());
    }

    #[test]
    fn corrections() {
        assert_eq!(correction_delta(600, 540).unwrap(), -60);
        assert_eq!(correction_delta(600, 660).unwrap(), 60);
        assert!(correction_delta(600, 600).is_err());
        assert!(correction_delta(600, -1).is_err());
        assert!(correction_delta(600, 0).is_ok());
    }

    #[test]
    fn declared_minutes_must_be_positive() {
        assert!(check_declared_minutes(0).is_err());
        assert!(check_declared_minutes(-1).is_err());
        assert!(check_declared_minutes(1).is_ok());
    }
}
