//! Life cycles as data: the allowed moves of each object and the guards they need.
//! This slice has the market's; later objects add their own tables.

use super::{MarketStatus, RuleResult, RuleViolation};

/// Facts about a market that its guards need.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarketFacts {
    pub lot_count: usize,
    pub lots_without_awardee: usize,
    pub entries_awaiting_review: usize,
}

/// The moves a market may make (DOMAIN.md section 3).
pub const MARKET_TRANSITIONS: &[(MarketStatus, MarketStatus)] = {
    use MarketStatus::*;
    &[
        (Draft, Published),
        (Published, Awarded),
        (Awarded, InProgress),
        (InProgress, Completed),
        (Completed, Closed),
        (Draft, Cancelled),
        (Published, Cancelled),
        (Awarded, Cancelled),
        (InProgress, Cancelled),
    ]
};

pub fn market_targets(from: MarketStatus) -> Vec<MarketStatus> {
    MARKET_TRANSITIONS
        .iter()
        .filter(|(f, _)| *f == from)
        .map(|(_, t)| *t)
        .collect()
}

/// Checks a market move, its guards and its reason.
pub fn check_market_transition(
    from: MarketStatus,
    to: MarketStatus,
    facts: MarketFacts,
    reason: Option<&str>,
) -> RuleResult {
    if !MARKET_TRANSITIONS.contains(&(from, to)) {
        let allowed: Vec<&str> = market_targets(from).iter().map(|s| s.as_str()).collect();
        return Err(RuleViolation::new(
            "to",
            format!(
                "to : un marché {from} ne peut pas passer à {to} ; possibles : {} (transition not allowed)",
                if allowed.is_empty() {
                    "aucun".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        ));
    }
    match to {
        MarketStatus::Awarded if facts.lot_count == 0 => Err(RuleViolation::new(
            "to",
            "to : attribuer un marché demande au moins un lot (no lot to award)",
        )),
        MarketStatus::Awarded if facts.lots_without_awardee > 0 => Err(RuleViolation::new(
            "to",
            format!(
                "to : {} lot(s) sans titulaire ; chaque lot doit avoir un attributaire (every lot needs an awardee)",
                facts.lots_without_awardee
            ),
        )),
        MarketStatus::Closed if facts.entries_awaiting_review > 0 => Err(RuleViolation::new(
            "to",
            format!(
                "to : {} déclaration(s) d'heures attendent encore validation (hours awaiting validation)",
                facts.entries_awaiting_review
            ),
        )),
        MarketStatus::Cancelled if reason.is_none_or(|r| r.trim().is_empty()) => {
            Err(RuleViolation::new(
                "reason",
                "reason : une annulation doit être motivée (a cancellation needs a reason)",
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MarketStatus::*;

    #[test]
    fn only_listed_moves() {
        let facts = MarketFacts {
            lot_count: 1,
            ..Default::default()
        };
        assert!(check_market_transition(Draft, Published, facts, None).is_ok());
        assert!(check_market_transition(Draft, InProgress, facts, None).is_err());
        assert!(check_market_transition(Completed, Cancelled, facts, Some("x")).is_err());
        assert!(check_market_transition(Closed, Draft, facts, None).is_err());
    }

    #[test]
    fn award_needs_every_lot_awarded() {
        let none = MarketFacts::default();
        assert!(check_market_transition(Published, Awarded, none, None).is_err());
        let one_missing = MarketFacts {
            lot_count: 2,
            lots_without_awardee: 1,
            ..Default::default()
        };
        assert!(check_market_transition(Published, Awarded, one_missing, None).is_err());
        let all = MarketFacts {
            lot_count: 2,
            ..Default::default()
        };
        assert!(check_market_transition(Published, Awarded, all, None).is_ok());
    }

    #[test]
    fn close_needs_every_entry_reviewed() {
        let pending = MarketFacts {
            entries_awaiting_review: 1,
            ..Default::default()
        };
        assert!(check_market_transition(Completed, Closed, pending, None).is_err());
        assert!(check_market_transition(Completed, Closed, MarketFacts::default(), None).is_ok());
    }

    #[test]
    fn cancel_needs_a_reason() {
        let f = MarketFacts::default();
        assert_eq!(
            check_market_transition(Draft, Cancelled, f, None)
                .unwrap_err()
                .field,
            "reason"
        );
        assert!(check_market_transition(Draft, Cancelled, f, Some("  ")).is_err());
        assert!(check_market_transition(Draft, Cancelled, f, Some("infructueux")).is_ok());
    }
}
