//! SMTP against a real server Kade did not write (aiosmtpd, see `kade_messaging::testing`).

use std::time::Duration;

use kade_messaging::testing::{SmtpMode, TestSmtpOptions, TestSmtpServer};
use kade_messaging::{Lookup, Messenger, Outbound, OutboundBody, SendError, SmtpConfig};

const FROM: &str = "Café Zoë <shop@kade-test.example>";

fn email(key: &str, to: &str, subject: &str, text: &str) -> Outbound {
    Outbound {
        key: key.into(),
        body: OutboundBody::Email { to: to.into(), subject: subject.into(), text: text.into() },
    }
}

fn messenger(cfg: SmtpConfig) -> Messenger {
    Messenger::new(Some(cfg), None, None).expect("valid config")
}

#[tokio::test]
async fn delivers_an_encoded_message_that_an_independent_parser_reads_back() {
    let server = TestSmtpServer::start(SmtpMode::Accept).expect("smtp fixture");
    let m = messenger(server.smtp_config(FROM));
    assert_eq!(m.channels(), vec!["email", "webhook"]);
    let text = "Hallo Zoë,\n\nJe bestelling #1001 is onderweg 🚚\n.a line starting with a dot\n..two dots\n= sign and a very long line that goes on and on and on past the seventy-six character limit of quoted-printable encoding\nlast line   ";
    let subject = "Je bestelling #1001 is onderweg — volg hem hier 🚚";
    let sent = m.send(&email("rule:7/order:1001/0", "jan@example.org", subject, text)).await.expect("sent");
    assert_eq!(sent.provider_id, "kade.rule=3A7=2Forder=3A1001=2F0@kade-test.example");

    let got = server.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "exactly one message");
    let mail = &got[0];
    assert_eq!(mail.mail_from, "shop@kade-test.example");
    assert_eq!(mail.rcpt_tos, vec!["jan@example.org"]);
    assert_eq!(mail.subject, subject);
    // Python's decoder gives the text back with LF line ends (and keeps the trailing spaces).
    assert_eq!(
        mail.text.as_deref().map(|t| t.replace("\r\n", "\n").trim_end_matches('\n').to_owned()).as_deref(),
        Some(text)
    );
    assert_eq!(mail.header("message-id"), Some("<kade.rule=3A7=2Forder=3A1001=2F0@kade-test.example>"));
    assert_eq!(mail.header("from"), Some(FROM));
    assert!(mail.header("date").is_some_and(|d| d.ends_with("+0000")), "{:?}", mail.header("date"));
    assert!(mail.raw.split("\r\n").all(|l| l.len() <= 998));
}

#[tokio::test]
async fn authenticates_with_plain_and_refuses_a_wrong_password_permanently() {
    let opts =
        TestSmtpOptions { auth: Some(("kade".into(), "s3cret-pw".into())), ..TestSmtpOptions::mode(SmtpMode::Accept) };
    let server = TestSmtpServer::start_with(opts).expect("smtp fixture");
    let m = messenger(server.smtp_config(FROM));
    m.send(&email("k1", "a@example.org", "hi", "x")).await.expect("authenticated send");

    let mut bad = server.smtp_config(FROM);
    bad.password = Some("wrong-pw".into());
    let err = messenger(bad).send(&email("k2", "a@example.org", "hi", "x")).await.unwrap_err();
    match &err {
        SendError::Permanent { code, reason } => {
            assert_eq!(code, "535");
            assert!(!reason.contains("wrong-pw"), "the password leaked into the error: {reason}");
        }
        other => panic!("expected a permanent 535, got {other:?}"),
    }
    assert!(!format!("{:?}", server.smtp_config(FROM)).contains("s3cret-pw"));
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_451_at_rcpt_or_data_is_transient_and_nothing_is_stored() {
    for mode in [SmtpMode::RejectRcpt(451), SmtpMode::RejectData(451)] {
        let server = TestSmtpServer::start(mode.clone()).expect("smtp fixture");
        let err = messenger(server.smtp_config(FROM)).send(&email("k", "a@example.org", "s", "t")).await.unwrap_err();
        assert!(matches!(err, SendError::Transient { .. }), "{mode:?}: {err:?}");
        assert!(err.to_string().contains("451"), "{err}");
        assert!(server.messages().is_empty());
    }
}

#[tokio::test]
async fn a_5xx_is_permanent_with_the_reply_code() {
    for (mode, code) in [(SmtpMode::RejectRcpt(550), "550"), (SmtpMode::RejectData(554), "554")] {
        let server = TestSmtpServer::start(mode).expect("smtp fixture");
        let err = messenger(server.smtp_config(FROM)).send(&email("k", "a@example.org", "s", "t")).await.unwrap_err();
        assert!(matches!(&err, SendError::Permanent { code: c, .. } if c == code), "{err:?}");
    }
}

#[tokio::test]
async fn a_connection_dropped_after_data_is_in_doubt_and_the_message_did_arrive() {
    let server = TestSmtpServer::start(SmtpMode::DropAfterData).expect("smtp fixture");
    let m = messenger(server.smtp_config(FROM));
    let msg = email("rule:1/order:5/0", "a@example.org", "s", "t");
    let err = m.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::InDoubt { .. }), "{err:?}");
    assert!(err.to_string().contains("kade.rule=3A1=2Forder=3A5=2F0@kade-test.example"), "names the Message-ID: {err}");
    // The ambiguity is real: the server did queue it.
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).await.len(), 1);
    assert_eq!(m.lookup(&msg, 0).await, Ok(Lookup::Unknowable));
}

#[tokio::test]
async fn a_server_that_never_answers_after_data_is_in_doubt_after_the_timeout() {
    let server = TestSmtpServer::start(SmtpMode::HangAfterData).expect("smtp fixture");
    let mut cfg = server.smtp_config(FROM);
    cfg.timeout = Duration::from_millis(700);
    let err = messenger(cfg).send(&email("k", "a@example.org", "s", "t")).await.unwrap_err();
    assert!(matches!(err, SendError::InDoubt { .. }), "{err:?}");
}

#[tokio::test]
async fn nobody_listening_is_transient_and_bad_addresses_are_permanent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = TestSmtpServer::start(SmtpMode::Accept).expect("smtp fixture");
    let mut cfg = server.smtp_config(FROM);
    cfg.port = port;
    let err = messenger(cfg).send(&email("k", "a@example.org", "s", "t")).await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");

    let m = messenger(server.smtp_config(FROM));
    for to in ["not-an-address", "a@example.org>\r\nRCPT TO:<b@example.org"] {
        let err = m.send(&email("k", to, "s", "t")).await.unwrap_err();
        assert!(matches!(&err, SendError::Permanent { code, .. } if code == "invalid_message"), "{to}: {err:?}");
    }
    assert!(server.messages().is_empty());
}

#[test]
fn invalid_configs_name_the_field() {
    let cfg = SmtpConfig {
        host: "smtp.example".into(),
        port: 587,
        tls: kade_messaging::SmtpTls::StartTls,
        username: Some("u".into()),
        password: None,
        from: "shop@example.com".into(),
        timeout: Duration::from_secs(5),
    };
    let err = Messenger::new(Some(cfg.clone()), None, None).unwrap_err();
    assert!(err.to_string().starts_with("smtp.username"), "{err}");
    let err = Messenger::new(Some(SmtpConfig { from: "nope".into(), password: Some("p".into()), ..cfg }), None, None)
        .unwrap_err();
    assert!(err.to_string().starts_with("smtp.from"), "{err}");
}
