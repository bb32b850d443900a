//! Reminders (rappels, DOMAIN.md section 5): on which day and at which local hour a reminder
//! goes out, when a territory's office is open, how failures back off, and the keys that make
//! each reminder unique. Pure: the clock and the zone are arguments.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use uuid::Uuid;

use super::dates::add_days;
use super::deadlines::{DeadlineRule, Recipient};
use super::params::{ParamKey, ParamSet};

string_enum! {
    /// Where a reminder of the outbox stands.
    ReminderStatus {
        /// Waiting for its time.
        Planned = "PLANNED",
        /// Claimed by a sender whose lease runs.
        Sending = "SENDING",
        Sent = "SENT",
        /// Failed; tried again after a back-off.
        Failed = "FAILED",
        /// Failed too often, or refused for good by the server; an operator may resend it.
        Dead = "DEAD",
        /// No longer wanted (deadline met, moved or cancelled; rule muted).
        Cancelled = "CANCELLED",
        /// Went out inside a digest.
        Digested = "DIGESTED",
    }
}

string_enum! {
    /// What a mail of the outbox is.
    ReminderKind {
        /// A reminder of one deadline at one offset.
        Reminder = "REMINDER",
        /// A daily or weekly digest of several reminders.
        Digest = "DIGEST",
        /// A commission re-planned or cancelled: its invitation updated or withdrawn.
        CommissionNotice = "COMMISSION_NOTICE",
        /// A link to set a new password (one hour).
        AccountReset = "ACCOUNT_RESET",
        /// An invitation to choose one's first password (seven days).
        AccountInvitation = "ACCOUNT_INVITATION",
    }
}

string_enum! {
    /// How a user wants reminders.
    Delivery {
        /// One mail per reminder, on its day.
        Single = "SINGLE",
        /// One mail each working morning.
        Daily = "DAILY",
        /// One mail each Monday morning, with the week ahead.
        Weekly = "WEEKLY",
    }
}

impl ReminderStatus {
    /// Still to go out (by itself or in a digest).
    pub const PENDING: [ReminderStatus; 2] = [ReminderStatus::Planned, ReminderStatus::Failed];
}

impl Delivery {
    /// How far ahead a digest looks: a daily one covers the day, a weekly one the week.
    pub fn horizon(self) -> Duration {
        match self {
            Delivery::Weekly => Duration::days(7),
            _ => Duration::days(1),
        }
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The day a reminder `offset` days before `due_on` goes out (negative: after). Offices are
/// closed at weekends: a reminder ahead of its deadline moves back to the Friday (it keeps its
/// notice), one on or after the day moves on to the Monday.
pub fn reminder_day(due_on: NaiveDate, offset: i64) -> NaiveDate {
    let mut day = add_days(due_on, -offset);
    let step = if offset > 0 { -1 } else { 1 };
    while is_weekend(day) {
        day = add_days(day, step);
    }
    day
}

/// Whether `role` gets the reminder `offset` days before a deadline of `rule`. A monthly
/// statement reminds its awardee; the facilitator only once it is late ("if still missing
/// after", DOMAIN.md section 5).
pub fn reminds(rule: DeadlineRule, role: Recipient, offset: i64) -> bool {
    !(rule == DeadlineRule::MonthlyStatement && role == Recipient::Facilitator && offset >= 0)
}

/// The instant of a local day and time; in a spring-forward gap, the first valid minute after.
pub fn local_instant(day: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let mut at = day.and_time(time);
    loop {
        match tz.from_local_datetime(&at) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            // Autumn: the first of the two (the earlier instant).
            LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => at += Duration::minutes(1),
        }
    }
}

/// A territory's sending hours, from its parameters.
#[derive(Debug, Clone, Copy)]
pub struct OfficeHours {
    pub send_time: NaiveTime,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

fn time_of(minutes: i64) -> NaiveTime {
    NaiveTime::from_hms_opt((minutes / 60) as u32, (minutes % 60) as u32, 0)
        .unwrap_or(NaiveTime::MIN)
}

impl OfficeHours {
    pub fn of(params: &ParamSet) -> Self {
        OfficeHours {
            send_time: time_of(params.int(ParamKey::ReminderSendTime)),
            opens: time_of(params.int(ParamKey::OfficeOpens)),
            closes: time_of(params.int(ParamKey::OfficeCloses)),
        }
    }

    /// Whether a mail may go out at `now` in zone `tz`: a working day, between opening and
    /// closing. Never at 3 a.m. local, whatever the server's zone.
    pub fn open_at(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        let local = now.with_timezone(&tz);
        let t = local.time();
        !is_weekend(local.date_naive()) && t >= self.opens && t < self.closes
    }

    /// When a reminder `offset` days before `due_on` is planned to go out.
    pub fn send_at(&self, due_on: NaiveDate, offset: i64, tz: Tz) -> DateTime<Utc> {
        local_instant(reminder_day(due_on, offset), self.send_time, tz)
    }
}

/// How long to wait after the `attempt`-th failure: `base` doubled at each attempt, at most `max`.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let wait = base.checked_mul(1 << exp).unwrap_or(max).min(max);
    wait.max(Duration::zero())
}

/// Unique key of a deadline's reminder: the deadline, the day it is due (a moved deadline is
/// reminded again for its new day), the offset and the address.
pub fn reminder_key(deadline: Uuid, due_on: NaiveDate, offset: i64, email: &str) -> String {
    format!("r:{deadline}:{due_on}:{offset}:{}", email.to_lowercase())
}

/// Unique key of the notice that a commission changed (one per version and address).
pub fn notice_key(commission: Uuid, sequence: i32, email: &str) -> String {
    format!("n:{commission}:{sequence}:{}", email.to_lowercase())
}

/// Unique key of one digest (one per user, territory and local day).
pub fn digest_key(user: Uuid, territory: Uuid, day: NaiveDate) -> String {
    format!("d:{user}:{territory}:{day}")
}

/// The latest time `schedule` fired at or before `now`, read in zone `tz`, within `lookback`.
pub fn last_fire(
    schedule: &cron::Schedule,
    tz: Tz,
    now: DateTime<Utc>,
    lookback: Duration,
) -> Option<DateTime<Tz>> {
    let now = now.with_timezone(&tz);
    schedule
        .after(&(now - lookback))
        .take_while(|t| *t <= now)
        .last()
}

/// A French date a reader expects: « lundi 7 décembre 2026 ».
pub fn french_date(day: NaiveDate) -> String {
    const DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    format!(
        "{} {} {}",
        DAYS[day.weekday().num_days_from_monday() as usize],
        day.day(),
        super::deadlines::month_name(day)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekday_reminders_stay_on_their_day() {
        // Friday 4 December 2026 minus 3 days: Tuesday 1 December.
        assert_eq!(reminder_day(d("2026-12-04"), 3), d("2026-12-01"));
        assert_eq!(reminder_day(d("2026-12-04"), 0), d("2026-12-04"));
    }

    #[test]
    fn weekend_reminders_ahead_move_back_to_friday() {
        // Tuesday 8 December minus 3 = Saturday 5: Friday 4.
        assert_eq!(reminder_day(d("2026-12-08"), 3), d("2026-12-04"));
        // Minus 2 = Sunday 6: Friday 4 as well.
        assert_eq!(reminder_day(d("2026-12-08"), 2), d("2026-12-04"));
    }

    #[test]
    fn weekend_reminders_on_or_after_move_on_to_monday() {
        assert_eq!(reminder_day(d("2026-12-05"), 0), d("2026-12-07"));
        // Thursday 3 + 3 days after = Sunday 6: Monday 7.
        assert_eq!(reminder_day(d("2026-12-03"), -3), d("2026-12-07"));
        // Wednesday 2 + 3 = Saturday 5: Monday 7.
        assert_eq!(reminder_day(d("2026-12-02"), -3), d("2026-12-07"));
    }

    fn hours() -> OfficeHours {
        OfficeHours {
            send_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            opens: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
            closes: NaiveTime::from_hms_opt(19, 0, 0).unwrap(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn send_time_is_local_to_each_zone() {
        let day = d("2026-12-01");
        let h = hours();
        assert_eq!(
            h.send_at(day, 0, chrono_tz::Europe::Paris),
            utc("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            h.send_at(day, 0, chrono_tz::Indian::Reunion),
            utc("2026-12-01T05:00:00Z")
        );
        assert_eq!(
            h.send_at(day, 0, chrono_tz::Indian::Mayotte),
            utc("2026-12-01T06:00:00Z")
        );
        assert_eq!(
            h.send_at(day, 0, chrono_tz::America::Martinique),
            utc("2026-12-01T13:00:00Z")
        );
        assert_eq!(
            h.send_at(day, 0, chrono_tz::America::Cayenne),
            utc("2026-12-01T12:00:00Z")
        );
        // Summer time in Paris.
        assert_eq!(
            h.send_at(d("2026-07-01"), 0, chrono_tz::Europe::Paris),
            utc("2026-07-01T07:00:00Z")
        );
    }

    #[test]
    fn office_hours_boundaries() {
        let h = hours();
        let reunion = chrono_tz::Indian::Reunion; // UTC+4
        // Tuesday 1 December: 06:59 closed, 07:00 open, 18:59 open, 19:00 closed.
        assert!(!h.open_at(utc("2026-12-01T02:59:00Z"), reunion));
        assert!(h.open_at(utc("2026-12-01T03:00:00Z"), reunion));
        assert!(h.open_at(utc("2026-12-01T14:59:00Z"), reunion));
        assert!(!h.open_at(utc("2026-12-01T15:00:00Z"), reunion));
        // 3 a.m. local is 23:00 UTC the day before: closed.
        assert!(!h.open_at(utc("2026-11-30T23:00:00Z"), reunion));
        // Saturday noon local: closed.
        assert!(!h.open_at(utc("2026-12-05T08:00:00Z"), reunion));
        // Same instant, two zones: 09:00 in Paris is 04:00 in Martinique.
        let at = utc("2026-12-01T08:00:00Z");
        assert!(h.open_at(at, chrono_tz::Europe::Paris));
        assert!(!h.open_at(at, chrono_tz::America::Martinique));
    }

    #[test]
    fn a_spring_forward_gap_sends_at_the_first_valid_minute() {
        let h = OfficeHours {
            send_time: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            ..hours()
        };
        // 29 March 2026, Paris: 02:00 → 03:00.
        assert_eq!(
            h.send_at(d("2026-03-30"), 1, chrono_tz::Europe::Paris),
            // Sunday 29 moved back to Friday 27 (winter time, UTC+1).
            utc("2026-03-27T01:30:00Z")
        );
        assert_eq!(
            local_instant(
                d("2026-03-29"),
                NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
                chrono_tz::Europe::Paris
            ),
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let base = Duration::seconds(60);
        let max = Duration::seconds(3600);
        assert_eq!(backoff(1, base, max), Duration::seconds(60));
        assert_eq!(backoff(2, base, max), Duration::seconds(120));
        assert_eq!(backoff(6, base, max), Duration::seconds(1920));
        assert_eq!(backoff(7, base, max), Duration::seconds(3600));
        assert_eq!(backoff(40, base, max), Duration::seconds(3600));
    }

    #[test]
    fn keys_ignore_the_case_of_addresses() {
        let id = Uuid::nil();
        assert_eq!(
            reminder_key(id, d("2026-12-01"), 3, "A@X.fr"),
            reminder_key(id, d("2026-12-01"), 3, "a@x.fr")
        );
        assert_ne!(
            reminder_key(id, d("2026-12-01"), 3, "a@x.fr"),
            reminder_key(id, d("2026-12-02"), 3, "a@x.fr")
        );
    }

    #[test]
    fn last_fire_reads_the_schedule_in_local_time() {
        let s = cron::Schedule::from_str("0 30 7 * * Mon-Fri").unwrap();
        let reunion = chrono_tz::Indian::Reunion;
        // Tuesday 1 December 03:29 UTC = 07:29 local: the last fire is Monday's.
        let f = last_fire(&s, reunion, utc("2026-12-01T03:29:00Z"), Duration::days(7)).unwrap();
        assert_eq!(f.date_naive(), d("2026-11-30"));
        // 03:30 UTC = 07:30 local: today's.
        let f = last_fire(&s, reunion, utc("2026-12-01T03:30:00Z"), Duration::days(7)).unwrap();
        assert_eq!(f.date_naive(), d("2026-12-01"));
        assert_eq!(f.with_timezone(&Utc), utc("2026-12-01T03:30:00Z"));
    }

    #[test]
    fn facilitators_hear_of_a_statement_only_once_it_is_late() {
        use DeadlineRule::MonthlyStatement as S;
        assert!(!reminds(S, Recipient::Facilitator, 3));
        assert!(!reminds(S, Recipient::Facilitator, 0));
        assert!(reminds(S, Recipient::Facilitator, -1));
        assert!(reminds(S, Recipient::Awardee, 3));
        assert!(reminds(
            DeadlineRule::Commission,
            Recipient::Facilitator,
            14
        ));
    }

    #[test]
    fn dates_read_in_french() {
        assert_eq!(french_date(d("2026-12-07")), "lundi 7 décembre 2026");
    }
}
