//! Rules of the hours ledger: periods, plausibility caps, corrections.

use chrono::{Datelike, NaiveDate};

use super::{HourStatus, PeriodKind, RuleResult, RuleViolation};

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
    pub minutes: i64,
    pub status: HourStatus,
}

/// Checks that `minutes` more (possibly negative, for a correction) can be recorded over `period`
/// for a placement dated `[placement_start, placement_end]`, given what it already has.
pub fn check_record(
    period: Period,
    minutes: i64,
    placement_start: NaiveDate,
    placement_end: Option<NaiveDate>,
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
    let ends_before = placement_end.is_some_and(|end| period.start > end);
    if period.end < placement_start || ends_before {
        let until = placement_end.map_or("…".to_string(), |d| d.to_string());
        return Err(RuleViolation::new(
            "period",
            format!(
                "period : la période du {} au {} est hors des dates de la mise en situation ({placement_start} – {until}) (outside the placement's dates)",
                period.start, period.end
            ),
        ));
    }
    // Days of the period that the placement covers bound what can be delivered.
    let first = period.start.max(placement_start);
    let last = placement_end.map_or(period.end, |e| period.end.min(e));
    let covered = Period {
        kind: period.kind,
        start: first,
        end: last,
    };
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
    let mut windows = vec![(period, covered.cap_minutes())];
    if period.kind == PeriodKind::Day {
        let month = Period::month_of(period.start);
        let month_first = month.start.max(placement_start);
        let month_last = placement_end.map_or(month.end, |e| month.end.min(e));
        let month_cap = ((month_last - month_first).num_days() + 1) * MAX_MINUTES_PER_DAY;
        windows.push((month, month_cap));
    }
    for (window, cap) in windows {
        let total = counted(&window) + minutes;
        if total > cap {
            return Err(RuleViolation::new(
                "hours",
                format!(
                    "hours : {} h sur la période du {} au {} dépasseraient le maximum possible de {} h (24 h par jour couvert) (more hours than the period holds)",
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
        assert!(check_record(day, 24 * 60 - 1, start, None, today, &[]).is_ok());
        assert!(check_record(day, 24 * 60, start, None, today, &[]).is_ok());
        assert_eq!(
            check_record(day, 24 * 60 + 1, start, None, today, &[])
                .unwrap_err()
                .field,
            "hours"
        );
        // Two entries on the same day add up.
        let prior = [existing(day, 20 * 60)];
        assert!(check_record(day, 4 * 60, start, None, today, &prior).is_ok());
        assert!(check_record(day, 4 * 60 + 1, start, None, today, &prior).is_err());
    }

    #[test]
    fn month_cap_boundary_of_744_hours() {
        let march = Period::parse_month("month", "2026-03").unwrap();
        let start = d("2026-01-01");
        let today = d(TODAY);
        assert!(check_record(march, 744 * 60 - 1, start, None, today, &[]).is_ok());
        assert!(check_record(march, 744 * 60, start, None, today, &[]).is_ok());
        assert!(check_record(march, 744 * 60 + 1, start, None, today, &[]).is_err());
        // A rejected entry does not count.
        let rejected = [ExistingEntry {
            period: march,
            minutes: 744 * 60,
            status: HourStatus::Rejected,
        }];
        assert!(check_record(march, 744 * 60, start, None, today, &rejected).is_ok());
    }

    #[test]
    fn month_cap_only_counts_days_the_placement_covers() {
        // Placement starting on 30 March: 2 days, 48 h at most.
        let march = Period::parse_month("month", "2026-03").unwrap();
        let today = d(TODAY);
        assert!(check_record(march, 48 * 60, d("2026-03-30"), None, today, &[]).is_ok());
        assert!(check_record(march, 48 * 60 + 1, d("2026-03-30"), None, today, &[]).is_err());
    }

    #[test]
    fn placement_dates_boundary() {
        let start = d("2026-03-10");
        let end = Some(d("2026-06-30"));
        let today = d(TODAY);
        let ok = |day: &str| check_record(Period::day(d(day)), 60, start, end, today, &[]);
        assert!(ok("2026-03-09").is_err());
        assert!(ok("2026-03-10").is_ok());
        assert!(ok("2026-06-30").is_ok());
        assert_eq!(ok("2026-07-01").unwrap_err().field, "period");
        // A month that overlaps the placement is fine.
        let feb = Period::parse_month("m", "2026-02").unwrap();
        let mar = Period::parse_month("m", "2026-03").unwrap();
        assert!(check_record(feb, 60, start, end, today, &[]).is_err());
        assert!(check_record(mar, 60, start, end, today, &[]).is_ok());
    }

    #[test]
    fn future_period_boundary() {
        let start = d("2026-01-01");
        let today = d(TODAY);
        assert!(check_record(Period::day(today), 60, start, None, today, &[]).is_ok());
        assert!(check_record(Period::day(d("2026-11-23")), 60, start, None, today, &[]).is_err());
        // The current month may be declared as it runs; next month not.
        assert!(check_record(Period::month_of(today), 60, start, None, today, &[]).is_ok());
        assert!(
            check_record(
                Period::month_of(d("2026-12-01")),
                60,
                start,
                None,
                today,
                &[]
            )
            .is_err()
        );
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
