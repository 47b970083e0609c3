//! The CONNECT proxy clients reach the test domains through (`HTTPS_PROXY=http://127.0.0.1:PORT`): it answers
//! `CONNECT <host>.keyform.test:443` with 200, does the TLS handshake itself on the tunnel, and serves HTTP/1.1 on it,
//! handing each request to [`super::routing::route`]. A plain `GET /msi/token` is the managed identity endpoint
//! ([`super::managed_identity`]), answered on the connection itself. It logs one line per request (method, host, path, status):
//! never headers or bodies, which carry tokens and secret values.

use std::convert::Infallible;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::http::{Reply, Request};
use super::state::Shared;
use super::{managed_identity, routing};

const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Accepts proxy connections until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Shared,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(tunnel(stream, acceptor.clone(), shared.clone()));
                }
            }
            _ = &mut shutdown => break,
        }
    }
}

/// Reads the proxy request head byte by byte, so nothing of the TLS handshake that follows is consumed.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD_BYTES || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

async fn refuse(mut stream: TcpStream, status: &str) {
    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(answer.as_bytes()).await;
}

/// A plain-http request to the managed identity endpoint (origin-form, no body): answered and the connection closed.
async fn serve_managed_identity(mut stream: TcpStream, head: &str, shared: &Shared) {
    let mut lines = head.lines();
    let mut words = lines.next().unwrap_or_default().split_whitespace();
    let method = hyper::Method::from_bytes(words.next().unwrap_or_default().as_bytes()).unwrap_or(hyper::Method::GET);
    let target = words.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = hyper::HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(name.trim().as_bytes()),
                hyper::header::HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    let request = Request {
        method,
        host: "127.0.0.1".to_string(),
        path: path.to_string(),
        query: url::form_urlencoded::parse(query.as_bytes()).into_owned().collect(),
        headers,
        body: Bytes::new(),
    };
    let reply = managed_identity::token(shared, &request);
    eprintln!(
        "azure test server: {} http://127.0.0.1{} -> {}",
        request.method, request.path, reply.status
    );
    let reason = hyper::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Unknown");
    let mut answer = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        answer.push_str(&format!("{name}: {value}\r\n"));
    }
    answer.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut bytes = answer.into_bytes();
    bytes.extend_from_slice(&reply.body);
    let _ = stream.write_all(&bytes).await;
}

/// One proxy connection: CONNECT, then TLS, then HTTP/1.1 inside the tunnel.
async fn tunnel(mut stream: TcpStream, acceptor: TlsAcceptor, shared: Shared) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    if target.starts_with(managed_identity::PATH) {
        return serve_managed_identity(stream, &head, &shared).await;
    }
    if method != "CONNECT" {
        return refuse(stream, "405 Method Not Allowed").await;
    }
    let (host, port) = target.rsplit_once(':').unwrap_or((target, "443"));
    let host = host.to_ascii_lowercase();
    if port != "443" || !routing::accepts(&shared, &host) {
        eprintln!("azure test server: refused CONNECT {host}:{port}");
        return refuse(stream, "502 Bad Gateway").await;
    }
    if stream
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let Ok(tls) = acceptor.accept(stream).await else {
        return;
    };
    let service = service_fn(move |request| {
        let shared = shared.clone();
        let tunnel_host = host.clone();
        async move { Ok::<_, Infallible>(answer(&shared, &tunnel_host, request).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// Turns a hyper request into a [`Request`], routes it, and turns the [`Reply`] back.
async fn answer(shared: &Shared, tunnel_host: &str, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let reply = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => {
            let host = parts
                .headers
                .get(hyper::header::HOST)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.split(':').next().unwrap_or(value).to_ascii_lowercase())
                .unwrap_or_else(|| tunnel_host.to_string());
            let query = parts
                .uri
                .query()
                .map(|query| url::form_urlencoded::parse(query.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            let request = Request {
                method: parts.method.clone(),
                host,
                path: parts.uri.path().to_string(),
                query,
                headers: parts.headers.clone(),
                body: collected.to_bytes(),
            };
            let reply = routing::route(shared, &request);
            eprintln!(
                "azure test server: {} https://{}{} -> {}",
                request.method, request.host, request.path, reply.status
            );
            reply
        }
        Err(_) => Reply::error(413, "RequestEntityTooLarge", "The request body is too large."),
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = hyper::header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-ms-request-id", value);
    }
    response
}
