//! [`Stock`]: the products and the orders already taken from them. Pure and synchronous: the
//! caller holds it under one lock, so a check and a take are one step.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::common::Capped;

/// A product as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Product {
    id: String,
    name: String,
    quantity: u64,
    price: u64,
}

/// One requested line: a product and a positive quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Item {
    pub(super) product_id: String,
    pub(super) quantity: u64,
}

/// The answer to an order's update, kept to answer its replays.
pub(super) type Taken = Value;

/// Why an update took nothing: the `details` of the 409.
pub(super) type Shortage = Vec<Value>;

/// The products, and the updates applied by order id (at most `max_orders` remembered).
#[derive(Debug)]
pub(super) struct Stock {
    products: Vec<Product>,
    applied: Capped<String, Taken>,
}

impl Stock {
    /// The seed's stock.
    pub(super) fn seed(max_orders: usize) -> Self {
        let product = |id: &str, name: &str, quantity, price| Product {
            id: id.to_owned(),
            name: name.to_owned(),
            quantity,
            price,
        };
        Self {
            products: vec![
                product("prod-001", "Laptop", 10, 1200),
                product("prod-002", "Smartphone", 15, 800),
                product("prod-003", "Headphones", 20, 100),
            ],
            applied: Capped::new(max_orders),
        }
    }

    /// Every product.
    pub(super) fn list(&self) -> Vec<Product> {
        self.products.clone()
    }

    /// The product `id`.
    pub(super) fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    /// `{available, items}`: each line against the stock, and whether all of them are there.
    pub(super) fn check(&self, items: &[Item]) -> Value {
        let lines: Vec<Value> = items
            .iter()
            .map(|item| match self.product(&item.product_id) {
                Some(p) => json!({
                    "productId": p.id, "name": p.name, "requested": item.quantity,
                    "available": p.quantity, "inStock": p.quantity >= item.quantity,
                    "price": p.price,
                }),
                None => not_found(&item.product_id),
            })
            .collect();
        let available = lines.iter().all(|l| l["inStock"] == true);
        json!({"available": available, "items": lines})
    }

    /// Takes `items` for `order_id`, all or nothing: the update's answer (`replay` true when
    /// the order was already applied, its first answer), or what is missing.
    pub(super) fn take(
        &mut self,
        order_id: &str,
        items: &[Item],
        timestamp: String,
    ) -> Result<(Taken, bool), Shortage> {
        if let Some(taken) = self.applied.get(&order_id.to_owned()) {
            return Ok((taken.clone(), true));
        }
        let mut wanted: BTreeMap<&str, u64> = BTreeMap::new();
        for item in items {
            let total = wanted.entry(&item.product_id).or_default();
            *total = total.saturating_add(item.quantity);
        }
        let shortage: Shortage = wanted
            .iter()
            .filter_map(|(&id, &requested)| match self.product(id) {
                None => Some(not_found(id)),
                Some(p) if p.quantity < requested => Some(json!({
                    "productId": id, "name": p.name, "requested": requested, "available": p.quantity,
                })),
                Some(_) => None,
            })
            .collect();
        if !shortage.is_empty() {
            return Err(shortage);
        }
        let updated: Vec<Value> = items.iter().filter_map(|item| self.reduce(item)).collect();
        let taken = json!({"orderId": order_id, "timestamp": timestamp, "updatedItems": updated});
        self.applied.insert(order_id.to_owned(), taken.clone());
        Ok((taken, false))
    }

    /// Takes one checked line; its `updatedItems` entry.
    fn reduce(&mut self, item: &Item) -> Option<Value> {
        let product = self.products.iter_mut().find(|p| p.id == item.product_id)?;
        product.quantity = product.quantity.saturating_sub(item.quantity);
        Some(json!({
            "productId": product.id, "name": product.name,
            "quantityReduced": item.quantity, "newQuantity": product.quantity,
        }))
    }
}

fn not_found(id: &str) -> Value {
    json!({"productId": id, "available": false, "message": "Product not found"})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, quantity: u64) -> Item {
        Item {
            product_id: id.to_owned(),
            quantity,
        }
    }

    fn quantity(stock: &Stock, id: &str) -> u64 {
        stock.product(id).expect("known").quantity
    }

    #[test]
    fn a_take_is_all_or_nothing_and_once_per_order() {
        let mut stock = Stock::seed(10);
        let short = stock.take(
            "a",
            &[item("prod-001", 2), item("prod-002", 16)],
            "t".into(),
        );
        assert_eq!(short.expect_err("short")[0]["productId"], "prod-002");
        assert_eq!(quantity(&stock, "prod-001"), 10);
        // Two lines of one product count together.
        let twice = [item("prod-001", 6), item("prod-001", 5)];
        assert!(stock.take("b", &twice, "t".into()).is_err());
        let (taken, replay) = stock
            .take("c", &[item("prod-001", 10)], "t".into())
            .expect("ok");
        assert!(!replay);
        assert_eq!(taken["updatedItems"][0]["newQuantity"], 0);
        let (again, replay) = stock
            .take("c", &[item("prod-001", 10)], "u".into())
            .expect("ok");
        assert!(replay);
        assert_eq!(again, taken);
        assert_eq!(quantity(&stock, "prod-001"), 0);
    }

    #[test]
    fn a_check_reports_each_line() {
        let stock = Stock::seed(10);
        let report = stock.check(&[item("prod-003", 20), item("prod-009", 1)]);
        assert_eq!(report["available"], false);
        assert_eq!(report["items"][0]["inStock"], true);
        assert_eq!(report["items"][0]["price"], 100);
        assert_eq!(report["items"][1]["message"], "Product not found");
        assert_eq!(stock.check(&[item("prod-002", 15)])["available"], true);
    }
}
