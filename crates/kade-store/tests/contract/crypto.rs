//! SecretBox: the envelope used for every secret the store keeps.

use kade_store::{CryptoError, SecretBox};

#[test]
fn round_trip() {
    let b = SecretBox::from_key_material(&[7u8; 32]).unwrap();
    let env = b.encrypt("sécret ✓".as_bytes());
    assert!(env.starts_with("v1:"));
    assert_eq!(b.decrypt(&env).unwrap(), "sécret ✓".as_bytes());
}

#[test]
fn tampered_ciphertext_is_rejected() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let b = SecretBox::from_key_material(b"a master key of some length").unwrap();
    let env = b.encrypt(b"api key");
    let mut raw = engine.decode(env.strip_prefix("v1:").unwrap()).unwrap();
    for i in [0, 12, raw.len() - 1] {
        raw[i] ^= 0x01;
        let tampered = format!("v1:{}", engine.encode(&raw));
        assert!(matches!(b.decrypt(&tampered), Err(CryptoError::Decrypt)), "byte {i} flipped");
        raw[i] ^= 0x01;
    }
    assert!(matches!(b.decrypt(&format!("v2:{}", engine.encode(&raw))), Err(CryptoError::BadEnvelope)));
}

#[test]
fn wrong_key_is_rejected() {
    let a = SecretBox::from_key_material(b"first master key material").unwrap();
    let b = SecretBox::from_key_material(b"other master key material").unwrap();
    assert!(matches!(b.decrypt(&a.encrypt(b"api key")), Err(CryptoError::Decrypt)));
}

#[test]
fn debug_hides_the_key() {
    let material = b"visible-key-material-0123456789!";
    let b = SecretBox::from_key_material(material).unwrap();
    let shown = format!("{b:?} {b:#?}");
    assert!(shown.contains("redacted"));
    assert!(!shown.contains("visible-key"), "{shown}");
}

#[test]
fn from_env_reads_the_variable_or_the_file() {
    let dir = std::env::temp_dir().join(format!("kade_key_{}", std::process::id()));
    std::fs::write(&dir, b"key material from a file\n").unwrap();
    // Setting variables in this process is `unsafe` in edition 2024 (and the workspace forbids
    // unsafe code), so each case runs in a child process with its own environment.
    let exe = std::env::current_exe().unwrap();
    let run = |vars: &[(&str, &std::ffi::OsStr)]| {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["--exact", "crypto::from_env_child", "--nocapture", "--include-ignored"]);
        cmd.env_remove("KADE_MASTER_KEY").env_remove("KADE_MASTER_KEY_FILE");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    };
    let by_file = run(&[("KADE_MASTER_KEY_FILE", dir.as_os_str())]);
    let by_var = run(&[("KADE_MASTER_KEY", "key material from a file".as_ref())]);
    let missing = run(&[]);
    std::fs::remove_file(&dir).unwrap();
    let line = |out: &str| out.lines().find(|l| l.starts_with("KEYCHECK ")).map(str::to_string);
    assert_eq!(line(&by_file), Some("KEYCHECK ok".into()), "{by_file}");
    assert_eq!(line(&by_var), Some("KEYCHECK ok".into()), "file and variable give the same key (newline trimmed)");
    assert_eq!(line(&missing), Some("KEYCHECK missing".into()), "{missing}");
}

/// Child half of `from_env_reads_the_variable_or_the_file`; ignored when run directly.
#[test]
#[ignore = "run as a child process by from_env_reads_the_variable_or_the_file"]
fn from_env_child() {
    let reference = SecretBox::from_key_material(b"key material from a file").unwrap();
    match SecretBox::from_env() {
        Ok(b) => {
            let ok = reference.decrypt(&b.encrypt(b"x")).is_ok();
            println!("KEYCHECK {}", if ok { "ok" } else { "different-key" });
        }
        Err(CryptoError::MissingKey) => println!("KEYCHECK missing"),
        Err(e) => println!("KEYCHECK error {e}"),
    }
}
