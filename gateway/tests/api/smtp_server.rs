//! A small SMTP server on loopback for the delivery tests: EHLO, STARTTLS (with the test certificate in
//! fixtures/), AUTH PLAIN and LOGIN, MAIL, RCPT, DATA; it keeps what it received and can be told to fail.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The root certificate the test server's certificate chains to (pass as --smtp-ca-file).
pub fn ca_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/ca.pem")
}

/// How the server answers.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Offer STARTTLS and refuse mail until it is used.
    pub require_tls: bool,
    /// Speak TLS from the first byte (port 465, `smtps://`).
    pub implicit_tls: bool,
    /// Require AUTH with this user and password before MAIL.
    pub credentials: Option<(String, String)>,
    /// Answer every RCPT with `451 4.3.0 try again later`.
    pub always_busy: bool,
    /// Recipients answered with `550 5.1.1 no such user`.
    pub unknown: HashSet<String>,
    /// Wait this long before accepting each message's data.
    pub data_delay: Duration,
}

/// One message as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope recipient.
    pub to: Vec<String>,
    /// The raw message.
    pub data: String,
    /// The conversation was encrypted.
    pub tls: bool,
    /// The user that authenticated, if any.
    pub user: Option<String>,
}

impl Received {
    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }
}

/// A running server.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// What it received.
    pub received: Arc<Mutex<Vec<Received>>>,
    /// The address of every RCPT command seen (accepted or not).
    pub attempts: Arc<Mutex<Vec<String>>>,
}

impl SmtpServer {
    /// Starts a server that behaves as told.
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(vec![]));
        let attempts = Arc::new(Mutex::new(vec![]));
        let acceptor = acceptor();
        let (r, a) = (received.clone(), attempts.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let session = Session {
                    behaviour: behaviour.clone(),
                    received: r.clone(),
                    attempts: a.clone(),
                    user: None,
                    tls: false,
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = session.run(socket, acceptor).await;
                });
            }
        });
        Self {
            port,
            received,
            attempts,
        }
    }

    /// What it received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many times a message to `address` was attempted.
    pub fn rcpts_to(&self, address: &str) -> usize {
        let attempts = self.attempts.lock().unwrap().clone();
        attempts.iter().filter(|a| *a == address).count()
    }

    /// Waits for a message to `address`.
    pub async fn wait_to(&self, address: &str) -> Received {
        for _ in 0..400 {
            if let Some(message) = self.messages().into_iter().find(|m| m.to == [address]) {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SMTP server received nothing for {address}");
    }

    /// Waits until it has received `n` messages.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the SMTP server received {} of {n} messages",
            self.messages().len()
        );
    }
}

fn acceptor() -> TlsAcceptor {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("smtp-cert.pem"))
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("smtp-key.pem")).unwrap();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

struct Session {
    behaviour: Behaviour,
    received: Arc<Mutex<Vec<Received>>>,
    attempts: Arc<Mutex<Vec<String>>>,
    user: Option<String>,
    tls: bool,
}

enum Next {
    Quit,
    StartTls,
}

impl Session {
    async fn run(
        mut self,
        socket: tokio::net::TcpStream,
        acceptor: TlsAcceptor,
    ) -> std::io::Result<()> {
        if self.behaviour.implicit_tls {
            let tls = acceptor.accept(socket).await?;
            self.tls = true;
            let mut tls = BufReader::new(tls);
            tls.get_mut()
                .write_all(b"220 localhost ESMTP test\r\n")
                .await?;
            self.converse(&mut tls).await?;
            return Ok(());
        }
        let mut plain = BufReader::new(socket);
        plain
            .get_mut()
            .write_all(b"220 localhost ESMTP test\r\n")
            .await?;
        if let Next::StartTls = self.converse(&mut plain).await? {
            let tls = acceptor.accept(plain.into_inner()).await?;
            self.tls = true;
            let mut tls = BufReader::new(tls);
            self.converse(&mut tls).await?;
        }
        Ok(())
    }

    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut BufReader<S>,
    ) -> std::io::Result<Next> {
        let mut to: Vec<String> = vec![];
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(Next::Quit);
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                let mut lines = vec!["250-localhost".to_owned(), "250-8BITMIME".to_owned()];
                if !self.tls && self.behaviour.require_tls {
                    lines.push("250-STARTTLS".to_owned());
                }
                if self.behaviour.credentials.is_some() {
                    lines.push("250-AUTH PLAIN LOGIN".to_owned());
                }
                lines.push("250 SMTPUTF8".to_owned());
                lines.join("\r\n")
            } else if upper == "STARTTLS" {
                stream.get_mut().write_all(b"220 2.0.0 ready\r\n").await?;
                return Ok(Next::StartTls);
            } else if upper.starts_with("AUTH PLAIN") {
                let encoded = match command.split_whitespace().nth(2) {
                    Some(encoded) => encoded.to_owned(),
                    None => {
                        stream.get_mut().write_all(b"334 \r\n").await?;
                        read(stream).await?
                    }
                };
                let decoded = decode(&encoded);
                let parts: Vec<&str> = decoded.split('\0').collect();
                self.authenticate(parts.get(1).copied(), parts.get(2).copied())
            } else if upper.starts_with("AUTH LOGIN") {
                stream.get_mut().write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                let user = decode(&read(stream).await?);
                stream.get_mut().write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                let password = decode(&read(stream).await?);
                self.authenticate(Some(&user), Some(&password))
            } else if upper.starts_with("MAIL FROM") {
                if self.behaviour.require_tls && !self.tls {
                    "530 5.7.0 must issue a STARTTLS command first".to_owned()
                } else if self.behaviour.credentials.is_some() && self.user.is_none() {
                    "530 5.7.0 authentication required".to_owned()
                } else {
                    to.clear();
                    "250 2.1.0 ok".to_owned()
                }
            } else if upper.starts_with("RCPT TO") {
                let address = command
                    .split(['<', '>'])
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                self.attempts.lock().unwrap().push(address.clone());
                if self.behaviour.always_busy {
                    "451 4.3.0 try again later".to_owned()
                } else if self.behaviour.unknown.contains(&address) {
                    "550 5.1.1 no such user".to_owned()
                } else {
                    to.push(address);
                    "250 2.1.5 ok".to_owned()
                }
            } else if upper == "DATA" {
                stream
                    .get_mut()
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if stream.read_line(&mut l).await? == 0 {
                        return Ok(Next::Quit);
                    }
                    if l == ".\r\n" || l == ".\n" {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                tokio::time::sleep(self.behaviour.data_delay).await;
                self.received.lock().unwrap().push(Received {
                    to: std::mem::take(&mut to),
                    data,
                    tls: self.tls,
                    user: self.user.clone(),
                });
                "250 2.0.0 ok: queued as TEST".to_owned()
            } else if upper == "QUIT" {
                stream.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(Next::Quit);
            } else if upper == "RSET" || upper == "NOOP" {
                to.clear();
                "250 2.0.0 ok".to_owned()
            } else {
                "502 5.5.2 command not recognized".to_owned()
            };
            stream
                .get_mut()
                .write_all(format!("{reply}\r\n").as_bytes())
                .await?;
        }
    }

    fn authenticate(&mut self, user: Option<&str>, password: Option<&str>) -> String {
        match (&self.behaviour.credentials, user, password) {
            (Some((u, p)), Some(user), Some(password)) if u == user && p == password => {
                self.user = Some(user.to_owned());
                "235 2.7.0 authentication successful".to_owned()
            }
            _ => "535 5.7.8 authentication credentials invalid".to_owned(),
        }
    }
}

async fn read<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
) -> std::io::Result<String> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    Ok(line.trim_end().to_owned())
}

fn decode(text: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .unwrap_or_default(),
    )
    .unwrap_or_default()
}
