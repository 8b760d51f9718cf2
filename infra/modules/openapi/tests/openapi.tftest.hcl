# Offline: this module has no provider, so `terraform init && terraform test` need no network.

variables {
  openapi_document = file("tests/fixtures/openapi.yaml")
  function_invoke_arns = {
    "create-order" = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/create-order/invocations"
    "get-orders"   = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/get-orders/invocations"
  }
  user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_example"]
}

run "every_operation_gets_a_proxy_integration_to_its_operation_id" {
  command = plan

  assert {
    condition     = jsondecode(output.body).paths["/orders"].post["x-amazon-apigateway-integration"].uri == var.function_invoke_arns["create-order"]
    error_message = "POST /orders must integrate with create-order."
  }

  assert {
    condition = alltrue([
      for path in ["/orders", "/orders/{id}"] :
      jsondecode(output.body).paths[path].get["x-amazon-apigateway-integration"].uri == var.function_invoke_arns["get-orders"]
    ])
    error_message = "GET /orders and GET /orders/{id} must integrate with get-orders."
  }

  assert {
    condition = alltrue([
      for path, item in jsondecode(output.body).paths : alltrue([
        for method, operation in item :
        operation["x-amazon-apigateway-integration"].type == "aws_proxy" && operation["x-amazon-apigateway-integration"].httpMethod == "POST"
      ])
    ])
    error_message = "Every integration must be aws_proxy with httpMethod POST."
  }

  assert {
    condition     = output.function_names == toset(["create-order", "get-orders"])
    error_message = "function_names must list the operationIds."
  }
}

run "cognito_scheme_becomes_the_user_pool_authorizer" {
  command = plan

  assert {
    condition     = jsondecode(output.body).components.securitySchemes.cognito["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    error_message = "securitySchemes.cognito must be a cognito_user_pools authorizer."
  }

  assert {
    condition     = tolist(jsondecode(output.body).components.securitySchemes.cognito["x-amazon-apigateway-authorizer"].providerARNs) == var.user_pool_arns
    error_message = "The authorizer must trust the given user pools."
  }

  assert {
    condition     = jsondecode(output.body).paths["/orders"].post.security == [{ cognito = [] }]
    error_message = "Operation security must be kept."
  }
}

run "body_is_openapi_30_with_path_parameters_and_no_schemas" {
  command = plan

  assert {
    condition     = jsondecode(output.body).openapi == "3.0.1"
    error_message = "API Gateway imports OpenAPI 3.0, not 3.1."
  }

  assert {
    condition     = jsondecode(output.body).paths["/orders/{id}"].get.parameters[0].name == "id"
    error_message = "Path parameters must be declared."
  }

  assert {
    condition     = !can(jsondecode(output.body).components.schemas)
    error_message = "Schemas are not sent to API Gateway."
  }
}

run "gateway_errors_are_problem_documents" {
  command = plan

  assert {
    condition     = jsondecode(output.body)["x-amazon-apigateway-gateway-responses"].UNAUTHORIZED.statusCode == "401"
    error_message = "A missing or invalid token must answer 401."
  }

  assert {
    condition = jsondecode(jsondecode(output.body)["x-amazon-apigateway-gateway-responses"].UNAUTHORIZED.responseTemplates["application/json"]) == {
      type       = "https://problems.orders.example/unauthenticated"
      title      = "Unauthenticated"
      status     = 401
      detail     = "A valid Cognito token is required in the Authorization header."
      request_id = "$context.requestId"
    }
    error_message = "The 401 body must be the unauthenticated problem."
  }

  assert {
    condition     = jsondecode(output.body)["x-amazon-apigateway-gateway-responses"].MISSING_AUTHENTICATION_TOKEN.statusCode == "404"
    error_message = "An unknown route must answer 404 route-not-found, not API Gateway's 403."
  }
}

run "operation_id_without_a_function_is_rejected" {
  command = plan

  variables {
    function_invoke_arns = {
      "create-order" = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/create-order/invocations"
    }
  }

  expect_failures = [output.body]
}

run "unknown_security_scheme_is_rejected" {
  command = plan

  variables {
    openapi_document = <<-EOT
      openapi: 3.1.0
      info: { title: t, version: "1" }
      paths:
        /orders:
          get:
            operationId: get-orders
            security:
              - apiKey: []
            responses:
              '200': { description: ok }
    EOT
  }

  expect_failures = [output.body]
}

run "document_without_operations_is_rejected" {
  command = plan

  variables {
    openapi_document = <<-EOT
      openapi: 3.1.0
      info: { title: t, version: "1" }
      paths:
        /orders:
          summary: nothing here
    EOT
  }

  expect_failures = [output.body]
}

# The repository's own document, with every deployable function known.
run "repository_document_renders" {
  command = plan

  variables {
    openapi_document = file("../../../docs/openapi.yaml")
    function_invoke_arns = {
      for name in ["create-order", "get-orders", "cancel-order", "process-order", "update-stock", "outbox-relay"] :
      name => "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${name}/invocations"
    }
  }

  assert {
    condition = alltrue(flatten([
      for path, item in jsondecode(output.body).paths : [
        for method, operation in item :
        operation["x-amazon-apigateway-integration"].uri == var.function_invoke_arns[operation.operationId]
      ]
    ]))
    error_message = "Every operation of docs/openapi.yaml must integrate with the function its operationId names."
  }

  assert {
    condition = alltrue(flatten([
      for path, item in jsondecode(output.body).paths : [
        for method, operation in item : alltrue([for code, response in operation.responses : response.description != ""])
      ]
    ]))
    error_message = "Every response needs a description (resolved through $ref when needed)."
  }

  assert {
    condition     = jsondecode(output.body).paths["/orders/{id}/cancel"].post["x-amazon-apigateway-integration"].uri == var.function_invoke_arns["cancel-order"]
    error_message = "POST /orders/{id}/cancel must integrate with cancel-order."
  }

  assert {
    condition     = jsondecode(output.body).paths["/orders/{id}/cancel"].post.parameters[0].name == "id" && jsondecode(output.body).paths["/orders/{id}/cancel"].post.security == [{ cognito = [] }]
    error_message = "POST /orders/{id}/cancel must declare its id and use the Cognito authorizer."
  }
}

# Issue 11: every gateway response answers application/problem+json with a stable type, the status, a
# title, a detail and the request id.
run "every_gateway_response_is_a_problem_document" {
  command = plan

  assert {
    condition = alltrue([
      for type in [
        "DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "WAF_FILTERED", "ACCESS_DENIED", "BAD_REQUEST_BODY",
        "BAD_REQUEST_PARAMETERS", "QUOTA_EXCEEDED", "RESOURCE_NOT_FOUND", "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED", "EXPIRED_TOKEN", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "REQUEST_TOO_LARGE",
      ] : contains(keys(jsondecode(output.body)["x-amazon-apigateway-gateway-responses"]), type)
    ])
    error_message = "Every gateway response type of issue 11 must be mapped."
  }

  assert {
    condition = alltrue([
      for type, response in jsondecode(output.body)["x-amazon-apigateway-gateway-responses"] :
      response.responseParameters["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
      && startswith(jsondecode(response.responseTemplates["application/json"]).type, "https://problems.orders.example/")
      && tostring(jsondecode(response.responseTemplates["application/json"]).status) == response.statusCode
      && jsondecode(response.responseTemplates["application/json"]).title != ""
      && jsondecode(response.responseTemplates["application/json"]).detail != ""
      && jsondecode(response.responseTemplates["application/json"]).request_id == "$context.requestId"
    ])
    error_message = "Each gateway response must be application/problem+json with type, status (= the response status), title, detail and request_id."
  }

  assert {
    condition = (
      jsondecode(output.body)["x-amazon-apigateway-gateway-responses"].THROTTLED.statusCode == "429"
      && jsondecode(jsondecode(output.body)["x-amazon-apigateway-gateway-responses"].THROTTLED.responseTemplates["application/json"]).type == "https://problems.orders.example/throttled"
    )
    error_message = "THROTTLED must answer 429 throttled."
  }
}
