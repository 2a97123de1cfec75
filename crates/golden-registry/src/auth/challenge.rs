//! `WWW-Authenticate` challenges (RFC 7235 syntax as registries send it):
//! `Bearer realm="https://r/oauth2/token",service="r",scope="repository:a:pull",error="..."`,
//! `Basic realm="registry"`.

use std::collections::HashMap;

/// What the registry asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `/v2/` answered without asking for credentials.
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        /// Scope the registry named for the refused request (informational).
        scope: Option<String>,
        /// `insufficient_scope`, `invalid_token`, ...
        error: Option<String>,
    },
}

/// Parse one header value. Several challenges in one header: Bearer wins over Basic.
pub(crate) fn parse(header: &str) -> Option<Challenge> {
    let mut found: Vec<(String, HashMap<String, String>)> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        // scheme
        let end = rest
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(rest.len());
        let scheme = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start_matches([' ', '\t', ',']);
        let mut params = HashMap::new();
        // params: key=value or key="quoted, value"
        while let Some(eq) = rest.find('=') {
            let key = rest[..eq].trim();
            if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == ',') {
                // the next token is a new scheme
                break;
            }
            let after = &rest[eq + 1..];
            let (value, remaining) = if let Some(q) = after.strip_prefix('"') {
                let mut out = String::new();
                let mut chars = q.char_indices();
                let mut end = q.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, n)) = chars.next() {
                                out.push(n);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => out.push(c),
                    }
                }
                (out, &q[end.min(q.len())..])
            } else {
                let e = after.find(',').unwrap_or(after.len());
                (after[..e].trim().to_string(), &after[e..])
            };
            params.insert(key.to_ascii_lowercase(), value);
            rest = remaining.trim_start_matches([' ', '\t', ',']);
        }
        found.push((scheme, params));
        if found.len() > 8 {
            break;
        }
    }
    let pick = found
        .iter()
        .find(|(s, p)| s == "bearer" && p.contains_key("realm"))
        .or_else(|| found.iter().find(|(s, _)| s == "basic"))?;
    match pick.0.as_str() {
        "bearer" => Some(Challenge::Bearer {
            realm: pick.1.get("realm").cloned().unwrap_or_default(),
            service: pick.1.get("service").cloned(),
            scope: pick.1.get("scope").cloned(),
            error: pick.1.get("error").cloned(),
        }),
        _ => Some(Challenge::Basic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_acr_and_distribution_challenges() {
        assert_eq!(
            parse(
                r#"Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io",scope="repository:a/b:pull,push",error="insufficient_scope""#
            ),
            Some(Challenge::Bearer {
                realm: "https://r.azurecr.io/oauth2/token".into(),
                service: Some("r.azurecr.io".into()),
                scope: Some("repository:a/b:pull,push".into()),
                error: Some("insufficient_scope".into()),
            })
        );
        assert_eq!(
            parse(r#"Basic realm="golden-registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse(r#"Basic realm="x", Bearer realm="http://127.0.0.1:9/t",service=s"#),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:9/t".into(),
                service: Some("s".into()),
                scope: None,
                error: None,
            })
        );
        assert_eq!(parse("Negotiate"), None);
        assert_eq!(parse(""), None);
        // escaped quote inside a quoted value
        match parse(r#"Bearer realm="https://a/t",service="s\"q""#) {
            Some(Challenge::Bearer { service, .. }) => assert_eq!(service.as_deref(), Some("s\"q")),
            other => panic!("{other:?}"),
        }
    }
}
