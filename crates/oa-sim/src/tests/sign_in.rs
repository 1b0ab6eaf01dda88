//! The sign-in routes as upstream serves them: `Secure` cookies, the challenge id in the
//! answer, verification by challenge id alone, bearer-or-cookie sessions on pages, the
//! admin gate of the route-split override, and the per-instance throttles.

use super::*;

const OVERRIDE: &str = "/api/v1/control/route-split/override";

/// Signs in through the JSON API; the issued access token.
async fn issued_token(base: &str, email: &str) -> String {
    let c = client();
    let resp = c
        .post(format!("{base}/api/auth/email"))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        header(&resp, "set-cookie")
            .ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600")
    );
    let body = json(resp).await;
    assert_eq!(body["status"], "code-sent");
    let challenge = body["challengeId"].as_str().unwrap().to_string();
    assert!(challenge.starts_with("challenge_"), "{challenge}");
    let resp = c
        .post(format!("{base}/api/auth/verify"))
        .json(&json!({"code": "000000", "challenge_id": challenge}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["tokenType"], "Bearer");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_code_routes_set_upstreams_secure_cookies_and_verify_by_challenge_id() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;
    let c = client();
    let resp = c
        .post(format!("{base}/login/email"))
        .form(&[("email", "someone@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(header(&resp, LOCATION), "/login?status=code-sent");
    let cookie = header(&resp, "set-cookie");
    let (pair, attributes) = cookie.split_once("; ").unwrap();
    assert!(
        pair.starts_with("oa_magic_challenge=challenge_"),
        "{cookie}"
    );
    assert_eq!(
        attributes,
        "Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600"
    );
    let challenge = pair.split_once('=').unwrap().1.to_string();

    // Without the cookie (a browser on plain http kept none) and without a challenge id:
    // expired, as upstream says.
    let resp = c
        .post(format!("{base}/login/verify"))
        .header("hx-request", "true")
        .form(&[("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Your sign-in code expired.")
    );

    // With the challenge id sent explicitly: signed in, with upstream's session cookies.
    let resp = c
        .post(format!("{base}/login/verify"))
        .form(&[("code", "000000"), ("challenge_id", challenge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(header(&resp, LOCATION), "/");
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(
        cookies[0].starts_with("oa_access_token=oa_at_"),
        "{cookies:?}"
    );
    assert!(cookies[0].ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=3600"));
    assert!(cookies[1].starts_with("oa_refresh_token="));
    assert!(cookies[1].ends_with("; Secure; SameSite=Lax; Max-Age=2592000"));
    assert_eq!(
        cookies[2],
        "oa_magic_challenge=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
    );

    // The access cookie is a session on pages, as the bearer is.
    let access = cookies[0].split(';').next().unwrap().to_string();
    let resp = c
        .get(format!("{base}/settings/profile"))
        .header("cookie", access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = get_auth(format!("{base}/settings/profile"), &sim.staging.token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = get(format!("{base}/settings/profile")).await;
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    // The sim-only bootstrap route is gone: upstream's GET-only catch-all answers 405.
    let resp = c
        .post(format!("{base}/api/auth/browser-session"))
        .bearer_auth(&sim.staging.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_override_is_for_admins_only_and_a_signed_in_user_is_not_one() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;
    let c = client();
    let body = json!({"target": "htmx_clear", "domain": "auth_entry"});
    let resp = c
        .post(format!("{base}{OVERRIDE}"))
        .bearer_auth(&sim.staging.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the exported token is an admin's"
    );

    let user = issued_token(base, "someone@example.com").await;
    let resp = get_auth(format!("{base}/api/v1/control/route-split/status"), &user).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "any session reads the status"
    );
    let resp = c
        .post(format!("{base}{OVERRIDE}"))
        .bearer_auth(&user)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(resp).await, "forbidden", "Forbidden.");

    // canary-token-not-admin: OA_ADMIN_EMAILS lists nobody, the exported token is refused.
    let sim = super::sim(&[Fault::CanaryTokenNotAdmin]).await;
    let resp = c
        .post(format!("{}{OVERRIDE}", sim.staging.control_url))
        .bearer_auth(&sim.staging.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn throttles_answer_upstreams_429_per_instance_and_client() {
    let sim = sim(&[]).await;
    let c = client();
    let post = |base: String, xff: Option<&'static str>| {
        let c = c.clone();
        async move {
            let mut request = c
                .post(format!("{base}/api/auth/email"))
                .json(&json!({"email": "a@example.com"}));
            if let Some(ip) = xff {
                request = request.header("x-forwarded-for", ip);
            }
            request.send().await.unwrap()
        }
    };
    for _ in 0..30 {
        let resp = post(sim.staging.control_url.clone(), None).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = post(sim.staging.control_url.clone(), None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_none());
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Too many requests. Retry in ") && message.ends_with("s."),
        "{message}"
    );
    let resp = post(sim.staging.control_url.clone(), Some("203.0.113.7")).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "another client has its own bucket"
    );
    let resp = post(sim.prod.control_url.clone(), None).await;
    assert_eq!(resp.status(), StatusCode::OK, "prod is another instance");
}
