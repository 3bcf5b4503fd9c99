//! An order request read and checked before anything is called: [`Order`], or a 400.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::gateway::upstream::Answer;

/// The contract's 400 for a missing part.
pub(crate) const REQUIRED: &str = "Items, payment, and shipping address are required";
/// The 400 for an item without a product id or a positive integer quantity (inventory's words).
pub(crate) const BAD_ITEM: &str = "Product ID and quantity are required for each item";
/// The 400 for payment details of the wrong type.
pub(crate) const BAD_PAYMENT: &str = "Payment currency and method must be strings";

/// One line of an order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) product_id: String,
    pub(crate) quantity: u64,
}

/// A valid order request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Order {
    pub(crate) items: Vec<Item>,
    pub(crate) currency: String,
    pub(crate) method: String,
    pub(crate) address: Value,
}

impl Order {
    /// The items as the services take them: `[{productId, quantity}]`.
    pub(crate) fn items_json(&self) -> Value {
        self.items
            .iter()
            .map(|i| json!({ "productId": i.product_id, "quantity": i.quantity }))
            .collect()
    }
}

/// `body` (JSON already) as an order.
pub(crate) fn order(body: &Value) -> Result<Order, Answer> {
    let required = || Answer::error(StatusCode::BAD_REQUEST, REQUIRED);
    let empty = Map::new();
    let fields = body.as_object().unwrap_or(&empty);
    let items = fields
        .get("items")
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
        .ok_or_else(required)?;
    let payment = fields
        .get("payment")
        .and_then(Value::as_object)
        .ok_or_else(required)?;
    let address = fields
        .get("shippingAddress")
        .filter(|a| present(a))
        .ok_or_else(required)?;
    let items = items
        .iter()
        .map(item)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Answer::error(StatusCode::BAD_REQUEST, BAD_ITEM))?;
    let text = |name: &str, default: &str| match payment.get(name) {
        None | Some(Value::Null) => Some(default.to_owned()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => None,
    };
    let (Some(currency), Some(method)) = (text("currency", "USD"), text("method", "credit_card"))
    else {
        return Err(Answer::error(StatusCode::BAD_REQUEST, BAD_PAYMENT));
    };
    Ok(Order {
        items,
        currency,
        method,
        address: address.clone(),
    })
}

/// An address is a non-empty string or object.
fn present(address: &Value) -> bool {
    match address {
        Value::String(s) => !s.trim().is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

fn item(value: &Value) -> Option<Item> {
    let product_id = value.get("productId")?.as_str()?.trim();
    let quantity = value.get("quantity")?.as_u64()?;
    (!product_id.is_empty() && quantity > 0).then(|| Item {
        product_id: product_id.to_owned(),
        quantity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "items": [{"productId": "prod-001", "quantity": 1}],
            "payment": {"currency": "EUR"},
            "shippingAddress": "1 Main St",
        })
    }

    fn error(body: &Value) -> String {
        let answer = order(body).expect_err("invalid");
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        answer.body["error"].as_str().expect("a message").to_owned()
    }

    #[test]
    fn a_valid_order_gets_the_payment_defaults() {
        let order = order(&valid()).expect("valid");
        assert_eq!(order.currency, "EUR");
        assert_eq!(order.method, "credit_card");
        assert_eq!(
            order.items_json(),
            json!([{"productId": "prod-001", "quantity": 1}])
        );
    }

    #[test]
    fn a_missing_or_empty_part_is_required() {
        for field in ["items", "payment", "shippingAddress"] {
            let mut body = valid();
            body.as_object_mut().expect("object").remove(field);
            assert_eq!(error(&body), REQUIRED, "{field}");
        }
        for (field, bad) in [
            ("items", json!([])),
            ("items", json!("prod-001")),
            ("payment", json!("card")),
            ("shippingAddress", json!("  ")),
            ("shippingAddress", json!(42)),
        ] {
            let mut body = valid();
            body[field] = bad.clone();
            assert_eq!(error(&body), REQUIRED, "{field}: {bad}");
        }
        assert_eq!(error(&json!([1, 2])), REQUIRED);
    }

    #[test]
    fn every_item_needs_a_product_and_a_positive_integer_quantity() {
        for bad in [
            json!({"productId": "prod-001", "quantity": -1}),
            json!({"productId": "prod-001", "quantity": 0}),
            json!({"productId": "prod-001", "quantity": 1.5}),
            json!({"productId": "prod-001", "quantity": "2"}),
            json!({"productId": 1, "quantity": 1}),
            json!({"quantity": 1}),
            json!("prod-001"),
        ] {
            let mut body = valid();
            body["items"] = json!([bad.clone()]);
            assert_eq!(error(&body), BAD_ITEM, "{bad}");
        }
    }

    #[test]
    fn payment_details_must_be_strings() {
        let mut body = valid();
        body["payment"] = json!({"currency": 5});
        assert_eq!(error(&body), BAD_PAYMENT);
    }
}
