//! The WhatsApp and Twilio simulators in raw HTTP: their auth and error shapes, validation codes,
//! the 24-hour window on the simulated clock, list filters and paging, the control API, and
//! status callbacks signed as the documentation says (checked here from the docs, not with any
//! client code).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use kade_sim::SimClock;
use kade_sim::twilio::{self, TwilioSimConfig};
use kade_sim::whatsapp::{self, WhatsAppSimConfig};
use reqwest::Client;
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(String, axum::http::HeaderMap, Vec<u8>)>>>;

/// A receiver that records (path?query, headers, raw body) and answers 200.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push((uri.to_string(), headers, body.to_vec()));
                "ok"
            }
        },
    );
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", tcp.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(tcp, app).await });
    (url, seen)
}

async fn wait_for(seen: &Seen, n: usize) -> Vec<(String, axum::http::HeaderMap, Vec<u8>)> {
    for _ in 0..500 {
        if seen.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen.lock().unwrap().clone()
}

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), data);
    hex::encode(tag)
}

#[tokio::test]
async fn whatsapp_errors_window_and_signed_statuses() {
    let clock = SimClock::manual(1_795_435_550_000);
    let (hook_url, seen) = receiver().await;
    let cfg =
        WhatsAppSimConfig { clock: clock.clone(), callback_url: Some(format!("{hook_url}/wa")), ..Default::default() };
    let sim = whatsapp::start(cfg.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = client();
    let url = format!("{}/{}/messages", sim.base_url(), cfg.phone_number_id);
    let text = |to: &str| json!({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hoi"}});

    let r = http.post(&url).json(&text("31612345678")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["error"]["code"].as_u64(), v["error"]["type"].as_str()), (Some(190), Some("OAuthException")));
    assert!(v["error"]["fbtrace_id"].is_string());

    let other = format!("{}/999/messages", sim.base_url());
    let r = http.post(&other).bearer_auth(&cfg.access_token).json(&text("31612345678")).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], 100);

    // The customer writes; 23h59 later free text is fine, 24h01 later it fails with 131047.
    let ctl = format!("{}/_sim", sim.root_url());
    http.post(format!("{ctl}/inbound")).json(&json!({"from": "+31612345678", "text": "hallo"})).send().await.unwrap();
    clock.advance(Duration::from_secs(24 * 3600 - 60));
    let r = http.post(&url).bearer_auth(&cfg.access_token).json(&text("+31612345678")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    clock.advance(Duration::from_secs(120));
    let r = http.post(&url).bearer_auth(&cfg.access_token).json(&text("31612345678")).send().await.unwrap();
    assert_eq!(r.status(), 200, "accepted, fails later");
    let failed_id = r.json::<Value>().await.unwrap()["messages"][0]["id"].as_str().unwrap().to_owned();

    // inbound webhook + sent + delivered + failed
    let got = wait_for(&seen, 4).await;
    assert_eq!(got.len(), 4);
    for (_, headers, body) in &got {
        let sig = headers["x-hub-signature-256"].to_str().unwrap();
        assert_eq!(sig, format!("sha256={}", hmac_hex(cfg.app_secret.as_bytes(), body)));
    }
    let last: Value = serde_json::from_slice(&got[3].2).unwrap();
    let status = &last["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(
        (status["id"].as_str(), status["status"].as_str(), status["errors"][0]["code"].as_u64()),
        (Some(failed_id.as_str()), Some("failed"), Some(131047))
    );
    assert_eq!(last["object"], "whatsapp_business_account");

    // Control API: templates, messages, journal.
    let t = json!({"name": "custom", "language": "de", "body_params": 1});
    assert_eq!(http.post(format!("{ctl}/templates")).json(&t).send().await.unwrap().status(), 200);
    let tpl = json!({"messaging_product": "whatsapp", "to": "4915112345678", "type": "template",
        "template": {"name": "custom", "language": {"code": "de"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]}});
    assert_eq!(http.post(&url).bearer_auth(&cfg.access_token).json(&tpl).send().await.unwrap().status(), 200);
    let msgs: Value = http.get(format!("{ctl}/messages")).send().await.unwrap().json().await.unwrap();
    assert_eq!(msgs.as_array().unwrap().len(), 3);
    let journal: Value = http.get(format!("{ctl}/journal")).send().await.unwrap().json().await.unwrap();
    assert_eq!(journal.as_array().unwrap().len(), 5);
    assert!(http.post(format!("{ctl}/templates")).body("{").send().await.unwrap().status().is_client_error());
}

#[tokio::test]
async fn twilio_validation_lists_and_signed_callbacks() {
    let (hook_url, seen) = receiver().await;
    let cfg = TwilioSimConfig { disabled_prefixes: vec!["+7".into()], ..Default::default() };
    let sim = twilio::start(cfg.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = client();
    let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", sim.base_url(), cfg.account_sid);
    let post = |form: Vec<(&'static str, String)>| {
        http.post(&url)
            .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(&form))
            .send()
    };
    let from = || ("From", cfg.from_numbers[0].clone());
    let code = |v: Value| v["code"].as_u64().unwrap();
    let cases: Vec<(Vec<(&'static str, String)>, u64)> = vec![
        (vec![from(), ("Body", "x".into())], 21604),
        (vec![("To", "+31612345678".into()), ("Body", "x".into())], 21603),
        (vec![("To", "+31612345678".into()), from()], 21602),
        (vec![("To", "+31612345678".into()), from(), ("Body", "x".repeat(1601))], 21617),
        (vec![("To", "0612345678".into()), from(), ("Body", "x".into())], 21211),
        (vec![("To", "+31612345678".into()), ("From", "+15551234567".into()), ("Body", "x".into())], 21606),
        (vec![("To", "+79161234567".into()), from(), ("Body", "x".into())], 21408),
    ];
    for (form, want) in cases {
        let r = post(form).await.unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(code(r.json().await.unwrap()), want);
    }
    let r = http.post(&url).basic_auth(&cfg.account_sid, Some("nope")).body("To=%2B31612345678").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(r.json().await.unwrap()), 20003);

    http.post(format!("{}/_sim/opt-outs", sim.base_url()))
        .json(&json!({"number": "+31699999999"}))
        .send()
        .await
        .unwrap();
    let r = post(vec![("To", "+31699999999".into()), from(), ("Body", "x".into())]).await.unwrap();
    assert_eq!(code(r.json().await.unwrap()), 21610);

    let callback = format!("{hook_url}/tw?key=a%2Fb");
    let r =
        post(vec![("To", "+31612345678".into()), from(), ("Body", "één".into()), ("StatusCallback", callback.clone())])
            .await
            .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["status"], "queued");
    let sid = created["sid"].as_str().unwrap().to_owned();

    // Callbacks: signature = base64 HMAC-SHA1(token, url + sorted name+value), per Twilio's docs.
    let got = wait_for(&seen, 2).await;
    for (path, headers, body) in &got {
        let mut params: Vec<(String, String)> = url_decode_form(body);
        params.sort();
        let mut data = format!("{hook_url}{path}");
        for (k, v) in &params {
            data.push_str(k);
            data.push_str(v);
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, cfg.auth_token.as_bytes());
        let want = base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, data.as_bytes()).as_ref());
        assert_eq!(headers["x-twilio-signature"].to_str().unwrap(), want);
        assert!(params.contains(&("MessageSid".into(), sid.clone())));
    }

    // Fetch and list (filters, paging).
    for i in 0..5 {
        post(vec![("To", "+31687654321".into()), from(), ("Body", format!("m{i}"))]).await.unwrap();
    }
    let one: Value = http
        .get(url.replace(".json", &format!("/{sid}.json")))
        .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["body"], "één");
    let page: Value = http
        .get(&url)
        .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
        .query(&[("To", "+31687654321"), ("PageSize", "2")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["m4", "m3"], "newest first");
    let next = page["next_page_uri"].as_str().unwrap();
    let page2: Value = http
        .get(format!("{}{next}", sim.base_url()))
        .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page2["messages"][0]["body"], "m2");
    let missing = http
        .get(url.replace(".json", "/SMdoesnotexist.json"))
        .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(code(missing.json().await.unwrap()), 20404);
}

fn url_decode_form(body: &[u8]) -> Vec<(String, String)> {
    let dec = |s: &str| -> String {
        let s = s.replace('+', " ");
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (dec(k), dec(v))
        })
        .collect()
}

fn form_encode(form: &[(&str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish()
}

#[tokio::test]
async fn callbacks_can_be_duplicated_or_reversed() {
    use kade_sim::callbacks::CallbackMode;
    let (hook_url, seen) = receiver().await;
    let wa = whatsapp::start(
        WhatsAppSimConfig { callback_url: Some(format!("{hook_url}/wa")), ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    wa.set_callback_mode(CallbackMode::Reversed);
    let http = client();
    let url = format!("{}/{}/messages", wa.base_url(), wa.config().phone_number_id);
    let tpl = json!({"messaging_product": "whatsapp", "to": "31612345678", "type": "template",
        "template": {"name": "review_request", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}});
    http.post(&url).bearer_auth(&wa.config().access_token).json(&tpl).send().await.unwrap();
    let got = wait_for(&seen, 2).await;
    let states: Vec<String> = got
        .iter()
        .map(|(_, _, b)| {
            serde_json::from_slice::<Value>(b).unwrap()["entry"][0]["changes"][0]["value"]["statuses"][0]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(states, vec!["delivered", "sent"]);
    assert_eq!(wa.messages()[0].status, "delivered", "the stored status is the real last one");

    let tw = twilio::start(TwilioSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    tw.set_callback_mode(CallbackMode::Duplicate);
    let cfg = tw.config().clone();
    let body = form_encode(&[
        ("To", "+31612345678".into()),
        ("From", cfg.from_numbers[0].clone()),
        ("Body", "x".into()),
        ("StatusCallback", format!("{hook_url}/tw")),
    ]);
    let r = http
        .post(format!("{}/2010-04-01/Accounts/{}/Messages.json", tw.base_url(), cfg.account_sid))
        .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = wait_for(&seen, 6).await;
    let statuses: Vec<String> = got[2..]
        .iter()
        .map(|(_, _, b)| url_decode_form(b).into_iter().find(|(k, _)| k == "MessageStatus").unwrap().1)
        .collect();
    assert_eq!(statuses, vec!["sent", "sent", "delivered", "delivered"]);
}
