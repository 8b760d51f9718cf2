//! The HTTP edge: API Gateway REST proxy events in, JSON or problem+json out.
//!
//! Handlers parse the event into domain types, call the service, and map every failure through [`ApiError`].

mod create;
mod problem;
mod read;

pub use create::create_order;
pub use problem::{ApiError, PROBLEM_BASE};
pub use read::get_orders;

use lambda_http::{Body, Request, RequestExt, Response, request::RequestContext};
use serde::Serialize;

use crate::domain::CustomerId;

/// The caller as API Gateway's Cognito authorizer passed it: `requestContext.authorizer.claims.sub`.
pub fn caller(req: &Request) -> Result<CustomerId, ApiError> {
    let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref() else {
        return Err(ApiError::Unauthenticated);
    };
    ctx.authorizer
        .fields
        .get("claims")
        .and_then(|claims| claims.get("sub"))
        .and_then(|sub| sub.as_str())
        .and_then(CustomerId::parse)
        .ok_or(ApiError::Unauthenticated)
}

/// API Gateway's request id (what the client sees), else Lambda's.
pub fn request_id(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(id) = &ctx.request_id
    {
        return id.clone();
    }
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

/// Runs a handler and renders its error, so each function's `main.rs` stays a one-liner.
pub async fn respond<F>(req: Request, handler: impl FnOnce(Request) -> F) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    let instance = req.uri().path().to_owned();
    let request_id = request_id(&req);
    match handler(req).await {
        Ok(response) => response,
        Err(e) => e.into_response(&instance, &request_id),
    }
}

/// Serves one request the way every HTTP function does: a server span in the caller's trace, the handler's
/// error rendered as problem+json, the status recorded on the span.
pub async fn serve<F>(
    req: Request,
    coldstart: bool,
    region: &str,
    handler: impl FnOnce(Request) -> F,
) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    use tracing::Instrument;
    let span = server_span(&req, coldstart, region);
    let response = respond(req, handler).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

/// The server span of one request, a child of the caller's trace (W3C or X-Ray headers).
pub fn server_span(req: &Request, coldstart: bool, region: &str) -> tracing::Span {
    let route = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.resource_path.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let span = tracing::info_span!(
        "http request",
        otel.name = format!("{} {route}", req.method()),
        otel.kind = "server",
        http.request.method = %req.method(),
        http.route = route,
        url.path = req.uri().path(),
        http.response.status_code = tracing::field::Empty,
        faas.trigger = "http",
        faas.invocation_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default(),
        faas.coldstart = coldstart,
        cloud.provider = "aws",
        cloud.region = region,
        request_id = request_id(req),
        trace_id = tracing::field::Empty,
        order_id = tracing::field::Empty,
    );
    crate::telemetry::adopt(&span, crate::telemetry::extract_http(req.headers()));
    span
}

fn json_response(status: u16, body: &impl Serialize) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(
            serde_json::to_string(body).expect("views serialize"),
        ))
        .expect("static headers are valid")
}
