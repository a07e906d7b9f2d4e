//! Attachment names and types as every path stores them (spec/envelope.md,
//! "Attachment record"): the pages' upload, and the command-line client,
//! which seals them on the reporter's machine.

/// Keeps a file name printable and short: it is shown to readers and used
/// in a download header.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    // Control characters, quotes and bidirectional overrides go: a name
    // like "factura\u{202E}txt.exe" would display as "facturaexe.txt".
    let kept: Vec<char> = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && *c != '"'
                && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    // A long name is cut in its middle, keeping a short extension.
    let cleaned: String = if kept.len() > 120 {
        let dot = kept.iter().rposition(|c| *c == '.');
        let ext_len = dot
            .map(|d| kept.len() - d)
            .filter(|n| *n <= 16)
            .unwrap_or(0);
        let ext_start = kept.len() - ext_len;
        kept.iter()
            .take(120 - ext_len)
            .chain(kept.iter().skip(ext_start))
            .collect()
    } else {
        kept.into_iter().collect()
    };
    if cleaned.trim().is_empty() {
        "archivo".to_owned()
    } else {
        cleaned
    }
}

pub fn clean_type(t: &str) -> String {
    let ok = t.len() <= 100
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/.+-_".contains(c));
    if ok && t.contains('/') {
        t.to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_direction_overrides() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\\b\\c.txt"), "c.txt");
        assert_eq!(clean_name("factura\u{202E}txt.exe"), "facturatxt.exe");
        assert_eq!(clean_name("\"\n"), "archivo");
        let long = format!("{}.pdf", "a".repeat(300));
        let c = clean_name(&long);
        assert_eq!(c.chars().count(), 120);
        assert!(c.ends_with(".pdf"));
    }

    #[test]
    fn types_are_kept_only_when_plain() {
        assert_eq!(clean_type("application/pdf"), "application/pdf");
        assert_eq!(
            clean_type("text/html; charset=x"),
            "application/octet-stream"
        );
        assert_eq!(clean_type("pdf"), "application/octet-stream");
    }
}
