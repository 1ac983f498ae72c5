//! The one HTTP stack: a shared reqwest client (gzip, connect/read timeouts) and an adapter
//! that lets the `oauth2` crate send its requests through it (the crate's own `reqwest`
//! feature would pull a second reqwest).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};

use super::body::{BodyClass, read_capped};

/// Cheap to clone; all clones share one connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// Longest silence while reading a response. Salesforce can take minutes to start a
    /// selective query over a large table, so this is generous.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(15),
            read: Duration::from_secs(180),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot set up the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
    #[error("HTTP request failed: {0}")]
    Request(#[source] reqwest::Error),
    #[error("malformed HTTP request or response: {0}")]
    Http(#[from] oauth2::http::Error),
    /// The body went past its cap (after decoding); reading stopped there.
    #[error("the response exceeded {} MiB", cap >> 20)]
    TooLarge { cap: usize },
}

impl HttpClient {
    pub fn new(timeouts: Timeouts) -> Result<HttpClient, HttpError> {
        // reqwest is built without a default crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let inner = reqwest::Client::builder()
            .user_agent(concat!("syncdeck/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .build()
            .map_err(HttpError::Build)?;
        Ok(HttpClient { inner })
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Request)?;
        let response = self
            .inner
            .execute(request)
            .await
            .map_err(HttpError::Request)?;
        let mut builder = oauth2::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        // Token endpoints answer a few hundred bytes.
        let cap = BodyClass::Small.cap();
        let body = read_capped(response, cap)
            .await
            .map_err(HttpError::Request)?;
        if !body.complete {
            return Err(HttpError::TooLarge { cap });
        }
        Ok(builder.body(body.bytes)?)
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}
