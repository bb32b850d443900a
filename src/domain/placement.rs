//! Rules checked when a placement is created: dates, weekly hours, and who may employ
//! a participant under each modality.

use chrono::NaiveDate;

use super::{MarketStatus, Modality, OrganizationKind, RuleResult, RuleViolation, SiaeSubtype};

/// Most weekly hours of one placement (the legal maximum working week).
pub const MAX_WEEKLY_MINUTES: i32 = 48 * 60;

pub fn check_dates(start: NaiveDate, end: Option<NaiveDate>) -> RuleResult {
    match end {
        Some(end) if end < start => Err(RuleViolation::new(
            "endDate",
            format!("endDate : la fin ({end}) précède le début ({start}) (end before start)"),
        )),
        _ => Ok(()),
    }
}

pub fn check_weekly_minutes(minutes: i32) -> RuleResult {
    if minutes <= 0 || minutes > MAX_WEEKLY_MINUTES {
        return Err(RuleViolation::new(
            "weeklyHours",
            format!(
                "weeklyHours : entre 0 et 48 h par semaine, reçu {} h (out of range)",
                super::hours::format_hours(minutes as i64)
            ),
        ));
    }
    Ok(())
}

/// Whether the employer can carry a placement of this modality (DOMAIN.md, placement table).
pub fn check_employer(
    modality: Modality,
    kind: OrganizationKind,
    subtype: Option<SiaeSubtype>,
) -> RuleResult {
    use SiaeSubtype::*;
    let ok = match modality {
        // The awardee itself; an insertion structure can be an awardee too.
        Modality::DirectHire | Modality::Training => {
            matches!(kind, OrganizationKind::Company | OrganizationKind::Siae)
        }
        // Lent by an ETTI, AI or GEIQ, or an ordinary temp agency (a company).
        Modality::MadeAvailable => {
            kind == OrganizationKind::Company || matches!(subtype, Some(Etti | Ai | Geiq))
        }
        Modality::Subcontracting | Modality::CoContracting => {
            matches!(subtype, Some(Aci | Ei | Ea | Esat | Regie))
        }
    };
    if ok {
        Ok(())
    } else {
        let what = subtype.map_or(kind.as_str(), |s| s.as_str());
        Err(RuleViolation::new(
            "employerId",
            format!(
                "employerId : un employeur de type {what} ne peut pas porter une mise en situation {} (employer cannot carry this modality)",
                modality.as_str()
            ),
        ))
    }
}

/// Markets on which nothing new may be recorded.
pub fn market_accepts_work(status: MarketStatus) -> bool {
    !matches!(status, MarketStatus::Cancelled | MarketStatus::Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_hours_boundary() {
        assert!(check_weekly_minutes(0).is_err());
        assert!(check_weekly_minutes(1).is_ok());
        assert!(check_weekly_minutes(48 * 60).is_ok());
        assert_eq!(
            check_weekly_minutes(48 * 60 + 1).unwrap_err().field,
            "weeklyHours"
        );
    }

    #[test]
    fn end_before_start() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(check_dates(d("2026-01-02"), Some(d("2026-01-01"))).is_err());
        assert!(check_dates(d("2026-01-02"), Some(d("2026-01-02"))).is_ok());
        assert!(check_dates(d("2026-01-02"), None).is_ok());
    }

    #[test]
    fn employers_by_modality() {
        use OrganizationKind as K;
        assert!(check_employer(Modality::DirectHire, K::Company, None).is_ok());
        assert!(check_employer(Modality::DirectHire, K::Buyer, None).is_err());
        assert!(check_employer(Modality::MadeAvailable, K::Siae, Some(SiaeSubtype::Etti)).is_ok());
        assert!(check_employer(Modality::MadeAvailable, K::Siae, Some(SiaeSubtype::Aci)).is_err());
        assert!(check_employer(Modality::Subcontracting, K::Siae, Some(SiaeSubtype::Aci)).is_ok());
        assert!(check_employer(Modality::Subcontracting, K::Company, None).is_err());
    }

    #[test]
    fn closed_and_cancelled_markets_take_no_work() {
        assert!(!market_accepts_work(MarketStatus::Cancelled));
        assert!(!market_accepts_work(MarketStatus::Closed));
        assert!(market_accepts_work(MarketStatus::InProgress));
    }
}
