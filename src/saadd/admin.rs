//! Entities and staff: creation, login, password change and reset, removal.
//!
//! Removing or resetting a staff member deletes their wraps at once and
//! marks their threads for rotation: the next person who writes to such a
//! thread (and so holds its key) rotates it before sealing anything, since
//! the server itself cannot.

use zeroize::Zeroizing;

use super::records::{EntityRecord, RECORD_VERSION, Role, StaffRecord};
use super::threads::StaffLogin;
use super::{Saadd, SaaddError};
use crate::core::envelope::{self, Id, Slot, StaffKeyRecord};
use crate::core::retention::StaffKeyChange;
use crate::core::wrap::{RecipientKey, RecipientSecret};
use crate::store::{Batch, Table};

/// Longest login name, display name or entity field.
const MAX_FIELD: usize = 200;

/// Words in a generated password (6 words of the accent-free part of the list).
const PASSWORD_WORDS: usize = 6;

/// A staff member's current public key, wherever the private key lives.
pub(super) fn staff_public(s: &StaffRecord) -> Result<RecipientKey, SaaddError> {
    match s.device_key {
        Some(k) => Ok(k),
        None => Ok(staff_key_record(s)?.public),
    }
}

/// How a staff member reads (spec/api.md, "Entity keys").
pub fn reads(s: &StaffRecord) -> crate::core::api::Reads {
    if s.device_key.is_some() {
        crate::core::api::Reads::Device
    } else {
        crate::core::api::Reads::Server
    }
}

pub(super) fn staff_key_record(s: &StaffRecord) -> Result<StaffKeyRecord, SaaddError> {
    let bytes = hex::decode(&s.key).map_err(|_| SaaddError::Corrupt("staff key"))?;
    StaffKeyRecord::decode(&bytes).map_err(|_| SaaddError::Corrupt("staff key"))
}

/// What an operator supplies to create an entity.
pub struct NewEntity {
    pub slug: String,
    pub name: String,
    pub complaints_office: String,
    pub first_response_days: u16,
    pub answer_days: u16,
    /// IANA time zone (default America/Mexico_City).
    pub zone: Option<String>,
}

fn field(value: &str, what: &'static str) -> Result<String, SaaddError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_FIELD || v.chars().any(char::is_control) {
        return Err(SaaddError::Invalid(what));
    }
    Ok(v.to_owned())
}

fn slug(value: &str) -> Result<String, SaaddError> {
    let v = value.trim().to_lowercase();
    let ok = !v.is_empty()
        && v.len() <= 40
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(v)
    } else {
        Err(SaaddError::Invalid("slug (a-z, 0-9 and -, up to 40)"))
    }
}

/// Whether a password is strong enough to seal a private key (zxcvbn
/// score 3 or more, at least 12 characters).
pub fn password_is_strong(password: &str, context: &[&str]) -> bool {
    password.chars().count() >= 12
        && zxcvbn::zxcvbn(password, context).score() >= zxcvbn::Score::Three
}

impl Saadd {
    /// Every entity, by slug.
    pub fn entities(&self) -> Result<Vec<EntityRecord>, SaaddError> {
        let mut out = Vec::new();
        for (_, v) in self.store.scan(Table::Entity, &[], 100_000)? {
            out.push(
                serde_json::from_slice::<EntityRecord>(&v)
                    .map_err(|_| SaaddError::Corrupt("entity"))?,
            );
        }
        out.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(out)
    }

    pub fn entity_by_slug(&self, slug: &str) -> Result<EntityRecord, SaaddError> {
        let id = self
            .store
            .get(Table::EntitySlug, slug.as_bytes())?
            .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
            .map(Id)
            .ok_or(SaaddError::NotFound)?;
        self.load(Table::Entity, &id.0, "entity")?
            .ok_or(SaaddError::NotFound)
    }

    pub fn entity(&self, id: Id) -> Result<EntityRecord, SaaddError> {
        self.load(Table::Entity, &id.0, "entity")?
            .ok_or(SaaddError::NotFound)
    }

    /// Creates an entity.
    pub async fn add_entity(&self, e: NewEntity) -> Result<EntityRecord, SaaddError> {
        let _w = self.writes.lock().await;
        let record = EntityRecord {
            v: RECORD_VERSION,
            id: Id(self.random()),
            slug: slug(&e.slug)?,
            name: field(&e.name, "name")?,
            complaints_office: field(&e.complaints_office, "complaints office")?,
            first_response_days: e.first_response_days.clamp(1, 365),
            answer_days: e.answer_days.clamp(1, 365),
            zone: match e.zone.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(z) => Some(
                    crate::core::zone::Zone::named(z)
                        .map_err(|_| {
                            SaaddError::Invalid(
                                "time zone (use an IANA name such as America/Mexico_City)",
                            )
                        })?
                        .name()
                        .to_string(),
                ),
            },
        };
        if self
            .store
            .get(Table::EntitySlug, record.slug.as_bytes())?
            .is_some()
        {
            return Err(SaaddError::Taken);
        }
        let mut b = Batch::new();
        b.put(Table::Entity, record.id.0, Self::json(&record));
        b.put(
            Table::EntitySlug,
            record.slug.as_bytes(),
            record.id.0.to_vec(),
        );
        let day = record.zone().day(self.clock.unix_seconds());
        self.register_entity(&mut b, &record, day)?;
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(record)
    }

    /// Staff of an entity (active and removed).
    pub fn staff_of(&self, entity: Id) -> Result<Vec<StaffRecord>, SaaddError> {
        let mut out: Vec<StaffRecord> = self
            .all_staff()?
            .into_iter()
            .filter(|s| s.entity == entity)
            .collect();
        out.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(out)
    }

    /// Every staff record, of every entity, in one scan.
    pub(super) fn all_staff(&self) -> Result<Vec<StaffRecord>, SaaddError> {
        self.store
            .scan(Table::Staff, &[], 1_000_000)?
            .into_iter()
            .map(|(_, v)| serde_json::from_slice(&v).map_err(|_| SaaddError::Corrupt("staff")))
            .collect()
    }

    pub fn staff_by_login(&self, login: &str) -> Result<StaffRecord, SaaddError> {
        let id = self
            .store
            .get(Table::StaffLogin, login.trim().to_lowercase().as_bytes())?
            .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
            .map(Id)
            .ok_or(SaaddError::NotFound)?;
        self.staff(id)
    }

    /// Whether `secret` is the staff member's current key. A session holds
    /// the key unsealed at login: after a reset (made by an operator, maybe
    /// through the admin socket) or a password change the record has a new
    /// key, and a session still holding the old one must end.
    pub fn holds_current_key(&self, staff: &StaffRecord, secret: &RecipientSecret) -> bool {
        staff.active && staff_public(staff).is_ok_and(|k| k == secret.public())
    }

    /// A generated password: six list words joined by hyphens, drawn only
    /// from the words without accents or ñ, so that a person reading it off
    /// a printout can type it on any keyboard (1,714 of the 2,048 words:
    /// six carry 64.4 bits).
    pub fn generate_password(&self) -> Zeroizing<String> {
        let mut words: Vec<&str> = Vec::with_capacity(PASSWORD_WORDS);
        while words.len() < PASSWORD_WORDS {
            let r: [u8; 2] = self.random();
            let w = crate::core::receipt::word(u16::from_be_bytes(r) % 2048);
            if w.is_ascii() {
                words.push(w);
            }
        }
        Zeroizing::new(words.join("-"))
    }

    async fn seal_staff_key(
        &self,
        staff: Id,
        secret: &RecipientSecret,
        password: &str,
    ) -> Result<StaffKeyRecord, SaaddError> {
        let salt: [u8; 16] = self.random();
        let cost = self.costs.staff;
        let pw = Zeroizing::new(password.to_owned());
        let keys = self
            .kdf
            .run(move || envelope::password_keys(&pw, &salt, cost))
            .await?
            .map_err(|_| SaaddError::Invalid("password cost"))?;
        Ok(StaffKeyRecord::new(
            staff,
            secret,
            &keys,
            salt,
            cost,
            self.random(),
        ))
    }

    /// Refuses a display name another active member of the entity shows
    /// (reporters choose readers by name) and a public key any other active
    /// member holds (two people would read with one key).
    fn check_unique(
        &self,
        entity: Id,
        display_name: &str,
        public: Option<&RecipientKey>,
        except: Option<Id>,
    ) -> Result<(), SaaddError> {
        let folded = display_name.trim().to_lowercase();
        for s in self.all_staff()? {
            if !s.active || Some(s.id) == except {
                continue;
            }
            if s.entity == entity
                && !folded.is_empty()
                && s.display_name.trim().to_lowercase() == folded
            {
                return Err(SaaddError::Invalid(
                    "display name (another member of the entity shows it)",
                ));
            }
            if public.is_some_and(|p| staff_public(&s).is_ok_and(|k| k == *p)) {
                return Err(SaaddError::Invalid("public key (another member holds it)"));
            }
        }
        Ok(())
    }

    /// Adds a staff member whose private key was made on their own device
    /// (`buzon advisor keygen`): only the public key is stored, and they
    /// sign in only through the API (spec/api.md).
    pub async fn add_device_staff(
        &self,
        entity: Id,
        role: Role,
        login: &str,
        display_name: &str,
        public: RecipientKey,
    ) -> Result<StaffRecord, SaaddError> {
        self.entity(entity)?;
        if role == Role::EntityAdmin {
            // Entity admins manage staff on the pages, with a password.
            return Err(SaaddError::Invalid(
                "role (a device key is for coordinators and advisors)",
            ));
        }
        if !crate::core::wrap::is_strong(&public) {
            return Err(SaaddError::Invalid("public key"));
        }
        let login = field(login, "login")?.to_lowercase();
        let display_name = field(display_name, "display name")?;
        let _w = self.writes.lock().await;
        if self
            .store
            .get(Table::StaffLogin, login.as_bytes())?
            .is_some()
        {
            return Err(SaaddError::Taken);
        }
        self.check_unique(entity, &display_name, Some(&public), None)?;
        let record = StaffRecord {
            v: RECORD_VERSION,
            id: Id(self.random()),
            entity,
            role,
            login,
            display_name,
            key: String::new(),
            device_key: Some(public),
            active: true,
            must_change_password: false,
        };
        let mut b = Batch::new();
        self.log_staff_key(&mut b, &record, StaffKeyChange::Added)?;
        b.put(Table::Staff, record.id.0, Self::json(&record));
        b.put(
            Table::StaffLogin,
            record.login.as_bytes(),
            record.id.0.to_vec(),
        );
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(record)
    }

    /// Registers a new device key for a member who lost theirs (or moved
    /// to a new machine): like a password reset, the old key's wraps go at
    /// once and a coordinator must grant the threads again.
    pub async fn replace_device_key(
        &self,
        staff: Id,
        public: RecipientKey,
    ) -> Result<(), SaaddError> {
        if !crate::core::wrap::is_strong(&public) {
            return Err(SaaddError::Invalid("public key"));
        }
        let _w = self.writes.lock().await;
        let mut record = self.staff(staff)?;
        if !record.active {
            return Err(SaaddError::NotFound);
        }
        self.check_unique(record.entity, "", Some(&public), Some(staff))?;
        record.key = String::new();
        record.device_key = Some(public);
        record.must_change_password = false;
        let mut b = Batch::new();
        self.revoke_everywhere(staff, &mut b, false)?;
        self.log_staff_key(&mut b, &record, StaffKeyChange::Changed)?;
        b.put(Table::Staff, staff.0, Self::json(&record));
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(())
    }

    /// Adds a staff member with a new key pair. With no password given, one
    /// is generated and returned; the person must change it at first login.
    pub async fn add_staff(
        &self,
        entity: Id,
        role: Role,
        login: &str,
        display_name: &str,
        password: Option<&str>,
    ) -> Result<(StaffRecord, Zeroizing<String>), SaaddError> {
        let entity_name = self.entity(entity)?.name;
        let login = field(login, "login")?.to_lowercase();
        let display_name = field(display_name, "display name")?;
        let generated = password.is_none();
        let password = match password {
            Some(p) => Zeroizing::new(p.to_owned()),
            None => self.generate_password(),
        };
        if !password_is_strong(&password, &[&login, &display_name, &entity_name]) {
            return Err(SaaddError::WeakPassword);
        }
        let id = Id(self.random());
        let secret = RecipientSecret::from_bytes(self.random());
        let key = self.seal_staff_key(id, &secret, &password).await?;
        let _w = self.writes.lock().await;
        self.check_unique(entity, &display_name, None, None)?;
        if self
            .store
            .get(Table::StaffLogin, login.as_bytes())?
            .is_some()
        {
            return Err(SaaddError::Taken);
        }
        let record = StaffRecord {
            v: RECORD_VERSION,
            id,
            entity,
            role,
            login,
            display_name,
            key: hex::encode(key.encode()),
            device_key: None,
            active: true,
            must_change_password: generated,
        };
        let mut b = Batch::new();
        self.log_staff_key(&mut b, &record, StaffKeyChange::Added)?;
        b.put(Table::Staff, id.0, Self::json(&record));
        b.put(Table::StaffLogin, record.login.as_bytes(), id.0.to_vec());
        self.store.apply(b)?;
        self.store.flush()?;
        Ok((record, password))
    }

    /// Checks a login and unseals the private key. An unknown login does
    /// the same Argon2id work as a known one and fails the same way.
    pub async fn staff_login(&self, login: &str, password: &str) -> Result<StaffLogin, SaaddError> {
        // A member whose key is on their device has no password here: they
        // fail exactly like an unknown login (spec/api.md, "Sessions").
        let found = self
            .staff_by_login(login)
            .ok()
            .filter(|s| s.active && s.device_key.is_none());
        let (record, key) = match &found {
            Some(s) => (Some(s.clone()), Some(staff_key_record(s)?)),
            None => (None, None),
        };
        let salt = key.as_ref().map(|k| k.salt).unwrap_or([0; 16]);
        let cost = key.as_ref().map(|k| k.cost).unwrap_or(self.costs.staff);
        let pw = Zeroizing::new(password.to_owned());
        let derived = self
            .kdf
            .run(move || envelope::password_keys(&pw, &salt, cost))
            .await?
            .map_err(|_| SaaddError::WrongLogin)?;
        match (record, key) {
            (Some(staff), Some(key)) => {
                let secret = key
                    .open(staff.id, &derived)
                    .map_err(|_| SaaddError::WrongLogin)?;
                Ok(StaffLogin { staff, secret })
            }
            _ => Err(SaaddError::WrongLogin),
        }
    }

    /// Sets a new password and, with it, a new key pair. The old key was
    /// sealed under a password someone else may know (a one-time password
    /// handed over by an admin) and old storage pages may still hold it,
    /// so it must stop opening anything: each thread the person reads is
    /// re-wrapped for the new key and marked to rotate at its next write.
    /// Returns the new login (the caller replaces the session's key).
    pub async fn change_password(
        &self,
        who: &StaffLogin,
        new_password: &str,
    ) -> Result<StaffLogin, SaaddError> {
        let entity_name = self.entity(who.staff.entity)?.name;
        let context = [
            who.staff.login.as_str(),
            who.staff.display_name.as_str(),
            entity_name.as_str(),
        ];
        if !password_is_strong(new_password, &context) {
            return Err(SaaddError::WeakPassword);
        }
        let staff = who.staff.id;
        let secret = RecipientSecret::from_bytes(self.random());
        let key = self.seal_staff_key(staff, &secret, new_password).await?;
        let _w = self.writes.lock().await;
        let mut record = self.staff(staff)?;
        if !record.active {
            return Err(SaaddError::NotFound);
        }
        if record.device_key.is_some() {
            return Err(SaaddError::Forbidden);
        }
        let slot = Slot::Staff(staff);
        let mut b = Batch::new();
        for t in self.all_threads()? {
            if !t.readers.contains(&staff) {
                continue;
            }
            let Ok((mut t, keys)) = self.keys(t.id, slot, &who.secret) else {
                continue;
            };
            let sk = self.storage_key(t.id)?;
            self.put_wrap(
                &mut b,
                &sk,
                t.id,
                slot,
                t.epoch,
                &secret.public(),
                keys.current_key(),
            )?;
            t.rotate = true;
            b.put(Table::Thread, t.id.0, Self::json(&t));
        }
        record.key = hex::encode(key.encode());
        record.must_change_password = false;
        self.log_staff_key(&mut b, &record, StaffKeyChange::Changed)?;
        b.put(Table::Staff, record.id.0, Self::json(&record));
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(StaffLogin {
            staff: record,
            secret,
        })
    }

    /// Takes a staff member's access away from every thread: wraps deleted,
    /// and those threads rotate at their next write.
    pub(super) fn revoke_everywhere(
        &self,
        staff: Id,
        b: &mut Batch,
        forget: bool,
    ) -> Result<(), SaaddError> {
        for mut t in self.all_threads()? {
            let reader = t.readers.contains(&staff);
            let listed = t.shown.contains(&staff) || t.advisors.contains(&staff);
            if !(reader || forget && listed) {
                continue;
            }
            let mut k = t.id.0.to_vec();
            k.extend_from_slice(&Slot::Staff(staff).encode());
            b.delete(Table::Wrap, k);
            t.readers.retain(|x| *x != staff);
            if forget {
                t.shown.retain(|x| *x != staff);
                t.advisors.retain(|x| *x != staff);
            }
            t.rotate = true;
            b.put(Table::Thread, t.id.0, Self::json(&t));
        }
        Ok(())
    }

    /// Removes a staff member: they can no longer log in, and no thread can
    /// be granted to them again.
    pub async fn remove_staff(&self, staff: Id) -> Result<(), SaaddError> {
        let _w = self.writes.lock().await;
        let mut record = self.staff(staff)?;
        record.active = false;
        let mut b = Batch::new();
        self.revoke_everywhere(staff, &mut b, true)?;
        self.log_staff_key(&mut b, &record, StaffKeyChange::Removed)?;
        b.put(Table::Staff, staff.0, Self::json(&record));
        b.delete(Table::StaffLogin, record.login.as_bytes());
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(())
    }

    /// Resets a forgotten password: a new key pair and a generated
    /// password. The old key opened their threads; the new one opens none
    /// until a colleague grants them again.
    pub async fn reset_password(&self, staff: Id) -> Result<Zeroizing<String>, SaaddError> {
        let password = self.generate_password();
        let secret = RecipientSecret::from_bytes(self.random());
        let key = self.seal_staff_key(staff, &secret, &password).await?;
        let _w = self.writes.lock().await;
        let mut record = self.staff(staff)?;
        if !record.active {
            return Err(SaaddError::NotFound);
        }
        if record.device_key.is_some() {
            // No password to reset: a new device key is registered instead.
            return Err(SaaddError::Forbidden);
        }
        record.key = hex::encode(key.encode());
        record.must_change_password = true;
        let mut b = Batch::new();
        self.revoke_everywhere(staff, &mut b, false)?;
        self.log_staff_key(&mut b, &record, StaffKeyChange::Changed)?;
        b.put(Table::Staff, staff.0, Self::json(&record));
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(password)
    }
}
