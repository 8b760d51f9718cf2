//! The HTTP edge: API Gateway REST proxy events in, JSON or problem+json out.
//!
//! Handlers parse the event into domain types, call the service, and map every failure through [`ApiError`].

mod cancel;
mod create;
mod problem;
mod read;
mod view;

pub use cancel::cancel_order;
pub use create::create_order;
pub use problem::{ApiError, PROBLEM_BASE};
pub use read::get_orders;
pub use view::{OrderLineView, OrderView, PageView};

use lambda_http::{Body, Request, RequestExt, Response, request::RequestContext};
use serde::Serialize;

use crate::domain::{CustomerId, OrderId};
use crate::invocation::Trigger;

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

/// The `{id}` path parameter, when the route has one; it must be an order id. Recorded on the current span.
pub fn order_id_parameter(req: &Request) -> Result<Option<OrderId>, ApiError> {
    let Some(raw) = req.path_parameters_ref().and_then(|p| p.first("id")) else {
        return Ok(None);
    };
    let id = OrderId::parse(raw).ok_or_else(|| ApiError::InvalidOrderId(raw.to_owned()))?;
    tracing::Span::current().record("order_id", tracing::field::display(id));
    Ok(Some(id))
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

/// Runs a handler and renders its error as problem+json: the one place an [`ApiError`] becomes a response.
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

/// Serves one request the way every HTTP function does: a server span that starts the request's trace, the
/// handler's error rendered as problem+json, the status recorded on the span.
pub async fn serve<F>(req: Request, handler: impl FnOnce(Request) -> F) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    use tracing::Instrument;
    let span = server_span(&req);
    let response = respond(req, handler).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

/// The server span of one request: the root of a new trace, linked to the caller's W3C or X-Ray context (a
/// public endpoint never lets a caller choose our trace or its sampling).
pub fn server_span(req: &Request) -> tracing::Span {
    let route = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.resource_path.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let invocation_id = req
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let name = format!("{} {route}", req.method());
    let span = crate::invocation::span(Trigger::Http, name, &invocation_id);
    span.record("http.request.method", req.method().as_str());
    span.record("http.route", route);
    span.record("url.path", req.uri().path());
    span.record("request_id", request_id(req));
    crate::telemetry::start_at_edge(&span, req.headers());
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
