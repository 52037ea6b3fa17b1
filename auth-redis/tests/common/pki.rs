//! Certificates generated for the TLS tests (a private CA, a server certificate for
//! `localhost`, a client certificate) and a private `redis-server` with a TLS port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use auth_redis::test_util::{RedisServer, private_redis_server_with, unique_prefix};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

/// A CA and what it signed, as PEM files in a private directory removed on drop.
pub(crate) struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Pki {
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn ca(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    (params.self_signed(&key).unwrap(), key)
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &(Certificate, KeyPair),
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &issuer.0, &issuer.1).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// `ca.pem` (trusted), `other-ca.pem` (not the server's), `server.pem`/`server.key` (for
/// `localhost` only), `client.pem`/`client.key` (signed by the CA).
pub(crate) fn pki() -> Pki {
    let dir = std::env::temp_dir().join(unique_prefix("auth-redis-tls").replace(':', "-"));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki { dir };
    let trusted = ca("auth-redis test ca");
    let other = ca("some other ca");
    let (server_cert, server_key) = leaf(
        &["localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &trusted,
    );
    let (client_cert, client_key) =
        leaf(&["client"], ExtendedKeyUsagePurpose::ClientAuth, &trusted);
    let write = |name: &str, pem: &str| std::fs::write(pki.path(name), pem).unwrap();
    write("ca.pem", &trusted.0.pem());
    write("other-ca.pem", &other.0.pem());
    write("server.pem", &server_cert);
    write("server.key", &server_key);
    write("client.pem", &client_cert);
    write("client.key", &client_key);
    pki
}

/// A private server with a TLS port (and its plain port for the readiness probe).
pub(crate) fn tls_server(pki: &Pki, auth_clients: bool) -> Option<(RedisServer, u16)> {
    let tls_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let arg = |p: &Path| p.display().to_string();
    let args = vec![
        "--tls-port".to_owned(),
        tls_port.to_string(),
        "--tls-cert-file".to_owned(),
        arg(&pki.path("server.pem")),
        "--tls-key-file".to_owned(),
        arg(&pki.path("server.key")),
        "--tls-ca-cert-file".to_owned(),
        arg(&pki.path("ca.pem")),
        "--tls-auth-clients".to_owned(),
        if auth_clients { "yes" } else { "no" }.to_owned(),
    ];
    let server = private_redis_server_with(&args).expect("a private tls redis-server")?;
    Some((server, tls_port))
}
