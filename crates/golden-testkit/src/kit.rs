//! Every fake started together, with its settings written to `<dir>/env`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use hyper::Request;

use crate::acr::{AcrConfig, AcrState, SigningKey, TokenService};
use crate::fakes::{Tokens, entra, github, oidc};
use crate::http;
use crate::journal::Journal;

/// What the fakes are for.
#[derive(Clone, Debug)]
pub struct KitConfig {
    /// Where the key, the env file, the journal and the GitHub state go.
    pub dir: PathBuf,
    /// `owner/repo` the GitHub fakes serve.
    pub repository: String,
    /// Entra tenant id.
    pub tenant: String,
    /// Entra client id (the app with the federated credential).
    pub client_id: String,
    /// The registry's token `service`.
    pub service: String,
    /// The token issuer the registry trusts.
    pub issuer: String,
    /// `host:port` of the token-mode registry the token service fronts (ACR's shape: registry
    /// API and token endpoints on one login server). `REGISTRY` in the env file is the front.
    pub registry_upstream: Option<String>,
}

/// The running fakes.
pub struct Kit {
    /// The ACR token service.
    pub acr: TokenService,
    /// The GitHub API fake.
    pub github: github::Shared,
    /// What every fake received and issued.
    pub journal: Journal,
    /// `NAME=value` settings (also in `<dir>/env`).
    pub env: Vec<(String, String)>,
}

impl Kit {
    /// Start every fake on 127.0.0.1 and write `<dir>/env`.
    pub async fn start(cfg: KitConfig) -> Result<Kit> {
        std::fs::create_dir_all(&cfg.dir)
            .with_context(|| format!("creating {}", cfg.dir.display()))?;
        for f in ["requests.jsonl", "issued-secrets.txt", "github.json", "env"] {
            let p = cfg.dir.join(f);
            if p.exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("removing the stale {}", p.display()))?;
            }
        }
        let journal = Journal::new(Some(&cfg.dir));
        // A pull-only registry credential (what pull-request.yml's GOLDEN_PULL_* secrets hold).
        let pull_user = "golden-pull".to_string();
        let pull_password = crate::token("acr-pull");
        journal.secret(&pull_password);
        let key = SigningKey::generate(&cfg.dir, "token")?;
        let cert = key.cert.clone();
        let acr = TokenService::start(
            AcrConfig {
                issuer: cfg.issuer.clone(),
                service: cfg.service.clone(),
                tenant: cfg.tenant.clone(),
                basic: Some((pull_user.clone(), pull_password.clone())),
            },
            key,
            AcrState::default(),
            journal.clone(),
            cfg.registry_upstream.clone(),
        )
        .await?;

        let tokens = Arc::new(Mutex::new(Tokens::default()));
        let request_token = crate::token("gh-oidc-request");
        journal.secret(&request_token);
        let (t, j, rt, repo) = (
            tokens.clone(),
            journal.clone(),
            request_token.clone(),
            cfg.repository.clone(),
        );
        let oidc_addr = http::serve(Arc::new(move |req: Request<Bytes>| {
            oidc::handle(&rt, &repo, &t, &j, &req)
        }))
        .await
        .context("binding the OIDC fake")?;

        let (t, j, acr_state) = (tokens.clone(), journal.clone(), acr.state.clone());
        let (tenant, client) = (cfg.tenant.clone(), cfg.client_id.clone());
        let entra_addr = http::serve(Arc::new(move |req: Request<Bytes>| {
            let accept = |tok: &str| {
                acr_state
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entra_tokens
                    .push(tok.to_string());
            };
            entra::handle(&tenant, &client, &t, &j, &accept, &req)
        }))
        .await
        .context("binding the Entra fake")?;

        let gh_token = crate::token("ghs-actions");
        let control = crate::token("testkit-control");
        journal.secret(&gh_token);
        journal.secret(&control);
        let api = Arc::new(github::Api::new(
            &cfg.repository,
            &gh_token,
            &control,
            Some(cfg.dir.join("github.json")),
        ));
        let (a, j) = (api.clone(), journal.clone());
        let gh_addr = http::serve(Arc::new(move |req: Request<Bytes>| a.handle(&j, &req)))
            .await
            .context("binding the GitHub API fake")?;

        let env: Vec<(String, String)> = [
            ("TOKEN_REALM", acr.realm()),
            ("REGISTRY_FRONT", acr.addr.to_string()),
            ("TOKEN_ISSUER", cfg.issuer.clone()),
            ("TOKEN_SERVICE", cfg.service.clone()),
            ("TOKEN_CERT", cert.display().to_string()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("http://{oidc_addr}{}?api-version=2.0", oidc::PATH),
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token),
            ("AZURE_AUTHORITY_HOST", format!("http://{entra_addr}")),
            ("AZURE_TENANT_ID", cfg.tenant.clone()),
            ("AZURE_CLIENT_ID", cfg.client_id.clone()),
            ("GITHUB_API_URL", format!("http://{gh_addr}")),
            ("GITHUB_TOKEN", gh_token),
            ("GOLDEN_TESTKIT_CONTROL_TOKEN", control),
            ("GOLDEN_PULL_USERNAME", pull_user),
            ("GOLDEN_PULL_PASSWORD", pull_password),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        write_env(&cfg.dir.join("env"), &env)?;
        Ok(Kit {
            acr,
            github: api,
            journal,
            env,
        })
    }

    /// One setting.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn write_env(path: &Path, env: &[(String, String)]) -> Result<()> {
    let mut text = String::from("# golden-testkit settings (shell-quoted; `. env` to load)\n");
    for (k, v) in env {
        text.push_str(&format!("{k}='{}'\n", v.replace('\'', "'\\''")));
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
