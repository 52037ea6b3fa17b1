//! Failures: a database that is unreachable, or that accepts connections but never answers,
//! fails each operation within the configured time limit as a backend failure (503
//! `AUTH_BACKEND_UNAVAILABLE`), and a database that comes back is used again without
//! rebuilding anything. The outage is a loopback TCP proxy in front of `DATABASE_URL`'s
//! server that the test stops and starts (cutting every open connection), so no server is
//! stopped.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_core::clock::UnixTime;
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_core::{AuthError, ErrorCode};
use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use auth_postgres::{PgBackend, PgRevocationStore};
use sqlx::postgres::PgConnectOptions;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const LIMIT: Duration = Duration::from_millis(300);
/// What "within the limit" allows on a loaded CI machine on top of the limit itself.
const SLACK: Duration = Duration::from_millis(700);

/// A TCP proxy from a loopback port to the database, that can be stopped (closing the
/// listener and every proxied connection) and started again on the same port.
struct Proxy {
    port: u16,
    target: (String, u16),
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: (String, u16)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = Self {
            port,
            target,
            tasks: Arc::default(),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: TcpListener) {
        let (tasks, target) = (Arc::clone(&self.tasks), self.target.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect((target.0.as_str(), target.1)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restart(&self) {
        // The port was just released; rebinding it can race the kernel briefly.
        for _ in 0..50 {
            if let Ok(l) = TcpListener::bind(("127.0.0.1", self.port)).await {
                self.serve(l);
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("could not rebind the proxy port");
    }
}

/// `url` with its host and port replaced by the loopback proxy's.
fn via(url: &str, port: u16) -> (String, (String, u16)) {
    let o: PgConnectOptions = url.parse().unwrap();
    let target = (o.get_host().to_owned(), o.get_port());
    let db = o.get_database().unwrap_or("postgres");
    (
        format!("postgres://{}@127.0.0.1:{port}/{db}", o.get_username()),
        target,
    )
}

fn token() -> TokenRef<'static> {
    TokenRef::new(Some("jti-1"), "alice", Some(UnixTime::from_secs(100)))
}

/// Asserts a failed check came back within the limit and is a 503 backend failure.
async fn fails_within_the_limit(store: &PgRevocationStore) {
    let started = Instant::now();
    let err = store
        .is_revoked(token(), UnixTime::from_secs(200))
        .await
        .expect_err("the database is unreachable");
    let took = started.elapsed();
    assert!(took < LIMIT + SLACK, "took {took:?}");
    let e = AuthError::from(err);
    assert_eq!(e.code(), ErrorCode::AuthBackendUnavailable);
    assert_eq!(e.code().http_status(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_fails_within_the_limit() {
    // A port nothing listens on: take a free one and release it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let pg = PgBackend::builder(format!("postgres://postgres@127.0.0.1:{port}/test"))
        .timeout(LIMIT)
        .build()
        .unwrap();
    let store = PgRevocationStore::new(pg);
    for _ in 0..3 {
        fails_within_the_limit(&store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_fails_within_the_limit() {
    // Accepts connections and holds them without a byte: the startup handshake never ends.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            conns.push(c);
        }
    });
    let pg = PgBackend::builder(format!("postgres://postgres@127.0.0.1:{port}/test"))
        .timeout(LIMIT)
        .max_connections(2)
        .build()
        .unwrap();
    let store = PgRevocationStore::new(pg);
    // More callers than connections: the waiting ones are bounded too.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { fails_within_the_limit(&store).await },
        ));
    }
    for t in tasks {
        t.await.unwrap();
    }
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_fast_and_the_store_recovers_without_a_restart() {
    let Some(url) = database_url_for_tests() else {
        return;
    };
    let (_, target) = via(&url, 0);
    let proxy = Proxy::start(target).await;
    let (proxied, _) = via(&url, proxy.port);
    let pg = PgBackend::builder(proxied)
        .schema(unique_schema("fail"))
        .timeout(LIMIT)
        .max_connections(4)
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), pg.migrate())
        .await
        .expect("migrations within 10 s")
        .unwrap();
    let store = PgRevocationStore::new(pg.clone())
        .with_clock(auth_core::clock::ManualClock::new(UnixTime::from_secs(150)));
    assert!(
        store
            .revoke_token(None, "jti-1", UnixTime::from_secs(1_000))
            .await
            .unwrap()
    );
    assert!(
        store
            .is_revoked(token(), UnixTime::from_secs(200))
            .await
            .unwrap()
    );

    // Outage: the listener is gone and every pooled connection is cut.
    proxy.stop();
    for _ in 0..3 {
        fails_within_the_limit(&store).await;
    }

    // Back: the same store answers again (each connection cut during the outage fails at most
    // one operation, then the pool opens new ones), and nothing was lost.
    proxy.restart().await;
    let mut answered = None;
    for attempt in 0..20 {
        match store.is_revoked(token(), UnixTime::from_secs(200)).await {
            Ok(v) => {
                answered = Some((attempt, v));
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let (attempt, revoked) = answered.expect("the store recovers once the database is back");
    assert!(revoked, "the revocation survived the outage");
    assert!(
        attempt <= 5,
        "recovered only after {attempt} failed attempts"
    );
    drop_schema(&pg).await.unwrap();
    proxy.stop();
}
