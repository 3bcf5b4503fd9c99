//! Timestamps as the seed's bodies carry them: ISO 8601 in UTC with milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn ms_since_epoch(at: SystemTime) -> u64 {
    let elapsed = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// `at` as `2026-11-29T23:01:41.123Z`.
pub fn iso(at: SystemTime) -> String {
    let ms = ms_since_epoch(at);
    let days = i64::try_from(ms / 86_400_000).unwrap_or(0);
    let in_day = ms % 86_400_000;
    // Days to a civil date, after Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Now, as [`iso`].
pub fn now_iso() -> String {
    iso(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn iso_timestamps_are_utc_with_milliseconds() {
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let at = UNIX_EPOCH + Duration::from_millis(1_796_166_101_123);
        assert_eq!(iso(at), "2026-12-01T23:01:41.123Z");
        let leap = UNIX_EPOCH + Duration::from_millis(951_782_400_000);
        assert_eq!(iso(leap), "2000-02-29T00:00:00.000Z");
    }
}
