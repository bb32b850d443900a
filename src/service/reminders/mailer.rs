//! Where mails go: an SMTP server (lettre; STARTTLS or implicit TLS and credentials from
//! `SMTP_URL`), or `.eml` files in a folder so that a first run needs nothing.

use std::path::PathBuf;
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `<reminder id>.eml` per mail: sending again rewrites the same file.
    Files(PathBuf),
}

/// Why a mail did not go out.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    /// Refused for good (5xx): trying again would not help.
    pub permanent: bool,
}

impl Mailer {
    pub fn from_config(c: &MailConfig) -> Result<Self, String> {
        match c.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("SMTP_URL : {e}"))?
                    .timeout(Some(Duration::from_secs(c.smtp_timeout_seconds.max(1))))
                    .build();
                Ok(Mailer::Smtp(transport))
            }
            None => Ok(Mailer::Files(c.outbox_dir.clone())),
        }
    }

    /// Where mails go, for the logs (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP server of SMTP_URL".into(),
            Mailer::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn send(&self, name: &str, message: &Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(t) => t
                .send(message.clone())
                .await
                .map(|_| ())
                .map_err(|e| SendError {
                    permanent: e.is_permanent(),
                    message: format!("SMTP : {e}"),
                }),
            Mailer::Files(dir) => write_file(dir, name, &message.formatted())
                .await
                .map_err(|e| SendError {
                    permanent: false,
                    message: format!("{} : {e}", dir.display()),
                }),
        }
    }
}

/// Written beside, then renamed: a reader never sees half a mail.
async fn write_file(dir: &PathBuf, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{name}.eml"))).await
}
