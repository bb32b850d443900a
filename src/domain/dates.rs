//! Calendar arithmetic of DOMAIN.md section 5: "2 months before 15 May" is 15 March, and a day
//! missing from the target month falls back to that month's last day (chrono does the same).

use chrono::{Datelike, Months, NaiveDate};

/// `date` plus `months` calendar months (negative goes back).
pub fn add_months(date: NaiveDate, months: i64) -> NaiveDate {
    let m = Months::new(months.unsigned_abs().min(12 * 1000) as u32);
    let moved = if months >= 0 {
        date.checked_add_months(m)
    } else {
        date.checked_sub_months(m)
    };
    moved.unwrap_or(date)
}

/// Last day of a period of `months` months that starts on `start` (a 4-month contract from
/// 1 January runs to 30 April).
pub fn last_day_of(start: NaiveDate, months: i64) -> NaiveDate {
    add_months(start, months).pred_opt().unwrap_or(start)
}

pub fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(chrono::Duration::days(days))
        .unwrap_or(date)
}

/// Days from `start` to `end`, both included.
pub fn days_inclusive(start: NaiveDate, end: NaiveDate) -> i64 {
    (end - start).num_days() + 1
}

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Whether two date ranges (ends included, `None` = open) share a day.
pub fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    let a_end = a.1.unwrap_or(NaiveDate::MAX);
    let b_end = b.1.unwrap_or(NaiveDate::MAX);
    a.0 <= b_end && b.0 <= a_end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn month_arithmetic_of_domain_md() {
        assert_eq!(add_months(d("2026-05-15"), -2), d("2026-03-15"));
        // 1.5 months after 10 January: one month, then 15 days.
        assert_eq!(
            add_days(add_months(d("2026-01-10"), 1), 15),
            d("2026-02-25")
        );
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(add_months(d("2028-01-31"), 1), d("2028-02-29"));
        assert_eq!(last_day_of(d("2026-01-01"), 4), d("2026-04-30"));
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        assert_eq!(age_on(d("1976-06-10"), d("2026-06-09")), 49);
        assert_eq!(age_on(d("1976-06-10"), d("2026-06-10")), 50);
    }

    #[test]
    fn overlapping_ranges() {
        let r = |a: &str, b: &str| (d(a), Some(d(b)));
        assert!(overlaps(
            r("2026-01-01", "2026-01-31"),
            r("2026-01-31", "2026-02-10")
        ));
        assert!(!overlaps(
            r("2026-01-01", "2026-01-30"),
            r("2026-01-31", "2026-02-10")
        ));
        assert!(overlaps(
            (d("2026-01-01"), None),
            r("2030-01-01", "2030-02-01")
        ));
    }
}
