//! The monitor over HTTP (feature `http`): `GET /metrics` answers the
//! Prometheus text, `GET /snapshot` the JSON snapshot, on an address the
//! user chooses (loopback unless told otherwise).

use std::{io, net::SocketAddr};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, get, web};

use super::MonitorRef;

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A running metrics endpoint; [`stop`](Self::stop) ends it, and so does
/// the end of the actix system it runs in.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl MetricsServer {
    /// The address it listens on (with the port the system chose for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting requests and waits for those in flight.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

#[get("/metrics")]
async fn metrics(monitor: web::Data<MonitorRef>) -> HttpResponse {
    match monitor.prometheus().await {
        Ok(text) => HttpResponse::Ok().content_type(OPENMETRICS).body(text),
        Err(err) => HttpResponse::ServiceUnavailable().body(err.to_string()),
    }
}

#[get("/snapshot")]
async fn snapshot(monitor: web::Data<MonitorRef>) -> HttpResponse {
    match monitor.snapshot().await {
        Ok(snapshot) => HttpResponse::Ok().json(snapshot),
        Err(err) => HttpResponse::ServiceUnavailable().body(err.to_string()),
    }
}

impl MonitorRef {
    /// Serves `/metrics` and `/snapshot` on `addr` (for example
    /// `127.0.0.1:9090`; port 0 picks a free one) from one worker thread.
    /// Call it inside the actix system the swarm runs in (`#[agentix::main]`).
    pub async fn serve(&self, addr: SocketAddr) -> io::Result<MetricsServer> {
        let monitor = web::Data::new(self.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(monitor.clone())
                .service(metrics)
                .service(snapshot)
        })
        .workers(1)
        .disable_signals()
        .bind(addr)?;
        let addr = server.addrs().first().copied().unwrap_or(addr);
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(MetricsServer { addr, handle })
    }
}
