//! Deadlines (échéances, DOMAIN.md section 5): which rule makes which deadline, on which date,
//! for whom, and how a set of wanted deadlines is reconciled with the stored ones.
//!
//! A rule is data: its reminder offsets and its recipients are parameters of the territory.
//! What is code is only the date arithmetic of each rule, as pure functions below.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::dates::{add_days, add_months};
use super::params::{ParamKey, ParamSet};

string_enum! {
    /// The rules that make deadlines.
    DeadlineRule {
        /// Relevé mensuel d'heures of an active lot.
        MonthlyStatement = "MONTHLY_STATEMENT",
        /// Convention individuelle of a subsidised contract, to file ahead of its start.
        AidAgreementFiling = "AID_AGREEMENT_FILING",
        /// Réponse de l'État to a complete file.
        StateAnswer = "STATE_ANSWER",
        ConventionEnd = "CONVENTION_END",
        /// Demande de renouvellement of an SIAE's State agreement.
        ConventionRenewal = "CONVENTION_RENEWAL",
        Commission = "COMMISSION",
        /// The start, mid-term and final comités de pilotage of a chantier.
        SteeringCommittee = "STEERING_COMMITTEE",
        DecisionFollowUp = "DECISION_FOLLOW_UP",
        PlacementEnd = "PLACEMENT_END",
        CddiCap = "CDDI_CAP",
        ImmersionEnd = "IMMERSION_END",
        EligibilityEnd = "ELIGIBILITY_END",
        PassIaeEnd = "PASS_IAE_END",
        MarketBehind = "MARKET_BEHIND",
    }
}

string_enum! {
    /// Where a deadline stands. `MISSED` is an open deadline whose day has passed.
    DeadlineStatus {
        Open = "OPEN",
        Met = "MET",
        Missed = "MISSED",
        Cancelled = "CANCELLED",
    }
}

string_enum! {
    /// Who a rule reminds; each object says who fills each role.
    Recipient {
        /// Facilitateurs of the territory.
        Facilitator = "FACILITATOR",
        /// Titulaire of the lot.
        Awardee = "AWARDEE",
        /// Maître d'ouvrage of the market.
        Buyer = "BUYER",
        /// Employer of the placement (structure porteuse of an aided contract).
        Employer = "EMPLOYER",
        /// Structure porteuse of the chantier.
        Carrier = "CARRIER",
        /// Maître d'ouvrage of the chantier.
        Owner = "OWNER",
        /// Parties to the convention.
        Parties = "PARTIES",
        /// Members of the commission.
        Members = "MEMBERS",
        /// Owner of a decision.
        DecisionOwner = "DECISION_OWNER",
    }
}

impl Recipient {
    pub fn bit(self) -> i64 {
        1 << Recipient::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }

    pub fn mask_all() -> i64 {
        Recipient::ALL.iter().map(|r| r.bit()).sum()
    }

    pub fn from_mask(mask: i64) -> Vec<Recipient> {
        Recipient::ALL
            .iter()
            .copied()
            .filter(|r| mask & r.bit() != 0)
            .collect()
    }
}

/// A rule as data: its words, and the parameters that hold its offsets and recipients.
#[derive(Debug, Clone, Copy)]
pub struct RuleDef {
    pub rule: DeadlineRule,
    pub label: &'static str,
    pub offsets: ParamKey,
    pub recipients: ParamKey,
    /// The deadline is met by its day passing (an immersion ends by itself): never missed.
    pub lapses: bool,
}

pub fn rule_def(rule: DeadlineRule) -> RuleDef {
    use DeadlineRule as R;
    use ParamKey as P;
    let (label, offsets, recipients) = match rule {
        R::MonthlyStatement => (
            "Relevé mensuel d'heures",
            P::RemindStatement,
            P::RecipientsStatement,
        ),
        R::AidAgreementFiling => (
            "Dépôt de la convention individuelle",
            P::RemindAidAgreement,
            P::RecipientsAidAgreement,
        ),
        R::StateAnswer => (
            "Réponse de l'État au dossier",
            P::RemindStateAnswer,
            P::RecipientsStateAnswer,
        ),
        R::ConventionEnd => (
            "Fin de convention",
            P::RemindConvention,
            P::RecipientsConvention,
        ),
        R::ConventionRenewal => (
            "Demande de renouvellement du conventionnement",
            P::RemindConvention,
            P::RecipientsConvention,
        ),
        R::Commission => ("Commission", P::RemindCommission, P::RecipientsCommission),
        R::SteeringCommittee => (
            "Comité de pilotage du chantier",
            P::RemindSteering,
            P::RecipientsSteering,
        ),
        R::DecisionFollowUp => (
            "Suivi d'une décision",
            P::RemindDecision,
            P::RecipientsDecision,
        ),
        R::PlacementEnd => (
            "Fin de contrat",
            P::RemindPlacementEnd,
            P::RecipientsPlacementEnd,
        ),
        R::CddiCap => (
            "Plafond de durée du CDDI",
            P::RemindPlacementEnd,
            P::RecipientsPlacementEnd,
        ),
        R::ImmersionEnd => (
            "Fin d'immersion (PMSMP)",
            P::RemindPlacementEnd,
            P::RecipientsPlacementEnd,
        ),
        R::EligibilityEnd => (
            "Fin de validité de l'éligibilité",
            P::RemindEligibility,
            P::RecipientsEligibility,
        ),
        R::PassIaeEnd => (
            "Fin du PASS IAE",
            P::RemindEligibility,
            P::RecipientsEligibility,
        ),
        R::MarketBehind => (
            "Marché en retard sur son objectif d'heures",
            P::RemindMarketBehind,
            P::RecipientsMarketBehind,
        ),
    };
    RuleDef {
        rule,
        label,
        offsets,
        recipients,
        lapses: rule == R::ImmersionEnd,
    }
}

/// One person or organization to remind, as stored on the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientEntry {
    pub role: Recipient,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl serde::Serialize for Recipient {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Recipient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Recipient::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("recipient {s}")))
    }
}

/// Who fills each role for one subject.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub awardees: Vec<Uuid>,
    pub buyer: Option<Uuid>,
    pub employer: Option<Uuid>,
    pub carrier: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub parties: Vec<Uuid>,
    /// (name, e-mail) of people named on the object.
    pub members: Vec<(String, Option<String>)>,
    pub decision_owner: Option<(String, Option<String>)>,
}

/// The people a rule reminds, from the roles its parameter names.
pub fn recipients(params: &ParamSet, rule: DeadlineRule, roles: &Roles) -> Vec<RecipientEntry> {
    let mask = params.int(rule_def(rule).recipients);
    let org = |role, id: Uuid| RecipientEntry {
        role,
        organization_id: Some(id),
        name: None,
        email: None,
    };
    let person = |role, (name, email): &(String, Option<String>)| RecipientEntry {
        role,
        organization_id: None,
        name: Some(name.clone()),
        email: email.clone(),
    };
    let mut out = Vec::new();
    for role in Recipient::from_mask(mask) {
        match role {
            Recipient::Facilitator => out.push(RecipientEntry {
                role,
                organization_id: None,
                name: None,
                email: None,
            }),
            Recipient::Awardee => out.extend(roles.awardees.iter().map(|id| org(role, *id))),
            Recipient::Buyer => out.extend(roles.buyer.map(|id| org(role, id))),
            Recipient::Employer => out.extend(roles.employer.map(|id| org(role, id))),
            Recipient::Carrier => out.extend(roles.carrier.map(|id| org(role, id))),
            Recipient::Owner => out.extend(roles.owner.map(|id| org(role, id))),
            Recipient::Parties => out.extend(roles.parties.iter().map(|id| org(role, *id))),
            Recipient::Members => out.extend(roles.members.iter().map(|m| person(role, m))),
            Recipient::DecisionOwner => {
                out.extend(roles.decision_owner.iter().map(|m| person(role, m)))
            }
        }
    }
    out
}

/// A deadline a rule wants to exist now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub rule: DeadlineRule,
    pub key: String,
    pub due_on: NaiveDate,
    pub title: String,
    /// The day it was met, when it is.
    pub met_on: Option<NaiveDate>,
    pub recipients: Vec<RecipientEntry>,
}

impl Due {
    pub fn new(rule: DeadlineRule, key: impl Into<String>, due_on: NaiveDate, what: &str) -> Self {
        Self {
            rule,
            key: key.into(),
            due_on,
            title: format!("{} — {what}", rule_def(rule).label),
            met_on: None,
            recipients: Vec::new(),
        }
    }

    pub fn to(mut self, recipients: Vec<RecipientEntry>) -> Self {
        self.recipients = recipients;
        self
    }

    pub fn met(mut self, on: Option<NaiveDate>) -> Self {
        self.met_on = on;
        self
    }
}

/// A stored deadline, as reconciliation needs it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    pub rule: DeadlineRule,
    pub key: String,
    pub due_on: NaiveDate,
    pub status: DeadlineStatus,
    pub met_on: Option<NaiveDate>,
    pub title: String,
    pub recipients: Vec<RecipientEntry>,
}

/// What to write so the stored deadlines match the wanted ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Insert(Due),
    /// New date, title, status or met day for an existing row.
    Update {
        id: Uuid,
        due: Due,
        status: DeadlineStatus,
    },
    Cancel(Uuid),
}

/// Wanted deadlines are inserted or brought up to date; stored ones no rule wants any more are
/// cancelled unless already met (a met deadline stays met: it happened).
pub fn reconcile(stored: &[Stored], wanted: Vec<Due>) -> Vec<Change> {
    let mut out = Vec::new();
    for due in &wanted {
        let status = if due.met_on.is_some() {
            DeadlineStatus::Met
        } else {
            DeadlineStatus::Open
        };
        match stored
            .iter()
            .find(|s| s.rule == due.rule && s.key == due.key)
        {
            None => out.push(Change::Insert(due.clone())),
            Some(s)
                if s.due_on != due.due_on
                    || s.status != status
                    || s.met_on != due.met_on
                    || s.title != due.title
                    || s.recipients != due.recipients =>
            {
                out.push(Change::Update {
                    id: s.id,
                    due: due.clone(),
                    status,
                })
            }
            Some(_) => {}
        }
    }
    for s in stored {
        let wanted_still = wanted.iter().any(|w| w.rule == s.rule && w.key == s.key);
        if !wanted_still && s.status == DeadlineStatus::Open {
            out.push(Change::Cancel(s.id));
        }
    }
    out
}

/// How a stored deadline reads on `today`: open past its day is missed, unless it lapses.
pub fn status_on(
    rule: DeadlineRule,
    stored: DeadlineStatus,
    due_on: NaiveDate,
    today: NaiveDate,
) -> DeadlineStatus {
    match stored {
        DeadlineStatus::Open if due_on < today && rule_def(rule).lapses => DeadlineStatus::Met,
        DeadlineStatus::Open if due_on < today => DeadlineStatus::Missed,
        s => s,
    }
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "octobre 2026".
pub fn month_name(first_day: NaiveDate) -> String {
    format!(
        "{} {}",
        MONTHS[first_day.month0() as usize],
        first_day.year()
    )
}

/// The monthly statement of the month starting `first_day` is due on `day` of the next month.
pub fn statement_due(first_day: NaiveDate, day: i64) -> NaiveDate {
    let next = add_months(first_day, 1);
    next.with_day(day.clamp(1, 28) as u32).unwrap_or(next)
}

/// First days of the months from `start`'s to `end`'s, both included.
pub fn months_between(start: NaiveDate, end: NaiveDate) -> Vec<NaiveDate> {
    let mut m = start.with_day(1).unwrap_or(start);
    let mut out = Vec::new();
    while m <= end {
        out.push(m);
        m = add_months(m, 1);
    }
    out
}

/// The individual aid agreement must be filed this many months before the contract starts.
pub fn aid_filing_due(contract_start: NaiveDate, params: &ParamSet) -> NaiveDate {
    add_months(
        contract_start,
        -params.int(ParamKey::AidAgreementMonthsBefore),
    )
}

/// The State answers a complete file 1.5 months after its filing (a month, then 15 days).
pub fn state_answer_due(filed_on: NaiveDate, params: &ParamSet) -> NaiveDate {
    add_days(
        add_months(filed_on, params.int(ParamKey::StateAnswerMonths)),
        params.int(ParamKey::StateAnswerDays),
    )
}

/// An SIAE's agreement is renewed on a request made in the last quarter of the year before it
/// ends: the request is due on 31 December of that year, and the window opens on 1 October.
pub fn renewal_due(end: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(end.year() - 1, 12, 31).unwrap_or(end)
}

pub fn renewal_opens(end: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(end.year() - 1, 10, 1).unwrap_or(end)
}

/// The start, mid-term and final steering committees of a chantier.
pub fn steering_dates(start: NaiveDate, end: NaiveDate) -> [(&'static str, NaiveDate); 3] {
    let mid = add_days(start, (end - start).num_days() / 2);
    [
        ("STEERING_START", start),
        ("STEERING_MIDTERM", mid),
        ("STEERING_FINAL", end),
    ]
}

/// Where a market stands against its target, from the pace so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forecast {
    /// Validated minutes expected at the end date at the pace so far.
    pub minutes_at_end: i64,
    pub pace: Pace,
}

string_enum! {
    /// On track, at risk or behind (DOMAIN.md section 8).
    Pace {
        /// Too early to judge.
        TooEarly = "TOO_EARLY",
        OnTrack = "ON_TRACK",
        AtRisk = "AT_RISK",
        Behind = "BEHIND",
    }
}

/// Linear forecast: minutes so far × total days ÷ elapsed days, judged against the target with
/// the territory's thresholds once enough of the duration has passed.
pub fn forecast(
    target: i64,
    delivered: i64,
    start: NaiveDate,
    end: NaiveDate,
    today: NaiveDate,
    params: &ParamSet,
) -> Forecast {
    let total = (end - start).num_days() + 1;
    let elapsed = ((today - start).num_days() + 1).clamp(0, total);
    if total <= 0 || elapsed <= 0 {
        return Forecast {
            minutes_at_end: delivered,
            pace: Pace::TooEarly,
        };
    }
    let minutes_at_end = (delivered as i128 * total as i128 / elapsed as i128) as i64;
    let share = |key| target as i128 * params.int(key) as i128 / 10_000;
    let early = (elapsed as i128) * 10_000
        < total as i128 * params.int(ParamKey::ForecastMinElapsedShare) as i128;
    let at_end = minutes_at_end as i128;
    let pace = if target <= 0 || early {
        Pace::TooEarly
    } else if at_end < share(ParamKey::ForecastBehindShare) {
        Pace::Behind
    } else if at_end < share(ParamKey::ForecastAtRiskShare) {
        Pace::AtRisk
    } else {
        Pace::OnTrack
    };
    Forecast {
        minutes_at_end,
        pace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p() -> ParamSet {
        ParamSet::national(d("2026-01-01"))
    }

    #[test]
    fn dates_follow_calendar_arithmetic() {
        // DOMAIN.md section 5: "2 months before 15 May is 15 March".
        assert_eq!(aid_filing_due(d("2026-05-15"), &p()), d("2026-03-15"));
        // "1.5 months after 10 January is 25 February".
        assert_eq!(state_answer_due(d("2026-01-10"), &p()), d("2026-02-25"));
        // A day missing in the target month falls back to its last day.
        assert_eq!(aid_filing_due(d("2026-04-30"), &p()), d("2026-02-28"));
        assert_eq!(statement_due(d("2026-10-01"), 5), d("2026-11-05"));
        assert_eq!(statement_due(d("2026-12-01"), 5), d("2027-01-05"));
        assert_eq!(renewal_due(d("2028-06-30")), d("2027-12-31"));
        assert_eq!(renewal_opens(d("2028-06-30")), d("2027-10-01"));
        assert_eq!(
            months_between(d("2026-01-20"), d("2026-03-01")),
            vec![d("2026-01-01"), d("2026-02-01"), d("2026-03-01")]
        );
        let s = steering_dates(d("2026-01-01"), d("2026-12-31"));
        assert_eq!(s[1], ("STEERING_MIDTERM", d("2026-07-02")));
    }

    #[test]
    fn forecast_thresholds_at_their_boundary() {
        let (start, end) = (d("2026-01-01"), d("2026-12-31")); // 365 days
        let at = |delivered, today| forecast(36_500, delivered, start, end, d(today), &p()).pace;
        // Half-way (day 183 of 365): 80 % of target at the end is delivered × 365 / 183.
        // 80 % of 36 500 = 29 200; 29 200 × 183 / 365 = 14 640 exactly.
        assert_eq!(at(14_640, "2026-07-02"), Pace::AtRisk);
        assert_eq!(at(14_639, "2026-07-02"), Pace::Behind);
        // 100 %: 36 500 × 183 / 365 = 18 300.
        assert_eq!(at(18_300, "2026-07-02"), Pace::OnTrack);
        assert_eq!(at(18_299, "2026-07-02"), Pace::AtRisk);
        // Before 20 % of the duration (73 days), nothing is judged.
        assert_eq!(at(0, "2026-03-13"), Pace::TooEarly); // day 72
        assert_eq!(at(0, "2026-03-14"), Pace::Behind); // day 73
    }

    fn stored(rule: DeadlineRule, key: &str, due: &str, status: DeadlineStatus) -> Stored {
        Stored {
            id: Uuid::now_v7(),
            rule,
            key: key.into(),
            due_on: d(due),
            status,
            met_on: None,
            title: format!("{} — x", rule_def(rule).label),
            recipients: Vec::new(),
        }
    }

    #[test]
    fn reconcile_inserts_moves_meets_and_cancels() {
        use DeadlineRule::*;
        let moved = stored(PlacementEnd, "end", "2026-06-30", DeadlineStatus::Open);
        let gone = stored(CddiCap, "cap", "2027-01-01", DeadlineStatus::Open);
        let met_gone = stored(ImmersionEnd, "i", "2026-02-01", DeadlineStatus::Met);
        let same = stored(EligibilityEnd, "e", "2026-05-01", DeadlineStatus::Open);
        let rows = vec![moved.clone(), gone.clone(), met_gone, same.clone()];
        let wanted = vec![
            Due::new(PlacementEnd, "end", d("2026-07-31"), "x"),
            Due::new(EligibilityEnd, "e", d("2026-05-01"), "x"),
            Due::new(PassIaeEnd, "p", d("2027-01-01"), "x"),
        ];
        let changes = reconcile(&rows, wanted);
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(
            matches!(&changes[0], Change::Update { id, due, status: DeadlineStatus::Open } if *id == moved.id && due.due_on == d("2026-07-31"))
        );
        assert!(matches!(&changes[1], Change::Insert(due) if due.rule == PassIaeEnd));
        assert_eq!(changes[2], Change::Cancel(gone.id));
        // Met: the same row, now met.
        let met = reconcile(
            std::slice::from_ref(&same),
            vec![Due::new(EligibilityEnd, "e", d("2026-05-01"), "x").met(Some(d("2026-04-20")))],
        );
        assert!(matches!(
            &met[0],
            Change::Update {
                status: DeadlineStatus::Met,
                ..
            }
        ));
    }

    #[test]
    fn missed_only_after_the_day_and_never_for_lapsing_rules() {
        use DeadlineRule::*;
        let due = d("2026-05-01");
        assert_eq!(
            status_on(PlacementEnd, DeadlineStatus::Open, due, d("2026-05-01")),
            DeadlineStatus::Open
        );
        assert_eq!(
            status_on(PlacementEnd, DeadlineStatus::Open, due, d("2026-05-02")),
            DeadlineStatus::Missed
        );
        assert_eq!(
            status_on(ImmersionEnd, DeadlineStatus::Open, due, d("2026-05-02")),
            DeadlineStatus::Met
        );
        assert_eq!(
            status_on(PlacementEnd, DeadlineStatus::Met, due, d("2026-06-02")),
            DeadlineStatus::Met
        );
    }

    #[test]
    fn recipients_follow_the_parameter() {
        let roles = Roles {
            awardees: vec![Uuid::nil()],
            buyer: Some(Uuid::max()),
            ..Default::default()
        };
        let r = recipients(&p(), DeadlineRule::MonthlyStatement, &roles);
        let got: Vec<_> = r.iter().map(|e| e.role).collect();
        assert_eq!(got, vec![Recipient::Facilitator, Recipient::Awardee]);
        let json = serde_json::to_string(&r).unwrap();
        let back: Vec<RecipientEntry> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
