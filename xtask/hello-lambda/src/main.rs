//! Hello-world Lambda: echoes the event. The baseline that `cargo xtask bench coldstart` compares against.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(echo)).await
}
