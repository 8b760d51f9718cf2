//! The Lambda entry point: one run per invocation, its report as the response, its failure as the Lambda
//! error (so `aws_lambda_invocation` fails the `terraform apply` that triggered it). Secrets Manager invokes
//! the same function for each step of a role secret's rotation ([`crate::rotation`]).

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent};
use order_core::bootstrap;
use order_core::config::DbSettings;
use order_core::db::Db;
use order_core::invocation::{self, Trigger};
use order_core::telemetry::Telemetry;
use tracing::Instrument;

use crate::roles::RolePasswords;
use crate::rotation::{RotationEvent, Rotator};
use crate::{Invocation, MigrateError, Report, Request};

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

/// Runs one step of a rotation inside its own span; logs the failure before returning it.
pub async fn rotate(
    db: &Db,
    roles: Option<&RolePasswords>,
    settings: &DbSettings,
    event: LambdaEvent<RotationEvent>,
) -> Result<(), MigrateError> {
    let name = "migrate-db rotate".to_owned();
    let span = invocation::span(Trigger::Other, name, &event.context.request_id);
    async {
        let roles = roles.ok_or_else(|| {
            MigrateError::Rotation("DB_ROLE_SECRET_ARNS lists no secret to rotate".to_owned())
        })?;
        let rotator = Rotator {
            roles,
            master: db,
            settings,
        };
        rotator.step(&event.payload).await
    }
    .instrument(span)
    .await
    .inspect_err(|error| {
        tracing::error!(error = %error, error.type = error.kind(), "rotation step failed");
    })
}

/// The response: a migration's report, or `null` for a rotation step.
async fn dispatch(
    db: &Db,
    roles: Option<&RolePasswords>,
    settings: &DbSettings,
    event: LambdaEvent<Invocation>,
) -> Result<Option<Report>, MigrateError> {
    let LambdaEvent { payload, context } = event;
    match payload {
        Invocation::Migrate(request) => handle(db, roles, LambdaEvent::new(request, context))
            .await
            .map(Some),
        Invocation::Rotation(rotation) => {
            rotate(db, roles, settings, LambdaEvent::new(rotation, context))
                .await
                .map(|()| None)
        }
    }
}

/// Serves invocations until the environment shuts down, flushing spans before each response leaves.
pub async fn serve(
    db: Arc<Db>,
    roles: Option<RolePasswords>,
    settings: DbSettings,
    telemetry: Telemetry,
) -> Result<(), lambda_runtime::Error> {
    bootstrap::on_shutdown(telemetry.clone(), db.clone());
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Invocation>| {
            let (db, roles, settings, telemetry) = (
                db.clone(),
                roles.clone(),
                settings.clone(),
                telemetry.clone(),
            );
            async move {
                let result = dispatch(&db, roles.as_ref(), &settings, event).await;
                telemetry.flush();
                result
            }
        },
    ))
    .await
}
