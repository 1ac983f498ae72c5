//! TLS for the PostgreSQL store through rustls, with libpq's `sslmode` meanings: `prefer`
//! and `require` encrypt without checking the certificate, `verify-ca` checks it chains to a
//! trusted root, `verify-full` also checks it names the host. Trusted roots are the
//! platform's (the same verifier reqwest uses for Salesforce).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertCheck {
    /// Encrypt only (libpq `prefer`, `require`): any certificate, handshake still verified.
    None,
    /// The chain to a trusted root, not the name (`verify-ca`).
    Chain,
    /// Chain and host name (`verify-full`).
    Full,
}

#[derive(Debug)]
struct Verifier {
    platform: Arc<dyn ServerCertVerifier>,
    check: CertCheck,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.check == CertCheck::None {
            return Ok(ServerCertVerified::assertion());
        }
        let verified = self.platform.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == CertCheck::Chain => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    // Whatever the mode, the server must prove it holds the certificate's key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.platform.supported_verify_schemes()
    }
}

/// A tokio-postgres TLS connector for `check`, on the ring provider (set explicitly: this
/// may run before `main` installs the process default, e.g. in tests).
pub fn connector(
    check: CertCheck,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let platform = rustls_platform_verifier::Verifier::new(provider.clone())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier {
            platform: Arc::new(platform),
            check,
        }))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
