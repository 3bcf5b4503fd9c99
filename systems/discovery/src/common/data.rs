//! The seed's data: three users, five orders, and the gateway's fallback answers.

use serde_json::{Value, json};

/// The users every user instance serves.
pub fn users() -> Value {
    json!([
        {"id": 1, "name": "John Doe", "email": "john@example.com", "age": 30},
        {"id": 2, "name": "Jane Smith", "email": "jane@example.com", "age": 25},
        {"id": 3, "name": "Bob Johnson", "email": "bob@example.com", "age": 35},
    ])
}

/// The orders every order instance serves.
pub fn orders() -> Value {
    json!([
        {"id": 1, "userId": 1, "products": ["Product A", "Product B"]},
        {"id": 2, "userId": 1, "products": ["Product C"]},
        {"id": 3, "userId": 2, "products": ["Product D", "Product E"]},
        {"id": 4, "userId": 3, "products": ["Product F"]},
        {"id": 5, "userId": 2, "products": ["Product G", "Product H", "Product I"]},
    ])
}

/// What the gateway answers for users while the user service fails or its circuit is open.
pub fn fallback_users() -> Value {
    json!([
        {"id": 1, "name": "Fallback User", "email": "fallback@example.com", "age": 0},
        {"id": 2, "name": "Default User", "email": "default@example.com", "age": 0},
    ])
}

/// The orders of `user_id` in `orders` (an array of orders).
pub fn orders_of(orders: &Value, user_id: u64) -> Vec<Value> {
    orders
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|o| o["userId"].as_u64() == Some(user_id))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// What the gateway answers for orders while the order service fails or its circuit is open.
pub fn fallback_orders(user_id: u64) -> Vec<Value> {
    let all = json!([
        {"id": 1, "userId": 1, "products": ["Fallback Product"]},
        {"id": 2, "userId": 2, "products": ["Fallback Product"]},
    ]);
    orders_of(&all, user_id)
}

/// A user id as the seed accepted it: a positive integer.
pub fn parse_user_id(raw: &str) -> Option<u64> {
    raw.parse::<u64>().ok().filter(|id| *id > 0)
}

/// The 400 for a user id that is not a positive integer.
pub const INVALID_USER_ID: &str = "Invalid user ID";
