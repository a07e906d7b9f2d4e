//! What a client seals and sends, built without any I/O: a new thread
//! (spec/api.md, "Creating a thread"), a message ("Posting a message"), a
//! rotation ("Rotation") and an assignment ("Assignment"). Randomness
//! comes from the caller's [`Entropy`]; every record is made by the
//! functions of `src/core/envelope.rs`.

use std::sync::Arc;

use super::error::ClientError;
use super::thread::OpenedThread;
use super::upload::{self, FilePlan, SealedAttachment};
use crate::core::Day;
use crate::core::api::{
    AssignIn, MessageIn, NewThreadIn, ReaderOut, RotationIn, StaffKey, WrapIn, b64,
};
use crate::core::envelope::{self, Author, Id, MessageBody, MessagePlace, Slot};
use crate::core::receipt::{self, Receipt, ReporterKeys};
use crate::core::secret::Key32;
use crate::core::status::Kind;
use crate::core::wrap::RecipientKey;
use crate::platform::{Entropy, random};

/// The most characters any server accepts in a message (spec/envelope.md,
/// "Message plaintext"; `limits.message_chars` cannot be set higher).
pub const MESSAGE_CHARS: usize = 50_000;
/// The most attachments any server accepts on one message
/// (`limits.attachments_per_message` cannot be set higher).
pub const ATTACHMENTS_PER_MESSAGE: usize = 20;

/// Checks a message as the server will: not blank, no NUL, at most
/// [`MESSAGE_CHARS`] characters.
pub fn check_text(text: &str) -> Result<(), ClientError> {
    if text.contains('\0') {
        return Err(ClientError::NulInMessage);
    }
    let blank = text.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    });
    if blank {
        return Err(ClientError::EmptyMessage);
    }
    if text.chars().count() > MESSAGE_CHARS {
        return Err(ClientError::MessageTooLong {
            limit: MESSAGE_CHARS,
        });
    }
    Ok(())
}

/// `"reporter"` or the staff id, as the API names a slot in JSON.
pub fn slot_name(slot: &Slot) -> String {
    match slot {
        Slot::Reporter => "reporter".to_owned(),
        Slot::Staff(id) => id.hex(),
    }
}

/// The inner wrap of `tk` (epoch `epoch`) for `recipient` in `slot`.
pub fn wrap_for(
    thread: Id,
    slot: Slot,
    epoch: u32,
    recipient: &RecipientKey,
    tk: &Key32,
    entropy: &dyn Entropy,
) -> Result<WrapIn, ClientError> {
    let inner = envelope::seal_wrap_inner(
        thread,
        &slot,
        epoch,
        recipient,
        tk,
        random(entropy),
        random(entropy),
    )
    .map_err(|_| ClientError::Seal)?;
    Ok(WrapIn {
        slot: slot_name(&slot),
        wrap: b64(&inner),
    })
}

/// A sealed message and its attachments, ready to send.
pub struct Outgoing {
    /// The JSON of the first part (`thread` or `message`).
    pub json: String,
    /// The thread key the chunks are sealed under, and their epoch.
    pub tk: Arc<Key32>,
    pub thread: Id,
    pub epoch: u32,
    pub attachments: Vec<SealedAttachment>,
}

fn seal_body(
    tk: &Key32,
    place: &MessagePlace,
    text: &str,
    author_label: &str,
    attachments: &[SealedAttachment],
    entropy: &dyn Entropy,
) -> Result<Vec<u8>, ClientError> {
    let body = MessageBody {
        text: text.to_owned(),
        author_label: author_label.to_owned(),
        attachments: attachments.iter().map(|a| a.id).collect(),
    };
    envelope::seal_message(tk, place, &body, random(entropy)).map_err(|_| ClientError::Seal)
}

fn seal_files(
    tk: &Key32,
    thread: Id,
    epoch: u32,
    files: Vec<FilePlan>,
    entropy: &dyn Entropy,
) -> Result<Vec<SealedAttachment>, ClientError> {
    if files.len() > ATTACHMENTS_PER_MESSAGE {
        return Err(ClientError::TooManyAttachments {
            limit: ATTACHMENTS_PER_MESSAGE,
        });
    }
    files
        .into_iter()
        .map(|f| upload::seal_attachment(tk, thread, epoch, f, entropy))
        .collect()
}

/// Draws a new receipt: 14 random bytes (spec/receipt.md, "Generation").
pub fn draw_receipt(entropy: &dyn Entropy) -> Receipt {
    let mut bytes: [u8; receipt::RANDOM_BYTES] = random(entropy);
    let r = Receipt::from_random(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    r
}

/// What a new thread needs besides the receipt's keys.
pub struct NewThreadPlan<'a> {
    pub entity: &'a str,
    pub kind: Kind,
    /// The server's day, from the signed document.
    pub day: Day,
    /// The coordinators it is wrapped for ([`super::document::choose_coordinators`]).
    pub coordinators: &'a [StaffKey],
    pub device_only: bool,
    pub text: &'a str,
    pub files: Vec<FilePlan>,
}

/// Draws the thread id and `TK_0`, seals message 0 and the attachment
/// records under it, and wraps it for the reporter and each coordinator.
pub fn new_thread(
    plan: NewThreadPlan<'_>,
    keys: &ReporterKeys,
    entropy: &dyn Entropy,
) -> Result<Outgoing, ClientError> {
    check_text(plan.text)?;
    let thread = Id(random(entropy));
    let tk = Key32::from_bytes(random(entropy));
    let reporter_key = keys.secret.public();
    let mut wraps = vec![wrap_for(
        thread,
        Slot::Reporter,
        0,
        &reporter_key,
        &tk,
        entropy,
    )?];
    for c in plan.coordinators {
        wraps.push(wrap_for(
            thread,
            Slot::Staff(c.id),
            0,
            &c.public_key,
            &tk,
            entropy,
        )?);
    }
    let attachments = seal_files(&tk, thread, 0, plan.files, entropy)?;
    let place = MessagePlace {
        thread,
        seq: 0,
        epoch: 0,
        author: Author::Reporter,
        day: plan.day,
    };
    let message = seal_body(&tk, &place, plan.text, "", &attachments, entropy)?;
    let payload = NewThreadIn {
        entity: plan.entity.to_owned(),
        id: thread,
        kind: plan.kind.key().to_owned(),
        reporter_key,
        receipt_index: hex::encode(keys.index()),
        device_only: plan.device_only,
        wraps,
        message: b64(&message),
        attachments: attachments.iter().map(SealedAttachment::entry).collect(),
    };
    Ok(Outgoing {
        json: serde_json::to_string(&payload).map_err(|_| ClientError::Seal)?,
        tk: Arc::new(tk),
        thread,
        epoch: 0,
        attachments,
    })
}

/// A message for an opened thread: `seq` is the view's message count,
/// sealed under the current epoch with the server's `day`. The thread
/// must not be due a rotation ([`rotation`] first).
pub fn reply(
    opened: &OpenedThread,
    author_label: &str,
    text: &str,
    files: Vec<FilePlan>,
    entropy: &dyn Entropy,
) -> Result<Outgoing, ClientError> {
    check_text(text)?;
    let thread = opened.id();
    let epoch = opened.epoch();
    let tk = opened.current_key().clone();
    let attachments = seal_files(&tk, thread, epoch, files, entropy)?;
    let author = match opened.slot {
        Slot::Reporter => Author::Reporter,
        Slot::Staff(_) => Author::Staff,
    };
    let place = MessagePlace {
        thread,
        seq: opened.view.messages,
        epoch,
        author,
        day: opened.view.day,
    };
    let label = match author {
        Author::Reporter => "",
        Author::Staff => author_label,
    };
    let record = seal_body(&tk, &place, text, label, &attachments, entropy)?;
    let payload = MessageIn {
        seq: opened.view.messages,
        record: b64(&record),
        attachments: attachments.iter().map(SealedAttachment::entry).collect(),
    };
    Ok(Outgoing {
        json: serde_json::to_string(&payload).map_err(|_| ClientError::Seal)?,
        tk: Arc::new(tk),
        thread,
        epoch,
        attachments,
    })
}

/// A rotation (spec/api.md, "Rotation"): a new random key for the next
/// epoch, a link sealing the current key under it, and wraps of it for the
/// reporter and **exactly** the active readers — less `remove`, the
/// advisor an unassignment takes out.
pub fn rotation(
    opened: &OpenedThread,
    remove: Option<Id>,
    entropy: &dyn Entropy,
) -> Result<RotationIn, ClientError> {
    let thread = opened.id();
    let epoch = opened
        .epoch()
        .checked_add(1)
        .ok_or(ClientError::BadAnswer("epoch"))?;
    let new_tk = Key32::from_bytes(random(entropy));
    let link = envelope::seal_link(
        &new_tk,
        thread,
        epoch,
        opened.current_key(),
        random(entropy),
    );
    let mut wraps = vec![wrap_for(
        thread,
        Slot::Reporter,
        epoch,
        &opened.view.reporter_key,
        &new_tk,
        entropy,
    )?];
    for r in remaining_readers(&opened.view.readers, remove) {
        wraps.push(wrap_for(
            thread,
            Slot::Staff(r.id),
            epoch,
            &r.public_key,
            &new_tk,
            entropy,
        )?);
    }
    Ok(RotationIn {
        epoch,
        link: b64(&link),
        wraps,
    })
}

/// The readers a rotation wraps for: active, and not the one removed.
pub fn remaining_readers(readers: &[ReaderOut], remove: Option<Id>) -> Vec<&ReaderOut> {
    readers
        .iter()
        .filter(|r| r.active && Some(r.id) != remove)
        .collect()
}

/// An assignment: the current key wrapped for the advisor.
pub fn assign(
    opened: &OpenedThread,
    advisor: &StaffKey,
    entropy: &dyn Entropy,
) -> Result<AssignIn, ClientError> {
    let w = wrap_for(
        opened.id(),
        Slot::Staff(advisor.id),
        opened.epoch(),
        &advisor.public_key,
        opened.current_key(),
        entropy,
    )?;
    Ok(AssignIn {
        advisor: advisor.id,
        wrap: w.wrap,
    })
}

/// Wraps of the current key for coordinators (a re-grant, or a
/// reporter's grant when nobody can read).
pub fn grant(
    opened: &OpenedThread,
    coordinators: &[StaffKey],
    entropy: &dyn Entropy,
) -> Result<crate::core::api::GrantIn, ClientError> {
    let mut wraps = Vec::new();
    for c in coordinators {
        wraps.push(wrap_for(
            opened.id(),
            Slot::Staff(c.id),
            opened.epoch(),
            &c.public_key,
            opened.current_key(),
            entropy,
        )?);
    }
    Ok(crate::core::api::GrantIn { wraps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::document::tests::{entity, staff};
    use crate::client::thread;
    use crate::client::upload::tests::counter;
    use crate::core::api::{AttachmentOut, LinkOut, MessageOut, Reads, ThreadOut, unb64};
    use crate::core::receipt::KdfCost;
    use crate::core::wrap::RecipientSecret;

    /// A small Argon2id cost: these tests check the records, not the cost.
    const CHEAP: KdfCost = KdfCost {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    };

    fn reader(s: &StaffKey, active: bool) -> ReaderOut {
        ReaderOut {
            id: s.id,
            role: s.role.clone(),
            display_name: s.display_name.clone(),
            public_key: s.public_key,
            reads: s.reads,
            active,
        }
    }

    /// Plays the server: keeps what was sent and hands each caller the
    /// view with their own inner wrap.
    struct Server {
        created: NewThreadIn,
        epoch: u32,
        wraps: Vec<WrapIn>,
        links: Vec<LinkOut>,
        messages: Vec<MessageOut>,
        attachments: Vec<AttachmentOut>,
        readers: Vec<ReaderOut>,
    }

    impl Server {
        fn new(created: NewThreadIn, readers: Vec<ReaderOut>) -> Server {
            let mut s = Server {
                epoch: 0,
                wraps: created.wraps.clone(),
                links: vec![],
                messages: vec![MessageOut {
                    seq: 0,
                    record: created.message.clone(),
                }],
                attachments: created
                    .attachments
                    .iter()
                    .map(|a| AttachmentOut {
                        id: a.id,
                        record: a.record.clone(),
                    })
                    .collect(),
                readers,
                created,
            };
            s.readers
                .retain(|r| s.wraps.iter().any(|w| w.slot == r.id.hex()));
            s
        }
        fn view(&self, slot: &str) -> ThreadOut {
            ThreadOut {
                id: self.created.id,
                entity: self.created.entity.clone(),
                kind: self.created.kind.clone(),
                status: "received".into(),
                created: Day(20_790),
                activity: Day(20_790),
                closed: None,
                epoch: self.epoch,
                rotate: false,
                device_only: self.created.device_only,
                messages: self.messages.len() as u32,
                attachments: self.attachments.len() as u32,
                day: Day(20_791),
                reporter_key: self.created.reporter_key,
                readers: self.readers.clone(),
                shown: vec![],
                advisors: vec![],
                wrap: self
                    .wraps
                    .iter()
                    .find(|w| w.slot == slot)
                    .map(|w| w.wrap.clone())
                    .unwrap_or_default(),
                links: self.links.clone(),
                message_records: self.messages.clone(),
                attachment_records: self.attachments.clone(),
            }
        }
        fn rotate(&mut self, r: RotationIn) {
            assert_eq!(r.epoch, self.epoch + 1);
            self.epoch = r.epoch;
            self.links.push(LinkOut {
                epoch: r.epoch,
                link: r.link,
            });
            self.readers
                .retain(|x| r.wraps.iter().any(|w| w.slot == x.id.hex()));
            self.wraps = r.wraps;
        }
        fn post(&mut self, o: &Outgoing) {
            let m: MessageIn = serde_json::from_str(&o.json).unwrap();
            assert_eq!(m.seq as usize, self.messages.len());
            self.messages.push(MessageOut {
                seq: m.seq,
                record: m.record,
            });
        }
    }

    fn new_thread_for_test() -> (Outgoing, ReporterKeys, Vec<StaffKey>) {
        let e = entity();
        let coordinators = crate::client::document::choose_coordinators(&e, false, &[]).unwrap();
        let receipt = draw_receipt(&counter());
        let keys = receipt::derive(&receipt, CHEAP).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nota.txt");
        std::fs::write(&path, b"evidencia").unwrap();
        let out = new_thread(
            NewThreadPlan {
                entity: "sej",
                kind: Kind::Claim,
                day: Day(20_790),
                coordinators: &coordinators,
                device_only: false,
                text: "Hubo un desvío de fondos.",
                files: vec![upload::plan(&path).unwrap()],
            },
            &keys,
            &counter(),
        )
        .unwrap();
        (out, keys, coordinators)
    }

    #[test]
    fn a_new_thread_opens_for_the_reporter_and_each_coordinator() {
        let (out, keys, coordinators) = new_thread_for_test();
        let created: NewThreadIn = serde_json::from_str(&out.json).unwrap();
        assert_eq!(created.kind, "claim");
        assert_eq!(created.reporter_key, keys.secret.public());
        assert_eq!(created.receipt_index, hex::encode(keys.index()));
        assert_eq!(created.wraps.len(), 1 + coordinators.len());
        assert_eq!(created.wraps[0].slot, "reporter");
        for w in &created.wraps {
            let inner = unb64(&w.wrap).unwrap();
            assert_eq!(inner.len(), envelope::WRAP_INNER_LEN);
            assert_eq!(envelope::parse_wrap_inner(&inner).unwrap().epoch, 0);
        }
        let msg = unb64(&created.message).unwrap();
        let shape = envelope::message_shape(&msg).unwrap();
        assert_eq!(
            (shape.epoch, shape.author, shape.day),
            (0, Some(Author::Reporter), Some(Day(20_790)))
        );
        let readers = coordinators.iter().map(|c| reader(c, true)).collect();
        let server = Server::new(created, readers);

        let mine = thread::open(server.view("reporter"), Slot::Reporter, &keys.secret).unwrap();
        let (place, body) = mine.messages[0].opened.as_ref().unwrap();
        assert_eq!(place.author, Author::Reporter);
        assert_eq!(body.text, "Hubo un desvío de fondos.");
        assert_eq!(body.attachments, vec![out.attachments[0].id]);
        let meta = mine.attachment(out.attachments[0].id).unwrap();
        assert_eq!((meta.name.as_str(), meta.size), ("nota.txt", 9));

        // Coordinator 1 of the test entity holds the secret [1; 32].
        let c1 = RecipientSecret::from_bytes([1; 32]);
        let theirs = thread::open(
            server.view(&Id([1; 16]).hex()),
            Slot::Staff(Id([1; 16])),
            &c1,
        )
        .unwrap();
        assert!(theirs.messages[0].opened.is_some());
        // Someone else's key does not open their wrap.
        assert!(matches!(
            thread::open(
                server.view(&Id([1; 16]).hex()),
                Slot::Staff(Id([1; 16])),
                &keys.secret
            ),
            Err(ClientError::ThreadDoesNotOpen)
        ));
    }

    #[test]
    fn a_rotation_excludes_the_removed_advisor_and_keeps_the_history() {
        let (out, keys, coordinators) = new_thread_for_test();
        let created: NewThreadIn = serde_json::from_str(&out.json).unwrap();
        let ana = staff(3, "advisor", "Asesora Ana", Reads::Device);
        let mut readers: Vec<ReaderOut> = coordinators.iter().map(|c| reader(c, true)).collect();
        readers.push(reader(&ana, true));
        let mut server = Server::new(created, readers.clone());
        server.readers = readers;

        // A coordinator assigns Ana.
        let c2 = RecipientSecret::from_bytes([2; 32]);
        let c2_slot = Slot::Staff(Id([2; 16]));
        let opened = thread::open(server.view(&Id([2; 16]).hex()), c2_slot, &c2).unwrap();
        let a = assign(&opened, &ana, &counter()).unwrap();
        server.wraps.push(WrapIn {
            slot: ana.id.hex(),
            wrap: a.wrap,
        });
        let ana_secret = RecipientSecret::from_bytes([3; 32]);
        let ana_slot = Slot::Staff(ana.id);
        assert!(thread::open(server.view(&ana.id.hex()), ana_slot, &ana_secret).is_ok());

        // Then unassigns her: the rotation wraps for everyone but Ana.
        let r = rotation(&opened, Some(ana.id), &counter()).unwrap();
        assert_eq!(r.epoch, 1);
        let slots: Vec<&str> = r.wraps.iter().map(|w| w.slot.as_str()).collect();
        assert!(slots.contains(&"reporter"));
        assert!(!slots.contains(&ana.id.hex().as_str()));
        assert_eq!(slots.len(), 1 + coordinators.len());
        assert!(envelope::link_shape(&unb64(&r.link).unwrap()).is_ok());
        server.rotate(r);
        assert!(thread::open(server.view(&ana.id.hex()), ana_slot, &ana_secret).is_err());

        // The reporter writes at epoch 1 and still reads message 0.
        let mine = thread::open(server.view("reporter"), Slot::Reporter, &keys.secret).unwrap();
        assert_eq!(mine.epoch(), 1);
        let o = reply(&mine, "", "Gracias.", vec![], &counter()).unwrap();
        server.post(&o);
        let again = thread::open(server.view("reporter"), Slot::Reporter, &keys.secret).unwrap();
        assert_eq!(again.messages.len(), 2);
        assert!(again.messages.iter().all(|m| m.opened.is_some()));
        let (place, body) = again.messages[1].opened.as_ref().unwrap();
        assert_eq!((place.epoch, place.day), (1, Day(20_791)));
        assert_eq!(body.author_label, "");

        // A staff reply carries the label and the staff author byte.
        let theirs = thread::open(server.view(&Id([2; 16]).hex()), c2_slot, &c2).unwrap();
        let o = reply(&theirs, "Coordinación Dos", "Recibido.", vec![], &counter()).unwrap();
        server.post(&o);
        let again = thread::open(server.view("reporter"), Slot::Reporter, &keys.secret).unwrap();
        let (place, body) = again.messages[2].opened.as_ref().unwrap();
        assert_eq!(place.author, Author::Staff);
        assert_eq!(body.author_label, "Coordinación Dos");
    }

    #[test]
    fn inactive_readers_get_no_wrap() {
        let e = entity();
        let readers = vec![reader(&e.staff[0], true), reader(&e.staff[1], false)];
        let kept = remaining_readers(&readers, None);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, e.staff[0].id);
        assert!(remaining_readers(&readers, Some(e.staff[0].id)).is_empty());
    }

    #[test]
    fn texts_are_checked_like_the_server() {
        assert!(matches!(
            check_text(" \n\u{200B}"),
            Err(ClientError::EmptyMessage)
        ));
        assert!(matches!(check_text("a\0b"), Err(ClientError::NulInMessage)));
        assert!(matches!(
            check_text(&"ñ".repeat(MESSAGE_CHARS + 1)),
            Err(ClientError::MessageTooLong { .. })
        ));
        assert!(check_text(&"ñ".repeat(MESSAGE_CHARS)).is_ok());
    }
}
