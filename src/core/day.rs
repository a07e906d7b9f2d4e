//! Coarse time: reporter data carries the day, never an instant.

use serde::{Deserialize, Serialize};

/// A calendar day, counted from 1970-01-01 (day 0).
///
/// Stored instead of timestamps so that records reveal at most the day an
/// event happened (spec/envelope.md, "Days").
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Day(pub u32);

impl Day {
    /// The day containing `unix_seconds` (UTC).
    pub fn from_unix_seconds(unix_seconds: u64) -> Day {
        Day(u32::try_from(unix_seconds / 86_400).unwrap_or(u32::MAX))
    }

    /// Year, month (1–12) and day of month (1–31), proleptic Gregorian.
    pub fn civil(self) -> (i64, u32, u32) {
        // Howard Hinnant's days_from_civil inverse, exact for all u32 days.
        let z = i64::from(self.0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m as u32, d as u32)
    }

    /// `YYYY-MM-DD`, for display only.
    pub fn iso(self) -> String {
        let (y, m, d) = self.civil();
        format!("{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(Day(0).iso(), "1970-01-01");
        assert_eq!(
            Day::from_unix_seconds(1_796_256_000 + 86_399).iso(),
            "2026-12-03"
        );
        assert_eq!(Day(11_016).iso(), "2000-02-29");
    }
}
