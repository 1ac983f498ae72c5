//! Web-server flow with PKCE (S256) through the `oauth2` crate, with a loopback listener on
//! 127.0.0.1 that waits for this session's callback request. Over SSH the operator forwards the
//! port (`ssh -L 1717:127.0.0.1:1717 host`) and opens the URL in a local browser.

use std::sync::Arc;
use std::time::Duration;

use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::oauth_client::{OAuthClient, oauth_client, token_error};
use super::{AuthError, SCOPES};
use crate::salesforce::errors::{Error, Fault};
use crate::salesforce::http::HttpClient;
use crate::salesforce::types::TokenBody;

/// Path of the redirect URI registered in the connected app: `http://localhost:PORT/callback`.
pub const CALLBACK_PATH: &str = "/callback";
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// A browser sends its request at once; a connection silent this long is closed.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once (browsers open a few speculatively); more are dropped.
const MAX_PENDING_CONNECTIONS: usize = 32;

/// A started web flow: open `authorize_url` in a browser, then `finish`.
pub struct WebFlow {
    authorize_url: String,
    port: u16,
    redirect_uri: String,
    listener: TcpListener,
    client: OAuthClient,
    csrf: CsrfToken,
    verifier: PkceCodeVerifier,
    read_timeout: Duration,
}

impl std::fmt::Debug for WebFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebFlow")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Bind the loopback listener (port 0 picks a free one) and build the authorize URL.
pub async fn start_web_flow(
    login_url: &str,
    client_id: &str,
    port: u16,
) -> Result<WebFlow, AuthError> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        AuthError::Callback(format!(
            "cannot listen on 127.0.0.1:{port} ({e}); pick another port with --port"
        ))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| AuthError::Callback(e.to_string()))?
        .port();
    let redirect_uri = format!("http://localhost:{port}{CALLBACK_PATH}");
    let redirect =
        RedirectUrl::new(redirect_uri.clone()).map_err(|e| AuthError::Callback(e.to_string()))?;
    let client = oauth_client(login_url, client_id)?.set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(SCOPES.iter().map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .url();
    Ok(WebFlow {
        authorize_url: url.to_string(),
        port,
        redirect_uri,
        listener,
        client,
        csrf,
        verifier,
        read_timeout: READ_TIMEOUT,
    })
}

impl WebFlow {
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The loopback port listened on (the chosen one when started with 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Wait (up to `max_wait`) for the browser's redirect, then exchange the code.
    pub async fn finish(
        self,
        http: &HttpClient,
        max_wait: Duration,
    ) -> Result<TokenBody, AuthError> {
        let code = tokio::time::timeout(max_wait, self.wait_for_code())
            .await
            .map_err(|_| AuthError::Expired {
                minutes: max_wait.as_secs() / 60,
            })??;
        self.client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(self.verifier)
            .request_async(http)
            .await
            .map_err(|e| AuthError::Api(token_error(e, "the authorization code was rejected")))
    }

    /// Serves every connection to the loopback port concurrently, each with a read timeout,
    /// until one brings this session's redirect: an idle or slow connection cannot hold back
    /// the browser, and a request with another `state` (stale tab, forged link) is answered
    /// and ignored instead of ending the login.
    async fn wait_for_code(&self) -> Result<String, AuthError> {
        let state: Arc<str> = Arc::from(self.csrf.secret().as_str());
        let mut handlers = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.map_err(|e| AuthError::Callback(e.to_string()))?;
                    if handlers.len() >= MAX_PENDING_CONNECTIONS {
                        tracing::warn!("too many open connections to the callback port; dropped one");
                        continue;
                    }
                    handlers.spawn(handle_connection(stream, state.clone(), self.read_timeout));
                }
                Some(handled) = handlers.join_next(), if !handlers.is_empty() => {
                    if let Ok(Callback::Done(result)) = handled {
                        return result;
                    }
                }
            }
        }
    }
}

/// What one connection to the callback port amounted to.
enum Callback {
    /// Not this session's redirect (answered, or timed out): keep waiting.
    Ignored,
    /// This session's redirect: the code, or why there is none.
    Done(Result<String, AuthError>),
}

async fn handle_connection(
    mut stream: TcpStream,
    state: Arc<str>,
    read_timeout: Duration,
) -> Callback {
    let target = match tokio::time::timeout(read_timeout, read_request_target(&mut stream)).await {
        Ok(Some(target)) => target,
        Ok(None) | Err(_) => return Callback::Ignored,
    };
    let Ok(url) = url::Url::parse(&format!("http://localhost{target}")) else {
        respond(&mut stream, 400, "Bad request").await;
        return Callback::Ignored;
    };
    if url.path() != CALLBACK_PATH {
        respond(&mut stream, 404, "Not the syncdeck callback").await;
        return Callback::Ignored;
    }
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if param("state").as_deref() != Some(&*state) {
        tracing::warn!("ignored a callback whose state does not match (stale tab or forged link)");
        respond(
            &mut stream,
            400,
            "This sign-in did not come from the syncdeck session that is waiting. If you started a new one, use its link.",
        )
        .await;
        return Callback::Ignored;
    }
    if let Some(error) = param("error") {
        respond(
            &mut stream,
            200,
            "Authorization was denied. You can close this tab.",
        )
        .await;
        let fault = Fault::new(None, error, param("error_description").unwrap_or_default());
        return Callback::Done(Err(AuthError::Denied { fault }));
    }
    Callback::Done(match param("code") {
        Some(code) => {
            respond(
                &mut stream,
                200,
                "syncdeck is authorized. You can close this tab and return to the terminal.",
            )
            .await;
            Ok(code)
        }
        None => {
            respond(&mut stream, 400, "The redirect carried no code.").await;
            Err(AuthError::Api(Error::fatal(
                "NO_CODE",
                "the redirect carried no authorization code",
            )))
        }
    })
}

/// The request target of `GET <target> HTTP/1.1`, or `None` for anything unusable.
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_string()),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: u16, message: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>syncdeck</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>syncdeck</h1><p>{message}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if let Err(e) = stream.write_all(response.as_bytes()).await {
        tracing::debug!(error = %e, "could not answer the browser");
    }
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    }

    #[tokio::test]
    async fn an_idle_connection_and_a_forged_state_do_not_stop_the_real_redirect() {
        let flow = start_web_flow("https://login.salesforce.com", "cid", 0)
            .await
            .unwrap();
        let port = flow.port();
        let state = flow.csrf.secret().clone();
        let waiting = tokio::spawn(async move { flow.wait_for_code().await });
        // Connected, never sends anything: must not block the others.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let forged = get(port, "/callback?code=evil&state=not-it").await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        assert!(!waiting.is_finished(), "a forged state ended the login");
        let real = get(port, &format!("/callback?code=real&state={state}")).await;
        assert!(real.starts_with("HTTP/1.1 200"), "{real}");
        assert_eq!(waiting.await.unwrap().unwrap(), "real");
    }

    #[tokio::test]
    async fn a_silent_connection_is_closed_after_the_read_timeout() {
        let mut flow = start_web_flow("https://login.salesforce.com", "cid", 0)
            .await
            .unwrap();
        flow.read_timeout = Duration::from_millis(50);
        let port = flow.port();
        let _waiting = tokio::spawn(async move { flow.wait_for_code().await });
        let mut idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut buf = [0u8; 16];
        // Without a timeout this read would never end: nothing is ever sent.
        assert_eq!(idle.read(&mut buf).await.unwrap(), 0);
    }
}
