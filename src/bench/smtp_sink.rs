//! A minimal SMTP server on loopback that accepts every message and counts them: the reminders
//! bench sends real mails through lettre to it (nothing leaves the machine).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the sink received.
#[derive(Default)]
pub struct Received {
    pub messages: usize,
    /// `Message-ID` headers seen, to tell a duplicate from a second mail.
    pub ids: HashSet<String>,
    pub duplicates: usize,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Received>>,
}

impl SmtpSink {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Received::default()));
        let sink = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let _ = session(stream, sink).await;
                });
            }
        });
        Ok(Self { addr, received })
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn count(&self) -> usize {
        self.received.lock().expect("sink lock").messages
    }

    pub fn duplicates(&self) -> usize {
        self.received.lock().expect("sink lock").duplicates
    }
}

async fn session(stream: tokio::net::TcpStream, sink: Arc<Mutex<Received>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut id = None;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    if id.is_none() && line.to_ascii_lowercase().starts_with("message-id:") {
                        id = Some(line[11..].trim().to_string());
                    }
                }
                {
                    let mut r = sink.lock().expect("sink lock");
                    r.messages += 1;
                    if let Some(id) = id
                        && !r.ids.insert(id)
                    {
                        r.duplicates += 1;
                    }
                }
                write.write_all(b"250 queued\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 ok\r\n").await?,
        }
    }
}
