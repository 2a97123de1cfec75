//! Fake GitHub OIDC, Entra ID and GitHub REST endpoints.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use hyper::Request;
use serde_json::{Map, Value, json};

use crate::http::{self, Reply, field, form};
use crate::journal::Journal;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The audience GitHub's OIDC token is requested for when it is exchanged at Entra.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The scope of an ACR access token at Entra.
pub const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";
/// `client_assertion_type` of a federated credential.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Tokens shared between the fakes: what one issues, the next accepts.
#[derive(Default)]
pub struct Tokens {
    /// GitHub OIDC tokens issued (Entra accepts them as client assertions).
    pub oidc: Vec<String>,
}

/// GitHub's OIDC endpoint: `GET <path>?api-version=2.0&audience=...` with the request token.
pub mod oidc {
    use super::*;

    /// The path `ACTIONS_ID_TOKEN_REQUEST_URL` points at.
    pub const PATH: &str = "/_apis/pipelines/1/runs/7/idtoken";

    /// Answer one request.
    pub fn handle(
        request_token: &str,
        repository: &str,
        tokens: &Mutex<Tokens>,
        journal: &Journal,
        req: &Request<Bytes>,
    ) -> Reply {
        let q = form(req.uri().query().unwrap_or(""));
        let auth_ok =
            http::header(req, "authorization") == Some(&format!("Bearer {request_token}"));
        let (ok, note, reply) = if req.method() != "GET" || req.uri().path() != PATH {
            (
                false,
                "unexpected request".to_string(),
                http::reply(404, "not found"),
            )
        } else if !auth_ok {
            (
                false,
                "wrong or missing request token".into(),
                http::reply(401, "bad request token"),
            )
        } else if field(&q, "api-version") != Some("2.0")
            || field(&q, "audience") != Some(AZURE_AUDIENCE)
        {
            (
                false,
                "wrong api-version or audience".into(),
                http::reply(400, "wrong api-version or audience"),
            )
        } else {
            let claims = json!({"sub": format!("repo:{repository}:ref:refs/heads/main"), "aud": AZURE_AUDIENCE,
                                "iss": "https://token.actions.githubusercontent.com", "jti": crate::token("oidc")});
            use base64::Engine as _;
            let b =
                |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let jwt = format!(
                "{}.{}.{}",
                b(&json!({"alg": "RS256", "typ": "JWT"})),
                b(&claims),
                crate::token("sig")
            );
            journal.secret(&jwt);
            lock(tokens).oidc.push(jwt.clone());
            (
                true,
                "OIDC token issued".into(),
                http::json(200, &json!({"count": 1, "value": jwt})),
            )
        };
        let fields = json!({"query": q.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()});
        journal.record(
            "oidc",
            req.method().as_str(),
            req.uri().path(),
            ok,
            &note,
            fields,
        );
        reply
    }
}

/// Entra ID's token endpoint: `POST /<tenant>/oauth2/v2.0/token` with the exact
/// client-assertion form (client id, client_credentials, ACR scope, a GitHub OIDC token).
pub mod entra {
    use super::*;

    /// Answer one request; an accepted token is passed to `accept` (the ACR exchange's list).
    pub fn handle(
        tenant: &str,
        client_id: &str,
        tokens: &Mutex<Tokens>,
        journal: &Journal,
        accept: &dyn Fn(&str),
        req: &Request<Bytes>,
    ) -> Reply {
        let f = form(&String::from_utf8_lossy(req.body()));
        let mut keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        let want_keys = [
            "client_assertion",
            "client_assertion_type",
            "client_id",
            "grant_type",
            "scope",
        ];
        let assertion_ok =
            field(&f, "client_assertion").is_some_and(|a| lock(tokens).oidc.iter().any(|t| t == a));
        let (ok, note, reply) = if req.method() != "POST"
            || req.uri().path() != format!("/{tenant}/oauth2/v2.0/token")
        {
            (
                false,
                "unexpected request (wrong tenant or path)".to_string(),
                invalid("AADSTS90002: Tenant not found."),
            )
        } else if http::header(req, "content-type") != Some("application/x-www-form-urlencoded") {
            (
                false,
                "not a form".into(),
                invalid("AADSTS900144: the request body must be a form"),
            )
        } else if keys != want_keys {
            (
                false,
                format!("unexpected form fields {keys:?}"),
                invalid("AADSTS900144: unexpected fields"),
            )
        } else if field(&f, "client_id") != Some(client_id) {
            (
                false,
                "unknown client id".into(),
                invalid("AADSTS700016: Application not found in the directory."),
            )
        } else if field(&f, "grant_type") != Some("client_credentials")
            || field(&f, "scope") != Some(ACR_SCOPE)
            || field(&f, "client_assertion_type") != Some(JWT_BEARER)
        {
            (
                false,
                "wrong grant, scope or assertion type".into(),
                invalid("AADSTS70003: unsupported grant"),
            )
        } else if !assertion_ok {
            (
                false,
                "client assertion is not a GitHub OIDC token this kit issued".into(),
                invalid("AADSTS700211: No matching federated identity record found."),
            )
        } else {
            let t = crate::token("entra-access");
            journal.secret(&t);
            accept(&t);
            (
                true,
                "Entra access token issued".into(),
                http::json(
                    200,
                    &json!({"token_type": "Bearer", "expires_in": 3599, "access_token": t}),
                ),
            )
        };
        let fields = json!(f.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>());
        journal.record(
            "entra",
            req.method().as_str(),
            req.uri().path(),
            ok,
            &note,
            fields,
        );
        reply
    }

    fn invalid(desc: &str) -> Reply {
        http::json(
            401,
            &json!({"error": "invalid_client", "error_description": desc}),
        )
    }
}

/// The GitHub REST calls golden-report makes, on one repository, with one token.
pub mod github {
    use super::*;

    /// The repository's issues, comments, labels and pull requests.
    #[derive(Default)]
    pub struct Repo {
        issues: Vec<Value>,
        comments: Vec<Value>,
        labels: Vec<Value>,
        pulls: Map<String, Value>,
        next_comment: u64,
    }

    /// The fake API.
    pub struct Api {
        /// `owner/repo` it serves.
        pub repository: String,
        /// The token it accepts (`Authorization: Bearer` or `token`).
        pub token: String,
        /// The token of the `/_testkit` control routes (scenarios set pull-request heads).
        pub control_token: String,
        /// Where the state is written after every change (`github.json`).
        pub state_file: Option<PathBuf>,
        repo: Mutex<Repo>,
    }

    const BOT: &str = "github-actions[bot]";

    impl Api {
        /// An empty repository.
        pub fn new(
            repository: &str,
            token: &str,
            control_token: &str,
            state_file: Option<PathBuf>,
        ) -> Api {
            Api {
                repository: repository.into(),
                token: token.into(),
                control_token: control_token.into(),
                state_file,
                repo: Mutex::new(Repo {
                    next_comment: 1_000,
                    ..Repo::default()
                }),
            }
        }

        fn save(&self, r: &Repo) {
            if let Some(p) = &self.state_file {
                let v = json!({"issues": r.issues, "comments": r.comments, "labels": r.labels, "pulls": r.pulls});
                let tmp = p.with_extension("tmp");
                let res = std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap_or_default())
                    .and_then(|()| std::fs::rename(&tmp, p));
                if let Err(e) = res {
                    eprintln!("golden-testkit: cannot write {}: {e}", p.display());
                }
            }
        }

        /// Answer one request.
        pub fn handle(&self, journal: &Journal, req: &Request<Bytes>) -> Reply {
            let method = req.method().as_str().to_string();
            let path = req.uri().path().to_string();
            let query = form(req.uri().query().unwrap_or(""));
            let body: Option<Value> = if req.body().is_empty() {
                None
            } else {
                serde_json::from_slice(req.body()).ok()
            };
            let (ok, note, reply) = self.answer(&method, &path, &query, body.as_ref(), req);
            let fields = json!({"query": query.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(), "body": body});
            journal.record("github", &method, &path, ok, &note, fields);
            reply
        }

        fn answer(
            &self,
            method: &str,
            path: &str,
            query: &[(String, String)],
            body: Option<&Value>,
            req: &Request<Bytes>,
        ) -> Answer {
            let auth = http::header(req, "authorization").unwrap_or_default();
            if let Some(rest) = path.strip_prefix("/_testkit/pulls/") {
                if auth != format!("Bearer {}", self.control_token) {
                    return (
                        false,
                        "control route without the control token".into(),
                        unauthorized(),
                    );
                }
                return self.set_pull_head(rest, body);
            }
            let token_ok =
                auth == format!("Bearer {}", self.token) || auth == format!("token {}", self.token);
            if !token_ok {
                return (false, "missing or wrong token".into(), unauthorized());
            }
            if method == "GET" && path == "/user" {
                return user();
            }
            let prefix = format!("/repos/{}/", self.repository);
            let Some(rest) = path.strip_prefix(&prefix) else {
                return (false, "another repository".into(), not_found());
            };
            let seg: Vec<&str> = rest.split('/').collect();
            let mut r = lock(&self.repo);
            let res = match (method, seg.as_slice()) {
                ("GET", ["issues", n, "comments"]) => list_comments(&r, n),
                ("POST", ["issues", n, "comments"]) => self.create_comment(&mut r, n, body),
                ("PATCH", ["issues", "comments", id]) => update_comment(&mut r, id, body),
                ("GET", ["pulls", n]) => get_pull(&r, n),
                ("GET", ["issues"]) => list_issues(&r, query),
                ("GET", ["labels", name]) => get_label(&r, name),
                ("POST", ["labels"]) => create_label(&mut r, body),
                ("POST", ["issues"]) => self.create_issue(&mut r, body),
                ("PATCH", ["issues", n]) => update_issue(&mut r, n, body),
                _ => (false, "unexpected request".into(), not_found()),
            };
            if res.0 && method != "GET" {
                self.save(&r);
            }
            res
        }

        /// `POST /_testkit/pulls/N` (control token already checked): sets pull N's head.
        fn set_pull_head(&self, rest: &str, body: Option<&Value>) -> Answer {
            let sha = body
                .and_then(|b| b.get("sha"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Ok(n) = rest.parse::<u64>() else {
                return (false, "bad pull number".into(), not_found());
            };
            let mut r = lock(&self.repo);
            r.pulls.insert(
                n.to_string(),
                json!({"number": n, "state": "open", "head": {"sha": sha}}),
            );
            self.save(&r);
            (
                true,
                format!("pull {n} head set"),
                http::json(200, &json!({"ok": true})),
            )
        }

        /// `POST issues/N/comments`.
        fn create_comment(&self, r: &mut Repo, n: &str, body: Option<&Value>) -> Answer {
            match body_text(body, &["body"]) {
                Err(e) => (false, e, unprocessable()),
                Ok(text) => {
                    let n = num(n);
                    if !r.issues.iter().any(|i| i["number"] == json!(n))
                        && !r.pulls.contains_key(&n.to_string())
                    {
                        (false, format!("no issue or pull #{n}"), not_found())
                    } else {
                        r.next_comment += 1;
                        let id = r.next_comment;
                        let c = json!({"id": id, "issue": n, "body": text, "user": {"login": BOT, "type": "Bot"},
                                       "html_url": format!("https://github.com/{}/issues/{n}#issuecomment-{id}", self.repository)});
                        r.comments.push(c.clone());
                        (
                            true,
                            format!("comment {id} created on #{n}"),
                            http::json(201, &public_comment(&c)),
                        )
                    }
                }
            }
        }

        /// `POST issues`.
        fn create_issue(&self, r: &mut Repo, body: Option<&Value>) -> Answer {
            match body.and_then(Value::as_object) {
                Some(o)
                    if o.get("title")
                        .and_then(Value::as_str)
                        .is_some_and(|t| !t.is_empty() && t.len() <= 256)
                        && o.get("body").is_none_or(Value::is_string)
                        && o.get("labels").is_none_or(|l| {
                            l.as_array().is_some_and(|a| a.iter().all(Value::is_string))
                        })
                        && o.keys()
                            .all(|k| ["title", "body", "labels"].contains(&k.as_str())) =>
                {
                    let n = (r.issues.len() + r.pulls.len() + 1) as u64;
                    let labels: Vec<Value> = o
                        .get("labels")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|l| json!({"name": l}))
                        .collect();
                    let i = json!({"number": n, "title": o["title"], "body": o.get("body").cloned().unwrap_or(Value::Null),
                                   "state": "open", "labels": labels, "user": {"login": BOT, "type": "Bot"},
                                   "html_url": format!("https://github.com/{}/issues/{n}", self.repository)});
                    r.issues.push(i.clone());
                    (true, format!("issue #{n} opened"), http::json(201, &i))
                }
                _ => (
                    false,
                    "issue needs a title (<= 256) and only title, body, labels".into(),
                    unprocessable(),
                ),
            }
        }
    }

    /// What a route answers: success, the journal note, the reply.
    type Answer = (bool, String, Reply);

    /// `GET /user`: the Actions token has no user.
    fn user() -> Answer {
        (
            true,
            "the Actions token has no user".into(),
            http::json(
                403,
                &json!({"message": "Resource not accessible by integration"}),
            ),
        )
    }

    /// `GET issues/N/comments`.
    fn list_comments(r: &Repo, n: &str) -> Answer {
        let n = num(n);
        let list: Vec<Value> = r
            .comments
            .iter()
            .filter(|c| c["issue"] == json!(n))
            .map(public_comment)
            .collect();
        (
            true,
            format!("{} comment(s) of #{n}", list.len()),
            http::json(200, &Value::Array(list)),
        )
    }

    /// `PATCH issues/comments/ID`.
    fn update_comment(r: &mut Repo, id: &str, body: Option<&Value>) -> Answer {
        match body_text(body, &["body"]) {
            Err(e) => (false, e, unprocessable()),
            Ok(text) => {
                let id = num(id);
                match r.comments.iter_mut().find(|c| c["id"] == json!(id)) {
                    None => (false, format!("no comment {id}"), not_found()),
                    Some(c) => {
                        c["body"] = json!(text);
                        let out = public_comment(c);
                        (true, format!("comment {id} updated"), http::json(200, &out))
                    }
                }
            }
        }
    }

    /// `GET pulls/N`.
    fn get_pull(r: &Repo, n: &str) -> Answer {
        match r.pulls.get(&num(n).to_string()) {
            Some(p) => (true, format!("pull #{}", num(n)), http::json(200, p)),
            None => (false, format!("no pull #{}", num(n)), not_found()),
        }
    }

    /// `GET issues?state=&labels=`.
    fn list_issues(r: &Repo, query: &[(String, String)]) -> Answer {
        let state = field(query, "state").unwrap_or("open");
        let labels: Vec<&str> = field(query, "labels")
            .map(|l| l.split(',').collect())
            .unwrap_or_default();
        let list: Vec<Value> = r
            .issues
            .iter()
            .filter(|i| state == "all" || i["state"] == json!(state))
            .filter(|i| {
                labels.iter().all(|l| {
                    i["labels"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["name"] == json!(l)))
                })
            })
            .cloned()
            .collect();
        (
            true,
            format!("{} issue(s)", list.len()),
            http::json(200, &Value::Array(list)),
        )
    }

    /// `PATCH issues/N`.
    fn update_issue(r: &mut Repo, n: &str, body: Option<&Value>) -> Answer {
        let n = num(n);
        let allowed = ["title", "body", "state", "state_reason", "labels"];
        match body.and_then(Value::as_object) {
            Some(o)
                if o.keys().all(|k| allowed.contains(&k.as_str()))
                    && o.get("state").is_none_or(|s| s == "open" || s == "closed") =>
            {
                match r.issues.iter_mut().find(|i| i["number"] == json!(n)) {
                    None => (false, format!("no issue #{n}"), not_found()),
                    Some(i) => {
                        for (k, v) in o {
                            if k != "labels" {
                                i[k] = v.clone();
                            }
                        }
                        let out = i.clone();
                        (
                            true,
                            format!(
                                "issue #{n} updated ({})",
                                o.keys().cloned().collect::<Vec<_>>().join(",")
                            ),
                            http::json(200, &out),
                        )
                    }
                }
            }
            _ => (
                false,
                format!("issue update with fields outside {allowed:?} or a bad state"),
                unprocessable(),
            ),
        }
    }

    /// `GET labels/NAME` (a missing label is a normal answer, so `ok`).
    fn get_label(r: &Repo, name: &str) -> Answer {
        let name = percent_decode(name);
        match r.labels.iter().find(|l| l["name"] == json!(name)) {
            Some(l) => (true, format!("label {name}"), http::json(200, l)),
            None => (true, format!("no label {name}"), not_found()),
        }
    }

    /// `POST labels`.
    fn create_label(r: &mut Repo, body: Option<&Value>) -> Answer {
        match body.and_then(Value::as_object) {
            Some(o)
                if o.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty())
                    && o.keys()
                        .all(|k| ["name", "color", "description"].contains(&k.as_str())) =>
            {
                let l = json!({"name": o["name"], "color": o.get("color").cloned().unwrap_or(json!("ededed")),
                               "description": o.get("description").cloned().unwrap_or(Value::Null)});
                r.labels.push(l.clone());
                (
                    true,
                    format!("label {} created", o["name"]),
                    http::json(201, &l),
                )
            }
            _ => (
                false,
                "label needs a name and only name, color, description".into(),
                unprocessable(),
            ),
        }
    }

    fn num(s: &str) -> u64 {
        s.parse().unwrap_or(0)
    }

    fn percent_decode(s: &str) -> String {
        form(&format!("x={s}"))
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    fn public_comment(c: &Value) -> Value {
        json!({"id": c["id"], "body": c["body"], "user": c["user"], "html_url": c["html_url"]})
    }

    fn body_text(body: Option<&Value>, keys: &[&str]) -> Result<String, String> {
        let o = body
            .and_then(Value::as_object)
            .ok_or("the body is not a JSON object")?;
        if let Some(k) = o.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(format!("unexpected field `{k}`"));
        }
        let t = o
            .get("body")
            .and_then(Value::as_str)
            .ok_or("`body` is not a string")?;
        if t.is_empty() || t.chars().count() > 65_536 {
            return Err(format!(
                "`body` has {} characters (1..=65536)",
                t.chars().count()
            ));
        }
        Ok(t.to_string())
    }

    fn unauthorized() -> Reply {
        http::json(
            401,
            &json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
        )
    }

    fn not_found() -> Reply {
        http::json(
            404,
            &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        )
    }

    fn unprocessable() -> Reply {
        http::json(
            422,
            &json!({"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest"}),
        )
    }

    /// Shared handle.
    pub type Shared = Arc<Api>;
}
