//! A check's own copy of everything its body captured, made when the check is declared.
//!
//! Rhai closures capture variables by reference (a shared cell). A check declared in
//! `for t in targets()` shares `t` with the loop, so without a copy every check would see the
//! last target; a lane could also flip a captured flag after declaring (`mutate_captured`).
//! Copying only the body's own captures was not enough: a closure the body calls (or one held
//! in a map, an array or a curried function pointer) kept its captures shared, and every check
//! tested the last target again (issue 13, finding 1). So the copy is deep: every shared cell
//! reachable from the body becomes a new cell of this check alone. Two captures of the same
//! cell stay one cell in the copy, so closures that share a variable still share it within
//! the check (and a closure that captures itself still works).

use rhai::{Dynamic, FnPtr};
use std::collections::HashMap;

/// Why a value could not be copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError(pub String);

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `body` with every value reachable through its captures copied, shared cells included.
pub fn own_copy(body: &FnPtr) -> Result<FnPtr, CaptureError> {
    Copier::default().fn_ptr(body)
}

/// The cells copied so far, by the address of the value inside the original cell (stable
/// while the cell lives, and the body holds every cell it reaches).
#[derive(Default)]
struct Copier {
    cells: HashMap<usize, Dynamic>,
}

impl Copier {
    fn fn_ptr(&mut self, f: &FnPtr) -> Result<FnPtr, CaptureError> {
        let mut copy = f.clone();
        let curry = f
            .curry()
            .iter()
            .map(|v| self.value(v))
            .collect::<Result<Vec<_>, _>>()?;
        copy.set_curry(curry);
        Ok(copy)
    }

    fn value(&mut self, value: &Dynamic) -> Result<Dynamic, CaptureError> {
        if value.is_shared() {
            return self.cell(value);
        }
        if let Some(f) = value.read_lock::<FnPtr>() {
            return Ok(Dynamic::from(self.fn_ptr(&f)?));
        }
        if value.is_array() {
            let items = value
                .as_array_ref()
                .map_err(|t| CaptureError(format!("a captured array could not be read ({t})")))?
                .clone();
            let copied = items
                .iter()
                .map(|v| self.value(v))
                .collect::<Result<rhai::Array, _>>()?;
            return Ok(Dynamic::from_array(copied));
        }
        if value.is_map() {
            let map = value
                .as_map_ref()
                .map_err(|t| CaptureError(format!("a captured map could not be read ({t})")))?
                .clone();
            let mut copied = rhai::Map::new();
            for (key, v) in &map {
                copied.insert(key.clone(), self.value(v)?);
            }
            return Ok(Dynamic::from_map(copied));
        }
        // Strings, numbers, blobs, timestamps and host types are values: a clone is a copy.
        Ok(value.clone())
    }

    fn cell(&mut self, value: &Dynamic) -> Result<Dynamic, CaptureError> {
        let inner = value.read_lock::<Dynamic>().ok_or_else(|| {
            CaptureError("a captured variable is in use and cannot be copied".to_string())
        })?;
        let key = &*inner as *const Dynamic as usize;
        if let Some(copy) = self.cells.get(&key) {
            return Ok(copy.clone());
        }
        let original = (*inner).clone();
        drop(inner);
        // The new cell exists before its content is copied: a closure that captured itself
        // (recursion) reaches this cell again while its content is being copied.
        let mut cell = Dynamic::UNIT.into_shared();
        self.cells.insert(key, cell.clone());
        let content = self.value(&original)?;
        match cell.write_lock::<Dynamic>() {
            Some(mut slot) => *slot = content,
            None => return Err(CaptureError("a copied cell could not be written".into())),
        }
        Ok(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{AST, Engine, Scope};
    use std::sync::{Arc, Mutex};

    /// Evaluates `script` with `keep(f)`, which stores `f`'s own copy as a check declaration
    /// does, then calls `after` (a closure of the script, if any) and every kept copy.
    fn kept_answers(script: &str) -> Vec<Dynamic> {
        let kept: Arc<Mutex<Vec<FnPtr>>> = Arc::default();
        let mut engine = Engine::new();
        let store = kept.clone();
        engine.register_fn("keep", move |f: FnPtr| {
            store.lock().unwrap().push(own_copy(&f).expect("copied"));
        });
        let mut scope = Scope::new();
        let ast = engine.compile(script).expect("compiles");
        engine.run_ast_with_scope(&mut scope, &ast).expect("runs");
        if let Some(after) = scope.get_value::<FnPtr>("after") {
            let _: Dynamic = after.call(&engine, &ast, ()).expect("after");
        }
        let copies = kept.lock().unwrap().clone();
        copies.iter().map(|f| call(&engine, &ast, f)).collect()
    }

    fn call(engine: &Engine, ast: &AST, f: &FnPtr) -> Dynamic {
        f.call(engine, ast, ()).expect("the copy runs")
    }

    #[test]
    fn a_closure_called_by_the_body_keeps_the_value_of_its_own_iteration() {
        let answers = kept_answers(
            r#"
            for t in ["staging", "prod"] {
                let url = || `${t}/readyz`;
                keep(|| url.call());
            }
            "#,
        );
        let answers: Vec<String> = answers.iter().map(|a| a.to_string()).collect();
        assert_eq!(answers, ["staging/readyz", "prod/readyz"]);
    }

    #[test]
    fn captures_inside_maps_arrays_and_curried_pointers_are_copied() {
        let answers = kept_answers(
            r#"
            let x = 1;
            let probes = #{ read: || x };
            let list = [|| x];
            fn add(v, f) { v + f.call() }
            let curried = Fn("add").curry(10).curry(|| x);
            x = 2;
            keep(|| probes.read.call() + list[0].call() + curried.call());
            let after = || { x = 100; };
            x = 3;
            "#,
        );
        // Copied when x was 2: neither `x = 3` nor a closure run later reaches the copy.
        assert_eq!(answers[0].as_int().unwrap(), 2 + 2 + 12);
    }

    #[test]
    fn closures_sharing_a_variable_still_share_it_within_the_copy() {
        let answers = kept_answers(
            r#"
            let count = 0;
            let bump = || { count += 1; };
            keep(|| { bump.call(); bump.call(); count });
            "#,
        );
        assert_eq!(answers[0].as_int().unwrap(), 2);
    }

    #[test]
    fn a_value_that_reaches_itself_is_copied_once() {
        let engine = Engine::new();
        let mut scope = Scope::new();
        let ast = engine
            .compile("let me = 0; let f = || me; me = f;")
            .unwrap();
        engine.run_ast_with_scope(&mut scope, &ast).unwrap();
        let f = scope.get_value::<FnPtr>("f").unwrap();
        let copy = own_copy(&f).expect("a cycle ends");
        // The copy's captured `me` is a new cell holding a closure whose `me` is that cell.
        let me = copy.curry()[0].clone();
        assert!(me.is_shared());
        let inner = me.read_lock::<Dynamic>().unwrap().clone();
        let again = inner.read_lock::<FnPtr>().unwrap().curry()[0].clone();
        let address = |d: &Dynamic| &*d.read_lock::<Dynamic>().unwrap() as *const Dynamic;
        assert_eq!(address(&again), address(&me));
        let original = f.curry()[0].clone();
        assert_ne!(address(&original), address(&me));
    }
}
