//! Time zones: an entity's days are calendar days where it is
//! (spec/retention.md, "Days"). The zone database is compiled in, so
//! naming a zone reads no file.

use jiff::tz::TimeZone;

use super::Day;

/// The zone an entity lives in when none is configured.
pub const DEFAULT_ZONE: &str = "America/Mexico_City";

/// A named IANA time zone.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

/// The zone name is not in the bundled IANA database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone;

impl std::fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unknown time zone (use an IANA name such as America/Mexico_City)")
    }
}

impl Zone {
    /// Looks up an IANA zone name, e.g. `America/Mexico_City`.
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        if name.is_empty() || name.len() > 64 {
            return Err(UnknownZone);
        }
        let tz = jiff::tz::db().get(name).map_err(|_| UnknownZone)?;
        // The database's own spelling: `america/mexico_city` is found, and
        // stored (and logged) as `America/Mexico_City`.
        let name = tz.iana_name().unwrap_or(name).to_string();
        Ok(Zone { name, tz })
    }

    /// America/Mexico_City.
    pub fn default_zone() -> Zone {
        // The bundled database always has it; UTC is the fallback the
        // type system asks for, never reached.
        Zone::named(DEFAULT_ZONE).unwrap_or(Zone {
            name: "UTC".to_string(),
            tz: TimeZone::UTC,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The calendar day in this zone at `unix_seconds`.
    pub fn day(&self, unix_seconds: u64) -> Day {
        let secs = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
        let Ok(ts) = jiff::Timestamp::from_second(secs) else {
            return Day::from_unix_seconds(unix_seconds);
        };
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        let local = secs.saturating_add(offset).max(0);
        Day::from_unix_seconds(u64::try_from(local).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mexico_city_days_start_six_hours_after_utc() {
        let mx = Zone::default_zone();
        assert_eq!(mx.name(), "America/Mexico_City");
        // 2026-12-03 05:59:59 UTC is still 2 December in Mexico City (UTC−6,
        // no daylight saving since 2022); 06:00 UTC is the 3rd.
        let midnight_utc = 1_796_256_000;
        assert_eq!(mx.day(midnight_utc + 5 * 3600 + 3599).iso(), "2026-12-02");
        assert_eq!(mx.day(midnight_utc + 6 * 3600).iso(), "2026-12-03");
        // East of UTC the day turns earlier: Madrid is UTC+1 in winter.
        let madrid = Zone::named("Europe/Madrid").expect("zone");
        assert_eq!(madrid.day(midnight_utc + 23 * 3600).iso(), "2026-12-04");
    }

    #[test]
    fn unknown_names_are_refused() {
        assert_eq!(Zone::named("Mars/Olympus").err(), Some(UnknownZone));
        assert_eq!(Zone::named("").err(), Some(UnknownZone));
        assert_eq!(Zone::named(&"A".repeat(65)).err(), Some(UnknownZone));
    }
}
