//! Registry credentials the engine sends on for a pull (`X-Registry-Auth`).

use golden_registry::Secret;

/// Credentials for the registry an engine pull talks to. The engine itself contacts the
/// registry; this is what it is told to log in with. `Debug` never shows a secret ([`Secret`]
/// prints `***`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    /// A `docker login` username and password (an ACR refresh token is the password of the
    /// null-GUID user, as `docker login` sends it).
    Password {
        /// Registry host (`serveraddress`), e.g. `127.0.0.1:5000`.
        server: String,
        username: String,
        password: Secret,
    },
    /// A registry access token the engine sends as `Authorization: Bearer` (`registrytoken`).
    Token {
        /// Registry host (`serveraddress`).
        server: String,
        token: Secret,
    },
}

/// The content of `X-Registry-Auth` for `auth` (the one place a secret leaves [`Secret`]).
pub(crate) fn docker_credentials(auth: RegistryAuth) -> bollard::auth::DockerCredentials {
    match auth {
        RegistryAuth::Password {
            server,
            username,
            password,
        } => bollard::auth::DockerCredentials {
            username: Some(username),
            password: Some(password.expose().to_string()),
            serveraddress: Some(server),
            ..Default::default()
        },
        RegistryAuth::Token { server, token } => bollard::auth::DockerCredentials {
            registrytoken: Some(token.expose().to_string()),
            serveraddress: Some(server),
            ..Default::default()
        },
    }
}

/// The engine reads `X-Registry-Auth` as URL-safe base64 and, for a pull, silently drops a
/// header it cannot decode (an anonymous pull, then a 401). bollard encodes with the standard
/// alphabet, which differs in `+` and `/` (a password holding `?`, `>` or `~` produces them):
/// translate the header, and mark it sensitive.
pub(crate) fn url_safe_registry_auth(
    mut request: bollard::BollardRequest,
) -> bollard::BollardRequest {
    if let Some(value) = request.headers_mut().get_mut("x-registry-auth") {
        let fixed = value
            .to_str()
            .ok()
            .map(|s| s.replace('+', "-").replace('/', "_"));
        if let Some(fixed) = fixed
            && let Ok(v) = fixed.try_into()
        {
            *value = v;
        }
        value.set_sensitive(true);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_become_the_docker_login_json() {
        let c = docker_credentials(RegistryAuth::Password {
            server: "r".into(),
            username: "u".into(),
            password: Secret::new("p"),
        });
        assert_eq!(
            c,
            bollard::auth::DockerCredentials {
                username: Some("u".into()),
                password: Some("p".into()),
                serveraddress: Some("r".into()),
                ..Default::default()
            }
        );
        let c = docker_credentials(RegistryAuth::Token {
            server: "r".into(),
            token: Secret::new("at"),
        });
        assert_eq!(
            c,
            bollard::auth::DockerCredentials {
                registrytoken: Some("at".into()),
                serveraddress: Some("r".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let a = RegistryAuth::Password {
            server: "r".into(),
            username: "u".into(),
            password: Secret::new("hunter2-engine"),
        };
        let t = RegistryAuth::Token {
            server: "r".into(),
            token: Secret::new("hunter2-token"),
        };
        let shown = format!("{a:?} {t:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn x_registry_auth_becomes_url_safe_base64() {
        use base64::Engine as _;
        // `?~>` in every position: one of them lands where standard base64 writes `+` or `/`.
        let json = r#"{"username":"u","password":"p?~>?~>"}"#;
        let standard = base64::engine::general_purpose::STANDARD.encode(json);
        assert!(standard.contains(['+', '/']), "{standard}");
        let mut req = bollard::BollardRequest::new(bollard::body_full(bytes::Bytes::new()));
        req.headers_mut()
            .insert("x-registry-auth", standard.as_str().try_into().unwrap());
        let req = url_safe_registry_auth(req);
        let v = req.headers().get("x-registry-auth").unwrap();
        assert!(v.is_sensitive());
        let sent = v.to_str().unwrap();
        assert!(!sent.contains(['+', '/']), "{sent}");
        let decoded = base64::engine::general_purpose::URL_SAFE
            .decode(sent)
            .unwrap();
        assert_eq!(decoded, json.as_bytes());
    }
}
