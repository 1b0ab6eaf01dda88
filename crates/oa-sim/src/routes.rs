//! The route inventory: every sim surface registers its routes through [`Routes`], so the list
//! of what the sim serves (checked against docs/sim-fidelity.md) is the router itself.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, any, get, post};

/// One route a sim surface serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SimRoute {
    /// Which simulated service answers it: `control`, `runtime`, `cloud-run`, `logging`,
    /// `offsite`.
    pub surface: &'static str,
    /// `GET`, `POST`, or `ANY`.
    pub method: &'static str,
    /// The axum path, e.g. `/internal/v1/runs/{run_id}`.
    pub path: String,
}

/// A router under construction and the routes registered on it.
pub(super) struct Routes<S> {
    surface: &'static str,
    router: Router<S>,
    list: Vec<SimRoute>,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub(super) fn new(surface: &'static str) -> Self {
        Routes {
            surface,
            router: Router::new(),
            list: Vec::new(),
        }
    }

    pub(super) fn get<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add("GET", path, get(handler))
    }

    pub(super) fn post<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add("POST", path, post(handler))
    }

    pub(super) fn any<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add("ANY", path, any(handler))
    }

    fn add(mut self, method: &'static str, path: &str, route: MethodRouter<S>) -> Self {
        // axum merges method routers registered on the same path.
        self.router = self.router.route(path, route);
        self.list.push(SimRoute {
            surface: self.surface,
            method,
            path: path.to_string(),
        });
        self
    }

    /// The router (state still to be provided) and the inventory.
    pub(super) fn into_parts(self) -> (Router<S>, Vec<SimRoute>) {
        (self.router, self.list)
    }
}
