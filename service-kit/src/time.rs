//! Wall-clock values the demo services' bodies carry: milliseconds since the Unix epoch (for
//! ids such as `txn_<ms>`), ISO 8601 timestamps in UTC with milliseconds (as JavaScript's
//! `toISOString()` writes them) and civil dates; computed from Unix time without a date library.

use std::time::{SystemTime, UNIX_EPOCH};

const MS_PER_DAY: u64 = 86_400_000;

/// Milliseconds from the Unix epoch to `at` (0 if `at` is before it).
pub fn ms_since_epoch(at: SystemTime) -> u64 {
    let elapsed = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch now (0 if the clock is before it).
pub fn now_ms() -> u64 {
    ms_since_epoch(SystemTime::now())
}

/// The civil date (year, month 1-12, day 1-31) `days` days after 1970-01-01, proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1-31 and 1-12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// `YYYY-MM-DD` of the UTC day `ms` falls in, plus `days_after` days.
pub fn date(ms: u64, days_after: i64) -> String {
    let days = i64::try_from(ms / MS_PER_DAY).unwrap_or(i64::MAX / 2) + days_after;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `ms` (since the Unix epoch) as `2026-11-29T22:42:21.123Z`.
pub fn iso_timestamp(ms: u64) -> String {
    let in_day = ms % MS_PER_DAY;
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{}T{h:02}:{min:02}:{s:02}.{milli:03}Z", date(ms, 0))
}

/// `at` as [`iso_timestamp`] writes it.
pub fn iso(at: SystemTime) -> String {
    iso_timestamp(ms_since_epoch(at))
}

/// Now, as [`iso_timestamp`] writes it.
pub fn now_iso() -> String {
    iso(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        // 2000-02-29 (a leap day in a year divisible by 400) and the day after.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
    }

    #[test]
    fn dates_cross_months_and_years() {
        // 2026-12-30T23:59:59.999Z
        let ms = 1_798_675_199_999;
        assert_eq!(date(ms, 0), "2026-12-30");
        assert_eq!(date(ms, 3), "2027-01-02");
        assert_eq!(date(ms + 1, 0), "2026-12-31");
        assert_eq!(iso_timestamp(ms), "2026-12-30T23:59:59.999Z");
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(date(951_782_400_000, 3), "2000-03-03");
    }

    #[test]
    fn iso_timestamps_are_utc_with_milliseconds() {
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let at = UNIX_EPOCH + Duration::from_millis(1_796_166_101_123);
        assert_eq!(iso(at), "2026-12-01T23:01:41.123Z");
        let leap = UNIX_EPOCH + Duration::from_millis(951_782_400_000);
        assert_eq!(iso(leap), "2000-02-29T00:00:00.000Z");
    }
}
