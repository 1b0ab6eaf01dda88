//! Modules evaluated once per engine, each with the environment variables its evaluation
//! read. A later import of the same module replays those reads into the lane being planned,
//! so an `env()` inside a module counts for every lane that imports it, as one in the lane
//! does (the gate's hidden-toggle rule reads them). A module importing itself, directly or
//! not, is an error instead of a stack overflow.

use crate::engine::context;
use rhai::{EvalAltResult, Module, Position, Shared};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;

struct Evaluated {
    module: Shared<Module>,
    env_reads: Vec<String>,
}

pub struct ModuleCache<K> {
    modules: parking_lot::Mutex<HashMap<K, Evaluated>>,
}

impl<K> Default for ModuleCache<K> {
    fn default() -> Self {
        Self {
            modules: parking_lot::Mutex::new(HashMap::new()),
        }
    }
}

thread_local! {
    /// Modules being evaluated on this thread, innermost last (cycle detection).
    static EVALUATING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

impl<K: Eq + Hash + Clone + std::fmt::Display> ModuleCache<K> {
    /// The module `key`, evaluated by `eval` the first time. The lock is not held while it
    /// evaluates: a module may import another.
    pub fn get_or_eval(
        &self,
        key: &K,
        pos: Position,
        eval: impl FnOnce() -> Result<Module, Box<EvalAltResult>>,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(found) = self.modules.lock().get(key) {
            for name in &found.env_reads {
                context::note_env_read(name);
            }
            return Ok(found.module.clone());
        }
        let name = key.to_string();
        let cycle = EVALUATING.with(|e| e.borrow().contains(&name));
        if cycle {
            return Err(Box::new(EvalAltResult::ErrorRuntime(
                format!("module {name} imports itself (an import cycle)").into(),
                pos,
            )));
        }
        EVALUATING.with(|e| e.borrow_mut().push(name));
        let (result, env_reads) = context::env_reads_during(eval);
        EVALUATING.with(|e| e.borrow_mut().pop());
        let module: Shared<Module> = result?.into();
        self.modules.lock().insert(
            key.clone(),
            Evaluated {
                module: module.clone(),
                env_reads,
            },
        );
        Ok(module)
    }
}
