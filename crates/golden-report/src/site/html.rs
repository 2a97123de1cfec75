//! The HTML primitives of the catalog: the one escaping function every untrusted string goes
//! through ([`esc`]), the one link filter ([`href`]), and the page shell with its
//! Content-Security-Policy, computed from the exact inline style and script it carries.
//!
//! Architecture invariant: no text from a document reaches a page except through [`esc`] (or
//! [`href`] for a link target, which escapes too); pages carry no inline event handler and no
//! `style` attribute, so the CSP can allow exactly the one stylesheet and the one script by hash.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The stylesheet inlined in every page (its hash goes into the CSP).
pub const CSS: &str = include_str!("assets/site.css");
/// The script inlined in every page: filtering, search, sorting and copy buttons only; every
/// page is complete without it.
pub const JS: &str = include_str!("assets/site.js");

/// Escape text for an HTML element body or a double- or single-quoted attribute value.
/// Control characters (other than tab and newline) and bidirectional overrides are replaced, so
/// a finding cannot reorder what a reader sees.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' => {
                out.push('\u{FFFD}')
            }
            _ => out.push(c),
        }
    }
    out
}

/// A link target from a document, escaped for an attribute: only `https://` and `http://` URLs
/// made of URL characters ([`golden_gha::markdown::safe_url`]); anything else (`javascript:`,
/// `data:`, relative paths) is not linked.
pub fn href(url: &str) -> Option<String> {
    golden_gha::markdown::safe_url(url).map(esc)
}

/// `<a href="URL">text</a>` when the URL is safe, else the text alone; both escaped. (Every
/// page's `referrer` meta is `no-referrer`: a reader following a finding's link does not tell
/// the target where from.)
pub fn link_or_text(url: Option<&str>, text: &str) -> String {
    match url.and_then(href) {
        Some(h) => format!("<a href=\"{h}\">{}</a>", esc(text)),
        None => esc(text),
    }
}

/// The `sha256-...` CSP source of an inline element's exact text.
pub fn csp_hash(content: &str) -> String {
    let d = Sha256::digest(content.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(d)
    )
}

/// The Content-Security-Policy of every page: nothing may be fetched (`default-src 'none'`),
/// only the inline stylesheet and script with these exact hashes run, images only as `data:`
/// (the charts are inline SVG elements), no form posts, no `<base>` rewriting.
pub fn csp() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(CSS),
        csp_hash(JS)
    )
}

/// A whole page. `root` is the relative path back to the site root (`""` or `"../"`), so the
/// site works from `file://` and under any sub-path; `body` is already-escaped HTML.
pub fn page(title: &str, root: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n\
<meta name=\"color-scheme\" content=\"light dark\">\n\
<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
<a class=\"skip\" href=\"#main\">Skip to content</a>\n\
<header class=\"top\"><a href=\"{root}index.html\">Golden image catalog</a></header>\n\
<main id=\"main\">\n{body}</main>\n<script>{JS}</script>\n</body>\n</html>\n",
        csp = esc(&csp()),
        title = esc(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_neutralises_markup_quotes_and_bidi() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{202E}b\u{0}c"), "a\u{FFFD}b\u{FFFD}c");
    }

    #[test]
    fn only_web_urls_are_linked() {
        assert_eq!(href("javascript:alert(1)"), None);
        assert_eq!(href("JaVaScRiPt:alert(1)"), None);
        assert_eq!(href("data:text/html,x"), None);
        assert_eq!(href("https://a.example/x\"onmouseover=1"), None);
        assert_eq!(
            href("https://a.example/x?a=1&b=2").as_deref(),
            Some("https://a.example/x?a=1&amp;b=2")
        );
        assert_eq!(
            link_or_text(Some("javascript:alert(1)"), "<b>"),
            "&lt;b&gt;"
        );
    }

    #[test]
    fn the_csp_names_the_exact_inline_assets() {
        let c = csp();
        assert!(c.starts_with("default-src 'none';"));
        assert!(c.contains(&csp_hash(JS)) && c.contains(&csp_hash(CSS)));
        assert!(!c.contains("unsafe"));
        // The page carries exactly the hashed texts.
        let p = page("t", "", "<p>x</p>");
        assert!(p.contains(&format!("<script>{JS}</script>")));
        assert!(p.contains(&format!("<style>{CSS}</style>")));
    }
}
