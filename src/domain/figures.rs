//! The one rule behind every hour figure (DOMAIN.md section 8): which ledger entries count, and
//! into which figure their minutes go. The at-a-glance fields of markets and lots, the forecast
//! of a market (and so its MARKET_BEHIND deadline) and every report sum grouped ledger rows
//! through `Tally::add`; nothing else decides it.

use super::{HourKind, HourStatus, Modality};

/// Hours of this kind are training hours.
pub const TRAINING_KIND: HourKind = HourKind::Training;
/// Every hour of a placement of this modality is training.
pub const TRAINING_MODALITY: Modality = Modality::Training;

/// Whether the hours are training: the kind TRAINING, or any hour of a TRAINING placement.
pub fn is_training(kind: HourKind, modality: Modality) -> bool {
    kind == TRAINING_KIND || modality == TRAINING_MODALITY
}

/// Whether validated hours count towards the clause's target, given TRAINING_HOURS_COUNT in
/// force (for the entry's market, as at the figure's date).
pub fn counts(kind: HourKind, modality: Modality, training_counts: bool) -> bool {
    training_counts || !is_training(kind, modality)
}

/// Counted hours ÷ target in basis points, rounded down (100 % only once the target is
/// reached); none without a target.
pub fn completion_bp(counted: i64, target: Option<i64>) -> Option<i64> {
    target
        .filter(|t| *t > 0)
        .map(|t| super::chantier::share_bp(counted, t))
}

/// Minutes and the number of ledger entries they sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum {
    pub minutes: i64,
    pub entries: i64,
}

impl Sum {
    fn add(&mut self, minutes: i64, entries: i64) {
        self.minutes += minutes;
        self.entries += entries;
    }

    fn plus(self, o: Sum) -> Sum {
        Sum {
            minutes: self.minutes + o.minutes,
            entries: self.entries + o.entries,
        }
    }
}

/// A group of ledger entries with the same kind, modality and status at the figure's date, and
/// the same sign (a correction carries a signed difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub kind: HourKind,
    pub modality: Modality,
    pub status: HourStatus,
    /// Entries with negative minutes: corrections that take hours away.
    pub deduction: bool,
    pub minutes: i64,
    pub entries: i64,
}

/// The figures of a set of entries.
///
/// Pending hours are split by sign so that no figure is ever negative: `pending` holds what
/// awaits validation and would add hours (declarations, upward corrections), `pending_deductions`
/// what downward corrections awaiting validation would take away (as a positive number). A
/// correction of a validated entry thus leaves `validated` as it was and shows apart until it is
/// decided, instead of a negative `pending`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Every validated hour (réalisées), whatever its kind.
    pub validated: Sum,
    /// Validated hours that count towards the clause: "delivered", the completion rate, the
    /// forecast and the ETP are made of these.
    pub counted: Sum,
    pub pending: Sum,
    pub pending_deductions: Sum,
    pub rejected: Sum,
}

impl Tally {
    pub fn add(&mut self, g: &Group, training_counts: bool) {
        match g.status {
            HourStatus::Validated => {
                self.validated.add(g.minutes, g.entries);
                if counts(g.kind, g.modality, training_counts) {
                    self.counted.add(g.minutes, g.entries);
                }
            }
            HourStatus::Declared if g.deduction => {
                self.pending_deductions.add(-g.minutes, g.entries)
            }
            HourStatus::Declared => self.pending.add(g.minutes, g.entries),
            HourStatus::Rejected => self.rejected.add(g.minutes, g.entries),
        }
    }

    /// Two tallies together (a market's modalities, say).
    pub fn plus(&self, o: &Tally) -> Tally {
        Tally {
            validated: self.validated.plus(o.validated),
            counted: self.counted.plus(o.counted),
            pending: self.pending.plus(o.pending),
            pending_deductions: self.pending_deductions.plus(o.pending_deductions),
            rejected: self.rejected.plus(o.rejected),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(kind: HourKind, modality: Modality, status: HourStatus, minutes: i64) -> Group {
        Group {
            kind,
            modality,
            status,
            deduction: minutes < 0,
            minutes,
            entries: 1,
        }
    }

    #[test]
    fn training_counts_only_where_the_parameter_says_so() {
        use HourKind as K;
        use Modality as M;
        assert!(counts(K::Work, M::DirectHire, false));
        assert!(!counts(K::Training, M::DirectHire, false));
        assert!(!counts(K::Work, M::Training, false));
        assert!(counts(K::Training, M::Training, true));
        assert!(counts(K::Immersion, M::MadeAvailable, false));
    }

    #[test]
    fn figures_are_never_negative_with_a_pending_deduction() {
        use HourStatus as S;
        let mut t = Tally::default();
        for x in [
            g(HourKind::Work, Modality::DirectHire, S::Validated, 6000),
            g(HourKind::Training, Modality::DirectHire, S::Validated, 600),
            g(HourKind::Work, Modality::DirectHire, S::Declared, -600),
            g(HourKind::Work, Modality::DirectHire, S::Declared, 120),
            g(HourKind::Work, Modality::DirectHire, S::Rejected, 60),
        ] {
            t.add(&x, false);
        }
        assert_eq!(t.validated.minutes, 6600);
        assert_eq!(t.counted.minutes, 6000);
        assert_eq!(t.pending.minutes, 120);
        assert_eq!(t.pending_deductions.minutes, 600);
        assert_eq!(t.rejected.minutes, 60);
    }
}
