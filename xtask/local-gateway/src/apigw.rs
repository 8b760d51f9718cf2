//! API Gateway REST proxy integration: the `ApiGatewayProxyRequest` event built from an HTTP request, and the
//! HTTP response built from the function's `ApiGatewayProxyResponse`.

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyRequestContext, ApiGatewayProxyResponse,
};
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::openapi::Matched;

/// What API Gateway knows about a request besides the request itself.
pub struct Context<'a> {
    pub request_id: &'a str,
    pub stage: &'a str,
    pub account_id: &'a str,
    pub source_ip: String,
    /// The authorizer's claims, when the operation is guarded.
    pub claims: Option<Map<String, Value>>,
    /// `X-Amzn-Trace-Id` as active tracing sets it ([`crate::xray`]); it replaces the client's.
    pub trace_header: String,
}

/// The proxy event for `method path?query` matched to `route`.
pub fn proxy_event(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    route: &Matched<'_>,
    cx: Context<'_>,
) -> ApiGatewayProxyRequest {
    let (single, multi) = query_parameters(query.unwrap_or_default());
    let headers = forwarded_headers(headers, &cx);
    let context = request_context(method, path, route, &headers, cx);

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(route.resource.to_owned());
    event.path = Some(path.to_owned());
    event.http_method = method.clone();
    event.multi_value_headers = headers.clone();
    event.headers = headers;
    event.query_string_parameters = single.into();
    event.multi_value_query_string_parameters = multi.into();
    event.path_parameters = route.path_parameters.clone();
    event.request_context = context;
    (event.body, event.is_base64_encoded) = event_body(body);
    event
}

/// The client's headers as the integration sees them: forwarded for and proto added, the trace header
/// replaced by active tracing's.
fn forwarded_headers(headers: &HeaderMap, cx: &Context<'_>) -> HeaderMap {
    let mut headers = text_headers(headers);
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Ok(ip) = HeaderValue::from_str(&cx.source_ip) {
        headers.append("x-forwarded-for", ip);
    }
    if let Ok(trace) = HeaderValue::from_str(&cx.trace_header) {
        headers.insert("x-amzn-trace-id", trace);
    }
    headers
}

/// The event's `requestContext`: stage, ids, caller identity, time and the authorizer's claims.
fn request_context(
    method: &Method,
    path: &str,
    route: &Matched<'_>,
    headers: &HeaderMap,
    cx: Context<'_>,
) -> ApiGatewayProxyRequestContext {
    let now = chrono::Utc::now();
    let mut context = ApiGatewayProxyRequestContext::default();
    context.account_id = Some(cx.account_id.to_owned());
    context.apiid = Some("local".to_owned());
    context.resource_id = Some("local".to_owned());
    context.stage = Some(cx.stage.to_owned());
    context.request_id = Some(cx.request_id.to_owned());
    context.protocol = Some("HTTP/1.1".to_owned());
    context.identity.source_ip = Some(cx.source_ip);
    context.identity.user_agent = header_text(headers, "user-agent");
    context.domain_name = header_text(headers, "host");
    context.resource_path = Some(route.resource.to_owned());
    context.path = Some(format!("/{}{path}", cx.stage));
    context.http_method = method.clone();
    context.request_time = Some(now.format("%d/%b/%Y:%H:%M:%S +0000").to_string());
    context.request_time_epoch = now.timestamp_millis();
    if let Some(claims) = cx.claims {
        context.authorizer.fields = HashMap::from([("claims".to_owned(), json!(claims))]);
    }
    context
}

/// The body as the event carries it: text as is, anything else base64-encoded, none when empty.
fn event_body(body: &[u8]) -> (Option<String>, bool) {
    match std::str::from_utf8(body) {
        _ if body.is_empty() => (None, false),
        Ok(text) => (Some(text.to_owned()), false),
        Err(_) => (Some(STANDARD.encode(body)), true),
    }
}

/// The event as API Gateway sends it: a map without entries is `null`, not `{}` (no query string, a resource
/// without path parameters, no stage variables).
pub fn event_json(event: &ApiGatewayProxyRequest) -> Value {
    let mut json = serde_json::to_value(event).expect("a proxy event serializes");
    for field in [
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
    ] {
        if json[field].as_object().is_some_and(Map::is_empty) {
            json[field] = Value::Null;
        }
    }
    json
}

/// `a=1&b=2&a=3` → every value per name in order (`multiValueQueryStringParameters`), and the last one
/// (`queryStringParameters`), both percent-decoded: a repeated parameter reaches the function whole, so the
/// function can refuse it. <https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#apigateway-multivalue-headers-and-parameters>
fn query_parameters(query: &str) -> (HashMap<String, String>, HashMap<String, Vec<String>>) {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut single = HashMap::new();
    let mut multi: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        single.insert(name.clone(), value.clone());
        multi.entry(name).or_default().push(value);
    }
    (single, multi)
}

/// The headers as the event's JSON strings can carry them: a value that is not UTF-8 (HTTP allows any byte
/// from 0x80 up, "obs-text", which RFC 9110 reads as ISO-8859-1) becomes the text of its bytes read as
/// ISO-8859-1, so it reaches the function, which refuses what it does not accept, instead of failing the
/// event's serialization.
fn text_headers(headers: &HeaderMap) -> HeaderMap {
    let mut text = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let value = match std::str::from_utf8(value.as_bytes()) {
            Ok(_) => value.clone(),
            Err(_) => {
                let latin1: String = value.as_bytes().iter().map(|&b| char::from(b)).collect();
                HeaderValue::from_str(&latin1).expect("UTF-8 of header bytes is a valid header")
            }
        };
        text.append(name, value);
    }
    text
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// The HTTP response for a proxy response; `Err` when API Gateway would call it malformed (a 502).
pub fn http_response(proxy: ApiGatewayProxyResponse) -> Result<Response<Body>, String> {
    let status = u16::try_from(proxy.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("statusCode {} is not an HTTP status", proxy.status_code))?;
    let body = match proxy.body {
        None | Some(LambdaBody::Empty) => Vec::new(),
        Some(LambdaBody::Text(text)) if proxy.is_base64_encoded => STANDARD
            .decode(text)
            .map_err(|e| format!("isBase64Encoded but the body is not base64: {e}"))?,
        Some(LambdaBody::Text(text)) => text.into_bytes(),
        Some(LambdaBody::Binary(bytes)) => bytes,
        Some(_) => return Err("unsupported body encoding".into()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = merged_headers(&proxy.headers, &proxy.multi_value_headers);
    Ok(response)
}

/// API Gateway merges `headers` into `multiValueHeaders`; the framing headers are its own.
fn merged_headers(single: &HeaderMap, multi: &HeaderMap) -> HeaderMap {
    let mut merged = multi.clone();
    for (name, value) in single {
        if !merged.get_all(name).iter().any(|v| v == value) {
            merged.append(name, value.clone());
        }
    }
    for framing in ["content-length", "transfer-encoding", "connection"] {
        merged.remove(HeaderName::from_static(framing));
    }
    merged
}

#[cfg(test)]
mod tests;
