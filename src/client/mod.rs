//! The command-line client of the JSON API (spec/api.md, "The client"):
//! every seal and every open happens here, on the person's own machine.
//!
//! Parties and what each learns:
//! - the **reporter** runs `buzon report …`. Their receipt is drawn,
//!   derived (Argon2id, spec/receipt.md) and shown here; it never crosses
//!   the network. The server receives the lookup handle (to read), the
//!   lookup index and the reporter's public key (at creation), and sealed
//!   records.
//! - **staff** who read on their own device (`buzon advisor …`,
//!   `buzon coordinator …`) keep their X25519 private key in a local file
//!   sealed under a passphrase ([`keyfile`]); the server only ever sees
//!   the public key and the records.
//! - the **server** cannot open anything it is sent. It can still lie in
//!   what it hands out: a coordinator key in the entity document (caught
//!   when the person pins the server key with `--server-key`, [`document`]),
//!   or a reader key in a thread view (checked against the signed document
//!   before any rotation or assignment, [`document::check_readers`]).
//!
//! Nothing here writes a file the person did not ask for: no known-servers
//! file, no cache, no log (a reporter's disk should not show which server
//! they used). Randomness comes through [`crate::platform::Entropy`], so
//! every record builder is testable with fixed bytes.
//!
//! Layout: pure record building and opening in [`records`], [`thread`] and
//! [`upload`]; the network in [`http`]; the flows that string them together
//! in [`reporter`], [`staff`] and [`rotate`]; terminal input in [`prompt`]; output in
//! [`show`].

pub mod audit;
pub mod document;
pub mod download;
pub mod error;
pub mod http;
pub mod keyfile;
pub mod lang;
pub mod prompt;
pub mod records;
pub mod reporter;
pub mod rotate;
pub mod session;
pub mod show;
pub mod staff;
pub mod thread;
pub mod upload;

pub use error::ClientError;
pub use lang::{Lang, t};
