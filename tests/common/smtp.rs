//! A real SMTP server on loopback (mailin-embedded, in a thread of the test): it receives what
//! lettre sends, and the test reads the mails that arrived.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use mail_parser::MimeHeaders;
use mailin_embedded::{Handler, Response, Server, SslConfig, response};

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parsable mail")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_string()
    }

    /// The Date header, as an instant.
    pub fn date(&self) -> chrono::DateTime<chrono::Utc> {
        let d = self.parsed().date().cloned().expect("a Date header");
        chrono::DateTime::from_timestamp(d.to_timestamp(), 0).unwrap()
    }

    /// The text of the `.ics` attachment, if any.
    pub fn ics(&self) -> Option<String> {
        let msg = self.parsed();
        msg.attachments()
            .find(|a| a.attachment_name() == Some("invitation.ics"))
            .map(|a| String::from_utf8_lossy(a.contents()).to_string())
    }
}

/// Called when a mail has been received, before the server answers 250 (accepted).
pub type OnMail = Arc<dyn Fn(&Received) + Send + Sync>;

#[derive(Clone)]
struct Sink {
    inbox: Arc<Mutex<Vec<Received>>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    /// How long the server takes to accept each mail (a slow relay).
    delay: std::time::Duration,
    on_mail: Option<OnMail>,
}

impl Handler for Sink {
    fn rcpt(&mut self, to: &str) -> Response {
        // A mailbox that does not exist: refused for good (5xx).
        if to.starts_with("inconnu@") {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = Received {
            from: self.from.clone(),
            to: self.to.clone(),
            raw: std::mem::take(&mut self.data),
        };
        std::thread::sleep(self.delay);
        if let Some(hook) = &self.on_mail {
            hook(&mail);
        }
        self.inbox.lock().unwrap().push(mail);
        response::OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::listen(TcpListener::bind("127.0.0.1:0").expect("a loopback port"))
    }

    /// On a given port (one where a server was down until now).
    pub fn start_on(port: u16) -> Self {
        Self::listen(TcpListener::bind(("127.0.0.1", port)).expect("the port is free again"))
    }

    /// A server that takes `delay` to accept each mail and calls `on_mail` just before it
    /// answers that it accepted it (to inject a fault at that very moment).
    pub fn start_with(delay: std::time::Duration, on_mail: Option<OnMail>) -> Self {
        Self::listen_with(
            TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
            delay,
            on_mail,
        )
    }

    fn listen(listener: TcpListener) -> Self {
        Self::listen_with(listener, std::time::Duration::ZERO, None)
    }

    fn listen_with(
        listener: TcpListener,
        delay: std::time::Duration,
        on_mail: Option<OnMail>,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Sink {
            inbox: inbox.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
            delay,
            on_mail,
        });
        server
            .with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpServer { addr, inbox }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn mails(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Mails addressed to `email`.
    pub fn to(&self, email: &str) -> Vec<Received> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == email))
            .collect()
    }
}

/// A loopback port where nothing listens (the SMTP server is down).
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
