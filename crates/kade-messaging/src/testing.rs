//! Test support: a real SMTP server (Python's aiosmtpd) for tests of this crate and of callers.
