//! Rules of the reports (DOMAIN.md section 8): how people are counted into bands, how the
//! ANRU commitments are measured, and how figures are written for French spreadsheets.

use chrono::{Datelike, NaiveDate};

use super::{EducationLevel, Public, Sex};

string_enum! {
    /// Tranche d'âge at recruitment: < 26, 26–50, > 50.
    AgeBand {
        Under26 = "UNDER_26",
        From26To50 = "FROM_26_TO_50",
        Over50 = "OVER_50",
    }
}

string_enum! {
    /// Ancienneté dans le chômage at recruitment.
    UnemploymentBand {
        /// Not registered as unemployed (or not known).
        NotRegistered = "NOT_REGISTERED",
        UnderOneYear = "UNDER_ONE_YEAR",
        OneToTwoYears = "ONE_TO_TWO_YEARS",
        OverTwoYears = "OVER_TWO_YEARS",
    }
}

/// Full years from `birth` to `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// "Moins de 26 ans", "entre 26 et 50 ans" (both included), "plus de 50 ans".
pub fn age_band(birth: NaiveDate, on: NaiveDate) -> AgeBand {
    match age_on(birth, on) {
        ..26 => AgeBand::Under26,
        26..=50 => AgeBand::From26To50,
        _ => AgeBand::Over50,
    }
}

/// "Moins d'un an", "entre un et deux ans" (two years exactly included), "plus de deux ans".
pub fn unemployment_band(since: Option<NaiveDate>, on: NaiveDate) -> UnemploymentBand {
    let Some(since) = since.filter(|s| *s <= on) else {
        return UnemploymentBand::NotRegistered;
    };
    let years = age_on(since, on);
    match years {
        ..1 => UnemploymentBand::UnderOneYear,
        1 => UnemploymentBand::OneToTwoYears,
        2 if (on.month(), on.day()) == (since.month(), since.day()) => {
            UnemploymentBand::OneToTwoYears
        }
        _ => UnemploymentBand::OverTwoYears,
    }
}

/// One person as the reports count them: their situation at recruitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub education: EducationLevel,
    pub unemployed_since: Option<NaiveDate>,
    pub qpv_resident: bool,
    pub publics: Vec<Public>,
    /// First start of a placement in the report's scope.
    pub recruited_on: NaiveDate,
}

/// A count split by sex, as the fiche évaluation ACI asks ("nombre de femmes, d'hommes").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BySex {
    pub women: i64,
    pub men: i64,
}

impl BySex {
    pub fn add(&mut self, sex: Sex) {
        match sex {
            Sex::Female => self.women += 1,
            Sex::Male => self.men += 1,
        }
    }

    pub fn total(&self) -> i64 {
        self.women + self.men
    }
}

/// Which band of which breakdown a person falls in: one value per dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    All,
    Age(AgeBand),
    Education(EducationLevel),
    Unemployment(UnemploymentBand),
    Public(Public),
    Qpv(bool),
}

impl Band {
    /// Whether the person counts in this band.
    pub fn holds(self, p: &Person) -> bool {
        match self {
            Band::All => true,
            Band::Age(a) => age_band(p.birth_date, p.recruited_on) == a,
            Band::Education(e) => p.education == e,
            Band::Unemployment(u) => unemployment_band(p.unemployed_since, p.recruited_on) == u,
            Band::Public(x) => p.publics.contains(&x),
            Band::Qpv(q) => p.qpv_resident == q,
        }
    }

    /// Every band of every breakdown, in the order of the fiche évaluation ACI.
    pub fn all() -> Vec<Band> {
        let mut out = vec![Band::All];
        out.extend(AgeBand::ALL.iter().map(|a| Band::Age(*a)));
        out.extend(EducationLevel::ALL.iter().map(|e| Band::Education(*e)));
        out.extend(UnemploymentBand::ALL.iter().map(|u| Band::Unemployment(*u)));
        out.extend(Public::ALL.iter().map(|x| Band::Public(*x)));
        out.extend([Band::Qpv(true), Band::Qpv(false)]);
        out
    }

    /// (breakdown, band) labels in French, as the reports print them.
    pub fn label(self) -> (&'static str, String) {
        match self {
            Band::All => ("Effectif", "Total".into()),
            Band::Age(a) => (
                "Tranche d'âge",
                match a {
                    AgeBand::Under26 => "Moins de 26 ans",
                    AgeBand::From26To50 => "De 26 à 50 ans",
                    AgeBand::Over50 => "Plus de 50 ans",
                }
                .into(),
            ),
            Band::Education(e) => ("Niveau de formation", e.as_str().into()),
            Band::Unemployment(u) => (
                "Ancienneté dans le chômage",
                match u {
                    UnemploymentBand::NotRegistered => "Non inscrit",
                    UnemploymentBand::UnderOneYear => "Moins d'un an",
                    UnemploymentBand::OneToTwoYears => "Entre un et deux ans",
                    UnemploymentBand::OverTwoYears => "Plus de deux ans",
                }
                .into(),
            ),
            Band::Public(x) => ("Public prioritaire", x.as_str().into()),
            Band::Qpv(q) => ("Résidence en QPV", if q { "Oui" } else { "Non" }.into()),
        }
    }

    /// A stable code for the band, used in trace tokens.
    pub fn code(self) -> String {
        match self {
            Band::All => "ALL".into(),
            Band::Age(a) => format!("AGE:{a}"),
            Band::Education(e) => format!("EDU:{e}"),
            Band::Unemployment(u) => format!("UNEMP:{u}"),
            Band::Public(x) => format!("PUBLIC:{x}"),
            Band::Qpv(q) => format!("QPV:{q}"),
        }
    }

    pub fn parse(code: &str) -> Option<Band> {
        let (dim, value) = code.split_once(':').unwrap_or((code, ""));
        Some(match dim {
            "ALL" => Band::All,
            "AGE" => Band::Age(AgeBand::parse(value)?),
            "EDU" => Band::Education(EducationLevel::parse(value)?),
            "UNEMP" => Band::Unemployment(UnemploymentBand::parse(value)?),
            "PUBLIC" => Band::Public(Public::parse(value)?),
            "QPV" => Band::Qpv(value.parse().ok()?),
            _ => return None,
        })
    }
}

/// Counts of people in each band, by sex.
pub fn breakdown(people: &[Person]) -> Vec<(Band, BySex)> {
    Band::all()
        .into_iter()
        .map(|band| {
            let mut n = BySex::default();
            for p in people.iter().filter(|p| band.holds(p)) {
                n.add(p.sex);
            }
            (band, n)
        })
        .collect()
}

/// Hours worked on a market, estimated as the calibrage does (`amount × labour share ÷ loaded
/// hourly cost`), or, for a target set without a calibrage, as `target ÷ insertion rate`.
/// `None` when neither is known.
pub fn estimated_worked_minutes(
    amount_cents: i64,
    labour_share_bp: Option<i32>,
    hourly_cost_cents: Option<i64>,
    target_minutes: Option<i64>,
    insertion_rate_bp: i64,
) -> Option<i64> {
    match (labour_share_bp, hourly_cost_cents, target_minutes) {
        (Some(share), Some(cost), _) if cost > 0 => {
            Some((amount_cents as i128 * share as i128 * 60 / 10_000 / cost as i128) as i64)
        }
        (_, _, Some(target)) if insertion_rate_bp > 0 => {
            Some((target as i128 * 10_000 / insertion_rate_bp as i128) as i64)
        }
        _ => None,
    }
}

/// ETP in hundredths (1 607 h → 100), rounded down.
pub fn etp_hundredths(minutes: i64, etp_minutes: i64) -> i64 {
    if etp_minutes <= 0 {
        0
    } else {
        (minutes as i128 * 100 / etp_minutes as i128) as i64
    }
}

/// How numbers are written in an export: French spreadsheets want a decimal comma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberStyle {
    pub decimal: char,
}

impl NumberStyle {
    /// `units / scale` with exactly `places` decimals, rounded half away from zero.
    pub fn fixed(&self, units: i64, scale: i64, places: u32) -> String {
        let factor = 10i128.pow(places);
        let scaled = units as i128 * factor;
        let half = scale as i128 / 2;
        let rounded = if scaled >= 0 {
            (scaled + half) / scale as i128
        } else {
            (scaled - half) / scale as i128
        };
        let sign = if rounded < 0 { "-" } else { "" };
        let abs = rounded.unsigned_abs();
        let whole = abs / factor as u128;
        if places == 0 {
            return format!("{sign}{whole}");
        }
        let frac = abs % factor as u128;
        format!(
            "{sign}{whole}{}{frac:0width$}",
            self.decimal,
            width = places as usize
        )
    }

    /// Minutes as hours with two decimals (450 → "7,50").
    pub fn hours(&self, minutes: i64) -> String {
        self.fixed(minutes, 60, 2)
    }

    /// Basis points as a percentage with two decimals (1250 → "12,50").
    pub fn percent(&self, bp: i64) -> String {
        self.fixed(bp, 100, 2)
    }

    /// Cents as euros with two decimals.
    pub fn euros(&self, cents: i64) -> String {
        self.fixed(cents, 100, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn age_bands_at_their_boundaries() {
        let on = d("2026-06-30");
        // 26th birthday the day after: still under 26; on the day: 26–50.
        assert_eq!(age_band(d("2000-07-01"), on), AgeBand::Under26);
        assert_eq!(age_band(d("2000-06-30"), on), AgeBand::From26To50);
        // 50 is still "between 26 and 50"; 51 is over.
        assert_eq!(age_band(d("1975-07-01"), on), AgeBand::From26To50);
        assert_eq!(age_band(d("1976-06-30"), on), AgeBand::From26To50);
        assert_eq!(age_band(d("1975-06-30"), on), AgeBand::Over50);
        // Born on 29 February: a year is complete on 1 March of a common year.
        assert_eq!(age_on(d("2000-02-29"), d("2026-02-28")), 25);
        assert_eq!(age_on(d("2000-02-29"), d("2026-03-01")), 26);
    }

    #[test]
    fn unemployment_bands_at_their_boundaries() {
        let on = d("2026-06-30");
        assert_eq!(unemployment_band(None, on), UnemploymentBand::NotRegistered);
        assert_eq!(
            unemployment_band(Some(d("2026-07-01")), on),
            UnemploymentBand::NotRegistered
        );
        assert_eq!(
            unemployment_band(Some(d("2025-07-01")), on),
            UnemploymentBand::UnderOneYear
        );
        assert_eq!(
            unemployment_band(Some(d("2025-06-30")), on),
            UnemploymentBand::OneToTwoYears
        );
        assert_eq!(
            unemployment_band(Some(d("2024-06-30")), on),
            UnemploymentBand::OneToTwoYears
        );
        assert_eq!(
            unemployment_band(Some(d("2024-06-29")), on),
            UnemploymentBand::OverTwoYears
        );
    }

    #[test]
    fn bands_round_trip_their_codes() {
        for b in Band::all() {
            assert_eq!(Band::parse(&b.code()), Some(b));
        }
        assert_eq!(Band::parse("AGE:NOPE"), None);
    }

    #[test]
    fn worked_hours_follow_the_calibrage() {
        // DOMAIN.md: 1 000 000 € × 50 % ÷ 30 €/h = 16 666 h worked (of which 5 % is 833 h).
        let worked = estimated_worked_minutes(100_000_000, Some(5000), Some(3000), None, 500);
        assert_eq!(worked, Some(1_000_000));
        // Without a calibrage: 833 h at 5 % means 16 660 h worked.
        assert_eq!(
            estimated_worked_minutes(0, None, None, Some(833 * 60), 500),
            Some(16_660 * 60)
        );
        assert_eq!(estimated_worked_minutes(0, None, None, None, 500), None);
    }

    #[test]
    fn numbers_for_french_spreadsheets() {
        let fr = NumberStyle { decimal: ',' };
        assert_eq!(fr.hours(450), "7,50");
        assert_eq!(fr.hours(451), "7,52");
        assert_eq!(fr.hours(-90), "-1,50");
        assert_eq!(fr.percent(1250), "12,50");
        assert_eq!(NumberStyle { decimal: '.' }.euros(123_456), "1234.56");
        assert_eq!(etp_hundredths(1607 * 60, 1607 * 60), 100);
        assert_eq!(etp_hundredths(1607 * 60 - 1, 1607 * 60), 99);
    }
}
