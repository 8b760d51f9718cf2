//! The Lambda entry point: one run per invocation, its report as the response, its failure as the Lambda
//! error (so `aws_lambda_invocation` fails the `terraform apply` that triggered it).

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent};
use order_core::bootstrap;
use order_core::db::Db;
use order_core::invocation::{self, Trigger};
use order_core::telemetry::Telemetry;
use tracing::Instrument;

use crate::roles::RolePasswords;
use crate::{MigrateError, Report, Request};

impl From<MigrateError> for Diagnostic {
    fn from(error: MigrateError) -> Self {
        Diagnostic {
            error_type: error.kind().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Handles one invocation inside its own span; logs the failure before returning it.
pub async fn handle(
    db: &Db,
    roles: Option<&RolePasswords>,
    event: LambdaEvent<Request>,
) -> Result<Report, MigrateError> {
    let name = "migrate-db invoke".to_owned();
    let span = invocation::span(Trigger::Other, name, &event.context.request_id);
    async {
        crate::run(db, roles, event.payload)
            .await
            .inspect_err(|error| {
                tracing::error!(error = %error, error.type = error.kind(), "migration run failed");
            })
    }
    .instrument(span)
    .await
}

/// Serves invocations until the environment shuts down, flushing spans before each response leaves.
pub async fn serve(
    db: Arc<Db>,
    roles: Option<RolePasswords>,
    telemetry: Telemetry,
) -> Result<(), lambda_runtime::Error> {
    bootstrap::on_shutdown(telemetry.clone(), db.clone());
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Request>| {
            let (db, roles, telemetry) = (db.clone(), roles.clone(), telemetry.clone());
            async move {
                let result = handle(&db, roles.as_ref(), event).await;
                telemetry.flush();
                result
            }
        },
    ))
    .await
}
