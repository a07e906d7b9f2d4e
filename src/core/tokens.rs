//! Pure parts of claim tokens (spec/tokens.md): scopes, key epochs, issuance
//! codes and their per-epoch allowance, and the token text a reporter pastes.
//!
//! The Privacy Pass cryptography itself (VOPRF P-384 and blind RSA) lives in
//! the `privacypass` crate, called from `src/tokens`; nothing here draws
//! randomness or reads the clock: codes are made from bytes the caller
//! supplies and every decision takes the [`Day`].

use serde::{Deserialize, Serialize};

use super::Day;
use super::envelope::Id;

/// What a token key is for. Each scope has its own keys, so a token issued
/// for one scope cannot be spent in another. Entities now; each exercise of
/// a SEDE campaign later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    Entity(Id),
}

impl Scope {
    /// Stable bytes naming the scope in storage keys (the policy table).
    /// Challenges name the scope by its public name instead (an entity's
    /// slug).
    pub fn name(&self) -> String {
        match self {
            Scope::Entity(id) => format!("entity-{}", id.hex()),
        }
    }
}

/// Whether an entity asks for a token before it accepts a new thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// No token needed; new threads are limited by global, identity-free
    /// rate limits only.
    #[default]
    Open,
    /// Each new thread spends one token of the entity's scope.
    Token,
}

impl Policy {
    pub fn key(self) -> &'static str {
        match self {
            Policy::Open => "open",
            Policy::Token => "token",
        }
    }
    pub fn from_key(s: &str) -> Option<Policy> {
        match s {
            "open" => Some(Policy::Open),
            "token" => Some(Policy::Token),
            _ => None,
        }
    }
}

/// Key epochs: every scope gets a new key each `length` days. A key issues
/// during its own epoch and redeems during its own epoch and the next, so a
/// token fetched on the last day of an epoch stays good for at least one
/// full epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epochs {
    length: u32,
}

impl Epochs {
    /// Epochs of `length_days` (clamped to 1..=366).
    pub fn new(length_days: u32) -> Epochs {
        Epochs {
            length: length_days.clamp(1, 366),
        }
    }

    pub fn length(&self) -> u32 {
        self.length
    }

    /// The epoch containing `day`.
    pub fn of(&self, day: Day) -> u32 {
        day.0 / self.length
    }

    /// The first day of `epoch`.
    pub fn first_day(&self, epoch: u32) -> Day {
        Day(epoch.saturating_mul(self.length))
    }

    /// The first day on which a key of `epoch` no longer issues.
    pub fn issue_end(&self, epoch: u32) -> Day {
        self.first_day(epoch.saturating_add(1))
    }

    /// The first day on which a key of `epoch` no longer redeems.
    pub fn redeem_end(&self, epoch: u32) -> Day {
        self.first_day(epoch.saturating_add(2))
    }

    /// Whether a key of `epoch` may issue on `day`.
    pub fn issues(&self, epoch: u32, day: Day) -> bool {
        self.of(day) == epoch
    }

    /// Whether a token of a key of `epoch` may be spent on `day`.
    pub fn redeems(&self, epoch: u32, day: Day) -> bool {
        day >= self.first_day(epoch) && day < self.redeem_end(epoch)
    }
}

// ---------------------------------------------------------------- issuance codes

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or
/// copied from paper survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code: 16 × 5 bits = 80 bits.
pub const CODE_CHARS: usize = 16;

/// Random bytes a code is made from.
pub const CODE_BYTES: usize = 10;

/// An issuance code as handed to one person, e.g. `7K2M-QX9D-4HTB-W1RZ`.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuanceCode([u8; CODE_BYTES]);

impl std::fmt::Debug for IssuanceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuanceCode(…)")
    }
}

impl IssuanceCode {
    pub fn from_random(bytes: [u8; CODE_BYTES]) -> IssuanceCode {
        IssuanceCode(bytes)
    }

    /// Reads a code as typed: case, spaces and dashes do not matter, and
    /// the letters people confuse with digits (I, L → 1; O → 0) are
    /// accepted as Crockford's base32 says.
    pub fn parse(typed: &str) -> Option<IssuanceCode> {
        if typed.len() > 64 {
            return None;
        }
        let mut acc: u128 = 0;
        let mut n = 0;
        for c in typed.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            let v = ALPHABET.iter().position(|&a| char::from(a) == c)?;
            n += 1;
            if n > CODE_CHARS {
                return None;
            }
            acc = (acc << 5) | v as u128;
        }
        if n != CODE_CHARS {
            return None;
        }
        let bytes = acc.to_be_bytes();
        let mut out = [0u8; CODE_BYTES];
        out.copy_from_slice(&bytes[16 - CODE_BYTES..]);
        Some(IssuanceCode(out))
    }

    /// Four groups of four characters.
    pub fn display(&self) -> String {
        let mut acc = [0u8; 16];
        acc[16 - CODE_BYTES..].copy_from_slice(&self.0);
        let v = u128::from_be_bytes(acc);
        let mut s = String::with_capacity(CODE_CHARS + 3);
        for i in 0..CODE_CHARS {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            let shift = 5 * (CODE_CHARS - 1 - i);
            let digit = ALPHABET.get(((v >> shift) & 31) as usize).copied();
            s.push(char::from(digit.unwrap_or(b'0')));
        }
        s
    }

    /// What storage keeps instead of the code: a hash under its own
    /// domain. Codes carry 80 random bits, so no slow hash is needed.
    pub fn lookup(&self) -> [u8; 32] {
        blake3::derive_key("buzon 2026 issuance code lookup v1", &self.0)
    }
}

/// What the server keeps about one issuance code: its scope, its allowance
/// and how much of the current epoch's allowance is used. Nothing about
/// who holds it, and no instant — only the epoch number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub v: u8,
    pub scope: Scope,
    /// Tokens this code may yield per key epoch.
    pub per_epoch: u32,
    /// First day on which the code no longer works.
    pub expires: Day,
    pub revoked: bool,
    /// The issuing period `used` counts for: the first day of the epoch of
    /// the key that issued.
    pub epoch: u32,
    pub used: u32,
}

/// Why a code yields no token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeRefusal {
    Expired,
    Revoked,
    Exhausted,
}

impl CodeRecord {
    /// Takes one token from the allowance of `epoch` on `day`, or says why
    /// not. Moving to a new epoch starts a fresh allowance.
    pub fn take(&mut self, epoch: u32, day: Day) -> Result<(), CodeRefusal> {
        if self.revoked {
            return Err(CodeRefusal::Revoked);
        }
        if day >= self.expires {
            return Err(CodeRefusal::Expired);
        }
        if self.epoch != epoch {
            self.epoch = epoch;
            self.used = 0;
        }
        if self.used >= self.per_epoch {
            return Err(CodeRefusal::Exhausted);
        }
        self.used += 1;
        Ok(())
    }
}

// ---------------------------------------------------------------- pasted tokens

/// The longest token text accepted (a type 2 token is 354 bytes, 472
/// base64 characters; room for whitespace and a scheme prefix).
pub const MAX_TOKEN_TEXT: usize = 1024;

/// Decodes a token as a reporter pastes it: base64url or standard base64,
/// padded or not, with line breaks or spaces anywhere, optionally prefixed
/// by `PrivateToken token=` as copied from a header.
pub fn decode_token_text(text: &str) -> Option<Vec<u8>> {
    if text.len() > MAX_TOKEN_TEXT {
        return None;
    }
    let t = text.trim();
    // Auth schemes and parameter names are case-insensitive (RFC 9110).
    let t = match t.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("PrivateToken") => t.get(12..).unwrap_or("").trim_start(),
        _ => t,
    };
    let t = match t.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("token=") => t.get(6..).unwrap_or(""),
        _ => t,
    };
    let t = t.trim_matches('"');
    let clean: String = t
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let unpadded = clean.trim_end_matches('=');
    if unpadded.contains('=') || clean.len() - unpadded.len() > 2 {
        return None;
    }
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(unpadded)
        .ok()
        .filter(|b| !b.is_empty())
}

/// Base64url with padding, as RFC 9577 and RFC 9578 show keys, challenges
/// and tokens.
pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_issue_in_their_own_and_redeem_through_the_next() {
        let e = Epochs::new(30);
        assert_eq!(e.of(Day(59)), 1);
        assert!(e.issues(1, Day(30)) && e.issues(1, Day(59)) && !e.issues(1, Day(60)));
        assert!(!e.redeems(1, Day(29)));
        assert!(e.redeems(1, Day(30)) && e.redeems(1, Day(89)));
        assert!(!e.redeems(1, Day(90)));
        assert_eq!(e.redeem_end(1), Day(90));
    }

    #[test]
    fn codes_round_trip_and_forgive_typing() {
        let c = IssuanceCode::from_random([0xA5, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF]);
        let shown = c.display();
        assert_eq!(shown.len(), 19);
        assert_eq!(IssuanceCode::parse(&shown), Some(c.clone()));
        let sloppy = shown.to_lowercase().replace('-', " ");
        assert_eq!(IssuanceCode::parse(&sloppy), Some(c.clone()));
        let confusable = shown.replace('1', "l").replace('0', "o");
        assert_eq!(IssuanceCode::parse(&confusable), Some(c));
        assert_eq!(IssuanceCode::parse("ABCD-EFGH"), None);
        assert_eq!(IssuanceCode::parse("ABCD-EFGH-JKMN-PQRS-T"), None);
        assert_eq!(IssuanceCode::parse("ABCD-EFGH-JKMN-PQRU"), None);
    }

    #[test]
    fn a_code_yields_its_allowance_per_epoch() {
        let mut r = CodeRecord {
            v: 1,
            scope: Scope::Entity(Id([1; 16])),
            per_epoch: 2,
            expires: Day(100),
            revoked: false,
            epoch: 0,
            used: 0,
        };
        assert_eq!(r.take(1, Day(30)), Ok(()));
        assert_eq!(r.take(1, Day(31)), Ok(()));
        assert_eq!(r.take(1, Day(32)), Err(CodeRefusal::Exhausted));
        assert_eq!(r.take(2, Day(60)), Ok(()));
        assert_eq!(r.take(3, Day(100)), Err(CodeRefusal::Expired));
        r.revoked = true;
        assert_eq!(r.take(2, Day(61)), Err(CodeRefusal::Revoked));
    }

    #[test]
    fn pasted_tokens_decode_in_every_base64_dialect() {
        let bytes: Vec<u8> = (0u8..=200).collect();
        let url = base64url(&bytes);
        assert_eq!(decode_token_text(&url).as_deref(), Some(&bytes[..]));
        let std = url.replace('-', "+").replace('_', "/");
        assert_eq!(decode_token_text(&std).as_deref(), Some(&bytes[..]));
        let unpadded = url.trim_end_matches('=');
        let wrapped: String = unpadded
            .chars()
            .enumerate()
            .flat_map(|(i, c)| if i % 60 == 59 { vec![c, '\n'] } else { vec![c] })
            .collect();
        assert_eq!(decode_token_text(&wrapped).as_deref(), Some(&bytes[..]));
        let header = format!("PrivateToken token=\"{url}\"");
        assert_eq!(decode_token_text(&header).as_deref(), Some(&bytes[..]));
        let lower = format!("privatetoken TOKEN={url}");
        assert_eq!(decode_token_text(&lower).as_deref(), Some(&bytes[..]));
        assert_eq!(decode_token_text("not a token!"), None);
        assert_eq!(decode_token_text(""), None);
        assert_eq!(decode_token_text("QQ=A"), None);
        assert_eq!(decode_token_text(&"A".repeat(2000)), None);
    }
}
