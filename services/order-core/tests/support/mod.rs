//! Test support: a fresh PostgreSQL database per test with migrations applied, queues on the SQS emulator,
//! API Gateway events, and a poller that feeds queue messages to the consumers the way Lambda does.
#![allow(dead_code)]

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_sqs::types::QueueAttributeName;
use lambda_http::{Body, Request, Response};
use order_core::config::DbSettings;
use order_core::config::RelaySettings;
use order_core::db::Db;
use order_core::publisher::SqsSender;
use order_core::service::{Deps, OrderService, ServiceError};
use order_core::store::outbox::PublishReport;
use order_core::topology::Queue;
pub use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

/// Where to create throwaway databases.
pub fn admin_url() -> String {
    dev_support::database::admin_url()
}

/// The SQS emulator (LocalStack, or moto without Python >= 3.13) started by `cargo xtask test`; a refused loopback port otherwise, so nothing ever
/// leaves the machine.
pub fn sqs_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:9".to_owned())
}

/// The region every test resource lives in.
pub const REGION: &str = "us-east-1";

/// SDK configuration for the emulator: loopback endpoint, fake credentials, fixed region.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(sqs_endpoint())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

/// An SQS client for the emulator.
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&aws_config().await)
}

/// A queue with a DLQ that receives messages after `max_receive` failed receives.
#[derive(Clone)]
pub struct TestQueue {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

impl TestQueue {
    /// Which pipeline queue this stands for (the test queues are named `<prefix>-orders` / `<prefix>-stock`).
    pub fn kind(&self) -> Queue {
        if self.url.contains("-stock") {
            Queue::Stock
        } else {
            Queue::Orders
        }
    }
}

/// One relay run's publishing report, as the scheduled function runs it.
pub async fn relay(deps: &Deps, settings: RelaySettings) -> Result<PublishReport, ServiceError> {
    Ok(OrderService::new(deps.clone())
        .relay(settings)
        .await?
        .publish)
}

/// Products every test database starts with.
pub const TEE: Uuid = Uuid::from_u128(0x0193a000_0000_7000_8000_000000000001);
pub const MUG: Uuid = Uuid::from_u128(0x0193a000_0000_7000_8000_000000000003);
pub const HOODIE: Uuid = Uuid::from_u128(0x0193a000_0000_7000_8000_000000000006);

/// One test's world: its own database, its own queues, and the functions' dependencies wired to them.
pub struct TestApp {
    pub db_url: String,
    pub conn: DatabaseConnection,
    pub deps: Deps,
    pub sqs: aws_sdk_sqs::Client,
    pub orders_queue: TestQueue,
    pub stock_queue: TestQueue,
}

/// Creates a fresh database, runs the migrations, loads the demo catalogue, and creates two queues with DLQs.
pub async fn spawn_app() -> TestApp {
    let (fresh, conn) = dev_support::database::FreshDatabase::migrated_and_seeded().await;
    let (name, db_url) = (fresh.name, fresh.url);

    let sqs = sqs_client().await;
    let orders_queue = create_queue(&sqs, &name, "orders", 3).await;
    let stock_queue = create_queue(&sqs, &name, "stock", 3).await;
    let deps = deps_for(&db_url, &sqs, &orders_queue, &stock_queue).await;
    TestApp {
        db_url,
        conn,
        deps,
        sqs,
        orders_queue,
        stock_queue,
    }
}

/// Function dependencies for a database URL.
pub async fn deps_for(
    db_url: &str,
    sqs: &aws_sdk_sqs::Client,
    orders: &TestQueue,
    stock: &TestQueue,
) -> Deps {
    deps_with_timeout(
        db_url,
        sqs,
        orders,
        stock,
        std::time::Duration::from_secs(10),
    )
    .await
}

/// Dependencies whose database cannot be reached (a closed loopback port): every query fails as a real outage
/// does, after a short acquire timeout.
pub async fn unavailable_deps(
    sqs: &aws_sdk_sqs::Client,
    orders: &TestQueue,
    stock: &TestQueue,
) -> Deps {
    let url = "postgres://postgres@127.0.0.1:1/unavailable";
    deps_with_timeout(url, sqs, orders, stock, std::time::Duration::from_secs(1)).await
}

async fn deps_with_timeout(
    db_url: &str,
    sqs: &aws_sdk_sqs::Client,
    orders: &TestQueue,
    stock: &TestQueue,
    acquire_timeout: std::time::Duration,
) -> Deps {
    let mut settings = DbSettings::from_url(db_url);
    settings.max_connections = 10;
    settings.acquire_timeout = acquire_timeout;
    Deps {
        db: Db::connect(settings, None).await.expect("pool"),
        sender: Arc::new(SqsSender::new(sqs.clone())),
        queues: Arc::new(
            [
                (Queue::Orders, orders.url.clone()),
                (Queue::Stock, stock.url.clone()),
            ]
            .into(),
        ),
    }
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
    what: &str,
    max_receive: u32,
) -> TestQueue {
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{prefix}-{what}-dlq"))
        .send()
        .await
        .expect("the SQS emulator must be running (use `cargo xtask test`)")
        .queue_url
        .unwrap();
    let dlq_arn = queue_arn(sqs, &dlq_url).await;
    let url = sqs
        .create_queue()
        .queue_name(format!("{prefix}-{what}"))
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}).to_string(),
        )
        .send()
        .await
        .expect("create queue")
        .queue_url
        .unwrap();
    let arn = queue_arn(sqs, &url).await;
    TestQueue { url, arn, dlq_url }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("queue ARN")
}

/// `url` with its user replaced by `role` and no password: the local server trusts loopback connections, so the
/// role name is what decides the privileges.
pub fn url_as(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL has a scheme");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

impl TestApp {
    /// The same world seen by `function`: its dependencies log in as the function's role (the migrations
    /// created it); `conn` stays the admin connection, for arranging and asserting.
    pub async fn as_function(&self, function: &str) -> TestApp {
        let login = migration::login_of(function).expect("the function has a role");
        let db_url = url_as(&self.db_url, &login);
        TestApp {
            deps: deps_for(&db_url, &self.sqs, &self.orders_queue, &self.stock_queue).await,
            db_url,
            conn: self.conn.clone(),
            sqs: self.sqs.clone(),
            orders_queue: self.orders_queue.clone(),
            stock_queue: self.stock_queue.clone(),
        }
    }
}

impl TestApp {
    pub fn orders(&self) -> OrderService {
        OrderService::new(self.deps.clone())
    }

    /// Creates an order with its outbox row and publishes nothing (a writer that dies after its commit):
    /// the order and its outbox row's id.
    pub async fn create_unpublished(
        &self,
        customer: &order_core::domain::CustomerId,
        order: &order_core::domain::NewOrder,
    ) -> (order_core::domain::Order, Uuid) {
        // A deferring service keeps its rows until `publish_deferred`, which is never called here.
        let created = self
            .orders()
            .deferring()
            .create(customer, None, order)
            .await
            .expect("create");
        let outbox_id = self
            .scalar_text(&format!(
                "SELECT id::text FROM outbox WHERE payload->>'order_id' = '{}'",
                created.order.id
            ))
            .await;
        (created.order, outbox_id.parse().expect("a uuid"))
    }

    /// Receives up to 10 messages (visibility 0 by default in tests so failures come straight back).
    pub async fn receive(
        &self,
        queue: &TestQueue,
        visibility: i32,
    ) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .message_attribute_names("All")
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .wait_time_seconds(0)
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default()
    }

    /// What Lambda's event source mapping does: receive, invoke with an SQS event, delete what did not fail.
    /// Returns (handled, failed) counts.
    pub async fn pump<F, Fut>(&self, queue: &TestQueue, handler: F) -> (usize, usize)
    where
        F: Fn(order_core::messages::Event) -> Fut,
        Fut: Future<Output = Result<(), ServiceError>>,
    {
        let messages = self.receive(queue, 30).await;
        self.deliver(queue, messages, handler).await
    }

    /// Delivers `messages` as one SQS event and deletes the ones not reported as failures.
    pub async fn deliver<F, Fut>(
        &self,
        queue: &TestQueue,
        messages: Vec<aws_sdk_sqs::types::Message>,
        handler: F,
    ) -> (usize, usize)
    where
        F: Fn(order_core::messages::Event) -> Fut,
        Fut: Future<Output = Result<(), ServiceError>>,
    {
        if messages.is_empty() {
            return (0, 0);
        }
        let event = sqs_event(&messages, &queue.arn);
        let response =
            order_core::sqs::handle_batch(queue.kind(), event, &tracing::Span::none(), handler)
                .await;
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for m in &messages {
            if !failed.contains(&m.message_id.clone().unwrap_or_default()) {
                self.sqs
                    .delete_message()
                    .queue_url(&queue.url)
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        (messages.len() - failed.len(), failed.len())
    }

    /// Runs both consumers until both queues are empty.
    pub async fn drain(&self) {
        for _ in 0..100 {
            let deps = self.deps.clone();
            let (a, fa) = self
                .pump(&self.orders_queue, |e| {
                    let deps = deps.clone();
                    async move {
                        order_core::service::OrderService::new(deps.clone())
                            .process_order(&e)
                            .await
                    }
                })
                .await;
            let (b, fb) = self
                .pump(&self.stock_queue, |e| {
                    let deps = deps.clone();
                    async move {
                        order_core::service::OrderService::new(deps.clone())
                            .update_stock(&e)
                            .await
                    }
                })
                .await;
            assert_eq!(fa + fb, 0, "no message should fail while draining");
            if a + b == 0 {
                return;
            }
        }
        panic!("queues did not drain");
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let row = self
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql.to_owned(),
            ))
            .await
            .expect("query")
            .expect("one row");
        row.try_get_by_index::<i64>(0)
            .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
            .expect("integer column")
    }

    pub async fn stock(&self, product: Uuid) -> (i64, i64) {
        let on_hand = self
            .scalar_i64(&format!(
                "SELECT stock_on_hand FROM product_info WHERE id = '{product}'"
            ))
            .await;
        let reserved = self
            .scalar_i64(&format!(
                "SELECT stock_reserved FROM product_info WHERE id = '{product}'"
            ))
            .await;
        (on_hand, reserved)
    }

    /// Receives what SQS moved to `queue`'s DLQ (visibility 0).
    pub async fn receive_dlq(&self, queue: &TestQueue) -> Vec<aws_sdk_sqs::types::Message> {
        let dlq = TestQueue {
            url: queue.dlq_url.clone(),
            ..queue.clone()
        };
        self.receive(&dlq, 0).await
    }

    /// Moves dead-lettered `messages` back to `queue` with their bodies and attributes (what
    /// `start-message-move-task` does) and deletes them from the DLQ.
    pub async fn redrive(&self, queue: &TestQueue, messages: Vec<aws_sdk_sqs::types::Message>) {
        for m in messages {
            self.sqs
                .send_message()
                .queue_url(&queue.url)
                .message_body(m.body.clone().unwrap_or_default())
                .set_message_attributes(m.message_attributes.clone())
                .send()
                .await
                .expect("redrive send");
            self.sqs
                .delete_message()
                .queue_url(&queue.dlq_url)
                .receipt_handle(m.receipt_handle.unwrap_or_default())
                .send()
                .await
                .expect("delete from the DLQ");
        }
    }

    /// The first column of the first row of `sql`, as text.
    pub async fn scalar_text(&self, sql: &str) -> String {
        let row = self
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql.to_owned(),
            ))
            .await
            .expect("query")
            .expect("a row");
        row.try_get_by_index::<String>(0).unwrap()
    }

    pub async fn status(&self, order: &str) -> String {
        let row = self
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT status FROM orders WHERE id = '{order}'"),
            ))
            .await
            .expect("query")
            .expect("order exists");
        row.try_get_by_index::<String>(0).unwrap()
    }
}

/// The SQS event Lambda would build from received messages.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> SqsEvent {
    dev_support::sqs_event(messages, queue_arn, REGION)
}

/// A REST API (v1) proxy event as API Gateway sends it with a Cognito user-pool authorizer.
pub struct ApiEvent {
    value: Value,
}

impl ApiEvent {
    /// Starts from the recorded fixture of `POST /orders`.
    pub fn new(method: &str, resource: &str, path: &str) -> Self {
        let mut value: Value =
            serde_json::from_str(include_str!("../fixtures/apigw_rest_post_orders.json")).unwrap();
        value["httpMethod"] = json!(method);
        value["resource"] = json!(resource);
        value["path"] = json!(path);
        value["requestContext"]["httpMethod"] = json!(method);
        value["requestContext"]["resourcePath"] = json!(resource);
        value["requestContext"]["path"] = json!(format!("/prod{path}"));
        value["requestContext"]["requestId"] = json!(Uuid::new_v4().to_string());
        value["body"] = Value::Null;
        Self { value }
    }

    pub fn by(mut self, sub: &str) -> Self {
        self.value["requestContext"]["authorizer"]["claims"]["sub"] = json!(sub);
        self
    }

    pub fn anonymous(mut self) -> Self {
        self.value["requestContext"]["authorizer"] = Value::Null;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.value["headers"][name] = json!(value);
        self.value["multiValueHeaders"][name] = json!([value]);
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        if let Some(h) = self.value["headers"].as_object_mut() {
            h.remove(name);
        }
        if let Some(h) = self.value["multiValueHeaders"].as_object_mut() {
            h.remove(name);
        }
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.value["body"] = json!(body);
        self
    }

    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.value["pathParameters"] = json!({ name: value });
        self
    }

    pub fn query(mut self, params: &[(&str, &str)]) -> Self {
        let single: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let multi: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!([v])))
            .collect();
        self.value["queryStringParameters"] = Value::Object(single);
        self.value["multiValueQueryStringParameters"] = Value::Object(multi);
        self
    }

    /// A parameter repeated in the query string: API Gateway puts every value in
    /// `multiValueQueryStringParameters` and the last one in `queryStringParameters`.
    pub fn repeated_query(mut self, name: &str, values: &[&str]) -> Self {
        self.value["queryStringParameters"] = json!({ name: values.last() });
        self.value["multiValueQueryStringParameters"] = json!({ name: values });
        self
    }

    pub fn request(&self) -> Request {
        lambda_http::request::from_str(&self.value.to_string()).expect("a valid API Gateway event")
    }
}

/// A response's status, headers and JSON body.
pub struct Answer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub json: Value,
}

pub fn answer(response: Response<Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer {
        status,
        headers,
        json,
    }
}

impl TestApp {
    pub async fn post_order(&self, event: ApiEvent) -> Answer {
        let service = self.orders();
        answer(
            order_core::http::respond(event.request(), |req| {
                order_core::http::create_order(service, req)
            })
            .await,
        )
    }

    pub async fn get(&self, event: ApiEvent) -> Answer {
        let service = self.orders();
        answer(
            order_core::http::respond(event.request(), |req| {
                order_core::http::get_orders(service, req)
            })
            .await,
        )
    }

    /// `POST /orders/{id}/cancel` as `customer`.
    pub async fn cancel(&self, customer: &str, id: &str) -> Answer {
        let service = self.orders();
        let event = ApiEvent::new(
            "POST",
            "/orders/{id}/cancel",
            &format!("/orders/{id}/cancel"),
        )
        .by(customer)
        .path_param("id", id);
        answer(
            order_core::http::respond(event.request(), |req| {
                order_core::http::cancel_order(service, req)
            })
            .await,
        )
    }

    /// `POST /orders` as `customer` with `items` as JSON.
    pub async fn create(&self, customer: &str, items: Value) -> Answer {
        self.post_order(
            ApiEvent::new("POST", "/orders", "/orders")
                .by(customer)
                .body(&json!({ "items": items }).to_string()),
        )
        .await
    }
}
