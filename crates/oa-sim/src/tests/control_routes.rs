//! The control service's routes over loopback: the static host, sessions, the sync token
//! routes and what each upstream era serves or retires.

use super::*;

#[tokio::test]
async fn static_host_serves_manifest_sw_and_assets_with_cache_policy() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;

    let resp = get(format!("{base}/manifest.json")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, CACHE_CONTROL),
        "no-cache, no-store, must-revalidate"
    );
    assert_eq!(header(&resp, CONTENT_TYPE), "application/json");
    assert!(header(&resp, "etag").starts_with('"'));
    assert_eq!(header(&resp, "vary"), "Accept-Encoding");
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(r#""manifestVersion": "openagents.webshell.v2""#),
        "{text}"
    );
    // build-dist.sh's shape: every entry path relative to the manifest.
    let manifest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["entry"]["js"], "assets/openagents_web_shell.js");
    assert_eq!(manifest["entry"]["html"], "index.html");
    assert_eq!(manifest["serviceWorker"]["script"], "sw.js");
    assert!(manifest.get("js").is_none(), "{manifest}");

    let resp = get(format!("{base}/sw.js")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, CACHE_CONTROL),
        "no-cache, no-store, must-revalidate"
    );
    assert!(resp.text().await.unwrap().contains("addEventListener"));

    // The server's rule: `-` and 8+ alphanumerics before the extension is hashed.
    for (path, cache) in [
        ("/assets/openagents_web_shell.js", "public, max-age=60"),
        ("/assets/host-shim.js", "public, max-age=60"),
        (
            "/assets/htmx-2_0_8-22283ef6.js",
            "public, max-age=31536000, immutable",
        ),
    ] {
        let resp = get(format!("{base}{path}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), cache, "{path}");
    }
    // Joining the relative entry without a slash is not a path the server serves.
    let resp = get(format!("{base}/assetsopenagents_web_shell.js")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let resp = get(format!("{base}/assets/webshell-000000000000.js")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_envelope(
        &json(resp).await,
        "not_found",
        "Asset 'webshell-000000000000.js' was not found.",
    );
}

#[tokio::test]
async fn manifest_entry_missing_names_an_entry_that_is_not_served() {
    let sim = sim(&[Fault::ManifestEntryMissing]).await;
    let base = &sim.staging.control_url;
    let manifest = json(get(format!("{base}/manifest.json")).await).await;
    let entry = manifest["entry"]["js"].as_str().unwrap().to_string();
    assert!(!entry.starts_with('/'), "{entry}");
    let resp = get(format!("{base}/{entry}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{entry}");
}

#[tokio::test]
async fn manifest_version_wrong_fault_declares_v1() {
    let sim = sim(&[Fault::ManifestVersionWrong]).await;
    let text = get(format!("{}/manifest.json", sim.prod.control_url))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#""manifestVersion": "openagents.webshell.v1""#),
        "{text}"
    );
    assert!(!text.contains("openagents.webshell.v2"), "{text}");
}

#[tokio::test]
async fn sw_cache_wrong_fault_makes_sw_cacheable() {
    let sim = sim(&[Fault::SwCacheWrong]).await;
    let resp = get(format!("{}/sw.js", sim.staging.control_url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, CACHE_CONTROL), "public, max-age=3600");
    // The manifest keeps its policy: the fault is specific to the service worker.
    let resp = get(format!("{}/manifest.json", sim.staging.control_url)).await;
    assert_eq!(
        header(&resp, CACHE_CONTROL),
        "no-cache, no-store, must-revalidate"
    );
}

#[tokio::test]
async fn asset_not_immutable_fault_shortens_hashed_asset_cache() {
    let sim = sim(&[Fault::AssetNotImmutable]).await;
    let base = &sim.staging.control_url;
    let manifest = json(get(format!("{base}/manifest.json")).await).await;
    let entry = manifest["entry"]["js"].as_str().unwrap().to_string();
    assert_eq!(entry, "assets/openagents_web_shell-3f9a2b7c.js");
    let resp = get(format!("{base}/{entry}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cache = header(&resp, CACHE_CONTROL);
    assert_eq!(cache, "public, max-age=60");
    assert!(!cache.contains("immutable"));
}

#[tokio::test]
async fn session_routes_need_the_token() {
    let sim = sim(&[]).await;
    for path in ["/api/auth/session", "/api/v1/auth/session"] {
        let url = format!("{}{path}", sim.staging.control_url);
        let resp = get(url.clone()).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_envelope(&json(resp).await, "unauthorized", "Unauthenticated.");

        let resp = get_auth(url, &sim.staging.token).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let body = json(resp).await;
        assert_eq!(body["data"]["session"]["sessionId"], "sess_sim");
        assert_eq!(body["data"]["session"]["status"], "active");
        assert_eq!(body["data"]["user"]["id"], "user_sim");
        assert_eq!(body["data"]["user"]["email"], "sim@openagents.com");
        assert_eq!(body["data"]["user"]["name"], "Sim User");
    }
}

#[tokio::test]
async fn session_401_fault_rejects_a_valid_token_on_both_routes() {
    let sim = sim(&[Fault::Session401]).await;
    for path in ["/api/auth/session", "/api/v1/auth/session"] {
        let resp = get_auth(format!("{}{path}", sim.prod.control_url), &sim.prod.token).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

async fn post_sync(url: String, token: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = client()
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn sync_token_has_the_full_shape_and_a_fresh_token() {
    let sim = sim(&[]).await;
    let url = format!("{}/api/sync/token", sim.staging.control_url);
    let request = r#"{"scopes":["runtime.codex_worker_events"]}"#;

    let resp = post_sync(url.clone(), Some(&sim.staging.token), request).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    let data = body["data"].as_object().expect("data object");
    for field in [
        "token",
        "token_type",
        "expires_in",
        "issued_at",
        "expires_at",
        "issuer",
        "audience",
        "subject",
        "org_id",
        "claims_version",
        "scopes",
        "granted_topics",
        "kid",
        "token_id",
        "session_id",
        "device_id",
    ] {
        assert!(data.contains_key(field), "missing {field}: {body}");
    }
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["scopes"], json!(["runtime.codex_worker_events"]));
    // Grants are objects naming the topic and the scope that allows it.
    assert_eq!(
        data["granted_topics"],
        json!([{"topic": "org:org_sim:worker_events", "required_scope": "runtime.codex_worker_events"}])
    );
    assert!(data["token_id"].as_str().unwrap().starts_with("sync_"));
    // Khala era: no Spacetime transport fields.
    assert!(!data.contains_key("transport"), "{body}");
    assert!(data["expires_in"].as_i64().is_some_and(|n| n > 0));
    let first = data["token"].as_str().unwrap().to_owned();
    assert!(!first.is_empty());
    assert_ne!(first, sim.staging.token);
    assert!(!first.contains(&sim.staging.token));

    let second = json(post_sync(url, Some(&sim.staging.token), request).await).await;
    assert_ne!(second["data"]["token"].as_str().unwrap(), first);
}

#[tokio::test]
async fn sync_token_rejects_missing_auth_and_bad_bodies() {
    let sim = sim(&[]).await;
    let url = format!("{}/api/sync/token", sim.staging.control_url);

    let resp = post_sync(url.clone(), None, r#"{"scopes":[]}"#).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_envelope(&json(resp).await, "unauthorized", "Unauthenticated.");

    // Bodies the Json extractor refuses: axum's plain-text rejections, before the handler.
    for (bad, status) in [
        ("not json", StatusCode::BAD_REQUEST),
        (r#"{"scopes":"runtime"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"scopes":[1]}"#, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let resp = post_sync(url.clone(), Some(&sim.staging.token), bad).await;
        assert_eq!(resp.status(), status, "{bad}");
        assert!(
            header(&resp, CONTENT_TYPE).starts_with("text/plain"),
            "{bad}"
        );
    }
    // A scope the issuer does not allow: the handler's own JSON error.
    let resp = post_sync(url, Some(&sim.staging.token), r#"{"scopes":["admin.all"]}"#).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(resp).await["error"]["code"], "invalid_scope");
}

#[tokio::test]
async fn sync_token_500_fault() {
    let sim = sim(&[Fault::SyncToken500]).await;
    let resp = post_sync(
        format!("{}/api/sync/token", sim.staging.control_url),
        Some(&sim.staging.token),
        r#"{"scopes":["runtime.codex_worker_events"]}"#,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// At 6b173e913a the Khala token route is still live; the Spacetime route is not routed, so
/// the GET-only catch-all answers a POST with 405; unknown API GETs are JSON 404s.
#[tokio::test]
async fn app_surface_era_routes_v1_sync_token_and_405s_the_spacetime_route() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;
    let request = r#"{"scopes":["runtime.codex_worker_events"]}"#;
    let resp = post_sync(
        format!("{base}/api/v1/sync/token"),
        Some(&sim.staging.token),
        request,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["data"]["token_type"], "Bearer");

    let resp = post_sync(
        format!("{base}/api/spacetime/token"),
        Some(&sim.staging.token),
        request,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.text().await.unwrap().is_empty());

    let resp = get(format!("{base}/api/no/such/route")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_envelope(
        &json(resp).await,
        "not_found",
        "Route '/api/no/such/route' was not found.",
    );
    // A page path without a handler renders the web shell.
    let resp = get(format!("{base}/no/such/page")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, CONTENT_TYPE).starts_with("text/html"));

    let sim = sim_with(&[Fault::V1SyncTokenUnrouted]).await;
    let resp = post_sync(
        format!("{}/api/v1/sync/token", sim.staging.control_url),
        Some(&sim.staging.token),
        request,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn sim_with(faults: &[Fault]) -> Sim {
    sim(faults).await
}

/// At d29e2a788f both token routes are gone and nothing catches unknown paths: axum's
/// empty 404. The static host, /stats and the web app are gone too.
#[tokio::test]
async fn converged_era_retires_the_token_routes_and_the_web_app() {
    let sim = converged_sim(&[]).await;
    let base = &sim.staging.control_url;
    for path in ["/api/v1/sync/token", "/api/spacetime/token"] {
        let resp = post_sync(
            format!("{base}{path}"),
            Some(&sim.staging.token),
            r#"{"scopes":["runtime.codex_worker_events"]}"#,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(resp.text().await.unwrap().is_empty(), "{path}");
    }
    for path in [
        "/manifest.json",
        "/sw.js",
        "/stats",
        "/login",
        "/feed",
        "/no/such/route",
    ] {
        let resp = get(format!("{base}{path}")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The API the later phase relies on is still there, with the Spacetime token shape.
    let resp = post_sync(
        format!("{base}/api/sync/token"),
        Some(&sim.staging.token),
        r#"{"scopes":["runtime.codex_worker_events"]}"#,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let data = json(resp).await["data"].clone();
    assert_eq!(data["transport"], "spacetime_ws");
    assert_eq!(data["protocol_version"], "spacetime.sync.v1");
    assert_eq!(data["refresh_after_in"], 270);
    assert_eq!(
        data["granted_streams"][0]["stream"],
        "org:org_sim:worker_events"
    );
    assert_eq!(get(format!("{base}/readyz")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn retired_route_alive_fault_issues_a_token_on_the_v1_route() {
    let sim = converged_sim(&[Fault::RetiredRouteAlive]).await;
    let resp = post_sync(
        format!("{}/api/v1/sync/token", sim.staging.control_url),
        Some(&sim.staging.token),
        r#"{"scopes":["runtime.codex_worker_events"]}"#,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["data"]["token_type"], "Bearer");
    assert_eq!(
        body["data"]["scopes"],
        json!(["runtime.codex_worker_events"])
    );
    // Only the v1 route is revived.
    let resp = post_sync(
        format!("{}/api/spacetime/token", sim.staging.control_url),
        Some(&sim.staging.token),
        "{}",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
