//! SMTP over TLS (STARTTLS and implicit) and AUTH LOGIN against aiosmtpd, with a throw-away CA
//! made by the `openssl` command line tool.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kade_messaging::testing::{SmtpMode, TestSmtpOptions, TestSmtpServer};
use kade_messaging::{Messenger, MessengerOptions, Outbound, OutboundBody, SendError, SmtpTls};

struct Certs {
    _dir: TempDir,
    ca_pem: String,
    chain: PathBuf,
    key: PathBuf,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command line tool");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and a `localhost` certificate it signed.
fn certs() -> Certs {
    let dir = std::env::temp_dir().join(format!("kade-smtp-tls-{}-{}", std::process::id(), fastid()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Kade Test CA"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(&dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
    openssl(&dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let ca_pem = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    Certs { ca_pem, chain: dir.join("leaf.pem"), key: dir.join("leaf.key"), _dir: TempDir(dir) }
}

fn fastid() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn email(key: &str) -> Outbound {
    Outbound {
        key: key.into(),
        body: OutboundBody::Email { to: "jan@example.org".into(), subject: "Beveiligd".into(), text: "via TLS".into() },
    }
}

async fn send_over(
    server: &TestSmtpServer,
    tls: SmtpTls,
    roots: Option<String>,
) -> Result<kade_messaging::Sent, SendError> {
    let mut cfg = server.smtp_config("shop@kade-test.example");
    cfg.host = "localhost".into();
    cfg.tls = tls;
    let options = MessengerOptions { smtp_extra_roots_pem: roots, ..Default::default() };
    Messenger::with_options(Some(cfg), None, None, options).unwrap().send(&email("tls-1")).await
}

#[tokio::test]
async fn starttls_with_auth_delivers_and_an_unknown_ca_is_refused() {
    let c = certs();
    let opts = TestSmtpOptions {
        auth: Some(("kade".into(), "pw".into())),
        tls: Some((c.chain.clone(), c.key.clone())),
        ..TestSmtpOptions::mode(SmtpMode::Accept)
    };
    let server = TestSmtpServer::start_with(opts).expect("smtp fixture");
    send_over(&server, SmtpTls::StartTls, Some(c.ca_pem.clone())).await.expect("sent over STARTTLS");
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).await.len(), 1);

    // Without trusting the test CA the certificate check fails: nothing is sent in the clear.
    let err = send_over(&server, SmtpTls::StartTls, None).await.unwrap_err();
    assert!(matches!(&err, SendError::Transient { reason, .. } if reason.contains("TLS")), "{err:?}");
    // Plain text to a server that requires STARTTLS is refused by the server (530, permanent).
    let err = send_over(&server, SmtpTls::None, None).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let c = certs();
    let opts = TestSmtpOptions {
        tls: Some((c.chain.clone(), c.key.clone())),
        implicit_tls: true,
        ..TestSmtpOptions::mode(SmtpMode::Accept)
    };
    let server = TestSmtpServer::start_with(opts).expect("smtp fixture");
    send_over(&server, SmtpTls::Implicit, Some(c.ca_pem.clone())).await.expect("sent over implicit TLS");
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn starttls_is_required_when_configured() {
    let server = TestSmtpServer::start(SmtpMode::Accept).expect("smtp fixture");
    let err = send_over(&server, SmtpTls::StartTls, None).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "starttls"), "{err:?}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn auth_login_is_used_when_plain_is_not_offered() {
    let opts = TestSmtpOptions {
        auth: Some(("kade".into(), "pw".into())),
        login_only: true,
        ..TestSmtpOptions::mode(SmtpMode::Accept)
    };
    let server = TestSmtpServer::start_with(opts).expect("smtp fixture");
    Messenger::new(Some(server.smtp_config("shop@kade-test.example")), None, None)
        .unwrap()
        .send(&email("login-1"))
        .await
        .expect("AUTH LOGIN");
    let mut bad = server.smtp_config("shop@kade-test.example");
    bad.password = Some("nope".into());
    let err = Messenger::new(Some(bad), None, None).unwrap().send(&email("login-2")).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "535"), "{err:?}");
    assert_eq!(server.messages().len(), 1);
}
