//! Routes read from the OpenAPI document, matched the way API Gateway matches the API Terraform renders from it:
//! the most specific resource wins (literal segments before `{param}` ones), then the method.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use percent_encoding::percent_decode_str;
use serde::Deserialize;

/// The security scheme that stands for the Cognito user-pool authorizer.
pub const COGNITO_SCHEME: &str = "cognito";

const HTTP_METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// The document cannot be turned into routes.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Not YAML/JSON of the expected shape.
    #[error("not a usable OpenAPI document: {0}")]
    Parse(String),
    /// Every operation must name the function that serves it.
    #[error("{0} has no operationId")]
    MissingOperationId(String),
    /// Only the Cognito scheme exists in API Gateway (Terraform refuses others too).
    #[error("{operation} uses security scheme `{scheme}`; only `cognito` is supported")]
    UnsupportedScheme { operation: String, scheme: String },
}

/// What an operation needs: the function behind it and whether the Cognito authorizer guards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub function: String,
    pub requires_token: bool,
}

/// The outcome of routing one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// A resource and method matched.
    Found(Matched<'a>),
    /// No resource matches the path.
    NotFound,
    /// The resource exists but not with this method; `allowed` lists its methods.
    MethodNotAllowed { allowed: Vec<String> },
}

/// A matched operation with what API Gateway puts in the event about it.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    /// The path template (`/orders/{id}`): `resource` and `requestContext.resourcePath`.
    pub resource: &'a str,
    /// Decoded values of the template's parameters.
    pub path_parameters: HashMap<String, String>,
    pub operation: &'a Operation,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Literal(String),
    Parameter(String),
}

#[derive(Debug)]
struct Route {
    template: String,
    segments: Vec<Segment>,
    /// Upper-case method → operation.
    operations: BTreeMap<String, Operation>,
}

/// Every resource of the API, most specific first.
#[derive(Debug)]
pub struct Routes {
    routes: Vec<Route>,
}

type SecurityRequirements = Vec<BTreeMap<String, Vec<String>>>;

#[derive(Deserialize)]
struct Document {
    paths: BTreeMap<String, BTreeMap<String, serde_yaml_ng::Value>>,
    #[serde(default)]
    security: Option<SecurityRequirements>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationDoc {
    operation_id: Option<String>,
    #[serde(default)]
    security: Option<SecurityRequirements>,
}

impl Routes {
    /// Reads and parses the document at `path`.
    pub fn load(path: &Path) -> Result<Self, OpenApiError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpenApiError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// Parses a document (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Self, OpenApiError> {
        let doc: Document =
            serde_yaml_ng::from_str(text).map_err(|e| OpenApiError::Parse(e.to_string()))?;
        let mut routes = Vec::new();
        for (template, item) in &doc.paths {
            let mut operations = BTreeMap::new();
            for (method, value) in item {
                if !HTTP_METHODS.contains(&method.as_str()) {
                    continue; // parameters, summary, servers, ...
                }
                let name = format!("{} {template}", method.to_ascii_uppercase());
                let op: OperationDoc = serde_yaml_ng::from_value(value.clone())
                    .map_err(|e| OpenApiError::Parse(format!("{name}: {e}")))?;
                let function = op
                    .operation_id
                    .ok_or_else(|| OpenApiError::MissingOperationId(name.clone()))?;
                let security = op.security.or_else(|| doc.security.clone());
                let requires_token = requires_token(&name, security.as_deref().unwrap_or(&[]))?;
                operations.insert(
                    method.to_ascii_uppercase(),
                    Operation {
                        function,
                        requires_token,
                    },
                );
            }
            routes.push(Route {
                segments: parse_template(template),
                template: template.clone(),
                operations,
            });
        }
        // Literal segments sort before parameters, so the first match is the most specific.
        routes.sort_by(|a, b| a.segments.cmp(&b.segments));
        Ok(Self { routes })
    }

    /// The functions the API's operations name.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.routes
            .iter()
            .flat_map(|r| r.operations.values().map(|o| o.function.as_str()))
    }

    /// Routes `method` on the (still percent-encoded) request `path`.
    pub fn resolve(&self, method: &str, path: &str) -> Resolution<'_> {
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let Some((route, path_parameters)) = self
            .routes
            .iter()
            .find_map(|route| Some((route, route.matches(&segments)?)))
        else {
            return Resolution::NotFound;
        };
        match route.operations.get(&method.to_ascii_uppercase()) {
            Some(operation) => Resolution::Found(Matched {
                resource: &route.template,
                path_parameters,
                operation,
            }),
            None => Resolution::MethodNotAllowed {
                allowed: route.operations.keys().cloned().collect(),
            },
        }
    }
}

impl Route {
    fn matches(&self, segments: &[&str]) -> Option<HashMap<String, String>> {
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut parameters = HashMap::new();
        for (pattern, actual) in self.segments.iter().zip(segments) {
            match pattern {
                Segment::Literal(literal) if literal == actual => {}
                Segment::Parameter(name) if !actual.is_empty() => {
                    let value = percent_decode_str(actual).decode_utf8().ok()?;
                    parameters.insert(name.clone(), value.into_owned());
                }
                _ => return None,
            }
        }
        Some(parameters)
    }
}

fn parse_template(template: &str) -> Vec<Segment> {
    template
        .strip_prefix('/')
        .unwrap_or(template)
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Parameter(name.to_owned()),
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect()
}

/// OpenAPI: the requirements are alternatives, and an empty one allows anonymous calls.
fn requires_token(
    operation: &str,
    security: &[BTreeMap<String, Vec<String>>],
) -> Result<bool, OpenApiError> {
    for scheme in security.iter().flat_map(BTreeMap::keys) {
        if scheme != COGNITO_SCHEME {
            return Err(OpenApiError::UnsupportedScheme {
                operation: operation.to_owned(),
                scheme: scheme.clone(),
            });
        }
    }
    Ok(!security.is_empty() && security.iter().all(|r| !r.is_empty()))
}

#[cfg(test)]
mod tests;
