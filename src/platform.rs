//! The clock and the random source: the only places that read the OS for
//! either. Services take them as trait objects so tests can fix both.

use crate::core::Day;

/// Where "today" comes from.
pub trait Clock: Send + Sync + 'static {
    /// Today in UTC.
    fn today(&self) -> Day;
    /// Seconds since 1970, only to find the calendar day in an entity's
    /// time zone (never stored). A clock that knows only days answers
    /// noon UTC of `today`, which is the same day in the Americas.
    fn unix_seconds(&self) -> u64 {
        u64::from(self.today().0) * 86_400 + 43_200
    }
}

/// Where random bytes come from.
pub trait Entropy: Send + Sync + 'static {
    fn fill(&self, out: &mut [u8]);
}

/// Fixed-size random arrays from an [`Entropy`].
pub fn random<const N: usize>(e: &dyn Entropy) -> [u8; N] {
    let mut out = [0u8; N];
    e.fill(&mut out);
    out
}

/// The system clock, read at day granularity.
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> Day {
        Day::from_unix_seconds(self.unix_seconds())
    }

    #[allow(clippy::disallowed_methods)] // the one sanctioned read of the clock
    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// The operating system's random source, through `rand`'s thread-local
/// generator (ChaCha12 reseeded from the OS).
pub struct OsEntropy;

impl Entropy for OsEntropy {
    #[allow(clippy::disallowed_methods)] // the one sanctioned source of randomness
    fn fill(&self, out: &mut [u8]) {
        use rand::Rng;
        rand::rng().fill_bytes(out);
    }
}
