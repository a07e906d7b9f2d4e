//! A staff member's key file, for people who read on their own device
//! (`buzon advisor keygen`; spec/api.md, "Entity keys (signed)", `device`).
//!
//! The file holds a Staff key record (spec/envelope.md, "Staff key
//! record"), hex-encoded on one line: the X25519 private key sealed under
//! a passphrase through Argon2id at [`STAFF_COST`] (256 MiB), with a
//! random salt. The staff id in its associated data is all zeros, since
//! the key is made before the operator registers the person. Only the
//! public key ever leaves the machine (`buzon staff add --public-key`).
//!
//! Someone who copies the file must still guess the passphrase at 256 MiB
//! per guess; keygen refuses passphrases `zxcvbn` scores as guessable.

use std::io::Write;
use std::path::Path;

use super::error::ClientError;
use crate::core::envelope::{Id, STAFF_COST, StaffKeyRecord, password_keys};
use crate::core::receipt::KdfCost;
use crate::core::wrap::RecipientSecret;
use crate::platform::{Entropy, random};

/// The staff id bound into a key file's seal.
const FILE_STAFF_ID: Id = Id([0; 16]);

/// Refuses a passphrase that is short or easy to guess (the rule staff
/// passwords follow on the pages).
pub fn check_passphrase(passphrase: &str) -> Result<(), ClientError> {
    if crate::saadd::password_is_strong(passphrase, &["buzon"]) {
        Ok(())
    } else {
        Err(ClientError::WeakPassphrase)
    }
}

/// Makes a key pair and seals it under `passphrase` (one Argon2id run at
/// `cost`; [`STAFF_COST`] outside tests). Refuses a weak passphrase.
pub fn generate(
    passphrase: &str,
    cost: KdfCost,
    entropy: &dyn Entropy,
) -> Result<StaffKeyRecord, ClientError> {
    check_passphrase(passphrase)?;
    let secret = RecipientSecret::from_bytes(random(entropy));
    let salt: [u8; 16] = random(entropy);
    let keys = password_keys(passphrase, &salt, cost).map_err(|_| ClientError::Kdf)?;
    Ok(StaffKeyRecord::new(
        FILE_STAFF_ID,
        &secret,
        &keys,
        salt,
        cost,
        random(entropy),
    ))
}

/// Makes a key at the staff cost.
pub fn generate_default(
    passphrase: &str,
    entropy: &dyn Entropy,
) -> Result<StaffKeyRecord, ClientError> {
    generate(passphrase, STAFF_COST, entropy)
}

/// Writes the record as hex and a newline to a new file, mode 0600. An
/// existing file is never replaced: it may be the only copy of a key.
pub fn write_new(path: &Path, record: &StaffKeyRecord) -> Result<(), ClientError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ClientError::KeyFileExists(path.display().to_string())
        } else {
            ClientError::file(path, e)
        }
    })?;
    f.write_all(format!("{}\n", hex::encode(record.encode())).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| ClientError::file(path, e))
}

/// Reads a key file.
pub fn read(path: &Path) -> Result<StaffKeyRecord, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|e| ClientError::file(path, e))?;
    let bad = || ClientError::BadKeyFile(path.display().to_string());
    let bytes = hex::decode(text.trim()).map_err(|_| bad())?;
    StaffKeyRecord::decode(&bytes).map_err(|_| bad())
}

/// Opens the private key with the passphrase (one Argon2id run at the
/// record's cost).
pub fn open(record: &StaffKeyRecord, passphrase: &str) -> Result<RecipientSecret, ClientError> {
    let keys =
        password_keys(passphrase, &record.salt, record.cost).map_err(|_| ClientError::Kdf)?;
    record
        .open(FILE_STAFF_ID, &keys)
        .map_err(|_| ClientError::WrongPassphrase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::upload::tests::counter;

    const CHEAP: KdfCost = KdfCost {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    };
    const GOOD: &str = "tortuga violeta cruza el puente";

    #[test]
    fn a_key_file_round_trips_and_only_its_passphrase_opens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ana.key");
        let record = generate(GOOD, CHEAP, &counter()).unwrap();
        write_new(&path, &record).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            write_new(&path, &record),
            Err(ClientError::KeyFileExists(_))
        ));
        let again = read(&path).unwrap();
        assert_eq!(again, record);
        let secret = open(&again, GOOD).unwrap();
        assert_eq!(secret.public(), record.public);
        assert!(matches!(
            open(&again, "tortuga violeta cruza el puente."),
            Err(ClientError::WrongPassphrase)
        ));
        std::fs::write(dir.path().join("bad.key"), "zz\n").unwrap();
        assert!(matches!(
            read(&dir.path().join("bad.key")),
            Err(ClientError::BadKeyFile(_))
        ));
    }

    #[test]
    fn weak_passphrases_are_refused() {
        for weak in ["", "contraseña", "password1234", "buzonbuzonbuzon"] {
            assert!(matches!(
                generate(weak, CHEAP, &counter()),
                Err(ClientError::WeakPassphrase)
            ));
        }
    }
}
