//! Reading what the person types: secrets (receipt, passphrase) without
//! echo on a terminal, and the message text.
//!
//! When standard input is not a terminal, a secret is the next line of
//! standard input and the message is the rest of it, so a script (or a
//! test) can pipe `receipt\nmessage`. Everything read is wiped on drop.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use zeroize::Zeroizing;

use super::error::ClientError;
use super::lang::{Lang, t};
use super::records::MESSAGE_CHARS;

/// Most bytes read as a message: every character at most four bytes.
const MESSAGE_BYTES: u64 = (MESSAGE_CHARS as u64) * 4 + 16;

fn input_error(e: impl std::fmt::Display) -> ClientError {
    ClientError::Input(e.to_string())
}

/// Drops one line ending.
fn chomp(mut s: String) -> Zeroizing<String> {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Zeroizing::new(s)
}

/// A secret: asked on the terminal without echo, or the next line of
/// standard input when it is not a terminal.
pub fn secret_line(prompt: &str) -> Result<Zeroizing<String>, ClientError> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(input_error)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(input_error)?;
        Ok(chomp(line))
    }
}

/// A new passphrase, asked twice on a terminal (once from a pipe); a weak
/// one is refused before it is asked again.
pub fn new_passphrase(lang: Lang) -> Result<Zeroizing<String>, ClientError> {
    let first = secret_line(t(
        lang,
        "Frase de paso para la llave (no se muestra): ",
        "Passphrase for the key (not shown): ",
    ))?;
    super::keyfile::check_passphrase(&first)?;
    if std::io::stdin().is_terminal() {
        let again = secret_line(t(lang, "Repítela: ", "Again: "))?;
        if *again != *first {
            return Err(ClientError::PassphraseMismatch);
        }
    }
    Ok(first)
}

fn bytes_to_text(bytes: Vec<u8>) -> Result<Zeroizing<String>, ClientError> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(trim_end_lines(s)),
        Err(e) => {
            let _wiped = Zeroizing::new(e.into_bytes());
            Err(ClientError::Input("UTF-8".into()))
        }
    }
}

/// A file's or a pipe's last line ending is not part of the message.
fn trim_end_lines(mut s: String) -> Zeroizing<String> {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    Zeroizing::new(s)
}

fn read_capped(mut r: impl Read) -> Result<Zeroizing<String>, ClientError> {
    let mut bytes = Vec::new();
    r.by_ref()
        .take(MESSAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(input_error)?;
    if bytes.len() as u64 > MESSAGE_BYTES {
        let _wiped = Zeroizing::new(bytes);
        return Err(ClientError::MessageTooLong {
            limit: MESSAGE_CHARS,
        });
    }
    bytes_to_text(bytes)
}

/// The message: from `file` when given, else the rest of standard input
/// (after any secret line already read).
pub fn message(file: Option<&Path>, lang: Lang) -> Result<Zeroizing<String>, ClientError> {
    match file {
        Some(path) => {
            let f = std::fs::File::open(path).map_err(|e| ClientError::file(path, e))?;
            read_capped(f)
        }
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!(
                    "{}",
                    t(
                        lang,
                        "Escribe el mensaje; termina con Ctrl-D en una línea sola:",
                        "Write the message; end it with Ctrl-D on a line of its own:",
                    )
                );
            }
            read_capped(std::io::stdin().lock())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_are_dropped_but_nothing_else() {
        assert_eq!(chomp("uno dos\r\n".into()).as_str(), "uno dos");
        assert_eq!(chomp("  tres \n".into()).as_str(), "  tres ");
        assert_eq!(
            read_capped(&b"hola\n\nmundo\n\n"[..]).unwrap().as_str(),
            "hola\n\nmundo"
        );
        assert!(matches!(
            read_capped(&vec![b'a'; MESSAGE_BYTES as usize + 1][..]),
            Err(ClientError::MessageTooLong { .. })
        ));
        assert!(matches!(
            read_capped(&[0xff, 0xfe][..]),
            Err(ClientError::Input(_))
        ));
    }
}
