//! Database credentials from Secrets Manager (moto), cached per execution environment and re-fetched once when
//! PostgreSQL rejects them (rotation).

mod support;

use order_core::config::{DbSettings, DbSource};
use order_core::db::Db;
use sea_orm::{ConnectionTrait, DbErr};

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&support::aws_config().await)
}

fn settings(secret_arn: &str) -> DbSettings {
    let admin = support::admin_url();
    let (rest, _) = admin.rsplit_once('/').unwrap();
    let host_port = rest.rsplit('@').next().unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let mut settings = DbSettings::from_url("unused");
    settings.source = DbSource::Secret {
        secret_arn: secret_arn.to_owned(),
        host: host.to_owned(),
        port: port.parse().unwrap(),
        name: "postgres".to_owned(),
    };
    settings
}

async fn select_one(db: &Db) -> Result<(), DbErr> {
    db.run(|conn| async move { conn.execute_unprepared("SELECT 1").await.map(|_| ()) })
        .await
}

#[tokio::test]
async fn credentials_come_from_the_rds_style_secret() {
    let client = secrets_client().await;
    let name = format!("db-{}", uuid::Uuid::new_v4());
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username":"postgres","password":"p@ss:w/rd%"}"#)
        .send()
        .await
        .expect("Secrets Manager emulator")
        .arn
        .unwrap();

    let db = Db::connect(settings(&arn), Some(client)).await.unwrap();

    select_one(&db)
        .await
        .expect("connects with the secret's credentials");
}

#[tokio::test]
async fn rejected_credentials_are_refetched_once_after_a_rotation() {
    let client = secrets_client().await;
    let name = format!("db-{}", uuid::Uuid::new_v4());
    // The environment starts with credentials PostgreSQL will refuse (a role that no longer exists)...
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username":"rotated_away","password":"old"}"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let db = Db::connect(settings(&arn), Some(client.clone()))
        .await
        .unwrap();
    // ...and the secret is rotated after it cached them.
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(r#"{"username":"postgres","password":"new"}"#)
        .send()
        .await
        .unwrap();

    select_one(&db)
        .await
        .expect("re-fetched the secret and retried");
    select_one(&db)
        .await
        .expect("and keeps the new credentials");
}

#[tokio::test]
async fn a_secret_that_stays_wrong_fails_instead_of_looping() {
    let client = secrets_client().await;
    let name = format!("db-{}", uuid::Uuid::new_v4());
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username":"nobody_here","password":"x"}"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let db = Db::connect(settings(&arn), Some(client)).await.unwrap();

    let err = select_one(&db).await.unwrap_err();

    assert!(order_core::db::is_auth_failure(&err), "{err}");
}
