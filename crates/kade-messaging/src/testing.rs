//! Test support (used by this crate's tests and by the automations' end-to-end tests): a real
//! SMTP server that Kade did not write — Python's aiosmtpd — started on a free port, scripted to
//! accept, refuse (451/550 at RCPT or DATA), drop the connection after DATA, or hang.
//!
//! aiosmtpd comes from [`test_python`]: the system `python3` when it has the pinned packages,
//! otherwise a virtualenv created once under the cargo target directory.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::config::{SmtpConfig, SmtpTls};

mod python;
pub use python::{REQUIREMENTS_FILE, test_python};

/// The fixture script (kept as a file so it can also be run by hand).
pub const SMTP_SERVER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp_server.py");

/// How the test server behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpMode {
    Accept,
    /// Answer this code (e.g. 451, 550) to RCPT TO.
    RejectRcpt(u16),
    /// Receive the message, then answer this code instead of 250.
    RejectData(u16),
    /// Store the message, then drop the connection before the 250 (the in-doubt case).
    DropAfterData,
    /// Store the message, then never answer.
    HangAfterData,
}

impl SmtpMode {
    fn arg(&self) -> String {
        match self {
            SmtpMode::Accept => "accept".into(),
            SmtpMode::RejectRcpt(c) => format!("reject-rcpt:{c}"),
            SmtpMode::RejectData(c) => format!("reject-data:{c}"),
            SmtpMode::DropAfterData => "drop-after-data".into(),
            SmtpMode::HangAfterData => "hang-after-data".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TestSmtpOptions {
    pub mode: SmtpMode,
    /// Require AUTH with these credentials.
    pub auth: Option<(String, String)>,
    /// Offer only AUTH LOGIN (not PLAIN).
    pub login_only: bool,
    /// Offer (and require) STARTTLS with this certificate chain and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With `tls`: TLS from the first byte (port-465 style) instead of STARTTLS.
    pub implicit_tls: bool,
}

impl TestSmtpOptions {
    pub fn mode(mode: SmtpMode) -> Self {
        TestSmtpOptions { mode, auth: None, login_only: false, tls: None, implicit_tls: false }
    }
}

/// One message as the server stored it, with what Python's email parser decoded from it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The message as received (after un-dot-stuffing), CRLF line endings.
    pub raw: String,
    /// Subject decoded from its RFC 2047 words.
    pub subject: String,
    /// The text body decoded from its transfer encoding and charset.
    pub text: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running aiosmtpd; stopped (and its directory removed) on drop.
pub struct TestSmtpServer {
    child: Child,
    // Held open: the script exits when it sees EOF, so a killed test leaves no server behind.
    _stdin: Option<ChildStdin>,
    port: u16,
    dir: PathBuf,
    auth: Option<(String, String)>,
}

impl std::fmt::Debug for TestSmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSmtpServer").field("port", &self.port).field("dir", &self.dir).finish()
    }
}

impl TestSmtpServer {
    pub fn start(mode: SmtpMode) -> Result<Self, String> {
        Self::start_with(TestSmtpOptions::mode(mode))
    }

    pub fn start_with(opts: TestSmtpOptions) -> Result<Self, String> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let python = test_python()?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "kade-smtp-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut cmd = Command::new(&python);
        cmd.arg(SMTP_SERVER_SCRIPT).arg("--dir").arg(&dir).arg("--mode").arg(opts.mode.arg());
        if let Some((u, p)) = &opts.auth {
            cmd.arg("--auth").arg(format!("{u}:{p}"));
        }
        if opts.login_only {
            cmd.arg("--login-only");
        }
        if let Some((cert, key)) = &opts.tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            if opts.implicit_tls {
                cmd.arg("--implicit-tls");
            }
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {} {SMTP_SERVER_SCRIPT}: {e}", python.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let Some(port) = line.trim().strip_prefix("READY ").and_then(|p| p.parse::<u16>().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the SMTP fixture did not start (said {line:?}); see its stderr above"));
        };
        let stdin = child.stdin.take();
        Ok(TestSmtpServer { child, _stdin: stdin, port, dir, auth: opts.auth })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A client configuration for this server (plain text; credentials when AUTH is required).
    pub fn smtp_config(&self, from: &str) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::None,
            username: self.auth.as_ref().map(|a| a.0.clone()),
            password: self.auth.as_ref().map(|a| a.1.clone()),
            from: from.into(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Every message stored so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|s| serde_json::from_str(&s).ok())
            .collect()
    }

    /// Waits until at least `n` messages are stored (or `within` passes) and returns them all.
    pub async fn wait_for_messages(&self, n: usize, within: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
