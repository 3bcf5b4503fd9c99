//! [`RedisTls`]: the certificates of a `rediss://` connection, and [`client`], the one place
//! that turns a URL and those certificates into a `redis::Client`.
//!
//! rustls needs exactly one crypto provider; this crate builds it with `ring` only and
//! installs that provider before the first TLS client is made (an application that installed
//! one already keeps its own).

use std::fmt;

use redis::{ClientTlsConfig, TlsCertificates};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

/// TLS settings of a Redis connection: the CA that signed the server's certificate (else the
/// system's roots), a client certificate and key for mutual TLS, and whether a
/// `rediss://...#insecure` URL (no certificate check at all) is allowed.
///
/// Built from PEM contents, checked as they are given, so that a bad file fails at start:
///
/// ```
/// use breaker_redis::store::RedisTls;
///
/// let err = RedisTls::default().with_ca(b"not a certificate".to_vec()).unwrap_err();
/// assert!(err.to_string().contains("no PEM certificate"), "{err}");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    ca: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
    allow_insecure: bool,
}

impl fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("RedisTls")
            .field("ca", &self.ca.is_some())
            .field("client_cert", &self.client.is_some())
            .field("allow_insecure", &self.allow_insecure)
            .finish()
    }
}

/// Why TLS settings, or a URL with them, were refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TlsError {
    /// The CA file holds no usable certificate.
    #[error("the CA certificate: {0}")]
    Ca(String),
    /// The client certificate file holds no usable certificate.
    #[error("the client certificate: {0}")]
    Cert(String),
    /// The client key file holds no usable private key.
    #[error("the client key: {0}")]
    Key(String),
    /// `rediss://...#insecure` turns certificate checks off, and that was not allowed.
    #[error(
        "the URL ends in #insecure, which turns off every certificate check; refused unless insecure TLS is explicitly allowed"
    )]
    Insecure,
    /// Certificates were given for a `redis://` URL, which would silently not use them.
    #[error("TLS certificates are set but the URL is not rediss://; use rediss:// or unset them")]
    NotTls,
}

impl RedisTls {
    /// The CA certificate(s) (PEM) that signed the server's certificate; without one the
    /// system's trusted roots are used.
    ///
    /// # Errors
    ///
    /// `pem` holds no certificate, or a malformed one.
    pub fn with_ca(mut self, pem: Vec<u8>) -> Result<Self, TlsError> {
        certificates(&pem).map_err(TlsError::Ca)?;
        self.ca = Some(pem);
        Ok(self)
    }

    /// A client certificate (chain) and its private key (PEM), for a server that asks clients
    /// for one (`tls-auth-clients yes`).
    ///
    /// # Errors
    ///
    /// Either holds nothing usable.
    pub fn with_client(mut self, cert: Vec<u8>, key: Vec<u8>) -> Result<Self, TlsError> {
        certificates(&cert).map_err(TlsError::Cert)?;
        PrivateKeyDer::from_pem_slice(&key)
            .map_err(|e| TlsError::Key(format!("no PEM private key ({e})")))?;
        self.client = Some((cert, key));
        Ok(self)
    }

    /// Allows `rediss://...#insecure` (no check of the server's certificate nor its name):
    /// for a test bench only, never in production.
    #[must_use]
    pub fn allow_insecure(mut self, allow: bool) -> Self {
        self.allow_insecure = allow;
        self
    }

    /// True when no certificate is set.
    pub fn has_certificates(&self) -> bool {
        self.ca.is_some() || self.client.is_some()
    }
}

fn certificates(pem: &[u8]) -> Result<usize, String> {
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| format!("a malformed PEM certificate ({e})"))?;
        count += 1;
    }
    if count == 0 {
        return Err("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)".into());
    }
    Ok(count)
}

/// True for a URL whose scheme asks for TLS.
pub fn is_tls_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("rediss://") || lower.starts_with("valkeys://")
}

/// True for a TLS URL whose fragment turns certificate checks off.
fn is_insecure(url: &str) -> bool {
    is_tls_url(url) && url.rsplit_once('#').is_some_and(|(_, f)| f == "insecure")
}

/// A client for `url` with `tls`: refuses `#insecure` unless allowed and certificates with a
/// plain `redis://` URL, and installs the crypto provider for a `rediss://` one.
///
/// # Errors
///
/// The URL is invalid, or refused as above.
pub fn client(url: &str, tls: &RedisTls) -> Result<redis::Client, super::StoreError> {
    match certificates_for(url, tls)? {
        Some(Some(certs)) => Ok(redis::Client::build_with_tls(url, certs)?),
        _ => Ok(redis::Client::open(url)?),
    }
}

/// What a TLS client of `url` needs: `None` for a plain URL; `Some(None)` for TLS with the
/// system's roots, `Some(Some(..))` with the given certificates.
pub(crate) fn certificates_for(
    url: &str,
    tls: &RedisTls,
) -> Result<Option<Option<TlsCertificates>>, TlsError> {
    if !is_tls_url(url) {
        return if tls.has_certificates() {
            Err(TlsError::NotTls)
        } else {
            Ok(None)
        };
    }
    if is_insecure(url) && !tls.allow_insecure {
        return Err(TlsError::Insecure);
    }
    install_provider();
    if !tls.has_certificates() {
        return Ok(Some(None));
    }
    Ok(Some(Some(TlsCertificates {
        client_tls: tls.client.as_ref().map(|(cert, key)| ClientTlsConfig {
            client_cert: cert.clone(),
            client_key: key.clone(),
        }),
        root_cert: tls.ca.clone(),
    })))
}

fn install_provider() {
    // Fails only when a provider is installed already, which then serves.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
