//! Delivering login codes through real transports: SMTP (a small SMTP server on port 0 that
//! speaks the protocol's happy path and keeps what it was sent) and the SMS webhook (an axum
//! handler on port 0). The code a person logs in with is read from what the transport
//! received; nothing goes to the outbox, and a failed delivery leaves no usable code.

mod support;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use dyad_proto::ErrorCode;
use dyad_sdk::Dyad;
use dyad_server::notify::{Channels, SmsWebhook, Smtp};
use serde_json::Value;
use support::TestServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A one-connection-at-a-time SMTP server: greets, accepts EHLO/MAIL/RCPT/DATA/QUIT, keeps
/// each message's DATA.
async fn fake_smtp() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            keep.lock().unwrap().push(data.take().unwrap_or_default());
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"502 no\r\n",
                    };
                    w.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (url, got)
}

/// An SMS webhook that wants `Bearer hook-token` and answers `status`; keeps the JSON bodies.
async fn fake_webhook(status: StatusCode) -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    let app = Router::new().route(
        "/sms",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let keep = keep.clone();
            async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer hook-token") {
                    return StatusCode::UNAUTHORIZED;
                }
                keep.lock().unwrap().push(body);
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn six_digits(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_go_out_by_smtp_and_sms_webhook_and_never_to_the_outbox() {
    let (smtp_url, mails) = fake_smtp().await;
    let (hook_url, texts) = fake_webhook(StatusCode::OK).await;
    // Built before the server: the outbox is not used by either channel.
    let email = Arc::new(Smtp::from_url(&smtp_url, "Dyad <no-reply@example.com>").unwrap());
    let sms = Arc::new(SmsWebhook::new(&hook_url, Some("hook-token".into())).unwrap());
    let t = TestServer::start_with_notifier(Arc::new(Channels { email, sms })).await;
    let key = t.app("shop").await;

    let d = Dyad::new(&t.url(), &key);
    d.start_email_login("ann@example.com").await.unwrap();
    let mail = mails.lock().unwrap().last().cloned().expect("a mail was sent");
    assert!(mail.contains("ann@example.com"), "{mail}");
    assert!(mail.contains("Subject: Your login code"), "{mail}");
    let login = d
        .verify_email_login("ann@example.com", &six_digits(&mail))
        .await
        .unwrap();
    assert!(login.new_user);

    let p = Dyad::new(&t.url(), &key);
    p.start_phone_login("+15551230000").await.unwrap();
    let text = texts.lock().unwrap().last().cloned().expect("an SMS was posted");
    assert_eq!(text["to"], "+15551230000");
    let body = text["body"].as_str().unwrap();
    p.verify_phone_login("+15551230000", &six_digits(body)).await.unwrap();

    assert!(t.store.outbox().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_that_was_not_delivered_is_refused_and_void() {
    let (hook_url, texts) = fake_webhook(StatusCode::INTERNAL_SERVER_ERROR).await;
    let sms = Arc::new(SmsWebhook::new(&hook_url, Some("hook-token".into())).unwrap());
    let broken = TestServer::start_with_notifier(Arc::new(Channels {
        email: sms.clone(),
        sms,
    }))
    .await;
    let key = broken.app("shop").await;
    let d = Dyad::new(&broken.url(), &key);
    let e = d.start_phone_login("+15551230001").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::DeliveryFailed), "{e}");
    // The webhook did get the text (it then failed): even so, its code logs nobody in.
    let text = texts.lock().unwrap().last().cloned().expect("posted");
    let e = d
        .verify_phone_login("+15551230001", &six_digits(text["body"].as_str().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::CodeInvalid), "{e}");
}
