//! Encryption of secrets at rest (principle 10).
//!
//! API keys and hook secrets are stored only as ciphertext. The envelope is
//! `v1:` + base64(nonce || ciphertext || tag) with ChaCha20-Poly1305 and a random 12-byte nonce.
//! The version prefix leaves room for key rotation (a `v2:` with a key id) without guessing.
//! ring is already Kade's crypto provider (rustls), so no second crypto stack is pulled in.
//!
//! Random 96-bit nonces are safe here because the number of encryptions under one key is tiny
//! (one per stored secret, not per message): far below the ~2^32 where collisions start to matter.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;

const PREFIX: &str = "v1:";
/// Shortest key material accepted: anything shorter is a password, not a key.
const MIN_KEY_MATERIAL: usize = 16;
const ENV_KEY: &str = "KADE_MASTER_KEY";
const ENV_KEY_FILE: &str = "KADE_MASTER_KEY_FILE";

/// Why a master key could not be loaded or a secret could not be decrypted.
#[derive(Debug, Error)]
pub enum CryptoError {
    #[error("no master key: set KADE_MASTER_KEY or KADE_MASTER_KEY_FILE")]
    MissingKey,
    #[error("master key too short: {len} bytes, at least {MIN_KEY_MATERIAL} required")]
    WeakKey { len: usize },
    #[error("cannot read the master key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not a Kade secret envelope (expected \"v1:\" followed by base64)")]
    BadEnvelope,
    /// Wrong key or altered ciphertext; AEAD cannot tell which, and neither do we.
    #[error("secret could not be decrypted: wrong master key or corrupted ciphertext")]
    Decrypt,
    #[error("the system random generator failed")]
    Random,
}

/// Encrypts and decrypts secrets with the master key. Cheap to clone (shared key).
#[derive(Clone)]
pub struct SecretBox {
    key: Arc<LessSafeKey>,
    rng: SystemRandom,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox { key: <redacted> }")
    }
}

impl SecretBox {
    /// Builds a box from key material. Exactly 32 bytes are used as the key; any other length
    /// (a passphrase, a hex or base64 string) is hashed with SHA-256, so operators can paste
    /// whatever `openssl rand -base64 32` gave them without thinking about encodings.
    pub fn from_key_material(material: &[u8]) -> Result<Self, CryptoError> {
        if material.len() < MIN_KEY_MATERIAL {
            return Err(CryptoError::WeakKey { len: material.len() });
        }
        let digest;
        let key_bytes: &[u8] = if material.len() == 32 {
            material
        } else {
            digest = ring::digest::digest(&ring::digest::SHA256, material);
            digest.as_ref()
        };
        // CHACHA20_POLY1305 accepts any 32-byte key and key_bytes is always 32 bytes long here.
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, key_bytes).expect("a 32-byte ChaCha20 key");
        Ok(SecretBox { key: Arc::new(LessSafeKey::new(unbound)), rng: SystemRandom::new() })
    }

    /// Loads the key from `KADE_MASTER_KEY`, else from the file named by `KADE_MASTER_KEY_FILE`
    /// (surrounding whitespace trimmed, so a trailing newline from `echo` does not change the key).
    pub fn from_env() -> Result<Self, CryptoError> {
        if let Ok(key) = std::env::var(ENV_KEY)
            && !key.trim().is_empty()
        {
            return Self::from_key_material(key.trim().as_bytes());
        }
        let path = std::env::var(ENV_KEY_FILE).map_err(|_| CryptoError::MissingKey)?;
        let bytes = std::fs::read(&path).map_err(|source| CryptoError::KeyFile { path: path.clone(), source })?;
        Self::from_key_material(bytes.trim_ascii())
    }

    /// Encrypts `plaintext` into a self-describing text envelope, safe to store in a TEXT column.
    ///
    /// # Panics
    /// Only if the operating system's random generator fails, where continuing would risk
    /// nonce reuse; ring's generator does not fail on supported platforms.
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        self.try_encrypt(plaintext).expect("system random generator failed")
    }

    /// Like [`SecretBox::encrypt`], reporting a random-generator failure instead of panicking.
    pub fn try_encrypt(&self, plaintext: &[u8]) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut buf = Vec::with_capacity(NONCE_LEN + plaintext.len() + CHACHA20_POLY1305.tag_len());
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(plaintext);
        let mut sealed = buf.split_off(NONCE_LEN);
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed)
            .map_err(|_| CryptoError::Random)?;
        buf.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", B64.encode(&buf)))
    }

    /// Decrypts an envelope made by [`SecretBox::encrypt`] with the same key.
    pub fn decrypt(&self, envelope: &str) -> Result<Vec<u8>, CryptoError> {
        let encoded = envelope.strip_prefix(PREFIX).ok_or(CryptoError::BadEnvelope)?;
        let raw = B64.decode(encoded.trim()).map_err(|_| CryptoError::BadEnvelope)?;
        if raw.len() < NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err(CryptoError::BadEnvelope);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::BadEnvelope)?;
        let mut sealed = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::empty(), &mut sealed).map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(key: &[u8]) -> SecretBox {
        SecretBox::from_key_material(key).unwrap()
    }

    #[test]
    fn round_trip_and_fresh_nonce_each_time() {
        let b = boxed(b"0123456789abcdef0123456789abcdef");
        let a1 = b.encrypt(b"api-key-123");
        let a2 = b.encrypt(b"api-key-123");
        assert!(a1.starts_with("v1:"));
        assert_ne!(a1, a2, "a random nonce makes equal secrets encrypt differently");
        assert_eq!(b.decrypt(&a1).unwrap(), b"api-key-123");
        assert_eq!(b.decrypt(&b.encrypt(b"")).unwrap(), b"");
    }

    #[test]
    fn rejects_short_material_and_garbage() {
        assert!(matches!(SecretBox::from_key_material(b"short"), Err(CryptoError::WeakKey { len: 5 })));
        let b = boxed(b"a long enough passphrase");
        assert!(matches!(b.decrypt("plain"), Err(CryptoError::BadEnvelope)));
        assert!(matches!(b.decrypt("v1:!!!"), Err(CryptoError::BadEnvelope)));
        assert!(matches!(b.decrypt("v1:AAAA"), Err(CryptoError::BadEnvelope)));
    }
}
