//! [`CacheLayer`]: one [`RequestScope`] per request, its bypass read from the request, its
//! summary written to the response.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::header::CACHE_CONTROL;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, Uri};
use tower_layer::Layer;
use tower_service::Service;

use crate::observe::scope::RequestScope;

/// The response header [`CacheLayer::x_cache_header`] sets: `x-cache`.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The query flag that bypasses the cache unless [`CacheLayer::query_flag`] names another.
const DEFAULT_QUERY_FLAG: &str = "fresh";

/// A tower [`Layer`] for axum routers (or any `http` service): each request runs in its own
/// [`RequestScope`], so every `#[cached]` call made while handling it honours the request's
/// bypass and is summed up in an optional `X-Cache` response header.
///
/// ```
/// use axum::routing::get;
/// use axum::Router;
/// use cache_runtime::web::CacheLayer;
///
/// # async fn handler() -> &'static str { "" }
/// let app: Router = Router::new()
///     .route("/products", get(handler))
///     .layer(CacheLayer::new().x_cache_header(true));
/// # drop(app);
/// ```
///
/// **Bypass.** A request bypasses the cache when it carries `Cache-Control: no-cache` (any
/// `Cache-Control` header with a `no-cache` directive, case-insensitive; see
/// [`cache_control`](CacheLayer::cache_control)) or the query flag
/// ([`query_flag`](CacheLayer::query_flag), `fresh` by default) as `?fresh`, `?fresh=true`
/// or `?fresh=1` (`true` in any case; other values such as `fresh=false` do not bypass).
/// Every `#[cached]` call awaited while handling such a request skips the read, runs its
/// body and stores the fresh value, so the next request without the bypass reads it. Calls
/// made in tasks the handler spawns (`tokio::spawn`) are outside the request's scope: they
/// neither bypass nor count. The query flag is removed from the request's URI before the
/// inner service sees it (only that parameter; the rest of the query is kept as written), so
/// a handler that keys on its whole query (`Query<HashMap<String, String>>`) stores the
/// fresh value under the key a request without the flag reads.
///
/// Anyone who can send the flag or the header makes the service recompute: on a public
/// listener, where that is an easy way to load the database, turn the query flag off
/// ([`without_query_flag`](CacheLayer::without_query_flag)) and the header off
/// ([`cache_control(false)`](CacheLayer::cache_control)), or put the layer only on routes
/// that only trusted clients reach.
///
/// **`X-Cache`.** With [`x_cache_header(true)`](CacheLayer::x_cache_header), the response
/// gets `X-Cache` from [`ScopeSummary::x_cache`](crate::observe::scope::ScopeSummary::x_cache):
/// `bypass` if any cached call bypassed the cache, else `miss` if any ran its body (a store
/// failure too), else `stale` if any was served a stale value, else `hit`. A request that
/// made no cached call gets no header (and a header the handler set is then left alone).
///
/// The layer adds one allocation per request (the scope, and the boxed future).
#[derive(Clone, Debug)]
pub struct CacheLayer {
    config: Arc<Config>,
}

/// What a [`CacheLayer`] reads from requests and writes to responses.
#[derive(Clone, Debug)]
struct Config {
    /// Whether `Cache-Control: no-cache` bypasses.
    cache_control: bool,
    /// The query parameter that bypasses; `None`: none.
    query_flag: Option<Cow<'static, str>>,
    /// Whether responses get `X-Cache`.
    x_cache: bool,
}

impl Default for CacheLayer {
    fn default() -> Self {
        CacheLayer::new()
    }
}

impl CacheLayer {
    /// A layer that bypasses the cache for `Cache-Control: no-cache` and `?fresh=true`, and
    /// sets no `X-Cache` header.
    pub fn new() -> Self {
        CacheLayer {
            config: Arc::new(Config {
                cache_control: true,
                query_flag: Some(Cow::Borrowed(DEFAULT_QUERY_FLAG)),
                x_cache: false,
            }),
        }
    }

    /// Whether responses get an `X-Cache: hit|miss|stale|bypass` header summing up the
    /// request's cached calls (default `false`).
    pub fn x_cache_header(mut self, yes: bool) -> Self {
        Arc::make_mut(&mut self.config).x_cache = yes;
        self
    }

    /// Whether a `Cache-Control: no-cache` request header bypasses the cache (default
    /// `true`).
    pub fn cache_control(mut self, yes: bool) -> Self {
        Arc::make_mut(&mut self.config).cache_control = yes;
        self
    }

    /// The query parameter that bypasses the cache (default `fresh`): `?name`, `?name=true`
    /// or `?name=1`. The name is compared as written in the URI, not percent-decoded.
    pub fn query_flag(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        Arc::make_mut(&mut self.config).query_flag = Some(name.into());
        self
    }

    /// No query parameter bypasses the cache (and none is removed from the URI).
    pub fn without_query_flag(mut self) -> Self {
        Arc::make_mut(&mut self.config).query_flag = None;
        self
    }

    /// Whether `request` bypasses the cache under this layer's settings.
    pub fn bypasses<B>(&self, request: &Request<B>) -> bool {
        self.config.bypasses(request.headers(), request.uri())
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> CacheService<S> {
        CacheService {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The [`Service`] a [`CacheLayer`] wraps around `S`: runs each call of `S` in a
/// [`RequestScope`].
#[derive(Clone, Debug)]
pub struct CacheService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CacheService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResBody: 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        let bypass = config.bypasses(request.headers(), request.uri());
        if let Some(flag) = &config.query_flag {
            if let Some(uri) = without_query_param(request.uri(), flag) {
                *request.uri_mut() = uri;
            }
        }
        let x_cache = config.x_cache;
        // The inner service was polled ready for this call: call it now, run it in the scope.
        let response = self.inner.call(request);
        let scope = RequestScope::new(bypass);
        Box::pin(async move {
            let mut response = scope.run(response).await?;
            if x_cache {
                if let Some(word) = scope.summary().x_cache() {
                    response
                        .headers_mut()
                        .insert(X_CACHE, HeaderValue::from_static(word));
                }
            }
            Ok(response)
        })
    }
}

impl Config {
    /// Whether a request with these headers and this URI bypasses the cache.
    fn bypasses(&self, headers: &HeaderMap, uri: &Uri) -> bool {
        (self.cache_control && has_no_cache(headers))
            || self
                .query_flag
                .as_deref()
                .is_some_and(|flag| query_flag_set(uri.query(), flag))
    }
}

/// Whether any `Cache-Control` header has a `no-cache` directive.
fn has_no_cache(headers: &HeaderMap) -> bool {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|directive| {
            let name = directive
                .split_once('=')
                .map_or(directive, |(name, _)| name);
            name.trim().eq_ignore_ascii_case("no-cache")
        })
}

/// Whether `query` sets `flag`: `flag`, `flag=`, `flag=1` or `flag=true` (any case).
fn query_flag_set(query: Option<&str>, flag: &str) -> bool {
    query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .any(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            name == flag && (value.is_empty() || value == "1" || value.eq_ignore_ascii_case("true"))
        })
}

/// `uri` without the query parameters named `flag` (whatever their value); `None` when it
/// has none (or the rest does not make a valid URI, which cannot happen).
fn without_query_param(uri: &Uri, flag: &str) -> Option<Uri> {
    let query = uri.query()?;
    let is_flag = |pair: &&str| pair.split_once('=').map_or(*pair, |(name, _)| name) == flag;
    if !query.split('&').any(|pair| is_flag(&pair)) {
        return None;
    }
    let rest: Vec<&str> = query.split('&').filter(|pair| !is_flag(pair)).collect();
    let path_and_query = if rest.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), rest.join("&"))
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, cache_control: &[&str]) -> Request<()> {
        let mut builder = Request::builder().uri(uri);
        for value in cache_control {
            builder = builder.header(CACHE_CONTROL, *value);
        }
        match builder.body(()) {
            Ok(request) => request,
            Err(e) => unreachable!("test request {uri}: {e}"),
        }
    }

    #[test]
    fn bypass_from_cache_control() {
        let layer = CacheLayer::new();
        for value in [
            "no-cache",
            "No-Cache",
            "max-age=0, no-cache",
            " no-cache ,x=1",
        ] {
            assert!(layer.bypasses(&request("/a", &[value])), "{value}");
        }
        assert!(layer.bypasses(&request("/a", &["max-age=0", "no-cache"])));
        for value in ["max-age=0", "no-store", "no-cache-please", "x=no-cache"] {
            assert!(!layer.bypasses(&request("/a", &[value])), "{value}");
        }
        assert!(!layer
            .cache_control(false)
            .bypasses(&request("/a", &["no-cache"])));
    }

    #[test]
    fn bypass_from_query_flag() {
        let layer = CacheLayer::new();
        for uri in ["/a?fresh", "/a?fresh=", "/a?fresh=1", "/a?x=2&fresh=TRUE&y"] {
            assert!(layer.bypasses(&request(uri, &[])), "{uri}");
        }
        for uri in [
            "/a",
            "/a?fresh=false",
            "/a?fresh=0",
            "/a?freshly=1",
            "/a?x=fresh",
        ] {
            assert!(!layer.bypasses(&request(uri, &[])), "{uri}");
        }
        let layer = CacheLayer::new().query_flag("nocache");
        assert!(layer.bypasses(&request("/a?nocache=1", &[])));
        assert!(!layer.bypasses(&request("/a?fresh=1", &[])));
        let layer = CacheLayer::new().without_query_flag();
        assert!(!layer.bypasses(&request("/a?fresh=1", &[])));
        assert!(layer.bypasses(&request("/a?fresh=1", &["no-cache"])));
    }

    #[test]
    fn flag_removed_from_the_uri() {
        let strip = |uri: &str| {
            let uri: Uri = match uri.parse() {
                Ok(uri) => uri,
                Err(e) => unreachable!("{uri}: {e}"),
            };
            without_query_param(&uri, "fresh").map(|uri| uri.to_string())
        };
        assert_eq!(strip("/a?fresh=true").as_deref(), Some("/a"));
        assert_eq!(
            strip("/a?page=2&fresh&q=x%20y").as_deref(),
            Some("/a?page=2&q=x%20y")
        );
        assert_eq!(strip("/a?fresh=false&b").as_deref(), Some("/a?b"));
        assert_eq!(
            strip("http://h:1/a?fresh=1").as_deref(),
            Some("http://h:1/a")
        );
        assert_eq!(strip("/a?page=2"), None);
        assert_eq!(strip("/a"), None);
    }
}
