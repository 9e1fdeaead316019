//! A Python interpreter for the tests that drive tools Kade did not write: aiosmtpd (the SMTP
//! server of the email tests) and prometheus_client (the exposition parsers `/metrics` is checked
//! with). The packages are pinned in `tests/fixtures/python-requirements.txt`.
//!
//! The system `python3` is used when it imports every one of them; otherwise a virtualenv is
//! created once under the cargo target directory (`kade-test-venv`, guarded by a lock directory so
//! parallel test binaries do not race) and rebuilt when the requirements change. `.ci/run`
//! prepares the same venv before the tests. `KADE_TEST_PYTHON` overrides the interpreter.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The pinned requirements (`name==version` lines; `#` comments).
pub const REQUIREMENTS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/python-requirements.txt");
const REQUIREMENTS: &str = include_str!("../../tests/fixtures/python-requirements.txt");

/// The modules the requirements provide (each package here is imported under its own name).
fn modules() -> Vec<&'static str> {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split("==").next().unwrap_or(l).trim())
        .collect()
}

fn imports_all(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {}", modules().join(", "))])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The cargo target directory this test binary was built into (`<target>/debug/deps/<bin>`).
fn target_dir() -> PathBuf {
    if let Ok(d) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().find(|a| a.file_name().is_some_and(|n| n == "deps")).map(Path::to_path_buf))
        .and_then(|deps| deps.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(std::env::temp_dir)
}

/// An interpreter that can import every pinned package, creating the venv once if needed (the
/// answer is remembered for the life of the test process).
pub fn test_python() -> Result<PathBuf, String> {
    static FOUND: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    FOUND.get_or_init(find_python).clone()
}

fn find_python() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("KADE_TEST_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let system = PathBuf::from("python3");
    if imports_all(&system) {
        return Ok(system);
    }
    let venv = target_dir().join("kade-test-venv");
    let python = venv.join("bin").join("python");
    // Holds the requirements it was built from: a changed list rebuilds the venv.
    let ready = venv.join(".kade-ready");
    let lock = target_dir().join("kade-test-venv.lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if std::fs::read_to_string(&ready).is_ok_and(|r| r == REQUIREMENTS) && imports_all(&python) {
            return Ok(python);
        }
        match std::fs::create_dir(&lock) {
            Ok(()) => {
                let result = create_venv(&venv, &ready);
                let _ = std::fs::remove_dir(&lock);
                result?;
                return Ok(python);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another test binary is installing; a lock older than 10 minutes is stale.
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(600));
                if stale {
                    let _ = std::fs::remove_dir(&lock);
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "timed out waiting for {} (remove it if no install is running)",
                        lock.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => return Err(format!("cannot create {}: {e}", lock.display())),
        }
    }
}

fn create_venv(venv: &Path, ready: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(venv);
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    run(Command::new("python3").arg("-m").arg("venv").arg(venv), "python3 -m venv (install python3-venv?)")?;
    run(
        Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "-r", REQUIREMENTS_FILE]),
        "pip install -r python-requirements.txt",
    )?;
    std::fs::write(ready, REQUIREMENTS).map_err(|e| format!("cannot write {}: {e}", ready.display()))
}
