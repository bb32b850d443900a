//! Durations are whole minutes. People type hours as "7.5", "7,5", "7:30" or "7h30";
//! those are converted exactly, and a value that is not a whole number of minutes is refused.

use super::{RuleResult, RuleViolation};

/// Parses a duration in hours into minutes, exactly.
pub fn parse_hours(field: &'static str, raw: &str) -> RuleResult<i64> {
    let s = raw.trim();
    let bad = || {
        RuleViolation::new(
            field,
            format!(
                "{field} : durée illisible « {raw} » ; écrire 7.5, 7,5, 7:30 ou 7h30 (unreadable duration)"
            ),
        )
    };
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let minutes = if let Some((h, m)) = s.split_once([':', 'h', 'H']) {
        let h: i64 = digits(h).ok_or_else(bad)?;
        let m: i64 = if m.is_empty() {
            0
        } else {
            digits(m).ok_or_else(bad)?
        };
        if m >= 60 {
            return Err(bad());
        }
        h.checked_mul(60)
            .and_then(|x| x.checked_add(m))
            .ok_or_else(bad)?
    } else {
        let (int, frac) = s.split_once(['.', ',']).unwrap_or((s, ""));
        let h: i64 = digits(int).ok_or_else(bad)?;
        if !frac.is_empty() && !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        // minutes = frac × 60 / 10^len; exact only when that divides.
        let frac = frac.trim_end_matches('0');
        if frac.len() > 6 {
            return Err(bad());
        }
        let num: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        let den = 10i64.pow(frac.len() as u32);
        if (num * 60) % den != 0 {
            return Err(RuleViolation::new(
                field,
                format!(
                    "{field} : {raw} h ne tombe pas sur une minute entière (not a whole number of minutes)"
                ),
            ));
        }
        h.checked_mul(60)
            .and_then(|x| x.checked_add(num * 60 / den))
            .ok_or_else(bad)?
    };
    Ok(if negative { -minutes } else { minutes })
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 12 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Minutes as decimal hours with two decimals, e.g. 50 000 → "833.33".
pub fn format_hours(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    // Round to the hundredth of an hour, half up, in integers.
    let hundredths = (m * 100 + 30) / 60;
    format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Hours as people write a limit: "20" for whole hours, "19:59" otherwise.
pub fn format_hm(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    if m.is_multiple_of(60) {
        format!("{sign}{}", m / 60)
    } else {
        format!("{sign}{}:{:02}", m / 60, m % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_written() {
        assert_eq!(format_hm(20 * 60), "20");
        assert_eq!(format_hm(19 * 60 + 59), "19:59");
        assert_eq!(format_hm(-90), "-1:30");
    }

    #[test]
    fn readable_forms() {
        for (raw, min) in [
            ("7.5", 450),
            ("7,5", 450),
            ("7:30", 450),
            ("7h30", 450),
            ("7h", 420),
            ("0.25", 15),
            ("151.67", -1),
            ("35", 2100),
            ("-3.5", -210),
            ("1.50", 90),
        ] {
            match parse_hours("hours", raw) {
                Ok(m) => assert_eq!(m, min, "{raw}"),
                Err(e) => assert_eq!(min, -1, "{raw}: {}", e.message),
            }
        }
    }

    #[test]
    fn garbage_is_refused() {
        for raw in [
            "",
            "abc",
            "7:60",
            "1e3",
            "7.5.5",
            "--1",
            "7h3x",
            "99999999999999",
        ] {
            assert!(parse_hours("hours", raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format_hours(50_000), "833.33");
        assert_eq!(format_hours(450), "7.50");
        assert_eq!(format_hours(-90), "-1.50");
        assert_eq!(format_hours(0), "0.00");
        assert_eq!(format_hours(1), "0.02");
    }
}
