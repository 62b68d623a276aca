//! TLS for the integration tests: certificates made with the `openssl` CLI in a temporary
//! directory, and a `redis-server` that serves TLS only (`--port 0 --tls-port N`).
//!
//! [`RedisServer::start_with`](crate::redis_server::RedisServer::start_with) always passes
//! `--port` and checks readiness with a plain-text PING on it, which a TLS-only server does
//! not answer, so [`TlsRedisServer`] builds its own command and shares only the wait for
//! readiness.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::redis_server::spawn_until_ready;

/// What rustls reports for a certificate no trusted root signed.
pub const UNKNOWN_ISSUER: &str = "invalid peer certificate: UnknownIssuer";

/// What rustls reports when a server that asks for a client certificate got none.
pub const CERTIFICATE_REQUIRED: &str = "received fatal alert: CertificateRequired";

/// What rustls reports when the server does not know the CA of the client certificate.
pub const UNKNOWN_CA: &str = "received fatal alert: UnknownCA";

/// The `openssl` binary the certificates are made with.
pub const OPENSSL: &str = "/usr/bin/openssl";

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cache-tests-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(OPENSSL)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {OPENSSL} (needed to make test certificates): {e}"));
    assert!(
        out.status.success(),
        "openssl {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

/// A test PKI: a CA, a server certificate it signed for `127.0.0.1` and `localhost`, a
/// second, unrelated CA, and a client certificate from each CA. Files live in a temp dir as
/// long as this value does.
pub struct TestPki {
    dir: TempDir,
    /// The CA's certificate (PEM): trusting it makes the server's certificate valid.
    pub ca_pem: Vec<u8>,
    /// Another CA's certificate (PEM), which signed nothing the server shows.
    pub other_ca_pem: Vec<u8>,
    /// A client certificate the CA signed (PEM), which a server asking for one accepts.
    pub client_cert_pem: Vec<u8>,
    /// Its private key (PEM, PKCS#8).
    pub client_key_pem: Vec<u8>,
    /// A client certificate the other CA signed (PEM), which the server does not accept.
    pub other_client_cert_pem: Vec<u8>,
    /// Its private key (PEM, PKCS#8).
    pub other_client_key_pem: Vec<u8>,
}

/// `openssl req` arguments for a new P-256 key, unencrypted, whose file name comes next.
const NEW_KEY: [&str; 6] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
];

/// Makes `{name}.key` and `{name}.crt`, a certificate for `subject` that `ca` signed with
/// the extensions in `ext`.
fn signed(dir: &Path, name: &str, subject: &str, ca: &str, ext: &str) {
    openssl(
        dir,
        &[
            &["req"][..],
            &NEW_KEY,
            &[
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                subject,
            ],
        ]
        .concat(),
    );
    std::fs::write(dir.join(format!("{name}.ext")), ext)
        .unwrap_or_else(|e| panic!("writing {name}.ext: {e}"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

impl TestPki {
    /// Makes the keys and certificates (P-256 keys, valid for two days).
    pub fn new() -> TestPki {
        let dir = TempDir::new("pki");
        let d = dir.0.as_path();
        for name in ["ca", "other-ca"] {
            openssl(
                d,
                &[
                    &["req", "-x509"][..],
                    &NEW_KEY,
                    &[
                        &format!("{name}.key"),
                        "-out",
                        &format!("{name}.crt"),
                        "-days",
                        "2",
                        "-subj",
                        &format!("/CN=cache-tests {name}"),
                        "-addext",
                        "basicConstraints=critical,CA:TRUE",
                        "-addext",
                        "keyUsage=critical,keyCertSign,cRLSign",
                    ],
                ]
                .concat(),
            );
        }
        // Also for client authentication: the nodes of a TLS cluster show it to each other,
        // and Redis always asks for a client certificate on the cluster bus.
        signed(
            d,
            "server",
            "/CN=localhost",
            "ca",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth,clientAuth\n",
        );
        let client_ext = "basicConstraints=critical,CA:FALSE\n\
                          keyUsage=critical,digitalSignature\n\
                          extendedKeyUsage=clientAuth\n";
        signed(d, "client", "/CN=cache-tests client", "ca", client_ext);
        signed(
            d,
            "other-client",
            "/CN=cache-tests other client",
            "other-ca",
            client_ext,
        );
        TestPki {
            ca_pem: read(d, "ca.crt"),
            other_ca_pem: read(d, "other-ca.crt"),
            client_cert_pem: read(d, "client.crt"),
            client_key_pem: read(d, "client.key"),
            other_client_cert_pem: read(d, "other-client.crt"),
            other_client_key_pem: read(d, "other-client.key"),
            dir,
        }
    }

    /// `redis-server` arguments for a TLS-only server on `port` (`--port 0`) showing the
    /// server certificate, and asking clients for one or not.
    pub fn tls_args(&self, command: &mut Command, port: u16, clients: ClientCerts) {
        let ask = match clients {
            ClientCerts::NotAsked => "no",
            ClientCerts::Required => "yes",
        };
        command
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(self.path("server.crt"))
            .arg("--tls-key-file")
            .arg(self.path("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(self.path("ca.crt"))
            .args(["--tls-auth-clients", ask]);
    }

    /// The path of one of the files (`ca.crt`, `server.crt`, `server.key`, ...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a TLS server asks its clients for a certificate (`--tls-auth-clients`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientCerts {
    /// It does not (`no`): any client may connect.
    NotAsked,
    /// Only a client with a certificate the CA signed may connect (`yes`: mutual TLS).
    Required,
}

/// A `redis-server` that serves TLS only, on a free loopback port; killed when dropped.
pub struct TlsRedisServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl TlsRedisServer {
    /// Starts a TLS-only server with `pki`'s server certificate, not asking clients for
    /// certificates (`--tls-auth-clients no`). Panics with the install hint when
    /// `redis-server` is missing.
    pub fn start(pki: &TestPki) -> TlsRedisServer {
        Self::start_asking(pki, ClientCerts::NotAsked)
    }

    /// Starts a TLS-only server that asks clients for a certificate or not.
    pub fn start_asking(pki: &TestPki, clients: ClientCerts) -> TlsRedisServer {
        let mut last_err = String::new();
        for _ in 0..5 {
            match Self::try_start(pki, clients) {
                Ok(server) => return server,
                Err(e) => last_err = e,
            }
        }
        panic!("could not start a TLS redis-server: {last_err}");
    }

    fn try_start(pki: &TestPki, clients: ClientCerts) -> Result<TlsRedisServer, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free loopback port: {e}"))?;
        let dir = TempDir::new("redis-tls");
        let mut command = Command::new("redis-server");
        pki.tls_args(&mut command, port, clients);
        command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&dir.0);
        let child = spawn_until_ready(command, &format!("redis-server (TLS port {port})"))?;
        Ok(TlsRedisServer {
            child,
            port,
            _dir: dir,
        })
    }

    /// The TLS port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rediss://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsRedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
