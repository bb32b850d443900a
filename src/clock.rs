//! Time is injected: nothing else reads the system clock.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in a territory's time zone.
    fn today_in(&self, tz: Tz) -> NaiveDate {
        self.now().with_timezone(&tz).date_naive()
    }

    /// A new time-ordered identifier (UUID v7) stamped with this clock's time, strictly greater
    /// than every one this process made before: keys sort in creation order even within one
    /// millisecond (or under a clock that tests hold still).
    fn new_id(&self) -> uuid::Uuid {
        let now = self.now();
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.timestamp() as u64,
            now.timestamp_subsec_nanos(),
        );
        let fresh = uuid::Uuid::new_v7(ts).as_u128();
        let mut last = LAST_ID.lock().expect("id lock");
        // Past the last one, keep the version and variant bits of a v7 UUID intact.
        let next = if fresh > *last { fresh } else { next_v7(*last) };
        *last = next;
        uuid::Uuid::from_u128(next)
    }
}

static LAST_ID: Mutex<u128> = Mutex::new(0);

/// The v7 UUID right after `id`: +1 on the 62 random bits of the low half, carrying into
/// the 12 bits of `rand_a` (the version nibble and variant bits never change).
fn next_v7(id: u128) -> u128 {
    const LOW_MASK: u128 = (1 << 62) - 1;
    const RAND_A_SHIFT: u32 = 64;
    const RAND_A_MASK: u128 = 0xfff << RAND_A_SHIFT;
    let low = id & LOW_MASK;
    if low < LOW_MASK {
        return id + 1;
    }
    // Carry: rand_a + 1 and low bits back to 0 (2^62 ids in one millisecond never happen).
    let rand_a = ((id & RAND_A_MASK) >> RAND_A_SHIFT) + 1;
    (id & !RAND_A_MASK & !LOW_MASK) | ((rand_a & 0xfff) << RAND_A_SHIFT)
}

pub type SharedClock = Arc<dyn Clock>;

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Real time shifted to start at a chosen instant (`CLOCK_START`): rehearsals, benchmarks and
/// multi-process tests run "on a Monday at 9" whatever the day, with time still passing.
pub struct ShiftedClock {
    offset: Duration,
}

impl ShiftedClock {
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            offset: at - Utc::now(),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A clock that tests move by hand.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_under_a_still_clock() {
        let clock = ManualClock::new(Utc::now());
        let ids: Vec<uuid::Uuid> = (0..1000).map(|_| clock.new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
    }

    #[test]
    fn shifted_clock_starts_at_its_instant_and_runs() {
        let at: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
        let clock = ShiftedClock::starting_at(at);
        let first = clock.now();
        assert!(first >= at && first - at < Duration::seconds(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first);
    }

    #[test]
    fn carry_keeps_version_and_variant() {
        let id = uuid::Uuid::parse_str("01a20230-4c11-7e40-bfff-ffffffffffff").unwrap();
        let next = uuid::Uuid::from_u128(next_v7(id.as_u128()));
        assert!(next > id);
        assert_eq!(next.get_version_num(), 7);
        assert_eq!(next.to_string(), "01a20230-4c11-7e41-8000-000000000000");
    }
}
