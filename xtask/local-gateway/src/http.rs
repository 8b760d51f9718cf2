//! The REST API front: route, authorize, invoke the function with a proxy event, answer with its response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Response, header};

use crate::apigw::{self, Context};
use crate::auth::{AuthError, Authorizer};
use crate::invoke::{InvokeError, Invoker};
use crate::openapi::{Matched, Resolution, Routes};
use crate::problem::GatewayProblem;

/// API Gateway's integration timeout (29 s), waiting for the function's turn included.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// What every request needs.
pub struct Api {
    pub routes: Routes,
    pub authorizer: Authorizer,
    pub invoker: Invoker,
    pub stage: String,
    pub account_id: String,
    /// [`INTEGRATION_TIMEOUT`], but for tests.
    pub integration_timeout: Duration,
    /// Active tracing: the `X-Amzn-Trace-Id` every event carries.
    pub tracing: crate::xray::Tracing,
}

/// The router: every path goes through [`handle`]; the OpenAPI routes decide.
pub fn router(api: Arc<Api>) -> Router {
    Router::new().fallback(handle).with_state(api)
}

async fn handle(
    State(api): State<Arc<Api>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let mut spent = Spent::default();
    let (function, mut response) = match serve(&api, peer, &request_id, request, &mut spent).await {
        Ok((function, response)) => (Some(function), response),
        Err(problem) => (None, problem.into_response(&request_id)),
    };
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    tracing::info!(
        %method, %path, status = response.status().as_u16(), function,
        request_id, elapsed_ms = started.elapsed().as_millis() as u64,
        elapsed_us = started.elapsed().as_micros() as u64,
        authorize_us = spent.authorize.as_micros() as u64,
        invoke_us = spent.invoke.as_micros() as u64,
        "request"
    );
    response
}

/// Where one request's time went, for the access log: the authorizer's step and the invocation (the Invoke API's
/// round trip, waiting for the function's turn included). `cargo xtask bench api` reads them.
#[derive(Default)]
struct Spent {
    authorize: Duration,
    invoke: Duration,
}

/// One request through the integration: route, authorize, build the proxy event, invoke the function and
/// turn its answer into the HTTP response; also returns the function's name for the access log.
async fn serve(
    api: &Api,
    peer: SocketAddr,
    request_id: &str,
    request: Request,
    spent: &mut Spent,
) -> Result<(String, Response<Body>), GatewayProblem> {
    let (parts, body) = request.into_parts();
    let route = resolve(api, &parts)?;
    let authorizing = Instant::now();
    let claims = authorize(api, &route, &parts.headers).await?;
    spent.authorize = authorizing.elapsed();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| GatewayProblem::RequestTooLarge)?;
    let cx = Context {
        request_id,
        stage: &api.stage,
        account_id: &api.account_id,
        source_ip: peer.ip().to_string(),
        claims,
        trace_header: api.tracing.trace_header(
            parts
                .headers
                .get("x-amzn-trace-id")
                .and_then(|v| v.to_str().ok()),
        ),
    };
    let event = apigw::proxy_event(
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        &body,
        &route,
        cx,
    );
    let function = route.operation.function.clone();
    let invoking = Instant::now();
    let response = invoke(api, &function, &event).await?;
    spent.invoke = invoking.elapsed();
    Ok((function, response))
}

/// The route for the request's method and path.
fn resolve<'a>(api: &'a Api, parts: &Parts) -> Result<Matched<'a>, GatewayProblem> {
    // API Gateway REST has no 405: a resource without this method is MISSING_AUTHENTICATION_TOKEN, like an
    // unknown path.
    match api.routes.resolve(parts.method.as_str(), parts.uri.path()) {
        Resolution::Found(route) => Ok(route),
        Resolution::NotFound | Resolution::MethodNotAllowed { .. } => {
            Err(GatewayProblem::NoSuchMethod)
        }
    }
}

/// Invokes `function` with the proxy event and turns its proxy response into the HTTP response.
async fn invoke(
    api: &Api,
    function: &str,
    event: &ApiGatewayProxyRequest,
) -> Result<Response<Body>, GatewayProblem> {
    let proxy: ApiGatewayProxyResponse = api
        .invoker
        .invoke(function, &apigw::event_json(event), api.integration_timeout)
        .await
        .map_err(failed)?;
    let response = apigw::http_response(proxy).map_err(|reason| {
        tracing::error!(function, reason, "malformed Lambda proxy response");
        GatewayProblem::IntegrationFailure
    })?;
    Ok(response)
}

/// The Cognito authorizer's step: the caller's claims when the operation requires a token.
async fn authorize(
    api: &Api,
    route: &Matched<'_>,
    headers: &header::HeaderMap,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, GatewayProblem> {
    if !route.operation.requires_token {
        return Ok(None);
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    api.authorizer
        .authorize(authorization)
        .await
        .map(Some)
        .map_err(refused)
}

fn refused(error: AuthError) -> GatewayProblem {
    match error {
        AuthError::Jwks(reason) => {
            tracing::error!(reason, "the authorizer could not fetch the JWKS");
            GatewayProblem::AuthorizerUnavailable
        }
        other => {
            tracing::info!(reason = %other, "token refused");
            GatewayProblem::Unauthorized
        }
    }
}

fn failed(error: InvokeError) -> GatewayProblem {
    tracing::error!(error = %error, "invocation failed");
    match error {
        InvokeError::Timeout { .. } => GatewayProblem::IntegrationTimeout,
        _ => GatewayProblem::IntegrationFailure,
    }
}

#[cfg(test)]
mod tests;
