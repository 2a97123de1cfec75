//! Escaping of untrusted text (package names, vulnerability titles, evidence, image names, build
//! output) for GitHub-flavoured Markdown.
//!
//! Untrusted text must not be able to:
//! - break a table (`|`, newlines),
//! - inject HTML or hide text (`<`, `>`, `&`, HTML comments such as our own marker),
//! - notify people or cross-reference issues (`@user`, `@org/team`, `#123`, `owner/repo#1`),
//! - add links or images (`[x](y)`, `![x](y)`, `<https://...>`),
//! - open code spans or emphasis (`` ` ``, `*`, `_`, `~`),
//! - reorder text with bidirectional controls (Trojan-Source style) or smuggle control bytes.
//!
//! Architecture invariant: every byte of untrusted text that reaches a comment, summary, issue or
//! Markdown report (golden-report, golden-scan's `report.md`, golden-plan's summary) goes through
//! [`md`] (Markdown context, table cells included) or [`html`] (inside an HTML element such as
//! `<summary>`). The output of both never contains a raw `<`, so a hostile string can never
//! forge the hidden marker of a sticky comment.

/// Zero-width joiner inserted after `@` and `#` so GitHub links no user, team or issue.
pub const ZWJ: char = '\u{200D}';

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that are replaced before any other escaping: line breaks become spaces (a table row
/// is one line), other control characters and bidirectional overrides become U+FFFD.
fn normalise(c: char) -> Option<char> {
    match c {
        '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' | '\u{0085}' => Some(' '),
        c if c.is_control() || is_bidi_control(c) => Some('\u{FFFD}'),
        _ => None,
    }
}

/// Escape untrusted text for a Markdown inline context (table cell, list item, paragraph).
///
/// The result is a single line. Every ASCII punctuation character that has an inline meaning in
/// GitHub Markdown is backslash-escaped (`|` becomes `\|`, which GitHub tables require; `$` opens
/// math), `<`, `>` and `&` become entities, `@` / `#` get a zero-width joiner so no mention or
/// reference fires, and a leading `-`, `+` or `=` is escaped so the text can never start a block.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        if let Some(r) = normalise(c) {
            out.push(r);
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' | '#' => {
                out.push(c);
                out.push(ZWJ);
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // Block markers only matter at the start of a line; escape them there in case the
            // text ever starts one.
            '-' | '+' | '=' if out.is_empty() => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    no_autolinks(&out)
}

/// GitHub turns bare `http://...`, `https://...` and `www....` into links; a zero-width joiner
/// before `://` and after `www` keeps untrusted text from becoming clickable.
fn no_autolinks(s: &str) -> String {
    if !s.contains("://") && !s.to_ascii_lowercase().contains("www.") {
        return s.to_string();
    }
    let s = s.replace("://", &format!("{ZWJ}://"));
    let mut out = String::with_capacity(s.len() + 8);
    let lower = s.to_ascii_lowercase();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("www.") {
        let at = i + pos;
        out.push_str(&s[i..at + 3]);
        out.push(ZWJ);
        i = at + 3;
    }
    out.push_str(&s[i..]);
    out
}

/// Escape untrusted text placed inside an HTML element (`<summary>...</summary>`), where Markdown
/// is not interpreted but entities and mentions are.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if let Some(r) = normalise(c) {
            out.push(r);
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '@' | '#' => {
                out.push(c);
                out.push(ZWJ);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Shorten to at most `max` characters, ending with `…` when cut. Counts `char`s, never splits one.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let mut s: String = text.chars().take(keep).collect();
    s.push('…');
    s
}

/// A URL that is safe to put inside `[text](url)`: `https://` or `http://`, no whitespace, no
/// characters that could end the link or open HTML. Anything else is not linked.
pub fn safe_url(url: &str) -> Option<&str> {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) || url.len() > 500 {
        return None;
    }
    let ok = url.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.' | '_' | '~' | ':' | '/' | '?' | '#' | '=' | '&' | '%' | '+' | ',' | ';'
            )
    });
    ok.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "evil|pkg\n<img src=x onerror=alert(1)>@octocat [x](http://e) ![i](http://e/i.png) `code` <!-- golden-report:x --> #12 a&b \u{202E}rev";

    #[test]
    fn md_neutralises_every_construct() {
        let s = md(HOSTILE);
        assert!(!s.contains('\n'));
        assert!(!s.contains('<'), "{s}");
        assert!(!s.contains("@octocat"), "{s}");
        assert!(s.contains(&format!("@{ZWJ}octocat")));
        assert!(!s.contains("](") && !s.contains("!["), "{s}");
        assert!(!s.contains("#12"));
        assert!(!s.contains('\u{202E}'));
        // every `|` and backtick is escaped
        let bytes: Vec<char> = s.chars().collect();
        for (i, c) in bytes.iter().enumerate() {
            if *c == '|' || *c == '`' || *c == '[' {
                assert_eq!(bytes[i - 1], '\\', "unescaped {c} in {s}");
            }
        }
        assert!(s.contains("a&amp;b"));
    }

    #[test]
    fn bare_urls_do_not_become_links() {
        let s = md("see https://evil.example/x and WWW.evil.example");
        assert!(
            !s.contains("https://") && !s.to_ascii_lowercase().contains("www."),
            "{s}"
        );
        assert!(s.contains(&format!("https{ZWJ}://evil")));
        assert_eq!(md("no link"), "no link");
    }

    #[test]
    fn html_context_escapes_entities_and_mentions() {
        let s = html("<b>\"x\"</b> @team/devs & #1");
        assert_eq!(
            s,
            format!("&lt;b&gt;&quot;x&quot;&lt;/b&gt; @{ZWJ}team/devs &amp; #{ZWJ}1")
        );
    }

    #[test]
    fn ids_stay_readable() {
        assert_eq!(md("CVE-2024-1234"), "CVE-2024-1234");
        assert_eq!(md("1.2.3-r0+deb12u1"), "1.2.3-r0+deb12u1");
        assert_eq!(md("a|b_c"), "a\\|b\\_c");
        assert_eq!(md("- item"), "\\- item");
        assert_eq!(md("$x$"), "\\$x\\$");
    }

    #[test]
    fn truncate_counts_chars() {
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn urls_are_linked_only_when_harmless() {
        assert!(safe_url("https://avd.aquasec.com/nvd/cve-2024-1234").is_some());
        assert!(safe_url("javascript:alert(1)").is_none());
        assert!(safe_url("https://e.com/a)b").is_none());
        assert!(safe_url("https://e.com/<x>").is_none());
        assert!(safe_url("https://e.com/a b").is_none());
    }
}
