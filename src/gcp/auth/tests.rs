//! ADC discovery order and the token exchanges, against a loopback token endpoint.

use super::*;
use axum::extract::Form;
use axum::routing::post;
use std::collections::HashMap as Fields;

/// A throwaway RSA key generated for these tests only; it grants nothing anywhere.
const TEST_KEY: &str = include_str!("test-key.pem");

fn env(vars: &[(&str, &str)]) -> EnvSnapshot {
    EnvSnapshot::new(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn write(dir: &Path, name: &str, value: serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

fn service_account_json(token_uri: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "service_account",
        "project_id": "openagentsgemini",
        "private_key_id": "0123456789abcdef",
        "private_key": TEST_KEY,
        "client_email": "oa-validate@openagentsgemini.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    })
}

#[test]
fn nothing_found_means_none_and_no_probe() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    assert_eq!(discover(&env(&[("HOME", home)]), false), Ok(None));
    assert_eq!(discover(&EnvSnapshot::default(), false), Ok(None));
}

#[test]
fn discovery_order() {
    let dir = tempfile::tempdir().unwrap();
    let sa = write(
        dir.path(),
        "sa.json",
        service_account_json(DEFAULT_TOKEN_URI),
    );
    let gcloud = dir.path().join(".config").join("gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    write(
        &gcloud,
        "application_default_credentials.json",
        serde_json::json!({"type": "authorized_user", "client_id": "cid.apps.googleusercontent.com",
                           "client_secret": "user-secret-value", "refresh_token": "1//refresh-token-value"}),
    );
    let home = dir.path().to_str().unwrap();
    let sa_path = sa.to_str().unwrap();

    let static_token = discover(
        &env(&[
            ("OA_GOOGLE_ACCESS_TOKEN", "ya29.static-token"),
            ("GOOGLE_APPLICATION_CREDENTIALS", sa_path),
        ]),
        true,
    );
    assert!(matches!(static_token, Ok(Some(Source::StaticToken { .. }))));

    match discover(
        &env(&[("GOOGLE_APPLICATION_CREDENTIALS", sa_path), ("HOME", home)]),
        false,
    ) {
        Ok(Some(Source::ServiceAccount { key, .. })) => {
            assert_eq!(
                key.client_email,
                "oa-validate@openagentsgemini.iam.gserviceaccount.com"
            );
            assert!(!format!("{key:?}").contains("PRIVATE KEY"));
        }
        other => panic!("{other:?}"),
    }
    match discover(&env(&[("HOME", home)]), false) {
        Ok(Some(Source::AuthorizedUser { user, .. })) => {
            assert_eq!(user.token_uri, DEFAULT_TOKEN_URI);
            assert!(!format!("{user:?}").contains("refresh-token-value"));
        }
        other => panic!("{other:?}"),
    }
    let metadata = discover(&env(&[("K_SERVICE", "runtime")]), false);
    assert_eq!(
        metadata,
        Ok(Some(Source::MetadataServer {
            host: DEFAULT_METADATA_HOST.to_string()
        }))
    );
    let custom = discover(&env(&[("GCE_METADATA_HOST", "127.0.0.1:9")]), false);
    assert_eq!(
        custom,
        Ok(Some(Source::MetadataServer {
            host: "127.0.0.1:9".to_string()
        }))
    );
    assert!(matches!(
        discover(&EnvSnapshot::default(), true),
        Ok(Some(Source::MetadataServer { .. }))
    ));
}

#[test]
fn a_broken_credentials_file_is_an_error_not_a_skip() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let err = discover(
        &env(&[("GOOGLE_APPLICATION_CREDENTIALS", missing.to_str().unwrap())]),
        false,
    )
    .unwrap_err();
    assert!(err.contains("GOOGLE_APPLICATION_CREDENTIALS="), "{err}");
    let odd = write(
        dir.path(),
        "odd.json",
        serde_json::json!({"type": "external_account"}),
    );
    let err = read_credentials_file(&odd).unwrap_err();
    assert!(err.contains("external_account"), "{err}");
}

#[test]
fn the_assertion_is_a_verifiable_rs256_jwt() {
    let key = match read_credentials_file(&{
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "sa.json",
            service_account_json("https://oauth2.googleapis.com/token"),
        );
        std::mem::forget(dir);
        p
    })
    .unwrap()
    {
        Source::ServiceAccount { key, .. } => key,
        other => panic!("{other:?}"),
    };
    let jwt = signed_assertion(&key, 1_771_700_000).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    };
    let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
    let claims: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "0123456789abcdef");
    assert_eq!(
        claims["iss"],
        "oa-validate@openagentsgemini.iam.gserviceaccount.com"
    );
    assert_eq!(claims["scope"], SCOPE);
    assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    verify(&jwt);
}

fn verify(jwt: &str) {
    let der = pkcs8_der(TEST_KEY).unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public().as_ref().to_vec(),
    );
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    public
        .verify(input.as_bytes(), &signature)
        .expect("signature verifies");
}

/// What a token request needs: a transport, a redactor and the run's cancellation. Token
/// requests block their (check) thread, so the token server runs on a runtime of its own.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    env: EnvSnapshot,
    transport: crate::net::Transport,
    redactor: crate::redact::Redactor,
    cancel: tokio_util::sync::CancellationToken,
}

impl Fixture {
    fn new() -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let transport = crate::net::Transport::new(
            crate::net::CredentialPolicy::default(),
            1 << 20,
            &crate::net::TransportSettings::default(),
            runtime.handle().clone(),
        )
        .unwrap();
        Fixture {
            runtime,
            env: EnvSnapshot::default(),
            transport,
            redactor: crate::redact::Redactor::new(),
            cancel: tokio_util::sync::CancellationToken::new(),
        }
    }

    fn session(&self, within: Duration) -> Session<'_> {
        Session {
            env: &self.env,
            transport: &self.transport,
            redactor: &self.redactor,
            cancel: &self.cancel,
            not_after: Instant::now() + within,
        }
    }

    fn token(&self, source: &Source) -> Result<String, Error> {
        access_token(
            &self.session(Duration::from_secs(10)),
            source,
            &mut Vec::new(),
        )
    }
}

/// A token endpoint that checks what it receives the way Google's does.
async fn token_server() -> String {
    let app = axum::Router::new().route(
        "/token",
        post(|Form(form): Form<Fields<String, String>>| async move {
            let ok = match form.get("grant_type").map(String::as_str) {
                Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
                    let jwt = form.get("assertion").cloned().unwrap_or_default();
                    std::panic::catch_unwind(|| verify(&jwt)).is_ok()
                }
                Some("refresh_token") => {
                    form.get("refresh_token").map(String::as_str) == Some("1//refresh-token-value")
                }
                _ => false,
            };
            if ok {
                (axum::http::StatusCode::OK,
                 axum::Json(serde_json::json!({"access_token": "ya29.test-access-token-1", "expires_in": 3599, "token_type": "Bearer"})))
            } else {
                (axum::http::StatusCode::BAD_REQUEST,
                 axum::Json(serde_json::json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{addr}/token")
}

#[test]
fn service_account_and_user_tokens_are_obtained_and_redacted() {
    let f = Fixture::new();
    let uri = f.runtime.block_on(token_server());
    let dir = tempfile::tempdir().unwrap();
    let sa = write(dir.path(), "sa.json", service_account_json(&uri));
    let source = read_credentials_file(&sa).unwrap();
    let mut journal: Vec<crate::evidence_model::Entry> = Vec::new();
    let token = access_token(&f.session(Duration::from_secs(10)), &source, &mut journal).unwrap();
    assert_eq!(token, "ya29.test-access-token-1");
    assert_eq!(
        f.redactor.redact("Bearer ya29.test-access-token-1"),
        "Bearer [REDACTED]"
    );
    // The token request went through the transport, its bodies concealed.
    let recorded: Vec<_> = journal
        .iter()
        .filter_map(|e| match e {
            crate::evidence_model::Entry::Exchange(x) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].conceal_bodies);

    let user = write(
        dir.path(),
        "user.json",
        serde_json::json!({"type": "authorized_user", "client_id": "cid", "client_secret": "user-secret-value",
                           "refresh_token": "1//refresh-token-value", "token_uri": uri}),
    );
    let source = read_credentials_file(&user).unwrap();
    assert_eq!(f.token(&source).unwrap(), "ya29.test-access-token-1");
    assert_eq!(f.redactor.redact("1//refresh-token-value"), "[REDACTED]");

    let wrong = write(
        dir.path(),
        "wrong.json",
        serde_json::json!({"type": "authorized_user", "client_id": "cid2", "client_secret": "user-secret-value",
                           "refresh_token": "1//revoked-refresh-token", "token_uri": uri}),
    );
    let source = read_credentials_file(&wrong).unwrap();
    let Err(Error::Failed(err)) = f.token(&source) else {
        panic!("a revoked refresh token was accepted");
    };
    assert!(
        err.contains("400") && err.contains("invalid_grant"),
        "{err}"
    );
    assert!(!err.contains("revoked-refresh-token"), "{err}");
}

#[test]
fn token_endpoints_must_be_https_off_loopback() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let sa = write(
        dir.path(),
        "sa.json",
        service_account_json("http://oauth.example.com/token"),
    );
    let source = read_credentials_file(&sa).unwrap();
    let Err(Error::Failed(err)) = f.token(&source) else {
        panic!("a plain-http token endpoint was used");
    };
    assert!(err.contains("must be https"), "{err}");
}

/// A token endpoint that accepts the connection and never answers: the request runs out of
/// time, and the error says so by kind (`HopError::is_timeout`), naming the source.
#[test]
fn a_token_endpoint_that_never_answers_is_a_timeout_naming_the_source() {
    let f = Fixture::new();
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let uri = format!("http://{}/token", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        drop(socket);
    });
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "user.json",
        serde_json::json!({"type": "authorized_user", "client_id": "cid", "client_secret": "s3cret-value",
                           "refresh_token": "1//refresh-token-value", "token_uri": uri}),
    );
    let source = read_credentials_file(&user).unwrap();
    let started = Instant::now();
    let result = access_token(
        &f.session(Duration::from_millis(500)),
        &source,
        &mut Vec::new(),
    );
    let Err(Error::Failed(err)) = result else {
        panic!("a silent token endpoint gave {result:?}");
    };
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        err,
        format!("timed out obtaining a token ({})", source.describe())
    );
    held.join().unwrap();
}
