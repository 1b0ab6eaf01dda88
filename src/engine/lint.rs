//! What `oa-validate check` finds in a compiled lane before anything runs, that Rhai itself
//! only finds when the line runs: a call to a function that does not exist (`assert_staus`,
//! `http::gett`) or exists with another number of arguments, and an unknown key in a request's
//! option map literal (`http::get(url, #{ timout: "5s" })`), each with a "did you mean". Calls into imported modules (`mine::f`) and to variables
//! holding function pointers are left to run time.

use crate::diagnostic::{closest, did_you_mean};
use crate::outcome::SourcePos;
use rhai::{AST, ASTNode, Engine, Expr, Stmt};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

/// One finding: what is wrong, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub message: String,
    pub position: SourcePos,
}

impl crate::diagnostic::Diagnostic for Finding {
    fn message(&self) -> String {
        self.message.clone()
    }
    fn position(&self) -> Option<&SourcePos> {
        Some(&self.position)
    }
}

/// The options `http::` and `perf::` requests read (src/api/http.rs).
pub const HTTP_OPTIONS: &[&str] = &[
    "headers",
    "json",
    "form",
    "body",
    "timeout",
    "follow_redirects",
    "bearer",
    "compressed",
];

/// Functions the Rhai evaluator implements itself (not registered, so not in the signatures).
const EVALUATOR_FUNCTIONS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_fn",
    "is_def_var",
    "eval",
];

/// Every registered function: (namespace, "" for global) → name → the argument counts it
/// takes.
struct Known {
    functions: BTreeMap<String, BTreeMap<String, BTreeSet<usize>>>,
}

fn known(engine: &Engine) -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut functions: BTreeMap<String, BTreeMap<String, BTreeSet<usize>>> = BTreeMap::new();
        for signature in engine.gen_fn_signatures(true) {
            let Some((name, rest)) = signature.split_once('(') else {
                continue;
            };
            let params = rest.rsplit_once(')').map_or(rest, |(p, _)| p).trim();
            let arity = if params.is_empty() {
                0
            } else {
                params.split(',').count()
            };
            let (namespace, name) = match name.trim().rsplit_once("::") {
                Some((ns, n)) => (ns.to_string(), n.to_string()),
                None => (String::new(), name.trim().to_string()),
            };
            functions
                .entry(namespace)
                .or_default()
                .entry(name)
                .or_default()
                .insert(arity);
        }
        Known { functions }
    })
}

/// "`name` takes 1 or 2 argument(s), not 3".
fn wrong_arity(name: &str, arities: &BTreeSet<usize>, arity: usize) -> String {
    let takes: Vec<String> = arities.iter().map(ToString::to_string).collect();
    format!(
        "`{name}` takes {} argument(s), not {arity}",
        takes.join(" or ")
    )
}

/// Every finding in `ast` (a lane named `file`).
pub fn lint(engine: &Engine, ast: &AST, file: &str) -> Vec<Finding> {
    let known = known(engine);
    let empty = BTreeMap::new();
    let global = known.functions.get("").unwrap_or(&empty);
    // The lane's own functions (closures included), and every name a variable or a
    // parameter is given: calling a variable holding a function pointer is legal.
    let mut own: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    let mut variables: HashSet<String> = HashSet::new();
    for f in ast.iter_functions() {
        own.entry(f.name.to_string())
            .or_default()
            .insert(f.params.len());
        variables.extend(f.params.iter().map(|p| p.to_string()));
    }
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Var(x, ..))) = path.last() {
            variables.insert(x.0.name.to_string());
        }
        true
    });
    for (name, _, _) in ast.iter_literal_variables(true, true) {
        variables.insert(name.to_string());
    }

    let mut findings = Vec::new();
    let at = |pos: rhai::Position| SourcePos {
        file: file.to_string(),
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
    };
    ast.walk(&mut |path: &[ASTNode]| {
        let (call, pos, method) = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) => (call, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => (call, *pos, true),
            // A call as a statement (`assert_status(r, 200);`).
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos))) => (call, *pos, false),
            _ => return true,
        };
        let name = call.name.as_str();
        if call.op_token.is_some()
            || !name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        {
            return true; // an operator
        }
        let namespace = call.namespace.to_string();
        let arity = call.args.len() + usize::from(method);
        // Option maps of requests (a check's own options are checked when it is declared).
        let options: Option<(&[&str], &str)> = match namespace.as_str() {
            "http" => Some((HTTP_OPTIONS, "http option")),
            _ => None,
        };
        if let Some((allowed, what)) = options {
            for arg in call.args.iter() {
                // A map literal, or one the compiler folded into a constant (no key positions).
                let keys: Vec<(String, rhai::Position)> = match arg {
                    Expr::Map(map, _) => map
                        .0
                        .iter()
                        .map(|(key, _)| (key.name.to_string(), key.pos))
                        .collect(),
                    Expr::DynamicConstant(value, at) => value
                        .read_lock::<rhai::Map>()
                        .map(|map| map.keys().map(|k| (k.to_string(), *at)).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                {
                    for (key_name, key_pos) in &keys {
                        let key_name = key_name.as_str();
                        if !allowed.contains(&key_name) {
                            findings.push(Finding {
                                message: format!(
                                    "unknown {what} `{key_name}` (expected {}){}",
                                    allowed.join(", "),
                                    did_you_mean(
                                        closest(key_name, allowed.iter().copied())
                                            .map(str::to_string)
                                    )
                                ),
                                position: at(*key_pos),
                            });
                        }
                    }
                }
            }
        }
        if namespace.is_empty() {
            if EVALUATOR_FUNCTIONS.contains(&name) || variables.contains(name) {
                return true;
            }
            let arities = global.get(name).into_iter().chain(own.get(name)).flatten();
            let arities: BTreeSet<usize> = arities.copied().collect();
            if arities.is_empty() {
                let suggestion = closest(name, global.keys().chain(own.keys()).map(String::as_str))
                    .map(str::to_string);
                findings.push(Finding {
                    message: format!(
                        "unknown function `{name}` ({arity} argument{}){}",
                        if arity == 1 { "" } else { "s" },
                        did_you_mean(suggestion)
                    ),
                    position: at(pos),
                });
            } else if !method && !arities.contains(&arity) {
                findings.push(Finding {
                    message: wrong_arity(name, &arities, arity),
                    position: at(pos),
                });
            }
            return true;
        }
        // A namespace of the API (`http::`, `json::`, ...); imported modules are not checked.
        let Some(functions) = known.functions.get(&namespace) else {
            return true;
        };
        match functions.get(name) {
            None => findings.push(Finding {
                message: format!(
                    "unknown function `{namespace}::{name}` ({arity} argument{}){}",
                    if arity == 1 { "" } else { "s" },
                    did_you_mean(
                        closest(name, functions.keys().map(String::as_str))
                            .map(|s| format!("{namespace}::{s}"))
                    )
                ),
                position: at(pos),
            }),
            Some(arities) if !arities.contains(&arity) => findings.push(Finding {
                message: wrong_arity(&format!("{namespace}::{name}"), arities, arity),
                position: at(pos),
            }),
            Some(_) => {}
        }
        true
    });
    findings
}
