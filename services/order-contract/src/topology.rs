//! The one table of the deployment: the functions, what triggers each, and the queues each publishes to.
//!
//! The functions' wiring, the local gateway and xtask's native stack read [`FUNCTIONS`]; `cargo xtask topology`
//! writes it out as `infra/topology.json`, which Terraform and the contract check (`tests/contract`) read, and
//! CI fails when that file is stale.

use std::fmt;

use crate::config::{ConfigError, required};

/// An SQS queue of the pipeline (each has a DLQ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Queue {
    /// Queue 1: accepted orders, consumed by process-order.
    Orders,
    /// Queue 2: confirmed orders, consumed by update-stock.
    Stock,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 2] = [Queue::Orders, Queue::Stock];

    /// The queue's short name: the outbox `destination` column, the queue name's stem, the span names.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Stock => "stock",
        }
    }

    /// The variable that carries the queue's URL to a function that publishes to it.
    pub const fn url_variable(self) -> &'static str {
        match self {
            Self::Orders => "ORDERS_QUEUE_URL",
            Self::Stock => "STOCK_QUEUE_URL",
        }
    }

    /// The queue's URL from [`url_variable`](Self::url_variable): the one place a function reads it (the
    /// contract check derives these reads from the table).
    pub fn url_from_env(self) -> Result<String, ConfigError> {
        required(self.url_variable())
    }

    /// The queue with this [`name`](Self::name).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.name() == name)
    }

    /// The function its event source mapping feeds.
    pub fn consumer(self) -> &'static Function {
        FUNCTIONS
            .iter()
            .find(|f| f.trigger == Trigger::Queue(self))
            .expect("every queue has a consumer in FUNCTIONS")
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What invokes a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// API Gateway (REST, Cognito authorizer): the OpenAPI operations whose `operationId` is the function.
    Http,
    /// An SQS event source mapping on this queue.
    Queue(Queue),
    /// An EventBridge schedule.
    Schedule { every_seconds: u32 },
}

/// One Lambda function: its crate, binary, image and Terraform name are all [`name`](Self::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub trigger: Trigger,
    /// The queues it sends to; it gets each one's [`Queue::url_variable`].
    pub publishes: &'static [Queue],
}

impl Function {
    /// The PostgreSQL role holding the function's grants: `orders_get_orders` for `get-orders`, a NOLOGIN group
    /// whose logins are [`db_logins`](Self::db_logins). The migrations
    /// create it with the function's grants (`migration::FUNCTION_ROLES`); Terraform derives the same name.
    pub fn db_role(&self) -> String {
        format!("orders_{}", self.name.replace('-', "_"))
    }

    /// The two logins of [`db_role`](Self::db_role) (members of it, NOLOGIN itself): the function's secret
    /// names one at a time, and a password rotation flips it to the other (`migration::login_users`).
    pub fn db_logins(&self) -> [String; 2] {
        let role = self.db_role();
        [format!("{role}_user"), format!("{role}_clone")]
    }

    /// `INVOKE_URL_CREATE_ORDER` for `create-order`: the local gateway's variable for this function's
    /// Lambda Invoke API URL.
    pub fn invoke_url_variable(&self) -> String {
        format!(
            "INVOKE_URL_{}",
            self.name.to_ascii_uppercase().replace('-', "_")
        )
    }
}

pub const CREATE_ORDER: Function = Function {
    name: "create-order",
    trigger: Trigger::Http,
    publishes: &[Queue::Orders],
};
pub const GET_ORDERS: Function = Function {
    name: "get-orders",
    trigger: Trigger::Http,
    publishes: &[],
};
pub const CANCEL_ORDER: Function = Function {
    name: "cancel-order",
    trigger: Trigger::Http,
    publishes: &[],
};
pub const PROCESS_ORDER: Function = Function {
    name: "process-order",
    trigger: Trigger::Queue(Queue::Orders),
    publishes: &[Queue::Stock],
};
pub const UPDATE_STOCK: Function = Function {
    name: "update-stock",
    trigger: Trigger::Queue(Queue::Stock),
    publishes: &[],
};
pub const OUTBOX_RELAY: Function = Function {
    name: "outbox-relay",
    trigger: Trigger::Schedule { every_seconds: 60 },
    publishes: &[Queue::Orders, Queue::Stock],
};

/// Every function of the request and order pipeline. (`migrate-db` is not here: it runs once per deploy,
/// invoked by Terraform, and no event reaches it.)
pub const FUNCTIONS: [Function; 6] = [
    CREATE_ORDER,
    GET_ORDERS,
    CANCEL_ORDER,
    PROCESS_ORDER,
    UPDATE_STOCK,
    OUTBOX_RELAY,
];

/// The function with this name.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_has_exactly_one_consumer_and_a_publisher() {
        for queue in Queue::ALL {
            let consumers = FUNCTIONS
                .iter()
                .filter(|f| f.trigger == Trigger::Queue(queue));
            assert_eq!(consumers.count(), 1, "{queue}");
            assert!(
                FUNCTIONS.iter().any(|f| f.publishes.contains(&queue)),
                "{queue}"
            );
            assert_eq!(Queue::parse(queue.name()), Some(queue));
        }
    }

    #[test]
    fn names_are_unique_and_invoke_variables_are_upper_snake_case() {
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert!(
                FUNCTIONS[i + 1..].iter().all(|g| g.name != f.name),
                "{}",
                f.name
            );
            assert_eq!(function(f.name), Some(f));
        }
        assert_eq!(
            CREATE_ORDER.invoke_url_variable(),
            "INVOKE_URL_CREATE_ORDER"
        );
        assert_eq!(
            OUTBOX_RELAY.invoke_url_variable(),
            "INVOKE_URL_OUTBOX_RELAY"
        );
    }
}
