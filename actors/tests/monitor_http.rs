//! The monitor's HTTP endpoint: real requests on loopback.

use std::net::SocketAddr;

use agentix::{
    actors::monitor::{MonitorConfig, MonitorRef},
    prelude::*,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Agent, Default)]
struct Worker;

#[handlers]
impl Worker {
    #[handle]
    fn work(&mut self) {}
}

/// A plain HTTP/1.1 GET; the status line and the body.
async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

#[agentix::test]
async fn metrics_and_snapshot_are_served_on_loopback() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    let worker = swarm.spawn("worker", Worker::default).await.unwrap();
    for _ in 0..5 {
        worker.work().await.unwrap();
    }
    let server = monitor.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    assert!(server.addr().ip().is_loopback());
    assert_ne!(server.addr().port(), 0, "the port chosen is reported");

    let (status, body) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        get(server.addr(), "/metrics"),
    )
    .await
    .expect("an answer within 5 s");
    assert!(status.contains("200"), "{status}");
    assert!(
        body.contains(r#"agentix_messages_handled_total{kind="worker"} 5"#),
        "{body}"
    );

    let (status, body) = get(server.addr(), "/snapshot").await;
    assert!(status.contains("200"), "{status}");
    // Chunked or not, the JSON object is between the outer braces.
    let json = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
    let snapshot: serde_json::Value = serde_json::from_str(json).unwrap();
    let kinds = snapshot["kinds"].as_array().unwrap();
    let workers = kinds.iter().find(|k| k["kind"] == "worker").unwrap();
    assert_eq!(workers["handled"], 5);

    let (status, _) = get(server.addr(), "/nothing").await;
    assert!(status.contains("404"), "{status}");
    server.stop().await;
    swarm.shutdown().await.unwrap();
}
