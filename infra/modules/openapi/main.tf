# Turns the repository's OpenAPI document (docs/openapi.yaml, no AWS extensions) into the body of an
# API Gateway REST API: every operation gets an aws_proxy integration to the function named by its
# operationId, and securitySchemes.cognito becomes the Cognito user-pool authorizer.

locals {
  spec         = yamldecode(var.openapi_document)
  http_methods = ["get", "put", "post", "delete", "options", "head", "patch"]

  # "METHOD /path" => facts about the operation (for Lambda permissions and the checks below).
  operations = merge([
    for path, item in local.spec.paths : {
      for method, operation in item : "${upper(method)} ${path}" => {
        path         = path
        method       = upper(method)
        operation_id = try(tostring(operation.operationId), null)
        schemes      = flatten([for requirement in try(operation.security, local.spec.security, []) : keys(requirement)])
      } if contains(local.http_methods, lower(method))
    }
  ]...)

  operation_ids          = toset([for operation in values(local.operations) : operation.operation_id if operation.operation_id != null])
  missing_operation_ids  = [for key, operation in local.operations : key if operation.operation_id == null]
  unknown_operation_ids  = [for id in local.operation_ids : id if !contains(keys(var.function_invoke_arns), id)]
  unknown_security_names = setsubtract(toset(flatten([for operation in values(local.operations) : operation.schemes])), [var.security_scheme_name])

  # API Gateway imports OpenAPI 2.0/3.0 only, and with proxy integrations it uses nothing of the
  # request/response schemas, so the body keeps the routing facts: paths, methods, operationIds, path
  # parameters, response codes and security. The schemas stay in docs/ for clients and tests.
  paths = {
    for path, item in local.spec.paths : path => {
      for method, operation in item : lower(method) => merge(
        {
          operationId = try(tostring(operation.operationId), "")
          parameters = [
            for name in flatten(regexall("\\{([^}]+)\\}", path)) : {
              name     = name
              in       = "path"
              required = true
              schema   = { type = "string" }
            }
          ]
          responses = {
            for code, response in try(operation.responses, { default = { description = "Lambda proxy response" } }) :
            tostring(code) => {
              description = try(
                tostring(response.description),
                tostring(local.spec.components.responses[reverse(split("/", response["$ref"]))[0]].description),
                "HTTP ${code}",
              )
            }
          }
          "x-amazon-apigateway-integration" = {
            type                = "aws_proxy"
            httpMethod          = "POST"
            uri                 = lookup(var.function_invoke_arns, try(tostring(operation.operationId), ""), "")
            passthroughBehavior = "when_no_match"
            timeoutInMillis     = var.integration_timeout_milliseconds
          }
        },
        can(operation.summary) ? { summary = tostring(operation.summary) } : {},
        can(operation.security) || can(local.spec.security) ? { security = try(operation.security, local.spec.security) } : {},
      ) if contains(local.http_methods, lower(method))
    }
  }

  # Answers API Gateway gives itself, as RFC 9457 problems like the functions' own errors: every response
  # type API Gateway has, so none falls back to its {"message": ...} body. A slug that the functions also
  # use means the same thing. They live in the body because a body PUT in overwrite mode would drop
  # separately managed aws_api_gateway_gateway_response resources.
  gateway_problems = {
    DEFAULT_4XX                    = { status = 400, slug = "bad-request", title = "Bad request", detail = "API Gateway refused the request." }
    DEFAULT_5XX                    = { status = 500, slug = "internal", title = "Internal error", detail = "API Gateway could not process the request." }
    BAD_REQUEST_BODY               = { status = 400, slug = "invalid-body", title = "Invalid body", detail = "The request body does not match the operation." }
    BAD_REQUEST_PARAMETERS         = { status = 400, slug = "invalid-parameters", title = "Invalid parameters", detail = "A required request parameter is missing or invalid." }
    UNAUTHORIZED                   = { status = 401, slug = "unauthenticated", title = "Unauthenticated", detail = "A valid Cognito token is required in the Authorization header." }
    EXPIRED_TOKEN                  = { status = 401, slug = "unauthenticated", title = "Unauthenticated", detail = "The token has expired; sign in again." }
    ACCESS_DENIED                  = { status = 403, slug = "forbidden", title = "Forbidden", detail = "The caller may not use this operation." }
    INVALID_API_KEY                = { status = 403, slug = "forbidden", title = "Forbidden", detail = "The caller may not use this operation." }
    INVALID_SIGNATURE              = { status = 403, slug = "forbidden", title = "Forbidden", detail = "The caller may not use this operation." }
    WAF_FILTERED                   = { status = 403, slug = "request-blocked", title = "Request blocked", detail = "The web application firewall blocked the request." }
    MISSING_AUTHENTICATION_TOKEN   = { status = 404, slug = "route-not-found", title = "Route not found", detail = "No operation matches this method and path." }
    RESOURCE_NOT_FOUND             = { status = 404, slug = "route-not-found", title = "Route not found", detail = "No operation matches this method and path." }
    REQUEST_TOO_LARGE              = { status = 413, slug = "payload-too-large", title = "Payload too large", detail = "The request is larger than API Gateway accepts." }
    UNSUPPORTED_MEDIA_TYPE         = { status = 415, slug = "unsupported-media-type", title = "Unsupported media type", detail = "The request's Content-Type is not supported." }
    THROTTLED                      = { status = 429, slug = "throttled", title = "Too many requests", detail = "The API's request rate limit was exceeded; retry with backoff." }
    QUOTA_EXCEEDED                 = { status = 429, slug = "quota-exceeded", title = "Quota exceeded", detail = "The caller's usage quota is used up." }
    AUTHORIZER_FAILURE             = { status = 500, slug = "internal", title = "Internal error", detail = "The authorizer failed." }
    AUTHORIZER_CONFIGURATION_ERROR = { status = 500, slug = "internal", title = "Internal error", detail = "The authorizer is misconfigured." }
    API_CONFIGURATION_ERROR        = { status = 500, slug = "internal", title = "Internal error", detail = "The API is misconfigured." }
    INTEGRATION_FAILURE            = { status = 502, slug = "bad-gateway", title = "Bad gateway", detail = "The function serving this operation failed or is throttled." }
    INTEGRATION_TIMEOUT            = { status = 504, slug = "gateway-timeout", title = "Gateway timeout", detail = "The function serving this operation did not answer in time." }
  }

  gateway_responses = {
    for type, problem in local.gateway_problems : type => {
      statusCode         = tostring(problem.status)
      responseParameters = { "gatewayresponse.header.Content-Type" = "'application/problem+json'" }
      responseTemplates = {
        "application/json" = jsonencode({
          type       = "${var.problem_type_base_url}${problem.slug}"
          title      = problem.title
          status     = problem.status
          detail     = problem.detail
          request_id = "$context.requestId"
        })
      }
    }
  }

  body = {
    openapi = "3.0.1"
    info = {
      title       = try(tostring(local.spec.info.title), "api")
      version     = try(tostring(local.spec.info.version), "1")
      description = try(tostring(local.spec.info.description), "")
    }
    paths = local.paths

    "x-amazon-apigateway-gateway-responses" = local.gateway_responses
    components = {
      securitySchemes = {
        (var.security_scheme_name) = {
          type                           = "apiKey"
          name                           = "Authorization"
          in                             = "header"
          "x-amazon-apigateway-authtype" = "cognito_user_pools"
          "x-amazon-apigateway-authorizer" = {
            type         = "cognito_user_pools"
            providerARNs = var.user_pool_arns
          }
        }
      }
    }
  }
}
