//! Why a client command failed. One enum for the client layer; each
//! variant says what the person can do about it, in their language
//! ([`ClientError::message`]). No variant carries a receipt, a key, a
//! passphrase or any message text; paths and names are the person's own
//! input or what their server sent.

use std::fmt;

use super::lang::{Lang, t};

#[derive(Debug)]
pub enum ClientError {
    /// The server could not be reached, or the connection broke.
    Network(String),
    /// The server refused, with its `{"error": {"code", "message"}}`.
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server answered with a status and no readable error body.
    Status(u16),
    /// The server's answer is not what spec/api.md describes.
    BadAnswer(&'static str),
    /// `--server` is not an http(s) address, or `--proxy` is unusable.
    BadAddress(String),
    /// `--server-key` is not 32 bytes of base64url.
    BadServerKey,
    /// The entity document's signature does not verify.
    BadSignature,
    /// The document is signed by another key than the pinned one.
    ServerKeyMismatch {
        seen: String,
    },
    /// No entity with this slug on the server.
    UnknownEntity(String),
    /// The entity has no coordinator to send to.
    NoCoordinators,
    /// `--device-only` and no coordinator reads on their own device.
    NoDeviceCoordinators,
    /// An `--exclude` matched no coordinator.
    UnknownExclude(String),
    /// Every coordinator was excluded.
    AllExcluded,
    /// The entity asks for a token and none was given.
    TokenNeeded,
    /// The token file has no token left.
    NoToken,
    /// The message is empty or only blanks.
    EmptyMessage,
    /// The message has more characters than the server accepts.
    MessageTooLong {
        limit: usize,
    },
    /// The message holds a NUL character.
    NulInMessage,
    /// More attachments than one message can list.
    TooManyAttachments {
        limit: usize,
    },
    /// A file could not be read or written.
    File {
        path: String,
        error: String,
    },
    /// Reading from the terminal or standard input failed.
    Input(String),
    /// The typed text is not a receipt phrase.
    NotAReceipt,
    /// The receipt found a thread but does not open it.
    ReceiptDoesNotOpen,
    /// A staff session challenge did not open: login or key wrong.
    StaffLogin,
    /// The passphrase does not open the key file.
    WrongPassphrase,
    /// The two passphrases typed differ.
    PassphraseMismatch,
    /// The passphrase is too easy to guess.
    WeakPassphrase,
    /// The key file exists already.
    KeyFileExists(String),
    /// The key file is not a staff key record.
    BadKeyFile(String),
    /// The thread's keys do not open (wrap, link or a missing link).
    ThreadDoesNotOpen,
    /// A reader the server lists is not in the signed entity document, or
    /// has another key there.
    ReaderKeyMismatch(String),
    /// No advisor of the entity matches, or more than one does.
    UnknownAdvisor(String),
    AmbiguousAdvisor(String),
    /// The advisor reads through the server and the thread is device-only.
    AdvisorReadsOnServer(String),
    /// The advisor already reads the thread.
    AlreadyReader(String),
    /// A re-grant for a coordinator the reporter did not keep.
    NotShown(String),
    /// Nobody can read the thread now (`report grant` fixes it).
    NobodyReads,
    /// Someone at the entity can still read: no grant is needed.
    StillRead,
    /// A rotation is due and this advisor may not make it (spec/api.md,
    /// "Rotation"): a coordinator or the reporter must write first.
    RotationPending,
    /// The advisor does not read the thread.
    NotAReader(String),
    /// Not a status staff can set.
    UnknownStatus(String),
    /// Not a 32-hex-digit thread id.
    BadThreadId(String),
    /// An attachment's chunks do not add up to its recorded size.
    AttachmentDamaged(String),
    /// A record could not be sealed (too large) or a key was refused.
    Seal,
    /// The memory-hard derivation failed (out of memory).
    Kdf,
    /// `buzon audit verify --key` is not a signed-note verifier key.
    BadLogKey,
    /// The audit log's checkpoint is not signed by the `--key` given.
    LogNotSigned,
}

impl ClientError {
    /// The sentence shown to the person.
    pub fn message(&self, lang: Lang) -> String {
        use ClientError::*;
        match self {
            Network(e) if e == "connect" => t(
                lang,
                "no se pudo conectar con el servidor (o con el proxy): revisa la dirección de --server y de --proxy, y que el servidor o Tor estén en marcha",
                "cannot connect to the server (or the proxy): check the --server and --proxy addresses, and that the server or Tor is running",
            )
            .to_owned(),
            Network(e) if e == "timeout" => t(
                lang,
                "el servidor tardó demasiado en responder; intenta de nuevo (por Tor puede tardar más)",
                "the server took too long to answer; try again (over Tor it can take longer)",
            )
            .to_owned(),
            Network(e) => format!(
                "{}: {e}",
                t(lang, "no se pudo hablar con el servidor", "cannot reach the server")
            ),
            Server { code, message, .. } => format!("{message} ({code})"),
            Status(s) => format!(
                "{} {s}",
                t(lang, "el servidor respondió", "the server answered")
            ),
            BadAnswer(what) => format!(
                "{}: {what}",
                t(
                    lang,
                    "la respuesta del servidor no se puede leer",
                    "the server's answer cannot be read"
                )
            ),
            BadAddress(e) => format!("{}: {e}", t(lang, "dirección no válida", "bad address")),
            BadLogKey => t(
                lang,
                "--key debe ser la llave del registro de auditoría (nombre+id+llave), como la imprime `buzon audit key`",
                "--key must be the audit log's verifier key (name+id+key), as `buzon audit key` prints it",
            )
            .to_owned(),
            LogNotSigned => t(
                lang,
                "el punto de control del registro de auditoría no está firmado con la llave de --key: o la llave no es la de este servidor, o el servidor cambió de llave",
                "the audit log's checkpoint is not signed by the --key given: either the key is not this server's, or the server changed its key",
            )
            .to_owned(),
            BadServerKey => t(
                lang,
                "--server-key debe ser la llave del servidor en base64url (32 bytes), como la imprime `buzon server-key`",
                "--server-key must be the server key in base64url (32 bytes), as `buzon server-key` prints it",
            )
            .to_owned(),
            BadSignature => t(
                lang,
                "la lista de llaves de las instituciones no tiene una firma válida: no se envía nada",
                "the entities' key list does not carry a valid signature: nothing is sent",
            )
            .to_owned(),
            ServerKeyMismatch { seen } => format!(
                "{} {seen}",
                t(
                    lang,
                    "la lista de llaves está firmada por otra llave que la indicada con --server-key; no se envía nada. Llave vista:",
                    "the key list is signed by another key than the one given with --server-key; nothing is sent. Key seen:",
                )
            ),
            UnknownEntity(slug) => format!(
                "{} «{slug}»",
                t(
                    lang,
                    "el servidor no tiene la institución",
                    "the server has no entity"
                )
            ),
            NoCoordinators => t(
                lang,
                "esta institución no tiene por ahora nadie de coordinación que pueda recibir",
                "this entity has no coordinator who can receive at the moment",
            )
            .to_owned(),
            NoDeviceCoordinators => t(
                lang,
                "con --device-only no queda nadie: ninguna persona de coordinación de esta institución lee solo en su dispositivo",
                "with --device-only nobody is left: no coordinator of this entity reads only on their own device",
            )
            .to_owned(),
            UnknownExclude(x) => format!(
                "{} «{x}»",
                t(
                    lang,
                    "--exclude no coincide con ninguna persona de coordinación:",
                    "--exclude matches no coordinator:"
                )
            ),
            AllExcluded => t(
                lang,
                "debe quedar al menos una persona de coordinación que pueda leer",
                "at least one coordinator must remain able to read",
            )
            .to_owned(),
            TokenNeeded => t(
                lang,
                "esta institución pide un pase: consíguelo con `buzon token fetch --out ARCHIVO` y pásalo con --token-file ARCHIVO",
                "this entity asks for a token: get one with `buzon token fetch --out FILE` and pass it with --token-file FILE",
            )
            .to_owned(),
            NoToken => t(
                lang,
                "el archivo de pases no tiene ningún pase",
                "the token file holds no token",
            )
            .to_owned(),
            EmptyMessage => t(
                lang,
                "el mensaje está vacío: escribe algo",
                "the message is empty: write something",
            )
            .to_owned(),
            MessageTooLong { limit } => format!(
                "{} {limit} {}",
                t(
                    lang,
                    "el mensaje es demasiado largo: como máximo",
                    "the message is too long: at most"
                ),
                t(lang, "caracteres", "characters")
            ),
            NulInMessage => t(
                lang,
                "el mensaje contiene un carácter nulo (¿es un archivo de texto?)",
                "the message holds a NUL character (is it a text file?)",
            )
            .to_owned(),
            TooManyAttachments { limit } => format!(
                "{} {limit}",
                t(
                    lang,
                    "demasiados adjuntos en un mensaje; como máximo",
                    "too many attachments on one message; at most"
                )
            ),
            File { path, error } => format!("{path}: {error}"),
            Input(e) => format!(
                "{}: {e}",
                t(lang, "no se pudo leer la entrada", "cannot read the input")
            ),
            NotAReceipt => t(
                lang,
                "eso no es un recibo: son diez palabras de la lista",
                "that is not a receipt: it is ten words from the list",
            )
            .to_owned(),
            ReceiptDoesNotOpen => t(
                lang,
                "el recibo no abre esta conversación",
                "the receipt does not open this conversation",
            )
            .to_owned(),
            StaffLogin => t(
                lang,
                "el usuario o la llave no son correctos (o esta cuenta no lee en su dispositivo)",
                "the login or the key is wrong (or this account does not read on its own device)",
            )
            .to_owned(),
            WrongPassphrase => t(
                lang,
                "la frase de paso no abre el archivo de llave",
                "the passphrase does not open the key file",
            )
            .to_owned(),
            PassphraseMismatch => t(
                lang,
                "las dos frases de paso no coinciden",
                "the two passphrases differ",
            )
            .to_owned(),
            WeakPassphrase => t(
                lang,
                "esa frase de paso es fácil de adivinar: usa al menos 12 caracteres, por ejemplo cuatro o cinco palabras al azar",
                "that passphrase is easy to guess: use at least 12 characters, for example four or five random words",
            )
            .to_owned(),
            KeyFileExists(p) => format!(
                "{p}: {}",
                t(
                    lang,
                    "ya existe; no se sobrescribe una llave",
                    "exists already; a key is never overwritten"
                )
            ),
            BadKeyFile(p) => format!(
                "{p}: {}",
                t(
                    lang,
                    "no es un archivo de llave de buzon",
                    "is not a buzon key file"
                )
            ),
            ThreadDoesNotOpen => t(
                lang,
                "las llaves de la conversación no abren (el servidor envió registros que no corresponden)",
                "the conversation's keys do not open (the server sent records that do not match)",
            )
            .to_owned(),
            ReaderKeyMismatch(name) => format!(
                "{} «{name}»",
                t(
                    lang,
                    "el servidor lista una persona lectora cuya llave no está en la lista firmada; no se envía nada:",
                    "the server lists a reader whose key is not in the signed list; nothing is sent:",
                )
            ),
            UnknownAdvisor(x) => format!(
                "{} «{x}»",
                t(
                    lang,
                    "ninguna persona asesora coincide con",
                    "no advisor matches"
                )
            ),
            AmbiguousAdvisor(x) => format!(
                "{} {x}. {}",
                t(lang, "varias personas coinciden con", "several people match"),
                t(
                    lang,
                    "Usa el identificador de la persona que buscas.",
                    "Use the id of the person you mean."
                )
            ),
            AdvisorReadsOnServer(x) => format!(
                "«{x}» {}",
                t(
                    lang,
                    "lee a través del servidor, y esta conversación es solo para quienes leen en su dispositivo",
                    "reads through the server, and this conversation is for people who read on their own device only",
                )
            ),
            NotShown(x) => format!(
                "«{x}» {}",
                t(
                    lang,
                    "no estaba entre quienes la persona que reporta dejó leer: no se le puede dar acceso",
                    "was not among those the reporter let read: they cannot be given access",
                )
            ),
            StillRead => t(
                lang,
                "Alguien de la institución todavía puede leer esta conversación: no hace falta dar acceso.",
                "Someone at the entity can still read this conversation: no access needs to be given.",
            )
            .to_owned(),
            NobodyReads => t(
                lang,
                "Nadie de la institución puede leer esta conversación ahora. Dale acceso a la coordinación actual con «buzon report grant».",
                "Nobody at the entity can read this conversation now. Give the current coordination access with «buzon report grant».",
            )
            .to_owned(),
            RotationPending => t(
                lang,
                "Alguien perdió el acceso a esta conversación y su llave debe cambiar antes de que se escriba algo más. Lo hace la coordinación o la persona que reporta cuando escribe; intenta de nuevo después.",
                "Someone lost access to this conversation and its key must change before anything more is written. A coordinator or the reporter does that when they write; try again afterwards.",
            )
            .to_owned(),
            AlreadyReader(x) => format!(
                "«{x}» {}",
                t(
                    lang,
                    "ya puede leer esta conversación",
                    "can already read this conversation"
                )
            ),
            NotAReader(x) => format!(
                "«{x}» {}",
                t(
                    lang,
                    "no lee esta conversación",
                    "does not read this conversation"
                )
            ),
            UnknownStatus(s) => format!(
                "{} «{s}»; {}: acknowledged, in_progress, answered, not_competent, closed, received",
                t(lang, "estado desconocido", "unknown status"),
                t(lang, "usa uno de", "use one of")
            ),
            BadThreadId(s) => format!(
                "{} «{s}» ({})",
                t(
                    lang,
                    "identificador de conversación no válido",
                    "bad conversation id"
                ),
                t(lang, "32 dígitos hexadecimales", "32 hex digits")
            ),
            AttachmentDamaged(name) => format!(
                "«{name}»: {}",
                t(
                    lang,
                    "el adjunto llegó incompleto o dañado; se borró lo descargado",
                    "the attachment arrived incomplete or damaged; what was downloaded was removed",
                )
            ),
            Seal => t(
                lang,
                "no se pudo cifrar (¿mensaje demasiado grande o llave rechazada?)",
                "cannot encrypt (message too large, or a key refused?)",
            )
            .to_owned(),
            Kdf => t(
                lang,
                "no se pudo derivar la llave (¿falta memoria?)",
                "cannot derive the key (out of memory?)",
            )
            .to_owned(),
        }
    }
}

/// English, for places that have no language at hand.
impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// A file error, naming the path.
    pub fn file(path: &std::path::Path, error: impl fmt::Display) -> ClientError {
        ClientError::File {
            path: path.display().to_string(),
            error: error.to_string(),
        }
    }
}
