//! The certificates of `rediss://` connections (feature `tls`): the CA to trust instead of
//! the system roots, and the client certificate for servers that ask for one
//! (`tls-auth-clients yes`, mutual TLS). Checked when the cache is built, so that a file
//! that is not what it should be fails the build with its name, not every connection later.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::RedisOptions;
use crate::error::{Error, Result};

/// A client certificate chain and its private key, both PEM.
#[derive(Clone)]
pub(crate) struct ClientCert {
    pub(crate) cert: Vec<u8>,
    pub(crate) key: Vec<u8>,
}

/// The certificates to hand redis-rs, or `None` when the builder set none (the system
/// roots, no client certificate).
pub(crate) fn certificates(options: &RedisOptions) -> Result<Option<redis::TlsCertificates>> {
    if options.tls_root_cert.is_none() && options.tls_client_cert.is_none() {
        return Ok(None);
    }
    if let Some(root) = &options.tls_root_cert {
        check_certificates("tls_root_cert", root)?;
    }
    let client_tls = match &options.tls_client_cert {
        Some(client) => {
            check_certificates("tls_client_cert", &client.cert)?;
            PrivateKeyDer::from_pem_slice(&client.key).map_err(|e| {
                Error::config(format_args!(
                    "tls_client_cert: the key is not a PEM private key ({e})"
                ))
            })?;
            Some(redis::ClientTlsConfig {
                client_cert: client.cert.clone(),
                client_key: client.key.clone(),
            })
        }
        None => None,
    };
    Ok(Some(redis::TlsCertificates {
        client_tls,
        root_cert: options.tls_root_cert.clone(),
    }))
}

/// Checks that `pem` holds at least one certificate and that each parses; an error names
/// `what`.
fn check_certificates(what: &str, pem: &[u8]) -> Result<()> {
    let mut any = false;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| Error::config(format_args!("{what}: unreadable PEM ({e})")))?;
        any = true;
    }
    if !any {
        return Err(Error::config(format_args!(
            "{what}: no PEM certificate in {} bytes",
            pem.len()
        )));
    }
    Ok(())
}
