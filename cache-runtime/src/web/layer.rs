//! [`CacheLayer`]: one [`RequestScope`] per request, its bypass read from the request, its
//! summary written to the response.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
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
/// [`RequestScope`], so every `#[cached]` call made while handling it is summed up in an
/// optional `X-Cache` response header, and bypasses the cache when the request may and asks
/// to.
///
/// ```
/// use axum::http::request::Parts;
/// use axum::routing::get;
/// use axum::Router;
/// use cache_runtime::web::CacheLayer;
///
/// /// Put in the request's extensions by the authentication layer, for operators only.
/// #[derive(Clone)]
/// struct Operator;
///
/// # async fn handler() -> &'static str { "" }
/// let app: Router = Router::new()
///     .route("/products", get(handler))
///     .layer(
///         CacheLayer::new()
///             .x_cache_header(true)
///             .bypass_if(|request: &Parts| request.extensions.get::<Operator>().is_some()),
///     );
/// # drop(app);
/// ```
///
/// **Bypass** is opt-in per request: by default no request bypasses the cache, whatever it
/// sends. A request bypasses when the predicate the application gives to
/// [`bypass_if`](CacheLayer::bypass_if) lets it (an operator, an authenticated user, a
/// request carrying an admin header: anything the request's parts tell) *and* it asks: with
/// `Cache-Control: no-cache` (any `Cache-Control` header with a `no-cache` directive,
/// case-insensitive; see [`cache_control`](CacheLayer::cache_control)) or the query flag
/// ([`query_flag`](CacheLayer::query_flag), `fresh` by default) as `?fresh`, `?fresh=true`
/// or `?fresh=1` (`true` in any case; other values such as `fresh=false` do not ask).
/// Browsers send `Cache-Control: no-cache` on every hard reload, so honouring it for anyone
/// would let any visitor make the service recompute; an anonymous request that asks is
/// served like any other (`X-Cache: hit` when cached).
///
/// Every `#[cached]` call awaited while handling a bypassing request serves no cached value
/// and recomputes, as a miss does: concurrent bypassing requests of one key share one run
/// of the body (single flight), and the value is stored under the fill lease, so a bypass
/// racing an invalidation never stores its stale value; the next request without the
/// bypass reads the fresh one. Calls made in tasks the handler spawns (`tokio::spawn`) are
/// outside the request's scope: they neither bypass nor count. The query flag is removed
/// from the request's URI before the inner service sees it (only that parameter; the rest
/// of the query is kept as written; also when the request may not bypass), so a handler
/// that keys on its whole query (`Query<HashMap<String, String>>`) stores the fresh value
/// under the key a request without the flag reads.
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

/// Which requests may bypass the cache (see [`CacheLayer::bypass_if`]).
type MayBypass = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

/// What a [`CacheLayer`] reads from requests and writes to responses.
#[derive(Clone)]
struct Config {
    /// Which requests may bypass; `None`: none.
    may_bypass: Option<MayBypass>,
    /// Whether `Cache-Control: no-cache` asks to bypass.
    cache_control: bool,
    /// The query parameter that asks to bypass; `None`: none.
    query_flag: Option<Cow<'static, str>>,
    /// Whether responses get `X-Cache`.
    x_cache: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "bypass_if",
                &self.may_bypass.as_ref().map(|_| "<predicate>"),
            )
            .field("cache_control", &self.cache_control)
            .field("query_flag", &self.query_flag)
            .field("x_cache", &self.x_cache)
            .finish()
    }
}

impl Default for CacheLayer {
    fn default() -> Self {
        CacheLayer::new()
    }
}

impl CacheLayer {
    /// A layer that lets no request bypass the cache (until
    /// [`bypass_if`](CacheLayer::bypass_if)) and sets no `X-Cache` header.
    pub fn new() -> Self {
        CacheLayer {
            config: Arc::new(Config {
                may_bypass: None,
                cache_control: true,
                query_flag: Some(Cow::Borrowed(DEFAULT_QUERY_FLAG)),
                x_cache: false,
            }),
        }
    }

    /// Lets the requests for which `predicate` returns `true` bypass the cache when they ask
    /// to (`Cache-Control: no-cache`, or the query flag). The predicate sees the request's
    /// method, URI, headers and extensions (what an authentication layer in front of this
    /// one put there), never its body; it runs for every request that asks, and only for
    /// those.
    pub fn bypass_if<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).may_bypass = Some(Arc::new(predicate));
        self
    }

    /// Whether responses get an `X-Cache: hit|miss|stale|bypass` header summing up the
    /// request's cached calls (default `false`).
    pub fn x_cache_header(mut self, yes: bool) -> Self {
        Arc::make_mut(&mut self.config).x_cache = yes;
        self
    }

    /// Whether a `Cache-Control: no-cache` request header asks to bypass the cache (default
    /// `true`; only requests [`bypass_if`](CacheLayer::bypass_if) lets through do).
    pub fn cache_control(mut self, yes: bool) -> Self {
        Arc::make_mut(&mut self.config).cache_control = yes;
        self
    }

    /// The query parameter that asks to bypass the cache (default `fresh`): `?name`,
    /// `?name=true` or `?name=1` (only requests [`bypass_if`](CacheLayer::bypass_if) lets
    /// through do). The name is compared as written in the URI, not percent-decoded.
    pub fn query_flag(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        Arc::make_mut(&mut self.config).query_flag = Some(name.into());
        self
    }

    /// No query parameter asks to bypass the cache (and none is removed from the URI).
    pub fn without_query_flag(mut self) -> Self {
        Arc::make_mut(&mut self.config).query_flag = None;
        self
    }

    /// Whether a request with these parts bypasses the cache under this layer's settings:
    /// it asks to, and [`bypass_if`](CacheLayer::bypass_if)'s predicate lets it.
    pub fn bypasses(&self, request: &Parts) -> bool {
        self.config.bypasses(request)
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

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        let (mut parts, body) = request.into_parts();
        let bypass = config.bypasses(&parts);
        if let Some(flag) = &config.query_flag {
            if let Some(uri) = without_query_param(&parts.uri, flag) {
                parts.uri = uri;
            }
        }
        let x_cache = config.x_cache;
        // The inner service was polled ready for this call: call it now, run it in the scope.
        let response = self.inner.call(Request::from_parts(parts, body));
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
    /// Whether a request with these parts bypasses the cache: it may, and it asks.
    fn bypasses(&self, request: &Parts) -> bool {
        let Some(may_bypass) = &self.may_bypass else {
            return false;
        };
        self.asks(request) && may_bypass(request)
    }

    /// Whether a request with these parts asks to bypass the cache.
    fn asks(&self, request: &Parts) -> bool {
        (self.cache_control && has_no_cache(&request.headers))
            || self
                .query_flag
                .as_deref()
                .is_some_and(|flag| query_flag_set(request.uri.query(), flag))
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

    fn request(uri: &str, cache_control: &[&str]) -> Parts {
        let mut builder = Request::builder().uri(uri);
        for value in cache_control {
            builder = builder.header(CACHE_CONTROL, *value);
        }
        match builder.body(()) {
            Ok(request) => request.into_parts().0,
            Err(e) => unreachable!("test request {uri}: {e}"),
        }
    }

    /// A layer that lets every request that asks bypass.
    fn trusting() -> CacheLayer {
        CacheLayer::new().bypass_if(|_| true)
    }

    #[test]
    fn nobody_bypasses_by_default() {
        let layer = CacheLayer::new();
        for (uri, cache_control) in [("/a", "no-cache"), ("/a?fresh=1", ""), ("/a?fresh", "")] {
            assert!(!layer.bypasses(&request(uri, &[cache_control])), "{uri}");
        }
    }

    #[test]
    fn only_requests_the_predicate_lets_through_bypass() {
        let layer = CacheLayer::new().bypass_if(|request| request.headers.contains_key("x-op"));
        let mut operator = request("/a?fresh=1", &[]);
        operator
            .headers
            .insert("x-op", HeaderValue::from_static("1"));
        assert!(layer.bypasses(&operator));
        assert!(!layer.bypasses(&request("/a?fresh=1", &[])));
        // An operator's request that does not ask does not bypass either.
        let mut quiet = request("/a", &[]);
        quiet.headers.insert("x-op", HeaderValue::from_static("1"));
        assert!(!layer.bypasses(&quiet));
        assert!(format!("{layer:?}").contains("bypass_if: Some(\"<predicate>\")"));
    }

    #[test]
    fn bypass_from_cache_control() {
        let layer = trusting();
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
        let layer = trusting();
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
        let layer = trusting().query_flag("nocache");
        assert!(layer.bypasses(&request("/a?nocache=1", &[])));
        assert!(!layer.bypasses(&request("/a?fresh=1", &[])));
        let layer = trusting().without_query_flag();
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
