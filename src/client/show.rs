//! What the client prints: the readers of a new thread, an opened thread,
//! a staff member's list. Plain text in the person's language; dates as
//! `YYYY-MM-DD` (`Day::iso`), never more precise than the day.

use std::fmt::Write as _;

use super::lang::{Lang, t};
use super::thread::OpenedThread;
use crate::core::api::{Reads, StaffKey, ThreadSummary};
use crate::core::envelope::{Author, Slot};
use crate::core::status::{Kind, Status};

pub fn kind(lang: Lang, kind: &str) -> String {
    match Kind::from_key(kind) {
        Some(Kind::Question) => t(lang, "pregunta", "question").to_owned(),
        Some(Kind::Claim) => t(lang, "denuncia", "report (claim)").to_owned(),
        None => kind.to_owned(),
    }
}

pub fn status(lang: Lang, status: &str) -> String {
    match Status::from_key(status) {
        Some(Status::Received) => t(lang, "recibida", "received"),
        Some(Status::Acknowledged) => t(lang, "acusada de recibido", "acknowledged"),
        Some(Status::InProgress) => t(lang, "en atención", "in progress"),
        Some(Status::Answered) => t(lang, "respondida", "answered"),
        Some(Status::NotCompetent) => t(lang, "fuera de competencia", "not within competence"),
        Some(Status::Closed) => t(lang, "cerrada", "closed"),
        None => status,
    }
    .to_owned()
}

pub fn role(lang: Lang, role: &str) -> String {
    match role {
        "coordinator" => t(lang, "coordinación", "coordination"),
        "advisor" => t(lang, "asesoría", "advisor"),
        other => other,
    }
    .to_owned()
}

pub fn reads(lang: Lang, reads: Reads) -> &'static str {
    match reads {
        Reads::Device => t(
            lang,
            "lee solo en su dispositivo",
            "reads only on their own device",
        ),
        Reads::Server => t(
            lang,
            "lee a través del servidor (el servidor puede descifrar cuando inicia sesión)",
            "reads through the server (the server can decrypt when they sign in)",
        ),
    }
}

/// Shown before a new thread is sent: who will be able to read it.
pub fn readers_of_new_thread(lang: Lang, entity_name: &str, readers: &[StaffKey]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({entity_name}):",
        t(
            lang,
            "Podrán leer este mensaje, además de ti",
            "Besides you, these people will be able to read this message"
        )
    );
    for r in readers {
        let _ = writeln!(
            out,
            "  - {} ({}) — {}",
            r.display_name,
            role(lang, &r.role),
            reads(lang, r.reads)
        );
    }
    let _ = write!(
        out,
        "{}",
        t(
            lang,
            "Más adelante, la coordinación puede asignar la conversación a personas asesoras, que también podrán leerla.",
            "Later, coordination may assign the conversation to advisors, who will be able to read it too.",
        )
    );
    out
}

/// The entity's retention for this kind of thread, as its page says it.
pub fn retention(lang: Lang, shown: &crate::core::api::RetentionShown, claim: bool) -> String {
    let p = if claim { &shown.claim } else { &shown.question };
    let mut out = match lang {
        Lang::Es => format!(
            "Se borra {} días después de cerrarse, o tras {} días sin mensajes de nadie, y en todo caso {} días después de enviarse; tu recibo deja de abrirla tras {} días sin mensajes. Al borrarse se destruye la llave que la descifra (en discos que sobrescriben en su lugar o cifrados completos).",
            p.closed, p.inactive, p.cap, p.receipt
        ),
        Lang::En => format!(
            "It is deleted {} days after being closed, or after {} days with no message from anyone, and in any case {} days after being sent; your receipt stops opening it after {} days with no messages. Deletion destroys the key that decrypts it (on disks that overwrite in place or are fully encrypted).",
            p.closed, p.inactive, p.cap, p.receipt
        ),
    };
    if let Some(days) = shown.backup_days {
        out.push(' ');
        out.push_str(&match lang {
            Lang::Es => format!("Las copias de respaldo cifradas dejan de poder leerse a más tardar {days} días después."),
            Lang::En => format!("Encrypted backups can no longer be read at most {days} days later."),
        });
    }
    out
}

/// An opened thread, in full.
pub fn thread(lang: Lang, opened: &OpenedThread) -> String {
    let v = &opened.view;
    let staff_view = matches!(opened.slot, Slot::Staff(_));
    let mut out = String::new();
    if staff_view {
        let _ = writeln!(
            out,
            "{}: {}",
            t(lang, "Conversación", "Conversation"),
            v.id.hex()
        );
        let _ = writeln!(out, "{}: {}", t(lang, "Institución", "Entity"), v.entity);
    }
    let _ = writeln!(out, "{}: {}", t(lang, "Tipo", "Kind"), kind(lang, &v.kind));
    let _ = writeln!(
        out,
        "{}: {}",
        t(lang, "Estado", "Status"),
        status(lang, &v.status)
    );
    let _ = writeln!(
        out,
        "{}: {}",
        t(lang, "Enviada el", "Sent on"),
        v.created.iso()
    );
    let _ = writeln!(
        out,
        "{}: {}",
        t(lang, "Última actividad", "Last activity"),
        v.activity.iso()
    );
    if let Some(c) = v.closed {
        let _ = writeln!(out, "{}: {}", t(lang, "Cerrada el", "Closed on"), c.iso());
    }
    if v.device_only {
        let _ = writeln!(
            out,
            "{}",
            t(
                lang,
                "Solo pueden leerla personas que leen en su dispositivo.",
                "Only people who read on their own device can read it."
            )
        );
    }
    if staff_view && v.rotate {
        let _ = writeln!(
            out,
            "{}",
            t(
                lang,
                "Alguien perdió el acceso: la próxima escritura cambia la llave.",
                "Someone lost access: the next write changes the key."
            )
        );
    }
    let _ = writeln!(
        out,
        "\n{}:",
        t(lang, "Quién puede leerla ahora", "Who can read it now")
    );
    if !staff_view {
        let _ = writeln!(out, "  - {}", t(lang, "tú", "you"));
    }
    for r in &v.readers {
        let _ = write!(
            out,
            "  - {} ({}) — {}",
            r.display_name,
            role(lang, &r.role),
            reads(lang, r.reads)
        );
        if !r.active {
            let _ = write!(
                out,
                " [{}]",
                t(
                    lang,
                    "dada de baja: pierde el acceso con la próxima escritura",
                    "removed: loses access at the next write"
                )
            );
        }
        let _ = writeln!(out);
    }
    for m in &opened.messages {
        let _ = writeln!(out);
        match &m.opened {
            None => {
                let _ = writeln!(
                    out,
                    "--- #{} — {}",
                    m.seq + 1,
                    t(
                        lang,
                        "[este mensaje no se pudo abrir]",
                        "[this message could not be opened]"
                    )
                );
            }
            Some((place, body)) => {
                let who = match (place.author, &opened.slot) {
                    (Author::Reporter, Slot::Reporter) => t(lang, "Tú", "You").to_owned(),
                    (Author::Reporter, _) => t(lang, "Persona que reporta", "Reporter").to_owned(),
                    (Author::Staff, _) if body.author_label.is_empty() => {
                        t(lang, "Personal", "Staff").to_owned()
                    }
                    (Author::Staff, _) => body.author_label.clone(),
                };
                let _ = writeln!(out, "--- #{} — {who} — {}", m.seq + 1, place.day.iso());
                let _ = writeln!(out, "{}", body.text);
                for a in &body.attachments {
                    match opened.attachment(*a) {
                        Some(meta) => {
                            let _ = writeln!(
                                out,
                                "  [{}: {} — {} {}, {}]",
                                t(lang, "adjunto", "attachment"),
                                meta.name,
                                meta.size,
                                t(lang, "bytes", "bytes"),
                                meta.content_type
                            );
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "  [{}]",
                                t(
                                    lang,
                                    "adjunto que no se pudo abrir",
                                    "attachment that could not be opened"
                                )
                            );
                        }
                    }
                }
            }
        }
    }
    out
}

/// A staff member's threads, one per line.
pub fn thread_list(lang: Lang, threads: &[ThreadSummary]) -> String {
    if threads.is_empty() {
        return t(
            lang,
            "No hay conversaciones que puedas leer.",
            "There are no conversations you can read.",
        )
        .to_owned();
    }
    let mut out = String::new();
    for s in threads {
        let _ = write!(
            out,
            "{}  {}  {}  {} {}  {} {}  {} {}",
            s.id.hex(),
            kind(lang, &s.kind),
            status(lang, &s.status),
            t(lang, "creada", "created"),
            s.created.iso(),
            t(lang, "actividad", "activity"),
            s.activity.iso(),
            s.messages,
            if s.messages == 1 {
                t(lang, "mensaje", "message")
            } else {
                t(lang, "mensajes", "messages")
            },
        );
        if s.device_only {
            let _ = write!(out, "  [{}]", t(lang, "solo dispositivo", "device only"));
        }
        if s.rotate {
            let _ = write!(
                out,
                "  [{}]",
                t(lang, "cambio de llave pendiente", "key change due")
            );
        }
        let _ = writeln!(out);
    }
    out.trim_end().to_owned()
}
