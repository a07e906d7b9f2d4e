//! Saving a thread's attachments (spec/api.md, "Reading a thread"): each
//! chunk is fetched, opened here and appended to a new file, so a large
//! file is never held whole in memory.
//!
//! The name comes from inside the seal, written by another party of the
//! thread: it is reduced to a plain base name before it touches the disk
//! (no directories, no `..`, no hidden file, no control characters), and
//! an existing file is never overwritten. Files are created readable by
//! their owner only. A download that fails or does not add up to the
//! recorded size is removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::ClientError;
use super::http::Api;
use super::thread::OpenedThread;
use super::upload::clean_name;
use crate::core::envelope::Id;

/// A name safe to create inside a chosen directory.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = clean_name(name)
        .chars()
        .map(|c| match c {
            '<' | '>' | ':' | '|' | '?' | '*' | '/' | '\\' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        "archivo".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// `dir/name`, or `dir/stem (2).ext`, … for the first that does not exist.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2u32..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Downloads, opens and writes one attachment into `dir`; returns the path.
pub async fn save(
    api: &Api,
    opened: &OpenedThread,
    att: Id,
    dir: &Path,
) -> Result<PathBuf, ClientError> {
    let meta = opened
        .attachment(att)
        .ok_or(ClientError::ThreadDoesNotOpen)?;
    let name = safe_file_name(&meta.name);
    std::fs::create_dir_all(dir).map_err(|e| ClientError::file(dir, e))?;
    let path = free_path(dir, &name);
    let mut file = create_new(&path).map_err(|e| ClientError::file(&path, e))?;
    let result = async {
        let mut written: u64 = 0;
        for index in 0..meta.chunks {
            let record = api
                .get_bytes(&format!(
                    "/api/v1/threads/{}/attachments/{}/chunks/{index}",
                    opened.id().hex(),
                    att.hex()
                ))
                .await?;
            let data = opened
                .open_chunk(att, index, &record)
                .map_err(|_| ClientError::AttachmentDamaged(name.clone()))?;
            file.write_all(data.expose())
                .map_err(|e| ClientError::file(&path, e))?;
            written += data.expose().len() as u64;
        }
        if written != meta.size {
            return Err(ClientError::AttachmentDamaged(name.clone()));
        }
        file.sync_all().map_err(|e| ClientError::file(&path, e))
    }
    .await;
    match result {
        Ok(()) => Ok(path),
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_seal_stay_inside_the_directory() {
        assert_eq!(safe_file_name("../../.bashrc"), "bashrc");
        assert_eq!(safe_file_name(".."), "archivo");
        assert_eq!(safe_file_name("C:\\Windows\\system.ini"), "system.ini");
        assert_eq!(safe_file_name("a:b?.txt"), "a_b_.txt");
        assert_eq!(safe_file_name("informe.pdf"), "informe.pdf");
        assert_eq!(safe_file_name("nombre. "), "nombre");
    }

    #[test]
    fn an_existing_file_is_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"x").unwrap();
        std::fs::write(dir.path().join("a (2).txt"), b"x").unwrap();
        assert_eq!(free_path(dir.path(), "a.txt"), dir.path().join("a (3).txt"));
        assert_eq!(free_path(dir.path(), "b"), dir.path().join("b"));
        std::fs::write(dir.path().join("b"), b"x").unwrap();
        assert_eq!(free_path(dir.path(), "b"), dir.path().join("b (2)"));
    }
}
